"""OPML 2.0 subscription list (`feeds.opml`): every feed at once, for a reader's import.

Deterministic on purpose: OPML's `dateCreated`/`dateModified` are optional and would come
from the clock, so they are left out and the file changes only when the feeds do.
"""

from __future__ import annotations

from lxml import etree

from feedpub.config import Settings

OPML_NAME = "feeds.opml"


def render_opml(settings: Settings) -> bytes:
    """One `<outline type="rss">` per configured feed, pointing at its RSS file."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = settings.site_title
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for spec in settings.feeds:
        # lxml keeps attribute order as set and escapes every value.
        etree.SubElement(
            body,
            "outline",
            type="rss",
            version="RSS2",
            text=spec.title,
            title=spec.title,
            description=spec.description,
            language=settings.language,
            xmlUrl=settings.url(f"{spec.name}.xml"),
            htmlUrl=settings.url(""),
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
