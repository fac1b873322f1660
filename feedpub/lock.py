"""One build at a time: an OS file lock beside the publication record.

`build` (cron, systemd) and `watch` both take the lock around a build, so two runs started
together take turns instead of interleaving writes to the record and the feeds. The lock is a
`fcntl.flock` on `<record>.lock`: the kernel releases it when its holder exits, however it
exits, so a killed run never blocks the next one. The file itself stays (deleting it would let
two runs lock two different files); it only carries the holder's pid for the error message.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

EXIT_LOCK_BUSY = 75  # EX_TEMPFAIL (sysexits.h): "try again later"; cron mails it, systemd retries


class LockError(Exception):
    """The lock file cannot be created or locked at all (a missing or read-only folder)."""

    exit_code = 3  # like publish.BuildError: the environment keeps the build from running


class LockBusy(LockError):
    """Another run held the lock for longer than we were willing to wait."""

    exit_code = EXIT_LOCK_BUSY


def lock_path_for(record_path: Path | str) -> Path:
    """Where the lock for a record lives: `<record>.lock`, in the record's folder."""
    record_path = Path(record_path)
    return record_path.with_name(record_path.name + ".lock")


@contextmanager
def build_lock(
    record_path: Path | str,
    wait: float = 60.0,
    *,
    poll: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Hold the build lock for `record_path` for the duration of the `with` block.

    Waits up to `wait` seconds (0: try once) for a run holding it to finish, then raises
    LockBusy naming the lock file and the holder's pid. Yields the lock file's path.

        with build_lock(settings.record_path, wait=60):
            report = publish.build(settings)
    """
    path = lock_path_for(record_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the build would create it too
    except OSError:
        pass  # reported below, by the open that needs it
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise LockError(f"{path}: cannot create the build lock: {e.strerror}") from None
    try:
        _acquire(fd, path, wait, poll, clock, sleep)
        os.ftruncate(fd, 0)
        try:
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the pid only names the holder in a busy message; a full disk must not stop the build
        try:
            yield path
        finally:
            # Clear the pid before the kernel drops the lock, so a waiter never reads a stale one.
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _acquire(fd: int, path: Path, wait: float, poll: float, clock, sleep) -> None:
    deadline = clock() + max(0.0, wait)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as e:
            raise LockError(f"{path}: cannot lock: {e.strerror}") from None
        remaining = deadline - clock()
        if remaining <= 0:
            raise LockBusy(_busy_message(fd, path, wait))
        sleep(min(poll, remaining))


def _busy_message(fd: int, path: Path, wait: float) -> str:
    try:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        holder = ""
    who = f"process {holder}" if holder.isdigit() else "another process"
    waited = f"after waiting {wait:g}s" if wait > 0 else "and --wait is 0"
    return (
        f"{path}: another build is running ({who} holds the lock) {waited}; "
        f"try again later or raise --wait"
    )
