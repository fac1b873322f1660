"""A static server for the output folder: previews and small deployments.

It answers like a well-configured nginx (examples/nginx.conf): feed content types, ETag and
Last-Modified with 304s, gzip, short caching for feeds, and browsers get RSS/Atom as
`application/xml` so they apply the feed's `<?xml-stylesheet?>`. It never serves a file outside
the folder, a dotfile or the record. Threads are capped and a client that is slow to send its
request is cut off, so a few slow clients cannot exhaust it.
"""

from __future__ import annotations

import errno
import gzip
import os
import socket
import socketserver
import stat
import sys
import threading
import time
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote, unquote_to_bytes, urlsplit

FEED_MAX_AGE = 300  # seconds; matches a 15-minute build cadence without serving stale feeds long
ASSET_MAX_AGE = 3600
MAX_URL = 8192
MAX_HEADER_BYTES = 16384
GZIP_CACHE = 64  # compressed files kept in memory
READ_ATTEMPTS = 3  # reads of a file that keeps changing in place before answering 503

TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
FEED_SUFFIXES = {".xml", ".atom", ".json", ".opml"}
XML_FEEDS = {".xml", ".atom"}  # negotiated: browsers get application/xml to apply the stylesheet
BROWSER_XML = "application/xml; charset=utf-8"
COMPRESSIBLE = {".xml", ".atom", ".json", ".html", ".xsl", ".opml", ".css", ".txt", ".svg"}
HIDDEN_SUFFIXES = (".jsonl", ".lock")  # the record and its lock, wherever they are


class NotServed(Exception):
    """The request names nothing we serve: answered 404 (or 400 for a malformed path)."""

    def __init__(self, status: int = 404):
        self.status = status


class ServeError(Exception):
    """A folder that cannot be served: one line for the user, naming the option to change."""


class Changing(OSError):
    """A file kept changing in place while it was read: no version to answer with (503)."""


def resolve(root: Path, raw_path: str, hidden: Iterable[Path] = ()) -> tuple[Path, list[str], bool]:
    """The file under `root` that a request path names, or NotServed. Returns the file's real
    path, the decoded path segments, and whether they name a folder (served by its index.html).

    Decodes percent-escapes exactly once, refuses NUL, backslashes, `.`/`..` and dot-segments,
    the record and lock files, and anything whose real path (symlinks followed) leaves `root`.
    """
    if not raw_path.startswith("/"):
        raise NotServed(400)
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise NotServed(400) from None
    if "\0" in path or "\\" in path:
        raise NotServed(400)
    parts = [p for p in path.split("/") if p]
    _check_parts(parts)
    root = root.resolve()
    target = root.joinpath(*parts)
    try:
        folder = target.is_dir()
        if folder:
            target = target / "index.html"
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a name too long, dangling or looping symlinks
        raise NotServed(404) from None
    if not real.is_relative_to(root) or not real.is_file():
        raise NotServed(404)
    _check_parts(real.relative_to(root).parts)  # a symlink must not lead to a hidden file either
    if any(real == Path(h).resolve() for h in hidden):
        raise NotServed(404)
    return real, parts, folder


def read_version(path: Path) -> tuple[bytes, os.stat_result]:
    """One version of a file: its bytes and the stat of the descriptor they were read from.

    Builds rename each new file into place; an open descriptor keeps the version it opened, so
    the bytes, the ETag and Last-Modified made from this stat, and the gzip cache key all describe
    the same version (reading by name and then stat-ing by name can pair old bytes with the new
    version's stat). A file rewritten in place during the read, which feedpub never does, shows as
    a changed stat: it is read again, and Changing is raised if it never holds still.
    """
    with open(path, "rb") as f:
        for _ in range(READ_ATTEMPTS):
            before = os.fstat(f.fileno())
            data = f.read()
            after = os.fstat(f.fileno())
            if _version(before) == _version(after) and len(data) == after.st_size:
                return data, after
            f.seek(0)
    raise Changing(f"{path}: changed while being read")


def _version(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _check_parts(parts: Iterable[str]) -> None:
    for part in parts:
        if part.startswith(".") or part.endswith(HIDDEN_SUFFIXES):
            raise NotServed(404)


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks text/html above every XML feed type (a web browser)."""
    html, xml = 0.0, 0.0
    for item in accept.split(","):
        kind, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.strip().lower()
        if kind == "text/html":
            html = max(html, q)
        elif kind in ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml"):
            xml = max(xml, q)
    return html > xml


def accepts_gzip(accept_encoding: str) -> bool:
    """True when the client takes gzip (`gzip`, or `*`, with a non-zero q)."""
    verdict = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            verdict = q > 0
    return bool(verdict)


class FeedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with at most `max_threads` connections in flight and a deadline for
    receiving each request, enforced by a reaper thread that closes overdue sockets."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, directory: Path, *, hidden=(), log=None, max_threads=32,
                 timeout=10.0, request_deadline=15.0):
        self.directory = Path(directory)
        self.hidden = tuple(hidden)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.io_timeout = timeout
        self.request_deadline = request_deadline
        self._slots = threading.BoundedSemaphore(max_threads)
        self._reading: dict[socket.socket, float] = {}
        self._reading_lock = threading.Lock()
        self._gzip: dict[tuple, bytes] = {}
        self._gzip_lock = threading.Lock()
        self._closing = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, FeedRequestHandler)
        threading.Thread(target=self._reap, name="feedpub-serve-reaper", daemon=True).start()

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on DNS; we never use it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        # Wait for a free slot here, in the accept loop: excess connections queue in the backlog.
        while not self._slots.acquire(timeout=0.5):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def reading(self, sock: socket.socket, started: bool) -> None:
        """Mark a connection as waiting for a request (deadline running) or done reading one."""
        with self._reading_lock:
            if started:
                self._reading.setdefault(sock, time.monotonic())
            else:
                self._reading.pop(sock, None)

    def _reap(self) -> None:
        while not self._closing.wait(0.25):
            now = time.monotonic()
            with self._reading_lock:
                overdue = [s for s, t in self._reading.items() if now - t > self.request_deadline]
                for s in overdue:
                    del self._reading[s]
            for s in overdue:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def gzipped(self, path: Path, st: os.stat_result, data: bytes) -> bytes:
        """gzip bytes of a file version, kept for the next request of the same version. `data` and
        `st` must come from one read_version call, or the cache would keep one version's bytes
        under another's key and serve them until the file changed again."""
        key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._gzip_lock:
            cached = self._gzip.get(key)
        if cached is None:
            cached = gzip.compress(data, compresslevel=6, mtime=0)
            with self._gzip_lock:
                if len(self._gzip) >= GZIP_CACHE:
                    self._gzip.pop(next(iter(self._gzip)))
                self._gzip[key] = cached
        return cached

    def server_close(self):
        self._closing.set()
        super().server_close()


class FeedRequestHandler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"
    server_version = "feedpub"
    sys_version = ""

    def setup(self):
        self.timeout = self.server.io_timeout
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self):
        self.server.reading(self.connection, True)
        try:
            super().handle_one_request()
        finally:
            self.server.reading(self.connection, False)

    def parse_request(self) -> bool:
        if len(self.raw_requestline) > MAX_URL:
            self.requestline, self.command, self.path = "", "", ""
            self.request_version = "HTTP/1.0"
            self.send_error(414)
            return False
        ok = super().parse_request()
        self.server.reading(self.connection, False)
        if ok and self.request_version == "HTTP/0.9":
            self.send_error(400)
            return False
        if ok and sum(len(k) + len(v) + 4 for k, v in self.headers.items()) > MAX_HEADER_BYTES:
            self.send_error(431)
            return False
        return ok

    def do_GET(self):
        self._serve(body=True)

    def do_HEAD(self):
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        try:
            raw_path = urlsplit(self.path).path if not self.path.startswith("//") else self.path.split("?")[0]
            path, parts, folder = resolve(self.server.directory, raw_path, self.server.hidden)
        except NotServed as e:
            self.send_error(e.status)
            return
        except ValueError:
            self.send_error(400)
            return
        if folder and not raw_path.endswith("/"):
            # Relative links in a folder's index need the slash; build it from clean segments.
            self._redirect("/" + "".join(quote(p) + "/" for p in parts))
            return
        try:
            data, st = read_version(path)
        except Changing:
            self.send_error(503)
            return
        except OSError:
            self.send_error(404)
            return
        self._send_file(path, data, st, body)

    def _send_file(self, path: Path, data: bytes, st, body: bool) -> None:
        suffix = path.suffix.lower()
        content_type = TYPES.get(suffix, "application/octet-stream")
        vary = []
        if suffix in XML_FEEDS:
            vary.append("Accept")
            if prefers_html(self.headers.get("Accept", "")):
                content_type = BROWSER_XML
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        encoding = None
        if suffix in COMPRESSIBLE:
            vary.append("Accept-Encoding")
            if data and accepts_gzip(self.headers.get("Accept-Encoding", "")):
                encoding = "gzip"
                etag = etag[:-1] + '-gz"'
                data = self.server.gzipped(path, st, data)
        headers = [
            ("ETag", etag),
            ("Last-Modified", formatdate(st.st_mtime, usegmt=True)),
            ("Cache-Control", f"public, max-age={FEED_MAX_AGE if suffix in FEED_SUFFIXES | {'.html'} else ASSET_MAX_AGE}"),
        ]
        if vary:
            headers.append(("Vary", ", ".join(vary)))
        if self._not_modified(etag, int(st.st_mtime)):
            self._respond(304, headers, b"", body=False)
            return
        headers += [("Content-Type", content_type), ("X-Content-Type-Options", "nosniff")]
        if encoding:
            headers.append(("Content-Encoding", encoding))
        self._respond(200, headers, data, body=body)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            if since.tzinfo is None:
                # HTTP dates are GMT, also in the asctime form ("Sun Nov  6 08:49:37 1994") that
                # carries no zone; a naive datetime would be read in the server's local time.
                since = since.replace(tzinfo=timezone.utc)
            try:
                return mtime <= int(since.timestamp())
            except (ValueError, OverflowError):
                return False
        return False

    def _redirect(self, location: str) -> None:
        self._respond(301, [("Location", location), ("Content-Type", "text/plain; charset=utf-8")], b"Moved\n")

    def _respond(self, status: int, headers, data: bytes, body: bool = True) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(data)))
        sent = len(data) if body and status != 304 and self.command != "HEAD" else 0
        # Logged before the bytes go out, so the log is complete once a client has its answer.
        self._log_line(status, sent)
        self.end_headers()
        if sent:
            self.wfile.write(data)

    def send_error(self, code, message=None, explain=None):
        """A short plain-text error; the connection closes after malformed requests."""
        text = f"{code} {self.responses.get(code, ('Error',))[0]}\n".encode()
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # garbage request lines still get a status line
        if code >= 400 and code != 404:
            self.close_connection = True
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")]
        if self.close_connection:
            headers.append(("Connection", "close"))
        self._respond(code, headers, text, body=getattr(self, "command", "") != "HEAD")

    def version_string(self) -> str:
        return self.server_version

    def log_request(self, code="-", size="-"):
        pass  # one line per request, written by _respond

    def log_message(self, format, *args):
        pass

    def _log_line(self, status: int, sent: int) -> None:
        method = getattr(self, "command", "") or "-"
        path = getattr(self, "path", "") or "-"
        shown = path[:200] + ("..." if len(path) > 200 else "")
        shown = shown.encode("unicode_escape").decode("ascii").replace('"', "%22")
        self.server.log(f'{self.client_address[0]} "{method} {shown}" {status} {sent}')


def check_folder(directory: Path) -> None:
    """ServeError unless `directory` is a folder whose files this process can open."""
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        raise ServeError(f"{directory}: no such folder; run `feedpub build` first, or pass --dir or --watch") from None
    except OSError as e:
        raise ServeError(f"{directory}: cannot open the folder: {e.strerror}; check --dir") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ServeError(f"{directory}: not a folder; pass --dir the folder to serve, e.g. --dir feeds")
    if not os.access(directory, os.X_OK):  # without it every request would be a silent 404
        raise ServeError(f"{directory}: cannot open the folder: {os.strerror(errno.EACCES)}; check --dir")


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000, **options) -> FeedServer:
    """A bound, not yet running server for `directory` (port 0 picks a free port). An OSError
    when it cannot listen: listen_problem() says which option to change.

    Options: hidden (paths never served), log, max_threads, timeout, request_deadline.
    """
    return FeedServer((host, port), Path(directory), **options)


def listen_problem(host: str, port: int, error: OSError) -> str:
    """The one line for a failure to listen on `host`:`port`, naming the option at fault."""
    where = f"cannot listen on {host}:{port}"
    if isinstance(error, socket.gaierror):
        return f"{where}: cannot resolve the host ({error.strerror}); check --host, e.g. --host 127.0.0.1"
    if error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return f"{where}: not an address of this machine ({error.strerror}); check --host, e.g. --host 127.0.0.1"
    if error.errno in (errno.EADDRINUSE, errno.EACCES):
        return f"{where}: {error.strerror}; try another --port"
    return f"{where}: {error.strerror or error}; check --host and --port"


def serve(
    directory: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    **options,
) -> None:
    """Serve `directory` until `stop_event` is set (or forever). `on_ready` gets the base URL."""
    run_server(make_server(directory, host, port, **options), on_ready=on_ready, stop_event=stop_event)


def run_server(
    server: FeedServer,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Run a server from make_server until `stop_event` is set, then close it."""
    stop_event = stop_event or threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="feedpub-serve", daemon=True)
    thread.start()
    try:
        if on_ready:
            bound_host, bound_port = server.server_address[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            on_ready(f"http://{shown}:{bound_port}/")
        # Polled, not stop_event.wait(): a signal handler that sets the event would run in this
        # thread, and could find the event's lock taken by the very wait it interrupted.
        while not stop_event.is_set():
            time.sleep(0.2)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
