"""ACRO/SACRO interchange: write outputs as a ``results.json`` folder an output checker opens in SACRO-Viewer,
and read such folders back.

The layout is ACRO 1.0.2's: ``{version, tool: {@type, name, version}, results: {uid: {uid, status, type,
properties, files: [{name, sdc: {summary, cells}}], outcome, command, summary, timestamp, comments, exception,
fair}}}`` plus one CSV per released table, ``config.json`` (the rules' settings as ACRO's risk appetite, when the
outputs share them) and a ``checksums/`` folder (SHA-256 of each file, as ACRO writes them). ``sdc.cells`` lists
``[row, column]`` positions of the flagged cells per check, under ACRO 1.0.2's check names
(``MinimumThresholdCheck``, ``PresenceOfZeroCheck``, ``NKCheck``, ``PPercentCheck``, ``AllSameValuesCheck``...),
in the CSV's data block, so the viewer highlights them; ``fair`` names the analysis' statistical barn, its risks,
the checks run and each one's status.

Each listed CSV is what may be released: the table after mitigation. When mitigation changed the table, the
unmitigated table is kept beside it in ``unreleased/`` for the checker, and is never listed in ``files``.
Everything else the workbench needs to rebuild an output exactly (labels with their types, column types, the
settings, the mitigation) is under ``properties["workbench"]``; other tools ignore it.

A release package's records (``released_record``) are different: they are made only from an output's released
fields (``workbench/outputs/released.py``), the ones its output checker was shown, and carry no
``properties["workbench"]`` and no rule: their ``sdc`` block, ``outcome`` and ``summary`` say which cells are
suppressed, never why (``released_sdc``, ``released_outcome``, ``released_summary``), and their ``fair`` block has
no check status.

Reading takes ACRO 1.0.2's folders and 0.4's (check names mapped to the workbench's rules, multi-level pivot CSVs
read by the shape ``outcome`` gives, ``...-DONT_RELEASE`` files skipped) and the workbench's own. A folder is
untrusted: a file named outside it or through a symbolic link, a file over ``MAX_FILE_BYTES``, a missing file or
checksum, a wrong checksum, or a malformed record is refused with ``InvalidInput``/``NotFound``.
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
from workbench.disclosure.rules import ACRO_04_NAMES, ACRO_NAMES, ACRO_NOTES, OUR_NAMES, failing
from workbench.disclosure.settings import DisclosureSettings
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.version import __version__

ACRO_FORMAT_VERSION = "1.0.2"  # the results.json layout ACRO 1.0.2 writes (and its load_records reads)
TOOL = {"@type": "SoftwareApplication", "name": "workbench", "version": __version__}
FORMAT = 1
UNRELEASED = "unreleased"
CONFIG = "config.json"
SUPPRESSED = "suppressed"
# ACRO's statbarn ontology (its analyses.json and statbarns.json): the barn of each aggregation, the risks of each
STATBARN_CONTEXT = "https://w3id.org/statbarnsdc#"
STATBARNS = {None: "Frequencies", "count": "Frequencies", "mean": "LinearAggregations", "sum": "LinearAggregations",
             "median": "Position", "min": "Endpoints", "max": "Endpoints", "std": "Shape", "mode": "Mode"}
RISKS = {"Frequencies": ("ClassDisclosure", "Differencing", "LowCount"),
         "LinearAggregations": ("Dominance", "Differencing", "LowCount"),
         "Position": ("ClassDisclosure", "LowCount"), "Endpoints": ("ClassDisclosure", "LowCount"),
         "Shape": ("LowDOF",), "Mode": ("Differencing", "ClassDisclosure"), "CorrelationCoefficients": ("LowDOF",)}


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


def _per_cell(table: pd.DataFrame, texts: np.ndarray) -> dict[str, dict[str, str]]:
    """ACRO's ``outcome``: column label → row label → text, labels as text."""
    rows = [_text(r) for r in table.index]
    return {_text(c): dict(zip(rows, texts[:, j].tolist(), strict=True)) for j, c in enumerate(table.columns)}


def cell_outcome(output: Output) -> dict[str, dict[str, str]]:
    """ACRO's per-cell outcome: the failing rules' (ACRO) names, or 'ok'. Workspace-internal: a release package
    carries ``released_outcome`` instead."""
    texts = np.full(output.table.shape, "", dtype=object)
    for name, flag in output.flags.items():
        texts[flag.to_numpy(dtype=bool)] += f"{ACRO_NAMES.get(name, name)}; "
    texts[texts == ""] = "ok"
    return _per_cell(output.table, texts)


def sdc_block(output: Output) -> tuple[dict[str, int], dict[str, list[list[int]]]]:
    """ACRO 1.0.2's per-file ``sdc`` block: for each check that ran, how many cells it flags and where
    (``[row, column]`` in the CSV's data block). Workspace-internal: a release package carries ``released_sdc``."""
    summary, cells = {}, {}
    for name, flag in output.flags.items():
        acro = ACRO_NAMES.get(name, name)
        cells[acro] = _positions(flag)
        summary[acro] = len(cells[acro])
    return summary, cells


def _check_status(output: Output) -> dict[str, str]:
    fails = failing(output.settings)
    status = {}
    for name, flag in output.flags.items():
        hit = bool(flag.to_numpy(dtype=bool).any())
        status[ACRO_NAMES.get(name, name)] = ("fail" if name in fails else "review") if hit else "pass"
    return status


def fair_block(output: Output, *, checks: bool = True) -> dict[str, Any]:
    """ACRO 1.0.2's ``fair`` block: the statistical barn of the analysis (its ontology's class), the risks it
    carries, the variables, and with ``checks`` the checks run and each one's status (workspace-internal: it says
    which rules a table failed). Empty for outputs ACRO has no barn for (DP results, figures, files)."""
    properties = output.properties or {}
    if output.kind == "regression":
        statbarn = "CorrelationCoefficients"
    elif output.kind in ("table", "histogram") and properties.get("statbarn") in RISKS:
        statbarn = properties["statbarn"]
    elif output.kind in ("table", "histogram"):
        aggfuncs = properties.get("aggfunc")
        first = aggfuncs[0] if isinstance(aggfuncs, list) and aggfuncs else aggfuncs
        statbarn = STATBARNS.get(first if isinstance(first, str) else None, "Frequencies")
    else:
        return {}
    fair: dict[str, Any] = {"context": STATBARN_CONTEXT, "statbarn": statbarn, "risks": list(RISKS[statbarn])}
    if checks:
        fair["checks_needed"] = [ACRO_NAMES.get(name, name) for name in output.flags]
        fair["check_status"] = _check_status(output)
    if output.kind != "regression":
        values = properties.get("values")
        fair["dependent"] = (values[0] if isinstance(values, list) and len(values) == 1
                             else values if isinstance(values, list) and values else "unknown")
        names = [*output.table.index.names, *output.table.columns.names]
        fair["independent"] = [str(n) for n in names if n is not None]
    return _jsonable(fair)


# -- what a release package says of the checks: that cells are suppressed, never why --------------------------------

def released_sdc(output: Output) -> tuple[dict[str, int], dict[str, list[list[int]]]]:
    """The ``sdc`` block of a release package: the suppressed cells and where they are, under one name. No rule
    name, count per rule or position per rule: a blank cell labelled with its rule tells what it hides (an empty
    cell is a 0, a threshold cell 1 to 9)."""
    positions = _positions(output.suppressed) if output.suppressed is not None else []
    return {SUPPRESSED: len(positions)}, {SUPPRESSED: positions}


def released_outcome(output: Output) -> dict[str, dict[str, str]]:
    """The per-cell ``outcome`` of a release package: 'suppressed' or 'ok'."""
    texts = np.full(output.table.shape, "ok", dtype=object)
    if output.suppressed is not None:
        texts[output.suppressed.to_numpy(dtype=bool)] = SUPPRESSED
    return _per_cell(output.table, texts)


def released_mitigation(output: Output) -> dict[str, Any]:
    """What was done to the table, as a package says it: the method, the rounding base, the number of suppressed
    cells and the totals not to publish; not how many cells failed a rule, nor which."""
    mitigation = output.mitigation or {}
    said: dict[str, Any] = {"method": mitigation.get("method", "none")}
    if "base" in mitigation:
        said["base"] = mitigation["base"]
    if output.suppressed is not None:
        said[SUPPRESSED] = int(output.suppressed.to_numpy(dtype=bool).sum())
    if mitigation.get("withheld_totals"):
        said["withheld_totals"] = list(mitigation["withheld_totals"])
    return _jsonable(said)


def released_summary(output: Output) -> str:
    """One line for a release package: the status, the mitigation and the suppressed cells, the review reasons
    that are not about cells (e.g. rows that may not be people); never a rule a cell failed."""
    mitigation = released_mitigation(output)
    parts = [output.status]
    if mitigation["method"] == "round":
        parts.append(f"rounded to base {mitigation.get('base')}")
    if mitigation.get(SUPPRESSED):
        parts.append(f"{mitigation[SUPPRESSED]} cells suppressed")
    if mitigation.get("withheld_totals"):
        parts.append("do not publish these totals: " + ", ".join(mitigation["withheld_totals"]))
    parts.extend(f"review: {reason}" for reason in output.review_reasons)
    return "; ".join(parts)


def released_csv(table: pd.DataFrame) -> str:
    """A table as the CSV that is released (and that the viewer shows)."""
    return _csv(table)


def released_record(released: Mapping[str, Any]) -> dict[str, Any]:
    """An output's ACRO 1.0.2 record for a release package, made only from its released fields (the dict
    ``workbench.outputs.released.released_output`` makes, which the output checker is shown): what the viewer
    reads, without the workbench's internals (the unmitigated table, per-cell rules and measures, other
    properties)."""
    checks = released["checks"]
    return {
        "uid": released["uid"], "status": checks["status"], "type": released["kind"],
        "properties": dict(released["properties"]),
        "files": [{"name": name, "sdc": checks["sdc"]} for name in released["files"]],
        "outcome": checks["outcome"], "command": released["command"], "summary": checks["summary"],
        "timestamp": released["timestamp"], "comments": list(released["comments"]),
        "exception": released["exception"] or "", "fair": checks["fair"],
    }


def results_document(results: Mapping[str, Any]) -> dict[str, Any]:
    """The ``results.json`` document around records: ACRO 1.0.2's ``version`` and ``tool`` object."""
    return {"version": ACRO_FORMAT_VERSION, "tool": dict(TOOL), "results": dict(results)}


def acro_config(settings: DisclosureSettings) -> dict[str, Any]:
    """ACRO's ``config.json`` (the risk appetite) for ``settings``, with the workbench's own settings beside."""
    return {"safe_threshold": settings.threshold, "safe_dof_threshold": settings.dof,
            "safe_nk_n": settings.dominance_n, "safe_nk_k": settings.dominance_k,
            "safe_pratio_p": settings.p_percent, "check_missing_values": settings.missing,
            "zeros_are_disclosive": settings.zeros, "safe_round_base": settings.rounding_base,
            "suppress": settings.mitigation == "suppress", "workbench": settings.as_dict()}


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
    properties = _jsonable(output.properties)
    added = [key for key in ("method", "mitigation") if key not in properties]
    workbench = {
        "format": FORMAT, "kind": output.kind, "method": output.method,
        "status_before_mitigation": output.status_before_mitigation, "settings": output.settings.as_dict(),
        "mitigation": _jsonable(output.mitigation), "rules": list(output.flags), "measures": measures,
        "suppressed": _positions(output.suppressed), "index": _axis(output.table.index),
        "columns": _axis(output.table.columns), "table": {"file": table_file,
                                                            "dtypes": [str(d) for d in output.table.dtypes]},
        "safe_table": {"file": released, "dtypes": [str(d) for d in output.safe_table.dtypes]},
        "added_properties": added,
    }
    return {
        "uid": uid, "status": output.status, "type": output.kind,
        "properties": {**properties, "method": output.method,
                       "mitigation": properties.get("mitigation", output.mitigation.get("method", "none")),
                       "workbench": workbench},
        "files": [{"name": released, "sdc": {"summary": summary, "cells": cells}}],
        "outcome": cell_outcome(output), "command": output.command, "summary": output.summary(),
        "timestamp": output.timestamp, "comments": list(output.comments), "exception": output.exception or "",
        "fair": fair_block(output),
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
    # one line: json's C encoder writes it (an indented document takes the pure-Python encoder, ~10x slower)
    files["results.json"] = json.dumps(results_document(results), ensure_ascii=False,
                                       allow_nan=False).encode("utf-8")
    settings = {output.settings for _, output in items}
    if len(settings) == 1:  # ACRO's risk appetite: one for the folder (outputs checked otherwise each keep theirs)
        files[CONFIG] = json.dumps(acro_config(settings.pop()), allow_nan=False).encode("utf-8")
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
MAX_FILE_BYTES = 256 * 2**20  # a file of a results folder larger than this is refused unread
MAX_CHECKSUM_BYTES = 1024
DONT_RELEASE = "DONT_RELEASE"  # ACRO's mark on files for the checker only (its session summary)


def _outside() -> InvalidInput:
    return InvalidInput("results.json names a file outside its folder; a results folder only refers to its own "
                        "files.", field="results.json")


def _inside(folder: Folder, name: Any) -> Path | str:
    """The file ``name`` (as results.json names it) in ``folder``; refused if it would lie anywhere else, or is
    reached through a symbolic link (a results folder holds its files itself)."""
    if not isinstance(name, str) or not name or "\0" in name or Path(name).is_absolute() or "\\" in name:
        raise _outside()
    if not isinstance(folder, Path):  # in memory: the name, normalised, must stay below the folder
        normal = posixpath.normpath(name)
        if normal in (".", "..") or normal.startswith(("../", "/")):
            raise _outside()
        return normal
    root = folder.resolve()
    normal = posixpath.normpath(name)
    if normal in (".", "..") or normal.startswith("../"):
        raise _outside()
    step = root
    for part in PurePosixPath(normal).parts:
        step = step / part
        if step.is_symlink():
            raise InvalidInput(f"{name} is a symbolic link; a results folder holds its own files (copy them in "
                               "instead of linking them).", field="results.json")
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise _outside()
    return path


def _exists(folder: Folder, at: Path | str) -> bool:
    if isinstance(at, Path):
        return at.exists()
    return not isinstance(folder, Path) and at in folder


def _too_large(name: str, limit: int) -> InvalidInput:
    return InvalidInput(f"{name} is larger than {limit:,} bytes, more than a results folder's file may be; "
                        "check that the folder is the one ACRO or the workbench wrote.", field=name)


def _read(folder: Folder, at: Path | str, limit: int | None = None) -> bytes:
    """A file of the folder, refused when it is missing, not a plain file or larger than ``limit`` (default:
    ``MAX_FILE_BYTES``)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    name = at.relative_to(folder.resolve()).as_posix() if isinstance(at, Path) and isinstance(folder, Path) \
        else str(at)
    if isinstance(at, Path):
        if not at.is_file():
            raise NotFound(f"{name} is listed in results.json but is not a file in the folder; copy the whole "
                           "results folder, or ask for the outputs to be produced again.")
        if at.stat().st_size > limit:
            raise _too_large(name, limit)
        with open(at, "rb") as handle:
            content = handle.read(limit + 1)
    else:
        if isinstance(folder, Path) or at not in folder:  # a name in memory is read from the files in memory only
            raise NotFound(f"{name} is listed in results.json but is not among the files; send the whole results "
                           "folder.")
        content = folder[at]
    if len(content) > limit:
        raise _too_large(name, limit)
    return content


def _has_checksums(folder: Folder) -> bool:
    if isinstance(folder, Path):
        checksums = folder / "checksums"
        return checksums.is_dir() and not checksums.is_symlink()
    return any(name.startswith("checksums/") for name in folder)


def _verify(folder: Folder, name: str, *, required: bool = True) -> None:
    """Check ``name`` against its ``checksums/<name>.txt``. A folder with checksums must have one for each file
    read (``required``); ACRO writes none for its ``config.json``."""
    target = _inside(folder, name)
    checksum = _inside(folder, f"checksums/{name}.txt")
    if not _exists(folder, checksum):
        if required and _has_checksums(folder):
            raise InvalidInput(f"{name} has no checksum in checksums/, so it cannot be told unchanged; ask for the "
                               "outputs to be produced again.", field=name)
        return
    actual = hashlib.sha256(_read(folder, target)).hexdigest()
    if _read(folder, checksum, MAX_CHECKSUM_BYTES).decode("utf-8", errors="replace").strip() != actual:
        raise InvalidInput(f"{name} does not match its checksum: it was changed after it was written; ask for "
                           "the outputs to be produced again.", field=name)


def _flags(table: pd.DataFrame, positions: Any, what: str = "results.json") -> pd.DataFrame:
    """A mask of ``table``'s shape from ``[row, column]`` positions; refused when one is not a cell of it."""
    array = np.zeros(table.shape, dtype=bool)
    if not isinstance(positions, list):
        raise InvalidInput(f"{what}: flagged cells must be a list of [row, column] positions.", field="results.json")
    for position in positions:
        if (not isinstance(position, list) or len(position) != 2
                or not all(isinstance(p, int) and not isinstance(p, bool) for p in position)
                or not (0 <= position[0] < table.shape[0] and 0 <= position[1] < table.shape[1])):
            raise InvalidInput(f"{what}: {str(position)[:40]} is not a cell of its {table.shape[0]}×"
                               f"{table.shape[1]} table; the folder does not describe its own tables.",
                               field="results.json")
        array[position[0], position[1]] = True
    return pd.DataFrame(array, index=table.index, columns=table.columns)


def _table(folder: Folder, spec: dict[str, Any], index: pd.Index, columns: pd.Index) -> pd.DataFrame:
    at = _inside(folder, spec["file"])
    return _read_csv(PurePosixPath(str(at)).name, _read(folder, at), index, columns, spec["dtypes"])


def _cells(sdc: dict[str, Any], name: str) -> Any:
    """The flagged cells of rule ``name`` as ACRO 1.0.2 names it, or as 0.4 did (folders written before)."""
    cells = sdc.get("cells") or {}
    for acro in (ACRO_NAMES.get(name, name), ACRO_04_NAMES.get(name, name)):
        if acro in cells:
            return cells[acro]
    return []


def _read_workbench(uid: str, record: dict[str, Any], folder: Folder) -> Output:
    spec = record["properties"]["workbench"]
    index, columns = _unaxis(spec["index"]), _unaxis(spec["columns"])
    for name in {spec["table"]["file"], spec["safe_table"]["file"]}:
        _inside(folder, name)
    listed = [item.get("name") if isinstance(item, dict) else item for item in record.get("files") or []]
    for name in listed:  # what a viewer shows as released: inside the folder, and the table written as released
        _inside(folder, name)
    if listed != [spec["safe_table"]["file"]]:
        raise InvalidInput(f"results.json: output {uid!r} lists {listed!r} as released, but its released table is "
                           f"{spec['safe_table']['file']!r}; give the folder as the workbench wrote it.")
    for name in {spec["table"]["file"], spec["safe_table"]["file"]}:
        _verify(folder, name)
    table = _table(folder, spec["table"], index, columns)
    safe = _table(folder, spec["safe_table"], index, columns)
    sdc = record["files"][0]["sdc"]
    flags = {name: _flags(table, _cells(sdc, name), uid) for name in spec["rules"]}
    measures = {}
    for name in spec["rules"]:
        array = np.full(table.shape, np.nan)
        for r, c, value in spec["measures"].get(name, []):
            array[r, c] = value
        measures[name] = pd.DataFrame(array, index=table.index, columns=table.columns)
    added = spec.get("added_properties", [])
    properties = {k: v for k, v in record["properties"].items() if k != "workbench" and k not in added}
    return Output(kind=spec["kind"], method=spec["method"], table=table, flags=flags, status=record["status"],
                  safe_table=safe, settings=DisclosureSettings.from_mapping(spec["settings"]), measures=measures,
                  suppressed=_flags(table, spec["suppressed"], uid),
                  status_before_mitigation=spec["status_before_mitigation"], mitigation=spec["mitigation"],
                  properties=properties, command=record.get("command", ""),
                  comments=list(record.get("comments") or []), exception=record.get("exception") or None,
                  uid=uid, timestamp=record.get("timestamp", ""))


def _shape(outcome: Any) -> tuple[int, int] | None:
    """The table's shape as ACRO's per-cell ``outcome`` gives it (column → row → text), or None."""
    if not isinstance(outcome, dict) or not outcome:
        return None
    rows = {len(column) if isinstance(column, dict) else -1 for column in outcome.values()}
    if len(rows) != 1 or -1 in rows:
        raise InvalidInput("results.json: an outcome must give every column the same rows; the folder was changed "
                           "after it was written.", field="results.json")
    return rows.pop(), len(outcome)


def _acro_table(name: str, content: bytes, shape: tuple[int, int] | None) -> pd.DataFrame:
    """A table ACRO wrote with ``DataFrame.to_csv``: one header row per column level (and a row of index names
    after them when the columns have several levels), one label column per index level. How many of each comes
    from the table's shape in results.json."""
    try:
        text = content.decode("utf-8")
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{name} is not a CSV file ({exc}).", field=name) from exc
    header, index_columns = 1, 1
    if shape is not None and lines:
        n_rows, n_cols = shape
        header = len(lines) - n_rows
        index_columns = len(lines[0]) - n_cols
        if header < 1 or index_columns < 1:
            raise InvalidInput(f"{name} does not hold the {n_rows}×{n_cols} table results.json describes; the "
                               "folder was changed after it was written.", field=name)
        names_row = lines[header - 1] if header > 1 else None
        if names_row is not None and not any(names_row[index_columns:]):
            header -= 1  # the row of index names pandas writes below multi-level column labels
    try:
        table = pd.read_csv(io.StringIO(text), header=list(range(header)) if header > 1 else 0,
                            index_col=list(range(index_columns)) if index_columns > 1 else 0)
    except (ValueError, IndexError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"{name} cannot be read as a table ({exc}).", field=name) from exc
    if shape is not None and table.shape != shape:
        raise InvalidInput(f"{name} holds a {table.shape[0]}×{table.shape[1]} table, but results.json describes "
                           f"{shape[0]}×{shape[1]}; the folder was changed after it was written.", field=name)
    return table


def _acro_settings(folder: Folder) -> DisclosureSettings:
    """The rules' settings from ACRO's ``config.json`` (its risk appetite), or the defaults without one."""
    at = _inside(folder, CONFIG)
    if not _exists(folder, at):
        return DisclosureSettings()
    _verify(folder, CONFIG, required=False)
    try:
        config = json.loads(_read(folder, at, 2**20).decode("utf-8"))
        if not isinstance(config, dict):
            raise ValueError("not an object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{CONFIG} is not a JSON object ({exc}); remove it or ask for the outputs again.",
                           field=CONFIG) from exc
    if isinstance(config.get("workbench"), dict):
        return DisclosureSettings.from_mapping(config["workbench"])
    keys = {"safe_threshold": "threshold", "safe_dof_threshold": "dof", "safe_nk_n": "dominance_n",
            "safe_nk_k": "dominance_k", "safe_pratio_p": "p_percent", "check_missing_values": "missing",
            "zeros_are_disclosive": "zeros", "safe_round_base": "rounding_base"}
    try:
        return DisclosureSettings.from_mapping({ours: config[acro] for acro, ours in keys.items() if acro in config})
    except InvalidInput as exc:
        raise InvalidInput(f"{CONFIG}: {exc}", field=CONFIG) from exc


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (an optional part ACRO may leave out)."""
    return value if isinstance(value, dict) else {}


def _acro_flags(table: pd.DataFrame, record: dict[str, Any], sdc: dict[str, Any], uid: str
                ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The cells each ACRO check flags, under the workbench's rule names, and the cells a release package marks
    suppressed. ACRO 1.0.2 reports negative values under NKCheck and PPercentCheck with status review; checks that
    flag no cell (the zeros policy, the linked-table reminder) are left out."""
    cells = sdc.get("cells") or {}
    if not isinstance(cells, dict):
        raise InvalidInput(f"{uid}: its sdc cells must be an object of check → positions.", field="results.json")
    status = _object(_object(record.get("fair")).get("check_status"))
    flags: dict[str, pd.DataFrame] = {}
    suppressed = None
    for acro, positions in cells.items():
        mask = _flags(table, positions, uid)
        if acro == SUPPRESSED:
            suppressed = mask
            continue
        if acro in ACRO_NOTES and not mask.to_numpy().any():
            continue
        name = str(OUR_NAMES.get(acro, acro))
        if acro in ("NKCheck", "PPercentCheck") and status.get(acro) == "review":
            name = "negative"  # ACRO's dominance checks say only this when a cell has negative values
        flags[name] = flags[name] | mask if name in flags else mask
    return flags, suppressed


def _read_acro(uid: str, record: dict[str, Any], folder: Folder, settings: DisclosureSettings) -> Output | None:
    """An output another tool (ACRO 0.4 or 1.0.2, or a workbench release package) wrote: its first CSV, its
    flagged cells, its status."""
    files = record.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise InvalidInput(f"{uid}: its files must be a list of {{name, sdc}} objects.", field="results.json")
    for item in files:
        at = _inside(folder, item.get("name"))
        if not (at.is_file() if isinstance(at, Path) else _exists(folder, at)):
            raise NotFound(f"{uid}: {item.get('name')} is listed in results.json but is not a file in the folder; "
                           "copy the whole results folder, or ask for the outputs to be produced again.")
    tables = [f for f in files if str(f["name"]).endswith(".csv") and DONT_RELEASE not in str(f["name"])]
    if not tables:
        return None
    name = tables[0]["name"]
    _verify(folder, name)
    table = _acro_table(name, _read(folder, _inside(folder, name)), _shape(record.get("outcome")))
    sdc = tables[0].get("sdc") or {}
    if not isinstance(sdc, dict):
        raise InvalidInput(f"{uid}: its sdc block must be an object.", field="results.json")
    flags, suppressed = _acro_flags(table, record, sdc, uid)
    properties = dict(_object(record.get("properties")))
    fair = _object(record.get("fair"))
    if isinstance(fair.get("statbarn"), str) and "aggfunc" not in properties:
        properties.setdefault("statbarn", fair["statbarn"])  # the analysis, as ACRO classed it
    status = record.get("status", "review")
    if status not in ("pass", "fail", "review"):
        raise InvalidInput(f"{uid}: status {str(status)[:20]!r} is not pass, fail or review.", field="results.json")
    return Output(kind=str(record.get("type", "table")), method=str(properties.get("method", "acro")),
                  table=table, flags=flags, status=status, safe_table=table, settings=settings,
                  suppressed=suppressed, properties=properties, command=str(record.get("command", "")),
                  comments=[str(c) for c in record.get("comments") or []],
                  exception=str(record.get("exception") or "") or None, uid=uid,
                  timestamp=str(record.get("timestamp", "")))


def read_results_json(folder: str | Path) -> dict[str, Output]:
    """The outputs in a results folder (ours, or ACRO's tables), by uid; checksums are verified. ACRO's files for
    the checker only (``...-DONT_RELEASE``) are not outputs and are skipped."""
    folder = Path(folder)
    path = folder / "results.json" if folder.is_dir() else folder
    folder = path.parent
    if not path.exists() and not path.is_symlink():
        raise NotFound(f"No results.json in {folder}; give the folder to_results_json wrote.")
    at = _inside(folder, path.name)
    return _read_document(folder, path.name, _read(folder, at), str(path))


def read_results_files(files: Mapping[str, bytes]) -> dict[str, Output]:
    """``read_results_json`` of a results folder held in memory (path in the folder → content, as
    ``results_files`` makes them): the same checks, without the files ever touching a disk."""
    if "results.json" not in files:
        raise NotFound("No results.json among the files; give the files to_results_json writes.")
    return _read_document(files, "results.json", _read(files, "results.json"), "results.json")


def _skipped(uid: str, record: dict[str, Any]) -> bool:
    """ACRO's outputs for the output checker only: its session summary, named ``...-DONT_RELEASE``."""
    return DONT_RELEASE in uid or DONT_RELEASE in str(record.get("uid", ""))


def _read_document(folder: Folder, name: str, content: bytes, label: str) -> dict[str, Output]:
    try:
        document = json.loads(content.decode("utf-8"))
        results = document["results"]
        if not isinstance(results, dict) or not all(isinstance(r, dict) for r in results.values()):
            raise TypeError("its results must be an object of output records")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nesting too deep to parse
        raise InvalidInput(f"{label} is not a results.json file ({type(exc).__name__}: {str(exc)[:200]}).",
                           field="results.json") from exc
    _verify(folder, name)
    settings: DisclosureSettings | None = None
    outputs: dict[str, Output] = {}
    for uid, record in results.items():
        if _skipped(uid, record):
            continue
        try:
            if isinstance(record.get("properties"), dict) and "workbench" in record["properties"]:
                outputs[uid] = _read_workbench(uid, record, folder)
                continue
            settings = settings or _acro_settings(folder)
            found = _read_acro(uid, record, folder, settings)
        except WorkbenchError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError, RecursionError,
                csv.Error) as exc:
            raise InvalidInput(f"{label}: the record of {uid[:80]!r} is malformed ({type(exc).__name__}); give "
                               "the folder as ACRO or the workbench wrote it.", field="results.json") from exc
        if found is not None:
            outputs[uid] = found
    return outputs


__all__ = [
    "acro_config",
    "cell_outcome",
    "fair_block",
    "read_results_files",
    "read_results_json",
    "released_csv",
    "released_mitigation",
    "released_outcome",
    "released_record",
    "released_sdc",
    "released_summary",
    "results_document",
    "results_files",
    "sdc_block",
    "to_results_json",
    "write_files",
]
