"""The result of a disclosure-checked analysis: the table, which cells fail which rule, and what may be released.

``status`` is what an output checker sees: ``pass`` (every rule met), ``fail`` (a rule failed and nothing
repaired it) or ``review`` (the workspace's mitigation was applied, or a rule asks a person to look).
``safe_table`` is the table after mitigation; ``table`` is never released as it is when a rule failed.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from workbench.disclosure.rules import describe, reason
from workbench.disclosure.settings import DisclosureSettings
from workbench.errors import InvalidInput
from workbench.labels import number

STATUSES = ("pass", "fail", "review")
COLOURS = {"threshold": "#f8d7da", "zeros": "#e2d9f3", "dominance": "#fff3cd", "p_percent": "#ffe5d0",
           "negative": "#d1ecf1", "missing": "#e2e3e5", "dof": "#f8d7da", "edges": "#f8d7da",
           "linked": "#f5c6cb"}
SUPPRESSED_COLOUR = "#c6c8ca"
HTML_MAX_ROWS, HTML_MAX_COLS = 60, 30
EXPLAIN_MAX_CELLS = 50


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# an automatic check's result as people write it (the lab's checkLabel says the same)
CHECK_LABELS = {"pass": "Passes", "fail": "Fails", "review": "Needs review"}


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return str(value)


@dataclass(eq=False)
class Output:
    """A checked table or model. Attach a justification to a failing one with ``request_exception``."""

    kind: str
    method: str
    table: pd.DataFrame
    flags: dict[str, pd.DataFrame]
    status: str
    safe_table: pd.DataFrame
    settings: DisclosureSettings
    measures: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    suppressed: pd.DataFrame | None = field(default=None, repr=False)
    status_before_mitigation: str | None = None
    mitigation: dict[str, Any] = field(default_factory=lambda: {"method": "none"})
    properties: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    comments: list[str] = field(default_factory=list)
    exception: str | None = None
    uid: str | None = None
    timestamp: str = field(default_factory=_now)
    # set when the output is recorded in a project: persists a change ("exception" | "comment", text) first
    on_change: Callable[[str, str], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.status_before_mitigation is None:
            self.status_before_mitigation = self.status
        if self.suppressed is None:
            self.suppressed = pd.DataFrame(False, index=self.table.index, columns=self.table.columns)

    # -- what the analyst does -------------------------------------------------------------------------------
    def request_exception(self, justification: str) -> None:
        """Ask the output checker to release this output although it fails: say why it is safe and needed."""
        if not isinstance(justification, str) or not justification.strip():
            raise InvalidInput("justification: say why this output is safe to release and why it is needed "
                               "(e.g. 'the small cells are published counts from ONS table X').",
                               field="justification")
        if self.on_change is not None:
            self.on_change("exception", justification.strip())
        self.exception = justification.strip()

    def add_comment(self, comment: str) -> None:
        """A note for the output checker (context, not a request for an exception)."""
        if not isinstance(comment, str) or not comment.strip():
            raise InvalidInput("comment: write the note for the output checker.", field="comment")
        if self.on_change is not None:
            self.on_change("comment", comment.strip())
        self.comments.append(comment.strip())

    def require_review(self, reason: str) -> None:
        """Make the output ``review`` at least (never ``pass``) for ``reason``: something the rules cannot see, such
        as rows that may not be people. A failing output stays ``fail``. Kept in ``properties["review_reasons"]``."""
        reasons = list(self.properties.get("review_reasons") or [])
        if reason not in reasons:
            reasons.append(reason)
        self.properties["review_reasons"] = reasons
        if self.status == "pass":
            self.status = "review"
        if self.status_before_mitigation == "pass":
            self.status_before_mitigation = "review"

    # -- what the checker reads ------------------------------------------------------------------------------
    @property
    def review_reasons(self) -> list[str]:
        """Why the output needs a person to look, besides its rules (e.g. its rows may not be people)."""
        return [str(r) for r in self.properties.get("review_reasons") or []]

    @property
    def linked_tables(self) -> str:
        """Why the ``linked`` rule failed: which other recorded tables give away which suppressed cells ("" when it
        did not)."""
        return str((self.properties.get("linked") or {}).get("explanation") or "")

    @property
    def privacy_unit(self) -> str:
        """What the rules counted: ``"person"`` (distinct persons, each one's contributions summed) or ``"row"``
        (each row taken as a person)."""
        return str(self.properties.get("privacy_unit", "row"))

    @property
    def failing_rules(self) -> list[str]:
        return [name for name, flag in self.flags.items() if flag.to_numpy().any()]

    @property
    def _aggregates_values(self) -> bool:
        """A table of values (a crosstab with ``values=``, any pivot table or groupby), not of records."""
        return bool(self.properties.get("values")) or self.properties.get("aggfunc") not in (None, [], [None])

    def failures(self) -> pd.DataFrame:
        """One row per failing cell and rule: the cell's row and column labels, the rule and why it failed."""
        rows = []
        for name, flag in self.flags.items():
            positions = np.argwhere(flag.to_numpy())
            measure = self.measures.get(name)
            values = measure.to_numpy() if measure is not None else None
            for r, c in positions:
                number = float(values[r, c]) if values is not None else float("nan")
                rows.append({"row": self.table.index[r], "column": self.table.columns[c], "rule": name,
                             "reason": reason(name, number, self.settings, self.privacy_unit,
                                              values=self._aggregates_values)})
        return pd.DataFrame(rows, columns=["row", "column", "rule", "reason"])

    def summary(self) -> str:
        """One line: the status and how many cells fail each rule (the ACRO/SACRO summary)."""
        parts = [f"{name}: {int(flag.to_numpy().sum())} cells" for name, flag in self.flags.items()
                 if flag.to_numpy().any()]
        method = self.mitigation.get("method", "none")
        if method != "none":
            parts.append(self._mitigation_line())
        if self.linked_tables:
            parts.append(f"linked tables: {self.linked_tables}")
        parts.extend(f"review: {reason}" for reason in self.review_reasons)
        return "; ".join([self.status, *parts])

    def _mitigation_line(self) -> str:
        m = self.mitigation
        if m.get("method") == "suppress":
            line = (f"suppressed {m.get('primary', 0)} failing and {m.get('secondary', 0)} further cells so that "
                    "no suppressed cell can be worked out from the totals")
        elif m.get("method") == "round":
            line = f"rounded to base {m.get('base')}, totals the sums of the rounded cells"
            if m.get("primary"):
                line += (f", and suppressed {m.get('primary', 0)} failing cells of value tables and "
                         f"{m.get('secondary', 0)} further cells so that none can be worked out from the totals")
        else:
            line = str(m.get("note", "not mitigated"))
        if m.get("withheld_totals"):
            line += "; do not publish these totals: " + ", ".join(m["withheld_totals"])
        if m.get("note") and m.get("method") != "none":
            line += f" ({m['note']})"
        return line

    def explain(self) -> str:
        """Every failing cell and why, then the mitigation and any exception requested."""
        lines = [f"{self.method}: status {self.status}"
                 + (f" (before mitigation: {self.status_before_mitigation})"
                    if self.status_before_mitigation != self.status else "")]
        failures = self.failures()
        if failures.empty:
            lines.append("Every rule is met.")
        for name in self.flags:
            subset = failures[failures["rule"] == name]
            if subset.empty:
                continue
            if self.kind == "regression":  # a model's rules judge whole parameters (rows), not single numbers
                subset = subset.drop_duplicates(subset=["row"])
            unit = "parameter" if self.kind == "regression" else "cell"
            lines.append(f"{name} — {describe(name, self.settings, self.privacy_unit)}: {len(subset)} {unit}"
                         + ("s" if len(subset) != 1 else ""))
            if len(subset) > EXPLAIN_MAX_CELLS and not (self.kind == "regression" and name == "dof"):
                lines.extend(f"  {_label(r.row)} × {_label(r.column)}: {r.reason}"
                             for r in subset.head(EXPLAIN_MAX_CELLS).itertuples(index=False))
                lines.append(f"  ... and {len(subset) - EXPLAIN_MAX_CELLS:,} more (.failures() lists them all)")
                continue
            for row in subset.itertuples(index=False):
                where = _label(row.row) if self.kind == "regression" else f"{_label(row.row)} × {_label(row.column)}"
                if self.kind == "regression" and name == "dof":
                    lines.append(f"  the whole model: {row.reason}")
                    break
                lines.append(f"  {where}: {row.reason}")
        if self.mitigation.get("method", "none") != "none" or self.mitigation.get("note"):
            lines.append("Mitigation: " + self._mitigation_line() + ".")
        if self.linked_tables:
            lines.append(f"Linked tables: {self.linked_tables}.")
        lines.extend(f"Review: {reason}" for reason in self.review_reasons)
        if self.exception:
            lines.append(f"Exception requested: {self.exception}")
        for comment in self.comments:
            lines.append(f"Comment: {comment}")
        return "\n".join(lines)

    # -- presentation ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"<Output {self.method} {self.table.shape[0]}×{self.table.shape[1]} status={self.status}"
                + (f" failing={','.join(self.failing_rules)}" if self.failing_rules else "") + ">")

    def _repr_html_(self) -> str:
        if self.kind == "dp":
            return self._dp_html()
        colour = {"pass": "#198754", "fail": "#dc3545", "review": "#fd7e14"}[self.status]
        parts = [f'<div class="wb-sdc-output"><p><strong>{html.escape(self.method)}</strong> '
                 f'<span style="background:{colour};color:white;padding:1px 6px;border-radius:3px">'
                 f"{CHECK_LABELS.get(self.status, self.status)}</span>"]
        if self.status_before_mitigation != self.status:
            before = self.status_before_mitigation or ""
            parts.append(f" (before mitigation: {CHECK_LABELS.get(before, before).lower()})")
        parts.append("</p><ul>")
        for name, flag in self.flags.items():
            count = int(flag.to_numpy().sum())
            mark = "✗" if count else "✓"
            swatch = f'<span style="background:{COLOURS.get(name, "#eee")};padding:0 6px">&nbsp;</span> '
            parts.append(f"<li>{swatch}{mark} <b>{name}</b>: {count} "
                         f"{html.escape(describe(name, self.settings, self.privacy_unit))}"
                         "</li>")
        if self.mitigation.get("method", "none") != "none":
            parts.append(f"<li>mitigation: {html.escape(self._mitigation_line())}</li>")
        if self.linked_tables:
            parts.append(f"<li>linked tables: {html.escape(self.linked_tables)}</li>")
        parts.extend(f"<li>review: {html.escape(reason)}</li>" for reason in self.review_reasons)
        if self.exception:
            parts.append(f"<li>exception requested: {html.escape(self.exception)}</li>")
        parts.append("</ul>")
        parts.append(self._html_table())
        parts.append("</div>")
        return "".join(parts)

    def _dp_html(self) -> str:
        """A differentially private result: each value ± its 95% half-width, how it was made, budget left."""
        dp = self.properties.get("dp", {})
        widths = dp.get("half_width") or []
        table = self.table.iloc[:HTML_MAX_ROWS, :HTML_MAX_COLS]
        out = [f'<div class="wb-dp-output"><p><strong>{html.escape(self.method)}</strong> '
               f"ε = {number(dp.get('epsilon'))} · {html.escape(str(dp.get('mechanism', '')))} · privacy "
               f"unit: {html.escape(str(dp.get('privacy_unit', '')))}</p>",
               '<table class="dataframe"><thead><tr><th></th>']
        out += [f"<th>{html.escape(_label(c))}</th>" for c in table.columns]
        out.append("</tr></thead><tbody>")
        for r in range(len(table)):
            out.append(f"<tr><th>{html.escape(_label(table.index[r]))}</th>")
            for c in range(table.shape[1]):
                value = table.iat[r, c]
                width = widths[r][c] if r < len(widths) and c < len(widths[r]) else None
                text = "" if pd.isna(value) else number(value, digits=4)  # 88,650, never 8.865e+04
                if width is not None and not pd.isna(value):
                    text += f" ± {number(width)}"
                out.append(f"<td>{html.escape(text)}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
        if dp.get("rank_half_width") is not None:
            out.append(f"<p>95% of the time within ±{number(dp['rank_half_width'])} ranks of the true quantile"
                       + (f", to within half the grid step of {number(dp['resolution'])}" if dp.get("resolution")
                          else "")
                       + ".</p>")
        left = ", ".join(f"{html.escape(k)}: ε {v:.4g}" for k, v in (dp.get("remaining") or {}).items())
        out.append(f"<p>± is the 95% interval half-width of the noise. Budget left after this query: {left}.</p>")
        return "".join(out) + "</div>"

    def _html_table(self) -> str:
        table = self.table
        n_rows, n_cols = min(len(table), HTML_MAX_ROWS), min(table.shape[1], HTML_MAX_COLS)
        flags = {name: flag.to_numpy()[:n_rows, :n_cols] for name, flag in self.flags.items()}
        suppressed = self.suppressed.to_numpy()[:n_rows, :n_cols]
        values = table.iloc[:n_rows, :n_cols]
        out = ['<table class="dataframe"><thead><tr><th></th>']
        out += [f"<th>{html.escape(_label(c))}</th>" for c in values.columns]
        out.append("</tr></thead><tbody>")
        shown_suppressed = False
        for r in range(n_rows):
            out.append(f"<tr><th>{html.escape(_label(values.index[r]))}</th>")
            for c in range(n_cols):
                failed = [name for name, flag in flags.items() if flag[r, c]]
                style, title = "", ""
                if failed:
                    style = f' style="background:{COLOURS.get(failed[0], "#f8d7da")};outline:1px solid #dc3545"'
                    title = f' title="{html.escape(", ".join(failed))}"'
                elif suppressed[r, c]:
                    shown_suppressed = True
                    style = f' style="background:{SUPPRESSED_COLOUR}"'
                    title = ' title="suppressed to protect another cell"'
                value = values.iat[r, c]
                text = "" if pd.isna(value) else (number(value, digits=4) if isinstance(value, numbers.Real)
                                                  and not isinstance(value, bool | np.bool_) else str(value))
                out.append(f"<td{style}{title}>{html.escape(text)}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
        if shown_suppressed:  # the rules' colours are keyed in the list above; this is the one colour they are not
            out.append(f'<ul class="wb-legend wb-checked-legend"><li data-legend="suppressed"><span style="background:'
                       f'{SUPPRESSED_COLOUR};padding:0 6px">12</span> Suppressed to protect another cell (blank when '
                       "released)</li></ul>")
        if n_rows < len(table) or n_cols < table.shape[1]:
            out.append(f"<p>Showing {n_rows} of {len(table)} rows and {n_cols} of {table.shape[1]} columns; "
                       "<code>.explain()</code> lists every failing cell.</p>")
        return "".join(out)


__all__ = ["STATUSES", "Output"]
