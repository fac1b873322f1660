"""JSON Feed 1.1 twins: required fields, same ids and order as the XML feeds, deterministic bytes."""

from __future__ import annotations

import json

import feedparser
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from feedpub import feeds as feed_writer
from feedpub.jsonfeed import render_json_feed
from fixtures_entries import HOSTILE_BODY, HOSTILE_TITLE, feeds_of, make_entry, make_settings, sample_entries


@pytest.fixture
def settings():
    return make_settings()


@pytest.fixture
def latest(settings):
    return feeds_of(settings, sample_entries(settings))[1]


def test_feed_level_fields(settings, latest):
    feed = json.loads(render_json_feed(*latest, settings))
    assert {k: v for k, v in feed.items() if k != "items"} == {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Latest news",
        "home_page_url": "https://news.example.org/",
        "feed_url": "https://news.example.org/latest.json",
        "description": "Every story, newest first.",
        "language": "en",
    }
    assert len(feed["items"]) == 3


def test_item_fields(settings, latest):
    items = json.loads(render_json_feed(*latest, settings))["items"]
    assert items[0] == {
        "id": "tag:news.example.org,2025-01-17:ceasefire01",
        "url": "https://news.example.org/items/ceasefire01.html",
        "title": "Putin wants ceasefire along front lines",
        "content_html": '<p>First paragraph.</p>\n<p>Second paragraph.</p>\n'
        '<p><em>Reuters, via <a href="https://www.voanews.com/">VOA</a></em></p>',
        "summary": "First paragraph.",
        "date_published": "2025-01-17T06:45:00+00:00",
        "date_modified": "2025-01-17T06:45:00+00:00",
        "authors": [{"name": "Reuters"}, {"name": "VOA", "url": "https://www.voanews.com/"}],
        "tags": ["flash"],
    }
    assert items[2]["authors"] == [{"name": "AP"}]
    assert items[2]["tags"] == ["world"]
    assert items[2]["date_modified"] == "2025-01-17T05:15:00+00:00"


def test_hostile_text_is_escaped_in_content_and_plain_in_title(settings, latest):
    item = json.loads(render_json_feed(*latest, settings))["items"][1]
    assert item["title"] == HOSTILE_TITLE
    assert item["summary"] == HOSTILE_BODY
    assert item["content_html"].startswith("<p>&lt;img src=x onerror=alert(1)&gt; Body with &lt;b onmouseover=")


def test_uncredited_entry_is_credited_to_the_site(settings):
    entry = make_entry(settings, "bare01", "Bare", agency=None, publisher=None, category=None)
    item = json.loads(render_json_feed(settings.feeds[1], [entry], settings))["items"][0]
    assert item["authors"] == [{"name": "Example news", "url": "https://news.example.org/"}]
    assert "tags" not in item


@pytest.mark.parametrize("index", [0, 1])
def test_ids_and_order_equal_the_xml_feeds(settings, index):
    spec, chosen = feeds_of(settings, sample_entries(settings))[index]
    ids = [item["id"] for item in json.loads(render_json_feed(spec, chosen, settings))["items"]]
    rss = feedparser.parse(feed_writer.render_rss(spec, chosen, settings, "tag:news.example.org,2025:f"))
    atom = feedparser.parse(feed_writer.render_atom(spec, chosen, settings, "tag:news.example.org,2025:f"))
    assert ids == [e.id for e in rss.entries] == [e.id for e in atom.entries]
    assert len(ids) == (2 if spec.name == "flash" else 3)


def test_bytes_are_deterministic_utf8_with_trailing_newline(settings, latest):
    first = render_json_feed(*latest, settings)
    assert first == render_json_feed(*latest, settings)
    assert first.endswith(b"}\n") and not first.endswith(b"\n\n")
    entry = make_entry(settings, "accents01", "Zürich: café “quotes”")
    data = render_json_feed(settings.feeds[1], [entry], settings)
    assert "Zürich: café “quotes”".encode("utf-8") in data  # not \u escapes


@hsettings(max_examples=60, deadline=None)
@given(st.text(min_size=1), st.lists(st.text(), min_size=1, max_size=3))
def test_any_text_round_trips(title, paragraphs):
    settings = make_settings()
    entry = make_entry(settings, "prop01", title, paragraphs=tuple(paragraphs))
    item = json.loads(render_json_feed(settings.feeds[1], [entry], settings).decode("utf-8"))["items"][0]
    assert item["title"] == title
    assert item["summary"] == paragraphs[0]
