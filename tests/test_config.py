"""feedpub.toml, FEEDPUB_BASE_URL and options: defaults, precedence, one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedpub.config import DEFAULT_BASE_URL, ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedpub.toml"
    path.write_text(text)
    return path


def test_works_with_no_file_at_all(tmp_path):
    settings = load_settings(root=tmp_path, env={})
    assert settings.base_url == DEFAULT_BASE_URL == "http://localhost:8000/"
    assert [(f.name, f.limit, f.categories) for f in settings.feeds] == [("flash", 20, ("flash",)), ("latest", 50, None)]
    assert settings.config_path is None
    assert "Reuters" in settings.agencies


def test_full_file_is_read(tmp_path):
    path = write(
        tmp_path,
        """
agencies = ["Nordwire", "ANA-MPA"]
[site]
title = "Wire"
description = "Desc"
language = "en-GB"
base_url = "https://news.example.org/feeds"
ttl = 30
[sources]
VOA = "https://www.voanews.com/"
[feeds.flash]
limit = 5
[feeds.world]
title = "World"
categories = ["world", "Europe"]
""",
    )
    s = load_settings(path, env={})
    assert (s.site_title, s.site_description, s.language, s.ttl) == ("Wire", "Desc", "en-GB", 30)
    assert s.base_url == "https://news.example.org/feeds/"  # a folder URL, always with its slash
    assert s.url("flash.xml") == "https://news.example.org/feeds/flash.xml"
    assert s.agencies[-2:] == ("Nordwire", "ANA-MPA")
    assert s.sources == {"VOA": "https://www.voanews.com/"}
    assert [(f.name, f.limit, f.categories) for f in s.feeds] == [
        ("flash", 5, ("flash",)),
        ("latest", 50, None),
        ("world", 50, ("world", "europe")),
    ]


def test_precedence_file_then_environment_then_option(tmp_path):
    path = write(tmp_path, '[site]\nbase_url = "https://file.example/"\n')
    assert load_settings(path, env={}).base_url == "https://file.example/"
    env = {"FEEDPUB_BASE_URL": "https://env.example/"}
    assert load_settings(path, env=env).base_url == "https://env.example/"
    assert load_settings(path, env=env, overrides={"base_url": "https://option.example/x"}).base_url == (
        "https://option.example/x/"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('[site]\nbase_url = "news.example.org"\n', "site.base_url: 'news.example.org' is not an absolute http(s) URL"),
        ("[site]\nttl = 0\n", "site.ttl: must be a whole number from 1 to 10000, not 0"),
        ('[site]\nlanguage = "english please"\n', "site.language: 'english please' is not a language tag"),
        ("[site]\ncolour = 1\n", "site.colour: unknown key"),
        ('[feeds.flash]\nlimit = "20"\n', "feeds.flash.limit: must be a whole number from 1 to 10000, not '20'"),
        ("[feeds.world]\ncategories = []\n", "feeds.world.categories: must be a list of categories"),
        ('[feeds."Bad Name"]\n', "feeds.Bad Name: feed names are lower-case letters"),
        ('[sources]\nVOA = "voanews.com"\n', "sources.VOA: must be an absolute http(s) URL"),
        ('agencies = "Reuters"\n', "agencies: must be a list of names"),
        ("[site\n", "not valid TOML"),
    ],
)
def test_bad_value_names_the_file_and_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_bad_environment_base_url_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"^environment: FEEDPUB_BASE_URL: 'ftp://x/' is not an absolute"):
        load_settings(root=tmp_path, env={"FEEDPUB_BASE_URL": "ftp://x/"})


def test_named_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.toml: configuration file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_configured_agency_becomes_a_credit(tmp_path):
    from feedpub.seeds import parse_seed

    path = write(tmp_path, 'agencies = ["Nordwire"]\n')
    settings = load_settings(path, env={})
    text = b"World\n\nNordwire: Bridge opens\n\nThe bridge opened today.\n"
    assert parse_seed(text, path=Path("a.txt"), agencies=settings.agencies).agency == "Nordwire"
    assert parse_seed(text, path=Path("a.txt")).agency is None
