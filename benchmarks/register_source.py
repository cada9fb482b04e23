"""Registering a large Parquet dataset: `ws.catalogue.register(record, data=path)` (policy, type checks from the
file's schema, a streamed copy into the vault as Parquet, one scan of the copy for rows, completeness, categories
and bounds, the catalogue transaction and audit event, the atomic move into place) against a plain DuckDB scan of
the same file computing the same counts (rows, non-missing and non-blank values per column, values outside the
declared categories and bounds).

The file has N rows (10 million by default; `--rows 100000000` for the issue's goal) × 10 columns: a unique integer
record number, three categories, two dates, a float, two integers with bounds and a text code with about 500
values; 1 % of the text and float values missing. The record number is declared a `record_identifier`, as the
catalogue asks of a column that identifies a record; nothing identifies a person, so registering links nothing to
the person index (linking is measured by `person_index.py`). Both contenders run in this process, interleaved, on a
warm page cache; the script prints best and median wall-clock seconds, the CPU seconds used (all threads, less
disturbed by other load on the machine), the peak resident memory of each, and the ratio. Goals at 100M rows:
register in <= 2x the scan's time, peak memory <= 2 GiB.

    python benchmarks/register_source.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _machine import describe, memory_line, peak_memory
from _staff import staffed

REGIONS = ["North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"]
SPECIALTIES = [f"Specialty {code}" for code in range(100, 140)]
SEXES = ["F", "M", "U"]
CODES = [f"R{code:03d}" for code in range(500)]
COLUMNS = [("record_no", "integer"), ("region", "category"), ("specialty", "category"), ("sex", "category"),
           ("admitted", "date"), ("discharged", "date"), ("cost", "float"), ("length_of_stay", "integer"),
           ("age", "integer"), ("provider", "string")]
CATEGORIES = {"region": REGIONS, "specialty": SPECIALTIES, "sex": SEXES}
BOUNDS = {"length_of_stay": (0, 400), "age": (0, 120)}


def write_file(path: Path, rows: int, batch: int = 1_000_000, seed: int = 11) -> None:
    """The benchmark file, written batch by batch (one row group each) so memory stays flat."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    pools = {name: pa.array(values) for name, values in (*CATEGORIES.items(), ("provider", CODES))}
    with pq.ParquetWriter(path, pa.schema([
            ("record_no", pa.int64()), ("region", pa.string()), ("specialty", pa.string()), ("sex", pa.string()),
            ("admitted", pa.date32()), ("discharged", pa.date32()), ("cost", pa.float64()),
            ("length_of_stay", pa.int32()), ("age", pa.int16()), ("provider", pa.string())])) as writer:
        for start in range(0, rows, batch):
            n = min(batch, rows - start)

            def pick(name: str, n: int = n) -> pa.Array:
                return pc.take(pools[name], pa.array(rng.integers(0, len(pools[name]), n)))

            admitted = np.datetime64("2015-01-01") + rng.integers(0, 3653, n).astype("timedelta64[D]")
            stay = rng.poisson(3.0, n).astype(np.int32)
            missing = pa.array(rng.random(n) < 0.01)
            writer.write_table(pa.table({
                "record_no": np.arange(start, start + n, dtype=np.int64),
                "region": pick("region"), "specialty": pick("specialty"), "sex": pick("sex"),
                "admitted": pa.array(admitted, pa.date32()),
                "discharged": pa.array(admitted + stay.astype("timedelta64[D]"), pa.date32()),
                "cost": pc.if_else(missing, pa.scalar(None, pa.float64()), pa.array(np.round(rng.gamma(2, 900, n), 2))),
                "length_of_stay": stay, "age": rng.integers(0, 100, n).astype(np.int16),
                "provider": pc.if_else(missing, pa.scalar(None, pa.string()), pick("provider")),
            }))


def entry() -> dict:
    return {
        "identifier": "https://data.example.invalid/bench/register-episodes", "type": "dcat:Dataset",
        "title": "Benchmark episodes to register", "description": "Synthetic episodes for the register benchmark.",
        "licence": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "version": "1",
        "accessRights": "INTERNAL", "securityClassification": "OFFICIAL",
        "contactPoint": {"contactName": "Benchmark", "email": "bench@example.invalid"},
        "creator": ["office-for-national-statistics"], "publisher": "office-for-national-statistics",
        "modified": "2026-01-01", "updateFrequency": "freq:irregular", "localId": "bench.register",
        "columns": [{"name": name, "type": kind, "description": name,
                     "role": "record_identifier" if name == "record_no" else "other",
                     **({"categories": CATEGORIES[name]} if name in CATEGORIES else {}),
                     **({"lowerBound": BOUNDS[name][0], "upperBound": BOUNDS[name][1]} if name in BOUNDS else {})}
                    for name, kind in COLUMNS],
    }


def scan_counts(path: Path) -> tuple:
    """The plain DuckDB scan: the same counts registering computes, straight from the file."""
    import duckdb

    parts = ["count(*)"]
    for name, kind in COLUMNS:
        parts.append(f"count({name})" + (f" - count(*) FILTER (WHERE trim({name}) = '')"
                                         if kind in ("string", "category") else ""))
        if name in CATEGORIES:
            parts.append(f"count(*) FILTER (WHERE {name} NOT IN ({', '.join(repr(v) for v in CATEGORIES[name])}))")
        if name in BOUNDS:
            low, high = BOUNDS[name]
            parts.append(f"count(*) FILTER (WHERE {name} < {low} OR {name} > {high})")
    with duckdb.connect() as con:
        return con.execute(f"SELECT {', '.join(parts)} FROM read_parquet('{path}')").fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "episodes.parquet"
        start = time.perf_counter()
        write_file(path, args.rows)
        written = time.perf_counter() - start
        owner = staffed(Path(scratch) / "workspace", None)("olu.owner")

        def register():
            return owner.catalogue.register(entry(), data=path)

        registered, counted = register(), scan_counts(path)
        assert registered.row_count == counted[0] == args.rows
        runs = {"duckdb scan": lambda: scan_counts(path), "register": register}
        wall: dict[str, list[float]] = {label: [] for label in runs}
        cpu: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.repeats):
            for label, run in runs.items():
                start, used = time.perf_counter(), time.process_time()
                run()
                wall[label].append(time.perf_counter() - start)
                cpu[label].append(time.process_time() - used)
        memory = peak_memory(runs)
        size, copy = path.stat().st_size, owner._ctx.vault.dataset_path("bench.register").stat().st_size
    print(f"machine: {describe()}")
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns, {size / 2**20:,.0f} MiB Parquet (written in {written:.1f} s), "
          f"vault copy {copy / 2**20:,.0f} MiB; {args.repeats} repeats, interleaved")
    for label in runs:
        print(f"  {label:<24} best {min(wall[label]):6.2f} s   median {statistics.median(wall[label]):6.2f} s   "
              f"CPU median {statistics.median(cpu[label]):6.2f} s")
    for label in runs:
        print(memory_line(label, memory[label]))
    ratio = statistics.median(wall["register"]) / statistics.median(wall["duckdb scan"])
    used = statistics.median(cpu["register"]) / statistics.median(cpu["duckdb scan"])
    peak = memory["register"]
    print(f"ratio register / scan: median {ratio:.2f}x, best {min(wall['register']) / min(wall['duckdb scan']):.2f}x, "
          f"CPU {used:.2f}x (goal at 100M rows: <= 2x; peak RSS <= 2 GiB: "
          f"{'not measured' if peak is None else 'met' if peak[0] <= 2048 else 'NOT met'})")
    print("load average after the run: " + " ".join(f"{load:.1f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
