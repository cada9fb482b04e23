"""The workspace's disclosure settings: anyone registered reads them, admins change them (audited).

Like DataSHIELD's custodian-set filters: the rules every output meets are the workspace's, not the analyst's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from workbench import audit
from workbench.db.schema import settings
from workbench.disclosure.settings import DisclosureSettings
from workbench.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

SETTINGS_KEY = "disclosure"
RESOURCE = "the disclosure settings"


def _stored(conn: Connection) -> dict[str, Any]:
    t = settings
    value = conn.execute(select(t.c.value).where(t.c.key == SETTINGS_KEY)).scalar()
    return dict(value) if isinstance(value, dict) else {}


def _overlay(stored: dict[str, Any]) -> DisclosureSettings:
    """Stored values over the defaults; a setting this version does not know is ignored."""
    known = set(DisclosureSettings.__dataclass_fields__)
    return DisclosureSettings.from_mapping({k: v for k, v in stored.items() if k in known})


def read_settings(conn: Connection) -> DisclosureSettings:
    """The workspace's settings read in the caller's transaction (the caller has checked ``settings.read``)."""
    return _overlay(_stored(conn))


class Disclosure:
    """``ws.disclosure``: the workspace's disclosure-control settings."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def settings(self) -> DisclosureSettings:
        """The settings every output in this workspace is checked against (defaults where none were set)."""
        self._ctx.require("settings.read", RESOURCE)
        with self._ctx.db.read() as conn:
            return _overlay(_stored(conn))

    def update_settings(self, **changes: Any) -> DisclosureSettings:
        """Change some settings (admins); e.g. ``update_settings(threshold=20, mitigation="round")``."""
        t = settings
        if not changes:
            raise InvalidInput("Name at least one setting to change, e.g. update_settings(threshold=20).")
        DisclosureSettings.from_mapping(changes)  # refuse bad input before anything else
        with self._ctx.write() as conn:
            self._ctx.check("settings.write", RESOURCE)
            stored = _stored(conn)
            previous = _overlay(stored)
            updated = DisclosureSettings.from_mapping(changes, base=previous)
            value = {**stored, **updated.as_dict()}
            row = {"value": value, "updated_by": self._ctx.actor.username, "updated_at": datetime.now(UTC)}
            if conn.execute(update(t).where(t.c.key == SETTINGS_KEY).values(**row)).rowcount == 0:
                conn.execute(insert(t).values(key=SETTINGS_KEY, **row))
            audit.append(conn, self._ctx.actor.username, "settings.update", RESOURCE, detail={
                "changes": {k: getattr(updated, k) for k in sorted(changes)},
                "previous": {k: getattr(previous, k) for k in sorted(changes)}})
        return updated

    def __repr__(self) -> str:
        return "<Disclosure settings service: .settings(), .update_settings(**changes)>"


__all__ = ["Disclosure", "read_settings"]
