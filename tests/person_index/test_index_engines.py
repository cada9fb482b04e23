"""The person index on each linkage engine: the workspace configures it (``person_index`` in workspace.json), a bad
configuration is refused before anything is read or written, the engine is in every update's quality record and in
``status()``, and Splink (DuckDB, and Spark in local mode) links the same persons as the default engine."""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import ADMIN, OTHER_OWNER, OWNER, events
from test_index_service import LINKER, episodes, hospital_record, people, survey, survey_record

from workbench.errors import InvalidInput, WorkbenchError
from workbench.person_index import store
from workbench.person_index.service import deferred_linking, pair_counts

PERSONS = 300


def configure(ws, **section: Any) -> None:
    """The operator's person index settings in the workspace's workspace.json."""
    path = ws.home / "workspace.json"
    content = json.loads(path.read_text())
    content["person_index"] = section
    path.write_text(json.dumps(content))


def corrupted_survey(population: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """The survey (every other person, no NHS number) with a fifth of its records' surnames mistyped, dates of
    birth transposed or postcodes moved, and some of them two at once."""
    frame = survey(population)
    rng = np.random.default_rng(seed)
    n = len(frame)
    typo = rng.random(n) < 0.2
    frame.loc[typo, "surname"] = [s[0] + s[2] + s[1] + s[3:] if len(s) > 3 else s + "e"
                                  for s in frame.loc[typo, "surname"]]
    swap = rng.random(n) < 0.15
    dob = pd.to_datetime(frame["dob"])
    swappable = swap & (dob.dt.day <= 12)
    frame.loc[swappable, "dob"] = pd.to_datetime(pd.DataFrame({"year": dob[swappable].dt.year,
                                                               "month": dob[swappable].dt.day,
                                                               "day": dob[swappable].dt.month}))
    moved = rng.random(n) < 0.15
    frame.loc[moved, "postcode"] = [f"BD{rng.integers(1, 20)} {rng.integers(1, 10)}AA" for _ in range(moved.sum())]
    return frame


@pytest.fixture
def registered(staffed):
    """Hospital episodes (two per person) and a corrupted survey of every other person, registered without
    linking; a linker to build the index."""
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    population = people(PERSONS)
    with deferred_linking():
        staffed(OWNER).catalogue.register(hospital_record(), episodes(population))
        staffed(OTHER_OWNER).catalogue.register(survey_record(), corrupted_survey(population))
    return staffed


def truth_f1(ws) -> float:
    """Pairwise F1 of the index against the true persons: episode i is person i mod PERSONS, survey row i 2i."""
    root = ws._ctx.vault.root
    frames = []
    for dataset, person in (("dhsc.episodes", np.arange(2 * PERSONS) % PERSONS),
                            ("ons.survey", np.arange(0, PERSONS, 2))):
        members = store.members(root, dataset).sort_values("row")
        frames.append(pd.DataFrame({"dataset": dataset, "truth": person,
                                    "index_id": members["index_id"].to_numpy(dtype=object)}))
    tp, predicted, true = pair_counts(pd.concat(frames, ignore_index=True))
    precision, recall = tp / max(predicted, 1), tp / max(true, 1)
    return 2 * precision * recall / max(precision + recall, 1e-12)


def build_with(ws, engine: str, **extra: Any) -> float:
    """The index built from scratch with ``engine``; its F1 against truth."""
    configure(ws, engine=engine, **extra)
    shutil.rmtree(store.root(ws._ctx.vault.root), ignore_errors=True)
    ws.person_index.build()
    for dataset in ("dhsc.episodes", "ons.survey"):
        assert ws.person_index.quality(dataset)["engine"] == engine
    return truth_f1(ws)


def test_splink_links_the_same_persons_as_the_default_engine(registered) -> None:
    linker = registered(LINKER)
    assert linker.person_index.status()["engine"] == "default"  # nothing configured
    default = build_with(linker, "default")
    splink = build_with(linker, "splink")
    assert linker.person_index.status()["engine"] == "splink"
    assert default > 0.97 and splink > 0.97
    assert abs(default - splink) <= 0.005, (default, splink)


def test_an_unchanged_dataset_keeps_the_engine_that_linked_it(registered) -> None:
    linker = registered(LINKER)
    configure(linker, engine="splink")
    linker.person_index.build()
    configure(linker, engine="default")
    linker.person_index.build("dhsc.episodes")  # nothing changed: nothing compared
    quality = linker.person_index.quality("dhsc.episodes")
    assert quality["compared"] == 0 and quality["engine"] == "splink" and quality["updates"] == 2


@pytest.mark.parametrize(("section", "message"), [
    ({"engine": "spork"}, r"person_index.engine 'spork' is not one of default, splink, splink-spark"),
    ({"engine": "splink", "threads": 4}, r"unknown person index setting\(s\) 'threads'"),
    ({"engine": "splink-spark"}, r'needs the service\'s Spark cluster: give "spark": \{"master"'),
    ({"engine": "splink-spark", "spark": {"master": "local[2]", "conf": {"executor.memory": "2g"}}},
     r'conf must map Spark settings \("spark\.…"\)'),
    ({"engine": "splink-spark", "spark": {"master": "local[2]", "workers": 3}}, r"unknown Spark setting\(s\)"),
    ({"engine": "splink-spark", "spark": {"master": "local[2]", "checkpoint_dir": 5}},
     r"checkpoint_dir must be a folder"),
])
def test_a_bad_engine_configuration_is_refused_before_linking(registered, section, message) -> None:
    linker = registered(LINKER)
    configure(linker, **section)
    with pytest.raises(InvalidInput, match=message) as refused:
        linker.person_index.build()
    assert "workspace.json" in str(refused.value) and "docs/linkage.md" in str(refused.value)
    assert store.current(linker._ctx.vault.root) is None  # nothing written
    assert linker.person_index.updates().empty
    last = events(linker)[-1]
    assert last["action"] == "index.build" and last["outcome"] == "refused"
    with pytest.raises(InvalidInput, match=message):
        linker.person_index.status()  # the admin sees what to fix


def test_a_damaged_settings_file_is_refused(registered) -> None:
    linker = registered(LINKER)
    (linker.home / "workspace.json").write_text("{not json")
    with pytest.raises(InvalidInput, match=r"cannot be read as JSON"):
        linker.person_index.build()
    assert store.current(linker._ctx.vault.root) is None


def test_spark_without_pyspark_is_refused(registered, monkeypatch) -> None:
    linker = registered(LINKER)
    configure(linker, engine="splink-spark", spark={"master": "local[2]"})
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(WorkbenchError, match=r'pyspark.*pip install "workbench\[spark\]"'):
        linker.person_index.build()
    assert store.current(linker._ctx.vault.root) is None
    assert linker.person_index.status()["engine"] == "splink-spark"  # configured, though it cannot run here


def test_spark_without_java_is_refused(registered, monkeypatch) -> None:
    linker = registered(LINKER)
    configure(linker, engine="splink-spark", spark={"master": "local[2]"})
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(WorkbenchError, match=r"Java runtime.*JAVA_HOME"):
        linker.person_index.build()
    assert store.current(linker._ctx.vault.root) is None


@pytest.fixture
def stop_spark():
    """The Spark session the index starts is the service's, kept for later updates: stopped after the test."""
    yield
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


@pytest.mark.slow
def test_the_index_builds_on_spark(registered, tmp_path, stop_spark) -> None:
    linker = registered(LINKER)
    spark = {"master": "local[2]",
             "conf": {"spark.sql.shuffle.partitions": 2, "spark.default.parallelism": 2,
                      "spark.local.dir": str(tmp_path / "local"),
                      "spark.sql.warehouse.dir": str(tmp_path / "warehouse"),
                      "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={tmp_path}"}}
    on_spark = build_with(linker, "splink-spark", spark=spark)
    status = linker.person_index.status()
    assert status["engine"] == "splink-spark" and status["spark_master"] == "local[2]"
    assert status["persons"] >= PERSONS * 0.97
    from pyspark.sql import SparkSession

    assert SparkSession.getActiveSession().sparkContext.master == "local[2]"  # it ran on Spark
    # the index goes only to the workspace's Spark: a session on another master is not used
    configure(linker, engine="splink-spark", spark={**spark, "master": "local[1]"})
    with pytest.raises(InvalidInput, match=r"already runs a Spark session on 'local\[2\]'"):
        linker.person_index.build()
    on_duckdb = build_with(linker, "splink")
    assert on_spark > 0.97 and abs(on_spark - on_duckdb) <= 0.005, (on_spark, on_duckdb)
