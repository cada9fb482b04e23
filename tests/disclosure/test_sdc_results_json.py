"""results.json: written in ACRO/SACRO's layout (so SACRO-Viewer opens it), read back identically, and refused
when tampered with."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.errors import Conflict, InvalidInput, NotFound

FIELDS = ("kind", "method", "status", "status_before_mitigation", "mitigation", "properties", "command",
          "comments", "exception", "timestamp", "settings")


@pytest.fixture(scope="module")
def outputs() -> list:
    rng = np.random.default_rng(9)
    n = 300
    df = pd.DataFrame({"region": rng.choice(["North", "South", "East", "Isles"], n, p=[.45, .35, .17, .03]),
                       "sex": rng.choice(["F", "M"], n), "year": rng.choice([2023, 2024], n),
                       "income": rng.lognormal(10, 1, n), "hours": rng.integers(1, 60, n).astype(float)})
    df.loc[::17, "income"] = np.nan
    outs = [
        sdc.crosstab(df.region, df.sex),
        sdc.crosstab(df.region, df.sex, values=df.income, aggfunc="mean", margins=True),
        sdc.crosstab(df.region.astype("category"), df.year, values=df.hours, aggfunc="sum",
                     settings=DisclosureSettings(mitigation="round")),
        sdc.crosstab([df.region, df.sex], df.year, values=df.hours, aggfunc="median"),
        sdc.pivot_table(df, values=["income", "hours"], index="region", columns=["sex", "year"],
                        aggfunc=["mean", "count"], margins=True),
        sdc.groupby_agg(df, by=["region", "year"], values="hours", aggfunc=["mean", "mode"]),
        sdc.histogram(df.hours, bins=np.arange(0, 70, 10)),
        sdc.ols(df.hours, sm.add_constant(df[["year"]].astype(float))),
        sdc.crosstab(df.region, df.sex, settings=DisclosureSettings(mitigation="none")),
    ]
    outs[1].request_exception("The Isles figures are published in the annual report.")
    outs[1].add_comment("Mean income by region and sex.")
    return outs


def assert_same(a, b) -> None:
    for name in FIELDS:
        assert getattr(a, name) == getattr(b, name), name
    for name in ("table", "safe_table", "suppressed"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert list(a.flags) == list(b.flags)
    for name in a.flags:
        pd.testing.assert_frame_equal(a.flags[name], b.flags[name])
        pd.testing.assert_frame_equal(a.measures[name], b.measures[name])
    assert a.explain() == b.explain() and a.summary() == b.summary()


def test_results_json_reads_back_identically(outputs, tmp_path) -> None:
    path = sdc.to_results_json(outputs, tmp_path / "results")
    assert path == tmp_path / "results" / "results.json"
    back = sdc.read_results_json(tmp_path / "results")
    assert list(back) == [f"output_{i}" for i in range(len(outputs))]
    for original, (uid, read) in zip(outputs, back.items(), strict=True):
        assert read.uid == uid
        assert_same(original, read)
    # and what was read writes the same results again
    sdc.to_results_json(back, tmp_path / "again")
    first = json.loads((tmp_path / "results" / "results.json").read_text())
    second = json.loads((tmp_path / "again" / "results.json").read_text())
    assert first == second


def test_the_layout_is_acros(outputs, tmp_path) -> None:
    """ACRO 1.0.2's layout: the tool object, check names of its ontology, the fair block, config.json."""
    folder = tmp_path / "results"
    sdc.to_results_json({"income_by_region": outputs[1], "counts": outputs[0]}, folder)
    document = json.loads((folder / "results.json").read_text())
    assert document["version"] == "1.0.2"
    assert document["tool"]["@type"] == "SoftwareApplication" and document["tool"]["name"] == "workbench"
    record = document["results"]["income_by_region"]
    assert set(record) == {"uid", "status", "type", "properties", "files", "outcome", "command", "summary",
                           "timestamp", "comments", "exception", "fair"}
    assert record["type"] == "table" and record["status"] == "review"
    assert record["exception"].startswith("The Isles") and record["comments"] == ["Mean income by region and sex."]
    assert record["properties"]["method"] == "crosstab" and record["properties"]["mitigation"] == "suppress"
    (released,) = record["files"]
    assert released["name"] == "income_by_region.csv" and (folder / released["name"]).exists()
    sdc_block = released["sdc"]
    assert list(sdc_block["summary"]) == ["MinimumThresholdCheck", "PresenceOfZeroCheck", "NKCheck",
                                          "PPercentCheck", "negative", "AllSameValuesCheck"]
    assert sdc_block["summary"]["MinimumThresholdCheck"] == int(outputs[1].flags["threshold"].to_numpy().sum())
    assert sdc_block["cells"]["MinimumThresholdCheck"] == [[int(r), int(c)] for r, c in
                                                           np.argwhere(outputs[1].flags["threshold"].to_numpy())]
    assert record["summary"].startswith("review; threshold:")
    fair = record["fair"]
    assert fair["statbarn"] == "LinearAggregations" and fair["risks"] == ["Dominance", "Differencing", "LowCount"]
    assert fair["checks_needed"] == list(sdc_block["summary"])
    assert fair["check_status"]["MinimumThresholdCheck"] == "fail" and fair["check_status"]["negative"] == "pass"
    assert fair["independent"] == ["region", "sex"]
    assert document["results"]["counts"]["fair"]["statbarn"] == "Frequencies"
    config = json.loads((folder / "config.json").read_text())
    assert config["safe_threshold"] == 10 and config["safe_nk_k"] == 0.9 and config["zeros_are_disclosive"] is True
    # the released CSV is the safe table: one header row, then a row per table row (as the viewer reads it)
    lines = (folder / "income_by_region.csv").read_text().splitlines()
    assert lines[0] == "region,F,M,All" and len(lines) == 1 + len(outputs[1].table)
    isles = next(line for line in lines if line.startswith("Isles,"))
    assert ",," in isles  # withheld cells are empty
    # the unmitigated table stays beside it for the checker, never listed for release
    assert (folder / "unreleased" / "income_by_region.csv").exists()
    assert all("unreleased" not in f["name"] for r in document["results"].values() for f in r["files"])
    outcome = record["outcome"]
    assert outcome["F"]["Isles"].startswith("MinimumThresholdCheck") and outcome["F"]["North"] == "ok"
    # checksums as ACRO writes them
    for name in ("results.json", "income_by_region.csv", "counts.csv", "unreleased/income_by_region.csv"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert (folder / "checksums" / f"{name}.txt").read_text() == digest


def test_outputs_checked_with_different_settings_write_no_shared_config(outputs, tmp_path) -> None:
    sdc.to_results_json(outputs[:3], tmp_path / "mixed")  # the third was rounded
    assert not (tmp_path / "mixed" / "config.json").exists()
    assert sdc.read_results_json(tmp_path / "mixed")["output_2"].settings.mitigation == "round"


def test_a_passing_output_is_written_once(tmp_path) -> None:
    a = pd.Series(["A"] * 20 + ["B"] * 20, name="a")
    out = sdc.crosstab(a, pd.Series(["x", "y"] * 20, name="b"))
    assert out.status == "pass"
    sdc.to_results_json(out, tmp_path / "r")
    assert not (tmp_path / "r" / "unreleased").exists()
    assert_same(out, sdc.read_results_json(tmp_path / "r")["output_0"])


def test_tampering_and_misuse_are_refused(outputs, tmp_path) -> None:
    folder = tmp_path / "results"
    sdc.to_results_json(outputs[:2], folder)
    with pytest.raises(Conflict, match="not an empty folder"):
        sdc.to_results_json(outputs[:1], folder)
    csv_path = folder / "output_1.csv"
    csv_path.write_text(csv_path.read_text().replace("North", "Nowhere"))
    with pytest.raises(InvalidInput, match=r"output_1\.csv does not match its checksum"):
        sdc.read_results_json(folder)
    with pytest.raises(NotFound, match=r"No results\.json"):
        sdc.read_results_json(tmp_path / "elsewhere")
    first, second = copy.copy(outputs[0]), copy.copy(outputs[1])
    first.uid = second.uid = "same"
    with pytest.raises(InvalidInput, match="two outputs share a name"):
        sdc.to_results_json([first, second], tmp_path / "dup")


def test_bad_output_names_and_objects(outputs, tmp_path) -> None:
    with pytest.raises(InvalidInput, match="not a usable output name"):
        sdc.to_results_json({"a/b": outputs[0]}, tmp_path / "x")
    with pytest.raises(InvalidInput, match="give disclosure Outputs"):
        sdc.to_results_json([pd.DataFrame()], tmp_path / "y")


def test_a_folder_written_by_acro_is_read(tmp_path) -> None:
    folder = tmp_path / "acro"
    folder.mkdir()
    (folder / "output_0_0.csv").write_text("grant_type,G,N,R\nF,1,30,25\nM,40,2,33\n")
    (folder / "results.json").write_text(json.dumps({"version": "0.4.5", "results": {"output_0": {
        "uid": "output_0", "status": "fail", "type": "table", "properties": {"method": "crosstab"},
        "files": [{"name": "output_0_0.csv", "sdc": {"summary": {"threshold": 2}, "cells": {
            "threshold": [[0, 0], [1, 1]], "p-ratio": [], "nk-rule": []}}}],
        "outcome": {}, "command": "acro.crosstab(...)", "summary": "fail; threshold: 2 cells may need suppressing",
        "timestamp": "2024-01-01T00:00:00", "comments": [], "exception": ""}}}))
    (out,) = sdc.read_results_json(folder).values()
    assert out.status == "fail" and out.method == "crosstab" and out.exception is None
    assert out.flags["threshold"].to_numpy().tolist() == [[True, False, False], [False, True, False]]
    assert list(out.flags) == ["threshold", "p_percent", "dominance"]
    assert out.table.loc["M", "N"] == 2


def test_read_from_the_json_path_too(outputs, tmp_path) -> None:
    path = sdc.to_results_json(outputs[0], tmp_path / "r")
    assert list(sdc.read_results_json(Path(path))) == ["output_0"]
