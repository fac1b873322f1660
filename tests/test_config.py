"""feedpub.toml, FEEDPUB_BASE_URL and options: defaults, precedence, one line per bad value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from lxml import etree

from feedpub.cli import main
from feedpub.config import DEFAULT_BASE_URL, ConfigError, load_settings

REPO = Path(__file__).resolve().parents[1]


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
        ('[feeds."Bad Name"]\n', "feeds.Bad Name: feed names are 1 to 40 lower-case letters"),
        ('[feeds."abc\\n"]\ntitle = "X"\n', "feeds.abc\\n: feed names are 1 to 40 lower-case letters"),
        ('[sources]\nVOA = "voanews.com"\n', "sources.VOA: 'voanews.com' is not an absolute http(s) URL"),
        ('[sources]\nVOA = { feed = "rss.xml" }\n', "sources.VOA.feed: 'rss.xml' is not an absolute http(s) URL"),
        ('[sources]\nVOA = { homepage = "https://www.voanews.com/" }\n', 'sources.VOA: must be a URL or a table of "home" and "feed"'),
        ("[sources]\nVOA = {}\n", 'sources.VOA: must be a URL or a table of "home" and "feed"'),
        ("[sources]\nVOA = 3\n", "sources.VOA: must be an absolute http(s) URL"),
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


def test_a_configuration_that_is_not_a_regular_file_or_nests_too_deeply_is_one_line(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # opening it would block until a writer came
    for path, message in [
        (fifo, f"{fifo}: not a regular file; give the configuration as a file"),
        (tmp_path, f"{tmp_path}: not a regular file; give the configuration as a file"),
        (write(tmp_path, "a = " + "[" * 5000 + "]" * 5000 + "\n"), "not valid TOML: arrays or tables nested too deeply"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_settings(path)
        assert message in str(info.value)


def test_a_source_has_a_homepage_a_feed_or_both(tmp_path):
    path = write(
        tmp_path,
        '[sources]\nVOA = "https://www.voanews.com/"\n'
        'AP = { home = "https://apnews.com/", feed = "https://feeds.example.com/ap.xml" }\n'
        'Wire = { feed = "https://wire.example.com/rss.xml" }\n',
    )
    s = load_settings(path, env={})
    assert s.sources == {"AP": "https://apnews.com/", "VOA": "https://www.voanews.com/"}
    assert s.source_feeds == {"AP": "https://feeds.example.com/ap.xml", "Wire": "https://wire.example.com/rss.xml"}


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


# --- URLs: they must parse, be http(s) with a host and a port that exists, and hold no spaces ------


@pytest.mark.parametrize(
    "text, message",
    [
        ('[site]\nbase_url = "http://[::1/"\n', "site.base_url: 'http://[::1/' is not a valid URL (Invalid IPv6 URL)"),
        ('[sources]\nVOA = "http://[oops/"\n', "sources.VOA: 'http://[oops/' is not a valid URL (Invalid IPv6 URL)"),
        ('[site]\nbase_url = "http://example.com:99999/"\n',
         "site.base_url: 'http://example.com:99999/' has a bad port; use a number from 1 to 65535"),
        ('[site]\nbase_url = "http://example.com:0/"\n', "site.base_url: 'http://example.com:0/' has a bad port"),
        ('[sources]\nVOA = "https://voanews.com:http/"\n', "sources.VOA: 'https://voanews.com:http/' has a bad port"),
        ('[site]\nbase_url = "http://exa mple.com/"\n',
         "site.base_url: 'http://exa mple.com/' holds a space (U+0020), which a URL cannot hold"),
        # urllib drops a tab or a line break without a word: the URL it parses is not the one written.
        ('[site]\nbase_url = "http://exa\\tmple.com/"\n', "site.base_url: 'http://exa\\tmple.com/' holds a tab (U+0009)"),
        ('[sources]\nVOA = "https://voanews.com/\\u0000"\n', "sources.VOA: 'https://voanews.com/\\x00' holds a control"),
        ('[site]\nbase_url = "http://:8000/"\n', "site.base_url: 'http://:8000/' is not an absolute http(s) URL"),
    ],
)
def test_a_url_that_does_not_parse_or_cannot_be_followed_is_refused(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path}: {message}")


def test_a_broken_base_url_from_the_environment_or_an_option_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"^environment: FEEDPUB_BASE_URL: 'http://\[x' is not a valid URL \(Invalid IPv6"):
        load_settings(root=tmp_path, env={"FEEDPUB_BASE_URL": "http://[x"})
    with pytest.raises(ConfigError, match=r"^command line: --base-url: 'http://\[::1' is not a valid URL"):
        load_settings(root=tmp_path, env={}, overrides={"base_url": "http://[::1"})
    ipv6 = load_settings(root=tmp_path, env={}, overrides={"base_url": "http://[::1]:8000"})
    assert ipv6.base_url == "http://[::1]:8000/" and ipv6.authority() == "::1"


# --- text that goes into the feeds and pages: nothing XML forbids; titles and names are one line ---


@pytest.mark.parametrize(
    "text, message",
    [
        ('[site]\ntitle = "News\\u0001"\n', "site.title: holds a control character (U+0001), which XML does not allow"),
        ('[site]\ndescription = "A\\u0000B"\n', "site.description: holds a control character (U+0000), which XML"),
        ('[feeds.world]\ntitle = "World\\u000bnews"\n', "feeds.world.title: holds a control character (U+000B)"),
        ('[feeds.flash]\ndescription = "Flash\\uFFFE"\n', "feeds.flash.description: holds a non-character (U+FFFE)"),
        ('[site]\ntitle = "A\\u0085B"\n', "site.title: holds a control character (U+0085), which text never means"),
        ('[site]\ntitle = "Two\\nlines"\n', "site.title: holds a line break (U+000A); it must be one line"),
        ('[feeds.world]\ntitle = "World\\u2028news"\n', "feeds.world.title: holds a line separator (U+2028)"),
        ('[site]\ntag_authority = "a\\u0001@example.org"\n', "site.tag_authority: holds a control character (U+0001)"),
        ('agencies = ["Nord\\u0001wire"]\n', "agencies: 'Nord\\x01wire' holds a control character (U+0001)"),
        # The key is shown with escapes too: the message stays one printable line.
        ('[sources]\n"V\\u001bOA" = "https://www.voanews.com/"\n', "sources.V\\x1bOA: the name holds a control character"),
        ('out = "feeds\\u0000"\n', "out: holds a control character (U+0000), which a path should not hold"),
    ],
)
def test_text_xml_cannot_carry_is_refused(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path}: {message}")
    assert str(info.value).isprintable()


def test_a_description_may_span_lines(tmp_path):
    path = write(tmp_path, '[site]\ndescription = """\nLine one.\n\tLine two.\n"""\n')
    assert load_settings(path, env={}).site_description == "Line one.\n\tLine two."


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=30))
def test_any_title_or_description_is_refused_or_fits_in_xml(tmp_path_factory, text):
    """Whatever the file says, what load_settings accepts lxml can write (it raised on \\x01)."""
    path = tmp_path_factory.getbasetemp() / "feedpub-text.toml"
    quoted = json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string (or not TOML)
    path.write_text(f"[site]\ntitle = {quoted}\n[feeds.world]\ndescription = {quoted}\n", encoding="utf-8")
    try:
        settings = load_settings(path, env={})
    except ConfigError as e:
        assert str(e).startswith(f"{path}: ") and str(e).isprintable()
        return
    for value in (settings.site_title, settings.feed("world").description):
        etree.tostring(etree.Element("title", text=value))  # raises ValueError on what XML forbids
        assert "\x00" not in value
    assert "\n" not in settings.site_title


# --- the file itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfe", "not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"),
        ('[site]\ntitle = "Café"\n'.encode("cp1252"), "not UTF-8 text (byte 0xe9 at offset 19); save it as UTF-8"),
    ],
)
def test_a_file_that_is_not_utf8_is_one_named_error(tmp_path, data, message):
    path = tmp_path / "cfg.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value) == f"{path}: {message}"


# --- paths: the record and the seeds are never published, a build never writes into its seeds -----


def paths(tmp_path: Path, seeds: str, out: str, record: str) -> dict[str, Path]:
    return {"seeds_dir": tmp_path / seeds, "out_dir": tmp_path / out, "record_path": tmp_path / record}


@pytest.mark.parametrize(
    "seeds, out, record, message",
    [
        ("seeds", "o", "o/r.jsonl",
         "command line: --record: the record {tmp}/o/r.jsonl is inside the output folder {tmp}/o, which is published"),
        ("seeds", "o", "o", "command line: --record: the record {tmp}/o is inside the output folder {tmp}/o"),
        ("seeds", "", "r.jsonl", "command line: --record: the record {tmp}/r.jsonl is inside the output folder {tmp},"),
        ("s", "s", "r.jsonl",
         "command line: --out: the output folder {tmp}/s is also the seeds folder {tmp}/s; keep the two folders apart"),
        ("s", "s/../s/", "r.jsonl", "command line: --out: the output folder {tmp}/s/../s is also the seeds folder {tmp}/s"),
        ("s", "s/out", "r.jsonl", "command line: --out: the output folder {tmp}/s/out is inside the seeds folder {tmp}/s"),
        ("o/s", "o", "r.jsonl",
         "command line: --seeds: the seeds folder {tmp}/o/s is inside the output folder {tmp}/o, which is published"),
        ("s", "o", "s/r.jsonl",  # watch would rebuild on every write of the record, lock and cache
         "command line: --record: the record {tmp}/s/r.jsonl is inside the seeds folder {tmp}/s; keep it beside"),
    ],
)
def test_overlapping_paths_are_refused_for_a_build(tmp_path, seeds, out, record, message):
    with pytest.raises(ConfigError) as info:
        load_settings(root=tmp_path, env={}, overrides=paths(tmp_path, seeds, out, record), building=True)
    assert str(info.value).startswith(message.format(tmp=tmp_path))


def test_a_symlink_cannot_hide_an_overlap(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "public").symlink_to(tmp_path / "seeds")
    with pytest.raises(ConfigError, match=r"--out: the output folder .*/public is also the seeds folder"):
        load_settings(root=tmp_path, env={}, overrides=paths(tmp_path, "seeds", "public", "r.jsonl"), building=True)


def test_an_overlap_names_the_path_set_last(tmp_path, monkeypatch):
    """An option over the file over a default: the one set last is the one to change."""
    monkeypatch.chdir(tmp_path)  # where the default paths are
    write(tmp_path, 'out = "seeds"\n')
    with pytest.raises(ConfigError, match=r"^feedpub.toml: out: the output folder seeds is also the seeds folder seeds;"):
        load_settings(env={}, building=True)
    write(tmp_path, 'record = "feeds/record.jsonl"\n')
    with pytest.raises(ConfigError, match=r"^feedpub.toml: record: the record feeds/record.jsonl is inside the output"):
        load_settings(env={}, building=True)
    with pytest.raises(ConfigError, match=r"^command line: --out: the record feeds/record.jsonl is inside the output"):
        load_settings(env={}, overrides={"out_dir": Path("feeds")}, building=True)
    (tmp_path / "feedpub.toml").unlink()
    with pytest.raises(ConfigError, match=r"^command line: --out: the record feedpub-record.jsonl is inside the output folder \.,"):
        load_settings(env={}, overrides={"out_dir": Path(".")}, building=True)


def test_the_default_layout_and_the_repository_s_own_are_a_build_s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={}, building=True)
    assert (s.seeds_dir, s.out_dir, s.record_path) == (Path("seeds"), Path("feeds"), Path("feedpub-record.jsonl"))
    monkeypatch.chdir(REPO)
    assert load_settings(env={}, building=True).config_path == Path("feedpub.toml")
    # A record beside the output folder, with a name that starts like it, is outside it.
    load_settings(root=tmp_path, env={}, overrides=paths(tmp_path, "seeds", "feeds", "feeds-record.jsonl"), building=True)


def test_a_command_that_only_reads_the_output_may_point_it_anywhere(tmp_path):
    """`feedpub check --out .` checks the feeds in this folder: seeds and record are not its business."""
    assert load_settings(root=tmp_path, env={}, overrides={"out_dir": Path(".")}).out_dir == Path(".")


# --- on the command line: one line, exit 2, nothing written ----------------------------------------


@pytest.mark.parametrize(
    "args, file, line",
    [
        (["--base-url", "http://[::1"], None,
         "Error: command line: --base-url: 'http://[::1' is not a valid URL (Invalid IPv6 URL)"),
        (["--config", "cfg.toml"], b"\xff\xfe", "Error: cfg.toml: not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"),
        (["--config", "cfg.toml"], b'[site]\ntitle = "A\\u0001"\n',
         "Error: cfg.toml: site.title: holds a control character (U+0001), which XML does not allow"),
        (["--out", "o", "--record", "o/r.jsonl"], None,
         "Error: command line: --record: the record o/r.jsonl is inside the output folder o, which is published; "
         "keep the record outside it"),
        (["--out", "seeds"], None,
         "Error: command line: --out: the output folder seeds is also the seeds folder seeds; keep the two folders apart"),
    ],
)
def test_build_stops_on_a_bad_value_with_one_line_and_exit_2(tmp_path, monkeypatch, args, file, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "001.txt").write_text("Flash News\n\nReuters: A headline\n\nThe story./VOA\n")
    if file is not None:
        (tmp_path / "cfg.toml").write_bytes(file)
    result = CliRunner().invoke(main, ["build", "--quiet", *args], env={"FEEDPUB_BASE_URL": None})
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == line
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["seeds", "001.txt"] + (["cfg.toml"] if file else []))


def test_a_symlink_inside_the_output_folder_cannot_hold_the_record(tmp_path):
    """A server that follows links would serve it, wherever the link points."""
    (tmp_path / "feeds").mkdir()
    (tmp_path / "private").mkdir()
    (tmp_path / "feeds" / "rec.jsonl").symlink_to("../private/rec.jsonl")
    with pytest.raises(ConfigError, match=r"the record .*feeds/rec\.jsonl is inside the output folder"):
        load_settings(root=tmp_path, env={}, building=True, overrides={
            "out_dir": tmp_path / "feeds", "record_path": tmp_path / "feeds" / "rec.jsonl"})


def test_commands_that_only_read_take_any_layout(tmp_path):
    """inspect reads seeds and serve without --watch reads the output folder: neither writes the
    record, so neither is refused for where it lies (serve still hides it)."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "001_k.txt").write_text("World\n\nA story\n\nBody of it.\n")
    (tmp_path / "feedpub.toml").write_text('out = "."\n')
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    inspect = subprocess.run([sys.executable, "-m", "feedpub", "inspect", "seeds/001_k.txt"], cwd=tmp_path,
                             capture_output=True, text=True, env=env, timeout=60)
    assert inspect.returncode == 0 and "A story" in inspect.stdout, inspect.stderr
    build = subprocess.run([sys.executable, "-m", "feedpub", "build"], cwd=tmp_path, capture_output=True, text=True,
                           env=env, timeout=60)
    assert build.returncode == 2 and "is inside the output folder" in build.stderr


def test_a_record_reached_through_a_symlink_is_written_where_the_link_points(tmp_path):
    """A new record is renamed into place: through the link it would replace the link itself."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "r.jsonl").write_text("")
    (tmp_path / "r.jsonl").symlink_to("real/r.jsonl")
    settings = load_settings(root=tmp_path, env={}, overrides={"record_path": tmp_path / "r.jsonl"}, building=True)
    assert settings.record_path == tmp_path / "real" / "r.jsonl"


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_record_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    record = tmp_path / "r.jsonl"
    if kind == "folder":
        record.mkdir()
    elif kind == "fifo":
        os.mkfifo(record)
    else:
        (tmp_path / "null").symlink_to("/dev/null")
        record = tmp_path / "null"
    with pytest.raises(ConfigError, match=r"^command line: --record: the record .* is not a regular file$"):
        load_settings(root=tmp_path, env={}, overrides={"record_path": record}, building=True)
