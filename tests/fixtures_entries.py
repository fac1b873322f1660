"""Entries, settings and built sites for the subscriber-output tests (site, JSON Feed, OPML, check,
browser, newsboat). Plain functions, so any test module can import them."""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from feedpub.config import DEFAULT_FEEDS, Settings
from feedpub.model import Entry, Seed

BASE_URL = "https://news.example.org/"
HOSTILE_TITLE = "</title><script>alert(1)</script> Hostile headline"
HOSTILE_BODY = '<img src=x onerror=alert(1)> Body with <b onmouseover="alert(2)">markup</b> & "quotes".'
CLOCK = datetime(2025, 1, 17, 6, 45, tzinfo=timezone.utc)


def make_settings(**changes) -> Settings:
    """Settings as a configured site has them: absolute base URL, both default feeds, one known source."""
    settings = Settings(
        base_url=BASE_URL,
        site_title="Example news",
        site_description="Wire news for the example.",
        sources={"VOA": "https://www.voanews.com/"},
        source_feeds={"VOA": "https://feeds.example.com/voa.xml"},
        feeds=DEFAULT_FEEDS,
    )
    return replace(settings, **changes)


def make_entry(
    settings: Settings,
    key: str,
    title: str,
    *,
    category: str | None = "flash",
    agency: str | None = "Reuters",
    publisher: str | None = "VOA",
    paragraphs: tuple[str, ...] = ("First paragraph.", "Second paragraph."),
    published: datetime = CLOCK,
    updated: datetime | None = None,
    seq: int = 1,
) -> Entry:
    """One entry as publish.make_entry would make it, from a seed made here."""
    seed = Seed(
        path=Path(f"seeds/{seq:03d}_{key}.txt"),
        key=key,
        seq=seq,
        category=category,
        title=title,
        agency=agency,
        publisher=publisher,
        date=None,
        paragraphs=paragraphs,
        summary=paragraphs[0] if paragraphs else "",
    )
    entry_id = f"tag:news.example.org,2025-01-17:{key}"
    link = settings.url(settings.item_path(key))
    return Entry(seed, entry_id, published, updated or published, link)


def sample_entries(settings: Settings) -> list[Entry]:
    """Three entries, newest first: a flash story, a hostile flash seed, a world story without publisher."""
    return [
        make_entry(settings, "ceasefire01", "Putin wants ceasefire along front lines", seq=3),
        make_entry(
            settings,
            "hostile01",
            HOSTILE_TITLE,
            paragraphs=(HOSTILE_BODY, "Second paragraph, javascript:alert(3) end."),
            published=CLOCK - timedelta(hours=1),
            seq=2,
        ),
        make_entry(
            settings,
            "floods01",
            "Floods close the main highway",
            category="world",
            agency="AP",
            publisher=None,
            published=CLOCK - timedelta(hours=2),
            updated=CLOCK - timedelta(hours=1, minutes=30),
            seq=1,
        ),
    ]


def feeds_of(settings: Settings, entries: list[Entry]) -> list[tuple]:
    """(spec, entries) pairs as publish hands them to the renderers."""
    return [
        (spec, sorted((e for e in entries if spec.accepts(e.seed.category)), key=Entry.sort_key)[: spec.limit])
        for spec in settings.feeds
    ]


SEEDS = {
    "001_hostile01.txt": (
        f"Flash News\n\nReuters: {HOSTILE_TITLE}\n\n{HOSTILE_BODY}\n\nSecond paragraph, javascript:alert(3) end./VOA\n"
    ),
    "002_ceasefire01.txt": (
        "Flash News\n\nReuters: Putin wants ceasefire along front lines\n\n"
        "Reuters: Putin wants ceasefire along front lines\n\n"
        "Russian President Vladimir Putin is ready for a ceasefire, sources said.\n\n"
        "The Kremlin did not comment./VOA\n"
    ),
    "003_floods01.txt": (
        "World\n\nAP: Floods close the main highway\n\n"
        "NAIROBI, March 3, 2025 (AP) - Heavy rain closed the road.\n\nMore rain is expected.\n"
    ),
}


def build_site(root: Path, base_url: str = BASE_URL) -> Settings:
    """Seeds in `root/seeds`, built by feedpub.publish.build into `root/feeds` under a fixed clock."""
    from feedpub import opml, site
    from feedpub.config import load_settings
    from feedpub.publish import build

    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for name, text in SEEDS.items():
        (seeds / name).write_text(text, encoding="utf-8")
    settings = load_settings(
        None,
        root=root,
        env={},
        overrides={
            "seeds_dir": seeds,
            "out_dir": root / "feeds",
            "record_path": root / "record.jsonl",
            "base_url": base_url,
        },
    )
    build(settings, now=CLOCK)
    expected = ["index.html", site.STYLESHEET_NAME, opml.OPML_NAME, *(f"{spec.name}.json" for spec in settings.feeds)]
    missing = [name for name in expected if not (settings.out_dir / name).exists()]
    assert not missing, f"feedpub build did not write {missing}"
    return settings


@contextmanager
def served(directory: Path):
    """Serve `directory` on 127.0.0.1 from a thread; yields the base URL ("http://127.0.0.1:PORT/").

    Uses feedpub's own server when it exists (it answers browsers with application/xml for
    feeds, as deployed); otherwise Python's static server, whose .xml type is XML as well.
    """
    try:
        from feedpub.serve import FeedServer

        server = FeedServer(("127.0.0.1", 0), directory, log=lambda line: None)
    except ImportError:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".xsl": "text/xsl", ".atom": "application/xml"}

    def log_message(self, format, *args):  # the test output is not an access log
        pass
