"""The front page, item pages and the feeds' stylesheet: escaped, script-free, discoverable."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import lxml.html
import pytest
from lxml import etree

from feedpub import feeds as feed_writer
from feedpub.site import render_index, render_item_page, render_stylesheet
from fixtures_entries import HOSTILE_BODY, HOSTILE_TITLE, feeds_of, make_settings, sample_entries


@pytest.fixture
def settings():
    return make_settings()


@pytest.fixture
def entries(settings):
    return sample_entries(settings)


def parse_strict(html: bytes):
    """Parse without recovery: a stray end tag or a broken attribute raises instead of being mended."""
    assert html.startswith(b"<!DOCTYPE html>\n")
    parser = lxml.html.HTMLParser(recover=False)
    doc = lxml.html.document_fromstring(html, parser=parser)
    assert [e.message for e in parser.error_log] == []
    return doc


def assert_harmless(doc) -> None:
    assert doc.xpath("//script") == []
    assert doc.xpath("//img | //iframe | //object | //embed") == []
    attributes = [(a.getparent().tag, a.attrname) for a in doc.xpath("//@*") if a.attrname.startswith("on")]
    assert attributes == []
    urls = doc.xpath("//@href | //@src")
    assert [u for u in urls if u.strip().lower().startswith("javascript:")] == []


def test_index_lists_every_feed_with_autodiscovery(settings, entries):
    doc = parse_strict(render_index(feeds_of(settings, entries), settings))
    found = [(l.get("type"), l.get("title"), l.get("href")) for l in doc.xpath("//head/link[@rel='alternate']")]
    assert found == [  # relative: the site works wherever it is served from
        ("application/rss+xml", "Flash news (RSS)", "flash.xml"),
        ("application/atom+xml", "Flash news (Atom)", "flash.atom"),
        ("application/feed+json", "Flash news (JSON Feed)", "flash.json"),
        ("application/rss+xml", "Latest news (RSS)", "latest.xml"),
        ("application/atom+xml", "Latest news (Atom)", "latest.atom"),
        ("application/feed+json", "Latest news (JSON Feed)", "latest.json"),
    ]
    body_links = [a.get("href") for a in doc.xpath("//ul[@class='feeds']//a")]
    assert body_links == [href for _, _, href in found]
    assert doc.xpath("//a[text()='feeds.opml']/@href") == ["feeds.opml"]
    assert doc.xpath("//meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert doc.xpath("//title/text()") == ["Example news"]


def test_index_headlines_come_from_the_all_categories_feed_with_date_and_credit(settings, entries):
    doc = parse_strict(render_index(feeds_of(settings, entries), settings))
    assert doc.xpath("//section/h2/text()")[0] == "Latest news"
    items = doc.xpath("//ol[@class='headlines']/li")
    assert [li.xpath("a/text()")[0] for li in items] == [
        "Putin wants ceasefire along front lines",
        HOSTILE_TITLE,
        "Floods close the main highway",
    ]
    assert items[0].xpath("a/@href") == ["items/ceasefire01.html"]
    assert items[0].xpath(".//time/text()") == ["2025-01-17 06:45 UTC"]
    assert items[0].xpath(".//time/@datetime") == ["2025-01-17T06:45:00+00:00"]
    assert [li.xpath(".//span[@class='credit']/text()") for li in items] == [
        ["Reuters, via VOA"],
        ["Reuters, via VOA"],
        ["AP"],
    ]


def test_index_without_an_all_categories_feed_uses_the_first(settings, entries):
    doc = parse_strict(render_index(feeds_of(settings, entries)[:1], settings))
    assert doc.xpath("//section/h2/text()")[0] == "Flash news"
    assert len(doc.xpath("//ol[@class='headlines']/li")) == 2


def test_index_with_no_entries_says_so(settings):
    doc = parse_strict(render_index(feeds_of(settings, []), settings))
    assert doc.xpath("//ol") == []
    assert "No stories yet." in doc.text_content()


def test_hostile_seed_is_text_on_the_index(settings, entries):
    html = render_index(feeds_of(settings, entries), settings)
    doc = parse_strict(html)
    assert_harmless(doc)
    assert HOSTILE_TITLE in doc.text_content()
    assert b"<script>" not in html


def test_hostile_site_settings_are_escaped_too(entries):
    settings = make_settings(site_title='Evil <script>x</script>', site_description='"><img src=x onerror=y>')
    doc = parse_strict(render_index(feeds_of(settings, entries), settings))
    assert_harmless(doc)
    assert doc.xpath("//title/text()") == ["Evil <script>x</script>"]


def test_hostile_seed_is_text_on_its_item_page(settings, entries):
    html = render_item_page(entries[1], settings)
    doc = parse_strict(html)
    assert_harmless(doc)
    assert doc.xpath("//h1/text()") == [HOSTILE_TITLE]
    assert doc.xpath("//article/p[not(@class)]/text()")[0] == HOSTILE_BODY
    assert doc.xpath("//p[@class='credit']/text()") == ["Reuters, via VOA"]


def test_a_time_with_a_fraction_of_a_second_is_a_valid_html_time(settings, entries):
    """HTML's datetime attribute takes one to three digits of a second; stated dates may have six."""
    entry = replace(entries[0], published=datetime(2024, 5, 24, 10, 15, 0, 123456, tzinfo=timezone(timedelta(hours=2))))
    for html in (render_item_page(entry, settings), render_index(feeds_of(settings, [entry]), settings)):
        assert parse_strict(html).xpath("//time/@datetime") == ["2024-05-24T10:15:00.123+02:00"]


@pytest.mark.parametrize("language, direction", [("en", None), ("he", "rtl"), ("ar-EG", "rtl"), ("fa", "rtl")])
def test_pages_run_right_to_left_in_such_languages_and_seed_text_its_own_way(entries, language, direction):
    settings = make_settings(language=language)
    for html in (render_item_page(entries[0], settings), render_index(feeds_of(settings, entries), settings)):
        doc = parse_strict(html)
        assert doc.get("dir") == direction
        texts = doc.xpath("//h1[not(ancestor::header)] | //article/p[not(@class='meta')] | //ol//a")
        assert texts and all(e.get("dir") == "auto" for e in texts)


# ---- the stylesheet, run by libxslt (the XSLT 1.0 engine Chromium also uses) ----------------


def transform(feed_bytes: bytes, settings):
    xslt = etree.XSLT(etree.fromstring(render_stylesheet(settings)))
    result = xslt(etree.fromstring(feed_bytes))
    return lxml.html.document_fromstring(str(result))


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_stylesheet_renders_title_subscribe_box_and_items(settings, entries, kind):
    spec, chosen = feeds_of(settings, entries)[0]
    render = feed_writer.render_rss if kind == "rss" else feed_writer.render_atom
    suffix = "xml" if kind == "rss" else "atom"
    doc = transform(render(spec, chosen, settings, "tag:news.example.org,2025:flash"), settings)
    assert doc.xpath("//h1/text()") == ["Flash news"]
    assert doc.xpath("//div[@class='subscribe']/code/text()") == [f"https://news.example.org/flash.{suffix}"]
    articles = doc.xpath("//article")
    assert [a.xpath("h2/a/text()")[0] for a in articles] == ["Putin wants ceasefire along front lines", HOSTILE_TITLE]
    assert articles[0].xpath("h2/a/@href") == ["https://news.example.org/items/ceasefire01.html"]
    assert [a.xpath(".//span[@class='credit']")[0].text_content().strip() for a in articles] == [
        "Reuters, via VOA",
        "Reuters, via VOA",
    ]
    date = articles[0].xpath("p[@class='meta']/text()")[0].strip()
    assert date == ("Fri, 17 Jan 2025 06:45:00 +0000 ·" if kind == "rss" else "2025-01-17 06:45 UTC ·")
    # The RSS description is entity-escaped HTML; the page shows the plain summary, still as text.
    assert articles[1].xpath("p[not(@class)]/text()") == [HOSTILE_BODY]
    assert_harmless(doc)


@pytest.mark.parametrize(
    "stamp, shown",
    [("2025-02-08T10:00:00+08:00", "2025-02-08 10:00 UTC+08:00"), ("2025-02-08T10:00:00.5-05:30", "2025-02-08 10:00 UTC-05:30"),
     ("2025-02-08T10:00:00Z", "2025-02-08 10:00 UTC"), ("2025-02-08T10:00:00+00:00", "2025-02-08 10:00 UTC")],
)
def test_stylesheet_shows_an_atom_date_with_its_offset_as_the_pages_do(settings, stamp, shown):
    atom = f"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>tag:x,2025:f</id>
<updated>{stamp}</updated><entry><title>E</title><id>tag:x,2025:e</id><link href="https://x.example/e"/>
<published>{stamp}</published><updated>{stamp}</updated></entry></feed>""".encode()
    doc = transform(atom, settings)
    assert doc.xpath("//article/p[@class='meta']/text()")[0].strip().rstrip(" ·") == shown


def test_stylesheet_links_only_http_urls():
    rss = b"""<rss version="2.0"><channel><title>T</title><link>javascript:alert(1)</link><description/>
    <item><title>x</title><link> JavaScript:alert(2)</link></item>
    <item><title>y</title><link>data:text/html,hi</link></item></channel></rss>"""
    doc = transform(rss, make_settings())
    assert doc.xpath("//a") == []
    assert [h.text_content() for h in doc.xpath("//article/h2")] == ["x", "y"]


def test_stylesheet_degrades_on_a_document_that_is_not_a_feed():
    doc = transform(b"<html><body><script>alert(1)</script></body></html>", make_settings())
    assert doc.xpath("//body/p/text()") == ["This file is not an RSS 2.0 or Atom feed."]
    assert doc.xpath("//script") == []


def test_stylesheet_never_disables_output_escaping(settings):
    xsl = render_stylesheet(settings)
    assert b"disable-output-escaping" not in xsl
    root = etree.fromstring(xsl)
    ns = {"xsl": "http://www.w3.org/1999/XSL/Transform"}
    assert root.get("version") == "1.0"
    assert root.xpath("//xsl:output/@method", namespaces=ns) == ["html"]
    assert root.xpath("//xsl:copy-of | //xsl:import | //xsl:include | //*[local-name()='script']", namespaces=ns) == []
