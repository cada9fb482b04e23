"""Person ids of a dataset registered in place: the index links its records by content key (its source has no
stable rows), a project joins it with a copied dataset on person_id as if both were copied, person ids differ
between projects, a source changed since it was linked refuses person_id (audited) until its owner registers it
again, and analysts never read the index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from factories import linkable_people, people_records
from helpers import ADMIN, ANALYST, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, events, pg_scratch_schema, snapshot

from workbench.catalogue.sources import Source
from workbench.dp.queries import ProjectDP
from workbench.errors import AccessDenied, Conflict
from workbench.person_index import person_ids, store

pytestmark = pytest.mark.db

LEFT, RIGHT, RIGHT_OWNER = "dhsc.people", "ons.people", "priya.owner"


@pytest.fixture
def pg_url() -> Iterator[tuple[str, str]]:
    with pg_scratch_schema("inplace") as (url, schema, _engine):
        yield url, schema


class Held:
    """The left extract at its source: written, and changed later, as a CSV file or a PostgreSQL table."""

    def __init__(self, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        if kind == "csv":
            self.path = tmp_path / "people.csv"
        else:
            self.url, self.schema = request.getfixturevalue("pg_url")

    def write(self, frame: pd.DataFrame) -> Source:
        if self.kind == "csv":
            frame.to_csv(self.path, index=False)
            return Source(path=self.path)
        engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        with engine.begin() as conn:
            frame.assign(dob=frame["dob"].dt.date).to_sql("people", conn, schema=self.schema, index=False,
                                                          if_exists="replace")
        engine.dispose()
        return Source.database(self.url, table=f"{self.schema}.people")


def grant(governed, dataset: str, owner: str, columns: list[str], project: str = PROJECT,
          analyst: str = ANALYST) -> None:
    request = governed(analyst).project(project).request_access(dataset, columns, justification="Join on person id")
    governed(owner).owner.decide(request["id"], "approve")


def joined(governed, project: str = PROJECT, analyst: str = ANALYST) -> set[tuple[str, str]]:
    """The (left ref, right ref) pairs a join on person_id gives."""
    data = governed(analyst).project(project)
    left = data.load(LEFT, ["ref", "person_id"]).dropna(subset=["person_id"])
    right = data.load(RIGHT, ["ref", "person_id"]).dropna(subset=["person_id"])
    both = left.merge(right, on="person_id", suffixes=("_left", "_right"))
    return set(zip(both["ref_left"], both["ref_right"], strict=True))


@pytest.mark.parametrize("kind", ["csv", "postgresql"])
def test_an_in_place_dataset_gets_person_ids_as_a_copied_one(governed, tmp_path, request, kind) -> None:
    left_record, right_record = people_records()
    left, right, truth = linkable_people()
    held = Held(kind, tmp_path, request)
    governed(OWNER).catalogue.register(left_record, data=held.write(left), mode="in-place")
    root = governed(ADMIN)._ctx.vault.root
    members = store.members(root, LEFT)
    assert members is not None and len(members) == len(left) and members["index_id"].notna().all()
    assert store.CONTENT in members.columns and person_ids.indexed(root, LEFT)
    governed(RIGHT_OWNER).catalogue.register(right_record, right)
    grant(governed, LEFT, OWNER, ["ref", "diagnosis", "person_id"])
    grant(governed, RIGHT, RIGHT_OWNER, ["ref", "status", "person_id"])

    loaded = governed(ANALYST).project(PROJECT).load(LEFT)
    assert list(loaded.columns) == ["ref", "diagnosis", "person_id"]
    assert loaded["person_id"].dtype == "string" and loaded["person_id"].notna().all()
    assert loaded["person_id"].str.fullmatch(r"[0-9a-f]{20}").all()
    pd.testing.assert_frame_equal(governed(ANALYST).project(PROJECT).load(LEFT), loaded)  # stable
    some = governed(ANALYST).project(PROJECT).load(LEFT, where={"diagnosis": "A"}, sample=20, seed=2)
    assert set(zip(some["ref"], some["person_id"], strict=True)) <= set(zip(loaded["ref"], loaded["person_id"],
                                                                            strict=True))
    pieces = list(governed(ANALYST).project(PROJECT).batches(LEFT, rows=50))
    pd.testing.assert_frame_equal(pd.concat(pieces).reset_index(drop=True), loaded)

    in_place_pairs = joined(governed)
    true_pairs = set(zip(truth["left_id"], truth["right_id"], strict=True))
    assert len(in_place_pairs & true_pairs) >= 0.9 * len(true_pairs)

    # person ids differ between projects
    grant(governed, LEFT, OWNER, ["ref", "person_id"], project=OTHER_PROJECT, analyst=SECOND_ANALYST)
    other = governed(SECOND_ANALYST).project(OTHER_PROJECT).load(LEFT)
    assert not set(other["person_id"]) & set(loaded["person_id"])
    assert other.sort_values("ref")["person_id"].factorize()[0].tolist() == \
        loaded.sort_values("ref")["person_id"].factorize()[0].tolist()  # the same persons, other ids

    # tables by spec and derived frames read it; a derived frame keeps person_id as the load gives it
    data = governed(ANALYST).project(PROJECT)
    counts = data.tables.groupby_agg(LEFT, by="diagnosis", values="ref", aggfunc="count").table
    assert counts.iloc[:, 0].sum() == len(left)
    saved = data.derive(LEFT, columns=["ref", "diagnosis"], where={"diagnosis": "A"}, new_name="dx_a")
    assert saved["rows"] == int((left["diagnosis"] == "A").sum())
    data.derive(LEFT, columns=["ref", "person_id"], new_name="ids")
    pd.testing.assert_frame_equal(data.read("ids"), loaded[["ref", "person_id"]], check_dtype=False)
    assert data.datasets().set_index("name").loc["ids", "person_key"] == "person_id"

    # the same join when both are copied
    governed(OWNER).catalogue.register(left_record, left)
    assert store.CONTENT not in store.members(root, LEFT).columns
    assert joined(governed) == in_place_pairs


@pytest.mark.parametrize("kind", ["csv", "postgresql"])
def test_a_changed_source_refuses_person_id_until_registered_again(governed, tmp_path, request, kind) -> None:
    left_record, _ = people_records()
    left, _, _ = linkable_people()
    held = Held(kind, tmp_path, request)
    governed(OWNER).catalogue.register(left_record, data=held.write(left), mode="in-place")
    grant(governed, LEFT, OWNER, ["ref", "diagnosis", "person_id"])
    before = governed(ANALYST).project(PROJECT).load(LEFT)

    changed = left.copy()
    changed.loc[0, "surname"] = "Someone-Else"
    held.write(changed)
    with pytest.raises(Conflict, match=r"source \(read in place\) changed since the person index linked it \(1 of "
                                       r"the rows.*must register it again"):
        governed(ANALYST).project(PROJECT).load(LEFT)
    event = events(governed(ANALYST))[-1]
    assert (event["action"], event["outcome"]) == ("data.load", "refused")
    with pytest.raises(Conflict, match="register it again"):  # a load keeping the changed row
        governed(ANALYST).project(PROJECT).load(LEFT, where={"diagnosis": left.loc[0, "diagnosis"]})
    other = next(d for d in "ABC" if d != left.loc[0, "diagnosis"])  # rows the index holds: their person ids
    kept = governed(ANALYST).project(PROJECT).load(LEFT, where={"diagnosis": other})
    pd.testing.assert_frame_equal(kept, before[before["diagnosis"] == other].reset_index(drop=True))
    assert len(governed(ANALYST).project(PROJECT).load(LEFT, ["ref", "diagnosis"])) == len(left)

    # tables by spec and DP queries counting its people, and derived frames keeping person_id, refuse alike
    data = governed(ANALYST).project(PROJECT)
    governed(OWNER).dp.set_budget(LEFT, 100.0)
    governed(OWNER).dp.set_budget(LEFT, 100.0, project=PROJECT)
    unchanged = snapshot(governed(ADMIN))
    for action, attempt in (
            ("outputs.compute", lambda: data.tables.groupby_agg(LEFT, by="diagnosis", values="ref", aggfunc="count")),
            ("dp.query", lambda: data.dp.count(LEFT, epsilon=1.0)),
            ("data.derive", lambda: data.derive(LEFT, columns=["ref", "person_id"], new_name="ids"))):
        with pytest.raises(Conflict, match=r"changed since the person index linked it.*must register it again"):
            attempt()
        event = events(governed(ADMIN))[-1]
        assert (event["action"], event["outcome"]) == (action, "refused")
    assert snapshot(governed(ADMIN)) == unchanged  # no output, no budget spent, no frame
    assert data.dp.count(LEFT, epsilon=1.0, where={"diagnosis": other}).table.size == 1  # rows the index holds
    assert data.derive(LEFT, columns=["ref", "diagnosis"], new_name="no_ids")["rows"] == len(left)

    governed(OWNER).catalogue.register(left_record, data=held.write(changed), mode="in-place")  # linked again
    after = governed(ANALYST).project(PROJECT).load(LEFT)
    kept = before.merge(after, on="ref", suffixes=("_before", "_after"))
    unchanged = kept[kept["ref"] != left.loc[0, "ref"]]
    assert (unchanged["person_id_before"] == unchanged["person_id_after"]).all()  # unchanged records keep theirs


def test_an_admin_refresh_relinks_a_changed_source_and_analysts_never_read_the_index(governed, tmp_path,
                                                                                       request) -> None:
    left_record, _ = people_records()
    left, _, _ = linkable_people()
    held = Held("csv", tmp_path, request)
    governed(OWNER).catalogue.register(left_record, data=held.write(left), mode="in-place")
    grant(governed, LEFT, OWNER, ["ref", "person_id"])
    held.write(pd.concat([left, left.head(3).assign(ref=["N1", "N2", "N3"])], ignore_index=True))
    with pytest.raises(Conflict):
        governed(ANALYST).project(PROJECT).load(LEFT)
    with pytest.raises(AccessDenied):
        governed(ANALYST).person_index.refresh()
    with pytest.raises(AccessDenied):
        governed(ANALYST).person_index.build(LEFT)
    with pytest.raises(AccessDenied):
        governed(ANALYST).person_index.review_pairs(LEFT)
    governed(ADMIN).person_index.refresh()
    after = governed(ANALYST).project(PROJECT).load(LEFT)
    assert len(after) == len(left) + 3 and after["person_id"].notna().all()
    shown = " ".join(f"{e['resource']} {e['detail']}" for e in events(governed(ADMIN)))
    members = store.members(governed(ADMIN)._ctx.vault.root, LEFT)
    assert members is not None and not any(i in shown for i in members["index_id"].dropna())


def _with_band(record: dict) -> dict:
    """The left record with a second category to cross diagnosis with."""
    return {**record, "columns": [*record["columns"], {"name": "band", "type": "category", "role": "other",
                                                       "description": "A band", "categories": ["high", "low"]}]}


def _repeated(left: pd.DataFrame) -> pd.DataFrame:
    """The left extract with a fifth of its people there twice (another ref and diagnosis), and a band: counting
    people then differs from counting rows."""
    rng = np.random.default_rng(11)
    again = left.sample(frac=0.2, random_state=4)
    again = again.assign(ref=[f"D{i:05d}" for i in range(len(again))], diagnosis=rng.choice(list("ABC"), len(again)))
    rows = pd.concat([left, again], ignore_index=True)
    return rows.assign(band=rng.choice(["high", "low"], len(rows)))


@pytest.mark.parametrize("kind", ["csv", "postgresql"])
def test_tables_dp_and_derived_frames_count_its_people_as_a_copied_datasets(governed, tmp_path, request, kind,
                                                                            monkeypatch) -> None:
    left_record = _with_band(people_records()[0])
    left = _repeated(linkable_people()[0])
    held = Held(kind, tmp_path, request)
    governed(OWNER).catalogue.register(left_record, data=held.write(left), mode="in-place")
    grant(governed, LEFT, OWNER, ["ref", "diagnosis", "band", "person_id"])
    governed(ADMIN).disclosure.update_settings(threshold=10)
    governed(OWNER).dp.set_budget(LEFT, 1000.0)
    governed(OWNER).dp.set_budget(LEFT, 1000.0, project=PROJECT)
    truths: list[dict[str, np.ndarray]] = []  # what each DP query counted, before noise
    aggregate = ProjectDP._aggregate

    def counted(self, *args):
        truths.append(aggregate(self, *args))
        return truths[-1]

    monkeypatch.setattr(ProjectDP, "_aggregate", counted)

    def made(mode: str) -> dict:
        data = governed(ANALYST).project(PROJECT)
        truths.clear()
        data.dp.count(LEFT, epsilon=1.0)
        data.dp.crosstab(LEFT, "diagnosis", "band", epsilon=1.0)
        data.dp.crosstab(LEFT, "diagnosis", "band", epsilon=1.0, contributions=2, where={"band": "low"})
        data.derive(LEFT, columns=["ref", "diagnosis", "person_id"], where={"band": "low"}, new_name=f"low_{mode}")
        loaded = data.load(LEFT)
        return {"loaded": loaded, "derived": data.read(f"low_{mode}"), "dp": list(truths),
                "table": data.tables.crosstab(LEFT, index="diagnosis", columns="band", name=f"people {mode}"),
                "from_frame": data.tables.crosstab(loaded, "diagnosis", "band", name=f"people loaded {mode}"),
                "key": data.datasets().set_index("name").loc[f"low_{mode}", "person_key"]}

    in_place = made("in_place")
    loaded = in_place["loaded"]
    assert loaded["person_id"].notna().all() and loaded["person_id"].nunique() < len(left)  # repeats linked
    assert int(in_place["dp"][0]["count"][0]) == loaded["person_id"].nunique()  # one row per person counted
    low = loaded.loc[loaded["band"] == "low", ["ref", "diagnosis", "person_id"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(in_place["derived"], low, check_dtype=False)  # person ids as the load gives
    assert in_place["key"] == "person_id"
    for output in (in_place["table"], in_place["from_frame"]):
        assert output.properties["privacy_unit"] == "person"

    governed(OWNER).catalogue.register(left_record, left)  # the same data copied into the vault
    copied = made("copied")
    assert int(copied["dp"][0]["count"][0]) == copied["loaded"]["person_id"].nunique()
    for ours, theirs in zip(in_place["dp"], copied["dp"], strict=True):
        assert ours.keys() == theirs.keys()
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name])
    for table in ("table", "from_frame"):
        pd.testing.assert_frame_equal(in_place[table].table, copied[table].table)
        assert in_place[table].measures.keys() == copied[table].measures.keys()
        for name, measure in in_place[table].measures.items():
            pd.testing.assert_frame_equal(measure, copied[table].measures[name])

    def persons(frame: pd.DataFrame) -> list[int]:  # who is who, by record: the same persons whatever their ids
        return frame.sort_values("ref")["person_id"].factorize()[0].tolist()

    assert persons(in_place["derived"]) == persons(copied["derived"])
    assert persons(in_place["loaded"]) == persons(copied["loaded"])
    copied_low = copied["loaded"].loc[copied["loaded"]["band"] == "low"]
    assert set(zip(copied["derived"]["ref"], copied["derived"]["person_id"], strict=True)) == \
        set(zip(copied_low["ref"], copied_low["person_id"], strict=True))
    assert copied["key"] == "person_id"
