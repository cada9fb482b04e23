"""In a real browser: the catalogue's filter menus with counts and classifications in words; an owner's Requests
panel (their own projects' requests left to others, a warning when the project already holds a grant, a
confirmation before deciding, dates as "31 March 2027", a history of decisions); "My datasets" in the usage panel
(owned and delegated ones, marked);
the owner's usage report in words (headers, numbers, dates, codes); and the three panels usable at 250 px."""

from __future__ import annotations

import re

from conftest import DEMO_USER, open_lab
from test_catalogue_panel import _shot, open_catalogue, workspace_as

HELD = ("m2-heating-demand", "emily.carter", "desnz.domestic_energy")  # the demo approves it


def narrow_left_panel(page, width: int = 250) -> None:
    """Drag the left side panel's edge until the panel is ``width`` px wide."""
    box = page.locator("#jp-left-stack").bounding_box()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    grip = handle.bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + width + grip["width"] / 2, grip["y"] + 200, steps=5)
    page.mouse.up()
    page.wait_for_function(f"Math.abs(document.querySelector('#jp-left-stack').offsetWidth - {width}) <= 4")


def overflow(page, selector: str) -> tuple[int, list[str]]:
    """How many px the panel's content sticks out sideways (0: it all wraps inside), and what sticks out."""
    return page.eval_on_selector(selector, """panel => {
        const right = panel.getBoundingClientRect().right;
        const out = [...panel.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > right + 1 && !e.closest('.wb-scroll'))
            .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right - right)}`);
        return [panel.scrollWidth - panel.clientWidth, out.slice(0, 8)];
    }""")


def test_filter_menus_have_counts_and_words(page) -> None:
    open_catalogue(page)
    page.wait_for_function("document.querySelectorAll(\"#workbench-catalogue select[name='department'] option\")"
                           ".length > 1")
    texts = {name: page.eval_on_selector_all(f"#workbench-catalogue select[name='{name}'] option",
                                             "els => els.map(e => e.textContent)")
             for name in ("department", "theme", "mission", "classification")}
    for name, options in texts.items():
        assert options[0].startswith("Any "), name
        assert all(o.endswith(")") and "(" in o for o in options[1:]), (name, options)
    assert not any("_" in o or (o.split(" (")[0].isupper() and len(o.split(" (")[0]) > 5)
                   for o in texts["classification"])  # "Official (12)", never OFFICIAL or TOP_SECRET
    assert any(o.startswith("Official (") for o in texts["classification"])
    total = sum(int(o.rsplit("(", 1)[1].rstrip(")").replace(",", "")) for o in texts["classification"][1:])
    assert page.inner_text("#workbench-catalogue .wb-status-line") == f"{total} entries"
    page.screenshot(path=str(_shot("catalogue-filter-menus")), full_page=True)


def test_an_admin_s_own_projects_requests_are_not_theirs_to_decide(browser, lab_as, lab) -> None:
    with workspace_as(lab.home, DEMO_USER) as ws:
        mine = ws.access.mine()
        pending = ws.owner.requests()
    own = set(pending[pending["id"].isin(mine["id"])]["id"])
    assert own, "the demo leaves requests of the demo user's projects pending"
    page = open_lab(browser, lab_as(DEMO_USER))
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    page.wait_for_selector("#workbench-requests .wb-to-decide:not([hidden]) h3")
    shown = {int(c) for c in page.eval_on_selector_all(".wb-decision", "els => els.map(e => e.dataset.request)")}
    assert not shown & own
    note = page.wait_for_selector(".wb-decided-elsewhere").inner_text()
    assert f"{len(own)} request" in note and "another owner" in note
    page.screenshot(path=str(_shot("requests-admin-own-elsewhere")), full_page=True)
    page.context.close()


def test_the_owner_is_warned_confirms_and_sees_the_history(browser, lab_as, lab) -> None:
    project, lead, dataset = HELD
    with workspace_as(lab.home, lead) as ws:
        request = ws.project(project).request_access(dataset, None, justification="A later year of meter readings")
        owner = ws.catalogue[dataset].owner
    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    card = page.wait_for_selector(f".wb-decision[data-request='{request['id']}']")
    assert "already holds a grant for this dataset (grant " in card.query_selector(".wb-held-grant").inner_text()
    card.query_selector("input[name='expires']").fill("2027-03-31")
    assert card.query_selector(".wb-expires-label").inner_text() == "Until 31 March 2027"
    card.query_selector("button.wb-approve").click()
    dialog = page.wait_for_selector(".jp-Dialog").inner_text()
    assert "until 31 March 2027" in dialog and "already holds a grant" in dialog
    page.screenshot(path=str(_shot("owner-confirms-approval")), full_page=True)
    page.click(".jp-Dialog button:has-text('Cancel')")
    page.wait_for_selector(".jp-Dialog", state="detached")
    with workspace_as(lab.home, owner) as ws:
        assert ws.access.get(int(request["id"]))["status"] == "pending"  # cancelled: nothing decided
    card.query_selector("button.wb-approve").click()
    page.click(".jp-Dialog button:has-text('Approve')")
    outcome = page.wait_for_selector(".wb-decision-result.wb-ok").inner_text()
    assert outcome.endswith("until 31 March 2027.")
    history = page.locator(".wb-decision-history")
    history.locator("summary").click()
    row = history.locator("tr", has_text=str(request["id"])).first
    assert "Approved" in row.inner_text() and "31 March 2027" in row.inner_text()
    assert "-" not in history.locator("tbody td:nth-child(6)").first.inner_text()  # "On": a date in words
    page.screenshot(path=str(_shot("owner-decision-history")), full_page=True)
    page.context.close()
    with workspace_as(lab.home, owner) as ws:
        granted = ws.owner.grants(dataset).set_index("request_id").loc[int(request["id"])]
    assert str(granted["expires"])[:10] == "2027-03-31"


def test_my_datasets_show_usage_without_typing_an_id(browser, lab_as, lab) -> None:
    dataset = "dhsc.hes_apc"
    with workspace_as(lab.home, DEMO_USER) as ws:
        owner = ws.catalogue[dataset].owner
        catalogue = ws.catalogue.list()
        owned = set(catalogue.query("owner == @owner")["id"])
        other = catalogue[catalogue["owner"].notna() & (catalogue["owner"] != owner)].iloc[0]
    with workspace_as(lab.home, other["owner"]) as ws:  # the owner decides for another owner's dataset too
        ws.owner.delegate(other["id"], owner)
    page = open_lab(browser, lab_as(owner))
    try:
        page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
        page.wait_for_selector(".wb-my-datasets-list")
        roles = dict(page.eval_on_selector_all(".wb-my-datasets-list li",
                                               "els => els.map(e => [e.querySelector('button').dataset.dataset, "
                                               "e.dataset.role])"))
        assert roles == {**{d: "owner" for d in owned}, other["id"]: "delegate"}
        delegated = page.locator(".wb-my-datasets-list li[data-role='delegate']",
                                 has=page.locator(f"button[data-dataset='{other['id']}']"))
        assert delegated.locator(".wb-delegate-tag").inner_text() == "Delegate"
        assert page.locator(".wb-my-datasets-list li[data-role='owner'] .wb-delegate-tag").count() == 0
        page.screenshot(path=str(_shot("usage-my-datasets-with-delegated")), full_page=True)
        delegated.locator("button").click()  # a delegate sees the usage report of the dataset they decide for
        page.wait_for_selector(f".wb-usage h4:has-text('Usage of {other['id']}')")
        page.click(f".wb-my-datasets-list button[data-dataset='{dataset}']")
        page.wait_for_selector(f".wb-usage h4:has-text('Usage of {dataset}')")
        page.screenshot(path=str(_shot("usage-my-datasets")), full_page=True)
    finally:
        page.context.close()
        with workspace_as(lab.home, other["owner"]) as ws:
            ws.owner.delegate(other["id"], owner, remove=True)


def test_the_usage_report_is_in_words(browser, lab_as, lab) -> None:
    dataset = "ons.lfs"  # the demo loads it, derives from it, makes outputs and DP queries of it
    with workspace_as(lab.home, DEMO_USER) as ws:
        owner = ws.catalogue[dataset].owner
    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
    page.click(f".wb-my-datasets-list button[data-dataset='{dataset}']")
    page.wait_for_selector(".wb-usage table")
    headers = page.eval_on_selector_all(".wb-usage th", "els => els.map(e => e.textContent)")
    assert "Project" in headers and "ε spent" in headers and "Expires" in headers, headers
    lower = [h for h in headers if "_" in h or (h[:1] != "ε" and h != h[:1].upper() + h[1:])]
    assert not lower, headers  # no project_id, epsilon_spent
    report = page.inner_text(".wb-usage")
    assert not re.search(r"\d{4}-\d{2}(-\d{2})?|T\d{2}:\d{2}|\.\d{6}|\bNaT\b|\d[eE][+-]\d", report), report
    expires = page.locator(".wb-usage-grants tbody td:nth-child(3)").first.inner_text()
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", expires), expires  # "31 March 2027"
    texts = "els => els.map(e => e.textContent)"
    months = page.eval_on_selector_all(".wb-usage-loads tbody tr td:nth-child(2)", texts)
    assert months and all(re.fullmatch(r"[A-Z][a-z]+ \d{4}", m) for m in months), months  # "December 2026"
    states = page.eval_on_selector_all(".wb-usage-grants tbody tr td:nth-child(2)", texts)
    assert states and all(s[:1].isupper() for s in states), states  # "Current", not current
    page.locator(".wb-usage-privacy").scroll_into_view_if_needed()
    page.screenshot(path=str(_shot("usage-report-in-words")), full_page=True)
    page.context.close()


def test_the_panels_are_usable_at_250_px(browser, lab_as, lab) -> None:
    with workspace_as(lab.home, DEMO_USER) as ws:  # a request card for the owner, with long column names
        owner = ws.catalogue["dhsc.hes_apc"].owner
        ws.project("m2-heating-demand").request_access(
            "dhsc.hes_apc", ["nhs_number", "la_code", "primary_diagnosis_chapter", "age_at_admission"],
            justification="Admissions in cold spells by area, to set heating demand against health.")
    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-catalogue']")
    narrow_left_panel(page)
    page.wait_for_selector("#workbench-catalogue .wb-result")
    page.click(".wb-result[data-id='dhsc.hes_apc']")
    page.wait_for_selector(".wb-request-form, .wb-detail .wb-note")
    assert overflow(page, "#workbench-catalogue")[0] <= 1, overflow(page, "#workbench-catalogue")
    clipped = page.eval_on_selector_all("#workbench-catalogue button", """buttons => buttons
        .filter(b => b.offsetParent && (b.scrollHeight > b.clientHeight + 1 || b.scrollWidth > b.clientWidth + 1))
        .map(b => b.textContent)""")
    assert clipped == []  # every button label fits its button
    page.screenshot(path=str(_shot("catalogue-250px")), full_page=True)
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    page.wait_for_selector("#workbench-requests .wb-decision")
    assert overflow(page, "#workbench-requests")[0] <= 1, overflow(page, "#workbench-requests")
    spill = page.eval_on_selector_all(".wb-grant-columns td:first-child", """cells => cells
        .filter(td => td.firstElementChild.getBoundingClientRect().right > td.getBoundingClientRect().right + 1)
        .map(td => td.textContent)""")
    assert spill == []  # long column names wrap in their cell, never over the tick boxes
    page.screenshot(path=str(_shot("requests-250px")), full_page=True)
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
    page.click(".wb-my-datasets-list button[data-dataset='dhsc.hes_apc']")
    page.wait_for_selector(".wb-usage")
    assert overflow(page, "#workbench-usage")[0] <= 1, overflow(page, "#workbench-usage")
    page.screenshot(path=str(_shot("usage-250px")), full_page=True)
    page.context.close()
    page = open_lab(browser, lab_as(DEMO_USER))  # an analyst in every mission project: many requests
    page.click("li.lm-TabBar-tab[data-id='workbench-requests']")
    narrow_left_panel(page)
    page.wait_for_selector("#workbench-requests .wb-requests-body table")
    assert page.locator(".wb-requests thead th").all_inner_texts() == ["Dataset", "Status"]  # key columns only
    approved = page.locator(".wb-requests tbody tr", has=page.locator(".wb-status-approved")).first
    approved.locator("summary").click()
    details = approved.locator("dl").inner_text()
    assert "Decided by" in details and "Expires" in details and " 20" in details  # "31 March 2027"
    assert overflow(page, "#workbench-requests")[0] <= 1, overflow(page, "#workbench-requests")
    page.screenshot(path=str(_shot("my-requests-250px")), full_page=True)
    page.click("li.lm-TabBar-tab[data-id='workbench-catalogue']")
    page.wait_for_selector("#workbench-catalogue .wb-result")
    page.click(".wb-result[data-id='dhsc.hes_apc']")
    page.wait_for_selector(".wb-tick-non-identifiers")
    page.locator(".wb-request-form").scroll_into_view_if_needed()
    clipped = page.eval_on_selector_all("#workbench-catalogue button", """buttons => buttons
        .filter(b => b.offsetParent && (b.scrollHeight > b.clientHeight + 1 || b.scrollWidth > b.clientWidth + 1))
        .map(b => b.textContent)""")
    assert clipped == []  # "Tick all but direct identifiers" wraps inside its button
    assert overflow(page, "#workbench-catalogue")[0] <= 1, overflow(page, "#workbench-catalogue")
    page.screenshot(path=str(_shot("request-form-250px")))
    page.context.close()
