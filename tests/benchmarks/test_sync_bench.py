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
        timeout=240,  # a loaded CI machine (xdist workers beside it) is slow, not broken
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


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("", ["sqlite"]),
        ("sqlite:////tmp/x.sqlite3", ["sqlite"]),
        ("postgres://postgres@127.0.0.1:5432/postgres", ["sqlite", "postgres"]),
    ],
)
def test_all_runs_every_benchmark_on_sqlite_and_on_postgresql_when_configured(
    monkeypatch, database_url, expected
):
    from benchmarks import __main__ as runner

    runs = []

    def fake_run(command, env):
        url = env.get("DATABASE_URL", "")
        runs.append((command[3], "postgres" if url.startswith("postgres") else "sqlite", command))
        return subprocess.CompletedProcess(command, 1 if command[3] == "pages" else 0)

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(runner.subprocess, "run", fake_run)

    assert runner.main(["all", "--quick"]) == 1  # the worst exit status
    every = list(runner.BENCHMARKS)
    assert [database for _, database, _ in runs] == [db for db in expected for _ in every]
    assert [name for name, _, _ in runs] == every * len(expected)
    assert all(command[-1] == "--quick" for _, _, command in runs)
