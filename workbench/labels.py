"""What notebooks show people instead of the codes, column names and raw values the kernel API uses.

The kernel API keeps its codes (``freq:monthly``, ``TOP_SECRET``, ``project_id``) because code and tests rely on
them; a person reading a widget or an object's HTML view should see "Monthly", "Top secret", "Project", "345,272"
and "31 March 2027". Every widget and view formats through this one module, so a label is written once and the
same code reads the same everywhere (GOV.UK style: sentence case, dates as day month year, numbers with thousands
separators).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from html import escape
from typing import Any

import pandas as pd

# what is shown for a missing value (no date, no number); GOV.UK tables use a dash
MISSING = "—"

# codes whose human label is not their words in sentence case
CODES: dict[str, str] = {
    # update frequencies (Dublin Core frequency vocabulary)
    "freq:triennial": "Every 3 years", "freq:biennial": "Every 2 years", "freq:annual": "Yearly",
    "freq:semiannual": "Twice a year", "freq:threeTimesAYear": "3 times a year", "freq:quarterly": "Quarterly",
    "freq:bimonthly": "Every 2 months", "freq:monthly": "Monthly", "freq:semimonthly": "Twice a month",
    "freq:biweekly": "Every 2 weeks", "freq:threeTimesAMonth": "3 times a month", "freq:weekly": "Weekly",
    "freq:semiweekly": "Twice a week", "freq:threeTimesAWeek": "3 times a week", "freq:daily": "Daily",
    "freq:continuous": "Continuously", "freq:irregular": "Irregularly",
    # security classifications and access rights (UK government metadata model)
    "OFFICIAL": "Official", "OFFICIAL_SENSITIVE": "Official-sensitive", "SECRET": "Secret",
    "TOP_SECRET": "Top secret", "NOT_APPLICABLE": "Not applicable",
    "INTERNAL": "Internal", "OPEN": "Open", "COMMERCIAL": "Commercial",
    # legal gateways (the workbench's register of gateways)
    "dea-2017-research": "Research power (Digital Economy Act 2017)",
    "dea-2017-public-service-delivery": "Public service delivery power (Digital Economy Act 2017)",
    "sraa-2007-s39": "Statistics and Registration Service Act 2007, section 39",
    "uk-gdpr-public-task": "Public task (UK GDPR)",
    "nhs-act-2006-s251": "Section 251 support (NHS Act 2006)",
    "education-act-1996-s537a": "Pupil information (Education Act 1996)",
    "crime-and-disorder-act-1998-s115": "Crime and disorder information sharing (1998 Act)",
    "open-government-licence": "Open data (Open Government Licence)",
    # roles
    "output_checker": "Output checker", "data_owner": "Data owner", "admin": "Administrator",
    "lead": "Project lead", "analyst": "Analyst", "trainer": "Trainer", "trainee": "Trainee",
    # disclosure roles of columns
    "direct_identifier": "Direct identifier", "record_identifier": "Record identifier",
    "quasi_identifier": "Quasi-identifier", "sensitive": "Sensitive", "other": "Other",
    # column types
    "string": "Text", "integer": "Whole number", "float": "Number", "boolean": "Yes or no", "date": "Date",
    "category": "Category",
    # statuses
    "changes": "Changes needed",
}

# DataFrame columns as table headers
HEADERS: dict[str, str] = {
    "id": "ID", "project_id": "Project", "dataset_id": "Dataset", "request_id": "Request", "output_id": "Output",
    "epsilon": "ε", "epsilon_spent": "ε spent", "epsilon_budget": "ε budget", "epsilon_left": "ε left",
    "budget": "Budget", "spent": "Spent", "remaining": "Left",
    "name": "Name", "type": "Type", "role": "Role", "completeness": "Complete", "description": "Description",
    "status": "Status", "decided_by": "Decided by", "decided_at": "Decided", "created_at": "Created",
    "requested_at": "Requested", "submitted_at": "Submitted", "released_at": "Released", "expires_at": "Expires",
    "expires": "Expires", "reason": "Reason", "username": "User", "legal_gateway": "Legal gateway",
    "security_classification": "Security classification", "access_rights": "Access rights",
    "update_frequency": "Update frequency", "row_count": "Rows", "reviews_in": "Reviews in",
    "reviews_needed": "Reviews needed", "awaiting_me": "Waiting for you",
    "granted_at": "Granted", "identifiers": "Direct identifiers", "linkage": "Columns for linkage only",
    "requested_by": "Requested by", "state": "State", "created_by": "Created by", "concluded_by": "Concluded by",
    "concluded_at": "Concluded", "kind": "Kind", "scope": "Scope", "queries": "Queries", "last_query": "Last query",
    "left_dataset": "Left dataset", "right_dataset": "Right dataset",
}

# columns whose values are codes to label
CODED = {"status", "role", "type", "legal_gateway", "security_classification", "access_rights", "update_frequency",
         "decision", "outcome", "state", "kind"}


def code_label(code: Any) -> str:
    """The human label of a code: ``freq:monthly`` → "Monthly", ``TOP_SECRET`` → "Top secret"; other codes as
    words in sentence case (``partially_reviewed`` → "Partially reviewed", ``approved`` → "Approved")."""
    if code is None or _missing(code):
        return MISSING
    text = str(code)
    if text in CODES:
        return CODES[text]
    words = text.removeprefix("freq:").replace("_", " ").replace("-", " ").strip()
    if not words:
        return text
    return words[0].upper() + words[1:].lower() if words.isupper() else words[0].upper() + words[1:]


def header(column: str) -> str:
    """A DataFrame column as a table header: ``project_id`` → "Project", ``epsilon_spent`` → "ε spent"."""
    if column in HEADERS:
        return HEADERS[column]
    words = column.removesuffix("_id").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else column


def number(value: Any, *, digits: int = 3) -> str:
    """A number as people read it: ``345272`` → "345,272", ``88650.3`` → "88,650", ``0.01234`` → "0.0123";
    never scientific notation; missing → "—".

    Whole numbers (and numbers of 1,000 or more) show as whole numbers with thousands separators; smaller ones
    keep ``digits`` significant figures."""
    if value is None or isinstance(value, bool) or _missing(value):
        return MISSING if not isinstance(value, bool) else ("Yes" if value else "No")
    if not isinstance(value, numbers.Real):
        return str(value)
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= 1000 or x == int(x):
        return f"{round(x):,}"
    if x == 0:
        return "0"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(share: Any) -> str:
    """A share (0–1) as a whole percentage: ``0.873`` → "87%"; missing → "—"."""
    if share is None or _missing(share):
        return MISSING
    return f"{float(share) * 100:.0f}%"


def date(value: Any, *, time: bool = False, missing: str = MISSING) -> str:
    """A date as GOV.UK writes it: "31 March 2027" (with ``time``, "31 March 2027, 2:05pm"); ``missing`` for no
    date (None, NaT, '')."""
    if value is None or _missing(value) or (isinstance(value, str) and not value.strip()):
        return missing
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if pd.isna(stamp):
        return missing
    text = f"{stamp.day} {stamp.strftime('%B %Y')}"
    if time and (stamp.hour or stamp.minute):
        hour = stamp.hour % 12 or 12
        text += f", {hour}:{stamp.minute:02d}{'am' if stamp.hour < 12 else 'pm'}"
    return text


def value(column: str, cell: Any) -> str:
    """One cell of a table as shown: dates as dates, numbers formatted, codes labelled, missing as "—"."""
    if isinstance(cell, (list, tuple)):
        return ", ".join(value(column, c) for c in cell) or MISSING
    dated = column.endswith(("_at", "_on")) or column in ("expires", "modified", "issued")
    if isinstance(cell, (dt.date, pd.Timestamp)) or (dated and (isinstance(cell, str) or _missing(cell))):
        return date(cell, time=column.endswith("_at"))
    if column == "completeness":
        return percent(cell)
    if pd.api.types.is_bool(cell):
        return "Yes" if cell else "No"
    if isinstance(cell, numbers.Real):
        return number(cell)
    if column in CODED:
        return code_label(cell)
    if cell is None or _missing(cell):
        return MISSING
    return str(cell)


def table_html(frame: pd.DataFrame, *, columns: list[str] | None = None, index: bool = False) -> str:
    """A DataFrame as an HTML table for people: human headers, formatted cells; with ``index``, the row labels
    first (a cross-table's areas or age bands), under a corner naming both axes ("Area / Age")."""
    shown = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = "".join(f"<th style='text-align:left'>{escape(header(str(c)))}</th>" for c in shown)
    if index:
        axes = [n for n in [*frame.index.names, frame.columns.name] if n is not None]
        head = f"<th style='text-align:left'>{escape(' / '.join(header(str(n)) for n in axes))}</th>{head}"
    rows = "".join(
        "<tr>" + (f"<th style='text-align:left' scope='row'>{escape(_row_label(label))}</th>" if index else "")
        + "".join(f"<td style='text-align:left'>{escape(value(str(c), row[c]))}</td>" for c in shown) + "</tr>"
        for label, row in frame.iterrows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _row_label(label: Any) -> str:
    if isinstance(label, tuple):
        return " / ".join(_row_label(part) for part in label)
    return number(label) if isinstance(label, numbers.Real) and not isinstance(label, bool) else str(label)


def _missing(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # lists and other containers
        return False


__all__ = ["CODED", "CODES", "HEADERS", "MISSING", "code_label", "date", "header", "number", "percent", "table_html",
           "value"]
