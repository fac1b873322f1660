"""The build lock: one build at a time, a killed holder never blocks the next run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feedpub.lock import EXIT_LOCK_BUSY, LockBusy, LockError, build_lock, lock_path_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


HOLDER = textwrap.dedent(
    """
    import sys, time
    from feedpub.lock import build_lock
    with build_lock(sys.argv[1], wait=0):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def start_holder(record: Path) -> subprocess.Popen:
    """A real process holding the lock until killed; returns once it holds it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(record)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_lock_file_sits_beside_the_record(tmp_path):
    assert lock_path_for(tmp_path / "feedpub-record.jsonl") == tmp_path / "feedpub-record.jsonl.lock"


def test_holder_pid_is_recorded_while_held_and_cleared_after(tmp_path):
    record = tmp_path / "record.jsonl"
    with build_lock(record, wait=0) as path:
        assert path == tmp_path / "record.jsonl.lock"
        assert path.read_text() == f"{os.getpid()}\n"
    assert path.read_text() == ""
    assert path.exists()  # kept: deleting it would let two runs lock two different files


def test_second_lock_is_busy_and_names_file_and_holder(tmp_path):
    record = tmp_path / "record.jsonl"
    with build_lock(record, wait=0):
        with pytest.raises(LockBusy) as e:
            with build_lock(record, wait=0):
                pass  # pragma: no cover
    assert str(e.value) == (
        f"{tmp_path}/record.jsonl.lock: another build is running (process {os.getpid()} holds the lock) "
        "and --wait is 0; try again later or raise --wait"
    )
    assert e.value.exit_code == EXIT_LOCK_BUSY == 75


def test_waits_by_polling_then_gives_up(tmp_path):
    record = tmp_path / "record.jsonl"
    clock = FakeClock()
    with build_lock(record, wait=0):
        with pytest.raises(LockBusy, match=r"after waiting 1s; try again later or raise --wait$"):
            with build_lock(record, wait=1.0, poll=0.25, clock=clock, sleep=clock.sleep):
                pass  # pragma: no cover
    assert clock.sleeps == [0.25, 0.25, 0.25, 0.25]


def test_waiter_gets_the_lock_when_the_holder_releases_it(tmp_path):
    record = tmp_path / "record.jsonl"
    clock = FakeClock()
    holder = build_lock(record, wait=0)
    holder.__enter__()
    clock.on_sleep = lambda n: n == 3 and holder.__exit__(None, None, None)
    with build_lock(record, wait=60, poll=0.5, clock=clock, sleep=clock.sleep) as path:
        assert path.read_text() == f"{os.getpid()}\n"
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_lock_held_by_another_process_names_its_pid(tmp_path):
    record = tmp_path / "record.jsonl"
    proc = start_holder(record)
    try:
        with pytest.raises(LockBusy, match=rf"\(process {proc.pid} holds the lock\)"):
            with build_lock(record, wait=0):
                pass  # pragma: no cover
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_a_killed_process_does_not_block_the_next_run(tmp_path):
    record = tmp_path / "record.jsonl"
    proc = start_holder(record)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert lock_path_for(record).read_text() == f"{proc.pid}\n"  # stale pid left behind...
    with build_lock(record, wait=0) as path:  # ...yet the kernel released the lock at once
        assert path.read_text() == f"{os.getpid()}\n"


def test_a_missing_folder_is_created_like_the_build_would(tmp_path):
    with build_lock(tmp_path / "new" / "record.jsonl", wait=0) as path:
        assert path == tmp_path / "new" / "record.jsonl.lock"


def test_an_impossible_folder_is_a_lock_error_not_busy(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(LockError) as e:
        with build_lock(tmp_path / "file" / "record.jsonl", wait=0):
            pass  # pragma: no cover
    assert not isinstance(e.value, LockBusy)
    assert e.value.exit_code == 3
    assert str(e.value) == f"{tmp_path}/file/record.jsonl.lock: cannot create the build lock: Not a directory"


WRITER = textwrap.dedent(
    """
    import sys
    from feedpub.lock import build_lock
    record, log, name = sys.argv[1:]
    for i in range(40):
        with build_lock(record, wait=30, poll=0.001):
            with open(log, "a") as f:
                f.write(f"{name} start\\n")
                f.flush()
                f.write(f"{name} end\\n")
    """
)


def test_concurrent_processes_never_interleave(tmp_path):
    record, log = tmp_path / "record.jsonl", tmp_path / "log"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(record), str(log), name]) for name in "abc"
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    lines = log.read_text().splitlines()
    assert len(lines) == 240
    for start, end in zip(lines[::2], lines[1::2]):
        assert start.endswith(" start") and end == start.replace("start", "end")


def test_build_command_exits_75_when_the_lock_is_busy(tmp_path):
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", tmp_path / "seeds")
    args = [sys.executable, "-m", "feedpub", "build", "--seeds", "seeds", "--out", "feeds", "--record", "r.jsonl"]
    with build_lock(tmp_path / "r.jsonl", wait=0):
        busy = subprocess.run([*args, "--wait", "0"], cwd=tmp_path, capture_output=True, text=True)
    assert busy.returncode == 75
    assert busy.stdout == ""
    assert busy.stderr == (
        f"feedpub: r.jsonl.lock: another build is running (process {os.getpid()} holds the lock) "
        "and --wait is 0; try again later or raise --wait\n"
    )
    assert not (tmp_path / "feeds").exists()  # nothing written while another build held the lock
    done = subprocess.run([*args, "--wait", "0", "--quiet"], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "")
