"""What leaves the workspace with a released output request, defined once.

A release package (``outputs/release.py``: its files, ``results.json`` and ``manifest.json``) and every view an
output checker has of a request (``ws.review.show`` and its notebook HTML, the REST detail, the review widget,
``workbench review show``) are built from the dicts made here, so nothing reaches a package that the checker
was not shown. Per output (``released_output``):

- every kind: its number, uid, name, kind, method, author, when it was made, its provenance class
  (``provenance``: ``computed`` by the workbench from a spec, or ``analyst-supplied``) and ``origin`` (computed:
  source, version, file SHA-256, catalogue datasets and spec; analyst-supplied: the tracked lineage and what the
  analyst declared), ``derived_from`` (the datasets and saved frames named when it was made) and ``sources``
  (the catalogue datasets), the command that made it, the automatic check as it leaves (status, status before
  mitigation, a summary, the suppressed cells and their positions, the per-cell outcome "suppressed" or "ok",
  the mitigation, ACRO's statistical barn of the analysis: never which rule a cell failed, nor a count per rule,
  which would tell an exact 0 from a count of 1 to 9), the exception request and comments;
- ``table``: the released (safe) table as CSV — labels and cells after mitigation — and the table's spec
  (aggregation, values, grouping, margins, bins);
- ``regression``: the coefficients as CSV and the model spec (method, formula, observations, residual degrees
  of freedom, records supporting each parameter);
- ``dp``: the noisy values as CSV and their accuracy (ε, δ, mechanism, privacy unit, contributions, noise
  scale, confidence, 95% half-widths), the budget-ledger entries and datasets charged;
- ``figure``: the CSV of the table it was drawn from and its check, the figure's files (name, bytes,
  SHA-256), its trace types, and what its HTML draws as plotly JSON (every trace, hidden ones too, and all
  their text);
- ``file``: the file (name, bytes, SHA-256) and the analyst's description of it.

Per request (``released_request``): its number, title, context, author and dates, the checker's conclusion, the
project (number, title, purpose, legal gateway, lead, mission), the catalogue datasets and versions, the saved
frames and versions the outputs were made from, and the checkers' reviews of every complete review round.

The rules each cell failed, and why, stay in the workspace: the checker's views show them beside these fields
(``explain``, the flagged table, the checker aids), and they never leave.

A package adds only what it makes itself: ``format``, ``tool`` and ACRO's ``version``, ``released_by`` and
``released_at``, each file's name, size and SHA-256 (``files``). ``free_text`` lists the analyst's text among
the released fields; ``outputs/checks.py`` screens it for values that look like identifiers.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select

from workbench.catalogue import versions
from workbench.db.schema import datasets, project_datasets, projects
from workbench.disclosure.results_json import (
    fair_block,
    released_csv,
    released_mitigation,
    released_outcome,
    released_sdc,
    released_summary,
)
from workbench.outputs.files import FIGURE_HTML, FIGURE_JSON, FIGURE_PNG

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.disclosure.output import Output

# the properties of each kind that are released (the model spec, the DP accuracy, the figure, the file)
SPEC_KEYS = {
    "table": ("aggfunc", "values", "by", "margins", "bins", "edges"),
    "regression": ("formula", "nobs", "dof", "parameters"),
    "dp": (),
    "figure": ("aggfunc", "values", "by", "margins", "bins", "edges"),
    "file": ("file", "description"),
}
DP_KEYS = ("mechanism", "epsilon", "delta", "privacy_unit", "contributions", "noise_scale", "confidence",
           "half_width", "rank_half_width", "resolution", "approximate_interval", "counts", "ledger", "datasets")
FIGURE_KEYS = ("traces", "drawn_from", "png")
PROJECT_KEYS = ("id", "title", "purpose", "legal_gateway", "lead", "mission")
REVIEW_KEYS = ("output_id", "round", "reviewer", "decision", "comment", "created_at")
# what a package adds itself (not shown to a checker before release): see the module docstring
PACKAGE_ADDED = ("format", "tool", "version", "released_by", "released_at", "files")


def plain(value: Any) -> Any:
    """``value`` as JSON (dicts with text keys, lists, text, finite numbers, None): datetimes as ISO text,
    numpy scalars as Python numbers, non-finite floats as their repr."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def spec(output: Output) -> dict[str, Any]:
    """The released part of an output's properties: the method and the kind's spec (``SPEC_KEYS``)."""
    properties = output.properties or {}
    released: dict[str, Any] = {"method": output.method}
    for key in SPEC_KEYS.get(output.kind, ()):
        if key in properties:
            released[key] = properties[key]
    if output.kind == "dp":
        dp = properties.get("dp") or {}
        released["dp"] = {k: dp[k] for k in DP_KEYS if k in dp}
    if output.kind == "figure":
        figure = properties.get("figure") or {}
        released["figure"] = {k: figure[k] for k in FIGURE_KEYS if k in figure}
    return plain(released)


def checks(output: Output) -> dict[str, Any]:
    """The automatic check as it leaves (and as the checker is shown it released): the status, which cells are
    suppressed, the mitigation, the analysis' statistical barn; never which rule a cell failed, nor how many cells
    failed each rule. The rules stay in the checker's views inside the workspace (``explain``, the flagged table)."""
    summary, cells = released_sdc(output)
    return plain({"status": output.status, "status_before_mitigation": output.status_before_mitigation,
                  "summary": released_summary(output), "sdc": {"summary": summary, "cells": cells},
                  "outcome": released_outcome(output), "mitigation": released_mitigation(output),
                  "fair": fair_block(output, checks=False)})


def table_file(uid: str) -> str:
    return f"{uid}.csv"


def figure_data(attachments: dict[str, bytes]) -> Any:
    """A figure's plotly JSON (what its HTML draws), or None for a figure recorded without it."""
    content = attachments.get(FIGURE_JSON)
    if content is None:
        return None
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def attachment_file(uid: str, kind: str, name: str) -> str | None:
    """The package's name for one of an output's own files (None: that file is not released)."""
    if kind == "file":
        return f"{uid}_{name}"
    return {FIGURE_HTML: f"{uid}.html", FIGURE_PNG: f"{uid}.png"}.get(name)


# facts about the source's rows that only the linked-table check reads (which columns have missing values, a
# filtered column's labels): kept with the output, never shown or released
CHECK_ONLY = ("complete", "filtered")


def origin_of(item: dict[str, Any]) -> dict[str, Any]:
    """Where an output's numbers came from, as recorded (``outputs.origin``) less what only the workbench's own
    checks read; an output recorded before provenance was kept is analyst-supplied, with the lineage and
    declaration of its row."""
    origin = item.get("origin")
    if origin:
        return {k: v for k, v in origin.items() if k not in CHECK_ONLY}
    return {"lineage": list(item["sources"]), "declared": list(item["derived_from"])}


def released_output(output: Output, item: dict[str, Any], uid: str,
                    attachments: dict[str, bytes]) -> dict[str, Any]:
    """One output as it leaves the workspace (and as the checker is shown it). ``item``: the output's row in
    the request (``requests.request_items``); ``attachments``: its own files, name → content."""
    table = None
    if output.kind != "file":
        table = {"file": table_file(uid), "csv": released_csv(output.safe_table)}
    files = []
    for name, content in sorted(attachments.items()):
        released = attachment_file(uid, output.kind, name)
        if released is not None:
            files.append({"file": released, "name": name, "bytes": len(content),
                          "sha256": hashlib.sha256(content).hexdigest()})
            if name == FIGURE_HTML:  # what the HTML draws, as data: every trace, hidden or not, and all its text
                files[-1]["figure"] = figure_data(attachments)
    return plain({
        "id": item["output_id"], "uid": uid, "name": item["name"], "kind": output.kind, "method": output.method,
        "author": item["created_by"], "created_at": item["created_at"], "timestamp": output.timestamp,
        "provenance": item.get("provenance", "analyst-supplied"), "origin": origin_of(item),
        "derived_from": list(item["derived_from"]), "sources": list(item["sources"]),
        "checksum": item["checksum"], "command": output.command, "properties": spec(output),
        "checks": checks(output),
        "exception": output.exception, "comments": list(output.comments), "table": table, "attachments": files,
        "files": ([table["file"]] if table else []) + [f["file"] for f in files],
    })


def released_request(conn: Connection, row: dict[str, Any], items: list[dict[str, Any]],
                     reviews: list[dict[str, Any]], needed: int) -> dict[str, Any]:
    """The request-level part of a release: the request, project, datasets and versions, saved frames and
    versions, and the reviews of every complete round (``reviews``: all of the request's review rows)."""
    project = conn.execute(select(projects).where(projects.c.id == row["project_id"])).mappings().one()
    sources = sorted({s for i in items for s in i["sources"]})
    catalogue = conn.execute(select(datasets.c.id, datasets.c.title, datasets.c.owner, datasets.c.modified,
                                    datasets.c.row_count, datasets.c.updated_at)
                             .where(datasets.c.id.in_(sources)).order_by(datasets.c.id)).mappings().all()
    saved = []
    for item in items:
        for frame in item["derived_from"]:
            version = conn.execute(select(project_datasets.c.version).where(
                (project_datasets.c.project_id == row["project_id"]) & (project_datasets.c.name == frame)
                & (project_datasets.c.created_at <= item["created_at"]))
                .order_by(project_datasets.c.version.desc()).limit(1)).scalar()
            if version is not None:
                saved.append({"output_id": item["output_id"], "name": frame, "version": version})
    per_round: dict[tuple[int, int], int] = {}
    for r in reviews:
        per_round[(r["output_id"], r["round"])] = per_round.get((r["output_id"], r["round"]), 0) + 1
    return plain({
        "request": {"id": row["id"], "title": row["title"], "context": row["context"],
                    "created_by": row["created_by"], "created_at": row["created_at"],
                    "submitted_at": row["submitted_at"], "approved_by": row["concluded_by"],
                    "approved_at": row["concluded_at"], "conclusion": row["conclusion"]},
        "project": {k: project[k] for k in PROJECT_KEYS},
        "datasets": [{"id": d["id"], "title": d["title"], "owner": d["owner"], "version": _version_used(conn, d["id"],
                                                                                               row, items),
                      "modified": str(d["modified"]), "rows": d["row_count"],
                      "catalogue_updated_at": d["updated_at"]} for d in catalogue],
        "project_datasets": saved,
        "reviews": [{k: r[k] for k in REVIEW_KEYS} for r in reviews
                    if per_round[(r["output_id"], r["round"])] >= needed],
    })


def _version_used(conn: Connection, dataset_id: str, row: Any, items: list[dict[str, Any]]) -> str | None:
    """The version of a dataset the request's outputs were made from, as text: the newest of the versions their
    computed origins read or the project loaded before they were made (``catalogue.versions.used``)."""
    found: list[int] = []
    for item in items:
        if dataset_id not in item["sources"]:
            continue
        origin = origin_of(item)
        if origin.get("kind") == "dataset" and origin.get("source") == dataset_id \
                and isinstance(origin.get("version"), int):
            found.append(origin["version"])
            continue
        number = versions.used(conn, dataset_id, row["project_id"], item.get("created_at"))
        if number is not None:
            found.append(number)
    return str(max(found)) if found else None


# -- the analyst's text among the released fields -----------------------------------------------------------------

def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text (keys too) inside a JSON-like value, with where it is."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path} key", str(key)
            yield from _strings(inner, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner, path)
    elif isinstance(value, str):
        yield path, value


def label_text(value: Any) -> str:
    """A label as the text screen reads it. Numbers made from data (a histogram's bin edges) are read by their
    whole part, so that the decimals of ``977.4523456789`` are not taken for a record number, while a whole
    number used as a label (``9434765919``) is read in full."""
    if isinstance(value, pd.Interval):
        return f"{label_text(value.left)} to {label_text(value.right)}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool | numbers.Integral):
        return str(int(value)) if math.isfinite(value) else str(value)  # type: ignore[call-overload]  # Reals truncate
    return str(value)


def table_texts(table: pd.DataFrame) -> Iterator[tuple[str, str]]:
    """A table's labels (each level's values and names, the column labels) and its text cells."""
    for name in (*table.index.names, *table.columns.names):
        if name is not None:
            yield "label name", str(name)
    for level in range(table.index.nlevels):
        for value in pd.unique(table.index.get_level_values(level)):
            yield "row label", label_text(value)
    for label in table.columns:
        for part in label if isinstance(label, tuple) else (label,):
            yield "column label", label_text(part)
    for column in range(table.shape[1]):
        series = table.iloc[:, column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            for value in pd.unique(series.dropna()):
                if isinstance(value, str):
                    yield "table cell", value


def free_text(output: Output, name: str, derived_from: list[str],
              attachments: dict[str, bytes] | None = None) -> list[tuple[str, str]]:
    """(field, text) for every piece of text an analyst gave or chose that leaves with ``output``: its name,
    the frames it was made from, the command and model spec, the exception request, comments, the released
    table's labels and text cells (a custom file: its name and description), and every text a figure draws."""
    texts = [("name", name), *(("derived_from", str(frame)) for frame in derived_from),
             ("command", output.command)]
    texts.extend((f"spec{path}", text) for path, text in _strings(spec(output), ""))
    if output.exception:
        texts.append(("exception request", output.exception))
    texts.extend(("comment", comment) for comment in output.comments)
    if output.kind != "file":
        texts.extend(table_texts(output.safe_table))
    if output.kind == "figure":
        texts.extend((f"figure{path}", text) for path, text in _strings(figure_data(attachments or {}), ""))
    return texts


# -- as a checker reads it ----------------------------------------------------------------------------------------

def output_text(released: dict[str, Any]) -> str:
    """A released output as plain text, every field of it: what the notebook, the widget and the terminal show
    under "Released with this output"."""
    shown = {k: v for k, v in released.items() if k != "table"}
    lines = [json.dumps(shown, indent=1, ensure_ascii=False)]
    if released.get("table"):
        lines.append(f"{released['table']['file']}:")
        lines.append(released["table"]["csv"].rstrip("\n"))
    return "\n".join(lines)


def request_text(released: dict[str, Any]) -> str:
    """The request-level part of a release as plain text (the notebook, the widget and the terminal)."""
    return json.dumps(released, indent=1, ensure_ascii=False)


__all__ = ["PACKAGE_ADDED", "SPEC_KEYS", "free_text", "origin_of", "output_text", "plain", "released_output",
           "released_request", "request_text", "spec", "table_texts"]
