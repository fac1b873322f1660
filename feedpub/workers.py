"""Reader processes for a cold build: plain child interpreters that speak over their pipes.

A cold build of 100,000 seeds spends nearly all its time reading and skimming files, which one
Python process does on one core. `map_chunks` hands chunks of file names to child processes and
yields their results in order; the parent reads chunks too. Each child is `python -S -m
feedpub.workers`, started with the parent's import path: no forkserver, no resource tracker
and no site hooks, so a child costs about 20 MB and starts in tens of milliseconds. Started by
fork+exec, children never inherit the parent's threads or locks (`serve --watch` builds from a
thread).

The protocol is frames on stdin and stdout, each a 4-byte length and JSON (not pickle: the
package unpickles nothing; file names that are not UTF-8 travel as surrogates):
parent -> child: the job's fixed arguments once, then (index, chunk) per chunk, then end of file;
child -> parent: (index, result) per chunk, or (index, None, traceback) if the code raised.
A child that dies leaves its chunks to the parent; if none can start, the caller reads alone.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import struct
import subprocess
import sys
import threading
from typing import Callable, Iterator, Sequence

_LENGTH = struct.Struct(">I")
IN_FLIGHT = 2  # chunks queued per child: one to work on, one ready when it finishes


class PoolFailed(Exception):
    """No child process could start: the caller does all the work itself."""


class WorkerError(Exception):
    """The reading code raised in a child: a bug, reported with the child's traceback."""


def _write_frame(stream, obj) -> None:
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream):
    """The next frame's object; EOFError when the stream ends (cleanly or mid-frame)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return json.loads(data.decode("utf-8", "surrogatepass"))


def _child_env() -> dict[str, str]:
    """The parent's environment, with its import path: a child started with -S (no site
    module, so no .pth hooks to run) still imports this very feedpub and its dependencies.
    The folder holding this feedpub comes first: an editable install finds it through a
    site hook, not through sys.path."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([here, *(p for p in sys.path if p and os.path.isabs(p))])
    return env


class _Child:
    """One child process, with a thread that writes its frames: writing never waits on reading,
    so a child blocked on a full stdout pipe cannot block the parent's next send."""

    _CLOSE = object()

    def __init__(self, env: dict[str, str], setup: object):
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-m", "feedpub.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.outbox.put(setup)
        threading.Thread(target=self._write, daemon=True).start()

    def _write(self) -> None:
        try:
            while (frame := self.outbox.get()) is not self._CLOSE:
                _write_frame(self.proc.stdin, frame)
        except (OSError, ValueError):
            pass  # the child is gone: its reader thread says so
        finally:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def send(self, frame) -> None:
        self.outbox.put(frame)

    def stop(self) -> None:
        """Ask it to finish, then make sure it has: a build never leaves a child behind."""
        self.outbox.put(self._CLOSE)
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def map_chunks(
    function: Callable,
    fixed: tuple,
    chunks: Sequence[list],
    workers: int,
    notice: Callable[[str], None] | None = None,
) -> Iterator[list]:
    """`function(*fixed, chunk)` for each chunk, yielded in order, computed by `workers` processes:
    this one and `workers - 1` children.

    This process takes a chunk whenever the next result it owes is not in yet, so it never sits
    idle, and one core costs one child fewer (about 20 MB). A child that dies leaves its chunks
    to this process (`notice` hears of it); PoolFailed means no child could start. `function`
    must be importable by name (module and qualified name) in a child, and its arguments plain
    JSON values (strings, numbers, None, and lists or tuples of them).
    """
    results: queue.Queue = queue.Queue()  # frames from the children; a _Child when one has ended
    next_chunk = iter(range(len(chunks)))
    dispatch = threading.Lock()
    children: list[_Child] = []
    owner: dict[int, _Child] = {}  # chunk -> the child it was given to

    def take() -> int | None:
        with dispatch:
            return next(next_chunk, None)

    def feed(child: _Child) -> None:
        index = take()
        if index is not None:
            owner[index] = child
            child.send((index, chunks[index]))

    def listen(child: _Child) -> None:
        """Pass the child's results on, and give it the next chunk for each one it returns."""
        try:
            while True:
                frame = _read_frame(child.proc.stdout)
                results.put(frame)
                feed(child)
        except (EOFError, OSError, ValueError):
            results.put(child)  # it ended: at the end of the job, or killed

    try:
        env = _child_env()
        setup = (function.__module__, function.__qualname__, fixed)
        for _ in range(min(workers - 1, len(chunks))):
            children.append(_Child(env, setup))
        for child in children:
            for _ in range(IN_FLIGHT):
                feed(child)
            threading.Thread(target=listen, args=(child,), daemon=True).start()
    except OSError as e:
        for child in children:
            child.stop()
        raise PoolFailed(str(e)) from None

    waiting: dict[int, list] = {}
    ended: set[_Child] = set()
    try:
        for wanted in range(len(chunks)):
            while wanted not in waiting:
                if owner.get(wanted) in ended:  # its child died with it: do it here
                    waiting[wanted] = function(*fixed, chunks[wanted])
                    continue
                try:
                    frame = results.get_nowait()
                except queue.Empty:
                    index = take()
                    if index is not None:
                        waiting[index] = function(*fixed, chunks[index])
                        continue
                    frame = results.get()  # every chunk is handed out: wait for the children
                if isinstance(frame, _Child):
                    ended.add(frame)
                    if notice:
                        notice(f"a reader process ended early (exit status {frame.proc.wait()}); "
                               "its seeds were read by the build itself")
                elif len(frame) == 3:
                    raise WorkerError(f"reading chunk {frame[0]} failed in a reader process:\n{frame[2]}")
                else:
                    waiting[frame[0]] = frame[1]
            yield waiting.pop(wanted)
    finally:
        with dispatch:  # no more work handed out
            next_chunk = iter(())
        for child in children:
            child.stop()


def _serve(stdin, stdout) -> None:
    """A child's life: import the function, then compute each chunk sent until None or EOF."""
    import importlib
    import traceback

    module, name, fixed = _read_frame(stdin)
    fixed = [tuple(arg) if isinstance(arg, list) else arg for arg in fixed]  # JSON made the tuples lists
    function = getattr(importlib.import_module(module), name)
    while True:
        try:
            frame = _read_frame(stdin)
        except EOFError:
            return
        if frame is None:
            return
        index, chunk = frame
        try:
            reply = (index, function(*fixed, chunk))
        except Exception:
            reply = (index, None, traceback.format_exc())
        _write_frame(stdout, reply)


if __name__ == "__main__":
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what happens,
    # and a child that sees its stdin close (the parent gone) simply ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve(sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:
        pass
