"""ACRO 1.0.2 compatibility, on a folder the real ``acro`` package wrote (tests/data/acro-1.0.2, made by the script
beside it): it is read with its check names mapped, its multi-level pivot CSVs whole and its ``DONT_RELEASE`` files
skipped; it round-trips through the workbench's own writer; ``sdc.crosstab`` on the same records flags every cell
ACRO flags; and a hostile folder is refused clearly."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure import results_json
from workbench.errors import InvalidInput, NotFound, WorkbenchError

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "acro-1.0.2"
TABLES = [f"output_{i}" for i in range(5)]
# ACRO's checks under the workbench's rules, and which of the workbench's rules cover each: ACRO's threshold check
# fails a count of 0 (0 < 10), which the workbench's zeros rule flags
COVERED_BY = {"threshold": ("threshold", "zeros"), "zeros": ("zeros",), "dominance": ("dominance",),
              "p_percent": ("p_percent",), "negative": ("negative",)}


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return pd.read_csv(FIXTURE / "records.csv")


@pytest.fixture(scope="module")
def acro() -> dict[str, sdc.Output]:
    return sdc.read_results_json(FIXTURE / "results")


def ours(records: pd.DataFrame) -> dict[str, sdc.Output]:
    """The tables make_fixture.py asked ACRO for, by the same uids, checked by the workbench."""
    r = records
    return {
        "output_0": sdc.crosstab(r.region, r.sex),
        "output_1": sdc.crosstab(r.region, r.sex, values=r.income, aggfunc="mean"),
        "output_2": sdc.crosstab(r.region, r.sex, values=r.balance, aggfunc="sum"),
        "output_3": sdc.pivot_table(r, index=["region"], columns=["sex", "status"], values=["income"],
                                    aggfunc=["mean"]),
        "output_4": sdc.crosstab([r.region, r.status], r.sex, values=r.income, aggfunc="sum"),
    }


def test_a_folder_written_by_acro_1_0_2_is_read(acro) -> None:
    document = json.loads((FIXTURE / "results" / "results.json").read_text())
    assert document["version"] == "1.0.2" and document["tool"]["name"] == "ACRO"
    assert any("DONT_RELEASE" in uid for uid in document["results"])  # ACRO's session summary, CSV included...
    assert list(acro) == TABLES  # ...is not an output
    assert {uid: {rule: int(flag.to_numpy().sum()) for rule, flag in out.flags.items()}
            for uid, out in acro.items()} == {
        "output_0": {"zeros": 1, "threshold": 2},
        "output_1": {"dominance": 2, "p_percent": 1, "threshold": 2},
        "output_2": {"negative": 1, "threshold": 2},  # NKCheck/PPercentCheck "review": negative values
        "output_3": {"dominance": 4, "p_percent": 4, "threshold": 18},
        "output_4": {"dominance": 4, "p_percent": 4, "threshold": 18},
    }
    pivot = acro["output_3"].table  # four header rows and a row of index names: read as one table
    assert pivot.shape == (5, 6) and pivot.index.name == "region"
    assert list(pivot.columns[:2]) == [("mean", "income", "F", "x"), ("mean", "income", "F", "y")]
    assert round(pivot.loc["A", ("mean", "income", "F", "x")], 3) == 462.214
    rows = acro["output_4"].table  # two label columns
    assert rows.index.names == ["region", "status"] and rows.shape == (15, 2) and pd.isna(rows.loc[("E", "x"), "M"])
    assert acro["output_0"].table.loc["E", "M"] == 0 and acro["output_0"].flags["zeros"].loc["E", "M"]
    assert acro["output_1"].settings.threshold == 10 and acro["output_1"].settings.dominance_k == 0.9  # config.json
    assert acro["output_1"].status == "fail" and acro["output_1"].method == "crosstab"
    assert "D × F: flagged by threshold" in acro["output_1"].explain()


def test_an_acro_folder_round_trips_through_the_workbench(acro, tmp_path) -> None:
    """Read ACRO's folder, write it in the workbench's ACRO 1.0.2 layout, read it again: the same tables and
    flagged cells, records with exactly ACRO's keys."""
    written = sdc.to_results_json(acro, tmp_path / "again")
    again = sdc.read_results_json(written.parent)
    assert list(again) == TABLES
    for uid in TABLES:
        pd.testing.assert_frame_equal(again[uid].table, acro[uid].table)
        assert list(again[uid].flags) == list(acro[uid].flags)
        for rule, flag in acro[uid].flags.items():
            pd.testing.assert_frame_equal(again[uid].flags[rule], flag)
        assert again[uid].status == acro[uid].status
    theirs = json.loads((FIXTURE / "results" / "results.json").read_text())
    mine = json.loads(written.read_text())
    assert set(mine) == set(theirs) and mine["version"] == theirs["version"]
    assert set(mine["tool"]) <= set(theirs["tool"]) and mine["tool"]["@type"] == theirs["tool"]["@type"]
    for uid in TABLES:
        assert set(mine["results"][uid]) == set(theirs["results"][uid])
        assert set(mine["results"][uid]["fair"]) >= set(theirs["results"][uid]["fair"]) - {"common_mitigations"}
        assert mine["results"][uid]["fair"]["statbarn"] == theirs["results"][uid]["fair"]["statbarn"]
        (file,) = mine["results"][uid]["files"]
        assert set(file["sdc"]["summary"]) <= set(theirs["results"][uid]["files"][0]["sdc"]["summary"]) | {"negative"}
    assert set(json.loads((written.parent / "config.json").read_text())) >= {
        k for k in json.loads((FIXTURE / "results" / "config.json").read_text())
        if k not in ("survival_safe_threshold", "federated", "blocked_extensions")}


def test_crosstab_flags_every_cell_acro_flags(acro, records) -> None:
    """bars-style agreement: on tables with an empty cell, contributors of 0, negative values, a dominated cell
    and small cells, every cell ACRO 1.0.2 flags is flagged by the workbench under the matching rule. The
    workbench flags more only where docs/disclosure.md says why (all-values-same)."""
    checked = ours(records)
    seen = set()
    for uid, theirs in acro.items():
        mine = checked[uid]
        assert mine.table.index.equals(theirs.table.index) and list(mine.table.columns) == list(theirs.table.columns)
        flagged_by_acro = set()
        for rule, flag in theirs.flags.items():
            seen.add(rule)
            for r, c in np.argwhere(flag.to_numpy()):
                flagged_by_acro.add((r, c))
                assert any(name in mine.flags and mine.flags[name].iat[r, c] for name in COVERED_BY[rule]), (
                    uid, rule, theirs.table.index[r], theirs.table.columns[c])
        assert (mine.status_before_mitigation == "fail") == (theirs.status == "fail")
        extra = {(name, r, c) for name, flag in mine.flags.items() for r, c in np.argwhere(flag.to_numpy())
                 if (r, c) not in flagged_by_acro}
        assert {name for name, _, _ in extra} <= {"all_same"}, (uid, extra)
    assert seen == set(COVERED_BY)  # the fixture exercises every check ACRO ran
    same = checked["output_3"]  # region B, M, status z: every income 500
    assert same.flags["all_same"].loc["B", ("mean", "income", "M", "z")]


# -- hostile folders ----------------------------------------------------------------------------------------------

def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "acro"
    shutil.copytree(FIXTURE / "results", folder)
    return folder


def _rewrite(folder: Path, change) -> None:
    """Change results.json and give it a matching checksum (so only the change is judged)."""
    document = json.loads((folder / "results.json").read_text())
    change(document)
    content = json.dumps(document).encode()
    (folder / "results.json").write_bytes(content)
    (folder / "checksums" / "results.json.txt").write_text(hashlib.sha256(content).hexdigest())


def _refused(folder: Path, error: type[WorkbenchError], match: str) -> str:
    before = sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    with pytest.raises(error, match=match) as refused:
        sdc.read_results_json(folder)
    assert sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    return str(refused.value)


@pytest.mark.parametrize("name", ["/etc/hosts.csv", "../outside.csv", "checksums/../../outside.csv"])
def test_a_file_named_outside_the_folder_is_refused(tmp_path, name) -> None:
    folder = _copy(tmp_path)
    (tmp_path / "outside.csv").write_text("region,F\nA,1\n")
    _rewrite(folder, lambda d: d["results"]["output_0"]["files"][0].update(name=name))
    _refused(folder, InvalidInput, "names a file outside its folder")


def test_symbolic_links_are_refused(tmp_path) -> None:
    folder = _copy(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text((folder / "output_0_0.csv").read_text())
    (folder / "output_0_0.csv").unlink()
    os.symlink(secret, folder / "output_0_0.csv")
    _refused(folder, InvalidInput, "output_0_0.csv is a symbolic link")
    linked = _copy(tmp_path / "second")
    (linked / "results.json").rename(tmp_path / "results.json")
    os.symlink(tmp_path / "results.json", linked / "results.json")
    _refused(linked, InvalidInput, "results.json is a symbolic link")


def test_huge_files_are_refused_unread(tmp_path, monkeypatch) -> None:
    folder = _copy(tmp_path)
    monkeypatch.setattr(results_json, "MAX_FILE_BYTES", (folder / "results.json").stat().st_size + 1)
    with (folder / "output_1_0.csv").open("ab") as handle:
        handle.truncate((folder / "results.json").stat().st_size + 10)
    message = _refused(folder, InvalidInput, "output_1_0.csv is larger than")
    assert "bytes" in message
    monkeypatch.setattr(results_json, "MAX_FILE_BYTES", 100)
    _refused(folder, InvalidInput, "results.json is larger than 100 bytes")


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d.update(results=[1, 2]), "not a results.json file"),
    (lambda d: d["results"].update(output_0="text"), "not a results.json file"),
    (lambda d: d["results"]["output_0"].update(files="output_0_0.csv"), "files must be a list"),
    (lambda d: d["results"]["output_0"]["files"][0].update(sdc=[1]), "sdc block must be an object"),
    (lambda d: d["results"]["output_0"]["files"][0]["sdc"]["cells"].update(MinimumThresholdCheck=[[99, 0]]),
     r"\[99, 0\] is not a cell of its 5×2 table"),
    (lambda d: d["results"]["output_0"]["files"][0]["sdc"]["cells"].update(MinimumThresholdCheck=[[-1, 0]]),
     r"\[-1, 0\] is not a cell"),
    (lambda d: d["results"]["output_0"]["files"][0]["sdc"]["cells"].update(NKCheck={"a": 1}),
     "must be a list of"),
    (lambda d: d["results"]["output_0"].update(status="approved"), "is not pass, fail or review"),
    (lambda d: d["results"]["output_0"]["outcome"].pop("M"), r"\[4, 1\] is not a cell of its 5×1 table"),
    (lambda d: d["results"]["output_3"]["outcome"]["('mean', 'income', 'F', 'x')"].pop("A"),
     "an outcome must give every column the same rows"),
    (lambda d: d["results"]["output_3"]["outcome"].update({"x": {str(i): "ok" for i in range(5)}}),
     r"does not hold the 5×7 table"),
])
def test_malformed_records_are_refused(tmp_path, change, match) -> None:
    folder = _copy(tmp_path)
    _rewrite(folder, change)
    _refused(folder, InvalidInput, match)


def test_malformed_json_and_config_are_refused(tmp_path) -> None:
    folder = _copy(tmp_path)
    content = b'{"version": "1.0.2", "results": {'
    (folder / "results.json").write_bytes(content)
    (folder / "checksums" / "results.json.txt").write_text(hashlib.sha256(content).hexdigest())
    _refused(folder, InvalidInput, "is not a results.json file")
    deep = b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    (folder / "results.json").write_bytes(deep)
    (folder / "checksums" / "results.json.txt").write_text(hashlib.sha256(deep).hexdigest())
    _refused(folder, InvalidInput, "is not a results.json file .RecursionError")
    configured = _copy(tmp_path / "config")
    (configured / "config.json").write_text('{"safe_threshold": -4}')
    _refused(configured, InvalidInput, "config.json: threshold")
    (configured / "config.json").write_text("[1]")
    _refused(configured, InvalidInput, "config.json is not a JSON object")


def test_missing_files_and_checksums_are_refused(tmp_path) -> None:
    folder = _copy(tmp_path)
    (folder / "output_2_0.csv").unlink()
    _refused(folder, NotFound, "output_2_0.csv is listed in results.json but is not a file")
    unchecked = _copy(tmp_path / "unchecked")
    (unchecked / "checksums" / "output_2_0.csv.txt").unlink()
    _refused(unchecked, InvalidInput, "output_2_0.csv has no checksum")
    with pytest.raises(NotFound, match=r"No results\.json"):
        sdc.read_results_json(tmp_path / "nowhere")
    directory = _copy(tmp_path / "directory")
    (directory / "output_2_0.csv").unlink()
    (directory / "output_2_0.csv").mkdir()
    _refused(directory, NotFound, "output_2_0.csv is listed in results.json but is not a file")
    figure = _copy(tmp_path / "figure")  # a listed file that is not a table is still one the folder must hold
    _rewrite(figure, lambda d: d["results"]["output_2"]["files"].append({"name": "figure.png", "sdc": {}}))
    _refused(figure, NotFound, "figure.png is listed in results.json but is not a file")


def test_wrong_checksums_are_refused(tmp_path) -> None:
    folder = _copy(tmp_path)
    csv_path = folder / "output_1_0.csv"
    csv_path.write_text(csv_path.read_text().replace("450.475", "451.475"))
    _refused(folder, InvalidInput, "output_1_0.csv does not match its checksum")
    document = _copy(tmp_path / "document")
    (document / "results.json").write_text((document / "results.json").read_text().replace('"fail"', '"pass"'))
    _refused(document, InvalidInput, "results.json does not match its checksum")


def test_acro_reads_a_folder_the_workbench_writes(records, tmp_path, monkeypatch) -> None:
    """The other direction, where the real ``acro`` is installed (it is not a dependency: see the fixture's
    README): ACRO 1.0.2's own loader reads the workbench's folder, each table and its sdc block."""
    record = pytest.importorskip("acro.record")
    checked = ours(records)
    folder = sdc.to_results_json(checked, tmp_path / "ours").parent
    monkeypatch.chdir(tmp_path)
    loaded = record.load_records(str(folder))
    assert list(loaded.results) == TABLES
    for uid, output in checked.items():
        read = loaded.results[uid]
        assert read.status == output.status and read.fair["statbarn"]
        assert read.output[0].shape == (len(output.safe_table), output.safe_table.index.nlevels
                                        + output.safe_table.shape[1])
        assert read.sdc["summary"]["MinimumThresholdCheck"] == int(output.flags["threshold"].to_numpy().sum())
