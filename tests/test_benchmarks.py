"""Smoke test for benchmarks/scale.py: the whole scenario runs and reports every row (it needs ../shared/bench);
the fingerprint floor does what it says. No timings checked."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCALE = REPO / "benchmarks" / "scale.py"
MAKE_SEEDS = REPO.parent / "shared" / "bench" / "make_seeds.py"

ROWS = (
    "python startup",
    "read floor",
    "stat floor",
    "fingerprint floor",
    "naive baseline",
    "build cold",
    "build cold, 1 worker",
    "build fresh clone",
    "build no change",
    "build one new seed",
    "build one edit",
)
RATIOS = (
    "cold / read floor",
    "fingerprint floor / read",
    "cold / fingerprint floor",
    "cold / baseline",
    "no change / stat floor",
    "one new seed - no change",
    "one edit - no change",
    "peak RSS of any build",
    "cold, 1 worker: peak RSS",
)

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    if not MAKE_SEEDS.is_file():
        pytest.skip(f"{MAKE_SEEDS} not found (../shared/bench)")
    tmp = tmp_path_factory.mktemp("scale")
    saved = tmp / "bench.json"
    done = subprocess.run(
        [sys.executable, str(SCALE), "--count", "200", "--repeat", "1", "--workers", "2", "--tmp", str(tmp), "--json", str(saved)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(saved.read_text()), tmp


def test_table_has_every_row(bench):
    stdout, _, _ = bench
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("command "))
    table = lines[header + 1 : header + 1 + len(ROWS)]
    assert [line[:22].rstrip() for line in table] == list(ROWS)
    for line in table:
        assert len(line.split()) >= 6  # name words, runs, median, min, max, RSS, written


def test_ratios_are_printed(bench):
    stdout, _, _ = bench
    assert "ratios (medians; targets from issue 5):" in stdout
    for label in RATIOS:
        assert f"  {label} " in stdout


def test_json_holds_every_row_and_the_run_counts(bench):
    _, saved, _ = bench
    assert saved["count"] == 200
    assert list(saved["rows"]) == list(ROWS)
    for row in saved["rows"].values():
        assert len(row["wall_s"]) == 1
        assert all(mb > 0 for mb in row["peak_rss_mb"])
    assert set(saved["ratios"]) >= {
        "cold_over_read_floor", "fingerprint_floor_over_read_floor", "cold_over_fingerprint_floor",
        "cold_over_baseline", "no_change_over_stat_floor",
    }
    assert saved["outputs"]["feedpub"]["files"] > 0


def test_new_seed_and_edit_reach_the_outputs(bench):
    _, saved, _ = bench
    assert all(n > 0 for n in saved["rows"]["build cold"]["files_written"])
    assert saved["rows"]["build fresh clone"]["files_written"] == [0]  # the same feeds, from the record
    assert all(n > 0 for n in saved["rows"]["build one new seed"]["files_written"])
    assert all(n > 0 for n in saved["rows"]["build one edit"]["files_written"])


def test_working_folder_is_removed(bench):
    _, _, tmp = bench
    assert [p.name for p in tmp.iterdir()] == ["bench.json"]


def test_fingerprint_floor_reads_decodes_and_hashes_every_seed(tmp_path):
    """The floor row does the work it claims: every file read whole, its text hashed."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from fingerprint_floor import CHUNK, fingerprint_chunk
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    texts = {"001_a.txt": "World\n\nA headline\n\nBody.", "002_b.txt": "caf\u00e9 " * 2000, "003_c.txt": "x"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    lines = fingerprint_chunk(str(tmp_path), sorted(texts))
    assert CHUNK == 500
    for line, name in zip(lines, sorted(texts)):
        got_name, numbers, digest = line.split("\t")
        assert got_name == name
        assert int(numbers.split(":")[0]) == len(texts[name].encode("utf-8"))
        assert digest == hashlib.sha256(texts[name].encode("utf-8")).hexdigest()[:32]
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "fingerprint_floor.py"), str(tmp_path), "--workers", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", str(sum(len(t.encode("utf-8")) for t in texts.values()))]
