"""`feedpub check`: validate RSS 2.0, Atom 1.0 and JSON Feed 1.1 files offline.

The rules follow what the W3C Feed Validation Service enforces for the things a publisher can
get wrong, plus feedpub's own contract (the self link is the feed's public URL). Each problem
names the file, the line where the XML has one, the item and the fix. Levels: "error" where a
spec says MUST or readers break, "warning" where readers cope but differ.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_tz
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from feedpub.config import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
XHTML = "{http://www.w3.org/1999/xhtml}"
SIZE_LIMIT = 1024 * 1024  # readers and aggregators commonly give up on feeds past 1 MB

_RFC822 = re.compile(
    r"^(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{2}(?:\d{2})? \d{2}:\d{2}(?::\d{2})? (?:UT|GMT|[ECMP][SD]T|[A-IK-Z]|[+-]\d{4})$"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)\b[^<>]*>")
_EMAIL = re.compile(r"^[^@\s()<>]+@[^@\s()<>]+\.[^@\s()<>]+(?: \(.*\))?$")
_URL_ATTRS = ("href", "src", "poster", "cite", "action", "background")
_ATOM_TYPES = ("text", "html", "xhtml")


@dataclass(frozen=True)
class Problem:
    """One finding. `item` is the entry's id/guid, else its 1-based position, else None (the feed)."""

    file: str
    item: str | int | None
    level: str  # "error" or "warning"
    message: str
    line: int | None = None

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.item is not None:
            parts.append(f"item {self.item}" if isinstance(self.item, int) else self.item)
        if self.level != "error":
            parts.append(self.level)
        parts.append(self.message)
        return ": ".join(parts)


def check_files(paths: Iterable[Path], settings: Settings) -> list[Problem]:
    """Check every file; feeds are told apart by content (JSON object, <rss>, Atom <feed>)."""
    problems: list[Problem] = []
    for path in paths:
        problems.extend(check_bytes(path, settings))
    return problems


def check_bytes(path: Path, settings: Settings, data: bytes | None = None) -> list[Problem]:
    """Check one feed file (its bytes may be given); the public URL comes from its place in the output folder."""
    report = _Report(str(path), settings.url(_public_name(path, settings.out_dir)))
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            report.error(None, f"cannot read: {e.strerror}")
            return report.problems
    if len(data) > SIZE_LIMIT:
        report.warning(
            None, f"{len(data) / 1048576:.1f} MB: many readers refuse feeds past 1 MB; lower the feed's limit"
        )
    try:
        if path.suffix == ".json" or data.lstrip()[:1] == b"{":
            _check_json(data, report)
        else:
            _check_xml(data, report)
    except Exception as e:
        # Last resort, for input no rule below foresaw: one odd file must not stop the others
        # being checked, and what was found before it still counts.
        report.error(None, f"could not check: {type(e).__name__}: {e}")
    return report.problems


def _public_name(path: Path, out_dir: Path) -> str:
    # A symlink loop raises RuntimeError here before Python 3.13, a deleted working directory
    # OSError; reading the file then says what is wrong ("cannot read: Too many levels of ...").
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):
        return path.name


class _Report:
    def __init__(self, file: str, public_url: str):
        self.file = file
        self.public_url = public_url
        self.problems: list[Problem] = []

    def error(self, item: str | int | None, message: str, el: Any = None) -> None:
        self.problems.append(Problem(self.file, item, "error", message, getattr(el, "sourceline", None)))

    def warning(self, item: str | int | None, message: str, el: Any = None) -> None:
        self.problems.append(Problem(self.file, item, "warning", message, getattr(el, "sourceline", None)))


# ---- shared rules -------------------------------------------------------------------------


def _is_absolute(url: str) -> bool:
    """Whether `url` has a scheme, and a host if it is http(s); False if it cannot be parsed at all."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if not parts.scheme:
        return False
    return bool(parts.netloc) if parts.scheme in ("http", "https") else True


def _invalid_url(report: _Report, item, what: str, url: str, el=None) -> bool:
    """Report a URL urllib cannot parse (an unclosed "[" in the host, a host that NFKC turns into
    "/", "?", "#", "@" or ":"); True if it was one. Readers built on such parsers fail on it too, so
    it is a finding of its own, not a crash. `what` names the URL and shows it."""
    try:
        urlsplit(url.strip())
    except ValueError as e:
        report.error(item, f"{what} is not a valid URL: {e}", el)
        return True
    return False


def _url(report: _Report, item, what: str, url: str | None, el=None) -> None:
    if url is None or _invalid_url(report, item, f"{what} {url!r}", url, el):
        return
    if not _is_absolute(url):
        report.error(item, f"{what} {url!r} is a relative URL; readers need absolute ones (set base_url)", el)


def _html_urls(report: _Report, item, what: str, html: str | None, el=None) -> None:
    """Relative href/src inside HTML content: readers resolve them against their own pages."""
    if not html or not html.strip():
        return
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return
    _element_urls(report, item, what, root.iter(), el)


def _element_urls(report: _Report, item, what: str, elements, el=None) -> None:
    for node in elements:
        if not isinstance(node.tag, str):
            continue
        for attr in _URL_ATTRS:
            value = node.get(attr)
            if value is None:
                continue
            shown = f"{what}: <{etree.QName(node).localname} {attr}={value!r}>"
            if not _invalid_url(report, item, shown, value, el) and not _is_absolute(value):
                report.error(item, f"{shown} is a relative URL; make it absolute", el)


def _title_markup(report: _Report, item, title: str | None, el=None) -> None:
    match = _TAG.search(title or "")
    if match:
        report.warning(item, f"title contains HTML markup (<{match.group(1)}>); titles must be plain text", el)


def _rfc822(report: _Report, item, name: str, value: str | None, el=None) -> None:
    if value is None:
        return
    text = value.strip()
    parsed = parsedate_tz(text) if _RFC822.match(text) else None
    if parsed is None:
        report.error(item, f"<{name}> {text!r} is not an RFC 822 date such as 'Fri, 17 Jan 2025 06:45:00 +0000'", el)
        return
    try:
        day = datetime(*parsed[:6])
    except ValueError:
        report.error(item, f"<{name}> {text!r} is not a real date", el)
        return
    stated = _RFC822.match(text).group("dow")
    if stated and stated != day.strftime("%a"):
        report.error(item, f"<{name}> {text!r}: {day:%d %b %Y} is a {day:%a}, not a {stated}", el)


def _rfc3339(report: _Report, item, name: str, value: Any, el=None) -> None:
    if value is None:
        return
    text = value.strip() if isinstance(value, str) else value
    ok = isinstance(text, str) and _RFC3339.match(text)
    if ok:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            ok = False
    if not ok:
        report.error(item, f"{name} {text!r} is not an RFC 3339 date such as '2025-01-17T06:45:00Z'", el)


def _duplicate(report: _Report, seen: dict[str, int], item, name: str, value: str | None, index: int, el=None):
    if value is None:
        return
    if value in seen:
        report.error(item, f"duplicate {name} (also item {seen[value]}); ids must be unique within a feed", el)
    else:
        seen[value] = index


def _self_link(report: _Report, href: str | None, el=None, name: str = 'atom:link rel="self"') -> None:
    if href is None:
        report.error(None, f"no {name}; add one with the feed's public URL {report.public_url}", el)
    elif href.strip() != report.public_url:
        report.error(
            None, f"{name} is {href!r}, but the feed's public URL is {report.public_url!r} (check base_url)", el
        )


# ---- XML: RSS 2.0 and Atom 1.0 -------------------------------------------------------------


def _check_xml(data: bytes, report: _Report) -> None:
    # No entity expansion, no network: a feed file is data, never instructions.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        report.problems.append(Problem(report.file, None, "error", f"not well-formed XML: {e.msg}", e.lineno))
        return
    if root.tag == "rss":
        _check_rss(root, report)
    elif root.tag == f"{ATOM}feed":
        _check_atom(root, report)
    else:
        report.error(None, f"<{etree.QName(root).localname}> is not an RSS 2.0 <rss> or Atom 1.0 <feed>", root)


def _text(el) -> str | None:
    return None if el is None else (el.text or "")


def _check_rss(rss, report: _Report) -> None:
    if rss.get("version") != "2.0":
        report.error(None, f'<rss version="{rss.get("version")}">: feedpub check knows RSS 2.0 only', rss)
    channel = rss.find("channel")
    if channel is None:
        report.error(None, "no <channel>", rss)
        return
    for name in ("title", "link", "description"):
        if channel.find(name) is None:
            report.error(None, f"channel has no <{name}>, which RSS 2.0 requires", channel)
    _title_markup(report, None, channel.findtext("title"), channel.find("title"))
    _url(report, None, "channel <link>", channel.findtext("link"), channel.find("link"))
    for name in ("pubDate", "lastBuildDate"):
        _rfc822(report, None, name, channel.findtext(name), channel.find(name))
    for link in channel.findall(f"{ATOM}link"):
        _url(report, None, "atom:link href", link.get("href"), link)
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    _self_link(report, None if self_link is None else self_link.get("href"), channel if self_link is None else self_link)

    seen: dict[str, int] = {}
    for index, item in enumerate(channel.findall("item"), 1):
        guid = item.find("guid")
        label: str | int = (guid.text or "").strip() if guid is not None and (guid.text or "").strip() else index
        if item.find("title") is None and item.find("description") is None:
            report.error(label, "item has neither <title> nor <description>", item)
        _title_markup(report, label, item.findtext("title"), item.find("title"))
        _url(report, label, "<link>", item.findtext("link"), item.find("link"))
        _url(report, label, "<comments>", item.findtext("comments"), item.find("comments"))
        for name, attr in (("enclosure", "url"), ("source", "url")):
            for el in item.findall(name):
                _url(report, label, f"<{name} {attr}>", el.get(attr), el)
        _rfc822(report, label, "pubDate", item.findtext("pubDate"), item.find("pubDate"))
        if guid is not None:
            _duplicate(report, seen, label, "guid", (guid.text or "").strip(), index, guid)
            if guid.get("isPermaLink", "true") == "true":
                text = guid.text or ""
                if not _invalid_url(report, label, f"guid {text!r}", text, guid) and not _is_absolute(text):
                    report.error(label, 'guid is not a URL: mark it isPermaLink="false"', guid)
        author = item.find("author")
        if author is not None and not _EMAIL.match((author.text or "").strip()):
            report.error(
                label,
                f"<author> {author.text!r} must be an e-mail address; credit a name with dc:creator",
                author,
            )
        _html_urls(report, label, "description", item.findtext("description"), item.find("description"))
        _html_urls(report, label, "content:encoded", item.findtext(CONTENT_ENCODED), item.find(CONTENT_ENCODED))


def _check_atom(feed, report: _Report) -> None:
    for name in ("id", "title", "updated"):
        if feed.find(ATOM + name) is None:
            report.error(None, f"feed has no <{name}>, which Atom requires", feed)
    _atom_common(feed, None, report)
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    _self_link(report, None if self_link is None else self_link.get("href"), feed if self_link is None else self_link)
    feed_author = feed.find(f"{ATOM}author") is not None

    seen: dict[str, int] = {}
    for index, entry in enumerate(feed.findall(f"{ATOM}entry"), 1):
        entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
        label: str | int = entry_id or index
        for name in ("id", "title", "updated"):
            if entry.find(ATOM + name) is None:
                report.error(label, f"entry has no <{name}>, which Atom requires", entry)
        _atom_common(entry, label, report)
        _duplicate(report, seen, label, "id", entry_id or None, index, entry.find(f"{ATOM}id"))
        if not feed_author and entry.find(f"{ATOM}author") is None and entry.find(f"{ATOM}source/{ATOM}author") is None:
            report.error(label, "entry has no <author> and the feed has none either", entry)
        content = entry.find(f"{ATOM}content")
        if content is None:
            # A link without rel is an alternate link (RFC 4287 4.2.7.2).
            if not any(link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link")):
                report.error(label, 'entry has neither <content> nor a <link rel="alternate">', entry)
            continue
        kind = content.get("type", "text")
        if kind not in _ATOM_TYPES and not re.fullmatch(r"[\w.+-]+/[\w.+-]+", kind):
            report.error(label, f'<content type="{kind}"> is not text, html, xhtml or a media type', content)
        elif kind == "html":
            _html_urls(report, label, "content", content.text, content)
        elif kind == "xhtml":
            _element_urls(report, label, "content", content.iter(f"{XHTML}*"), content)


def _atom_common(el, label, report: _Report) -> None:
    """Rules shared by <feed> and <entry>: id is an IRI, dates, links, text constructs."""
    node = el.find(f"{ATOM}id")
    if node is not None:
        text = node.text or ""
        if not _invalid_url(report, label, f"id {node.text!r}", text, node) and not _is_absolute(text):
            report.error(label, f"id {node.text!r} is not an absolute IRI (use a tag: or http URI)", node)
    for name in ("updated", "published"):
        node = el.find(ATOM + name)
        if node is not None:
            _rfc3339(report, label, f"<{name}>", node.text or "", node)
    for link in el.findall(f"{ATOM}link"):
        _url(report, label, "<link href>", link.get("href"), link)
    for name in ("title", "subtitle", "summary", "rights"):
        node = el.find(ATOM + name)
        if node is None:
            continue
        kind = node.get("type", "text")
        if kind not in _ATOM_TYPES:
            report.error(label, f'<{name} type="{kind}"> must be text, html or xhtml', node)
        if name == "title":
            markup = etree.tostring(node[0], encoding="unicode") if kind == "xhtml" and len(node) else node.text
            _title_markup(report, label, markup, node)


# ---- JSON Feed 1.1 -------------------------------------------------------------------------


def _check_json(data: bytes, report: _Report) -> None:
    try:
        feed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        report.error(None, f"not UTF-8 (byte {e.start}); JSON Feed must be UTF-8")
        return
    except json.JSONDecodeError as e:
        report.problems.append(Problem(report.file, None, "error", f"not valid JSON: {e.msg}", e.lineno))
        return
    except RecursionError:
        # json recurses once per level; a JSON Feed needs four or five.
        report.error(None, "could not check: arrays or objects nested too deeply to read")
        return
    except ValueError:
        # The only other ValueError json.loads raises: Python refuses to read an integer longer
        # than sys.get_int_max_str_digits() (a guard against quadratic-time conversion).
        limit = sys.get_int_max_str_digits()
        report.error(None, f"could not check: a number has more than {limit} digits, too long to read")
        return
    if not isinstance(feed, dict):
        report.error(None, "not a JSON Feed: the top level must be an object")
        return
    version = feed.get("version")
    if version is None:
        report.error(None, 'no "version"; JSON Feed 1.1 requires "https://jsonfeed.org/version/1.1"')
    elif not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        report.error(None, f'"version" {version!r} is not a JSON Feed version URL')
    if not isinstance(feed.get("title"), str) or not feed["title"].strip():
        report.error(None, 'no "title", which JSON Feed requires')
    for key in ("home_page_url", "feed_url", "icon", "favicon", "next_url"):
        _url(report, None, f'"{key}"', _string(feed.get(key)))
    _self_link(report, _string(feed.get("feed_url")), name='"feed_url"')
    items = feed.get("items")
    if not isinstance(items, list):
        report.error(None, 'no "items" list, which JSON Feed requires')
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            report.error(index, "item is not an object")
            continue
        item_id = item.get("id")
        label: str | int = item_id if isinstance(item_id, str) and item_id else index
        if item_id is None or item_id == "":
            report.error(label, 'item has no "id"')
        elif not isinstance(item_id, str):
            report.error(label, f'"id" {item_id!r} must be a string')
        _duplicate(report, seen, label, "id", item_id if isinstance(item_id, str) else None, index)
        if not isinstance(item.get("content_html"), str) and not isinstance(item.get("content_text"), str):
            report.error(label, 'item has neither "content_html" nor "content_text"')
        for key in ("url", "external_url", "image", "banner_image"):
            _url(report, label, f'"{key}"', _string(item.get(key)))
        for key in ("date_published", "date_modified"):
            _rfc3339(report, label, f'"{key}"', item.get(key))
        _title_markup(report, label, _string(item.get("title")))
        _html_urls(report, label, "content_html", _string(item.get("content_html")))
        authors = item.get("authors", [])
        if not isinstance(authors, list) or not all(isinstance(a, dict) and a for a in authors):
            report.error(label, '"authors" must be a list of objects with a "name", "url" or "avatar"')


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
