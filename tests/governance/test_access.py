"""Access requests, owner decisions, grants and governed loads: the road and every refusal on it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from factories import patients
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
    grant,
    snapshot,
)
from sqlalchemy import func, select, update

from workbench.db.schema import access_requests, audit_events, data_loads, grants, people, training_records
from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.db  # also on PostgreSQL


YESTERDAY = dt.date.today() - dt.timedelta(days=1)
NON_IDENTIFIERS = ["admission_id", "age_band", "length_of_stay", "cost", "admitted"]


def last_event(ws) -> dict:
    with ws._ctx.db.read() as conn:
        return dict(conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(1)).mappings().one())


def refused(ws, operation, error, message: str, outcome: str = "denied") -> None:
    """``operation`` fails with ``error`` matching ``message``, changes nothing and is audited."""
    before = snapshot(ws)
    with ws._ctx.db.read() as conn:
        events = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
    result = None
    with pytest.raises(error, match=message):
        result = operation()
    assert result is None
    assert snapshot(ws) == before
    with ws._ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == events + 1
    event = last_event(ws)
    assert event["outcome"] == outcome and event["actor"] == ws.user


def db_update(ws, statement) -> None:
    with ws._ctx.db.write() as conn:
        conn.execute(statement)


# -- the road ------------------------------------------------------------------------------------------------
def test_request_decide_load(governed) -> None:
    analyst, owner = governed(ANALYST), governed(OWNER)
    project = analyst.project(PROJECT)
    request = project.request_access(DATASET, ["age_band", "cost", "length_of_stay", "nhs_number"],
                                     justification="Cost of stays by age for the winter pressures analysis")
    assert request["status"] == "pending" and request["requested_by"] == ANALYST
    waiting = owner.owner.requests()
    assert list(waiting["id"]) == [request["id"]] and waiting.columns[0] == "id"
    assert analyst.access.mine().set_index("id").loc[request["id"], "status"] == "pending"
    assert governed(OTHER_OWNER).owner.requests().empty

    decided = owner.owner.decide(request["id"], "approve", columns=["age_band", "cost", "nhs_number"],
                                 conditions="Aggregate outputs only", reason="Fewer columns are enough")
    assert decided["status"] == "approved" and decided["grant_id"] and decided["expires"] == dt.date(2099, 12, 31)
    held = project.grants()
    assert held.loc[0, "columns"] == ["age_band", "cost"] and held.loc[0, "state"] == "current"  # no identifier
    assert owner.owner.requests().empty and not owner.owner.requests(status=None).empty

    frame = project.load(DATASET)
    assert list(frame.columns) == ["age_band", "cost"] and len(frame) == 100
    assert sorted(frame["cost"]) == sorted(patients()["cost"])  # every row, in the project's own order
    assert list(project.load(DATASET, ["cost"]).columns) == ["cost"]
    event = last_event(analyst)
    assert (event["action"], event["outcome"]) == ("data.load", "ok") and event["detail"]["columns"] == ["cost"]
    with analyst._ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(data_loads)).scalar_one() == 2


def test_identifiers_need_a_gateway_that_permits_them_and_an_explicit_tick(governed) -> None:
    owner = governed(OWNER)
    research = governed(ANALYST).project(PROJECT).request_access(DATASET, justification="All columns please")
    refused(owner, lambda: owner.owner.decide(research["id"], "approve", identifiers=["nhs_number"]),
            AccessDenied, "dea-2017-research does not permit direct identifiers")
    planning = grant(governed, OTHER_PROJECT, identifiers=["nhs_number"])
    frame = governed(ANALYST).project(OTHER_PROJECT).load(DATASET)
    assert "surname" not in frame.columns  # requested, not ticked: withheld
    # the person index linked the patients at registration: their person_id is a record identifier, granted with
    # the rest and loaded as the project's own key
    assert list(frame.columns) == ["nhs_number", *NON_IDENTIFIERS, "person_id"]
    raw = patients()["nhs_number"]
    assert not set(frame["nhs_number"]) & set(raw)
    assert frame["nhs_number"].str.fullmatch(r"[0-9a-f]{20}").all()
    assert frame.groupby("nhs_number").size().tolist() == raw.groupby(raw).size().tolist()  # same person, same key
    assert planning["status"] == "approved"


def test_pseudonyms_are_stable_in_a_project_and_differ_across_projects(governed) -> None:
    from factories import patient_record

    owner, admin = governed(OWNER), governed(ADMIN)
    owner.catalogue.register(patient_record(localId="dhsc.outpatients",
                                            identifier="https://data.example.invalid/outpatients"),
                             patients(60, seed=2))
    admin.create_project("p-gamma", "Gamma", "Second planning project", mission=5,
                         legal_gateway="nhs-act-2006-s251", lead=ANALYST, start="2026-01-01", end="2099-12-31",
                         status="active")
    analyst = governed(ANALYST)
    for project, dataset in ((OTHER_PROJECT, DATASET), (OTHER_PROJECT, "dhsc.outpatients"), ("p-gamma", DATASET)):
        request = analyst.project(project).request_access(dataset, ["nhs_number", "cost"], justification="Linkage")
        owner.owner.decide(request["id"], "approve", identifiers=["nhs_number"])
    planning = analyst.project(OTHER_PROJECT)
    first, again = planning.load(DATASET), planning.load(DATASET)
    assert first.equals(again)
    other = planning.load("dhsc.outpatients")
    raw_a, raw_b = patients(), patients(60, seed=2)  # rows come in the project's order: align them by cost
    by_raw = dict(zip(raw_a["nhs_number"], first.set_index("cost").loc[raw_a["cost"], "nhs_number"], strict=True))
    theirs = other.set_index("cost").loc[raw_b["cost"], "nhs_number"]
    assert all(by_raw[r] == p for r, p in zip(raw_b["nhs_number"], theirs, strict=True))  # linkage works
    gamma = analyst.project("p-gamma").load(DATASET)
    assert not set(gamma["nhs_number"]) & set(first["nhs_number"])

    # the key is never handed out: not in frames, results, audit details or any public attribute
    key = analyst._ctx.secrets["pseudonymisation_key"]
    from workbench.governance.pseudonyms import project_key

    derived = project_key(bytes.fromhex(key), OTHER_PROJECT).hex()
    seen = [first.to_csv(), other.to_csv(), repr(planning.grants()), repr(planning.requests())]
    with analyst._ctx.db.read() as conn:
        seen += [repr(row) for row in conn.execute(select(audit_events))]
    for obj in (analyst, planning, analyst.owner, analyst.access):
        seen += [repr(getattr(obj, name, None)) for name in dir(obj) if not name.startswith("_")]
    assert not [text for text in seen if key in text or derived in text]


# -- refusals ------------------------------------------------------------------------------------------------
def test_loading_without_a_grant_or_outside_it(governed) -> None:
    analyst = governed(ANALYST)
    project = analyst.project(PROJECT)
    refused(analyst, lambda: project.load(DATASET), AccessDenied,
            rf"holds no grant for {DATASET}; request access .* its owner \({OWNER}\) decides")
    grant(governed, columns=["age_band", "cost"])
    refused(analyst, lambda: project.load(DATASET, ["cost", "length_of_stay"]), AccessDenied,
            r"column\(s\) length_of_stay are outside project p-alpha's grant .* \(granted: age_band, cost\)")
    refused(analyst, lambda: project.load(DATASET, ["nope"]), InvalidInput, f"nope not in {DATASET}",
            outcome="refused")
    refused(analyst, lambda: project.load("dhsc.nothing"), NotFound, "No dataset 'dhsc.nothing'",
            outcome="refused")
    for bad in ("../secrets", "dhsc/admissions", "dhsc..admissions"):
        refused(analyst, lambda bad=bad: project.load(bad), InvalidInput, "path separator or '..'",
                outcome="refused")
        refused(analyst, lambda bad=bad: project.request_access(bad, justification="x"), InvalidInput,
                "path separator or '..'", outcome="refused")


def test_a_grant_belongs_to_its_project(governed) -> None:
    grant(governed, OTHER_PROJECT)  # only the planning project holds a grant
    second = governed(SECOND_ANALYST)  # member of OTHER_PROJECT only
    refused(second, lambda: second.project(PROJECT).load(DATASET), AccessDenied,
            f"not a member of project {PROJECT}; its lead \\({ANALYST}\\)")
    analyst = governed(ANALYST)  # member of both
    refused(analyst, lambda: analyst.project(PROJECT).load(DATASET), AccessDenied, "holds no grant")
    assert not analyst.project(OTHER_PROJECT).load(DATASET).empty


def test_expired_and_revoked_grants(governed) -> None:
    decided = grant(governed)
    analyst, owner = governed(ANALYST), governed(OWNER)
    project = analyst.project(PROJECT)
    db_update(owner, update(grants).where(grants.c.id == decided["grant_id"]).values(expires=YESTERDAY))
    refused(analyst, lambda: project.load(DATASET), AccessDenied, f"grant for {DATASET} expired on {YESTERDAY}")
    db_update(owner, update(grants).values(expires=dt.date(2099, 1, 1)))
    assert not project.load(DATASET).empty
    refused(owner, lambda: owner.owner.revoke(decided["grant_id"], reason=" "), InvalidInput, "reason",
            outcome="refused")
    revoked = owner.owner.revoke(decided["grant_id"], reason="Project under review")
    assert revoked["state"] == "revoked"
    refused(analyst, lambda: project.load(DATASET), AccessDenied, "was revoked on")
    refused(owner, lambda: owner.owner.revoke(decided["grant_id"], reason="again"), Conflict, "already revoked",
            outcome="refused")


def test_lapsed_accreditation_and_training(governed) -> None:
    grant(governed)
    analyst, admin = governed(ANALYST), governed(ADMIN)
    project = analyst.project(PROJECT)
    db_update(admin, update(people).where(people.c.username == ANALYST).values(accredited_until=YESTERDAY))
    refused(analyst, lambda: project.load(DATASET), AccessDenied,
            rf"accreditation of {ANALYST} expired on {YESTERDAY}; an admin can renew it")
    admin.people.accredit(ANALYST, status="suspended")
    refused(analyst, lambda: project.load(DATASET), AccessDenied, r"not an accredited researcher \(accreditation: "
            "suspended\\)")
    admin.people.accredit(ANALYST, until="2099-01-01")
    db_update(admin, update(training_records).values(expires=YESTERDAY))
    refused(analyst, lambda: project.load(DATASET), AccessDenied,
            "no current training record for safe-researcher; a trainer or admin records it")
    governed("tara.trainer").people.record_training(ANALYST, "safe-researcher", completed=dt.date.today())
    assert not project.load(DATASET).empty


def test_closed_suspended_and_ended_projects_can_only_be_read(governed) -> None:
    grant(governed)
    admin, analyst = governed(ADMIN), governed(ANALYST)
    for change, message in (({"status": "closed"}, "is closed and can only be read"),
                            ({"status": "suspended"}, "is suspended and can only be read"),
                            ({"status": "active", "end": "2026-01-31"}, "ended on 2026-01-31 and can only be read")):
        admin.project(PROJECT).update(**change)
        project = analyst.project(PROJECT)
        refused(analyst, lambda project=project: project.load(DATASET), AccessDenied, message)
        refused(analyst, lambda project=project: project.request_access(DATASET, justification="More"),
                AccessDenied, message)
        refused(analyst, lambda project=project: project.save(pd.DataFrame({"a": [1]}), "x", derived_from=[DATASET]),
                AccessDenied, message)
        assert project.title == "Alpha" and not project.grants().empty  # still readable


def test_who_may_decide(governed) -> None:
    request = governed(ANALYST).project(PROJECT).request_access(DATASET, justification="Winter pressures")
    analyst = governed(ANALYST)
    refused(analyst, lambda: analyst.owner.decide(request["id"], "approve"), AccessDenied,
            "nobody may decide their own request")
    for user in (OTHER_OWNER, CHECKER, ADMIN):
        ws = governed(user)
        refused(ws, lambda ws=ws: ws.owner.decide(request["id"], "approve"), AccessDenied,
                f"only the dataset's data owner \\({OWNER}\\) or a delegate may decide")
    # an owner who is also a project member may not approve their own request; a delegate may
    admin, owner = governed(ADMIN), governed(OWNER)
    admin.people.accredit(OWNER, until="2099-01-01")
    admin.project(OTHER_PROJECT).add_member(OWNER, "analyst")
    own = owner.project(OTHER_PROJECT).request_access(DATASET, ["cost"], justification="My own analysis")
    refused(owner, lambda: owner.owner.decide(own["id"], "approve"), AccessDenied,
            "nobody may decide their own request")
    assert owner.owner.delegate(DATASET, CHECKER) == [CHECKER]
    checker = governed(CHECKER)
    assert set(checker.owner.requests()["id"]) == {request["id"], own["id"]}
    assert checker.owner.decide(own["id"], "refuse", reason="Use the aggregate table")["status"] == "refused"
    refused(checker, lambda: checker.owner.delegate(DATASET, OTHER_OWNER), AccessDenied,
            "only the dataset's data owner")
    refused(owner, lambda: owner.owner.decide(own["id"], "approve"), AccessDenied, "their own request")
    assert owner.owner.decide(request["id"], "refuse", reason="Not this year")["reason"] == "Not this year"
    refused(owner, lambda: owner.owner.decide(request["id"], "approve"), Conflict, "already refused",
            outcome="refused")


@pytest.mark.parametrize(("options", "message"), [
    ({"columns": ["cost", "postcode"]}, f"postcode not in {DATASET}"),
    ({"columns": ["cost", "admitted"]}, "admitted were not requested"),
    ({"identifiers": ["cost"]}, "not requested direct identifiers"),
    ({"identifiers": "nhs_number"}, "give a list of column names"),
    ({"expires": "2001-01-01"}, "in the past"),
    ({"expires": "2199-01-01"}, "after the project ends"),
    ({"expires": "soon"}, "not a date"),
    ({"columns": []}, "the list is empty"),
    ({"columns": ["nhs_number"]}, "nothing would be granted"),
])
def test_bad_decisions_change_nothing(governed, options, message) -> None:
    request = governed(ANALYST).project(PROJECT).request_access(DATASET, ["cost", "age_band", "nhs_number"],
                                                                 justification="Costs by age")
    owner = governed(OWNER)
    refused(owner, lambda: owner.owner.decide(request["id"], "approve", **options), InvalidInput, message,
            outcome="refused")


def test_bad_requests_change_nothing(governed) -> None:
    analyst = governed(ANALYST)
    project = analyst.project(PROJECT)
    refused(analyst, lambda: project.request_access(DATASET, justification="  "), InvalidInput, "justification",
            outcome="refused")
    refused(analyst, lambda: project.request_access(DATASET, "cost", justification="x"), InvalidInput,
            "list of column names", outcome="refused")
    refused(analyst, lambda: analyst.access.request("p-nothing", DATASET, justification="x"), NotFound,
            "No project 'p-nothing'", outcome="refused")
    project.request_access(DATASET, justification="First")
    refused(analyst, lambda: project.request_access(DATASET, justification="Again"), Conflict, "still pending",
            outcome="refused")
    owner = governed(OWNER)
    refused(owner, lambda: owner.owner.decide(999, "approve"), NotFound, "No access request 999",
            outcome="refused")
    with pytest.raises(InvalidInput, match="decision"):
        owner.owner.decide(1, "maybe")
    with pytest.raises(InvalidInput, match="request_id"):
        owner.owner.decide("1; drop table", "approve")


# -- project data space and usage -----------------------------------------------------------------------------
def test_save_read_lineage_and_usage_report(governed) -> None:
    grant(governed)
    analyst = governed(ANALYST)
    project = analyst.project(PROJECT)
    frame = project.load(DATASET)
    summary = frame.groupby("age_band", dropna=False)["cost"].mean().reset_index()
    saved = project.save(summary, "cost_by_age", derived_from=[DATASET])
    assert saved == {"name": "cost_by_age", "version": 1, "rows": len(summary), "sources": [DATASET]}
    again = project.save(summary.head(2), "cost_by_age", derived_from=["cost_by_age"])
    assert again["version"] == 2 and again["sources"] == [DATASET]
    assert len(project.read("cost_by_age")) == 2 and project.read("cost_by_age", 1).equals(summary)
    assert list(project.datasets()["version"]) == [1, 2]

    second = governed(SECOND_ANALYST)  # not a member of PROJECT
    refused(second, lambda: second.project(PROJECT).read("cost_by_age"), AccessDenied, "not a member")
    refused(second, lambda: second.project(PROJECT).datasets(), AccessDenied, "not a member")
    refused(analyst, lambda: project.read("nothing"), NotFound, "no saved frame 'nothing'", outcome="refused")
    refused(analyst, lambda: project.read("cost_by_age", 7), InvalidInput, "versions 1 to 2", outcome="refused")
    refused(analyst, lambda: project.save(summary, "x", derived_from=[]), InvalidInput, "derived_from",
            outcome="refused")
    refused(analyst, lambda: project.save(summary, "x", derived_from=["dhsc.other"]), InvalidInput,
            "neither a dataset granted", outcome="refused")
    refused(analyst, lambda: project.save(summary, "../x", derived_from=[DATASET]), InvalidInput, "name",
            outcome="refused")
    refused(analyst, lambda: project.save([1, 2], "x", derived_from=[DATASET]), InvalidInput, "DataFrame",
            outcome="refused")

    report = governed(OWNER).owner.usage(DATASET)
    assert report.grants.loc[0, "project_id"] == PROJECT and report.grants.loc[0, "purpose"] == "Admissions research"
    assert report.grants.loc[0, "legal_gateway"] == "Research power"
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert report.loads.to_dict("records") == [{"project_id": PROJECT, "month": month, "version": 1, "loads": 1,
                                                "rows": 100, "people": 1}]
    assert list(report.derived["version"]) == [1, 2] and report.releases.empty
    assert f"Usage of {DATASET}" in report._repr_html_()
    for user in (ANALYST, OTHER_OWNER, CHECKER):
        ws = governed(user)
        refused(ws, lambda ws=ws: ws.owner.usage(DATASET), AccessDenied, "see how it is used")
    admin = governed(ADMIN)
    refused(admin, lambda: admin.owner.usage("dhsc.nothing"), NotFound, "No dataset", outcome="refused")
    assert not admin.owner.usage(DATASET).grants.empty


def test_access_settings(governed) -> None:
    admin = governed(ADMIN)
    assert admin.access.settings()["required_training"] == ["safe-researcher"]
    admin.access.update_settings(required_training=["safe-researcher", "linkage-basics"])
    grant(governed)
    analyst = governed(ANALYST)
    refused(analyst, lambda: analyst.project(PROJECT).load(DATASET), AccessDenied,
            "no current training record for linkage-basics")
    for bad in ({"required_training": "safe-researcher"}, {"twin_min_count": 0}, {"colour": "red"}):
        with pytest.raises(InvalidInput):
            admin.access.update_settings(**bad)
    refused(analyst, lambda: analyst.access.update_settings(twin_min_count=5), AccessDenied, "roles admin")


def test_people_accreditation_and_training_management(governed) -> None:
    admin = governed(ADMIN)
    person = admin.people.accredit(CHECKER, until="2030-01-01")
    assert (person["accreditation"], person["accredited_until"]) == ("accredited", dt.date(2030, 1, 1))
    training = admin.people.training(ANALYST)
    assert training.loc[0, "course"] == "safe-researcher" and bool(training.loc[0, "current"])
    for call, error, message in (
        (lambda: admin.people.accredit(CHECKER), InvalidInput, "until"),
        (lambda: admin.people.accredit(CHECKER, until="2001-01-01"), InvalidInput, "in the past"),
        (lambda: admin.people.accredit(CHECKER, until="2030-01-01", status="gold"), InvalidInput, "status"),
        (lambda: admin.people.record_training(ANALYST, "Safe Researcher", completed="2026-01-01"), InvalidInput,
         "course code"),
        (lambda: admin.people.record_training(ANALYST, "safe-researcher", completed="2026-01-05"), Conflict,
         "already has"),
        (lambda: admin.people.record_training(ANALYST, "sdc", completed="2999-01-01"), InvalidInput, "future"),
    ):
        before = snapshot(admin)
        with pytest.raises(error, match=message):
            call()
        assert snapshot(admin) == before
    refused(admin, lambda: admin.people.accredit("no.body", until="2030-01-01"), NotFound, "No person 'no.body'",
            outcome="refused")
    refused(admin, lambda: admin.project(PROJECT).add_member("no.body", "analyst"), NotFound, "No person",
            outcome="refused")
    analyst = governed(ANALYST)
    refused(analyst, lambda: analyst.people.accredit(ANALYST, until="2030-01-01"), AccessDenied, "roles admin")
    refused(analyst, lambda: analyst.people.record_training(ANALYST, "sdc", completed="2026-01-01"), AccessDenied,
            "roles admin, trainer")
    admin.people.set_roles(CHECKER, ["output_checker", "analyst"])
    assert admin.people.get(CHECKER)["roles"] == ["analyst", "output_checker"]
    with pytest.raises(InvalidInput, match="own admin role"):
        admin.people.set_roles(ADMIN, ["analyst"])


def test_project_membership_and_status_management(governed) -> None:
    admin = governed(ADMIN)
    project = admin.project(PROJECT).add_member(CHECKER, "reviewer")
    assert project.members[CHECKER] == "reviewer"
    project.add_member(SECOND_ANALYST, "lead")
    assert project.lead == SECOND_ANALYST and project.members[ANALYST] == "analyst"
    with pytest.raises(Conflict, match="make someone else lead"):
        project.remove_member(SECOND_ANALYST)
    project.remove_member(CHECKER)
    assert CHECKER not in project.members
    with pytest.raises(InvalidInput, match="role"):
        project.add_member(CHECKER, "boss")
    with pytest.raises(InvalidInput, match="status"):
        project.update(status="finished")
    with pytest.raises(InvalidInput, match="before the project starts"):
        project.update(end="2020-01-01")
    analyst = governed(ANALYST)
    refused(analyst, lambda: analyst.project(PROJECT).update(status="active"), AccessDenied, "roles admin")
    with analyst._ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(access_requests)).scalar_one() == 0


def test_synthetic_twin_for_any_reader_without_a_grant(governed) -> None:
    from factories import patient_record

    owner = governed(OWNER)
    data = patients(300)
    columns = patient_record()["columns"]
    bounds = {"length_of_stay": (0, 60), "cost": (0, 20000)}
    for column in columns:
        if column["name"] in bounds:
            column["lowerBound"], column["upperBound"] = bounds[column["name"]]
        if column["name"] == "admitted":
            column["earliestDate"], column["latestDate"] = "2025-01-01", "2025-12-31"
    owner.catalogue.register(patient_record(columns=columns), data)
    twin = governed(CHECKER).catalogue.twin(DATASET)  # no project, no grant
    assert list(twin.columns) == [*data.columns, "person_id"]  # the index linked it at registration
    assert dict(twin.dtypes.astype(str)) == {**dict(data.dtypes.astype(str)), "person_id": "string"}
    assert not set(twin["nhs_number"]) & set(data["nhs_number"])
    assert twin.merge(data, how="inner").empty  # no real row
    assert governed(ANALYST).catalogue.twin(DATASET).equals(twin)  # kept, and the same for everyone
    spent = owner.dp.budgets(DATASET).set_index("scope").loc["synthetic twins", "spent"]
    assert spent == pytest.approx(0.25)
    governed(ADMIN).access.update_settings(twin_min_count=3)
    assert len(governed(ANALYST).catalogue.twin(DATASET)) == len(twin)  # redrawn at the new threshold...
    assert owner.dp.budgets(DATASET).set_index("scope").loc["synthetic twins", "spent"] == spent  # ...for free
    analyst = governed(ANALYST)
    with pytest.raises(NotFound, match="No dataset"):
        analyst.catalogue.twin("dhsc.nothing")
    with pytest.raises(InvalidInput, match="path separator"):
        analyst.catalogue.twin("../secrets")
    from factories import record

    owner.catalogue.register(record(localId="dhsc.metadata_only", identifier="https://data.example.invalid/m"))
    with pytest.raises(NotFound, match="without data"):
        analyst.catalogue.twin("dhsc.metadata_only")


def test_a_notebook_refusal_names_where_to_look_once(governed) -> None:
    """A refusal whose message already says where to look names the Python call inside that sentence, not again
    after it: "your access requests list them (ws.access.mine())." — the lab's message has no call at all."""
    analyst, owner = governed(ANALYST), governed(OWNER)
    refusals = [(lambda: analyst.access.get(999), "ws.access.mine()", "list them"),
                (lambda: owner.owner.decide(999, "approve"), "ws.owner.requests()", "list them"),
                (lambda: owner.owner.revoke(999, reason="Ended"), "ws.owner.grants(dataset_id)", "lists its grants"),
                (lambda: analyst.access.request("p-nothing", DATASET, justification="Needed"), "ws.projects()",
                 "list of projects"),
                (lambda: analyst.access.request(PROJECT, "dhsc.nothing", justification="Needed"),
                 "ws.catalogue.search(...)", "find its id")]
    for call, hint, words in refusals:
        with pytest.raises(NotFound) as caught:
            call()
        text = str(caught.value)
        assert text.count(hint) == 1 and text.endswith(f"{words} ({hint})."), text
        assert text.count(words) == 1 and text.count("lists them") + text.count("list them") <= 1, text
        assert "ws." not in caught.value.lab_message and caught.value.lab_message.endswith(f"{words}.")
