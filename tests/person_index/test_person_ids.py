"""Project-keyed person ids on load: a dataset in the person index shows the workbench's ``person_id`` column,
granted like any record identifier; granted, it loads as the project's keyed pseudonym of the record's index id
(stable across loads, different in every project, null where unlinked) and joins two datasets of one project
directly; it is the person key of a dataset without its own when SDC counts people and DP clips them."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pandas as pd
import pytest
from factories import record
from helpers import ADMIN, ANALYST, OTHER_OWNER, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, events, snapshot
from sqlalchemy import select

from workbench import disclosure as sdc
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, Conflict, DisclosureRisk, InvalidInput
from workbench.governance.pseudonyms import project_key, pseudonymise
from workbench.person_index import person_ids, store

SURVEY = "dhsc.survey"
HEX20 = re.compile(r"[0-9a-f]{20}")


def _survey_record() -> dict:
    """A person-level dataset without a personKey: each row one respondent, as its owner declares."""
    return record(localId=SURVEY, identifier="https://data.example.invalid/dataset/survey", title="Household survey",
                  summary="Respondents of a household survey, one row per respondent.", personKey=None,
                  columns=[
                      {"name": "case_id", "type": "string", "role": "record_identifier", "description": "Case"},
                      {"name": "row_no", "type": "integer", "role": "other", "description": "Row number"},
                      {"name": "la_code", "type": "string", "role": "quasi_identifier", "description": "Area"},
                      {"name": "sex", "type": "category", "role": "quasi_identifier", "description": "Sex",
                       "categories": ["F", "M"]},
                      {"name": "income", "type": "float", "role": "sensitive", "description": "Income"}])


def _survey_rows(n: int = 300, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "case_id": [f"LFS{i:07d}" for i in rng.choice(9_000_000, n, replace=False)],
        "row_no": np.arange(n),
        "la_code": rng.choice([f"E0{i}" for i in range(10)], n).astype(object),
        "sex": rng.choice(["F", "M"], n).astype(object),
        "income": rng.lognormal(10, 0.5, n)})


def index(ws, assignments: dict[str, list[str | None]]) -> None:
    """Build the person index at rest: each dataset's stored records → index ids (None: not linked)."""
    vault = ws._ctx.vault
    ids = sorted({i for values in assignments.values() for i in values if i is not None})
    changed = {dataset: (pd.DataFrame({"row": np.arange(len(values), dtype=np.int64),
                                       "index_id": pd.array(values, dtype="string"),
                                       "fingerprint": ["f"] * len(values)}), vault.dataset_path(dataset))
               for dataset, values in assignments.items()}
    store.commit(vault.root, pd.DataFrame({"index_id": ids}), changed)


def wbp(n: int) -> list[str]:
    return [f"wbp_{uuid.uuid4().hex}" for _ in range(n)]


@pytest.fixture
def indexed(governed):
    """The survey registered and in the person index: 300 records of 100 persons (3 each), the last 30 records
    unlinked."""
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows())
    people = wbp(100)
    index(governed(ADMIN), {SURVEY: [people[i % 100] if i < 270 else None for i in range(300)]})
    return governed, people


def grant_survey(governed, project: str = PROJECT, columns: list[str] | None = None, analyst: str = ANALYST,
                 **decision):
    request = governed(analyst).project(project).request_access(SURVEY, columns, justification="Needed for it")
    governed(OWNER).owner.decide(request["id"], "approve", **decision)
    return governed(analyst).project(project)


def test_the_entry_of_an_indexed_dataset_shows_the_workbenchs_person_id(indexed) -> None:
    governed, _ = indexed
    entry = governed(ANALYST).catalogue.get(SURVEY)
    column = entry.schema.set_index("name").loc["person_id"]
    assert column["role"] == "record_identifier" and column["description"] == person_ids.DESCRIPTION
    assert list(entry.schema["name"])[-1] == "person_id"
    # the owner's record is unchanged: an export holds only the owner's columns
    assert "person_id" not in [c["name"] for c in entry.record["columns"]]
    assert "person_id" not in governed(OWNER).catalogue.export(SURVEY)
    # a dataset leaves the index: its entry no longer offers a person id
    vault = governed(ADMIN)._ctx.vault.root
    store.commit(vault, store.persons(vault), {}, removed=("dhsc.patients",))
    assert "person_id" not in set(governed(ANALYST).catalogue.get("dhsc.patients").schema["name"])
    # the twin has every column the entry shows, the person id made up
    twin = governed(ANALYST).catalogue.twin(SURVEY)
    assert list(twin.columns) == list(entry.schema["name"]) and twin["person_id"].str.fullmatch(HEX20.pattern).all()


def test_person_id_is_granted_like_a_record_identifier_and_loads_keyed(indexed) -> None:
    governed, people = indexed
    project = grant_survey(governed)
    grant = project.grants().iloc[0]
    assert "person_id" in grant["columns"] and list(grant["identifiers"]) == []  # no identifiers permission needed
    frame = project.load(SURVEY)
    assert list(frame.columns)[-1] == "person_id"
    by_row = frame.set_index("row_no").sort_index()["person_id"]
    linked = by_row.iloc[:270]
    assert linked.str.fullmatch(HEX20.pattern).all() and by_row.iloc[270:].isna().all()
    assert linked.nunique() == 100 and (linked.iloc[:100].to_numpy() == linked.iloc[100:200].to_numpy()).all()
    assert not set(linked) & set(people) and not any(frame.astype(str).apply(
        lambda col: col.str.contains("wbp_")).any())  # index ids never reach the project
    again = project.load(SURVEY)
    pd.testing.assert_frame_equal(frame, again)  # stable across loads (and rows in the same order)
    with governed(ANALYST)._ctx.db.read() as conn:
        event = conn.execute(select(audit_events).where(audit_events.c.action == "data.load")
                             .order_by(audit_events.c.seq.desc())).mappings().first()
    assert "person_id" in event["detail"]["pseudonymised"]


def test_person_ids_differ_between_projects_and_from_every_other_pseudonym(indexed) -> None:
    governed, people = indexed
    first = grant_survey(governed).load(SURVEY).set_index("row_no").sort_index()
    other = grant_survey(governed, OTHER_PROJECT, analyst=SECOND_ANALYST).load(SURVEY).set_index("row_no").sort_index()
    linked = first["person_id"].notna()
    assert not set(first.loc[linked, "person_id"]) & set(other.loc[linked, "person_id"])
    assert first["person_id"].isna().equals(other["person_id"].isna())
    # domain separation: the project's pseudonym of the index id (or of "person:" + it) is never the person id
    master = bytes.fromhex(governed(ANALYST)._ctx.secrets["pseudonymisation_key"])
    import pyarrow as pa
    key = project_key(master, PROJECT)
    plain = set(pseudonymise(pa.array(people), key).to_pylist())
    prefixed = set(pseudonymise(pa.array(["person:" + p for p in people]), key).to_pylist())
    assert not (plain | prefixed) & set(first.loc[linked, "person_id"])


def test_not_granted_not_loaded_and_asking_for_it_is_refused(indexed) -> None:
    governed, _ = indexed
    project = grant_survey(governed, columns=["row_no", "sex", "la_code"])
    assert "person_id" not in project.load(SURVEY).columns
    before = snapshot(governed(ANALYST))
    with pytest.raises(AccessDenied, match="person_id"):
        project.load(SURVEY, columns=["row_no", "person_id"])
    assert snapshot(governed(ANALYST)) == before


def test_person_id_alone_and_in_the_order_asked(indexed) -> None:
    governed, _ = indexed
    project = grant_survey(governed)
    only = project.load(SURVEY, columns=["person_id"])
    assert list(only.columns) == ["person_id"] and len(only) == 300
    both = project.load(SURVEY, columns=["person_id", "row_no"])
    assert list(both.columns) == ["person_id", "row_no"]
    full = project.load(SURVEY).set_index("row_no")["person_id"]
    assert both.set_index("row_no")["person_id"].equals(full.loc[both["row_no"]])


def test_a_dataset_changed_since_it_was_indexed_has_no_person_ids(indexed) -> None:
    governed, _ = indexed
    project = grant_survey(governed)
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows(seed=6))  # new data, index not updated
    with pytest.raises(Conflict, match="person index"):
        project.load(SURVEY)
    assert events(governed(ADMIN))[-1]["outcome"] == "refused"
    assert "person_id" not in project.load(SURVEY, columns=["row_no", "sex"]).columns


def test_person_id_is_not_a_column_for_linkage(indexed) -> None:
    governed, _ = indexed
    request = governed(ANALYST).project(PROJECT).request_access(SURVEY, justification="Needed for it")
    with pytest.raises(InvalidInput, match="linkage: person_id"):
        governed(OWNER).owner.decide(request["id"], "approve", linkage=["person_id"])


def test_sdc_counts_distinct_persons_by_person_id(indexed) -> None:
    governed, _ = indexed
    governed(ADMIN).disclosure.update_settings(threshold=10)
    project = grant_survey(governed)
    data = project.load(SURVEY)
    out = project.tables.crosstab(data, "la_code", "sex", name="people")
    assert out.properties["privacy_unit"] == "person"
    expected = sdc.crosstab(data["la_code"], data["sex"], persons=data["person_id"].fillna(data["case_id"]),
                            settings=out.settings)
    np.testing.assert_array_equal(out.measures["threshold"].to_numpy(), expected.measures["threshold"].to_numpy())
    # by spec the workbench counts the index's persons itself (an unlinked record is a person of its own)
    by_spec = project.tables.crosstab(SURVEY, index="la_code", columns="sex", name="people by spec")
    assert by_spec.properties["privacy_unit"] == "person"
    np.testing.assert_array_equal(by_spec.measures["threshold"].to_numpy(), expected.measures["threshold"].to_numpy())
    # filtered on a column the table does not show: the filter's column is read beside the person codes
    filtered = project.tables.crosstab(SURVEY, index="la_code", columns="sex", where={"income": {">": 0}},
                                       name="people with income")
    np.testing.assert_array_equal(filtered.measures["threshold"].to_numpy(), by_spec.measures["threshold"].to_numpy())
    # a person id is an identifier: grouping by it is refused, listing it in an output too
    with pytest.raises(InvalidInput, match="person_id"):
        project.tables.crosstab(data, "person_id", "sex")


def test_dp_clips_each_persons_rows_by_person_id(indexed) -> None:
    governed, _ = indexed
    owner = governed(OWNER)
    owner.dp.set_budget(SURVEY, 500.0)
    owner.dp.set_budget(SURVEY, 500.0, project=PROJECT)
    project = grant_survey(governed)
    one = int(project.dp.count(SURVEY, epsilon=50).table.iat[0, 0])
    three = project.dp.count(SURVEY, epsilon=50, contributions=3)
    assert abs(one - 130) <= 2  # 100 linked persons and 30 unlinked records, each a person of its own
    assert abs(int(three.table.iat[0, 0]) - 300) <= 3
    assert "person_id" in three.properties["dp"]["privacy_unit"]
    # without person_id granted the rows are the people, as the owner declares
    other = grant_survey(governed, OTHER_PROJECT, columns=["row_no", "sex"], analyst=SECOND_ANALYST)
    owner.dp.set_budget(SURVEY, 500.0, project=OTHER_PROJECT)
    assert abs(int(other.dp.count(SURVEY, epsilon=50).table.iat[0, 0]) - 300) <= 3


def test_a_derived_frame_keeping_person_id_keeps_it_as_its_person_key(indexed) -> None:
    governed, _ = indexed
    owner = governed(OWNER)
    owner.dp.set_budget(SURVEY, 500.0)
    owner.dp.set_budget(SURVEY, 500.0, project=PROJECT)
    project = grant_survey(governed)
    project.derive(SURVEY, columns=["sex", "person_id"], where={"sex": "F"}, new_name="women")
    saved = project.datasets().set_index("name").loc["women"]
    assert saved["person_key"] == "person_id"
    women = project.read("women")
    loaded = project.load(SURVEY)
    assert set(women["person_id"].dropna()) == set(loaded.loc[loaded["sex"] == "F", "person_id"].dropna())
    count = int(project.dp.count("women", epsilon=50).table.iat[0, 0])
    expected = loaded.loc[loaded["sex"] == "F"]
    persons = expected["person_id"].nunique() + int(expected["person_id"].isna().sum())
    assert abs(count - persons) <= 2


def test_an_output_listing_person_ids_is_refused_before_checking(indexed) -> None:
    governed, _ = indexed
    project = grant_survey(governed)
    data = project.load(SURVEY)
    table = project.tables.crosstab(data, "la_code", "sex", name="people")
    assert table is not None
    with pytest.raises((DisclosureRisk, InvalidInput)):
        project.tables.groupby_agg(data, "person_id", {"income": "mean"})


def test_demo_world_join_on_person_id_pairs_the_same_true_persons(governed) -> None:
    """Two datasets of the demo world, indexed from its truth (a tenth of the records left unlinked): joined on
    person_id in one project they pair exactly the records of one true person the index linked."""
    from workbench.demo.world import build_world

    world = build_world(persons=1000, seed=7)
    owners = {"ons.lfs": OTHER_OWNER, "dhsc.hes_apc": OWNER}
    departments = {"ons.lfs": "office-for-national-statistics", "dhsc.hes_apc": "department-of-health-and-social-care"}
    for dataset, owner in owners.items():
        entry = {**world.entries[dataset], "dataOwner": owner, "department": departments[dataset],
                 "legalGateway": ["dea-2017-research"]}
        governed(owner).catalogue.register(entry, world.datasets[dataset])
    persons = {p: f"wbp_{uuid.uuid4().hex}" for p in world.population["person_id"]}
    assigned = {}
    for dataset in owners:
        key = world.truth[dataset].columns[0]
        truth = world.truth[dataset].set_index(key)["person_id"]
        true_person = world.datasets[dataset][key].map(truth)
        assigned[dataset] = [None if i % 10 == 3 else persons[p] for i, p in enumerate(true_person)]
    index(governed(ADMIN), assigned)
    for dataset, owner in owners.items():
        request = governed(ANALYST).project(PROJECT).request_access(dataset, justification="Join on person id")
        governed(owner).owner.decide(request["id"], "approve")
    project = governed(ANALYST).project(PROJECT)
    lfs, hes = project.load("ons.lfs"), project.load("dhsc.hes_apc")
    joined = lfs.dropna(subset=["person_id"]).merge(hes.dropna(subset=["person_id"]), on="person_id")
    # the truth, through the record keys each project sees pseudonymised: map both back to true persons
    master = bytes.fromhex(governed(ANALYST)._ctx.secrets["pseudonymisation_key"])
    import pyarrow as pa
    key = project_key(master, PROJECT)

    def true_person(dataset: str, keys: pd.Series) -> pd.Series:
        column = world.truth[dataset].columns[0]
        raw = world.truth[dataset][column].astype(str)
        pseudonyms = pd.Series(pseudonymise(pa.array(raw), key).to_pylist(), index=world.truth[dataset]["person_id"])
        return keys.map(pd.Series(pseudonyms.index, index=pseudonyms.to_numpy()))

    left, right = true_person("ons.lfs", joined["case_id"]), true_person("dhsc.hes_apc", joined["episode_id"])
    assert len(joined) > 0 and (left.to_numpy() == right.to_numpy()).all()
    expected = sum(1 for a in assigned["ons.lfs"] if a is not None for b in assigned["dhsc.hes_apc"] if b == a)
    assert len(joined) == expected
    # the same person has another person id in another project
    request = governed(SECOND_ANALYST).project(OTHER_PROJECT).request_access("ons.lfs", justification="Other")
    governed(OTHER_OWNER).owner.decide(request["id"], "approve")
    other = governed(SECOND_ANALYST).project(OTHER_PROJECT).load("ons.lfs")
    assert not set(lfs["person_id"].dropna()) & set(other["person_id"].dropna())
    assert lfs["person_id"].notna().sum() == other["person_id"].notna().sum()


def test_filtered_sampled_and_batched_loads_carry_the_full_loads_person_ids(indexed) -> None:
    governed, _ = indexed
    project = grant_survey(governed)
    full = project.load(SURVEY)
    filtered = project.load(SURVEY, where={"sex": "F"})
    pd.testing.assert_frame_equal(filtered, full[full["sex"] == "F"].reset_index(drop=True))
    sampled = project.load(SURVEY, sample=40, seed=3)
    pd.testing.assert_frame_equal(sampled, full.merge(sampled[["row_no"]], on="row_no"))  # the full load's rows
    pd.testing.assert_frame_equal(pd.concat(project.batches(SURVEY, where={"sex": "F"}, rows=50)), filtered)
    with pytest.raises(InvalidInput, match="never filters on"):
        project.load(SURVEY, where={"person_id": full["person_id"].dropna().iloc[0]})
    assert events(governed(ADMIN))[-1]["outcome"] == "refused"
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows(seed=6))  # new data, index not updated
    before = snapshot(governed(ANALYST))
    for attempt in (lambda: project.load(SURVEY, where={"sex": "F"}), lambda: project.batches(SURVEY)):
        with pytest.raises(Conflict, match="person index"):
            attempt()
        assert events(governed(ADMIN))[-1]["outcome"] == "refused"
    assert snapshot(governed(ANALYST)) == before
