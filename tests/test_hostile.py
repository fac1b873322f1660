"""Hostile and random input: whatever a seed holds, the reader answers with a Seed or a named skip,
and every output is well-formed, read back by lxml and feedparser, and carries no executable markup.

Property tests (hypothesis) drive the reader with arbitrary bytes and seed-shaped documents, and
the writers with arbitrary (XML-legal) text; a seed full of markup goes through a real build.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from lxml import etree

from feedpub import feeds as feed_writer
from feedpub import site
from feedpub.config import DEFAULT_FEEDS, Settings, load_settings
from feedpub.jsonfeed import render_json_feed
from feedpub.model import Entry, Seed, SeedSkipped
from feedpub.publish import build
from feedpub.seeds import parse_seed

BASE_URL = "https://news.example.org/"
SETTINGS = Settings(base_url=BASE_URL, site_title="Hostile news", sources={"VOA": "https://www.voanews.com/"},
                    feeds=DEFAULT_FEEDS)
CLOCK = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
FEED_ID = "tag:news.example.org,2025-03-10:feed/latest"
SEED_PATH = Path("seeds/007_0123456789abcdef.txt")
# XML 1.0 Char production: what any text a feed carries must stay within.
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcset"}
HOSTILE_SCHEMES = ("javascript:", "vbscript:", "data:")
ANY_SETTINGS = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- what "inert" means ----------------------------------------------------------------------------


def executable_markup(doc: lxml.html.HtmlElement) -> list[str]:
    """Everything in a parsed HTML tree that a browser would run: script-like elements, on*
    attributes, javascript:/vbscript:/data: URLs (control characters and spaces ignored, as
    browsers ignore them)."""
    found = [f"<{el.tag}>" for el in doc.iter("script", "iframe", "object", "embed", "frame", "applet", "base")]
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{el.tag} {name}>")
            compact = re.sub(r"[\x00-\x20]+", "", value).lower()
            if name.lower() in URL_ATTRS and compact.startswith(HOSTILE_SCHEMES):
                found.append(f"<{el.tag} {name}={value!r}>")
        if el.tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
    return found


def html_fragment(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(text or "<p></p>", create_parent="div")


def assert_inert_page(data: bytes, where: str) -> lxml.html.HtmlElement:
    doc = lxml.html.document_fromstring(data.decode("utf-8"))
    assert executable_markup(doc) == [], f"{where}: executable markup"
    return doc


def assert_feeds_read_back(rss: bytes, atom: bytes, js: bytes, entry: Entry) -> None:
    """lxml and feedparser read the feeds; the title comes back exactly; the HTML is inert."""
    seed = entry.seed
    for name, data in (("rss", rss), ("atom", atom)):
        root = etree.fromstring(data, SAFE_PARSER)
        assert root.getroottree().docinfo.doctype == "", f"{name}: a DOCTYPE in the output"
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, f"{name}: {parsed.get('bozo_exception')!r}"
        assert len(parsed.entries) == 1 and parsed.entries[0].link == entry.link
        assert parsed.entries[0].id == entry.id
    rss_root = etree.fromstring(rss, SAFE_PARSER)
    assert rss_root.findtext("channel/item/title") == seed.title
    content = rss_root.findtext("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded")
    assert executable_markup(html_fragment(content)) == [], "rss content:encoded"
    assert executable_markup(html_fragment(rss_root.findtext("channel/item/description"))) == [], "rss description"
    atom_ns = "{http://www.w3.org/2005/Atom}"
    atom_root = etree.fromstring(atom, SAFE_PARSER)
    assert atom_root.findtext(f"{atom_ns}entry/{atom_ns}title") == seed.title
    assert atom_root.findtext(f"{atom_ns}entry/{atom_ns}summary") == seed.summary
    assert executable_markup(html_fragment(atom_root.findtext(f"{atom_ns}entry/{atom_ns}content"))) == []
    item = json.loads(js.decode("utf-8"))["items"][0]
    assert item["title"] == seed.title and item["summary"] == seed.summary
    assert executable_markup(html_fragment(item["content_html"])) == [], "json content_html"
    paragraphs = [p.text_content() for p in html_fragment(item["content_html"]).iter("p")]
    assert paragraphs[: len(seed.paragraphs)] == list(seed.paragraphs)


def entry_of(seed: Seed) -> Entry:
    published = seed.date or CLOCK
    return Entry(seed, f"tag:news.example.org,2025-03-10:{seed.key}", published, published + timedelta(hours=1),
                 SETTINGS.url(SETTINGS.item_path(seed.key)))


def render_everything(entry: Entry) -> dict[str, bytes]:
    spec = SETTINGS.feed("latest")
    return {
        "latest.xml": feed_writer.render_rss(spec, [entry], SETTINGS, FEED_ID),
        "latest.atom": feed_writer.render_atom(spec, [entry], SETTINGS, FEED_ID),
        "latest.json": render_json_feed(spec, [entry], SETTINGS),
        "item.html": site.render_item_page(entry, SETTINGS),
        "index.html": site.render_index([(spec, [entry])], SETTINGS),
    }


def check_outputs(seed: Seed) -> None:
    entry = entry_of(seed)
    out = render_everything(entry)
    assert_feeds_read_back(out["latest.xml"], out["latest.atom"], out["latest.json"], entry)
    page = assert_inert_page(out["item.html"], "item page")
    assert page.findtext(".//h1") == seed.title
    assert [p.text_content() for p in page.iter("p")][-len(seed.paragraphs) - (1 if entry.credit else 0):][
        : len(seed.paragraphs)] == list(seed.paragraphs)
    index = assert_inert_page(out["index.html"], "index")
    page_link = urljoin(SETTINGS.url(), next(a.get("href") for a in index.iter("a") if a.get("dir") == "auto"))
    assert page_link == entry.link  # the index links its headline relatively, to the entry's page
    assert [a.text_content() for a in index.iter("a") if a.get("dir") == "auto"] == [seed.title]


# --- strategies ------------------------------------------------------------------------------------

HOSTILE_SNIPPETS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "javascript:alert(document.cookie)", "&#0;", "&#x0;", "&amp;", "&lt;script&gt;", "]]>", "<![CDATA[",
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', "&a;", "<?xml version='1.0'?>", "<!-- -->", "\u2028", "\u0085",
    "\ufeff", "\u202e", "\x00", "\x1b[31m", "\r", "\t", "'\"", "<svg onload=alert(1)>", "{{7*7}}", "%s%n",
    "<style>*{}</style>", "<iframe src=//evil>", "\U0001F600", "\ud800",
]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(HOSTILE_SNIPPETS)
LINE = st.lists(TEXT, min_size=1, max_size=4).map("".join)
HEADERS = st.sampled_from(["Flash News", "World", "Breaking News", "Business", ""]) | LINE
AGENCIES = st.sampled_from(["Reuters: ", "AP: ", "AFP: ", "", "Analysis: "])
DATES = st.sampled_from(["", "Date: 2024-05-24 10:15 UTC\n\n", "Date: 31/12/2024\n\n", "Date: Feb 30 2024\n\n",
                         "Date: 9999-99-99\n\n", "Date: <script>\n\n"])
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])


@st.composite
def seed_documents(draw) -> bytes:
    """A document shaped like a scraped seed, with arbitrary text in every part and any encoding."""
    headline = draw(LINE)
    agency = draw(AGENCIES)
    paragraphs = draw(st.lists(LINE, min_size=0, max_size=5))
    publisher = draw(st.sampled_from(["", "/VOA", "/BBC", "/<b>X</b>"]))
    nl = draw(NEWLINES)
    text = (f"{draw(HEADERS)}\n\n\n{agency}{headline}\n\n{agency}{headline}\n\n{draw(DATES)}"
            + "\n\n".join(paragraphs) + publisher + "\n\n\nLatest news").replace("\n", nl)
    return text.encode(draw(ENCODINGS), errors="replace")


@st.composite
def mutated_documents(draw) -> bytes:
    """A well-formed seed with random bytes spliced in, cut short or repeated."""
    data = bytearray(b"Flash News\n\n\nReuters: A headline\n\nReuters: A headline\n\nDate: 2024-05-24 10:15 UTC\n\n"
                     b"First paragraph of the story.\n\nSecond paragraph./VOA\n\n\nLatest news")
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=12))
    return bytes(data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data)


def outcome(data: bytes) -> Seed | SeedSkipped:
    """The reader's answer; any exception other than SeedSkipped fails the test that calls it."""
    try:
        return parse_seed(data, path=SEED_PATH)
    except SeedSkipped as e:
        return e


def assert_clean_seed(seed: Seed) -> None:
    for value in (seed.title, seed.summary, seed.category, seed.agency, seed.publisher, *seed.paragraphs):
        assert value is None or not XML_ILLEGAL.search(value), f"XML-illegal character in {value!r}"
    assert seed.title.strip() and seed.paragraphs


# --- the reader ------------------------------------------------------------------------------------


@ANY_SETTINGS
@given(st.binary(max_size=2048))
def test_any_bytes_give_a_seed_or_a_named_skip(data):
    result = outcome(data)
    if isinstance(result, SeedSkipped):
        assert result.reason and str(result) == f"{SEED_PATH}: {result.reason}, skipped"
    else:
        assert_clean_seed(result)


@ANY_SETTINGS
@given(mutated_documents())
def test_a_damaged_seed_gives_a_seed_or_a_named_skip(data):
    result = outcome(data)
    if isinstance(result, Seed):
        assert_clean_seed(result)
    else:
        assert result.reason


# --- the writers -----------------------------------------------------------------------------------


@ANY_SETTINGS
@given(seed_documents())
def test_any_seed_the_reader_gives_is_published_well_formed_and_inert(data):
    """Whatever a seed-shaped document holds, RSS, Atom, JSON, the item page and the index read
    back (lxml, feedparser bozo == 0) with the reader's text, and carry no executable markup."""
    result = outcome(data)
    if isinstance(result, SeedSkipped):
        return
    assert_clean_seed(result)
    check_outputs(result)


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1, max_size=80) \
    .map(lambda s: XML_ILLEGAL.sub("", s)).filter(lambda s: s.strip() != "")


@ANY_SETTINGS
@given(title=XML_TEXT | st.sampled_from(HOSTILE_SNIPPETS[:14]),
       paragraphs=st.lists(XML_TEXT | st.sampled_from(HOSTILE_SNIPPETS[:14]), min_size=1, max_size=3),
       agency=st.none() | XML_TEXT, publisher=st.none() | st.just("VOA") | XML_TEXT, category=st.none() | XML_TEXT,
       key=st.from_regex(r"[0-9a-f]{16}", fullmatch=True))
def test_any_entry_gives_well_formed_inert_outputs(title, paragraphs, agency, publisher, category, key):
    """An Entry built directly from arbitrary XML-legal text (the Seed contract), no reader involved."""
    seed = Seed(SEED_PATH, key, 7, category, title, agency, publisher, None, tuple(paragraphs), paragraphs[0][:300])
    check_outputs(seed)


# --- a seed full of markup, through a real build -----------------------------------------------------

BOMB = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><x>&d;&d;&d;&d;&d;&d;</x>')
MARKUP_SEEDS = {
    "001_aaaaaaaaaaaaaaa1.txt": (
        "Flash News\n\n\nReuters: <script>alert('title')</script> Minister <b onmouseover=alert(1)>resigns</b>\n\n"
        "Reuters: <script>alert('title')</script> Minister <b onmouseover=alert(1)>resigns</b>\n\n"
        "Date: 2025-03-01 09:00 UTC\n\n"
        "First <img src=x onerror=alert(2)> paragraph with a <a href=\"javascript:alert(3)\">link</a> and "
        "<iframe src=\"https://evil.example/\"></iframe> in it.\n\n"
        f"Entity bomb: {BOMB} and a NUL reference &#0; and &#x0; then &amp; and &lt;script&gt;.\n\n"
        "CDATA games: <![CDATA[ <script>alert(4)</script> ]]> and ]]> alone, <?php echo 1; ?>.\n\n"
        "<svg onload=alert(5)><style>body{background:url(javascript:alert(6))}</style></svg>"
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(7)\">./VOA\n\n\nLatest news\n"),
    "002_aaaaaaaaaaaaaaa2.txt": (
        "World\n\n\nAFP: javascript:alert(8)\n\nAFP: javascript:alert(8)\n\n"
        "GENEVA, March 3, 2025 (AFP) - A dateline, then \"quotes\" & 'apostrophes' and <!-- a comment --> "
        "and a right-to-left \u202e override and a zero-width\u200b space.\n\n"
        "Control characters \x01\x02\x1b[31m, a C1 \x85 and \ufffe are removed by the reader./<script>BBC</script>\n"),
}
HOSTILE_TEXT = ["<script>alert('title')</script>", "javascript:alert(8)", BOMB[:40], "&#0;", "<![CDATA[", "]]>"]


@pytest.fixture(scope="module")
def markup_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("markup")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in MARKUP_SEEDS.items():
        (seeds / name).write_text(text, encoding="utf-8")
    settings = load_settings(root=root, env={}, overrides={
        "seeds_dir": seeds, "out_dir": root / "out", "record_path": root / "rec.jsonl", "base_url": BASE_URL})
    report = build(settings, now=CLOCK, workers=1)
    assert report.skipped == [] and report.entries == {"flash": 1, "latest": 2}
    return root / "out"


def test_markup_in_a_seed_is_inert_text_in_every_output(markup_site):
    files = {p.relative_to(markup_site).as_posix(): p.read_bytes() for p in markup_site.rglob("*") if p.is_file()}
    assert {"flash.xml", "flash.atom", "flash.json", "latest.xml", "latest.atom", "latest.json", "index.html",
            "feeds.opml", "items/aaaaaaaaaaaaaaa1.html", "items/aaaaaaaaaaaaaaa2.html"} <= set(files)
    for name, data in files.items():
        assert len(data) < 100_000, f"{name}: {len(data)} bytes: something expanded"
        if name.endswith((".xml", ".atom", ".opml", ".xsl")):
            tree = etree.fromstring(data, SAFE_PARSER).getroottree()
            assert tree.docinfo.doctype == "", f"{name}: carries a DOCTYPE"
            # The default parser would expand entities: with no DTD in the file there is none to expand.
            assert etree.fromstring(data) is not None
            if name.endswith((".xml", ".atom")):
                assert feedparser.parse(data).bozo == 0, name
        elif name.endswith(".html"):
            assert_inert_page(data, name)
        elif name.endswith(".json"):
            for item in json.loads(data)["items"]:
                assert executable_markup(html_fragment(item["content_html"])) == [], name
    rss = etree.fromstring(files["latest.xml"], SAFE_PARSER)
    atom = etree.fromstring(files["latest.atom"], SAFE_PARSER)
    for item in rss.iter("item"):
        encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
        assert executable_markup(html_fragment(encoded)) == []
        assert executable_markup(html_fragment(item.findtext("description"))) == []
    for content in atom.iter("{http://www.w3.org/2005/Atom}content"):
        assert executable_markup(html_fragment(content.text)) == []


def test_the_hostile_text_survives_as_text(markup_site):
    """Inert, not deleted: a reader sees the markup as the characters the seed holds."""
    page = lxml.html.document_fromstring((markup_site / "items/aaaaaaaaaaaaaaa1.html").read_text())
    assert page.findtext(".//h1") == "<script>alert('title')</script> Minister <b onmouseover=alert(1)>resigns</b>"
    text = page.text_content()
    for snippet in ("<img src=x onerror=alert(2)>", '<a href="javascript:alert(3)">', BOMB, "&#0;", "&#x0;",
                    "<![CDATA[ <script>alert(4)</script> ]]>", "]]> alone", "<?php echo 1; ?>"):
        assert snippet in text, snippet
    atom = feedparser.parse((markup_site / "latest.atom").read_bytes())
    titles = {e.title for e in atom.entries}
    assert "javascript:alert(8)" in titles
    second = lxml.html.document_fromstring((markup_site / "items/aaaaaaaaaaaaaaa2.html").read_text())
    body = second.text_content()
    assert "\x01" not in body and "\x1b" not in body and "\x85" not in body and "\ufffe" not in body
    assert "\u202e" in body  # a printable (if sneaky) character is text, kept
    assert second.findtext(".//h1") == "javascript:alert(8)"
    here = BASE_URL + "items/aaaaaaaaaaaaaaa2.html"  # the pages link relatively: resolve as a browser does
    assert all(urljoin(here, a.get("href", "")).startswith(BASE_URL) for a in second.iter("a"))


def test_links_are_never_taken_from_seed_text(markup_site):
    """Every URL in every output (XML attributes and <link>s, HTML attributes, the HTML inside the
    feeds) is the site's own, the stylesheet or a configured source's, never one from a seed."""
    allowed = (BASE_URL, "https://www.voanews.com/", "http://opml.org/")
    urls = []
    for path in markup_site.rglob("*"):
        if path.suffix in (".xml", ".atom", ".opml"):
            root = etree.fromstring(path.read_bytes(), SAFE_PARSER)
            for el in root.iter():
                urls += [(path.name, v) for k, v in el.attrib.items() if k in ("href", "url", "xmlUrl", "htmlUrl")]
                if etree.QName(el).localname == "link" and el.text and el.text.strip():
                    urls.append((path.name, el.text.strip()))
                if etree.QName(el).localname in ("encoded", "content", "description") and el.text:
                    urls += [(path.name, v) for v in html_fragment(el.text).xpath("//@href | //@src")]
        elif path.suffix == ".html":  # relative links resolved against the page's own URL
            here = BASE_URL + path.relative_to(markup_site).as_posix()
            page = lxml.html.document_fromstring(path.read_text())
            urls += [(path.name, urljoin(here, v)) for v in page.xpath("//@href | //@src")]
        elif path.suffix == ".json":
            for item in json.loads(path.read_text())["items"]:
                urls += [(path.name, item["url"])]
                urls += [(path.name, v) for v in html_fragment(item["content_html"]).xpath("//@href | //@src")]
    assert len(urls) > 20
    assert [(name, url) for name, url in urls if not url.startswith(allowed)] == []


HOSTILE_NAMES = {  # file name -> how the build takes it
    "001_a b\"c'.txt": "published",
    "002_?q=1#frag.txt": "published",
    "003_%2e%2e.txt": "published",
    "004_<script>.txt": "published",
    "005_javascript:alert(1).txt": "published",
    "006_x\u2028y\u2029z.txt": "published",
    "007_a\x1eb.txt": "skipped",
    "008_\x1b[31mred.txt": "skipped",
    b"009_\xff\xfe.txt": "skipped",
    "010_next\u0085line.txt": "skipped",
    "011_tab\there.txt": "skipped",  # the cache's separators
    "012_new\nline.txt": "skipped",
    "013_cr\rreturn.txt": "skipped",
}


def test_hostile_file_names_are_published_with_working_links_or_skipped(tmp_path):
    """A seed's file name becomes its key, page name, link and id: names with URL syntax, markup or
    line separators publish with links that lead to their page; control characters and bytes that
    are not UTF-8 are skipped with one named line. Two builds: the record reads back."""
    from urllib.parse import unquote, urlsplit

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    body = "Flash News\n\n\nReuters: Headline number {}\n\nDate: 2025-03-0{} 09:00 UTC\n\nThe story, {}./VOA\n"
    for i, name in enumerate(HOSTILE_NAMES, start=1):
        raw = name if isinstance(name, bytes) else name.encode("utf-8")
        with open(os.path.join(os.fsencode(seeds), raw), "wb") as f:
            f.write(body.format(i, i, i).encode())
    out = tmp_path / "out"
    settings = load_settings(root=tmp_path, env={}, overrides={
        "seeds_dir": seeds, "out_dir": out, "record_path": tmp_path / "rec.jsonl", "base_url": BASE_URL})
    for _ in range(2):
        report = build(settings, now=CLOCK, workers=1)
    skipped = sorted(os.path.basename(p) for p, why in report.skipped
                     if why == "file name holds control characters or is not UTF-8; rename it")
    assert len(skipped) == 7 and len(report.skipped) == 7 and report.seeds == 13
    assert report.entries["latest"] == 6
    atom = feedparser.parse((out / "latest.atom").read_bytes())
    assert atom.bozo == 0 and len(atom.entries) == 6
    for entry in atom.entries:
        link = urlsplit(entry.link)
        assert link.scheme == "https" and not link.query and not link.fragment, entry.link
        page = out / unquote(link.path.removeprefix("/"))  # what a server decoding the path once finds
        assert page.is_file(), entry.link
        assert assert_inert_page(page.read_bytes(), page.name).findtext(".//h1") == entry.title
    rss = feedparser.parse((out / "latest.xml").read_bytes())
    assert rss.bozo == 0 and sorted(e.link for e in rss.entries) == sorted(e.link for e in atom.entries)
    # Renamed, the skipped files publish and are no longer reported, with the cache as it is.
    for name in ("011_tab\there.txt", "012_new\nline.txt"):
        (seeds / name).rename(seeds / name.replace("\t", "_").replace("\n", "_"))
    report = build(settings, now=CLOCK, workers=1)
    assert len(report.skipped) == 5 and report.entries["latest"] == 8


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_name_as_long_as_the_system_allows_publishes_or_is_skipped_alone(tmp_path, monkeypatch, workers):
    """Names up to 255 bytes: a page name (<key>.html) that would pass 255 bytes is skipped with one
    line; a long one that fits publishes (its temporary file name too must fit). The rest publish."""
    from feedpub import scan

    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    body = "Flash News\n\n\nReuters: Headline number {}\n\nThe story, {}./VOA\n"
    names = ["001_short.txt", "002_" + "k" * 246 + ".txt",  # 254 bytes: page name 252
             "m" * 251 + ".txt",  # 255 bytes: page name 256
             "003_" + "é" * 120 + ".txt"]  # 248 bytes: page name 246
    for i, name in enumerate(names):
        (seeds / name).write_text(body.format(i, i))
    settings = load_settings(root=tmp_path, env={}, overrides={
        "seeds_dir": seeds, "out_dir": tmp_path / "out", "record_path": tmp_path / "rec.jsonl", "base_url": BASE_URL})
    report = build(settings, now=CLOCK, workers=workers)
    assert [(os.path.basename(p), why) for p, why in report.skipped] == [(names[2], scan.LONG_NAME)]
    assert report.entries["latest"] == 3
    assert (tmp_path / "out" / "items" / ("k" * 246 + ".html")).is_file()
    assert not [p for p in (tmp_path / "out").rglob(".feedpub-tmp-*")]


def test_a_file_name_cannot_send_control_codes_to_the_terminal(tmp_path):
    """The skip line names the file: its escape sequences, bidi overrides and undecodable bytes
    are printed as visible escapes, never as the codes themselves."""
    from click.testing import CliRunner

    from feedpub.cli import main

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for raw in (b"001_red\x1b[31m.txt", b"002_\xe2\x80\xaeevil.txt", b"003_lat\xe9.txt"):
        with open(os.path.join(os.fsencode(seeds), raw), "wb") as f:
            # The bidi override is a legal name: an empty file gets it a skip line too.
            f.write(b"" if raw.startswith(b"002") else b"Flash News\n\nA headline\n\nThe story.\n")
    result = CliRunner().invoke(main, ["build", "--seeds", str(seeds), "--out", str(tmp_path / "out"),
                                       "--record", str(tmp_path / "rec.jsonl"), "--quiet"], color=True)
    lines = result.stderr.splitlines()
    assert result.exit_code == 0 and len(lines) == 3, result.stderr
    assert "001_red\\x1b[31m.txt:" in lines[0]
    assert "002_\\u202eevil.txt:" in lines[1] and "003_lat\\udce9.txt:" in lines[2]
    assert not [line for line in lines if re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]", line)]


def test_the_watch_log_escapes_file_names_too(capsys):
    from feedpub.cli_run import line_logger

    line_logger(quiet=False)("2025-03-10T12:00:00Z wrote 0 files; skipped seeds/a\x1b]0;pwned\x07.txt: empty file")
    out = capsys.readouterr().out
    assert "seeds/a\\x1b]0;pwned\\x07.txt: empty file" in out and "\x1b" not in out


# --- safe parsers: the record and the configuration ---------------------------------------------------


RECORD_PAYLOADS = [
    '{"__class__": "os.system", "args": ["id"]}', '{"key": {"__reduce__": "os.system"}}',
    "!!python/object/apply:os.system [id]", "cos\nsystem\n(S'id'\ntR.",
    '{"key": "k", "id": "i", "first_seen": "2025-01-01T00:00:00Z", "fingerprint": 1}',
    '{"key": "k", "id": "i", "first_seen": "2025-01-01T00:00:00Z", "fingerprint": "f", "edited": []}', "[]", "null",
    '{"feed": ["x"], "id": 1}', '{"key": "k", "id": "i", "first_seen": 1e999, "fingerprint": "f"}',
    '{"key": "k\u2028", "id": "i", "first_seen": "2025-01-01T00:00:00Z", "fingerprint": "f"}',
]


@ANY_SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
       | st.sampled_from(RECORD_PAYLOADS).map(str.encode))
def test_any_record_file_is_a_record_or_one_named_error(tmp_path_factory, data):
    """Any bytes as a record: a Record, or a RecordError naming the file (and line) and the way
    out. JSON only: class hints, pickle and YAML payloads are just bad lines."""
    from feedpub.record import Record, RecordError

    path = tmp_path_factory.getbasetemp() / "fuzz-record.jsonl"
    path.write_bytes(data)
    try:
        record = Record.load(path)
    except RecordError as e:
        message = str(e)
        assert re.match(rf"{re.escape(str(path))}(:\d+: bad record line \(|: cannot read the record: )", message), message
        assert "\n" not in message
        return
    for key in record.keys():
        assert isinstance(record.get(key).id, str)


@ANY_SETTINGS
@given(st.text(max_size=200) | st.sampled_from([
    "__import__('os').system('id')", "[site]\ntitle = !!python/object/apply:os.system ['id']",
    '[site]\ntitle = "{{ config.__class__ }}"', "[site]\nttl = 1e999", '[feeds.x]\nlimit = "9"', "[[site]]",
    '[site]\nbase_url = "javascript:alert(1)"', '[sources]\nVOA = "javascript:alert(1)"']))
def test_any_configuration_is_settings_or_one_named_error(tmp_path_factory, text):
    from feedpub.config import ConfigError

    path = tmp_path_factory.getbasetemp() / "feedpub-fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        settings = load_settings(path, env={})
    except ConfigError as e:
        assert str(e).startswith(f"{path}: ") and "\n" not in str(e).strip()
        return
    assert settings.base_url.startswith(("http://", "https://"))
    assert all(url.startswith(("http://", "https://")) for url in settings.sources.values())
