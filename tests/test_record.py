"""The record's short ways (for the 100,000 lines of a fresh clone) against its long ways."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given, settings as hsettings, strategies as st

from feedpub import record as record_module
from feedpub.record import Record, RecordError, RecordLine

UTC = timezone.utc
PATH = Path("feedpub-record.jsonl")

# Keys and ids as file names and tag URIs give them, and the characters JSON must escape.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12) | st.sampled_from(
    ['k"q', "k\\b", "k\x01", "k\u2028", "k\n", "caf\u00e9", "ab12", "\x7f"]
)
TIMES = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(8999, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
LINES = st.builds(
    RecordLine, key=TEXT, id=TEXT, first_seen=TIMES, fingerprint=TEXT | st.just("text:0f"),
    edited=st.none() | TIMES, listed=st.booleans(),
)


def _variants(line: RecordLine) -> st.SearchStrategy[str]:
    """The line as feedpub writes it, and as a hand or another tool might: other field order,
    escapes, spaces, CRLF, a bad time, a wrong type."""
    canonical = line.to_json()
    fields = json.loads(canonical)
    return st.sampled_from([
        canonical,
        canonical,
        json.dumps(fields),  # every non-ASCII character escaped
        json.dumps(dict(reversed(list(fields.items()))), ensure_ascii=False),
        canonical.replace('", "', '",  "', 1),
        canonical + "\r",
        canonical.replace('"first_seen": "', '"first_seen": "x', 1),
        re.sub(r'"first_seen": "\d{4}', '"first_seen": "0000', canonical),
        re.sub(r'"first_seen": "(\d{4})-\d\d', r'"first_seen": "\1-13', canonical),
        canonical.replace('"listed": false', '"listed": 0'),
        canonical.replace('"fingerprint": ', '"fingerprint": 1, "x": ', 1),
        '{"feed": "flash", "id": "tag:x,2026-01-01:feed/flash"}',
        "",
    ])


RECORD_TEXTS = st.lists(LINES.flatmap(_variants), max_size=8).map("\n".join) | st.lists(LINES, max_size=8).map(
    lambda lines: "".join(line.to_json() + "\n" for line in sorted(lines, key=lambda line: line.key))
)
# The second: files as feedpub writes them (taken as they are), but for a key that may come twice.


def _outcome(text: str) -> tuple:
    try:
        loaded = Record.parse(text.encode("utf-8", "surrogatepass"), PATH)
    except RecordError as e:
        return ("error", str(e))
    return (bytes(loaded._data[loaded._start :]), loaded.feed_ids, loaded.dumps(), loaded.changed())


_TWICE = RecordLine("ab12", "tag:x,2025-01-01:ab12", datetime(2025, 1, 1, tzinfo=UTC), "text:0f").to_json() + "\n"


@hsettings(max_examples=400, deadline=None)
@given(RECORD_TEXTS)
@example(_TWICE * 2)  # sorted, as feedpub writes, but one key twice
@example('{"feed": "flash", "id": "tag:x,2026-01-01:feed/flash"}\n' + _TWICE)
@example(_TWICE.rstrip("\n"))  # no line feed at the end
def test_a_record_checked_the_short_way_is_the_long_way(text):
    """Lines already as feedpub writes them are checked without a JSON parse: the same record, the
    same error (line number and reason) as parsing every line, for any mix of lines."""
    short = _outcome(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_module, "_CANONICAL", re.compile(rb"(?!)"))  # never matches: the long way
        long = _outcome(text)
    assert short == long


@hsettings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=12, unique_by=lambda line: line.key), st.lists(TEXT, max_size=12),
       st.sampled_from([1, 10**9]), st.data())
def test_lines_found_in_one_walk_are_the_lines_get_finds(lines, others, walk_bytes, data):
    """raw_sorted, walking the record or searching it, finds what `get` finds, dirty lines
    included; unchanged_first_seen is the first_seen of a line holding that very fingerprint."""
    text = "\n".join(line.to_json() for line in lines)
    loaded = Record.parse(text.encode("utf-8"), PATH)
    if lines and data.draw(st.booleans()):  # a line changed since the file was read
        loaded.put(RecordLine(lines[0].key, "tag:changed", lines[0].first_seen, "text:new"))
    keys = sorted({line.key for line in lines} | set(others))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_module, "WALK_BYTES", walk_bytes)
        found = list(loaded.raw_sorted(keys))
    assert [loaded.parse_raw(raw) for raw in found] == [loaded.get(key) for key in keys]
    for key, raw in zip(keys, found):
        line = loaded.get(key)
        for fingerprint in ("text:0f", line.fingerprint if line else "text:1a"):
            expected = line.first_seen.timestamp() if line is not None and line.fingerprint == fingerprint else None
            assert Record.unchanged_first_seen(raw, fingerprint) == expected


def test_a_line_the_walk_finds_but_cannot_parse_is_named_by_its_line_number():
    good = RecordLine("a", "tag:a", datetime(2025, 1, 1, tzinfo=UTC), "text:0f").to_json()
    loaded = Record.parse((good + "\n" + good.replace('"a"', '"b"')).encode(), PATH, trusted=True)
    broken = loaded._data.replace(b'"id": "tag:a"', b'"id": 7')
    loaded._data = broken
    raw = next(loaded.raw_sorted(["a"]))
    with pytest.raises(RecordError, match=r"feedpub-record.jsonl:1: bad record line \(id must be a non-empty string\)"):
        loaded.parse_raw(raw)


@pytest.mark.parametrize("bad, reason", [
    ('{"key": "\\ud800", "id": "i", "first_seen": "2025-01-01T00:00:00Z", "fingerprint": "f", "edited": null, "listed": false}',
     r"a lone surrogate escape \('\\ud800'\), which is not text"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
], ids=["lone surrogate", "deep nesting"])
def test_a_line_no_record_can_hold_is_a_bad_line_not_a_traceback(bad, reason):
    """A lone surrogate escape in a key (a string no file could be written with) and absurd nesting
    are bad lines like any other, named before the lines after them."""
    later = '{"key": "b", "id": "", "first_seen": "2025-01-01T00:00:00Z", "fingerprint": "f"}'
    with pytest.raises(RecordError, match=rf"feedpub-record.jsonl:2: bad record line \({reason}\)"):
        Record.parse(f'{{"feed": "flash", "id": "tag:x"}}\n{bad}\n{later}\n'.encode(), PATH)


def test_a_time_this_python_reads_but_would_write_otherwise_is_taken_the_long_way(monkeypatch):
    """Python 3.14's fromisoformat reads "T24:00:00" as the next midnight: such a line must be
    rewritten with that time, as the long way does, not kept as read. Simulated here."""
    real = record_module.parse_time

    def newer_python(text: str) -> datetime:
        if text.endswith("T24:00:00Z"):
            return real(text.replace("T24:00:00Z", "T00:00:00Z")) + timedelta(days=1)
        return real(text)

    monkeypatch.setattr(record_module, "parse_time", newer_python)
    text = RecordLine("a", "tag:a", datetime(2025, 1, 1, tzinfo=UTC), "text:0f").to_json().replace("T00:00:00Z", "T24:00:00Z") + "\n"
    short = _outcome(text)
    monkeypatch.setattr(record_module, "_CANONICAL", re.compile(rb"(?!)"))
    assert short == _outcome(text)
    assert b'"first_seen": "2025-01-02T00:00:00Z"' in short[0] and short[3]  # rewritten
