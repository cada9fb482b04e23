"""Person ids of a dataset registered in place: the index links its records by content key (its source has no
stable rows), a project joins it with a copied dataset on person_id as if both were copied, person ids differ
between projects, a source changed since it was linked refuses person_id (audited) until its owner registers it
again, and analysts never read the index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from factories import linkable_people, people_records
from helpers import ADMIN, ANALYST, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, events, pg_scratch_schema

from workbench.catalogue.sources import Source
from workbench.errors import AccessDenied, Conflict, InvalidInput
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

    # tables by spec and derived frames read it as before; its person_id is given by loads only
    data = governed(ANALYST).project(PROJECT)
    counts = data.tables.groupby_agg(LEFT, by="diagnosis", values="ref", aggfunc="count").table
    assert counts.iloc[:, 0].sum() == len(left)
    saved = data.derive(LEFT, columns=["ref", "diagnosis"], where={"diagnosis": "A"}, new_name="dx_a")
    assert saved["rows"] == int((left["diagnosis"] == "A").sum())
    with pytest.raises(InvalidInput, match="given by loads only"):
        data.derive(LEFT, columns=["ref", "person_id"], new_name="ids")

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
