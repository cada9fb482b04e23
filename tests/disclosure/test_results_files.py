"""A results folder made in memory is the folder ``to_results_json`` writes, and reads back with the same checks."""

from __future__ import annotations

import json
from hashlib import sha256

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure.results_json import read_results_files, read_results_json, results_files
from workbench.errors import InvalidInput


def _output() -> sdc.Output:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"area": rng.choice(list("abcd"), 400), "job": rng.choice(list("xyz"), 400),
                          "hours": rng.integers(1, 60, 400)})
    frame.loc[:3, "area"] = "rare"
    output = sdc.crosstab(frame["area"], frame["job"], values=frame["hours"], aggfunc="mean")
    output.uid = "p_output_1"
    return output


def test_the_files_made_in_memory_are_the_folder_written(tmp_path) -> None:
    output = _output()
    files = results_files({output.uid: output})
    sdc.to_results_json({output.uid: output}, tmp_path / "out")
    on_disk = {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
               for p in sorted((tmp_path / "out").rglob("*")) if p.is_file()}
    assert list(files) == list(on_disk) and "unreleased/p_output_1.csv" in files
    assert {k: v for k, v in files.items() if "results.json" not in k} == {
        k: v for k, v in on_disk.items() if "results.json" not in k}
    document = json.loads(files["results.json"])
    assert document["results"]["p_output_1"]["status"] == output.status
    back = read_results_files(files)["p_output_1"]
    disk = read_results_json(tmp_path / "out")["p_output_1"]
    for table in (back.table, disk.table):
        pd.testing.assert_frame_equal(table, output.table)
    pd.testing.assert_frame_equal(back.safe_table, output.safe_table)
    assert back.summary() == output.summary()


@pytest.mark.parametrize("name", ["/etc/passwd", "../p_output_1.csv", "a/../../x.csv", "..", "a\\b.csv"])
def test_a_folder_in_memory_refuses_names_outside_it(name: str) -> None:
    output = _output()
    files = results_files({output.uid: output})
    document = json.loads(files["results.json"])
    document["results"]["p_output_1"]["properties"]["workbench"]["table"]["file"] = name
    content = json.dumps(document).encode()
    files = {**files, "results.json": content, "checksums/results.json.txt": sha256(content).hexdigest().encode()}
    with pytest.raises(InvalidInput, match="outside its folder"):
        read_results_files(files)


@pytest.mark.parametrize("name", ["/etc/passwd", "../p_output_1.csv", "unreleased/p_output_1.csv"])
def test_the_file_listed_as_released_must_be_the_released_table_inside_the_folder(name: str) -> None:
    output = _output()
    files = results_files({output.uid: output})
    document = json.loads(files["results.json"])
    document["results"]["p_output_1"]["files"][0]["name"] = name
    content = json.dumps(document).encode()
    files = {**files, "results.json": content, "checksums/results.json.txt": sha256(content).hexdigest().encode()}
    with pytest.raises(InvalidInput, match=r"outside its folder|lists .* as released"):
        read_results_files(files)


def test_a_folder_in_memory_checks_its_checksums() -> None:
    output = _output()
    files = results_files({output.uid: output})
    files["p_output_1.csv"] = files["p_output_1.csv"].replace(b"\n", b"\n ", 1)
    with pytest.raises(InvalidInput, match="does not match its checksum"):
        read_results_files(files)
