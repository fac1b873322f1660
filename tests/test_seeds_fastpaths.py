"""The reader's shortcuts against the plain code they stand in for.

The scan reads every seed of a cold build, so seeds.py takes shortcuts for the common case (a
plain UTF-8 file directly in the seeds folder). parse_seed and skim_seed share them, so
test_skim cannot see a shortcut that goes wrong: each one is checked here against the code it
replaced, kept verbatim below, on inputs made to reach both sides of every shortcut.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

import feedpub.seeds as seeds
from feedpub.model import SeedSkipped

ANY = hsettings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the plain versions ------------------------------------------------------------------------


def plain_fingerprint(text: str) -> str:
    if " \n" in text or "\t\n" in text:
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return "text:" + hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def plain_may_hold_xml_illegal(data: bytes, controls: int) -> bool:
    return controls > 0 or b"\x0c" in data or b"\xc2" in data or b"\xef\xbf" in data


def plain_dateline(paragraph: str):
    start = paragraph[:2]
    if not (start.isalpha() and start.isupper()):
        return None
    match = seeds._DATELINE.match(paragraph, 0, 120)
    if match and match.group("place").upper() == match.group("place"):
        return match
    return None


def plain_with_fixed_zone(date: datetime) -> datetime | None:
    try:
        offset = date.utcoffset()
    except (ValueError, OverflowError):
        return None
    if offset is None:
        return date.replace(tzinfo=timezone.utc)
    if abs(offset) >= timedelta(hours=24):
        return None
    return date.replace(tzinfo=timezone.utc if not offset else timezone(offset))


def skim_file(path: str, *, root: str) -> tuple:
    data, info = seeds.read_seed_bytes(path, root=root)
    return seeds.skim_seed(data, path=path), info.st_mtime


def plain_skim_file(path: str, *, root: str) -> tuple:
    seeds._require_inside(path, root)
    data, info = plain_read_file(path, seeds.MAX_SEED_BYTES + 1)
    return seeds.skim_seed(data, path=path), info.st_mtime


def plain_read_file(path: str, limit: int) -> tuple[bytes, os.stat_result]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise SeedSkipped(path, seeds.DANGLING if os.path.islink(path) else "cannot read: no such file") from None
    except OSError as error:
        raise SeedSkipped(path, seeds._os_reason(error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SeedSkipped(path, seeds.NOT_A_FILE)
        if info.st_size >= limit:
            raise SeedSkipped(path, seeds.TOO_LARGE)
        chunks, total, want = [], 0, info.st_size + 1
        while total < limit:
            chunk = os.read(fd, min(limit - total, want - total if want > total else 65536))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks), info
    except OSError as error:
        raise SeedSkipped(path, seeds._os_reason(error)) from None
    finally:
        os.close(fd)


# --- inputs that reach both sides of each shortcut ---------------------------------------------

LINE_ENDS = st.lists(st.sampled_from([" ", "\t", "\n", " \n", "\t\n", "\n\n", "a", "é", "\u3000", "\ud800", "\r"]), max_size=30)
BYTES = st.lists(st.sampled_from([b"\xef", b"\xbf", b"\xbe", b"\xef\xbf", b"\xc2", b"\x80", b"\x0c", b"\x01", b"a", b"\n"]), max_size=20)


@ANY
@given(text=LINE_ENDS.map("".join) | st.text())
def test_the_fingerprint_is_the_plain_one(text):
    assert seeds.text_fingerprint(text) == plain_fingerprint(text)


@ANY
@given(data=BYTES.map(b"".join) | st.binary())
def test_the_xml_illegal_guess_is_the_plain_one(data):
    controls = seeds._count_control_bytes(data)
    assert seeds._may_hold_xml_illegal(data, controls) == plain_may_hold_xml_illegal(data, controls)


DATELINE_PIECES = st.sampled_from(["LIMA", "NEW YORK", "AFP", "AP:", "Geneva", " ", ", ", "Aug 14", "March 3, 2025", "(Reuters)",
                                   "(AFP)", "(", ")", "-", "--", "–", "—", " - ", " – ", " — ", "x" * 40, "\n", "é", "Talks resume."])


def match_facts(match) -> tuple | None:
    return match and (match.span(), match.groupdict())


@ANY
@given(pieces=st.lists(DATELINE_PIECES, max_size=12), pad=st.integers(0, 130))
@example(pieces=["LIMA", "-", " "], pad=114)  # the last place for the dash and its space
@example(pieces=["LIMA", "-", " "], pad=115)
@example(pieces=["LIMA", " – "], pad=0)
@example(pieces=["LIMA", " — "], pad=0)
def test_the_dateline_is_the_plain_one(pieces, pad):
    """Dashes before, at and after the 120 characters the dateline may take (spaces may pad it)."""
    paragraph = "".join(pieces)
    first = pieces[0] if pieces else ""
    for text in (paragraph, first + " " * pad + paragraph[len(first):], first + "y" * pad + paragraph[len(first):]):
        assert match_facts(seeds._dateline(text)) == match_facts(plain_dateline(text))


ZONES = st.sampled_from([None, timezone.utc, timezone(timedelta(0)), timezone(timedelta(0), "Z"), timezone(timedelta(hours=2)),
                         timezone(timedelta(hours=-23, minutes=-59)), timezone(timedelta(hours=2), "CEST")])


def date_facts(date: datetime | None) -> tuple | None:
    return date and (repr(date), date.fold, type(date))


@ANY
@given(date=st.datetimes(timezones=ZONES), fold=st.integers(0, 1))
def test_the_fixed_zone_is_the_plain_one(date, fold):
    date = date.replace(fold=fold)
    assert date_facts(seeds._with_fixed_zone(date)) == date_facts(plain_with_fixed_zone(date))


# --- opening the file --------------------------------------------------------------------------

SEED = b"World\n\nReuters: Ports reopen\n\nDate: 2025-03-03\n\nThe port reopened on Monday.\n\nIt had been shut./VOA\n"


def outcome(read, path: str, root: str) -> tuple:
    try:
        return ("read", read(path, root=root))
    except (SeedSkipped, ValueError) as error:
        return (type(error), str(error), getattr(error, "path", None))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A seeds folder with one of everything a scan can meet in it."""
    seeds_dir = tmp_path / "seeds"
    (seeds_dir / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_bytes(SEED)
    (seeds_dir / "001_plain.txt").write_bytes(SEED)
    (seeds_dir / "002_inside.txt").symlink_to("001_plain.txt")
    (seeds_dir / "003_outside.txt").symlink_to(tmp_path / "outside.txt")
    (seeds_dir / "004_dangling.txt").symlink_to("gone.txt")
    (seeds_dir / "005_folder.txt").mkdir()
    os.mkfifo(seeds_dir / "006_fifo.txt")
    (seeds_dir / "008_loop.txt").symlink_to("008_loop.txt")
    (seeds_dir / "009_dirlink.txt").symlink_to("sub")
    (seeds_dir / "010_empty.txt").write_bytes(b"")
    (seeds_dir / "011_big.txt").write_bytes(b"a" * (seeds.MAX_SEED_BYTES + 1))
    (seeds_dir / "sub" / "012_nested.txt").write_bytes(SEED)
    (seeds_dir / "013_nested_link.txt").symlink_to("sub/012_nested.txt")
    (tmp_path / "seeds_link").symlink_to("seeds")
    return tmp_path


NAMES = ["001_plain.txt", "002_inside.txt", "003_outside.txt", "004_dangling.txt", "005_folder.txt", "006_fifo.txt",
         "007_missing.txt", "008_loop.txt", "009_dirlink.txt", "010_empty.txt", "011_big.txt", "sub/012_nested.txt",
         "013_nested_link.txt", ".", "..", "", "sub/../001_plain.txt", "./001_plain.txt", "nul\0.txt", "\udcff.txt"]
ROOTS = ["{tmp}/seeds", "{tmp}/seeds/", "{tmp}//seeds", "{tmp}/seeds/sub/..", "{tmp}/seeds_link", "seeds", "seeds/", "./seeds"]


@pytest.mark.parametrize("root", ROOTS)
def test_opening_a_seed_is_the_plain_way(folder, monkeypatch, root):
    """Every kind of entry, named every way, relative to every spelling of the folder."""
    monkeypatch.chdir(folder)
    root = root.format(tmp=folder)
    for name in NAMES:
        for path in (os.path.join(root, name), root + "/" + name, root + "//" + name):
            assert outcome(skim_file, path, root) == outcome(plain_skim_file, path, root), path


def test_a_plain_file_directly_in_the_folder_takes_the_short_way(folder, monkeypatch):
    root = str(folder / "seeds")
    path = os.path.join(root, "001_plain.txt")
    expected = plain_skim_file(path, root=root)

    def general_way(*args):
        raise AssertionError("took the general way")

    monkeypatch.setattr(seeds, "_require_inside", general_way)
    monkeypatch.setattr(seeds, "_read_file", general_way)
    assert skim_file(path, root=root) == expected


@pytest.mark.skipif(not seeds.READ_AT, reason="no O_NOFOLLOW or dir_fd here: the short way is never taken")
@pytest.mark.parametrize("root", ROOTS)
def test_reading_relative_to_the_folder_is_the_plain_way_where_it_answers(folder, monkeypatch, root):
    """read_seed_at answers for the plain file only (directly there, or through the folder's
    own link), with what the plain way reads; for every other entry it leaves the word to it."""
    monkeypatch.chdir(folder)
    root = root.format(tmp=folder)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        answered = {}
        for name in NAMES:
            got = seeds.read_seed_at(fd, name)
            if got is not None:
                answered[name] = got[0]
                data, info = plain_read_file(os.path.join(root, name), seeds.MAX_SEED_BYTES + 1)
                assert got[0] == data and got[1].st_ino == info.st_ino and got[1].st_mtime_ns == info.st_mtime_ns
    finally:
        os.close(fd)
    # "./001_plain.txt" names the plain file too; "sub/../001_plain.txt" walks a subfolder, which
    # the scan never asks for (it lists plain names), and is read correctly all the same. The
    # empty file is read (as b""): the skim words why it is skipped.
    assert set(answered) <= {"001_plain.txt", "./001_plain.txt", "sub/../001_plain.txt", "sub/012_nested.txt", "010_empty.txt"}
    assert "001_plain.txt" in answered


@pytest.mark.skipif(not seeds.READ_AT, reason="no O_NOFOLLOW or dir_fd here: the short way is never taken")
def test_a_file_whose_size_changed_while_read_is_left_to_the_general_way(folder, monkeypatch):
    fd = os.open(folder / "seeds", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert seeds.read_seed_at(fd, "001_plain.txt") is not None
        real_read = os.read
        monkeypatch.setattr(os, "read", lambda f, n: real_read(f, n)[:-1])  # shrunk since the fstat
        assert seeds.read_seed_at(fd, "001_plain.txt") is None
        monkeypatch.setattr(os, "read", lambda f, n: real_read(f, n) + b"grown")
        assert seeds.read_seed_at(fd, "001_plain.txt") is None
    finally:
        os.close(fd)


@pytest.mark.skipif(not seeds.READ_AT, reason="no O_NOFOLLOW or dir_fd here: the short way is never taken")
def test_a_chunk_reads_plain_files_the_short_way(folder, monkeypatch):
    from feedpub import scan

    def general_way(*args, **kwargs):
        raise AssertionError("a plain file took the general way")

    monkeypatch.setattr(scan, "read_seed_bytes", general_way)
    lines, _ = scan.read_chunk(str(folder / "seeds"), ("Reuters",), None, ["001_plain.txt"])
    assert lines[0].split("\t")[2] == "plain"


def test_a_chunk_read_the_short_way_gives_read_lines_lines(folder):
    """read_chunk's lines and numbers are read_line's, and the fstat's, for every kind of entry."""
    from feedpub import scan

    root = str(folder / "seeds")
    names = [n for n in NAMES if n and "/" not in n and n not in (".", "..") and "\0" not in n]
    for mint in (None, (1.8e9, "example.org")):
        lines, numbers = scan.read_chunk(root, ("Reuters",), mint, names)
        assert lines == [scan.read_line(root, name, ("Reuters",), mint) for name in names]
        for i, name in enumerate(names):
            sig = lines[i].split("\t")[1] or scan._seed_signature_of(os.path.join(root, name))
            assert numbers[scan.FIELDS * i : scan.FIELDS * (i + 1)] == [int(n) for n in sig.split(":")], name
