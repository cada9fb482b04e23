"""A release package marks suppressed cells as suppressed and never says why: a blank cell labelled with its rule
would tell what it hides (``zeros``: an exact 0; ``threshold``: 1 to 9) and narrow what an attacker solves for.
The rules stay in the workspace, in the checker's views; what leaves is what the checker is shown as released."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from checking import CONTEXT, submitted
from helpers import ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, PROJECT

from workbench import disclosure as sdc
from workbench.disclosure.rules import ACRO_04_NAMES, ACRO_NAMES, DESCRIPTIONS

# every name a rule goes by, in the workbench and in ACRO (0.4 and 1.0.2)
RULE_NAMES = {*DESCRIPTIONS, *ACRO_NAMES.values(), *ACRO_04_NAMES.values(), "p%", "nk", "dominated"}


def approve_all(connect, request) -> None:
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            connect(checker).review.decide(request.id, output_id, "approve", "Safe: checked against the totals")
    connect(CHECKER3).review.conclude(request.id, "approve", "Two independent approvals")


def zipped(folder: Path) -> bytes:
    """The package as it would be sent: every file of it in one archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def words_in(value) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value} | {w for v in value.values() for w in words_in(v)}
    if isinstance(value, list):
        return {w for v in value for w in words_in(v)}
    if isinstance(value, str):
        return {value, *value.replace(";", " ").replace(":", " ").replace(",", " ").split()}
    return set()


def test_a_released_package_never_says_why_a_cell_is_blank(desk) -> None:
    project = desk(ANALYST).project(PROJECT)
    data = project.load(DATASET)  # 100 admissions, arranged in a 3 × 3 table with a 0 and a 3 among large cells
    counts = [[20, 15, 3], [15, 0, 15], [12, 10, 10]]
    data["ward"] = np.repeat(["A", "B", "C"], [sum(row) for row in counts])
    data["stay"] = np.concatenate([np.repeat(["x", "y", "z"], row) for row in counts])
    table = project.tables.crosstab(data, "ward", "stay", name="by ward and stay")
    assert table.table.to_numpy().tolist() == counts
    flags = table.flags
    zeros, small = flags["zeros"].to_numpy(), flags["threshold"].to_numpy()
    assert zeros.any() and small.any()  # blank cells of both kinds: exact zeros and counts of 1 to 9
    suppressed = table.suppressed.to_numpy()
    assert (suppressed & zeros).any() and (suppressed & small).any() and (suppressed & ~zeros & ~small).any()
    request = submitted(desk, outputs=[table], context=CONTEXT)
    shown = desk(CHECKER3).review.show(request.id)
    assert "zeros" in shown["outputs"][0]["explain"] and "threshold" in shown["outputs"][0]["explain"]
    approve_all(desk, request)
    folder = Path(desk(CHECKER3).review.release(request.id)["package"])

    archive = zipfile.ZipFile(io.BytesIO(zipped(folder)))
    for name in archive.namelist():
        content = archive.read(name).decode("utf-8")
        found = RULE_NAMES & words_in(json.loads(content) if name.endswith(".json") else content)
        assert not found, f"{name} names the rules {sorted(found)}"
    results = json.loads(archive.read("results.json"))
    (record,) = results["results"].values()
    (file,) = record["files"]
    positions = np.argwhere(suppressed).tolist()
    assert file["sdc"] == {"summary": {"suppressed": len(positions)}, "cells": {"suppressed": positions}}
    assert record["fair"] == {"context": "https://w3id.org/statbarnsdc#", "statbarn": "Frequencies",
                              "risks": ["ClassDisclosure", "Differencing", "LowCount"], "dependent": "unknown",
                              "independent": ["ward", "stay"]}
    outcome = pd.DataFrame(record["outcome"])
    assert set(outcome.to_numpy().ravel()) == {"ok", "suppressed"}
    assert (outcome.to_numpy() == "suppressed").sum() == suppressed.sum()
    assert record["summary"].startswith(f"review; {int(suppressed.sum())} cells suppressed; review: ")
    manifest = json.loads(archive.read("manifest.json"))
    checks = manifest["outputs"][0]["checks"]
    assert set(checks) == {"status", "status_before_mitigation", "summary", "sdc", "outcome", "mitigation", "fair"}
    assert checks["mitigation"] == {"method": "suppress", "suppressed": int(suppressed.sum())}  # no count per rule
    # what leaves is what the checker was shown as released, and it reads back as suppressed cells, not rules
    assert checks == shown["outputs"][0]["released"]["checks"]
    (back,) = sdc.read_results_json(folder).values()
    assert back.flags == {} and back.suppressed.to_numpy().tolist() == suppressed.tolist()
    assert back.explain().endswith("Every rule is met.")
