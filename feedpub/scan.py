"""Knowing every seed without reading every seed: the scan cache and the parallel reader.

A build needs, for each of possibly 100,000 seeds, only what decides whether it makes a feed:
key, sequence number, category, stated date, fingerprint (or the reason it is skipped). The
cache beside the record keeps exactly that per file, with the file's size, mtime (ns) and
inode. A rebuild stats every file and re-reads only those whose signature changed, plus
"racy" ones modified within a couple of seconds of the previous scan (an edit in the same
timestamp tick could otherwise hide; re-reading them compares the content fingerprint).

The cache is one line per file, tab-separated, so loading it is a split, not a JSON parse. It
is derived data: deleting it costs one cold build, never a wrong feed.
"""

from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from feedpub.model import SeedSkipped
from feedpub.seeds import SEED_SUFFIXES, read_seed

CACHE_FORMAT = "feedpub-scan-cache 1"
RACY_NS = 2_000_000_000  # mtime this close to the previous scan: re-read, timestamps may be coarse
PARALLEL_FROM = 2_000  # fewer files than this are read in-process: a pool costs more than it saves
CHUNK = 500


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

    def cacheable(self) -> bool:
        """Tabs or line breaks in a name or reason would break the line format: such files are re-read."""
        return not any(_BREAKS.search(f) for f in (self.name, self.key, self.category, self.skip, self.warning))

    def to_line(self) -> str:
        date = "" if self.date_ts is None else repr(self.date_ts)
        fields = (self.name, self.signature, self.key, str(self.seq), self.category, date,
                  self.fingerprint, repr(self.mtime), self.skip, self.warning, repr(self.published))
        return "\t".join(fields)

    @classmethod
    def from_line(cls, line: str) -> "SeedInfo":
        name, sig, key, seq, category, date, fp, mtime, skip, warning, published = line.split("\t")
        return cls(name, sig, key, int(seq), category, float(date) if date else None, fp, float(mtime), skip, warning,
                   float(published))


# What split()/splitlines() break on, and undecodable bytes (os.listdir's surrogate escapes),
# which the cache's UTF-8 cannot carry.
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\ud800-\udfff]")
# A file name becomes the entry's key, its item page's name and part of its URL and id: control
# characters (not allowed in XML) or bytes that are not UTF-8 would make the build fail.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
BAD_NAME = "file name holds control characters or is not UTF-8; rename it"


def signature(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def list_files(seeds_dir: Path) -> list[tuple[str, str | None, int]]:
    """(name, signature or None when stat fails, mtime_ns) for every candidate seed file, by name."""
    out = []
    with os.scandir(seeds_dir) as it:
        for entry in it:
            name = entry.name
            if name.startswith(".") or not name.endswith(SEED_SUFFIXES):
                continue
            try:
                st = entry.stat()
                out.append((name, signature(st), st.st_mtime_ns))
            except OSError:
                out.append((name, None, 0))  # dangling link or vanished: read_seed says which
    out.sort()
    return out


def read_info(seeds_dir: str, name: str, sig: str | None, agencies: tuple[str, ...]) -> SeedInfo:
    """Read and parse one file, keeping only the facts the scan needs (never the body)."""
    path = Path(seeds_dir) / name
    if _BAD_NAME.search(name):
        return SeedInfo(name, sig or "", skip=BAD_NAME)
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
    # can copy a held lock into the child.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
        out = []
        for result in pool.map(_read_chunk, [folder] * len(chunks), chunks, [agencies] * len(chunks)):
            out.extend(result)
            if progress:
                progress(len(out), total)
    return out


class ScanCache:
    """name -> SeedInfo from the previous build, plus when it was taken and for which reader setup."""

    def __init__(self, infos: dict[str, SeedInfo] | None = None, taken_ns: int = 0, setup: str = "", record_sig: str = ""):
        self.infos = infos or {}
        self.taken_ns = taken_ns
        self.setup = setup
        self.record_sig = record_sig  # the record file as this build left it: unchanged means trusted

    @classmethod
    def load(cls, path: Path, setup: str) -> "ScanCache":
        """The previous scan, or an empty one when missing, unreadable or made for another setup."""
        try:
            text = path.read_text(encoding="utf-8")
            head, _, body = text.partition("\n")
            fmt, taken, old_setup, record_sig = head.split("\t")
            if fmt != CACHE_FORMAT or old_setup != setup:
                return cls(setup=setup)
            infos = {}
            for line in body.splitlines():
                info = SeedInfo.from_line(line)
                infos[info.name] = info
            return cls(infos, int(taken), setup, record_sig)
        except (OSError, ValueError, UnicodeDecodeError):
            return cls(setup=setup)

    def stale(self, files: Iterable[tuple[str, str | None, int]]) -> list[tuple[str, str | None]]:
        """Files to (re)read: new, changed signature, unstattable, or racy."""
        out = []
        racy_from = self.taken_ns - RACY_NS
        for name, sig, mtime_ns in files:
            info = self.infos.get(name)
            if info is None or sig is None or info.signature != sig or mtime_ns >= racy_from:
                out.append((name, sig))
        return out

    def dumps(self, taken_ns: int, record_sig: str) -> bytes:
        lines = [f"{CACHE_FORMAT}\t{taken_ns}\t{self.setup}\t{record_sig}"]
        lines += [info.to_line() for _, info in sorted(self.infos.items()) if info.cacheable()]
        return ("\n".join(lines) + "\n").encode("utf-8")


def setup_digest(agencies: Iterable[str], seeds_dir: Path) -> str:
    """What the cached facts depend on besides the files: the reader's code, its agencies, the folder."""
    from feedpub import seeds

    reader = hashlib.sha256(Path(seeds.__file__).read_bytes()).hexdigest()
    raw = "\x1f".join([reader, str(seeds_dir.resolve()), *agencies]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:16]
