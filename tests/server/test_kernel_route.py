"""The kernel route (``POST /workbench/api/kernel/{operation}``) as HTTP: what a remote kernel sends and gets,
and every malformed call refused with the error class the kernel raises again, changing nothing."""

from __future__ import annotations

import json

import pytest
from helpers import ADMIN, ANALYST, DATASET, PROJECT, SECOND_ANALYST, TEST_USER_HEADER, grant, snapshot
from tornado.httpclient import HTTPClientError

from workbench import wire

pytestmark = pytest.mark.usefixtures("served")


async def kernel_call(jp_fetch, user: str | None, operation: str, raw: bytes | None = None, **arguments):
    """(status, content type, decoded answer) of one kernel call."""
    headers = {TEST_USER_HEADER: user} if user else {}
    body = raw if raw is not None else wire.dumps(arguments)
    try:
        response = await jp_fetch("workbench", "api", "kernel", operation, method="POST", body=body,
                                  headers=headers)
    except HTTPClientError as error:
        return error.code, error.response.headers.get("Content-Type"), json.loads(error.response.body)
    kind = response.headers.get("Content-Type")
    answer = wire.arrow_to_frame(response.body) if kind == wire.ARROW else wire.loads(response.body)
    return response.code, kind, answer


async def test_a_frame_answer_is_an_arrow_stream_and_others_tagged_json(jp_fetch, served) -> None:
    grant(served)
    status, kind, frame = await kernel_call(jp_fetch, ANALYST, "project.load", project=PROJECT, dataset_id=DATASET)
    assert status == 200 and kind == wire.ARROW and len(frame) == 100
    assert frame.attrs["workbench.sources"] == [DATASET]
    status, kind, me = await kernel_call(jp_fetch, ANALYST, "whoami")
    assert (status, kind, me) == (200, wire.JSON, {"user": ANALYST, "roles": ["analyst"]})
    status, _, record = await kernel_call(jp_fetch, ANALYST, "projects.get", project=PROJECT)
    assert record["start"].isoformat() == "2026-01-01"  # a date, not text


@pytest.mark.parametrize("operation, raw, arguments, status, error, field, says", [
    ("no.such", None, {}, 404, "NotFound", None, "No kernel operation 'no.such'"),
    ("whoami", b"{broken", {}, 400, "InvalidInput", "body", "not valid JSON"),
    ("whoami", b"[1, 2]", {}, 400, "InvalidInput", "body", "JSON object of named values"),
    ("whoami", None, {"extra": 1}, 400, "InvalidInput", "whoami", "unexpected keyword argument 'extra'"),
    ("project.load", None, {"dataset_id": DATASET}, 400, "InvalidInput", "project.load", "missing a required"),
    ("project.load", None, {"project": PROJECT}, 400, "InvalidInput", "project.load", "dataset_id"),
    ("project.load", None, {"project": [PROJECT], "dataset_id": DATASET}, 400, "InvalidInput", "project",
     "expected a name or number"),
    ("project.load", None, {"project": PROJECT, "dataset_id": "nope.nope"}, 404, "NotFound", None, "No dataset"),
    ("tables.make", None, {"project": PROJECT, "method": "exec", "data": None}, 400, "InvalidInput", "method",
     "not one of crosstab"),
    ("dp.query", None, {"project": PROJECT, "method": "__init__"}, 400, "InvalidInput", "method", "not one of count"),
    ("owner.usage", None, {"dataset_id": DATASET}, 403, "AccessDenied", None, "may not"),
    ("whoami", json.dumps({"$type": "subprocess.Popen", "fields": {}}).encode(), {}, 400, "InvalidInput", "body",
     "unknown type"),
])
async def test_malformed_calls_are_refused_and_change_nothing(jp_fetch, served, operation, raw, arguments, status,
                                                              error, field, says) -> None:
    before = snapshot(served(ADMIN))
    got, kind, body = await kernel_call(jp_fetch, ANALYST, operation, raw, **arguments)
    assert (got, body["error"], body["field"]) == (status, error, field), body
    assert says in body["message"] and kind.startswith("application/json")
    assert snapshot(served(ADMIN)) == before


async def test_a_kernel_s_refusal_keeps_its_python_hint(jp_fetch, served) -> None:
    """The lab's routes reword ``ws....`` calls for people in panels; a kernel's caller is Python, so not here."""
    status, _, body = await kernel_call(jp_fetch, ANALYST, "project.load", project=PROJECT, dataset_id="nope.nope")
    assert status == 404 and "ws.catalogue.search(" in body["message"], body


async def test_a_refusal_names_its_class_and_is_audited(jp_fetch, served) -> None:
    grant(served)
    status, _, body = await kernel_call(jp_fetch, SECOND_ANALYST, "project.load", project=PROJECT,
                                        dataset_id=DATASET)
    assert status == 403 and body["error"] == "AccessDenied" and f"{SECOND_ANALYST} may not load" in body["message"]
    from sqlalchemy import select

    from workbench.db.schema import audit_events

    with served(ADMIN)._ctx.db.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first()
    assert (last["actor"], last["action"], last["outcome"]) == (SECOND_ANALYST, "data.load", "denied")


async def test_a_caller_jupyter_did_not_sign_in_gets_nothing(jp_fetch) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("workbench", "api", "kernel", "whoami", method="POST", body=b"{}",
                       headers={"Authorization": "token wrong"})
    assert refused.value.code == 403


async def test_a_remote_kernel_is_told_the_python_call_the_lab_is_not(jp_fetch, served) -> None:
    status, _, body = await kernel_call(jp_fetch, ANALYST, "project.load", project=PROJECT, dataset_id="nope.nope")
    assert status == 404 and body["message"] == ("No dataset 'nope.nope' in the catalogue; search the catalogue to "
                                                 "find its id (ws.catalogue.search(...))."), body
