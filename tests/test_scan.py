"""The scan's listings: their comparison (scan.Listing.changes_since) against a plain oracle, and
the listing a cold build fills in from its reads (no stat calls) against a listing with stat."""

from __future__ import annotations

from array import array

from hypothesis import given, settings as hsettings, strategies as st

import os
import time

from conftest import CLOCK, Project, seed_text
from feedpub.publish import build, cache_path_for
from feedpub.scan import CacheFile, Listing, list_files

RACY_FROM = 1_000


def listing(files: list[tuple[str, tuple[int, int, int]]]) -> Listing:
    numbers = array("q")
    for _, triple in files:
        numbers.extend(triple)
    return Listing([name for name, _ in files], numbers)


def oracle(now: list, before: list) -> tuple[list, list]:
    """What must be read (new, changed, unseen or racy files) and what is gone, by brute force."""
    old = dict(before)
    to_read = sorted(
        name for name, triple in now if old.get(name) != triple or triple[1] >= RACY_FROM or triple[1] < 0
    )
    names = {name for name, _ in now}
    return to_read, sorted(name for name, _ in before if name not in names)


TRIPLE = st.tuples(st.integers(1, 3), st.integers(0, 900), st.integers(1, 3)) | st.just((-1, -1, -1)) \
    | st.tuples(st.integers(1, 3), st.integers(RACY_FROM, RACY_FROM + 5), st.integers(1, 3))


@st.composite
def two_scans(draw) -> tuple[list, list]:
    """A folder listing, and the listing of the same folder later: files added and removed at any
    place, some touched, and now and then the directory order shuffled."""
    names = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), unique=True, max_size=40))
    before = [(name, draw(TRIPLE)) for name in names]
    now = [item for item in before if not draw(st.booleans()) or draw(st.booleans())]
    for name in draw(st.lists(st.text("ghij", min_size=1, max_size=3), unique=True, max_size=5)):
        now.insert(draw(st.integers(0, len(now))), (name, draw(TRIPLE)))
    for i in draw(st.lists(st.integers(0, max(len(now) - 1, 0)), max_size=4)):
        if now:
            now[i] = (now[i][0], draw(TRIPLE))
    if draw(st.integers(0, 9)) == 0:
        now = draw(st.permutations(now))
    return now, before


@hsettings(max_examples=400, deadline=None)
@given(two_scans())
def test_changes_since_finds_every_change_and_only_those(scans):
    now, before = scans
    assert listing(now).changes_since(listing(before), RACY_FROM) == oracle(now, before)


def test_a_name_added_in_the_middle_of_a_large_folder():
    before = [(f"{i:06d}.txt", (10, i, i)) for i in range(5000)]
    now = before[:2500] + [("new.txt", (5, 7, 9))] + before[2500:]
    now[4000] = (now[4000][0], (11, 4000, 4000))
    assert listing(now).changes_since(listing(before), 10**9) == (["003999.txt", "new.txt"], [])


def test_a_cold_build_lists_what_a_stat_of_every_file_lists(project: Project):
    """A cold build lists names only and takes each file's numbers from the fstat of its read (or a
    stat, for a file it could not open): the cache must hold what stat-ing every file gives, so
    that the next build finds nothing changed."""
    for i in range(30):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}"))
    project.add("100_empty.txt", "")  # read, then skipped
    (project.seeds / "101_folder.txt").mkdir()  # opened, not a file
    (project.seeds / "102_dangling.txt").symlink_to(project.seeds / "nowhere.txt")  # cannot open
    (project.seeds / "103_link.txt").symlink_to(project.seeds / "005_k5.txt")
    project.add("104_bad\x1bname.txt", seed_text("Bad name"))  # skipped before any read
    past = time.time() - 60  # nothing racy: the second build may conclude "nothing changed"
    for path in project.seeds.iterdir():
        if not path.is_symlink():
            os.utime(path, (past, past))
    build(project.settings(), now=CLOCK, workers=1)
    header, handle = CacheFile.load_header(cache_path_for(project.record))
    cached, _ = CacheFile.read_rest(handle, header)
    listed = list_files(project.seeds)
    assert (cached.names, cached.numbers.tolist()) == (listed.names, listed.numbers.tolist())
    assert listed.numbers.tolist().count(-1) == 3  # the dangling link's numbers
    assert build(project.settings(), now=CLOCK, workers=1).reread == 0
