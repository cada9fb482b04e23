"""Governed load throughput: `project.load(...)` in a workspace (policy, grant, column pruning, keyed pseudonyms
for two identifier columns, project row order, load record and audit event) and its reading kernel
`read_governed`, against a plain `pyarrow.parquet.read_table(path, columns=...)` of the same columns of the same
vault file converted to pandas two ways:

- the fair baseline, text as Arrow-backed `string[pyarrow]` columns (what `project.load` returns for identifiers);
- the old headline, `to_pandas()`'s default of one Python string object per text value (much slower to build).

The file has N rows (10 million by default) × 8 columns: an NHS-number-like 10-digit text identifier (about
2 million distinct values, 0.5 % nulls), an integer person id (about 3 million distinct), a date, two
categories (stored as Arrow dictionaries, as the vault stores pandas categoricals), a float and two integers.
All readers run in the same process, interleaved, on a warm page cache; the script prints the best and median
of `--repeats` wall-clock timings, the CPU seconds each read used (all threads), which other load on the machine
disturbs less, and the ratios of medians; then, in one more untimed run of each reader, the peak growth of
resident memory and of Arrow's memory pool during the read (sampled every millisecond by a thread, which would
disturb the timing: it takes the GIL a thousand times a second, which slows multi-threaded Python more than one
long native call). A first load starts with the project's cache deleted (before the timing, as the baselines
have nothing to delete) and is timed until it returns its frame; the cache files it leaves to be written behind
it are then waited for and flushed to disk, untimed, and that time and CPU are printed beside it, so no reader
pays for another's deferred writes. Goals against the fair baseline: first load >= 0.5x, repeat load >= 1x.

    python benchmarks/governed_load.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import os
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _machine import describe

from workbench.governance.pseudonyms import project_key, read_governed, wait_for_cache

COLUMNS = ["nhs_number", "person_id", "admission_date", "region", "specialty", "cost", "length_of_stay", "age"]
IDENTIFIERS = ["nhs_number", "person_id"]
REGIONS = ["North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"]
SPECIALTIES = [f"Specialty {code}" for code in range(100, 140)]
PAGE = os.sysconf("SC_PAGE_SIZE")


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
    """The old headline: identifiers as 10 million Python string objects (``to_pandas()``'s default)."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=COLUMNS).to_pandas()


def arrow_baseline(path: Path):
    """The fair baseline: the same read with text as Arrow-backed ``string[pyarrow]`` columns, as ``project.load``
    returns identifiers; every other column as ``to_pandas()`` gives it."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = pd.StringDtype("pyarrow")
    return pq.read_table(path, columns=COLUMNS).to_pandas(
        types_mapper={pa.string(): text, pa.large_string(): text}.get)


def check(path: Path, key: bytes) -> None:
    """The workbench frame: same non-identifier columns as the baseline, identifiers as the reference AES-CMAC
    (``cryptography``'s, one value at a time)."""
    import pandas as pd
    import pyarrow.parquet as pq
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.cmac import CMAC

    cmac_key = hmac.new(key, b"pseudonym:aes-256-cmac", hashlib.sha256).digest()

    def reference(value: object) -> str:
        mac = CMAC(algorithms.AES(cmac_key))
        mac.update(str(value).encode())
        return mac.finalize().hex()[:20]

    plain, governed = baseline(path), read_governed(path, COLUMNS, IDENTIFIERS, key)
    assert list(governed.columns) == COLUMNS and len(governed) == len(plain)
    rest = [c for c in COLUMNS if c not in IDENTIFIERS]
    assert governed[rest].dtypes.equals(plain[rest].dtypes)
    sample = plain.sample(1000, random_state=1).index
    assert governed.loc[sample, rest].equals(plain.loc[sample, rest])
    for name in IDENTIFIERS:
        raw = pq.read_table(path, columns=[name]).column(name).take(list(sample)).to_pylist()
        expected = [None if v is None else reference(v) for v in raw]
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


def _rss() -> int:
    """This process's resident set size in bytes, now."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class PeakRss:
    """The highest resident set size seen while the block runs, and the most bytes allocated in Arrow's memory
    pool, sampled every millisecond by a thread. RSS growth misses memory the pool kept from an earlier read
    and reused; the pool's count misses numpy's own allocations (pandas blocks, Python strings): quote both."""

    def __enter__(self) -> PeakRss:
        import pyarrow as pa

        self._pool = pa.total_allocated_bytes
        self.start = self.peak = _rss()
        self.pool_start = self.pool_peak = self._pool()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.001):
            self.peak = max(self.peak, _rss())
            self.pool_peak = max(self.pool_peak, self._pool())

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def timed(read, path: Path) -> tuple[float, float, float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one read until it returns its frame, and the
    wall-clock and CPU seconds of the cache files it left to be written behind it. Those are waited for and
    flushed to disk before the next read, untimed, so that no reader pays for another's deferred work."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    frame = read(path)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    wait_for_cache()
    behind, behind_cpu = time.perf_counter() - start, time.process_time() - cpu
    del frame
    os.sync()
    return elapsed, used, behind, behind_cpu


def peak_growth(read, path: Path) -> tuple[int, int]:
    """The most memory one read added above what the process held before it: peak RSS growth and peak Arrow-pool
    growth, bytes (an untimed run: the sampling thread would disturb the timing)."""
    gc.collect()
    with PeakRss() as memory:
        frame = read(path)
    del frame
    wait_for_cache()
    os.sync()
    return memory.peak - memory.start, memory.pool_peak - memory.pool_start


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

        def forget():
            shutil.rmtree(cache, ignore_errors=True)  # as if this project had never loaded the dataset
            os.sync()

        def first_load(_p: Path):
            return project.load("bench.episodes", COLUMNS)

        def repeat_load(_p: Path):
            return project.load("bench.episodes", COLUMNS)

        rest = [c for c in COLUMNS if c not in IDENTIFIERS]
        forget()
        loaded, plain = first_load(path)[rest], baseline(path)[rest]  # the same rows, in the project's order
        assert loaded.sort_values(rest, ignore_index=True).equals(plain.sort_values(rest, ignore_index=True))
        del loaded, plain
        wait_for_cache()
        again = repeat_load(path)
        forget()
        assert again.equals(first_load(path))
        del again
        wait_for_cache()
        readers = (("baseline", baseline), ("arrow", arrow_baseline), ("workbench", first_load),
                   ("repeat", repeat_load), ("kernel", kernel))
        times: dict[str, list[float]] = {name: [] for name, _ in readers}
        cpu: dict[str, list[float]] = {name: [] for name, _ in readers}
        behind: dict[str, list[float]] = {name: [] for name, _ in readers}
        behind_cpu: dict[str, list[float]] = {name: [] for name, _ in readers}
        for _ in range(args.repeats):
            for name, read in readers:
                if read is first_load:
                    forget()
                elapsed, used, later, later_cpu = timed(read, path)
                times[name].append(elapsed)
                cpu[name].append(used)
                behind[name].append(later)
                behind_cpu[name].append(later_cpu)
        peak: dict[str, tuple[int, int]] = {}
        for name, read in readers:
            if read is first_load:
                forget()
            peak[name] = peak_growth(read, path)
        size = path.stat().st_size
    print(f"machine: {describe()}")
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns, {size / 2**20:,.0f} MiB Parquet (written in {written:.1f} s); "
          f"distinct: " + ", ".join(f"{n} {d:,}" for n, d in distinct.items()) + f"; {args.repeats} repeats")
    labels = {"baseline": "to_pandas(), Python str (old baseline)",
              "arrow": "to_pandas(), string[pyarrow] (fair)",
              "workbench": "project.load, first: identifiers keyed",
              "repeat": "project.load, repeat: pseudonyms cached",
              "kernel": "read_governed alone, no cache"}
    for name, samples in times.items():
        best, median = min(samples), statistics.median(samples)
        print(f"{labels[name]:<40} best {best:6.2f} s   median {median:6.2f} s "
              f"({args.rows / median / 1e6:5.2f} M rows/s)   CPU median {statistics.median(cpu[name]):5.2f} s   "
              f"peak growth: RSS {peak[name][0] / 2**20:5,.0f} MiB, Arrow pool {peak[name][1] / 2**20:5,.0f} MiB")
        if max(behind_cpu[name]) > 0.01:
            print(f"{'':<40} then its cache written behind it: median {statistics.median(behind[name]):5.2f} s "
                  f"after it returned, CPU median {statistics.median(behind_cpu[name]):5.2f} s")
    print("load average after the run (other processes on the machine): "
          + " ".join(f"{load:.1f}" for load in os.getloadavg()))
    for base, goal in (("baseline", None), ("arrow", {"workbench": 0.5, "repeat": 1.0})):
        for name in ("workbench", "repeat"):
            best = min(times[base]) / min(times[name])
            median = statistics.median(times[base]) / statistics.median(times[name])
            verdict = "" if goal is None else (
                f"; goal >= {goal[name]}x: {'met' if median >= goal[name] else 'NOT met'} (median)")
            used = statistics.median(cpu[base]) / statistics.median(cpu[name])
            print(f"ratio {labels[name]} / {labels[base]}: best {best:.2f}x, median {median:.2f}x, "
                  f"CPU {used:.2f}x{verdict}")


if __name__ == "__main__":
    main()
