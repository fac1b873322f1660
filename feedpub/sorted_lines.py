"""Files of lines sorted by a key, read and changed without parsing them all.

The record and the scan cache hold one line per seed, 100,000 lines in a large project. A build
that touches a few seeds finds their lines by binary search in the file's bytes and writes the
new file by splicing the changed lines in: the cost grows with the change, not with the project.
"""

from __future__ import annotations

from typing import Callable, Mapping

KeyOf = Callable[[bytes], str]  # a line (without its "\n") -> its key


def locate(data: bytes, key: str, key_of: KeyOf, start: int = 0) -> tuple[int, int, bool]:
    """(start, end, found): the byte range of the key's line (with its "\\n"), or where it would go.

    `data[start:]` is whole lines, each ending in "\\n", sorted by key.
    """
    lo, hi = start, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        start = max(data.rfind(b"\n", lo, mid) + 1, lo)
        end = data.index(b"\n", start)
        here = key_of(data[start:end])
        if here == key:
            return start, end + 1, True
        if here < key:
            lo = end + 1
        else:
            hi = start
    return lo, lo, False


def find(data: bytes, key: str, key_of: KeyOf) -> bytes | None:
    """The key's line without its "\\n", or None."""
    start, end, found = locate(data, key, key_of)
    return data[start : end - 1] if found else None


def splice_pieces(data: bytes, changes: Mapping[str, bytes | None], key_of: KeyOf, start: int = 0) -> list[bytes | memoryview]:
    """`data[start:]` with each changed key's line replaced, inserted (new key) or removed (None),
    as pieces to write one after another: views of `data` between the changes, so that neither
    joining nor slicing copies 20 MB for nothing."""
    if start >= len(data):  # no lines to splice into (a first build): the new ones, in order
        pieces = []
        for key in sorted(changes):
            line = changes[key]
            if line is not None:
                pieces += (line, b"\n")
        return pieces
    view = memoryview(data)
    pieces, pos = [], start
    for key in sorted(changes):
        start, end, found = locate(data, key, key_of, pos)
        pieces.append(view[pos:start])
        line = changes[key]
        if line is not None:
            pieces += (line, b"\n")  # not line + b"\n": 100,000 copies of the lines otherwise
        pos = end if found else start
    pieces.append(view[pos:])
    return pieces
