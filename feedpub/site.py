"""HTML outputs: the front page, the item pages (each entry's permalink) and the feeds' stylesheet.

Every seed-derived string goes through html.escape; the pages carry no script.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from typing import Sequence
from urllib.parse import quote

from feedpub.config import FeedSpec, Settings
from feedpub.model import Entry
from feedpub.opml import OPML_NAME

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


def _time(entry: Entry) -> str:
    """The published time as a <time> element; HTML allows at most three digits of a second."""
    dt = entry.published
    stamp = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    return f'<time datetime="{escape(stamp)}">{escape(human_date(entry))}</time>'


# Languages written right to left (primary subtags): the page's own words run that way.
_RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "syr", "ug", "ur", "yi"})


def _html_open(settings: Settings) -> str:
    """The <html> tag. Seed text carries dir="auto" wherever it appears: an Arabic headline on
    an English site (or the reverse) runs its own way."""
    language = settings.language
    rtl = ' dir="rtl"' if language.split("-")[0].lower() in _RTL_LANGUAGES else ""
    return f'<html lang="{escape(language)}"{rtl}>'


def render_item_page(entry: Entry, settings: Settings) -> bytes:
    """The entry's own page: headline, date, credit line and body, all escaped. Its links are
    relative (but the canonical one), so the site works wherever it is served from."""
    seed = entry.seed
    credit = entry.credit
    meta = _time(entry)
    if credit:
        meta += f' · <span dir="auto">{escape(credit)}</span>'
    body = "\n".join(f'<p dir="auto">{escape(p)}</p>' for p in seed.paragraphs)
    category = f'<p class="meta" dir="auto">{escape(seed.category)}</p>\n' if seed.category else ""
    up = "../" * settings.item_path(seed.key).count("/")
    return (
        "<!DOCTYPE html>\n"
        f"{_html_open(settings)}\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(seed.title)} · {escape(settings.site_title)}</title>\n"
        f'<link rel="canonical" href="{escape(entry.link)}">\n'
        f'<link rel="alternate" type="application/rss+xml" title="{escape(settings.site_title)}" '
        f'href="{up}latest.xml">\n'
        f"<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<article>\n"
        f'{category}<h1 dir="auto">{escape(seed.title)}</h1>\n'
        f'<p class="meta">{meta}</p>\n{body}\n'
        + (f'<p class="credit" dir="auto">{escape(credit)}</p>\n' if credit else "")
        + "</article>\n"
        f'<footer><a href="{up or "./"}">{escape(settings.site_title)}</a></footer>\n'
        "</body>\n</html>\n"
    ).encode("utf-8")


# (suffix, media type, label): the three files every feed is published as.
FEED_FORMATS = (
    ("xml", "application/rss+xml", "RSS"),
    ("atom", "application/atom+xml", "Atom"),
    ("json", "application/feed+json", "JSON Feed"),
)

_INDEX_CSS = _PAGE_CSS + (
    "ul.feeds,ol.headlines{padding-left:1.2rem}ul.feeds li{margin:.4rem 0}"
    "ol.headlines li{margin:.7rem 0}.formats a{margin-right:.6rem}"
)


def headline_feed(feeds: Sequence[tuple[FeedSpec, Sequence[Entry]]]) -> tuple[FeedSpec, Sequence[Entry]] | None:
    """The feed whose items the front page lists: the one of every category, else the first."""
    for spec, entries in feeds:
        if spec.categories is None:
            return spec, entries
    return feeds[0] if feeds else None


def render_index(feeds: Sequence[tuple[FeedSpec, Sequence[Entry]]], settings: Settings) -> bytes:
    """The site's front page: every feed in every format, autodiscovery links, the latest headlines.

    `feeds` pairs each feed with the entries it publishes, in feed order.
    """
    site = escape(settings.site_title)
    discovery = []
    listing = []
    for spec, _ in feeds:
        links = []
        for suffix, media_type, label in FEED_FORMATS:
            href = escape(f"{spec.name}.{suffix}")  # relative: the site works wherever it is served from
            discovery.append(
                f'<link rel="alternate" type="{media_type}" title="{escape(spec.title)} ({label})" href="{href}">'
            )
            links.append(f'<a href="{href}">{label}</a>')
        listing.append(
            f"<li><strong>{escape(spec.title)}</strong> — {escape(spec.description)}<br>\n"
            f'<span class="formats">{" ".join(links)}</span></li>'
        )
    chosen = headline_feed(feeds)
    headlines = [_headline(entry, settings) for entry in (chosen[1] if chosen else ())]
    headline_block = (
        f'<ol class="headlines">\n{chr(10).join(headlines)}\n</ol>' if headlines else "<p>No stories yet.</p>"
    )
    title = escape(chosen[0].title) if chosen else "Headlines"
    return (
        "<!DOCTYPE html>\n"
        f"{_html_open(settings)}\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{site}</title>\n"
        f'<meta name="description" content="{escape(settings.site_description)}">\n'
        + "".join(line + "\n" for line in discovery)
        + f"<style>{_INDEX_CSS}</style>\n</head>\n<body>\n<header>\n"
        f"<h1>{site}</h1>\n<p>{escape(settings.site_description)}</p>\n</header>\n<main>\n"
        f"<section>\n<h2>{title}</h2>\n{headline_block}\n</section>\n"
        '<section>\n<h2>Subscribe</h2>\n<p>Copy a feed\'s address into your feed reader. '
        "RSS and Atom work in every reader; JSON Feed in newer ones.</p>\n"
        f'<ul class="feeds">\n{chr(10).join(listing)}\n</ul>\n'
        f'<p>All feeds at once: <a href="{OPML_NAME}">{OPML_NAME}</a> '
        "(OPML, for your reader\'s import).</p>\n</section>\n</main>\n"
        "</body>\n</html>\n"
    ).encode("utf-8")


def _headline(entry: Entry, settings: Settings) -> str:
    meta = _time(entry)
    if entry.credit:
        meta += f' · <span class="credit" dir="auto">{escape(entry.credit)}</span>'
    page = escape(quote(settings.item_path(entry.seed.key)))
    return f'<li><a href="{page}" dir="auto">{escape(entry.seed.title)}</a><br>\n<span class="meta">{meta}</span></li>'


def render_stylesheet(settings: Settings) -> bytes:
    """The XSLT 1.0 stylesheet (`feed.xsl`) a browser applies to the RSS and Atom feeds.

    It reads everything it shows from the feed itself, so it is the same for every site;
    `settings` is taken for symmetry with the other renderers.
    """
    return files("feedpub").joinpath(STYLESHEET_NAME).read_bytes()
