"""Knowing every seed without reading every seed: the scan cache and the parallel reader.

A build needs, for each of possibly 100,000 seeds, only what decides whether it makes a feed:
key, sequence number, category, stated date, fingerprint (or the reason it is skipped). The
cache beside the record keeps exactly that per file, with the file's size, mtime, inode and
ctime, plus what the last build concluded: each feed's newest entries, the files it wrote, the
skipped seeds. A rebuild stats every file; when nothing changed (same listing digest, no file
modified within a couple of seconds of the last scan, the outputs as written) it is done. When
something changed it re-reads only new, changed and "racy" files (modified so close to the last
scan that an edit in the same timestamp tick could hide; re-reading compares the fingerprint).

The cache is one JSON header line, the last listing, then one tab-separated line per file sorted
by name, so the no-change check reads one line and a change is found by walking two sorted lists.
A build that changed a few files does not rewrite 20 MB of lines: it writes a small delta file
beside it, with its header, its listing and every line changed since the base was written (a
full look, or a delta grown too large, writes a new base and drops the delta). It is derived
data: deleting it costs one cold build, never a wrong feed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from feedpub.model import SeedSkipped
from feedpub.record import new_line_json
from feedpub.seeds import ANY_CASE_SUFFIXES, READ_AT, read_seed_at, read_seed_bytes, seed_key, skim_seed
from feedpub.sorted_lines import find, splice_pieces

CACHE_FORMAT = 7
RACY_NS = 2_000_000_000  # mtime this close to the previous scan: re-read, timestamps may be coarse
PARALLEL_FROM = 2_000  # fewer files than this are read in-process: a pool costs more than it saves
CHUNK = 500
# A delta is kept while it holds at most this many lines and their bytes are at most this share of
# the base's lines; past that the next build folds it into a new base.
DELTA_MAX_LINES = 2_000
DELTA_MAX_SHARE = 0.1

# A file name becomes the entry's key, its item page's name and part of its URL and id: control
# characters (not allowed in XML) or bytes that are not UTF-8 would make the build fail.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
BAD_NAME = "file name holds control characters or is not UTF-8; rename it"
# A seed's key names its page, items/<key>.html, and a file name has at most 255 bytes.
MAX_PAGE_NAME_BYTES = 255
LONG_NAME = f"file name too long: its page name (<key>.html) would pass {MAX_PAGE_NAME_BYTES} bytes; shorten it"
DOT_KEY = "key starts with a dot: its page (items/.<key>.html) would be a hidden file no server serves; rename it"
# The cache's separators: a name holding one is kept out of the listing and the cache altogether
# (Listing.odd) and reported with BAD_NAME by every build.
_SEPARATOR = re.compile("[\t\n]")
# What a listing keeps of each file, one after another: size, mtime (ns), inode, ctime (ns). ctime
# because an edit followed by `touch -r` (or a tool that puts the old mtime back) keeps size, mtime
# and inode, while ctime is set by the kernel alone, on every change: git's index trusts it so too.
FIELDS = 4
_MTIME = 1


def stat_numbers(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def seed_signature(st: os.stat_result) -> str:
    """A seed file's signature in its cache line ("size:mtime_ns:ino:ctime_ns")."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


@dataclass(slots=True)
class SeedInfo:
    """What the scan knows of one seed file. `skip` is the reason when it is not a seed."""

    name: str
    signature: str  # seed_signature: "size:mtime_ns:ino:ctime_ns"
    key: str = ""
    seq: int = -1
    category: str = ""
    date_ts: float | None = None  # the stated date as a POSIX timestamp
    fingerprint: str = ""
    mtime: float = 0.0
    skip: str = ""
    warning: str = ""
    published: float = 0.0  # set by the build from the record: date_ts, else first-seen

    def to_line(self) -> str:
        date = "" if self.date_ts is None else repr(self.date_ts)
        fields = (self.name, self.signature, self.key, str(self.seq), _flat(self.category), date,
                  self.fingerprint, repr(self.mtime), _flat(self.skip), _flat(self.warning), repr(self.published))
        return "\t".join(fields)

    @classmethod
    def from_line(cls, line: str) -> "SeedInfo":
        name, sig, key, seq, category, date, fp, mtime, skip, warning, published = line.split("\t")
        return cls(name, sig, key, int(seq), sys.intern(category), float(date) if date else None, fp, float(mtime), skip, warning,
                   float(published))


def _flat(text: str) -> str:
    """Tabs and line feeds are the cache's separators."""
    return text.replace("\t", " ").replace("\n", " ")


def signature(st: os.stat_result) -> str:
    """A file feedpub wrote itself (an output, the record, the cache): no one sets its mtime back."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


class Listing:
    """The seed folder as one scan saw it: names and each file's FIELDS numbers, in directory
    order, held as a flat array: 100,000 files cost a few MB, not 100,000 stat objects."""

    MISSING = (-1,) * FIELDS  # stat failed: a dangling link, or the file vanished

    def __init__(self, names: list[str], numbers: array, odd: list[str] | None = None):
        self.names = names
        self.numbers = numbers
        self.odd = odd or []  # names holding a tab or a line feed, sorted: never listed, never read
        # (oldest, newest): every listed mtime lies between, perhaps loosely; None: not known.
        # The cache header keeps it (CacheHeader.mtimes), so that the next scan need not look
        # through 100,000 mtimes for racy or missing files when none of the unchanged ones can be.
        self.span: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.names)

    def digest(self) -> str:
        """Equal digests mean no file was added, removed or touched (in the same directory order;
        a new order only costs the slower comparison)."""
        h = hashlib.sha256("\n".join(self.names).encode("utf-8", "surrogateescape"))
        h.update(self.numbers.tobytes())
        if self.odd:
            h.update("\0".join(self.odd).encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def newest_mtime_ns(self) -> int:
        return max(self.numbers[_MTIME::FIELDS], default=0)

    def mtime_span(self) -> tuple[int, int]:
        """`span`, worked out exactly when not known."""
        if self.span is None:
            mtimes = self.numbers[_MTIME::FIELDS]
            self.span = (min(mtimes), max(mtimes)) if mtimes else (0, 0)
        return self.span

    def changes_since(self, before: "Listing", racy_from_ns: int) -> tuple[list[str], list[str]]:
        """Compare with the previous scan: (names of the files to read, names gone), both sorted.

        To read: new files, files whose size, mtime, inode or ctime changed, files stat could not
        see, and racy ones (modified at or after `racy_from_ns`). Only the mtime makes a file racy:
        ctime is there for an edit that put the old mtime back, which it misses only when that
        edit falls in the clock tick of the change the last scan saw. A folder lists its files in a
        stable order, so once the few new and gone names are set aside the two listings line up
        and the numbers are compared in blocks, in C: the cost follows the change, not the folder.

        A file left unchanged has the mtime `before` listed. So when `before.span` shows that none
        of those was racy or missing, only the changed files (read anyway) can be, and the look
        through every mtime is skipped. This listing's `span` is set, for the next scan.
        """
        new: list[int] = []
        gone: list[int] = []
        aligned = True
        if self.names != before.names:
            # Names are added and removed in a few places: only the stretch between the common
            # start and the common end of the two lists needs sets.
            start, end = _common_ends(self.names, before.names)
            here_mid, there_mid = self.names[start : len(self.names) - end], before.names[start : len(before.names) - end]
            here_set, there_set = set(here_mid), set(there_mid)
            new = [start + i for i, name in enumerate(here_mid) if name not in there_set]
            gone = [start + j for j, name in enumerate(there_mid) if name not in here_set]
            aligned = [n for n in here_mid if n in there_set] == [n for n in there_mid if n in here_set]
        changed = set(new)
        if aligned:
            here, there = _without_numbers(self.numbers, new), _without_numbers(before.numbers, gone)
            for k in _differing(here, there):
                changed.add(_nth_kept(k, new))
        else:  # the order moved: compare name by name
            where = dict(zip(before.names, range(len(before.names))))
            cur, old = self.numbers, before.numbers
            for i, name in enumerate(self.names):
                j = where.get(name)
                if j is None or cur[FIELDS * i : FIELDS * i + FIELDS] != old[FIELDS * j : FIELDS * j + FIELDS]:
                    changed.add(i)
        span = before.span
        if span is not None and span[0] >= 0 and span[1] < racy_from_ns:
            ours = [self.numbers[FIELDS * i + _MTIME] for i in changed]
            self.span = (min([span[0], *ours]), max([span[1], *ours]))
        else:
            mtimes = self.numbers[_MTIME::FIELDS]
            block, lows, highs = 1024, [], []
            for lo in range(0, len(mtimes), block):  # max and min of a block run in C; few blocks hold one
                part = mtimes[lo : lo + block]
                lows.append(min(part))
                highs.append(max(part))
                if highs[-1] >= racy_from_ns or lows[-1] < 0:
                    changed.update(lo + i for i, m in enumerate(part) if m >= racy_from_ns or m < 0)
            self.span = (min(lows), max(highs)) if mtimes else (0, 0)
        return sorted(self.names[i] for i in changed), sorted(before.names[j] for j in gone)

    def dumps(self) -> tuple[bytes, bytes]:
        """(names, numbers) as the cache stores them."""
        return "\n".join(self.names).encode("utf-8", "surrogateescape"), self.numbers.tobytes()

    @classmethod
    def loads(cls, names: bytes, numbers: bytes) -> "Listing":
        listing = cls(names.decode("utf-8", "surrogateescape").split("\n") if names else [], array("q"))
        listing.numbers.frombytes(numbers)
        if len(listing.numbers) != FIELDS * len(listing.names):
            raise ValueError("listing sections disagree")
        return listing


def _seed_signature_of(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return ":".join(map(str, Listing.MISSING))
    return seed_signature(st)


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many names the two lists share at the start, and then at the end."""
    shortest = min(len(a), len(b))
    start = _first_difference(a, b, shortest)
    rest = shortest - start
    end = _first_difference(a[::-1], b[::-1], rest)
    return start, end


def _first_difference(a: list[str], b: list[str], limit: int, block: int = 1024) -> int:
    """The first index below `limit` where the lists differ, else `limit`: blocks compared in C."""
    lo = 0
    while lo < limit and a[lo : min(lo + block, limit)] == b[lo : min(lo + block, limit)]:
        lo += block
    return next((i for i in range(lo, limit) if a[i] != b[i]), limit)


def _without_numbers(numbers: array, positions: list[int]) -> array:
    if not positions:
        return numbers
    out, start = array("q"), 0
    for p in positions:  # sorted
        out.extend(numbers[FIELDS * start : FIELDS * p])
        start = p + 1
    out.extend(numbers[FIELDS * start :])
    return out


def _differing(a: array, b: array, block: int = FIELDS * 512) -> list[int]:
    """File indexes whose numbers differ between two aligned arrays."""
    out = []
    for lo in range(0, len(a), block):
        if a[lo : lo + block] != b[lo : lo + block]:
            rows = range(lo // FIELDS, min(len(a), lo + block) // FIELDS)
            out.extend(i for i in rows if a[FIELDS * i : FIELDS * i + FIELDS] != b[FIELDS * i : FIELDS * i + FIELDS])
    return out


def _nth_kept(k: int, removed: list[int]) -> int:
    """The index in the full list of the k-th element left after removing `removed` (sorted)."""
    position = k
    for r in removed:
        if r <= position:
            position += 1
        else:
            break
    return position


def list_files(seeds_dir: Path, *, stat: bool = True) -> Listing:
    """Every candidate seed file (not dotfiles; .txt and .md in any case) with its stat_numbers.

    With `stat=False` only the names are listed (a cold build: reading every file fstats it
    anyway, see `read_chunk`), which spares 100,000 stat calls.
    """
    names: list[str] = []
    numbers = array("q")
    add_name, add_numbers = names.append, numbers.extend
    # Listed through an open folder, each stat is an fstatat of a name, not a walk of the whole
    # path: 8% off the stat of 100,000 files (most of a no-change build).
    folder = os.open(seeds_dir, os.O_RDONLY | os.O_DIRECTORY) if os.scandir in os.supports_fd else seeds_dir
    try:
        with os.scandir(folder) as it:
            for entry in it:  # not a list of entries: each caches its stat result
                name = entry.name
                if name[0] == "." or not name.endswith(ANY_CASE_SUFFIXES):
                    continue
                if stat:
                    try:
                        st = entry.stat()
                        add_numbers((st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))  # stat_numbers, inline
                    except OSError:
                        add_numbers(Listing.MISSING)
                add_name(name)
    finally:
        if isinstance(folder, int):
            os.close(folder)
    joined = "/".join(names)  # "/" is in no file name; plain searches: a regex class takes ~10x as long
    if "\t" in joined or "\n" in joined:
        keep = [i for i, name in enumerate(names) if not _SEPARATOR.search(name)]
        odd = sorted(set(names).difference(names[i] for i in keep))
        if stat:
            numbers = array("q", [n for i in keep for n in numbers[FIELDS * i : FIELDS * i + FIELDS]])
        return Listing([names[i] for i in keep], numbers, odd)
    return Listing(names, numbers)


def name_problem(name: str) -> str:
    """Why a file's name keeps it from being published ("" when it can be)."""
    if _BAD_NAME.search(name):
        return BAD_NAME
    # Only a name of 64 characters or more can hold the 254 bytes it takes (4 bytes a character at most).
    if len(name) >= 64 and len(f"{seed_key(name)[0]}.html".encode("utf-8")) > MAX_PAGE_NAME_BYTES:
        return LONG_NAME
    # "017_.notes.txt": a key after the number that starts with a dot (names starting with one are
    # never listed) would make a hidden page, which web servers refuse to serve.
    if "_." in name and seed_key(name)[0].startswith("."):
        return DOT_KEY
    return ""


def read_info(seeds_dir: str, name: str, agencies: tuple[str, ...]) -> SeedInfo:
    """Read one file and keep only the facts the scan needs (never the body): see seeds.skim_seed.
    Its signature is the fstat of the very file read ("" when it could not be opened)."""
    problem = name_problem(name)
    if problem:
        return SeedInfo(name, "", skip=problem)
    path = os.path.join(seeds_dir, name)
    try:
        data, st = read_seed_bytes(path, root=seeds_dir)
    except SeedSkipped as e:
        return SeedInfo(name, "", skip=e.reason)
    return skim_info(name, path, data, st, agencies)


def skim_info(name: str, path: str, data: bytes, st: os.stat_result, agencies: tuple[str, ...]) -> SeedInfo:
    """read_info's second half: the facts of a file read as `data`, fstat-ed as `st`."""
    sig = seed_signature(st)
    try:
        facts = skim_seed(data, path=path, agencies=agencies)
    except SeedSkipped as e:
        return SeedInfo(name, sig, skip=e.reason)
    return SeedInfo(
        name,
        sig,
        key=facts.key,
        seq=facts.seq if facts.seq is not None else -1,
        category=facts.category or "",
        date_ts=facts.date.timestamp() if facts.date else None,
        fingerprint=facts.fingerprint,
        mtime=st.st_mtime,
        warning="; ".join(facts.warnings),
    )


Mint = tuple[float, str] | None  # (the build's clock as a timestamp, tagging authority)


def read_line(seeds_dir: str, name: str, agencies: tuple[str, ...], mint: Mint) -> str:
    """A file's cache line. With `mint` (a first build: the record is empty) the line also gets
    the seed's published time and, after a line feed, its new record line: minting ids here, in
    the reader processes, spares the build process 100,000 serialisations."""
    return info_line(read_info(seeds_dir, name, agencies), mint)


def info_line(info: SeedInfo, mint: Mint) -> str:
    if mint is None or info.skip:
        return info.to_line()
    now, authority = mint
    line, first_seen = new_line_json(info.key, info.fingerprint, info.mtime, now, authority)
    info.published = info.date_ts if info.date_ts is not None else first_seen
    return f"{info.to_line()}\n{line}"


def read_chunk(seeds_dir: str, agencies: tuple[str, ...], mint: Mint, names: list[str]) -> tuple[list[str], list[int]]:
    """`read_line` for each file, and each file's stat_numbers one after another,
    from the fstat of its read (or a stat, for a file that could not be opened): the unit of work
    of a reader process (feedpub.workers).

    A plain file directly in the folder is opened relative to the folder (seeds.read_seed_at):
    no path to build, resolve or check per file. Anything else goes read_line's way."""
    lines: list[str] = []
    numbers: list[int] = []
    folder = _open_folder(seeds_dir)
    try:
        for name in names:
            got = None if folder is None or name_problem(name) else read_seed_at(folder, name)
            if got is not None:
                data, st = got
                line = info_line(skim_info(name, os.path.join(seeds_dir, name), data, st, agencies), mint)
                numbers += stat_numbers(st)
            else:
                line = read_line(seeds_dir, name, agencies, mint)
                start = line.index("\t") + 1
                sig = line[start : line.index("\t", start)] or _seed_signature_of(os.path.join(seeds_dir, name))
                numbers += map(int, sig.split(":"))
            lines.append(line)
    finally:
        if folder is not None:
            os.close(folder)
    return lines, numbers


def _open_folder(seeds_dir: str) -> int | None:
    if not READ_AT:
        return None
    try:
        return os.open(seeds_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # every file goes read_line's way, which words what went wrong


def read_chunks(
    seeds_dir: Path,
    names: list[str],
    agencies: tuple[str, ...],
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    mint: Mint = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[tuple[list[str], list[int]]]:
    """`read_chunk` over the given files, in reader processes when there are many, chunk by chunk
    in order, the same for any `workers`: their cache lines (see `read_line` for `mint`) and
    numbers. `notice` hears of reader processes that failed (the build reads their share itself)."""
    total = len(names)
    folder = str(seeds_dir)
    done = 0
    if workers > 1 and total >= PARALLEL_FROM:
        from feedpub.workers import PoolFailed, map_chunks

        chunks = [names[i : i + CHUNK] for i in range(0, total, CHUNK)]
        try:
            for lines, numbers in map_chunks(read_chunk, (folder, agencies, mint), chunks, workers, notice):
                yield lines, numbers
                done += len(lines)
                if progress:
                    progress(done, total)
        except PoolFailed as e:
            # No reader process to be had (process limits, no interpreter to start): read here.
            if notice:
                notice(f"no reader process could start ({e}); the build read every seed itself")
    for lo in range(done, total, CHUNK):
        chunk = read_chunk(folder, agencies, mint, names[lo : lo + CHUNK])
        yield chunk
        if progress:
            progress(lo + len(chunk[0]), total)


@dataclass
class CacheHeader:
    """What the last build concluded; valid only for the same setup."""

    setup: str = ""  # the reader's code, its agencies, the seeds folder
    selection: str = ""  # the feeds' names, limits and categories
    rendering: str = ""  # everything else the outputs depend on
    taken_ns: int = 0  # when the last scan began
    record_sig: str = ""  # the record file as the last build left it (publish.record_signature)
    digest: str = ""  # Listing.digest() of the last scan
    sections: list[int] = field(default_factory=list)  # byte lengths: listing names, numbers, lines
    top: dict[str, list[list]] = field(default_factory=dict)  # feed -> [[published, seq, key, name], ...]
    outputs: dict[str, str] = field(default_factory=dict)  # file written or checked -> signature
    skipped: list[list[str]] = field(default_factory=list)  # [name, reason]
    warnings: list[list[str]] = field(default_factory=list)  # [name, warning]
    dup_keys: list[str] = field(default_factory=list)  # keys more than one file claims
    entries: dict[str, int] = field(default_factory=dict)  # feed -> entries published
    mtimes: list[int] = field(default_factory=list)  # the listing's span (Listing.span); [] unknown
    base: str = ""  # in a delta: the base it applies to (OpenCache.identity); "" in a base


def _spanned(listing: Listing, header: CacheHeader) -> Listing:
    if len(header.mtimes) == 2:
        listing.span = (header.mtimes[0], header.mtimes[1])
    return listing


def line_name(line: bytes) -> str:
    """The file name a cache line is about (its sort key)."""
    return line[: line.index(b"\t")].decode("utf-8", "surrogateescape")


def delta_path(cache_path: Path) -> Path:
    """The delta file beside a cache: `.x.cache` -> `.x.delta.cache` (still ignored as `.*.cache`)."""
    stem = cache_path.name[: -len(".cache")] if cache_path.name.endswith(".cache") else cache_path.name
    return cache_path.with_name(f"{stem}.delta.cache")


def _read_header(path: Path) -> tuple[CacheHeader | None, object]:
    """A cache file's header, and the file open just after it; (None, None) if absent or odd."""
    try:
        f = open(path, "rb")
    except OSError:
        return None, None
    try:
        raw = json.loads(f.readline())
        if raw.pop("format", None) != CACHE_FORMAT:
            raise ValueError("another format")
        header = CacheHeader(**raw)
        if len(header.sections) != 3:
            raise ValueError("another layout")
        return header, f
    except (ValueError, TypeError, UnicodeDecodeError, OSError):
        f.close()
        return None, None


@dataclass
class OpenCache:
    """The cache files as `CacheFile.load_header` found them, open for `read_rest`."""

    base: object  # the base file, just after its header
    base_header: CacheHeader
    identity: str  # the base's file signature and scan time: what a delta must name to apply
    delta: object | None = None  # the delta file, just after its header, when it applies

    def close(self) -> None:
        self.base.close()
        if self.delta is not None:
            self.delta.close()


class CacheFile:
    """The cache on disk: a base file (a JSON header line, the last listing as names then
    numbers in directory order, then one line per file sorted by name), and maybe a delta file
    of the same layout whose third section holds only the lines changed since the base, a file
    gone being its name and a tab."""

    @staticmethod
    def load_header(path: Path) -> tuple[CacheHeader | None, OpenCache | None]:
        """The last build's header alone (the no-change check needs nothing else): the delta's
        when one applies to the base, else the base's; and the files, open for the rest."""
        base_header, base = _read_header(path)
        if base_header is None:
            return None, None
        try:
            identity = f"{signature(os.fstat(base.fileno()))}/{base_header.taken_ns}"
        except OSError:
            base.close()
            return None, None
        found = OpenCache(base, base_header, identity)
        header, delta = _read_header(delta_path(path))
        if header is not None and header.base == identity:
            found.delta = delta
            return header, found
        if delta is not None:
            delta.close()
        return base_header, found

    @staticmethod
    def read_rest(found: OpenCache, header: CacheHeader) -> tuple[Listing, "CachedLines"] | None:
        """The previous listing and the per-file lines (read as needed), or None if a file is
        cut short or odd. The files stay open for the lines: `found.close()` after the build."""
        try:
            names_size, numbers_size, lines_size = found.base_header.sections
            lines_at = found.base.tell() + names_size + numbers_size
            if os.fstat(found.base.fileno()).st_size != lines_at + lines_size:
                return None
            lines = FileBytes(found.base.fileno(), lines_at, lines_size)
            if found.delta is None:
                names, numbers = found.base.read(names_size), found.base.read(numbers_size)
                if len(numbers) != numbers_size:
                    return None
                return _spanned(Listing.loads(names, numbers), header), CachedLines(lines, {}, found.identity)
            names, numbers, changed = (found.delta.read(size) for size in header.sections)
            if len(changed) != header.sections[2] or found.delta.read(1):
                return None
            overlay: dict[str, bytes | None] = {}
            for line in changed.split(b"\n")[:-1]:
                overlay[line_name(line)] = None if line.index(b"\t") == len(line) - 1 else line
            return _spanned(Listing.loads(names, numbers), header), CachedLines(lines, overlay, found.identity)
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def parts(header: CacheHeader, listing: Listing, lines: list[bytes] | LineBlocks) -> Iterator[bytes]:
        """The file's bytes, in parts to be written one after another (never joined in memory);
        `lines` are the per-file lines, as pieces of bytes or as text."""
        names, numbers = listing.dumps()
        size = lines.size() if isinstance(lines, LineBlocks) else sum(len(piece) for piece in lines)
        header.sections = [len(names), len(numbers), size]
        head = json.dumps({"format": CACHE_FORMAT, **header.__dict__}, ensure_ascii=False, separators=(",", ":"))
        yield head.encode("utf-8", "surrogateescape") + b"\n"
        yield names
        yield numbers
        yield from lines

    @staticmethod
    def writes(
        path: Path,
        header: CacheHeader,
        listing: Listing,
        lines: "LineBlocks | dict[str, bytes | None]",
        previous: "CachedLines | None",
    ) -> list[tuple[Path, Iterator[bytes] | None]]:
        """What saving the cache writes, as (file, parts; None: remove the file). `lines` are
        every file's lines (a full look), or the lines this build changed since `previous`.

        A few changes go to the delta, which then holds every change since the base; the base is
        left alone. A full look, no previous cache, or a delta grown past DELTA_MAX_LINES lines
        or DELTA_MAX_SHARE of the base writes a new base, and the delta goes."""
        if isinstance(lines, dict) and previous is not None:
            overlay = {**previous.overlay, **lines}
            size = sum(len(name) + 1 if line is None else len(line) + 1 for name, line in overlay.items())
            if len(overlay) <= DELTA_MAX_LINES and size <= DELTA_MAX_SHARE * len(previous.base):
                header.base = previous.identity
                pieces = []
                for name in sorted(overlay):
                    line = overlay[name]
                    pieces.append(name.encode("utf-8", "surrogateescape") + b"\t\n" if line is None else line + b"\n")
                return [(delta_path(path), CacheFile.parts(header, listing, pieces))]
            lines = splice_pieces(previous.base[:], overlay, line_name)
        header.base = ""
        return [(path, CacheFile.parts(header, listing, lines)), (delta_path(path), None)]

    @staticmethod
    def read_all(path: Path) -> tuple[CacheHeader, Listing, bytes] | None:
        """The cache as the next build sees it: header, listing and every per-file line (for tools
        and tests; a build reads only the lines it needs)."""
        header, found = CacheFile.load_header(path)
        if header is None:
            return None
        try:
            rest = CacheFile.read_rest(found, header)
            return None if rest is None else (header, rest[0], rest[1].all())
        finally:
            found.close()


class FileBytes:
    """A stretch of an open file read as if it were bytes, as far as `sorted_lines.locate` needs
    (len, rfind and index of a byte, slices): a binary search reads a few pages, not 20 MB."""

    WINDOW = 4096

    def __init__(self, fd: int, offset: int, size: int):
        self.fd, self.offset, self.size = fd, offset, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _ = part.indices(self.size)
        data = os.pread(self.fd, max(0, stop - start), self.offset + start)
        if len(data) != max(0, stop - start):
            raise ValueError("the cache file was cut short")
        return data

    def rfind(self, sub: bytes, start: int, end: int) -> int:
        """The last `sub` (one byte) in [start, end), else -1."""
        while end > start:
            lo = max(start, end - self.WINDOW)
            at = self[lo:end].rfind(sub)
            if at >= 0:
                return lo + at
            end = lo
        return -1

    def index(self, sub: bytes, start: int) -> int:
        """The first `sub` (one byte) at or after `start`; ValueError if there is none."""
        while start < self.size:
            at = self[start : start + self.WINDOW].find(sub)
            if at >= 0:
                return start + at
            start += self.WINDOW
        raise ValueError("subsection not found")


class CachedLines:
    """The previous build's per-file lines: the base's, sorted by name, under the delta's changes."""

    def __init__(self, base: FileBytes | bytes, overlay: dict[str, bytes | None], identity: str = ""):
        self.base = base
        self.overlay = overlay  # name -> line changed since the base; None: the file is gone
        self.identity = identity

    def __bool__(self) -> bool:
        return len(self.base) > 0 or any(line is not None for line in self.overlay.values())

    def find(self, name: str) -> bytes | None:
        """The line of a file, or None."""
        if name in self.overlay:
            return self.overlay[name]
        return find(self.base, name, line_name)

    def all(self) -> bytes:
        """Every line, sorted by name, each ending in a line feed."""
        if not self.overlay:
            return self.base[:]
        return b"".join(splice_pieces(self.base[:], self.overlay, line_name))


class LineBlocks:
    """Lines of text to be written as bytes, encoded a block at a time, so that 100,000 cache lines
    never sit in memory twice (as text and as one 17 MB buffer of bytes)."""

    BLOCK = 2048

    def __init__(self, lines: list[str]):
        self.lines = lines

    def size(self) -> int:
        """The bytes it will write (an ASCII line is as long in bytes as in characters)."""
        return len(self.lines) + sum(
            len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape")) for line in self.lines
        )

    def __iter__(self) -> Iterator[bytes]:
        for lo in range(0, len(self.lines), self.BLOCK):
            block = self.lines[lo : lo + self.BLOCK]
            yield ("\n".join(block) + "\n").encode("utf-8", "surrogateescape")


def setup_digest(agencies: Iterable[str], seeds_dir: Path) -> str:
    """What the cached facts depend on besides the files: the reader's code, its agencies, the folder."""
    from feedpub import seeds

    reader = hashlib.sha256(Path(seeds.__file__).read_bytes()).hexdigest()
    raw = "\x1f".join([reader, str(seeds_dir.resolve()), *agencies]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:16]
