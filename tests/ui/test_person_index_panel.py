"""In a real browser: a dataset's owner opens its catalogue entry and its usage report and reads its person-index
quality record in words; an analyst opening the same entry is shown no such record (the server sends none)."""

from __future__ import annotations

import re

from test_catalogue_panel import RAW, open_catalogue, search, workspace_as

DATASET = "dhsc.hes_apc"  # person-level, linked when the demo was built, with linkage truth to measure against
ANALYST = "sanjay.patel"  # leads the demo's first project; owns no data, is no linker


def open_entry(page) -> None:
    open_catalogue(page)
    search(page, "hospital")
    page.click(f".wb-result[data-id='{DATASET}']")
    page.wait_for_selector(".wb-detail .wb-facts")


def test_the_owner_reads_the_index_quality_record(browser, lab_as, lab) -> None:
    from conftest import _artefacts, open_lab

    with workspace_as(lab.home, "demo.builder") as ws:
        owner = ws.catalogue[DATASET].owner
    with workspace_as(lab.home, owner) as ws:
        quality = ws.person_index.quality(DATASET)
    page = open_lab(browser, lab_as(owner))
    open_entry(page)
    section = page.locator(".wb-detail section.wb-person-index")
    assert section.get_attribute("aria-label") == f"Person index quality of {DATASET}"
    assert section.locator("h4").inner_text() == "Person index"
    fact = lambda key: section.locator(f"[data-index-fact='{key}']").inner_text()  # noqa: E731
    records = f"{quality['records']:,}"
    assert re.fullmatch(rf"\d+(\.\d)?% of {records} records have a person id", fact("coverage"))
    assert "matched a person already in the index" in fact("match_rate") or "No record" in fact("match_rate")
    assert re.fullmatch(r"\d+(\.\d)?% \(the linkage model's estimate\)", fact("estimated_precision"))
    assert re.match(r"\d+(\.\d)?% \([\d,]+ of [\d,]+ linked pairs right, against known truth\)",
                    fact("measured_precision"))
    assert "true pair" in fact("measured_recall") and re.fullmatch(r"0\.\d+|1", fact("measured_f1"))
    assert "clerical review" in fact("review")
    assert "date of birth" in fact("fields")
    updated = fact("updated")
    assert quality["version"] in updated and re.match(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{1,2}:\d{2}[ap]m", updated)
    text = section.inner_text()
    assert not re.search(RAW, text.replace(quality["version"], "")) and "wbp_" not in text
    assert "None" not in text and "undefined" not in text and "null" not in text
    # what the figures mean opens from the keyboard
    meanings = section.locator("details.wb-index-meanings")
    assert meanings.get_attribute("open") is None
    section.locator("summary").focus()
    page.keyboard.press("Enter")
    assert meanings.get_attribute("open") is not None
    assert "linkage model expects" in meanings.inner_text()
    page.screenshot(path=str(_artefacts() / "person-index-entry.png"), full_page=True)

    # the usage report shows the same record
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
    page.fill("#workbench-usage input[name='dataset']", DATASET)
    page.click("#workbench-usage button.wb-show-usage")
    usage = page.wait_for_selector("#workbench-usage .wb-usage section.wb-person-index")
    assert usage.query_selector("h5").inner_text() == "Person index"
    assert usage.query_selector("[data-index-fact='coverage']").inner_text() == fact("coverage")
    page.screenshot(path=str(_artefacts() / "person-index-usage.png"), full_page=True)
    page.context.close()


def test_an_analyst_sees_no_index_record(browser, lab_as) -> None:
    from conftest import open_lab

    page = open_lab(browser, lab_as(ANALYST))
    open_entry(page)
    page.wait_for_selector(".wb-detail .wb-schema")
    assert page.locator(".wb-detail .wb-person-index").count() == 0
    assert "Person index" not in page.inner_text(".wb-detail")
    page.context.close()
