"""feedpub check: each rule fires on a file broken in exactly that way, with the right line; clean
output passes; the command prints one line per problem and exits 0 or 1."""

from __future__ import annotations

import errno
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub import feeds as feed_writer
from feedpub.check import Problem, check_files
from feedpub.cli_check import check
from feedpub.jsonfeed import render_json_feed
from fixtures_entries import build_site, feeds_of, make_settings, sample_entries

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>Flash news</title>
<link>https://news.example.org/</link>
<description>Flash.</description>
<atom:link href="https://news.example.org/flash.xml" rel="self" type="application/rss+xml"/>
<lastBuildDate>Fri, 17 Jan 2025 06:45:00 +0000</lastBuildDate>
<item>
<title>First</title>
<link>https://news.example.org/items/a.html</link>
<guid isPermaLink="false">tag:news.example.org,2025:a</guid>
<pubDate>Fri, 17 Jan 2025 06:45:00 +0000</pubDate>
<description>Summary.</description>
<content:encoded>&lt;p&gt;Body &lt;a href="https://example.org/x"&gt;link&lt;/a&gt;&lt;/p&gt;</content:encoded>
</item>
<item>
<title>Second</title>
<link>https://news.example.org/items/b.html</link>
<guid isPermaLink="false">tag:news.example.org,2025:b</guid>
<pubDate>Thu, 16 Jan 2025 23:00:00 GMT</pubDate>
<description>Summary two.</description>
</item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>tag:news.example.org,2025:flash</id>
<title>Flash news</title>
<updated>2025-01-17T06:45:00+00:00</updated>
<author><name>Example news</name></author>
<link href="https://news.example.org/flash.atom" rel="self"/>
<link href="https://news.example.org/" rel="alternate"/>
<entry>
<id>tag:news.example.org,2025:a</id>
<title>First</title>
<updated>2025-01-17T06:45:00+00:00</updated>
<link href="https://news.example.org/items/a.html" rel="alternate"/>
<content type="html">&lt;p&gt;Body&lt;/p&gt;</content>
</entry>
<entry>
<id>tag:news.example.org,2025:b</id>
<title type="text">Second</title>
<updated>2025-01-16T23:00:00Z</updated>
<published>2025-01-16T22:00:00.5Z</published>
<content type="text">Plain body</content>
</entry>
</feed>
"""

JSON = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Flash news",
    "home_page_url": "https://news.example.org/",
    "feed_url": "https://news.example.org/flash.json",
    "items": [
        {
            "id": "tag:news.example.org,2025:a",
            "url": "https://news.example.org/items/a.html",
            "title": "First",
            "content_html": '<p>Body <img src="https://example.org/i.png" alt=""></p>',
            "date_published": "2025-01-17T06:45:00+00:00",
            "authors": [{"name": "Reuters"}],
        },
        {"id": "tag:news.example.org,2025:b", "content_text": "Plain", "date_modified": "2025-01-16T23:00:00Z"},
    ],
}


@pytest.fixture
def settings(tmp_path):
    return make_settings(out_dir=tmp_path)


def run(settings, name: str, text: str | bytes) -> list[str]:
    path = settings.out_dir / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return [str(p) for p in check_files([path], settings)]


def test_clean_hand_written_files_pass(settings):
    assert run(settings, "flash.xml", RSS) == []
    assert run(settings, "flash.atom", ATOM) == []
    assert run(settings, "flash.json", json.dumps(JSON)) == []


RSS_CASES = {
    "well-formed": ("<title>First</title>", "<title>First</tilte>", ["10: not well-formed XML: Opening and ending tag mismatch: title line 10 and tilte, line 10, column 21"]),
    "rss version": ('version="2.0"', 'version="0.91"', ['2: <rss version="0.91">: feedpub check knows RSS 2.0 only']),
    "channel description": ("<description>Flash.</description>\n", "", ["3: channel has no <description>, which RSS 2.0 requires"]),
    "rfc 822": (
        "<pubDate>Fri, 17 Jan 2025 06:45:00 +0000</pubDate>",
        "<pubDate>2025-01-17T06:45:00Z</pubDate>",
        ["13: tag:news.example.org,2025:a: <pubDate> '2025-01-17T06:45:00Z' is not an RFC 822 date such as 'Fri, 17 Jan 2025 06:45:00 +0000'"],
    ),
    "day of week": (
        "<lastBuildDate>Fri,",
        "<lastBuildDate>Sat,",
        ["8: <lastBuildDate> 'Sat, 17 Jan 2025 06:45:00 +0000': 17 Jan 2025 is a Fri, not a Sat"],
    ),
    "relative link": (
        "<link>https://news.example.org/items/b.html</link>",
        "<link>/items/b.html</link>",
        ["19: tag:news.example.org,2025:b: <link> '/items/b.html' is a relative URL; readers need absolute ones (set base_url)"],
    ),
    "relative url in content": (
        'href="https://example.org/x"',
        'href="x/page.html"',
        ["15: tag:news.example.org,2025:a: content:encoded: <a href='x/page.html'> is a relative URL; make it absolute"],
    ),
    "self link missing": (
        '<atom:link href="https://news.example.org/flash.xml" rel="self" type="application/rss+xml"/>\n',
        "",
        ['3: no atom:link rel="self"; add one with the feed\'s public URL https://news.example.org/flash.xml'],
    ),
    "self link elsewhere": (
        'href="https://news.example.org/flash.xml"',
        'href="http://localhost:8000/flash.xml"',
        [
            "7: atom:link rel=\"self\" is 'http://localhost:8000/flash.xml', but the feed's public URL is "
            "'https://news.example.org/flash.xml' (check base_url)"
        ],
    ),
    "duplicate guid": (
        "2025:b</guid>",
        "2025:a</guid>",
        ["20: tag:news.example.org,2025:a: duplicate guid (also item 1); ids must be unique within a feed"],
    ),
    "guid permalink": (
        '<guid isPermaLink="false">tag:news.example.org,2025:b</guid>',
        "<guid>b-17</guid>",
        ['20: b-17: guid is not a URL: mark it isPermaLink="false"'],
    ),
    "html in title": (
        "<title>Second</title>",
        "<title>Second &lt;b&gt;bold&lt;/b&gt;</title>",
        ["18: tag:news.example.org,2025:b: warning: title contains HTML markup (<b>); titles must be plain text"],
    ),
    "author e-mail": (
        "<description>Summary two.</description>",
        "<description>Summary two.</description><author>Reuters</author>",
        ["22: tag:news.example.org,2025:b: <author> 'Reuters' must be an e-mail address; credit a name with dc:creator"],
    ),
    # Either of title and description may go; both may not.
    "item title or description": (
        "<title>Second</title>\n<link>https://news.example.org/items/b.html</link>\n"
        '<guid isPermaLink="false">tag:news.example.org,2025:b</guid>\n'
        "<pubDate>Thu, 16 Jan 2025 23:00:00 GMT</pubDate>\n<description>Summary two.</description>\n",
        "",
        ["17: item 2: item has neither <title> nor <description>"],
    ),
    "not a feed": ("<rss", "<html", ["2: <html> is not an RSS 2.0 <rss> or Atom 1.0 <feed>"]),
    # urlsplit raises ValueError on an unclosed IPv6 bracket: a finding, not a traceback.
    "invalid url": (
        "<link>https://news.example.org/</link>",
        "<link>http://[x</link>",
        ["5: channel <link> 'http://[x' is not a valid URL: Invalid IPv6 URL"],
    ),
    "invalid url in content": (
        'href="https://example.org/x"',
        'href="http://[x"',
        ["15: tag:news.example.org,2025:a: content:encoded: <a href='http://[x'> is not a valid URL: Invalid IPv6 URL"],
    ),
    "invalid guid url": (
        '<guid isPermaLink="false">tag:news.example.org,2025:b</guid>',
        "<guid>http://[x</guid>",
        ["20: http://[x: guid 'http://[x' is not a valid URL: Invalid IPv6 URL"],
    ),
}


@pytest.mark.parametrize("case", RSS_CASES)
def test_each_rss_rule_fires_on_its_line(settings, case):
    old, new, expected = RSS_CASES[case]
    assert old in RSS
    broken = RSS.replace(old, new, 1)
    if case == "not a feed":
        broken = broken.replace("</rss>", "</html>")
    assert run(settings, "flash.xml", broken) == [f"{settings.out_dir / 'flash.xml'}:{line}" for line in expected]


ATOM_CASES = {
    "feed id": ("<id>tag:news.example.org,2025:flash</id>\n", "", ["2: feed has no <id>, which Atom requires"]),
    "entry updated": (
        "<updated>2025-01-16T23:00:00Z</updated>\n",
        "",
        ["16: tag:news.example.org,2025:b: entry has no <updated>, which Atom requires"],
    ),
    "rfc 3339": (
        "<updated>2025-01-17T06:45:00+00:00</updated>\n<author>",
        "<updated>Fri, 17 Jan 2025 06:45:00 +0000</updated>\n<author>",
        ["5: <updated> 'Fri, 17 Jan 2025 06:45:00 +0000' is not an RFC 3339 date such as '2025-01-17T06:45:00Z'"],
    ),
    "rfc 3339 impossible date": (
        "22:00:00.5Z",
        "25:00:00.5Z",
        ["20: tag:news.example.org,2025:b: <published> '2025-01-16T25:00:00.5Z' is not an RFC 3339 date such as '2025-01-17T06:45:00Z'"],
    ),
    "author": (
        "<author><name>Example news</name></author>\n",
        "",
        [
            "8: tag:news.example.org,2025:a: entry has no <author> and the feed has none either",
            "15: tag:news.example.org,2025:b: entry has no <author> and the feed has none either",
        ],
    ),
    "self link": (
        '<link href="https://news.example.org/flash.atom" rel="self"/>\n',
        "",
        ['2: no atom:link rel="self"; add one with the feed\'s public URL https://news.example.org/flash.atom'],
    ),
    "duplicate id": (
        "2025:b</id>",
        "2025:a</id>",
        ["17: tag:news.example.org,2025:a: duplicate id (also item 1); ids must be unique within a feed"],
    ),
    "id is an IRI": (
        "<id>tag:news.example.org,2025:b</id>",
        "<id>b</id>",
        ["17: b: id 'b' is not an absolute IRI (use a tag: or http URI)"],
    ),
    "CDATA type": (
        '<content type="html">',
        '<content type="CDATA">',
        ['14: tag:news.example.org,2025:a: <content type="CDATA"> is not text, html, xhtml or a media type'],
    ),
    "relative src in content": (
        "&lt;p&gt;Body&lt;/p&gt;",
        "&lt;img src=&quot;/i.png&quot;&gt;",
        ["14: tag:news.example.org,2025:a: content: <img src='/i.png'> is a relative URL; make it absolute"],
    ),
    "relative link": (
        'href="https://news.example.org/items/a.html"',
        'href="items/a.html"',
        ["13: tag:news.example.org,2025:a: <link href> 'items/a.html' is a relative URL; readers need absolute ones (set base_url)"],
    ),
    "html title": (
        "<title>First</title>",
        '<title type="html">&lt;em&gt;First&lt;/em&gt;</title>',
        ["11: tag:news.example.org,2025:a: warning: title contains HTML markup (<em>); titles must be plain text"],
    ),
    "content or alternate link": (
        '<content type="text">Plain body</content>\n',
        "",
        ['16: tag:news.example.org,2025:b: entry has neither <content> nor a <link rel="alternate">'],
    ),
    "invalid link": (
        '<link href="https://news.example.org/" rel="alternate"/>',
        '<link href="http://[::1"/>',
        ["8: <link href> 'http://[::1' is not a valid URL: Invalid IPv6 URL"],
    ),
    # The other ValueError urlsplit raises: a host that NFKC folds into "#" (U+FF03).
    "invalid id": (
        "<id>tag:news.example.org,2025:b</id>",
        "<id>http://exa\uff03mple/b</id>",
        [
            "17: http://exa\uff03mple/b: id 'http://exa\uff03mple/b' is not a valid URL: "
            "netloc 'exa\uff03mple' contains invalid characters under NFKC normalization"
        ],
    ),
}


@pytest.mark.parametrize("case", ATOM_CASES)
def test_each_atom_rule_fires_on_its_line(settings, case):
    old, new, expected = ATOM_CASES[case]
    assert old in ATOM
    problems = run(settings, "flash.atom", ATOM.replace(old, new, 1))
    assert problems == [f"{settings.out_dir / 'flash.atom'}:{line}" for line in expected]


def _json_case(change):
    feed = json.loads(json.dumps(JSON))
    change(feed)
    return json.dumps(feed, indent=1)


JSON_CASES = {
    "version": (lambda f: f.pop("version"), ['no "version"; JSON Feed 1.1 requires "https://jsonfeed.org/version/1.1"']),
    "version url": (lambda f: f.update(version="1.1"), ["\"version\" '1.1' is not a JSON Feed version URL"]),
    "title": (lambda f: f.pop("title"), ['no "title", which JSON Feed requires']),
    "items": (lambda f: f.pop("items"), ['no "items" list, which JSON Feed requires']),
    "item id": (lambda f: f["items"][1].pop("id"), ['item 2: item has no "id"']),
    "item id string": (lambda f: f["items"][1].update(id=2), ["item 2: \"id\" 2 must be a string"]),
    "content": (
        lambda f: f["items"][1].pop("content_text"),
        ['tag:news.example.org,2025:b: item has neither "content_html" nor "content_text"'],
    ),
    "rfc 3339": (
        lambda f: f["items"][0].update(date_published="17/01/2025"),
        ["tag:news.example.org,2025:a: \"date_published\" '17/01/2025' is not an RFC 3339 date such as '2025-01-17T06:45:00Z'"],
    ),
    "relative url": (
        lambda f: f["items"][0].update(url="items/a.html"),
        ["tag:news.example.org,2025:a: \"url\" 'items/a.html' is a relative URL; readers need absolute ones (set base_url)"],
    ),
    "relative src in content": (
        lambda f: f["items"][0].update(content_html='<p><img src="i.png"></p>'),
        ["tag:news.example.org,2025:a: content_html: <img src='i.png'> is a relative URL; make it absolute"],
    ),
    "feed_url": (
        lambda f: f.update(feed_url="https://elsewhere.example/flash.json"),
        [
            "\"feed_url\" is 'https://elsewhere.example/flash.json', but the feed's public URL is "
            "'https://news.example.org/flash.json' (check base_url)"
        ],
    ),
    "duplicate id": (
        lambda f: f["items"][1].update(id="tag:news.example.org,2025:a"),
        ["tag:news.example.org,2025:a: duplicate id (also item 1); ids must be unique within a feed"],
    ),
    "html in title": (
        lambda f: f["items"][0].update(title="<script>alert(1)</script>"),
        ["tag:news.example.org,2025:a: warning: title contains HTML markup (<script>); titles must be plain text"],
    ),
    "authors": (
        lambda f: f["items"][0].update(authors="Reuters"),
        ['tag:news.example.org,2025:a: "authors" must be a list of objects with a "name", "url" or "avatar"'],
    ),
    "invalid url": (
        lambda f: f.update(home_page_url="http://[x"),
        ["\"home_page_url\" 'http://[x' is not a valid URL: Invalid IPv6 URL"],
    ),
    "invalid url in content": (
        lambda f: f["items"][0].update(content_html='<p><img src="http://[x"></p>'),
        ["tag:news.example.org,2025:a: content_html: <img src='http://[x'> is not a valid URL: Invalid IPv6 URL"],
    ),
}


@pytest.mark.parametrize("case", JSON_CASES)
def test_each_json_feed_rule_fires(settings, case):
    change, expected = JSON_CASES[case]
    assert run(settings, "flash.json", _json_case(change)) == [f"{settings.out_dir / 'flash.json'}: {m}" for m in expected]


def test_invalid_json_names_its_line(settings):
    assert run(settings, "flash.json", '{\n"version": "x",\n"title": \n}') == [
        f"{settings.out_dir / 'flash.json'}:4: not valid JSON: Expecting value"
    ]


# ---- input that used to end in a traceback: each is a finding for its file, and the next file
# is still checked -------------------------------------------------------------------------------


def check_with_a_clean_file(settings, name: str, data: bytes) -> list[str]:
    """Findings for `name` followed by a clean feed: proves the odd file did not stop the run."""
    (settings.out_dir / name).write_bytes(data)
    (settings.out_dir / "flash.json").write_text(json.dumps(JSON), encoding="utf-8")
    paths = [settings.out_dir / name, settings.out_dir / "flash.json"]
    return [str(p) for p in check_files(paths, settings)]


def test_deeply_nested_json_is_a_finding(settings):
    # json.loads recurses once per level: RecursionError long before 200,000.
    deep = b"[" * 200_000 + b"]" * 200_000
    assert check_with_a_clean_file(settings, "deep.json", deep) == [
        f"{settings.out_dir / 'deep.json'}: could not check: arrays or objects nested too deeply to read"
    ]


@pytest.mark.skipif(sys.get_int_max_str_digits() == 0, reason="no limit on integer digits")
def test_number_too_long_for_python_is_a_finding(settings):
    # json.loads raises a plain ValueError, not JSONDecodeError, past the interpreter's digit limit.
    limit = sys.get_int_max_str_digits()
    data = ('{"version": ' + "1" * (limit + 1) + "}").encode()
    assert check_with_a_clean_file(settings, "huge.json", data) == [
        f"{settings.out_dir / 'huge.json'}: could not check: a number has more than {limit} digits, too long to read"
    ]


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="POSIX symlinks")
def test_symlink_loop_is_a_finding(settings):
    # Path.resolve() raises RuntimeError on a loop (Python < 3.13) before the file is even read.
    loop = settings.out_dir / "loop.xml"
    loop.symlink_to(loop.name)
    clean = settings.out_dir / "flash.json"
    clean.write_text(json.dumps(JSON), encoding="utf-8")
    assert [str(p) for p in check_files([loop, clean], settings)] == [f"{loop}: cannot read: {os.strerror(errno.ELOOP)}"]


def test_unexpected_exception_is_reported_for_its_file_only(settings, monkeypatch):
    # The last resort: findings made before the failure stay, the next file is still checked.
    def broken(rss, report):
        report.warning(None, "found first")
        raise KeyError("surprise")

    monkeypatch.setattr("feedpub.check._check_rss", broken)
    name = settings.out_dir / "odd.xml"
    assert check_with_a_clean_file(settings, "odd.xml", RSS.encode()) == [
        f"{name}: warning: found first",
        f"{name}: could not check: KeyError: 'surprise'",
    ]


def test_size_warning_past_one_megabyte(settings):
    padded = RSS.replace("</channel>", "<!--" + "x" * (1024 * 1024) + "-->\n</channel>")
    assert run(settings, "flash.xml", padded) == [
        f"{settings.out_dir / 'flash.xml'}: warning: 1.0 MB: many readers refuse feeds past 1 MB; lower the feed's limit"
    ]


def test_problem_is_one_line_with_its_parts():
    assert str(Problem("feeds/a.xml", None, "error", "m")) == "feeds/a.xml: m"
    assert str(Problem("feeds/a.xml", 3, "warning", "m", 12)) == "feeds/a.xml:12: item 3: warning: m"
    assert str(Problem("feeds/a.xml", "tag:x", "error", "m", 12)) == "feeds/a.xml:12: tag:x: m"


# ---- what feedpub itself writes ------------------------------------------------------------


def test_generated_feeds_pass(settings):
    clean = [e for e in sample_entries(settings) if e.key != "hostile01"]
    paths = []
    for spec, chosen in feeds_of(settings, clean):
        feed_id = f"tag:news.example.org,2025:{spec.name}"
        for name, data in (
            (f"{spec.name}.xml", feed_writer.render_rss(spec, chosen, settings, feed_id)),
            (f"{spec.name}.atom", feed_writer.render_atom(spec, chosen, settings, feed_id)),
            (f"{spec.name}.json", render_json_feed(spec, chosen, settings)),
        ):
            (settings.out_dir / name).write_bytes(data)
            paths.append(settings.out_dir / name)
    assert check_files(paths, settings) == []


def test_generated_feeds_checked_under_another_base_url_fail_on_the_self_link(settings):
    clean = [e for e in sample_entries(settings) if e.key != "hostile01"]
    spec, chosen = feeds_of(settings, clean)[0]
    (settings.out_dir / "flash.json").write_bytes(render_json_feed(spec, chosen, settings))
    other = replace(settings, base_url="https://mirror.example.net/")
    assert [p.message for p in check_files([settings.out_dir / "flash.json"], other)] == [
        "\"feed_url\" is 'https://news.example.org/flash.json', but the feed's public URL is "
        "'https://mirror.example.net/flash.json' (check base_url)"
    ]


# ---- the command -----------------------------------------------------------------------------


def test_command_on_a_built_site(tmp_path, monkeypatch):
    build_site(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)
    result = CliRunner().invoke(check, ["--out", "feeds", "--base-url", "https://news.example.org/"])
    # The only finding is the hostile seed's headline, which is markup-looking text.
    files = ["flash.atom", "flash.json", "flash.xml", "latest.atom", "latest.json", "latest.xml"]
    hostile = "warning: title contains HTML markup (<title>); titles must be plain text"
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert sorted(line.split(":")[0] for line in lines) == [f"feeds/{name}" for name in files]
    assert all(line.endswith(hostile) and "hostile" not in line.split(": ")[0] for line in lines)
    assert result.stderr == "6 files checked: 0 errors, 6 warnings\n"
    assert result.exit_code == 1


def test_command_exit_0_when_clean_and_1_on_problems(settings, monkeypatch):
    monkeypatch.chdir(settings.out_dir)
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)
    Path("flash.xml").write_text(RSS, encoding="utf-8")
    Path("flash.json").write_text(json.dumps(JSON), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(check, ["flash.xml", "flash.json", "--out", ".", "--base-url", "https://news.example.org/"])
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "", "2 files checked: 0 errors, 0 warnings\n")
    bad = runner.invoke(check, ["flash.xml", "--out", ".", "--base-url", "https://news.example.org/sub/"])
    assert bad.exit_code == 1
    assert bad.stdout == (
        "flash.xml:7: atom:link rel=\"self\" is 'https://news.example.org/flash.xml', but the feed's public URL is "
        "'https://news.example.org/sub/flash.xml' (check base_url)\n"
    )


def test_command_prints_surrogates_and_control_characters_as_escapes(settings, monkeypatch):
    # JSON allows a lone surrogate and ESC in an id; printed raw, the first ends in
    # UnicodeEncodeError and the second drives the terminal.
    monkeypatch.chdir(settings.out_dir)
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)
    feed = json.loads(json.dumps(JSON))
    feed["items"][1]["id"] = "\ud800\x1b[2Jb"
    del feed["items"][1]["content_text"]
    Path("flash.json").write_text(json.dumps(feed), encoding="utf-8")
    result = CliRunner().invoke(check, ["flash.json", "--out", ".", "--base-url", "https://news.example.org/"])
    assert isinstance(result.exception, SystemExit)  # its own exit 1, not a UnicodeEncodeError
    assert result.stdout == 'flash.json: \\ud800\\x1b[2Jb: item has neither "content_html" nor "content_text"\n'
    assert result.exit_code == 1


def test_command_usage_errors_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)
    runner = CliRunner()
    empty = runner.invoke(check, ["--out", "."])
    assert empty.exit_code == 2
    assert "Error: .: no feed files to check; run `feedpub build` or name the files" in empty.stderr
    bad_url = runner.invoke(check, ["--out", ".", "--base-url", "ftp://x"])
    assert bad_url.exit_code == 2
    assert "--base-url: 'ftp://x' is not an absolute http(s) URL" in bad_url.stderr
