"""The obvious baseline: parse every seed, hand every one of them to one feedgen feed.

    python benchmarks/naive.py SEEDS_DIR OUT_FILE

This is what someone would write without thinking about scale: read the whole folder with
feedpub's own reader, keep every Seed in a list, add one feedgen entry per seed (full body
text included) and serialise the lot with `rss_str()`. Memory and output size grow with the
number of seeds; `benchmarks/scale.py` times it next to `feedpub build`.

Entries are appended (`order="append"`) rather than left at feedgen's default, which prepends
by inserting at the front of a list: that would make the baseline quadratic and slower than
naive code needs to be, and the point is a fair comparison, not a straw man.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from feedgen.feed import FeedGenerator

from feedpub.model import SeedSkipped
from feedpub.seeds import SEED_SUFFIXES, read_seed

BASE_URL = "http://localhost:8000/"


def read_all(seeds_dir: Path) -> list[tuple[object, float]]:
    """Every readable seed in the folder with its mtime, in name order; skipped ones are reported."""
    found = []
    for path in sorted(p for p in seeds_dir.iterdir() if p.name.endswith(SEED_SUFFIXES)):
        try:
            found.append((read_seed(path), path.stat().st_mtime))
        except SeedSkipped as e:
            print(e, file=sys.stderr)
    return found


def render(seeds: list[tuple[object, float]]) -> bytes:
    """One RSS document holding every seed."""
    fg = FeedGenerator()
    fg.title("All seeds")
    fg.link(href=BASE_URL, rel="alternate")
    fg.description("Every seed, as read.")
    for seed, mtime in seeds:
        fe = fg.add_entry(order="append")
        fe.id(seed.key)
        fe.title(seed.title)
        fe.link(href=f"{BASE_URL}items/{seed.key}.html")
        fe.description("\n\n".join(seed.paragraphs))
        fe.pubDate(seed.date or datetime.fromtimestamp(mtime, timezone.utc))
    return fg.rss_str(pretty=True)


def main(argv: list[str]) -> int:
    """Command line: SEEDS_DIR OUT_FILE."""
    if len(argv) != 3:
        print("usage: python benchmarks/naive.py SEEDS_DIR OUT_FILE", file=sys.stderr)
        return 2
    seeds_dir, out_file = Path(argv[1]), Path(argv[2])
    seeds = read_all(seeds_dir)
    out_file.write_bytes(render(seeds))
    print(f"{len(seeds)} seeds -> {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
