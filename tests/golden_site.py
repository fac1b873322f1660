"""The golden site: the fixture seeds built under a fixed clock and fixed file times.

Regenerate the golden files after an intended output change with:

    python tests/golden_site.py

then review `git diff tests/golden/` like any other change.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from feedpub.config import load_settings  # noqa: E402
from feedpub.publish import build  # noqa: E402

FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
CLOCK = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
# Each seed's mtime: one hour apart, in file-name order, all before the clock.
FIRST_MTIME = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc).timestamp()
GOLDEN_FILES = (
    "flash.xml", "flash.atom", "flash.json", "latest.xml", "latest.atom", "latest.json",
    "world.xml", "world.atom", "index.html", "feeds.opml", "feed.xsl",
    "items/ff3a66dc08c7f601.html", "items/e57b2e797ad3b979.html",
)


def copy_fixture_seeds(dest: Path) -> Path:
    """The fixture seeds in `dest`, with fixed modification times."""
    dest.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(sorted((FIXTURES / "seeds").iterdir())):
        target = dest / src.name
        shutil.copyfile(src, target)
        os.utime(target, (FIRST_MTIME + 3600 * i, FIRST_MTIME + 3600 * i))
    return dest


def build_golden_site(root: Path):
    """Build the fixture site under `root` (seeds/, feeds/, record); returns (settings, report)."""
    seeds = copy_fixture_seeds(root / "seeds")
    settings = load_settings(
        FIXTURES / "feedpub.toml",
        env={},
        overrides={"seeds_dir": seeds, "out_dir": root / "feeds", "record_path": root / "record.jsonl"},
    )
    return settings, build(settings, now=CLOCK, workers=1)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings, _ = build_golden_site(Path(tmp))
        for name in GOLDEN_FILES:
            target = GOLDEN / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(settings.out_dir / name, target)
        shutil.copyfile(settings.record_path, GOLDEN / "record.jsonl")
    print(f"golden files written to {GOLDEN}")


if __name__ == "__main__":
    main()
