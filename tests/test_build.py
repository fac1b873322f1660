"""feedpub build end to end: stability, the record's promises, item pages, bad input, the committed feeds."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from conftest import CLOCK, Project, child_pids, seed_text
from feedpub.publish import InputError, build, cache_path_for
from feedpub.scan import CacheFile
from feedpub.record import Record, new_line, new_line_json, parse_time

REPO = Path(__file__).resolve().parents[1]
TAG_URI = re.compile(r"^tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:[A-Za-z0-9._~/%-]+$")  # RFC 4151, as minted here


def entry_ids(project: Project, feed: str = "latest.atom") -> dict[str, str]:
    """link -> id of every entry in a built feed."""
    parsed = feedparser.parse(project.out / feed)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {e.link: e.id for e in parsed.entries}


def test_build_twice_gives_identical_bytes_and_keeps_mtimes(project):
    project.add("001_aaa.txt", seed_text("First story"))
    project.add("002_bbb.txt", seed_text("Second story", header="World"))
    project.build()
    first, mtimes = project.files(), project.mtimes()
    report = project.build(now=CLOCK + timedelta(hours=5))
    assert project.files() == first
    assert project.mtimes() == mtimes
    assert report.written == []
    assert report.unchanged == len(first)


def test_edited_seed_keeps_id_and_published_and_gets_new_updated(project):
    path = project.add("001_aaa.txt", seed_text("Story", body="Original text"))
    project.build()
    before = feedparser.parse(project.out / "latest.atom").entries[0]
    path.write_text(seed_text("Story corrected", body="Corrected text"))
    later = CLOCK + timedelta(hours=1)
    project.build(now=later)
    after = feedparser.parse(project.out / "latest.atom").entries[0]
    assert after.id == before.id
    assert after.published == before.published
    assert after.updated != before.updated
    assert after.title == "Story corrected"
    assert after.updated_parsed > before.updated_parsed


def test_a_seed_saved_again_with_other_line_ends_is_not_an_edit(project):
    text = seed_text("Story", body="Original text")
    path = project.add("001_aaa.txt", text)
    project.build()
    first = project.files()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())  # a BOM and CRLF: same text
    report = project.build(now=CLOCK + timedelta(hours=1))
    assert report.reread == 1 and report.written == [] and project.files() == first
    assert Record.load(project.record).get("aaa").edited is None


def test_a_record_from_before_text_fingerprints_is_adopted_without_edits(project):
    """Records written by earlier versions hold fingerprints of the parsed content ("sha256:..."):
    the first build after the upgrade takes the new ones and calls nothing edited."""
    for i in range(3):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    first, record = project.files(), project.record.read_text()
    assert record.count('"fingerprint": "text:') == 3
    project.record.write_text(re.sub(r'"text:([0-9a-f]+)"', r'"sha256:\1"', record))
    cache_path_for(project.record).unlink()  # the old version's cache is of another format
    project.build(now=CLOCK + timedelta(days=1))
    assert project.files() == first
    assert project.record.read_text() == record


def test_fresh_copy_of_seeds_and_record_rebuilds_the_same_feeds(project, tmp_path):
    for i in range(5):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    clone = Project(tmp_path / "clone")
    for path in project.seeds.iterdir():
        shutil.copyfile(path, clone.seeds / path.name)  # new mtimes, as a git clone has
    shutil.copyfile(project.record, clone.record)
    clone.build(now=CLOCK + timedelta(days=30))
    assert clone.files() == project.files()
    assert clone.record.read_bytes() == project.record.read_bytes()


def test_a_fresh_copy_notices_the_one_seed_edited_since_its_record(project, tmp_path):
    """Without a scan cache every seed is checked against the record; the unchanged ones take the
    short way (their line holds their fingerprint), the edited one gets its new `edited` date."""
    for i in range(5):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    clone = Project(tmp_path / "clone")
    for path in project.seeds.iterdir():
        shutil.copyfile(path, clone.seeds / path.name)
    shutil.copyfile(project.record, clone.record)
    (clone.seeds / "002_k2.txt").write_text(seed_text("Story 2", body="Corrected body."))
    later = CLOCK + timedelta(days=30)
    clone.build(now=later)
    before, after = Record.load(project.record), Record.load(clone.record)
    for key in ("k0", "k1", "k3", "k4"):
        assert after.get(key) == before.get(key)
    edited = after.get("k2")
    assert edited.edited == later and edited.fingerprint != before.get("k2").fingerprint
    assert (edited.id, edited.first_seen) == (before.get("k2").id, before.get("k2").first_seen)
    entry = next(e for e in feedparser.parse(clone.out / "latest.atom").entries if e.id == edited.id)
    assert entry.updated_parsed[:6] == later.timetuple()[:6]


def test_a_record_edited_in_place_with_its_mtime_put_back_is_checked_not_trusted(project):
    """Same size, mtime and inode as the last build left it, but a line lost its key: the build
    must check the record (ctime moved) and name the line, not trust it and fail with a traceback."""
    for i in range(1, 5):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}", header="World"))
    project.build()
    data, before = project.record.read_bytes(), project.record.stat()
    damaged = data.replace(b'{"key": "k1"', b'{"kez": "k1"')
    assert len(damaged) == len(data) and damaged != data
    with open(project.record, "r+b") as f:
        f.write(damaged)
    os.utime(project.record, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = project.record.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    (project.seeds / "004_k4.txt").write_text(seed_text("Story 4 edited", header="World"))
    (project.seeds / "003_k3.txt").unlink()  # a shown seed gone: the full look at every line
    line = data[: data.index(b'{"key": "k1"')].count(b"\n") + 1
    with pytest.raises(InputError, match=rf"record.jsonl:{line}: bad record line \(missing field 'key'\)"):
        project.build(now=CLOCK + timedelta(days=1))


def test_builds_trust_the_record_they_wrote(project, monkeypatch):
    """The record's own writes (its signature, ctime included, taken after them) leave it trusted:
    no change, a new seed and an edit never check its 100,000 lines again."""
    checked = []
    real = Record._check_and_adopt
    monkeypatch.setattr(Record, "_check_and_adopt", lambda self, data: (checked.append(1), real(self, data))[1])
    for i in range(5):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    project.build(now=CLOCK + timedelta(minutes=1))
    project.add("009_new.txt", seed_text("New story"))
    project.build(now=CLOCK + timedelta(minutes=2))
    (project.seeds / "001_k1.txt").write_text(seed_text("Story 1 edited"))
    project.build(now=CLOCK + timedelta(minutes=3))
    assert checked == []
    time.sleep(0.02)  # past the kernel's coarse clock tick, which ctime is taken from
    project.record.chmod(0o644)  # a change of the inode's metadata alone moves its ctime
    project.build(now=CLOCK + timedelta(minutes=4))
    assert checked == [1]


def test_new_seed_is_the_only_new_entry(project):
    for i in range(3):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    project.build()
    before = entry_ids(project)
    project.add("009_new.txt", seed_text("Brand new"))
    project.build(now=CLOCK + timedelta(minutes=15))
    after = entry_ids(project)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {"http://localhost:8000/items/new.html"}


def test_ids_are_tag_uris_that_survive_base_url_and_sequence_changes(project):
    project.add("001_story.txt", seed_text("Story"))
    project.build()
    [old_id] = entry_ids(project).values()
    assert TAG_URI.match(old_id), old_id
    (project.seeds / "001_story.txt").rename(project.seeds / "042_story.txt")
    project.build(base_url="https://elsewhere.example.com/news/")
    assert entry_ids(project) == {"https://elsewhere.example.com/news/items/story.html": old_id}


def test_published_is_the_stated_date_else_first_seen(project):
    project.add("001_dated.txt", "World\n\nA dated story\n\nDate: 2024-05-24 10:15 UTC\n\nBody text here.\n")
    project.add("002_undated.txt", seed_text("An undated story"), mtime=CLOCK.timestamp() - 3600)
    project.add("003_future.txt", seed_text("Dropped in with a future mtime"), mtime=CLOCK.timestamp() + 86_400)
    project.build()
    entries = {e.link.rsplit("/", 1)[1]: e for e in feedparser.parse(project.out / "latest.atom").entries}
    assert entries["dated.html"].published == "2024-05-24T10:15:00+00:00"
    assert entries["undated.html"].published == "2025-03-10T11:00:00+00:00"
    assert entries["future.html"].published == "2025-03-10T12:00:00+00:00"  # never later than the clock


def test_order_is_newest_first_then_higher_sequence_then_key(project):
    same = CLOCK.timestamp() - 600
    project.add("001_b.txt", seed_text("B"), mtime=same)
    project.add("003_c.txt", seed_text("C"), mtime=same)
    project.add("003_a.txt", seed_text("A"), mtime=same)
    project.add("002_newest.txt", seed_text("Newest"), mtime=same + 60)
    project.build()
    titles = [e.title for e in feedparser.parse(project.out / "latest.xml").entries]
    assert titles == ["Newest", "A", "C", "B"]


def test_vanished_seed_leaves_the_feeds_but_keeps_its_record_line_and_page(project):
    project.add("001_stay.txt", seed_text("Stays"))
    gone = project.add("002_gone.txt", seed_text("Goes"))
    project.build()
    gone.unlink()
    project.build(now=CLOCK + timedelta(hours=1))
    assert [e.title for e in feedparser.parse(project.out / "latest.xml").entries] == ["Stays"]
    assert "gone" in Record.load(project.record)
    assert (project.out / "items/gone.html").is_file()


def test_pages_stay_for_entries_that_dropped_out_of_every_feed(project):
    project.config.write_text('[feeds.flash]\nlimit = 1\n[feeds.latest]\nlimit = 1\n')
    project.add("001_old.txt", seed_text("Old"))
    project.build()
    project.add("002_new.txt", seed_text("New"))
    project.build(now=CLOCK + timedelta(hours=1))
    assert [e.title for e in feedparser.parse(project.out / "latest.xml").entries] == ["New"]
    assert (project.out / "items/old.html").is_file()
    assert (project.out / "items/new.html").is_file()


@pytest.mark.parametrize("cache", ["kept", "deleted"])
def test_pages_of_entries_that_left_the_feeds_follow_to_a_new_output_folder_and_new_settings(project, cache):
    """A fresh output folder (a CI job building into a clean _site/) gets the pages of every entry
    that ever made a feed, not only of those shown; a new base_url reaches those pages too."""
    project.config.write_text('[feeds.flash]\nlimit = 1\n[feeds.latest]\nlimit = 1\n[site]\nbase_url = "https://a.example/"\n')
    project.add("001_old.txt", seed_text("Old"))
    project.build()
    project.add("002_new.txt", seed_text("New"))
    project.build(now=CLOCK + timedelta(hours=1))
    before = project.files()
    assert {"items/old.html", "items/new.html"} <= set(before)
    shutil.rmtree(project.out)
    if cache == "deleted":
        cache_path_for(project.record).unlink()
    report = project.build(now=CLOCK + timedelta(hours=2))
    assert project.files() == before and "items/old.html" in report.written
    # Made again, but not among the files every later build checks (a stat per page ever shown).
    header, handle = CacheFile.load_header(cache_path_for(project.record))
    handle.close()
    assert "items/new.html" in header.outputs and "items/old.html" not in header.outputs
    project.config.write_text(project.config.read_text().replace("https://a.example/", "https://b.example/news/"))
    project.build(now=CLOCK + timedelta(hours=3))
    page = (project.out / "items/old.html").read_text()
    assert "https://a.example/" not in page and "https://b.example/news/items/old.html" in page


def test_every_link_between_the_site_pages_lands_on_a_file_of_the_site(project):
    """The pages link relatively (the canonical link aside): served from a sub-path (GitHub Pages'
    /project/) or from another host or port than base_url, every click lands on a file of the site."""
    from urllib.parse import unquote, urljoin

    import lxml.html

    project.config.write_text('[site]\nbase_url = "https://news.example.org/"\n')
    project.add("001_k1.txt", seed_text("One"))
    project.add("002_k 2.txt", seed_text("Two", header="World"))  # a key that needs quoting
    project.build()
    served = "http://127.0.0.1:8080/project/"
    pages = ["index.html", *sorted(f"items/{p.name}" for p in (project.out / "items").iterdir())]
    followed = 0
    for page in pages:
        doc = lxml.html.fromstring((project.out / page).read_bytes())
        for element in doc.xpath("//a[@href] | //link[@href][not(@rel='canonical')]"):
            url = urljoin(served + page, element.get("href"))
            assert url.startswith(served), (page, element.get("href"))
            target = unquote(url[len(served) :])
            assert (project.out / (target if target and not target.endswith("/") else target + "index.html")).is_file(), url
            followed += 1
    assert len(pages) == 3 and followed >= 3 * 6


def test_seeds_that_never_made_a_feed_get_no_page(project):
    project.config.write_text('[feeds.flash]\nlimit = 1\n[feeds.latest]\nlimit = 1\n')
    project.add("001_old.txt", seed_text("Old"))
    project.add("002_new.txt", seed_text("New"))
    project.build()
    assert sorted(p.name for p in (project.out / "items").iterdir()) == ["new.html"]


def test_bad_seed_is_skipped_with_its_reason_and_costs_no_other_entry(project):
    project.add("001_good.txt", seed_text("Good"))
    project.add("002_empty.txt", "")
    project.add("003_binary.txt", b"\x00\x01\x02\x03" * 100)
    report = project.build()
    assert report.skipped == [
        (str(project.seeds / "002_empty.txt"), "empty file"),
        (str(project.seeds / "003_binary.txt"), "binary data, not text"),
    ]
    assert report.entries["latest"] == 1


def test_duplicate_key_keeps_the_higher_sequence(project):
    project.add("001_same.txt", seed_text("Older copy"))
    project.add("002_same.txt", seed_text("Renumbered copy"))
    report = project.build()
    assert report.skipped == [(str(project.seeds / "001_same.txt"), "same key as 002_same.txt")]
    assert [e.title for e in feedparser.parse(project.out / "latest.xml").entries] == ["Renumbered copy"]


def test_a_key_handed_back_to_a_file_not_read_again_takes_its_text(project, tmp_path):
    """002, a corrected copy, takes the key from 001; then 002 is deleted and 001, unchanged and
    not read again, speaks for the key once more: the record must hold 001's text, as a build
    from the same seeds and record without the cache finds."""
    project.add("001_same.txt", seed_text("Story", body="The original text of the story."))
    project.build(now=CLOCK)
    project.add("002_same.txt", seed_text("Story", body="The corrected text of the story."))
    project.build(now=CLOCK + timedelta(minutes=5))
    (project.seeds / "002_same.txt").unlink()
    project.build(now=CLOCK + timedelta(minutes=10))
    [entry] = feedparser.parse(project.out / "latest.atom").entries
    assert "original text" in entry.content[0].value
    assert entry.updated_parsed > entry.published_parsed  # edited twice: the text changed back

    full = Project(tmp_path / "full")
    shutil.copytree(project.seeds, full.seeds, dirs_exist_ok=True, copy_function=shutil.copy2)
    shutil.copyfile(project.record, full.record)
    shutil.copytree(project.out, full.out, copy_function=shutil.copy2)
    report = full.build(now=CLOCK + timedelta(minutes=15))
    assert report.written == [] and full.record.read_bytes() == project.record.read_bytes()


def test_missing_seeds_folder_is_an_input_error_and_touches_nothing(project):
    project.add("001_a.txt", seed_text("A"))
    project.build()
    before = project.files()
    with pytest.raises(InputError, match=r"seeds folder not found"):
        build(project.settings(seeds_dir=project.root / "nope"), now=CLOCK)
    assert project.files() == before
    with pytest.raises(InputError, match=r"a-file: not a folder \(use --seeds DIR\)$"):
        (project.root / "a-file").write_text("not a folder")
        build(project.settings(seeds_dir=project.root / "a-file"), now=CLOCK)
    assert project.files() == before


def test_empty_seeds_folder_writes_valid_empty_feeds_with_a_notice(project):
    report = project.build()
    assert report.notices[0] == f"{project.seeds}: no seeds to publish; the feeds are written empty"
    assert report.notices[1].startswith("2 new ids minted under tag:localhost,")  # the two feeds' ids
    for name in ("flash.xml", "latest.xml", "flash.atom", "latest.atom"):
        parsed = feedparser.parse(project.out / name)
        assert parsed.bozo == 0 and parsed.entries == []
        # Updated when the feed began (the day in its id), not in 1970, and not the clock.
        assert parsed.feed.updated_parsed[:6] == (CLOCK.year, CLOCK.month, CLOCK.day, 0, 0, 0), name
    later = project.build(now=CLOCK + timedelta(days=3))
    assert later.written == []  # the same record and seeds: the same bytes


def test_a_seed_that_could_not_be_read_is_tried_again_though_nothing_about_it_changed(project, monkeypatch):
    """Permissions put right change no size, mtime or inode: the next build reads the file again."""
    from feedpub import scan
    from feedpub.model import SeedSkipped

    for i in range(3):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    victim = "001_k1.txt"
    real_at, real_bytes = scan.read_seed_at, scan.read_seed_bytes

    def denied(path, **kwargs):
        if path.endswith(victim):
            raise SeedSkipped(path, "cannot read: permission denied")
        return real_bytes(path, **kwargs)

    monkeypatch.setattr(scan, "read_seed_at", lambda folder, name: None if name == victim else real_at(folder, name))
    monkeypatch.setattr(scan, "read_seed_bytes", denied)
    report = project.build()
    assert [(os.path.basename(p), why) for p, why in report.skipped] == [(victim, "cannot read: permission denied")]
    monkeypatch.undo()
    report = project.build(now=CLOCK + timedelta(minutes=1))
    assert report.reread == 1 and report.skipped == [] and report.entries["latest"] == 3
    assert project.build(now=CLOCK + timedelta(minutes=2)).reread == 0


def test_seed_suffixes_in_any_case_and_a_utf_16_seed_get_what_they_ask_for(project):
    """NOTES.TXT from a Windows tool is a seed; UTF-16 is skipped, saying what to do about it."""
    from feedpub.seeds import UTF16

    project.add("001_k1.TXT", seed_text("Upper case suffix"))
    project.add("notes.Md", seed_text("Mixed case suffix"))
    project.add("002_k2.txt", seed_text("Saved as UTF-16").encode("utf-16"))
    project.add("003_k3.txtx", seed_text("Not a seed"))
    project.add("004_k4.txt", seed_text("Saved as UTF-32, big-endian").encode("utf-32-be").join([b"\0\0\xfe\xff", b""]))
    report = project.build()
    assert report.seeds == 4 and report.entries["latest"] == 2
    assert [(os.path.basename(p), why) for p, why in report.skipped] == [("002_k2.txt", UTF16), ("004_k4.txt", UTF16)]
    assert {"k1.html", "notes.html"} <= {p.name for p in (project.out / "items").iterdir()}


def test_a_key_starting_with_a_dot_is_skipped_for_its_page_would_be_hidden(project):
    from feedpub.scan import DOT_KEY

    project.add("008_.hidden.txt", seed_text("Hidden page"))
    project.add("009_a_.b.txt", seed_text("Dot inside the key"))
    report = project.build()
    assert [(os.path.basename(p), why) for p, why in report.skipped] == [("008_.hidden.txt", DOT_KEY)]
    assert sorted(p.name for p in (project.out / "items").iterdir()) == ["a_.b.html"]


def test_a_date_in_the_future_is_published_as_stated_with_a_warning_every_build(project):
    project.add("001_k1.txt", "World\n\nTalks set for 2031\n\nDate: 2031-05-01 10:00 UTC\n\nBody.\n")
    project.add("002_k2.txt", seed_text("Today's story"))
    warning = f"{project.seeds / '001_k1.txt'}: states a date in the future (2031-05-01 10:00 UTC); it tops the feeds until then"
    assert project.build().warnings == [warning]
    assert feedparser.parse(project.out / "latest.atom").entries[0].title == "Talks set for 2031"
    unchanged = project.build(now=CLOCK + timedelta(hours=1))
    assert unchanged.written == [] and unchanged.warnings == [warning]
    assert project.build(now=datetime(2031, 5, 1, tzinfo=timezone.utc)).warnings == []


def test_a_lost_record_is_refused_while_the_feeds_publish_entries(project):
    """Empty, missing, or all but its feed lines: a build would give every entry a new id."""
    from feedpub.publish import InputError

    project.add("001_k1.txt", seed_text("Story 1"))
    project.build()
    good = project.record.read_bytes()
    feed_lines = b"".join(line for line in good.splitlines(keepends=True) if line.startswith(b'{"feed"'))
    assert feed_lines and feed_lines != good
    for damage in (b"", None, feed_lines):
        if damage is None:
            project.record.unlink()
        else:
            project.record.write_bytes(damage)
        before = project.files()
        with pytest.raises(InputError, match=r"the record is (empty|missing), but .*flash\.xml publishes 1 entries"):
            project.build(now=CLOCK + timedelta(minutes=1))
        assert project.files() == before
    # With the feeds gone too, it is a first build.
    shutil.rmtree(project.out)
    assert project.build(now=CLOCK + timedelta(minutes=2)).entries["latest"] == 1


def test_a_seed_that_cannot_be_read_for_good_does_not_keep_every_build_from_the_no_change_way(project):
    project.add("001_k1.txt", seed_text("Story 1"))
    (project.seeds / "002_loop.txt").symlink_to("002_loop.txt")
    first = project.build()
    assert [why for _, why in first.skipped] == ["cannot read: too many levels of symbolic links"]
    again = project.build(now=CLOCK + timedelta(minutes=1))
    assert again.reread == 0 and again.written == [] and len(again.skipped) == 1


def test_incremental_rebuild_reads_only_changed_seeds(project):
    for i in range(4):
        project.add(f"00{i}_k{i}.txt", seed_text(f"Story {i}"))
    assert project.build().reread == 4
    assert project.build(now=CLOCK + timedelta(minutes=1)).reread == 0
    edited = project.seeds / "002_k2.txt"
    edited.write_text(seed_text("Story 2, corrected"))
    report = project.build(now=CLOCK + timedelta(minutes=2))
    assert report.reread == 1
    assert "Story 2, corrected" in (project.out / "latest.xml").read_text()


def test_same_size_edit_within_the_same_second_is_picked_up(project):
    """An edit that keeps size and mtime (coarse clocks) is caught: files modified within a couple
    of seconds of the previous scan are re-read and their fingerprint compared."""
    import time

    project.add("000_old.txt", seed_text("An older story"))  # the racy test must look at the newest mtime
    path = project.add("001_k.txt", seed_text("Story AAAA"), mtime=time.time())
    project.build()
    st = path.stat()
    path.write_text(seed_text("Story BBBB"))
    import os

    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime; the inode stays
    project.build(now=CLOCK + timedelta(seconds=1))
    assert "Story BBBB" in (project.out / "latest.xml").read_text()


def test_an_edit_that_puts_the_old_mtime_back_is_picked_up(project):
    """A rewrite followed by `touch -r` (or a tool restoring mtimes) keeps size, mtime and inode,
    long after the last scan: ctime, which only the kernel sets, still moves."""
    project.add("000_old.txt", seed_text("An older story"))
    path = project.add("001_k.txt", seed_text("Story AAAA"))  # mtime a day before CLOCK: never racy
    project.build()
    before = path.stat()
    with open(path, "r+b") as f:  # in place: the inode stays
        f.write(seed_text("Story BBBB").encode())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    report = project.build(now=CLOCK + timedelta(minutes=1))
    assert report.reread == 1
    entries = {e.title: e for e in feedparser.parse((project.out / "latest.atom").read_bytes()).entries}
    assert "Story BBBB" in entries and "Story AAAA" not in entries
    assert entries["Story BBBB"].updated != entries["Story BBBB"].published  # an edit, dated as one


def test_a_file_rewritten_within_the_second_of_its_last_version_gets_a_later_second(project):
    """Last-Modified (and nginx's ETag, made of it and the size) counts whole seconds: a new version
    must not share its second with the version a client may hold, or the client is told 304."""
    import time

    project.add("001_k.txt", seed_text("Story AAAA"))
    project.build()
    feed = project.out / "latest.xml"
    last = int(time.time()) + 30  # the last version's second, made later than this build's clock
    os.utime(feed, (last, last))
    project.add("001_k.txt", seed_text("Story BBBB"))
    project.build(now=CLOCK + timedelta(minutes=1))
    assert "Story BBBB" in feed.read_text()
    assert feed.stat().st_mtime_ns // 10**9 == last + 1


def test_one_and_two_workers_give_the_same_bytes(project, tmp_path):
    from feedpub import scan

    for i in range(40):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}", header="World" if i % 3 else "Flash News"))
    other = Project(tmp_path / "other")
    shutil.copytree(project.seeds, other.seeds, dirs_exist_ok=True)
    old = scan.PARALLEL_FROM
    scan.PARALLEL_FROM = 1  # use the pool even for 40 files
    try:
        build(project.settings(), now=CLOCK, workers=1)
        build(other.settings(), now=CLOCK, workers=2)
    finally:
        scan.PARALLEL_FROM = old
    assert other.files() == project.files()
    assert other.record.read_bytes() == project.record.read_bytes()


def test_readers_killed_mid_build_leave_the_rest_to_the_build_itself(project, tmp_path, monkeypatch):
    """The pool's workers die after the first chunk came back: the build reads the rest itself
    and publishes what a one-process build publishes."""
    from feedpub import scan

    for i in range(400):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}", header="World" if i % 3 else "Flash News"))
    other = Project(tmp_path / "other")
    shutil.copytree(project.seeds, other.seeds, dirs_exist_ok=True)
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "CHUNK", 5)
    build(project.settings(), now=CLOCK, workers=1)
    in_process = []
    real_skim_info = scan.skim_info
    monkeypatch.setattr(scan, "skim_info", lambda *args: in_process.append(args[0]) or real_skim_info(*args))
    killed = []

    def kill_the_workers(done: int, total: int) -> None:
        if not killed:
            for pid in child_pids():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    build(other.settings(), now=CLOCK, workers=2, progress=kill_the_workers)
    assert killed and 0 < len(in_process) < 400  # the first chunks came from a child, the rest from here
    assert other.files() == project.files()
    assert other.record.read_bytes() == project.record.read_bytes()


def test_committed_feeds_are_up_to_date_with_the_committed_seeds_and_record(tmp_path):
    clone = Project(tmp_path / "clone")
    for path in (REPO / "seeds").iterdir():
        shutil.copyfile(path, clone.seeds / path.name)
    shutil.copyfile(REPO / "feedpub-record.jsonl", clone.record)
    shutil.copyfile(REPO / "feedpub.toml", clone.config)
    clone.build()
    committed = {
        str(p.relative_to(REPO / "feeds")): p.read_bytes() for p in sorted((REPO / "feeds").rglob("*")) if p.is_file()
    }
    assert clone.files() == committed, "feeds/ is stale: run `feedpub build` and commit feeds/ and the record"
    assert clone.record.read_bytes() == (REPO / "feedpub-record.jsonl").read_bytes()


def test_summary_json_names_every_feed(project):
    project.add("001_a.txt", seed_text("A"))
    report = project.build()
    data = json.loads(json.dumps(report.as_dict()))
    assert data["entries"] == {"flash": 1, "latest": 1}
    assert data["seeds"] == 1 and data["skipped"] == []


@pytest.mark.parametrize("seed, delta", [(1, "kept"), (2, "folded"), (3, "never"), (4, "kept"), (5, "folded")])
def test_incremental_builds_equal_full_builds_through_random_changes(project, tmp_path, monkeypatch, seed, delta):
    """After every change (add, edit, delete, renumber, copy, break, re-date), the incremental build and a
    full build of the same seeds and record (cache deleted) write the same bytes, and leave the
    same cache lines; with the cache's delta kept throughout, folded into the base every few
    changes, or never used."""
    import random

    from feedpub import scan
    from feedpub.publish import cache_path_for

    monkeypatch.setattr(scan, "DELTA_MAX_SHARE", 0.0 if delta == "never" else float("inf"))
    monkeypatch.setattr(scan, "DELTA_MAX_LINES", 3 if delta == "folded" else 10_000)
    rng = random.Random(seed)
    project.config.write_text("[feeds.flash]\nlimit = 3\n[feeds.latest]\nlimit = 5\n[feeds.world]\nlimit = 2\n")
    clock = CLOCK
    names: list[str] = []
    deltas = 0  # builds after which a delta held the cache's changes
    for step in range(30):
        clock += timedelta(minutes=5)
        op = rng.choice(["add", "add", "edit", "delete", "renumber", "copy", "break", "redate"] if names else ["add"])
        if op == "add":
            name = f"{rng.randrange(1000):03d}_k{step}.txt"
            header = rng.choice(["Flash News", "World", "Business"])
            project.add(name, seed_text(f"Story {step}", header=header), mtime=clock.timestamp() - rng.randrange(3600))
            names.append(name)
        else:
            name = rng.choice(names)
            path = project.seeds / name
            if op == "edit":
                path.write_text(seed_text(f"Edited at {step}", header=rng.choice(["Flash News", "World"])))
            elif op == "delete":
                path.unlink()
                names.remove(name)
            elif op == "renumber":
                new = f"{rng.randrange(1000):03d}_{name.split('_', 1)[1]}"
                path.rename(project.seeds / new)
                names[names.index(name)] = new
            elif op == "copy":  # a corrected copy under another number: two files claim one key
                new = f"{rng.randrange(1000):03d}_{name.split('_', 1)[1]}"
                if new not in names:
                    project.add(new, seed_text(f"Copied at {step}"), mtime=clock.timestamp() - rng.randrange(3600))
                    names.append(new)
            elif op == "break":
                path.write_text("")
            elif op == "redate":
                path.write_text(f"World\n\nRe-dated {step}\n\nDate: 2025-03-0{rng.randrange(1, 9)} 10:00 UTC\n\nBody.\n")
        # The same state without the scan cache: seeds (mtimes kept), record and outputs.
        full = Project(tmp_path / f"full{seed}-{step}")
        shutil.copytree(project.seeds, full.seeds, dirs_exist_ok=True, copy_function=shutil.copy2)
        if project.record.exists():
            shutil.copyfile(project.record, full.record)
            shutil.copytree(project.out, full.out, copy_function=shutil.copy2)
        full.config.write_text(project.config.read_text())
        assert not cache_path_for(full.record).exists()
        project.build(now=clock)
        full.build(now=clock)
        assert full.files() == project.files(), f"step {step}: {op}"
        assert full.record.read_bytes() == project.record.read_bytes(), f"step {step}: {op}"
        assert cached_lines(full) == cached_lines(project), f"step {step}: {op}"
        # The header's mtime span, which lets the next scan skip a look at every mtime, holds them all.
        header, listed, _ = CacheFile.read_all(cache_path_for(project.record))
        mtimes = listed.numbers[1 :: scan.FIELDS]
        assert not mtimes or header.mtimes[0] <= min(mtimes) <= max(mtimes) <= header.mtimes[1], f"step {step}: {op}"
        deltas += scan.delta_path(cache_path_for(project.record)).exists()
    assert (deltas == 0) == (delta == "never"), deltas


@pytest.mark.parametrize("workers, renumbered", [(1, False), (2, False), (1, True), (2, True)])
def test_ids_minted_by_the_readers_equal_ids_minted_by_the_record(project, tmp_path, monkeypatch, workers, renumbered):
    """A first build mints record lines in the reader processes and chooses the entries in one pass
    (two when a renumbered copy makes two files claim a key); it must write what the record's own
    observe() and the two passes write (here forced by making the empty record look non-empty)."""
    from feedpub import scan
    from feedpub.record import Record

    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    for i in range(12):
        project.add(f"{i:03d}_k{i}.txt", seed_text(f"Story {i}", header="World" if i % 2 else "Flash News"))
    if renumbered:
        project.add("012_k3.txt", seed_text("A renumbered copy of story 3"))
    project.add("013_dated.txt", "World\n\nDated\n\nDate: 2024-05-24 10:15 UTC\n\nBody.\n")
    other = Project(tmp_path / "other")
    shutil.copytree(project.seeds, other.seeds, dirs_exist_ok=True, copy_function=shutil.copy2)
    build(project.settings(), now=CLOCK, workers=workers)
    monkeypatch.setattr(Record, "has_seeds", lambda self: True)  # no minting in the readers
    build(other.settings(), now=CLOCK, workers=workers)
    assert other.record.read_bytes() == project.record.read_bytes()
    assert other.files() == project.files()
    # The published times the feeds are chosen by; not of a file that lost its key to a renumbered
    # copy: that one is never published (the two ways leave it different numbers).
    lost = b"003_k3.txt" if renumbered else None
    assert [f for f in cached_lines(other) if f[0] != lost] == [f for f in cached_lines(project) if f[0] != lost]


def cached_lines(project: Project) -> list[list[bytes]]:
    """The cache's per-file facts, without the signature (the copies have other inodes)."""
    lines = CacheFile.read_all(cache_path_for(project.record))[2].split(b"\n")[:-1]
    return [fields[:1] + fields[2:] for fields in (line.split(b"\t") for line in lines)]


NEAR_WHOLE = st.builds(lambda s, f: s + f, st.integers(-2_000_000_000, 4_000_000_000),
                       st.sampled_from([0.0, 0.5, 0.4999995, 0.4999996, 0.9999994, 0.9999995, 0.9999996, 1e-7, 0.123456]))


@hsettings(max_examples=500, deadline=None)
@given(key=st.text(min_size=1, max_size=20), mtime=NEAR_WHOLE | st.floats(-2e9, 4e9),
       now=NEAR_WHOLE | st.floats(-2e9, 4e9), authority=st.sampled_from(["news.example.org", "xn--bcher-kva.example"]))
def test_the_readers_short_way_to_a_record_line_is_the_long_way(key, mtime, now, authority):
    line, first_seen = new_line_json(key, "text:0f", mtime, now, authority)
    long_way = new_line(key, "text:0f", mtime, now, authority)
    assert (line, first_seen) == (long_way.to_json(), long_way.first_seen.timestamp())


@hsettings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
       | st.from_regex(r"[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}Z?", fullmatch=True)
       | st.text(max_size=25))
def test_record_times_parse_as_strptime_parses_them(text):
    """parse_time skips strptime for the record's own format: same times, same errors, any text;
    and no time after the year 9000 (an edit one second later must not overflow)."""

    def strptime(text: str) -> datetime | str:
        dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return "too late" if dt.year > 9000 else dt

    def outcome(parse):
        try:
            return parse(text)
        except ValueError as e:
            return "too late" if "after the year 9000" in str(e) else str(e)

    assert outcome(parse_time) == outcome(strptime)
