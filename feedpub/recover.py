"""`feedpub build --rebuild-record`: the way out of a damaged or lost record.

Every id that can still be found is kept: first the record's own readable lines, then the ids
the published feeds carry (an entry's link names its key: `items/<key>.html`). Seeds found in
neither get new ids on the next build, as on a first build.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dateutil import parser as dateparser
from lxml import etree

from feedpub.config import Settings
from feedpub.output import Staging, WriteError
from feedpub.publish import BuildError
from feedpub.record import RECOVERED, Record, RecordLine, _line_from, whole_seconds

UTC = timezone.utc
_ATOM = "{http://www.w3.org/2005/Atom}"


def salvage(text: str) -> tuple[Record, int]:
    """The readable lines of a record; returns the record and how many lines were dropped."""
    record, dropped = Record(), 0
    for raw in text.split("\n"):  # as Record.parse: a key may hold U+2028 and the like
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            if isinstance(data, dict) and "feed" in data and isinstance(data.get("id"), str):
                record.feed_ids.setdefault(str(data["feed"]), data["id"])
                continue
            line = _line_from(data)
        except (ValueError, TypeError, KeyError, AttributeError):
            dropped += 1
            continue
        if line.key not in record:
            record.put(line)
    return record, dropped


def key_from_link(link: str) -> str | None:
    """`https://site/items/<key>.html` -> key."""
    path = urlsplit(link.strip()).path
    folder, _, name = path.rpartition("/")
    if folder.endswith("/items") and name.endswith(".html") and len(name) > 5:
        return unquote(name[:-5])
    return None


def ids_from_feeds(out_dir: Path, feed_names: list[str]) -> tuple[dict[str, RecordLine], dict[str, str]]:
    """Entries and feed ids as the published Atom feeds (else RSS) state them."""
    lines: dict[str, RecordLine] = {}
    feed_ids: dict[str, str] = {}
    for name in feed_names:
        atom = _parse(out_dir / f"{name}.atom")
        if atom is not None:
            feed_id = atom.findtext(f"{_ATOM}id")
            if feed_id:
                feed_ids[name] = feed_id.strip()
            for e in atom.iter(f"{_ATOM}entry"):
                link = e.find(f"{_ATOM}link")
                _add(lines, e.findtext(f"{_ATOM}id"), link.get("href") if link is not None else None,
                     e.findtext(f"{_ATOM}published"), e.findtext(f"{_ATOM}updated"))
        rss = _parse(out_dir / f"{name}.xml")
        if rss is not None:
            for item in rss.iter("item"):
                _add(lines, item.findtext("guid"), item.findtext("link"), item.findtext("pubDate"), None)
    return lines, feed_ids


def _parse(path: Path):
    try:
        return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None


def _add(lines: dict[str, RecordLine], entry_id, link, published, updated) -> None:
    key = key_from_link(link) if link else None
    if not key or not entry_id or key in lines:
        return
    try:
        first = whole_seconds(_date(published))
        edited = whole_seconds(_date(updated)) if updated else None
    except (ValueError, OverflowError):
        return
    lines[key] = RecordLine(key, entry_id.strip(), first, RECOVERED, edited if edited and edited > first else None, True)


def _date(text: str | None) -> datetime:
    if not text:
        raise ValueError("no date")
    dt = dateparser.parse(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def rebuild_record(settings: Settings) -> str:
    """Rewrite the record from what survives; the damaged file is kept beside it. Returns a report line."""
    path = settings.record_path
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        text = ""
    except OSError as e:
        raise BuildError(f"{path}: cannot read the record: {e.strerror}") from None
    record, dropped = salvage(text)
    kept = len(record)
    found, feed_ids = ids_from_feeds(settings.out_dir, [spec.name for spec in settings.feeds])
    recovered = 0
    for key, line in found.items():
        if key not in record:
            record.put(line)
            recovered += 1
    for name, feed_id in feed_ids.items():
        record.feed_ids.setdefault(name, feed_id)
    staging = Staging()
    backup = None
    try:
        if text and (dropped or record.dumps().decode("utf-8", "replace") != text):
            backup = path.with_name(f"{path.name}.damaged")
            staging.add(backup, text.encode("utf-8"))
        staging.add(path, record.dumps())
        staging.commit()
    except WriteError as e:
        raise BuildError(str(e)) from None
    note = f"; the old file is kept as {backup}" if backup else ""
    return f"{path}: record rebuilt: {kept} lines kept, {dropped} unreadable dropped, {recovered} ids recovered from the feeds{note}"
