"""The scan's comparison of two listings (scan.Listing.changes_since) against a plain oracle."""

from __future__ import annotations

from array import array

from hypothesis import given, settings as hsettings, strategies as st

from feedpub.scan import Listing

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
        (name, None if triple[0] < 0 else f"{triple[0]}:{triple[1]}:{triple[2]}")
        for name, triple in now
        if old.get(name) != triple or triple[1] >= RACY_FROM or triple[1] < 0
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
    assert listing(now).changes_since(listing(before), 10**9) == (
        [("003999.txt", "11:4000:4000"), ("new.txt", "5:7:9")], [])
