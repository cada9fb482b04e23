"""Turning service results (DataFrames, dataclasses, dates, numpy scalars) into plain JSON values.

The REST API speaks JSON only: frames become lists of records, dates and times ISO 8601 text, missing values
``null``. Done here once so every handler answers alike.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, time
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as something ``json.dumps`` writes faithfully (no NaN, no numpy, no dates)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date | time):
        return None if value != value else value.isoformat()  # NaT is a datetime unequal to itself
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return _from_data_library(value)


def _from_data_library(value: Any) -> Any:
    """pandas and numpy values (imported only when such a value arrives)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, pd.Series):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return jsonable(value.item())
    raise TypeError(f"cannot express {type(value).__name__} as JSON")


def records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame as a list of ``{column: value}`` records, in order."""
    columns = [str(c) for c in frame.columns]
    return [{c: jsonable(v) for c, v in zip(columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]
