"""Long-running commands: `feedpub watch` and `feedpub serve` (registered on the group in cli.py).

Both are thin: options -> settings -> schedule.watch_loop / serve.serve. Every run loads the
configuration afresh, as `build` does, so an edit to feedpub.toml is published by the next run
(and starts one) instead of being undone by it. Each build takes the build lock, so a watch loop,
a cron `feedpub build` and `serve --watch` never interleave writes.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click

from feedpub.cli_options import SettingError, build_options, for_terminal, settings_from_options
from feedpub.config import CONFIG_NAME, ConfigError, Settings
from feedpub.lock import build_lock, lock_path_for
from feedpub.schedule import Cancelled, InputsWaiter, StartFailed, parse_duration, watch_loop


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


def locked_build(settings: Settings, wait: float, *, stop: threading.Event | None = None) -> Callable[[], object]:
    """One build under the build lock. With `stop`: a stop asked for while the run still waits for
    the lock gives the run up (Cancelled) before it has written anything."""
    sleep = time.sleep if stop is None else _sleep_unless_stopped(stop)

    def run():
        from feedpub.publish import build, check_before_locking

        check_before_locking(settings)
        with build_lock(settings.record_path, wait=wait, sleep=sleep):
            return build(settings)

    return run


def _sleep_unless_stopped(stop: threading.Event) -> Callable[[float], None]:
    # Polls the flag rather than waiting on the Event: the SIGTERM handler sets it from this very
    # thread, and an Event's wait and set share a lock that a handler must never find taken.
    def sleep(seconds: float) -> None:
        if not stop.is_set():
            time.sleep(seconds)  # the lock's poll, 0.1s: how soon a stop is seen
        if stop.is_set():
            raise Cancelled("stopped while waiting for the build lock; nothing written")

    return sleep


def run_settings(options: dict) -> Settings:
    """The settings for one run, loaded as `build` loads them (feedpub.toml, FEEDPUB_BASE_URL, the
    command line's options); a bad value raises ConfigError with `build`'s one-line message."""
    try:
        return settings_from_options(**options)
    except SettingError as e:
        raise ConfigError(e.message) from None


def reloading_build(
    options: dict,
    wait: float,
    stop: threading.Event,
    inputs: InputsWaiter,
    check: Callable[[Settings], None] | None = None,
) -> Callable[[], object]:
    """What each watch run does: reload the settings, watch the seeds folder they name, then
    `check` them (serve --watch: still the folder served) and build under the lock."""

    def run():
        settings = run_settings(options)
        inputs.follow(settings.seeds_dir)
        if check:
            check(settings)
        return locked_build(settings, wait, stop=stop)()

    return run


class ReloadRequests:
    """SIGHUP asks for a run now. A counter the handler bumps, not a threading.Event: an Event's
    set takes a lock, and a handler that interrupts its own thread inside clear() would wait on
    it forever."""

    def __init__(self) -> None:
        self._asked = self._taken = 0

    def ask(self, *_signal) -> None:
        self._asked += 1

    def take(self) -> bool:
        """True once for any number of requests since the last call."""
        asked = self._asked
        if asked == self._taken:
            return False
        self._taken = asked
        return True


@contextmanager
def stop_on_signals(stop: threading.Event, reload: Callable[..., None] | None = None) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` instead of interrupting: the loop ends between runs. With
    `reload`, SIGHUP calls it instead of ending the process (a run now, with the configuration
    read again)."""
    handlers = {signal.SIGINT: lambda *_: stop.set(), signal.SIGTERM: lambda *_: stop.set()}
    if reload is not None:
        handlers[signal.SIGHUP] = reload
    previous = {s: signal.signal(s, handler) for s, handler in handlers.items()}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_watch(
    settings: Settings,
    options: dict,
    every: float,
    wait: float,
    stop: threading.Event,
    log: Callable[[str], None],
    *,
    reload: Callable[[], bool] | None = None,
    check: Callable[[Settings], None] | None = None,
) -> int:
    """Rebuild now, every `every` seconds, on changes to the seeds or the configuration file and
    on `reload`, until `stop`; returns the runs. `settings`: as loaded at start, for the folder to
    watch first; each run loads them again from `options`.

    Raises StartFailed if the first run fails with a configuration or input error (exit 2 in
    `build`): a missing seeds folder would otherwise be retried for ever by a service that looks
    healthy. Later failures are logged and the loop goes on (a deploy may move the folder).
    """
    from feedpub.publish import InputError

    inputs = InputsWaiter(settings.seeds_dir, options.get("config_path") or Path(CONFIG_NAME))
    try:
        run = reloading_build(options, wait, stop, inputs, check)
        return watch_loop(
            run, every, stop=stop, changes=inputs, reload=reload, fatal_at_start=(ConfigError, InputError), log=log
        )
    finally:
        inputs.close()


def line_logger(quiet: bool) -> Callable[[str], None]:
    """Run log to stdout, flushed per line; --quiet drops the runs the loop marks as routine
    (nothing written, nothing to report: see schedule.LogLine)."""

    def log(line: str) -> None:
        if quiet and getattr(line, "routine", False):
            return
        click.echo(for_terminal(line))
        sys.stdout.flush()

    return log


@click.command()
@every_option
@wait_option
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Leave out the runs that wrote nothing and reported nothing: runs that wrote files, skipped "
    "seeds, printed a warning or notice, or failed are still logged.",
)
@build_options
def watch(every, wait, quiet, **options):
    """Rebuild at once, then every --every and whenever a seed is added, changed or removed or
    the configuration file changes. Every run reads the configuration again, as `build` does.

    One log line per run (UTC time, files written, seeds skipped, warnings, duration). A failed
    run is logged and the loop goes on, except a first run that fails with a configuration,
    seeds-folder or record error: exit 2. SIGHUP starts a run now; Ctrl-C or SIGTERM stops it between runs
    (or while a run still waits for the lock), exit 0.

    \b
    Example:
      feedpub watch --every 30s
      kill -HUP <pid>                     # run now, with feedpub.toml read again
    """
    stop, reload = threading.Event(), ReloadRequests()
    with stop_on_signals(stop, reload=reload.ask):  # first: a reload at once must not kill it
        settings = settings_from_options(**options)
        try:
            run_watch(settings, _config_kept(options, settings), every, wait, stop, line_logger(quiet), reload=reload.take)
        except StartFailed:
            sys.exit(2)  # its line is in the log: a unit that cannot work shows as failed
    click.echo("feedpub watch: stopped", err=True)


def _config_kept(options: dict, settings: Settings) -> dict:
    """The options for every later run: a configuration file found at start is named, so that
    its removal (a `mv` aside, a deploy that deletes then copies) fails a run instead of
    publishing the site with the defaults."""
    if options.get("config_path") is None and settings.config_path is not None:
        return {**options, "config_path": settings.config_path}
    return options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on, e.g. 0.0.0.0 for the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port, e.g. 8080 (0: any free port).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, readable=False),  # serve.check_folder: one line, not a usage banner
    help="Folder to serve, e.g. public/. Default: the output folder (feeds/).",
)
@click.option(
    "--watch",
    "rebuild",
    is_flag=True,
    help="Also rebuild in the background, as `feedpub watch` does (SIGHUP: run now; a first run that "
    "fails with a configuration, seeds-folder or record error stops the server, exit 2).",
)
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
    from feedpub.serve import ServeError, check_folder, listen_problem, make_server, run_server

    if not host:
        raise SettingError("--host: empty; give 127.0.0.1 for this machine only, or 0.0.0.0 for every interface")
    settings = settings_from_options(**options, building=rebuild)  # without --watch it only reads the folder
    directory = directory or settings.out_dir
    if rebuild and directory.resolve() != settings.out_dir.resolve():
        raise SettingError(for_terminal(f"--dir: --watch serves the folder it builds ({settings.out_dir}); use --out instead"))
    if not rebuild:
        try:
            check_folder(directory)
        except ServeError as e:
            raise SettingError(for_terminal(str(e))) from None
    hidden = [settings.record_path, lock_path_for(settings.record_path)]
    try:
        server = make_server(directory, host, port, hidden=hidden)
    except OSError as e:
        raise SettingError(for_terminal(listen_problem(host, port, e))) from None
    except (UnicodeError, TypeError):  # the socket module cannot encode the name (say, 64 "é")
        raise SettingError(for_terminal(f"--host: {host!r} is not a host name or address")) from None
    options = _config_kept(options, settings)

    stop, reload = threading.Event(), ReloadRequests()
    gave_up = threading.Event()
    with stop_on_signals(stop, reload=reload.ask if rebuild else None):
        worker = None
        if rebuild:
            def watch_in_background():
                log = lambda line: click.echo(for_terminal(f"watch: {line}"), err=True)  # noqa: E731
                try:
                    run_watch(settings, options, every, wait, stop, log, reload=reload.take, check=serving(directory))
                except StartFailed:
                    gave_up.set()
                    stop.set()  # the server stops too: exit 2, as `feedpub watch` would

            worker = threading.Thread(target=watch_in_background, name="feedpub-watch")
            worker.start()
        try:
            ready = lambda url: click.echo(f"Serving {directory} at {url} (Ctrl-C to stop)", err=True)  # noqa: E731
            run_server(server, on_ready=ready, stop_event=stop)
        finally:
            stop.set()
            if worker:
                worker.join()  # the loop ends between runs: never mid-write
    if gave_up.is_set():
        sys.exit(2)
    click.echo("feedpub serve: stopped", err=True)


def serving(directory: Path) -> Callable[[Settings], None]:
    """serve --watch's check on each run's settings: the output folder is still the one served."""

    def check(settings: Settings) -> None:
        if settings.out_dir.resolve() != directory.resolve():
            source = settings.config_path or "the configuration"
            raise ConfigError(
                f"{source}: out: the output folder is now {settings.out_dir}, but the server serves "
                f"{directory}; restart `feedpub serve --watch` to serve the new folder"
            )

    return check
