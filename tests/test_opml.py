"""feeds.opml: an OPML 2.0 subscription list a reader can import, one outline per feed."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from feedpub.config import FeedSpec
from feedpub.opml import render_opml
from fixtures_entries import make_settings


def test_one_rss_outline_per_feed():
    root = etree.fromstring(render_opml(make_settings()))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Example news"
    outlines = [dict(o.attrib) for o in root.findall("body/outline")]
    assert outlines == [
        {
            "type": "rss",
            "version": "RSS2",
            "text": "Flash news",
            "title": "Flash news",
            "description": "Flash news, newest first.",
            "language": "en",
            "xmlUrl": "https://news.example.org/flash.xml",
            "htmlUrl": "https://news.example.org/",
        },
        {
            "type": "rss",
            "version": "RSS2",
            "text": "Latest news",
            "title": "Latest news",
            "description": "Every story, newest first.",
            "language": "en",
            "xmlUrl": "https://news.example.org/latest.xml",
            "htmlUrl": "https://news.example.org/",
        },
    ]


def test_declared_feeds_are_listed_and_text_is_escaped():
    settings = make_settings(site_title='News & "views" <b>')
    settings = replace(settings, feeds=settings.feeds + (FeedSpec("world", "World <i>", "W & co", 10, ("world",)),))
    data = render_opml(settings)
    root = etree.fromstring(data)
    assert root.findtext("head/title") == 'News & "views" <b>'
    assert [o.get("text") for o in root.findall("body/outline")] == ["Flash news", "Latest news", "World <i>"]
    assert root.findall("body/outline")[2].get("xmlUrl") == "https://news.example.org/world.xml"


def test_no_dates_from_the_clock():
    data = render_opml(make_settings())
    assert data == render_opml(make_settings())
    assert b"dateCreated" not in data and b"dateModified" not in data
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">")
