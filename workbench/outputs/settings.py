"""The workspace's output-checking settings: how many independent reviews each output needs, the automatic
refusals applied before a checker sees anything (table size, file types, file size, identifier-like text), and
whether tables and models made from a frame the analyst supplied always go to a checker (``review``, never
``pass``).

Stored in the ``settings`` table under ``output_checking``; everyone registered reads them, admins change them
(``ws.review.settings()`` / ``ws.review.update_settings(...)``). Pure Python, so reading them imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.db.schema import settings
from workbench.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

SETTING_KEY = "output_checking"
DEFAULTS: dict[str, Any] = {
    # independent reviews each output needs before a request can be concluded
    "reviews_required": 2,
    # a table with more rows than this is microdata, not an aggregate, and is refused
    "max_table_rows": 5000,
    # custom files: the types a checker can open and judge (lower-case suffixes)
    "allowed_file_types": [".csv", ".txt", ".md", ".pdf", ".png", ".jpg", ".jpeg", ".svg"],
    # no single file (custom file, figure) larger than this
    "max_file_bytes": 16 * 1024 * 1024,
    # free text (titles, names, labels, comments...) holding an unbroken run of more digits than this is refused:
    # it looks like an identifier (a record number, a phone number), not a description
    "max_digits_in_text": 6,
    # tables and models made from a frame a kernel sent (analyst-supplied, not computed by the workbench from a
    # source): True → always `review` at least, never `pass`; False → judged by the disclosure rules alone;
    # None (the default) → True when the workspace is served to remote kernels (`workbench serve`), False
    # embedded, where the analyst's kernel holds the workspace anyway
    "analyst_supplied_review": None,
}


def _whole(value: Any, name: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise InvalidInput(f"{name}: {value!r} is not a whole number from {least:,} to {most:,}.", field=name)
    return value


def check_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate changes to the output-checking settings; refuse unknown keys and bad values."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not an output-checking setting; known: {', '.join(DEFAULTS)}.",
                           field=unknown[0])
    checked = dict(changes)
    if "reviews_required" in checked:
        checked["reviews_required"] = _whole(checked["reviews_required"], "reviews_required", 1, 5)
    if "max_table_rows" in checked:
        checked["max_table_rows"] = _whole(checked["max_table_rows"], "max_table_rows", 1, 10_000_000)
    if "max_digits_in_text" in checked:
        checked["max_digits_in_text"] = _whole(checked["max_digits_in_text"], "max_digits_in_text", 4, 20)
    if "max_file_bytes" in checked:
        checked["max_file_bytes"] = _whole(checked["max_file_bytes"], "max_file_bytes", 1, 1 << 34)
    if "analyst_supplied_review" in checked and not (checked["analyst_supplied_review"] is None
                                                     or isinstance(checked["analyst_supplied_review"], bool)):
        raise InvalidInput(f"analyst_supplied_review: {checked['analyst_supplied_review']!r} is not True, False or "
                           "None (None: on when the workspace is served by `workbench serve`, off embedded).",
                           field="analyst_supplied_review")
    if "allowed_file_types" in checked:
        types = checked["allowed_file_types"]
        if isinstance(types, str) or not isinstance(types, list | tuple) or not all(
                isinstance(t, str) and t.startswith(".") and 1 < len(t) <= 12 and t[1:].isalnum() for t in types):
            raise InvalidInput("allowed_file_types: give a list of file suffixes such as ['.csv', '.pdf'].",
                               field="allowed_file_types")
        checked["allowed_file_types"] = sorted({t.lower() for t in types})
    return checked


def output_checking_settings(conn: Connection) -> dict[str, Any]:
    """The settings in force: the stored ones over the defaults."""
    stored = conn.execute(select(settings.c.value).where(settings.c.key == SETTING_KEY)).scalar()
    known = {k: v for k, v in (stored or {}).items() if k in DEFAULTS}
    return {**DEFAULTS, **known}


def reviews_analyst_supplied(settings: dict[str, Any], service: bool) -> bool:
    """Whether analyst-supplied tables and models are at least ``review``: the setting, or when it is None (the
    default) whether the workspace is served to remote kernels (``service``)."""
    value = settings.get("analyst_supplied_review")
    return service if value is None else bool(value)


__all__ = ["DEFAULTS", "SETTING_KEY", "check_settings", "output_checking_settings", "reviews_analyst_supplied"]
