"""The publication record: what has been published, under which id, since when.

A JSON Lines file, one object per line, sorted (feeds first, then seeds by key), so that it diffs
well and a fresh clone of the project rebuilds the same feeds byte for byte:

    {"feed": "flash", "id": "tag:news.example.org,2026-11-27:feed/flash"}
    {"key": "ff3a66dc08c7f601", "id": "tag:...", "first_seen": "2026-11-27T02:04:58Z",
     "fingerprint": "text:...", "edited": null, "listed": true}

- `id` is minted once, at first sight, and never changes (RFC 4151 tag URI).
- `first_seen` is the seed file's mtime when the record first met it (never after the build clock);
  it is the published date of seeds that state none.
- `edited` is set when the fingerprint of the seed's text changes: the entry's `updated` date.
- `listed` says the entry has appeared in a feed, so its item page is kept up to date forever.
The record only ever gains lines: a seed that disappears keeps its line (and its id).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import quote

from feedpub.sorted_lines import locate, splice_pieces

UTC = timezone.utc
RECOVERED = "recovered"  # fingerprint of a line rebuilt from the feeds: adopt the next content seen
# Fingerprints of parsed content, written by feedpub before fingerprints were taken of the text as
# read (seeds.text_fingerprint, "text:..."): the two cannot be compared, so the first build after
# the upgrade adopts the new one, as for RECOVERED, without calling it an edit.
LEGACY_PREFIX = "sha256:"


class RecordError(Exception):
    """The record file cannot be read: the message names the file and line and the way out."""


@dataclass(frozen=True)
class RecordLine:
    key: str
    id: str
    first_seen: datetime
    fingerprint: str
    edited: datetime | None = None
    listed: bool = False

    def to_json(self) -> str:
        """One line, fields in a fixed order (built by hand: 100,000 lines must serialise fast)."""
        edited = f'"{format_time(self.edited)}"' if self.edited else "null"
        return (
            f'{{"key": {_json_str(self.key)}, "id": {_json_str(self.id)}, "first_seen": "{format_time(self.first_seen)}", '
            f'"fingerprint": {_json_str(self.fingerprint)}, "edited": {edited}, "listed": {"true" if self.listed else "false"}}}'
        )


# What json.dumps does for a str with ensure_ascii=False, without its Python-level dispatch.
_json_str = json.encoder.encode_basestring


def format_time(dt: datetime) -> str:
    """UTC, whole seconds, 'Z': the record's one time format."""
    # isoformat (in C) gives "YYYY-MM-DDTHH:MM:SS+00:00" for any UTC time: keep the first 19.
    return dt.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


# No time this program writes comes near it (they are file times and the clock), and a time at the
# end of the calendar would overflow the moment an edit moves it on by a second.
_LAST_YEAR = 9000


def parse_time(text: str) -> datetime:
    """A time in the record's one format; ValueError for anything else. The times this module
    writes skip strptime, whose first call loads a module and compiles a regex: 10 ms that a build
    rendering one page would pay. Anything else gets strptime's leniency and its messages."""
    if _TIME.fullmatch(text):
        try:
            return _in_range(datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC))
        except ValueError:
            pass  # a 13th month, say: strptime words it
    return _in_range(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


def _in_range(dt: datetime) -> datetime:
    if dt.year > _LAST_YEAR:
        raise ValueError(f"{dt:%Y-%m-%d} is after the year {_LAST_YEAR}: not a time feedpub writes")
    return dt


def whole_seconds(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(microsecond=0)


_PLAIN = re.compile(r"[A-Za-z0-9._~/-]*")


def tag_uri(authority: str, when: datetime, specific: str) -> str:
    """An RFC 4151 tag URI: tag:<authority>,<YYYY-MM-DD>:<specific>."""
    when = when.astimezone(UTC)
    specific = specific if _PLAIN.fullmatch(specific) else quote(specific, safe="-._~/")
    return f"tag:{authority},{when.year:04d}-{when.month:02d}-{when.day:02d}:{specific}"


def new_line(key: str, fingerprint: str, mtime: float, now: float, authority: str) -> RecordLine:
    """The line a key gets at first sight: first_seen = the file's mtime, never after the clock."""
    seen = whole_seconds(datetime.fromtimestamp(min(mtime, now), UTC))
    return RecordLine(key, tag_uri(authority, seen, key), seen, fingerprint)


def new_line_json(key: str, fingerprint: str, mtime: float, now: float, authority: str) -> tuple[str, float]:
    """`new_line(...).to_json()` and its first_seen as a timestamp, without the dataclass and the
    datetime arithmetic in between: a first build mints 100,000 of these (14 us each the long
    way, about 4 here; a property test holds the two ways equal)."""
    ts = min(mtime, now)
    d = datetime.fromtimestamp(ts, UTC)  # rounds to the microsecond, half to even
    second = math.floor(ts)
    if d.microsecond == 0 and ts - second >= 0.5:
        second += 1  # rounded up into the next second
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))  # in C (4-digit years: past 999)
    specific = key if _PLAIN.fullmatch(key) else quote(key, safe="-._~/")
    tag = f"tag:{authority},{stamp[:10]}:{specific}"
    return (
        f'{{"key": {_json_str(key)}, "id": {_json_str(tag)}, "first_seen": "{stamp}Z", '
        f'"fingerprint": {_json_str(fingerprint)}, "edited": null, "listed": false}}'
    ), float(second)


# Record.raw_sorted walks the lines when it has a key to find in every this many bytes of them (about
# 20 lines): a binary search costs some 17 probes, a walk one line-end search and key a line.
WALK_BYTES = 4096

_FIRST_SEEN = b', "first_seen": "'  # as RecordLine.to_json writes it; a time of 20 characters follows
_KEY_PREFIX = b'{"key": "'
_LISTED_END = b'"listed": true}'  # how RecordLine.to_json ends the line of a listed entry
_FEED_PREFIX = b'{"feed": '


def _key_of(raw: bytes) -> str:
    """The key of a seed line; lines this module wrote need no JSON parse."""
    if raw.startswith(_KEY_PREFIX):
        end = raw.find(b'"', len(_KEY_PREFIX))
        key = raw[len(_KEY_PREFIX) : end]
        if end > 0 and b"\\" not in key:
            return key.decode("utf-8")
    return str(json.loads(raw)["key"])


class Record:
    """The record in memory: the file's sorted seed lines as bytes, plus the lines changed since.

    Looking up a key is a binary search in those bytes, and writing splices the changed lines
    in, so a build that touches a few of 100,000 seeds never parses or rebuilds the rest. A record
    this program wrote and nobody touched since is `trusted`; any other is parsed and checked line
    by line first (and rewritten in the canonical form).
    """

    def __init__(self) -> None:
        self._data = b""  # from `_start` on: canonical seed lines, sorted by key, each ending in "\n"
        self._start = 0  # where the seed lines begin (after the feed lines of a file read as is)
        self._original = b""  # the file's bytes as read
        self._dirty: dict[str, bytes] = {}  # key -> changed or new line, serialised
        self.feed_ids: dict[str, str] = {}
        self._feeds_changed = False
        self.minted = 0  # ids minted in this run (feeds and seeds)
        self.path = Path("record")

    @classmethod
    def load(cls, path: Path, *, trusted: bool = False) -> "Record":
        """Read the record; a missing file is an empty record. Raises RecordError for a bad line."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            record = cls()
            record.path = path
            return record
        except OSError as e:
            raise RecordError(f"{path}: cannot read the record: {e.strerror}") from None
        return cls.parse(data, path, trusted=trusted)

    @classmethod
    def parse(cls, data: bytes | str, path: Path, *, trusted: bool = False) -> "Record":
        record = cls()
        record.path = path
        if isinstance(data, str):
            data = data.encode("utf-8")
        record._original = data
        if trusted:
            record._adopt(data)
        else:
            record._check_and_adopt(data)
        return record

    def _adopt(self, data: bytes) -> None:
        """Take a file this program wrote: feed lines first, then sorted seed lines."""
        pos = 0
        while data.startswith(_FEED_PREFIX, pos):
            end = data.index(b"\n", pos)
            feed = json.loads(data[pos:end])
            self.feed_ids[feed["feed"]] = feed["id"]
            pos = end + 1
        self._data, self._start = data, pos  # not data[pos:]: a copy of 20 MB for nothing

    def _check_and_adopt(self, data: bytes) -> None:
        """Parse and check every line (a record edited by hand, or from elsewhere), then keep it in
        canonical form: sorted, one line per key. A file in that form already (a fresh clone's
        record, or one a merge left sorted) is checked line by line and kept as it is."""
        try:
            if not data.isascii():  # a record of ASCII keys and ids is: no 20 MB decoded to check
                data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise RecordError(f"{self.path}:{line}: bad record line (not UTF-8); {_WAY_OUT}") from None
        if self._adopt_if_canonical(data):
            return
        lines: dict[str, bytes] = {}  # key -> its line, canonical
        # Lines end at "\n" only: splitlines() would also break at U+2028, U+0085 or \x1c-\x1e,
        # which json.dumps(ensure_ascii=False) leaves raw inside a key taken from a file name.
        for number, raw in enumerate(data.split(b"\n"), start=1):
            canonical = _CANONICAL.fullmatch(raw)
            if canonical and _valid_times(canonical):
                key = canonical[1].decode("utf-8")
                if key not in lines:
                    lines[key] = raw  # as RecordLine.to_json would write it again: checked
                    continue
            text = raw.decode("utf-8")
            if not text.strip():
                continue
            try:
                item = json.loads(text)
                if isinstance(item, dict) and "feed" in item:
                    self.feed_ids[_str(item["feed"], "feed")] = _str(item["id"], "id")
                    continue
                line = _line_from(item)
                if line.key in lines:
                    raise ValueError(f"key {line.key!r} appears twice")
                lines[line.key] = line.to_json().encode("utf-8")  # a lone surrogate escape is no text
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
                raise self._bad_line(number, e) from None
        self._data = b"".join(piece for key in sorted(lines) for piece in (lines[key], b"\n"))

    def _adopt_if_canonical(self, data: bytes) -> bool:
        """`_adopt` a file that is in canonical form, each line checked: feed lines first, then seed
        lines as RecordLine.to_json writes them, keys strictly rising, each line ending in "\n".
        False, having taken nothing, for any other file (the long way then says what is wrong)."""
        feed_ids: dict[str, str] = {}
        pos, size = 0, len(data)
        if size and not data.endswith(b"\n"):
            return False
        while data.startswith(_FEED_PREFIX, pos):
            end = data.index(b"\n", pos)
            try:
                item = json.loads(data[pos:end])
                feed_ids[_str(item["feed"], "feed")] = _str(item["id"], "id")
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                return False
            pos = end + 1
        start, previous = pos, None
        while pos < size:
            end = data.index(b"\n", pos)
            canonical = _CANONICAL.fullmatch(data, pos, end)
            if canonical is None or not _valid_times(canonical):
                return False
            key = canonical[1].decode("utf-8")
            if previous is not None and key <= previous:
                return False
            previous, pos = key, end + 1
        self.feed_ids = feed_ids
        self._data, self._start = data, start
        return True

    def _bad_line(self, number: int, error: Exception) -> RecordError:
        return RecordError(f"{self.path}:{number}: bad record line ({_why(error)}); {_WAY_OUT}")

    def _locate(self, key: str) -> tuple[int, int, bool]:
        return locate(self._data, key, _key_of, self._start)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return self._data.count(b"\n", self._start) + sum(1 for k in self._dirty if not self._locate(k)[2])

    def has_seeds(self) -> bool:
        """Whether any seed has a line: `len` without counting 100,000 of them."""
        return len(self._data) > self._start or bool(self._dirty)

    def keys(self) -> list[str]:
        """Every key, sorted (parses the whole record: for tools and tests, not builds)."""
        found = {_key_of(line) for line in self._data[self._start :].split(b"\n") if line}
        return sorted(found | set(self._dirty))

    def listed_keys(self) -> set[str]:
        """The keys of entries that have appeared in a feed (their pages are kept for good), found by
        the end of their lines: a loaded record is canonical (a trusted one is as this program
        wrote it; any other was rewritten so by `_check_and_adopt`)."""
        found: set[str] = set()
        data, start, mark = self._data, self._start, _LISTED_END + b"\n"
        pos = data.find(mark, start)
        while pos >= 0:
            begin = max(data.rfind(b"\n", start, pos) + 1, start)
            found.add(_key_of(data[begin : pos + len(_LISTED_END)]))
            pos = data.find(mark, pos + len(mark))
        for key, raw in self._dirty.items():
            if raw.endswith(_LISTED_END):
                found.add(key)
            else:
                found.discard(key)
        return found

    def get(self, key: str) -> RecordLine | None:
        """The line for a key (parsed each time: a cold build meets 100,000 keys, once each)."""
        raw = self._dirty.get(key)
        if raw is not None:
            return _line_from(json.loads(raw))
        start, end, found = self._locate(key)
        return self._line_at(start, end - 1) if found else None

    def raw_sorted(self, keys: Sequence[str]) -> Iterator[bytes | None]:
        """Each key's line as it stands, serialised (None: no line), the keys given in sorted order:
        parse it with `parse_raw`, or ask `unchanged_first_seen` first. Many keys (more than one in
        every WALK_BYTES of lines) are found in one walk through the record's lines: a build that
        looks up every one of 100,000 keys (a fresh clone: no scan cache) pays one pass over the
        bytes, not 100,000 binary searches (3 of its 10 s, before). A few keys are searched for."""
        data, pos, size = self._data, self._start, len(self._data)
        walk = len(keys) * WALK_BYTES >= size - pos
        for key in keys:
            raw = self._dirty.get(key)
            if raw is not None:
                yield raw
                continue
            if not walk:
                start, end, found = self._locate(key)
                yield data[start : end - 1] if found else None
                continue
            here = None
            while pos < size:
                end = data.index(b"\n", pos)
                here = _key_of(data[pos:end])
                if here >= key:
                    break
                pos = end + 1
            yield data[pos:end] if here == key and pos < size else None

    def parse_raw(self, raw: bytes | None) -> RecordLine | None:
        """A line `raw_sorted` gave, parsed as `get` would (RecordError if it does not parse)."""
        if raw is None:
            return None
        try:
            return _line_from(json.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise self._bad_line(self._line_number(self._data.find(raw + b"\n", self._start)), e) from None

    @staticmethod
    def unchanged_first_seen(raw: bytes | None, fingerprint: str) -> float | None:
        """The line's first_seen as a timestamp when it holds exactly this fingerprint, as a line this
        program wrote does (so that observing the seed would change nothing); else None, and the
        caller observes it. Reads the line by its fixed layout (RecordLine.to_json), not as JSON:
        100,000 of these in a fresh clone's build."""
        if raw is None:
            return None
        at = raw.find(_FIRST_SEEN)
        if at < 0:
            return None
        at += len(_FIRST_SEEN)
        tail = b'", "fingerprint": ' + _json_str(fingerprint).encode("utf-8") + b', "edited": '
        if not raw.startswith(tail, at + 20):
            return None
        try:
            return parse_time(raw[at : at + 20].decode("ascii")).timestamp()
        except (ValueError, UnicodeDecodeError):
            return None

    def _line_at(self, start: int, end: int) -> RecordLine:
        """The line in data[start:end]; RecordError, naming its line number, if it does not parse."""
        try:
            return _line_from(json.loads(self._data[start:end]))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise self._bad_line(self._line_number(start), e) from None

    def _line_number(self, at: int) -> int:
        """The file's line number of the seed line starting at `at` in the data (0: not in it)."""
        if at < 0:
            return 0
        return self._data.count(b"\n", 0, at) + 1 + (0 if self._start else len(self.feed_ids))

    def put(self, line: RecordLine) -> None:
        """Set a key's line (new or changed), kept serialised until the record is written."""
        self._dirty[line.key] = line.to_json().encode("utf-8")

    def put_serialised(self, key: str, raw: bytes) -> None:
        """Set a key's line from its JSON, as `new_line(...).to_json()` made it elsewhere."""
        self._dirty[key] = raw
        self.minted += 1

    def changed(self) -> bool:
        """Whether the file must be rewritten."""
        return bool(self._dirty) or self._feeds_changed or self.dumps() != self._original

    def dumps(self) -> bytes:
        """The file's bytes: feed lines, then seed lines sorted by key; changed lines spliced in."""
        return b"".join(self.parts())

    def parts(self) -> list[bytes]:
        """`dumps()` as pieces to write one after another, so 20 MB need not be copied to join them."""
        head = "".join(json.dumps({"feed": n, "id": i}) + "\n" for n, i in sorted(self.feed_ids.items()))
        return [head.encode("utf-8"), *splice_pieces(self._data, self._dirty, _key_of, self._start)]

    def feed_id(self, name: str, authority: str, now: datetime) -> str:
        """The feed's permanent Atom id, minted on first build."""
        if name not in self.feed_ids:
            self.feed_ids[name] = tag_uri(authority, now, f"feed/{name}")
            self._feeds_changed = True
            self.minted += 1
        return self.feed_ids[name]

    def observe_against(
        self, old: RecordLine | None, key: str, fingerprint: str, seen: datetime, now: datetime, authority: str
    ) -> tuple[RecordLine, str]:
        """Note a seed's current content, given its key's line as it stands (`old`: `get`, or
        `raw_sorted` and `parse_raw` for many keys); `seen` is the file's mtime. Returns the line
        and what happened: "new", "edited" or "" (nothing).

        New key: mint the id, first_seen = min(seen, now) (never later than now). Changed
        fingerprint: `edited` moves forward (strictly, so readers notice); id and first_seen stay.
        """
        if old is None:
            line = new_line(key, fingerprint, seen.timestamp(), now.timestamp(), authority)
            self.put(line)
            self.minted += 1
            return line, "new"
        if old.fingerprint == RECOVERED or old.fingerprint.startswith(LEGACY_PREFIX):
            # The text as it stands is the published one: adopt it, no edit.
            line, what = replace(old, fingerprint=fingerprint), ""
        elif old.fingerprint != fingerprint:
            previous = old.edited or old.first_seen
            seen = whole_seconds(min(seen, now))
            line = replace(old, fingerprint=fingerprint, edited=max(seen, previous + timedelta(seconds=1)))
            what = "edited"
        else:
            return old, ""
        self.put(line)
        return line, what

    def mark_listed(self, key: str) -> None:
        line = self.get(key)
        if line is not None and not line.listed:
            self.put(replace(line, listed=True))


# A line exactly as RecordLine.to_json writes it, with strings that need no escapes: its fields are
# what they read as (a JSON string without '"', '\\' or control characters is its own text), so
# once its times are checked it is kept as it is, without a JSON parse and a new serialisation:
# about 5 us a line, not 10, for the 100,000 lines of a record a fresh clone's first build checks.
_CANONICAL = re.compile(
    (
        r'\{"key": "([^"\\\x00-\x1f]+)", "id": "[^"\\\x00-\x1f]+", "first_seen": "(%s)", '
        r'"fingerprint": "[^"\\\x00-\x1f]+", "edited": (?:null|"(%s)"), "listed": (?:true|false)\}'
        % (_TIME.pattern, _TIME.pattern)
    ).encode("ascii")
)


def _valid_times(match: re.Match[bytes]) -> bool:
    """Whether the canonical line's times are ones `parse_time` takes and `format_time` writes back
    as they are (else the line is taken the long way, which says what is wrong, or writes the time
    as it should be: a Python whose fromisoformat reads "T24:00:00" as the next midnight, say)."""
    for group in (2, 3):
        text = match[group]
        if text is not None:
            try:
                if format_time(parse_time(text.decode("ascii"))) != text.decode("ascii"):
                    return False
            except ValueError:
                return False
    return True


_WAY_OUT = "fix it, or run `feedpub build --rebuild-record` to rebuild the record from the published feeds"


def _line_from(data: dict) -> RecordLine:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    edited = data.get("edited")
    return RecordLine(
        key=_str(data["key"], "key"),
        id=_str(data["id"], "id"),
        first_seen=parse_time(_str(data["first_seen"], "first_seen")),
        fingerprint=_str(data["fingerprint"], "fingerprint"),
        edited=parse_time(_str(edited, "edited")) if edited is not None else None,
        listed=bool(data.get("listed", False)),
    )


def _str(value, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _why(error: Exception) -> str:
    if isinstance(error, UnicodeEncodeError):
        return f"a lone surrogate escape ({error.object[error.start]!r}), which is not text"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON: {error.msg} at column {error.colno}"
    return str(error)
