"""examples/nginx.conf against a real nginx and a folder built by feedpub.

Needs the `nginx` binary (.ci/run installs Debian's); skipped with a reason without it. The
answers must match `feedpub serve`: same types, 304s, gzip, nothing hidden served.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import feedparser
import pytest

from conftest import http_get as get
from feedpub.config import load_settings
from feedpub.serve import TYPES

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (.ci/run installs it: apt-get install nginx)")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NEW_SEED = """Flash News

Reuters: Harbour at Port Vell reopens after two-day storm closure

The harbour reopened on Tuesday morning after a storm closed it for two days, the port authority said.

Ferries to the islands resume on the normal timetable on Wednesday.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def project():
    """A project folder readable by nginx's workers (`nobody` when the tests run as root)."""
    base = Path(tempfile.mkdtemp(prefix="feedpub-nginx-"))
    os.chmod(base, 0o755)
    (base / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "000_ff3a66dc08c7f601.txt", base / "seeds")
    # The worst case: the record (and its lock) inside the served folder. nginx must hide them.
    settings = load_settings(
        None,
        root=base,
        env={},
        overrides={"seeds_dir": base / "seeds", "out_dir": base / "feeds", "record_path": base / "feeds" / "feedpub-record.jsonl"},
    )
    build = pytest.importorskip("feedpub.publish", reason="feedpub.publish.build is not written yet").build
    report = build(settings)
    assert "flash.xml" in report.written
    (base / "feeds" / ".secret").write_text("dotfile\n")
    (base / "feeds" / ".feedpub-tmp-1-0-flash.xml").write_text("half written\n")
    (base / "feeds" / "feedpub-record.jsonl.lock").touch()
    (base / "outside.txt").write_text("outside the folder\n")
    os.symlink(base / "outside.txt", base / "feeds" / "out.txt")
    for path in [base, *base.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    yield base, settings, build
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx(project):
    base, _, _ = project
    prefix = base / "nginx"
    (prefix / "logs").mkdir(parents=True)
    port = free_port()
    conf = (ROOT / "examples" / "nginx.conf").read_text()
    conf = conf.replace("@ROOT@", str(base / "feeds")).replace("@PORT@", str(port))
    (prefix / "nginx.conf").write_text(conf)
    tested = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
                            capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"nginx did not start: {proc.stderr.read()}")
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("name", ["flash.xml", "latest.atom", "flash.json", "index.html", "feed.xsl", "feeds.opml"])
def test_each_kind_with_the_same_type_as_feedpub_serve(nginx, project, name):
    base = project[0]
    resp, body = get(nginx, "/" + name)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == TYPES[Path(name).suffix]
    assert body == (base / "feeds" / name).read_bytes()
    assert resp.getheader("ETag") and resp.getheader("Last-Modified")


def test_index_short_cache_and_browser_type(nginx, project):
    resp, body = get(nginx, "/")
    assert (resp.status, body) == (200, (project[0] / "feeds" / "index.html").read_bytes())
    resp, _ = get(nginx, "/flash.xml")
    assert resp.getheader("Cache-Control") == "public, max-age=300"
    assert "Accept" in resp.getheader("Vary")
    for path in ("/flash.xml", "/latest.atom"):
        resp, body = get(nginx, path, {"Accept": BROWSER})
        assert resp.getheader("Content-Type") == "application/xml; charset=utf-8"
        assert body == (project[0] / "feeds" / path[1:]).read_bytes()
        assert resp.getheader("Cache-Control") == "public, max-age=300"
    assert get(nginx, "/flash.xml", {"Accept": feedparser.http.ACCEPT_HEADER})[0].getheader("Content-Type") == TYPES[".xml"]


def test_conditional_requests_get_304(nginx):
    resp, _ = get(nginx, "/flash.xml")
    resp2, body = get(nginx, "/flash.xml", {"If-None-Match": resp.getheader("ETag")})
    assert (resp2.status, body) == (304, b"")
    resp3, _ = get(nginx, "/flash.xml", {"If-Modified-Since": resp.getheader("Last-Modified")})
    assert resp3.status == 304


def test_gzip_with_vary_and_the_same_bytes(nginx, project):
    resp, body = get(nginx, "/latest.xml", {"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in [v.strip() for h in resp.headers.get_all("Vary") for v in h.split(",")]
    assert gzip.decompress(body) == (project[0] / "feeds" / "latest.xml").read_bytes()


@pytest.mark.parametrize(
    "path",
    ["/feedpub-record.jsonl", "/feedpub-record.jsonl.lock", "/.secret", "/.feedpub-tmp-1-0-flash.xml",
     "/%2esecret", "/../outside.txt", "/%2e%2e/outside.txt", "/@browser/flash.xml"],
)
def test_record_dotfiles_and_outside_are_404(nginx, path):
    resp, body = get(nginx, path)
    assert resp.status in (400, 404), path
    assert b"outside" not in body and b"dotfile" not in body and b"key" not in body


def test_symlink_out_of_the_folder_is_refused(nginx):
    resp, body = get(nginx, "/out.txt")
    assert resp.status == 403
    assert b"outside" not in body


def test_rebuilds_keep_304_until_a_new_seed_arrives(nginx, project):
    base, settings, build = project
    first, body = get(nginx, "/flash.xml")
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    mtime = (base / "feeds" / "flash.xml").stat().st_mtime_ns

    report = build(settings)  # no seed changed
    assert report.written == []
    assert (base / "feeds" / "flash.xml").stat().st_mtime_ns == mtime
    assert get(nginx, "/flash.xml", {"If-None-Match": etag})[0].status == 304
    assert get(nginx, "/flash.xml", {"If-Modified-Since": modified})[0].status == 304

    (base / "seeds" / "001_0badc0ffee000001.txt").write_text(NEW_SEED)
    time.sleep(0.01)  # a distinct mtime even on coarse clocks
    report = build(settings)
    assert "flash.xml" in report.written
    resp, new_body = get(nginx, "/flash.xml", {"If-None-Match": etag})
    assert resp.status == 200
    assert resp.getheader("ETag") != etag
    titles = [e.title for e in feedparser.parse(new_body).entries]
    old_titles = [e.title for e in feedparser.parse(body).entries]
    assert titles == ["Harbour at Port Vell reopens after two-day storm closure", *old_titles]
