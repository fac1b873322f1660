"""The least a cold build must do with every seed, in N processes: what is left for parsing.

    python benchmarks/fingerprint_floor.py SEEDS_DIR [--workers N]

A cold build has to know every seed's text, not only its bytes: the record keeps each seed's
fingerprint, so that a later build can tell an edit from a file merely saved again. So for each
file this does the work no reader can skip, and nothing more: open it relative to the open
folder, fstat it, read it, decode it as UTF-8, take the SHA-256 of the text, and send one line
(name, size, mtime, inode, ctime, digest) back to the parent, which keeps every line. Chunks of
500 names go to a pool of N processes (default 2) while the parent only collects: a little more
than feedpub's N (the build process and N - 1 children), so the floor errs low. No
parsing, no normalising, no record, no outputs: `feedpub build` cold minus this row is what
feedpub's reading, choosing and writing cost on top of the floor any reader stands on.

Prints the number of lines and of bytes hashed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from multiprocessing import Pool

CHUNK = 500


def fingerprint_chunk(folder: str, names: list[str]) -> list[str]:
    lines = []
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
            try:
                st = os.fstat(fd)
                data = os.read(fd, st.st_size + 1)
            finally:
                os.close(fd)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252", "replace")
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            lines.append(f"{name}\t{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}\t{digest}")
    finally:
        os.close(dir_fd)
    return lines


def _job(args: tuple[str, list[str]]) -> list[str]:
    return fingerprint_chunk(*args)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Read, decode and hash every seed in N processes: a cold build's floor.")
    p.add_argument("seeds", help="the seeds folder")
    p.add_argument("--workers", type=int, default=2, help="reading processes; the parent only collects (default 2)")
    args = p.parse_args(argv)
    names = [entry.name for entry in os.scandir(args.seeds) if entry.is_file() and not entry.name.startswith(".")]
    chunks = [(args.seeds, names[i : i + CHUNK]) for i in range(0, len(names), CHUNK)]
    if args.workers > 1:
        with Pool(args.workers) as pool:
            lines = [line for chunk in pool.imap(_job, chunks) for line in chunk]
    else:
        lines = [line for chunk in map(_job, chunks) for line in chunk]
    print(len(lines), sum(int(line.split("\t")[1].split(":")[0]) for line in lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
