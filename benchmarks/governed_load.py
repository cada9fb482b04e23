"""Governed load throughput: `project.load(...)` in a workspace (policy, grant, column pruning, keyed pseudonyms
for two identifier columns, load record and audit event) and its reading kernel `read_governed`, against a plain
`pyarrow.parquet.read_table(path, columns=...).to_pandas()` of the same columns of the same vault file.

The file has N rows (10 million by default) × 8 columns: an NHS-number-like 10-digit text identifier (about
2 million distinct values, 0.5 % nulls), an integer person id (about 3 million distinct), a date, two
categories (stored as Arrow dictionaries, as the vault stores pandas categoricals), a float and two integers.
Both readers run in the same process, interleaved, on a warm page cache; the script prints the best and
median of `--repeats` wall-clock timings, the throughputs and their ratio, and the CPU seconds each read used
(all threads), which other load on the machine disturbs less. Goal: workbench >= 0.5x the baseline's
throughput.

    python benchmarks/governed_load.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _machine import describe

from workbench.governance.pseudonyms import project_key, read_governed

COLUMNS = ["nhs_number", "person_id", "admission_date", "region", "specialty", "cost", "length_of_stay", "age"]
IDENTIFIERS = ["nhs_number", "person_id"]
REGIONS = ["North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"]
SPECIALTIES = [f"Specialty {code}" for code in range(100, 140)]


def write_file(path: Path, rows: int, batch: int = 1_000_000, seed: int = 7) -> None:
    """Write the benchmark file batch by batch (one row group each), so memory stays flat."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    nhs_pool = rng.permutation(np.unique(rng.integers(4_000_000_000, 9_999_999_999, size=2_050_000))[:2_000_000])
    person_pool = rng.permutation(np.arange(10_000_000, 13_000_000, dtype=np.int64))
    regions, specialties = pa.array(REGIONS), pa.array(SPECIALTIES)
    with pq.ParquetWriter(path, pa.schema([
            ("nhs_number", pa.string()), ("person_id", pa.int64()), ("admission_date", pa.date32()),
            ("region", pa.dictionary(pa.int8(), pa.string())), ("specialty", pa.dictionary(pa.int8(), pa.string())),
            ("cost", pa.float64()), ("length_of_stay", pa.int32()), ("age", pa.int16())])) as writer:
        for start in range(0, rows, batch):
            n = min(batch, rows - start)
            nhs = pa.array(nhs_pool[rng.integers(0, len(nhs_pool), n)]).cast(pa.string())
            nhs = pc.if_else(pa.array(rng.random(n) < 0.005), pa.scalar(None, pa.string()), nhs)
            writer.write_table(pa.table({
                "nhs_number": nhs,
                "person_id": person_pool[rng.integers(0, len(person_pool), n)],
                "admission_date": pa.array(np.datetime64("2015-01-01") + rng.integers(0, 3653, n).astype(
                    "timedelta64[D]"), pa.date32()),
                "region": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(REGIONS), n).astype(np.int8)),
                                                         regions),
                "specialty": pa.DictionaryArray.from_arrays(
                    pa.array(rng.integers(0, len(SPECIALTIES), n).astype(np.int8)), specialties),
                "cost": np.round(rng.gamma(2.0, 900.0, n), 2),
                "length_of_stay": rng.poisson(3.0, n).astype(np.int32),
                "age": rng.integers(0, 100, n).astype(np.int16),
            }))


def baseline(path: Path):
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=COLUMNS).to_pandas()


def check(path: Path, key: bytes) -> None:
    """The workbench frame: same non-identifier columns as the baseline, identifiers as the reference HMAC."""
    import pandas as pd
    import pyarrow.parquet as pq

    plain, governed = baseline(path), read_governed(path, COLUMNS, IDENTIFIERS, key)
    assert list(governed.columns) == COLUMNS and len(governed) == len(plain)
    rest = [c for c in COLUMNS if c not in IDENTIFIERS]
    assert governed[rest].dtypes.equals(plain[rest].dtypes)
    sample = plain.sample(1000, random_state=1).index
    assert governed.loc[sample, rest].equals(plain.loc[sample, rest])
    for name in IDENTIFIERS:
        raw = pq.read_table(path, columns=[name]).column(name).take(list(sample)).to_pylist()
        expected = [None if v is None else hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:20]
                    for v in raw]
        got = [None if v is pd.NA else v for v in governed.loc[sample, name].tolist()]
        assert got == expected, name


def governed_workspace(folder: Path, source: Path):
    """A workspace holding the benchmark file as a granted dataset; returns the analyst's project and the vault
    file the dataset was stored as."""
    import os

    import pyarrow.parquet as pq

    import workbench

    types = {"nhs_number": "string", "person_id": "integer", "admission_date": "date", "region": "category",
             "specialty": "category", "cost": "float", "length_of_stay": "integer", "age": "integer"}
    record = {
        "identifier": "https://data.example.invalid/bench/episodes", "type": "dcat:Dataset",
        "title": "Benchmark hospital episodes", "summary": "Synthetic episodes for the load benchmark.",
        "description": "Synthetic hospital episodes, one row per episode, for measuring governed loads.",
        "keyword": ["benchmark"], "licence": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "version": "1", "accessRights": "INTERNAL", "securityClassification": "OFFICIAL",
        "contactPoint": {"contactName": "Benchmark", "email": "bench@example.invalid"},
        "creator": ["department-of-health-and-social-care"], "publisher": "department-of-health-and-social-care",
        "issued": "2026-01-01", "modified": "2026-01-01", "updateFrequency": "freq:irregular",
        "localId": "bench.episodes",
        "department": "department-of-health-and-social-care", "legalGateway": ["nhs-act-2006-s251"], "mission": [5],
        "dataOwner": "olu.owner",
        "columns": [{"name": n, "type": t, "role": "direct_identifier" if n in IDENTIFIERS else "other",
                     "description": n, **({"categories": {"region": REGIONS, "specialty": SPECIALTIES}[n]}
                                          if t == "category" else {})} for n, t in types.items()],
    }

    def as_user(user: str):
        os.environ["WORKBENCH_USER"] = user
        return workbench.connect(folder)

    admin = as_user("ada.admin")
    admin.people.add("ada.admin", "Ada Admin", roles=["admin"])
    admin.departments.add("department-of-health-and-social-care", "Department of Health and Social Care", "DHSC")
    admin.people.add("olu.owner", "Olu Owner", roles=["data_owner"], department="DHSC")
    admin.people.add("ann.analyst", "Ann Analyst", roles=["analyst"], department="DHSC")
    admin.people.accredit("ann.analyst", until="2099-01-01")
    admin.people.record_training("ann.analyst", "safe-researcher", completed="2026-01-01")
    admin.create_project("bench", "Benchmark", "Measure governed loads", mission=5, legal_gateway="nhs-act-2006-s251",
                         lead="ann.analyst", start="2026-01-01", end="2099-12-31", status="active")
    as_user("olu.owner").catalogue.register(record, pq.read_table(source).to_pandas())
    analyst = as_user("ann.analyst")
    request = analyst.project("bench").request_access("bench.episodes", justification="Benchmark")
    as_user("olu.owner").owner.decide(request["id"], "approve", identifiers=IDENTIFIERS)
    return analyst.project("bench"), analyst._ctx.vault.dataset_path("bench.episodes")


def timed(read, path: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one read."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    frame = read(path)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    del frame
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    key = project_key(secrets.token_bytes(32), "bench-project")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "admissions.parquet"
        start = time.perf_counter()
        write_file(path, args.rows)
        written = time.perf_counter() - start
        project, path = governed_workspace(Path(scratch) / "workspace", path)
        ids = pq.read_table(path, columns=IDENTIFIERS)
        distinct = {name: pc.count_distinct(ids.column(name)).as_py() for name in IDENTIFIERS}
        del ids
        check(path, key)  # also warms the page cache for both readers

        def kernel(p: Path):
            return read_governed(p, COLUMNS, IDENTIFIERS, key)

        cache = project._ctx.vault.project_root("bench") / "cache"

        def first_load(_p: Path):
            shutil.rmtree(cache, ignore_errors=True)  # as if this project had never loaded the dataset
            return project.load("bench.episodes", COLUMNS)

        def repeat_load(_p: Path):
            return project.load("bench.episodes", COLUMNS)

        rest = [c for c in COLUMNS if c not in IDENTIFIERS]
        assert first_load(path)[rest].equals(baseline(path)[rest])
        assert repeat_load(path).equals(first_load(path))
        readers = (("baseline", baseline), ("workbench", first_load), ("repeat", repeat_load), ("kernel", kernel))
        times: dict[str, list[float]] = {name: [] for name, _ in readers}
        cpu: dict[str, list[float]] = {name: [] for name, _ in readers}
        for _ in range(args.repeats):
            for name, read in readers:
                elapsed, used = timed(read, path)
                times[name].append(elapsed)
                cpu[name].append(used)
        size = path.stat().st_size
    print(f"machine: {describe()}")
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns, {size / 2**20:,.0f} MiB Parquet (written in {written:.1f} s); "
          f"distinct: " + ", ".join(f"{n} {d:,}" for n, d in distinct.items()))
    labels = {"baseline": "pq.read_table(...).to_pandas() (baseline)",
              "workbench": f"project.load, first: {len(IDENTIFIERS)} columns hashed",
              "repeat": "project.load, repeated: pseudonyms cached",
              "kernel": "read_governed alone, no cache"}
    for name, samples in times.items():
        best, median = min(samples), statistics.median(samples)
        print(f"{labels[name]:<44} best {best:6.2f} s ({args.rows / best / 1e6:5.2f} M rows/s)   "
              f"median {median:6.2f} s ({args.rows / median / 1e6:5.2f} M rows/s)   "
              f"CPU median {statistics.median(cpu[name]):5.1f} s")
    for name in ("workbench", "repeat"):
        best = min(times["baseline"]) / min(times[name])
        median = statistics.median(times["baseline"]) / statistics.median(times[name])
        print(f"throughput ratio {labels[name]} / baseline: best {best:.2f}x, median {median:.2f}x; "
              f"goal >= 0.5x: {'met' if min(best, median) >= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
