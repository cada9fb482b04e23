"""Figures and custom files as outputs.

A figure is released with the table it was drawn from: the figure output carries that table's disclosure check
(flags, status, safe table), plus the figure as self-contained HTML and, where kaleido can drive a Chrome on
this machine, as PNG. Its plotly JSON is kept beside them so that the checker reads (and the text screen
checks) everything the HTML draws, hidden traces and hover text included. A custom file (a report, an image
made elsewhere) has no automatic check: its status is always ``review``, so a checker must look at it; its type
and size are limited by the workspace's settings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.disclosure.output import Output
from workbench.disclosure.settings import DisclosureSettings
from workbench.errors import DisclosureRisk, InvalidInput, NotFound

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")
FIGURE_HTML, FIGURE_PNG = "figure.html", "figure.png"
FIGURE_JSON = "figure.json"  # the figure as plotly JSON: what the HTML draws, shown to the checker as text


def figure_png(fig: Any) -> bytes | None:
    """The figure as PNG through kaleido, or None where kaleido or the Chrome it drives is not installed."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return None
    try:
        return fig.to_image(format="png")
    except Exception:  # kaleido without a Chrome it can start: HTML only
        return None


def figure_output(fig: Any, table: Output) -> tuple[Output, dict[str, bytes]]:
    """A figure output made from ``table``'s check, and its files (HTML always, PNG when possible)."""
    if not (hasattr(fig, "to_html") and hasattr(fig, "to_plotly_json")):
        raise InvalidInput(f"fig: give a plotly figure (plotly.graph_objects.Figure or plotly.express), not "
                           f"{type(fig).__name__}.", field="fig")
    files = {FIGURE_HTML: fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8"),
             FIGURE_JSON: fig.to_json().encode("utf-8")}
    png = figure_png(fig)
    if png is not None:
        files[FIGURE_PNG] = png
    traces = sorted({str(t.get("type", "scatter")) for t in fig.to_plotly_json().get("data", [])}) or ["empty"]
    figure = {"files": sorted(files), "traces": traces, "drawn_from": table.uid,
              "png": "included" if png is not None else "not made: kaleido could not start a Chrome here"}
    output = replace(table, kind="figure", method=f"plotly {'+'.join(traces)}"[:40],
                     properties={**table.properties, "figure": figure}, comments=[], exception=None, uid=None,
                     on_change=None, timestamp=datetime.now(UTC).isoformat(timespec="seconds"))
    return output, files


def check_file(name: str, size: int, settings: dict[str, Any]) -> list[str]:
    """What the workspace's file rules refuse about a file (its type, its size), with what to change."""
    problems = []
    suffix = Path(name).suffix.lower()
    allowed = settings["allowed_file_types"]
    if suffix not in allowed:
        problems.append(f"{name}: files of type {suffix or '(none)'} are not released (allowed: "
                        f"{', '.join(allowed)}); save it as one of those types")
    if size > settings["max_file_bytes"]:
        problems.append(f"{name}: {size:,} bytes is over the {settings['max_file_bytes']:,}-byte limit; make it "
                        "smaller (fewer pages, lower resolution) or split it")
    return problems


def file_output(path: Any, description: str, settings: dict[str, Any]) -> tuple[Output, dict[str, bytes]]:
    """A custom file as an output: status ``review``, its name, size and SHA-256 as the table a checker sees."""
    if not isinstance(path, str | Path):
        raise InvalidInput("path: give the path of the file to release.", field="path")
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"path: {path} is not a file.")
    if not FILE_NAME.match(path.name):
        raise InvalidInput(f"path: rename {path.name!r} to letters, digits, spaces, '.', '_' and '-' (up to 100).",
                           field="path")
    if not isinstance(description, str) or not description.strip():
        raise InvalidInput("description: say what the file shows, for the output checker.", field="description")
    size = path.stat().st_size
    problems = check_file(path.name, size, settings)
    if problems:
        raise DisclosureRisk("This file cannot be released: " + "; ".join(problems) + ".")
    content = path.read_bytes()
    table = pd.DataFrame({"file": [path.name], "bytes": [len(content)],
                          "sha256": [hashlib.sha256(content).hexdigest()]})
    output = Output(kind="file", method="custom file", table=table, flags={}, status="review",
                    safe_table=table.copy(), settings=DisclosureSettings(),
                    properties={"file": path.name, "description": description.strip()})
    return output, {path.name: content}


__all__ = ["FIGURE_HTML", "FIGURE_JSON", "FIGURE_PNG", "check_file", "figure_output", "figure_png", "file_output"]
