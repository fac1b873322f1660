"""`feedpub check`: the command line over feedpub.check (options -> settings -> check_files)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feedpub.cli_options import SettingError, for_terminal
from feedpub.config import ConfigError, load_settings

FEED_SUFFIXES = (".xml", ".atom", ".json")


def default_feeds(out_dir: Path) -> list[Path]:
    """Every feed file directly in the output folder (item pages and feeds.opml are not feeds)."""
    if not out_dir.is_dir():
        return []
    return sorted(p for p in out_dir.iterdir() if p.suffix in FEED_SUFFIXES and p.is_file())


@click.command("check")
@click.argument("feeds", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--base-url",
    help="Public URL of the output folder the self links must match, e.g. https://news.example.org/ "
    "(env FEEDPUB_BASE_URL). Default: as `feedpub build` uses.",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Output folder. Default: feeds/")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration file. Default: feedpub.toml if present.")
def check(feeds, base_url, out_dir, config_path):
    """Validate feeds offline: RSS 2.0, Atom 1.0, JSON Feed 1.1, dates, URLs, ids, self links.

    Prints one line per problem (file:line: item: message) and exits 1 if there was any,
    0 when every file is clean.

    \b
    Example:
      feedpub check                                  # every feed in feeds/
      feedpub check feeds/flash.xml --base-url https://news.example.org/
    """
    try:
        settings = load_settings(config_path, overrides={"base_url": base_url, "out_dir": out_dir})
    except ConfigError as e:
        raise SettingError(str(e)) from None
    paths = list(feeds) or default_feeds(settings.out_dir)
    if not paths:
        raise SettingError(f"{settings.out_dir}: no feed files to check; run `feedpub build` or name the files")
    from feedpub.check import check_files  # lxml: loaded only for this command

    problems = check_files(paths, settings)
    for problem in problems:
        # Ids, URLs and file names come from the files: a lone surrogate would end in a
        # UnicodeEncodeError and an ESC would drive the terminal, so both are shown as escapes.
        click.echo(for_terminal(str(problem)))
    errors = sum(p.level == "error" for p in problems)
    click.echo(
        f"{len(paths)} files checked: {errors} errors, {len(problems) - errors} warnings",
        err=True,
    )
    sys.exit(1 if problems else 0)
