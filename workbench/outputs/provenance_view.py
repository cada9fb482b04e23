"""What a checker and an owner are shown first about an output: where its numbers came from.

An output is *computed* (the workbench read a granted dataset or a saved frame and computed it from a spec: the
source, its version and file SHA-256, the catalogue datasets behind it and the spec are recorded) or
*analyst-supplied* (a frame sent from a kernel; the workbench knows only the lineage it tracked and what the
analyst declared). ``provenance_view`` turns an output's row into the block every checker view opens with (the
service's request detail, its notebook HTML, the review widget, the lab's checking panel), with each catalogue
dataset's version. ``released_cells`` is the table as it will be released, drawn beside the unmitigated one, and
``blocked_html`` the outputs a revoked or expired grant stops, shown above everything else when there are any.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.catalogue import versions
from workbench.db.schema import datasets
from workbench.labels import date as date_label
from workbench.outputs.checks import TABLE_MAX_COLS, TABLE_MAX_ROWS, _cell_value, _label, text_problem
from workbench.outputs.released import _strings, origin_of, plain

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.disclosure.output import Output

COMPUTED, ANALYST_SUPPLIED = "computed", "analyst-supplied"
# the provenance classes as a badge reads them
CLASS_LABELS = {COMPUTED: "Computed", ANALYST_SUPPLIED: "Supplied by the analyst"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+)?")
ANALYST_NOTE = ("the numbers were computed in the analyst's kernel from a frame the workbench did not make: "
                "check the lineage, and that the rows are what the request says")


def dataset_versions(conn: Connection, ids: list[str], project_id: str | None = None, before: Any = None,
                     origin: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each catalogue dataset with its title and the version of its data the output was made from, in the order
    given: the version a computed output's source read, else the version of the project's latest load of it
    before the output was made (``catalogue.versions.used``), else the current one; a dataset no longer in the
    catalogue (or without data) is listed with no version."""
    found = {row.id: row for row in conn.execute(select(datasets.c.id, datasets.c.title)
                                                 .where(datasets.c.id.in_(ids)))}
    read = origin or {}

    def version(d: str) -> str | None:
        if d not in found:
            return None
        if read.get("kind") == "dataset" and read.get("source") == d and isinstance(read.get("version"), int):
            return str(read["version"])
        number = versions.used(conn, d, project_id, before)
        return None if number is None else str(number)

    return [{"id": d, "title": found[d].title if d in found else None, "version": version(d)} for d in ids]


def headline(provenance: str, origin: dict[str, Any]) -> str:
    """The provenance class in words: "Computed by the workbench from ons.lfs, version 30 June 2025", or
    "Analyst-supplied frame". A dataset's version is its data's version number (``catalogue.versions``); a version
    that is a date (recorded before versions were kept) reads as a date; any other is shown as recorded."""
    if provenance != COMPUTED:
        return "Analyst-supplied frame"
    source = origin.get("source") or "an unnamed source"
    version = origin.get("version")
    return f"Computed by the workbench from {source}" + (f", version {version_label(version)}"
                                                          if version not in (None, "") else "")


def version_label(version: Any) -> str:
    """A dataset version as people read it: a date ("2026-05-12") as "12 May 2026", anything else unchanged."""
    text = str(version)
    return date_label(text) if _ISO_DATE.fullmatch(text.strip()) else text


def provenance_view(conn: Connection, item: dict[str, Any]) -> dict[str, Any]:
    """An output's provenance as a checker reads it (``item``: the output's row, e.g. from
    ``requests.request_items``): class, headline, source and version, file SHA-256, the catalogue datasets with
    their versions, and the spec (computed) or the lineage and declaration (analyst-supplied)."""
    provenance = item.get("provenance") or ANALYST_SUPPLIED
    origin = origin_of(item)
    if provenance == COMPUTED:
        ids = list(origin.get("datasets") or item["sources"])
        view = {"class": COMPUTED, "headline": headline(provenance, origin), "note": None,
                "source": origin.get("source"), "source_kind": origin.get("kind"), "version": origin.get("version"),
                "sha256": origin.get("sha256"), "spec": origin.get("spec") or {}, "lineage": None, "declared": None}
    else:
        ids = list(origin.get("lineage") or item["sources"])
        view = {"class": ANALYST_SUPPLIED, "headline": headline(provenance, origin), "note": ANALYST_NOTE,
                "source": None, "source_kind": None, "version": None, "sha256": None, "spec": None,
                "lineage": ids, "declared": list(origin.get("declared") or [])}
    return plain({**view, "datasets": dataset_versions(conn, ids, item.get("project_id"), item.get("created_at"),
                                                         origin if provenance == COMPUTED else None)})


def released_cells(output: Output) -> dict[str, Any]:
    """The table as it will be released (``safe_table``, after mitigation) cell by cell, in the shape of
    ``checks.table_cells``; ``changed`` marks a cell mitigation altered (suppressed, rounded) when the two tables
    have the same shape."""
    table, before = output.safe_table, output.table
    n_rows, n_cols = min(len(table), TABLE_MAX_ROWS), min(table.shape[1], TABLE_MAX_COLS)
    comparable = table.shape == before.shape
    rows = []
    for r in range(n_rows):
        cells = []
        for c in range(n_cols):
            value = _cell_value(table.iat[r, c])
            changed = comparable and value != _cell_value(before.iat[r, c])
            cells.append({"value": value, "changed": bool(changed)})
        rows.append({"label": _label(table.index[r]), "cells": cells})
    return {"index_names": [None if n is None else str(n) for n in table.index.names],
            "column_names": [None if n is None else str(n) for n in table.columns.names],
            "columns": [_label(c) for c in table.columns[:n_cols]], "rows": rows,
            "total_rows": len(table), "total_columns": int(table.shape[1])}


def spec_problems(name: str, released: dict[str, Any], digits: int) -> list[str]:
    """The text screen (``checks.text_problem``) over a computed output's spec: its ``where`` values and
    options leave with the output in the manifest."""
    if released.get("provenance") != COMPUTED:
        return []
    spec = (released.get("origin") or {}).get("spec")
    return [f"output {name!r}: {p}" for field, text in _strings(spec, "spec")
            if (p := text_problem(field, text, digits)) is not None]


# -- as text (the terminal) ----------------------------------------------------------------------------------

def provenance_lines(view: dict[str, Any] | None) -> list[str]:
    """The provenance block as lines of text: headline, datasets and versions, then spec or lineage."""
    if not view:
        return []
    lines = [f"{view['class'].upper()}: {view['headline']}", f"source datasets: {_datasets_text(view['datasets'])}"]
    if view["class"] == COMPUTED:
        lines.append(f"file SHA-256: {view['sha256']}")
        lines.append(f"spec: {json.dumps(view['spec'], ensure_ascii=False)}")
    else:
        lines.append(f"lineage (tracked): {', '.join(view['lineage']) or 'none'}; declared by the analyst: "
                     f"{', '.join(view['declared']) or 'nothing'}")
        lines.append(f"note: {view['note']}")
    return lines


def blocked_lines(blocked: list[dict[str, Any]] | None) -> list[str]:
    """What a lapsed grant blocks, a line per output and dataset (none when nothing is blocked)."""
    return [f"BLOCKED: output {b.get('output')}: {b.get('dataset')} — {b.get('reason')}" for b in blocked or []]


# -- as HTML (the notebook view and the review widget) ---------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _datasets_text(found: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d['id']} (version {version_label(d['version']) if d['version'] else 'unknown'})"
                     for d in found) or "none"


def provenance_html(view: dict[str, Any] | None) -> str:
    """The provenance block an output's view opens with."""
    if not view:
        return ""
    computed = view["class"] == COMPUTED
    colour = "#0b5394" if computed else "#b45f06"
    badge = CLASS_LABELS.get(view["class"], view["class"])
    lines = [f"<p style='margin:4px 0'><span style='background:{colour};color:white;padding:1px 6px;"
             f"border-radius:3px'>{escape(badge)}</span> <b>{escape(view['headline'])}</b></p><ul>",
             f"<li>Source datasets: {escape(_datasets_text(view['datasets']))}</li>"]
    if computed:
        lines.append(f"<li>Source: {escape(str(view['source']))} ({escape(str(view['source_kind']))}, version "
                     f"{escape(version_label(view['version']))}), file SHA-256 "
                     f"<code>{escape(str(view['sha256']))}</code></li>")
        lines.append(f"<li>Spec: <code>{escape(json.dumps(view['spec'], ensure_ascii=False))}</code></li>")
    else:
        lines.append(f"<li>Lineage (tracked by the workbench): {escape(', '.join(view['lineage']) or 'none')}</li>")
        lines.append(f"<li>Declared by the analyst: {escape(', '.join(view['declared']) or 'nothing')}</li>")
        lines.append(f"<li><em>{escape(view['note'])}</em></li>")
    return (f"<div class='wb-provenance' style='border-left:4px solid {colour};padding-left:8px;margin:6px 0'>"
            + "".join(lines) + "</ul></div>")


BLANK = "–"  # what a checker sees for a cell the released file leaves empty; the legend under the table says so


def released_table_html(cells: dict[str, Any] | None) -> str:
    """The table as it will be released: cells the released file leaves empty (suppressed) shown as "–", cells
    mitigation changed marked, and a legend saying what each mark means (as the lab's checker panel does), so no
    meaning is only a colour, a dash or a hover."""
    if not cells:
        return ""
    corner = escape(" / ".join(n for n in cells["index_names"] if n is not None))
    head = f"<tr><th>{corner}</th>" + "".join(f"<th>{escape(c)}</th>" for c in cells["columns"]) + "</tr>"
    body = []
    blank = changed = False
    for row in cells["rows"]:
        tds = []
        for c in row["cells"]:
            if c["value"] is None:
                blank = True
                tds.append(f"<td class='wb-blank' title='suppressed: left empty in the released file'>{BLANK}</td>")
            elif c["changed"]:
                changed = True
                tds.append(f"<td class='wb-changed' style='background:#fff3cd' title='changed by mitigation'>"
                           f"{escape(_text(c['value']))}</td>")
            else:
                tds.append(f"<td>{escape(_text(c['value']))}</td>")
        body.append(f"<tr><th>{escape(row['label'])}</th>{''.join(tds)}</tr>")
    more = ""
    if len(cells["rows"]) < cells["total_rows"] or len(cells["columns"]) < cells["total_columns"]:
        more = (f"<p><em>Showing {len(cells['rows'])} of {cells['total_rows']} rows and {len(cells['columns'])} of "
                f"{cells['total_columns']} columns.</em></p>")
    return (f"<table class='dataframe'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
            f"{released_legend_html(blank, changed)}{more}")


def released_legend_html(blank: bool, changed: bool) -> str:
    """The key to the table as released: what "–" and the marked cells mean, or that nothing was changed."""
    items = []
    if blank:
        items.append(f"<li data-legend='blank'><b>{BLANK}</b> Blank: suppressed, left empty in the released file</li>")
    if changed:
        items.append("<li data-legend='changed'><span style='background:#fff3cd;padding:0 6px'>12</span> Changed by "
                     "mitigation (for example rounded)</li>")
    if not items:
        items.append("<li data-legend='none'>Released exactly as counted: no cell is blank or changed.</li>")
    return f"<ul class='wb-legend wb-released-legend' aria-label='Key to the table as released'>{''.join(items)}</ul>"


def side_by_side_html(released: dict[str, Any] | None, checked_html: str) -> str:
    """The table as it will be released beside the unmitigated one as checked (its flagged cells highlighted)."""
    if not released:
        return checked_html
    return ("<div style='display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap'>"
            "<div class='wb-released-table'><h5>As it will be released</h5>"
            f"{released_table_html(released)}</div>"
            f"<div class='wb-unmitigated-table'><h5>Unmitigated, as checked</h5>{checked_html}</div></div>")


def blocked_html(blocked: list[dict[str, Any]] | None, output_id: int | None = None) -> str:
    """The outputs a lapsed grant blocks (all, or those of ``output_id``), shown prominently; nothing when none."""
    rows = [b for b in blocked or [] if output_id is None or b.get("output") == output_id]
    if not rows:
        return ""
    items = "".join(f"<li>Output {escape(str(b.get('output')))}: {escape(str(b.get('dataset')))} — "
                    f"{escape(str(b.get('reason')))}</li>" for b in rows)
    return ("<div class='wb-blocked' style='border:2px solid #b02a37;background:#f8d7da;color:#58151c;"
            "padding:6px 10px;margin:6px 0'><b>Blocked: a dataset in the lineage is not under a current grant of "
            f"the project</b><ul>{items}</ul></div>")


__all__ = ["ANALYST_SUPPLIED", "BLANK", "CLASS_LABELS", "COMPUTED", "blocked_html", "blocked_lines", "dataset_versions",
           "headline",
           "provenance_html", "provenance_lines", "provenance_view", "released_cells", "released_legend_html",
           "released_table_html", "side_by_side_html", "spec_problems", "version_label"]
