"""Stored settings: one JSON value a key, replaced whole, with who changed it last and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert

from workbench.db.schema import settings


def replace_setting(conn: Connection, key: str, value: Any, by: str) -> None:
    """Store ``value`` as the setting ``key`` (in the caller's transaction, so it is audited with it)."""
    conn.execute(delete(settings).where(settings.c.key == key))
    conn.execute(insert(settings).values(key=key, value=value, updated_by=by, updated_at=datetime.now(UTC)))
