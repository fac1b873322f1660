"""The scan's skim (seeds.skim_seed) against the full reader (seeds.parse_seed).

The scan decides every feed from the skim's facts and renders what it picked with the full
reader, so the two must never disagree: same skip reason, or the same key, sequence number,
category, date, warnings and fingerprint. Checked on the shared examples, on generated seeds and
on arbitrary seed-shaped documents with the skim's window moved to every possible place.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

import feedpub.seeds as seeds
from feedpub.model import SeedSkipped
from feedpub.seeds import parse_seed, skim_seed, text_fingerprint
from tests.test_hostile import mutated_documents, seed_documents

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PATH = Path("seeds/042_0123456789abcdef.txt")


def full_facts(data: bytes, path: Path = PATH) -> tuple | str:
    try:
        seed = parse_seed(data, path=path)
    except SeedSkipped as e:
        return e.reason
    return (seed.key, seed.seq, seed.category, seed.date, seed.fingerprint, seed.warnings)


def skim_facts(data: bytes, path: Path = PATH) -> tuple | str:
    try:
        facts = skim_seed(data, path=str(path))
    except SeedSkipped as e:
        return e.reason
    return (facts.key, facts.seq, facts.category, facts.date, facts.fingerprint, facts.warnings)


def seed_files() -> list[Path]:
    files = sorted((REPO / "seeds").glob("*.txt"))
    files += sorted((SHARED / "examples" / "seeds").glob("*")) if (SHARED / "examples").is_dir() else []
    return files


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: p.name)
def test_the_skim_agrees_with_the_reader_on_every_example(path):
    data = path.read_bytes()
    assert skim_facts(data, path) == full_facts(data, path)


@pytest.mark.skipif(not (SHARED / "bench" / "make_seeds.py").is_file(), reason="shared/bench/make_seeds.py not beside the clone")
def test_the_skim_agrees_with_the_reader_on_generated_seeds(tmp_path):
    """make_seeds.py's mix (headers, copies, date lines, datelines, chrome, credits, bad files)."""
    subprocess.run([sys.executable, str(SHARED / "bench" / "make_seeds.py"), str(tmp_path), "--count", "600", "--seed", "7"],
                   check=True, capture_output=True)
    files = sorted(tmp_path.iterdir())
    assert len(files) == 600
    disagreements = [p.name for p in files if skim_facts(p.read_bytes(), p) != full_facts(p.read_bytes(), p)]
    assert disagreements == []


ANY = hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BLOCKS = st.sampled_from([
    "Flash News", "World", "Reuters: Talks resume in Geneva", "Talks resume in Geneva", "Analysis: why talks stall",
    "Date: 2024-05-24 10:15 UTC", "Published 24/05/2024 09:30", "March 9, 2025", "Date: sometime",
    "GENEVA, March 3, 2025 (AFP) - Talks resumed on Monday.", "LIMA, Aug 14 (Reuters) - The port reopened.",
    "A short paragraph.", "A paragraph that goes on for a while, hard wrapped\nacross two lines of text.",
    "Latest news", "Read more", "Related articles\nOne link\nAnother link", "Share this:", "/VOA",
    "The last sentence of the story./VOA", "x" * 120 + ".", "  ", "Talks resume in Geneva\nDate: 2025-01-02",
])


@st.composite
def block_documents(draw) -> bytes:
    """Documents assembled from the blocks the reader tells apart, in any order and number."""
    blocks = draw(st.lists(BLOCKS | st.text(min_size=1, max_size=30), min_size=0, max_size=12))
    gaps = draw(st.lists(st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n"]), min_size=len(blocks), max_size=len(blocks)))
    return "".join(block + gap for block, gap in zip(blocks, gaps)).encode("utf-8")


LONE_CREDIT = b"World\n\nTalks resume in Geneva\n\n/VOA\n\nLatest news\n\nRead more\n"
HEADER_FIRST = b"Flash News\n\nHeadline of the story\n\nThe body.\n\nMore body.\n"


@ANY
@given(data=block_documents() | seed_documents() | mutated_documents(), window=st.integers(1, 400))
# The window shows a lone credit as the only paragraph, with chrome (no body) beyond it.
@example(data=LONE_CREDIT, window=LONE_CREDIT.index(b"Read") + 2)
# The window shows the header block alone: not "header only".
@example(data=HEADER_FIRST, window=HEADER_FIRST.index(b"Headline") + 4)
def test_the_skim_agrees_with_the_reader_wherever_its_window_ends(data, window):
    """A small window makes the skim stop in every part of a document: header, copies, date lines,
    first paragraphs, chrome. Where the window cannot settle it, the skim must read it all."""
    with mock.patch.object(seeds, "SKIM_CHARS", window):
        assert skim_facts(data) == full_facts(data)


def test_a_long_seed_is_settled_without_the_full_parse(monkeypatch):
    body = "\n\n".join(f"Paragraph {n} of a long story, with a few words in it." for n in range(200))
    data = f"World\n\nAP: Ports reopen\n\nDate: 2025-03-03\n\n{body}/VOA\n".encode()
    expected = full_facts(data)
    assert expected[2:4] == ("world", datetime(2025, 3, 3, tzinfo=timezone.utc))

    def no_full_parse(*args):
        raise AssertionError("the skim parsed the whole seed")

    monkeypatch.setattr(seeds, "_parse_text", no_full_parse)
    assert skim_facts(data) == expected


def test_the_fingerprint_is_of_the_text_as_read():
    text = "Flash News\n\nReuters: Ports reopen\n\nThe port reopened on Monday. It had been shut.\n"
    fingerprint = parse_seed(text.encode(), path=PATH).fingerprint
    assert fingerprint == text_fingerprint(text) and fingerprint.startswith("text:")
    # Saved again with other line ends, a BOM, a trailing blank line or spaces at line ends: the same text.
    for data in (text.replace("\n", "\r\n").encode(), b"\xef\xbb\xbf" + text.encode(), (text + "\n\n").encode(),
                 text.replace("\n", " \t \n").encode(), text.replace("reopen\n", "reopen  \r\n").encode()):
        assert parse_seed(data, path=PATH).fingerprint == fingerprint
    # In Windows-1252 or in UTF-8: the same text.
    accented = text.replace("Monday", "Mond\xe9y")
    assert parse_seed(accented.encode("cp1252"), path=PATH).fingerprint == parse_seed(accented.encode(), path=PATH).fingerprint
    # Any change to what it says, even past the part the skim looks at, moves it.
    long = text + "\n\n".join(["Filler paragraph."] * 300) + "\n\nThe very last sentence."
    edited = long.replace("very last", "final")
    assert skim_seed(long.encode(), path=str(PATH)).fingerprint != skim_seed(edited.encode(), path=str(PATH)).fingerprint
