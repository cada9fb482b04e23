"""In a real browser: a trainee opens the threshold exercise (sdc-1) in a notebook, reads its table with human
headers and row labels, and types the failing cells with "x" for "×": the feedback judges the cells they meant,
never "passes the threshold rule" for a cell of 4. Screenshots are kept in tests/ui/artefacts/."""

from __future__ import annotations

from conftest import _artefacts, put_notebook

NOTEBOOK = "training-sdc-1.ipynb"
SOURCES = ('import workbench as wb\nws = wb.connect(create=False)\nex = ws.training.exercise("sdc-1")\nex',
           'table, limit = ex.material["table"], ex.material["threshold"]\n'
           'small = [f"{r} x {c}" for r in table.index for c in table.columns if table.loc[r, c] < limit]\n'
           'display(ex.check(small[:1]))\n'
           'ex.check(small)')
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELL = f"{PANEL} .jp-Cell .cm-content"



def run_cell(page, n: int, selector: str) -> None:
    """Run cell ``n`` and wait for ``selector`` in its output (once more if the kernel was still starting)."""
    page.locator(CELL).nth(n).click()
    page.keyboard.press("Control+Enter")
    try:
        page.wait_for_selector(selector, timeout=60_000)
    except Exception:  # the first run can race the kernel's start on a loaded machine: run the cell again
        page.locator(CELL).nth(n).click()
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(selector, timeout=90_000)


def test_a_format_slip_in_the_threshold_exercise_is_judged_as_meant(browser, lab) -> None:
    put_notebook(lab, NOTEBOOK, SOURCES)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    material = f"{PANEL} .jp-Cell >> nth=0 >> .jp-OutputArea-output table"
    feedback = f"{PANEL} .jp-Cell >> nth=1 >> .jp-OutputArea-output p"
    try:
        page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?reset&token={lab.token}")
        page.wait_for_selector(CELL, timeout=90_000)
        page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=90_000)

        run_cell(page, 0, material)
        table = page.locator(material).first
        headers = table.locator("thead th").all_inner_texts()
        assert headers == ["Area / Age", "16-24", "25-34", "35-49", "50-64", "65+"], headers  # not "age", "area"
        assert table.locator("tbody th").all_inner_texts() == ["Area A", "Area B", "Area C", "Area D"]
        page.screenshot(path=str(_artefacts() / "training-sdc-1-material.png"), full_page=True)

        run_cell(page, 1, f"{feedback} >> text=Correct")
        said = page.locator(feedback).all_inner_texts()
        assert said[-1].startswith("Correct: those ") and said[-1].endswith("cells fail the threshold rule."), said
        assert not any("passes the threshold rule" in s or "not a label" in s for s in said), said
        assert len(said) == 2 and (said[0].startswith("Correct: those 1 ")  # one small cell, or: what is left
                                   or "more cell(s) fail the threshold rule" in said[0]), said
        page.locator(CELL).nth(1).scroll_into_view_if_needed()
        page.screenshot(path=str(_artefacts() / "training-sdc-1-format-slip.png"), full_page=True)
    finally:
        context.close()
