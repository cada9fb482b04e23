"""In a real browser over a 10,000-entry catalogue: type a search into the Catalogue panel and measure, in the
page, the time from the last keystroke to the page of results being in the DOM and painted.

The goal (results within 200 ms of the last keystroke, with the debounce) is judged from the recorded figures, not
asserted: timings depend on the machine. The test asserts that every search shows its results and that paging
works, and writes the measurements to ``artefacts/catalogue-latency.json`` (docs/benchmarks.md records them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Lab, _artefacts, open_lab, start_lab, stop_lab

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ENTRIES = 10_000
USER = "bench.admin"
# (words typed, ms between keystrokes): the benchmark's ten kinds of query plus the worst case (a word in every
# entry), typed fast (no search starts before the last key) and slowly (each key starts a search, so the last
# one competes with answers still on their way).
FAST, SLOW = 40, 160
SLOW_QUERIES = ("hospital admissions", "emiss", "data")


def _benchmark(name: str):
    """A module of benchmarks/ (the catalogue generator is shared with the search benchmark)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def large_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, float]]:
    """A workspace whose catalogue holds the search benchmark's 10,000 entries, imported through the catalogue
    service as one multi-document YAML file (every record validated and audited, as an admin's import would)."""
    import yaml

    import workbench

    bench = _benchmark("catalogue_search")
    home = tmp_path_factory.mktemp("large") / "ws"
    saved = {k: os.environ.pop(k, None) for k in ("WORKBENCH_DATABASE_URL", "JUPYTERHUB_USER", "WORKBENCH_USER")}
    os.environ["WORKBENCH_USER"] = USER
    started = time.perf_counter()
    try:
        with workbench.connect(home) as ws:
            ws.people.add(USER, "Benchmark admin", roles=["admin"])
            for slug, abbreviation in bench.DEPARTMENTS:
                ws.departments.add(slug, slug.replace("-", " ").title(), abbreviation)
            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            text = yaml.dump_all(bench.make_records(ENTRIES), Dumper=dumper, sort_keys=False)
            ws.catalogue.import_text(text, source="10,000 generated entries")
            assert len(ws.catalogue) == ENTRIES
    finally:
        os.environ.pop("WORKBENCH_USER")
        os.environ.update({name: value for name, value in saved.items() if value is not None})
    yield home, time.perf_counter() - started


@pytest.fixture(scope="module")
def large_lab(large_home: tuple[Path, float], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("large-lab")
    lab, process = start_lab(large_home[0], USER, root)
    yield lab
    stop_lab(process, root, "large-catalogue")


# In the page: remember when the last key went down in the search box, and when the results list first shows
# the expected query's page (``data-query``, set by the panel with the results) — in the DOM, then two animation
# frames later (the frame that paints it has run).
INSTRUMENT = """() => {
  const box = document.querySelector('#workbench-catalogue .wb-search');
  const list = document.querySelector('#workbench-catalogue .wb-results');
  window.wbLatency = {expect: null, lastKey: null, dom: null, painted: null};
  box.addEventListener('keydown', e => { window.wbLatency.lastKey = e.timeStamp; }, true);
  new MutationObserver(() => {
    const m = window.wbLatency;
    if (m.expect !== null && m.dom === null && list.dataset.query === m.expect) {
      m.dom = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => { m.painted = performance.now(); }));
    }
  }).observe(list, {childList: true, attributes: true, attributeFilter: ['data-query']});
}"""
SHOWN = "q => document.querySelector('#workbench-catalogue .wb-results').dataset.query === q"


def measure(page, query: str, delay: int) -> dict:
    box = page.locator("#workbench-catalogue .wb-search")
    box.fill("")
    page.wait_for_function(SHOWN, arg="")
    page.evaluate("q => Object.assign(window.wbLatency, {expect: q, lastKey: null, dom: null, painted: null})",
                  query)
    box.press_sequentially(query, delay=delay)
    page.wait_for_function("() => window.wbLatency.painted !== null", timeout=30_000)
    m = page.evaluate("window.wbLatency")
    return {"query": query, "key_interval_ms": delay, "results": page.locator(".wb-result").count(),
            "status": page.locator("#workbench-catalogue .wb-status-line").inner_text(),
            "to_dom_ms": round(m["dom"] - m["lastKey"], 1), "to_paint_ms": round(m["painted"] - m["lastKey"], 1)}


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(ordered), "median": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
            "max": round(ordered[-1], 1)}


def test_search_results_follow_the_last_keystroke_over_10000_entries(browser, large_lab, large_home) -> None:
    bench = _benchmark("catalogue_search")
    machine = _benchmark("_machine").describe()
    page = open_lab(browser, large_lab)
    page.click("li.lm-TabBar-tab[data-id='workbench-catalogue']")
    page.wait_for_function(SHOWN, arg="")
    assert page.locator(".wb-result").count() == 50
    assert page.locator("#workbench-catalogue .wb-status-line").inner_text() == "Showing 1–50 of 10,000 entries"
    page.evaluate(INSTRUMENT)

    runs = [measure(page, query, FAST) for query in [*bench.QUERIES, bench.BROAD]]
    runs += [measure(page, query, SLOW) for query in SLOW_QUERIES]
    for run in runs:
        if run["query"] == "zebra":
            assert run["results"] == 0 and run["status"] == "No entries", run
        else:
            assert 0 < run["results"] <= 50 and "entr" in run["status"], run
        assert 0 < run["to_dom_ms"] <= run["to_paint_ms"] < 10_000, run  # generous: a sanity bound, not the goal

    # the broad query pages through all 10,000
    assert runs[-1]["status"] == "Showing 1–50 of 10,000 entries"
    first = page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)")
    page.click("#workbench-catalogue .wb-next")
    page.wait_for_function("() => document.querySelector('#workbench-catalogue .wb-results').dataset.offset === '50'")
    assert page.locator("#workbench-catalogue .wb-status-line").inner_text() == "Showing 51–100 of 10,000 entries"
    second = page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)")
    assert len(second) == 50 and not set(first) & set(second)
    page.click("#workbench-catalogue .wb-previous")
    page.wait_for_function("() => document.querySelector('#workbench-catalogue .wb-results').dataset.offset === '0'")
    assert page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)") == first
    page.screenshot(path=str(_artefacts() / "catalogue-10000.png"), full_page=True)
    page.context.close()

    report = {
        "machine": machine, "entries": ENTRIES, "workspace_built_s": round(large_home[1], 1),
        "debounce_ms": page_debounce(), "measured": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "to_dom_ms": summary([r["to_dom_ms"] for r in runs]),
        "to_paint_ms": summary([r["to_paint_ms"] for r in runs]),
        "to_paint_ms_fast_typing": summary([r["to_paint_ms"] for r in runs if r["key_interval_ms"] == FAST]),
        "to_paint_ms_slow_typing": summary([r["to_paint_ms"] for r in runs if r["key_interval_ms"] == SLOW]),
        "runs": runs,
    }
    (_artefacts() / "catalogue-latency.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


def page_debounce() -> int:
    """The panel's debounce, the default of its setting (recorded with the figures)."""
    schema = Path(__file__).resolve().parents[2] / "extensions" / "workbench-labextension" / "schema" / "plugin.json"
    return json.loads(schema.read_text())["properties"]["searchDelay"]["default"]
