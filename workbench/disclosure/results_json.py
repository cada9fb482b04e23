"""ACRO/SACRO interchange: write outputs as a ``results.json`` folder an output checker opens in SACRO-Viewer,
and read such folders back.

The layout is ACRO's: ``{version, results: {uid: {uid, status, type, properties, files: [{name, sdc: {summary,
cells}}], outcome, command, summary, timestamp, comments, exception}}}`` plus one CSV per released table and a
``checksums/`` folder (SHA-256 of each file, as ACRO writes them). ``cells`` lists ``[row, column]`` positions
of the failing cells per rule, in the CSV's data block, so the viewer highlights them.

Each listed CSV is what may be released: the table after mitigation. When mitigation changed the table, the
unmitigated table is kept beside it in ``unreleased/`` for the checker, and is never listed in ``files``.
Everything else the workbench needs to rebuild an output exactly (labels with their types, column types, the
settings, the mitigation) is under ``properties["workbench"]``; other tools ignore it.

A release package's records (``released_record``) are different: they are made only from an output's released
fields (``workbench/outputs/released.py``), the ones its output checker was shown, and carry no
``properties["workbench"]``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import posixpath
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from workbench.disclosure.output import Output
from workbench.disclosure.rules import ACRO_NAMES
from workbench.disclosure.settings import DisclosureSettings
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.version import __version__

ACRO_FORMAT_VERSION = "0.4.0"  # the results.json layout SACRO-Viewer 0.4.x reads
FORMAT = 1
UNRELEASED = "unreleased"
OUR_NAMES = {acro: ours for ours, acro in ACRO_NAMES.items()}


# -- labels and values as JSON -----------------------------------------------------------------------------------

def _scalar(value: Any) -> Any:
    """A label as JSON that reads back as the same Python value."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return {"none": True}
    if value is pd.NA:
        return {"na": True}
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, pd.Timestamp | datetime):
        return {"timestamp": pd.Timestamp(value).isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, pd.Interval):
        return {"interval": [_scalar(value.left), _scalar(value.right), value.closed]}
    if isinstance(value, tuple):
        return {"tuple": [_scalar(v) for v in value]}
    return {"text": str(value)}


def _unscalar(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "none" in value:
        return None
    if "na" in value:
        return pd.NA
    if "float" in value:
        return float(value["float"])
    if "timestamp" in value:
        return pd.Timestamp(value["timestamp"])
    if "date" in value:
        return date.fromisoformat(value["date"])
    if "interval" in value:
        left, right, closed = value["interval"]
        return pd.Interval(_unscalar(left), _unscalar(right), closed=closed)
    if "tuple" in value:
        return tuple(_unscalar(v) for v in value["tuple"])
    return value.get("text")


def _level(values: pd.Index) -> dict[str, Any]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return {"dtype": "category", "codes": [int(c) for c in values.codes],
                "categories": _level(pd.Index(values.categories)), "ordered": bool(values.dtype.ordered)}
    if isinstance(values, pd.IntervalIndex):
        return {"dtype": "interval", "closed": values.closed, "left": _level(values.left),
                "right": _level(values.right)}
    return {"dtype": str(values.dtype), "values": [_scalar(v) for v in values]}


def _unlevel(spec: dict[str, Any]) -> pd.Index:
    if spec["dtype"] == "category":
        categories = _unlevel(spec["categories"])
        return pd.CategoricalIndex(pd.Categorical.from_codes(spec["codes"], categories=categories,
                                                             ordered=spec["ordered"]))
    if spec["dtype"] == "interval":
        return pd.IntervalIndex.from_arrays(_unlevel(spec["left"]), _unlevel(spec["right"]), closed=spec["closed"])
    values = [_unscalar(v) for v in spec["values"]]
    try:
        return pd.Index(values, dtype=spec["dtype"])
    except (TypeError, ValueError):
        return pd.Index(values, dtype=object)


def _axis(index: pd.Index) -> dict[str, Any]:
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    return {"multi": isinstance(index, pd.MultiIndex), "names": [_scalar(n) for n in index.names],
            "levels": [_level(level) for level in levels]}


def _unaxis(spec: dict[str, Any]) -> pd.Index:
    levels = [_unlevel(level) for level in spec["levels"]]
    names = [_unscalar(n) for n in spec["names"]]
    if spec["multi"]:
        return pd.MultiIndex.from_arrays(levels, names=names)
    return levels[0].rename(names[0])


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _text(label: Any) -> str:
    return " / ".join(map(str, label)) if isinstance(label, tuple) else str(label)


# -- CSV -----------------------------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and math.isnan(value)):
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, float) else str(value)


def _floats(values: list[float]) -> list[str]:
    return ["" if v != v else repr(v) for v in values]  # NaN is unequal to itself


def _columns_text(table: pd.DataFrame) -> list[list[str]]:
    """Each column's cells as CSV text (``_cell``): float64 and integer tables a whole table at a time."""
    kinds = set(table.dtypes)
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind == np.float64:
        return [_floats(column) for column in table.to_numpy().T.tolist()]
    if isinstance(kind, np.dtype) and kind.kind in "iu":
        return [[str(v) for v in column] for column in table.to_numpy().T.tolist()]
    columns = []
    for j in range(table.shape[1]):
        column = table.iloc[:, j]
        if column.dtype == np.float64:
            columns.append(_floats(column.tolist()))
        else:
            columns.append([_cell(v) for v in column.to_numpy(dtype=object)])
    return columns


def _csv(table: pd.DataFrame) -> str:
    """One header row (index names, then column labels) and one row per table row: what the viewer shows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([("" if n is None else str(n)) for n in table.index.names] + [_text(c) for c in table.columns])
    if isinstance(table.index, pd.MultiIndex):
        labels = [[str(v) for v in label] for label in table.index]
    else:
        labels = [[str(label)] for label in table.index]
    columns = _columns_text(table)
    writer.writerows(label + list(cells) for label, *cells in zip(labels, *columns, strict=True))
    return buffer.getvalue()


def _parse(text: str, dtype: str) -> Any:
    if dtype.startswith(("float", "Float")):
        return float(text) if text else np.nan
    if dtype.startswith(("int", "uint")):
        return int(text)
    if dtype.startswith(("Int", "UInt")):
        return int(text) if text else pd.NA
    if dtype in ("bool", "boolean"):
        return {"True": True, "False": False}.get(text, pd.NA)
    return text if text else np.nan


def _column(texts: list[str], dtype: str) -> Any:
    """One column read back from its CSV text as ``dtype``: whole columns at a time for float64 and int64."""
    if dtype == "float64":
        return np.array([float(t) if t else np.nan for t in texts], dtype=np.float64)
    if dtype == "int64":
        return np.array([int(t) for t in texts], dtype=np.int64)
    return pd.Series([_parse(t, dtype) for t in texts], dtype=object).astype(dtype)


def _read_csv(name: str, content: bytes, index: pd.Index, columns: pd.Index, dtypes: list[str]) -> pd.DataFrame:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))[1:]
    skip = index.nlevels
    if len(rows) != len(index):
        raise InvalidInput(f"{name} has {len(rows)} rows, but results.json describes {len(index)}; the "
                           "folder was changed after it was written.")
    texts = [[row[skip + j] for row in rows] for j in range(len(dtypes))]
    if dtypes and len(set(dtypes)) == 1 and dtypes[0] in ("float64", "int64"):  # one block, as pandas builds it
        array = np.empty((len(rows), len(dtypes)), dtype=dtypes[0])
        for j, column in enumerate(texts):
            array[:, j] = _column(column, dtypes[0])
        return pd.DataFrame(array, index=index, columns=columns)
    parts = [pd.Series(_column(column, dtype)) for column, dtype in zip(texts, dtypes, strict=True)]
    frame = pd.concat(parts, axis=1, ignore_index=True) if parts else pd.DataFrame(index=range(len(rows)))
    frame.index, frame.columns = index, columns
    return frame


# -- writing -------------------------------------------------------------------------------------------------------

def _positions(frame: pd.DataFrame) -> list[list[int]]:
    return np.argwhere(frame.to_numpy(dtype=bool)).tolist()


def cell_outcome(output: Output) -> dict[str, dict[str, str]]:
    """ACRO's per-cell outcome: the failing rules' names, or 'ok'."""
    table = output.table
    texts = np.full(table.shape, "", dtype=object)
    for name, flag in output.flags.items():
        texts[flag.to_numpy(dtype=bool)] += f"{ACRO_NAMES.get(name, name)}; "
    texts[texts == ""] = "ok"
    rows = [_text(r) for r in table.index]
    return {_text(c): dict(zip(rows, texts[:, j].tolist(), strict=True)) for j, c in enumerate(table.columns)}


def sdc_block(output: Output) -> tuple[dict[str, Any], dict[str, list[list[int]]]]:
    """ACRO's per-file ``sdc`` block: failing-cell counts per rule and their positions."""
    summary: dict[str, Any] = {"suppressed": output.mitigation.get("method") == "suppress"}
    cells = {}
    for name, flag in output.flags.items():
        acro = ACRO_NAMES.get(name, name)
        cells[acro] = _positions(flag)
        summary[acro] = len(cells[acro])
    for acro in ("negative", "missing", "threshold", "p-ratio", "nk-rule", "all-values-are-same"):
        summary.setdefault(acro, 0)
        cells.setdefault(acro, [])
    return summary, cells


def released_csv(table: pd.DataFrame) -> str:
    """A table as the CSV that is released (and that the viewer shows)."""
    return _csv(table)


def released_record(released: Mapping[str, Any]) -> dict[str, Any]:
    """An output's ACRO/SACRO record for a release package, made only from its released fields (the dict
    ``workbench.outputs.released.released_output`` makes, which the output checker is shown): what the viewer
    reads, without the workbench's internals (the unmitigated table, per-cell measures, other properties)."""
    checks = released["checks"]
    return {
        "uid": released["uid"], "status": checks["status"], "type": released["kind"],
        "properties": dict(released["properties"]),
        "files": [{"name": name, "sdc": checks["sdc"]} for name in released["files"]],
        "outcome": checks["outcome"], "command": released["command"], "summary": checks["summary"],
        "timestamp": released["timestamp"], "comments": list(released["comments"]),
        "exception": released["exception"] or "",
    }


def _record(uid: str, output: Output, files: dict[str, bytes]) -> dict[str, Any]:
    released = f"{uid}.csv"
    files[released] = _csv(output.safe_table).encode("utf-8")
    same = output.safe_table.equals(output.table) and list(output.safe_table.dtypes) == list(output.table.dtypes)
    table_file = released
    if not same:
        table_file = f"{UNRELEASED}/{uid}.csv"
        files[table_file] = _csv(output.table).encode("utf-8")
    summary, cells = sdc_block(output)
    measures = {}
    for name, frame in output.measures.items():
        if name in output.flags:
            rows, cols = np.nonzero(output.flags[name].to_numpy(dtype=bool))
            values = frame.to_numpy(dtype=np.float64)[rows, cols]
            measures[name] = [[r, c, v] for r, c, v in zip(rows.tolist(), cols.tolist(), values.tolist(),
                                                            strict=True)]
    workbench = {
        "format": FORMAT, "kind": output.kind, "method": output.method,
        "status_before_mitigation": output.status_before_mitigation, "settings": output.settings.as_dict(),
        "mitigation": _jsonable(output.mitigation), "rules": list(output.flags), "measures": measures,
        "suppressed": _positions(output.suppressed), "index": _axis(output.table.index),
        "columns": _axis(output.table.columns), "table": {"file": table_file,
                                                            "dtypes": [str(d) for d in output.table.dtypes]},
        "safe_table": {"file": released, "dtypes": [str(d) for d in output.safe_table.dtypes]},
    }
    return {
        "uid": uid, "status": output.status, "type": output.kind,
        "properties": {**_jsonable(output.properties), "method": output.method, "workbench": workbench},
        "files": [{"name": released, "sdc": {"summary": summary, "cells": cells}}],
        "outcome": cell_outcome(output), "command": output.command, "summary": output.summary(),
        "timestamp": output.timestamp, "comments": list(output.comments), "exception": output.exception or "",
    }


def _order(name: str) -> tuple[str, ...]:
    """Where a file comes in a folder listed in path order (``sorted(folder.rglob("*"))``)."""
    return tuple(name.split("/"))


def _checksums(files: dict[str, bytes]) -> None:
    """ACRO's ``checksums/<file>.txt``: the SHA-256 of each file, added to ``files``."""
    for name in sorted(files, key=_order):
        files[f"checksums/{name}.txt"] = hashlib.sha256(files[name]).hexdigest().encode("utf-8")


def results_files(outputs: Output | Iterable[Output] | Mapping[str, Output]) -> dict[str, bytes]:
    """The files of a ``results.json`` folder for ``outputs`` (path in the folder → content), in path order:
    what ``to_results_json`` writes, made in memory so a folder can be written, or an archive packed, at once."""
    if isinstance(outputs, Output):
        outputs = [outputs]
    if isinstance(outputs, Mapping):
        items = list(outputs.items())
    else:
        items = []
        for i, output in enumerate(outputs):
            items.append((output.uid or f"output_{i}", output) if isinstance(output, Output) else ("", output))
    for uid, output in items:
        if not isinstance(output, Output):
            raise InvalidInput(f"outputs: give disclosure Outputs (from sdc.crosstab, sdc.ols...), not "
                               f"{type(output).__name__}.", field="outputs")
        if not isinstance(uid, str) or not uid or "/" in uid or uid.startswith("."):
            raise InvalidInput(f"outputs: {uid!r} is not a usable output name; use letters, digits and '_'.",
                               field="outputs")
    uids = [uid for uid, _ in items]
    if len(set(uids)) != len(uids):
        raise InvalidInput("outputs: two outputs share a name; give each its own uid.", field="outputs")
    files: dict[str, bytes] = {}
    results = {uid: _record(uid, output, files) for uid, output in items}
    document = {"version": ACRO_FORMAT_VERSION, "tool": f"workbench {__version__}", "results": results}
    # one line: json's C encoder writes it (an indented document takes the pure-Python encoder, ~10x slower)
    files["results.json"] = json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    _checksums(files)
    return {name: files[name] for name in sorted(files, key=_order)}


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (path in the folder → content, as ``results_files`` makes them) into ``folder``."""
    for name, content in files.items():
        target = folder / name
        if "/" in name:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def to_results_json(outputs: Output | Iterable[Output] | Mapping[str, Output], folder: str | Path) -> Path:
    """Write outputs to a new folder as ACRO/SACRO ``results.json`` + CSVs + checksums; returns the json path."""
    files = results_files(outputs)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Conflict(f"{folder} already exists and is not an empty folder; choose a new folder for the results.")
    folder.mkdir(parents=True, exist_ok=True)
    write_files(folder, files)
    return folder / "results.json"


# -- reading -------------------------------------------------------------------------------------------------------

Folder = Path | Mapping[str, bytes]  # a results folder on disk, or its files in memory (path → content)


def _outside() -> InvalidInput:
    return InvalidInput("results.json names a file outside its folder; a results folder only refers to its own "
                        "files.", field="results.json")


def _inside(folder: Folder, name: Any) -> Path | str:
    """The file ``name`` (as results.json names it) in ``folder``; refused if it would lie anywhere else."""
    if not isinstance(name, str) or not name or "\0" in name or Path(name).is_absolute() or "\\" in name:
        raise _outside()
    if not isinstance(folder, Path):  # in memory: the name, normalised, must stay below the folder
        normal = posixpath.normpath(name)
        if normal in (".", "..") or normal.startswith(("../", "/")):
            raise _outside()
        return normal
    root = folder.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise _outside()
    return path


def _exists(folder: Folder, at: Path | str) -> bool:
    if isinstance(at, Path):
        return at.exists()
    return not isinstance(folder, Path) and at in folder


def _read(folder: Folder, at: Path | str) -> bytes:
    if isinstance(at, Path):
        return at.read_bytes()
    if isinstance(folder, Path) or at not in folder:  # a name in memory is read from the files in memory only
        raise FileNotFoundError(at)
    return folder[at]


def _verify(folder: Folder, name: str) -> None:
    target = _inside(folder, name)
    checksum = _inside(folder, f"checksums/{name}.txt")
    if not _exists(folder, checksum):
        return
    actual = hashlib.sha256(_read(folder, target)).hexdigest()
    if _read(folder, checksum).decode("utf-8").strip() != actual:
        raise InvalidInput(f"{name} does not match its checksum: it was changed after it was written; ask for "
                           "the outputs to be produced again.", field=name)


def _flags(table: pd.DataFrame, positions: Iterable[Iterable[int]]) -> pd.DataFrame:
    array = np.zeros(table.shape, dtype=bool)
    for r, c in positions:
        array[r, c] = True
    return pd.DataFrame(array, index=table.index, columns=table.columns)


def _table(folder: Folder, spec: dict[str, Any], index: pd.Index, columns: pd.Index) -> pd.DataFrame:
    at = _inside(folder, spec["file"])
    return _read_csv(PurePosixPath(str(at)).name, _read(folder, at), index, columns, spec["dtypes"])


def _read_workbench(uid: str, record: dict[str, Any], folder: Folder) -> Output:
    spec = record["properties"]["workbench"]
    index, columns = _unaxis(spec["index"]), _unaxis(spec["columns"])
    for name in {spec["table"]["file"], spec["safe_table"]["file"]}:
        _verify(folder, name)
    table = _table(folder, spec["table"], index, columns)
    safe = _table(folder, spec["safe_table"], index, columns)
    cells = record["files"][0]["sdc"]["cells"]
    flags = {name: _flags(table, cells.get(ACRO_NAMES.get(name, name), [])) for name in spec["rules"]}
    measures = {}
    for name in spec["rules"]:
        array = np.full(table.shape, np.nan)
        for r, c, value in spec["measures"].get(name, []):
            array[r, c] = value
        measures[name] = pd.DataFrame(array, index=table.index, columns=table.columns)
    properties = {k: v for k, v in record["properties"].items() if k != "workbench"}
    return Output(kind=spec["kind"], method=spec["method"], table=table, flags=flags, status=record["status"],
                  safe_table=safe, settings=DisclosureSettings.from_mapping(spec["settings"]), measures=measures,
                  suppressed=_flags(table, spec["suppressed"]),
                  status_before_mitigation=spec["status_before_mitigation"], mitigation=spec["mitigation"],
                  properties=properties, command=record.get("command", ""),
                  comments=list(record.get("comments") or []), exception=record.get("exception") or None,
                  uid=uid, timestamp=record.get("timestamp", ""))


def _read_acro(uid: str, record: dict[str, Any], folder: Folder) -> Output | None:
    """An output another tool (ACRO) wrote: its first CSV, its flagged cells, its status."""
    files = [f for f in record.get("files", []) if str(f.get("name", "")).endswith(".csv")]
    if not files:
        return None
    _verify(folder, files[0]["name"])
    table = pd.read_csv(io.BytesIO(_read(folder, _inside(folder, files[0]["name"]))), index_col=0)
    cells = (files[0].get("sdc") or {}).get("cells") or {}
    flags = {OUR_NAMES.get(name, name): _flags(table, positions) for name, positions in cells.items()}
    return Output(kind=record.get("type", "table"), method=record.get("properties", {}).get("method", "acro"),
                  table=table, flags=flags, status=record.get("status", "review"), safe_table=table,
                  settings=DisclosureSettings(), properties=record.get("properties", {}),
                  command=record.get("command", ""), comments=list(record.get("comments") or []),
                  exception=record.get("exception") or None, uid=uid, timestamp=record.get("timestamp", ""))


def read_results_json(folder: str | Path) -> dict[str, Output]:
    """The outputs in a results folder (ours, or ACRO's tables), by uid; checksums are verified."""
    folder = Path(folder)
    path = folder / "results.json" if folder.is_dir() else folder
    folder = path.parent
    if not path.exists():
        raise NotFound(f"No results.json in {folder}; give the folder to_results_json wrote.")
    return _read_document(folder, path.name, path.read_bytes(), str(path))


def read_results_files(files: Mapping[str, bytes]) -> dict[str, Output]:
    """``read_results_json`` of a results folder held in memory (path in the folder → content, as
    ``results_files`` makes them): the same checks, without the files ever touching a disk."""
    if "results.json" not in files:
        raise NotFound("No results.json among the files; give the files to_results_json writes.")
    return _read_document(files, "results.json", files["results.json"], "results.json")


def _read_document(folder: Folder, name: str, content: bytes, label: str) -> dict[str, Output]:
    try:
        document = json.loads(content.decode("utf-8"))
        results = document["results"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{label} is not a results.json file ({exc}).") from exc
    _verify(folder, name)
    outputs: dict[str, Output] = {}
    for uid, record in results.items():
        if "workbench" in (record.get("properties") or {}):
            outputs[uid] = _read_workbench(uid, record, folder)
        else:
            found = _read_acro(uid, record, folder)
            if found is not None:
                outputs[uid] = found
    return outputs


__all__ = [
    "cell_outcome",
    "read_results_files",
    "read_results_json",
    "released_csv",
    "released_record",
    "results_files",
    "sdc_block",
    "to_results_json",
    "write_files",
]
