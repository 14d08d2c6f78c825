"""``python -m benchmarks <name> [options]`` (``./dev bench <name>``): run one benchmark."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

BENCHMARKS = {
    "sync": ("benchmarks.sync_bench", "sync throughput, rate-limit ceiling, queries, memory"),
    "queue": ("benchmarks.queue_bench", "queue page vs admin changelist at two sizes"),
    "pages": ("benchmarks.pages_bench", "session page and PDF reports at two sizes"),
    "archive": ("benchmarks.archive_bench", "evidence archive throughput, webhook answer time"),
}
# Not part of `all`: it needs PostgreSQL and minutes of wall time.
SEPARATE = {
    "load": ("benchmarks.load_bench", "30 reviewers + webhooks + sync against ./dev serve"),
}


def main(argv: list[str]) -> int:
    if argv and argv[0] == "all":
        return run_all(argv[1:])
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in {**BENCHMARKS, **SEPARATE}:
        print("usage: python -m benchmarks <name> [options]   (<name> --help for options)")
        for name, (_, what) in {**BENCHMARKS, **SEPARATE}.items():
            print(f"  {name:8} {what}")
        print(f"  {'all':8} every benchmark above, on SQLite, then on PostgreSQL if DATABASE_URL")
        print(f"  {'':8} points at a PostgreSQL server")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module({**BENCHMARKS, **SEPARATE}[argv[0]][0])
    return module.main(argv[1:])


def run_all(options: list[str]) -> int:
    """Every benchmark on a temporary SQLite file, then, if ``DATABASE_URL`` is PostgreSQL,
    on a fresh database of that server: every figure on both, from one command.

    One process each: a benchmark configures Django and its database once per process. The
    same options go to every one (e.g. --quick); the worst exit status wins.
    """
    url = os.environ.get("DATABASE_URL", "")
    sqlite = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    databases = [("SQLite", sqlite)]
    if url.startswith(("postgres://", "postgresql://")):
        databases.append(("PostgreSQL", dict(os.environ)))
    worst = 0
    for label, env in databases:
        for name in BENCHMARKS:
            print(f"\n===== {name} on {label}", flush=True)
            command = [sys.executable, "-m", "benchmarks", name, *options]
            worst = max(worst, subprocess.run(command, env=env).returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
