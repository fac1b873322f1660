"""Settings: defaults, feedpub.toml, FEEDPUB_* environment, command-line options; validated once.

Everything downstream receives one frozen `Settings`; nothing reads the environment or the
configuration file anywhere else.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

from feedpub.seeds import KNOWN_AGENCIES

DEFAULT_BASE_URL = "http://localhost:8000/"
CONFIG_NAME = "feedpub.toml"
RECORD_NAME = "feedpub-record.jsonl"
FEED_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # fullmatch: "$" would let a final line feed in

# XML 1.0 forbids C0 controls but tab, LF and CR, lone surrogates and U+FFFE/U+FFFF: lxml refuses
# to write them and a browser stops at them. DEL and the C1 controls are legal but never meant
# (the seed reader drops them too); a one-line value (a title, a name) holds no tab or line break.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL = re.compile("[\x7f-\x9f]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")
# A URL holds none of these: urllib silently drops some (tab, LF) and a reader cannot follow a link
# with a space in its host.
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# (Settings field, feedpub.toml key, option) for the three paths a build uses.
_PATHS = (("seeds_dir", "seeds", "--seeds"), ("out_dir", "out", "--out"), ("record_path", "record", "--record"))


class ConfigError(Exception):
    """A bad configuration value: the message names the file and the key."""


@dataclass(frozen=True)
class FeedSpec:
    """One published feed: `<name>.xml` (RSS), `<name>.atom`, `<name>.json`."""

    name: str
    title: str
    description: str
    limit: int
    categories: tuple[str, ...] | None  # None: every category (and uncategorised seeds)

    def accepts(self, category: str | None) -> bool:
        return self.categories is None or category in self.categories


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know, resolved and validated."""

    seeds_dir: Path = Path("seeds")
    out_dir: Path = Path("feeds")
    record_path: Path = Path(RECORD_NAME)
    config_path: Path | None = None
    base_url: str = DEFAULT_BASE_URL
    site_title: str = "feedpub news"
    site_description: str = "News from the wires, as plain and stable feeds."
    language: str = "en"
    ttl: int = 15  # minutes: the cron cadence readers should poll at
    tag_authority: str | None = None  # for new tag: ids; default: the base URL's host
    agencies: tuple[str, ...] = KNOWN_AGENCIES
    sources: Mapping[str, str] = field(default_factory=dict)  # credit name -> homepage URL
    source_feeds: Mapping[str, str] = field(default_factory=dict)  # credit name -> its own feed's URL
    feeds: tuple[FeedSpec, ...] = ()

    def url(self, path: str = "") -> str:
        """The absolute public URL of a file under the output folder."""
        return urljoin(self.base_url, path)

    def item_path(self, key: str) -> str:
        """Where an entry's own page lives, relative to the output folder."""
        return f"items/{key}.html"

    def authority(self) -> str:
        """The tagging authority for ids minted now (RFC 4151 `taggingEntity` without the date)."""
        return self.tag_authority or (urlsplit(self.base_url).hostname or "localhost")

    def local_authority(self) -> bool:
        """Whether ids would be minted under a name nobody owns (localhost, an IP address, a
        name without a dot): fine for trying feedpub out, wrong for ids that never change."""
        name = self.authority().strip("[]")
        return name == "localhost" or name.endswith(".localhost") or "." not in name or _is_ip(name)

    def feed(self, name: str) -> FeedSpec:
        return next(f for f in self.feeds if f.name == name)


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


DEFAULT_FEEDS = (
    FeedSpec("flash", "Flash news", "Flash news, newest first.", 20, ("flash",)),
    FeedSpec("latest", "Latest news", "Every story, newest first.", 50, None),
)


def load_settings(
    config: Path | None = None,
    *,
    root: Path = Path("."),
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    building: bool = False,
) -> Settings:
    """Build Settings from the config file (default `feedpub.toml` in `root`, optional), then
    FEEDPUB_BASE_URL, then explicit overrides (command-line options; None values are ignored).

    `building`: the settings are for a command that builds, so the seeds folder, the output folder
    and the record must not overlap. Off for commands that only read the output (`check --out .`).

    Raises ConfigError naming the file and key (or the option or variable) for any bad value.
    """
    env = os.environ if env is None else env
    path = config if config is not None else root / CONFIG_NAME
    data: dict[str, Any] = {}
    if config is not None or path.exists():
        data = _read_toml(path)
    source = str(path)
    settings = _from_table(data, source, root)
    settings = replace(settings, config_path=path if path.exists() else None)
    if env.get("FEEDPUB_BASE_URL"):
        base_url = _base_url(env["FEEDPUB_BASE_URL"], "FEEDPUB_BASE_URL", _complaint("environment"))
        settings = replace(settings, base_url=base_url)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "base_url":
            value = _base_url(value, "--base-url", _complaint("command line"))
        settings = replace(settings, **{key: value})
    if building:
        origins = _path_origins(data, source, overrides or {})
        _check_layout(settings, origins)
        settings = _real_record(settings, origins["record_path"][1])
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        # A pipe would be read once (`watch` reads the file every run) and a FIFO would block.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ConfigError(f"{path}: not a regular file; give the configuration as a file")
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read configuration: {e.strerror}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:  # tomllib decodes the whole file before it parses a line
        byte = e.object[e.start]
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{byte:02x} at offset {e.start}); save it as UTF-8") from None


_SITE_KEYS = {"title", "description", "language", "base_url", "ttl", "tag_authority"}
_TOP_KEYS = {"site", "agencies", "sources", "feeds", "seeds", "out", "record"}


def _complaint(source: str):
    """`bad(key, why)`: the one-line error for a bad value from `source` (a file, "environment",
    "command line"). Keys come from the file too: their control characters are shown as escapes."""

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {_shown(key)}: {why}")

    return bad


def _shown(text: str) -> str:
    """`text` with what a terminal would act on or hide shown as escapes (\\x1b)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _from_table(data: Mapping[str, Any], source: str, root: Path) -> Settings:
    bad = _complaint(source)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    site = _table(data.get("site", {}), "site", bad)
    unknown = sorted(set(site) - _SITE_KEYS)
    if unknown:
        raise bad(f"site.{unknown[0]}", f"unknown key (known: {', '.join(sorted(_SITE_KEYS))})")

    kwargs: dict[str, Any] = {}
    for key, name in (("title", "site_title"), ("description", "site_description")):
        if key in site:
            kwargs[name] = _text(site[key], f"site.{key}", bad, one_line=key == "title")
    if "language" in site:
        lang = _text(site["language"], "site.language", bad)
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
            raise bad("site.language", f"{lang!r} is not a language tag such as 'en' or 'en-GB'")
        kwargs["language"] = lang
    if "base_url" in site:
        kwargs["base_url"] = _base_url(site["base_url"], "site.base_url", bad)
    if "ttl" in site:
        kwargs["ttl"] = _positive_int(site["ttl"], "site.ttl", bad)
    if "tag_authority" in site:
        auth = _text(site["tag_authority"], "site.tag_authority", bad)
        if not re.fullmatch(r"[A-Za-z0-9.-]+|[^@\s]+@[A-Za-z0-9.-]+", auth):
            raise bad("site.tag_authority", "must be a domain name or an e-mail address")
        kwargs["tag_authority"] = auth

    extra = data.get("agencies", [])
    if not isinstance(extra, list) or not all(isinstance(a, str) and a.strip() for a in extra):
        raise bad("agencies", "must be a list of names, e.g. agencies = [\"Anadolu\", \"ANP\"]")
    for name in extra:
        if problem := _character_problem(name.strip(), one_line=True):
            raise bad("agencies", f"{name!r} {problem}")
    kwargs["agencies"] = tuple(dict.fromkeys([*KNOWN_AGENCIES, *(a.strip() for a in extra)]))

    homes, source_feeds = _sources(_table(data.get("sources", {}), "sources", bad), bad)
    kwargs["sources"], kwargs["source_feeds"] = homes, source_feeds

    for key in ("seeds", "out", "record"):
        if key in data:
            name = {"seeds": "seeds_dir", "out": "out_dir", "record": "record_path"}[key]
            kwargs[name] = root / _path(data[key], key, bad)
    kwargs["feeds"] = _feeds(_table(data.get("feeds", {}), "feeds", bad), bad)
    return Settings(**kwargs)


def _feeds(table: Mapping[str, Any], bad) -> tuple[FeedSpec, ...]:
    specs = {f.name: f for f in DEFAULT_FEEDS}
    for name, raw in table.items():
        if not FEED_NAME_RE.fullmatch(name):
            raise bad(f"feeds.{name}", "feed names are 1 to 40 lower-case letters, digits, '-' and '_', starting with a letter or digit")
        raw = _table(raw, f"feeds.{name}", bad)
        unknown = sorted(set(raw) - {"title", "description", "limit", "categories"})
        if unknown:
            raise bad(f"feeds.{name}.{unknown[0]}", "unknown key (known: categories, description, limit, title)")
        base = specs.get(name) or FeedSpec(name, f"{name.capitalize()} news", f"{name.capitalize()} news, newest first.", 50, (name,))
        categories = base.categories
        if "categories" in raw:
            cats = raw["categories"]
            if cats == "*" or cats == ["*"]:
                categories = None
            elif isinstance(cats, list) and cats and all(isinstance(c, str) and c.strip() for c in cats):
                categories = tuple(c.strip().lower() for c in cats)
            else:
                raise bad(f"feeds.{name}.categories", 'must be a list of categories, e.g. ["world"], or "*" for all')
        specs[name] = replace(
            base,
            title=_text(raw.get("title", base.title), f"feeds.{name}.title", bad, one_line=True),
            description=_text(raw.get("description", base.description), f"feeds.{name}.description", bad),
            limit=_positive_int(raw.get("limit", base.limit), f"feeds.{name}.limit", bad),
            categories=categories,
        )
    return tuple(specs.values())


_URL_EXAMPLES = {"home": "https://www.voanews.com/", "feed": "https://wire.example.com/rss.xml"}
_SOURCE_EXAMPLE = '{ home = "https://wire.example.com/", feed = "https://wire.example.com/rss.xml" }'


def _sources(table: dict[str, Any], bad) -> tuple[dict[str, str], dict[str, str]]:
    """[sources]: each credit name's homepage and its own feed's URL. `NAME = "URL"` gives the
    homepage; `NAME = { home = "URL", feed = "URL" }` either or both (RSS <source url> must point
    to a feed, so only `feed` makes one)."""
    homes: dict[str, str] = {}
    source_feeds: dict[str, str] = {}
    for name, value in sorted(table.items()):
        key = f"sources.{name}"
        if problem := _character_problem(name, one_line=True):
            raise bad(key, f"the name {problem}")
        as_table = isinstance(value, dict)
        if as_table and (not value or set(value) - {"home", "feed"}):
            raise bad(key, f'must be a URL or a table of "home" and "feed" URLs, e.g. {_SOURCE_EXAMPLE}')
        parts = value if as_table else {"home": value}
        for part, url in parts.items():
            if problem := _url_problem(url, _URL_EXAMPLES[part]):
                raise bad(f"{key}.{part}" if as_table else key, problem)
        if "home" in parts:
            homes[name] = parts["home"]
        if "feed" in parts:
            source_feeds[name] = parts["feed"]
    return homes, source_feeds


def _table(value: Any, key: str, bad) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(key, "must be a table")
    return value


def _text(value: Any, key: str, bad, *, one_line: bool = False) -> str:
    """A string that goes into the feeds and pages, stripped: lxml refuses what XML forbids, and
    only a description may hold tabs and line breaks."""
    if not isinstance(value, str) or not value.strip():
        raise bad(key, "must be a non-empty string")
    problem = _character_problem(value.strip(), one_line=one_line)
    if problem:
        raise bad(key, problem)
    return value.strip()


def _path(value: Any, key: str, bad) -> str:
    """A path from the file, stripped; a control character in it (NUL above all) is a typo that
    the file system would refuse or keep forever."""
    if not isinstance(value, str) or not value.strip():
        raise bad(key, "must be a non-empty string")
    if found := re.search("[\x00-\x1f\x7f-\x9f]", value.strip()):
        raise bad(key, f"holds {_describe(found.group())}, which a path should not hold")
    return value.strip()


def _character_problem(text: str, *, one_line: bool) -> str | None:
    """Why `text` cannot be written into a feed or a page, or None."""
    if found := _XML_FORBIDDEN.search(text):
        return f"holds {_describe(found.group())}, which XML does not allow"
    if found := _CONTROL.search(text):
        return f"holds {_describe(found.group())}, which text never means; remove it"
    if one_line and (found := _LINE_BREAK.search(text)):
        return f"holds {_describe(found.group())}; it must be one line"
    return None


_CHARACTER_NAMES = {
    "\t": "a tab", "\n": "a line break", "\r": "a line break",
    "\u2028": "a line separator", "\u2029": "a paragraph separator",
}


def _describe(char: str) -> str:
    """What a character the messages name is, with its code point: 'a control character (U+0001)'."""
    code = ord(char)
    if char in _CHARACTER_NAMES:
        kind = _CHARACTER_NAMES[char]
    elif 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif char in "\ufffe\uffff":
        kind = "a non-character"
    elif code < 0x20 or 0x7F <= code <= 0x9F:  # before spaces: Python calls \x1c-\x1f and \x85 spaces
        kind = "a control character"
    else:
        kind = "a space"
    return f"{kind} (U+{code:04X})"


def _positive_int(value: Any, key: str, bad) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise bad(key, f"must be a whole number from 1 to 10000, not {value!r}")
    return value


def _base_url(value: Any, key: str, bad) -> str:
    example = "https://news.example.org/"
    problem = _url_problem(value, example)
    if problem is None and (urlsplit(value).query or urlsplit(value).fragment):
        problem = f"{value!r} is not an absolute http(s) URL such as {example}"  # it names a folder
    if problem:
        raise bad(key, problem)
    return value if value.endswith("/") else value + "/"


def _url_problem(value: Any, example: str) -> str | None:
    """Why `value` is not an absolute http(s) URL a reader can follow, or None. urllib raises on
    some bad URLs (an unclosed IPv6 bracket, a port past 65535) only when asked, so ask here."""
    if not isinstance(value, str):
        return f"must be an absolute http(s) URL such as {example}"
    if found := _NOT_IN_URL.search(value):
        return f"{value!r} holds {_describe(found.group())}, which a URL cannot hold"
    try:
        parts = urlsplit(value)
    except ValueError as e:  # "Invalid IPv6 URL"
        return f"{value!r} is not a valid URL ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an absolute http(s) URL such as {example}"
    try:
        port = parts.port
    except ValueError:  # past 65535, or not a number
        port = 0
    if port == 0:
        return f"{value!r} has a bad port; use a number from 1 to 65535"
    return None


def _path_origins(data: Mapping[str, Any], source: str, overrides: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    """Where each path came from, ranked as load_settings applies them: default, file, option."""
    origins = {}
    for name, key, option in _PATHS:
        origins[name] = (0, f"{key} (default)")
        if key in data:
            origins[name] = (1, f"{source}: {key}")
        if overrides.get(name) is not None:
            origins[name] = (2, f"command line: {option}")
    return origins


def _real_record(settings: Settings, label: str) -> Settings:
    """The record at its real place, and a regular file if it exists. A build writes a new record
    and renames it into place: through a symlink it would replace the link and leave the file it
    points to stale (and the lock, named after the link, would not keep out a build that names the
    real file); a device or a FIFO would be replaced by a plain file, or hang the build."""
    path = Path(os.path.realpath(settings.record_path)) if os.path.islink(settings.record_path) else settings.record_path
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return replace(settings, record_path=path)  # not there yet (a first build), or the build words why
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{label}: the record {_shown(str(settings.record_path))} is not a regular file")
    return replace(settings, record_path=path)


def _both_forms(path: Path) -> tuple[Path, Path]:
    """A path as written (made absolute, `..` folded) and as resolved (every symlink followed)."""
    return Path(os.path.abspath(path)), Path(os.path.realpath(path))


def _check_layout(settings: Settings, origins: Mapping[str, tuple[int, str]]) -> None:
    """Refuse paths that overlap: everything in the output folder is served, so the record (with
    its lock and scan cache beside it) and the seeds stay out of it, and a build must not write
    into the seeds it reads. Each path is compared as written and as resolved, so neither `./feeds`,
    `..`, a symlink to a place inside nor a symlink inside to a place outside (which a server that
    follows links would serve) hides a clash."""
    forms = {name: _both_forms(getattr(settings, name)) for name, _, _ in _PATHS}

    def inside(a: str, b: str) -> bool:
        return any(x.is_relative_to(y) for x in forms[a] for y in forms[b])

    shown = {name: _shown(str(getattr(settings, name))) for name, _, _ in _PATHS}
    clash = None
    if inside("record_path", "out_dir"):
        clash = ("record_path", "out_dir", f"the record {shown['record_path']} is inside the output folder "
                 f"{shown['out_dir']}, which is published; keep the record outside it")
    elif inside("out_dir", "seeds_dir"):
        where = "is also" if set(forms["out_dir"]) & set(forms["seeds_dir"]) else "is inside"
        clash = ("out_dir", "seeds_dir", f"the output folder {shown['out_dir']} {where} the seeds folder "
                 f"{shown['seeds_dir']}; keep the two folders apart")
    elif inside("seeds_dir", "out_dir"):
        clash = ("seeds_dir", "out_dir", f"the seeds folder {shown['seeds_dir']} is inside the output folder "
                 f"{shown['out_dir']}, which is published; keep the two folders apart")
    elif inside("record_path", "seeds_dir"):
        # watch would take each write of the record, its lock and its cache for a seed change.
        clash = ("record_path", "seeds_dir", f"the record {shown['record_path']} is inside the seeds folder "
                 f"{shown['seeds_dir']}; keep it beside the seeds, not among them")
    if clash:
        first, second, why = clash
        # Name the path set last (an option over the file over a default): the one to change.
        label = max(origins[first], origins[second], key=lambda origin: origin[0])[1]
        raise ConfigError(f"{label}: {why}")
