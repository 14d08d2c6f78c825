"""What the console benchmarks share: a scratch database, seeding, timing, a printed table.

The database is a temporary SQLite file, or, with ``DATABASE_URL`` pointing at PostgreSQL,
a fresh database on that server with a name of its own (so runs never collide), dropped at
the end.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


class scratch_database:
    """Configure Django on a new, migrated database; drop it on exit."""

    def __enter__(self):
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "didit_console.settings")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
        # Pages are measured for a signed-in reviewer: the second sign-in step is not their cost.
        os.environ.setdefault("REQUIRE_2FA", "False")
        # No collectstatic here: static URLs from the plain storage, as in the tests.
        os.environ.setdefault(
            "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
        self.tmp = self.server_url = self.name = None
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            self.name = f"didit_bench_{uuid.uuid4().hex[:12]}"
            parts = urlsplit(url)
            self.server_url = urlunsplit(parts._replace(path="/postgres"))
            _pg_admin(self.server_url, f'CREATE DATABASE "{self.name}"')
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.name}"))
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="didit-bench-")
            os.environ["DATABASE_URL"] = f"sqlite:///{self.tmp.name}/bench.sqlite3"
        # The test client's host. Not setup_test_environment(): its instrumented template
        # rendering (a context copy per template, for assertions) would be measured too.
        os.environ["ALLOWED_HOSTS"] = "testserver"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        self.vendor = connection.vendor
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connections

        connections.close_all()
        if self.name is not None:
            _pg_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.tmp is not None:
            self.tmp.cleanup()


def _pg_admin(server_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def seed(sessions: int, *, seed: int = 1) -> None:
    """Replace the database's sessions with ``sessions`` synthetic ones, then analyse."""
    from django.db import connection

    from devtools.seeding import seed_sessions

    started = time.monotonic()
    # Worker processes pay off past a few thousand sessions; below, starting them costs more.
    jobs = min(2, os.cpu_count() or 1) if sessions >= 5_000 else 1
    result = seed_sessions(sessions=sessions, seed=seed, jobs=jobs)
    seeded = time.monotonic() - started
    # What autovacuum would have done by now on a live database: planner statistics, and
    # the visibility map that index-only scans need.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"  seeded {sessions:,} sessions in {seeded:.0f}s ({result.summary()}), "
        f"{time.monotonic() - started - seeded:.0f}s more to analyse",
        flush=True,
    )
    return result


def superuser_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@example.com", None)
    client = Client()
    client.force_login(user)
    return client


def measure(call: Callable[[], object], *, repeat: int, warmup: int = 2) -> dict:
    """Median, p95 (seconds) and SQL queries of ``call`` over ``repeat`` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        call()
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        queries.append(len(captured))
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "queries": max(queries),
    }


def get_ok(client, url: str) -> Callable[[], object]:
    def call():
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    return call


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))


def machine(vendor: str) -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {vendor}"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def sizes_argument(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
