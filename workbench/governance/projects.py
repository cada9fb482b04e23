"""Safe projects: approved purposes under a legal gateway, with a lead, members, dates and a status.

A project is the unit that holds access grants, saved data, privacy budgets and outputs. Admins create and
change projects; anyone registered reads them; members work in them only while they are active and within
their dates (a closed, suspended or ended project can only be read).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from workbench import audit
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.ids import check_project_id
from workbench.validation import check_date

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.linkage.service import LinkedData
    from workbench.outputs.requests import OutputRequests, SubmittableOutputs
    from workbench.outputs.tables import ProjectTables
    from workbench.widgets.dp import NotebookDP

PROJECT_ROLES = ("lead", "analyst", "reviewer")
STATUSES = ("proposed", "active", "suspended", "closed")


class Project:
    """A project as people see it: its record (``id``, ``title``, ``purpose``, ``mission``, ``legal_gateway``,
    ``lead``, ``status``, ``start``, ``end``, ``members``...) and what its members do in it."""

    def __init__(self, ctx: Context, record: dict[str, Any]) -> None:
        self._ctx = ctx
        self._set(record)

    def _set(self, record: dict[str, Any]) -> None:
        self.id: str = record["id"]
        self.title: str = record["title"]
        self.purpose: str = record["purpose"]
        self.mission: int = record["mission"]
        self.legal_gateway: str = record["legal_gateway"]
        self.lead: str = record["lead"]
        self.status: str = record["status"]
        self.start: dt.date = record["start"]
        self.end: dt.date = record["end"]
        self.intended_outputs: list[str] = record["intended_outputs"]
        self.intended_datasets: list[str] = record["intended_datasets"]
        self.members: dict[str, str] = record["members"]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @property
    def ended(self) -> bool:
        return self.end < dt.date.today()

    @property
    def open(self) -> bool:
        """Whether members can work in it (active and not past its end); otherwise it can only be read."""
        return self.status == "active" and not self.ended

    def refresh(self) -> Project:
        self._set(Projects(self._ctx).get(self.id).to_dict())
        return self

    # -- admin --------------------------------------------------------------------------------------------
    def update(self, *, status: str | None = None, end: Any = None) -> Project:
        """Change the project's status or end date (admins)."""
        Projects(self._ctx).update(self.id, status=status, end=end)
        return self.refresh()

    def add_member(self, username: str, role: str) -> Project:
        """Add a member, or change their project role: lead, analyst or reviewer (admins)."""
        Projects(self._ctx).set_member(self.id, username, role)
        return self.refresh()

    def remove_member(self, username: str) -> Project:
        """Remove a member (admins); the lead cannot be removed, only replaced."""
        Projects(self._ctx).set_member(self.id, username, None)
        return self.refresh()

    # -- access -------------------------------------------------------------------------------------------
    def request_access(self, dataset_id: str, columns: list[str] | None = None, *,
                       justification: str) -> dict[str, Any]:
        """Ask the dataset's owner for access (all columns, or just ``columns``) with a justification."""
        from workbench.governance.access import Access

        return Access(self._ctx).request(self.id, dataset_id, columns, justification=justification)

    def requests(self) -> pd.DataFrame:
        """This project's access requests and where each one is."""
        from workbench.governance.access import Access

        return Access(self._ctx).for_project(self.id)

    def grants(self) -> pd.DataFrame:
        """Grants this project holds (current, expired or revoked)."""
        from workbench.governance.access import Access

        return Access(self._ctx).grants(project_id=self.id)

    # -- data ---------------------------------------------------------------------------------------------
    def load(self, dataset_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Granted columns of a dataset, minimised and pseudonymised for this project; audited."""
        from workbench.governance.project_data import ProjectData

        return ProjectData(self._ctx, self.id).load(dataset_id, columns)

    def save(self, frame: pd.DataFrame, name: str, *, derived_from: list[str]) -> dict[str, Any]:
        """Keep a derived frame in the project (only members can read it), with its lineage."""
        from workbench.governance.project_data import ProjectData

        return ProjectData(self._ctx, self.id).save(frame, name, derived_from=derived_from)

    def datasets(self) -> pd.DataFrame:
        """Frames saved in the project with their lineage."""
        from workbench.governance.project_data import ProjectData

        return ProjectData(self._ctx, self.id).datasets()

    def read(self, name: str, version: int | None = None) -> pd.DataFrame:
        """A frame saved in the project (latest version unless ``version``)."""
        from workbench.governance.project_data import ProjectData

        return ProjectData(self._ctx, self.id).read(name, version)

    # -- linkage ------------------------------------------------------------------------------------------
    def link(self, left: str, right: str, *, spec: Any = None, engine: str = "recordlinkage",
             threshold: float | None = None, progress: bool | None = None) -> LinkedData:
        """Link two granted datasets inside the workbench: the linkage reads the columns owners granted for
        linkage; the project receives a link key, match weights and its own granted columns. Recorded, audited."""
        from workbench.demo.material import DemoMaterial
        from workbench.linkage.service import GovernedLinkage

        linkage = GovernedLinkage(self._ctx, self.id, truth=DemoMaterial(self._ctx))
        return linkage.link(left, right, spec=spec, engine=engine, threshold=threshold, progress=progress)

    def linkage_runs(self) -> pd.DataFrame:
        """The project's linkage runs: datasets, engine, threshold, counts and quality."""
        from workbench.linkage.service import GovernedLinkage

        return GovernedLinkage(self._ctx, self.id).runs()

    def linkage_run(self, run_id: int) -> dict[str, Any]:
        """One linkage run in full, with its spec and m/u parameters."""
        from workbench.linkage.service import GovernedLinkage

        return GovernedLinkage(self._ctx, self.id).run(run_id)

    # -- outputs ------------------------------------------------------------------------------------------
    @property
    def tables(self) -> ProjectTables:
        """Disclosure-checked tables and models, recorded as outputs: ``p.tables.crosstab(df, index=...)``."""
        from workbench.outputs.tables import ProjectTables

        return ProjectTables(self._ctx, self.id)

    @property
    def outputs(self) -> SubmittableOutputs:
        """The project's recorded outputs: ``.list()``, ``.get(id)``, ``.to_results_json(folder)``, ``.submit(...)``."""
        from workbench.outputs.requests import SubmittableOutputs

        return SubmittableOutputs(self._ctx, self.id)

    @property
    def output_requests(self) -> OutputRequests:
        """Requests to release outputs: ``.create(title, context=..., outputs=[...])``, ``.list()``, ``.get(id)``."""
        from workbench.outputs.requests import OutputRequests

        return OutputRequests(self._ctx, self.id)

    @property
    def dp(self) -> NotebookDP:
        """Differentially private queries on granted data, charged to the budget: ``p.dp.crosstab(...)``;
        ``p.dp.explore(...)`` shows the accuracy of a choice of ε without spending it."""
        from workbench.outputs.store import ProjectOutputs
        from workbench.widgets.dp import NotebookDP

        return NotebookDP(self._ctx, self.id, ProjectOutputs(self._ctx, self.id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Project {self.id} ({self.status}, mission {self.mission}, {len(self.members)} members)>"

    def _repr_html_(self) -> str:
        from html import escape

        members = ", ".join(f"{escape(u)} ({escape(r)})" for u, r in sorted(self.members.items()))
        state = self.status + (", ended: read only" if self.ended else "")
        parts = [f"<div><h3>{escape(self.title)} <small>{escape(self.id)}</small></h3>"
                 f"<p>{escape(self.purpose)}</p><ul><li>Mission {self.mission}; status {escape(state)}; "
                 f"{self.start} to {self.end}</li><li>Legal gateway: {escape(self.legal_gateway)}</li>"
                 f"<li>Members: {members}</li></ul>"]
        for title, read, columns in (
                ("Grants", self.grants, ["dataset_id", "columns", "identifiers", "expires", "state"]),
                ("Privacy budget", lambda: self.dp.budget(), ["dataset_id", "scope", "epsilon", "spent",
                                                              "remaining"])):
            try:
                frame = read()
            except WorkbenchError:  # not everyone may see everything; show what they may
                continue
            body = frame[columns].to_html(index=False, float_format=lambda x: f"{x:.4g}") if len(frame) else \
                "<p><em>none</em></p>"
            parts.append(f"<h4>{title}</h4>{body}")
        return "".join(parts) + "</div>"


class Projects:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, id: str, title: str, purpose: str, *, mission: int, legal_gateway: str, lead: str,
               start: Any, end: Any, members: dict[str, str] | None = None, status: str = "proposed",
               intended_outputs: list[str] | None = None,
               intended_datasets: list[str] | None = None) -> Project:
        """Create a project; every field is checked before anything is written."""
        from sqlalchemy import insert, select

        from workbench.db.schema import datasets, legal_gateways, people, project_members, projects

        check_project_id(id)
        for name, value in (("title", title), ("purpose", purpose)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{name}: give the project's {name}.", field=name)
        if isinstance(mission, bool) or mission not in (1, 2, 3, 4, 5):
            raise InvalidInput(f"mission: {mission!r} is not a mission number 1–5.", field="mission")
        if status not in STATUSES:
            raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}.", field="status")
        start_date, end_date = check_date(start, "start"), check_date(end, "end")
        if end_date < start_date:
            raise InvalidInput(f"end: the project ends ({end_date}) before it starts ({start_date}).",
                               field="end")
        bad = {u: r for u, r in (members or {}).items() if r not in PROJECT_ROLES}
        if bad:
            raise InvalidInput(f"members: unknown project role(s) {bad}; use {', '.join(PROJECT_ROLES)}.",
                               field="members")
        roster = {lead: "lead", **{u: r for u, r in (members or {}).items() if u != lead}}
        with self._ctx.write() as conn:
            self._ctx.check("projects.manage", f"project {id}")
            if conn.execute(select(projects.c.id).where(projects.c.id == id)).first():
                raise Conflict(f"A project {id!r} already exists.")
            if not conn.execute(select(legal_gateways.c.code).where(legal_gateways.c.code == legal_gateway)
                                ).first():
                known = ", ".join(conn.execute(select(legal_gateways.c.code)).scalars())
                raise InvalidInput(f"legal_gateway: {legal_gateway!r} is not a known gateway; use one of "
                                   f"{known}.", field="legal_gateway")
            registered = set(conn.execute(select(people.c.username)
                                          .where(people.c.username.in_(list(roster)))).scalars())
            missing = sorted(set(roster) - registered)
            if missing:
                raise InvalidInput(f"members: {', '.join(missing)} not registered in this workspace.",
                                   field="members")
            wanted = list(intended_datasets or [])
            found = set(conn.execute(select(datasets.c.id).where(datasets.c.id.in_(wanted))).scalars())
            if set(wanted) - found:
                raise InvalidInput(f"intended_datasets: not in the catalogue: "
                                   f"{', '.join(sorted(set(wanted) - found))}.", field="intended_datasets")
            conn.execute(insert(projects).values(
                id=id, title=title.strip(), purpose=purpose.strip(), mission=mission,
                legal_gateway=legal_gateway, lead=lead, status=status, start_date=start_date,
                end_date=end_date, intended_outputs=list(intended_outputs or []), intended_datasets=wanted,
                created_at=dt.datetime.now(dt.UTC)))
            conn.execute(insert(project_members), [{"project_id": id, "username": u, "role": r}
                                                   for u, r in roster.items()])
            audit.append(conn, self._ctx.actor.username, "projects.create", f"project {id}",
                         detail={"mission": mission, "lead": lead, "members": roster})
        return self.get(id)

    def get(self, id: str) -> Project:
        self._ctx.require("projects.read", f"project {id}")
        with self._ctx.db.read() as conn:
            return Project(self._ctx, self._record(conn, id))

    def list(self) -> pd.DataFrame:
        """All projects, id first."""
        import pandas as pd
        from sqlalchemy import select

        from workbench.db.schema import projects

        self._ctx.require("projects.read", "projects")
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.id)).mappings().all()
        columns = ["id", "title", "mission", "status", "lead", "legal_gateway", "start_date", "end_date"]
        return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)

    def update(self, id: str, *, status: str | None = None, end: Any = None) -> None:
        """Change status (proposed, active, suspended, closed) or end date (admins)."""
        from sqlalchemy import update

        from workbench.db.schema import projects

        if status is None and end is None:
            raise InvalidInput("Give a new status or end date.", field="status")
        if status is not None and (not isinstance(status, str) or status not in STATUSES):
            raise InvalidInput(f"status: {str(status)[:80]!r} is not one of {', '.join(STATUSES)}.", field="status")
        end_date = check_date(end, "end") if end is not None else None
        with self._ctx.write(audit_refusals_as=("projects.manage", f"project {id}")) as conn:
            self._ctx.check("projects.manage", f"project {id}")
            record = self._record(conn, id)
            if end_date is not None and end_date < record["start"]:
                raise InvalidInput(f"end: {end_date} is before the project starts ({record['start']}).",
                                   field="end")
            changes = {k: v for k, v in (("status", status), ("end_date", end_date)) if v is not None}
            conn.execute(update(projects).where(projects.c.id == id).values(**changes))
            audit.append(conn, self._ctx.actor.username, "projects.update", f"project {id}",
                         detail={"before": {"status": record["status"], "end_date": record["end"].isoformat()},
                                 "after": {k: str(v) for k, v in changes.items()}})

    def set_member(self, id: str, username: str, role: str | None) -> None:
        """Add or change a member's project role, or remove them (``role=None``); admins only."""
        from sqlalchemy import delete, insert, select, update

        from workbench.db.schema import people, project_members, projects
        from workbench.validation import check_username

        if role is not None and (not isinstance(role, str) or role not in PROJECT_ROLES):
            raise InvalidInput(f"role: {str(role)[:80]!r} is not one of {', '.join(PROJECT_ROLES)}.", field="role")
        with self._ctx.write(audit_refusals_as=("projects.manage", f"project {id}")) as conn:
            self._ctx.check("projects.manage", f"project {id}")
            check_username(username)
            record = self._record(conn, id)
            if conn.execute(select(people.c.username).where(people.c.username == username)).first() is None:
                raise NotFound(f"No person {username!r} is registered in this workspace.")
            current = record["members"].get(username)
            if current is None and role is not None:  # joining: not a project whose current access one decided
                self._ctx.check("projects.manage", f"project {id}", member=username,
                                decided_grants=self._decided_grants(conn, id, username),
                                checked_requests=self._checked_requests(conn, id, username))
            if username == record["lead"] and role != "lead":
                raise Conflict(f"{username} leads project {id}; make someone else lead first.")
            key = (project_members.c.project_id == id) & (project_members.c.username == username)
            if role is None:
                if current is None:
                    raise NotFound(f"{username} is not a member of project {id}.")
                conn.execute(delete(project_members).where(key))
            elif current is None:
                conn.execute(insert(project_members).values(project_id=id, username=username, role=role))
            else:
                conn.execute(update(project_members).where(key).values(role=role))
            if role == "lead" and record["lead"] != username:
                conn.execute(update(project_members).where(
                    (project_members.c.project_id == id) & (project_members.c.username == record["lead"]))
                    .values(role="analyst"))
                conn.execute(update(projects).where(projects.c.id == id).values(lead=username))
            audit.append(conn, self._ctx.actor.username, "projects.members", f"project {id}",
                         detail={"member": username, "before": current, "after": role})

    @staticmethod
    def _decided_grants(conn: Connection, id: str, username: str) -> list[int]:
        """The unrevoked, unexpired grants of project ``id`` that ``username`` approved."""
        from sqlalchemy import select

        from workbench.db.schema import grants

        return list(conn.execute(select(grants.c.id).where(
            (grants.c.project_id == id) & (grants.c.granted_by == username) & grants.c.revoked_at.is_(None)
            & (grants.c.expires >= dt.date.today())).order_by(grants.c.id)).scalars())

    @staticmethod
    def _checked_requests(conn: Connection, id: str, username: str) -> list[int]:
        """The output requests of project ``id`` that ``username`` reviewed or concluded, whatever became of them."""
        from sqlalchemy import select, union

        from workbench.db.schema import output_requests as r
        from workbench.db.schema import output_reviews as v

        reviewed = select(v.c.request_id.label("id")).join(r, r.c.id == v.c.request_id).where(
            (r.c.project_id == id) & (v.c.reviewer == username))
        concluded = select(r.c.id.label("id")).where((r.c.project_id == id) & (r.c.concluded_by == username))
        found = union(reviewed, concluded).subquery()
        return list(conn.execute(select(found.c.id).order_by(found.c.id)).scalars())

    @staticmethod
    def _record(conn: Connection, id: str) -> dict[str, Any]:
        from sqlalchemy import select

        from workbench.db.schema import project_members
        from workbench.governance.conditions import project_row

        row = project_row(conn, id)
        members = {r.username: r.role for r in conn.execute(
            select(project_members).where(project_members.c.project_id == id))}
        return {"id": row["id"], "title": row["title"], "purpose": row["purpose"], "mission": row["mission"],
                "legal_gateway": row["legal_gateway"], "lead": row["lead"], "status": row["status"],
                "start": row["start_date"], "end": row["end_date"], "intended_outputs": list(row["intended_outputs"]),
                "intended_datasets": list(row["intended_datasets"]), "members": members}
