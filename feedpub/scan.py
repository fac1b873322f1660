"""Knowing every seed without reading every seed: the scan cache and the parallel reader.

A build needs, for each of possibly 100,000 seeds, only what decides whether it makes a feed:
key, sequence number, category, stated date, fingerprint (or the reason it is skipped). The
cache beside the record keeps exactly that per file, with the file's size, mtime (ns) and
inode, plus what the last build concluded: each feed's newest entries, the files it wrote, the
skipped seeds. A rebuild stats every file; when nothing changed (same listing digest, no file
modified within a couple of seconds of the last scan, the outputs as written) it is done. When
something changed it re-reads only new, changed and "racy" files (modified so close to the last
scan that an edit in the same timestamp tick could hide; re-reading compares the fingerprint).

The cache is one JSON header line, then one tab-separated line per file sorted by name, so the
no-change check reads one line and a change is found by walking two sorted lists. It is derived
data: deleting it costs one cold build, never a wrong feed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from array import array
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from feedpub.model import SeedSkipped
from feedpub.seeds import SEED_SUFFIXES, read_seed

CACHE_FORMAT = 2
RACY_NS = 2_000_000_000  # mtime this close to the previous scan: re-read, timestamps may be coarse
PARALLEL_FROM = 2_000  # fewer files than this are read in-process: a pool costs more than it saves
CHUNK = 500

# A file name becomes the entry's key, its item page's name and part of its URL and id: control
# characters (not allowed in XML) or bytes that are not UTF-8 would make the build fail.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
BAD_NAME = "file name holds control characters or is not UTF-8; rename it"


@dataclass(frozen=True, slots=True)
class SeedInfo:
    """What the scan knows of one seed file. `skip` is the reason when it is not a seed."""

    name: str
    signature: str  # "size:mtime_ns:ino"
    key: str = ""
    seq: int = -1
    category: str = ""
    date_ts: float | None = None  # the stated date as a POSIX timestamp
    fingerprint: str = ""
    mtime: float = 0.0
    skip: str = ""
    warning: str = ""
    published: float = 0.0  # set by the build from the record: date_ts, else first-seen

    def sort_key(self) -> tuple[float, int, str]:
        """Newest first, then higher sequence number, then key."""
        return (-self.published, -self.seq, self.key)

    def to_line(self) -> str:
        date = "" if self.date_ts is None else repr(self.date_ts)
        fields = (self.name, self.signature, self.key, str(self.seq), _flat(self.category), date,
                  self.fingerprint, repr(self.mtime), _flat(self.skip), _flat(self.warning), repr(self.published))
        return "\t".join(fields)

    @classmethod
    def from_line(cls, line: str) -> "SeedInfo":
        name, sig, key, seq, category, date, fp, mtime, skip, warning, published = line.split("\t")
        return cls(name, sig, key, int(seq), category, float(date) if date else None, fp, float(mtime), skip, warning,
                   float(published))


def _flat(text: str) -> str:
    """Tabs and line feeds are the cache's separators."""
    return text.replace("\t", " ").replace("\n", " ")


def signature(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


class Listing:
    """The seed folder as one scan saw it: names and (size, mtime_ns, inode) triples, in directory
    order, held as a flat array: 100,000 files cost a few MB, not 100,000 stat objects."""

    MISSING = (-1, -1, -1)  # stat failed: a dangling link, or the file vanished

    def __init__(self, names: list[str], numbers: array):
        self.names = names
        self.numbers = numbers

    def __len__(self) -> int:
        return len(self.names)

    def digest(self) -> str:
        """Equal digests mean no file was added, removed or touched (in the same directory order;
        a new order only costs the slower comparison)."""
        h = hashlib.sha256("\n".join(self.names).encode("utf-8", "surrogateescape"))
        h.update(self.numbers.tobytes())
        return h.hexdigest()

    def newest_mtime_ns(self) -> int:
        return max(self.numbers[1::3], default=0)

    def entries(self) -> list[tuple[str, str | None, int]]:
        """(name, signature or None when stat failed, mtime_ns), sorted by name."""
        n = self.numbers
        out = [
            (name, f"{n[3 * i]}:{n[3 * i + 1]}:{n[3 * i + 2]}" if n[3 * i] >= 0 else None, max(n[3 * i + 1], 0))
            for i, name in enumerate(self.names)
        ]
        out.sort()
        return out


def list_files(seeds_dir: Path) -> Listing:
    """Every candidate seed file (not dotfiles; .txt and .md) with its size, mtime and inode."""
    names: list[str] = []
    numbers = array("q")
    add_name, add_numbers = names.append, numbers.extend
    with os.scandir(seeds_dir) as it:
        for entry in it:  # not a list of entries: each caches its stat result
            name = entry.name
            if name[0] == "." or not name.endswith(SEED_SUFFIXES):
                continue
            try:
                st = entry.stat()
                add_numbers((st.st_size, st.st_mtime_ns, st.st_ino))
            except OSError:
                add_numbers(Listing.MISSING)
            add_name(name)
    return Listing(names, numbers)


def read_info(seeds_dir: str, name: str, sig: str | None, agencies: tuple[str, ...]) -> SeedInfo:
    """Read and parse one file, keeping only the facts the scan needs (never the body)."""
    if _BAD_NAME.search(name):
        return SeedInfo(name, sig or "", skip=BAD_NAME)
    path = Path(seeds_dir) / name
    try:
        seed = read_seed(path, root=Path(seeds_dir), agencies=agencies)
    except SeedSkipped as e:
        return SeedInfo(name, sig or "", skip=e.reason)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return SeedInfo(name, sig or "", skip="vanished while being read")
    return SeedInfo(
        name,
        sig or "",
        key=seed.key,
        seq=seed.seq if seed.seq is not None else -1,
        category=seed.category or "",
        date_ts=seed.date.timestamp() if seed.date else None,
        fingerprint=seed.fingerprint(),
        mtime=mtime,
        warning="; ".join(seed.warnings),
    )


def _read_chunk(seeds_dir: str, items: list[tuple[str, str | None]], agencies: tuple[str, ...]) -> list[SeedInfo]:
    return [read_info(seeds_dir, name, sig, agencies) for name, sig in items]


def read_infos(
    seeds_dir: Path,
    items: list[tuple[str, str | None]],
    agencies: tuple[str, ...],
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[SeedInfo]:
    """Read the given files, in a process pool when there are many; same result for any `workers`."""
    total = len(items)
    folder = str(seeds_dir)
    if workers <= 1 or total < PARALLEL_FROM:
        out = []
        for i, (name, sig) in enumerate(items, start=1):
            out.append(read_info(folder, name, sig, agencies))
            if progress and i % CHUNK == 0:
                progress(i, total)
        return out
    chunks = [items[i : i + CHUNK] for i in range(0, total, CHUNK)]
    # forkserver, not fork: `serve --watch` builds from a thread, and forking a threaded process
    # can copy a held lock into the child. Children start from a small server, not from us.
    context = get_context("forkserver")
    context.set_forkserver_preload(["feedpub.seeds"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        out = []
        for result in pool.map(_read_chunk, [folder] * len(chunks), chunks, [agencies] * len(chunks)):
            out.extend(result)
            if progress:
                progress(len(out), total)
    return out


@dataclass
class CacheHeader:
    """What the last build concluded; valid only for the same setup."""

    setup: str = ""  # the reader's code, its agencies, the seeds folder
    selection: str = ""  # the feeds' names, limits and categories
    rendering: str = ""  # everything else the outputs depend on
    taken_ns: int = 0  # when the last scan began
    record_sig: str = ""  # the record file as the last build left it
    digest: str = ""  # listing_digest of the last scan
    top: dict[str, list[list]] = field(default_factory=dict)  # feed -> [[published, seq, key, name], ...]
    outputs: dict[str, str] = field(default_factory=dict)  # file written or checked -> signature
    skipped: list[list[str]] = field(default_factory=list)  # [name, reason]
    warnings: list[list[str]] = field(default_factory=list)  # [name, warning]
    dup_keys: list[str] = field(default_factory=list)  # keys more than one file claims
    entries: dict[str, int] = field(default_factory=dict)  # feed -> entries published


class ScanCache:
    """The previous build's header plus its per-file lines (sorted by name, parsed on demand)."""

    def __init__(self, header: CacheHeader | None = None, lines: list[str] | None = None):
        self.header = header or CacheHeader()
        self.lines = lines or []

    @classmethod
    def load_header(cls, path: Path) -> tuple[CacheHeader | None, object]:
        """The header alone (the no-change check needs nothing else), and an open handle for the rest."""
        try:
            f = open(path, "r", encoding="utf-8", newline="\n")
        except OSError:
            return None, None
        try:
            raw = json.loads(f.readline())
            if raw.pop("format", None) != CACHE_FORMAT:
                raise ValueError("another format")
            return CacheHeader(**raw), f
        except (ValueError, TypeError, UnicodeDecodeError):
            f.close()
            return None, None

    @classmethod
    def read_lines(cls, handle) -> list[str]:
        """The per-file lines after the header."""
        try:
            with handle:
                return handle.read().split("\n")[:-1]
        except (OSError, UnicodeDecodeError):
            return []

    def dumps(self, lines: Iterable[str]) -> bytes:
        header = {"format": CACHE_FORMAT, **self.header.__dict__}
        head = json.dumps(header, ensure_ascii=False, separators=(",", ":"))
        return "\n".join([head, *lines, ""]).encode("utf-8", "surrogateescape")


def diff_listing(
    files: list[tuple[str, str | None, int]], lines: list[str], taken_ns: int
) -> tuple[list[tuple[str, str | None]], list[str], list[str]]:
    """Walk the current listing and the cached lines (both sorted by name) together.

    Returns (to_read, kept_lines, removed_lines): files that are new, changed, unstattable or
    racy; cached lines still valid; cached lines of files that are gone or re-read.
    """
    to_read, kept, removed = [], [], []
    racy_from = taken_ns - RACY_NS
    i, n = 0, len(lines)
    for name, sig, mtime_ns in files:
        prefix = f"{name}\t"
        while i < n and lines[i].split("\t", 1)[0] < name:
            removed.append(lines[i])
            i += 1
        if i < n and lines[i].startswith(prefix):
            line = lines[i]
            i += 1
            if sig is not None and line.startswith(f"{prefix}{sig}\t") and mtime_ns < racy_from:
                kept.append(line)
                continue
            removed.append(line)
        to_read.append((name, sig))
    removed.extend(lines[i:])
    return to_read, kept, removed


def setup_digest(agencies: Iterable[str], seeds_dir: Path) -> str:
    """What the cached facts depend on besides the files: the reader's code, its agencies, the folder."""
    from feedpub import seeds

    reader = hashlib.sha256(Path(seeds.__file__).read_bytes()).hexdigest()
    raw = "\x1f".join([reader, str(seeds_dir.resolve()), *agencies]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:16]
