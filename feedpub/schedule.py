"""Rebuild on a schedule and when seeds change: the loop behind `feedpub watch`.

Runs start on a fixed grid (start + k * every), so the schedule never drifts by the time builds
take; a run that overruns the next slot makes the loop skip that slot instead of queueing runs.
A change in the seeds folder or the configuration file triggers a run within about a second, and
so does a reload request (SIGHUP in `feedpub watch`). The clock, the sleep and the change source
are injected, so tests drive the loop with a fake clock and never sleep.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol

_DURATION_RE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
TICK = 1.0  # longest uninterrupted wait: how quickly a stop request is noticed
SETTLE = 0.25  # quiet time after a seed change, so an editor's burst of writes makes one run
MAX_SETTLE = 1.0


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `30s`, `15m`, `1h` or `1h30m`; ValueError if malformed or 0."""
    match = _DURATION_RE.fullmatch(text.strip().lower())
    if not text.strip() or not match:
        raise ValueError(f"{text!r} is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"{text!r}: the interval must be at least 1s")
    return float(total)


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration for whole seconds: 5400 -> '1h30m'."""
    s = int(seconds)
    parts = [(s // 3600, "h"), (s % 3600 // 60, "m"), (s % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


class ChangeWaiter(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True (and reset) if the seeds changed meanwhile."""

    def close(self) -> None: ...


class NoChanges:
    """A waiter that never reports a change: schedule only."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self._sleep = sleep

    def wait(self, timeout: float) -> bool:
        self._sleep(timeout)
        return False

    def close(self) -> None:
        pass


class PollingWaiter:
    """Detects added, changed and removed seeds by comparing each file's name, size, mtime and
    ctime every `interval` (ctime: an edit followed by `touch -r` keeps the rest).

    The fallback when watchdog is missing or cannot watch the folder (say, it does not exist yet).
    """

    def __init__(
        self,
        folder: Path,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.folder = Path(folder)
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._last = self.snapshot()

    def snapshot(self) -> frozenset[tuple[str, int, int, int]]:
        """What the folder holds now; a missing or unreadable folder holds nothing."""
        try:
            with os.scandir(self.folder) as entries:
                return frozenset(_stat_key(e) for e in entries)
        except OSError:
            return frozenset()

    def wait(self, timeout: float) -> bool:
        deadline = self._clock() + timeout
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return False
            self._sleep(min(self.interval, remaining))
            now = self.snapshot()
            if now != self._last:
                self._last = now
                return True

    def close(self) -> None:
        pass


def _stat_key(entry: os.DirEntry) -> tuple[str, int, int, int]:
    try:
        st = entry.stat()
        return (entry.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:  # removed or a dangling symlink: its name still counts
        return (entry.name, -1, -1, -1)


class WatchdogWaiter:
    """Change notifications from the OS (inotify, FSEvents, ...) through watchdog.

    The OS watches a folder, not a path: when the seeds folder is replaced by another one (a
    deploy that renames a fresh copy into place, `git` or `rsync` doing the same), the watch would
    stay on the old folder. So every wait also checks which folder the path names, and a new
    one is a change, and watched from then on (polled, if the OS will not watch it).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._changed = threading.Event()
        self._identity = _folder_identity(self.folder)
        self._observer = self._watch()
        self._polling: PollingWaiter | None = None

    def _watch(self) -> Any:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        changed = self._changed

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type not in ("opened", "closed_no_write"):  # reads are not changes
                    changed.set()

        observer = Observer()
        observer.schedule(Handler(), str(self.folder), recursive=True)
        observer.daemon = True
        observer.start()
        return observer

    def wait(self, timeout: float) -> bool:
        if self._polling is not None:
            changed = self._polling.wait(timeout)
        elif self._changed.wait(timeout):
            self._changed.clear()
            changed = True
        else:
            changed = False
        return self._replaced() or changed

    def _replaced(self) -> bool:
        identity = _folder_identity(self.folder)
        if identity == self._identity:
            return False
        self._stop()
        self._identity, self._polling = identity, None
        if identity is not None:
            try:
                self._observer = self._watch()
            except OSError:  # out of inotify watches, say: poll it, as watch_seeds would
                self._polling = PollingWaiter(self.folder)
        return True

    def _stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def close(self) -> None:
        self._stop()


def _folder_identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def watch_seeds(folder: Path, *, prefer_watchdog: bool = True) -> ChangeWaiter:
    """The best change waiter for `folder`: watchdog when importable and the folder exists."""
    if prefer_watchdog and Path(folder).is_dir():
        try:
            return WatchdogWaiter(folder)
        except (ImportError, OSError):
            pass  # not installed, or out of inotify watches: polling still works
    return PollingWaiter(folder)


class InputsWaiter:
    """What a build reads: the seeds folder (through `watch`, watch_seeds by default) and the
    configuration file, whose inode, size, mtime and ctime are compared after every wait (an editor
    that saves by renaming makes a new inode; the file may also appear or disappear: a missing
    file is a state like any other).

    A reloaded configuration may name another seeds folder: `follow` moves the watch there.
    `reason()` says what the last changes were, for the log line.
    """

    def __init__(self, seeds: Path, config: Path, *, watch: Callable[[Path], ChangeWaiter] = watch_seeds):
        self.seeds, self.config = Path(seeds), Path(config)
        self._watch = watch
        self._config_key = _file_key(self.config)  # before any run reads it: no edit goes unseen
        self._seeds = watch(self.seeds)
        self._config_changed = False

    def wait(self, timeout: float) -> bool:
        changed = self._seeds.wait(timeout)
        key = _file_key(self.config)
        if key != self._config_key:
            self._config_key, self._config_changed = key, True
            return True
        return changed

    def reason(self) -> str:
        """'configuration changed' if it did since the last call, else 'seeds changed'."""
        config_changed, self._config_changed = self._config_changed, False
        return "configuration changed" if config_changed else "seeds changed"

    def follow(self, seeds: Path) -> None:
        """Watch `seeds` from now on, if it is not the folder watched already."""
        if Path(seeds) != self.seeds:
            self._seeds.close()
            self.seeds, self._seeds = Path(seeds), self._watch(Path(seeds))

    def close(self) -> None:
        self._seeds.close()


def _file_key(path: Path) -> tuple[int, int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Cancelled(Exception):
    """A run given up before it wrote anything, because the loop is stopping (raised by the
    build, say while it waits for the lock). Logged as such, not as a failure."""


class StartFailed(Exception):
    """The first run failed with an error the caller named as fatal at start (a missing seeds
    folder, a bad configuration): no later run would do better without the operator. Its log
    line is written already; `error` is what the run raised."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


class LogLine(str):
    """A line of the run log. `routine`: a run that wrote nothing and reported nothing (no
    skipped seed, warning or notice), what `--quiet` leaves out. Decided from the report, so a
    quiet log never loses a line that needs a look."""

    routine: bool

    def __new__(cls, text: str, *, routine: bool = False) -> "LogLine":
        line = super().__new__(cls, text)
        line.routine = routine
        return line


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def watch_loop(
    build: Callable[[], Any],
    every: float,
    *,
    stop: threading.Event,
    changes: ChangeWaiter | None = None,
    reload: Callable[[], bool] | None = None,
    fatal_at_start: tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], datetime] = utc_now,
    log: Callable[[str], None] = print,
    describe: Callable[[Any], str] | None = None,
) -> int:
    """Build at once, then on every slot of the grid, whenever `changes` reports a change and
    whenever `reload()` says a run was asked for, until `stop` is set. Returns the number of runs.

    A run that raises is logged as one line and the loop goes on, except when the first run
    raises one of `fatal_at_start`: then StartFailed, after its line. `stop` is only checked
    between runs, so a run is never cut short (a build may raise Cancelled before it writes);
    waits are at most TICK seconds so a stop or a reload is seen quickly. Each line logged is a
    LogLine.
    """
    changes = changes or NoChanges(sleep)
    describe = describe or describe_report
    start = clock()
    next_slot = 0  # index on the grid of the next scheduled run
    runs = 0
    reason = "start"
    while not stop.is_set():
        began = clock()
        line, error = _run(build, reason, wall, clock, describe)
        log(line)
        runs += 1
        if runs == 1 and isinstance(error, fatal_at_start):
            raise StartFailed(error) from error
        ended = clock()
        if reason == "scheduled" or reason == "start":
            next_slot += 1
        due = max(next_slot, math.ceil((ended - start) / every))
        if due > next_slot:
            missed = due - next_slot
            log(LogLine(
                f"{_stamp(wall())} skipped {missed} scheduled run{'s' if missed > 1 else ''}: "
                f"the run took {ended - began:.1f}s, longer than the time to the next slot "
                f"(interval {format_duration(every)})"
            ))
        next_slot = due
        reason = _wait_for_next(changes, start + next_slot * every, clock, stop, reload)
    return runs


def _wait_for_next(
    changes: ChangeWaiter, slot_time: float, clock, stop: threading.Event, reload: Callable[[], bool] | None
) -> str | None:
    """Wait for the slot, a change or a reload; returns the run's reason, or None once stopped."""
    while not stop.is_set():
        if reload is not None and reload():  # one asked for during the last run gets a run now
            return "reload"
        remaining = slot_time - clock()
        if remaining <= 0:
            return "scheduled"
        if changes.wait(min(TICK, remaining)):
            settle_end = clock() + MAX_SETTLE
            while clock() < settle_end and changes.wait(min(SETTLE, settle_end - clock())):
                pass
            what = getattr(changes, "reason", None)
            return what() if what else "seeds changed"
    return None


def _run(build: Callable[[], Any], reason: str, wall, clock, describe) -> tuple[LogLine, Exception | None]:
    """One run and its log line, with the error it raised (None if it did not fail)."""
    stamp = _stamp(wall())
    began = clock()
    try:
        report = build()
    except Cancelled as e:
        return LogLine(f"{stamp} {reason}: {e} ({clock() - began:.2f}s)"), None
    except Exception as e:  # any failure, expected (BuildError, LockBusy) or not: keep watching
        message = (str(e).strip().splitlines() or [""])[0]
        return LogLine(f"{stamp} {reason}: FAILED: {type(e).__name__}: {message} ({clock() - began:.2f}s)"), e
    line = f"{stamp} {reason}: {describe(report)} ({clock() - began:.2f}s)"
    return LogLine(line, routine=not has_news(report)), None


def has_news(report: Any) -> bool:
    """Whether a run is worth a look: it wrote files, skipped seeds, warned or noted something."""
    return any(getattr(report, name, None) for name in ("written", "skipped", "warnings", "notices"))


def describe_report(report: Any, *, names: int = 5) -> str:
    """What a build changed, in one line: files written (first few named), seeds skipped, and what
    `build` would print besides (warnings, notices such as ids minted under localhost)."""
    written = list(getattr(report, "written", []) or [])
    skipped = list(getattr(report, "skipped", []) or [])
    if written:
        shown = ", ".join(str(w) for w in written[:names])
        more = f", +{len(written) - names} more" if len(written) > names else ""
        parts = [f"wrote {len(written)} file{'s' if len(written) > 1 else ''} ({shown}{more})"]
    else:
        parts = ["no change"]
    for path, why in skipped:
        parts.append(f"skipped {path}: {why}")
    parts += [f"warning: {line}" for line in getattr(report, "warnings", []) or []]
    parts += [f"note: {line}" for line in getattr(report, "notices", []) or []]
    return "; ".join(parts)


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
