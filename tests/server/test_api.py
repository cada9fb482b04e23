"""The REST API over the ``governed`` workspace: every route allowed and refused, per role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import record
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    DATASET,
    OTHER_OWNER,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    Unchanged,
)


async def test_catalogue_search_and_entry(api, served) -> None:
    reply = await api(ANALYST, "GET", "catalogue", params={"q": "admissions"})
    assert reply.status == 200, reply
    assert [r["id"] for r in reply.json["results"]] == [DATASET]
    entry = await api(ANALYST, "GET", "catalogue", DATASET)
    assert entry.status == 200, entry
    body = entry.json
    assert body["owner"]["username"] == OWNER and body["row_count"] == body["record"]["rowCount"]
    assert {c["name"]: c["role"] for c in body["schema"]}["nhs_number"] == "direct_identifier"
    # the workbench's person_id has no completeness of its own to show
    assert all(0 <= c["completeness"] <= 1 for c in body["schema"] if c["name"] != "person_id")
    assert len(body["twin_preview"]["rows"]) <= 20 and body["twin_preview"]["columns"]
    assert body["twin_note"].startswith("Synthetic twin: ε = 0.25, made ")


async def test_an_entry_whose_twin_budget_cannot_pay_is_shown_with_the_reason(api, served) -> None:
    served(OWNER).dp.set_twin_budget(DATASET, 0)
    entry = await api(ANALYST, "GET", "catalogue", DATASET)
    assert entry.status == 200, entry
    assert entry.json["twin_preview"] is None and "No twin was made" in entry.json["twin_note"]
    assert "can raise it" in entry.json["twin_note"] and "ws." not in entry.json["twin_note"]


async def test_catalogue_search_says_did_you_mean_and_finds_nothing_in_punctuation(api, served) -> None:
    import yaml
    from jsonschema import Draft202012Validator

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
    schema = spec["paths"]["/catalogue"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({"components": spec["components"], **schema})
    typo = await api(ANALYST, "GET", "catalogue", params={"q": "admisions"})
    assert typo.status == 200 and (typo.json["total"], typo.json["suggestion"]) == (0, "admissions")
    validator.validate(typo.json)
    found = await api(ANALYST, "GET", "catalogue", params={"q": typo.json["suggestion"]})
    assert [r["id"] for r in found.json["results"]] == [DATASET] and found.json["suggestion"] is None
    validator.validate(found.json)
    for text in ("!!!", "&", "of the"):
        reply = await api(ANALYST, "GET", "catalogue", params={"q": text})
        assert reply.status == 200 and (reply.json["results"], reply.json["total"]) == ([], 0), text
        assert reply.json["suggestion"] is None


async def test_catalogue_refusals(api, served) -> None:
    ws = served(ADMIN)
    unchanged = Unchanged(ws)
    for params, field in (({"mission": "abc"}, "mission"), ({"mission": "9"}, "mission"), ({"limit": "0"}, "limit"),
                          ({"limit": "201"}, "limit"), ({"offset": "-1"}, "offset"), ({"offset": "1.5"}, "offset"),
                          ({"offset": "10000000000"}, "offset"),
                          ({"classification": "NOPE"}, "security_classification"), ({"q": "x" * 501}, "text"),
                          ({"sort": "title"}, "sort")):
        reply = await api(ANALYST, "GET", "catalogue", params=params)
        assert (reply.status, reply.json["field"]) == (400, field), (params, reply)
        assert reply.json["message"]
    reply = await api(ANALYST, "GET", "catalogue", params={"department": "NOWHERE"})
    assert reply.status in (400, 404) and "NOWHERE" in reply.json["message"]
    reply = await api("nobody.here", "GET", "catalogue")
    assert reply.status == 403 and "not a registered person" in reply.json["message"]
    reply = await api("Not A Name!", "GET", "catalogue")
    assert reply.status == 403 and "not a workbench user name" in reply.json["message"]
    for dataset_id, status in (("dhsc.nothing", 404), ("dhsc..patients", 400), ("a%2F..%2Fsecrets", 400),
                               ("UPPER.case", 400)):
        reply = await api(ANALYST, "GET", "catalogue", dataset_id)
        assert reply.status == status, (dataset_id, reply)
    assert (await api("nobody.here", "GET", "catalogue", DATASET)).status == 403
    unchanged.check()


async def test_jupyterlab_cache_buster_is_ignored(api, served) -> None:
    reply = await api(ANALYST, "GET", "catalogue", params={"1795633824925": ""})
    assert reply.status == 200, reply


async def test_filters_reach_the_search(api, served) -> None:
    reply = await api(ANALYST, "GET", "catalogue", params={"q": "", "department": "DHSC", "limit": "5"})
    assert [r["id"] for r in reply.json["results"]] == [DATASET]
    reply = await api(ANALYST, "GET", "catalogue", params={"department": "ONS"})
    assert reply.status == 200 and reply.json["results"] == []


async def test_search_pages_and_counts(api, served) -> None:
    admin = served(ADMIN)
    for i in range(7):
        admin.catalogue.register(record(localId=f"dhsc.extra_{i}", identifier=f"https://data.example.invalid/x/{i}",
                                        title=f"Extra admissions table {i}", columns=None, dataOwner=OWNER))
    first = await api(ANALYST, "GET", "catalogue", params={"q": "admissions", "limit": "3"})
    assert first.status == 200, first
    assert (len(first.json["results"]), first.json["total"], first.json["offset"], first.json["limit"]) == (3, 8, 0, 3)
    pages = [first.json["results"]]
    for offset in ("3", "6"):
        reply = await api(ANALYST, "GET", "catalogue", params={"q": "admissions", "limit": "3", "offset": offset})
        assert reply.json["total"] == 8 and reply.json["offset"] == int(offset)
        pages.append(reply.json["results"])
    ids = [r["id"] for page in pages for r in page]
    assert len(ids) == len(set(ids)) == 8
    whole = await api(ANALYST, "GET", "catalogue", params={"q": "admissions"})
    assert [r["id"] for r in whole.json["results"]] == ids and whole.json["limit"] == 50
    past = await api(ANALYST, "GET", "catalogue", params={"q": "admissions", "offset": "100"})
    assert (past.json["results"], past.json["total"]) == ([], 8)


async def test_request_access_and_see_it(api, served) -> None:
    reply = await api(ANALYST, "POST", "requests", body={"project_id": PROJECT, "dataset_id": DATASET,
                                                         "columns": ["age_band", "cost"],
                                                         "justification": "Costs by age band"})
    assert reply.status == 201, reply
    assert reply.json["status"] == "pending" and reply.json["columns"] == ["age_band", "cost"]
    assert reply.json["requested_at"].startswith("20")  # ISO text
    mine = served(ANALYST).access.mine()
    assert mine["id"].tolist() == [reply.json["id"]]
    listed = await api(ANALYST, "GET", "requests", "mine")
    assert [r["id"] for r in listed.json["requests"]] == [reply.json["id"]]
    assert (await api(CHECKER, "GET", "requests", "mine")).json["requests"] == []
    again = await api(ANALYST, "POST", "requests", body={"project_id": PROJECT, "dataset_id": DATASET,
                                                         "justification": "Again"})
    assert again.status == 409 and "still pending" in again.json["message"]
    # read in a lab panel: where to look there, not the Python call a notebook would use
    assert "My requests in the Access requests panel" in again.json["message"] and "ws." not in again.json["message"]


BAD_BODIES = [
    (b"{not json", "body"), (b"[1, 2]", "body"), (b"", "body"), (b"\xff\xfe", "body"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients"}', "justification"),
    (b'{"project_id": 7, "dataset_id": "dhsc.patients", "justification": "x"}', "project_id"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "x", "columns": "age_band"}',
     "columns"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "x", "columns": [1]}', "columns"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "x", "admin": true}', "admin"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "  "}', "justification"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "x", "columns": ["nope"]}',
     "columns"),
    (b'{"project_id": "p-alpha", "dataset_id": "dhsc.patients", "justification": "x", "columns": []}', "columns"),
    (b'{"project_id": "../p-alpha", "dataset_id": "dhsc.patients", "justification": "x"}', "project"),
    (b'{"project_id": "p-alpha", "dataset_id": "../secrets", "justification": "x"}', "dataset_id"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_BODIES)
async def test_malformed_requests_are_400_and_change_nothing(api, served, raw: bytes, field: str) -> None:
    unchanged = Unchanged(served(ADMIN))
    reply = await api(ANALYST, "POST", "requests", raw=raw)
    assert (reply.status, reply.json["field"]) == (400, field), reply
    unchanged.check()


async def test_request_refusals(api, served) -> None:
    unchanged = Unchanged(served(ADMIN))
    base = {"project_id": PROJECT, "dataset_id": DATASET, "justification": "Needed"}
    for user, body, status, words in (
        (CHECKER, base, 403, "not a member of project"),
        (SECOND_ANALYST, base, 403, "not a member of project"),
        ("nobody.here", base, 403, "not a registered person"),
        (ANALYST, {**base, "project_id": "p-nothing"}, 404, "No project"),
        (ANALYST, {**base, "dataset_id": "dhsc.nothing"}, 404, "No dataset"),
    ):
        reply = await api(user, "POST", "requests", body=body)
        assert reply.status == status and words in reply.json["message"], (user, body, reply)
    unchanged.check()


async def request_by_analyst(api) -> int:
    reply = await api(ANALYST, "POST", "requests", body={"project_id": PROJECT, "dataset_id": DATASET,
                                                         "justification": "Needed for it"})
    assert reply.status == 201, reply
    return reply.json["id"]


async def test_refusals_say_where_to_look_in_the_lab_not_which_python_call(api, served) -> None:
    from workbench.server.handlers import lab_wording

    missing = await api(OWNER, "POST", "requests", "999", "decision", body={"decision": "approve"})
    assert missing.status == 404
    assert missing.json["message"] == ("No access request 999 waiting for your decision; the requests to decide "
                                       "list them.")
    entry = await api(ANALYST, "GET", "catalogue", "dhsc.nothing")
    assert entry.status == 404 and "the Catalogue panel's search lists them" in entry.json["message"], entry
    assert "ws." not in entry.json["message"]
    # a call with no panel of its own is named as one to run in a notebook, brackets kept balanced
    assert lab_wording("Its owner sets one: ws.dp.set_budget('a.b', epsilon=...).") == (
        "Its owner sets one: ws.dp.set_budget('a.b', epsilon=...) in a notebook.")
    assert lab_wording("give settings (ws.disclosure.settings()) or None") == (
        "give settings (in a notebook: ws.disclosure.settings()) or None")
    assert lab_wording("No grant 4; ws.owner.grants(dataset_id) lists them.") == (
        "No grant 4; the usage report in the Checking, usage and audit panel lists them.")
    assert lab_wording("Nothing to reword (ws is a word).") == "Nothing to reword (ws is a word)."


async def test_owner_sees_and_decides(api, served) -> None:
    request_id = await request_by_analyst(api)
    waiting = await api(OWNER, "GET", "requests", "to-decide")
    assert [r["id"] for r in waiting.json["requests"]] == [request_id]
    assert (await api(OTHER_OWNER, "GET", "requests", "to-decide")).json["requests"] == []
    everything = await api(ADMIN, "GET", "requests", "to-decide", params={"status": "all"})
    assert [r["id"] for r in everything.json["requests"]] == [request_id]
    reply = await api(OWNER, "POST", "requests", str(request_id), "decision",
                      body={"decision": "approve", "columns": ["age_band", "cost"], "expires": "2099-01-01",
                            "conditions": "Region level only"})
    assert reply.status == 200, reply
    assert reply.json["status"] == "approved" and reply.json["grant_id"] and reply.json["expires"] == "2099-01-01"
    grants = served(ANALYST).project(PROJECT).grants()
    assert grants["columns"].tolist() == [["age_band", "cost"]]
    again = await api(OWNER, "POST", "requests", str(request_id), "decision", body={"decision": "refuse",
                                                                                    "reason": "Changed my mind"})
    assert again.status == 409 and "already approved" in again.json["message"]


async def test_owner_grants_columns_for_linkage(api, served) -> None:
    request_id = await request_by_analyst(api)  # every column, identifiers among them
    reply = await api(OWNER, "POST", "requests", str(request_id), "decision",
                      body={"decision": "approve", "columns": ["age_band", "cost"], "linkage": ["surname", "admitted"]})
    assert reply.status == 200, reply
    grants = served(ANALYST).project(PROJECT).grants()
    assert grants["columns"].tolist() == [["age_band", "cost"]]
    assert grants["linkage"].tolist() == [["surname", "admitted"]]


async def test_decision_refusals(api, served) -> None:
    request_id = str(await request_by_analyst(api))
    unchanged = Unchanged(served(ADMIN))
    for user, path, body, status, field in (
        (ANALYST, request_id, {"decision": "approve"}, 403, None),
        (OTHER_OWNER, request_id, {"decision": "approve"}, 403, None),
        (CHECKER, request_id, {"decision": "approve"}, 403, None),
        (OWNER, "999", {"decision": "approve"}, 404, None),
        (OWNER, "abc", {"decision": "approve"}, 400, "request_id"),
        (OWNER, "..", {"decision": "approve"}, 400, "request_id"),
        (OWNER, request_id, {"decision": "maybe"}, 400, "decision"),
        (OWNER, request_id, {"decision": "refuse"}, 400, "reason"),
        (OWNER, request_id, {"decision": "approve", "columns": ["nhs_number_x"]}, 400, "columns"),
        (OWNER, request_id, {"decision": "approve", "expires": "next year"}, 400, "expires"),
        (OWNER, request_id, {"decision": "approve", "expires": "2000-01-01"}, 400, "expires"),
        (OWNER, request_id, {"decision": "approve", "identifiers": "nhs_number"}, 400, "identifiers"),
        (OWNER, request_id, {"decision": "approve", "identifiers": ["nhs_number"]}, 403, None),
        (OWNER, request_id, {"decision": "approve", "conditions": 5}, 400, "conditions"),
        (OWNER, request_id, {"decision": 1}, 400, "decision"),
        (OWNER, request_id, {}, 400, "decision"),
    ):
        reply = await api(user, "POST", "requests", path, "decision", body=body)
        assert (reply.status, reply.json["field"]) == (status, field), (user, path, body, reply)
        assert reply.json["message"]
    unchanged.check()
    waiting = await api(ANALYST, "GET", "requests", "to-decide")
    assert waiting.status == 403 and "only data owners" in waiting.json["message"]
    assert (await api(OWNER, "GET", "requests", "to-decide", params={"status": "lost"})).status == 400


async def test_projects(api, served) -> None:
    reply = await api(SECOND_ANALYST, "GET", "projects")
    assert reply.status == 200
    roles = {p["id"]: p["my_role"] for p in reply.json["projects"]}
    assert roles == {PROJECT: None, OTHER_PROJECT: "analyst"}
    assert reply.json["projects"][0]["start_date"] == "2026-01-01"
    detail = await api(CHECKER, "GET", "projects", PROJECT)
    assert detail.status == 200 and detail.json["project"]["lead"] == ANALYST
    assert detail.json["members"] == [{"username": ANALYST, "role": "lead"}] and detail.json["grants"] == []
    assert (await api(CHECKER, "GET", "projects", "p-nothing")).status == 404
    assert (await api(CHECKER, "GET", "projects", "P_Bad..")).status == 400
    assert (await api("nobody.here", "GET", "projects")).status == 403
    assert (await api("nobody.here", "GET", "projects", PROJECT)).status == 403


async def test_owner_usage(api, served) -> None:
    from helpers import grant

    grant(served)
    served(OWNER).dp.set_budget(DATASET, 2.0)
    served(ANALYST).project(PROJECT).dp.count(DATASET, epsilon=0.5)
    reply = await api(OWNER, "GET", "owner", "usage", DATASET)
    assert reply.status == 200, reply
    assert reply.json["dataset_id"] == DATASET and reply.json["grants"][0]["project_id"] == PROJECT
    assert reply.json["privacy"][0] == {**reply.json["privacy"][0], "project_id": PROJECT, "epsilon_spent": 0.5}
    assert (await api(ADMIN, "GET", "owner", "usage", DATASET)).status == 200
    unchanged = Unchanged(served(ADMIN))
    for user, dataset_id, status in ((ANALYST, DATASET, 403), (OTHER_OWNER, DATASET, 403),
                                     (OWNER, "dhsc.nothing", 404), (OWNER, "..", 400)):
        reply = await api(user, "GET", "owner", "usage", dataset_id)
        assert reply.status == status, (user, dataset_id, reply)
    unchanged.check()


async def test_search_answers_facets_on_request(api, served) -> None:
    plain = await api(ANALYST, "GET", "catalogue")
    assert plain.status == 200 and "facets" not in plain.json
    reply = await api(ANALYST, "GET", "catalogue", params={"facets": "true"})
    assert reply.status == 200, reply
    facets = reply.json["facets"]
    assert set(facets) == {"department", "mission", "theme", "security_classification", "access_rights"}
    assert sum(f["count"] for f in facets["security_classification"]) == reply.json["total"]
    assert all(set(f) == {"label", "value", "count"} for rows in facets.values() for f in rows)
    bad = await api(ANALYST, "GET", "catalogue", params={"facets": "yes"})
    assert bad.status == 400 and bad.json["field"] == "facets" and "true or false" in bad.json["message"]


async def test_my_datasets_lists_what_the_person_owns(api, served) -> None:
    reply = await api(OWNER, "GET", "owner", "datasets")
    assert reply.status == 200, reply
    assert DATASET in [d["id"] for d in reply.json["datasets"]]
    owned = {e for e in served(ADMIN).catalogue.list().query("owner == @OWNER")["id"]}
    assert {d["id"] for d in reply.json["datasets"]} == owned
    other = await api(OTHER_OWNER, "GET", "owner", "datasets")
    assert DATASET not in [d["id"] for d in other.json["datasets"]]
    analyst = await api(ANALYST, "GET", "owner", "datasets")
    assert analyst.status == 200 and analyst.json["datasets"] == []
    assert {d["role"] for d in reply.json["datasets"]} == {"owner"}


async def test_my_datasets_include_those_i_decide_for_as_a_delegate(api, served) -> None:
    served(OWNER).owner.delegate(DATASET, OTHER_OWNER)
    other = await api(OTHER_OWNER, "GET", "owner", "datasets")
    assert other.status == 200, other
    listed = {d["id"]: d["role"] for d in other.json["datasets"]}
    assert listed[DATASET] == "delegate"
    owned = set(served(ADMIN).catalogue.list().query("owner == @OTHER_OWNER")["id"])
    assert {i for i, role in listed.items() if role == "owner"} == owned and DATASET not in owned
    served(OWNER).owner.delegate(DATASET, OTHER_OWNER, remove=True)
    again = await api(OTHER_OWNER, "GET", "owner", "datasets")
    assert DATASET not in {d["id"] for d in again.json["datasets"]}  # withdrawn: no longer theirs to decide


async def test_audit_verify(api, served) -> None:
    reply = await api(ADMIN, "GET", "admin", "audit", "verify")
    assert reply.status == 200 and reply.json["ok"] is True and reply.json["events"] > 0
    for user in (ANALYST, OWNER, CHECKER):
        denied = await api(user, "GET", "admin", "audit", "verify")
        assert denied.status == 403 and "admin" in denied.json["message"]


def example_path(pattern: str) -> list[str]:
    from workbench.server.routes import openapi_path

    path = openapi_path(pattern).format(dataset_id=DATASET, request_id="1", project_id=PROJECT, output_id="1",
                                          operation="whoami", name="manifest.json")
    return path.strip("/").split("/")


def route_methods() -> list[tuple[str, str]]:
    from workbench.server.routes import handlers

    return [(pattern, method) for pattern, handler in handlers()[:-1]
            for method in ("GET", "POST") if method.lower() in vars(handler)]


@pytest.mark.parametrize(("pattern", "method"), route_methods())
async def test_every_route_needs_a_signed_in_user(api, served, pattern: str, method: str) -> None:
    reply = await api(ANALYST, method, *example_path(pattern), headers={"Authorization": ""},
                      body={} if method == "POST" else None)
    assert reply.status == 403 and reply.json["message"].startswith("Sign in"), reply


async def test_unknown_routes_and_methods_answer_json(api, served) -> None:
    reply = await api(ANALYST, "GET", "nothing", "here")
    assert reply.status == 404 and "docs/openapi.yaml" in reply.json["message"]
    reply = await api(ANALYST, "DELETE", "catalogue")
    assert reply.status == 405 and reply.json["message"]


async def test_a_server_without_a_workspace_says_so_and_creates_none(jp_fetch, tmp_path, monkeypatch) -> None:
    from tornado.httpclient import HTTPClientError

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "nothing-here"))
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("workbench", "api", "catalogue", headers={"X-Workbench-Test-User": ANALYST})
    assert refused.value.code == 503
    assert "WORKBENCH_HOME" in json.loads(refused.value.response.body)["message"]
    assert not (tmp_path / "nothing-here").exists()


def test_the_server_closes_the_workspace_when_it_exits(monkeypatch) -> None:
    import atexit
    import logging
    from types import SimpleNamespace

    from tornado.web import Application

    import workbench.server as server

    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    app = SimpleNamespace(web_app=Application(base_url="/"), log=logging.getLogger("test"))
    server._load_jupyter_server_extension(app)
    holder = app.web_app.settings["workbench"]
    assert registered == [holder.close]


async def test_lab_messages_never_ask_for_python(api, served) -> None:
    """A refusal the lab shows names what to do in words; the same refusal in a notebook adds the Python call."""
    import re

    from workbench.errors import WorkbenchError

    python = re.compile(r"\bws\.|\w\(\)|\.\w+\(")
    request_id = await request_by_analyst(api)
    base = {"project_id": PROJECT, "dataset_id": DATASET, "justification": "Needed"}
    again = await api(ANALYST, "POST", "requests", body=base)
    assert again.status == 409 and "Access requests panel" in again.json["message"], again
    replies = [again,
               await api(OWNER, "POST", "requests", "999", "decision", body={"decision": "approve"}),
               await api(ANALYST, "POST", "requests", body={**base, "project_id": "p-nothing"}),
               await api(ANALYST, "POST", "requests", body={**base, "dataset_id": "dhsc.nothing"})]
    for reply in replies:
        assert reply.status in (404, 409) and not python.search(reply.json["message"]), reply.json
    served(OWNER).dp.set_twin_budget(DATASET, 0)
    entry = await api(ANALYST, "GET", "catalogue", DATASET)
    assert "No twin was made" in entry.json["twin_note"] and not python.search(entry.json["twin_note"])

    with pytest.raises(WorkbenchError) as caught:  # the same refusal in a notebook: the call to make
        served(ANALYST).access.request(PROJECT, DATASET, justification="Needed")
    assert caught.value.lab_message == again.json["message"]
    assert str(caught.value).endswith("Your access requests: ws.access.mine().")
    assert request_id
