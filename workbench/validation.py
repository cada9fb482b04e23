"""Checks shared by services for values users type: dates, short codes, text, record numbers and user names."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from workbench.config import USERNAME_PATTERN
from workbench.errors import InvalidInput

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_NUMBER = 2**31 - 1  # record numbers are the database's 32-bit integer ids


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


def check_optional_text(value: Any, field: str, what: str = "text", *, limit: int = 10_000) -> str | None:
    """``None``, or text of at most ``limit`` characters; refuse anything else (a number, a list...) naming the
    field, so a wrong type is an InvalidInput rather than a failure deeper down."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: give {what} or leave it out, not {type(value).__name__}.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field}: {len(value):,} characters is too long; give at most {limit:,}.", field=field)
    return value


def check_flag(value: Any, field: str) -> bool:
    """True or false, and nothing else (a DataFrame or a list has no single truth value)."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: give true or false, not {type(value).__name__}.", field=field)
    return value


def check_number(value: Any, field: str, what: str = "a record number") -> int:
    """A whole number that can name a record (1 to 2**31 - 1), else refuse naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NUMBER:
        raise InvalidInput(f"{field}: {value!r} is not {what} (a whole number from 1 to {MAX_NUMBER}).",
                           field=field)
    return value


def check_username(value: Any, field: str = "username") -> str:
    """A well-formed user name, else refuse naming the field."""
    if not isinstance(value, str) or not USERNAME_PATTERN.match(value):
        raise InvalidInput(f"{field}: {value!r} is not a valid user name (2–63 characters: lower-case letters, digits, "
                           "'.', '_' or '-', starting with a letter).", field=field)
    return value
