"""Settings: defaults, feedpub.toml, FEEDPUB_* environment, command-line options; validated once.

Everything downstream receives one frozen `Settings`; nothing reads the environment or the
configuration file anywhere else.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

from feedpub.seeds import KNOWN_AGENCIES

DEFAULT_BASE_URL = "http://localhost:8000/"
CONFIG_NAME = "feedpub.toml"
RECORD_NAME = "feedpub-record.jsonl"
FEED_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


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
) -> Settings:
    """Build Settings from the config file (default `feedpub.toml` in `root`, optional), then
    FEEDPUB_BASE_URL, then explicit overrides (command-line options; None values are ignored).

    Raises ConfigError naming the file and key for any bad value.
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
        settings = replace(settings, base_url=_base_url(env["FEEDPUB_BASE_URL"], "FEEDPUB_BASE_URL", "environment"))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "base_url":
            value = _base_url(value, "--base-url", "command line")
        settings = replace(settings, **{key: value})
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read configuration: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


_SITE_KEYS = {"title", "description", "language", "base_url", "ttl", "tag_authority"}
_TOP_KEYS = {"site", "agencies", "sources", "feeds", "seeds", "out", "record"}


def _from_table(data: Mapping[str, Any], source: str, root: Path) -> Settings:
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {why}")

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
            kwargs[name] = _text(site[key], f"site.{key}", bad)
    if "language" in site:
        lang = _text(site["language"], "site.language", bad)
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
            raise bad("site.language", f"{lang!r} is not a language tag such as 'en' or 'en-GB'")
        kwargs["language"] = lang
    if "base_url" in site:
        kwargs["base_url"] = _base_url(site["base_url"], "site.base_url", source)
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
    kwargs["agencies"] = tuple(dict.fromkeys([*KNOWN_AGENCIES, *(a.strip() for a in extra)]))

    sources = _table(data.get("sources", {}), "sources", bad)
    for name, url in sources.items():
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise bad(f"sources.{name}", "must be an absolute http(s) URL")
    kwargs["sources"] = dict(sorted(sources.items()))

    for key in ("seeds", "out", "record"):
        if key in data:
            kwargs[{"seeds": "seeds_dir", "out": "out_dir", "record": "record_path"}[key]] = root / _text(
                data[key], key, bad
            )
    kwargs["feeds"] = _feeds(_table(data.get("feeds", {}), "feeds", bad), bad)
    return Settings(**kwargs)


def _feeds(table: Mapping[str, Any], bad) -> tuple[FeedSpec, ...]:
    specs = {f.name: f for f in DEFAULT_FEEDS}
    for name, raw in table.items():
        if not FEED_NAME_RE.match(name):
            raise bad(f"feeds.{name}", "feed names are lower-case letters, digits, '-' and '_'")
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
            title=_text(raw.get("title", base.title), f"feeds.{name}.title", bad),
            description=_text(raw.get("description", base.description), f"feeds.{name}.description", bad),
            limit=_positive_int(raw.get("limit", base.limit), f"feeds.{name}.limit", bad),
            categories=categories,
        )
    return tuple(specs.values())


def _table(value: Any, key: str, bad) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(key, "must be a table")
    return value


def _text(value: Any, key: str, bad) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(key, "must be a non-empty string")
    return value.strip()


def _positive_int(value: Any, key: str, bad) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise bad(key, f"must be a whole number from 1 to 10000, not {value!r}")
    return value


def _base_url(value: Any, key: str, source: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{source}: {key}: {value!r} is not an absolute http(s) URL such as https://news.example.org/")
    return value if value.endswith("/") else value + "/"
