"""The sync benchmark runs end to end in --quick mode, so it cannot rot unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "sync throughput, limits off",
    "re-run with nothing changed: decisions",
    "fraction of the ceiling",
    "429s received",
    "SQL queries per session",
    "peak memory",
)


@pytest.mark.slow
def test_the_sync_benchmark_runs_quickly_and_prints_every_figure():
    # Its own process: the benchmark configures Django and its database itself.
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "sync", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Exit status 1 means a target was missed on this machine; anything else is a crash.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    for figure in FIGURES:
        assert figure in result.stdout, result.stdout
    rows = {line.strip().split("  ")[0]: line for line in result.stdout.splitlines()}
    assert " 0 (" in rows["re-run with nothing changed: decisions"]
    assert rows["429s received"].split()[2] == "0"


def test_an_unknown_benchmark_prints_the_list(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "nope"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "sync" in result.stdout
