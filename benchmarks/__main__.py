"""Run every benchmark at its target size, one after another: `python -m benchmarks`.

Pass names to run only some: `python -m benchmarks search import`.
Each benchmark prints its own figures; see benchmarks/README.md for the targets.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = {
    "analytics": ["--clients", "1000000", "--transactions", "20000000"],
    "import": ["--rows", "1000000"],
    "search": ["--clients", "100000"],
    "pushes": ["--managers", "1000", "--clients-per-manager", "200"],
    "demo_data": ["--clients", "100000"],
    "recompute": ["--clients", "50000"],
    "dashboard": ["--clients", "100000"],
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failed = 0
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        # a process each, so one benchmark's peak memory does not inflate the next one's
        code = subprocess.call(
            [sys.executable, "-m", f"benchmarks.bench_{name}", *BENCHMARKS[name]]
        )
        print(f"=== {name}: exit {code}, {time.perf_counter() - started:.0f} s wall ===")
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
