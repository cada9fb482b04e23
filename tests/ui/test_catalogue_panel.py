"""In a real browser: find a dataset in the Catalogue panel, read its entry, and ask for access as a project
member; the request then exists in the workspace and shows in My requests."""

from __future__ import annotations

import os
import re
import time

from conftest import DEMO_USER

DATASET = "dhsc.hes_apc"
PROJECT = "m1-economic-inactivity"  # the demo user is an analyst in it
JUSTIFICATION = "Admissions of inactive respondents by age band and area, asked for from the catalogue panel."


def requests_in_workspace(home) -> list[dict]:
    """The demo user's requests as the service sees them."""
    import workbench

    saved = os.environ.get("WORKBENCH_USER")
    os.environ["WORKBENCH_USER"] = DEMO_USER
    try:
        with workbench.connect(home, create=False) as ws:
            return ws.access.mine().to_dict("records")
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_USER", None)
        else:
            os.environ["WORKBENCH_USER"] = saved


def open_catalogue(page) -> None:
    page.click("li.lm-TabBar-tab[data-id='workbench-catalogue']")
    page.wait_for_selector("#workbench-catalogue .wb-search", state="visible")


SETTLED = ("(t => /^[0-9]+ entr/.test(t) && t !== '15 entries')"
           "(document.querySelector('#workbench-catalogue .wb-status-line').textContent)")


def search(page, text: str) -> None:
    """Type into the search box and wait until the results are this search's (not the full first listing)."""
    page.wait_for_selector("#workbench-catalogue .wb-result")  # the first listing is in
    page.fill("#workbench-catalogue .wb-search", text)
    page.wait_for_function(SETTLED)


def test_search_open_an_entry_and_request_access(page, lab) -> None:
    before = {r["id"] for r in requests_in_workspace(lab.home)}
    open_catalogue(page)
    started = time.monotonic()
    search(page, "hospital")
    assert time.monotonic() - started < 10
    result = page.locator(f".wb-result[data-id='{DATASET}']")
    assert "Hospital Episode Statistics" in result.inner_text()
    result.click()

    detail = page.wait_for_selector(".wb-detail h3")
    assert detail.inner_text().startswith("Hospital Episode Statistics")
    facts = page.locator(".wb-facts")
    assert "(" in facts.locator("[data-fact='Data owner']").inner_text()  # name (username)
    assert facts.locator("[data-fact='Legal gateways']").inner_text() not in ("", "none recorded")
    assert facts.locator("[data-fact='Rows']").inner_text().replace(",", "").isdigit()
    assert page.locator(".wb-schema [data-column='nhs_number'] .wb-role-direct_identifier").count() == 1
    assert page.locator(".wb-schema .wb-bar-fill").count() >= 5
    twin_rows = page.locator(".wb-twin-table tbody tr").count()
    assert 1 <= twin_rows <= 20
    page.screenshot(path=str(_shot("catalogue-entry")), full_page=True)

    form = page.locator(".wb-request-form")
    assert form.locator("select[name='project']").input_value() == ""  # no project pre-set
    assert form.locator("input[name='column']:checked").count() == 0  # the analyst ticks what is needed
    form.locator("select[name='project']").select_option(PROJECT)
    assert "already holds a grant" in form.locator(".wb-held-grant").inner_text()  # the demo's m1 holds HES
    form.locator("button.wb-tick-non-identifiers").click()
    assert not form.locator("input[name='column'][value='nhs_number']").is_checked()
    form.locator("input[name='column'][value='provider_code']").uncheck()
    form.locator("textarea[name='justification']").fill(JUSTIFICATION)
    form.locator("button[type='submit']").click()
    dialog = page.wait_for_selector(".jp-Dialog")
    assert "already holds a grant" in dialog.inner_text()
    page.click(".jp-Dialog button:has-text('Send anyway')")
    outcome = page.wait_for_selector(".wb-request-result.wb-ok")
    assert " sent. Status: Pending." in outcome.inner_text()  # the status in words, not the code "pending"

    made = [r for r in requests_in_workspace(lab.home) if r["id"] not in before]
    assert len(made) == 1
    request = made[0]
    assert (request["project_id"], request["dataset_id"], request["status"]) == (PROJECT, DATASET, "pending")
    assert request["requested_by"] == DEMO_USER and request["justification"] == JUSTIFICATION
    assert "nhs_number" not in request["columns"] and "provider_code" not in request["columns"]
    assert f"Request {request['id']} sent" in outcome.inner_text()

    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    row = page.wait_for_selector(f"#workbench-requests .wb-requests-body [data-request='{request['id']}']")
    assert row.query_selector(".wb-status").inner_text() == "Pending"  # a label, not the code "pending"
    statuses = page.eval_on_selector_all("#workbench-requests .wb-requests .wb-status",
                                         "els => els.map(e => e.textContent)")
    assert statuses and all(s[:1].isupper() and "_" not in s for s in statuses), statuses
    page.screenshot(path=str(_shot("my-requests-status-labels")), full_page=True)

    # asking again while the first is pending: the server's refusal is shown as it wrote it
    page.click("li.lm-TabBar-tab[data-id='workbench-catalogue']")
    page.locator(".wb-request-form button[type='submit']").click()
    page.click(".jp-Dialog button:has-text('Send anyway')")
    refusal = page.wait_for_selector(".wb-request-result.wb-error")
    assert "still pending" in refusal.inner_text()
    assert "Access requests panel" in refusal.inner_text() and "ws." not in refusal.inner_text()  # where to look
    page.screenshot(path=str(_shot("catalogue-refusal-in-lab-words")))
    assert len(requests_in_workspace(lab.home)) == len(before) + 1


def test_form_checks_before_sending(page, lab) -> None:
    open_catalogue(page)
    search(page, "labour force")
    page.click(".wb-result[data-id='ons.lfs']")
    form = page.wait_for_selector(".wb-request-form")
    count = len(requests_in_workspace(lab.home))
    form.query_selector("button[type='submit']").click()
    message = page.wait_for_selector(".wb-request-result.wb-error").inner_text()
    assert "Say why" in message
    assert len(requests_in_workspace(lab.home)) == count


def test_filters_narrow_the_results(page, lab) -> None:
    open_catalogue(page)
    page.wait_for_function("document.querySelector('.wb-status-line').textContent === '15 entries'")
    page.select_option("#workbench-catalogue select[name='mission']", "5")
    page.wait_for_function(SETTLED)
    ids = page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)")
    assert DATASET in ids and "dfe.npd_pupils" not in ids
    # the department is chosen from a menu of the catalogue's departments, each with its count
    labels = page.eval_on_selector_all("#workbench-catalogue select[name='department'] option",
                                       "els => els.map(e => e.textContent)")
    dhsc = next(label for label in labels if label.startswith("DHSC ("))
    page.select_option("#workbench-catalogue select[name='department']", label=dhsc)
    page.wait_for_function("!document.querySelector('#workbench-catalogue .wb-results').hasAttribute('aria-busy')"
                           " && document.querySelector('.wb-status-line').textContent !== 'Searching…'")
    ids = page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)")
    assert DATASET in ids and all(i.startswith("dhsc.") for i in ids)


def test_a_misspelt_search_offers_did_you_mean(page, lab) -> None:
    """"hosptial" finds nothing: the panel offers "Did you mean hospital?" as a link, and following it searches."""
    open_catalogue(page)
    page.wait_for_selector("#workbench-catalogue .wb-result")
    page.fill("#workbench-catalogue .wb-search", "hosptial")
    offer = page.wait_for_selector("#workbench-catalogue .wb-did-you-mean:not([hidden])")
    assert offer.inner_text() == "Did you mean hospital?"
    assert page.inner_text("#workbench-catalogue .wb-status-line") == "No entries"
    link = page.locator("#workbench-catalogue a.wb-suggestion")
    assert link.evaluate("a => getComputedStyle(a).textDecorationLine") == "underline"  # it looks like a link
    page.screenshot(path=str(_shot("catalogue-did-you-mean")), full_page=True)
    page.focus("#workbench-catalogue a.wb-suggestion")
    page.keyboard.press("Enter")  # a link: the keyboard follows it too
    page.wait_for_function(SETTLED)
    assert page.input_value("#workbench-catalogue .wb-search") == "hospital"
    assert page.locator("#workbench-catalogue .wb-did-you-mean").is_hidden()
    ids = page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)")
    assert ids[0] == DATASET
    page.fill("#workbench-catalogue .wb-search", "A&E")
    page.wait_for_function(SETTLED)
    assert page.eval_on_selector_all(".wb-result", "els => els.map(e => e.dataset.id)") == [DATASET]


def _shot(name: str):
    from conftest import _artefacts

    return _artefacts() / f"{name}.png"


def workspace_as(home, user: str):
    import workbench

    os.environ["WORKBENCH_USER"] = user
    try:
        return workbench.connect(home, create=False)
    finally:
        os.environ.pop("WORKBENCH_USER", None)


def test_the_owner_approves_a_request_with_fewer_columns(browser, lab_as, lab) -> None:
    from conftest import _artefacts, open_lab

    dataset = "dwp.benefit_claims"  # the demo leaves a request for it waiting
    with workspace_as(lab.home, DEMO_USER) as ws:
        owner = ws.catalogue[dataset].owner
        roles = dict(zip(ws.catalogue[dataset].schema["name"], ws.catalogue[dataset].schema["role"], strict=True))
    with workspace_as(lab.home, owner) as ws:
        pending = ws.owner.requests()
    request = pending[pending["dataset_id"] == dataset].iloc[0]
    withheld = request["columns"][-1]

    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    card = page.wait_for_selector(f".wb-decision[data-request='{request['id']}']")
    assert request["justification"] in card.inner_text()
    requested = list(request["columns"])
    linkage = card.query_selector_all("input[name='linkage']")
    assert [box.get_attribute("value") for box in linkage] == requested  # offered for every requested column
    identifiers = [box.get_attribute("value") for box in card.query_selector_all("input[name='identifier']")]
    assert identifiers == [c for c in requested if roles.get(c) == "direct_identifier"]  # and no other column
    card.query_selector(f"input[name='column'][value='{withheld}']").uncheck()
    card.query_selector("input[name='conditions']").fill("Outputs at local authority level or above")
    card.query_selector("button.wb-refuse").click()
    assert "reason" in page.wait_for_selector(".wb-decision-result.wb-error").inner_text()
    card.query_selector("button.wb-approve").click()
    page.click(".jp-Dialog button:has-text('Approve')")
    outcome = page.wait_for_selector(".wb-decision-result.wb-ok")
    assert outcome.inner_text().startswith("Approved")
    page.screenshot(path=str(_artefacts() / "owner-decision.png"), full_page=True)
    page.context.close()

    with workspace_as(lab.home, owner) as ws:
        decided = ws.access.get(int(request["id"]))
        grants = ws.owner.grants(dataset)
    assert decided["status"] == "approved" and decided["decided_by"] == owner
    granted = grants.set_index("request_id").loc[int(request["id"])]
    assert withheld not in granted["columns"] and granted["conditions"].startswith("Outputs at local")


def test_the_owner_ticks_identifiers_and_columns_for_linkage(browser, lab_as, lab) -> None:
    from conftest import _artefacts, open_lab

    dataset, project, lead = "dhsc.hes_apc", "m5-emergency-admissions", "james.wilson"  # s251: identifiers allowed
    columns = ["nhs_number", "postcode", "la_code", "length_of_stay"]
    with workspace_as(lab.home, lead) as ws:
        request = ws.project(project).request_access(dataset, columns, justification="Linking admissions to GP data")
        owner = ws.catalogue[dataset].owner

    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    card = page.wait_for_selector(f".wb-decision[data-request='{request['id']}']")
    identifiers = [box.get_attribute("value") for box in card.query_selector_all("input[name='identifier']")]
    assert identifiers == ["nhs_number", "postcode"]  # the requested direct identifiers, no other column
    card.query_selector("input[name='identifier'][value='nhs_number']").check()
    card.query_selector("input[name='column'][value='nhs_number']").uncheck()
    card.query_selector("button.wb-approve").click()
    assert "nhs_number" in page.wait_for_selector(".wb-decision-result.wb-error").inner_text()  # not sent
    card.query_selector("input[name='column'][value='nhs_number']").check()
    card.query_selector("input[name='linkage'][value='postcode']").check()
    card.query_selector("button.wb-approve").click()
    page.click(".jp-Dialog button:has-text('Approve')")
    assert page.wait_for_selector(".wb-decision-result.wb-ok").inner_text().startswith("Approved")
    page.screenshot(path=str(_artefacts() / "owner-identifiers-and-linkage.png"), full_page=True)
    page.context.close()

    with workspace_as(lab.home, owner) as ws:
        grants = ws.owner.grants(dataset).set_index("request_id").loc[int(request["id"])]
    assert grants["identifiers"] == ["nhs_number"] and grants["linkage"] == ["postcode"]
    assert "nhs_number" in grants["columns"] and "postcode" not in grants["columns"]  # linkage only


def test_analysts_see_their_requests_and_no_decisions(browser, lab_as) -> None:
    from conftest import open_lab

    page = open_lab(browser, lab_as("sanjay.patel"))  # leads the demo's first project; owns no data
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    page.wait_for_selector("#workbench-requests .wb-requests-body table")
    statuses = page.eval_on_selector_all("#workbench-requests .wb-status", "els => els.map(e => e.textContent)")
    assert "Approved" in statuses and not any(s[:1].islower() or "_" in s for s in statuses), statuses
    page.screenshot(path=str(_shot("my-requests-analyst")), full_page=True)
    assert page.locator("#workbench-requests .wb-to-decide").is_hidden()
    page.context.close()


def test_insert_load_and_twin_code_into_the_open_notebook(page) -> None:
    open_catalogue(page)
    search(page, "hospital")
    page.click(f".wb-result[data-id='{DATASET}']")
    page.wait_for_selector(".wb-detail h3")
    page.click(".wb-insert-load")
    assert "Open a notebook" in page.wait_for_selector(".wb-insert-result.wb-error").inner_text()

    page.click(".jp-LauncherCard[data-category='Notebook']")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.click(".jp-NotebookPanel .jp-Cell")
    page.click(".wb-insert-load")
    page.wait_for_selector(".wb-insert-result.wb-ok")
    page.click(".wb-insert-twin")
    page.wait_for_function("document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length === 3")
    cells = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").all_inner_texts()
    assert f'hes_apc = ws.project("{PROJECT}").load("{DATASET}")' in cells[1]
    assert f'hes_apc_twin = ws.catalogue.twin("{DATASET}")' in cells[2]


RAW = (r"freq:|\bINTERNAL\b|\bTOP_SECRET\b|\bNOT_APPLICABLE\b|\bOFFICIAL\b|dea-2017|\d{4}-\d{2}-\d{2}|\.\d{6}|\bNaT\b"
       r"|\d[eE][+-]\d")


def test_an_entry_s_details_are_in_words(page) -> None:
    open_catalogue(page)
    search(page, "benefit claims")
    page.click(".wb-result[data-id='dwp.benefit_claims']")
    page.wait_for_selector(".wb-detail .wb-facts")
    page.wait_for_selector(".wb-detail .wb-twin-table, .wb-detail .wb-twin + .wb-note, .wb-detail h4 + .wb-note")
    fact = lambda name: page.inner_text(f".wb-facts [data-fact='{name}']")  # noqa: E731
    assert fact("Updated") == "Monthly"
    assert fact("Access rights") == "Internal"
    assert fact("Classification") == "Official"
    assert "Research power (Digital Economy Act 2017)" in fact("Legal gateways")
    assert fact("Coverage").startswith("1 April 2019 to 31 March 2026")
    assert fact("Missions").startswith("Mission")
    rows = fact("Rows")
    assert rows.replace(",", "").isdigit() and (int(rows.replace(",", "")) < 1000 or "," in rows)
    assert page.inner_text(".wb-schema .wb-role-direct_identifier >> nth=0") == "Direct identifier"
    detail = page.inner_text(".wb-detail")
    assert not re.search(RAW, detail), re.search(RAW, detail)  # no code, ISO date, NaT or 8.865e+04
    page.screenshot(path=str(_shot("catalogue-entry-in-words")), full_page=True)
