"""The publication record: what has been published, under which id, since when.

A JSON Lines file, one object per line, sorted (feeds first, then seeds by key), so that it diffs
well and a fresh clone of the project rebuilds the same feeds byte for byte:

    {"feed": "flash", "id": "tag:news.example.org,2026-11-27:feed/flash"}
    {"key": "ff3a66dc08c7f601", "id": "tag:...", "first_seen": "2026-11-27T02:04:58Z",
     "fingerprint": "sha256:...", "edited": null, "listed": true}

- `id` is minted once, at first sight, and never changes (RFC 4151 tag URI).
- `first_seen` is the seed file's mtime when the record first met it (never after the build clock);
  it is the published date of seeds that state none.
- `edited` is set when the seed's content fingerprint changes: the entry's `updated` date.
- `listed` says the entry has appeared in a feed, so its item page is kept up to date forever.
The record only ever gains lines: a seed that disappears keeps its line (and its id).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

UTC = timezone.utc
RECOVERED = "recovered"  # fingerprint of a line rebuilt from the feeds: adopt the next content seen


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
        data = asdict(self)
        data["first_seen"] = format_time(self.first_seen)
        data["edited"] = format_time(self.edited) if self.edited else None
        return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def format_time(dt: datetime) -> str:
    """UTC, whole seconds, 'Z': the record's one time format."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def whole_seconds(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(microsecond=0)


def tag_uri(authority: str, when: datetime, specific: str) -> str:
    """An RFC 4151 tag URI: tag:<authority>,<YYYY-MM-DD>:<specific>."""
    return f"tag:{authority},{when.astimezone(UTC):%Y-%m-%d}:{quote(specific, safe='-._~/')}"


_KEY_PREFIX = '{"key": "'


def _fast_key(raw: str) -> str | None:
    """The key of a line this module wrote, without a JSON parse (100,000 lines load in ms)."""
    if raw.startswith(_KEY_PREFIX):
        end = raw.find('"', len(_KEY_PREFIX))
        key = raw[len(_KEY_PREFIX) : end]
        if end > 0 and "\\" not in key:
            return key
    return None


class Record:
    """The record in memory: seed lines by key, feed ids by feed name.

    A record this program wrote and nobody touched since (`trusted`) is indexed by key and each
    line parsed only when asked for; any other record is parsed and checked line by line.
    """

    def __init__(self, lines: dict[str, RecordLine] | None = None, feed_ids: dict[str, str] | None = None):
        self._parsed: dict[str, RecordLine] = dict(lines or {})
        self._raw: dict[str, tuple[int, str]] = {}  # key -> (line number, text), not parsed yet
        self.feed_ids: dict[str, str] = dict(feed_ids or {})
        self.path = Path("record")

    @classmethod
    def load(cls, path: Path, *, trusted: bool = False) -> "Record":
        """Read the record; a missing file is an empty record. Raises RecordError for a bad line."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as e:
            raise RecordError(f"{path}: cannot read the record: {getattr(e, 'strerror', None) or e}") from None
        return cls.parse(text, path, trusted=trusted)

    @classmethod
    def parse(cls, text: str, path: Path, *, trusted: bool = False) -> "Record":
        record = cls()
        record.path = path
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            key = _fast_key(raw) if trusted else None
            if key is not None:
                record._raw[key] = (number, raw)
                continue
            try:
                record._add_raw(json.loads(raw))
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                raise record._bad_line(number, e) from None
        return record

    def _bad_line(self, number: int, error: Exception) -> RecordError:
        return RecordError(
            f"{self.path}:{number}: bad record line ({_why(error)}); fix it, or run "
            "`feedpub build --rebuild-record` to rebuild the record from the published feeds"
        )

    def _add_raw(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        if "feed" in data:
            self.feed_ids[_str(data["feed"], "feed")] = _str(data["id"], "id")
            return
        line = _line_from(data)
        if line.key in self._parsed:
            raise ValueError(f"key {line.key!r} appears twice")
        self._parsed[line.key] = line

    def __contains__(self, key: str) -> bool:
        return key in self._parsed or key in self._raw

    def __len__(self) -> int:
        return len(self._parsed) + len(self._raw)

    def get(self, key: str) -> RecordLine | None:
        """The line for a key, parsed on first use."""
        line = self._parsed.get(key)
        if line is None and key in self._raw:
            number, raw = self._raw.pop(key)
            try:
                line = _line_from(json.loads(raw))
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                raise self._bad_line(number, e) from None
            self._parsed[key] = line
        return line

    def dumps(self) -> bytes:
        """The file's bytes: deterministic, sorted, one line per feed and per seed."""
        out = [json.dumps({"feed": name, "id": fid}) for name, fid in sorted(self.feed_ids.items())]
        for key in sorted(self._parsed.keys() | self._raw.keys()):
            line = self._parsed.get(key)
            out.append(line.to_json() if line is not None else self._raw[key][1])
        return ("\n".join(out) + "\n").encode("utf-8") if out else b""

    def feed_id(self, name: str, authority: str, now: datetime) -> str:
        """The feed's permanent Atom id, minted on first build."""
        if name not in self.feed_ids:
            self.feed_ids[name] = tag_uri(authority, now, f"feed/{name}")
        return self.feed_ids[name]

    def observe(self, key: str, fingerprint: str, seen: datetime, now: datetime, authority: str) -> RecordLine:
        """Note a seed's current content. `seen` is the file's mtime; the result is never later than now.

        New key: mint the id, first_seen = min(seen, now). Changed fingerprint: `edited` moves
        forward (strictly, so readers notice); id and first_seen stay.
        """
        seen = whole_seconds(min(seen, now))
        line = self.get(key)
        if line is None:
            line = RecordLine(key, tag_uri(authority, seen, key), seen, fingerprint)
        elif line.fingerprint == RECOVERED:
            line = replace(line, fingerprint=fingerprint)  # the text as it stands is the published one
        elif line.fingerprint != fingerprint:
            previous = line.edited or line.first_seen
            line = replace(line, fingerprint=fingerprint, edited=max(seen, previous + timedelta(seconds=1)))
        self._parsed[key] = line
        return line

    def mark_listed(self, key: str) -> None:
        line = self.get(key)
        if line is not None and not line.listed:
            self._parsed[key] = replace(line, listed=True)


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
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON: {error.msg} at column {error.colno}"
    return str(error)
