"""docs/operations.md's CI lines, run as a CI job runs them: in fresh clones of a git repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from conftest import seed_text

REPO = Path(__file__).resolve().parents[1]
OPERATIONS = REPO / "docs" / "operations.md"
MARK = "<!-- tests/test_operations_ci.py runs these lines in two fresh clones -->"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def ci_lines() -> str:
    """The shell block right after MARK in docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    match = re.search(re.escape(MARK) + r"\n```sh\n(.*?)\n```", text, re.DOTALL)
    assert match, f"{OPERATIONS}: no sh block after the marker"
    return match.group(1) + "\n"


BASE_URL = "https://example.github.io/news/"


def bare_env() -> dict[str, str]:
    """The environment without a git identity or configuration of the caller's, or a base URL:
    as on a CI runner, the lines must bring their own."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("GIT_", "FEEDPUB_")) and name not in ("EMAIL", "PYTHONPATH")}
    return {**env, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=bare_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def fresh_clone(origin: Path, where: Path) -> Path:
    """A CI runner's checkout (shallow, as actions/checkout makes it), with `.venv/bin/feedpub`
    running this feedpub."""
    git("clone", "--quiet", "--depth", "1", origin.as_uri(), str(where), cwd=origin.parent)
    bin_dir = where / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "feedpub"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m feedpub "$@"\n')
    shim.chmod(0o755)
    return where


def run_job(clone: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-e", "-c", ci_lines()], cwd=clone, env=bare_env(), capture_output=True, text=True, timeout=300)


def test_the_ci_lines_commit_a_new_seed_once_and_then_nothing(tmp_path):
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=tmp_path)
    # The author's repository: this project's .gitignore, two seeds, built once and pushed.
    author = tmp_path / "author"
    git("clone", "--quiet", str(origin), str(author), cwd=tmp_path)
    git("config", "user.name", "Author", cwd=author)
    git("config", "user.email", "author@example.org", cwd=author)
    shutil.copyfile(REPO / ".gitignore", author / ".gitignore")
    (author / "feedpub.toml").write_text(f'[site]\nbase_url = "{BASE_URL}"\n')
    (author / "seeds").mkdir()
    for i in (1, 2):
        (author / "seeds" / f"00{i}_k{i}.txt").write_text(seed_text(f"Story {i}"))
    env = {**bare_env(), "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "feedpub", "build", "--quiet"], cwd=author, env=env, check=True)
    git("add", ".", cwd=author)
    git("commit", "--quiet", "-m", "Two seeds", cwd=author)
    git("push", "--quiet", "origin", "main", cwd=author)
    # A new seed is pushed without a build: CI is to publish it.
    (author / "seeds" / "003_k3.txt").write_text(seed_text("Story 3"))
    git("add", "seeds", cwd=author)
    git("commit", "--quiet", "-m", "A third seed", cwd=author)
    git("push", "--quiet", "origin", "main", cwd=author)
    pushed = git("rev-parse", "main", cwd=origin).strip()

    job = run_job(fresh_clone(origin, tmp_path / "run1"))
    assert job.returncode == 0, job.stderr
    after_first = git("rev-parse", "main", cwd=origin).strip()
    assert after_first != pushed  # the job committed and pushed
    changed = git("diff", "--name-only", pushed, after_first, cwd=origin).split()
    assert "feedpub-record.jsonl" in changed and "feeds/latest.xml" in changed
    assert all(name == "feedpub-record.jsonl" or name.startswith("feeds/") for name in changed)
    record = git("show", f"{after_first}:feedpub-record.jsonl", cwd=origin)
    k3 = next(json.loads(line) for line in record.splitlines() if '"key": "k3"' in line)
    latest = feedparser.parse(git("show", f"{after_first}:feeds/latest.atom", cwd=origin))
    assert k3["id"] in {entry.id for entry in latest.entries}
    assert latest.feed.link.startswith(BASE_URL) and k3["id"].startswith("tag:example.github.io,")

    job = run_job(fresh_clone(origin, tmp_path / "run2"))
    assert job.returncode == 0, job.stderr
    assert git("rev-parse", "main", cwd=origin).strip() == after_first  # nothing to commit
