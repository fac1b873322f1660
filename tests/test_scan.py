"""The scan's listings: their comparison (scan.Listing.changes_since) against a plain oracle, and
the listing a cold build fills in from its reads (no stat calls) against a listing with stat."""

from __future__ import annotations

from array import array

from hypothesis import given, settings as hsettings, strategies as st

import os
import time
from pathlib import Path

from conftest import CLOCK, Project, seed_text
from feedpub.publish import build, cache_path_for
from feedpub.scan import CacheFile, Listing, delta_path, list_files, read_info

RACY_FROM = 1_000


def listing(files: list[tuple[str, tuple[int, int, int, int]]]) -> Listing:
    """A listing of (name, (size, mtime, inode, ctime)) pairs."""
    numbers = array("q")
    for _, stats in files:
        numbers.extend(stats)
    return Listing([name for name, _ in files], numbers)


def oracle(now: list, before: list) -> tuple[list, list]:
    """What must be read (new, changed, unseen or racy files) and what is gone, by brute force."""
    old = dict(before)
    to_read = sorted(
        name for name, stats in now
        if old.get(name) != stats or stats[1] >= RACY_FROM or stats[1] < 0
    )
    names = {name for name, _ in now}
    return to_read, sorted(name for name, _ in before if name not in names)


# A file's numbers: settled, missing, racy (a recent mtime) or only its ctime recent (`touch -r`).
SMALL, SETTLED, RECENT = st.integers(1, 3), st.integers(0, 900), st.integers(RACY_FROM, RACY_FROM + 5)
STATS = (
    st.tuples(SMALL, SETTLED, SMALL, SETTLED)
    | st.just((-1, -1, -1, -1))
    | st.tuples(SMALL, RECENT, SMALL, RECENT)
    | st.tuples(SMALL, SETTLED, SMALL, RECENT)
)


@st.composite
def two_scans(draw) -> tuple[list, list]:
    """A folder listing, and the listing of the same folder later: files added and removed at any
    place, some touched, and now and then the directory order shuffled."""
    names = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), unique=True, max_size=40))
    before = [(name, draw(STATS)) for name in names]
    now = [item for item in before if not draw(st.booleans()) or draw(st.booleans())]
    for name in draw(st.lists(st.text("ghij", min_size=1, max_size=3), unique=True, max_size=5)):
        now.insert(draw(st.integers(0, len(now))), (name, draw(STATS)))
    for i in draw(st.lists(st.integers(0, max(len(now) - 1, 0)), max_size=4)):
        if now:
            now[i] = (now[i][0], draw(STATS))
    if draw(st.integers(0, 9)) == 0:
        now = draw(st.permutations(now))
    return now, before


@hsettings(max_examples=400, deadline=None)
@given(two_scans())
def test_changes_since_finds_every_change_and_only_those(scans):
    now, before = scans
    assert listing(now).changes_since(listing(before), RACY_FROM) == oracle(now, before)


@hsettings(max_examples=400, deadline=None)
@given(two_scans(), st.integers(0, 2000), st.integers(0, 2000))
def test_the_span_of_the_last_listing_changes_nothing_found(scans, looser_below, looser_above):
    """With the last listing's mtime span (exact, or loose by any amount) the scan may skip the
    look through every mtime, and must find the same; the new span holds every new mtime."""
    now, before = scans
    last = listing(before)
    mtimes = [stats[1] for _, stats in before] or [0]
    last.span = (min(mtimes) - looser_below, max(mtimes) + looser_above)
    current = listing(now)
    assert current.changes_since(last, RACY_FROM) == oracle(now, before)
    low, high = current.span
    assert all(low <= stats[1] <= high for _, stats in now)


def test_a_span_that_shows_nothing_racy_spares_the_look_through_every_mtime():
    """Skipping the look keeps the last span (widened by the changed files); looking finds the
    exact one: which of the two came back tells which way the scan went."""
    before = [(f"{i:06d}.txt", (10, 100 + i, i, 100 + i)) for i in range(5000)]
    now = before[:2500] + [("new.txt", (5, 7, 9, 7))] + before[2500:]
    last = listing(before)
    last.span = (50, 6000)  # loose, nothing racy below 10**9, nothing missing
    current = listing(now)
    assert current.changes_since(last, 10**9) == (["new.txt"], [])
    assert current.span == (7, 6000)
    last.span = (50, 10**9)  # may hold a racy file: every mtime is looked at
    assert current.changes_since(last, 10**9) == (["new.txt"], [])
    assert current.span == (7, 5099)


def test_a_name_added_in_the_middle_of_a_large_folder():
    before = [(f"{i:06d}.txt", (10, i, i, i)) for i in range(5000)]
    now = before[:2500] + [("new.txt", (5, 7, 9, 7))] + before[2500:]
    now[4000] = (now[4000][0], (11, 4000, 4000, 4000))
    now[4500] = (now[4500][0], (10, 4499, 4499, 4600))  # rewritten, then `touch -r`: only ctime moved
    assert listing(now).changes_since(listing(before), 10**9) == (["003999.txt", "004499.txt", "new.txt"], [])


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
    _, cached, _ = CacheFile.read_all(cache_path_for(project.record))
    listed = list_files(project.seeds)
    assert (cached.names, cached.numbers.tolist()) == (listed.names, listed.numbers.tolist())
    assert listed.numbers.tolist().count(-1) == 4  # the dangling link's numbers
    assert build(project.settings(), now=CLOCK, workers=1).reread == 0


# --- the cache's delta -------------------------------------------------------------------------


def cache_files(project: Project) -> tuple[Path, Path]:
    cache = cache_path_for(project.record)
    return cache, delta_path(cache)


def identity(path: Path) -> tuple[int, int, bytes]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_a_few_changes_go_to_the_delta_and_leave_the_base_alone(project: Project):
    """After a cold build, changes (new seeds, an edit, a removal) write the delta, which holds every
    change since the base; the base stays as written, and each build reads only what changed
    since the build before it, not since the base."""
    project.config.write_text("[feeds.flash]\nlimit = 3\n[feeds.latest]\nlimit = 5\n")  # 007 is not shown
    for i in range(40):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}", body="A first paragraph long enough. " * 20))
    assert project.build().reread == 40
    cache, delta = cache_files(project)
    base = identity(cache)
    assert not delta.exists()
    project.add("100_new.txt", seed_text("New story"))
    assert project.build().reread == 1
    assert delta.exists() and identity(cache) == base
    assert project.build().reread == 0
    project.add("005_k5.txt", seed_text("Story 5, corrected"))
    assert project.build().reread == 1
    (project.seeds / "007_k7.txt").unlink()
    assert project.build().reread == 0
    assert identity(cache) == base
    header, listing, lines = CacheFile.read_all(cache)
    assert header.base and listing.names == list_files(project.seeds).names
    names = [line.split(b"\t", 1)[0] for line in lines.split(b"\n")[:-1]]
    assert names == sorted(name.encode() for name in listing.names)
    assert b"Story 5, corrected" not in lines  # the cache keeps facts, not text: the fingerprint moved
    edited = next(line for line in lines.split(b"\n") if line.startswith(b"005_k5.txt\t")).split(b"\t")
    assert edited[6].decode() == read_info(str(project.seeds), "005_k5.txt", ()).fingerprint
    assert project.build().reread == 0


def test_the_delta_is_folded_into_a_new_base_when_it_grows(project: Project, monkeypatch):
    from feedpub import scan

    monkeypatch.setattr(scan, "DELTA_MAX_SHARE", float("inf"))
    monkeypatch.setattr(scan, "DELTA_MAX_LINES", 2)
    for i in range(10):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    cache, delta = cache_files(project)
    base = identity(cache)
    for i in range(2):
        project.add(f"{100 + i}_new{i}.txt", seed_text(f"New {i}"))
        project.build()
        assert delta.exists() and identity(cache) == base
    project.add("102_new2.txt", seed_text("New 2"))  # a third line: past the limit
    project.build()
    assert not delta.exists() and identity(cache) != base
    _, listing, lines = CacheFile.read_all(cache)
    assert len(lines.split(b"\n")[:-1]) == len(listing) == 13
    assert project.build().reread == 0


def with_a_delta(project: Project) -> None:
    """30 seeds built cold (the base), then one new seed built (the delta): 31 seeds."""
    for i in range(30):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}", body="A first paragraph long enough. " * 20))
    project.build()
    project.add("100_new.txt", seed_text("New story"))
    project.build()
    assert delta_path(cache_path_for(project.record)).exists()


def test_a_delta_that_names_another_base_is_ignored(project: Project):
    """A delta left from an older base (a crash between writing the new base and removing the
    delta, or a cache copied from elsewhere) must never be applied to the new base."""
    with_a_delta(project)
    cache, delta = cache_files(project)
    stale = delta.read_bytes()
    cache.unlink()
    assert project.build().reread == 31  # no base: a cold build, which removes the delta
    assert not delta.exists()
    delta.write_bytes(stale)
    header, found = CacheFile.load_header(cache)
    found.close()
    assert header.base == ""  # the base's own header, not the stale delta's
    project.add("101_new.txt", seed_text("Another story"))
    assert project.build().reread == 1
    _, listing, lines = CacheFile.read_all(cache)
    assert sorted(listing.names) == [line.split(b"\t", 1)[0].decode() for line in lines.split(b"\n")[:-1]]


def test_a_delta_cut_short_costs_a_full_read_never_a_wrong_feed(project: Project):
    with_a_delta(project)
    _, delta = cache_files(project)
    data = delta.read_bytes()
    delta.write_bytes(data[: len(data) - 7])
    project.add("101_new.txt", seed_text("Another story"))
    report = project.build()
    assert report.reread == 32
    assert "Another story" in (project.out / "latest.xml").read_text()
    assert project.build().reread == 0


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.text("abcdefgh", min_size=1, max_size=30), unique=True, max_size=60),
       st.lists(st.text("abcdefghij", min_size=1, max_size=30), max_size=10), st.integers(1, 64))
def test_lines_read_from_the_file_are_found_as_in_bytes(tmp_path_factory, names, wanted, window):
    """FileBytes (binary search by reading pieces of the file) finds what searching the bytes finds,
    with windows smaller and larger than a line, and lines at any offset in the file."""
    from feedpub.scan import FileBytes, line_name
    from feedpub.sorted_lines import find

    lines = b"".join(f"{name}\tfacts of {name}\n".encode() for name in sorted(names))
    path = tmp_path_factory.mktemp("lines") / "file"
    path.write_bytes(b"head\n" + lines)
    with open(path, "rb") as f:
        held = FileBytes(f.fileno(), 5, len(lines))
        held.WINDOW = window
        for name in wanted + names[:5]:
            assert find(held, name, line_name) == find(lines, name, line_name)
        assert held[:] == lines
