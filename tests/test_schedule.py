"""The watch loop under a fake clock: grid without drift, skipped slots, seed changes, failures, stop."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from feedpub import schedule
from feedpub.schedule import (
    InputsWaiter,
    PollingWaiter,
    StartFailed,
    WatchdogWaiter,
    describe_report,
    format_duration,
    parse_duration,
    watch_loop,
    watch_seeds,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class BuildError(Exception):
    pass


class Clock:
    """A fake monotonic clock; sleeping advances it. `changes` are the times seeds change."""

    def __init__(self, changes=(), stop_at=None, stop=None):
        self.now = 0.0
        self.changes = sorted(changes)
        self.waits: list[float] = []
        self.stop_at, self.stop = stop_at, stop

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.now)

    def sleep(self, seconds: float) -> None:
        self.wait(seconds)

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        end = self.now + timeout
        if self.stop_at is not None and self.now < self.stop_at <= end:
            self.now = self.stop_at
            self.stop.set()
            return False
        if self.changes and self.changes[0] <= end:
            self.now = max(self.now, self.changes.pop(0))
            return True
        self.now = end
        return False

    def close(self) -> None:
        pass


def run_loop(every, *, runs, durations=(), fail=(), changes=(), report=None, reports=(), reloads=(), **loop_options):
    """Run the loop until `runs` builds happened; returns (start times, log lines, clock).
    `reports`: what each run returns (else `report`); `reloads`: times a reload is asked for."""
    stop = threading.Event()
    clock = Clock(changes)
    started: list[float] = []
    lines: list[str] = []
    pending_reloads = sorted(reloads)

    def build():
        started.append(clock.now)
        n = len(started)
        clock.now += durations[n - 1] if n <= len(durations) else 0.0
        if n >= runs:
            stop.set()
        if n in fail:
            raise BuildError("feeds: not writable")
        if n <= len(reports):
            return reports[n - 1]
        return report or SimpleNamespace(written=[], skipped=[])

    def reload():
        if pending_reloads and pending_reloads[0] <= clock.now:
            pending_reloads.pop(0)
            return True
        return False

    count = watch_loop(build, every, stop=stop, changes=clock, clock=clock, wall=clock.wall, log=lines.append,
                       reload=reload if reloads else None, **loop_options)
    assert count == len(started) == runs
    return started, lines, clock


def test_runs_at_once_then_on_the_grid():
    started, lines, _ = run_loop(60, runs=4)
    assert started == [0, 60, 120, 180]
    assert lines == [
        "2025-03-01T12:00:00Z start: no change (0.00s)",
        "2025-03-01T12:01:00Z scheduled: no change (0.00s)",
        "2025-03-01T12:02:00Z scheduled: no change (0.00s)",
        "2025-03-01T12:03:00Z scheduled: no change (0.00s)",
    ]


def test_build_time_does_not_make_the_schedule_drift():
    started, lines, _ = run_loop(60, runs=4, durations=[7, 7, 7, 7])
    assert started == [0, 60, 120, 180]
    assert lines[1] == "2025-03-01T12:01:00Z scheduled: no change (7.00s)"


def test_a_run_overlapping_the_next_slot_skips_it_instead_of_piling_up():
    started, lines, _ = run_loop(60, runs=4, durations=[0, 70, 130, 0])
    assert started == [0, 60, 180, 360]
    assert lines == [
        "2025-03-01T12:00:00Z start: no change (0.00s)",
        "2025-03-01T12:01:00Z scheduled: no change (70.00s)",
        "2025-03-01T12:02:10Z skipped 1 scheduled run: the run took 70.0s, longer than the time to the next slot (interval 1m)",
        "2025-03-01T12:03:00Z scheduled: no change (130.00s)",
        "2025-03-01T12:05:10Z skipped 2 scheduled runs: the run took 130.0s, longer than the time to the next slot (interval 1m)",
        "2025-03-01T12:06:00Z scheduled: no change (0.00s)",
    ]


def test_a_run_ending_exactly_on_a_slot_runs_that_slot():
    started, _, _ = run_loop(60, runs=3, durations=[0, 60])
    assert started == [0, 60, 120]


def test_a_seed_change_triggers_a_run_after_a_short_settle_then_the_grid_resumes():
    started, lines, _ = run_loop(60, runs=4, changes=[30.0])
    assert started == [0, 30.25, 60, 120]
    assert lines[1] == "2025-03-01T12:00:30Z seeds changed: no change (0.00s)"


def test_a_burst_of_changes_makes_one_run():
    started, _, _ = run_loop(60, runs=3, changes=[30.0, 30.125, 30.25])
    assert started == [0, 30.5, 60]


def test_changes_during_a_long_run_trigger_one_more_run_after_it():
    started, _, _ = run_loop(600, runs=3, durations=[0, 20], changes=[100, 105, 110])
    # The change at 100 starts a 20s run; the two during it make one run right after (plus settle).
    assert started == [0, 100.25, 120.5]


def test_a_change_run_overlapping_a_slot_skips_that_slot():
    started, lines, _ = run_loop(60, runs=3, durations=[0, 20], changes=[50.0])
    assert started == [0, 50.25, 120]
    assert lines[2].endswith("skipped 1 scheduled run: the run took 20.0s, longer than the time to the next slot (interval 1m)")


def test_a_failed_run_is_one_line_and_the_loop_goes_on():
    started, lines, _ = run_loop(60, runs=3, fail={2})
    assert started == [0, 60, 120]
    assert lines[1] == "2025-03-01T12:01:00Z scheduled: FAILED: BuildError: feeds: not writable (0.00s)"
    assert lines[2] == "2025-03-01T12:02:00Z scheduled: no change (0.00s)"


def test_unexpected_errors_do_not_stop_the_loop_either():
    stop, clock, lines, calls = threading.Event(), Clock(), [], []

    def build():
        calls.append(clock.now)
        if len(calls) == 2:
            stop.set()
        raise RuntimeError("multi\nline")

    watch_loop(build, 10, stop=stop, changes=clock, clock=clock, wall=clock.wall, log=lines.append)
    assert lines == [
        "2025-03-01T12:00:00Z start: FAILED: RuntimeError: multi (0.00s)",
        "2025-03-01T12:00:10Z scheduled: FAILED: RuntimeError: multi (0.00s)",
    ]


def test_the_log_line_names_written_files_and_skipped_seeds():
    report = SimpleNamespace(written=["flash.xml", "latest.xml"], skipped=[("seeds/a.txt", "empty file")])
    _, lines, _ = run_loop(60, runs=1, report=report)
    assert lines == [
        "2025-03-01T12:00:00Z start: wrote 2 files (flash.xml, latest.xml); skipped seeds/a.txt: empty file (0.00s)"
    ]


def test_describe_report_caps_the_names():
    report = SimpleNamespace(written=[f"items/{i}.html" for i in range(7)], skipped=[])
    assert describe_report(report) == (
        "wrote 7 files (items/0.html, items/1.html, items/2.html, items/3.html, items/4.html, +2 more)"
    )
    assert describe_report(SimpleNamespace(written=["flash.xml"], skipped=[])) == "wrote 1 file (flash.xml)"


def test_describe_report_carries_what_build_would_print_besides():
    report = SimpleNamespace(written=[], skipped=[("seeds/b.txt", "empty file")],
                             warnings=["seeds/a.txt: states a date in the future"], notices=["2 new ids minted"])
    assert describe_report(report) == (
        "no change; skipped seeds/b.txt: empty file; warning: seeds/a.txt: states a date in the future; note: 2 new ids minted"
    )


def test_only_runs_that_wrote_and_reported_nothing_are_marked_routine():
    """What --quiet leaves out is decided from the report, not from how its line begins."""
    def report(**fields):
        return SimpleNamespace(**{"written": [], "skipped": [], "warnings": [], "notices": [], **fields})

    reports = [
        report(),
        report(skipped=[("seeds/x.txt", "empty file")]),
        report(warnings=["seeds/a.txt: states a date in the future"]),
        report(notices=["seeds: no seeds to publish; the feeds are written empty"]),
        report(written=["flash.xml"]),
        report(),
    ]
    _, lines, _ = run_loop(60, runs=7, reports=reports, fail={6})
    assert [(line.split(": ", 1)[1], line.routine) for line in lines] == [
        ("no change (0.00s)", True),
        ("no change; skipped seeds/x.txt: empty file (0.00s)", False),
        ("no change; warning: seeds/a.txt: states a date in the future (0.00s)", False),
        ("no change; note: seeds: no seeds to publish; the feeds are written empty (0.00s)", False),
        ("wrote 1 file (flash.xml) (0.00s)", False),
        ("FAILED: BuildError: feeds: not writable (0.00s)", False),
        ("no change (0.00s)", True),
    ]


def test_a_skipped_slot_line_is_never_routine():
    _, lines, _ = run_loop(60, runs=2, durations=[70])
    assert "skipped 1 scheduled run" in lines[1] and not lines[1].routine


def test_a_reload_runs_at_once_without_settling_or_moving_the_grid():
    started, lines, _ = run_loop(60, runs=4, reloads=[30.5])
    assert started == [0, 31.0, 60, 120]  # seen at the end of the tick it arrived in
    assert lines[1] == "2025-03-01T12:00:31Z reload: no change (0.00s)"


def test_a_reload_asked_for_during_a_run_gets_a_run_right_after_it():
    started, lines, _ = run_loop(600, runs=3, durations=[10], reloads=[5])
    assert started == [0, 10, 600]
    assert lines[1].startswith("2025-03-01T12:00:10Z reload: ")


def test_a_first_run_failing_with_a_fatal_error_ends_the_loop_after_its_line():
    stop, clock, lines = threading.Event(), Clock(), []

    def build():
        raise BuildError("seeds: seeds folder not found (use --seeds DIR)")

    with pytest.raises(StartFailed) as e:
        watch_loop(build, 60, stop=stop, changes=clock, clock=clock, wall=clock.wall, log=lines.append,
                   fatal_at_start=(BuildError,))
    assert isinstance(e.value.error, BuildError)
    assert lines == ["2025-03-01T12:00:00Z start: FAILED: BuildError: seeds: seeds folder not found (use --seeds DIR) (0.00s)"]


def test_the_same_error_in_a_later_run_keeps_the_loop_going():
    started, lines, _ = run_loop(60, runs=3, fail={2}, fatal_at_start=(BuildError,))
    assert started == [0, 60, 120]
    assert "scheduled: FAILED: BuildError: " in lines[1]


def test_errors_not_named_fatal_at_start_keep_the_loop_going_even_in_the_first_run():
    started, lines, _ = run_loop(60, runs=2, fail={1}, fatal_at_start=(KeyError,))
    assert started == [0, 60] and "start: FAILED: BuildError: " in lines[0]


def test_a_run_cancelled_before_writing_is_logged_as_such_not_as_a_failure():
    stop, clock, lines = threading.Event(), Clock(), []

    def build():
        stop.set()
        raise schedule.Cancelled("stopped while waiting for the build lock; nothing written")

    assert watch_loop(build, 60, stop=stop, changes=clock, clock=clock, wall=clock.wall, log=lines.append,
                      fatal_at_start=(Exception,)) == 1
    assert lines == ["2025-03-01T12:00:00Z start: stopped while waiting for the build lock; nothing written (0.00s)"]


def test_stop_while_waiting_ends_the_loop_within_a_tick():
    stop = threading.Event()
    clock = Clock(stop_at=100.5, stop=stop)
    runs = watch_loop(lambda: None, 3600, stop=stop, changes=clock, clock=clock, wall=clock.wall, log=lambda s: None)
    assert runs == 1
    assert clock.now == 100.5
    assert max(clock.waits) == schedule.TICK == 1.0  # never blocks longer than a tick


def test_stop_during_a_run_lets_it_finish_and_starts_no_other():
    stop, clock, calls = threading.Event(), Clock(changes=[1.0]), []

    def build():
        calls.append("begin")
        stop.set()  # SIGTERM arrives mid-build
        calls.append("end")

    assert watch_loop(build, 60, stop=stop, changes=clock, clock=clock, log=lambda s: None) == 1
    assert calls == ["begin", "end"]


def test_without_a_change_waiter_the_injected_sleep_is_used():
    stop, clock, started = threading.Event(), Clock(), []

    def build():
        started.append(clock.now)
        if len(started) == 3:
            stop.set()

    watch_loop(build, 2.5, stop=stop, clock=clock, sleep=clock.sleep, log=lambda s: None)
    assert started == [0, 2.5, 5.0]
    assert clock.waits == [1.0, 1.0, 0.5, 1.0, 1.0, 0.5]


@pytest.mark.parametrize(
    "text, seconds",
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2h0m5s", 7205), (" 90S ", 90), ("1m30s", 90)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text, message",
    [
        ("15", "'15' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"),
        ("", "'' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"),
        ("1.5h", "'1.5h' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"),
        ("30m1h", "'30m1h' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"),
        ("-5m", "'-5m' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"),
        ("0s", "'0s': the interval must be at least 1s"),
    ],
)
def test_parse_duration_rejects(text, message):
    with pytest.raises(ValueError) as e:
        parse_duration(text)
    assert str(e.value) == message


def test_format_duration():
    assert [format_duration(s) for s in (30, 900, 5400, 7205)] == ["30s", "15m", "1h30m", "2h5s"]


# --- change detection -------------------------------------------------------------------------


def test_polling_waiter_sees_added_changed_and_removed_seeds(tmp_path):
    clock = Clock()
    (tmp_path / "a.txt").write_text("one")
    waiter = PollingWaiter(tmp_path, interval=1.0, clock=clock, sleep=clock.sleep)

    assert waiter.wait(5) is False
    assert clock.now == 5 and clock.waits == [1.0, 1.0, 1.0, 1.0, 1.0]

    (tmp_path / "b.txt").write_text("two")
    assert waiter.wait(5) is True
    assert clock.now == 6  # noticed at the first poll
    assert waiter.wait(3) is False  # and reported once

    os.utime(tmp_path / "a.txt", ns=(1, 1_000_000_000))  # same size, new mtime
    assert waiter.wait(5) is True
    (tmp_path / "a.txt").write_text("one!")
    assert waiter.wait(5) is True
    before = (tmp_path / "a.txt").stat()
    time.sleep(0.05)  # past the kernel's timestamp tick (a few ms): the rewrite gets a new ctime
    (tmp_path / "a.txt").write_text("two!")
    os.utime(tmp_path / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns))  # `touch -r`: same size and mtime
    assert waiter.wait(5) is True
    (tmp_path / "b.txt").unlink()
    assert waiter.wait(5) is True
    assert waiter.wait(2) is False


def test_polling_waiter_copes_with_a_missing_folder(tmp_path):
    clock = Clock()
    waiter = PollingWaiter(tmp_path / "seeds", clock=clock, sleep=clock.sleep)
    assert waiter.wait(2) is False
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "x.txt").write_text("x")
    assert waiter.wait(2) is True


def test_watch_seeds_prefers_watchdog_and_falls_back_to_polling(tmp_path):
    waiter = watch_seeds(tmp_path)
    try:
        assert isinstance(waiter, WatchdogWaiter)
    finally:
        waiter.close()
    assert isinstance(watch_seeds(tmp_path / "missing"), PollingWaiter)
    assert isinstance(watch_seeds(tmp_path, prefer_watchdog=False), PollingWaiter)


def test_watchdog_waiter_reports_a_new_seed_within_a_second(tmp_path):
    waiter = WatchdogWaiter(tmp_path)
    try:
        assert waiter.wait(0.2) is False
        threading.Timer(0.1, (tmp_path / "new.txt").write_text, ["hello"]).start()
        assert waiter.wait(5) is True
        time.sleep(0.2)  # let the burst (create, modify, close) arrive, then drain it
        waiter.wait(0.2)
        assert waiter.wait(0.3) is False
        (tmp_path / "new.txt").unlink()
        assert waiter.wait(5) is True
    finally:
        waiter.close()


def test_watchdog_waiter_follows_a_seeds_folder_replaced_by_another(tmp_path):
    """A deploy renames a fresh copy into place: the watch must move to the new folder."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    waiter = WatchdogWaiter(seeds)
    try:
        assert waiter.wait(0.2) is False
        seeds.rename(tmp_path / "seeds_old")
        seeds.mkdir()
        assert waiter.wait(3) is True  # another folder: a change in itself
        time.sleep(0.2)
        while waiter.wait(0.3):
            pass
        threading.Timer(0.1, (seeds / "new.txt").write_text, ["hello"]).start()
        assert waiter.wait(5) is True  # and seen inside the new folder
        time.sleep(0.2)
        while waiter.wait(0.3):
            pass
        (tmp_path / "seeds_old" / "old.txt").write_text("not watched any more")
        assert waiter.wait(1.5) is False
    finally:
        waiter.close()


def test_a_replaced_folder_the_os_will_not_watch_is_polled_not_reported_again_and_again(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    waiter = WatchdogWaiter(seeds)
    try:
        def no_watches(self):
            raise OSError(28, "inotify watch limit reached")

        monkeypatch.setattr(WatchdogWaiter, "_watch", no_watches)
        seeds.rename(tmp_path / "seeds_old")
        seeds.mkdir()
        assert waiter.wait(1) is True  # the new folder, once
        assert [waiter.wait(0.3) for _ in range(3)] == [False, False, False]
        threading.Timer(0.1, (seeds / "new.txt").write_text, ["hello"]).start()
        assert waiter.wait(3) is True  # seen by polling
    finally:
        waiter.close()


class FakeSeedWatch:
    """A seeds waiter that never sees a change and remembers which folders it was asked to watch."""

    def __init__(self):
        self.watched: list = []
        self.closed: list = []

    def __call__(self, folder):
        self.watched.append(folder)
        return SimpleNamespace(wait=lambda timeout: False, close=lambda: self.closed.append(folder))


def test_inputs_waiter_reports_the_configuration_changing_appearing_and_disappearing(tmp_path):
    config = tmp_path / "feedpub.toml"
    config.write_text('[site]\ntitle = "One"\n')
    waiter = InputsWaiter(tmp_path / "seeds", config, watch=FakeSeedWatch())
    assert waiter.wait(0) is False

    config.write_text('[site]\ntitle = "Two"\n')  # a new size
    assert waiter.wait(0) is True
    assert waiter.reason() == "configuration changed"
    assert waiter.wait(0) is False and waiter.reason() == "seeds changed"  # reported once

    st = config.stat()
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same size, new mtime
    assert waiter.wait(0) is True
    time.sleep(0.05)  # past the kernel's timestamp tick: the rewrite gets a new ctime
    config.write_text('[site]\ntitle = "Six"\n')
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # `touch -r`: same size and mtime
    assert waiter.wait(0) is True
    config.unlink()
    assert waiter.wait(0) is True and waiter.reason() == "configuration changed"
    assert waiter.wait(0) is False
    config.write_text("")
    assert waiter.wait(0) is True


def test_inputs_waiter_follows_the_seeds_folder_a_reloaded_configuration_names(tmp_path):
    watch = FakeSeedWatch()
    waiter = InputsWaiter(tmp_path / "seeds", tmp_path / "feedpub.toml", watch=watch)
    waiter.follow(tmp_path / "seeds")
    assert watch.watched == [tmp_path / "seeds"]  # the same folder: the watch is kept
    waiter.follow(tmp_path / "wire")
    assert watch.watched == [tmp_path / "seeds", tmp_path / "wire"] and watch.closed == [tmp_path / "seeds"]
    waiter.close()
    assert watch.closed == [tmp_path / "seeds", tmp_path / "wire"]


# --- `feedpub watch` as a process (real time, real files: an integration test) -----------------

SEED = """Flash News

Reuters: {title}

The first paragraph of a story that is long enough to be a real paragraph of news text.
"""


class LogReader:
    """Reads a child's output lines in a thread, so a test can wait for one with a timeout."""

    def __init__(self, stream):
        import queue

        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        import queue

        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {timeout}s; saw {self.seen}")


def project(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "001_aaaa000000000001.txt").write_text(SEED.format(title="First story of the day"))
    return ["--seeds", "seeds", "--out", "feeds", "--record", "record.jsonl"]


def start_watch(tmp_path, *args):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "watch", *args], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    return proc, LogReader(proc.stdout)


def test_watch_command_picks_up_new_and_bad_seeds_and_stops_cleanly_on_sigterm(tmp_path):
    import signal

    proc, log = start_watch(tmp_path, "--every", "1h", *project(tmp_path))
    try:
        first = log.wait_for(" start: ")
        assert "wrote " in first and "flash.xml" in first
        (tmp_path / "seeds" / "002_aaaa000000000002.txt").write_text(SEED.format(title="Second story arrives"))
        line = log.wait_for(" seeds changed: ")  # with --every 1h, only the change can start this run
        assert "flash.xml" in line
        assert "Second story arrives" in (tmp_path / "feeds" / "flash.xml").read_text()

        (tmp_path / "seeds" / "003_aaaa000000000003.txt").write_bytes(b"")
        line = log.wait_for(" seeds changed: ")
        assert "skipped seeds/003_aaaa000000000003.txt: " in line

        (tmp_path / "seeds" / "004_aaaa000000000004.txt").write_text(SEED.format(title="Third story still published"))
        log.wait_for(" seeds changed: wrote ")  # the bad seed did not stop the loop
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    log.wait_for("feedpub watch: stopped")
    assert not list((tmp_path / "feeds").glob(".feedpub-tmp-*"))


def test_watch_command_logs_a_busy_lock_and_keeps_going(tmp_path):
    import signal

    from feedpub.lock import build_lock

    args = project(tmp_path)
    with build_lock(tmp_path / "record.jsonl", wait=0):
        proc, log = start_watch(tmp_path, "--every", "1h", "--wait", "0", *args)
        try:
            line = log.wait_for(" start: ")
            assert re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ start: FAILED: LockBusy: record.jsonl.lock: another build is running "
                rf"\(process {os.getpid()} holds the lock\) and --wait is 0; try again later or raise --wait \(\d\.\d\ds\)\n",
                line,
            ), line
        except BaseException:
            proc.kill()
            raise
    try:
        (tmp_path / "seeds" / "002_aaaa000000000002.txt").write_text(SEED.format(title="After the lock"))
        assert "wrote " in log.wait_for(" seeds changed: ")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_watch_command_rejects_a_bad_interval():
    from click.testing import CliRunner

    from feedpub.cli import main

    result = CliRunner().invoke(main, ["watch", "--every", "15"])
    assert result.exit_code == 2
    assert (
        "Invalid value for '--every': '15' is not a duration: use a number with a unit, e.g. 30s, 15m, 1h or 1h30m"
        in result.output
    )
