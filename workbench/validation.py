"""Checks shared by services for values users type: dates and short codes."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from workbench.errors import InvalidInput

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def check_date(value: Any, field: str) -> date:
    """A date from a ``date``/``datetime`` or ISO text (YYYY-MM-DD), else refuse naming the field."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD).", field=field) from None


def check_text(value: Any, field: str, what: str) -> str:
    """Non-blank text, stripped; refuse otherwise saying what to give."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field}: give {what}.", field=field)
    return value.strip()
