"""The queue and pages benchmarks run end to end in --smoke mode, so they cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(*args: str) -> subprocess.CompletedProcess:
    # Its own process: the benchmark configures Django and its database itself. It gets
    # this run's database server, if any: the benchmark makes a database of its own there.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Exit status 1 means a target was missed on this machine; anything else is a crash.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_the_queue_benchmark_prints_queue_and_admin_side_by_side():
    out = run_benchmark("queue", "--smoke").stdout
    for figure in ("Queue vs admin changelist", "first page", "status filter", "search"):
        assert figure in out, out
    assert "admin/queue" in out and "Growth 100 -> 200 sessions" in out, out


@pytest.mark.slow
def test_the_pages_benchmark_prints_the_session_page_and_both_reports():
    out = run_benchmark("pages", "--smoke").stdout
    for figure in ("Session page and compliance PDF", "User report PDF", "Growth: session page"):
        assert figure in out, out
