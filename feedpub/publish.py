"""build(): seeds -> entries -> outputs, written all together and only when changed.

The only module that touches the output folder and the record file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from feedpub import feeds as feed_writer
from feedpub import site
from feedpub.config import FeedSpec, Settings
from feedpub.model import Entry, Seed, SeedSkipped
from feedpub.output import Staging, WriteError, remove_stale_temporaries
from feedpub.record import Record, RecordError, RecordLine
from feedpub.seeds import SEED_SUFFIXES, read_seed, seed_key

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

    def summary_line(self) -> str:
        feeds = ", ".join(f"{name} {count}" for name, count in self.entries.items())
        return (
            f"{self.seeds} seeds read, {len(self.skipped)} skipped; entries: {feeds}; "
            f"{len(self.written)} files written, {self.unchanged} unchanged"
        )

    def as_dict(self) -> dict:
        return {
            "seeds": self.seeds,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "warnings": self.warnings,
            "notices": self.notices,
            "entries": self.entries,
            "written": self.written,
            "unchanged": self.unchanged,
        }

    def exit_code(self, strict: bool) -> int:
        return 1 if strict and self.skipped else 0


def list_seed_files(seeds_dir: Path) -> list[Path]:
    """Every seed file in the folder (not recursive), sorted by name; dotfiles are not seeds."""
    try:
        entries = list(os.scandir(seeds_dir))
    except FileNotFoundError:
        raise InputError(f"{seeds_dir}: seeds folder not found (use --seeds DIR)") from None
    except NotADirectoryError:
        raise InputError(f"{seeds_dir}: not a folder (use --seeds DIR)") from None
    except OSError as e:
        raise InputError(f"{seeds_dir}: cannot list the seeds folder: {e.strerror}") from None
    names = sorted(e.name for e in entries if not e.name.startswith(".") and e.name.endswith(SEED_SUFFIXES))
    return [seeds_dir / name for name in names]


def read_seeds(paths: Iterable[Path], settings: Settings, report: BuildReport) -> dict[str, tuple[Seed, float]]:
    """Read every seed; skipped ones go to the report. Returns key -> (seed, mtime).

    Two files with the same key (a renumbered copy) are one article: the higher sequence wins.
    """
    found: dict[str, tuple[Seed, float]] = {}
    for path in paths:
        report.seeds += 1
        try:
            mtime = path.stat().st_mtime
            seed = read_seed(path, root=settings.seeds_dir, agencies=settings.agencies)
        except SeedSkipped as e:
            report.skipped.append((str(e.path), e.reason))
            continue
        except OSError as e:
            report.skipped.append((str(path), f"cannot read: {e.strerror}"))
            continue
        report.warnings.extend(f"{path}: {w}" for w in seed.warnings)
        other = found.get(seed.key)
        if other is not None:
            keep, drop = sorted([other[0], seed], key=lambda s: (s.seq or -1, s.path.name), reverse=True)
            found[seed.key] = (keep, mtime if keep is seed else other[1])
            report.skipped.append((str(drop.path), f"same key as {keep.path.name}"))
            continue
        found[seed.key] = (seed, mtime)
    return found


def make_entry(seed: Seed, line: RecordLine, settings: Settings) -> Entry:
    """A seed as published: the stated date else first-seen; `updated` moves only on edits."""
    published = seed.date or line.first_seen
    updated = max(published, line.edited) if line.edited else published
    return Entry(seed, line.id, published, updated, settings.url(settings.item_path(seed.key)))


def select(spec: FeedSpec, entries: Iterable[Entry]) -> list[Entry]:
    """The feed's entries: its categories, newest first, at most `limit`."""
    chosen = sorted((e for e in entries if spec.accepts(e.seed.category)), key=Entry.sort_key)
    return chosen[: spec.limit]


def build(settings: Settings, *, now: datetime | None = None) -> BuildReport:
    """Read the seeds, update the record, write the feeds and pages. Raises BuildError."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = BuildReport()
    try:
        record = Record.load(settings.record_path)
    except RecordError as e:
        raise InputError(str(e)) from None
    before = record.dumps()
    seeds = read_seeds(list_seed_files(settings.seeds_dir), settings, report)
    if not seeds:
        report.notices.append(f"{settings.seeds_dir}: no seeds to publish; the feeds are written empty")

    authority = settings.authority()
    changed: set[str] = set()
    entries = []
    for key, (seed, mtime) in sorted(seeds.items()):
        old = record.lines.get(key)
        line = record.observe(key, seed.fingerprint(), datetime.fromtimestamp(mtime, UTC), now, authority)
        if old != line:
            changed.add(key)
        entries.append(make_entry(seed, line, settings))

    staging = Staging()
    outputs = render_outputs(settings, record, entries, changed, now, report)
    remove_stale_temporaries(settings.out_dir)
    try:
        record_bytes = record.dumps()
        if record_bytes != before:
            staging.add(settings.record_path, record_bytes)
        for name, data in outputs:
            if staging.add(settings.out_dir / name, data):
                report.written.append(name)
            else:
                report.unchanged += 1
        staging.commit()
    except WriteError as e:
        raise BuildError(str(e)) from None
    return report


def render_outputs(
    settings: Settings, record: Record, entries: list[Entry], changed: set[str], now: datetime, report: BuildReport
) -> list[tuple[str, bytes]]:
    """Every output file as (name relative to the output folder, bytes), pages first."""
    per_feed = [(spec, select(spec, entries)) for spec in settings.feeds]
    shown = {e.key for _, chosen in per_feed for e in chosen}
    for key in sorted(shown):
        record.mark_listed(key)
    # A page is (re)rendered when its entry is in a feed or its text changed; pages of entries that
    # left the feeds stay on disk so old links keep working.
    pages = [e for e in entries if e.key in shown or (e.key in changed and record.lines[e.key].listed)]
    outputs = [(settings.item_path(e.key), site.render_item_page(e, settings)) for e in pages]
    for spec, chosen in per_feed:
        report.entries[spec.name] = len(chosen)
        feed_id = record.feed_id(spec.name, settings.authority(), now)
        outputs.append((f"{spec.name}.xml", feed_writer.render_rss(spec, chosen, settings, feed_id)))
        outputs.append((f"{spec.name}.atom", feed_writer.render_atom(spec, chosen, settings, feed_id)))
    return outputs
