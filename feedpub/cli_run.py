"""Long-running commands: `feedpub watch` and `feedpub serve` (registered on the group in cli.py).

Both are thin: options -> settings -> schedule.watch_loop / serve.serve. Each build takes the
build lock, so a watch loop, a cron `feedpub build` and `serve --watch` never interleave writes.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click

from feedpub.cli_options import SettingError, build_options, for_terminal, settings_from_options
from feedpub.config import Settings
from feedpub.lock import build_lock, lock_path_for
from feedpub.schedule import parse_duration, watch_loop, watch_seeds


class Duration(click.ParamType):
    """A duration option: 30s, 15m, 1h, 1h30m -> seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


DURATION = Duration()

wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long each run waits for another build holding the lock (a cron `feedpub build`, say); "
    "a run that gives up is logged as failed and the loop goes on. E.g. --wait 5.",
)

every_option = click.option(
    "--every",
    type=DURATION,
    default="15m",
    show_default=True,
    help="Rebuild interval, e.g. 30s, 15m, 1h or 1h30m (seed changes also rebuild within a second).",
)


def locked_build(settings: Settings, wait: float) -> Callable[[], object]:
    """One build under the build lock: what the watch loop runs."""

    def run():
        from feedpub.publish import build, check_before_locking

        check_before_locking(settings)
        with build_lock(settings.record_path, wait=wait):
            return build(settings)

    return run


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` instead of interrupting: the loop ends between runs."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_watch(settings: Settings, every: float, wait: float, stop: threading.Event, log: Callable[[str], None]) -> int:
    """Rebuild now, every `every` seconds and on seed changes, until `stop`; returns the runs."""
    changes = watch_seeds(settings.seeds_dir)
    try:
        return watch_loop(locked_build(settings, wait), every, stop=stop, changes=changes, log=log)
    finally:
        changes.close()


def line_logger(quiet: bool) -> Callable[[str], None]:
    """Run log to stdout, flushed per line; --quiet drops the runs that changed nothing."""

    def log(line: str) -> None:
        if quiet and line.split(": ", 1)[-1].startswith("no change"):
            return
        click.echo(for_terminal(line))
        sys.stdout.flush()

    return log


@click.command()
@every_option
@wait_option
@click.option("--quiet", "-q", is_flag=True, help="Log only runs that wrote files, skipped seeds or failed.")
@build_options
def watch(every, wait, quiet, **options):
    """Rebuild at once, then every --every and whenever a seed is added, changed or removed.

    One log line per run (UTC time, files written, seeds skipped, duration). A failed run is
    logged and the loop goes on. Ctrl-C or SIGTERM stops it between runs, exit 0.

    \b
    Example:
      feedpub watch --every 30s
    """
    settings = settings_from_options(**options)
    stop = threading.Event()
    with stop_on_signals(stop):
        run_watch(settings, every, wait, stop, line_logger(quiet))
    click.echo("feedpub watch: stopped", err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on, e.g. 0.0.0.0 for the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port, e.g. 8080 (0: any free port).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to serve, e.g. public/. Default: the output folder (feeds/).",
)
@click.option("--watch", "rebuild", is_flag=True, help="Also rebuild in the background, as `feedpub watch` does.")
@every_option
@wait_option
@build_options
def serve(host, port, directory, rebuild, every, wait, **options):
    """Serve the output folder over HTTP for previews and small deployments.

    Feed content types, ETag/Last-Modified with 304s, gzip; never serves dotfiles, the record
    or anything outside the folder. One log line per request on stderr.

    \b
    Example:
      feedpub serve --watch --every 1m       # then open http://127.0.0.1:8000/
    """
    from feedpub.serve import make_server, run_server

    settings = settings_from_options(**options, building=rebuild)  # without --watch it only reads the folder
    directory = directory or settings.out_dir
    if rebuild and directory.resolve() != settings.out_dir.resolve():
        raise click.BadParameter(f"--watch serves the folder it builds ({settings.out_dir}); use --out instead", param_hint="--dir")
    if not rebuild and not directory.is_dir():
        raise SettingError(f"{directory}: no such folder; run `feedpub build` first, or pass --dir or --watch")
    hidden = [settings.record_path, lock_path_for(settings.record_path)]
    try:
        server = make_server(directory, host, port, hidden=hidden)
    except OSError as e:
        raise SettingError(f"cannot listen on {host}:{port}: {e.strerror or e}; try another --port") from None

    stop = threading.Event()
    with stop_on_signals(stop):
        worker = None
        if rebuild:
            log = lambda line: click.echo(for_terminal(f"watch: {line}"), err=True)  # noqa: E731
            worker = threading.Thread(target=run_watch, args=(settings, every, wait, stop, log), name="feedpub-watch")
            worker.start()
        try:
            ready = lambda url: click.echo(f"Serving {directory} at {url} (Ctrl-C to stop)", err=True)  # noqa: E731
            run_server(server, on_ready=ready, stop_event=stop)
        finally:
            stop.set()
            if worker:
                worker.join()  # the loop ends between runs: never mid-write
    click.echo("feedpub serve: stopped", err=True)
