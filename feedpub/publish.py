"""build(): seeds -> entries -> outputs, written all together and only when changed.

The only module that touches the output folder and the record file.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from feedpub.config import FeedSpec, Settings
from feedpub.model import Entry, Seed, SeedSkipped
from feedpub.output import Staging, WriteError, remove_stale_temporaries, remove_stale_temporaries_of
from feedpub.record import Record, RecordError, RecordLine
from feedpub.scan import (
    RACY_NS,
    CacheFile,
    CacheHeader,
    Listing,
    SeedInfo,
    join_lines,
    line_name,
    list_files,
    read_infos,
    setup_digest,
    signature,
)
from feedpub.sorted_lines import find, splice
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


def scan_seed_folder(seeds_dir: Path) -> Listing:
    """Every candidate seed file; a missing or unreadable folder is the user's error (exit 2)."""
    try:
        return list_files(seeds_dir)
    except FileNotFoundError:
        raise InputError(f"{seeds_dir}: seeds folder not found (use --seeds DIR)") from None
    except NotADirectoryError:
        raise InputError(f"{seeds_dir}: not a folder (use --seeds DIR)") from None
    except OSError as e:
        raise InputError(f"{seeds_dir}: cannot list the seeds folder: {e.strerror}") from None


def make_entry(seed: Seed, line: RecordLine, settings: Settings) -> Entry:
    """A seed as published: the stated date else first-seen; `updated` moves only on edits."""
    published = seed.date or line.first_seen
    updated = max(published, line.edited) if line.edited else published
    # Percent-encoded: a key is a file name, and "?", "#", "%" or a space in it must not change the URL.
    return Entry(seed, line.id, published, updated, settings.url(quote(settings.item_path(seed.key))))


def newest(spec: FeedSpec, infos: Iterable[SeedInfo]) -> list[SeedInfo]:
    """The feed's seeds: its categories, newest first (ties: higher sequence, then key), at most `limit`."""
    candidates = (i for i in infos if spec.accepts(i.category or None))
    return heapq.nsmallest(spec.limit, candidates, key=SeedInfo.sort_key)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Digests:
    """What a cached conclusion depends on, beyond the seed files and the record."""

    setup: str  # the reader: its code, its agencies, the seeds folder
    selection: str  # which entries each feed holds: names, limits, categories
    rendering: str  # how outputs look: every setting and feedpub's own code

    @classmethod
    def of(cls, settings: Settings) -> "Digests":
        feeds = repr([(f.name, f.limit, f.categories) for f in settings.feeds])
        package = Path(__file__).parent
        code = hashlib.sha256()
        for path in sorted(package.glob("*.py")) + sorted(package.glob("*.xsl")):
            code.update(path.read_bytes())
        rendering = hashlib.sha256(repr(settings).encode("utf-8", "surrogatepass") + code.digest()).hexdigest()[:16]
        return cls(setup_digest(settings.agencies, settings.seeds_dir), hashlib.sha256(feeds.encode()).hexdigest()[:16], rendering)


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
    listing = scan_seed_folder(settings.seeds_dir)
    report.seeds = len(listing)
    cache_path = cache_path_for(settings.record_path)
    digests = Digests.of(settings)
    header, handle = CacheFile.load_header(cache_path)
    record_sig = file_signature(settings.record_path)
    digest = listing.digest()
    if header is not None and nothing_changed(header, digests, record_sig, digest, listing, settings.out_dir):
        handle.close()
        return report_unchanged(header, settings, report)

    rest = None
    if header is not None and header.setup == digests.setup:
        rest = CacheFile.read_rest(handle, header)
    elif handle is not None:
        handle.close()
    if rest is None:
        header = CacheHeader()  # nothing known: every seed is read
    trusted = record_sig is not None and record_sig == header.record_sig
    try:
        record = Record.load(settings.record_path, trusted=trusted)
    except RecordError as e:
        raise InputError(str(e)) from None

    if rest is None:
        lines = b""
        to_read, gone = sorted((name, listing.signature(i)) for i, name in enumerate(listing.names)), []
    else:
        before, lines = rest
        to_read, gone = listing.changes_since(before, header.taken_ns - RACY_NS)
        del before, rest  # 100,000 names: free them before the writers load
    fresh = read_infos(settings.seeds_dir, to_read, settings.agencies, workers=workers or default_workers(), progress=progress)
    report.reread = len(fresh)  # cache lines, sorted by name
    old = {}  # what the cache said of the files read again or gone
    if lines:
        for name in [name for name, _ in to_read] + gone:
            raw = find(lines, name, line_name)
            if raw is not None:
                old[name] = SeedInfo.from_line(raw.decode("utf-8", "surrogateescape"))
    del to_read
    try:
        state = None
        if trusted and header.selection == digests.selection:
            state = update_incrementally(header, record, [SeedInfo.from_line(line) for line in fresh], old, settings, now)
        if state is None:
            kept = (line for line in lines.decode("utf-8", "surrogateescape").split("\n")[:-1] if line.split("\t", 1)[0] not in old)
            every = list(heapq.merge(kept, fresh, key=lambda line: line.split("\t", 1)[0]))
            fresh_names = {line.split("\t", 1)[0] for line in fresh}
            lines, fresh = b"", []  # the full look rewrites every line: let the old ones go
            state = update_fully(record, every, fresh_names, trusted, settings, now)
        for name, reason in state.skipped:
            report.skipped.append((str(settings.seeds_dir / name), reason))
        report.warnings.extend(f"{settings.seeds_dir / name}: {text}" for name, text in state.warnings)
        if not listing:
            report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")
        outputs = render_outputs(settings, record, state, now, report)
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
        if record.changed():
            staging.add(settings.record_path, record.parts(), compare=False)
        staging.commit()
    except WriteError as e:
        raise BuildError(str(e)) from None

    header = CacheHeader(
        setup=digests.setup,
        selection=digests.selection,
        rendering=digests.rendering,
        taken_ns=scan_started,
        record_sig=file_signature(settings.record_path) or "",
        digest=digest,
        top=state.top,
        outputs={name: file_signature(settings.out_dir / name) or "" for name, _ in outputs},
        skipped=[list(item) for item in state.skipped],
        warnings=[list(item) for item in state.warnings],
        dup_keys=state.dup_keys,
        entries=dict(report.entries),
    )
    del record  # its changed lines are written: free them before the cache is put together
    save_cache(CacheFile.parts(header, listing, state.cache_lines(lines, gone)), cache_path, report)
    return report


def nothing_changed(
    header: CacheHeader, digests: Digests, record_sig: str | None, digest: str, listing: Listing, out_dir: Path
) -> bool:
    """The last build's conclusions still hold: same setup, record, listing and outputs, nothing racy."""
    if (header.setup, header.selection, header.rendering) != (digests.setup, digests.selection, digests.rendering):
        return False
    if record_sig is None or record_sig != header.record_sig or digest != header.digest:
        return False
    if listing.newest_mtime_ns() >= header.taken_ns - RACY_NS:
        return False
    return all(file_signature(out_dir / name) == sig for name, sig in header.outputs.items())


def report_unchanged(header: CacheHeader, settings: Settings, report: BuildReport) -> BuildReport:
    report.skipped = [(str(settings.seeds_dir / name), reason) for name, reason in header.skipped]
    report.warnings = [f"{settings.seeds_dir / name}: {text}" for name, text in header.warnings]
    report.entries = dict(header.entries)
    report.unchanged = len(header.outputs)
    if not report.seeds:
        report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")
    return report


@dataclass
class State:
    """What this build concluded about the seeds, whichever way it got there."""

    top: dict[str, list[list]]  # feed -> [[published, seq, key, name], ...] newest first
    changed: dict[str, str]  # key -> file name, for entries whose text was edited
    skipped: list[tuple[str, str]]  # (file name, reason), by name
    warnings: list[tuple[str, str]]
    dup_keys: list[str]
    infos: list  # SeedInfos to (re)write in the cache; with `replace_all`, every file's line, sorted
    replace_all: bool = False

    def cache_lines(self, lines: bytes, gone: list[str]) -> bytes:
        """The cache's per-file lines, sorted by name: rebuilt after a full look, else the
        previous lines with this build's changes spliced in."""
        if self.replace_all:
            return join_lines(self.infos)
        changes: dict[str, bytes | None] = {name: None for name in gone}
        for info in self.infos:
            changes[info.name] = info.to_line().encode("utf-8", "surrogateescape")
        return splice(lines, changes, line_name)


def _row(info: SeedInfo) -> list:
    return [info.published, info.seq, info.key, info.name]


def _row_sort(row: list) -> tuple:
    return (-row[0], -row[1], row[2])


def observe(record: Record, info: SeedInfo, authority: str, now: datetime, changed: dict[str, str]) -> None:
    """Tell the record what a seed holds now, and set the info's published time from it."""
    line, what = record.observe_changed(info.key, info.fingerprint, datetime.fromtimestamp(info.mtime, UTC), now, authority)
    if what == "edited":  # a new key has no page yet; an edited one may have a page to follow it
        changed[info.key] = info.name
    info.published = info.date_ts if info.date_ts is not None else line.first_seen.timestamp()


def update_incrementally(
    header: CacheHeader, record: Record, fresh: list[SeedInfo], old: dict[str, SeedInfo], settings: Settings, now: datetime
) -> State | None:
    """Fold a few new or edited seeds into the last build's feeds, or None when only a full look
    at every seed can say what the feeds hold now (a shown seed removed or re-dated, a key that
    two files claim, a file renumbered)."""
    shown = {row[3] for rows in header.top.values() for row in rows}
    dups = set(header.dup_keys)
    fresh_names = {info.name for info in fresh}
    fresh_keys = [info.key for info in fresh if not info.skip]
    if len(fresh_keys) != len(set(fresh_keys)) or dups & set(fresh_keys):
        return None
    for name, info in old.items():
        if name not in fresh_names and (name in shown or info.key in dups):
            return None
    for info in fresh:
        before = old.get(info.name)
        if before is not None and before.name in shown:
            if info.skip or (info.category, info.date_ts, info.seq) != (before.category, before.date_ts, before.seq):
                return None
        if before is None and not info.skip and info.key in record:
            return None

    changed: dict[str, str] = {}
    top = {spec.name: [list(row) for row in header.top.get(spec.name, [])] for spec in settings.feeds}
    infos = []
    authority = settings.authority()
    for info in fresh:
        infos.append(info)
        if info.skip:
            continue
        observe(record, info, authority, now, changed)
        for spec in settings.feeds:
            rows = [row for row in top[spec.name] if row[3] != info.name]
            if spec.accepts(info.category or None):
                rows.append(_row(info))
                rows.sort(key=_row_sort)
            top[spec.name] = rows[: spec.limit]
    touched = fresh_names | set(old)
    skipped = [(n, r) for n, r in header.skipped if n not in touched] + [(i.name, i.skip) for i in fresh if i.skip]
    warnings = [(n, w) for n, w in header.warnings if n not in touched] + [(i.name, i.warning) for i in fresh if i.warning and not i.skip]
    return State(top, changed, sorted(skipped), sorted(warnings), header.dup_keys, infos)


def update_fully(
    record: Record, lines: list[str], fresh: set[str], trusted: bool, settings: Settings, now: datetime
) -> State:
    """Look at every seed: resolve keys two files claim, update the record, choose each feed's entries.

    `lines` are the cache lines of every file, sorted by name; `fresh` names those read this time.
    Two passes over the lines, parsing one at a time: 100,000 seeds never sit in memory as objects.
    """
    skipped, warnings = [], []
    winner: dict[str, tuple[int, str]] = {}  # key -> (seq, name) of the file that speaks for it
    dups: set[str] = set()
    for line in lines:
        name, _, key, seq, _, _, _, _, skip, warning, _ = line.split("\t")
        if skip:
            skipped.append((name, skip))
            continue
        if warning:
            warnings.append((name, warning))
        other = winner.get(key)
        if other is not None:
            # Two files, one article (a renumbered copy): the higher sequence wins.
            dups.add(key)
            winner[key] = max(other, (int(seq), name))
        else:
            winner[key] = (int(seq), name)
    changed: dict[str, str] = {}
    authority = settings.authority()
    top: dict[str, list[list]] = {spec.name: [] for spec in settings.feeds}
    for i, line in enumerate(lines):
        info = SeedInfo.from_line(line)
        if info.skip:
            continue
        keep = winner[info.key][1]
        if keep != info.name:
            skipped.append((info.name, f"same key as {keep}"))
            continue
        # A trusted record already holds the cached seeds as they are, with their published times.
        if not trusted or info.name in fresh:
            observe(record, info, authority, now, changed)
            lines[i] = info.to_line()
        for spec in settings.feeds:
            if spec.accepts(info.category or None):
                rows = top[spec.name]
                rows.append(_row(info))
                if len(rows) > 4 * spec.limit:  # keep the newest few as we go
                    rows.sort(key=_row_sort)
                    del rows[spec.limit :]
    for spec in settings.feeds:
        top[spec.name].sort(key=_row_sort)
        del top[spec.name][spec.limit :]
    del winner
    return State(top, changed, sorted(skipped), sorted(warnings), sorted(dups), lines, replace_all=True)


def save_cache(parts: list[bytes], path: Path, report: BuildReport) -> None:
    """The cache is an optimisation: failing to save it costs speed next time, never correctness."""
    staging = Staging()
    try:
        staging.add(path, parts, durable=False, compare=False)
        staging.commit()
    except WriteError as e:
        report.warnings.append(f"{e} (the scan cache; the next build reads every seed)")


def render_outputs(settings: Settings, record: Record, state: State, now: datetime, report: BuildReport) -> list[tuple[str, bytes]]:
    """Every output file as (name relative to the output folder, bytes), pages first.

    Only the seeds that are shown (or whose listed page must follow an edit) are read in full.
    """
    # The writers (feedgen, lxml) load only when something is to be written: a build that finds
    # nothing changed never needs them.
    from feedpub import feeds as feed_writer
    from feedpub import site
    from feedpub.jsonfeed import render_json_feed
    from feedpub.opml import OPML_NAME, render_opml

    shown = {row[2]: row[3] for rows in state.top.values() for row in rows}
    for key in sorted(shown):
        record.mark_listed(key)
    # Pages of entries that left the feeds stay on disk so old links keep working; they are
    # re-rendered only when their text changes.
    paged = dict(shown)
    for key, name in state.changed.items():
        if key not in paged and record.get(key).listed:
            paged[key] = name
    entries = {}
    for key in sorted(paged):
        entry = load_entry(paged[key], key, record, settings, report)
        if entry is not None:
            entries[key] = entry
    outputs = [(settings.item_path(key), site.render_item_page(e, settings)) for key, e in entries.items()]
    per_feed = []
    for spec in settings.feeds:
        feed_entries = [entries[row[2]] for row in state.top[spec.name] if row[2] in entries]
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


def load_entry(name: str, key: str, record: Record, settings: Settings, report: BuildReport) -> Entry | None:
    """Read a shown seed in full. A file that vanished or broke since the scan is left out this time."""
    path = settings.seeds_dir / name
    try:
        seed = read_seed(path, root=settings.seeds_dir, agencies=settings.agencies)
    except SeedSkipped as e:
        report.skipped.append((str(path), f"{e.reason} (changed during the build)"))
        return None
    return make_entry(seed, record.get(key), settings)
