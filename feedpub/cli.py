"""The command line: options -> settings -> one library call; errors -> one line and an exit code.

Exit codes: 0 done; 1 `--strict` and a seed was skipped (or `check` found problems);
2 usage, configuration or record error; 3 the build failed (nothing published was changed);
75 another build holds the lock.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from feedpub import __version__
from feedpub.cli_check import check
from feedpub.cli_options import build_options, for_terminal, settings_from_options, user_errors
from feedpub.cli_run import serve, watch


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
@click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing but errors, skipped seeds and warnings (no summary, no notices)."
)
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
    from feedpub.publish import build as run_build, check_before_locking

    settings = settings_from_options(**options)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    if not rebuild_record:
        check_before_locking(settings)
    with build_lock(settings.record_path, wait=wait):
        if rebuild_record:
            from feedpub import recover  # loads lxml, which a build that renders nothing never needs

            click.echo(recover.rebuild_record(settings), err=True)
        report = run_build(settings, workers=workers, progress=ProgressLine() if show_progress else None)
    for path, reason in report.skipped:
        click.echo(for_terminal(f"{path}: {reason}, skipped"), err=True)
    for line in report.warnings + ([] if quiet else report.notices):
        click.echo(for_terminal(line), err=True)
    if as_json:
        click.echo(json_text(report.as_dict()))
    elif not quiet:
        click.echo(report.summary_line())
    sys.exit(report.exit_code(strict))


def json_text(value) -> str:
    """JSON for a person and a program: UTF-8 as is, but a file name's undecodable byte (a lone
    surrogate, as Python keeps it) as its JSON escape, `\udce9`: printed raw it would make the
    output invalid UTF-8, which no JSON parser reads."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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

    settings = settings_from_options(config_path=config_path, building=False)  # reads seeds, writes nothing
    results = [describe(path, settings) for path in paths]
    if as_json:
        click.echo(json_text(results))
    else:
        # Names and text come from the user's files: what a terminal would act on is shown escaped.
        text = "\n\n".join(format_text(r) for r in results)
        click.echo("\n".join(map(for_terminal, text.split("\n"))))


main.add_command(watch)
main.add_command(serve)
main.add_command(check)
