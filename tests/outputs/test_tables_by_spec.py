"""Tables and models by spec: ``p.tables.<method>("<source>", ...)`` computed by the workbench from a source named
by text (embedded and through the service), recorded as ``computed`` with their origin; refusals record nothing
and are audited."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest
from factories import admissions, patient_record, patients, record
from helpers import ANALYST, DATASET, OTHER_OWNER, OWNER, PROJECT, events, snapshot
from sqlalchemy import select, update

from workbench.db.schema import grants, outputs
from workbench.errors import AccessDenied, InvalidInput, NotFound

ADMISSIONS = "dhsc.admissions"  # one row per admission, no person key: rows are the unit
GRANTED = ["admission_id", "age_band", "cost", "admitted"]


@pytest.fixture
def spec_desk(desk):
    """``desk`` plus OTHER_OWNER's admissions (no person key), granted to PROJECT without length_of_stay."""
    desk(OTHER_OWNER).catalogue.register(record(localId=ADMISSIONS), admissions(400))
    request = desk(ANALYST).project(PROJECT).request_access(ADMISSIONS, GRANTED, justification="Costs by age")
    desk(OTHER_OWNER).owner.decide(request["id"], "approve")
    return desk


def origin_of(ws, output) -> dict:
    number = int(output.uid.rsplit("_", 1)[-1])
    with ws._ctx.db.read() as conn:
        row = conn.execute(select(outputs.c.provenance, outputs.c.origin, outputs.c.sources)
                           .where(outputs.c.id == number)).mappings().one()
    return dict(row)


def test_a_crosstab_by_spec_is_the_workbench_s_own_table_of_the_rows_kept(kernel, spec_desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    out = project.tables.groupby_agg(ADMISSIONS, by="age_band", values="cost", aggfunc="mean",
                                     where={"cost": {">=": 500}, "admitted": {"<": "2025-07-01"}})
    raw = admissions(400)
    kept = raw[(raw["cost"] >= 500) & (raw["admitted"] < pd.Timestamp("2025-07-01"))]
    expected = kept.groupby("age_band")["cost"].mean()
    got = out.table.iloc[:, 0]
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(dtype=float), expected.to_numpy())
    row = origin_of(spec_desk(ANALYST), out)
    assert row["provenance"] == "computed" and row["sources"] == [ADMISSIONS]
    origin = row["origin"]
    vault = spec_desk(ANALYST)._ctx.vault
    assert origin["source"] == ADMISSIONS and origin["kind"] == "dataset" and origin["version"] == 1
    assert origin["sha256"] == hashlib.sha256(vault.dataset_path(ADMISSIONS).read_bytes()).hexdigest()
    assert origin["datasets"] == [ADMISSIONS]
    assert origin["spec"] == {"method": "groupby_agg", "by": "age_band", "values": "cost", "aggfunc": "mean",
                              "where": {"cost": {">=": 500}, "admitted": {"<": "2025-07-01"}}}
    listed = project.outputs.list()
    assert list(listed["provenance"]) == ["computed"]


def test_crosstab_pivot_histogram_and_models_by_spec(spec_desk) -> None:
    project = spec_desk(ANALYST).project(PROJECT)
    raw = admissions(400)
    counts = project.tables.pivot_table(ADMISSIONS, values="cost", index="age_band", aggfunc="count",
                                        where={"age_band": ["18-64", "65+"]})
    expected = raw[raw["age_band"].isin(["18-64", "65+"])].groupby("age_band")["cost"].count()
    assert counts.table.iloc[:, 0].loc[expected.index].tolist() == expected.tolist()
    hist = project.tables.histogram(ADMISSIONS, "cost", bins=[0, 2000, 4000, 100_000], where={"age_band": "65+"})
    part = raw.loc[raw["age_band"] == "65+", "cost"]
    assert int(np.asarray(hist.table).sum()) == int(((part >= 0) & (part <= 100_000)).sum())
    model = project.tables.ols(ADMISSIONS, "cost ~ C(age_band)", where={"cost": {"<": 50_000}})
    assert model.kind == "regression"
    listed = project.outputs.list()
    assert set(listed["provenance"]) == {"computed"} and len(listed) == 3
    assert listed["name"].str.contains(ADMISSIONS, regex=False).all()


def test_a_histogram_by_spec_takes_its_range_from_the_catalogue_s_declared_bounds(spec_desk) -> None:
    columns = record()["columns"]
    next(c for c in columns if c["name"] == "cost").update(lowerBound=0, upperBound=50_000)
    raw = admissions(400)
    spec_desk(OTHER_OWNER).catalogue.register(record(localId=ADMISSIONS, columns=columns), raw)
    analyst = spec_desk(ANALYST)
    hist = analyst.project(PROJECT).tables.histogram(ADMISSIONS, "cost", bins=5)
    index = hist.table.index
    assert (index[0].left, index[-1].right) == (0, 50_000) and len(index) == 5  # every bin, none trimmed
    labels = {float(e) for interval in index for e in (interval.left, interval.right)}
    assert raw["cost"].min() not in labels and raw["cost"].max() not in labels
    assert hist.table["count"].tolist() == np.histogram(raw["cost"], bins=5, range=(0, 50_000))[0].tolist()
    assert origin_of(analyst, hist)["origin"]["spec"]["range"] == [0.0, 50_000.0]
    given = analyst.project(PROJECT).tables.histogram(ADMISSIONS, "cost", bins=4, range=(0, 20_000))
    assert (given.table.index[0].left, given.table.index[-1].right) == (0, 20_000)  # the analyst's range wins


def test_a_table_by_spec_of_a_derived_frame_names_the_frame_and_its_version(spec_desk) -> None:
    analyst = spec_desk(ANALYST)
    project = analyst.project(PROJECT)
    project.derive(ADMISSIONS, columns=["age_band", "cost"], where={"cost": {">": 100}}, new_name="costs")
    out = project.tables.groupby_agg("costs", by="age_band", values="cost", aggfunc="sum",
                                     where={"age_band": ["0-17", "65+"]})
    row = origin_of(analyst, out)
    origin = row["origin"]
    assert row["provenance"] == "computed"
    assert (origin["source"], origin["kind"], origin["version"], origin["made_by"]) == ("costs", "saved", 1,
                                                                                        "workbench")
    assert origin["datasets"] == [ADMISSIONS] and origin["spec"]["where"] == {"age_band": ["0-17", "65+"]}
    raw = admissions(400)
    kept = raw[(raw["cost"] > 100) & raw["age_band"].isin(["0-17", "65+"])]
    np.testing.assert_allclose(out.table.iloc[:, 0].sort_index().to_numpy(dtype=float),
                               kept.groupby("age_band")["cost"].sum().sort_index().to_numpy())


def test_a_table_by_spec_of_a_frame_saved_from_a_kernel_is_judged_as_analyst_supplied(spec_desk) -> None:
    """The workbench reads the frame (the kernel needs not hold it) but its rows are the analyst's: the output
    is analyst-supplied, with the frame's lineage."""
    analyst = spec_desk(ANALYST)
    project = analyst.project(PROJECT)
    project.save(project.load(ADMISSIONS, ["age_band", "cost"]), "mine", derived_from=[ADMISSIONS])
    out = project.tables.groupby_agg("mine", by="age_band", values="cost", aggfunc="sum", where={"cost": {">": 0}})
    row = origin_of(analyst, out)
    assert row["provenance"] == "analyst-supplied" and row["sources"] == [ADMISSIONS]
    assert row["origin"]["declared"] == ["mine"]


def test_a_dataframe_still_works_and_is_analyst_supplied(spec_desk) -> None:
    analyst = spec_desk(ANALYST)
    project = analyst.project(PROJECT)
    frame = project.load(ADMISSIONS, ["age_band", "cost"])
    out = project.tables.groupby_agg(frame, by="age_band", values="cost", aggfunc="mean")
    assert origin_of(analyst, out)["provenance"] == "analyst-supplied"


REFUSED = [
    ("unknown source", lambda t: t.groupby_agg("dhsc.nothing", by="age_band", values="cost"), NotFound,
     "No dataset"),
    ("unknown column", lambda t: t.groupby_agg(ADMISSIONS, by="ward", values="cost"), InvalidInput,
     "not a column"),
    ("identifier grouped", lambda t: t.crosstab(DATASET, "surname", "age_band"), InvalidInput, "direct identifier"),
    ("identifier filtered", lambda t: t.groupby_agg(DATASET, by="age_band", values="cost",
                                                    where={"nhs_number": "9000000001"}), InvalidInput,
     "direct identifier"),
    ("where on unknown column", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost",
                                                        where={"ward": "A"}), InvalidInput, "not a column"),
    ("unsupported operator", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost",
                                                     where={"cost": {"!=": 3}}), InvalidInput, "range takes only"),
    ("expression", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost", where="cost > 3"),
     InvalidInput, "dict of column"),
    ("wrong value type", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost",
                                                 where={"cost": "cheap"}), InvalidInput, "not such a value"),
    ("range on text", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost",
                                              where={"age_band": {">": 3}}), InvalidInput, "range needs"),
    ("derived_from declared", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="cost",
                                                      derived_from=[DATASET]), InvalidInput, "derived_from"),
    ("where on a frame", lambda t: t.groupby_agg(admissions(), by="age_band", values="cost",
                                                 where={"cost": 3}), InvalidInput, "filter a DataFrame"),
    ("column outside the grant", lambda t: t.groupby_agg(ADMISSIONS, by="age_band", values="length_of_stay"),
     AccessDenied, "outside project p-alpha's grant"),
    ("bad formula", lambda t: t.ols(ADMISSIONS, "cost ~ __import__('os')"), InvalidInput, "formula"),
    ("bins not numbers", lambda t: t.histogram(ADMISSIONS, "cost", bins=None), InvalidInput, "bins"),
    ("histogram of text", lambda t: t.histogram(ADMISSIONS, "age_band", bins=3), InvalidInput, "not numbers"),
    ("histogram without range or bounds", lambda t: t.histogram(ADMISSIONS, "cost", bins=5), InvalidInput,
     "declares no bounds for 'cost'.*pass range=\\(low, high\\)"),
    ("histogram range reversed", lambda t: t.histogram(ADMISSIONS, "cost", bins=5, range=(100, 0)), InvalidInput,
     "reversed or equal"),
    ("histogram range not finite", lambda t: t.histogram(ADMISSIONS, "cost", bins=5, range=(0, float("inf"))),
     InvalidInput, "finite"),
    ("histogram of no bins", lambda t: t.histogram(ADMISSIONS, "cost", bins=0, range=(0, 10)), InvalidInput,
     "number of bins"),
]


@pytest.mark.parametrize(("case", "call", "error", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refusals_record_nothing_and_are_audited(spec_desk, case, call, error, message) -> None:
    analyst = spec_desk(ANALYST)
    state, seen = snapshot(analyst), len(events(analyst))
    with pytest.raises(error, match=message):
        call(analyst.project(PROJECT).tables)
    assert snapshot(analyst) == state
    new = events(analyst)[seen:]
    assert [(e["action"], e["outcome"]) for e in new] == [
        ("outputs.compute", "denied" if error is AccessDenied else "refused")]


def test_refusals_through_the_service_are_the_same(kernel, spec_desk) -> None:
    tables = kernel(ANALYST).project(PROJECT).tables
    with pytest.raises(InvalidInput, match="range takes only"):
        tables.groupby_agg(ADMISSIONS, by="age_band", values="cost", where={"cost": {"!=": 3}})
    with pytest.raises(InvalidInput, match="direct identifier"):
        tables.crosstab(DATASET, "surname", "age_band")
    assert kernel(ANALYST).project(PROJECT).outputs.list().empty


def test_a_lapsed_grant_stops_tables_by_spec(spec_desk) -> None:
    with spec_desk(OWNER)._ctx.db.write() as conn:
        conn.execute(update(grants).where(grants.c.dataset_id == ADMISSIONS).values(expires=date(2026, 1, 31)))
    analyst = spec_desk(ANALYST)
    state = snapshot(analyst)
    with pytest.raises(AccessDenied, match="expired"):
        analyst.project(PROJECT).tables.groupby_agg(ADMISSIONS, by="age_band", values="cost")
    assert snapshot(analyst) == state


# -- person-level rules: these need ``persons=`` in workbench.disclosure (sdc.crosstab & co) ---------------------
def test_a_table_by_spec_of_a_dataset_with_a_person_key_counts_people(spec_desk) -> None:
    """dhsc.patients has 100 admissions of 50 patients (personKey nhs_number): the threshold counts patients."""
    analyst = spec_desk(ANALYST)
    out = analyst.project(PROJECT).tables.crosstab(DATASET, "age_band", "length_of_stay")
    assert out.properties["privacy_unit"] == "person"
    assert origin_of(analyst, out)["origin"]["source"] == DATASET


def test_duplicated_rows_under_one_key_do_not_pass_the_threshold(spec_desk) -> None:
    """Rows repeated under one person are one person: a cell of one patient's ten admissions fails."""
    frame = patients(100)
    frame["nhs_number"] = [f"{9000000000 + i // 10}" for i in range(100)]  # ten admissions per patient
    frame["age_band"] = ["0-17"] * 10 + ["18-64"] * 90
    spec_desk(OWNER).catalogue.register(patient_record(), frame)
    out = spec_desk(ANALYST).project(PROJECT).tables.groupby_agg(DATASET, by="age_band", values="cost",
                                                                 aggfunc="count", where={"age_band": "0-17"})
    assert out.status != "pass"


def test_a_forged_frame_saved_from_a_kernel_never_passes_by_name(spec_desk) -> None:
    """The duplicated-rows attack through a saved frame named as a source: 30 admissions each saved ten times
    are 30 people at most; by name the table is judged as the analyst's rows (no person key: review at least)."""
    analyst = spec_desk(ANALYST)
    project = analyst.project(PROJECT)
    rows = project.load(ADMISSIONS, ["admission_id", "age_band", "cost"]).dropna().head(30)
    project.save(rows.loc[rows.index.repeat(10)].reset_index(drop=True), "forged", derived_from=[ADMISSIONS])
    out = project.tables.groupby_agg("forged", by="age_band", values="cost", aggfunc="count")
    assert out.status != "pass"
