"""A catalogue entry drafted from the data: a UK-model YAML skeleton for the owner to complete.

The data gives what it can: columns and their types, categories for text columns with few distinct values, a
suggested role for each column (record keys named like identifiers that differ on every row, names, dates of
birth, postcodes and NHS numbers recognised by their form and check digit), and the period the date columns cover.
What only the owner knows (title, description, licence, classification...) is written as a placeholder,
``"<TO COMPLETE: ...>"``; an entry still holding one is refused when registered or imported, naming each field.

Files are profiled whole by DuckDB in bounded memory; a database table or query is profiled from its first
``DATABASE_ROWS`` rows (the YAML says so).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pandas as pd
import yaml

from workbench.catalogue.model import schema
from workbench.catalogue.quality import named_like_identifier
from workbench.catalogue.sources import INTEGER_TYPES, MEMORY_LIMIT, Source, database_sample, file_scan
from workbench.errors import InvalidInput

PLACEHOLDER = "<TO COMPLETE"
MARKER = re.compile(r"^\s*<TO COMPLETE\b")
CATEGORY_MAX = 20  # a text column with at most this many distinct values is drafted as a category
SAMPLE = 1_000  # values per column looked at to recognise NHS numbers and postcodes
DATABASE_ROWS = 100_000
RECOGNISED = 0.95  # share of the looked-at values that must have the form
NAME_COLUMN = re.compile(r"^(?:(?:first|last|given|family|full|middle|maiden|sur|fore)_?names?|surname|forenames?|"
                         r"name|patient_?name|person_?name)$", re.IGNORECASE)
BIRTH_COLUMN = re.compile(r"^(?:dob|d_o_b|date_?of_?birth|birth_?date|birth_?dt|birthdate)$", re.IGNORECASE)
POSTCODE = re.compile(r"^(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKPSTUW]? ?[0-9][ABD-HJLNP-UW-Z]{2})$",
                      re.IGNORECASE)
POSTCODE_DISTRICT = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKPSTUW]?$", re.IGNORECASE)


def is_nhs_number(value: object) -> bool:
    """Ten digits (spaces or dashes allowed between groups) whose last is the modulus 11 check digit."""
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def placeholders(doc: Any, path: str = "") -> list[str]:
    """The fields of ``doc`` (nested) whose value is still a ``<TO COMPLETE ...>`` placeholder."""
    if isinstance(doc, dict):
        return [p for key, value in doc.items() for p in placeholders(value, f"{path}.{key}" if path else str(key))]
    if isinstance(doc, list | tuple):
        return [p for i, value in enumerate(doc) for p in placeholders(value, f"{path}[{i}]")]
    return [path] if isinstance(doc, str) and MARKER.match(doc) else []


def refuse_placeholders(doc: Any, source: str = "the entry") -> Any:
    """``doc`` unchanged, or refuse it while a field still holds a placeholder from ``draft``."""
    unfinished = placeholders(doc)
    if unfinished:
        raise InvalidInput(f"{source} is a draft: complete {', '.join(unfinished)} (still '{PLACEHOLDER}: ...>'); "
                           "nothing was registered.", field=unfinished[0],
                           problems=[(name, "still a placeholder") for name in unfinished])
    return doc


@dataclass
class Profiled:
    name: str
    kind: str
    role: str = "other"
    why: str = ""
    categories: list[str] | None = None
    first: date | None = None
    last: date | None = None
    unique: bool = False


def _kind(duck_type: str) -> str:
    if duck_type in INTEGER_TYPES:
        return "integer"
    if duck_type in ("FLOAT", "DOUBLE") or duck_type.startswith("DECIMAL"):
        return "float"
    if duck_type == "BOOLEAN":
        return "boolean"
    if duck_type == "DATE" or duck_type.startswith("TIMESTAMP"):
        return "date"
    return "string"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def profile(con: duckdb.DuckDBPyConnection, scan: str) -> tuple[int, list[Profiled]]:
    """Rows and a profile of every column of ``scan`` (a DuckDB FROM clause)."""
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as error:
        raise InvalidInput(f"data: cannot read it: {(str(error).splitlines() or [''])[0]}.", field="data") from None
    columns = [Profiled(str(name), _kind(str(kind))) for name, kind, *_ in described]
    parts = ["count(*)"]
    for c in columns:
        parts += [f"count({_q(c.name)})", f"approx_count_distinct({_q(c.name)})"]
        if c.kind == "date":
            parts += [f"min({_q(c.name)})::DATE", f"max({_q(c.name)})::DATE"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {scan}").fetchone()
    assert row is not None
    rows, at = int(row[0]), 1
    for c in columns:
        present, distinct = int(row[at]), int(row[at + 1])
        at += 2
        if c.kind == "date":
            c.first, c.last = row[at], row[at + 1]
            at += 2
        if present and c.kind in ("string", "integer") and named_like_identifier(c.name):
            unique = con.execute(f"SELECT count(DISTINCT {_q(c.name)}) FROM {scan}").fetchone()
            c.unique = bool(unique and unique[0] == rows == present and rows >= 2)
        _suggest(con, scan, c)
        if c.kind == "string" and c.role == "other" and 0 < distinct <= CATEGORY_MAX and rows > 2 * CATEGORY_MAX:
            values = con.execute(f"SELECT DISTINCT {_q(c.name)} FROM {scan} WHERE {_q(c.name)} IS NOT NULL "
                                 f"ORDER BY 1 LIMIT {CATEGORY_MAX + 1}").fetchall()
            if len(values) <= CATEGORY_MAX:
                c.kind, c.categories = "category", [str(v[0]) for v in values]
    return rows, columns


def _suggest(con: duckdb.DuckDBPyConnection, scan: str, c: Profiled) -> None:
    """A suggested role and why, from the column's name and (for identifiers) the form of its values."""
    if c.kind in ("string", "integer"):
        values = [v[0] for v in con.execute(f"SELECT {_q(c.name)} FROM {scan} WHERE {_q(c.name)} IS NOT NULL "
                                            f"LIMIT {SAMPLE}").fetchall()]
        if values and sum(map(is_nhs_number, values)) >= RECOGNISED * len(values):
            c.kind, c.role = "string", "direct_identifier"
            c.why = "its values are NHS numbers (ten digits with a valid check digit)"
            return
        text = [str(v).strip() for v in values]
        if values and c.kind == "string" and sum(bool(POSTCODE.match(v)) for v in text) >= RECOGNISED * len(text):
            c.role, c.why = "direct_identifier", "its values are full UK postcodes"
            return
        if values and c.kind == "string" and sum(bool(POSTCODE_DISTRICT.match(v)) for v in text) \
                >= RECOGNISED * len(text) and any(ch.isdigit() for v in text for ch in v):
            c.role, c.why = "quasi_identifier", "its values are postcode districts"
            return
    if c.kind == "string" and NAME_COLUMN.match(c.name):
        c.role, c.why = "direct_identifier", "it is named like a person's name"
    elif BIRTH_COLUMN.match(c.name):
        c.role, c.why = "quasi_identifier", "it is named like a date of birth"
    elif c.unique:
        c.role, c.why = "record_identifier", "it is named like an identifier and differs on every row"
    elif c.kind in ("string", "integer") and named_like_identifier(c.name):
        c.why = ("it is named like an identifier but repeats: if it identifies a person, make it direct_identifier "
                 "and name it as personKey")


def draft(data: pd.DataFrame | Source, *, today: date | None = None) -> str:
    """The YAML skeleton of an entry for ``data`` (a DataFrame or a checked ``Source``)."""
    with tempfile.TemporaryDirectory(prefix="workbench-draft-") as spill:  # private (0700), removed after
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill,
                                     "autoinstall_known_extensions": False, "autoload_known_extensions": False})
        try:
            note = ""
            if isinstance(data, pd.DataFrame):
                con.register("frame", data)
                scan, origin = "frame", "a DataFrame"
            elif data.url is None:
                scan, origin = file_scan(data, as_text=False), str(data)
            else:
                sample = database_sample(data, DATABASE_ROWS)
                con.register("sample", sample)
                scan, origin = "sample", str(data)
                note = f" (profiled from its first {DATABASE_ROWS:,} rows)"
            rows, columns = profile(con, scan)
        finally:
            con.close()
    return _yaml(columns, rows, origin + note, today or datetime.now(UTC).date())


def _todo(text: str) -> str:
    return f"{PLACEHOLDER}: {text}>"


def _dump(value: Any) -> str:
    """``value`` as inline YAML (quoted where needed)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _yaml(columns: list[Profiled], rows: int, origin: str, today: date) -> str:
    model = schema()
    lines = [
        f"# Drafted from {origin}: {rows:,} rows, {len(columns)} columns.",
        f"# Complete every '{PLACEHOLDER}: ...>' field (registering refuses the entry until then) and check each",
        "# column's type and suggested role: categories and coverage below are public metadata once registered.",
        "type: dcat:Dataset",
        f"identifier: {_dump(_todo('a URI for the dataset, e.g. https://data.gov.uk/dataset/...'))}",
        f"title: {_dump(_todo('a title people will search for'))}",
        f"description: {_dump(_todo('what the data holds, who is in it and how it was collected'))}",
        f"publisher: {_dump(_todo('GOV.UK organisation slug, e.g. department-of-health-and-social-care'))}",
        "creator:",
        f"  - {_dump(_todo('GOV.UK organisation slug of who made the data'))}",
        "contactPoint:",
        f"  contactName: {_dump(_todo('the team to contact'))}",
        f"  email: {_dump(_todo('a team mailbox'))}",
        f"licence: {_dump(_todo('e.g. http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/'))}",
        f"version: {_dump(_todo('this extract, e.g. 2025-03'))}",
        f"accessRights: {_dump(_todo('one of ' + ', '.join(model.enums['AccessRightsValues'])))}",
        f"securityClassification: "
        f"{_dump(_todo('one of ' + ', '.join(model.enums['SecurityClassificationValues'])))}",
        f"updateFrequency: {_dump(_todo('e.g. freq:monthly, freq:annual or freq:irregular'))}",
        f"modified: {_dump(today.isoformat())}",
        "# localId: dept.name        (the short id used in the API and CLI; made from the identifier when left out)",
        "# legalGateway: [...]       (codes of the gateways the data may be shared under)",
    ]
    dates = [c for c in columns if c.kind == "date" and c.first and not BIRTH_COLUMN.match(c.name)]
    if dates:
        start = min(c.first for c in dates if c.first)
        end = max(c.last for c in dates if c.last)
        lines += [f"temporalCoverage:   # from {', '.join(c.name for c in dates)}",
                  f"  start: {_dump(start.isoformat())}", f"  end: {_dump(end.isoformat())}"]
    lines.append("columns:")
    for c in columns:
        lines.append(f"  - name: {_dump(c.name)}")
        lines.append(f"    type: {c.kind}")
        lines.append(f"    role: {c.role}" + (f"   # suggested: {c.why}" if c.why else ""))
        lines.append("    description: ''")
        if c.categories:
            lines.append(f"    categories: {_dump(c.categories)}")
    return "\n".join(lines) + "\n"


__all__ = ["PLACEHOLDER", "draft", "is_nhs_number", "placeholders", "refuse_placeholders"]
