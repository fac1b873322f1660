"""`feedpub serve` against a real HTTP client: types, conditional GET, gzip, traversal, slow clients."""

from __future__ import annotations

import builtins
import gzip
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from pathlib import Path

import feedparser
import pytest

from conftest import http_get
from feedpub.serve import accepts_gzip, make_server, prefers_html

RSS = b"""<?xml version='1.0' encoding='UTF-8'?>
<?xml-stylesheet href="feed.xsl" type="text/xsl"?>
<rss version="2.0"><channel><title>Flash news</title><link>http://localhost/</link>
<description>d</description><item><title>One</title><guid isPermaLink="false">tag:x,2025:1</guid>
<description>""" + b"long text " * 100 + b"""</description></item></channel></rss>
"""
ATOM = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:x,2025:f</id><title>Flash</title>
<updated>2025-03-01T12:00:00Z</updated></feed>
"""
FILES = {
    "flash.xml": RSS,
    "flash.atom": ATOM,
    "flash.json": b'{"version": "https://jsonfeed.org/version/1.1", "title": "Flash", "items": []}\n',
    "index.html": b"<!doctype html><title>feeds</title><p>index</p>\n",
    "feed.xsl": b'<?xml version="1.0"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n',
    "feeds.opml": b'<?xml version="1.0"?><opml version="2.0"><head/><body/></opml>\n',
    "style.css": b"body { margin: 0 }\n",
    "items/one.html": b"<!doctype html><title>one</title>\n",
    "sub/index.html": b"<!doctype html><title>sub</title>\n",
    ".hidden": b"secret dotfile\n",
    "sub/.git/config": b"secret git\n",
    "feedpub-record.jsonl": b'{"key": "secret record"}\n',
    "feedpub-record.jsonl.lock": b"123\n",
    ".feedpub-tmp-1-0-flash.xml": b"half written\n",
    "state.json": b'{"secret": "explicitly hidden"}\n',
}
TYPES = {
    "/flash.xml": "application/rss+xml; charset=utf-8",
    "/flash.atom": "application/atom+xml; charset=utf-8",
    "/flash.json": "application/feed+json",
    "/index.html": "text/html; charset=utf-8",
    "/feed.xsl": "text/xsl; charset=utf-8",
    "/feeds.opml": "text/x-opml; charset=utf-8",
    "/style.css": "text/css; charset=utf-8",
    "/items/one.html": "text/html; charset=utf-8",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
FEEDPARSER = feedparser.http.ACCEPT_HEADER if hasattr(feedparser, "http") else feedparser.ACCEPT_HEADER


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "feeds"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (tmp_path / "secret.txt").write_text("outside the folder\n")
    os.symlink(tmp_path / "secret.txt", root / "out.txt")
    os.symlink(tmp_path, root / "up")
    os.symlink("flash.xml", root / "alias.xml")
    os.symlink(".hidden", root / "sneaky.txt")
    return root


class Server:
    def __init__(self, root: Path, **options):
        self.lines: list[str] = []
        self.httpd = make_server(root, "127.0.0.1", 0, log=self.lines.append, **options)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def request(self, path, method="GET", headers=None):
        return http_get(self.port, path, headers, method)

    def raw(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(data)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(site):
    srv = Server(site, hidden=[site / "state.json"])
    yield srv
    srv.close()


@pytest.mark.parametrize("path, content_type", sorted(TYPES.items()))
def test_each_kind_has_its_type_and_its_bytes(server, site, path, content_type):
    resp, body = server.request(path)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == content_type
    assert body == (site / path[1:]).read_bytes()
    assert resp.getheader("Content-Length") == str(len(body))
    assert resp.getheader("X-Content-Type-Options") == "nosniff"


def test_root_serves_index_and_folders_redirect_to_their_slash(server):
    resp, body = server.request("/")
    assert (resp.status, body) == (200, FILES["index.html"])
    resp, body = server.request("/sub")
    assert (resp.status, resp.getheader("Location")) == (301, "/sub/")
    resp, body = server.request("/sub/")
    assert (resp.status, body) == (200, FILES["sub/index.html"])
    assert server.request("/items/")[0].status == 404  # no index, no listing


def test_etag_last_modified_and_cache_control(server, site):
    st = (site / "flash.xml").stat()
    resp, _ = server.request("/flash.xml")
    assert resp.getheader("ETag") == f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
    assert resp.getheader("Last-Modified") == formatdate(st.st_mtime, usegmt=True)
    assert resp.getheader("Cache-Control") == "public, max-age=300"
    assert server.request("/style.css")[0].getheader("Cache-Control") == "public, max-age=3600"


def test_if_none_match_gives_304_without_body(server):
    resp, _ = server.request("/flash.atom")
    etag = resp.getheader("ETag")
    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        resp, body = server.request("/flash.atom", headers={"If-None-Match": header})
        assert (resp.status, body) == (304, b""), header
        assert resp.getheader("ETag") == etag
    resp, body = server.request("/flash.atom", headers={"If-None-Match": '"other"'})
    assert (resp.status, body) == (200, ATOM)


def test_if_modified_since_gives_304_and_if_none_match_takes_precedence(server, site):
    resp, _ = server.request("/flash.json")
    modified = resp.getheader("Last-Modified")
    assert server.request("/flash.json", headers={"If-Modified-Since": modified})[0].status == 304
    older = formatdate((site / "flash.json").stat().st_mtime - 60, usegmt=True)
    assert server.request("/flash.json", headers={"If-Modified-Since": older})[0].status == 200
    assert server.request("/flash.json", headers={"If-Modified-Since": "garbage"})[0].status == 200
    both = {"If-Modified-Since": modified, "If-None-Match": '"stale"'}
    assert server.request("/flash.json", headers=both)[0].status == 200


def test_a_rewritten_file_gets_a_new_etag(server, site):
    etag = server.request("/flash.xml")[0].getheader("ETag")
    os.utime(site / "flash.xml", ns=(0, (site / "flash.xml").stat().st_mtime_ns + 1_000_000_000))
    resp, _ = server.request("/flash.xml", headers={"If-None-Match": etag})
    assert resp.status == 200 and resp.getheader("ETag") != etag


def test_gzip_when_accepted_with_vary_and_its_own_etag(server):
    plain, plain_body = server.request("/flash.xml")
    resp, body = server.request("/flash.xml", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert resp.getheader("Vary") == "Accept, Accept-Encoding"
    assert resp.getheader("ETag") == plain.getheader("ETag")[:-1] + '-gz"'
    assert resp.getheader("Content-Length") == str(len(body))
    assert len(body) < len(plain_body) / 4
    assert gzip.decompress(body) == plain_body == RSS
    assert plain.getheader("Content-Encoding") is None and plain.getheader("Vary") == "Accept, Accept-Encoding"
    again = server.request("/flash.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": resp.getheader("ETag")})
    assert again[0].status == 304
    # The identity ETag does not validate the gzip variant, and vice versa.
    assert server.request("/flash.xml", headers={"If-None-Match": resp.getheader("ETag")})[0].status == 200
    for refused in ("gzip;q=0", "identity", "br"):
        assert server.request("/flash.xml", headers={"Accept-Encoding": refused})[0].getheader("Content-Encoding") is None


def test_head_has_the_headers_and_no_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("HEAD", "/flash.xml")
    head = conn.getresponse()
    assert (head.status, head.read()) == (200, b"")
    assert head.getheader("Content-Length") == str(len(RSS))
    conn.request("GET", "/flash.atom")  # same connection: a stray body would corrupt this answer
    get = conn.getresponse()
    assert (get.status, get.read()) == (200, ATOM)
    conn.close()
    raw = server.raw(b"HEAD /flash.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.endswith(b"\r\n\r\n") and b"Content-Length: 79" in raw


def test_browsers_get_application_xml_and_readers_the_feed_type(server):
    for path in ("/flash.xml", "/flash.atom"):
        resp, body = server.request(path, headers={"Accept": BROWSER})
        assert resp.getheader("Content-Type") == "application/xml; charset=utf-8"
        assert resp.getheader("Vary") == "Accept, Accept-Encoding"
        for accept in (FEEDPARSER, "*/*", None):
            resp, _ = server.request(path, headers={"Accept": accept} if accept else {})
            assert resp.getheader("Content-Type") == TYPES[path]
    resp, _ = server.request("/flash.json", headers={"Accept": BROWSER})
    assert resp.getheader("Content-Type") == "application/feed+json"
    assert resp.getheader("Vary") == "Accept-Encoding"


def test_prefers_html():
    assert prefers_html(BROWSER) is True
    assert prefers_html("text/html") is True
    assert prefers_html(FEEDPARSER) is False
    assert prefers_html("application/rss+xml, text/html") is False
    assert prefers_html("text/html;q=0.5, application/xml") is False
    assert prefers_html("") is False


def test_accepts_gzip():
    assert [accepts_gzip(h) for h in ("gzip", "GZIP;q=0.5", "*", "br, gzip;q=0", "identity", "", "*;q=0")] == [
        True, True, True, False, False, False, False,
    ]


TRAVERSALS = {
    "/../secret.txt": 404,
    "/../../../../etc/passwd": 404,
    "/%2e%2e/secret.txt": 404,
    "/%2E%2E/secret.txt": 404,
    "/%2e%2e%2fsecret.txt": 404,
    "/..%2fsecret.txt": 404,
    "/sub/..%2f..%2fsecret.txt": 404,
    "/%252e%252e/secret.txt": 404,  # decoded once: a literal '%2e%2e' folder, which does not exist
    "/%252e%252e%252fsecret.txt": 404,
    "/..\\secret.txt": 400,
    "/%5c..%5csecret.txt": 400,
    "/%c0%ae%c0%ae/secret.txt": 400,  # overlong UTF-8 '.'
    "/flash.xml%00.html": 400,
    "/%00": 400,
    "//etc/passwd": 404,
    "/up/secret.txt": 404,  # symlinked folder leading out
    "/out.txt": 404,  # symlink to a file outside
    "http://127.0.0.1/../secret.txt": 404,
}


@pytest.mark.parametrize("path, status", sorted(TRAVERSALS.items()))
def test_nothing_outside_the_folder_in_any_encoding(server, path, status):
    resp, body = server.request(path)
    assert resp.status == status
    assert b"outside" not in body and b"root:" not in body


def test_raw_nul_and_backslash_bytes_are_refused(server):
    assert server.raw(b"GET /flash.xml\x00 HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert server.raw(b"GET \\..\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize(
    "path",
    ["/.hidden", "/%2ehidden", "/sub/.git/config", "/feedpub-record.jsonl", "/feedpub-record.jsonl.lock",
     "/.feedpub-tmp-1-0-flash.xml", "/sneaky.txt", "/state.json", "/missing.xml"],
)
def test_dotfiles_record_lock_temporaries_and_hidden_paths_are_404(server, path):
    resp, body = server.request(path)
    assert (resp.status, body) == (404, b"404 Not Found\n")
    assert server.request(path, method="HEAD")[1] == b""


def test_a_symlink_inside_the_folder_is_served(server):
    resp, body = server.request("/alias.xml")
    assert (resp.status, body) == (200, RSS)


def test_long_urls_long_headers_and_malformed_requests(server):
    assert server.request("/" + "a" * 9000)[0].status == 414
    assert server.request("/" + "a" * 8000)[0].status == 404
    assert server.request("/flash.xml", headers={"X-Big": "b" * 20000})[0].status == 431
    assert server.raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert server.raw(b"GET /\r\n\r\n").startswith(b"HTTP/1.1 400 ")  # HTTP/0.9: no headers to send
    assert server.raw(b"GET / HTTP/1.1 extra\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert server.raw(b"GET / HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
    assert server.raw(b"GET flash.xml HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert server.raw(b"POST /flash.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").startswith(b"HTTP/1.1 501 ")


def test_one_log_line_per_request(server):
    server.request("/flash.json")
    server.request("/.hidden")
    server.request("/flash.json", method="HEAD")
    server.request("/%0a%22x")
    assert server.lines == [
        '127.0.0.1 "GET /flash.json" 200 79',
        '127.0.0.1 "GET /.hidden" 404 14',
        '127.0.0.1 "HEAD /flash.json" 200 0',
        '127.0.0.1 "GET /%0a%22x" 404 14',
    ]


def test_binds_loopback_by_default(site):
    httpd = make_server(site, port=0)
    try:
        assert httpd.server_address[0] == "127.0.0.1"
    finally:
        httpd.server_close()


def test_slow_clients_hold_a_slot_but_others_are_served(site):
    srv = Server(site, max_threads=4, request_deadline=30)
    slow = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    try:
        for s in slow:
            s.sendall(b"GET /flash.xml HTTP/1.1\r\nHost: x\r\n")  # ... and never finishes
        # The client gives up after 10 s, long before the 30 s request deadline would free a slot:
        # these are answered by free slots while the slow clients still hold theirs.
        for _ in range(20):
            assert srv.request("/flash.atom")[0].status == 200
    finally:
        for s in slow:
            s.close()
        srv.close()


def test_a_client_too_slow_to_send_its_request_is_cut_off(site):
    srv = Server(site, max_threads=2, request_deadline=0.5)
    slow = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(2)]
    try:
        for s in slow:
            s.sendall(b"GET /flash.xml HTTP/1.1\r\n")
        # Both slots are taken; this request is answered only once the deadline frees one.
        assert srv.request("/flash.atom")[0].status == 200
        for s in slow:
            assert s.recv(100) == b""  # closed by the server
    finally:
        for s in slow:
            s.close()
        srv.close()


# --- the `serve` command as a process -----------------------------------------------------------


def start_command(args, cwd):
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "serve", *args], cwd=cwd, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    line = proc.stderr.readline()
    assert line.startswith("Serving "), line + proc.stderr.read()
    return proc, line.rsplit(" at ", 1)[1].split(" ")[0]


def test_feedparser_etag_and_modified_round_trip_gives_304(site, tmp_path):
    proc, base = start_command(["--dir", str(site), "--port", "0"], tmp_path)
    try:
        first = feedparser.parse(base + "flash.xml")
        assert (first.status, first.bozo, first.feed.title) == (200, 0, "Flash news")
        assert first.etag and first.modified
        second = feedparser.parse(base + "flash.xml", etag=first.etag, modified=first.modified)
        assert second.status == 304
        only_modified = feedparser.parse(base + "flash.atom", modified=feedparser.parse(base + "flash.atom").modified)
        assert only_modified.status == 304
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    log = proc.stderr.read()
    assert '"GET /flash.xml" 304 0' in log
    assert log.endswith("feedpub serve: stopped\n")


def test_serve_command_refuses_a_missing_folder_and_a_taken_port(tmp_path, site):
    from click.testing import CliRunner

    from feedpub.cli import main

    serve = main.commands["serve"]

    result = CliRunner().invoke(serve, ["--dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert f"{tmp_path}/nope: no such folder; run `feedpub build` first, or pass --dir or --watch" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve, ["--dir", str(site), "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use; try another --port" in result.output


def test_serve_watch_builds_in_the_background_and_serves_the_new_seed(tmp_path):
    seed = "Flash News\n\nReuters: {}\n\nA first paragraph that is long enough to be a paragraph of news.\n"
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "001_bbbb000000000001.txt").write_text(seed.format("Opening story"))
    proc, base = start_command(
        ["--watch", "--every", "1h", "--port", "0", "--seeds", "seeds", "--out", "feeds", "--record", "record.jsonl"],
        tmp_path,
    )
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "feeds" / "flash.xml").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        first = feedparser.parse(base + "flash.xml")
        assert [e.title for e in first.entries] == ["Opening story"]
        assert (tmp_path / "record.jsonl").is_file()  # outside the served folder (it may not be inside it)
        (tmp_path / "seeds" / "002_bbbb000000000002.txt").write_text(seed.format("Later story"))
        while time.monotonic() < deadline:
            second = feedparser.parse(base + "flash.xml", etag=first.etag)
            if second.status == 200:
                break
            time.sleep(0.1)
        assert [e.title for e in second.entries] == ["Later story", "Opening story"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    log = proc.stderr.read()
    assert "watch: " in log and " start: wrote " in log and " seeds changed: wrote " in log
    assert log.endswith("feedpub serve: stopped\n")


def test_serve_watch_refuses_a_dir_other_than_the_output(tmp_path):
    from click.testing import CliRunner

    from feedpub.cli import main

    result = CliRunner().invoke(main, ["serve", "--watch", "--dir", str(tmp_path), "--out", str(tmp_path / "feeds")])
    assert result.exit_code == 2
    assert "--watch serves the folder it builds" in result.output


def test_keep_alive_connections_serve_many_requests(server):
    # Headers and body are separate writes: without TCP_NODELAY each keep-alive response waits
    # ~40 ms for the client's delayed ACK (measured: 23 vs 1,800 requests/s). Speed is a benchmark
    # matter; here the connection must stay usable for many requests in a row.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(100):
        conn.request("GET", "/flash.xml")
        assert conn.getresponse().read() == RSS
    conn.close()


# A build renames each new file into place while the server may be reading the old one.


def gz_etag(st: os.stat_result) -> str:
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}-gz"'


def hook_open(monkeypatch, target: Path, on_open) -> None:
    """Whenever the server opens `target` (by open() or Path.read_bytes), call `on_open` with the
    file just opened, before a byte is read or its size and date looked at; the server gets the
    file object `on_open` returns."""
    real_open, target = io.open, os.path.realpath(target)

    def hooked(file, *args, **kwargs):
        f = real_open(file, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) == target:
            return on_open(f)
        return f

    monkeypatch.setattr(io, "open", hooked)
    monkeypatch.setattr(builtins, "open", hooked)


class RewrittenOnRead:
    """An open file that `rewrite` changes in place just before each of its first `times` reads."""

    def __init__(self, f, rewrite, times: int):
        self.f, self.rewrite, self.times = f, rewrite, times

    def read(self, *args):
        if self.times:
            self.times -= 1
            self.rewrite()
        return self.f.read(*args)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def rewriter(target: Path, make_bytes):
    """Rewrite `target` in place (same inode, as `cp` or an editor would) one second newer."""

    def rewrite():
        fd = os.open(target, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, make_bytes())
        os.close(fd)
        os.utime(target, ns=(0, target.stat().st_mtime_ns + 1_000_000_000))

    return rewrite


def test_a_file_renamed_into_place_during_a_request_is_answered_as_one_version(server, site, monkeypatch):
    target = site / "flash.xml"
    new = RSS.replace(b"<title>One</title>", b"<title>Two, a longer title</title>")
    old_st = target.stat()
    builds = []

    def build_once(opened):  # as publish.py writes: a temporary file in the same folder, renamed over
        if not builds:
            builds.append(True)
            tmp = site / ".feedpub-tmp-2-0-flash.xml"
            tmp.write_bytes(new)
            os.utime(tmp, ns=(0, old_st.st_mtime_ns + 1_000_000_000))
            os.replace(tmp, target)
        return opened

    hook_open(monkeypatch, target, build_once)
    answers = []
    for _ in range(2):
        resp, body = server.request("/flash.xml", headers={"Accept-Encoding": "gzip"})
        answers.append((resp.getheader("ETag"), resp.getheader("Last-Modified"), gzip.decompress(body)))
    # The request that opened the old file answers with the old bytes and the old validators; the
    # gzip cache did not keep those bytes under the new version's key, so the next one gets news.
    new_st = target.stat()
    assert answers == [
        (gz_etag(old_st), formatdate(old_st.st_mtime, usegmt=True), RSS),
        (gz_etag(new_st), formatdate(new_st.st_mtime, usegmt=True), new),
    ]
    resp, body = server.request("/flash.xml")
    assert (resp.getheader("ETag"), body) == (gz_etag(new_st).replace("-gz", ""), new)


def test_a_file_rewritten_in_place_while_read_is_read_again(server, site, monkeypatch):
    # feedpub never writes in place, but `cp` or an editor might: the stat no longer matches the
    # one taken before the read, so the file is read again rather than bytes and ETag mismatched.
    target = site / "flash.atom"
    new = ATOM.replace(b"<title>Flash</title>", b"<title>Flash, rewritten</title>")
    hook_open(monkeypatch, target, lambda f: RewrittenOnRead(f, rewriter(target, lambda: new), times=1))
    resp, body = server.request("/flash.atom", headers={"Accept-Encoding": "gzip"})
    assert (resp.status, resp.getheader("ETag"), gzip.decompress(body)) == (200, gz_etag(target.stat()), new)


def test_a_file_that_never_holds_still_is_503_not_a_mismatched_version(server, site, monkeypatch):
    target = site / "flash.json"
    count = iter(range(1, 100))
    churn = rewriter(target, lambda: b'{"version": %d}' % next(count))
    hook_open(monkeypatch, target, lambda f: RewrittenOnRead(f, churn, times=100))
    resp, body = server.request("/flash.json", headers={"Accept-Encoding": "gzip"})
    assert (resp.status, body, resp.getheader("ETag")) == (503, b"503 Service Unavailable\n", None)
    assert server.lines[-1].endswith('"GET /flash.json" 503 24')


def test_if_modified_since_in_asctime_form_is_gmt_whatever_the_local_zone(server, site):
    # RFC 9110 has servers accept asctime dates, which carry no zone; they are GMT all the same.
    # Read as local time on a server west of Greenwich they would turn a newer file into a 304.
    target = site / "flash.json"
    os.utime(target, (784115377, 784115377))  # Sun, 06 Nov 1994 09:49:37 GMT
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"  # POSIX form: no zone database needed
    time.tzset()
    try:
        def status(since):
            return server.request("/flash.json", headers={"If-Modified-Since": since})[0].status

        assert status("Sun Nov  6 08:49:37 1994") == 200  # an hour before the file changed
        assert status("Sun Nov  6 09:49:37 1994") == 304
        assert status("Sunday, 06-Nov-94 08:49:37 GMT") == 200
        assert status("Sunday, 06-Nov-94 09:49:37 GMT") == 304
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_if_none_match_wins_over_if_modified_since_both_ways(server, site):
    resp, _ = server.request("/flash.xml")
    etag, modified = resp.getheader("ETag"), resp.getheader("Last-Modified")
    older = formatdate((site / "flash.xml").stat().st_mtime - 3600, usegmt=True)
    assert server.request("/flash.xml", headers={"If-None-Match": etag, "If-Modified-Since": older})[0].status == 304
    assert server.request("/flash.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})[0].status == 200


# Errors before serving: one line naming the option at fault, exit 2.


def test_check_folder_names_the_folder_the_problem_and_the_option(tmp_path, site, monkeypatch):
    from feedpub.serve import ServeError, check_folder

    def problem(directory):
        with pytest.raises(ServeError) as caught:
            check_folder(directory)
        return str(caught.value)

    check_folder(site)
    assert problem(tmp_path / "nope") == f"{tmp_path}/nope: no such folder; run `feedpub build` first, or pass --dir or --watch"
    assert problem(site / "flash.xml") == f"{site}/flash.xml: not a folder; pass --dir the folder to serve, e.g. --dir feeds"
    assert problem(site / "flash.xml" / "x") == f"{site}/flash.xml/x: cannot open the folder: Not a directory; check --dir"
    # root may enter any folder, so a mode of 000 cannot show this in a test run as root
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == site else real_access(p, mode, **kw))
    assert problem(site) == f"{site}: cannot open the folder: Permission denied; check --dir"


def test_listen_problem_blames_the_host_or_the_port(site):
    from feedpub.serve import listen_problem

    def problem(host, port):
        with pytest.raises(OSError) as caught:
            make_server(site, host, port)
        return listen_problem(host, port, caught.value)

    unknown = problem("nosuchhost.invalid", 8000)  # .invalid never resolves (RFC 6761)
    assert unknown.startswith("cannot listen on nosuchhost.invalid:8000: cannot resolve the host (")
    assert unknown.endswith("); check --host, e.g. --host 127.0.0.1")
    assert problem("192.0.2.1", 8000) == (  # TEST-NET-1: no machine's own address
        "cannot listen on 192.0.2.1:8000: not an address of this machine (Cannot assign requested address); "
        "check --host, e.g. --host 127.0.0.1"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert problem("127.0.0.1", port) == f"cannot listen on 127.0.0.1:{port}: Address already in use; try another --port"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--host", ""], "Error: --host: empty; give 127.0.0.1 for this machine only, or 0.0.0.0 for every interface\n"),
        (["--host", "é" * 64], "Error: --host: '" + "é" * 64 + "' is not a host name or address\n"),
    ],
)
def test_serve_command_refuses_an_empty_or_unencodable_host_in_one_line(site, args, message):
    from click.testing import CliRunner

    from feedpub.cli import main

    result = CliRunner().invoke(main, ["serve", "--dir", str(site), "--port", "0", *args])
    assert (result.exit_code, result.output) == (2, message)


def test_serve_watch_with_another_dir_is_one_line(tmp_path):
    from click.testing import CliRunner

    from feedpub.cli import main

    (tmp_path / "seeds").mkdir()
    result = CliRunner().invoke(main, ["serve", "--watch", "--dir", str(tmp_path / "seeds"), "--seeds", str(tmp_path / "seeds"),
                                       "--out", str(tmp_path / "feeds"), "--record", str(tmp_path / "r.jsonl"), "--port", "0"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: --dir: --watch serves the folder it builds")


STOP_WHILE_WAITING = """
import os, signal, sys, threading, time
from feedpub.cli_run import stop_on_signals
from feedpub.serve import make_server, run_server
real_wait = threading.Condition.wait
stop = threading.Event()
def wait(self, timeout=None):  # a signal landing while the main thread waits on `stop` (its lock held)
    if self is stop._cond and threading.current_thread() is threading.main_thread():
        os.kill(os.getpid(), signal.SIGTERM)
    return real_wait(self, timeout)
threading.Condition.wait = wait
timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))  # if it never waits so
with stop_on_signals(stop):
    timer.start()
    run_server(make_server(sys.argv[1], "127.0.0.1", 0), stop_event=stop)
    timer.cancel()
print("stopped")
"""


def test_a_stop_signal_never_deadlocks_the_server_in_its_own_wait(site):
    """The SIGINT/SIGTERM handler sets the stop event in the main thread; had that thread been
    inside the event's wait, holding its lock, it would wait for itself for ever."""
    try:
        done = subprocess.run([sys.executable, "-c", STOP_WHILE_WAITING, str(site)], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the server never stopped: the handler deadlocked on the stop event's lock")
    assert (done.returncode, done.stdout) == (0, "stopped\n"), done.stderr


def test_serve_command_blames_the_host_in_one_line(site):
    from click.testing import CliRunner

    from feedpub.cli import main

    result = CliRunner().invoke(main, ["serve", "--dir", str(site), "--host", "nosuchhost.invalid", "--port", "0"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot listen on nosuchhost.invalid:0: cannot resolve the host (")
    assert result.output.endswith("); check --host, e.g. --host 127.0.0.1\n") and result.output.count("\n") == 1


def test_serve_command_refuses_a_file_or_an_unopenable_dir_in_one_line(site, monkeypatch):
    from click.testing import CliRunner

    import feedpub.serve
    from feedpub.cli import main

    def never(*args, **kwargs):
        raise AssertionError("the server started")

    monkeypatch.setattr(feedpub.serve, "run_server", never)
    result = CliRunner().invoke(main, ["serve", "--dir", str(site / "flash.xml"), "--port", "0"])
    assert (result.exit_code, result.output) == (
        2,
        f"Error: {site}/flash.xml: not a folder; pass --dir the folder to serve, e.g. --dir feeds\n",
    )
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == site else real_access(p, mode, **kw))
    result = CliRunner().invoke(main, ["serve", "--dir", str(site), "--port", "0"])
    assert (result.exit_code, result.output) == (2, f"Error: {site}: cannot open the folder: Permission denied; check --dir\n")
