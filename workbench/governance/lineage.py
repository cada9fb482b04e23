"""Lineage computed, not declared: which catalogue datasets a saved frame or an output descends from, and which
of them the project no longer holds a current grant for.

A member's kernel may hold anything they loaded or read in the project, so a frame they save (or an output they
record from a frame of their own) inherits every catalogue dataset they loaded there and the lineage of every
saved frame they read there, before now (a conservative taint); what they declare may add to it, never remove.
Revocation and expiry then reach every copy: whatever descends from a dataset without a current grant is refused
(``lapsed``) until the grant is renewed.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.db.schema import data_loads, datasets, grants, saved_reads
from workbench.db.schema import project_datasets as pd_t
from workbench.governance.access import grant_state

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection


def taint(conn: Connection, project_id: str, username: str) -> list[str]:
    """Every catalogue dataset ``username`` loaded (or linked) in the project, and every dataset in the lineage of
    the saved frames they read there: what a frame or output they make from their kernel may hold."""
    loaded = conn.execute(select(data_loads.c.dataset_id).distinct().where(
        (data_loads.c.project_id == project_id) & (data_loads.c.username == username))).scalars().all()
    read = conn.execute(select(pd_t.c.sources).select_from(saved_reads.join(pd_t, (
        (pd_t.c.project_id == saved_reads.c.project_id) & (pd_t.c.name == saved_reads.c.name)
        & (pd_t.c.version == saved_reads.c.version)))).where(
        (saved_reads.c.project_id == project_id) & (saved_reads.c.username == username))).scalars().all()
    return sorted({*loaded, *(s for sources in read for s in sources)})


def grants_for(conn: Connection, project_id: str, dataset_id: str) -> tuple[list[str], str | None]:
    """Columns granted to the project now (union of current grants), and why none is current when the project
    held one ("was revoked on D", "expired on D"; None if it never held any)."""
    rows = conn.execute(select(grants).where((grants.c.project_id == project_id)
                                             & (grants.c.dataset_id == dataset_id))).mappings().all()
    today = date.today()
    current = [g for g in rows if grant_state(g, today) == "current"]
    granted = list(dict.fromkeys(c for g in current for c in g["columns"]))
    if granted or not rows:
        return granted, None
    last = max(rows, key=lambda g: g["id"])
    return [], (f"was revoked on {last['revoked_at']:%Y-%m-%d}" if last["revoked_at"] is not None
                else f"expired on {last['expires']}")


def granted_version(conn: Connection, project_id: str, dataset_id: str) -> int | None:
    """The dataset version the project's current grants cover: None (whichever version is current) when any of them
    is unpinned, else the newest version they are pinned to."""
    pins = conn.execute(select(grants).where((grants.c.project_id == project_id)
                                             & (grants.c.dataset_id == dataset_id))).mappings().all()
    today = date.today()
    held = [g["version"] for g in pins if grant_state(g, today) == "current"]
    if not held or any(v is None for v in held):
        return None
    return max(int(v) for v in held)


def grant_gap(conn: Connection, project_id: str, dataset_id: str) -> str | None:
    """Why the project holds no current grant for the dataset ("was revoked on D", "expired on D", "was never
    granted"), or None while one is current."""
    granted, lapsed_why = grants_for(conn, project_id, dataset_id)
    return None if granted else lapsed_why or "was never granted"


def lapsed(conn: Connection, project_id: str, sources: Iterable[str], held_by: str | None = None
           ) -> list[dict[str, Any]]:
    """The catalogue datasets among ``sources`` without a current grant of the project, each with its owner and
    why (the policy's ``lineage_lapsed`` fact); ``held_by`` names what descends from them, for the refusal."""
    out = []
    for dataset_id in sorted(set(sources)):
        why = grant_gap(conn, project_id, dataset_id)
        if why is None:
            continue
        owner = conn.execute(select(datasets.c.owner).where(datasets.c.id == dataset_id)).scalar()
        out.append({"dataset": dataset_id, "owner": owner, "why": why, "held_by": held_by})
    return out


def lapsed_outputs(conn: Connection, project_id: str, output_rows: Iterable[Any]) -> list[dict[str, Any]]:
    """``lapsed`` over several outputs (rows with ``id`` and ``sources``), one entry per output and dataset."""
    return [{**item, "output": row["id"]} for row in output_rows
            for item in lapsed(conn, project_id, row["sources"], f"output {row['id']}")]


__all__ = ["grant_gap", "granted_version", "grants_for", "lapsed", "lapsed_outputs", "taint"]
