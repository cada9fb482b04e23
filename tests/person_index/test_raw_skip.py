"""An update normalises only the records whose raw identifying values changed (matched by the members' keyed raw
hashes) and gives exactly what linking every record's normalised fields gives: the same members, persons, counts,
quality, warnings and review pairs; a record whose raw text changed but not its normalised values keeps its id."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import ADMIN, OWNER
from test_index_service import LINKER, episodes, hospital_record, people

from workbench.person_index import service, store

pytestmark = pytest.mark.db

DATASET = "dhsc.episodes"


def _seeded(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """New index ids drawn from a seeded generator, so two updates can be compared file for file."""
    rng = random.Random(seed)
    monkeypatch.setattr(service.os, "urandom", lambda n: rng.randbytes(n))


def _strip_raw(root: Path) -> None:
    """The live members file as an older release wrote it: without raw hashes (metadata kept)."""
    path = store.current(root) / "members" / f"{DATASET}.parquet"
    table = pq.read_table(path)
    assert store.RAW in table.column_names
    pq.write_table(table.drop_columns([store.RAW]), path)


def _outcome(ws: Any) -> dict[str, Any]:
    root = ws._ctx.vault.root
    update = ws.person_index.updates(DATASET).iloc[-1]
    review = store.review(root, DATASET)
    return {"members": store.members_table(root, DATASET, ["row", "index_id", "fingerprint", store.RAW]),
            "persons": store.persons_table(root), "counts": update["counts"], "quality": update["quality"],
            "warnings": update["warnings"], "review": None if review is None else review.to_dict("list")}


def test_update_of_changed_rows_equals_a_full_relink(staffed, monkeypatch) -> None:
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    owner, linker = staffed(OWNER), staffed(LINKER)
    population = people()
    first = episodes(population)
    owner.catalogue.register(hospital_record(), first)
    root = owner._ctx.vault.root
    before_ids = store.members_table(root, DATASET, ["index_id"]).column(0).to_pylist()
    kept = root.parent / "index_kept"
    shutil.copytree(store.root(root), kept)

    changed = first.copy()
    changed.loc[[3, 7], "surname"] = ["Zyzzyva", "Quaxley"]  # two records really changed
    changed.loc[5, "forename"] = f"  {changed.loc[5, 'forename'].upper()} "  # raw text only: same once normalised
    changed.loc[9, "nhs_number"] = "9199999990"  # another person's number: a conflict warning
    extra = episodes(people(2, seed=99), per_person=1)
    extra["ref"] = ["N00001", "N00002"]
    extra["nhs_number"] = ["9199999998", "9199999999"]
    data = pd.concat([changed, extra], ignore_index=True)

    normalised: list[int] = []
    real = service._normalise_hashed
    monkeypatch.setattr(service, "_normalise_hashed",
                        lambda column, kind, key: normalised.append(len(column)) or real(column, kind, key))
    owner.catalogue.register(hospital_record(), data)
    # the update again from the index it started from, with new ids drawn as in the full re-link below
    shutil.rmtree(store.root(root))
    shutil.copytree(kept, store.root(root))
    normalised.clear()
    _seeded(monkeypatch, 11)
    linker.person_index.build(DATASET)
    quick = _outcome(linker)
    n = len(data)
    # only the records whose raw values changed had their names, birth date and postcode normalised
    assert sorted(normalised)[0] == 6 and normalised.count(n) == 1  # the NHS number of every record
    assert quick["counts"]["records"] == n and quick["counts"]["compared"] == 5
    assert quick["counts"]["unchanged"] == n - 5
    after_ids = quick["members"].column("index_id").to_pylist()
    assert after_ids[5] == before_ids[5]  # extra spaces and capitals: the record keeps its index id
    assert [after_ids[i] for i in range(240) if i not in (3, 7, 9)] == \
        [before_ids[i] for i in range(240) if i not in (3, 7, 9)]
    assert quick["warnings"]  # the changed NHS number clashes with its person's

    # the same update from the same index written without raw hashes: every record normalised and matched
    shutil.rmtree(store.root(root))
    shutil.copytree(kept, store.root(root))
    _strip_raw(root)
    normalised.clear()
    _seeded(monkeypatch, 11)
    linker.person_index.build(DATASET)
    full = _outcome(linker)
    assert normalised and min(normalised) == n  # the full path
    for name in ("row", "index_id", "fingerprint", store.RAW):
        assert full["members"].column(name).equals(quick["members"].column(name)), name
    assert full["persons"].equals(quick["persons"])
    for name in ("counts", "quality", "warnings", "review"):
        assert full[name] == quick[name], name


def test_raw_hashes_are_keyed_and_follow_the_raw_values(staffed) -> None:
    owner = staffed(OWNER)
    frame = episodes(people(10))
    owner.catalogue.register(hospital_record(), frame)
    root = owner._ctx.vault.root
    raw = store.members_table(root, DATASET, [store.RAW]).column(0).to_pylist()
    assert len(set(raw)) == len(frame)
    table = pq.read_table(owner._ctx.vault.dataset_path(DATASET))
    fields = service.linkable_fields(hospital_record())
    names = list(dict.fromkeys(["ref", *fields.values()]))  # as an update reads them
    secret = bytes.fromhex(owner._ctx.secrets["pseudonymisation_key"])
    assert service._raw_hashes(table, names, True, secret, fields).tolist() == raw
    assert service._raw_hashes(table, names, True, b"another key", fields).tolist() != raw
