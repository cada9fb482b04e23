"""Findings of a hostile analyst's re-run of the service's trust-boundary attacks, each kept as a regression test
against the embedded workspace and a real ``workbench serve`` (the ``kernel`` fixture).

- A histogram's ``bins`` was handed to numpy unbounded: ``bins=10**9`` made the service allocate tens of GB and be
  killed by the operating system, taking every other person's session with it.
- Separation of duties, one admin alone: an admin who is an analyst in a project made themselves the owner of a
  dataset (admins may change any entry), left the project, approved its pending request as owner, joined again and
  loaded the data. Nobody now makes themselves a dataset's owner, and nobody joins a project whose current grants
  they approved, or whose output requests they reviewed or concluded (the same dance for output checking).
- The text screen let identifiers through that were merely re-spaced: an NHS number as 943.476.5919, 943/476/5919,
  943_476_5919, 943–476–5919, 9434 765919, 9,434,765,919 or digit by digit; a lower-case postcode; a pseudonym
  split into groups. Each went into an output's name, a comment and a request's title. So did a right-to-left
  override or a zero-width space, which change what the checker reads on screen from what is released.
- An Arrow frame inside a request was turned into pandas whatever its shape: a column of type null (or run-end
  encoded) of 30 million rows is 300 bytes on the wire and a quarter of a gigabyte in the service, and a person with
  no role could send one to any operation they may call (``catalogue.search``); a few more rows and the service is
  killed. Such frames are now refused before pandas builds them.
- A data owner's JSON-LD import named its ``@context`` by URL or file path, and rdflib fetched it inside the service:
  requests to any host and port the service can reach (its error told connection refused from 403 from a parse
  error: a port scanner and a probe of internal services) and local files opened (/etc/passwd "is not JSON"). A
  context must now be inline; nothing is fetched.
- Another data owner registered "Data-Team@Example.invalid" (or with a trailing space) beside an owner's contact
  point "data-team@example.invalid": a second record for the same mailbox under their name. One mailbox is now one
  contact point, whoever spells it.
- 500s: a frame whose ``attrs`` (which travel with it in the Arrow metadata) said its sources were a number or
  ``True`` made ``p.tables.*`` fail with a 500; so did a crosstab by a column of lists or dicts, and a sum, max or
  mode of unsigned 64-bit values too large for a signed integer when a cell was withheld, and pandas refusing a
  column's type inside a table (float16 keys, a sum over bytes...), now InvalidInput naming the column types; and
  a differentially private query at epsilon 1e-300, whose noise overflowed the integers it is drawn in, and a
  quantile with bounds (-1e308, 1e308), whose width overflowed.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading

import pyarrow as pa
import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER2,
    DATASET,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    TEST_USER_HEADER,
    snapshot,
)
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from workbench import wire
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, DisclosureRisk, InvalidInput
from workbench.outputs.checks import identifier_in_text, text_problem


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def refused(ws, action: str, actor: str = ANALYST, outcome: str = "refused") -> list[dict]:
    with ws._ctx.db.read() as conn:
        rows = conn.execute(select(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == outcome)
            & (audit_events.c.actor == actor)).order_by(audit_events.c.seq)).mappings().all()
    return [dict(r) for r in rows]


@pytest.mark.parametrize(("bins", "message"), [
    (10**9, "bins: 1000000000 is not a number of bins from 1 to 10,000"),
    (0, "bins: 0 is not a number of bins from 1 to 10,000"),
    ("fd", "bins: give a number of bins .* not str"),
    (list(range(20_000)), "bins: 20,000 edges; give from 2 to 10,001"),
])
def test_a_histogram_with_too_many_bins_is_refused_before_numpy_allocates_them(kernel, desk, bins, message) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    before, audited = state(host), len(refused(host, "outputs.create"))
    with pytest.raises(InvalidInput, match=message):
        project.tables.histogram(data, "cost", bins=bins)
    assert state(host) == before
    assert len(refused(host, "outputs.create")) == audited + 1
    still = project.tables.histogram(data, "cost", bins=12, range=(0, 100_000))
    assert still.kind == "histogram"  # the service is still there


def test_an_admin_cannot_make_themselves_the_owner_of_a_dataset(kernel, desk) -> None:
    host = desk(ADMIN)
    admin = kernel(ADMIN)
    record = dict(admin.catalogue.get(DATASET).record)
    record["dataOwner"] = ADMIN
    before, denied = state(host), len(refused(host, "catalogue.update", ADMIN, "denied"))
    with pytest.raises(AccessDenied, match=f"{ADMIN} may not change dataset {DATASET}: nobody makes themselves the "
                                           f"owner of a dataset another person owns \\({OWNER}\\)"):
        admin.catalogue.register(record)
    assert state(host) == before
    assert host.catalogue.get(DATASET).owner == OWNER
    assert len(refused(host, "catalogue.update", ADMIN, "denied")) == denied + 1
    record["dataOwner"] = "priya.owner"  # handing it to another data owner is still an admin's to do
    admin.catalogue.register(record)
    assert host.catalogue.get(DATASET).owner == "priya.owner"


def test_nobody_joins_a_project_whose_current_grant_they_approved(kernel, desk) -> None:
    """ADMIN, a delegate outside OTHER_PROJECT, approves its request (allowed), then tries to join it."""
    host = desk(ADMIN)
    host.people.set_roles(ADMIN, ["admin", "analyst"])
    desk(OWNER).owner.delegate(DATASET, ADMIN)
    request = desk(SECOND_ANALYST).project(OTHER_PROJECT).request_access(DATASET, ["age_band", "cost"],
                                                                         justification="Service planning")
    admin = kernel(ADMIN)
    grant = admin.owner.decide(request["id"], "approve")["grant_id"]
    before, denied = state(host), len(refused(host, "projects.manage", ADMIN, "denied"))
    with pytest.raises(AccessDenied, match=f"{ADMIN} approved the project's current grant\\(s\\) {grant}, and nobody "
                                           "works in a project whose access they decided"):
        admin.project(OTHER_PROJECT).add_member(ADMIN, "analyst")
    assert state(host) == before
    assert len(refused(host, "projects.manage", ADMIN, "denied")) == denied + 1
    admin.project(OTHER_PROJECT).add_member("chris.checker", "reviewer")  # adding others is unchanged
    host.access.revoke(grant, reason="decided by a future member")
    admin.project(OTHER_PROJECT).add_member(ADMIN, "analyst")  # once the grant is revoked, they may join


def test_nobody_joins_a_project_whose_outputs_they_checked(kernel, desk) -> None:
    """The same dance for outputs: ADMIN, also an output checker, reviews PROJECT's request from outside it, then
    tries to join it (an admin who left a project to check its outputs must not come back)."""
    from outputs.checking import record_table, submitted

    host = desk(ADMIN)
    host.people.set_roles(ADMIN, ["admin", "output_checker"])
    request = submitted(desk, [record_table(desk)])
    admin = kernel(ADMIN)
    admin.review.decide(request.id, request.outputs[0], "approve", "Safe")
    before, denied = state(host), len(refused(host, "projects.manage", ADMIN, "denied"))
    with pytest.raises(AccessDenied, match=f"{ADMIN} checked the project's output request\\(s\\) {request.id}, and "
                                           "nobody works in a project whose outputs they checked"):
        admin.project(PROJECT).add_member(ADMIN, "analyst")
    assert state(host) == before
    assert len(refused(host, "projects.manage", ADMIN, "denied")) == denied + 1
    admin.project(PROJECT).add_member(CHECKER2, "reviewer")  # adding others is unchanged


DODGES = [("943.476.5919", "NHS number"), ("943/476/5919", "NHS number"), ("943_476_5919", "NHS number"),
          ("943\u2013476\u20135919", "NHS number"), ("9434 765919", "NHS number"), ("9,434,765,919", "NHS number"),
          ("12.9434.765919", "NHS number"), ("9 4 3 4 7 6 5 9 1 9", "NHS number"),
          ("1 2 3 4 5 6 7 8", "digit by digit"), ("sw1a 1aa", "postcode"),
          ("ab 12 34 56 c", "National Insurance"), ("2ace504c92 bf79c60fd4", "pseudonym"),
          ("2ace-504c-92bf-79c6-0fd4", "pseudonym")]


@pytest.mark.parametrize(("text", "what"), DODGES)
def test_re_spaced_identifiers_are_found(text: str, what: str) -> None:
    found = identifier_in_text(f"see {text} here", 6)
    assert found is not None and what in found[0]


@pytest.mark.parametrize("text", ["by region \u202eevil", "total\u200b", "a\u2028b", "bell\x07"])
def test_text_that_hides_itself_from_a_checker_is_refused(text: str) -> None:
    problem = text_problem("name", text, 6)
    assert problem is not None and "an invisible or control character" in problem
    assert text_problem("comment", "two\nlines\tand a tab", 6) is None


@pytest.mark.parametrize("text", ["Table S1 1st row", "1,250,000 admissions", "1,234,567,890 pounds",
                                  "2026-12-06 11:42:48.315366", "bins [0, 1, 2, 3, 4, 5, 6, 7, 8]", "v1.2.3",
                                  "E06000002 E06000003 E06000004", "rgb(31,119,180)", "from 2019/20 to 2024/25",
                                  # and through the wider screen of the second re-run
                                  "Table 2a: 2019/20 1,234 (a) 5,678 (b) 9,012 (c)", "ages 16-24, 25-34, 35-44",
                                  "Cases: 1,234; deaths: 56 (4.5%); beds: 7,890", "Covid19 2nd wave at 3pm",
                                  "decade 1990-2000, 2001-2010, faced 2011-2020", "y ~ age + C(region, London)"])
def test_ordinary_numbers_still_pass(text: str) -> None:
    assert identifier_in_text(text, 6) is None


def test_re_spaced_identifiers_do_not_reach_an_output_or_a_request(kernel, desk) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    table = project.tables.histogram(data, "cost", range=(0, 100_000), name="cost")
    before = state(host)
    for text, _ in DODGES:
        with pytest.raises(DisclosureRisk, match="looks like"):
            project.tables.histogram(data, "cost", range=(0, 100_000), name=f"cost {text}")
        with pytest.raises(DisclosureRisk, match="looks like"):
            table.add_comment(f"note {text}")
        with pytest.raises(DisclosureRisk, match="looks like"):
            project.output_requests.create(f"Release {text}", context={"purpose": "Planning"})
    with pytest.raises(DisclosureRisk, match="U\\+202E, an invisible or control character"):
        project.tables.histogram(data, "cost", range=(0, 100_000), name="cost by \u202edrawkcab")
    assert state(host) == before


def arrow(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def frame_tag(table: pa.Table) -> dict[str, str]:
    return {"$frame": base64.b64encode(arrow(table)).decode()}


def _string_views(rows: int, length: int) -> pa.Array:
    """``rows`` strings that all point at the same ``length`` bytes."""
    import numpy as np

    views = np.zeros((rows, 4), dtype=np.int32)
    views[:, 0] = length
    return pa.Array.from_buffers(pa.string_view(), rows, [None, pa.py_buffer(views.tobytes()),
                                                          pa.py_buffer(b"A" * length)])


EXPANDING = {
    "a null column of 5 million rows": pa.table({"n": pa.nulls(5_000_000)}),
    "a run-end encoded column": pa.table({"x": pa.RunEndEncodedArray.from_arrays(pa.array([5_000_000], pa.int32()),
                                                                                 pa.array([1.5]))}),
    "string views sharing their bytes": pa.table({"s": _string_views(100, 100_000)}),
    "a list view": pa.table({"l": pa.array([[1, 2]], pa.list_view(pa.int64()))}),
}


@pytest.mark.parametrize("name", sorted(EXPANDING))
def test_a_frame_that_would_expand_in_pandas_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="data: a frame"):
        wire.loads_request(json.dumps({"data": frame_tag(EXPANDING[name])}))


def test_many_small_expanding_frames_share_one_budget() -> None:
    """Each frame alone is small; together they would still ask pandas for 20 million cells."""
    tag = frame_tag(pa.table({"n": pa.nulls(10_000)}))
    with pytest.raises(InvalidInput, match="cannot have come in a request of this size"):
        wire.loads_request(json.dumps({"data": [tag] * 2000}))
    lists = pa.table({"l": pa.array([[True] * 1000] * 1000, pa.list_(pa.bool_()))})  # a million values in lists
    assert wire.loads_request(json.dumps({"data": frame_tag(lists)}))["data"].shape == (1000, 1)


def test_frames_a_kernel_writes_still_travel() -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": range(100_000), "none": [None] * 100_000, "b": ["x", None] * 50_000})
    back = wire.loads_request(wire.dumps({"data": frame}))["data"]
    assert back.shape == frame.shape and back["a"].sum() == frame["a"].sum()
    empty = pd.DataFrame({"none": [None] * 1000})  # a small frame of nothing but nulls
    assert wire.loads_request(wire.dumps({"data": empty}))["data"].shape == (1000, 1)


async def test_a_person_with_no_role_cannot_make_the_service_build_a_huge_frame(jp_fetch, served) -> None:
    admin = served(ADMIN)
    admin.people.add("nat.norole", "Nat Norole", roles=[], department="DHSC")
    before = state(admin)
    body = json.dumps({"text": frame_tag(EXPANDING["a null column of 5 million rows"])}).encode()
    assert len(body) < 1000
    with pytest.raises(HTTPClientError) as refusal:
        await jp_fetch("workbench", "api", "kernel", "catalogue.search", method="POST", body=body,
                       headers={TEST_USER_HEADER: "nat.norole"})
    answer = json.loads(refusal.value.response.body)
    assert (refusal.value.code, answer["error"], answer["field"]) == (400, "InvalidInput", "data"), answer
    assert "5,000,000 rows" in answer["message"]
    assert state(admin) == before
    event = refused(admin, "kernel.catalogue.search", "nat.norole")[-1]
    assert event["detail"]["error"] == "InvalidInput"


@pytest.fixture
def listener():
    """A local TCP port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            with client:
                client.settimeout(1)
                try:
                    seen.append(client.recv(1024))
                except OSError:
                    seen.append(b"")
                client.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/ld+json\r\n\r\n{}")
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/context.jsonld", seen
    stop.set()
    thread.join()
    server.close()


def test_json_ld_contexts_elsewhere_are_never_fetched(kernel, desk, listener, tmp_path) -> None:
    url, seen = listener
    local = tmp_path / "context.jsonld"
    local.write_text('{"@context": {"dcat": "http://www.w3.org/ns/dcat#"}}')
    host = desk(ADMIN)
    owner = kernel(OWNER)
    graph = [{"@id": "https://data.example.invalid/d", "@type": "dcat:Dataset"}]
    documents = [{"@context": url, "@graph": graph}, {"@context": [url], "@graph": graph},
                 {"@context": {"@import": url}, "@graph": graph}, {"@context": str(local), "@graph": graph},
                 {"@context": local.as_uri(), "@graph": graph}, {"@context": "file:///etc/passwd", "@graph": graph},
                 {"@context": {}, "@graph": [{**graph[0], "@context": url}]}]
    before = state(host)
    for document in documents:
        with pytest.raises(InvalidInput, match="give the @context inline as a JSON object: the workbench never "
                                               "fetches a context"):
            owner.catalogue.import_text(json.dumps(document), format="jsonld")
    assert seen == [], "the service fetched a context"
    assert state(host) == before


@pytest.mark.parametrize("spelling", ["Data-Team@Example.invalid", "DATA-TEAM@EXAMPLE.INVALID",
                                      "'data-team@example.invalid '"])
def test_another_spelling_of_a_contact_point_is_the_same_contact_point(kernel, desk, spelling) -> None:
    from workbench.db.schema import contact_points

    desk("priya.owner").catalogue.import_text("contactName: Priya's team\nemail: data-team@example.invalid\n")
    host = desk(ADMIN)
    before, denied = state(host), len(refused(host, "catalogue.register_reference", OWNER, "denied"))
    with pytest.raises(AccessDenied, match=r"it belongs to priya\.owner, who registered it"):
        kernel(OWNER).catalogue.import_text(f"contactName: Hijacked\nemail: {spelling}\n")
    assert state(host) == before
    assert len(refused(host, "catalogue.register_reference", OWNER, "denied")) == denied + 1
    kernel("priya.owner").catalogue.import_text(f"contactName: Renamed\nemail: {spelling}\n")  # the owner's own
    with host._ctx.db.read() as conn:
        rows = conn.execute(select(contact_points.c.email, contact_points.c.name,
                                   contact_points.c.registered_by)).all()
    assert [tuple(r) for r in rows] == [("data-team@example.invalid", "Renamed", "priya.owner")]


@pytest.mark.parametrize("sources", [5, True, 1.5])
def test_a_frame_claiming_odd_sources_is_refused_not_a_500(kernel, desk, sources) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    data.attrs["workbench.sources"] = sources
    before, audited = state(host), len(refused(host, "outputs.create"))
    with pytest.raises(InvalidInput, match="derived_from: the frame's own record of its sources"):
        project.tables.crosstab(data, "age_band", "length_of_stay")
    assert state(host) == before
    assert len(refused(host, "outputs.create")) == audited + 1


@pytest.mark.parametrize("cell", [[1, 2], {"k": 1}])
def test_a_table_by_a_column_of_lists_is_refused_not_a_500(kernel, desk, cell) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    data["tags"] = [cell] * len(data)
    before, audited = state(host), len(refused(host, "outputs.create"))
    with pytest.raises(InvalidInput, match="tags: holds values that cannot be grouped"):
        project.tables.crosstab(data, "tags", "age_band")
    assert state(host) == before
    assert len(refused(host, "outputs.create")) == audited + 1


@pytest.mark.parametrize("aggfunc", ["sum", "max", "mode"])
def test_unsigned_values_past_int64_are_tabulated_not_a_500(kernel, desk, aggfunc) -> None:
    import numpy as np

    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    data["huge"] = np.full(len(data), 2**64 - 1, dtype=np.uint64)
    out = project.tables.groupby_agg(data, "length_of_stay", "huge", aggfunc)
    assert out.kind == "table" and out.safe_table.isna().any().any()  # small groups withheld, not a crash


@pytest.mark.parametrize(("method", "options"), [
    ("crosstab", {"index": "half", "columns": "age_band"}),
    ("groupby_agg", {"by": "half", "values": "half", "aggfunc": "min"}),
    ("pivot_table", {"index": "half", "values": "cost", "aggfunc": "sum"}),
])
def test_columns_pandas_cannot_tabulate_are_refused_not_a_500(kernel, desk, method, options) -> None:
    import numpy as np

    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    data["half"] = data["length_of_stay"].astype(np.float16)
    before, audited = state(host), len(refused(host, "outputs.create"))
    try:  # the wire may widen float16 on the way; either a table or a refusal, never a 500
        out = getattr(project.tables, method)(data, **options)
    except InvalidInput as error:
        assert "data: these columns cannot be tabulated as asked" in str(error)
        assert state(host) == before
        assert len(refused(host, "outputs.create")) == audited + 1
    else:
        assert out.kind == "table"


@pytest.mark.parametrize("epsilon", [1e-300, 5e-324, 1e-7])
def test_a_dp_query_at_a_vanishing_epsilon_is_refused_not_a_500(kernel, desk, epsilon) -> None:
    host = desk(ADMIN)
    desk(OWNER).dp.set_budget(DATASET, epsilon=10.0)
    project = kernel(ANALYST).project(PROJECT)
    before = state(host)
    with pytest.raises(InvalidInput, match=r"epsilon: .* is below 1e-06"):
        project.dp.count(DATASET, epsilon=epsilon)
    assert state(host) == before


def test_dp_bounds_whose_width_overflows_are_refused_not_a_500(kernel, desk) -> None:
    desk(OWNER).dp.set_budget(DATASET, epsilon=10.0)
    project = kernel(ANALYST).project(PROJECT)
    for bounds in [(-1e308, 1e308), (0.0, 1e300)]:
        with pytest.raises(InvalidInput, match=r"bounds: .* must be finite numbers no larger than 1e\+15"):
            project.dp.quantile(DATASET, "cost", 0.5, bounds=bounds, epsilon=0.1)
    assert project.dp.quantile(DATASET, "cost", 0.5, bounds=(0.0, 50_000.0), epsilon=0.1).kind == "dp"


# -- a second hostile re-run -------------------------------------------------------------------------------------
# The text screen joined the groups of a split identifier only across one separator of a fixed set, and read
# groups of hexadecimal only from a word boundary: an NHS number split by other symbols or letters, in groups of
# another script's digits, a pseudonym split by ';' '+' or '|' or glued to a letter (as a categorical level is in a
# model's parameter name, "C(g)[T.x2ace...]"), a hyphenated or mixed-case postcode and a hyphenated National
# Insurance number all reached a request; so did a pseudonym written with a Cyrillic "а" or "с", which a checker
# cannot tell from the Latin letter.
SECOND_DODGES = [("943x476x5919", "NHS number"), ("943;476;5919", "NHS number"), ("943+476+5919", "NHS number"),
                 ("943|476|5919", "NHS number"), ("943(476)5919", "NHS number"), ("943 - 476 - 5919", "NHS number"),
                 ("943  476  5919", "NHS number"), ("\u0669\u0664 \u0663\u0664\u0667 \u0666\u0665\u0669 \u0661\u0669",
                                                    "NHS number"),
                 ("2ace504c92;bf79c60fd4", "pseudonym"), ("2ace504c92 + bf79c60fd4", "pseudonym"),
                 ("2ace504c92|bf79c60fd4", "pseudonym"), ("C(g)[T.x2ace504c92;bf79c60fd4]", "pseudonym"),
                 ("2\u0430ce504c92bf79c60fd4", "pseudonym"), ("2\u0430ce504c92 bf79\u044160fd4", "pseudonym"),
                 ("SW1A-1AA", "postcode"), ("Sw1a 1aA", "postcode"), ("AB-12-34-56-C", "National Insurance")]


@pytest.mark.parametrize(("text", "what"), SECOND_DODGES)
def test_identifiers_split_by_any_symbol_are_found(text: str, what: str) -> None:
    found = identifier_in_text(f"see {text} here", 6)
    assert found is not None and what in found[0]


def test_a_model_whose_level_or_column_hides_an_identifier_never_reaches_a_request(kernel, desk) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    hidden = data.assign(band=data["age_band"].astype(str).where(data["length_of_stay"] > 1,
                                                                 "x2ace504c92;bf79c60fd4"))
    model = project.tables.ols(hidden, "cost ~ C(band)", name="Cost by band")
    assert any("2ace504c92" in str(label) for label in model.table.index)
    renamed = data.rename(columns={"length_of_stay": "943;476;5919"})
    spec = project.tables.ols(renamed, "cost ~ `943;476;5919`", name="Cost model")
    request = project.output_requests.create("Costs", context={"purpose": "Planning"})
    before, audited = state(host), len(refused(host, "requests.update"))
    with pytest.raises(DisclosureRisk, match="looks like a pseudonym split into parts") as error:
        request.add(model)
    assert "bf79c60fd4" not in str(error.value)
    with pytest.raises(DisclosureRisk, match="looks like an NHS number"):
        request.add(spec)
    assert state(host) == before
    assert len(refused(host, "requests.update")) == audited + 2


# A categorical column turns each row of a model's data into up to 1,000 columns of its design matrix: a frame of
# 50,000 rows with a text column of 1,000 values (a body under a megabyte) made the service build a 400 MB matrix
# and statsmodels take gigabytes and minutes of CPU to fit it. A design matrix is now at most 50 million cells,
# and rows × columns² (the cost of the fit) at most 5 × 10^9, both checked before anything is allocated.
@pytest.mark.parametrize(("rows", "levels", "message"), [
    (60_000, 1_000, "cells; at most 50,000,000"),
    (9_000, 1_000, "more work than one model may take"),
])
def test_a_model_whose_design_matrix_would_take_gigabytes_is_refused_before_it_is_built(
        kernel, desk, rows, levels, message) -> None:
    import numpy as np

    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    rng = np.random.default_rng(0)
    wide = data.iloc[:0].reindex(range(rows)).assign(
        cost=rng.normal(size=rows), band=[f"b{i}" for i in np.arange(rows) % levels])
    wide.attrs.update(data.attrs)
    before, audited = state(host), len(refused(host, "outputs.create"))
    with pytest.raises(InvalidInput, match=message):
        project.tables.ols(wide[["cost", "band"]], "cost ~ C(band)")
    assert state(host) == before
    assert len(refused(host, "outputs.create")) == audited + 1
