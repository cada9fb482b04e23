"""The person index built from scratch over the demo's person-level datasets on each engine the workspace can be
configured with (``person_index.engine``: default, splink, splink-spark in Spark local mode), interleaved in one
run: wall time, CPU time (this process and its children: Spark's JVM) and pairwise F1 against the demo's truth;
the default engine is the baseline each ratio is taken against.

    PYTHONPATH=. python benchmarks/person_index_engines.py --persons 20000 --repeats 2

Spark runs as the service's own local Spark (``local[2]``, 2 shuffle partitions); it starts once, before the first
Spark build, and that start is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe
from person_index import f1, index_truth, register_unlinked

from workbench.demo.world import build_world
from workbench.person_index import engine as engines
from workbench.person_index import store
from workbench.person_index.service import is_person_level, linkable_fields
from workbench.workspace import connect

ENGINES = ("default", "splink", "splink-spark")


def cpu_seconds() -> float:
    """User and system CPU of this process and its children (Spark's JVM is one)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:2])
    return total


def configure(home: Path, engine: str, scratch: Path) -> None:
    path = home / "workspace.json"
    content = json.loads(path.read_text())
    content["person_index"] = {"engine": engine}
    if engine == "splink-spark":
        content["person_index"]["spark"] = {
            "master": "local[2]", "checkpoint_dir": str(scratch / "checkpoints"),
            "conf": {"spark.sql.shuffle.partitions": 2, "spark.default.parallelism": 2,
                     "spark.driver.memory": "4g", "spark.local.dir": str(scratch / "spark")}}
    path.write_text(json.dumps(content))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--engines", default=",".join(ENGINES))
    options = parser.parse_args()
    chosen = [e for e in options.engines.split(",") if e]
    print(f"machine: {describe()}; load average at start {os.getloadavg()[0]:.2f}")
    world = build_world(persons=options.persons, seed=2026)
    person_level = [d for d, e in world.entries.items() if is_person_level(e) and linkable_fields(e)]
    records = sum(len(world.datasets[d]) for d in person_level)
    print(f"world: {options.persons:,} persons, {len(person_level)} person-level datasets, {records:,} records")
    scratch = Path(tempfile.mkdtemp(prefix="pindex-engines-"))
    home = scratch / "ws"
    os.environ["WORKBENCH_USER"] = "bench.admin"
    ws = connect(home)
    times: dict[str, list[tuple[float, float]]] = {e: [] for e in chosen}
    quality: dict[str, tuple[float, float, float]] = {}
    try:
        register_unlinked(ws, world, person_level)
        root = ws._ctx.vault.root
        if "splink-spark" in chosen:  # the service's Spark, started once (not timed)
            configure(home, "splink-spark", scratch)
            t = time.perf_counter()
            engines.start(engines.configured(home))
            print(f"Spark local[2] started in {time.perf_counter() - t:.1f} s (not counted)")
        for repeat in range(options.repeats):
            for engine in chosen:
                configure(home, engine, scratch)
                shutil.rmtree(store.root(root), ignore_errors=True)
                cpu, wall = cpu_seconds(), time.perf_counter()
                ws.person_index.build()
                wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
                times[engine].append((wall, cpu))
                quality[engine] = f1(index_truth(ws, world))
                print(f"  run {repeat + 1} {engine:13s} {wall:7.1f} s wall {cpu:7.1f} s CPU  "
                      f"F1 {quality[engine][2]:.4f}  (load {os.getloadavg()[0]:.2f})", flush=True)
        base_wall = statistics.median(w for w, _ in times[chosen[0]])
        base_cpu = statistics.median(c for _, c in times[chosen[0]])
        for engine in chosen:
            wall = statistics.median(w for w, _ in times[engine])
            cpu = statistics.median(c for _, c in times[engine])
            p, r, f = quality[engine]
            print(f"{engine:13s} build median {wall:7.1f} s wall ({wall / base_wall:5.1f}x {chosen[0]}), "
                  f"{cpu:7.1f} s CPU ({cpu / base_cpu:5.1f}x); precision {p:.4f} recall {r:.4f} F1 {f:.4f}")
    finally:
        ws.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
