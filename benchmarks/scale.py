"""How `feedpub build` scales with the number of seeds, measured against floors and a naive baseline.

    python benchmarks/scale.py --count 100000 [--repeat 3] [--workers N] [--keep DIR]
                               [--tmp DIR] [--make-seeds PATH] [--seed S] [--json FILE]

One run does everything, so the ratios compare numbers taken on the same machine minutes apart:

1. Generates COUNT seeds with ../shared/bench/make_seeds.py into a fresh folder (a new
   `feedpub-scale-*` folder under --tmp, by default the system temp folder when it is on the same
   file system as this repository, else the repository's parent folder), plus COUNT/10 seeds in a
   second folder to show that output sizes do not depend on the number of seeds. Then `sync`.
2. Warm-up: one untimed read of every seed file, so the page cache holds the seeds for every
   contender equally. Nothing is dropped from the cache (that needs root); every timed row reads
   from memory.
3. Times each row REPEAT times, each run a fresh subprocess (interpreter start-up included in
   every row; the "python startup" row shows how much that is):
     python startup        `python -c pass`, for context
     read floor            scandir, then open + read every seed file's bytes, in Python
     stat floor            scandir + stat of every seed file, in Python
     fingerprint floor     benchmarks/fingerprint_floor.py: open, fstat, read, decode and SHA-256
                           every seed in N processes, a line each back to the parent: what any
                           cold build must do before it parses anything
     naive baseline        benchmarks/naive.py: feedpub's reader on every seed, all into feedgen
     build cold            `feedpub build` into a fresh folder: no record, no cache
     build cold, 1 worker  the same with `--workers 1` (no process pool), when N > 1
     build fresh clone     `feedpub build` into a fresh folder holding the last cold build's
                           record and outputs but no scan cache: what a CI job building a fresh
                           checkout of the project does
     build no change       rebuild of the last cold build's state, nothing changed
     build one new seed    rebuild after writing one new seed (a new one for each run)
     build one edit        rebuild after appending a sentence to a body paragraph of one
                           generated seed (the newest one the latest feed lists, if found)
   `--workers N` is passed to `feedpub build` when its --help lists that option (default: the
   usable CPUs); otherwise builds run as the CLI stands.
   The four short rows (stat floor, no change, one new seed, one edit) run in rounds, one run of
   each per round, so that the two sides of each of their ratios meet the same moments of a
   shared machine, whose slow spells last seconds. After a change, an untimed build runs 2.1 s
   later (past feedpub's racy window), so the next no-change build has nothing to re-read and
   each one-new-seed build reads one file.

Peak RSS, for the whole process tree: while a command runs, a thread walks its process tree every
20 ms (/proc/<pid>/task/<tid>/children, or a scan of /proc/*/stat where that file is missing) and
keeps each process's last-seen VmHWM from /proc/<pid>/status (VmHWM only grows, so the last value
seen is that process's peak up to that moment). The quoted figure is the sum over every process
seen: the honest upper bound for a pool of workers, which need not all be at their peak at once
and count pages shared copy-on-write once per process. For the direct child the polled value is
raised to `os.wait4`'s ru_maxrss, which catches a peak in the last 20 ms before exit, but only when
ru_maxrss exceeds this script's own peak: the kernel folds the image the child was forked from (this
script) into that figure, as well as the child's reaped descendants, so a smaller value may not be
the child's at all. A descendant that lives less than 20 ms is missed.
Figures are MB of 1,000,000 bytes; each row quotes the largest over its runs.

Wall time is from just before the subprocess starts until `wait4` returns; the median is quoted
with min and max. Builds run with the working folder as cwd and no FEEDPUB_* variables in their
environment, and with this repository first on PYTHONPATH so this checkout is what is measured.

Prints a table and the ratios (with the targets of issue 5). --json FILE saves every number.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MAKE_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_seeds.py"
NAIVE = Path(__file__).resolve().parent / "naive.py"
FINGERPRINT_FLOOR = Path(__file__).resolve().parent / "fingerprint_floor.py"
POLL_SECONDS = 0.02
RACY_SECONDS = 2.1  # feedpub re-reads files modified within 2 s of its last scan
MB = 1_000_000

READ_FLOOR = """\
import os, sys
files = size = 0
for entry in os.scandir(sys.argv[1]):
    with open(entry.path, "rb") as f:
        size += len(f.read())
    files += 1
print(files, size)
"""
STAT_FLOOR = """\
import os, sys
files = 0
for entry in os.scandir(sys.argv[1]):
    entry.stat()
    files += 1
print(files)
"""

# Row names, in table order; tests/test_benchmarks.py checks every one is printed.
STARTUP, READ, STAT, NAIVE_ROW = "python startup", "read floor", "stat floor", "naive baseline"
FINGERPRINT = "fingerprint floor"
COLD, NO_CHANGE, NEW, EDIT = "build cold", "build no change", "build one new seed", "build one edit"
COLD_ONE = "build cold, 1 worker"
CLONE = "build fresh clone"
ROWS = (STARTUP, READ, STAT, FINGERPRINT, NAIVE_ROW, COLD, COLD_ONE, CLONE, NO_CHANGE, NEW, EDIT)

# Targets from issue 5, printed next to the ratios.
TARGET_COLD_OVER_READ = 2.0
TARGET_BASELINE_OVER_COLD = 3.0
TARGET_NO_CHANGE_OVER_STAT = 2.0
TARGET_INCREMENT_SECONDS = 0.2
TARGET_RSS_MB = 150.0


class BenchError(Exception):
    """A step failed; the message says which and how."""


# --- measuring one subprocess ----------------------------------------------------------------


@dataclass
class Run:
    """One measured subprocess."""

    wall: float
    rss_mb: float
    processes: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return kids


def _children_by_scan(pid: int) -> list[int]:
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid follows the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(name))
    return kids


HAVE_CHILDREN_FILE = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
children_of = _children if HAVE_CHILDREN_FILE else _children_by_scan


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None  # a zombie has no memory lines


class TreeWatcher(threading.Thread):
    """Polls the VmHWM of every process under `root` until stopped; keeps each one's last value."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.hwm_kb: dict[int, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(POLL_SECONDS)

    def sample(self) -> None:
        todo = [self.root]
        while todo:
            pid = todo.pop()
            kb = _vm_hwm_kb(pid)
            if kb is not None:
                self.hwm_kb[pid] = kb
            todo.extend(children_of(pid))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_measured(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> Run:
    """Run `cmd`, timing it and watching the peak RSS of its process tree. Raises BenchError."""
    launcher_kb = _vm_hwm_kb(os.getpid()) or 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        # Output goes to files, not pipes: nobody reads a pipe while we sit in wait4.
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        watcher = TreeWatcher(proc.pid)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        watcher.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{tail}")
    peaks = dict(watcher.hwm_kb)
    # ru_maxrss (KiB on Linux) also covers the image the child was forked from, this script: only a
    # figure above this script's own peak can be the child's, so only then does it count.
    if usage.ru_maxrss > launcher_kb or proc.pid not in peaks:
        peaks[proc.pid] = max(peaks.get(proc.pid, 0), usage.ru_maxrss)
    rss_mb = sum(peaks.values()) * 1024 / MB
    return Run(wall, rss_mb, len(peaks), stdout, stderr)


@dataclass
class Row:
    """Every run of one table row."""

    name: str
    cmd: list[str]
    runs: list[Run] = field(default_factory=list)
    written: list[int] = field(default_factory=list)  # files written, for feedpub builds

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    def as_dict(self) -> dict:
        return {
            "cmd": self.cmd,
            "wall_s": self.walls,
            "median_s": self.median,
            "min_s": min(self.walls),
            "max_s": max(self.walls),
            "peak_rss_mb": [r.rss_mb for r in self.runs],
            "processes_seen": [r.processes for r in self.runs],
            "files_written": self.written,
        }


# --- the scenario ------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment for every measured command: no FEEDPUB_* settings, this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDPUB_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def feedpub_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "feedpub", *args]


def build_supports_workers(env: dict[str, str]) -> bool:
    """Whether `feedpub build --help` lists a --workers option."""
    done = subprocess.run(feedpub_cmd("build", "--help"), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"feedpub build --help failed:\n{done.stderr.strip()}")
    return "--workers" in done.stdout


def build_cmd(seeds: Path, state: Path, workers: int | None) -> list[str]:
    """`feedpub build` with its output folder and record in the folder `state`."""
    cmd = feedpub_cmd(
        "build", "--seeds", str(seeds), "--out", str(state / "out"), "--record", str(state / "record.jsonl"), "--json"
    )
    if workers is not None:
        cmd += ["--workers", str(workers)]
    return cmd


def files_written(run: Run) -> int:
    """How many files the build reports written, from its --json summary (-1 if unreadable)."""
    try:
        return len(json.loads(run.stdout)["written"])
    except (ValueError, KeyError, TypeError):
        return -1


def generate(make_seeds: Path, outdir: Path, count: int, seed: int) -> float:
    """Write the seeds with make_seeds.py; returns the seconds it took."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(make_seeds), str(outdir), "--count", str(count), "--seed", str(seed), "-q"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"{make_seeds} failed:\n{done.stderr.strip()}")
    return time.perf_counter() - start


def warm_up(seeds: Path) -> tuple[int, int]:
    """Read every seed once so the page cache holds them all; returns (files, bytes)."""
    files = size = 0
    for entry in os.scandir(seeds):
        with open(entry.path, "rb") as f:
            size += len(f.read())
        files += 1
    return files, size


def tree_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) of every regular file under `folder`."""
    files = size = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            st = os.stat(os.path.join(dirpath, name), follow_symlinks=False)
            files += 1
            size += st.st_size
    return files, size


def write_new_seed(seeds: Path, seq: int, n: int) -> Path:
    """A new Flash News seed with a fresh key and no date line: first seen now, so it belongs at the
    top of the feeds (a stated date has only minutes, which would rank it below seeds generated
    earlier in the same minute)."""
    key = hashlib.sha256(f"feedpub-scale-new-{n}".encode()).hexdigest()[:16]
    text = (
        "Flash News\n\n\n"
        f"Reuters: Benchmark story {n} arrives just before the rebuild\n\n"
        f"Officials said on Monday that story {n} was written moments before the build started. "
        "The rebuild should pick it up without reading every other seed again.\n\n"
        "A second paragraph gives the seed the shape of a scraped article, with the publisher "
        "credit glued to its last sentence./VOA\n\n\n"
        "Latest news"
    )
    path = seeds / f"{seq:06d}_{key}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def seed_to_edit(seeds: Path, state: Path, first_new_seq: int) -> Path:
    """The newest generated seed the latest feed lists, else the middle one by name."""
    by_key = {}
    for entry in os.scandir(seeds):
        stem = entry.name.rsplit(".", 1)[0]
        seq, _, key = stem.partition("_")
        if seq.isdigit() and int(seq) < first_new_seq:
            by_key[key] = Path(entry.path)
    feed = state / "out" / "latest.xml"
    if feed.exists():
        for key in re.findall(r"items/([0-9A-Za-z_-]+)\.html", feed.read_text(encoding="utf-8", errors="replace")):
            if key in by_key:
                return by_key[key]
    names = sorted(by_key)
    return by_key[names[len(names) // 2]]


def append_sentence(path: Path, n: int) -> None:
    """Append a sentence to the first body paragraph (the first block ending with a full stop)."""
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    sentence = f" Officials said a further review was planned, revision {n} of this story."
    for i, block in enumerate(blocks[1:], start=1):
        if len(block) > 80 and block.rstrip().endswith("."):
            blocks[i] = block.rstrip() + sentence
            break
    else:
        raise BenchError(f"{path}: no body paragraph ending with a full stop to edit")
    path.write_text("\n\n".join(blocks), encoding="utf-8")


def fs_type(path: Path) -> str:
    """The file system type holding `path`, from /proc/mounts ('?' if unknown)."""
    best, kind = "", "?"
    real = os.path.realpath(path)
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mount = parts[1].replace("\\040", " ")
                if (real == mount or real.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                    best, kind = mount, parts[2]
    except OSError:
        pass
    return kind


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as the kernel prints them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def default_tmp() -> Path:
    """The system temp folder if it is on the repository's file system, else the repository's parent."""
    tmp = Path(tempfile.gettempdir())
    if os.stat(tmp).st_dev == os.stat(REPO).st_dev:
        return tmp
    return REPO.parent


# --- reporting -----------------------------------------------------------------------------------


def format_table(rows: dict[str, Row]) -> list[str]:
    lines = [f"{'command':<22} {'runs':>4} {'median s':>9} {'min s':>8} {'max s':>8} {'peak RSS MB':>12} {'written':>8}"]
    for name in ROWS:
        if name not in rows:
            continue
        row = rows[name]
        written = "-"
        if row.written:
            lo, hi = min(row.written), max(row.written)
            written = str(lo) if lo == hi else f"{lo}-{hi}"
        lines.append(
            f"{name:<22} {len(row.runs):>4} {row.median:>9.3f} {min(row.walls):>8.3f} {max(row.walls):>8.3f}"
            f" {row.rss_mb:>12.1f} {written:>8}"
        )
    return lines


def compute_ratios(rows: dict[str, Row]) -> dict[str, float]:
    m = {name: row.median for name, row in rows.items()}
    return {
        "cold_over_read_floor": m[COLD] / m[READ],
        "fingerprint_floor_over_read_floor": m[FINGERPRINT] / m[READ],
        "cold_over_fingerprint_floor": m[COLD] / m[FINGERPRINT],
        "cold_over_baseline": m[COLD] / m[NAIVE_ROW],
        "no_change_over_stat_floor": m[NO_CHANGE] / m[STAT],
        "new_minus_no_change_s": m[NEW] - m[NO_CHANGE],
        "edit_minus_no_change_s": m[EDIT] - m[NO_CHANGE],
        "max_build_rss_mb": max(rows[n].rss_mb for n in (COLD, NO_CHANGE, NEW, EDIT)),
        **({"cold_one_worker_rss_mb": rows[COLD_ONE].rss_mb, "cold_one_worker_over_baseline": m[COLD_ONE] / m[NAIVE_ROW]}
           if COLD_ONE in rows else {}),
    }


def format_ratios(r: dict[str, float]) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    speedup = 1 / r["cold_over_baseline"] if r["cold_over_baseline"] else float("inf")
    return [
        "ratios (medians; targets from issue 5):",
        f"  cold / read floor          {r['cold_over_read_floor']:8.2f}   target <= {TARGET_COLD_OVER_READ:g}"
        f"   {verdict(r['cold_over_read_floor'] <= TARGET_COLD_OVER_READ)}",
        f"  fingerprint floor / read   {r['fingerprint_floor_over_read_floor']:8.2f}   (no target: what a cold build"
        f" must spend before parsing; 2 - this is what the target leaves for everything else)",
        f"  cold / fingerprint floor   {r['cold_over_fingerprint_floor']:8.2f}   (no target)",
        f"  cold / baseline            {r['cold_over_baseline']:8.2f}   target <= {1 / TARGET_BASELINE_OVER_COLD:.2f}"
        f"   {verdict(speedup >= TARGET_BASELINE_OVER_COLD)} (cold is {speedup:.2f}x as fast as the baseline;"
        f" >= {TARGET_BASELINE_OVER_COLD:g}x wanted)",
        f"  no change / stat floor     {r['no_change_over_stat_floor']:8.2f}   target <= {TARGET_NO_CHANGE_OVER_STAT:g}"
        f"   {verdict(r['no_change_over_stat_floor'] <= TARGET_NO_CHANGE_OVER_STAT)}",
        f"  one new seed - no change   {r['new_minus_no_change_s']:+8.3f} s target <= +{TARGET_INCREMENT_SECONDS:g} s"
        f"   {verdict(r['new_minus_no_change_s'] <= TARGET_INCREMENT_SECONDS)}",
        f"  one edit - no change       {r['edit_minus_no_change_s']:+8.3f} s target <= +{TARGET_INCREMENT_SECONDS:g} s"
        f"   {verdict(r['edit_minus_no_change_s'] <= TARGET_INCREMENT_SECONDS)}",
        f"  peak RSS of any build      {r['max_build_rss_mb']:8.1f} MB target <= {TARGET_RSS_MB:g} MB"
        f"   {verdict(r['max_build_rss_mb'] <= TARGET_RSS_MB)}",
    ] + ([
        f"  cold, 1 worker: peak RSS   {r['cold_one_worker_rss_mb']:8.1f} MB target <= {TARGET_RSS_MB:g} MB"
        f"   {verdict(r['cold_one_worker_rss_mb'] <= TARGET_RSS_MB)}"
        f" (and {1 / r['cold_one_worker_over_baseline']:.2f}x as fast as the baseline)",
    ] if "cold_one_worker_rss_mb" in r else [])


def say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def note(text: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(f"[scale] {text}", file=sys.stderr, flush=True)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Time feedpub build at scale against read/stat floors and a naive feedgen baseline.",
        epilog="Example: python benchmarks/scale.py --count 100000 --repeat 3 --json /tmp/bench.json",
    )
    p.add_argument("--count", type=int, default=100_000, help="number of seeds to generate (default 100000)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each row; the median is quoted (default 3)")
    p.add_argument(
        "--workers", type=int, help="passed to `feedpub build --workers` when it has that option (default: usable CPUs)"
    )
    p.add_argument("--tmp", type=Path, help="where to create the fresh working folder (default: the system temp folder "
                   "when it is on the repository's file system, else the repository's parent)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR (new or empty) and keep it afterwards")
    p.add_argument("--make-seeds", type=Path, default=DEFAULT_MAKE_SEEDS, help=f"generator (default {DEFAULT_MAKE_SEEDS})")
    p.add_argument("--seed", type=int, default=1, help="make_seeds.py --seed (default 1)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also save every number as JSON")
    args = p.parse_args(argv)
    if args.count < 10:
        p.error("--count must be at least 10")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.workers is not None and args.workers < 1:
        p.error("--workers must be at least 1")
    if not args.make_seeds.is_file():
        p.error(f"{args.make_seeds}: generator not found (use --make-seeds PATH)")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        p.error(f"{args.keep}: not empty; --keep needs a new or empty folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="feedpub-scale-", dir=args.tmp or default_tmp()))
    try:
        return run_benchmark(args, work)
    except BenchError as e:
        print(f"scale.py: {e}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            note(f"removing {work}")
            shutil.rmtree(work, ignore_errors=True)


def run_benchmark(args: argparse.Namespace, work: Path) -> int:
    env = child_env()
    # An installed feedpub has its bytecode; a checkout may not, and with PYTHONDONTWRITEBYTECODE
    # set every run would compile the package again (tens of ms): compile it once, untimed.
    compileall.compile_dir(str(REPO / "feedpub"), quiet=1)
    cpus = len(os.sched_getaffinity(0))
    workers = None
    if build_supports_workers(env):
        workers = args.workers or cpus
    elif args.workers:
        note("feedpub build has no --workers option yet: builds run without it")

    seeds, small = work / "seeds", work / "seeds-small"
    small_count = max(1, args.count // 10)
    note(f"generating {args.count} seeds in {seeds}")
    gen_s = generate(args.make_seeds, seeds, args.count, args.seed)
    generate(args.make_seeds, small, small_count, args.seed)
    os.sync()  # so write-back of the fresh files does not run under the timed commands
    files, size = warm_up(seeds)
    warm_up(small)
    if files != args.count:
        raise BenchError(f"{seeds}: {files} files, expected {args.count}")

    say(
        f"feedpub scale benchmark: {files:,} seeds ({size / MB:.1f} MB, avg {size // files:,} B), "
        f"make_seeds.py --seed {args.seed}, generated in {gen_s:.1f} s",
        f"working folder: {work} ({fs_type(work)})",
        f"machine: {platform.python_implementation()} {platform.python_version()}, {cpus} usable CPUs, "
        f"{platform.system()} {platform.release()}, load average {load_average()} before timing",
        "feedpub build: "
        + (f"--workers {workers}" if workers is not None else "no --workers option, one process"),
        "page cache: no cache drop (needs root); a warm-up read of every seed ran before timing, "
        "so every contender reads the seeds from memory",
        f"each row: {args.repeat} run(s) in a fresh subprocess, wall s (median, min, max); peak RSS = "
        "sum of VmHWM over the process tree, largest run",
        "",
    )

    rows: dict[str, Row] = {}

    def measure_once(name: str, cmd: list[str], i: int, *, feedpub: bool = False) -> None:
        row = rows.setdefault(name, Row(name, cmd))
        row.cmd = cmd
        note(f"{name}: run {i + 1}/{args.repeat}")
        run = run_measured(cmd, cwd=work, env=env)
        row.runs.append(run)
        if feedpub:
            row.written.append(files_written(run))

    def measure(name: str, cmd: list[str], *, before=None, feedpub: bool = False) -> None:
        for i in range(args.repeat):
            measure_once(name, before(i) if before else cmd, i, feedpub=feedpub)

    measure(STARTUP, [sys.executable, "-c", "pass"])
    measure(READ, [sys.executable, "-c", READ_FLOOR, str(seeds)])
    measure(FINGERPRINT, [sys.executable, str(FINGERPRINT_FLOOR), str(seeds), "--workers", str(workers or 1)])
    naive_out = work / "naive.xml"
    measure(NAIVE_ROW, [sys.executable, str(NAIVE), str(seeds), str(naive_out)])

    def cold_state(i: int) -> list[str]:
        state = work / f"cold-{i}"
        state.mkdir()
        return build_cmd(seeds, state, workers)

    measure(COLD, [], before=cold_state, feedpub=True)
    if workers and workers > 1:
        # The same cold build without the pool: slower, but one process (the memory target).
        def cold_one_state(i: int) -> list[str]:
            state = work / f"cold-one-{i}"
            state.mkdir()
            return build_cmd(seeds, state, 1)

        measure(COLD_ONE, [], before=cold_one_state, feedpub=True)
    state = work / f"cold-{args.repeat - 1}"

    def clone_state(i: int) -> list[str]:
        """A checkout's state: the committed record and outputs, no scan cache (it is per machine)."""
        clone = work / f"clone-{i}"
        clone.mkdir()
        shutil.copyfile(state / "record.jsonl", clone / "record.jsonl")
        shutil.copytree(state / "out", clone / "out")
        return build_cmd(seeds, clone, workers)

    measure(CLONE, [], before=clone_state, feedpub=True)
    rebuild = build_cmd(seeds, state, workers)
    first_new_seq = 10 ** len(str(args.count))  # above every generated sequence number
    edited = seed_to_edit(seeds, state, first_new_seq)

    def settle() -> None:
        """An untimed build once the racy window is over: the last change is then behind the
        cache, so the next no-change build finds nothing to re-read."""
        time.sleep(RACY_SECONDS)
        run_measured(rebuild, cwd=work, env=env)

    # The short rows go in rounds, so that each ratio's two sides meet the same moments of a
    # shared machine (its slow spells last seconds): stat floor, no change, one new seed, one edit.
    stat_cmd = [sys.executable, "-c", STAT_FLOOR, str(seeds)]
    for i in range(args.repeat):
        measure_once(STAT, stat_cmd, i)
        measure_once(NO_CHANGE, rebuild, i, feedpub=True)
        write_new_seed(seeds, first_new_seq + i, i)
        measure_once(NEW, rebuild, i, feedpub=True)
        settle()
        append_sentence(edited, i)
        measure_once(EDIT, rebuild, i, feedpub=True)
        settle()

    small_state = work / "small"
    small_state.mkdir()
    small_run = run_measured(build_cmd(small, small_state, workers), cwd=work, env=env)
    out_files, out_bytes = tree_size(state / "out")
    small_files, small_bytes = tree_size(small_state / "out")
    naive_bytes = naive_out.stat().st_size

    ratios = compute_ratios(rows)
    say(*format_table(rows), "")
    say(f"load average {load_average()} after timing (other work on the machine makes rows noisier)")
    say(
        f"outputs: feedpub {out_files} files, {out_bytes:,} B at {files:,} seeds (after the runs above); "
        f"{small_files} files, {small_bytes:,} B at {small_count:,} seeds (one cold build, "
        f"{small_run.wall:.2f} s); naive baseline one file of {naive_bytes:,} B",
        f"edited seed: {edited.name}",
        "",
    )
    say(*format_ratios(ratios))

    if args.json:
        result = {
            "count": files,
            "seed_bytes": size,
            "generate_s": gen_s,
            "working_folder": str(work),
            "fs_type": fs_type(work),
            "python": platform.python_version(),
            "cpus": cpus,
            "workers": workers,
            "repeat": args.repeat,
            "rss_method": "sum over the process tree of last-seen VmHWM, polled every 20 ms; "
            "direct child raised to wait4 ru_maxrss",
            "load_average_end": os.getloadavg(),
            "rows": {name: rows[name].as_dict() for name in ROWS if name in rows},
            "ratios": ratios,
            "outputs": {
                "feedpub": {"seeds": files, "files": out_files, "bytes": out_bytes},
                "feedpub_small": {"seeds": small_count, "files": small_files, "bytes": small_bytes},
                "naive_bytes": naive_bytes,
            },
            "edited_seed": edited.name,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
