"""HTML outputs: the item page (each entry's permalink).

Every seed-derived string goes through html.escape; the pages carry no script.
"""

from __future__ import annotations

from html import escape

from feedpub.config import Settings
from feedpub.model import Entry

STYLESHEET_NAME = "feed.xsl"

_PAGE_CSS = (
    "body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1rem;color:#222}"
    "h1{font-size:1.6rem;line-height:1.25}.meta{color:#555;font-size:.95rem}"
    "a{color:#0645ad}footer{margin-top:2rem;border-top:1px solid #ddd;padding-top:.5rem;font-size:.9rem}"
)


def human_date(entry: Entry) -> str:
    """'2025-01-17 06:45 UTC' or with the stated offset: what a person reads next to a headline."""
    dt = entry.published
    offset = dt.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{dt:%Y-%m-%d %H:%M} {zone}"


def render_item_page(entry: Entry, settings: Settings) -> bytes:
    """The entry's own page: headline, date, credit line and body, all escaped."""
    seed = entry.seed
    credit = entry.credit
    meta = f'<time datetime="{escape(entry.published.isoformat())}">{escape(human_date(entry))}</time>'
    if credit:
        meta += f" · {escape(credit)}"
    body = "\n".join(f"<p>{escape(p)}</p>" for p in seed.paragraphs)
    category = f'<p class="meta">{escape(seed.category)}</p>\n' if seed.category else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(settings.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(seed.title)} · {escape(settings.site_title)}</title>\n"
        f'<link rel="canonical" href="{escape(entry.link)}">\n'
        f'<link rel="alternate" type="application/rss+xml" title="{escape(settings.site_title)}" '
        f'href="{escape(settings.url("latest.xml"))}">\n'
        f"<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<article>\n"
        f"{category}<h1>{escape(seed.title)}</h1>\n"
        f'<p class="meta">{meta}</p>\n{body}\n'
        + (f'<p class="credit">{escape(credit)}</p>\n' if credit else "")
        + "</article>\n"
        f'<footer><a href="{escape(settings.url(""))}">{escape(settings.site_title)}</a></footer>\n'
        "</body>\n</html>\n"
    ).encode("utf-8")
