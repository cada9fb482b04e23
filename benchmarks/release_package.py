"""Writing a release package against plain pandas: ``ws.review.release(id)`` for a request of 20 table outputs
(each loaded from the vault with its checksum verified, written as CSV with fsync, plus ACRO/SACRO results.json
and a manifest with every file's SHA-256, renamed into place, and the database updated and audited) against
``DataFrame.to_csv`` of the same 20 released tables and one ``json.dump`` of their metadata (the bare baseline), and
against the same pandas writing made durable and checkable as the package is (SHA-256 manifest, fsync of every
file, a staging folder renamed into place: the fair baseline, which still reads nothing back from the vault).

Also the package alone (the same files built and written atomically, without the database step). A small demo
workspace supplies the data; each repeat releases a fresh approved request of the same outputs. Median of
interleaved repeats.

    python benchmarks/release_package.py [--repeats 7] [--persons 2000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _machine import describe

PROJECT, ANALYST, CHECKERS = "m1-economic-inactivity", "sanjay.patel", ("mark.davies", "nadia.rahman")
DIMENSIONS = ["region", "sex", "ilo_status", "inactivity_reason", "long_term_health_condition",
              "health_condition_limits_activity"]
CONTEXT = {"shown": "Inactivity tables", "population": "LFS respondents", "purpose": "Benchmark",
           "differences": "None"}


def outputs(analyst) -> list:
    """20 disclosure-checked tables of the demo's Labour Force Survey."""
    project = analyst.project(PROJECT)
    lfs = project.load("ons.lfs")
    pairs = list(itertools.combinations(DIMENSIONS, 2))  # 15 counts
    made = [project.tables.crosstab(lfs, a, b, name=f"{a} by {b}") for a, b in pairs]
    made += [project.tables.crosstab(lfs, a, "sex", values="age", aggfunc="mean", name=f"mean age, {a} by sex")
             for a in DIMENSIONS if a != "sex"]  # 5 means
    return made


def approved_request(ws, tables) -> int:
    from workbench.workspace import session_for

    request = session_for(ws, ANALYST).project(PROJECT).outputs.submit(tables, title="Benchmark", context=CONTEXT)
    for checker in CHECKERS:
        review = session_for(ws, checker).review
        for output_id in request.outputs:
            review.decide(request.id, output_id, "approve", "Benchmark approval")
    session_for(ws, CHECKERS[0]).review.conclude(request.id, "approve")
    return request.id


def baseline(tables, folder: Path) -> None:
    """Plain pandas: each released table to CSV, and the metadata in one JSON file."""
    folder.mkdir()
    for i, table in enumerate(tables):
        table.safe_table.to_csv(folder / f"output_{i}.csv")
    meta = {"request": {"title": "Benchmark", "context": CONTEXT},
            "outputs": [{"name": f"output_{i}", "status": t.status, "summary": t.summary()}
                        for i, t in enumerate(tables)]}
    with open(folder / "manifest.json", "w") as handle:
        json.dump(meta, handle, indent=2)


def baseline_durable(tables, folder: Path) -> None:
    """Plain pandas doing the package's durability and integrity work too: the same CSVs and metadata written to
    a staging folder, a manifest with every file's SHA-256, each file fsynced, the folder renamed into place.
    (It still reads nothing back: the workbench re-reads each output from the vault and verifies its checksum, so
    that exactly what was reviewed is released.)"""
    import hashlib
    import os

    staging = folder.with_name(f".{folder.name}.tmp")
    staging.mkdir()
    files = {f"output_{i}.csv": table.safe_table.to_csv().encode() for i, table in enumerate(tables)}
    meta = {"request": {"title": "Benchmark", "context": CONTEXT},
            "outputs": [{"name": f"output_{i}", "status": t.status, "summary": t.summary()}
                        for i, t in enumerate(tables)]}
    files["results.json"] = json.dumps(meta, indent=2).encode()
    files["manifest.json"] = json.dumps({name: hashlib.sha256(content).hexdigest()
                                         for name, content in files.items()}, indent=2).encode()
    for name, content in files.items():
        with open(staging / name, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(staging, folder)


def package_only(ws, request_id: int, folder: Path) -> None:
    """The package's files built from the vault and written atomically, without the database update."""
    from workbench.outputs.release import write_package
    from workbench.outputs.requests import request_items, request_row

    with ws._ctx.db.read() as conn:
        row = request_row(conn, request_id)
        files, results, manifest = ws.review._package(conn, row, request_items(conn, request_id), datetime.now(UTC))
    write_package(folder, files, results, manifest)


def main() -> None:
    import workbench
    from workbench.demo import build_demo
    from workbench.outputs.release import verify_package
    from workbench.workspace import session_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--persons", type=int, default=2000)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "demo"
        build_demo(home, persons=args.persons, seed=3)
        ws = workbench.connect(home, create=False)
        tables = outputs(session_for(ws, ANALYST))
        requests = [approved_request(ws, tables) for _ in range(args.repeats + 1)]
        releaser = session_for(ws, CHECKERS[1])
        samples: dict[str, list[float]] = {"release": [], "package": [], "pandas": [], "durable": []}
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        for n, request_id in enumerate(requests):
            runs = {"release": lambda r=request_id: releaser.review.release(r),
                    "package": lambda r=request_id, n=n: package_only(releaser, r, scratch / f"package-{n}"),
                    "pandas": lambda n=n: baseline(tables, scratch / f"pandas-{n}"),
                    "durable": lambda n=n: baseline_durable(tables, scratch / f"durable-{n}")}
            for label, run in runs.items():
                start = time.perf_counter()
                run()
                if n:  # the first round warms up
                    samples[label].append(time.perf_counter() - start)
        released = releaser.review.release(requests[-1])
        assert verify_package(released["package"]) == []
        size = sum(p.stat().st_size for p in Path(released["package"]).iterdir())
        ws.close()
    median = {label: statistics.median(values) for label, values in samples.items()}
    print(f"request of {len(tables)} table outputs ({size / 1024:.0f} KiB package), median of {args.repeats}")
    for label, text in (("pandas", "pandas to_csv + json.dump (bare baseline)"),
                        ("durable", "pandas + SHA-256 manifest, fsync, rename (fair baseline)"),
                        ("package", "package alone (vault reads, CSV, results.json, manifest, fsync, rename)"),
                        ("release", "ws.review.release (package + database + audit)")):
        print(f"  {text:<72} {median[label] * 1000:8.1f} ms  {median[label] / median['pandas']:6.2f}x bare"
              f"  {median[label] / median['durable']:6.2f}x fair")


if __name__ == "__main__":
    main()
