"""Shared fixtures for the build tests: a site folder with seeds, settings and a fixed clock."""

from __future__ import annotations

import http.client
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedpub.config import load_settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
CLOCK = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def http_get(port: int, path: str, headers: dict | None = None, method: str = "GET"):
    """(response, body) of one request to a server on this machine's loopback."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def child_pids() -> list[int]:
    """The pids of this process's children (Linux: /proc/<pid>/task/<tid>/children)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass  # that thread has just ended
    return pids


def seed_text(title: str, body: str = "First paragraph of the story.", header: str = "Flash News", agency: str = "Reuters") -> str:
    """A well-formed seed document."""
    prefix = f"{agency}: " if agency else ""
    end = "" if body.endswith((".", "!", "?")) else "."
    return f"{header}\n\n\n{prefix}{title}\n\n{prefix}{title}\n\n{body}{end}/VOA\n\n\nLatest news\n"


class Project:
    """A throw-away project: seeds/, feeds/, record and optional feedpub.toml under one folder."""

    def __init__(self, root: Path):
        self.root = root
        self.seeds = root / "seeds"
        self.out = root / "feeds"
        self.record = root / "record.jsonl"
        self.config = root / "feedpub.toml"
        self.seeds.mkdir(parents=True, exist_ok=True)
        self._mtime = CLOCK.timestamp() - 86_400

    def add(self, name: str, text: str | bytes, *, mtime: float | None = None) -> Path:
        """Write a seed; each new seed gets an mtime one minute after the previous one by default."""
        path = self.seeds / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        self._mtime += 60
        stamp = self._mtime if mtime is None else mtime
        os.utime(path, (stamp, stamp))
        return path

    def settings(self, **overrides):
        values = {"seeds_dir": self.seeds, "out_dir": self.out, "record_path": self.record}
        values.update(overrides)
        config = self.config if self.config.exists() else None
        return load_settings(config, root=self.root, env={}, overrides=values)

    def build(self, now: datetime = CLOCK, **overrides):
        from feedpub.publish import build

        return build(self.settings(**overrides), now=now, workers=1)

    def files(self) -> dict[str, bytes]:
        """Every output file's bytes, by path relative to the output folder."""
        return {str(p.relative_to(self.out)): p.read_bytes() for p in sorted(self.out.rglob("*")) if p.is_file()}

    def mtimes(self) -> dict[str, int]:
        return {str(p.relative_to(self.out)): p.stat().st_mtime_ns for p in sorted(self.out.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path) -> Project:
    return Project(tmp_path / "project")


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not found (CI keeps shared/ beside the clone)")
