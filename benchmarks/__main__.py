"""``python -m benchmarks <name> [options]`` (``./dev bench <name>``): run one benchmark."""

from __future__ import annotations

import importlib
import subprocess
import sys

BENCHMARKS = {
    "sync": ("benchmarks.sync_bench", "sync throughput, rate-limit ceiling, queries, memory"),
    "queue": ("benchmarks.queue_bench", "queue page vs admin changelist at two sizes"),
    "pages": ("benchmarks.pages_bench", "session page and PDF reports at two sizes"),
}


def main(argv: list[str]) -> int:
    if argv and argv[0] == "all":
        # One process each: a benchmark configures Django and its database once per process.
        # The same options go to every one (e.g. --quick); the worst exit status wins.
        return max(
            subprocess.run([sys.executable, "-m", "benchmarks", name, *argv[1:]]).returncode
            for name in BENCHMARKS
        )
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in BENCHMARKS:
        print("usage: python -m benchmarks <name> [options]   (<name> --help for options)")
        for name, (_, what) in BENCHMARKS.items():
            print(f"  {name:8} {what}")
        print(f"  {'all':8} every benchmark above, one after the other")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(BENCHMARKS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
