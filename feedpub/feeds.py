"""The writer: entries + settings -> RSS 2.0 and Atom 1.0 bytes, with feedgen.

feedgen is told every date and every order (it would otherwise stamp now() and prepend), gets
the self link before the site link (the RSS channel <link> is the last link added), and never
sees a name-only RSS author or a `type="CDATA"` Atom content.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html import escape
from typing import Sequence

from feedgen.feed import FeedGenerator

from feedpub import __version__
from feedpub.config import FeedSpec, Settings
from feedpub.model import Entry
from feedpub.site import STYLESHEET_NAME

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET_NAME}"?>\n'.encode()


def content_html(entry: Entry, settings: Settings) -> str:
    """The full text as HTML paragraphs, ending with the credit line; every string escaped."""
    # quote=False: quotes need no escaping in element text, and readers show the text as is.
    parts = [f"<p>{escape(p, quote=False)}</p>" for p in entry.seed.paragraphs]
    credit = entry.credit
    if credit:
        publisher = entry.seed.publisher
        url = settings.sources.get(publisher) if publisher else None
        line = escape(credit, quote=False)
        if url:
            name = escape(publisher, quote=False)
            line = line[: line.rindex(name)] + f'<a href="{escape(url)}">{name}</a>'  # the publisher ends the line
        parts.append(f"<p><em>{line}</em></p>")
    return "\n".join(parts)


# The date in an id this program mints: tag:AUTHORITY,YYYY-MM-DD:SPECIFIC (RFC 4151 allows the
# month and day to be left out).
_TAG_DATE = re.compile(r"tag:[^,]*,(\d{4})(?:-(\d\d))?(?:-(\d\d))?:")


def feed_updated(entries: Sequence[Entry], feed_id: str) -> datetime:
    """The newest entry's updated time; for an empty feed, the day its id was minted, when the
    feed began (never the clock: the same record gives the same bytes)."""
    if entries:
        return max(e.updated for e in entries)
    match = _TAG_DATE.match(feed_id)
    if match is None:
        return EPOCH
    try:
        return datetime(int(match[1]), int(match[2] or 1), int(match[3] or 1), tzinfo=timezone.utc)
    except ValueError:
        return EPOCH


def _generator(spec: FeedSpec, entries: Sequence[Entry], settings: Settings, feed_id: str, self_name: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(spec.title)
    fg.description(spec.description)  # also Atom <subtitle>
    fg.author({"name": settings.site_title, "uri": settings.url("")})
    fg.link(href=settings.url(self_name), rel="self")
    fg.link(href=settings.url(""), rel="alternate")  # last: feedgen makes it the RSS channel <link>
    fg.language(settings.language)
    fg.generator("feedpub", version=__version__)
    fg.ttl(settings.ttl)
    updated = feed_updated(entries, feed_id)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    return fg


def _add_entry(fg: FeedGenerator, entry: Entry, settings: Settings, *, rss: bool) -> None:
    seed = entry.seed
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.guid(entry.id, permalink=False)
    fe.title(seed.title)
    fe.link(href=entry.link, rel="alternate", type="text/html")
    fe.published(entry.published)
    fe.updated(entry.updated)
    # RSS <description> is read as HTML by readers, Atom <summary> here is plain text.
    fe.summary(escape(seed.summary, quote=False) if rss else seed.summary)
    fe.content(content_html(entry, settings), type="html")
    if seed.category:
        fe.category(term=seed.category, label=seed.category)
    author = entry.author or settings.site_title
    if rss:
        fe.dc.dc_creator(author)
        if seed.publisher and seed.publisher != author:
            fe.dc.dc_contributor(seed.publisher)
        # RSS 2.0's <source url> is the feed the item came from: only a configured feed URL makes one.
        for name in (seed.publisher, seed.agency):
            if name and name in settings.source_feeds:
                fe.source(url=settings.source_feeds[name], title=name)
                break
    else:
        fe.author({"name": author, **_uri(settings, author)})
        if seed.publisher and seed.publisher != author:
            fe.contributor({"name": seed.publisher, **_uri(settings, seed.publisher)})


def _uri(settings: Settings, name: str) -> dict[str, str]:
    url = settings.sources.get(name)
    return {"uri": url} if url else {}


def _with_stylesheet(xml: bytes) -> bytes:
    """Insert the browser stylesheet PI after the XML declaration (readers ignore it)."""
    head, sep, rest = xml.partition(b"?>\n")
    return head + sep + _STYLESHEET_PI + rest


def render_rss(spec: FeedSpec, entries: Sequence[Entry], settings: Settings, feed_id: str) -> bytes:
    """RSS 2.0 with content:encoded and dc:creator, entries in the given order."""
    fg = _generator(spec, entries, settings, feed_id, f"{spec.name}.xml")
    fg.load_extension("dc", atom=False, rss=True)
    for entry in entries:
        _add_entry(fg, entry, settings, rss=True)
    return _with_stylesheet(fg.rss_str(pretty=True))


def render_atom(spec: FeedSpec, entries: Sequence[Entry], settings: Settings, feed_id: str) -> bytes:
    """Atom 1.0 (RFC 4287), entries in the given order."""
    fg = _generator(spec, entries, settings, feed_id, f"{spec.name}.atom")
    for entry in entries:
        _add_entry(fg, entry, settings, rss=False)
    return _with_stylesheet(fg.atom_str(pretty=True))
