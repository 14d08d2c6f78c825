"""``python -m benchmarks <name> [options]`` (``./dev bench <name>``): run one benchmark."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "sync": ("benchmarks.sync_bench", "sync throughput, rate-limit ceiling, queries, memory"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in BENCHMARKS:
        print("usage: python -m benchmarks <name> [options]   (<name> --help for options)")
        for name, (_, what) in BENCHMARKS.items():
            print(f"  {name:8} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(BENCHMARKS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
