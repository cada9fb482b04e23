"""Building the demo workspace: generating the synthetic world (pure numpy/pandas, the baseline) against the
whole ``workbench demo`` (generation + registering every dataset through the catalogue service: validation,
completeness, Parquet in the vault, audit).

    python benchmarks/demo_build.py [--persons 200000] [--persons 1000000 ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from _machine import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, action="append")
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_USER", "bench.admin")
    from workbench.demo import build_demo
    from workbench.demo.world import build_world

    print(f"machine: {describe()}")
    for persons in args.persons or [200_000]:
        start = time.perf_counter()
        world = build_world(persons=persons, seed=2026)
        generated = time.perf_counter() - start
        rows = sum(len(frame) for frame in world.datasets.values())
        del world
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            build_demo(f"{home}/ws", persons=persons, seed=2026)
            built = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"{persons:>9,} persons, {rows:>9,} rows: generate only (baseline) {generated:6.1f} s; "
              f"workbench demo {built:6.1f} s; ratio {built / generated:.2f}x; peak RSS so far {peak:.1f} GiB")


if __name__ == "__main__":
    main()
