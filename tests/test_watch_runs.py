"""What each run of `feedpub watch` (and `serve --watch`) does beyond the loop: it reads the
configuration again, reloads on SIGHUP, gives up on a first run that cannot work, and its
--quiet log keeps every run that needs a look."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.cli_run import line_logger, locked_build, serving
from feedpub.config import ConfigError
from feedpub.lock import build_lock
from feedpub.schedule import Cancelled, watch_loop
from tests.conftest import seed_text
from tests.test_schedule import Clock, LogReader

PATHS = ["--seeds", "seeds", "--out", "feeds", "--record", "record.jsonl"]


def start_watch(project, *args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "watch", "--every", "1h", *PATHS, *args], cwd=project.root, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    return proc, LogReader(proc.stdout)


def stop(proc) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


# --- --quiet --------------------------------------------------------------------------------------


def test_quiet_watch_logs_skipped_seeds_warnings_notices_and_failures(capsys):
    def report(**fields):
        return SimpleNamespace(**{"written": [], "skipped": [], "warnings": [], "notices": [], **fields})

    reports = [
        report(),
        report(skipped=[("seeds/x.txt", "empty file")]),
        report(warnings=["seeds/a.txt: not UTF-8; read as Windows-1252"]),
        report(notices=["seeds: no seeds to publish; the feeds are written empty"]),
        report(written=["flash.xml"]),
        None,  # fails
        report(),
    ]
    stop_event, clock = threading.Event(), Clock()

    def build():
        if len(reports) == 1:
            stop_event.set()
        result = reports.pop(0)
        if result is None:
            raise OSError("feeds: not writable")
        return result

    watch_loop(build, 60, stop=stop_event, changes=clock, clock=clock, wall=clock.wall, log=line_logger(quiet=True))
    assert capsys.readouterr().out.splitlines() == [
        "2025-03-01T12:01:00Z scheduled: no change; skipped seeds/x.txt: empty file (0.00s)",
        "2025-03-01T12:02:00Z scheduled: no change; warning: seeds/a.txt: not UTF-8; read as Windows-1252 (0.00s)",
        "2025-03-01T12:03:00Z scheduled: no change; note: seeds: no seeds to publish; the feeds are written empty (0.00s)",
        "2025-03-01T12:04:00Z scheduled: wrote 1 file (flash.xml) (0.00s)",
        "2025-03-01T12:05:00Z scheduled: FAILED: OSError: feeds: not writable (0.00s)",
    ]


def test_quiet_help_texts_say_what_is_printed():
    build_help = CliRunner().invoke(main, ["build", "--help"], terminal_width=200).output
    assert "Print nothing but errors, skipped seeds and warnings (no summary, no notices)." in build_help
    watch_help = " ".join(CliRunner().invoke(main, ["watch", "--help"], terminal_width=200).output.split())
    assert ("Leave out the runs that wrote nothing and reported nothing: runs that wrote files, skipped seeds, "
            "printed a warning or notice, or failed are still logged.") in watch_help
    assert "SIGHUP starts a run now" in watch_help


# --- the configuration, read by every run -----------------------------------------------------------


def test_watch_publishes_a_configuration_edit_and_survives_a_broken_one(project):
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    project.config.write_text('[feeds.latest]\ntitle = "Old title"\n')
    latest = project.out / "latest.xml"
    proc, log = start_watch(project)
    try:
        assert "wrote " in log.wait_for(" start: ")
        assert "<title>Old title</title>" in latest.read_text()

        project.config.write_text('[feeds.latest]\ntitle = "New title"\n')  # no seed changed
        assert "latest.xml" in log.wait_for(" configuration changed: ")
        assert "<title>New title</title>" in latest.read_text()

        project.config.write_text('[feeds.latest]\ntitle = "Broken"\nlimit = 0\n')
        assert re.fullmatch(
            r"\S+Z configuration changed: FAILED: ConfigError: feedpub.toml: feeds.latest.limit: "
            r"must be a whole number from 1 to 10000, not 0 \(\d+\.\d\ds\)\n",
            log.wait_for(" configuration changed: "),
        )
        assert "<title>New title</title>" in latest.read_text()  # nothing published

        project.config.write_text('[feeds.latest]\ntitle = "Fixed title"\n')
        assert "latest.xml" in log.wait_for(" configuration changed: ")  # recovered
        assert "<title>Fixed title</title>" in latest.read_text()

        project.add("002_aaaa000000000002.txt", seed_text("Second story arrives"))
        log.wait_for(" seeds changed: wrote ")
        assert "<title>Fixed title</title>" in latest.read_text()  # a seed run keeps the new title
    finally:
        assert stop(proc) == 0


def test_a_configuration_file_removed_while_watching_fails_the_run_instead_of_publishing_defaults(project):
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    project.config.write_text('[site]\nbase_url = "https://news.example.org/"\n[feeds.latest]\ntitle = "Ours"\n')
    latest = project.out / "latest.xml"
    proc, log = start_watch(project)
    try:
        log.wait_for(" start: ")
        published = latest.read_bytes()
        project.config.rename(project.root / "feedpub.toml.bak")  # a deploy, mid-way
        assert "FAILED: ConfigError: feedpub.toml: configuration file not found" in log.wait_for(" configuration changed: ")
        assert latest.read_bytes() == published  # not the defaults' title and localhost ids
        (project.root / "feedpub.toml.bak").rename(project.config)
        assert "FAILED" not in log.wait_for(" configuration changed: ")
        assert latest.read_bytes() == published
    finally:
        assert stop(proc) == 0


def test_serve_watch_refuses_a_run_whose_output_folder_has_moved(project):
    check = serving(project.out)
    check(project.settings())  # the folder served: fine
    with pytest.raises(ConfigError, match="the output folder is now .*/elsewhere, but the server serves "):
        check(project.settings(out_dir=project.root / "elsewhere"))


# --- a first run that cannot work ---------------------------------------------------------------------


def test_watch_exits_2_when_the_first_run_finds_no_seeds_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "feedpub", "watch", "--seeds", "nowhere", "--out", "feeds", "--record", "record.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and " start: FAILED: InputError: nowhere: seeds folder not found (use --seeds DIR) (" in lines[0]
    assert done.stderr == ""
    assert not (tmp_path / "feeds").exists()


def test_serve_watch_stops_with_exit_2_when_the_first_run_finds_no_seeds_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--watch", "--port", "0", *PATHS])
    assert result.exit_code == 2
    assert "watch: " in result.stderr and " start: FAILED: InputError: seeds: seeds folder not found" in result.stderr
    assert "feedpub serve: stopped" not in result.stderr


def test_a_seeds_folder_gone_after_the_first_run_is_logged_and_watching_goes_on(project):
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    proc, log = start_watch(project)
    try:
        log.wait_for(" start: wrote ")
        project.seeds.rename(project.root / "seeds.old")
        assert "FAILED: InputError: seeds: seeds folder not found" in log.wait_for(" seeds changed: ")
        (project.root / "seeds.old").rename(project.seeds)
        project.add("002_aaaa000000000002.txt", seed_text("Second story arrives"))
        log.wait_for(" seeds changed: wrote ")
        assert proc.poll() is None
    finally:
        assert stop(proc) == 0


def wait_until_open(pid: int, path, timeout: float = 20.0) -> None:
    """Wait until process `pid` has `path` open (Linux: /proc/<pid>/fd)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(os.path.realpath(fd) == os.path.realpath(path) for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return
        except OSError:
            pass  # an fd closed while we looked
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never opened {path}")


# --- signals ----------------------------------------------------------------------------------------


def test_sighup_starts_a_run_and_the_watcher_keeps_going(project):
    """SIGHUP is a reload request, not a hangup: a run follows, logged as `reload`, and the
    process lives on for the next one. (That every run reads the configuration again is
    test_watch_publishes_a_configuration_edit_and_survives_a_broken_one.)"""
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    proc, log = start_watch(project)
    try:
        log.wait_for(" start: ")
        proc.send_signal(signal.SIGHUP)
        assert re.fullmatch(r"\S+Z reload: no change \(\d+\.\d\ds\)\n", log.wait_for(" reload: "))
        assert proc.poll() is None
        proc.send_signal(signal.SIGHUP)
        log.wait_for(" reload: ")
    finally:
        assert stop(proc) == 0
    log.wait_for("feedpub watch: stopped")


def test_sigterm_stops_a_run_that_is_still_waiting_for_the_lock(project):
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    with build_lock(project.record, wait=0) as lock:
        proc, log = start_watch(project, "--wait", "3600")
        try:
            wait_until_open(proc.pid, lock)  # the first run waits for the lock: signals are handled by now
            assert stop(proc) == 0
        except BaseException:
            proc.kill()
            raise
    assert " start: stopped while waiting for the build lock; nothing written (" in log.wait_for(" start: ")
    assert not project.out.exists()


def test_a_stop_while_waiting_for_the_lock_cancels_the_build_before_it_writes(project):
    project.add("001_aaaa000000000001.txt", seed_text("First story of the day"))
    stopped = threading.Event()
    stopped.set()
    with build_lock(project.record, wait=0):
        with pytest.raises(Cancelled, match="^stopped while waiting for the build lock; nothing written$"):
            locked_build(project.settings(), wait=3600, stop=stopped)()
    assert not project.out.exists()
    assert locked_build(project.settings(), wait=0, stop=stopped)().written  # a free lock: the build runs
