"""build(): seeds -> entries -> outputs, written all together and only when changed.

The only module that touches the output folder and the record file.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from feedpub.config import Settings
from feedpub.model import Entry, Seed, SeedSkipped
from feedpub.output import Staging, WriteError, remove_stale_temporaries, remove_stale_temporaries_of
from feedpub.record import Record, RecordError, RecordLine
from feedpub.scan import (
    BAD_NAME,
    RACY_NS,
    CachedLines,
    CacheFile,
    CacheHeader,
    Listing,
    OpenCache,
    SeedInfo,
    delta_path,
    list_files,
    read_chunks,
    seed_signature,
    setup_digest,
    signature,
)
from feedpub.selection import State, speakers, update_fully, update_incrementally
from feedpub.seeds import PERMISSION_DENIED, read_seed

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


def record_signature(path: Path) -> str | None:
    """The record file's size, mtime, inode and ctime: a build trusts a record (takes its lines
    unchecked) only when all four are as the last build left them. ctime because a write in
    place that puts the old mtime back keeps the other three; only the kernel sets ctime."""
    try:
        return seed_signature(path.stat())
    except OSError:
        return None


def scan_seed_folder(seeds_dir: Path, *, stat: bool = True) -> Listing:
    """Every candidate seed file; a missing or unreadable folder is the user's error (exit 2)."""
    try:
        return list_files(seeds_dir, stat=stat)
    except OSError as e:
        raise _seeds_folder_error(seeds_dir, e) from None


def _seeds_folder_error(seeds_dir: Path, error: OSError) -> InputError:
    if isinstance(error, FileNotFoundError):
        return InputError(f"{seeds_dir}: seeds folder not found (use --seeds DIR)")
    if isinstance(error, NotADirectoryError):
        return InputError(f"{seeds_dir}: not a folder (use --seeds DIR)")
    return InputError(f"{seeds_dir}: cannot list the seeds folder: {error.strerror}")


def check_before_locking(settings: Settings) -> None:
    """The user's mistakes a build can tell before it takes the lock (InputError, as the build
    itself would raise under the lock), so that a build bound to fail never creates the record's
    folder and lock file: a seeds folder that cannot be listed, a missing record beside feeds
    that publish entries."""
    try:
        with os.scandir(settings.seeds_dir):
            pass
    except OSError as e:
        raise _seeds_folder_error(settings.seeds_dir, e) from None
    if not os.path.lexists(settings.record_path):
        refuse_a_lost_record(settings)


def make_entry(seed: Seed, line: RecordLine, settings: Settings) -> Entry:
    """A seed as published: the stated date else first-seen; `updated` moves only on edits."""
    published = seed.date or line.first_seen
    updated = max(published, line.edited) if line.edited else published
    # Percent-encoded: a key is a file name, and "?", "#", "%" or a space in it must not change the URL.
    return Entry(seed, line.id, published, updated, settings.url(quote(settings.item_path(seed.key))))


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
    cache_path = cache_path_for(settings.record_path)
    header, found = CacheFile.load_header(cache_path)
    try:
        return _build(settings, now, workers, progress, cache_path, header, found)
    finally:
        if found is not None:  # the previous lines are read from it as needed, until the end
            found.close()


def _build(
    settings: Settings,
    now: datetime,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
    cache_path: Path,
    header: CacheHeader | None,
    found: OpenCache | None,
) -> BuildReport:
    report = BuildReport()
    scan_started = time.time_ns()
    digests = Digests.of(settings)
    known = header is not None and header.setup == digests.setup
    # Without a usable cache every file is read, and its fstat then: no stat calls beforehand.
    listing = scan_seed_folder(settings.seeds_dir, stat=known)
    report.seeds = len(listing) + len(listing.odd)
    record_sig = record_signature(settings.record_path)
    digest = listing.digest() if known else ""
    if known and nothing_changed(header, digests, record_sig, digest, settings.out_dir, listing):
        return report_unchanged(header, settings, listing, report, now)

    rest = CacheFile.read_rest(found, header) if known else None
    if rest is None:
        header = CacheHeader()  # nothing known: every seed is read
    trusted = record_sig is not None and record_sig == header.record_sig
    try:
        record = Record.load(settings.record_path, trusted=trusted)
        if not record.has_seeds():  # a first build, or a record lost (perhaps all but its feed lines)
            refuse_a_lost_record(settings)
        # A first build (empty record) mints ids in the reader processes: see scan.read_line.
        mint = (now.timestamp(), settings.authority()) if not record.has_seeds() else None
        changes = read_changes(
            settings, listing, rest, header, workers or default_workers(), progress, mint, report.notices.append
        )
        report.reread = len(changes.fresh)
        state = None
        if trusted and header.selection == digests.selection:
            state = update_incrementally(header, record, changes, settings, now)
        if state is None:
            every = changes.every_line()
            # Every line was read this time (no names to check), and then the readers' record lines
            # line up with them.
            all_fresh = every is changes.fresh
            fresh_names = None if all_fresh else changes.fresh_names()
            minted = changes.minted if all_fresh and any(changes.minted) else None
            changes.lines, changes.fresh, changes.minted = None, [], []  # the full look rewrites every line: let these go
            state = update_fully(record, every, fresh_names, trusted, settings, now, minted, header.dup_keys)
            del minted  # the record holds those lines now
        report.skipped += skip_lines(state.skipped, listing, settings)
        report.warnings += [f"{settings.seeds_dir / name}: {text}" for name, text in state.warnings]
        report.warnings += future_dates(state.top, now, settings)
        if not listing:
            report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")
        plan = plan_partial(header, digests, state, record, settings)
        lines = (lambda: state.infos) if state.replace_all else changes.every_line
        every_page = bool(header.rendering) and header.rendering != digests.rendering  # other settings or code
        kept = partial(kept_pages, record, settings, lines, every_page)
        outputs = render_outputs(settings, record, state, now, report, plan, kept)
        del kept  # it holds the record, freed below
        if record.minted and settings.local_authority():
            ids = f"{record.minted} new id{'s' if record.minted > 1 else ''}"
            report.notices.append(
                f"{ids} minted under tag:{settings.authority()}, which no one owns; ids never change, "
                "so set site.base_url (or site.tag_authority) to your own domain before publishing"
            )
    except RecordError as e:
        raise InputError(str(e)) from None

    write_outputs(settings, outputs, record, report)
    checked = [name for name, data in outputs if not isinstance(data, LaterPage)]  # see LaterPage
    del record, outputs  # written: free the record (LaterPages hold it too) before the cache is put together
    header = CacheHeader(
        setup=digests.setup,
        selection=digests.selection,
        rendering=digests.rendering,
        taken_ns=scan_started,
        record_sig=record_signature(settings.record_path) or "",
        digest=digest if rest is not None else listing.digest(),  # a cold read filled in the numbers
        top=state.top,
        outputs={name: file_signature(settings.out_dir / name) or "" for name in checked},
        skipped=[list(item) for item in state.skipped],
        warnings=[list(item) for item in state.warnings],
        dup_keys=state.dup_keys,
        entries=dict(report.entries),
        mtimes=list(listing.mtime_span()),
    )
    save_cache(CacheFile.writes(cache_path, header, listing, state.cache_lines(changes.gone), changes.lines), report)
    return report


@dataclass
class Changes:
    """The seed files this build read (their fresh cache lines), and what the cache said before."""

    fresh: list[str]  # cache lines of the files read, sorted by name
    gone: list[str]  # names of files that disappeared
    old: dict[str, SeedInfo]  # name -> the cache's previous view of a file read again or gone
    lines: CachedLines | None  # the cache's previous per-file lines, sorted by name
    minted: list[bytes | None] = field(default_factory=list)  # new record line from the readers, by `fresh` line

    def fresh_infos(self) -> list[SeedInfo]:
        return [SeedInfo.from_line(line) for line in self.fresh]

    def fresh_names(self) -> set[str]:
        return {line.split("\t", 1)[0] for line in self.fresh}

    def every_line(self) -> list[str]:
        """Every current file's line, sorted by name: the fresh ones, and the cached ones still valid."""
        if not self.lines:
            return self.fresh  # read in name order
        kept = (line for line in self.lines.all().decode("utf-8", "surrogateescape").split("\n")[:-1]
                if line.split("\t", 1)[0] not in self.old)
        return list(heapq.merge(kept, self.fresh, key=lambda line: line.split("\t", 1)[0]))


def refuse_a_lost_record(settings: Settings) -> None:
    """An empty record beside feeds that publish entries is a lost one, not a first build: a build
    would give every entry a new id and date, and readers would see old stories as new."""
    for spec in settings.feeds:
        try:
            entries = (settings.out_dir / f"{spec.name}.xml").read_bytes().count(b"<item>")
        except OSError:
            continue
        if entries:
            state = "is empty" if settings.record_path.exists() else "is missing"
            raise InputError(
                f"{settings.record_path}: the record {state}, but {settings.out_dir / spec.name}.xml publishes "
                f"{entries} entries whose ids it held; restore it, or run `feedpub build --rebuild-record` "
                "to recover it from the published feeds (or delete the feeds to start afresh)"
            )


def read_changes(
    settings: Settings, listing: Listing, rest, header: CacheHeader, workers: int, progress, mint, notice
) -> Changes:
    """Read the files that are new, changed or racy since the last scan (all of them without one),
    and those the last build was not allowed to read: a permission put right changes no size or
    mtime. (Other read errors, a symlink loop say, last until the file changes.)"""
    if rest is None:
        lines, gone = None, []
        to_read = listing.names  # in directory order, for the listing's numbers: sorted below
    else:
        before, lines = rest
        to_read, gone = listing.changes_since(before, header.taken_ns - RACY_NS)
        unreadable = {name for name, reason in header.skipped if reason == PERMISSION_DENIED}
        if unreadable:
            to_read = sorted(unreadable.intersection(listing.names).union(to_read))
    fresh, minted, numbers = [], [], array("q")
    chunks = read_chunks(settings.seeds_dir, to_read, settings.agencies, workers=workers, progress=progress, mint=mint, notice=notice)
    for chunk_lines, chunk_numbers in chunks:
        numbers.extend(chunk_numbers)
        for item in chunk_lines:
            line, _, record_line = item.partition("\n")
            fresh.append(line)
            minted.append(record_line.encode("utf-8") if record_line else None)
    if rest is None:
        # Every file was read, and fstat-ed as it was: that is the listing's numbers (a cold build
        # lists names only). The lines go by name, as the cache keeps them.
        listing.numbers = numbers
        order = sorted(range(len(fresh)), key=to_read.__getitem__)
        fresh, minted = [fresh[i] for i in order], [minted[i] for i in order]
    old = {}
    if lines:
        for name in to_read + gone:
            raw = lines.find(name)
            if raw is not None:
                old[name] = SeedInfo.from_line(raw.decode("utf-8", "surrogateescape"))
    return Changes(fresh, gone, old, lines, minted)


def write_outputs(settings: Settings, outputs: list[tuple[str, Output]], record: Record, report: BuildReport) -> None:
    """Publish every output whose bytes changed, then the record, all or nothing. An output
    without bytes was not rendered again (see `plan_partial`): it stays as it is, unchanged."""
    remove_stale_temporaries(settings.out_dir)
    cache = cache_path_for(settings.record_path)
    remove_stale_temporaries_of([settings.record_path, cache, delta_path(cache)])
    staging = Staging()
    try:
        for name, data in outputs:
            if isinstance(data, LaterPage):
                data = data.render()
            if data is not None and staging.add(settings.out_dir / name, data):
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


def nothing_changed(
    header: CacheHeader, digests: Digests, record_sig: str | None, digest: str, out_dir: Path, listing: Listing
) -> bool:
    """The last build's conclusions still hold: same setup, record, listing and outputs, nothing racy."""
    if (header.setup, header.selection, header.rendering) != (digests.setup, digests.selection, digests.rendering):
        return False
    if record_sig is None or record_sig != header.record_sig or digest != header.digest:
        return False
    if any(reason == PERMISSION_DENIED for _, reason in header.skipped):
        return False  # a file may have become readable without a change the listing shows
    # The listing is the one the header describes (same digest), so the header's span holds for it.
    newest = header.mtimes[1] if len(header.mtimes) == 2 else listing.newest_mtime_ns()
    if newest >= header.taken_ns - RACY_NS:
        return False
    return all(file_signature(out_dir / name) == sig for name, sig in header.outputs.items())


def skip_lines(skipped: list, listing: Listing, settings: Settings) -> list[tuple[str, str]]:
    """The report's skipped seeds, by path: those the build concluded (or the cache remembers),
    and the names the cache cannot hold (a tab, a line feed: Listing.odd), never read, every build."""
    both = sorted([(name, reason) for name, reason in skipped] + [(name, BAD_NAME) for name in listing.odd])
    return [(str(settings.seeds_dir / name), reason) for name, reason in both]


def report_unchanged(
    header: CacheHeader, settings: Settings, listing: Listing, report: BuildReport, now: datetime
) -> BuildReport:
    report.skipped = skip_lines(header.skipped, listing, settings)
    report.warnings = [f"{settings.seeds_dir / name}: {text}" for name, text in header.warnings]
    report.warnings += future_dates(header.top, now, settings)
    report.entries = dict(header.entries)
    report.unchanged = len(header.outputs)
    if not report.seeds:
        report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")
    return report


def future_dates(top: dict[str, list[list]], now: datetime, settings: Settings) -> list[str]:
    """A warning for each shown entry dated over a day after the build's clock: most likely a
    typo, and it keeps the entry at the top of its feeds until then (the W3C validator calls
    such dates implausible). Said by every build, changed or not, as long as it holds."""
    after = now.timestamp() + 86_400
    ahead = {row[3]: row[0] for rows in top.values() for row in rows if row[0] > after}
    return [
        f"{settings.seeds_dir / name}: states a date in the future "
        f"({datetime.fromtimestamp(ahead[name], UTC):%Y-%m-%d %H:%M} UTC); it tops the feeds until then"
        for name in sorted(ahead)
    ]


def save_cache(writes: list[tuple[Path, Iterable[bytes] | None]], report: BuildReport) -> None:
    """The cache is an optimisation: failing to save it costs speed next time, never correctness.
    A file to remove (a delta the new base replaces) that stays is harmless: it names the old base."""
    staging = Staging()
    try:
        for path, parts in writes:
            if parts is not None:
                staging.add(path, parts, durable=False, compare=False)
        staging.commit()
    except WriteError as e:
        report.warnings.append(f"{e} (the scan cache; the next build reads every seed)")
        return
    for path, parts in writes:
        if parts is None:
            try:
                path.unlink()
            except OSError:
                pass


# Output names that are not a feed's or a page's. Spelled out here, not imported from site.py or
# opml.py: those load lxml, which a build that renders nothing must not pay for (a test holds
# these equal to the writers' own names).
STYLESHEET_NAME = "feed.xsl"
OPML_NAME = "feeds.opml"
INDEX_NAME = "index.html"
FEED_SUFFIXES = ("xml", "atom", "json")


@dataclass
class Plan:
    """What an incremental build renders again; every other output stays as the last build left it."""

    feeds: set[str]  # feeds whose three files are rendered again (the front page follows them)
    redo: set[str]  # keys whose entry may read differently (State.dirty_keys, .changed): pages, feeds
    last_shown: set[tuple[str, str]]  # (key, file name) of every entry the last build showed
    last_outputs: set[str]  # every file the last build wrote or checked

    def page(self, key: str, name: str, settings: Settings) -> bool:
        """Whether an entry's page must be rendered: new to the feeds, edited, or not on disk."""
        return key in self.redo or (key, name) not in self.last_shown or settings.item_path(key) not in self.last_outputs


def plan_partial(header: CacheHeader, digests: Digests, state: State, record: Record, settings: Settings) -> Plan | None:
    """After an incremental update, which outputs must be rendered again; None: all of them.

    An output is kept when none of its inputs changed: a feed's files depend on its rows (order,
    published time, key, file name), on the text, id and dates of each entry in them (a key new
    or edited this build, or re-read with another fingerprint: State.dirty_keys), on its id and the
    settings and code (the rendering digest); a page on its entry's text and dates; the front
    page on the feeds; the stylesheet and OPML list on settings and code alone. Any doubt (no
    incremental update, another rendering digest, a published file not as the last build left
    it, an entry the last build could not load) renders everything, as a full build does.
    """
    if state.dirty_keys is None or header.rendering != digests.rendering:
        return None
    fixed = [STYLESHEET_NAME, OPML_NAME, INDEX_NAME]
    feed_files = [f"{spec.name}.{suffix}" for spec in settings.feeds for suffix in FEED_SUFFIXES]
    if any(name not in header.outputs for name in fixed + feed_files):
        return None
    out = settings.out_dir
    if any(file_signature(out / name) != sig for name, sig in header.outputs.items()):
        return None
    redo = state.dirty_keys | set(state.changed)
    feeds = set()
    for spec in settings.feeds:
        rows = state.top[spec.name]
        if (
            rows != header.top.get(spec.name)
            or header.entries.get(spec.name) != len(rows)  # the last build left an entry out
            or spec.name not in record.feed_ids
            or any(row[2] in redo for row in rows)
        ):
            feeds.add(spec.name)
    last_shown = {(row[2], row[3]) for rows in header.top.values() for row in rows}
    return Plan(feeds, redo, last_shown, set(header.outputs))


def kept_pages(
    record: Record, settings: Settings, lines: Callable[[], Iterable[str]], every: bool, paged: set[str]
) -> dict[str, str]:
    """The pages of entries that left the feeds which a full render makes again, as key -> the
    seed file that speaks for it (selection.speakers): with `every` (the last build rendered with
    other settings or code), each one whose seed is still there, so old links say what the site
    says now; else those missing from the output folder (a fresh folder, `--out` somewhere new,
    a page deleted: an incremental build does not look for those, the next full render does).
    A page whose seed is gone stays as it is: there is no text to make it again from."""
    keys = record.listed_keys().difference(paged)
    if not every:
        keys = {key for key in keys if not (settings.out_dir / settings.item_path(key)).is_file()}
    return speakers(lines(), keys) if keys else {}


def render_outputs(
    settings: Settings,
    record: Record,
    state: State,
    now: datetime,
    report: BuildReport,
    plan: Plan | None = None,
    kept: Callable[[set[str]], dict[str, str]] | None = None,
) -> list[tuple[str, Output]]:
    """Every output file as (name relative to the output folder, bytes), pages first; with a
    plan, the outputs it keeps come with None instead of bytes (same names, same order).

    Only the seeds that are shown (or whose listed page must follow an edit) are read in full,
    and with a plan only those some rendered output needs. Without one, `kept` names the pages
    of entries that left the feeds to render too (see kept_pages): those come as a LaterPage,
    read and rendered only as it is written.
    """
    shown = {row[2]: row[3] for rows in state.top.values() for row in rows}
    for key in sorted(shown):
        if plan is None or (key, shown[key]) not in plan.last_shown:  # the others are marked already
            record.mark_listed(key)
    # Pages of entries that left the feeds stay on disk so old links keep working; they are
    # re-rendered when their text changes, and in a full render when missing or out of date.
    paged = dict(shown)
    for key, name in state.changed.items():
        if key not in paged and record.get(key).listed:
            paged[key] = name
    loaded: dict[str, Entry | None] = {}

    def load(keys) -> None:
        for key in sorted(keys):
            if key not in loaded:
                loaded[key] = load_entry(paged[key], key, record, settings, report)

    if plan is not None:
        pages = {key for key in paged if plan.page(key, paged[key], settings)}
        feeds = {spec.name for spec in settings.feeds if spec.name in plan.feeds}
        index = bool(feeds)
        load(pages | {row[2] for name in feeds for row in state.top[name]} | (set(shown) if index else set()))
        if None in loaded.values():
            plan = None  # a shown seed broke or vanished since the scan: do what a full build does
    later: dict[str, str] = {}
    if plan is None:
        later = kept(set(paged)) if kept is not None else {}
        pages, feeds, index = set(paged), {spec.name for spec in settings.feeds}, True
        load(paged)
    entries = {key: entry for key, entry in sorted(loaded.items()) if entry is not None}

    # The writers (feedgen, lxml) load only when something is to be rendered: a build that
    # changed nothing shown never needs them.
    if pages or index:
        from feedpub import site
    if feeds:
        from feedpub import feeds as feed_writer
        from feedpub.jsonfeed import render_json_feed

    outputs: list[tuple[str, Output]] = []
    for key in sorted(paged):
        if key not in pages:
            outputs.append((settings.item_path(key), None))
        elif key in entries:
            outputs.append((settings.item_path(key), site.render_item_page(entries[key], settings)))
    for key, name in sorted(later.items()):
        outputs.append((settings.item_path(key), LaterPage(key, name, record, settings, report)))
    per_feed = []
    for spec in settings.feeds:
        rows = state.top[spec.name]
        feed_entries = [entries[row[2]] for row in rows if row[2] in entries]
        per_feed.append((spec, feed_entries))
        if spec.name not in feeds:  # kept: it shows every one of its rows (see plan_partial)
            report.entries[spec.name] = len(rows)
            outputs += [(f"{spec.name}.{suffix}", None) for suffix in FEED_SUFFIXES]
            continue
        report.entries[spec.name] = len(feed_entries)
        feed_id = record.feed_id(spec.name, settings.authority(), now)
        outputs.append((f"{spec.name}.xml", feed_writer.render_rss(spec, feed_entries, settings, feed_id)))
        outputs.append((f"{spec.name}.atom", feed_writer.render_atom(spec, feed_entries, settings, feed_id)))
        outputs.append((f"{spec.name}.json", render_json_feed(spec, feed_entries, settings)))
    if plan is None:
        from feedpub.opml import render_opml

        outputs.append((STYLESHEET_NAME, site.render_stylesheet(settings)))
        outputs.append((OPML_NAME, render_opml(settings)))
    else:
        outputs += [(STYLESHEET_NAME, None), (OPML_NAME, None)]
    # Last: it links to all the rest. When rendered, every shown entry is loaded for it.
    outputs.append((INDEX_NAME, site.render_index(per_feed, settings) if index else None))
    return outputs


@dataclass
class LaterPage:
    """The page of an entry that left the feeds, read and rendered only when it is written: a full
    render may make thousands of these, and only one is in memory at a time. Not among the
    outputs the next build checks (CacheHeader.outputs): that would be a stat of every page of
    every entry ever shown, each build."""

    key: str
    name: str  # its seed file
    record: Record
    settings: Settings
    report: BuildReport

    def render(self) -> bytes | None:
        from feedpub import site

        entry = load_entry(self.name, self.key, self.record, self.settings, self.report)
        return None if entry is None else site.render_item_page(entry, self.settings)


Output = bytes | None | LaterPage  # None: kept as the last build left it


def load_entry(name: str, key: str, record: Record, settings: Settings, report: BuildReport) -> Entry | None:
    """Read a shown seed in full. A file that vanished or broke since the scan is left out this time."""
    path = settings.seeds_dir / name
    try:
        seed = read_seed(path, root=settings.seeds_dir, agencies=settings.agencies)
    except SeedSkipped as e:
        report.skipped.append((str(path), f"{e.reason} (changed during the build)"))
        return None
    return make_entry(seed, record.get(key), settings)
