"""Catalogue search latency over N entries: the workbench (``search_page``, as the panel calls it: weighted stored
terms ranked in SQL, the page, the count of all matches and the "did you mean" check) against a plain pandas scan
of the same entries (case-insensitive substring match over title, description, keywords and column names, ranked
by the number of matching fields) — the obvious way to search a catalogue held as a table. The engines run in
turn for each query, warm (A B, B A, ...: interleaved, not one after the other), so a slow spell of the machine
falls on all of them; the worst case (a word in every entry) is timed the same way against the baseline.

Prints p50 (the median) and p95 per engine and their ratios. Goal: p95 <= 20 ms over 10,000 entries.

    python benchmarks/catalogue_search.py [--entries 10000] [--queries 200] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import tempfile
import time
import uuid

from _machine import describe

WORDS = """
hospital admissions patients waiting emergency elective benefit claims universal credit pupils
attainment schools teachers crime burglary offenders reoffending emissions energy weather rainfall
temperature traffic journeys labour employment inactivity earnings survey population census housing
homelessness transport rail bus air quality flooding wellbeing disability carers pensions tax
business productivity apprenticeships childcare vaccinations prescriptions mortality births
""".split()  # noqa: SIM905 - a paragraph of words reads better than a list
DEPARTMENTS = [("office-for-national-statistics", "ONS"), ("department-of-health-and-social-care", "DHSC"),
               ("department-for-work-pensions", "DWP"), ("department-for-education", "DfE"),
               ("home-office", "HO"), ("ministry-of-justice", "MoJ")]
QUERIES = ["hospital", "hospital admissions", "crime by area", "pupil attainment", "benefit", "emiss",
           "weather rainfall temperature", "labour force inactivity", "teachers", "zebra"]
BROAD = "data"  # in every entry: the worst case, reported apart


def filler_vocabulary(size: int, rng: random.Random) -> list[str]:
    """Pronounceable non-topical words, so that descriptions read as text without matching every query."""
    syllables = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(syllables, k=rng.randint(2, 4))))
    return sorted(words)


def make_records(n: int, seed: int = 7) -> list[dict]:
    """Entries whose titles, keywords and a few description words are topical (each topical word is in
    roughly one entry in six, as in a real catalogue); the rest of each description is filler, plus the
    word 'data' everywhere so that one query matches every entry (the worst case)."""
    rng = random.Random(seed)
    filler = filler_vocabulary(3000, rng)
    records = []
    for i in range(n):
        slug, _ = DEPARTMENTS[i % len(DEPARTMENTS)]
        words = rng.sample(WORDS, 12)
        description = words[:6] + rng.choices(filler, k=54) + ["data"]
        rng.shuffle(description)
        records.append({
            "identifier": f"https://bench.invalid/dataset/{i}", "type": "dcat:Dataset",
            "title": " ".join(words[:3]).capitalize() + f" {i}",
            "description": " ".join(description) + ".",
            "keyword": words[3:6], "licence": "OGL", "version": "1", "accessRights": rng.choice(["OPEN", "INTERNAL"]),
            "securityClassification": "OFFICIAL", "contactPoint": {"contactName": "Team", "email": "t@x.invalid"},
            "creator": [slug], "publisher": slug, "modified": "2026-01-01", "updateFrequency": "freq:monthly",
            "localId": f"bench.d{i}", "mission": [1 + i % 5],
            "columns": [{"name": w + "_count", "type": "integer", "role": "other"} for w in words[6:9]],
        })
    return records


@contextlib.contextmanager
def scratch_schema(database_url: str | None):
    """For PostgreSQL, a fresh schema dropped afterwards, so the benchmark never touches existing tables."""
    if database_url is None:
        yield None
        return
    from sqlalchemy import create_engine, text

    schema = f"wb_bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def build_workspace(records: list[dict], home: str, database_url: str | None):
    import yaml

    import workbench

    os.environ["WORKBENCH_USER"] = "bench.admin"
    ws = workbench.connect(home, database_url=database_url)
    ws.people.add("bench.admin", "Benchmark admin", roles=["admin"])
    for slug, abbreviation in DEPARTMENTS:
        ws.departments.add(slug, slug.replace("-", " ").title(), abbreviation)
    ws.catalogue.import_text(yaml.safe_dump_all(records, sort_keys=False), source="benchmark")
    return ws


def pandas_baseline(records: list[dict]):
    import pandas as pd

    frame = pd.DataFrame({
        "id": [r["localId"] for r in records], "title": [r["title"] for r in records],
        "description": [r["description"] for r in records],
        "keywords": [" ".join(r["keyword"]) for r in records],
        "columns": [" ".join(c["name"] for c in r["columns"]) for r in records],
    })
    fields = ["title", "description", "keywords", "columns"]
    lowered = {f: frame[f].str.lower() for f in fields}

    def search(text: str, limit: int = 50):
        words = text.lower().split()
        score = sum(lowered[f].str.contains(w, regex=False).astype(int) for f in fields for w in words)
        hits = frame.assign(score=score)
        return hits[hits.score > 0].nlargest(limit, "score")

    return search


def interleaved_samples(engines: dict[str, object], queries: list[str]) -> dict[str, list[float]]:
    """Milliseconds of each engine on each query, warm, the engines taking turns on every query (A B, then B A on
    the next query, so that neither always runs second): a slow spell of the machine falls on all of them."""
    samples: dict[str, list[float]] = {label: [] for label in engines}
    order = list(engines.items())
    for i, query in enumerate(queries):
        for label, search in (order if i % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            search(query)
            samples[label].append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("WORKBENCH_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    records = make_records(args.entries)
    queries = [QUERIES[i % len(QUERIES)] for i in range(args.queries)]
    with tempfile.TemporaryDirectory() as home, scratch_schema(args.database_url) as database_url:
        start = time.perf_counter()
        ws = build_workspace(records, home, database_url)
        built = time.perf_counter() - start
        engine = ws._ctx.db.dialect
        assert len(ws.catalogue) == args.entries
        baseline_search = pandas_baseline(records)
        for query in QUERIES:  # warm both: the first query of each kind, and the "did you mean" vocabulary
            ws.catalogue.search_page(query)
            baseline_search(query)
        samples = interleaved_samples({
            "workbench": ws.catalogue.search_page,
            "filtered": lambda q: ws.catalogue.search_page(q, department="DHSC", mission=5),
            "baseline": baseline_search}, queries)
        workbench, filtered, baseline = samples["workbench"], samples["filtered"], samples["baseline"]
        worst = interleaved_samples({"workbench": ws.catalogue.search_page, "baseline": baseline_search},
                                    [BROAD] * 20)
        broad, broad_baseline = worst["workbench"], worst["baseline"]
        ws.close()
    print(f"machine: {describe()}")
    print(f"{args.entries:,} entries (registered in {built:.1f} s), {args.queries} queries")
    for label, samples in ((f"workbench search ({engine})", workbench),
                           (f"workbench search + filters ({engine})", filtered),
                           ("pandas substring scan (baseline)", baseline),
                           (f"worst case: {BROAD!r} matches every entry ({engine})", broad),
                           (f"pandas on {BROAD!r} (baseline, same turns)", broad_baseline)):
        print(f"{label:<52} p50 {pct(samples, 50):7.2f} ms   p95 {pct(samples, 95):7.2f} ms")
    print(f"ratio workbench / pandas: median {statistics.median(workbench) / statistics.median(baseline):.2f}x, "
          f"p95 {pct(workbench, 95) / pct(baseline, 95):.2f}x; "
          f"goal p95 <= 20 ms: {'met' if pct(workbench, 95) <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
