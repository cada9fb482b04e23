"""The REST API's output-checking routes: a project's outputs and output requests, the review queue, request
detail, decisions, conclusion, release and the released package's manifest; allowed and refused, per role."""

from __future__ import annotations

import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    CHECKER2,
    CHECKER3,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    Unchanged,
    grant,
)

CONTEXT = {"shown": "Admissions by age band and length of stay", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}


@pytest.fixture
def desk(served):
    """``served`` plus a grant of DATASET to PROJECT, two more output checkers, and a recorded table."""
    from helpers import DATASET

    grant(served)
    admin = served(ADMIN)
    for user in (CHECKER2, CHECKER3):
        admin.people.add(user, user.replace(".", " ").title(), roles=["output_checker"], department="DHSC")
    project = served(ANALYST).project(PROJECT)
    project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay", name="by age and stay")
    return served


async def submit(api, submit: bool = True) -> dict:
    reply = await api(ANALYST, "POST", "projects", PROJECT, "output-requests",
                      body={"title": "Admissions", "context": CONTEXT, "outputs": [1], "submit": submit})
    assert reply.status == 201, reply
    return reply.json


async def approved(api) -> int:
    request_id = (await submit(api))["id"]
    for checker in (CHECKER, CHECKER2):
        reply = await api(checker, "POST", "review", "requests", str(request_id), "outputs", "1", "decision",
                          body={"decision": "approve", "comment": "Age band level, as published"})
        assert reply.status == 200, reply
    reply = await api(CHECKER3, "POST", "review", "requests", str(request_id), "conclusion",
                      body={"outcome": "approve"})
    assert reply.status == 200 and reply.json["status"] == "approved", reply
    return request_id


async def test_project_outputs_and_requests(api, desk) -> None:
    outputs = await api(ANALYST, "GET", "projects", PROJECT, "outputs")
    assert outputs.status == 200, outputs
    assert [(o["id"], o["name"]) for o in outputs.json["outputs"]] == [(1, "by age and stay")]
    draft = await submit(api, submit=False)
    assert draft["status"] == "draft" and [o["id"] for o in draft["outputs"]] == [1]
    listed = await api(ANALYST, "GET", "projects", PROJECT, "output-requests")
    assert [(r["id"], r["status"], r["outputs"]) for r in listed.json["requests"]] == [(draft["id"], "draft", 1)]
    sent = await api(ANALYST, "POST", "projects", PROJECT, "output-requests", str(draft["id"]), "submit")
    assert sent.status == 200 and sent.json["status"] == "submitted", sent
    gone = await api(ANALYST, "POST", "projects", PROJECT, "output-requests", str(draft["id"]), "withdraw",
                     body={"reason": "Wrong table"})
    assert gone.status == 200 and gone.json["status"] == "withdrawn", gone
    assert desk(ANALYST).project(PROJECT).output_requests.get(draft["id"]).status == "withdrawn"


async def test_project_output_refusals(api, desk) -> None:
    request_id = str((await submit(api))["id"])
    unchanged = Unchanged(desk(ADMIN))
    base = {"title": "Again", "context": CONTEXT, "outputs": [1]}
    for user, method, path, body, status, field in (
        (CHECKER, "GET", ("outputs",), None, 403, None),
        (OWNER, "GET", ("output-requests",), None, 403, None),
        ("nobody.here", "GET", ("outputs",), None, 403, None),
        (CHECKER, "POST", ("output-requests",), base, 403, None),
        (ANALYST, "POST", ("output-requests",), {**base, "outputs": [99]}, 404, None),
        (ANALYST, "POST", ("output-requests",), {**base, "outputs": "1"}, 400, "outputs"),
        (ANALYST, "POST", ("output-requests",), {**base, "outputs": [True]}, 400, "outputs"),
        (ANALYST, "POST", ("output-requests",), {**base, "context": {"shown": 1}}, 400, "context"),
        (ANALYST, "POST", ("output-requests",), {**base, "submit": "yes"}, 400, "submit"),
        (ANALYST, "POST", ("output-requests",), {**base, "context": {"shown": "x"}, "submit": True}, 400, None),
        (ANALYST, "POST", ("output-requests",), {"title": "No context"}, 400, "context"),
        (ANALYST, "POST", ("output-requests",), {**base, "admin": True}, 400, "admin"),
        (ANALYST, "POST", ("output-requests", request_id, "submit"), None, 409, None),
        (ANALYST, "POST", ("output-requests", "999", "submit"), None, 404, None),
        (ANALYST, "POST", ("output-requests", "abc", "withdraw"), None, 400, "request_id"),
        (ANALYST, "POST", ("output-requests", request_id, "withdraw"), {"reason": 5}, 400, "reason"),
        (CHECKER, "POST", ("output-requests", request_id, "withdraw"), None, 403, None),
    ):
        reply = await api(user, method, "projects", PROJECT, *path, body=body)
        assert reply.status == status, (user, path, body, reply)
        if field is not None or status == 400:
            assert reply.json["field"] == field or field is None, (path, body, reply)
        assert reply.json["message"]
    for project_id, status in (("p-nothing", 404), ("P_Bad..", 400)):
        reply = await api(ANALYST, "GET", "projects", project_id, "output-requests")
        assert reply.status == status, (project_id, reply)
    reply = await api(SECOND_ANALYST, "GET", "projects", PROJECT, "outputs")
    assert reply.status == 403 and "not a member" in reply.json["message"]
    assert (await api(ANALYST, "GET", "projects", OTHER_PROJECT, "outputs")).json["outputs"] == []
    unchanged.check()


async def test_queue_detail_and_blind_reviews(api, desk) -> None:
    request_id = (await submit(api))["id"]
    queue = await api(CHECKER, "GET", "review", "queue")
    assert queue.status == 200, queue
    assert [(r["id"], r["awaiting_me"]) for r in queue.json["requests"]] == [(request_id, 1)]
    detail = await api(CHECKER, "GET", "review", "requests", str(request_id))
    assert detail.status == 200, detail
    body = detail.json
    assert body["request"]["context"] == CONTEXT and body["reviews_required"] == 2
    assert body["project"]["id"] == PROJECT
    (output,) = body["outputs"]
    assert "html" not in output and output["can_review"] is True
    table = output["table"]
    assert table["rows"] and len(table["rows"][0]["cells"]) == len(table["columns"])
    flagged = {(row["label"], table["columns"][i]) for row in table["rows"]
               for i, cell in enumerate(row["cells"]) if cell["flags"]}
    assert flagged == {(str(f["row"]), str(f["column"])) for f in output["failures"]}
    assert output["aids"]["max"] >= output["aids"]["min"] and "status" in output and output["summary"]
    mine = await api(CHECKER, "POST", "review", "requests", str(request_id), "outputs", "1", "decision",
                     body={"decision": "approve", "comment": "Fine"})
    assert mine.status == 200 and mine.json["status"] == "partially_reviewed", mine
    other = await api(CHECKER2, "GET", "review", "requests", str(request_id))
    assert other.json["outputs"][0]["reviews"] == [] and other.json["outputs"][0]["reviews_in"] == 1  # blind
    own = await api(CHECKER, "GET", "review", "requests", str(request_id))
    assert [r["reviewer"] for r in own.json["outputs"][0]["reviews"]] == [CHECKER]
    assert own.json["outputs"][0]["can_review"] is False
    await api(CHECKER2, "POST", "review", "requests", str(request_id), "outputs", "1", "decision",
              body={"decision": "approve", "comment": "Agreed"})
    both = await api(CHECKER3, "GET", "review", "requests", str(request_id))
    assert {r["reviewer"] for r in both.json["outputs"][0]["reviews"]} == {CHECKER, CHECKER2}


async def test_review_refusals(api, desk) -> None:
    request_id = str((await submit(api))["id"])
    unchanged = Unchanged(desk(ADMIN))
    for user in (ANALYST, OWNER, ADMIN):
        reply = await api(user, "GET", "review", "queue")
        assert reply.status == 403 and "checker" in reply.json["message"], (user, reply)
    for user, method, path, body, status, field in (
        (ANALYST, "GET", (request_id,), None, 403, None),
        (OWNER, "GET", (request_id,), None, 403, None),
        (CHECKER, "GET", ("999",), None, 404, None),
        (CHECKER, "GET", ("abc",), None, 400, "request_id"),
        (CHECKER, "GET", ("0",), None, 400, "request_id"),
        (ANALYST, "POST", (request_id, "outputs", "1", "decision"), {"decision": "approve"}, 403, None),
        (CHECKER, "POST", (request_id, "outputs", "1", "decision"), {"decision": "maybe"}, 400, "decision"),
        (CHECKER, "POST", (request_id, "outputs", "1", "decision"), {"decision": "changes"}, 400, "comment"),
        (CHECKER, "POST", (request_id, "outputs", "1", "decision"), {"decision": 1}, 400, "decision"),
        (CHECKER, "POST", (request_id, "outputs", "1", "decision"), {}, 400, "decision"),
        (CHECKER, "POST", (request_id, "outputs", "x", "decision"), {"decision": "approve"}, 400, "output_id"),
        (CHECKER, "POST", (request_id, "outputs", "7", "decision"), {"decision": "approve"}, 404, None),
        (CHECKER, "POST", (request_id, "conclusion"), {"outcome": "approve"}, 409, None),
        (CHECKER, "POST", (request_id, "conclusion"), {"outcome": "reject"}, 400, "comment"),
        (CHECKER, "POST", (request_id, "conclusion"), {"outcome": "sideways"}, 400, "outcome"),
        (ANALYST, "POST", (request_id, "conclusion"), {"outcome": "approve"}, 403, None),
        (CHECKER, "POST", (request_id, "release"), None, 409, None),
        (ANALYST, "POST", (request_id, "release"), None, 403, None),
        (CHECKER, "POST", (request_id, "release"), {"force": True}, 400, "force"),
        (CHECKER, "GET", (request_id, "manifest"), None, 409, None),
        (ANALYST, "GET", (request_id, "manifest"), None, 403, None),
    ):
        reply = await api(user, method, "review", "requests", *path, body=body)
        assert (reply.status, reply.json["field"]) == (status, field), (user, path, body, reply)
        assert reply.json["message"]
    unchanged.check()
    await api(CHECKER, "POST", "review", "requests", request_id, "outputs", "1", "decision",
              body={"decision": "approve", "comment": "Fine"})
    again = await api(CHECKER, "POST", "review", "requests", request_id, "outputs", "1", "decision",
                      body={"decision": "approve", "comment": "Twice"})
    assert again.status == 409 and "already reviewed" in again.json["message"]


async def test_conclude_release_and_manifest(api, desk) -> None:
    request_id = await approved(api)
    released = await api(CHECKER, "POST", "review", "requests", str(request_id), "release")
    assert released.status == 200, released
    body = released.json
    assert body["status"] == "released" and body["problems"] == [] and body["package"].endswith(
        f"releases/{PROJECT}/request-{request_id}")
    summary = body["manifest"]
    assert summary["request"]["id"] == request_id and summary["project"] == PROJECT and summary["reviews"] == 2
    assert [o["id"] for o in summary["outputs"]] == [1] and "results.json" in summary["files"]
    manifest = await api(CHECKER2, "GET", "review", "requests", str(request_id), "manifest")
    assert manifest.status == 200, manifest
    assert manifest.json["manifest"]["request"]["id"] == request_id and manifest.json["problems"] == []
    assert manifest.json["manifest_sha256"] == body["manifest_sha256"]
    again = await api(CHECKER3, "POST", "review", "requests", str(request_id), "release")
    assert again.status == 200 and again.json["package"] == body["package"]
    assert (await api(ANALYST, "GET", "review", "requests", str(request_id), "manifest")).status == 403
    mine = await api(ANALYST, "GET", "projects", PROJECT, "output-requests")
    assert mine.json["requests"][0]["status"] == "released"
    from pathlib import Path

    (Path(body["package"]) / "results.json").write_text("{}")  # tampered with after release
    tampered = await api(CHECKER, "GET", "review", "requests", str(request_id), "manifest")
    assert tampered.status == 200 and tampered.json["problems"] == ["results.json does not match its SHA-256 in the "
                                                                    "manifest"]


def _texts(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)
    elif isinstance(value, str):
        yield value


async def test_the_rest_detail_shows_everything_a_package_holds(api, desk) -> None:
    import json
    from pathlib import Path

    request_id = await approved(api)
    detail = await api(CHECKER, "GET", "review", "requests", str(request_id))
    assert detail.status == 200, detail
    (output,) = detail.json["outputs"]
    assert output["text_check"] == [] and detail.json["text_check"] == []
    assert output["released"]["table"]["csv"].startswith("age_band,") and output["released"]["command"]
    shown = set(_texts(detail.json))
    released = await api(CHECKER, "POST", "review", "requests", str(request_id), "release")
    folder = Path(released.json["package"])
    manifest = json.loads((folder / "manifest.json").read_text())
    added = {"format", "tool", "files", "sha256", "bytes", "released_by", "released_at", "", *manifest["files"],
             *(f["sha256"] for f in manifest["files"].values()), manifest["tool"],
             manifest["request"]["released_by"], manifest["request"]["released_at"]}
    results = json.loads((folder / "results.json").read_text())
    missing = {t for t in (*_texts(manifest), *_texts(results["results"])) if t not in shown} - added
    assert missing <= {"request", "project", "datasets", "project_datasets", "reviews", "outputs", "uid", "status",
                       "type", "properties", "files", "name", "sdc", "summary", "cells", "outcome", "command",
                       "timestamp", "comments", "exception"}  # the documents' own structure
    assert (folder / f"{output['released']['uid']}.csv").read_text() == output["released"]["table"]["csv"]


async def test_a_title_that_looks_like_an_identifier_is_refused(api, desk) -> None:
    reply = await api(ANALYST, "POST", "projects", PROJECT, "output-requests",
                      body={"title": "Admissions of 9434765919", "context": CONTEXT, "outputs": [1]})
    assert reply.status == 409 and "title: '943… (10 characters)' looks like an NHS number" in reply.json["message"]
    assert "9434765919" not in reply.json["message"]
    assert desk(ANALYST).project(PROJECT).output_requests.list().empty


async def test_return_with_comment(api, desk) -> None:
    request_id = str((await submit(api))["id"])
    for checker in (CHECKER, CHECKER2):
        await api(checker, "POST", "review", "requests", request_id, "outputs", "1", "decision",
                  body={"decision": "changes", "comment": "Merge the smallest bands"})
    refused = await api(CHECKER3, "POST", "review", "requests", request_id, "conclusion", body={"outcome": "approve"})
    assert refused.status == 409 and "Not every review approves" in refused.json["message"]
    returned = await api(CHECKER3, "POST", "review", "requests", request_id, "conclusion",
                         body={"outcome": "return", "comment": "See the reviews"})
    assert returned.status == 200 and returned.json["status"] == "returned", returned


async def test_custom_files_are_previewed_as_data(api, desk, tmp_path) -> None:
    from helpers import DATASET

    notes = tmp_path / "method.md"
    notes.write_text("# Method\n<b>Counts</b> from the admissions table.\n")
    desk(ANALYST).project(PROJECT).outputs.add_file(notes, description="Method notes", derived_from=[DATASET])
    reply = await api(ANALYST, "POST", "projects", PROJECT, "output-requests",
                      body={"title": "Notes", "context": CONTEXT, "outputs": [2], "submit": True})
    assert reply.status == 201, reply
    detail = await api(CHECKER, "GET", "review", "requests", str(reply.json["id"]))
    (output,) = detail.json["outputs"]
    assert output["kind"] == "file" and output["table"] is None and "preview" not in output
    assert output["previews"] == [{"name": "method.md", "text": "# Method\n<b>Counts</b> from the admissions table.\n",
                                   "truncated": False, "image": None}]


async def test_history_keeps_concluded_and_released_requests(api, desk) -> None:
    released_id = await approved(api)
    await api(CHECKER, "POST", "review", "requests", str(released_id), "release")
    approved_id = await approved(api)
    queue = await api(CHECKER, "GET", "review", "queue")
    assert [r["id"] for r in queue.json["requests"]] == [approved_id]  # a released request leaves the queue
    history = await api(CHECKER2, "GET", "review", "history")
    assert history.status == 200, history
    rows = {r["id"]: r for r in history.json["requests"]}
    assert set(rows) == {released_id, approved_id}
    assert history.json["requests"][0]["id"] == approved_id  # latest decision first
    assert rows[released_id]["status"] == "released" and rows[released_id]["released_by"] == CHECKER
    assert rows[released_id]["concluded_by"] == CHECKER3 and rows[released_id]["released_at"]
    assert rows[approved_id]["released_by"] is None and rows[approved_id]["concluded_at"]
    only = await api(CHECKER2, "GET", "review", "history", params={"status": "released"})
    assert [r["id"] for r in only.json["requests"]] == [released_id]
    wrong = await api(CHECKER2, "GET", "review", "history", params={"status": "submitted"})
    assert wrong.status == 400 and wrong.json["field"] == "status" and "released" in wrong.json["message"]
    for user in (ANALYST, OWNER, ADMIN):
        refused = await api(user, "GET", "review", "history")
        assert refused.status == 403 and "checker" in refused.json["message"], (user, refused)
