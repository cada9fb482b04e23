"""How long ``import workbench`` takes, against a bare interpreter and against ``import pandas``.

Each is timed in a fresh interpreter, many times; medians are printed. Goal: under 0.5 s.

    python benchmarks/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _machine import describe


def timed(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bare = timed("pass", args.runs)
    workbench = timed("import workbench", args.runs)
    pandas = timed("import pandas", args.runs)
    print(f"machine: {describe()}")
    print(f"interpreter start (baseline): {bare * 1000:7.1f} ms")
    print(f"import workbench:             {workbench * 1000:7.1f} ms  (own cost {1000 * (workbench - bare):.1f} ms)")
    print(f"import pandas (for scale):    {pandas * 1000:7.1f} ms")
    print(f"ratio workbench / bare interpreter: {workbench / bare:.2f}x; "
          f"goal < 500 ms: {'met' if workbench < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
