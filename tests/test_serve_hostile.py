"""`feedpub serve` under hostile requests, sent byte for byte over raw sockets.

Traversal in every encoding, absolute paths and absolute-form URIs, NUL bytes, overlong UTF-8,
very long URLs and headers, malformed request lines, and slow clients holding connections: each
gets its exact error status (400, 404, 414, 431, 501, 505), nothing outside the folder (nor a
dotfile, nor the record) ever leaks, and the server keeps answering a normal request at once.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from feedpub.serve import make_server

SECRET = b"TOP-SECRET-OUTSIDE-THE-FOLDER"
FEED = b"<?xml version='1.0' encoding='UTF-8'?>\n<rss version=\"2.0\"><channel><title>t</title></channel></rss>\n"


@pytest.fixture()
def server(tmp_path):
    """A running server for tmp/site/feeds with secrets around it; yields (port, log lines)."""
    site = tmp_path / "site"
    out = site / "feeds"
    (out / "items").mkdir(parents=True)
    (out / "latest.xml").write_bytes(FEED)
    (out / "index.html").write_bytes(b"<!doctype html><title>index</title>\n")
    (out / "items" / "a.html").write_bytes(b"<!doctype html><title>a</title>\n")
    (out / ".secret").write_bytes(SECRET)
    (out / "feedpub-record.jsonl").write_bytes(SECRET)
    (site / "secret.txt").write_bytes(SECRET)
    (site / "feedpub-record.jsonl").write_bytes(SECRET)
    (out / "link-out").symlink_to(site / "secret.txt")
    (out / "items" / "up").symlink_to(site)
    log: list[str] = []
    srv = make_server(out, "127.0.0.1", 0, hidden=[site / "feedpub-record.jsonl"], log=log.append,
                      max_threads=6, timeout=2.0, request_deadline=2.0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1], log
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def raw(port: int, request: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send bytes as they are; returns (status, whole response). The answer must come within `timeout`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading a huge request to its end
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
    assert data.startswith(b"HTTP/1."), f"no HTTP answer to {request[:80]!r}: {data[:80]!r}"
    return int(data.split(b" ", 2)[1]), data


def get(target: str | bytes, extra: bytes = b"") -> bytes:
    target = target.encode("latin-1") if isinstance(target, str) else target
    return b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + b"\r\n"


def assert_still_serving(port: int, within: float = 2.0) -> None:
    started = time.monotonic()
    status, data = raw(port, get("/latest.xml"), timeout=within + 3)
    assert status == 200 and data.endswith(FEED)
    assert time.monotonic() - started < within, f"a normal request took {time.monotonic() - started:.1f}s"


TRAVERSAL = {  # request target -> status
    "/../secret.txt": 404,
    "/../../../../../../etc/passwd": 404,
    "/items/../../secret.txt": 404,
    "/%2e%2e/secret.txt": 404,
    "/%2E%2E/%2E%2E/etc/passwd": 404,
    "/.%2e/secret.txt": 404,
    "/%2e./secret.txt": 404,
    "/items/%2e%2e/%2e%2e/secret.txt": 404,
    "/%252e%252e/secret.txt": 404,  # decoded once: a folder literally named %2e%2e, which does not exist
    "/%25252e%25252e/secret.txt": 404,
    "/..%2fsecret.txt": 404,
    "/..%2Fsecret.txt": 404,
    "/%2e%2e%2fsecret.txt": 404,
    "/..\\secret.txt": 400,
    "/..%5csecret.txt": 400,
    "/..%5Csecret.txt": 400,
    "/%c0%ae%c0%ae/secret.txt": 400,  # overlong UTF-8 for "."
    "/%c0%2e%c0%2e/secret.txt": 400,
    "/%e0%80%ae%e0%80%ae/secret.txt": 400,
    "/%c1%9c": 400,  # overlong "\"
    "/%ff%fe": 400,
    "/link-out": 404,  # a symlink out of the folder
    "/items/up/secret.txt": 404,  # a folder symlink out of the folder
    "/./latest.xml": 404,
    "/.secret": 404,
    "/%2esecret": 404,
    "/feedpub-record.jsonl": 404,
    "/items/..;/..;/secret.txt": 404,
}
ABSOLUTE = {
    "/etc/passwd": 404,
    "//etc/passwd": 404,
    "///etc/passwd": 404,
    "/%2fetc%2fpasswd": 404,
    "/%2F%2Fetc/passwd": 404,
    "http://127.0.0.1/../secret.txt": 404,
    "http://evil.example/%2e%2e/secret.txt": 404,
    "file:///etc/passwd": 404,
    "etc/passwd": 400,
    "C:\\Windows\\win.ini": 400,
    "\\\\server\\share": 400,
    "*": 400,
    "": 400,
}
NUL = {
    "/latest.xml%00": 400,
    "/latest.xml%00.html": 400,
    "/%00/../secret.txt": 400,
    "/latest.xml\x00.html": 400,
    "/\x00": 400,
}


@pytest.mark.parametrize("target,status", [*TRAVERSAL.items(), *ABSOLUTE.items(), *NUL.items()])
def test_hostile_paths_get_their_status_and_nothing_leaks(server, target, status):
    port, log = server
    got, data = raw(port, get(target))
    assert got == status, f"{target!r}: {data[:200]!r}"
    assert SECRET not in data and b"root:" not in data
    assert_still_serving(port)


def test_absolute_form_is_served_from_the_folder_never_fetched(server):
    """RFC 9112 absolute-form: the path is taken, the host ignored; nothing is proxied."""
    port, _ = server
    status, data = raw(port, get("http://evil.example/latest.xml"))
    assert status == 200 and data.endswith(FEED)


MALFORMED = {
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": 414,
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": 414,
    b"GET /?" + b"%2e%2e/" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": 414,
    get("/latest.xml", b"X-Long: " + b"a" * 20000 + b"\r\n"): 431,
    get("/latest.xml", b"X-Huge: " + b"a" * 70000 + b"\r\n"): 431,
    get("/latest.xml", b"".join(b"X-H%d: v\r\n" % i for i in range(150))): 431,
    get("/latest.xml", b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 200) for i in range(90))): 431,
    b"GARBAGE\r\n\r\n": 400,
    b"GET\r\n\r\n": 400,
    b"GET /latest.xml\r\n\r\n": 400,  # HTTP/0.9
    b"GET /latest.xml HTTP/1.1 extra\r\n\r\n": 400,
    b"GET /latest.xml HTTP/9.9\r\nHost: x\r\n\r\n": 505,
    b"GET /latest.xml FOO/1.1\r\nHost: x\r\n\r\n": 400,
    b"\x00\x01\x02\x03\r\n\r\n": 400,
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n": 400,  # a TLS hello
    b"DELETE /latest.xml HTTP/1.1\r\nHost: x\r\n\r\n": 501,
    b"PUT /new.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc": 501,
}


@pytest.mark.parametrize("request_bytes,status", list(MALFORMED.items()), ids=[f"m{i}" for i in range(len(MALFORMED))])
def test_malformed_and_oversized_requests(server, request_bytes, status):
    port, _ = server
    got, data = raw(port, request_bytes)
    assert got == status, f"{request_bytes[:60]!r}: {data[:200]!r}"
    assert_still_serving(port)


def test_the_log_stays_one_printable_line_per_request(server):
    port, log = server
    for target in ("/latest.xml\x00\x1b[31m", "/%0d%0aInjected: header", "/" + "\u202e".encode().decode("latin-1")):
        raw(port, get(target))
    assert_still_serving(port)
    time.sleep(0.1)
    assert len(log) == 4
    for line in log:
        assert line.isprintable() and "\n" not in line and "\x1b" not in line, repr(line)


def test_response_splitting_is_not_possible(server):
    """An encoded CR LF in the path never becomes a header of the answer."""
    port, _ = server
    status, data = raw(port, get("/items/a.html%0d%0aSet-Cookie:%20evil=1"))
    assert status == 404
    assert b"set-cookie" not in data.lower()
    status, data = raw(port, get("/items%0d%0aLocation:%20http://evil.example/"))
    assert b"evil.example" not in data.split(b"\r\n\r\n")[0]


def slowloris(port: int, stop: threading.Event, sent_headers: list[int]) -> socket.socket:
    """A client that sends a request one header line per 0.3 s, forever (until the server cuts it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /latest.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    def drip():
        n = 0
        while not stop.wait(0.3):
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % n)
            except OSError:
                return
            n += 1
        sent_headers.append(n)

    threading.Thread(target=drip, daemon=True).start()
    return sock


@pytest.mark.parametrize("clients", [4, 12], ids=["fewer-than-threads", "more-than-threads"])
def test_slow_clients_do_not_stop_normal_requests(server, clients):
    """Slow clients holding connections: with fewer than the thread cap a normal request is
    answered at once; with more (12 against 6 threads) the request deadline (2 s here) cuts them
    off and the normal request is answered within a few seconds. The slow ones never get a 200."""
    port, _ = server
    stop = threading.Event()
    socks = [slowloris(port, stop, []) for _ in range(clients)]
    try:
        time.sleep(0.5)  # let them take their threads
        assert_still_serving(port, within=1.0 if clients < 6 else 5.0)
        time.sleep(2.5)  # past the deadline: every slow client has been cut off
        assert_still_serving(port, within=1.0)
        for sock in socks:
            sock.settimeout(3)
            try:
                answer = sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                answer = b""
            assert not answer.startswith(b"HTTP/1.1 200"), "a slow client was served"
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_idle_connections_are_closed(server):
    """Connections that send nothing at all are closed after the I/O timeout (2 s here)."""
    port, _ = server
    socks = [socket.create_connection(("127.0.0.1", port), timeout=6) for _ in range(10)]
    try:
        started = time.monotonic()
        assert_still_serving(port, within=5.0)
        for sock in socks:
            try:
                closed = sock.recv(1024) == b""
            except ConnectionResetError:
                closed = True
            assert closed, "an idle connection got an answer"
        assert time.monotonic() - started < 6, "idle connections were held too long"
    finally:
        for sock in socks:
            sock.close()
