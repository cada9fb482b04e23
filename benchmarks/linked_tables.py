"""The linked-table check for the 51st table of a project holding 50 tables from one source.

A survey of 20,000 people with five categorical dimensions (region 10, sex 2, status 3, age band 5, tenure 3; 900
joint cells) is granted to a project, which records 50 count tables of it by spec (every triple of dimensions with
each in turn as the columns, then every pair with and without margins), each checked and suppressed and each run
through the linked-table check as it is recorded. Then the check for a 51st table (region × sex × age band × status,
300 cells) is timed: reading the project's 50 recorded tables from the vault, matching them by source, version,
filter and dimensions, and the LP over the 51st and the recorded ones that do not fail (``outputs.linked.check``).
The baseline is the naive attacker on the same published tables: a dense equality per published cell and two HiGHS
LPs (minimum and maximum) per suppressed cell that needs protection, in the same run. Goal: the check within 2 s.

    python benchmarks/linked_tables.py [--rows 20000] [--repeats 5] [--index region,sex,age_band] [--columns status]
                                       [--database-url URL]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import tempfile
import time
from pathlib import Path

from _machine import describe, interleaved
from _staff import staffed

DIMS = {"region": [f"r{i:02d}" for i in range(10)], "sex": ["F", "M"], "status": ["employed", "inactive", "unemployed"],
        "age_band": ["16-24", "25-34", "35-49", "50-64", "65+"], "tenure": ["owned", "rented", "social"]}
WEIGHTS = {"status": [0.75, 0.2, 0.05], "tenure": [0.6, 0.3, 0.1]}


def make_data(rows: int, seed: int = 11):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({d: rng.choice(labels, rows, p=WEIGHTS.get(d)) for d, labels in DIMS.items()})
    frame.insert(0, "person_id", [f"P{i:07d}" for i in range(rows)])
    return frame


def record() -> dict:
    return {
        "identifier": "https://data.example.invalid/dataset/linked-survey", "type": "dcat:Dataset",
        "title": "Linked survey", "summary": "One row per respondent.",
        "description": "A synthetic labour survey: region, sex, economic status, age band and tenure.",
        "keyword": ["survey"], "theme": ["https://www.data.gov.uk/search?filters%5Btopic%5D=Society"],
        "licence": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "version": "2026-11", "accessRights": "INTERNAL", "securityClassification": "OFFICIAL",
        "contactPoint": {"contactName": "Survey team", "email": "survey@ons.example.invalid"},
        "creator": ["office-for-national-statistics"], "publisher": "office-for-national-statistics",
        "issued": "2026-01-01", "modified": "2026-11-01", "updateFrequency": "freq:annual",
        "localId": "ons.linked_survey", "department": "office-for-national-statistics",
        "legalGateway": ["dea-2017-research"], "mission": [1], "dataOwner": "olu.owner",
        "columns": [{"name": "person_id", "type": "string", "role": "other", "description": "Random record id"}]
        + [{"name": d, "type": "category", "role": "quasi_identifier", "description": d, "categories": labels}
           for d, labels in DIMS.items()],
    }


def workspace(home: Path, url: str | None, data):
    as_user = staffed(home, url)
    as_user("olu.owner").catalogue.register(record(), data)
    request = as_user("ann.analyst").project("p-bench").request_access("ons.linked_survey", list(DIMS),
                                                                       justification="Benchmark")
    as_user("olu.owner").owner.decide(request["id"], "approve")
    return as_user("ann.analyst").project("p-bench")


def specs() -> list[tuple[list[str], str, bool]]:
    """50 tables: every triple with each dimension as the columns, then every pair (with and without margins); the
    triples first, so that their suppressed cells are in the project when the pairs that could give them back come
    (and fail)."""
    out = []
    for triple in itertools.combinations(DIMS, 3):
        out += [([d for d in triple if d != c], c, False) for c in triple]
    return out + [([a], b, m) for a, b in itertools.combinations(DIMS, 2) for m in (False, True)]


def naive(tables) -> int:
    """The attacker's LP the plain way: dense equalities, two LPs per suppressed cell that needs protection."""
    import numpy as np
    import pandas as pd
    from scipy.optimize import linprog

    dims = list(dict.fromkeys(d for t in tables for d in t.dims))
    joint = pd.MultiIndex.from_product([DIMS[d] for d in dims], names=dims).to_frame(index=False)
    rows, rhs, targets = [], [], []
    for t in tables:
        for i, coords in enumerate(t.coords):
            mask = np.ones(len(joint), dtype=bool)
            for d, label in zip(t.dims, coords, strict=True):
                if label is not None:
                    mask &= (joint[d] == label).to_numpy()
            if not np.isnan(t.low[i]):
                rows.append(mask.astype(float))
                rhs.append(t.low[i])
            elif not np.isnan(t.need[i]):
                targets.append((mask.astype(float), t.need[i]))
    a_eq = np.array(rows)
    pinned = 0
    for objective, need in targets:
        low = linprog(objective, A_eq=a_eq, b_eq=rhs, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=rhs, bounds=(0, None), method="highs")
        pinned += int(-high.fun - low.fun <= need + 1e-6)
    return pinned


def main() -> None:
    import pandas as pd

    from workbench import disclosure as sdc
    from workbench.disclosure.linked import attack, from_output
    from workbench.disclosure.service import Disclosure
    from workbench.outputs import linked

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--index", default="region,sex,age_band", help="the 51st table's rows (comma-separated)")
    parser.add_argument("--columns", default="status", help="the 51st table's columns")
    args = parser.parse_args()
    data = make_data(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        project = workspace(Path(tmp) / "ws", args.database_url, data)
        start = time.perf_counter()
        statuses = []
        for index, columns, margins in specs():
            statuses.append(project.tables.crosstab("ons.linked_survey", index=index, columns=columns,
                                                    margins=margins).status)
        recording = time.perf_counter() - start
        store = project.outputs
        listed = store.list()
        first = int(listed["id"].iloc[0])
        origin = copy.deepcopy(store._row(first)["origin"])
        index, columns = args.index.split(","), args.columns
        origin["spec"].update(index=index, columns=[columns], margins=False)
        settings = Disclosure(project._ctx).settings()
        new = sdc.crosstab([data[d] for d in index], data[columns], settings=settings)
        project_id = project.outputs.project_id

        def fresh():
            out = copy.copy(new)
            out.flags, out.measures, out.properties = dict(new.flags), dict(new.measures), dict(new.properties)
            return out

        def check() -> None:
            with project._ctx.db.read() as conn:
                linked.check(conn, project_id, fresh(), name="51st", origin=origin, sources=["ons.linked_survey"],
                             load=lambda i: store._load(conn, i))

        with project._ctx.db.read() as conn:
            loaded = {int(i): store._load(conn, int(i)) for i in listed["id"]}
        rows = {int(r.id): r for r in listed.itertuples()}
        tables = [from_output(new, "51st", [*index, columns])]
        for i, out in loaded.items():  # as the check gathers them: tables that fail are not releasable
            if out.status == "fail":
                continue
            spec = store._row(i)["origin"]["spec"]
            tables.append(from_output(out, rows[i].name, [*spec["index"], *spec["columns"]]))

        def lp_only() -> None:
            attack(tables)

        def naive_lp() -> None:
            naive(tables)

        found = attack(tables)
        probe = fresh()
        check_start = time.perf_counter()
        with project._ctx.db.read() as conn:
            linked.check(conn, project_id, probe, name="51st", origin=origin, sources=["ons.linked_survey"],
                         load=lambda i: store._load(conn, i))
        print(f"machine: {describe()}")
        print(f"{len(specs())} tables recorded in {recording:.1f} s (each with its linked check); statuses: "
              f"{pd.Series(statuses).value_counts().to_dict()}")
        print(f"51st table: {len(tables)} tables in the LP, {found.joint_cells} joint cells, {found.targets} "
              f"suppressed cells needing protection, {found.solves} LPs solved, {len(found.recovered)} recoverable; "
              f"status {probe.status} (first check {time.perf_counter() - check_start:.2f} s)")
        medians, best = interleaved({"check": check, "lp": lp_only, "naive": naive_lp}, args.repeats)
        for label, what in (("check", "linked check of the 51st table (load 50 + match + LP)"),
                            ("lp", "the LP alone, every recoverable cell (linked.attack)"),
                            ("naive", "naive LP: dense, 2 LPs per suppressed cell (baseline)")):
            print(f"{what:58s} median {medians[label]:7.3f} s  best {best[label]:7.3f} s")
        print(f"ratio check / naive: {medians['check'] / medians['naive']:.2f}x; LP alone / naive: "
              f"{medians['lp'] / medians['naive']:.2f}x; goal check <= 2 s: "
              f"{'met' if medians['check'] <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
