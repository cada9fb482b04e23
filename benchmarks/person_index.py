"""Person index over the demo's person-level datasets: a build from scratch, an incremental update of changed and new
records, and pairwise F1 against the demo's truth; baseline: the same engine linking every pair of datasets (and
deduplicating each), joined into clusters, in the same run.

    PYTHONPATH=. python benchmarks/person_index.py --persons 200000 --repeats 3

Goals (2 cores): build <= 60 s at 1,000,000 persons, update of 10,000 records <= 5 s, F1 >= 0.995.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe

from workbench.catalogue.service import Catalogue
from workbench.demo.world import build_world
from workbench.errors import InvalidInput
from workbench.linkage.link import link
from workbench.person_index import store
from workbench.person_index.service import INDEX_FIELDS, is_person_level, linkable_fields, pair_counts
from workbench.workspace import connect

CHANGED = 10_000


def cpu() -> float:
    """This process's CPU time (user and system, all threads): on a shared machine, what the run itself cost."""
    times = os.times()
    return times.user + times.system


def f1(frame: pd.DataFrame) -> tuple[float, float, float]:
    tp, predicted, true = pair_counts(frame)
    precision, recall = tp / max(predicted, 1), tp / max(true, 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


def index_truth(ws, world) -> pd.DataFrame:
    root = ws._ctx.vault.root
    frames = []
    for d, truth in world.truth.items():
        members = store.members(root, d)
        if members is None:
            continue
        key = truth.columns[0]
        person = world.datasets[d][key].map(truth.set_index(key)["person_id"]).to_numpy()
        frames.append(pd.DataFrame({"dataset": d, "truth": person,
                                    "index_id": members.sort_values("row")["index_id"].to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def baseline(world, person_level: list[str]) -> tuple[float, pd.DataFrame]:
    """Every pair of datasets linked, every dataset deduplicated, by the same engine (inferred specs); records
    joined through any match into clusters."""
    started = time.perf_counter()
    frames = {d: world.datasets[d][list(linkable_fields(world.entries[d]).values())] for d in person_level}
    offsets, total = {}, 0
    for d in person_level:
        offsets[d] = total
        total += len(frames[d])
    left_all, right_all = [], []
    for i, a in enumerate(person_level):
        for b in person_level[i:]:
            try:
                result = link(frames[a], None if a == b else frames[b])
            except InvalidInput:  # no pair meets a blocking rule: nobody in common
                continue
            keep = result._accepted()
            left_all.append(result.li[keep] + offsets[a])
            right_all.append(result.ri[keep] + offsets[b])
    li, ri = np.concatenate(left_all), np.concatenate(right_all)
    _, labels = connected_components(coo_matrix((np.ones(li.size), (li, ri)), shape=(total, total)), directed=False)
    seconds = time.perf_counter() - started
    parts = []
    for d in person_level:
        truth = world.truth[d]
        key = truth.columns[0]
        parts.append(pd.DataFrame({"dataset": d, "truth": world.datasets[d][key].map(
            truth.set_index(key)["person_id"]).to_numpy(),
            "index_id": labels[offsets[d]:offsets[d] + len(frames[d])].astype(str)}))
    return seconds, pd.concat(parts, ignore_index=True)


def register_unlinked(ws, world, person_level: list[str]):
    """The world's departments and owners, and its person-level datasets registered without linking them (the
    index is built, and timed, apart). Returns the registration's own linking, which stays off until restored."""
    ws.people.add("bench.admin", "Bench Admin", roles=["admin"])
    for dept in world.departments:
        ws.departments.add(dept["slug"], dept["name"], dept.get("abbreviation"))
    for person in world.people:
        if "data_owner" in person["roles"]:
            ws.people.add(person["username"], person["name"], roles=person["roles"],
                          department=person.get("department"))
    original = Catalogue._index
    Catalogue._index = lambda self, dataset_id, *, data_given: None  # registration without linking
    for d in person_level:
        ws.catalogue.register(world.entries[d], world.datasets[d])
    return original


def changed_hes(world, seed: int = 7) -> pd.DataFrame:
    """HES with CHANGED/2 records' surnames changed and CHANGED/2 new episodes of existing patients."""
    rng = np.random.default_rng(seed)
    hes = world.datasets["dhsc.hes_apc"].copy()
    half = CHANGED // 2
    rows = rng.choice(len(hes), half, replace=False)
    hes.loc[hes.index[rows], "surname"] = hes["surname"].iloc[rows].astype(str).str[::-1].to_numpy()
    extra = hes.iloc[rng.choice(len(hes), half, replace=False)].copy()
    extra["episode_id"] = [f"NEW{i:09d}" for i in range(half)]
    return pd.concat([hes, extra], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    options = parser.parse_args()
    print(f"machine: {describe()}; load average (1 min) {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    world = build_world(persons=options.persons, seed=2026)
    person_level = [d for d, e in world.entries.items() if is_person_level(e) and linkable_fields(e)]
    records = sum(len(world.datasets[d]) for d in person_level)
    print(f"world: {options.persons:,} persons, {len(person_level)} person-level datasets, {records:,} records "
          f"({time.perf_counter() - started:.0f} s to generate)")
    home = Path(tempfile.mkdtemp(prefix="pindex-bench-")) / "ws"
    os.environ["WORKBENCH_USER"] = "bench.admin"
    ws = connect(home)
    try:
        original_index = register_unlinked(ws, world, person_level)
        root = ws._ctx.vault.root
        builds, updates, base_times, build_cpu, update_cpu = [], [], [], [], []
        quality = None
        for _ in range(options.repeats):
            shutil.rmtree(store.root(root), ignore_errors=True)
            t, c = time.perf_counter(), cpu()
            ws.person_index.build()
            builds.append(time.perf_counter() - t)
            build_cpu.append(cpu() - c)
            quality = f1(index_truth(ws, world))
            ws.catalogue.register(world.entries["dhsc.hes_apc"], changed_hes(world))
            t, c = time.perf_counter(), cpu()
            result = ws.person_index.build("dhsc.hes_apc")
            updates.append(time.perf_counter() - t)
            update_cpu.append(cpu() - c)
            compared = result["datasets"]["dhsc.hes_apc"]["compared"]
            ws.catalogue.register(world.entries["dhsc.hes_apc"], world.datasets["dhsc.hes_apc"])
            if not options.no_baseline:
                seconds, frame = baseline(world, person_level)
                base_times.append(seconds)
                base_quality = f1(frame)
        Catalogue._index = original_index
        build, update = statistics.median(builds), statistics.median(updates)
        print(f"index build (scratch):   median {build:7.2f} s  (runs {', '.join(f'{s:.1f}' for s in builds)}; "
              f"CPU {', '.join(f'{s:.1f}' for s in build_cpu)} s)")
        print(f"incremental update:      median {update:7.2f} s  for {compared:,} compared records of "
              f"{len(changed_hes(world)):,} (runs {', '.join(f'{s:.2f}' for s in updates)}; "
              f"CPU {', '.join(f'{s:.2f}' for s in update_cpu)} s)")
        print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
        print(f"index vs truth:          precision {quality[0]:.4f} recall {quality[1]:.4f} F1 {quality[2]:.4f}")
        if base_times:
            base = statistics.median(base_times)
            print(f"baseline pairwise:       median {base:7.2f} s  precision {base_quality[0]:.4f} recall "
                  f"{base_quality[1]:.4f} F1 {base_quality[2]:.4f}")
            print(f"ratio baseline/index build: {base / build:.2f}x")
        print(f"goals: build <= 60 s at 1M: {'met' if build <= 60 else 'NOT met'} (at {options.persons:,}); "
              f"update <= 5 s: {'met' if update <= 5 else 'NOT met'}; F1 >= 0.995: "
              f"{'met' if quality[2] >= 0.995 else 'NOT met'}")
        print(f"fields: {', '.join(INDEX_FIELDS)}")
    finally:
        ws.close()
        shutil.rmtree(home.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
