"""Incremental builds render only the outputs whose inputs changed, and write what a full build writes.

An incremental build (the scan cache holds, a few seeds were read) keeps every output none of whose
inputs changed: a feed's three files when its entries, their text and dates are as before; a page
when its entry is; the front page when no feed changed; the stylesheet and OPML list always. The
bytes must be exactly those a full render writes: a random walk of small changes is built both
ways at every step and the output folders compared.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import CLOCK, Project, seed_text
from feedpub import publish
from feedpub.publish import cache_path_for
from feedpub.scan import CacheFile

REPO = Path(__file__).resolve().parents[1]
CONFIG = "[feeds.flash]\nlimit = 3\n[feeds.latest]\nlimit = 5\n[feeds.world]\nlimit = 2\n"
FEED_FILES = ("xml", "atom", "json")


def last_top(project: Project) -> dict[str, list[list]]:
    """Each feed's rows as the last build left them in the scan cache."""
    header, handle = CacheFile.load_header(cache_path_for(project.record))
    handle.close()
    return header.top


def shown_names(project: Project) -> set[str]:
    return {row[3] for rows in last_top(project).values() for row in rows}


def identity(project: Project) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every output: unchanged exactly when the build left the file alone."""
    return {
        str(p.relative_to(project.out)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(project.out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def counted(monkeypatch):
    """Count the writers' calls: feed name -> RSS renders, key -> page renders, and the others."""
    from feedpub import feeds, jsonfeed, opml, site

    calls: dict[str, list] = {"rss": [], "atom": [], "json": [], "page": [], "index": [], "xsl": [], "opml": []}

    def wrap(module, name, label, what):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[label].append(what(*args))
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    wrap(feeds, "render_rss", "rss", lambda spec, *_: spec.name)
    wrap(feeds, "render_atom", "atom", lambda spec, *_: spec.name)
    wrap(jsonfeed, "render_json_feed", "json", lambda spec, *_: spec.name)
    wrap(site, "render_item_page", "page", lambda entry, *_: entry.key)
    wrap(site, "render_index", "index", lambda *_: True)
    wrap(site, "render_stylesheet", "xsl", lambda *_: True)
    wrap(opml, "render_opml", "opml", lambda *_: True)
    return calls


def test_output_names_spelled_out_in_publish_are_the_writers_own():
    from feedpub import opml, site

    assert publish.STYLESHEET_NAME == site.STYLESHEET_NAME
    assert publish.OPML_NAME == opml.OPML_NAME
    assert publish.FEED_SUFFIXES == tuple(suffix for suffix, _, _ in site.FEED_FORMATS)


def test_a_new_world_seed_leaves_the_flash_feed_and_other_pages_alone(project, counted):
    project.config.write_text(CONFIG)
    project.add("001_f1.txt", seed_text("Flash one"))
    project.add("002_w1.txt", seed_text("World one", header="World"))
    first = project.build()
    total = len(first.written)
    before = identity(project)
    for calls in counted.values():
        calls.clear()

    project.add("003_w2.txt", seed_text("World two", header="World"))
    report = project.build(now=CLOCK + timedelta(minutes=5))

    changed = {"items/w2.html", "latest.xml", "latest.atom", "latest.json", "world.xml", "world.atom", "world.json",
               "index.html"}
    assert sorted(report.written) == sorted(changed)
    assert report.unchanged == total + 1 - len(changed)  # one page more than before, every other output counted
    assert report.entries == {"flash": 1, "latest": 3, "world": 2}
    assert report.summary_line().endswith(f"{len(changed)} files written, {report.unchanged} unchanged")
    after = identity(project)
    assert {name for name in before if after[name] != before[name]} == changed - {"items/w2.html"}
    # Not merely left unchanged on disk: never rendered.
    assert counted["rss"] == counted["atom"] == counted["json"] == ["latest", "world"]
    assert counted["page"] == ["w2"]
    assert counted["index"] == [True]
    assert counted["xsl"] == counted["opml"] == []


def test_editing_a_shown_seed_renders_its_page_and_the_feeds_showing_it(project, counted):
    project.config.write_text(CONFIG)
    project.add("001_f1.txt", seed_text("Flash one"))
    path = project.add("002_w1.txt", seed_text("World one", header="World"))
    project.build()
    for calls in counted.values():
        calls.clear()
    path.write_text(seed_text("World one, corrected", header="World"))
    os.utime(path, (CLOCK.timestamp(), CLOCK.timestamp()))
    report = project.build(now=CLOCK + timedelta(minutes=5))
    assert sorted(report.written) == sorted(
        ["items/w1.html", "latest.xml", "latest.atom", "latest.json", "world.xml", "world.atom", "world.json", "index.html"]
    )
    assert counted["rss"] == ["latest", "world"] and counted["page"] == ["w1"]
    assert "World one, corrected" in (project.out / "world.xml").read_text()


def test_changes_nothing_shows_render_nothing_and_load_no_writer(project):
    """An unshown seed added, edited, removed, a shown one touched: no output is rendered, and
    feedgen and lxml are not even imported (the CLI, in a fresh process)."""
    project.config.write_text("[feeds.flash]\nlimit = 1\n[feeds.latest]\nlimit = 1\n[feeds.world]\nlimit = 1\n")
    project.add("001_shown.txt", seed_text("Shown"))
    project.add("002_old.txt", "Business\n\nOld\n\nDate: 2001-01-01 10:00 UTC\n\nBody.\n")
    project.build()
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['feedpub', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('feedpub', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('feedgen', 'lxml') or m in ('feedpub.feeds', 'feedpub.site'))\n"
        "print('loaded:', loaded)\n"
    )
    args = [sys.executable, "-c", probe, "build", "--seeds", str(project.seeds), "--out", str(project.out),
            "--record", str(project.record), "--config", str(project.config)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDPUB_")} | {"PYTHONPATH": str(REPO)}
    stamp = CLOCK.timestamp()

    def step(change) -> str:
        nonlocal stamp
        stamp += 60
        change()
        before = identity(project)
        run = subprocess.run(args, env=env, capture_output=True, text=True, cwd=project.root)
        assert run.returncode == 0, run.stderr
        assert identity(project) == before
        return run.stdout

    def add_unshown():
        project.add("003_older.txt", "Business\n\nOlder\n\nDate: 2000-01-01 10:00 UTC\n\nBody.\n", mtime=stamp)

    def edit_unshown():
        project.add("002_old.txt", "Business\n\nOld, corrected\n\nDate: 2001-01-01 10:00 UTC\n\nBody.\n", mtime=stamp)

    def touch_shown():
        os.utime(project.seeds / "001_shown.txt", (stamp, stamp))

    def remove_unshown():
        (project.seeds / "003_older.txt").unlink()

    for change in (add_unshown, edit_unshown, touch_shown, remove_unshown):
        out = step(change)
        assert "1 read" in out or "0 read" in out, out
        assert "0 files written" in out, out
        assert "loaded: []" in out, f"{change.__name__}: {out}"


def test_an_output_not_as_the_last_build_left_it_makes_the_build_render_everything(project, counted):
    project.config.write_text(CONFIG)
    project.add("001_f1.txt", seed_text("Flash one"))
    project.add("002_w1.txt", seed_text("World one", header="World"))
    project.build()
    clean = project.files()
    (project.out / "world.atom").write_text("damaged")
    (project.out / "items/f1.html").unlink()
    for calls in counted.values():
        calls.clear()
    project.add("003_b1.txt", seed_text("Business one", header="Business"))
    report = project.build(now=CLOCK + timedelta(minutes=5))
    assert counted["rss"] == ["flash", "latest", "world"] and counted["xsl"] == [True]
    assert {"world.atom", "items/f1.html"} <= set(report.written)
    files = project.files()
    assert files["world.atom"] == clean["world.atom"] and files["items/f1.html"] == clean["items/f1.html"]


def test_an_entry_a_build_could_not_load_is_rendered_by_the_next(project, monkeypatch):
    """A shown seed that breaks between the scan and the render is left out of that build's feeds;
    the next build must not keep those files as they are, even if the feed's entries are the same."""
    from feedpub.model import SeedSkipped

    project.config.write_text(CONFIG)
    project.add("001_f1.txt", seed_text("Flash one"))
    project.add("002_w1.txt", seed_text("World one", header="World"))
    project.build()
    real = publish.read_seed

    def flaky(path, **kwargs):
        if path.name == "002_w1.txt":
            raise SeedSkipped(path, "vanished while being read")
        return real(path, **kwargs)

    monkeypatch.setattr(publish, "read_seed", flaky)
    project.add("003_f2.txt", seed_text("Flash two"))
    report = project.build(now=CLOCK + timedelta(minutes=5))
    assert report.entries["world"] == 0 and "World one" not in (project.out / "world.xml").read_text()
    monkeypatch.setattr(publish, "read_seed", real)
    project.add("004_f3.txt", seed_text("Flash three"))
    report = project.build(now=CLOCK + timedelta(minutes=10))
    assert report.entries["world"] == 1 and "World one" in (project.out / "world.xml").read_text()


def test_a_rendering_change_renders_everything(project, counted):
    project.config.write_text(CONFIG)
    project.add("001_f1.txt", seed_text("Flash one"))
    project.build()
    for calls in counted.values():
        calls.clear()
    project.add("002_w1.txt", seed_text("World one", header="World"))
    report = project.build(now=CLOCK + timedelta(minutes=5), base_url="https://elsewhere.example.org/")
    assert counted["rss"] == ["flash", "latest", "world"] and counted["opml"] == [True]
    assert "feeds.opml" in report.written and "flash.xml" in report.written


def _walk_step(rng: random.Random, project: Project, step: int, stamp: float, names: list[str]) -> str:
    """One random change to the seeds; returns what it did."""
    shown = shown_names(project) & set(names) if names else set()
    unshown = sorted(set(names) - shown)
    ops = ["add", "add_old", "add"]
    if shown:
        ops += ["edit_shown", "edit_shown", "touch", "edit_shown_same_place"]
    if unshown:
        ops += ["edit_unshown", "edit_unshown", "delete_unshown", "touch"]
    if names:
        ops += ["delete_any", "recategorise"]  # these need a full look at the feeds: the fallback
    op = rng.choice(ops)
    header = rng.choice(["Flash News", "World", "Business"])
    if op in ("add", "add_old"):
        name = f"{rng.randrange(1000):03d}_k{step}.txt"
        if op == "add":
            text = seed_text(f"Story {step}", header=header, agency=rng.choice(["Reuters", "AP", ""]))
        else:  # stated dates far back: may well make no feed at all
            text = f"{header}\n\nOld story {step}\n\nDate: 2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)} 10:00 UTC\n\nBody {step}.\n"
        project.add(name, text, mtime=stamp - rng.randrange(7200))
        names.append(name)
        return f"{op} {name}"
    if op in ("edit_shown", "edit_shown_same_place", "edit_unshown", "touch", "delete_unshown"):
        pool = sorted(shown) if op.startswith("edit_shown") else unshown if op in ("edit_unshown", "delete_unshown") else names
        name = rng.choice(pool)
        path = project.seeds / name
        if op == "delete_unshown":
            path.unlink()
            names.remove(name)
            return f"{op} {name}"
        text = path.read_text()
        if op != "touch":
            # Same category and date, so the entry keeps its place: only its text changes.
            text = text.replace("Body", f"Body (edited at {step})", 1) if "Body" in text else text.replace(
                "First paragraph", f"First paragraph, edited at {step},", 1)
        path.write_text(text)
        os.utime(path, (stamp, stamp))
        return f"{op} {name}"
    name = rng.choice(names)
    path = project.seeds / name
    if op == "delete_any":
        path.unlink()
        names.remove(name)
    else:
        path.write_text(seed_text(f"Recategorised {step}", header=header))
        os.utime(path, (stamp, stamp))
    return f"{op} {name}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_partial_renders_write_exactly_what_full_renders_write(project, tmp_path, monkeypatch, seed):
    """At every step of a random walk (add, edit shown and unshown seeds, touch, delete), the
    incremental build's output folder and record equal, byte for byte, those of (a) a full build
    of a copy of the project without the scan cache, and (b) a build from scratch into an empty
    folder, for every file that one writes (pages of entries whose seeds are gone are kept only
    where they were written before)."""
    partial: list[bool] = []
    original = publish.plan_partial

    def spy(*args, **kwargs):
        plan = original(*args, **kwargs)
        partial.append(plan is not None)
        return plan

    monkeypatch.setattr(publish, "plan_partial", spy)
    rng = random.Random(seed)
    project.config.write_text(CONFIG)
    clock = CLOCK
    names: list[str] = []
    for step in range(4):
        project.add(f"{step:03d}_start{step}.txt", seed_text(f"Start {step}", header=["Flash News", "World"][step % 2]))
        names.append(f"{step:03d}_start{step}.txt")
    project.build(now=clock)
    for step in range(40):
        clock += timedelta(minutes=5)
        what = _walk_step(rng, project, step, clock.timestamp(), names)
        full = Project(tmp_path / f"full{step}")
        scratch = Project(tmp_path / f"scratch{step}")
        for other in (full, scratch):
            shutil.copytree(project.seeds, other.seeds, dirs_exist_ok=True, copy_function=shutil.copy2)
            shutil.copyfile(project.record, other.record)
            other.config.write_text(CONFIG)
        shutil.copytree(project.out, full.out, copy_function=shutil.copy2)
        report = project.build(now=clock)
        monkeypatch.setattr(publish, "plan_partial", original)  # the references render everything
        full.build(now=clock)
        scratch.build(now=clock)
        monkeypatch.setattr(publish, "plan_partial", spy)
        files = project.files()
        assert full.files() == files, f"step {step}: {what}"
        assert full.record.read_bytes() == project.record.read_bytes(), f"step {step}: {what}"
        from_scratch = scratch.files()
        assert {k: files[k] for k in from_scratch} == from_scratch, f"step {step}: {what}"
        assert all(k.startswith("items/") for k in set(files) - set(from_scratch)), f"step {step}: {what}"
        # Every output the incremental build wrote or found unchanged is one a build from scratch
        # writes; it looked at every feed, fixed file and shown page at least (a full render also
        # makes the pages of entries that left the feeds, which an incremental build keeps as they are).
        shown_pages = {f"items/{row[2]}.html" for rows in last_top(project).values() for row in rows}
        fixed = {name for name in from_scratch if not name.startswith("items/")}
        assert set(report.written) <= set(from_scratch), f"step {step}: {what}"
        assert len(fixed | shown_pages) <= len(report.written) + report.unchanged <= len(from_scratch), f"step {step}: {what}"
        shutil.rmtree(full.root)
        shutil.rmtree(scratch.root)
    # The walk went through the partial path most of the time, and through the fallback too.
    assert partial.count(True) >= 20, partial
    assert not all(partial), partial
