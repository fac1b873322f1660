"""build(): seeds -> entries -> outputs, written all together and only when changed.

The only module that touches the output folder and the record file.
"""

from __future__ import annotations

import heapq
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from feedpub import feeds as feed_writer
from feedpub import site
from feedpub.config import FeedSpec, Settings
from feedpub.jsonfeed import render_json_feed
from feedpub.model import Entry, Seed, SeedSkipped
from feedpub.opml import OPML_NAME, render_opml
from feedpub.output import Staging, WriteError, remove_stale_temporaries, remove_stale_temporaries_of
from feedpub.record import Record, RecordError, RecordLine
from feedpub.scan import ScanCache, SeedInfo, list_files, read_infos, setup_digest, signature
from feedpub.seeds import read_seed

UTC = timezone.utc


class BuildError(Exception):
    """The build could not complete; nothing published was changed. One line for the user."""

    exit_code = 3


class InputError(BuildError):
    """The user's input (seeds folder, record) is unusable as it stands."""

    exit_code = 2


@dataclass
class BuildReport:
    """What a build did, for the summary line and `--json`."""

    seeds: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)  # one line each, e.g. Windows-1252 fallback
    notices: list[str] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)  # feed name -> entries
    written: list[str] = field(default_factory=list)  # relative names of files rewritten
    unchanged: int = 0
    reread: int = 0  # seed files read this time (the others were known from the scan cache)

    def summary_line(self) -> str:
        feeds = ", ".join(f"{name} {count}" for name, count in self.entries.items())
        return (
            f"{self.seeds} seeds ({self.reread} read), {len(self.skipped)} skipped; entries: {feeds}; "
            f"{len(self.written)} files written, {self.unchanged} unchanged"
        )

    def as_dict(self) -> dict:
        return {
            "seeds": self.seeds,
            "read": self.reread,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "warnings": self.warnings,
            "notices": self.notices,
            "entries": self.entries,
            "written": self.written,
            "unchanged": self.unchanged,
        }

    def exit_code(self, strict: bool) -> int:
        return 1 if strict and self.skipped else 0


def cache_path_for(record_path: Path) -> Path:
    """The scan cache lives beside the record, hidden: per machine, never committed or served."""
    return record_path.with_name(f".{record_path.name}.cache")


def file_signature(path: Path) -> str | None:
    try:
        return signature(path.stat())
    except OSError:
        return None


def scan_seed_folder(seeds_dir: Path) -> list[tuple[str, str | None, int]]:
    """Every candidate seed file; a missing or unreadable folder is the user's error (exit 2)."""
    try:
        return list_files(seeds_dir)
    except FileNotFoundError:
        raise InputError(f"{seeds_dir}: seeds folder not found (use --seeds DIR)") from None
    except NotADirectoryError:
        raise InputError(f"{seeds_dir}: not a folder (use --seeds DIR)") from None
    except OSError as e:
        raise InputError(f"{seeds_dir}: cannot list the seeds folder: {e.strerror}") from None


def seeds_by_key(infos: Iterable[SeedInfo], settings: Settings, report: BuildReport) -> dict[str, SeedInfo]:
    """One SeedInfo per key; skipped files and warnings go to the report.

    Two files with the same key (a renumbered copy) are one article: the higher sequence wins.
    """
    found: dict[str, SeedInfo] = {}
    for info in infos:
        path = settings.seeds_dir / info.name
        if info.skip:
            report.skipped.append((str(path), info.skip))
            continue
        if info.warning:
            report.warnings.append(f"{path}: {info.warning}")
        other = found.get(info.key)
        if other is not None:
            keep, drop = sorted([other, info], key=lambda i: (i.seq, i.name), reverse=True)
            found[info.key] = keep
            report.skipped.append((str(settings.seeds_dir / drop.name), f"same key as {keep.name}"))
            continue
        found[info.key] = info
    return found


def make_entry(seed: Seed, line: RecordLine, settings: Settings) -> Entry:
    """A seed as published: the stated date else first-seen; `updated` moves only on edits."""
    published = seed.date or line.first_seen
    updated = max(published, line.edited) if line.edited else published
    # Percent-encoded: a key is a file name, and "?", "#", "%" or a space in it must not change the URL.
    return Entry(seed, line.id, published, updated, settings.url(quote(settings.item_path(seed.key))))


def newest(spec: FeedSpec, infos: Iterable[SeedInfo]) -> list[SeedInfo]:
    """The feed's seeds: its categories, newest first (ties: higher sequence, then key), at most `limit`."""
    candidates = (i for i in infos if spec.accepts(i.category or None))
    return heapq.nsmallest(spec.limit, candidates, key=lambda i: (-i.published, -i.seq, i.key))


def build(
    settings: Settings,
    *,
    now: datetime | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Read what changed in the seeds, update the record, write the outputs that changed.

    Raises InputError (seeds folder, record) or BuildError (writing); either way nothing
    published, nor the record, has changed.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = BuildReport()
    scan_started = time.time_ns()
    files = scan_seed_folder(settings.seeds_dir)
    report.seeds = len(files)
    cache_path = cache_path_for(settings.record_path)
    cache = ScanCache.load(cache_path, setup_digest(settings.agencies, settings.seeds_dir))
    record_sig = file_signature(settings.record_path)
    trusted = record_sig is not None and record_sig == cache.record_sig
    try:
        record = Record.load(settings.record_path, trusted=trusted)
    except RecordError as e:
        raise InputError(str(e)) from None
    before = record.dumps()

    stale = cache.stale(files)
    fresh = {i.name: i for i in read_infos(settings.seeds_dir, stale, settings.agencies, workers=workers or default_workers(), progress=progress)}
    report.reread = len(fresh)
    infos = [fresh.get(name) or cache.infos[name] for name, _, _ in files]
    seeds = seeds_by_key(infos, settings, report)
    if not seeds:
        report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")

    try:
        changed = update_record(record, seeds, fresh if trusted else None, settings, now)
        outputs = render_outputs(settings, record, seeds, changed, now, report)
    except RecordError as e:
        raise InputError(str(e)) from None
    remove_stale_temporaries(settings.out_dir)
    remove_stale_temporaries_of([settings.record_path, cache_path])
    staging = Staging()
    try:
        for name, data in outputs:
            if staging.add(settings.out_dir / name, data):
                report.written.append(name)
            else:
                report.unchanged += 1
        # The record goes last: killed mid-commit, it still describes the old outputs, so the next
        # build sees the same changes again and redoes them (pages of edited entries included).
        record_bytes = record.dumps()
        if record_bytes != before:
            staging.add(settings.record_path, record_bytes)
        staging.commit()
    except WriteError as e:
        raise BuildError(str(e)) from None
    # The cache keeps every file's facts, with the published time the record gave the kept ones.
    cache.infos = {i.name: i for i in infos} | {i.name: i for i in seeds.values()}
    save_cache(cache, cache_path, scan_started, file_signature(settings.record_path), report)
    return report


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def update_record(
    record: Record, seeds: dict[str, SeedInfo], fresh: dict[str, SeedInfo] | None, settings: Settings, now: datetime
) -> set[str]:
    """Observe every seed read this time (all of them when the record is not trusted), fixing each
    one's published time; returns the keys whose record line changed (new or edited)."""
    authority = settings.authority()
    changed = set()
    for key, info in seeds.items():
        if fresh is not None and info.name not in fresh and key in record:
            continue
        old = record.get(key)
        line = record.observe(key, info.fingerprint, datetime.fromtimestamp(info.mtime, UTC), now, authority)
        if old != line:
            changed.add(key)
        published = info.date_ts if info.date_ts is not None else line.first_seen.timestamp()
        seeds[key] = replace(info, published=published)
    return changed


def save_cache(cache: ScanCache, path: Path, scan_started: int, record_sig: str | None, report: BuildReport) -> None:
    """The cache is an optimisation: failing to save it costs speed next time, never correctness."""
    staging = Staging()
    try:
        staging.add(path, cache.dumps(scan_started, record_sig or ""))
        staging.commit()
    except WriteError as e:
        report.warnings.append(f"{e} (the scan cache; the next build reads every seed)")


def render_outputs(
    settings: Settings, record: Record, seeds: dict[str, SeedInfo], changed: set[str], now: datetime, report: BuildReport
) -> list[tuple[str, bytes]]:
    """Every output file as (name relative to the output folder, bytes), pages first.

    Only the seeds that are shown (or whose listed page must follow an edit) are read in full.
    """
    chosen = {spec.name: newest(spec, seeds.values()) for spec in settings.feeds}
    shown = {info.key for infos in chosen.values() for info in infos}
    for key in sorted(shown):
        record.mark_listed(key)
    # Pages of entries that left the feeds stay on disk so old links keep working; they are
    # re-rendered only when their text changes.
    paged = sorted(shown | {k for k in changed if record.get(k).listed})
    entries = {}
    for key in paged:
        entry = load_entry(seeds[key], record, settings, report)
        if entry is not None:
            entries[key] = entry
    outputs = [(settings.item_path(key), site.render_item_page(e, settings)) for key, e in entries.items()]
    per_feed = []
    for spec in settings.feeds:
        feed_entries = [entries[i.key] for i in chosen[spec.name] if i.key in entries]
        per_feed.append((spec, feed_entries))
        report.entries[spec.name] = len(feed_entries)
        feed_id = record.feed_id(spec.name, settings.authority(), now)
        outputs.append((f"{spec.name}.xml", feed_writer.render_rss(spec, feed_entries, settings, feed_id)))
        outputs.append((f"{spec.name}.atom", feed_writer.render_atom(spec, feed_entries, settings, feed_id)))
        outputs.append((f"{spec.name}.json", render_json_feed(spec, feed_entries, settings)))
    outputs.append((site.STYLESHEET_NAME, site.render_stylesheet(settings)))
    outputs.append((OPML_NAME, render_opml(settings)))
    outputs.append(("index.html", site.render_index(per_feed, settings)))  # last: it links to all the rest
    return outputs


def load_entry(info: SeedInfo, record: Record, settings: Settings, report: BuildReport) -> Entry | None:
    """Read a shown seed in full. A file that vanished or broke since the scan is left out this time."""
    path = settings.seeds_dir / info.name
    try:
        seed = read_seed(path, root=settings.seeds_dir, agencies=settings.agencies)
    except SeedSkipped as e:
        report.skipped.append((str(path), f"{e.reason} (changed during the build)"))
        return None
    return make_entry(seed, record.get(info.key), settings)
