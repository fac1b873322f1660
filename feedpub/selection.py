"""Which entries each feed holds, and what the record learns: from a few changed seeds, or from all.

A build that read a few new or edited seeds folds them into the previous feeds' entries
(`update_incrementally`); when that cannot be decided locally (a shown seed vanished or was
re-dated, a key two files claim, a renumbered file) or nothing is known, every seed's cache line
is looked at (`update_fully`). Both give the same State, and a property test holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

from feedpub.config import Settings
from feedpub.record import Record, RecordLine
from feedpub.scan import CacheHeader, LineBlocks, SeedInfo

if TYPE_CHECKING:
    from feedpub.publish import Changes

UTC = timezone.utc


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
    # Keys whose entry may read differently from what the last build rendered (new or edited in
    # the record, or re-read with another fingerprint), when known: an incremental update knows;
    # after a full look it is None, and every output is rendered again.
    dirty_keys: set[str] | None = None

    def cache_lines(self, gone: list[str]) -> LineBlocks | dict[str, bytes | None]:
        """The cache's per-file lines: every line anew after a full look, else the lines this
        build changed (None: a file gone), for `CacheFile.writes`."""
        if self.replace_all:
            return LineBlocks(self.infos)
        changes: dict[str, bytes | None] = {name: None for name in gone}
        for info in self.infos:
            changes[info.name] = info.to_line().encode("utf-8", "surrogateescape")
        return changes


def _row(info: SeedInfo) -> list:
    return [info.published, info.seq, info.key, info.name]


def _row_sort(row: list) -> tuple:
    return (-row[0], -row[1], row[2])


def _seq_and_name(line: str) -> tuple[int, str]:
    name, _, _, seq, _ = line.split("\t", 4)
    return int(seq), name


def observe(
    record: Record, info: SeedInfo, old: RecordLine | None, authority: str, now: datetime, changed: dict[str, str]
) -> str:
    """Tell the record what a seed holds now, given the key's line as it stands (`old`: Record.get,
    or Record.raw_sorted and parse_raw for many keys), and set the info's published time from it;
    returns what happened to its line: "new", "edited" or "" (nothing a reader sees)."""
    seen = datetime.fromtimestamp(info.mtime, UTC)
    line, what = record.observe_against(old, info.key, info.fingerprint, seen, now, authority)
    if what == "edited":  # a new key has no page yet; an edited one may have a page to follow it
        changed[info.key] = info.name
    info.published = info.date_ts if info.date_ts is not None else line.first_seen.timestamp()
    return what


def update_incrementally(header: CacheHeader, record: Record, changes: Changes, settings: Settings, now: datetime) -> State | None:
    """Fold a few new or edited seeds into the last build's feeds, or None when only a full look
    at every seed can say what the feeds hold now (a shown seed removed or re-dated, a key that
    two files claim, a file renumbered)."""
    fresh, old = changes.fresh_infos(), changes.old
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
    dirty_keys: set[str] = set()
    top = {spec.name: [list(row) for row in header.top.get(spec.name, [])] for spec in settings.feeds}
    infos = []
    authority = settings.authority()
    for info in fresh:
        infos.append(info)
        if info.skip:
            continue
        before = old.get(info.name)
        # A fingerprint adopted without an edit (a recovered or older record line) changes no date,
        # but the text may still differ from the one rendered: compare with the cache's view too.
        what = observe(record, info, record.get(info.key), authority, now, changed)
        if what or before is None or before.fingerprint != info.fingerprint:
            dirty_keys.add(info.key)
        for spec in settings.feeds:
            rows = [row for row in top[spec.name] if row[3] != info.name]
            if spec.accepts(info.category or None):
                rows.append(_row(info))
                rows.sort(key=_row_sort)
            top[spec.name] = rows[: spec.limit]
    touched = fresh_names | set(old)
    skipped = [(n, r) for n, r in header.skipped if n not in touched] + [(i.name, i.skip) for i in fresh if i.skip]
    warnings = [(n, w) for n, w in header.warnings if n not in touched] + [(i.name, i.warning) for i in fresh if i.warning and not i.skip]
    return State(top, changed, sorted(skipped), sorted(warnings), header.dup_keys, infos, dirty_keys=dirty_keys)


class _Newest:
    """Each feed's newest entries among those offered, kept to a few at a time as they come."""

    def __init__(self, settings: Settings):
        self.feeds = settings.feeds
        self.top: dict[str, list[list]] = {spec.name: [] for spec in settings.feeds}
        self._feeds_for: dict[str, list] = {}  # category -> the feeds that take it

    def offer(self, category: str, published: float, seq: int, key: str, name: str) -> None:
        specs = self._feeds_for.get(category)
        if specs is None:
            specs = self._feeds_for[category] = [spec for spec in self.feeds if spec.accepts(category or None)]
        for spec in specs:
            rows = self.top[spec.name]
            rows.append([published, seq, key, name])
            if len(rows) > 4 * spec.limit:
                rows.sort(key=_row_sort)
                del rows[spec.limit :]

    def result(self) -> dict[str, list[list]]:
        for spec in self.feeds:
            self.top[spec.name].sort(key=_row_sort)
            del self.top[spec.name][spec.limit :]
        return self.top


def update_fully(
    record: Record,
    lines: list[str],
    fresh: set[str] | None,
    trusted: bool,
    settings: Settings,
    now: datetime,
    minted: list[bytes | None] | None = None,
    contested: Iterable[str] = (),
) -> State:
    """Look at every seed: resolve keys two files claim, update the record, choose each feed's entries.

    `lines` are the cache lines of every file, sorted by name; `fresh` names those read this time
    (None: all of them); `minted[i]`, on a first build, is the record line the readers made for
    `lines[i]`; `contested`, the keys two files claimed at the last build (the file that speaks for
    one may have changed hands without being read again). The lines are parsed one at a time:
    100,000 seeds never sit in memory as objects.
    """
    if minted is not None:
        state = _first_build(record, lines, minted, settings)
        if state is not None:
            return state
    # Two passes: the first finds which file speaks for each key.
    every = not trusted or fresh is None  # every seed is to be observed (see below)
    fresh_keys: set[str] = set()  # otherwise: the keys of the files read this time
    skipped, warnings = [], []
    # key -> index of the line of the file that speaks for it: an int, not (seq, name), because
    # 100,000 of these are alive at once; the rare duplicate looks its rival up again.
    winner: dict[str, int] = {}
    dups: set[str] = set()
    for i, line in enumerate(lines):
        name, _, key, seq, _, _, _, _, skip, warning, _ = line.split("\t")
        if skip:
            skipped.append((name, skip))
            continue
        if warning:
            warnings.append((name, warning))
        if not every and name in fresh:
            fresh_keys.add(key)
        other = winner.get(key)
        if other is not None:
            # Two files, one article (a renumbered copy): the higher sequence wins.
            dups.add(key)
            if (int(seq), name) > _seq_and_name(lines[other]):
                winner[key] = i
        else:
            winner[key] = i
    contested = dups.union(contested)
    if minted:
        # The readers' record lines of the winners, under the key strings `winner` already holds.
        for key, i in winner.items():
            if minted[i] is not None:
                record.put_serialised(key, minted[i])
    # The winners whose record lines must be brought up to date (a trusted record already holds the
    # cached seeds as they are, with their published times; a seed minted by its reader, on a first
    # build, has its line and published time too), observed in key order: their record lines are
    # then found in one walk through the record. A fresh clone (no cache, a record not known to be
    # as the last build left it) observes every seed. A key in fresh_keys that two files claim is
    # contested, so "the winner was read this time" needs no look at which file won.
    observed = sorted(
        key for key in (winner if every else fresh_keys.union(contested).intersection(winner))
        if not (minted and minted[winner[key]] is not None)
    )
    changed: dict[str, str] = {}
    authority = settings.authority()
    for key, raw in zip(observed, record.raw_sorted(observed)):
        i = winner[key]
        line = lines[i]
        _, _, _, _, _, date, fingerprint, _ = line.split("\t", 7)
        first_seen = record.unchanged_first_seen(raw, fingerprint)
        if first_seen is not None:  # the seed as the record knows it: only its published time to set
            published = float(date) if date else first_seen  # as SeedInfo.to_line ends a line
            lines[i] = line[: line.rindex("\t")] + "\t" + repr(published)
            continue
        info = SeedInfo.from_line(line)
        observe(record, info, record.parse_raw(raw), authority, now, changed)
        lines[i] = info.to_line()  # with its published time
    del observed
    changed = dict(sorted(changed.items(), key=lambda item: item[1]))  # by name, as the lines go
    newest = _Newest(settings)
    for i, line in enumerate(lines):
        # Split, not SeedInfo.from_line: most lines need no more than these fields.
        name, _, key, seq, category, _, _, _, skip, _, published = line.split("\t")
        if skip:
            continue
        keep = winner[key]
        if keep != i:
            keep = _seq_and_name(lines[keep])[1]
            skipped.append((name, f"same key as {keep}"))
            # A file that loses its key has no published time of its own (whatever its line held from
            # when it won): were it to win again, its key is contested and it is observed then.
            if published != "0.0":
                lines[i] = line[: line.rindex("\t")] + "\t0.0"
            continue
        newest.offer(category, float(published), int(seq), key, name)
    del winner
    return State(newest.result(), changed, sorted(skipped), sorted(warnings), sorted(dups), lines, replace_all=True)


def speakers(lines: Iterable[str], keys: set[str]) -> dict[str, str]:
    """The file that speaks for each of `keys` among these cache lines, by key: of the files not
    skipped that claim a key, the one of the highest (sequence, name), as update_fully decides."""
    best: dict[str, tuple[int, str]] = {}
    for line in lines:
        name, _, key, seq, _, _, _, _, skip, _, _ = line.split("\t")
        if key in keys and not skip:
            rank = (int(seq), name)
            if key not in best or rank > best[key]:
                best[key] = rank
    return {key: name for key, (_, name) in best.items()}


def _first_build(record: Record, lines: list[str], minted: list[bytes | None], settings: Settings) -> State | None:
    """`update_fully` when the readers minted every seed's record line, in one pass over the lines:
    nothing to observe, and unless two files claim one key (then None: the two passes decide), no
    file loses to another."""
    skipped, warnings = [], []
    winner: dict[str, int] = {}
    newest = _Newest(settings)
    for i, line in enumerate(lines):
        name, _, key, seq, category, _, _, _, skip, warning, published = line.split("\t")
        if skip:
            skipped.append((name, skip))
            continue
        if key in winner or minted[i] is None:
            return None
        winner[key] = i
        if warning:
            warnings.append((name, warning))
        newest.offer(category, float(published), int(seq), key, name)
    for key, i in winner.items():
        record.put_serialised(key, minted[i])
    return State(newest.result(), {}, sorted(skipped), sorted(warnings), [], lines, replace_all=True)
