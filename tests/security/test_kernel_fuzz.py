"""No 500 for any client input: every kernel operation called with malformed values, as four kinds of person.

For each operation in ``OPERATIONS`` hypothesis draws calls that are malformed by construction: plausible arguments
with at least one replaced by a value of the wrong kind (wrong types, huge, negative, NaN or infinite numbers, long
or odd text, nested junk, broken Arrow, zip or base64 tagged values, result classes a kernel never sends), an
unknown keyword, or a body that is not a JSON object. An analyst of the project, a data owner, an admin and a
registered person with no role send them in turn. Every answer must be a 4xx with a JSON ``message``; the
workspace's tables must be unchanged (audit events aside); and the service must still answer a normal call.

The calls are drawn by hypothesis (``draw``) and sent from the async test; a failure names the operation, the
person and the exact body, so it can be sent again by hand. The fast lane draws a few calls per operation on
SQLite and PostgreSQL; the slow lane draws more, and a short run goes to a real ``workbench serve``.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import zipfile
from typing import Any

import pandas as pd
import pytest
from helpers import ADMIN, ANALYST, DATASET, OWNER, PROJECT, TEST_USER_HEADER, grant, snapshot
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError

from workbench import wire
from workbench.server.kernel import DP_METHODS, OPERATIONS, POLICY_ACTIONS, TABLE_METHODS

NOBODY = "nat.norole"  # registered, no role at all
USERS = (ANALYST, OWNER, ADMIN, NOBODY)
CONTEXT = {"shown": "Admissions by age band", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}


# -- what a plausible call looks like ----------------------------------------------------------------------------
def _frame_tag(frame: pd.DataFrame) -> dict[str, str]:
    return {"$frame": base64.b64encode(wire.frame_to_arrow(frame)).decode()}


def _patients() -> pd.DataFrame:
    from factories import patients

    return patients(30)


def _zip(files: dict[str, bytes]) -> str:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return base64.b64encode(sink.getvalue()).decode()


# a results.json whose tables are files anywhere on the service's disk
_PASSWD_RESULTS = json.dumps({"results": {"x": {"status": "pass", "properties": {"workbench": {
    "kind": "table", "method": "crosstab", "index": {"multi": False, "names": [None],
                                                      "levels": [{"dtype": "object", "values": ["a"]}]},
    "columns": {"multi": False, "names": [None], "levels": [{"dtype": "object", "values": ["b"]}]},
    "table": {"file": "/etc/passwd", "dtypes": ["int64"]}, "safe_table": {"file": "../../etc/passwd",
                                                                          "dtypes": ["int64"]},
    "rules": [], "measures": {}, "suppressed": [], "mitigation": {}, "settings": {},
    "status_before_mitigation": "pass"}}, "files": [{"name": "/etc/passwd", "sdc": {"cells": {}}}]}}}).encode()

BROKEN_TAGS: list[Any] = [
    {"$frame": "!!!not base64"}, {"$frame": base64.b64encode(b"not arrow at all").decode()}, {"$frame": 5},
    {"$frame": base64.b64encode(wire.frame_to_arrow(pd.DataFrame({"x": [1]}))[:-9]).decode()},  # cut short
    {"$series": base64.b64encode(wire.frame_to_arrow(pd.DataFrame())).decode()},
    {"$output": "not base64!"}, {"$output": base64.b64encode(b"PK\x03\x04 not a zip").decode()},
    {"$output": _zip({"../escaped.txt": b"x"})}, {"$output": _zip({"results.json": _PASSWD_RESULTS})},
    {"$output": _zip({"results.json": b"0" * 2_000_000})},  # packed 1000:1
    {"$type": "os.system", "fields": {}}, {"$type": "Entry", "fields": {"record": {}}},
    {"$type": "ChainCheck", "fields": {"ok": True}}, {"$type": "LinkageSpec", "value": {"junk": [1, 2]}},
    {"$type": "LinkageSpec", "value": 7}, {"$type": ["list"]}, {"$type": "RequestDetail", "value": {}},
    {"$date": "yesterday"}, {"$date": 20260101}, {"$datetime": "2026-13-45T99:00"}, {"$time": None},
    {"$timestamp": "not a time"}, {"$timestamp": 1e300}, {"$tuple": 5}, {"$tuple": {"a": 1}},
    {"$map": [[1]]}, {"$map": [[[1, 2], 3]]}, {"$map": "x"}, {"$float": "1e999"}, {"$float": 3},
    {"$nope": 1}, {"$frame": "", "$output": ""},
]
NUMBERS: list[Any] = [-1, 0, 10**30, -(10**30), 2**63, 1e308, -1e308, 1e-320, {"$float": "nan"},
                      {"$float": "inf"}, {"$float": "-inf"}, True]
TEXTS: list[Any] = ["", " ", "x" * 100_000, "\x00", "../../etc/passwd", "/etc/passwd", "Robert'); DROP TABLE people;--",
                    "ü" * 300, "%s%s%n", "${jndi:x}", "__import__('os')", "a\nb"]
ODD_FRAMES: list[Any] = [
    _frame_tag(pd.DataFrame()), _frame_tag(pd.DataFrame({"x": [None, None]})),
    _frame_tag(pd.DataFrame({"x": [[1, 2], [3]]})), _frame_tag(pd.DataFrame({"x": [{"a": 1}, {"a": 2}]})),
    _frame_tag(pd.DataFrame({"x": pd.to_datetime(["2026-01-01", None]).tz_localize("UTC")})),
    _frame_tag(pd.DataFrame({"age_band": [1.5, float("nan")], "cost": ["a", "b"]})),
]

scalars = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(TEXTS), st.none(), st.booleans(),
                    st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=20),
                    st.floats(allow_nan=False, allow_infinity=False))
leaves = st.one_of(scalars, st.sampled_from(BROKEN_TAGS), st.sampled_from(ODD_FRAMES))
junk = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=8)
# wrong for any parameter: never plain short text, a bare in-range number, or a proper frame
_never_a_value = [st.sampled_from(BROKEN_TAGS), st.sampled_from(NUMBERS[:7]),
                  st.lists(junk, min_size=1, max_size=3).map(lambda v: [{"nested": v}]),
                  st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "zz" + k), junk, min_size=1,
                                  max_size=3)]
wrong = st.one_of(*_never_a_value, st.sampled_from(ODD_FRAMES))
# where any well-formed frame is a proper value (an analyst may save any frame of their own), odd frames are not
# wrong: only the rest is
ANY_FRAME = {("project.save", "frame")}
wrong_for_any_frame = st.one_of(*_never_a_value)
# bodies that are not a JSON object of named values
not_objects = st.one_of(st.binary(min_size=1, max_size=64),
                        st.sampled_from([b"[]", b"[1,2]", b"1", b"\"text\"", b"null", b"true", b"{", b"{\"a\":}",
                                         b"\xff\xfe", b"[" * 100_000, b"{\"a\":" * 5_000]),
                        st.lists(junk, max_size=3).map(lambda v: json.dumps(v).encode())).filter(
    lambda raw: not _is_object(raw))


def _is_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def plausible(frame: dict[str, str]) -> dict[str, Any]:
    """A plausible value for each parameter name any operation has (valid-looking, not necessarily allowed)."""
    return {
        "project": PROJECT, "dataset_id": DATASET, "dataset": DATASET, "data": frame, "frame": frame,
        "name": "fuzzed", "derived_from": [DATASET], "username": ANALYST, "role": "analyst", "text": "age",
        "justification": "Needed", "columns": ["age_band"], "index": "age_band", "by": "age_band",
        "values": "cost", "column": "cost", "formula": "cost ~ length_of_stay", "epsilon": 1.0,
        "bounds": {"$tuple": [0, 100]}, "request_id": 1, "output_id": 1, "run_id": 1, "grant_id": 1,
        "decision": "approve", "outcome": "approve", "comment": "ok", "reason": "r", "title": "T",
        "context": CONTEXT, "outputs": [1], "what": "comment", "record": {"title": "x"}, "status": "active",
        "left": DATASET, "right": DATASET, "q": 0.5, "bins": 10, "aggfunc": "mean", "limit": 10, "offset": 0,
        "format": "yaml", "source": "input", "version": 1, "include_approved": True, "preview": True,
    }


def parameters(operation: str) -> list[str]:
    """The named arguments ``operation`` takes: its scope (the project, a method) and its method's parameters."""
    factory = OPERATIONS[operation]
    names = [p for p in inspect.signature(factory).parameters if p != "ws"]
    method = _METHODS.get(operation)
    if method is not None:
        names += [n for n, p in inspect.signature(method).parameters.items()
                  if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    return names


def _methods() -> dict[str, Any]:
    """operation → the unbound method it calls (for its parameter names), from the remote workspace's table."""
    from workbench.remote import workspace as remote

    found: dict[str, Any] = {}
    for cls in vars(remote).values():
        if isinstance(cls, type):
            for attribute in vars(cls).values():
                wrapped = getattr(attribute, "__wrapped__", None)
                closure = getattr(attribute, "__closure__", None) or ()
                cells = [c.cell_contents for c in closure if isinstance(c.cell_contents, str)]
                operation = next((c for c in cells if c in OPERATIONS), None)
                if wrapped is not None and operation is not None:
                    found.setdefault(operation, wrapped)
    from workbench.outputs.tables import ProjectTables

    found["tables.make"] = ProjectTables.crosstab
    found["owner.decide"] = __import__("workbench.governance.access", fromlist=["Access"]).Access.decide
    found["outputs.change"] = lambda what, text: None
    return found


_METHODS = _methods()


def calls(operation: str, frame: dict[str, str]) -> st.SearchStrategy[bytes]:
    """Malformed calls of ``operation``, as request bodies."""
    names = parameters(operation)
    base = {name: plausible(frame).get(name, "x") for name in names}
    if operation == "tables.make":
        base["method"] = "crosstab"
    if operation == "dp.query":
        base["method"] = "count"

    @st.composite
    def one(draw: Any) -> bytes:
        kind = draw(st.sampled_from(["wrong", "wrong", "wrong", "unknown", "body"] if names else ["unknown", "body"]))
        if kind == "body":
            return draw(not_objects)
        arguments = dict(base)
        if operation in ("tables.make", "dp.query"):
            arguments["method"] = draw(st.sampled_from(TABLE_METHODS if operation == "tables.make" else DP_METHODS))
        if kind == "unknown":
            arguments[draw(st.text(min_size=1, max_size=30).map(lambda k: "zz_" + k))] = draw(junk)
        else:
            for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True)):
                arguments[name] = draw(wrong_for_any_frame if (operation, name) in ANY_FRAME else wrong)
        return json.dumps(arguments).encode()

    return one()


def draw(strategy: st.SearchStrategy[Any], count: int, seeded: bool = True) -> list[Any]:
    """``count`` values of ``strategy``, drawn by hypothesis (reproducible when ``seeded``)."""
    found: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=seeded, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


# -- arranging and calling ---------------------------------------------------------------------------------------
def arrange(served: Any) -> None:
    """A grant, a recorded crosstab (output 1) and a submitted output request (1), so deep paths are reachable."""
    from helpers import CHECKER

    grant(served)
    admin = served(ADMIN)
    admin.people.add(NOBODY, "Nat Norole", roles=[], department="DHSC")
    project = served(ANALYST).project(PROJECT)
    project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay")
    project.output_requests.create("Stays", context=CONTEXT, outputs=[1], submit=True)
    assert CHECKER  # an output checker exists to make the review operations reachable by role


async def send(jp_fetch: Any, user: str, operation: str, body: bytes) -> tuple[int, Any]:
    try:
        response = await jp_fetch("workbench", "api", "kernel", operation, method="POST", body=body,
                                  headers={TEST_USER_HEADER: user})
    except HTTPClientError as error:
        raw = error.response.body if error.response is not None else b""
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw
    return response.code, response.body


def summary(body: bytes) -> str:
    """A body as a reader needs it to resend the call: each argument shortened, tagged values by their tag."""
    def short(value: Any) -> str:
        if isinstance(value, dict) and any(str(k).startswith("$") for k in value):
            tag = next(k for k in value if str(k).startswith("$"))
            return f"{{{tag}: {str(value[tag])[:40]}...}}" if tag in ("$frame", "$series", "$output") else \
                json.dumps(value)[:120]
        return json.dumps(value)[:120]
    try:
        tree = json.loads(body)
    except (ValueError, RecursionError):
        return repr(body[:120])
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {short(v)}" for k, v in tree.items()) + "}"
    return repr(body[:120])


def problem(status: int, answer: Any, user: str, operation: str, body: bytes) -> str | None:
    """What is wrong with an answer to a malformed call (None: a 4xx with a JSON message)."""
    shown = summary(body)
    if not 400 <= status < 500:
        return f"{operation} as {user} was sent {shown} and answered {status} {str(answer)[:200]}"
    if not (isinstance(answer, dict) and isinstance(answer.get("message"), str) and answer["message"]):
        return f"{operation} as {user}: {status} without a JSON message: {str(answer)[:300]} (sent {shown})"
    return None


async def fuzz(jp_fetch: Any, served: Any, per_operation: int, seeded: bool = True) -> None:
    arrange(served)
    admin = served(ADMIN)
    frame = _frame_tag(_patients())
    problems = []
    for operation in sorted(OPERATIONS):
        bodies = draw(calls(operation, frame), per_operation, seeded)
        before = snapshot(admin)
        for i, body in enumerate(bodies):
            user = USERS[i % len(USERS)]
            status, answer = await send(jp_fetch, user, operation, body)
            problems.append(problem(status, answer, user, operation, body))
        if snapshot(admin) != before:
            problems.append(f"{operation}: a refused call changed the workspace")
    found = [p for p in problems if p]
    assert not found, "\n".join(found)
    status, answer = await send(jp_fetch, ANALYST, "whoami", b"{}")
    assert status == 200 and wire.loads(answer) == {"user": ANALYST, "roles": ["analyst"]}


def governed_rows(ws: Any) -> dict[str, Any]:
    """``snapshot`` but the API tokens, whose last use a real service records on every call."""
    return {name: rows for name, rows in snapshot(ws).items() if name != "api_tokens"}


# -- the tests ---------------------------------------------------------------------------------------------------
def test_every_operation_is_fuzzed_and_has_a_policy() -> None:
    """A new operation needs its policy actions (``POLICY_ACTIONS``) and parameters the fuzzer can find."""
    assert set(POLICY_ACTIONS) == set(OPERATIONS)
    for operation in OPERATIONS:
        scope = [p for p in inspect.signature(OPERATIONS[operation]).parameters if p != "ws"]
        assert operation in _METHODS or operation in ("whoami", "projects.get", "projects.list",
                                                      "disclosure.settings", "audit.verify") or scope, operation
        assert draw(calls(operation, _frame_tag(pd.DataFrame({"x": [1]}))), 2)


async def test_no_operation_answers_malformed_input_with_a_500(jp_fetch, served) -> None:
    await fuzz(jp_fetch, served, per_operation=8)


@pytest.mark.slow
async def test_no_operation_answers_malformed_input_with_a_500_long_run(jp_fetch, served) -> None:
    await fuzz(jp_fetch, served, per_operation=60, seeded=False)


@pytest.mark.slow
def test_a_real_service_answers_malformed_input_with_4xx(governed, tmp_path, database_url) -> None:
    """A short run against ``workbench serve`` with real tokens: 4xx with a message, nothing changed, healthy."""
    import urllib.error
    import urllib.request

    from helpers import serving

    arrange(governed)
    admin = governed(ADMIN)
    tokens = {user: admin.tokens.create(user, label="fuzz")["token"] for user in USERS}
    frame = _frame_tag(_patients())
    before = governed_rows(admin)
    with serving(tmp_path / "ws", database_url) as url:
        def post(user: str, operation: str, body: bytes) -> tuple[int, Any]:
            request = urllib.request.Request(f"{url}workbench/api/kernel/{operation}", data=body, method="POST",
                                             headers={"Authorization": f"token {tokens[user]}"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                raw = error.read()
                try:
                    return error.code, json.loads(raw)
                except ValueError:
                    return error.code, raw

        problems = []
        for operation in sorted(OPERATIONS):
            for i, body in enumerate(draw(calls(operation, frame), 2)):
                user = USERS[i % len(USERS)]
                status, answer = post(user, operation, body)
                problems.append(problem(status, answer, user, operation, body))
        found = [p for p in problems if p]
        assert not found, "\n".join(found)
        status, answer = post(ANALYST, "whoami", b"{}")
        assert status == 200 and wire.loads(answer)["user"] == ANALYST
    assert governed_rows(admin) == before


@pytest.mark.slow
def test_the_embedded_workspace_refuses_the_same_calls(governed) -> None:
    """The same malformed calls made in-process (``kernel.call`` on the embedded workspace, what the route runs):
    each is a WorkbenchError, never another exception, and nothing changes. Faster, so more calls per operation."""
    from workbench.errors import WorkbenchError
    from workbench.server.kernel import call

    arrange(governed)
    admin = governed(ADMIN)
    # one workspace per person for every call, as the route has one for every request
    as_user = {user: admin if user == ADMIN else governed(user) for user in USERS}
    frame = _frame_tag(_patients())
    problems = []
    for operation in sorted(OPERATIONS):
        before = snapshot(admin)
        for i, body in enumerate(draw(calls(operation, frame), 40, seeded=False)):
            user = USERS[i % len(USERS)]
            try:
                call(as_user[user], operation, wire.loads_request(body))
                problems.append(f"{operation} as {user} accepted {summary(body)}")
            except WorkbenchError:
                pass
            except Exception as error:  # what the route would answer with a 500
                problems.append(f"{operation} as {user}: {type(error).__name__}: {str(error)[:200]} for "
                                f"{summary(body)}")
        if snapshot(admin) != before:
            problems.append(f"{operation}: a refused call changed the workspace")
    assert not problems, "\n".join(problems)


def test_a_frame_where_a_value_belongs_is_refused_by_name(governed) -> None:
    """Every parameter of every operation sent a well-formed frame in place of its value, embedded: a
    WorkbenchError (a frame where a name, a number or a list belongs made ``x in CHOICES`` raise ValueError inside
    a method), never another exception. Deterministic, so the class is closed on every run, not when hypothesis
    happens to draw it."""
    from workbench.errors import WorkbenchError
    from workbench.server.kernel import call

    arrange(governed)
    frame = _frame_tag(_patients())
    as_user = {user: governed(user) for user in (ANALYST, ADMIN)}
    problems = []
    for operation in sorted(OPERATIONS):
        names = parameters(operation)
        base = {name: plausible(frame).get(name, "x") for name in names}
        base.update({"tables.make": {"method": "crosstab"}, "dp.query": {"method": "count"}}.get(operation, {}))
        for name in names:
            if name in ("frame", "data"):
                continue
            for user, ws in as_user.items():
                body = json.dumps({**base, name: frame}).encode()
                try:
                    call(ws, operation, wire.loads_request(body))
                    problems.append(f"{operation} as {user} accepted a frame as {name}")
                except WorkbenchError:
                    pass
                except Exception as error:
                    problems.append(f"{operation}.{name} as {user}: {type(error).__name__}: {str(error)[:150]}")
    assert not problems, "\n".join(problems)
