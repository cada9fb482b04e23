"""A filtered governed load: `project.load(dataset, columns, where=...)` keeping about 1 % of a 10-million-row
Parquet dataset (policy, grant, the filter pushed into the Parquet read, the project's row order, one identifier
keyed to the project's pseudonyms, load record and audit event), against a plain DuckDB read of the same vault
file with the same filter into pandas of the same columns, text as Arrow-backed `string[pyarrow]` columns.

The file is `governed_load.py`'s (one row group per million rows; a text identifier, an integer id, a date, two
categories, a float, two integers). The filter is `region == "London"` (1 in 9) and `age < 9` (9 in 100): about
1 % of the rows, spread over every row group, so row-group statistics skip nothing (the hard case). Also timed:
a sample of 1 % of the whole dataset (`sample=0.01`), and the same filtered load read in batches of 20,000 rows.
The contenders run interleaved, warm; the script prints medians and best of `--repeats` wall-clock timings, CPU
seconds (all threads), each contender's peak resident memory (kernel high-water mark), and the ratio to DuckDB.
Goal (issue 23): the filtered load in <= 2x DuckDB's time.

    python benchmarks/load_where.py [--rows 10000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _machine import describe, interleaved, memory_line, peak_memory
from governed_load import governed_workspace, write_file

COLUMNS = ["nhs_number", "admission_date", "region", "cost", "age"]  # one identifier, pseudonymised
WHERE = {"region": "London", "age": {"<": 9}}


def duckdb_read(path: Path):
    """The baseline: DuckDB's Parquet scan with the filter pushed down, into pandas with Arrow-backed text."""
    import duckdb
    import pandas as pd
    import pyarrow as pa

    text = pd.StringDtype("pyarrow")
    with duckdb.connect() as con:
        query = con.sql(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{path}') WHERE region = 'London' AND age < 9")
        table = query.to_arrow_table() if hasattr(query, "to_arrow_table") else query.arrow()
    return table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import pandas as pd

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "admissions.parquet"
        start = time.perf_counter()
        write_file(source, args.rows)
        written = time.perf_counter() - start
        project, path = governed_workspace(Path(scratch) / "workspace", source)
        source.unlink()

        def load():
            return project.load("bench.episodes", COLUMNS, where=WHERE)

        def batched():
            return sum(len(batch) for batch in project.batches("bench.episodes", COLUMNS, where=WHERE, rows=20_000))

        def sample():
            return project.load("bench.episodes", COLUMNS, sample=0.01, seed=1)

        governed, plain = load(), duckdb_read(path)
        assert len(governed) == len(plain) and 0.008 * args.rows < len(plain) < 0.012 * args.rows
        rest = [c for c in COLUMNS if c != "nhs_number"]
        assert governed[rest].astype(str).sort_values(rest, ignore_index=True).equals(
            plain[rest].astype(str).sort_values(rest, ignore_index=True))  # the same rows
        assert governed["nhs_number"].str.fullmatch(r"[0-9a-f]{20}").fillna(True).all()
        assert pd.isna(governed["nhs_number"]).sum() == pd.isna(plain["nhs_number"]).sum()
        runs = {"duckdb": lambda: duckdb_read(path), "load": load, "batches": batched, "sample": sample}
        cpu: dict[str, list[float]] = {name: [] for name in runs}

        def with_cpu(name: str, run):
            def measured():
                used = time.process_time()
                run()
                cpu[name].append(time.process_time() - used)
            return measured

        median, best = interleaved({name: with_cpu(name, run) for name, run in runs.items()}, args.repeats)
        memory = peak_memory(runs)
        size = path.stat().st_size
    labels = {"duckdb": "DuckDB filtered read (baseline)", "load": "project.load(where=...)",
              "batches": "project.batches(where=..., rows=20,000)", "sample": "project.load(sample=0.01)"}
    print(f"machine: {describe()}")
    print(f"{args.rows:,} rows, {size / 2**20:,.0f} MiB Parquet (written in {written:.1f} s); where {WHERE} keeps "
          f"{len(plain):,} rows; {args.repeats} interleaved repeats")
    for name in runs:
        print(f"{labels[name]:<42} median {median[name]:6.3f} s   best {best[name]:6.3f} s   "
              f"CPU median {statistics.median(cpu[name][1:] or cpu[name]):6.3f} s   "
              f"{memory_line(name, memory[name])}")
    for name in ("load", "batches", "sample"):
        ratio = median[name] / median["duckdb"]
        verdict = f"; goal <= 2x: {'met' if ratio <= 2 else 'NOT met'}" if name == "load" else ""
        print(f"ratio {labels[name]} / DuckDB: median {ratio:.2f}x, best {best[name] / best['duckdb']:.2f}x{verdict}")
    print("load average after the run: " + " ".join(f"{load:.1f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
