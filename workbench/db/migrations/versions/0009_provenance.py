"""Provenance: who made a saved frame's rows (the analyst or the workbench) and its person key; which saved frames
each member read (with ``data_loads``, the lineage a member's next save inherits); and each output's provenance
class ('computed' from a spec by the workbench, or 'analyst-supplied') with where it came from.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("project_datasets") as batch:
        batch.add_column(sa.Column("made_by", sa.String(20), nullable=False, server_default="analyst"))
        batch.add_column(sa.Column("person_key", sa.String(64)))
        batch.add_column(sa.Column("spec", sa.JSON()))
        batch.create_check_constraint("made_by", "made_by IN ('analyst', 'workbench')")
    with op.batch_alter_table("outputs") as batch:
        batch.add_column(sa.Column("provenance", sa.String(20), nullable=False, server_default="analyst-supplied"))
        batch.add_column(sa.Column("origin", sa.JSON()))
        batch.create_check_constraint("provenance", "provenance IN ('computed', 'analyst-supplied')")
    op.create_table(
        "saved_reads",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_reads"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_saved_reads_project_id_projects"),
        sa.ForeignKeyConstraint(["username"], ["people.username"], name="fk_saved_reads_username_people"),
    )
    op.create_index("ix_saved_reads_project_id", "saved_reads", ["project_id"])
    _widen_lineage(op.get_bind())


def _widen_lineage(conn: sa.engine.Connection) -> None:
    """Lineage was declared until now: widen every saved frame's ``sources`` by the datasets its creator had
    loaded in the project before saving it, and by the (widened) lineage of the saved frames it names, oldest
    first; then every analyst-supplied output's likewise (DP results were computed by the workbench from the
    dataset itself). Lineage only grows; each frame or output widened is recorded in the audit log."""
    from workbench import audit  # the chain's append, as the workbench writes it

    frames = sa.table("project_datasets", sa.column("project_id"), sa.column("name"), sa.column("version"),
                      sa.column("derived_from", sa.JSON), sa.column("sources", sa.JSON), sa.column("created_by"),
                      sa.column("created_at", TZ))
    loads = sa.table("data_loads", sa.column("project_id"), sa.column("dataset_id"), sa.column("username"),
                     sa.column("at", TZ))
    rows = conn.execute(sa.select(frames).order_by(frames.c.created_at, frames.c.name, frames.c.version)).mappings()
    widened: dict[tuple[str, str], list[str]] = {}  # (project, name) → the latest version's widened lineage

    def widen(row: Any) -> tuple[list[str], list[str]]:
        """A row's lineage before, and after adding what its creator had loaded and what the frames it names
        descend from."""
        loaded = conn.execute(sa.select(loads.c.dataset_id).distinct().where(
            (loads.c.project_id == row["project_id"]) & (loads.c.username == row["created_by"])
            & (loads.c.at <= row["created_at"]))).scalars().all()
        named = [s for d in row["derived_from"] or [] for s in widened.get((row["project_id"], d), [])]
        before = list(row["sources"] or [])
        return before, sorted({*before, *loaded, *named})

    for row in list(rows):
        before, after = widen(row)
        widened[(row["project_id"], row["name"])] = after
        if after == sorted(set(before)):
            continue
        conn.execute(sa.update(frames).where((frames.c.project_id == row["project_id"])
                                             & (frames.c.name == row["name"])
                                             & (frames.c.version == row["version"])).values(sources=after))
        audit.append(conn, "workbench", "data.lineage_widened",
                     f"{row['name']} v{row['version']} in project {row['project_id']}",
                     detail={"before": before, "after": after,
                             "why": "lineage is computed: what its creator had loaded in the project before saving"})
    made = sa.table("outputs", sa.column("id"), sa.column("project_id"), sa.column("kind"),
                    sa.column("derived_from", sa.JSON), sa.column("sources", sa.JSON), sa.column("created_by"),
                    sa.column("created_at", TZ), sa.column("origin", sa.JSON))
    for row in list(conn.execute(sa.select(made).where(made.c.kind != "dp").order_by(made.c.id)).mappings()):
        before, after = widen(row)
        conn.execute(sa.update(made).where(made.c.id == row["id"]).values(
            sources=after, origin={"lineage": after, "declared": list(row["derived_from"] or [])}))
        if after != sorted(set(before)):
            audit.append(conn, "workbench", "outputs.lineage_widened",
                         f"output {row['id']} in project {row['project_id']}",
                         detail={"before": before, "after": after, "why": "lineage is computed: what its creator "
                                 "had loaded in the project before recording it"})


def downgrade() -> None:
    op.drop_table("saved_reads")
    with op.batch_alter_table("outputs") as batch:
        batch.drop_constraint(op.f("ck_outputs_provenance"), type_="check")
        batch.drop_column("origin")
        batch.drop_column("provenance")
    with op.batch_alter_table("project_datasets") as batch:
        batch.drop_constraint(op.f("ck_project_datasets_made_by"), type_="check")
        batch.drop_column("spec")
        batch.drop_column("person_key")
        batch.drop_column("made_by")
