"""Writing the output folder safely: all or nothing, and only what changed.

A build stages every changed file as a temporary file beside its target (same folder, so the
rename is atomic), fsyncs them, and only then renames them into place. A failure while staging
(disk full, read-only folder, a file in the way) removes the temporaries and leaves every
published file and the record exactly as they were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

TEMP_PREFIX = ".feedpub-tmp-"


class WriteError(Exception):
    """A file could not be written; the message names it and the reason."""


def read_existing(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # missing, a folder in the way, unreadable: in every case, not the same bytes
        return None


@dataclass
class Staging:
    """Files to publish together. `add` ignores content identical to what is on disk."""

    staged: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, target)
    unchanged: list[Path] = field(default_factory=list)

    def add(self, target: Path, data: bytes | Iterable[bytes], *, durable: bool = True, compare: bool = True) -> bool:
        """Stage `data` (bytes, or parts written in turn, made as they are written if it is an
        iterator) for `target` unless the file already holds exactly these bytes.

        `durable=False` skips the fsync, for derived files (the scan cache) that may be lost;
        `compare=False` skips reading the old file, for large files known to have changed.
        """
        if compare and not isinstance(data, (bytes, bytearray)):
            data = b"".join(data)
        if compare and read_existing(target) == data:
            self.unchanged.append(target)
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = _beside(target, str(len(self.staged)))
            with open(temp, "wb") as f:
                self.staged.append((temp, target))
                for part in [data] if isinstance(data, (bytes, bytearray)) else data:
                    f.write(part)
                f.flush()
                if compare:
                    _after_the_second_of(target, temp)
                if durable:
                    os.fsync(f.fileno())
        except OSError as e:
            self.discard()
            raise WriteError(f"{target}: cannot write: {e.strerror or e}") from None
        return True

    def commit(self) -> list[Path]:
        """Rename every staged file into place, in the order staged; returns the targets.

        A rename can still fail here (a file made immutable or mounted read-only): the files
        already renamed are put back from hard links to their previous versions, so a failed
        commit leaves every target as it was.
        """
        done: list[tuple[Path, Path | None | bool]] = []  # (target, link to its previous version)
        try:
            for i, (temp, target) in enumerate(self.staged):
                previous = _keep_previous(target, i)
                try:
                    os.replace(temp, target)
                except OSError:
                    _unlink(previous)
                    raise
                done.append((target, previous))
        except OSError as e:
            _roll_back(done)
            self.discard()
            raise WriteError(f"{target}: cannot replace: {e.strerror or e}") from None
        for _, previous in done:
            _unlink(previous)
        for folder in {t.parent for t, _ in done}:
            _fsync_dir(folder)
        self.staged = []
        return [t for t, _ in done]

    def discard(self) -> None:
        """Remove the temporaries; nothing published is touched."""
        for temp, _ in self.staged:
            try:
                temp.unlink()
            except OSError:
                pass
        self.staged = []


def _after_the_second_of(target: Path, temp: Path) -> None:
    """Give the new version of `target` (written to `temp`) an mtime in a later whole second than the
    version it replaces. HTTP's Last-Modified, and the ETag nginx makes of it and the size, count
    whole seconds: a feed rewritten within the second of its last version, at the same size,
    would look unchanged to a client holding that version, which would be told 304 until the
    next change. The new mtime is ahead of the clock only when the file is rewritten more than
    once a second, by a second for each such rewrite (validators must move forward)."""
    try:
        old = os.stat(target).st_mtime_ns // 1_000_000_000
    except OSError:
        return  # no previous version
    st = os.stat(temp)
    if st.st_mtime_ns // 1_000_000_000 <= old:
        os.utime(temp, ns=(st.st_atime_ns, (old + 1) * 1_000_000_000))


def _keep_previous(target: Path, number: int) -> Path | None | bool:
    """A hard link to the file about to be replaced; None when there is no such file; False when
    it cannot be linked (then it cannot be put back). The link is named like a temporary, so a
    killed build's leftovers are cleared like the others."""
    link = _beside(target, f"{number}-old")
    try:
        os.link(target, link)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    return link


def _beside(target: Path, label: str) -> Path:
    """A temporary's path beside `target`, named after it: `.feedpub-tmp-<pid>-<label>-<name>`,
    the name cut from its front when the whole would pass the 255 bytes a file name may have."""
    prefix = f"{TEMP_PREFIX}{os.getpid()}-{label}-"
    name = target.name.encode("utf-8", "surrogateescape")
    room = 255 - len(prefix)
    if len(name) > room:
        name = name[len(name) - room :]
        while name and 0x80 <= name[0] < 0xC0:  # not from the middle of a character
            name = name[1:]
    return target.parent / (prefix + name.decode("utf-8", "surrogateescape"))


def _roll_back(done: list[tuple[Path, Path | None | bool]]) -> None:
    """Put back the previous versions of renamed targets (a new file is removed)."""
    for target, previous in reversed(done):
        try:
            if previous is None:
                os.unlink(target)
            elif previous is not False:
                os.replace(previous, target)
        except OSError:
            pass


def _unlink(path: Path | None | bool) -> None:
    if isinstance(path, Path):
        try:
            path.unlink()
        except OSError:
            pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: Path) -> None:
    """Temporaries left by a killed build are never published; clear them on the next run."""
    if not folder.is_dir():
        return
    for sub in (folder, folder / "items"):
        try:
            names = os.listdir(sub)
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX):
                try:
                    os.unlink(sub / name)
                except OSError:
                    pass


def remove_stale_temporaries_of(targets: Iterable[Path]) -> None:
    """The temporaries a killed build left beside these files (the record and its cache live in a
    folder shared with other files, so only their own temporaries are removed)."""
    for target in targets:
        try:
            names = os.listdir(target.parent)
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX) and name.endswith(f"-{target.name}"):
                try:
                    os.unlink(target.parent / name)
                except OSError:
                    pass
