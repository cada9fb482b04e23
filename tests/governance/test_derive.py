"""``project.derive``: the workbench makes a frame from a granted dataset or a saved frame by spec and keeps it in
the project, made by the workbench, with its exact lineage, its person key (pseudonymised) and its spec; the rows
are those ``project.load`` would give, filtered; refusals change nothing and are audited."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import patients
from helpers import ANALYST, DATASET, OTHER_PROJECT, OWNER, PROJECT, events, grant, snapshot
from sqlalchemy import select

from workbench.db.schema import project_datasets
from workbench.errors import AccessDenied, InvalidInput, NotFound


def saved_row(ws, name: str) -> dict:
    with ws._ctx.db.read() as conn:
        return dict(conn.execute(select(project_datasets).where(project_datasets.c.name == name)
                                 .order_by(project_datasets.c.version.desc())).mappings().first())


@pytest.fixture
def keyed(governed):
    """OTHER_PROJECT (a gateway permitting identifiers) holds DATASET with the NHS number as a pseudonym."""
    grant(governed, OTHER_PROJECT, ["nhs_number", "age_band", "cost", "admitted"], identifiers=["nhs_number"])
    return governed


@pytest.mark.db  # also on PostgreSQL: the spec and lineage are stored as JSON
def test_a_derived_frame_is_the_load_filtered_made_by_the_workbench(kernel, desk) -> None:
    grant(desk, OTHER_PROJECT, ["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    project = kernel(ANALYST).project(OTHER_PROJECT)
    saved = project.derive(DATASET, columns=["nhs_number", "age_band", "cost"],
                           where={"age_band": ["18-64", "65+"], "cost": {">=": 500}}, new_name="adults")
    loaded = project.load(DATASET, ["nhs_number", "age_band", "cost"])
    expected = loaded[loaded["age_band"].isin(["18-64", "65+"]) & (loaded["cost"] >= 500)].reset_index(drop=True)
    assert saved == {"name": "adults", "version": 1, "rows": len(expected), "sources": [DATASET]}
    frame = project.read("adults")
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert not set(frame["nhs_number"]) & set(patients()["nhs_number"])  # pseudonyms, never the raw numbers
    row = saved_row(desk(ANALYST), "adults")
    assert (row["made_by"], row["person_key"], row["sources"], row["derived_from"]) == (
        "workbench", "nhs_number", [DATASET], [DATASET])
    assert row["spec"]["source"] == DATASET and row["spec"]["columns"] == ["nhs_number", "age_band", "cost"]
    assert row["spec"]["where"] == {"age_band": ["18-64", "65+"], "cost": {">=": 500}}
    assert len(row["spec"]["sha256"]) == 64
    audited = [e for e in events(desk(ANALYST)) if e["action"] == "data.derive"]
    assert [(e["actor"], e["outcome"]) for e in audited] == [(ANALYST, "ok")]


def test_dropping_the_key_drops_the_person_key_and_deriving_from_a_saved_frame_keeps_its_maker(keyed) -> None:
    analyst = keyed(ANALYST)
    project = analyst.project(OTHER_PROJECT)
    project.derive(DATASET, columns=["age_band", "cost"], new_name="no_key")
    assert saved_row(analyst, "no_key")["person_key"] is None
    project.derive(DATASET, new_name="all_granted")
    assert saved_row(analyst, "all_granted")["person_key"] == "nhs_number"
    project.derive("all_granted", columns=["nhs_number", "cost"], where={"age_band": "65+"}, new_name="older")
    older = saved_row(analyst, "older")
    assert (older["made_by"], older["person_key"], older["sources"]) == ("workbench", "nhs_number", [DATASET])
    assert older["spec"]["kind"] == "saved" and older["spec"]["version"] == 1
    project.save(project.read("older"), "mine", derived_from=["older"])
    project.derive("mine", columns=["nhs_number", "cost"], new_name="still_mine")
    assert (saved_row(analyst, "still_mine")["made_by"], saved_row(analyst, "still_mine")["person_key"]) == (
        "analyst", None)


REFUSED = [
    ("unknown source", dict(source="dhsc.nothing", new_name="x"), NotFound, "No dataset"),
    ("unknown column", dict(source=DATASET, columns=["ward"], new_name="x"), InvalidInput, "ward"),
    ("filter on an identifier", dict(source=DATASET, where={"nhs_number": "9000000001"}, new_name="x"),
     InvalidInput, "direct identifier"),
    ("unsupported operator", dict(source=DATASET, where={"cost": {"~": 1}}, new_name="x"), InvalidInput,
     "range takes only"),
    ("value of the wrong type", dict(source=DATASET, where={"cost": "high"}, new_name="x"), InvalidInput,
     "not such a value"),
    ("bad name", dict(source=DATASET, new_name="no spaces allowed"), InvalidInput, "new_name"),
    ("column outside the grant", dict(source=DATASET, columns=["length_of_stay"], new_name="x"), AccessDenied,
     "outside project p-beta's grant"),
]


@pytest.mark.parametrize(("case", "arguments", "error", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refusals_change_nothing_and_are_audited(keyed, case, arguments, error, message) -> None:
    analyst = keyed(ANALYST)
    state, seen = snapshot(analyst), len(events(analyst))
    with pytest.raises(error, match=message):
        analyst.project(OTHER_PROJECT).derive(**arguments)
    assert snapshot(analyst) == state
    assert [(e["action"], e["outcome"]) for e in events(analyst)[seen:]] == [
        ("data.derive", "denied" if error is AccessDenied else "refused")]


def test_a_project_without_a_grant_derives_nothing(keyed) -> None:
    analyst = keyed(ANALYST)
    state = snapshot(analyst)
    with pytest.raises(AccessDenied, match="holds no grant"):
        analyst.project(PROJECT).derive(DATASET, new_name="x")
    with pytest.raises(AccessDenied, match="not a member"):
        keyed(OWNER).project(OTHER_PROJECT).derive(DATASET, new_name="x")
    assert snapshot(analyst) == state
