"""``./dev bench load``: 30 simulated reviewers against ``./dev serve`` on PostgreSQL, while the
sandbox Didit sends webhooks at 20/s and ``sync_didit`` runs in a loop.

Builds a fresh database (dropped afterwards), syncs it from an in-process sandbox Didit (plus
``--seed-sessions`` synthetic rows for volume), starts gunicorn + WhiteNoise with DEBUG off
(deploy/serve.py) and runs Locust headless (benchmarks/locustfile.py). Prints p50/p95/p99 and
errors per endpoint, the webhooks' acknowledgement times and how many were lost, and the
sandbox's view of the decisions: every decision made in the console reached Didit once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import psycopg

from verifications.didit.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
API_KEY = "load-bench-api-key"
TARGETS = {"queue": 250, "queue filtered": 250, "queue search": 250, "session page": 250}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench load", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=30, help="simulated reviewers (30)")
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (120)")
    parser.add_argument("--sessions", type=int, default=2000, help="sandbox sessions (2000)")
    parser.add_argument(
        "--seed-sessions", type=int, default=0, help="extra synthetic sessions (seed_sessions)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--webhooks", type=float, default=20.0, help="webhooks a second (20)")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        print("./dev bench load runs on PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    with fresh_database(base_url) as database_url, tempfile.TemporaryDirectory() as tmp:
        return run(args, database_url, Path(tmp))


class fresh_database:  # noqa: N801 - used as a context manager
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.name = f"didit_load_{int(time.time())}"
        self.admin = parts._replace(path="/postgres").geturl()
        self.url = parts._replace(path=f"/{self.name}").geturl()

    def __enter__(self) -> str:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run(args, database_url: str, tmp: Path) -> int:
    port = free_port()
    webhook_secret = secrets.token_urlsafe(24)
    sandbox = SandboxServer(
        sessions=args.sessions,
        seed=7,
        api_key=API_KEY,
        port=0,
        webhook_url=f"http://127.0.0.1:{port}/webhooks/didit/",
        webhook_secret=webhook_secret,
    ).start()
    acks = time_webhooks(sandbox)
    env = {k: v for k, v in os.environ.items() if k not in ("STATICFILES_BACKEND",)}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="False",
        REQUIRE_2FA="False",
        DIDIT_VERIFICATION_URL=sandbox.base_url,
        DIDIT_AUTH_URL=sandbox.base_url,
        DIDIT_API_KEY=API_KEY,
        DIDIT_WEBHOOK_SECRET=webhook_secret,
        DIDIT_RATE_LIMITS="",
        LOG_LEVEL="WARNING",
    )
    password = secrets.token_urlsafe(16)
    try:
        prepare(args, env, password)
        plan = load_plan(database_url, tmp / "plan.json", set(sandbox.session_ids()))
        serve = start_serve(env, port, args.workers, tmp / "serve.log")
        stop = threading.Event()
        sync_runs: list[int] = []
        issued = [0]
        threads = [
            threading.Thread(target=sync_loop, args=(env, stop, sync_runs), daemon=True),
            threading.Thread(
                target=webhook_loop,
                args=(sandbox, plan["decide"], args.webhooks, stop, issued),
                daemon=True,
            ),
        ]
        try:
            for thread in threads:
                thread.start()
            run_locust(args, port, password, tmp, env)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
            drain(sandbox)
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
        report(args, tmp, sandbox, acks, issued[0], sync_runs, database_url)
    finally:
        sandbox.stop()
    return 0


def prepare(args, env: dict[str, str], password: str) -> None:
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    # seed_sessions refuses a database that has been synced: seed first.
    if args.seed_sessions:
        started = time.perf_counter()
        subprocess.run(
            [*MANAGE, "seed_sessions", "--sessions", str(args.seed_sessions)], env=env, check=True
        )
        print(f"Seeded {args.seed_sessions} sessions in {time.perf_counter() - started:.1f} s.")
    started = time.perf_counter()
    subprocess.run([*MANAGE, "sync_didit", "--full"], env=env, check=True)
    print(f"Synced {args.sessions} sandbox sessions in {time.perf_counter() - started:.1f} s.")
    accounts = (
        "from django.contrib.auth.models import Group, User\n"
        "group = Group.objects.get(name='reviewer')\n"
        f"for n in range({args.users}):\n"
        f"    user = User.objects.create_user(f'load-reviewer-{{n}}', password='{password}')\n"
        "    user.groups.add(group)\n"
    )
    subprocess.run([*MANAGE, "shell", "-c", accounts], env=env, check=True)


def load_plan(database_url: str, path: Path, in_didit: set[str]) -> dict:
    """Which sessions reviewers look at, search for and decide (each In Review one, of those
    Didit knows, once)."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT session_id, status, document_number, full_name"
            " FROM verifications_verificationsession"
        ).fetchall()
    rng = random.Random(7)
    decide = [row[0] for row in rows if row[1] == "In Review" and row[0] in in_didit]
    browse = rng.sample([row[0] for row in rows], min(500, len(rows)))
    searches = [row[2][:5] for row in rows if row[2]][:200] + [
        row[3].split()[-1] for row in rows if row[3]
    ][:200]
    plan = {"browse": browse, "decide": decide, "searches": searches or ["A"]}
    path.write_text(json.dumps(plan))
    return plan


def start_serve(env, port: int, workers: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "deploy" / "serve.py"), "--port", str(port)]
            + ["--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30):
                return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"./dev serve did not start:\n{log.read_text()}")


def sync_loop(env, stop: threading.Event, runs: list[int]) -> None:
    """``sync_didit`` as the timer would run it, back to back with a short pause."""
    while not stop.is_set():
        runs.append(
            subprocess.run([*MANAGE, "sync_didit"], env=env, capture_output=True).returncode
        )
        stop.wait(5)


def webhook_loop(sandbox, reserved, rate: float, stop: threading.Event, issued) -> None:
    """Status changes in "Didit's console", each one a webhook, at ``rate`` a second."""
    reserved = set(reserved)
    candidates = [sid for sid in sandbox.session_ids() if sid not in reserved]
    rng = random.Random(11)
    statuses = ["In Review", "Approved", "Declined"]
    next_at = time.monotonic()
    while not stop.is_set():
        sandbox.change_status(rng.choice(candidates), rng.choice(statuses), comment="load")
        issued[0] += 1
        next_at += 1 / rate
        stop.wait(max(0.0, next_at - time.monotonic()))


def time_webhooks(sandbox) -> list[tuple[float, object]]:
    """Wrap the sandbox's delivery so each POST's round trip is recorded (bench only)."""
    sender = sandbox.sandbox.webhooks
    original = sender._post
    acks: list[tuple[float, object]] = []

    def timed(body, headers):
        started = time.perf_counter()
        outcome = original(body, headers)
        acks.append((time.perf_counter() - started, outcome))
        return outcome

    sender._post = timed
    return acks


def drain(sandbox, timeout: float = 600.0) -> None:
    """Until the sandbox has delivered every queued webhook (it sends one at a time)."""
    sender = sandbox.sandbox.webhooks
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (sender._queue.qsize() or sender._timers):
        time.sleep(0.5)
        sender._timers = {timer for timer in sender._timers if timer.is_alive()}
    time.sleep(1)


def run_locust(args, port: int, password: str, tmp: Path, env) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless", "--users", str(args.users), "--spawn-rate", "2",
        "--run-time", f"{args.duration}s", "--host", f"http://127.0.0.1:{port}",
        "--csv", str(tmp / "load"), "--only-summary", "--loglevel", "WARNING",
        # Logging 30 reviewers in (password hashing) is not the steady state being measured.
        "--reset-stats",
    ]  # fmt: skip
    locust_env = {
        **env,
        "LOAD_PASSWORD": password,
        "LOAD_ACCOUNTS": str(args.users),
        "LOAD_PLAN": str(tmp / "plan.json"),
    }
    subprocess.run(command, env=locust_env, check=False, stdout=subprocess.DEVNULL)


def report(args, tmp: Path, sandbox, acks, issued: int, sync_runs, database_url: str) -> None:
    print(
        f"\n{args.users} reviewers for {args.duration} s, {args.workers} gunicorn workers, "
        f"webhooks at {args.webhooks:g}/s, {args.sessions} sandbox + {args.seed_sessions} "
        "seeded sessions, PostgreSQL"
    )
    print(
        f"{'endpoint':22} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    with (tmp / "load_stats.csv").open() as stats:
        for row in csv.DictReader(stats):
            name = row["Name"]
            target = TARGETS.get(name)
            verdict = "" if target is None else ("  ok" if float(row["95%"]) < target else "  SLOW")
            print(
                f"{name:22} {row['Request Count']:>8} {row['Failure Count']:>6} "
                f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}{verdict}"
            )

    def acknowledged(outcome) -> bool:
        return isinstance(outcome, int) and 200 <= outcome < 300

    times = sorted(seconds * 1000 for seconds, outcome in acks if acknowledged(outcome))
    acked = len(times)
    refused = Counter(str(outcome) for _, outcome in acks if not acknowledged(outcome))
    sent = issued + sandbox.calls.get("update_status", 0)
    if times:
        cuts = statistics.quantiles(times, n=100)
        print(
            f"webhooks: {len(acks)} deliveries, 2xx ack p50 {cuts[49]:.0f} ms, p95 "
            f"{cuts[94]:.0f} ms, p99 {cuts[98]:.0f} ms; other outcomes (retried): {dict(refused)}"
        )
    print(f"webhooks sent {sent}, acknowledged {acked}, lost {max(0, sent - acked)}")
    with psycopg.connect(database_url) as connection:
        console_reviews = connection.execute(
            "SELECT count(*) FROM verifications_review WHERE source = 'console'"
        ).fetchone()[0]
    calls = sandbox.calls.get("update_status", 0)
    print(
        f"decisions: {console_reviews} recorded by the console, {calls} update-status calls "
        f"reached Didit ({'exactly once each' if calls == console_reviews else 'MISMATCH'})"
    )
    print(
        f"sync_didit: {len(sync_runs)} runs during the load, exit statuses {sorted(set(sync_runs))}"
    )


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
