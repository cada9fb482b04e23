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


def test_an_admin_decides_a_review_pair_from_the_keyboard(browser, lab_as, lab) -> None:
    from conftest import _artefacts, open_lab

    admin = "alex.reid"  # the demo's admin (admins and linkers review the index)
    with workspace_as(lab.home, admin) as ws:
        queues = {d: ws.person_index.review_pairs(d) for d in ws.person_index.status()["datasets"]}
        dataset = next(d for d, pairs in queues.items() if len(pairs))  # the demo leaves uncertain pairs
        title = ws.catalogue[dataset].title
    pairs = queues[dataset]
    page = open_lab(browser, lab_as(admin))
    open_catalogue(page)
    search(page, title)
    page.click(f".wb-result[data-id='{dataset}']")
    review = page.wait_for_selector(".wb-detail .wb-index-review")
    assert review.query_selector("h5").inner_text() == "Clerical review"
    page.focus(".wb-detail button.wb-show-review")
    page.keyboard.press("Enter")
    page.wait_for_selector(".wb-detail ul.wb-review-pairs")
    rows = page.locator(".wb-detail ul.wb-review-pairs li.wb-review-card")
    assert rows.count() == len(pairs)
    first = rows.nth(0)
    words = first.locator(".wb-review-pair").inner_text()
    assert re.fullmatch(r"Rows? [\d,]+ and (person wbp_[0-9a-f]{16} of the index|[\d,]+ of this dataset)", words)
    assert re.fullmatch(r"\d+(\.\d)?% likely one person; the index (links them|keeps them apart)",
                        first.locator(".wb-review-odds").inner_text())
    # each pair's identifying fields side by side, differences marked in words
    def card(i: int):
        return page.locator(f".wb-detail li.wb-review-card[data-row='{int(pairs['row'].iloc[i])}']"
                            f"[data-candidate='{pairs['candidate'].iloc[i]}']")

    shown = pairs["fields"].iloc[0]
    assert shown, "the demo's pairs carry their identifying fields"
    table = card(0).locator("table.wb-review-fields")
    assert table.locator("tbody tr").count() == len(shown)
    for f in shown:
        cells = table.locator(f"tr[data-field='{f['field']}']").locator("th, td").all_inner_texts()
        assert cells[1:] == [f["record"] or "not recorded", f["candidate"] or "not recorded"]
        assert cells[0].endswith({"same": "same", "differs": "differs", "missing": "missing on one side"}[
            f["agreement"]])
    differing = next(i for i, fields in enumerate(pairs["fields"]) if any(f["agreement"] == "differs" for f in fields))
    marked = card(differing).locator("tr[data-agreement='differs']").first
    assert marked.locator(".wb-agreement").inner_text() == "differs"
    assert "wb-agree-differs" in marked.get_attribute("class")
    button = card(differing).locator("button[data-decision='match']")
    summary = page.locator(f"#{button.get_attribute('aria-describedby')}")
    assert summary.inner_text().startswith("Differs: ")
    # the queue fits the side panel: nothing wider than it
    assert page.evaluate("(p => p.scrollWidth <= p.clientWidth + 1)(document.querySelector('#workbench-catalogue'))")
    first.locator("input[name='note']").fill("Different dates of birth on the forms")
    button = first.locator("button[data-decision='non-match']")
    assert button.get_attribute("aria-label") == f"Not a match: {words}"
    button.focus()
    page.keyboard.press("Enter")
    outcome = first.locator(".wb-review-outcome.wb-ok")
    outcome.wait_for()
    assert re.fullmatch(r"Decided not a match \(decision \d+\); the next index update applies it\.",
                        outcome.inner_text())
    page.screenshot(path=str(_artefacts() / "person-index-review.png"), full_page=True)
    page.context.close()

    with workspace_as(lab.home, admin) as ws:
        assert len(ws.person_index.review_pairs(dataset)) == len(pairs) - 1  # the decided pair left the queue
        assert ws.person_index.quality(dataset)["review_pending"] == 1
