"""Authorise, then decode, with limits: the kernel route reads and decodes nothing before it knows who is asking,
that the operation exists and that their roles could ever call it; it takes a body only within its limit; it never
unpacks a recorded output a kernel sends; and an output archive, wherever it is unpacked, stays in its own folder
within limits and says nothing of the files it was pointed at.

The attacks (as reproduced against a real ``workbench serve``): a person with no role sent an output archive
(``$output``) whose ``results.json`` named ``/etc/passwd`` and other projects' files, and got line counts and cells
back in the error (and a 500 for a path that did not exist); a ~255 KB body unpacked to ~250 MB with the temporary
path in the message; nothing of it was audited. Each test runs against the in-process server (fast) and a real
``workbench serve`` (slow); the reading side also embedded (``disclosure.read_results_json``).
"""

from __future__ import annotations

import base64
import functools
import io
import json
import socket
import time
import zipfile
from typing import Any

import pytest
from helpers import ADMIN, ANALYST, DATASET, PROJECT, TEST_USER_HEADER, grant, snapshot
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from workbench import wire
from workbench.db.schema import audit_events
from workbench.errors import InvalidInput
from workbench.governance.policy import ACTIONS, FACTS, ROLES, ROLES_NEEDED, Actor, decide, may_ever
from workbench.server.handlers import KERNEL_BODY_SETTING

NOBODY = "nat.norole"  # registered, no role
STRANGER = "walk.in"  # signed in, unknown to the workspace
SECRET_MARKERS = ("root:", "/etc/passwd", "passwd", "/tmp", "tmp", "bin/bash", "nologin")


# -- hostile archives ---------------------------------------------------------------------------------------------
def _zip(files: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return sink.getvalue()


def _results(table_file: str, acro_file: str | None = None) -> bytes:
    """A results.json whose tables are ``table_file`` (ours) or ``acro_file`` (ACRO's layout)."""
    if acro_file is not None:
        return json.dumps({"results": {"x": {"status": "review", "type": "table",
                                             "files": [{"name": acro_file, "sdc": {"cells": {}}}]}}}).encode()
    axis = {"multi": False, "names": [None], "levels": [{"dtype": "object", "values": ["a"]}]}
    return json.dumps({"results": {"x": {"status": "pass", "files": [{"name": "x.csv", "sdc": {"cells": {}}}],
                                         "properties": {"workbench": {
                                             "kind": "table", "method": "crosstab", "index": axis, "columns": axis,
                                             "table": {"file": table_file, "dtypes": ["int64"]},
                                             "safe_table": {"file": table_file, "dtypes": ["int64"]},
                                             "rules": [], "measures": {}, "suppressed": [], "mitigation": {},
                                             "settings": {}, "status_before_mitigation": "pass"}}}}}).encode()


HOSTILE_ARCHIVES = {
    "results.json names /etc/passwd": _zip({"results.json": _results("/etc/passwd")}),
    "results.json names ../../../../etc/passwd": _zip({"results.json": _results("../../../../etc/passwd")}),
    "ACRO results name /etc/passwd": _zip({"results.json": _results("", acro_file="/etc/passwd.csv")}),
    "ACRO results climb out": _zip({"results.json": _results("", acro_file="../../../etc/hosts.csv")}),
    "an entry climbs out": _zip({"../escaped.txt": b"x", "results.json": b"{}"}),
    "an absolute entry": _zip({"/tmp/escaped.txt": b"x"}),
}


@functools.lru_cache(maxsize=2)
def bomb(megabytes: int = 250) -> bytes:
    """~``megabytes`` MB of zeros packed into a few hundred KB (about 1000:1)."""
    sink = io.BytesIO()
    with (zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("results.json", "w", force_zip64=True) as entry):
        block = b"0" * (1024 * 1024)
        for _ in range(megabytes):
            entry.write(block)
    return sink.getvalue()


def output_tag(raw: bytes) -> dict[str, str]:
    return {"$output": base64.b64encode(raw).decode()}


def says_nothing_of_files(message: str) -> None:
    assert not any(marker in message for marker in SECRET_MARKERS), message


# -- the in-process server ------------------------------------------------------------------------------------------
async def post(jp_fetch: Any, user: str, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        response = await jp_fetch("workbench", "api", "kernel", operation, method="POST", body=body,
                                  headers={TEST_USER_HEADER: user})
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body)
    return response.code, {"answer": response.body}


def last_event(ws: Any) -> dict[str, Any]:
    with ws._ctx.db.read() as conn:
        return dict(conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first())


def events_of(ws: Any, actor: str) -> list[dict[str, Any]]:
    with ws._ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(select(audit_events).where(audit_events.c.actor == actor)
                                              .order_by(audit_events.c.seq)).mappings()]


@pytest.fixture
def hostile(served: Any) -> Any:
    """``served`` with a grant, a recorded output in PROJECT and a registered person with no role."""
    grant(served)
    served(ADMIN).people.add(NOBODY, "Nat Norole", roles=[], department="DHSC")
    project = served(ANALYST).project(PROJECT)
    project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay")
    return served


@pytest.mark.parametrize("name", sorted(HOSTILE_ARCHIVES))
async def test_a_person_with_no_role_gets_403_before_any_decoding(jp_fetch, hostile, name: str) -> None:
    """An operation their roles can never call: refused before the body is read, audited as denied."""
    admin = hostile(ADMIN)
    before = snapshot(admin)
    body = json.dumps({"request_id": 1, "output_id": 1, "decision": output_tag(HOSTILE_ARCHIVES[name])}).encode()
    status, answer = await post(jp_fetch, NOBODY, "review.decide", body)
    assert (status, answer["error"]) == (403, "AccessDenied"), answer
    assert "this needs one of the roles output_checker" in answer["message"]
    says_nothing_of_files(answer["message"])
    event = last_event(admin)
    assert (event["actor"], event["action"], event["outcome"]) == (NOBODY, "kernel.review.decide", "denied")
    assert snapshot(admin) == before


@pytest.mark.parametrize("name", sorted(HOSTILE_ARCHIVES))
async def test_an_output_archive_from_a_kernel_is_refused_unopened(jp_fetch, hostile, name: str,
                                                                   monkeypatch) -> None:
    """An operation they may call: the body is read, but a ``$output`` in it is refused before it is unpacked."""
    import workbench.wire as wire_module

    opened = []
    monkeypatch.setattr(wire_module, "zip_to_output", lambda raw: opened.append(raw))
    admin = hostile(ADMIN)
    before = snapshot(admin)
    for user in (NOBODY, ANALYST):
        body = json.dumps({"project": PROJECT, "title": "T", "outputs": [output_tag(HOSTILE_ARCHIVES[name])]})
        status, answer = await post(jp_fetch, user, "requests.create", body.encode())
        assert (status, answer["error"], answer["field"]) == (400, "InvalidInput", "body"), answer
        assert "$output value is not accepted here" in answer["message"]
        assert "by their number" in answer["message"]
        says_nothing_of_files(answer["message"])
        event = last_event(admin)
        assert (event["actor"], event["action"], event["outcome"]) == (user, "kernel.requests.create", "refused")
    assert opened == [] and snapshot(admin) == before


async def test_result_classes_are_not_accepted_from_a_kernel(jp_fetch, hostile) -> None:
    body = json.dumps({"text": {"$type": "Entry", "fields": {"record": {}}}}).encode()
    status, answer = await post(jp_fetch, ANALYST, "catalogue.search", body)
    assert (status, answer["error"]) == (400, "InvalidInput") and "Entry is not accepted here" in answer["message"]


async def test_a_stranger_and_an_unknown_operation_are_refused_before_decoding(jp_fetch, hostile) -> None:
    admin = hostile(ADMIN)
    body = json.dumps({"x": output_tag(bomb(5))}).encode()
    status, answer = await post(jp_fetch, STRANGER, "tables.make", body)
    assert (status, answer["error"]) == (403, "AccessDenied") and "not a registered person" in answer["message"]
    assert [(e["action"], e["outcome"]) for e in events_of(admin, STRANGER)] == [("kernel.tables.make", "denied")]
    status, answer = await post(jp_fetch, ANALYST, "no.such.thing", body)
    assert (status, answer["error"]) == (404, "NotFound") and "No kernel operation 'no.such.thing'" in answer["message"]
    event = last_event(admin)
    assert (event["actor"], event["action"], event["resource"], event["outcome"]) == (
        ANALYST, "kernel.call", "no.such.thing", "refused")


async def test_unauthenticated_callers_get_403_and_nothing_is_audited(jp_fetch, hostile) -> None:
    admin = hostile(ADMIN)
    with admin._ctx.db.read() as conn:
        count = len(conn.execute(select(audit_events)).all())
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("workbench", "api", "kernel", "whoami", method="POST", body=b"{}",
                       headers={"Authorization": "token wrong"})
    assert refused.value.code == 403 and json.loads(refused.value.response.body)["message"]
    with admin._ctx.db.read() as conn:
        assert len(conn.execute(select(audit_events)).all()) == count


async def test_a_body_over_the_limit_is_413_and_audited(jp_fetch, jp_web_app, hostile) -> None:
    jp_web_app.settings[KERNEL_BODY_SETTING] = 4096
    admin = hostile(ADMIN)
    before = snapshot(admin)
    body = json.dumps({"text": "x" * 10_000}).encode()
    status, answer = await post(jp_fetch, ANALYST, "catalogue.search", body)
    assert (status, answer["error"], answer["field"]) == (413, "InvalidInput", "body"), answer
    assert "at most 4,096 bytes" in answer["message"]
    event = last_event(admin)
    assert (event["actor"], event["action"], event["outcome"]) == (ANALYST, "kernel.catalogue.search", "refused")
    assert snapshot(admin) == before
    status, _ = await post(jp_fetch, ANALYST, "catalogue.search", json.dumps({"text": "x"}).encode())
    assert status == 200  # within the limit, the same call works


def raw_post(host: str, port: int, path: str, headers: dict[str, str], length: int, sent: bytes) -> tuple[float, bytes]:
    """Send a request declaring ``length`` body bytes but only ``sent``; (seconds to the answer, the answer)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {length}",
             "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode() + sent)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            answer += chunk
    return time.monotonic() - start, answer


async def test_a_declared_body_over_the_limit_is_refused_without_reading_it(jp_fetch, jp_serverapp, jp_http_port,
                                                                           jp_base_url, hostile) -> None:
    """2 GiB announced, a few bytes sent: the 413 comes at once (jp_fetch starts the server)."""
    import asyncio

    token = jp_serverapp.identity_provider.token
    path = f"{jp_base_url.rstrip('/')}/workbench/api/kernel/catalogue.search"
    seconds, answer = await asyncio.get_running_loop().run_in_executor(None, lambda: raw_post(
        "127.0.0.1", jp_http_port, path, {"Authorization": f"token {token}", TEST_USER_HEADER: ANALYST},
        2 * 1024**3, b'{"text": "'))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"this route takes at most 67,108,864 bytes" in answer and seconds < 10


# -- unpacking an archive (the kernel's side, and anything else that opens one) -----------------------------------
@pytest.mark.parametrize("name", sorted(HOSTILE_ARCHIVES))
def test_an_archive_never_reads_outside_its_folder(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        wire.zip_to_output(HOSTILE_ARCHIVES[name])
    says_nothing_of_files(str(refused.value))


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    raw = bomb(250)
    assert len(raw) < 400_000  # ~250 MB in a few hundred KB
    start = time.monotonic()
    with pytest.raises(InvalidInput, match="packed more tightly than 100 to 1") as refused:
        wire.loads(json.dumps(output_tag(raw)).encode())
    assert time.monotonic() - start < 5
    says_nothing_of_files(str(refused.value))


def compressed_frame(rows: int = 10_000_000) -> dict[str, str]:
    """A frame of ``rows`` zeros (80 MB in memory) as a zstd-compressed Arrow stream of a few KB."""
    import pyarrow as pa

    big = pa.table({"x": pa.repeat(pa.scalar(0, pa.int64()), rows)})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, big.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(big)
    return {"$frame": base64.b64encode(sink.getvalue()).decode()}


def test_a_compressed_arrow_frame_is_refused_before_it_is_unpacked() -> None:
    tag = compressed_frame()
    assert len(tag["$frame"]) < 200_000
    start = time.monotonic()
    with pytest.raises(InvalidInput, match="uncompressed Arrow stream"):
        wire.loads_request(json.dumps({"data": tag}).encode())
    assert time.monotonic() - start < 2


async def test_a_compressed_frame_sent_to_the_service_changes_nothing(jp_fetch, hostile) -> None:
    admin = hostile(ADMIN)
    before = snapshot(admin)
    body = json.dumps({"project": PROJECT, "frame": compressed_frame(), "name": "zeros",
                       "derived_from": [DATASET]}).encode()
    status, answer = await post(jp_fetch, ANALYST, "project.save", body)
    assert (status, answer["error"], answer["field"]) == (400, "InvalidInput", "data"), answer
    event = last_event(admin)
    assert (event["actor"], event["action"], event["outcome"]) == (ANALYST, "kernel.project.save", "refused")
    assert snapshot(admin) == before


def test_an_archive_lying_about_its_size_is_stopped_while_unpacking(monkeypatch) -> None:
    raw = bytearray(_zip({"results.json": b"0" * 100_000}))
    monkeypatch.setattr(wire, "MAX_OUTPUT_RATIO", 10**9)
    # the central directory says 10 bytes; the data holds 100,000
    header = raw.rfind(b"PK\x01\x02")
    raw[header + 24:header + 28] = (10).to_bytes(4, "little")
    with pytest.raises(InvalidInput) as refused:
        wire.zip_to_output(bytes(raw))
    says_nothing_of_files(str(refused.value))


def test_read_results_json_refuses_paths_outside_its_folder(tmp_path, hostile) -> None:
    """Embedded too: a results folder naming /etc/passwd, ../ or another project's recorded output (by absolute
    path or by climbing) is refused without reading it, and the message holds neither path nor cells."""
    from workbench.disclosure import read_results_json

    recorded = next(hostile(ANALYST).project(PROJECT).outputs.folder(1).rglob("*.csv"))
    climbing = "../" * 30 + str(recorded).lstrip("/")
    for name, table_file in (("absolute", "/etc/passwd"), ("climbing", "../../../../../../etc/passwd"),
                             ("vault", str(recorded)), ("vault-climbing", climbing)):
        for layout in ("ours", "acro"):
            folder = tmp_path / f"{name}-{layout}"
            folder.mkdir()
            acro = table_file if table_file.endswith(".csv") else f"{table_file}.csv"  # ACRO lists CSVs only
            results = _results(table_file) if layout == "ours" else _results("", acro_file=acro)
            (folder / "results.json").write_bytes(results)
            with pytest.raises(InvalidInput, match="names a file outside its folder") as refused:
                read_results_json(folder)
            message = str(refused.value)
            says_nothing_of_files(message)
            assert str(recorded.parent) not in message and "18-64" not in message and "65+" not in message


# -- the pre-check is the policy's, and never refuses what the policy could allow -----------------------------------
def test_may_ever_never_refuses_what_decide_could_allow() -> None:
    """For each action listed in ROLES_NEEDED: a person without those roles is denied by ``decide`` on every
    resource, even the most favourable one we can build."""
    favourable = {"owner": "x.person", "delegates": ["x.person"], "current_owner": "x.person", "member_role": "lead",
                  "project_status": "active", "accreditation": "accredited", "granted": ["a"], "wanted": ["a"],
                  "datasets": [{"granted": ["a"], "linkage": ["a"]}], "gateway_allows_identifiers": True,
                  "username": "x.person", "delegate_of": ["d"], "authored": False,
                  "people_count": 1,  # a registered person is in the workspace, so it is not empty
                  "requested_by": "someone.else", "today": "2026-01-01"}
    for action in ACTIONS:
        for roles in [(), *((r,) for r in ROLES)]:
            actor = Actor("x.person", frozenset(roles), registered=True)
            if not may_ever(actor, action):
                assert action in ROLES_NEEDED and not set(roles) & set(ROLES_NEEDED[action])
                facts = {k: v for k, v in favourable.items() if k in FACTS[action]}  # those the action takes
                for resource in (facts, {}):
                    assert not decide(actor, action, resource), (action, roles, resource)
            else:
                assert action not in ROLES_NEEDED or set(roles) & set(ROLES_NEEDED[action])
    assert not may_ever(Actor("x.person", frozenset(ROLES)), "catalogue.read")  # not registered
    assert not may_ever(Actor("x.person", frozenset(ROLES), registered=True), "no.such.action")


def governed_rows(ws: Any) -> dict[str, Any]:
    """``snapshot`` but the API tokens, whose last use a real service records on every call."""
    return {name: rows for name, rows in snapshot(ws).items() if name != "api_tokens"}


# -- a real `workbench serve` ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_real_service_authorises_before_it_decodes(hostile, tmp_path, database_url) -> None:
    from helpers import call, serving

    admin = hostile(ADMIN)
    tokens = {user: admin.tokens.create(user, label="attack")["token"] for user in (NOBODY, ANALYST)}
    before = governed_rows(admin)
    with serving(tmp_path / "ws", database_url, args=("--max-body-mib", "1")) as url:
        kernel_path = "workbench/api/kernel/"
        passwd = output_tag(HOSTILE_ARCHIVES["results.json names /etc/passwd"])
        answer = call(url, kernel_path + "review.decide", token=tokens[NOBODY], method="POST",
                      body={"request_id": 1, "output_id": 1, "decision": passwd})
        assert answer.status == 403 and "output_checker" in answer.json["message"]
        says_nothing_of_files(answer.json["message"])
        answer = call(url, kernel_path + "requests.create", token=tokens[NOBODY], method="POST",
                      body={"project": PROJECT, "title": "T", "outputs": [passwd]})
        assert answer.status == 400 and "not accepted here" in answer.json["message"]
        says_nothing_of_files(answer.json["message"])
        answer = call(url, kernel_path + "no.such", token=tokens[ANALYST], method="POST", body={"x": passwd})
        assert answer.status == 404
        started = time.monotonic()
        answer = call(url, kernel_path + "requests.create", token=tokens[ANALYST], method="POST",
                      body={"project": PROJECT, "title": "T", "outputs": [output_tag(bomb(250))]})
        assert answer.status == 400 and time.monotonic() - started < 10
        says_nothing_of_files(answer.json["message"])
        host, port = url.split("//")[1].split("/")[0].split(":")
        seconds, raw = raw_post(host, int(port), "/" + kernel_path + "catalogue.search",
                                {"Authorization": f"token {tokens[ANALYST]}"}, 2 * 1024**3, b"{")
        assert raw.startswith(b"HTTP/1.1 413") and b"at most 1,048,576 bytes" in raw and seconds < 10
        answer = call(url, kernel_path + "whoami", token=tokens[ANALYST], method="POST", body={})
        assert answer.status == 200
    assert governed_rows(admin) == before
    outcomes = {(e["action"], e["outcome"]) for e in events_of(admin, NOBODY)}
    assert {("kernel.review.decide", "denied"), ("kernel.requests.create", "refused")} <= outcomes
    outcomes = {(e["action"], e["outcome"]) for e in events_of(admin, ANALYST)}
    assert {("kernel.call", "refused"), ("kernel.requests.create", "refused"),
            ("kernel.catalogue.search", "refused")} <= outcomes


@pytest.mark.parametrize("length", ["-1", "1e3"])
async def test_a_content_length_that_is_not_a_number_is_refused(jp_fetch, jp_serverapp, jp_http_port, jp_base_url,
                                                                hostile, length: str) -> None:
    """A length that is not a count of bytes is a 400 (or the HTTP server's own 400), never a 413 or a 500."""
    import asyncio

    token = jp_serverapp.identity_provider.token
    path = f"{jp_base_url.rstrip('/')}/workbench/api/kernel/catalogue.search"
    _, answer = await asyncio.get_running_loop().run_in_executor(None, lambda: raw_post(
        "127.0.0.1", jp_http_port, path, {"Authorization": f"token {token}", TEST_USER_HEADER: ANALYST},
        length, b""))  # type: ignore[arg-type]
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


async def test_every_refusal_of_a_token_holder_is_audited_once(jp_fetch, hostile) -> None:
    """Arguments an operation does not take are refused before any service runs, and audited by the route; a
    refusal a service audits itself (a load without a grant) is not audited twice."""
    admin = hostile(ADMIN)
    before = len(events_of(admin, ANALYST))
    status, answer = await post(jp_fetch, ANALYST, "catalogue.search", json.dumps({"colour": "red"}).encode())
    assert (status, answer["error"]) == (400, "InvalidInput"), answer
    events = events_of(admin, ANALYST)[before:]
    assert [(e["action"], e["resource"], e["outcome"]) for e in events] == [
        ("kernel.catalogue.search", "catalogue.search", "refused")]
    assert "colour" in events[0]["detail"]["reason"]

    before = len(events_of(admin, ANALYST))
    body = json.dumps({"project": "p-beta", "dataset_id": DATASET}).encode()
    status, answer = await post(jp_fetch, ANALYST, "project.load", body)
    assert (status, answer["error"]) == (403, "AccessDenied"), answer
    events = events_of(admin, ANALYST)[before:]
    assert [(e["action"], e["outcome"]) for e in events] == [("data.load", "denied")]
