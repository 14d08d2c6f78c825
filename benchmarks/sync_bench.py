"""Sync benchmark against in-process sandbox Didit servers (issue 3, "Done when").

Prints, side by side: sync throughput with rate limits off; decisions per window achieved
with Didit's limits on (on a scaled window, so the run stays short) as a fraction of the
ceiling, and the 429s received; decision calls made by a re-run with nothing changed; SQL
queries per session at two sizes; tracemalloc peak at two sizes. Targets in brackets.

The database is a temporary SQLite file, or, with ``DATABASE_URL`` set, a throw-away test
database created next to that one (Django's test-database machinery) and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sandbox-api-key"


@dataclass(frozen=True)
class Plan:
    throughput: tuple[int, int]  # two sizes synced with limits off
    queries: tuple[int, int]  # two sizes for SQL queries per session
    memory: tuple[int, int]  # two sizes for the tracemalloc peak
    limited: int  # sessions synced under the rate limit
    window: float  # the scaled rate-limit window, seconds (Didit's is 60)


FULL = Plan(throughput=(250, 1000), queries=(100, 400), memory=(1000, 10000), limited=500, window=6)
QUICK = Plan(throughput=(20, 40), queries=(10, 30), memory=(100, 130), limited=120, window=2.5)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sync", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    with django_database():
        rows = run(plan, seed=args.seed, quick=args.quick)
    return 0 if all(row.ok for row in rows) else 1


# --- Django, on a database of our own -------------------------------------------------------


class django_database:
    """Configure Django, create and migrate a scratch database; drop it on exit."""

    def __enter__(self):
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "didit_console.settings")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
        # Production's task backend: each stored decision only enqueues its evidence archive
        # (benchmarks/archive_bench.py measures the archiving itself).
        os.environ["TASKS_BACKEND"] = "database"
        self.tmp = None
        if not os.environ.get("DATABASE_URL"):
            self.tmp = tempfile.TemporaryDirectory(prefix="didit-bench-")
            os.environ["DATABASE_URL"] = f"sqlite:///{self.tmp.name}/bench.sqlite3"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        self.connection = connection
        self.old_name = None
        if connection.vendor == "sqlite":
            call_command("migrate", verbosity=0)
        else:
            self.old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        return self

    def __exit__(self, *exc) -> None:
        if self.old_name is not None:
            self.connection.creation.destroy_test_db(self.old_name, verbosity=0)
        if self.tmp is not None:
            self.connection.close()
            self.tmp.cleanup()


def wipe() -> None:
    """Empty every synced table, fast (no cascade collection in Python)."""
    from users.models import DiditUser
    from verifications import models as m

    for model in (
        m.SessionIdentifier,
        m.Evidence,
        m.AmlHit,
        m.SessionWarning,
        m.Review,
        m.DocumentData,
        m.FaceCheck,
        m.AmlScreening,
        m.IpAnalysis,
        m.VerificationSession,
        DiditUser,
        m.SyncRun,
    ):
        model.objects.all()._raw_delete(model.objects.db)


# --- Measurements ---------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    ok: bool = True


def sandbox(sessions: int, seed: int, **config):
    from verifications.didit.sandbox.config import SandboxConfig
    from verifications.didit.sandbox.server import SandboxServer

    return SandboxServer(SandboxConfig(sessions=sessions, seed=seed, **config)).start()


def client_for(server, **overrides):
    from verifications.didit.client import DiditClient

    options = {
        "verification_url": server.base_url,
        "auth_url": server.base_url,
        "api_key": API_KEY,
        "rate_limits": None,
        **overrides,
    }
    return DiditClient(**options)


class TimedDecisions:
    """Wraps a client: records when each decision call ended (for the sustained rate)."""

    def __init__(self, client) -> None:
        self.client = client
        self.ends: list[float] = []

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get_decision(self, session_id: str) -> dict:
        try:
            return self.client.get_decision(session_id)
        finally:
            self.ends.append(time.monotonic())


def full_sync(client):
    from verifications.sync import sync_sessions

    run = sync_sessions(client, full=True)
    if run.status != "succeeded":
        raise RuntimeError(f"sync did not succeed: {run.summary()} {run.errors[:3]}")
    return run


def measure_throughput(plan: Plan, seed: int) -> list[Row]:
    rows, rates = [], []
    for size in plan.throughput:
        wipe()
        with sandbox(size, seed) as server:
            client = client_for(server)
            started = time.perf_counter()
            run = full_sync(client)
            first = time.perf_counter() - started
            decisions = server.calls["decision"]
            started = time.perf_counter()
            rerun = full_sync(client)
            second = time.perf_counter() - started
            rerun_decisions = server.calls["decision"] - decisions
        rates.append(run.created / first)
        growth = f", x{rates[-1] / rates[0]:.2f} the rate at {size // plan.throughput[0]}x N"
        rows.append(
            Row(
                f"sync throughput, limits off, {size:,} sessions",
                f"{rates[-1]:,.0f} sessions/s ({run.created} in {first:.1f}s"
                f"{growth if len(rates) > 1 else ''})",
            )
        )
    rows.append(
        Row(
            "re-run with nothing changed: decisions",
            f"{rerun_decisions} ({rerun.unchanged} unchanged, {second:.2f}s, "
            f"{first / second:.0f}x faster)",
            "0",
            rerun_decisions == 0,
        )
    )
    return rows


def measure_rate_limited(plan: Plan, seed: int) -> list[Row]:
    wipe()
    window = plan.window
    limits = f"decision=100/{window},read=600/{window},pdf=100/{window},write=300/{window}"
    with sandbox(plan.limited, seed, rate_limits=True, rate_window=window) as server:
        client = TimedDecisions(client_for(server, rate_limits=limits))
        started = time.monotonic()
        full_sync(client)
        elapsed = time.monotonic() - started
        rejected = client.stats.get("rate_limited", 0)
    ends = sorted(client.ends)
    # Decision i may start only when decision i-100 has left the window, so at the ceiling
    # ends[i] - ends[i-100] equals the window; any extra time is capacity left unused.
    # (This ignores the first, unpaced 100, which a sliding window allows at once.)
    gaps = [ends[i] - ends[i - 100] for i in range(100, len(ends))]
    fraction = window / (sum(gaps) / len(gaps))
    sustained = 100 * fraction
    overall = len(ends) / elapsed * window
    return [
        Row(
            f"decisions per {window:g}s window, limits on (ceiling 100)",
            f"{sustained:.1f} sustained ({overall:.1f} over the whole run, "
            f"{len(ends)} decisions in {elapsed:.1f}s)",
        ),
        Row("  fraction of the ceiling", f"{fraction:.2f}", ">= 0.9", fraction >= 0.9),
        Row("  429s received", str(rejected), "0", rejected == 0),
    ]


def measure_queries(plan: Plan, seed: int) -> list[Row]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_session = []
    for size in plan.queries:
        wipe()
        with sandbox(size, seed) as server:
            client = client_for(server)
            with CaptureQueriesContext(connection) as queries:
                run = full_sync(client)
        per_session.append(len(queries) / run.created)
    small, large = per_session
    flat = large <= small * 1.1
    return [
        Row(f"SQL queries per session, {plan.queries[0]} sessions", f"{small:.1f}"),
        Row(
            f"SQL queries per session, {plan.queries[1]} sessions",
            f"{large:.1f} (ratio {large / small:.2f})",
            "constant",
            flat,
        ),
    ]


def measure_memory(plan: Plan, seed: int) -> list[Row]:
    from verifications.didit.sandbox.process import SandboxProcess

    peaks = []
    for size in plan.memory:
        wipe()
        # The sandbox runs in a process of its own here, as Didit would: an in-process one
        # keeps every session it has served (its data grows with N), and tracemalloc would
        # count that as the sync's memory.
        options = ("--port", "0", "--sessions", str(size), "--seed", str(seed), "--quiet")
        with SandboxProcess.start(*options) as server:
            client = client_for(server)
            tracemalloc.start()
            try:
                full_sync(client)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    small, large = peaks
    ratio = large / small
    growth = plan.memory[1] / plan.memory[0]
    return [
        Row(f"peak memory, {plan.memory[0]:,} sessions", f"{small / 2**20:.1f} MiB"),
        Row(
            f"peak memory, {plan.memory[1]:,} sessions",
            f"{large / 2**20:.1f} MiB (ratio {ratio:.2f} for {growth:.0f}x the sessions)",
            "flat",
            ratio < 1.5,
        ),
    ]


def run(plan: Plan, *, seed: int, quick: bool) -> list[Row]:
    """Measure everything, printing each figure as soon as it is known."""
    print_header(quick=quick)
    rows: list[Row] = []
    for measure in (measure_throughput, measure_rate_limited, measure_queries, measure_memory):
        for row in measure(plan, seed):
            print_row(row)
            rows.append(row)
    wipe()
    return rows


FIGURE_WIDTH, VALUE_WIDTH = 52, 72


def print_header(*, quick: bool) -> None:
    from django.db import connection

    print(
        f"Sync benchmark ({'quick' if quick else 'full'}) on {connection.vendor}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    print(f"{'figure':<{FIGURE_WIDTH}}  {'value':<{VALUE_WIDTH}}  target")
    print(f"{'-' * FIGURE_WIDTH}  {'-' * VALUE_WIDTH}  ------", flush=True)


def print_row(row: Row) -> None:
    target = f"{row.target} {'ok' if row.ok else 'MISSED'}" if row.target else ""
    print(f"{row.figure:<{FIGURE_WIDTH}}  {row.value:<{VALUE_WIDTH}}  {target}", flush=True)
