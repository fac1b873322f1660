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


class Record:
    """The record in memory: seed lines by key, feed ids by feed name."""

    def __init__(self, lines: dict[str, RecordLine] | None = None, feed_ids: dict[str, str] | None = None):
        self.lines: dict[str, RecordLine] = dict(lines or {})
        self.feed_ids: dict[str, str] = dict(feed_ids or {})

    @classmethod
    def load(cls, path: Path) -> "Record":
        """Read the record; a missing file is an empty record. Raises RecordError for a bad line."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as e:
            raise RecordError(f"{path}: cannot read the record: {getattr(e, 'strerror', None) or e}") from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path) -> "Record":
        record = cls()
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record._add_raw(json.loads(raw))
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                raise RecordError(
                    f"{path}:{number}: bad record line ({_why(e)}); fix it, or run "
                    "`feedpub build --rebuild-record` to rebuild the record from the published feeds"
                ) from None
        return record

    def _add_raw(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        if "feed" in data:
            self.feed_ids[_str(data["feed"], "feed")] = _str(data["id"], "id")
            return
        key = _str(data["key"], "key")
        if key in self.lines:
            raise ValueError(f"key {key!r} appears twice")
        edited = data.get("edited")
        self.lines[key] = RecordLine(
            key=key,
            id=_str(data["id"], "id"),
            first_seen=parse_time(_str(data["first_seen"], "first_seen")),
            fingerprint=_str(data["fingerprint"], "fingerprint"),
            edited=parse_time(_str(edited, "edited")) if edited is not None else None,
            listed=bool(data.get("listed", False)),
        )

    def dumps(self) -> bytes:
        """The file's bytes: deterministic, sorted, one line per feed and per seed."""
        out = [json.dumps({"feed": name, "id": fid}) for name, fid in sorted(self.feed_ids.items())]
        out += [self.lines[key].to_json() for key in sorted(self.lines)]
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
        line = self.lines.get(key)
        if line is None:
            line = RecordLine(key, tag_uri(authority, seen, key), seen, fingerprint)
        elif line.fingerprint != fingerprint:
            previous = line.edited or line.first_seen
            line = replace(line, fingerprint=fingerprint, edited=max(seen, previous + timedelta(seconds=1)))
        self.lines[key] = line
        return line

    def mark_listed(self, key: str) -> None:
        line = self.lines[key]
        if not line.listed:
            self.lines[key] = replace(line, listed=True)


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
