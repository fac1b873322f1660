"""The command line as a user meets it: real processes, exact lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SHARED, needs_shared, seed_text
from feedpub.cli_run import locked_build
from feedpub.config import load_settings
from feedpub.publish import InputError

REPO = Path(__file__).resolve().parents[1]


def feedpub(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "feedpub", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def cwd(project) -> Path:
    project.add("001_good.txt", seed_text("Good story"))
    # A domain of its own: ids minted under localhost get a notice (see the test below).
    project.config.write_text('[site]\nbase_url = "https://news.example.org/"\n')
    return project.root


def test_ids_minted_under_localhost_get_a_notice_until_the_site_has_a_domain(project):
    project.add("001_good.txt", seed_text("Good story"))
    first = feedpub("build", cwd=project.root)
    assert first.returncode == 0
    assert first.stderr == (
        "3 new ids minted under tag:localhost, which no one owns; ids never change, so set site.base_url "
        "(or site.tag_authority) to your own domain before publishing\n"
    )  # the seed's and the two feeds' (flash, latest)
    assert feedpub("build", "--quiet", cwd=project.root).stderr == ""
    project.add("002_second.txt", seed_text("Another story"))
    assert feedpub("build", cwd=project.root).stderr.startswith("1 new id minted under tag:localhost,")
    project.add("003_third.txt", seed_text("A third story"))
    assert feedpub("build", "--base-url", "http://127.0.0.1:8000/", cwd=project.root).stderr.startswith(
        "1 new id minted under tag:127.0.0.1,"
    )
    project.add("004_fourth.txt", seed_text("A fourth story"))
    assert feedpub("build", "--base-url", "https://news.example.org/", cwd=project.root).stderr == ""


def test_build_prints_one_summary_line(cwd):
    result = feedpub("build", cwd=cwd)
    assert result.returncode == 0
    assert result.stdout == (
        "1 seeds (1 read), 0 skipped; entries: flash 1, latest 1; 10 files written, 0 unchanged\n"
    )
    again = feedpub("build", cwd=cwd)
    assert again.stdout.endswith("0 files written, 10 unchanged\n")
    assert (cwd / "feedpub-record.jsonl").is_file()


def test_skipped_seed_gets_one_stderr_line_and_strict_exits_1(cwd):
    (cwd / "seeds" / "002_empty.txt").write_text("")
    result = feedpub("build", cwd=cwd)
    assert result.returncode == 0
    assert result.stderr == "seeds/002_empty.txt: empty file, skipped\n"
    strict = feedpub("build", "--strict", "--quiet", cwd=cwd)
    assert strict.returncode == 1
    assert strict.stdout == ""
    assert strict.stderr == "seeds/002_empty.txt: empty file, skipped\n"


def test_json_summary(cwd):
    result = feedpub("build", "--json", cwd=cwd)
    data = json.loads(result.stdout)
    assert data["entries"] == {"flash": 1, "latest": 1}
    assert data["seeds"] == 1 and data["read"] == 1
    assert "index.html" in data["written"] and "flash.xml" in data["written"]


def test_json_output_is_utf_8_json_whatever_the_file_names(cwd):
    """A name that is not UTF-8 is skipped; in --json it must not make the output unreadable."""
    import os

    with open(os.path.join(os.fsencode(cwd / "seeds"), b"bad\xe9name.txt"), "wb") as f:
        f.write(seed_text("Bad name").encode())
    (cwd / "seeds" / "002_café.txt").write_text(seed_text("Café story"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    for args in (["build", "--json"], ["inspect", "seeds/bad\udce9name.txt", "seeds/002_café.txt", "--json"]):
        argv = [os.fsencode(a) for a in args]
        done = subprocess.run([sys.executable, "-m", "feedpub", *argv], cwd=cwd, capture_output=True, env=env, timeout=120)
        text = done.stdout.decode("utf-8")  # strict: raw undecodable bytes would fail here
        data = json.loads(text)
        assert "café" in text  # readable as it is, not escaped
        assert "bad\udce9name.txt" in json.dumps(data, ensure_ascii=False), args  # the name, as Python keeps it


def test_bad_config_value_is_one_line_and_exit_2(cwd):
    (cwd / "feedpub.toml").write_text("[site]\nttl = -1\n")
    for command in (["build"], ["build", "--quiet"], ["watch"], ["check"], ["inspect", "seeds/001_good.txt"]):
        result = feedpub(*command, cwd=cwd)
        assert result.returncode == 2, command
        # One line, no usage banner: a cron mail shows what is wrong and nothing else.
        assert result.stderr == "Error: feedpub.toml: site.ttl: must be a whole number from 1 to 10000, not -1\n", command
    mistyped = feedpub("build", "--colour", cwd=cwd)  # a mistyped option still gets click's usage help
    assert mistyped.returncode == 2 and mistyped.stderr.startswith("Usage: ")
    assert not (cwd / "feeds").exists()


def test_bad_base_url_option_exits_2(cwd):
    result = feedpub("build", "--base-url", "example.org", cwd=cwd)
    assert result.returncode == 2
    assert "--base-url: 'example.org' is not an absolute http(s) URL" in result.stderr


def test_missing_seeds_folder_exits_2_with_one_line(cwd):
    result = feedpub("build", "--seeds", "nowhere", cwd=cwd)
    assert result.returncode == 2
    assert result.stderr == "feedpub: nowhere: seeds folder not found (use --seeds DIR)\n"


def test_a_build_bound_to_fail_creates_no_record_folder_or_lock(cwd):
    """A missing seeds folder, or a missing record beside published entries, is known before
    the lock is taken: a new record folder is not left behind with a lock file in it, by
    `build` or by a run of `watch`."""
    settings = load_settings(cwd / "feedpub.toml", env={})
    elsewhere = replace(settings, record_path=cwd / "state" / "record.jsonl")
    result = feedpub("build", "--seeds", "nowhere", "--record", "state/record.jsonl", cwd=cwd)
    assert result.returncode == 2 and "nowhere: seeds folder not found" in result.stderr
    with pytest.raises(InputError, match="seeds folder not found"):
        locked_build(replace(elsewhere, seeds_dir=cwd / "nowhere"), wait=0)()
    assert not (cwd / "state").exists()

    assert feedpub("build", cwd=cwd).returncode == 0  # feeds with an entry, the record beside them
    result = feedpub("build", "--record", "state/record.jsonl", cwd=cwd)
    assert result.returncode == 2 and "state/record.jsonl: the record is missing, but" in result.stderr
    with pytest.raises(InputError, match="the record is missing, but"):
        locked_build(elsewhere, wait=0)()
    assert not (cwd / "state").exists()


def test_a_record_time_at_the_end_of_the_calendar_is_a_bad_line_not_a_traceback(cwd):
    assert feedpub("build", cwd=cwd).returncode == 0
    record = cwd / "feedpub-record.jsonl"
    record.write_text(record.read_text().replace('"edited": null', '"edited": "9999-12-31T23:59:59Z"'))
    (cwd / "seeds" / "001_good.txt").write_text(seed_text("Good story", body="Edited, one second later"))
    result = feedpub("build", cwd=cwd)
    assert result.returncode == 2
    assert result.stderr.startswith("feedpub: feedpub-record.jsonl:3: bad record line (9999-12-31 is after the year 9000")


def test_damaged_record_exits_2_naming_file_and_line_then_rebuild_record_recovers(cwd):
    assert feedpub("build", cwd=cwd).returncode == 0
    record = cwd / "feedpub-record.jsonl"
    good = record.read_bytes()
    feeds_before = (cwd / "feeds" / "latest.xml").read_bytes()
    record.write_bytes(good + b'{"key": "half a line\n')
    result = feedpub("build", cwd=cwd)
    assert result.returncode == 2
    assert result.stderr.startswith("feedpub: feedpub-record.jsonl:4: bad record line (not JSON: ")
    assert (cwd / "feeds" / "latest.xml").read_bytes() == feeds_before
    fixed = feedpub("build", "--rebuild-record", cwd=cwd)
    assert fixed.returncode == 0, fixed.stderr
    assert "record rebuilt: 1 lines kept, 1 unreadable dropped" in fixed.stderr
    assert record.read_bytes() == good
    assert (cwd / "feeds" / "latest.xml").read_bytes() == feeds_before


def test_inspect_json_has_every_field(cwd):
    (cwd / "seeds" / "002_empty.txt").write_text("")
    result = feedpub("inspect", "seeds/001_good.txt", "seeds/002_empty.txt", "--json", cwd=cwd)
    assert result.returncode == 0
    good, empty = json.loads(result.stdout)
    assert good == {
        "path": "seeds/001_good.txt",
        "key": "good",
        "category": "flash",
        "title": "Good story",
        "agency": "Reuters",
        "publisher": "VOA",
        "date": None,
        "paragraphs": ["First paragraph of the story."],
        "summary": "First paragraph of the story.",
    }
    assert empty == {"path": "seeds/002_empty.txt", "key": "empty", "skipped": "empty file"}


def test_inspect_text_shows_names_and_text_a_terminal_would_act_on_as_escapes(cwd):
    odd = ["seeds/ab\x1b[31mRED.txt", "seeds/bad\udce9name.txt"]
    for name in odd:
        (cwd / name).write_text(seed_text("Evil \u202eelif.exe story"))
    result = subprocess.run([sys.executable, "-m", "feedpub", "inspect", *odd], cwd=cwd, capture_output=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("utf-8")  # valid UTF-8: the undecodable byte is shown as its escape
    assert "\x1b" not in out and "\u202e" not in out
    assert "seeds/ab\\x1b[31mRED.txt" in out and "key:        ab\\x1b[31mRED" in out
    assert "seeds/bad\\udce9name.txt" in out
    assert out.count("title:      Evil \\u202eelif.exe story") == 2


@needs_shared
def test_inspect_text_shows_the_reader_view():
    result = feedpub("inspect", str(SHARED / "examples/seeds/002_7e65d240bf59d430.txt"), cwd=REPO)
    lines = result.stdout.splitlines()
    assert "  title:      Winter storm grounds hundreds of flights across the US Midwest" in lines
    assert "  agency:     AP" in lines
    assert "  publisher:  AFP" in lines
    assert "  date:       2025-01-17T06:45:00+00:00" in lines
    assert "  paragraphs: 5" in lines


def test_python_dash_m_and_help_examples():
    result = feedpub("build", "--help", cwd=REPO)
    assert result.returncode == 0
    for option in ("--seeds", "--out", "--record", "--config", "--base-url", "--strict", "--quiet", "--json"):
        assert option in result.stdout
    assert "Example:" in result.stdout


def test_progress_line_shows_only_after_its_delay(capsys):
    from feedpub.cli import ProgressLine

    quiet = ProgressLine(after=3600)
    quiet(500, 1000)
    assert capsys.readouterr().err == ""
    shown = ProgressLine(after=0)
    shown(500, 1000)
    shown(1000, 1000)
    assert capsys.readouterr().err == "\rreading seeds: 500/1,000 (50%)\rreading seeds: 1,000/1,000 (100%)\n"


def test_build_prints_no_progress_when_stderr_is_not_a_terminal(cwd):
    for i in range(30):
        (cwd / "seeds" / f"1{i:02d}_k{i}.txt").write_text(seed_text(f"Story {i}"))
    result = feedpub("build", cwd=cwd)
    assert "reading seeds" not in result.stderr
    assert result.stderr == ""
