"""`feedpub serve` against a real HTTP client: types, conditional GET, gzip, traversal, slow clients."""

from __future__ import annotations

import gzip
import http.client
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
