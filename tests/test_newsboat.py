"""A real feed reader: Debian's newsboat fetches every built feed over HTTP, headless, with a
throw-away config and cache, and must store every item with its id, title, link and credit."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from lxml import etree

from fixtures_entries import HOSTILE_TITLE, build_site, served

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat)")
ATOM = "{http://www.w3.org/2005/Atom}"


def published_items(path):
    """(id, title, link) of every item, read from the feed file itself."""
    root = etree.parse(str(path)).getroot()
    if root.tag == "rss":
        return [(i.findtext("guid"), i.findtext("title"), i.findtext("link")) for i in root.iter("item")]
    return [
        (e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}title"), e.find(f"{ATOM}link").get("href"))
        for e in root.iter(f"{ATOM}entry")
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("newsboat")
    (root / "feeds").mkdir()
    with served(root / "feeds") as base_url:
        build_site(root, base_url=base_url)
        yield base_url, root


def reload_with_newsboat(url: str, work):
    """Run `newsboat -x reload` on one URL; returns its cache's rss_item rows for that feed.

    One cache per feed because newsboat keeps an item once per guid across all its feeds, and
    flash and latest share entries.
    """
    work.mkdir()
    (work / "urls").write_text(url + "\n", encoding="utf-8")
    (work / "config").write_text("", encoding="utf-8")
    env = {"HOME": str(work), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    subprocess.run(
        [NEWSBOAT, "-x", "reload", "-u", str(work / "urls"), "-c", str(work / "cache.db"), "-C", str(work / "config")],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    with sqlite3.connect(work / "cache.db") as db:
        return db.execute(
            "SELECT guid, title, url, author FROM rss_item WHERE feedurl = ? ORDER BY pubDate DESC, id", (url,)
        ).fetchall()


@pytest.mark.parametrize("name", ["flash.xml", "flash.atom", "latest.xml", "latest.atom"])
def test_newsboat_stores_every_item(site, name):
    base_url, root = site
    rows = reload_with_newsboat(base_url + name, root / f"reader-{name}")
    expected = published_items(root / "feeds" / name)
    assert len(expected) == (2 if name.startswith("flash") else 3)
    assert sorted((guid, title, url) for guid, title, url, _ in rows) == sorted(expected)
    credits = {title: author for _, title, _, author in rows}
    assert credits["Putin wants ceasefire along front lines"] == "Reuters"
    assert credits[HOSTILE_TITLE] == "Reuters"
