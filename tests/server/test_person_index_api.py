"""The person index over REST: the catalogue entry carries the quality record for its owner (not for an analyst)
and says who may review; a linker reads the clerical review queue and decides a pair; others are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import ADMIN, ANALYST, DATASET, OWNER, Unchanged
from jsonschema import Draft202012Validator

from workbench import wire
from workbench.person_index import store

pytestmark = pytest.mark.db

LINKER = "lin.linker"
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())


def validator(path: str, method: str, body: bool = False) -> Draft202012Validator:
    operation = SPEC["paths"][path][method]
    part = operation["requestBody"] if body else operation["responses"]["200"]
    return Draft202012Validator({"components": SPEC["components"], **part["content"]["application/json"]["schema"]})


@pytest.fixture
def queued(served):
    """A linker, and one uncertain pair in DATASET's clerical review queue (its first record against its second
    record's person)."""
    admin = served(ADMIN)
    admin.people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    root = admin._ctx.vault.root
    candidate = store.members(root, DATASET).loc[1, "index_id"]
    store.write_review(root, DATASET, pd.DataFrame({
        "kind": ["person"], "row": [0], "candidate": [candidate], "match_weight": [0.4],
        "match_probability": [0.6], "accepted": [False]}))
    return served, candidate


async def test_the_entry_carries_the_quality_record_for_its_owner_only(api, queued) -> None:
    owner = await api(OWNER, "GET", "catalogue", DATASET)
    assert owner.status == 200, owner
    record = owner.json["person_index"]
    assert record["indexed"] and record["dataset_id"] == DATASET and record["version"].startswith("v")
    assert record["review_decided"] == 0 and record["review_pending"] == 0 and owner.json["index_review"] is False
    Draft202012Validator({"components": SPEC["components"], "$ref": "#/components/schemas/CatalogueEntry"}).validate(
        owner.json)
    analyst = await api(ANALYST, "GET", "catalogue", DATASET)
    assert analyst.json["person_index"] is None and analyst.json["index_review"] is False
    for reviewer in (ADMIN, LINKER):
        reply = await api(reviewer, "GET", "catalogue", DATASET)
        assert reply.json["person_index"]["records"] == record["records"] and reply.json["index_review"] is True


async def test_a_linker_reads_the_queue_and_decides_a_pair(api, queued) -> None:
    _served, candidate = queued
    queue = await api(LINKER, "GET", "person-index", DATASET, "review")
    assert queue.status == 200, queue
    validator("/person-index/{dataset_id}/review", "get").validate(queue.json)
    fields = [{"field": "surname", "record": "surname0", "candidate": "surname1", "agreement": "differs"},
              {"field": "nhs_number", "record": "9000000000", "candidate": "9000000001", "agreement": "differs"}]
    assert queue.json["pairs"] == [{"kind": "person", "row": 0, "candidate": candidate, "match_weight": 0.4,
                                    "match_probability": 0.6, "accepted": False, "fields": fields}]
    body = {"row": 0, "candidate": candidate, "decision": "non-match", "note": "Different dates of birth"}
    validator("/person-index/{dataset_id}/review/decision", "post", body=True).validate(body)
    made = await api(LINKER, "POST", "person-index", DATASET, "review", "decision", body=body)
    assert made.status == 200, made
    validator("/person-index/{dataset_id}/review/decision", "post").validate(made.json)
    assert made.json["decision"] == "non-match" and made.json["decided_by"] == LINKER
    assert (await api(LINKER, "GET", "person-index", DATASET, "review")).json["pairs"] == []
    again = await api(LINKER, "POST", "person-index", DATASET, "review", "decision", body=body)
    assert again.status == 409 and "decided already" in again.json["message"]
    owner = await api(OWNER, "GET", "catalogue", DATASET)
    assert owner.json["person_index"]["review_pending"] == 1


async def test_refusals(api, queued) -> None:
    served, candidate = queued
    unchanged = Unchanged(served(ADMIN))
    for user in (OWNER, ANALYST):
        reply = await api(user, "GET", "person-index", DATASET, "review")
        assert reply.status == 403, reply
        said = json.dumps(reply.json).lower()
        assert "pairs" not in reply.json and "surname" not in said and "900000000" not in said
        # nor from a kernel: a remote workspace has no person index
        reply = await api(user, "POST", "kernel", "person_index.review_pairs", raw=wire.dumps({"dataset_id": DATASET}))
        assert reply.status == 404 and "surname" not in json.dumps(reply.json).lower(), reply
        reply = await api(user, "POST", "person-index", DATASET, "review", "decision",
                          body={"row": 0, "candidate": candidate, "decision": "match"})
        assert reply.status == 403 and "decide the clerical review pairs" in reply.json["message"]
    wrong = [
        ({"row": "0", "candidate": candidate, "decision": "match"}, 400, "row"),
        ({"row": True, "candidate": candidate, "decision": "match"}, 400, "row"),
        ({"row": 0, "candidate": candidate, "decision": "maybe"}, 400, "decision"),
        ({"row": 0, "candidate": candidate}, 400, "decision"),
        ({"row": 0, "candidate": candidate, "decision": "match", "extra": 1}, 400, "extra"),
        ({"row": -1, "candidate": candidate, "decision": "match"}, 400, "pair"),
        ({"row": 5, "candidate": candidate, "decision": "match"}, 404, None),
        ({"row": 0, "candidate": candidate, "decision": "match", "note": "x" * 2001}, 400, "note"),
    ]
    for body, status, field in wrong:
        reply = await api(LINKER, "POST", "person-index", DATASET, "review", "decision", body=body)
        assert reply.status == status, (body, reply)
        assert reply.json["field"] == field and reply.json["message"], (body, reply)
    reply = await api(LINKER, "POST", "person-index", DATASET, "review", "decision", raw=b"{not json")
    assert reply.status == 400 and reply.json["field"] == "body"
    reply = await api(LINKER, "GET", "person-index", "Bad.Id", "review")
    assert reply.status == 400
    unchanged.check()
