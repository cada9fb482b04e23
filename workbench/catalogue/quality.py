"""Data against its catalogue schema: does it fit, how many rows, how complete is each column.

Works on one Arrow conversion of the frame (which is also what the vault writes), so checking a
million-row dataset costs little more than writing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class Checked:
    table: pa.Table
    row_count: int
    completeness: dict[str, float]


def _fits(kind: str, arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

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
    import pyarrow as pa

    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) else values


def infer_columns(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A starting schema for ``frame`` (type from dtype, role 'other'): set the roles before registering."""
    from pandas.api import types

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
    return out


def check_data(columns: list[dict[str, Any]] | None, frame: Any) -> Checked:
    """Refuse data that does not fit ``columns``; otherwise return it as Arrow with its quality figures."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"data: expected a pandas DataFrame, got {type(frame).__name__}.", field="data")
    if not columns:
        raise InvalidInput(
            "columns: describe every column (name, type, role) before registering data; "
            "ws.catalogue.infer_columns(df) gives a starting point whose roles you must set.", field="columns")
    declared = [c["name"] for c in columns]
    actual = [str(c) for c in frame.columns]
    if len(set(actual)) != len(actual):
        raise InvalidInput("data: column names repeat; give each column a unique name.", field="data")
    missing, extra = sorted(set(declared) - set(actual)), sorted(set(actual) - set(declared))
    if missing or extra:
        parts = ([f"declared but not in the data: {', '.join(missing)}"] if missing else []) + \
                ([f"in the data but not declared: {', '.join(extra)}"] if extra else [])
        raise InvalidInput("columns: the schema and the data disagree: " + "; ".join(parts), field="columns")
    frame = frame[declared]
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
        absent = values.null_count
        if kind in ("string", "category") and not pa.types.is_null(values.type):
            absent += pc.sum(pc.equal(pc.utf8_trim_whitespace(_decoded(values)), "")).as_py() or 0
        completeness[name] = round(1 - absent / len(frame), 4) if len(frame) else 1.0
    if table is None:  # pragma: no cover - some column above must have failed
        raise InvalidInput("data: cannot be stored as Parquet.", field="data")
    return Checked(table, len(frame), completeness)
