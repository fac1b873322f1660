"""The reader processes (feedpub.workers): real child interpreters, results in order, no leftovers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import child_pids
from feedpub import scan
from feedpub.workers import PoolFailed, WorkerError, map_chunks


def shout(prefix: str, chunk: list[str]) -> list[str]:
    """A chunk's work, importable by the children (this module is on their import path)."""
    if "boom" in chunk and os.getpid() != int(os.environ.get("TEST_PARENT", "0")):
        raise ValueError("boom in a child")
    if "slow" in chunk and os.getpid() != int(os.environ.get("TEST_PARENT", "0")):
        time.sleep(0.05)
    return [f"{prefix}{item.upper()}:{os.getpid()}" for item in chunk]


@pytest.fixture(autouse=True)
def parent_pid(monkeypatch):
    monkeypatch.setenv("TEST_PARENT", str(os.getpid()))


@pytest.mark.parametrize("count", [1, 2, 3])
def test_results_come_in_order_from_child_processes(count):
    # Uneven chunks, large ones among them: frames bigger than a pipe's buffer both ways.
    chunks = [[f"{i}-{j}-" + "n" * (250 if i % 3 == 0 else 5) for j in range(i * 37 % 500 + 1)] for i in range(23)]
    got = list(map_chunks(shout, (">",), chunks, count))
    assert [[line.rsplit(":", 1)[0] for line in result] for result in got] == [
        [f">{item.upper()}" for item in chunk] for chunk in chunks
    ]
    pids = {int(line.rsplit(":", 1)[1]) for result in got for line in result}
    assert len(pids) == count  # by this process and count - 1 children, each given chunks first
    assert child_pids() == []


def test_an_exception_in_a_child_is_reported_with_its_traceback():
    with pytest.raises(WorkerError, match="(?s)ValueError: boom in a child"):
        list(map_chunks(shout, ("",), [["boom"]] * 4, 2))  # the child's first chunk raises
    assert child_pids() == []


def test_stopping_early_leaves_no_child_behind():
    results = map_chunks(shout, ("",), [[str(i)] * 50 for i in range(40)], 2)
    assert next(results)[0].startswith("0:")
    results.close()
    assert child_pids() == []


def test_no_interpreter_to_start_is_a_pool_failure_and_the_build_reads_in_process(tmp_path, monkeypatch):
    for i in range(30):
        (tmp_path / f"{i:03d}_k{i}.txt").write_text(f"World\n\nStory {i}\n\nBody of story {i}.\n")
    items = sorted(os.listdir(tmp_path))
    expected = [scan.read_line(str(tmp_path), name, ("Reuters",), None) for name in items]
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(PoolFailed):
        list(map_chunks(shout, ("",), [["a"]], 2))
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scan, "CHUNK", 4)
    notices = []
    got = [line for lines, _ in scan.read_chunks(tmp_path, items, ("Reuters",), workers=2, notice=notices.append)
           for line in lines]
    assert got == expected
    assert len(notices) == 1 and notices[0].startswith("no reader process could start ([Errno 2] No such file")
    assert notices[0].endswith("; the build read every seed itself")
    assert child_pids() == []


def test_a_child_that_dies_leaves_its_chunks_to_this_process():
    # The child's chunks take a while: after it sent the first, it still owes others when killed.
    notices = []
    results = map_chunks(shout, ("",), [["slow", str(i)] for i in range(20)], 2, notices.append)
    first = next(results)  # a child's: each child is given its first chunks before this process takes any
    assert first[0].split(":")[1] != str(os.getpid())
    for pid in child_pids():
        os.kill(pid, 9)
    rest = list(results)
    assert [[line.split(":")[0] for line in result] for result in [first, *rest]] == [["SLOW", str(i)] for i in range(20)]
    assert notices == ["a reader process ended early (exit status -9); its seeds were read by the build itself"]
    assert child_pids() == []


def test_children_import_this_feedpub_when_a_site_hook_found_it(tmp_path):
    """An editable install finds feedpub through a hook, not sys.path; the children, started
    without site hooks, must still import the same package (else every build reads alone)."""
    package = Path(scan.__file__).parent
    (tmp_path / "seeds").mkdir()
    for i in range(8):
        (tmp_path / "seeds" / f"{i:03d}_k{i}.txt").write_text(f"World\n\nStory {i}\n\nBody {i}.\n")
    script = f"""
import importlib.util, os, sys
sys.path = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "feedpub"))]
class Hook:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "feedpub":
            return importlib.util.spec_from_file_location(
                name, {str(package / "__init__.py")!r}, submodule_search_locations=[{str(package)!r}])
sys.meta_path.insert(0, Hook)
from feedpub.scan import read_chunk
from feedpub.workers import map_chunks
folder = {str(tmp_path / "seeds")!r}
chunks = [[name] for name in sorted(os.listdir(folder))]
got = [list(result) for result in map_chunks(read_chunk, (folder, ("Reuters",), None), chunks, 2)]
assert got == [list(read_chunk(folder, ("Reuters",), None, chunk)) for chunk in chunks]
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.stdout == "ok\n", done.stderr
