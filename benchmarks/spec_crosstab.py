"""A disclosure-checked table computed by the workbench from a spec: ``project.tables.crosstab("ons.bench_survey",
index="area", columns="occupation", values="hours", aggfunc="mean")`` — grant and spec checks, reading three
columns and the person key from the vault, the mean per cell, the rules counted in persons (threshold on distinct
people, dominance and p% on each person's summed hours), mitigation and the output recorded with its provenance —
against pandas doing the same table: reading the three columns from the same Parquet file in the vault (keys as
dictionaries) and ``pd.crosstab``, in the same run; ``pd.crosstab`` alone on the table already in memory is shown too.
Neither computes any rule statistic, so a third baseline does the same counting as the workbench: the same read,
then the lean per-person rule statistics of ``sdc_crosstab.lean_checks`` (each person's hours summed within the
cell, distinct persons, the two largest sums, threshold, dominance, p%...) with the person key's codes already in
memory (the workbench keeps them per version of the file). It does no suppression and records nothing.

1,000,000 rows; 20 × 50 categories with frequencies falling off as 1/k^1.5; 700,000 people (some with several rows).
Each timing is the median of interleaved repeats after a warm-up. Goal: the workbench within 2× the read and
``pd.crosstab``, embedded and in service mode (``--via service``: the kernel asks a ``workbench serve`` process,
which reads and computes; only the checked table comes back).

    python benchmarks/spec_crosstab.py [--rows 1000000] [--persons 700000] [--repeats 7] [--via embedded|service]
                                       [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from _machine import describe, interleaved, memory_line, peak_memory
from dp_crosstab import make_data, workspace
from sdc_crosstab import lean_checks


@contextmanager
def analyst_project(home: Path, url: str | None, data, persons: int, via: str):
    """The analyst's project (embedded or through a ``workbench serve`` process on the same workspace), and the
    dataset's Parquet file in the vault."""
    project = workspace(home, url, data, persons)
    path = project._ctx.vault.dataset_path("ons.bench_survey")
    if via == "embedded":
        yield project, path
        return
    import workbench

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import running  # the tests' way of starting and always stopping the service

    os.environ["WORKBENCH_USER"] = "ada.admin"
    token = workbench.connect(home, database_url=url).tokens.create("ann.analyst", label="benchmark")["token"]
    with running(home, url) as service_url:
        yield workbench.connect(url=service_url, token=token).project("p-bench"), path


def main() -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=700_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--via", choices=("embedded", "service"), default="embedded")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data = make_data(args.rows, args.persons)
    in_memory = data[["area", "occupation", "hours"]].copy()  # categorical keys, int64 values: pandas' fast path
    with tempfile.TemporaryDirectory() as tmp, analyst_project(Path(tmp) / "ws", args.database_url, data,
                                                               args.persons, args.via) as (project, path):
        output = project.tables.crosstab("ons.bench_survey", index="area", columns="occupation", values="hours",
                                         aggfunc="mean")
        unit = output.properties.get("privacy_unit")

        def by_spec() -> None:
            project.tables.crosstab("ons.bench_survey", index="area", columns="occupation", values="hours",
                                    aggfunc="mean")

        def read_and_crosstab() -> None:
            frame = pq.read_table(path, columns=["area", "occupation", "hours"],
                                  read_dictionary=["area", "occupation"]).to_pandas()
            pd.crosstab(frame["area"], frame["occupation"], values=frame["hours"], aggfunc="mean")

        person = pd.Series(pd.factorize(data["person_id"])[0])  # once: the workbench keeps these codes too

        def read_and_lean_checks() -> None:
            frame = pq.read_table(path, columns=["area", "occupation", "hours"],
                                  read_dictionary=["area", "occupation"]).to_pandas()
            lean_checks(frame["area"], frame["occupation"], frame["hours"], person)

        def pandas_crosstab() -> None:
            pd.crosstab(in_memory["area"], in_memory["occupation"], values=in_memory["hours"], aggfunc="mean")

        runs = {"workbench by spec": by_spec, "read + pd.crosstab": read_and_crosstab,
                "read + lean checks": read_and_lean_checks, "pd.crosstab alone": pandas_crosstab}
        median, best = interleaved(runs, args.repeats)
        memory = peak_memory(runs)
    print(f"machine: {describe()}")
    print(f"{args.via}, {'PostgreSQL' if args.database_url else 'SQLite'}; {args.rows:,} rows, {args.persons:,} "
          f"people, 20 x 50 cells, mean of hours; rules counted per {unit}; status {output.status}; "
          f"median of {args.repeats} interleaved repeats")
    for label, seconds in median.items():
        print(f"  {label:<20} {seconds * 1000:8.1f} ms  (best {best[label] * 1000:.1f} ms)")
    for label, peak in memory.items():
        print(memory_line(label, peak))
    for baseline in ("read + pd.crosstab", "read + lean checks", "pd.crosstab alone"):
        ratio = median["workbench by spec"] / median[baseline]
        goal = {"read + pd.crosstab": " (goal <= 2x)", "read + lean checks": " (the fair one)"}.get(baseline, "")
        print(f"  ratio workbench by spec / {baseline}: {ratio:.2f}x{goal}")


if __name__ == "__main__":
    main()
