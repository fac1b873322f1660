"""The two values that flow through feedpub: a Seed (what a file says) and an Entry (what a feed shows).

Data flows one way: seed file -> Seed (seeds.py) -> Entry (publish.py, with the record's id and
dates) -> feed bytes (feeds.py, jsonfeed.py, site.py) -> files on disk (publish.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class SeedSkipped(Exception):
    """A seed file that cannot become an entry; `reason` is one short phrase for the user."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}, skipped")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Seed:
    """One article as the reader understands it. Text fields are plain text, never markup."""

    path: Path
    key: str
    seq: int | None
    category: str | None
    title: str
    agency: str | None
    publisher: str | None
    date: datetime | None  # the date the document states (aware), or None
    paragraphs: tuple[str, ...]
    summary: str
    warnings: tuple[str, ...] = field(default=(), compare=False)
    fingerprint: str = field(default="", compare=False)  # of the text as read: see seeds.text_fingerprint


@dataclass(frozen=True, slots=True)
class SeedFacts:
    """What a scan keeps of a seed (seeds.skim_seed): where it goes in the feeds, never its body."""

    key: str
    seq: int | None
    category: str | None
    date: datetime | None
    fingerprint: str
    warnings: tuple[str, ...]


def credit_line(agency: str | None, publisher: str | None) -> str | None:
    """'Reuters, via VOA', 'Reuters', 'via VOA'... the source credit a reader sees."""
    if agency and publisher and agency != publisher:
        return f"{agency}, via {publisher}"
    if agency:
        return agency
    if publisher:
        return f"via {publisher}"
    return None


@dataclass(frozen=True)
class Entry:
    """A seed as published: the seed's text plus the record's permanent id and dates."""

    seed: Seed
    id: str  # tag URI (RFC 4151), fixed at first sight
    published: datetime  # aware
    updated: datetime  # aware, >= published
    link: str  # absolute URL of the item page

    @property
    def key(self) -> str:
        return self.seed.key

    @property
    def credit(self) -> str | None:
        return credit_line(self.seed.agency, self.seed.publisher)

    @property
    def author(self) -> str | None:
        """The name credited as author: the agency, else the publisher (the site is the writer's fallback)."""
        return self.seed.agency or self.seed.publisher

    def sort_key(self) -> tuple:
        """Newest first; ties by sequence number (higher first), then key. Use with reverse=False."""
        return (-self.published.timestamp(), -(self.seed.seq if self.seed.seq is not None else -1), self.key)
