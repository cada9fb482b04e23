"""Data against its catalogue schema: does it fit, how many rows, how complete is each column — and does a
column registered as ``other`` look like a record key that should be a ``record_identifier``.

Works on one Arrow conversion of the frame (which is also what the vault writes), so checking a
million-row dataset costs little more than writing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types

from workbench.errors import InvalidInput

# Names that say "identifier": id, urn, key, uuid..., or ending _id, _no, _number, _ref, _key, _urn..., or
# holding "serial"; camelCase (caseId, claimNo) too.
ID_NAME = re.compile(r"^(?:id|uid|uuid|guid|urn|key|ref)$|_(?:id|uid|uuid|guid|no|num|nbr|number|ref|reference|key|"
                     r"urn)$|^(?:id|key|ref)_|serial", re.IGNORECASE)
CAMEL_ID_NAME = re.compile(r"[a-z0-9](?:Id|ID|No|Num|Number|Ref|Key|Urn|URN)$")


def agree(columns: list[dict[str, Any]], actual: list[str]) -> None:
    """Refuse data whose columns are not exactly the declared ones (any order)."""
    declared = [c["name"] for c in columns]
    if len(set(actual)) != len(actual):
        raise InvalidInput("data: column names repeat; give each column a unique name.", field="data")
    missing, extra = sorted(set(declared) - set(actual)), sorted(set(actual) - set(declared))
    if missing or extra:
        parts = ([f"declared but not in the data: {', '.join(missing)}"] if missing else []) + \
                ([f"in the data but not declared: {', '.join(extra)}"] if extra else [])
        raise InvalidInput("columns: the schema and the data disagree: " + "; ".join(parts), field="columns")


def named_like_identifier(name: str) -> bool:
    """Does a column's name say it is an identifier (``id``, ``case_id``, ``claim_no``, ``household_serial``...)?"""
    return bool(ID_NAME.search(name) or CAMEL_ID_NAME.search(name))


def key_candidates(columns: list[dict[str, Any]] | None) -> list[str]:
    """Columns registered with role ``other`` whose names say they are identifiers."""
    return [c["name"] for c in columns or [] if c.get("role") == "other" and named_like_identifier(c["name"])]


def unique_per_row(table: pa.Table, names: list[str]) -> set[str]:
    """Those of ``names`` whose values differ on every row (at least two rows, none missing)."""
    rows = table.num_rows
    out = set()
    for name in names:
        values = table.column(name)
        if rows >= 2 and values.null_count == 0 and pc.count_distinct(_decoded(values)).as_py() == rows:
            out.add(name)
    return out


def record_key_warnings(columns: list[dict[str, Any]] | None, unique: set[str] | None) -> list[str]:
    """Warnings for columns with role ``other`` that look like record keys: named like an identifier and, when
    the data is known (``unique`` holds the candidates unique per row), different on every row.

    Only a warning: the owner decides. Left ``other``, such a column comes out identical in every project, so
    two projects' extracts can be joined on it despite their separate pseudonyms.
    """
    warnings = []
    for name in key_candidates(columns):
        if unique is not None and name not in unique:
            continue
        seen = "differs on every row and " if unique is not None else ""
        warnings.append(f"column {name!r} has role 'other' but {seen}is named like an identifier: if it identifies "
                        "a record (case, episode, claim...), give it role 'record_identifier' so each project sees "
                        "its own pseudonyms; left 'other', its values are the same in every project and two "
                        "projects' extracts can be joined on it.")
    return warnings


@dataclass(frozen=True)
class Checked:
    table: pa.Table
    row_count: int
    completeness: dict[str, float]


def _fits(kind: str, arrow_type: pa.DataType) -> bool:
    t = pa.types
    if t.is_null(arrow_type):  # every value missing: fits any declared type
        return True
    if t.is_dictionary(arrow_type):
        return kind == "category" and _fits("string", arrow_type.value_type)
    return {
        "string": t.is_string(arrow_type) or t.is_large_string(arrow_type),
        "category": t.is_string(arrow_type) or t.is_large_string(arrow_type),
        "integer": t.is_integer(arrow_type),
        "float": t.is_floating(arrow_type) or t.is_integer(arrow_type),
        "boolean": t.is_boolean(arrow_type),
        "date": t.is_timestamp(arrow_type) or t.is_date(arrow_type),
    }[kind]


def _decoded(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encoded (pandas categorical) values as plain values."""
    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) else values


def infer_columns(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A starting schema for ``frame``: type from dtype, role ``record_identifier`` for a column named like an
    identifier that differs on every row, ``other`` for the rest. Set the roles before registering."""
    out = []
    for name, dtype in frame.dtypes.items():
        if types.is_bool_dtype(dtype):
            kind = "boolean"
        elif types.is_integer_dtype(dtype):
            kind = "integer"
        elif types.is_float_dtype(dtype):
            kind = "float"
        elif types.is_datetime64_any_dtype(dtype):
            kind = "date"
        else:
            kind = "string"
        out.append({"name": str(name), "type": kind, "role": "other", "description": ""})
    candidates = [c["name"] for c in out if c["type"] in ("string", "integer") and named_like_identifier(c["name"])]
    if candidates and len(set(map(str, frame.columns))) == len(frame.columns):
        try:
            table = pa.Table.from_pandas(frame.set_axis(list(map(str, frame.columns)), axis=1)[candidates],
                                         preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return out  # mixed types: registering will say so
        keys = unique_per_row(table, candidates)
        for column in out:
            if column["name"] in keys:
                column["role"] = "record_identifier"
    return out


def check_data(columns: list[dict[str, Any]] | None, frame: Any) -> Checked:
    """Refuse data that does not fit ``columns``; otherwise return it as Arrow with its quality figures."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"data: expected a pandas DataFrame, got {type(frame).__name__}.", field="data")
    if not columns:
        raise InvalidInput(
            "columns: describe every column (name, type, role) before registering data; "
            "ws.catalogue.infer_columns(df) gives a starting point whose roles you must set.", field="columns")
    agree(columns, [str(c) for c in frame.columns])
    frame = frame[[c["name"] for c in columns]]
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        table = None
    completeness = {}
    for i, column in enumerate(columns):
        name, kind = column["name"], column["type"]
        if table is None:  # find the column that would not convert
            try:
                pa.Array.from_pandas(frame[name])
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                raise InvalidInput(f"columns[{i}]: {name!r} is declared {kind!r} but holds values of mixed "
                                   "types; make them all one type.", field=f"columns[{i}].type") from None
            continue
        values = table.column(name)
        if not _fits(kind, values.type):
            raise InvalidInput(f"columns[{i}]: {name!r} is declared {kind!r} but the data holds "
                               f"{frame[name].dtype} ({values.type}).", field=f"columns[{i}].type")
        if kind == "category":
            present = pc.unique(_decoded(values))
            unknown = sorted(set(present.drop_null().to_pylist()) - set(column["categories"]))
            if unknown:
                shown = ", ".join(map(repr, unknown[:5]))
                raise InvalidInput(f"columns[{i}].categories: {name!r} holds values that are not among its "
                                   f"declared categories: {shown}.", field=f"columns[{i}].categories")
        low, high = column.get("lowerBound"), column.get("upperBound")
        if kind in ("integer", "float") and (low is not None or high is not None) and len(values):
            tests = ([pc.less(values, low)] if low is not None else []) + \
                    ([pc.greater(values, high)] if high is not None else [])
            outside = pc.sum(tests[0] if len(tests) == 1 else pc.or_(*tests)).as_py() or 0
            if outside:
                raise InvalidInput(f"columns[{i}]: {outside:,} values of {name!r} lie outside its declared bounds "
                                   f"({low}, {high}); declare the bounds the column can really take, or correct "
                                   "the data.", field=f"columns[{i}].lowerBound")
        absent = values.null_count
        if kind in ("string", "category") and not pa.types.is_null(values.type):
            absent += pc.sum(pc.equal(pc.utf8_trim_whitespace(_decoded(values)), "")).as_py() or 0
        completeness[name] = round(1 - absent / len(frame), 4) if len(frame) else 1.0
    if table is None:  # pragma: no cover - some column above must have failed
        raise InvalidInput("data: cannot be stored as Parquet.", field="data")
    return Checked(table, len(frame), completeness)
