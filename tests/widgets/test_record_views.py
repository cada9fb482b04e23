"""What analysts, owners and checkers get back reads as a record for people in a notebook: labels instead of codes
and column names, "345,272", "31 March 2027", hostile text escaped; and stays a plain dict for code and JSON."""

from __future__ import annotations

import datetime as dt
import json

from helpers import ANALYST, CHECKER, DATASET, OWNER, PROJECT, grant

from workbench.records import AccessRequestCard, GrantCard

HOSTILE = "<script>alert('x')</script>"
CONTEXT = {"shown": HOSTILE, "population": "Test patients, 2025", "purpose": "Published in the evaluation report",
           "differences": "First release"}
RAW_NAMES = ("project_id", "dataset_id", "requested_at", "epsilon_spent", "grant_id", "partially_reviewed")


def request_card(**changes) -> AccessRequestCard:
    return AccessRequestCard({
        "id": 345272, "project_id": "p-alpha", "dataset_id": DATASET, "requested_by": ANALYST,
        "columns": ["age_band", "cost"], "justification": HOSTILE, "status": "pending",
        "requested_at": dt.datetime(2027, 3, 31, 14, 5), "decided_by": None, "decided_at": None, "reason": None,
        "grant_id": None, "expires": None, **changes})


def test_an_access_request_reads_as_a_record() -> None:
    card = request_card()
    html = card._repr_html_()
    assert "Access request 345272: dhsc.patients for project p-alpha (pending)" in html
    for label in ("Project", "Dataset", "Status", "Requested by", "Requested", "Justification"):
        assert f">{label}</th>" in html
    assert ">Pending<" in html and ">31 March 2027, 2:05pm<" in html and ">age_band, cost<" in html
    assert HOSTILE not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert not any(name in html for name in RAW_NAMES)
    assert repr(card) == "<Access request 345272: dhsc.patients for project p-alpha (pending)>"
    assert json.loads(json.dumps(card, default=str))["status"] == "pending" and card == dict(card)


def test_hostile_names_are_escaped_in_the_title_too() -> None:
    html = request_card(project_id="<b>p</b>", status="<i>")._repr_html_()
    assert "<b>" not in html and "<i>" not in html and "&lt;b&gt;p&lt;/b&gt;" in html


def test_a_grant_reads_as_a_record() -> None:
    card = GrantCard({"project_id": PROJECT, "dataset_id": DATASET, "columns": ["cost"], "identifiers": [],
                      "linkage": None, "conditions": "Region level only", "expires": dt.date(2027, 3, 31),
                      "state": "revoked", "granted_by": OWNER, "granted_at": dt.datetime(2026, 1, 2, 9, 0),
                      "request_id": 12})
    html = card._repr_html_()
    assert f"Grant of {DATASET} to project {PROJECT} (revoked)" in html
    cell = "</th><td style='text-align:left'>"
    assert ">Revoked<" in html and ">31 March 2027<" in html and f">Direct identifiers{cell}—<" in html
    assert ">Columns for linkage only</th>" in html and f">Granted{cell}2 January 2026, 9:00am<" in html
    assert not any(name in html for name in RAW_NAMES)


def test_the_services_hand_back_records_that_show_themselves(governed) -> None:
    decided = grant(governed, columns=["age_band", "cost"], conditions=HOSTILE)
    assert isinstance(decided, AccessRequestCard) and ">Approved<" in decided._repr_html_()
    assert isinstance(governed(ANALYST).access.get(decided["id"]), AccessRequestCard)
    revoked = governed(OWNER).owner.revoke(decided["grant_id"], reason="Project ended")
    html = revoked._repr_html_()
    assert isinstance(revoked, GrantCard) and ">Revoked<" in html and HOSTILE not in html


def test_project_request_and_usage_views_speak_in_labels(governed) -> None:
    grant(governed, columns=["age_band", "length_of_stay", "cost"])
    project_html = governed(ANALYST).project(PROJECT)._repr_html_()
    assert "Project lead" in project_html and "Grants" in project_html
    assert "<th style='text-align:left'>Dataset</th>" in project_html and "dataset_id" not in project_html
    assert not any(f"{year}-" in project_html for year in range(2020, 2040))  # dates as people write them
    project = governed(ANALYST).project(PROJECT)
    table = project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay")
    request = project.output_requests.create("Admissions", context=CONTEXT, outputs=[table], submit=True)
    html = request._repr_html_()
    assert "What the outputs show" in html and HOSTILE not in html and "&lt;script&gt;" in html
    assert "<th>Output</th><th>Name</th><th>Kind</th><th>Check</th>" in html and "request 1, submitted" in html
    shown = governed(CHECKER).review.show(request.id)._repr_html_()
    assert "What the outputs show" in shown and ", submitted</small>" in shown and HOSTILE not in shown
    usage = governed(OWNER).owner.usage(DATASET)._repr_html_()
    assert "<th style='text-align:left'>Project</th>" in usage and "project_id" not in usage
    assert "epsilon_spent" not in usage
