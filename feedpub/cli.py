"""The command line: options -> settings -> one library call; errors -> one line and an exit code.

Exit codes: 0 done; 1 `--strict` and a seed was skipped (or `check` found problems);
2 usage, configuration or record error; 3 the build failed (nothing published was changed);
75 another build holds the lock.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from feedpub import __version__
from feedpub.config import ConfigError, Settings, load_settings


def build_options(func):
    """The options every command that builds takes (build, watch, serve --watch)."""
    options = [
        click.option("--seeds", "seeds_dir", type=click.Path(path_type=Path), help="Seed folder. Default: seeds/"),
        click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder. Default: feeds/"),
        click.option(
            "--record",
            "record_path",
            type=click.Path(path_type=Path),
            help="Publication record (JSON Lines). Default: feedpub-record.jsonl",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            help="Configuration file. Default: feedpub.toml if present.",
        ),
        click.option(
            "--base-url",
            envvar="FEEDPUB_BASE_URL",
            help="Public URL of the output folder, e.g. https://news.example.org/ (env FEEDPUB_BASE_URL).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_from_options(
    seeds_dir=None, out_dir=None, record_path=None, config_path=None, base_url=None, **_ignored
) -> Settings:
    """Settings from the config file plus command-line options; a bad value exits 2 with one line."""
    try:
        return load_settings(
            config_path,
            overrides={"seeds_dir": seeds_dir, "out_dir": out_dir, "record_path": record_path, "base_url": base_url},
        )
    except ConfigError as e:
        raise click.UsageError(str(e)) from None


def user_errors(func):
    """Turn the library's own exceptions into one line on stderr and their exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from feedpub.lock import LockBusy, LockError
        from feedpub.publish import BuildError

        try:
            return func(*args, **kwargs)
        except LockBusy as e:
            click.echo(f"feedpub: {e}", err=True)
            sys.exit(e.exit_code)
        except (BuildError, LockError) as e:
            click.echo(f"feedpub: {e}", err=True)
            sys.exit(getattr(e, "exit_code", 3))

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedpub")
def main():
    """Publish plain-text news seeds as RSS 2.0, Atom and JSON feeds.

    \b
    Example:
      feedpub build                       # seeds/ -> feeds/
      feedpub inspect seeds/000_*.txt     # how the reader sees a seed
    """


@main.command()
@build_options
@click.option("--strict", is_flag=True, help="Exit 1 when any seed was skipped.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and skipped seeds.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another build holding the lock, then exit 75; e.g. --wait 0.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Processes reading seeds on a cold build, e.g. --workers 1. Default: the CPU count (at most 4).",
)
@click.option(
    "--rebuild-record",
    is_flag=True,
    help="Rebuild a damaged record: keep its readable lines, recover ids from the published feeds, then build.",
)
@user_errors
def build(strict, quiet, as_json, wait, workers, rebuild_record, **options):
    """Read the seeds, update the record, write the feeds, pages and site (only files that changed).

    \b
    Example:
      feedpub build --base-url https://news.example.org/
      feedpub build --quiet --strict      # from cron: silent unless something is wrong
    """
    from feedpub.lock import build_lock
    from feedpub.publish import build as run_build
    from feedpub import recover

    settings = settings_from_options(**options)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    with build_lock(settings.record_path, wait=wait):
        if rebuild_record:
            click.echo(recover.rebuild_record(settings), err=True)
        report = run_build(settings, workers=workers, progress=ProgressLine() if show_progress else None)
    for path, reason in report.skipped:
        click.echo(f"{path}: {reason}, skipped", err=True)
    for line in report.warnings + ([] if quiet else report.notices):
        click.echo(line, err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    elif not quiet:
        click.echo(report.summary_line())
    sys.exit(report.exit_code(strict))


class ProgressLine:
    """A one-line progress display on stderr, shown only once a build has taken over two seconds."""

    def __init__(self, after: float = 2.0):
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._after = after
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if self._clock() - self._start < self._after:
            return
        self._shown = True
        click.echo(f"\rreading seeds: {done:,}/{total:,} ({100 * done // max(total, 1)}%)", err=True, nl=False)
        if done >= total:
            click.echo("", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, in a list.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration file (for agencies).")
def inspect(paths, as_json, config_path):
    """Show how the reader sees seed files: category, title, credits, date, paragraphs.

    \b
    Example:
      feedpub inspect seeds/000_ff3a66dc08c7f601.txt --json
    """
    from feedpub.inspect import describe, format_text

    settings = settings_from_options(config_path=config_path)
    results = [describe(path, settings) for path in paths]
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        click.echo("\n\n".join(format_text(r) for r in results))


# Commands that live in their own modules (they import the helpers above).
from feedpub.cli_check import check  # noqa: E402
from feedpub.cli_run import serve, watch  # noqa: E402

main.add_command(watch)
main.add_command(serve)
main.add_command(check)
