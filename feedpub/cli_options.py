"""Options shared by the commands that build (build, watch, serve --watch), and error handling.

Kept apart from cli.py so each command module can import them without import-order traps.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

import click

from feedpub.config import ConfigError, Settings, load_settings


# Characters a terminal acts on or hides: C0 and C1 controls (ESC starts colour and cursor codes),
# bidirectional overrides, and the lone surrogates a file name that is not UTF-8 decodes to.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class SettingError(click.ClickException):
    """A bad setting, path or folder the user gave: one line (`Error: ...`), exit 2. Not
    click.UsageError, whose usage banner would bury the one line that matters in a cron mail;
    mistyped options still get click's own usage errors."""

    exit_code = 2


def for_terminal(text: str) -> str:
    """A line that names user files, safe to print: such characters shown as escapes (\\x1b)."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


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
    seeds_dir=None, out_dir=None, record_path=None, config_path=None, base_url=None, *, building=True, **_ignored
) -> Settings:
    """Settings from the config file plus command-line options; a bad value exits 2 with one line.
    `building`: the command writes the outputs and the record (see load_settings)."""
    try:
        return load_settings(
            config_path,
            overrides={"seeds_dir": seeds_dir, "out_dir": out_dir, "record_path": record_path, "base_url": base_url},
            building=building,
        )
    except ConfigError as e:
        raise SettingError(for_terminal(str(e))) from None  # it names files: escapes, one line


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
