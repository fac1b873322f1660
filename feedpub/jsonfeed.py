"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): the JSON twin of each RSS/Atom feed.

Same entries, ids, order and HTML content as the XML feeds, so a reader that switches format
sees no new items. Output is deterministic: keys in a fixed order, no clock, UTF-8, one trailing
newline.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

from feedpub.config import FeedSpec, Settings
from feedpub.feeds import content_html
from feedpub.model import Entry

VERSION = "https://jsonfeed.org/version/1.1"


def rfc3339(dt: datetime) -> str:
    """An aware datetime as RFC 3339 with whole seconds, as the XML feeds show it."""
    return dt.isoformat(timespec="seconds")


def render_json_feed(spec: FeedSpec, entries: Sequence[Entry], settings: Settings) -> bytes:
    """The JSON Feed 1.1 document for `spec` (`<name>.json`), as UTF-8 bytes.

    `entries` are the feed's, already selected and sorted, exactly as the RSS/Atom writer gets them.
    """
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": spec.title,
        "home_page_url": settings.url(""),
        "feed_url": settings.url(f"{spec.name}.json"),
        "description": spec.description,
        "language": settings.language,
        "items": [_item(entry, settings) for entry in entries],
    }
    text = json.dumps(feed, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _item(entry: Entry, settings: Settings) -> dict[str, Any]:
    seed = entry.seed
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link,
        "title": seed.title,
        "content_html": content_html(entry, settings),
        "summary": seed.summary,
        "date_published": rfc3339(entry.published),
        "date_modified": rfc3339(entry.updated),
        "authors": _authors(entry, settings),
    }
    if seed.category:
        item["tags"] = [seed.category]
    return item


def _authors(entry: Entry, settings: Settings) -> list[dict[str, str]]:
    # JSON Feed has no "contributor": the agency comes first (the Atom author), then the
    # publisher that carried it; with neither, the site itself answers for the text.
    names = [n for n in dict.fromkeys([entry.seed.agency, entry.seed.publisher]) if n]
    if not names:
        return [{"name": settings.site_title, "url": settings.url("")}]
    authors = []
    for name in names:
        author = {"name": name}
        if name in settings.sources:
            author["url"] = settings.sources[name]
        authors.append(author)
    return authors
