"""Person ids through a remote workspace: a kernel connected to ``workbench serve`` loads the same project-keyed
``person_id`` as an embedded workspace, sees it in the catalogue entry to request it, and never receives an index
id (the service derives person ids from the index; a kernel never reads the index itself)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import record
from helpers import ADMIN, ANALYST, OWNER, PROJECT, serving

import workbench
from workbench.errors import InvalidInput
from workbench.person_index import store

SURVEY = "dhsc.survey"


def _survey() -> tuple[dict, pd.DataFrame]:
    rows = 60
    frame = pd.DataFrame({"case_id": [f"C{i:05d}" for i in range(rows)], "row_no": np.arange(rows),
                          "sex": ["F", "M"] * (rows // 2)})
    entry = record(localId=SURVEY, identifier="https://data.example.invalid/dataset/survey", title="Survey",
                   summary="Respondents, one row each.", personKey=None, columns=[
                       {"name": "case_id", "type": "string", "role": "record_identifier", "description": "Case"},
                       {"name": "row_no", "type": "integer", "role": "other", "description": "Row number"},
                       {"name": "sex", "type": "category", "role": "quasi_identifier", "description": "Sex",
                        "categories": ["F", "M"]}])
    return entry, frame


@pytest.fixture
def indexed_home(governed, tmp_path):
    entry, frame = _survey()
    governed(OWNER).catalogue.register(entry, frame)
    vault = governed(ADMIN)._ctx.vault
    ids = [None if i % 7 == 0 else f"wbp_{i // 2:032x}" for i in range(len(frame))]
    members = pd.DataFrame({"row": np.arange(len(frame), dtype=np.int64), "index_id": pd.array(ids, dtype="string"),
                            "fingerprint": ["f"] * len(frame)})
    store.commit(vault.root, pd.DataFrame({"index_id": sorted({i for i in ids if i})}),
                 {SURVEY: (members, vault.dataset_path(SURVEY))})
    return governed, ids


def test_a_remote_kernel_loads_the_same_person_ids_and_never_an_index_id(indexed_home, tmp_path,
                                                                         database_url) -> None:
    governed, ids = indexed_home
    admin = governed(ADMIN)
    embedded = governed(ANALYST).project(PROJECT)
    with serving(tmp_path / "ws", database_url) as url:
        token = admin.tokens.create(ANALYST, label="person ids")["token"]
        remote = workbench.connect(url=url, token=token)
        schema = remote.catalogue.get(SURVEY).schema.set_index("name")
        assert schema.loc["person_id", "role"] == "record_identifier"
        request = remote.project(PROJECT).request_access(SURVEY, ["row_no", "person_id"], justification="Join")
        governed(OWNER).owner.decide(request["id"], "approve")
        far = remote.project(PROJECT).load(SURVEY)
        with pytest.raises(InvalidInput, match="index_id"):
            remote.project(PROJECT).load(SURVEY, columns=["row_no", "index_id"])
    near = embedded.load(SURVEY)
    pd.testing.assert_frame_equal(far, near, check_dtype=False)
    assert far["person_id"].isna().sum() == sum(i is None for i in ids)
    assert not far.astype(str).apply(lambda column: column.str.contains("wbp_")).any().any()
