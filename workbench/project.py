"""A project in a notebook: ``ws.project(id)`` with its record and what its members do in it.

The services keep projects as records (``governance.projects``) and do the work (project data, linkage, outputs,
differential privacy); this facade, in the kernel API's layer, puts them together for one project and attaches
the notebook widgets. ``ProjectCard`` is what a project shows, embedded or remote (``remote.workspace``): its
record's fields, state, ``repr`` and HTML, and nothing that reaches a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from workbench.demo.material import DemoMaterial
from workbench.errors import WorkbenchError
from workbench.governance.access import Access
from workbench.governance.derive import Derivations
from workbench.governance.project_data import ProjectData
from workbench.governance.projects import Projects
from workbench.labels import code_label, date, table_html
from workbench.linkage.service import GovernedLinkage
from workbench.outputs.requests import OutputRequests, SubmittableOutputs
from workbench.outputs.store import ProjectOutputs
from workbench.outputs.tables import ProjectTables
from workbench.widgets.dp import NotebookDP

if TYPE_CHECKING:
    import pandas as pd

    from workbench import records
    from workbench.context import Context
    from workbench.governance.projects import ProjectRecord
    from workbench.linkage.service import LinkedData


class ProjectCard:
    """A project's record (``id``, ``title``, ``purpose``, ``mission``, ``legal_gateway``, ``lead``, ``status``,
    ``start``, ``end``, ``members``...) as people see it, in a kernel with or without a database."""

    def _set(self, record: Mapping[str, Any]) -> None:
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectCard) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Project {self.id} ({self.status}, mission {self.mission}, {len(self.members)} members)>"

    def _repr_html_(self) -> str:
        """The record, then the grants and privacy budget the viewer may see (``grants()`` and ``dp.budget()`` of
        the project class)."""
        members = ", ".join(f"{escape(u)} ({escape(code_label(r))})" for u, r in sorted(self.members.items()))
        state = code_label(self.status) + (", ended: read only" if self.ended else "")
        parts = [f"<div><h3>{escape(self.title)} <small>{escape(self.id)}</small></h3>"
                 f"<p>{escape(self.purpose)}</p><ul><li>Mission {escape(str(self.mission))}; {escape(state)}; "
                 f"{escape(date(self.start))} to {escape(date(self.end))}</li>"
                 f"<li>Legal gateway: {escape(code_label(self.legal_gateway))}</li>"
                 f"<li>Members: {members}</li></ul>"]
        views: Any = self  # each project class has grants() and dp
        for title, read, columns in (
                ("Grants", views.grants, ["dataset_id", "columns", "identifiers", "expires", "state"]),
                ("Privacy budget", lambda: views.dp.budget(), ["dataset_id", "scope", "epsilon", "spent",
                                                               "remaining"])):
            try:
                frame = read()
            except WorkbenchError:  # not everyone may see everything; show what they may
                continue
            body = table_html(frame, columns=columns) if len(frame) else "<p><em>None</em></p>"
            parts.append(f"<h4>{title}</h4>{body}")
        return "".join(parts) + "</div>"


class Project(ProjectCard):
    """A project as people see it: its record and what its members do in it (load, save, link, tables, outputs,
    output requests, differential privacy), each done by the service that owns it, as the acting user."""

    def __init__(self, ctx: Context, record: ProjectRecord) -> None:
        self._ctx = ctx
        self._set(record.to_dict())

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
                       justification: str) -> records.AccessRequest:
        """Ask the dataset's owner for access (all columns, or just ``columns``) with a justification."""
        return Access(self._ctx).request(self.id, dataset_id, columns, justification=justification)

    def requests(self) -> pd.DataFrame:
        """This project's access requests and where each one is."""
        return Access(self._ctx).for_project(self.id)

    def grants(self) -> pd.DataFrame:
        """Grants this project holds (current, expired or revoked)."""
        return Access(self._ctx).grants(project_id=self.id)

    # -- data ---------------------------------------------------------------------------------------------
    def load(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
             sample: int | float | None = None, seed: int | None = None) -> pd.DataFrame:
        """Granted columns of a dataset, minimised and pseudonymised for this project; audited. ``where`` keeps
        rows as in outputs by spec (``{'sex': 'F', 'region': ['North', 'South'], 'age': {'>=': 16}}``) on granted
        columns that are not identifiers, read from the file with the filter pushed down; ``sample`` keeps n rows
        or a fraction in (0, 1] of them, the same ones again for the same ``seed`` in this project."""
        return ProjectData(self._ctx, self.id).load(dataset_id, columns, where=where, sample=sample, seed=seed)

    def batches(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
                rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """``load(dataset_id, columns, where=where)`` as pandas frames of at most ``rows`` rows, in the same order
        (index continuing across them), for an extract too large to hold at once: checked when called, each batch
        recorded and audited as a load of its rows when it is read."""
        return ProjectData(self._ctx, self.id).batches(dataset_id, columns, where=where, rows=rows)

    def batch(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
              rows: int = 100_000, number: int = 0) -> pd.DataFrame | None:
        """Batch ``number`` (from 0) of ``batches(...)`` with the same arguments, or None past the last one."""
        return ProjectData(self._ctx, self.id).batch(dataset_id, columns, where=where, rows=rows, number=number)

    def save(self, frame: pd.DataFrame, name: str, *, derived_from: list[str]) -> records.SavedData:
        """Keep a derived frame in the project (only members can read it), with its lineage."""
        return ProjectData(self._ctx, self.id).save(frame, name, derived_from=derived_from)

    def derive(self, source: str, *, columns: list[str] | None = None, where: dict[str, Any] | None = None,
               new_name: str) -> records.SavedData:
        """Have the workbench make a frame from ``source`` (a granted dataset or a saved frame): ``columns`` of
        the rows ``where`` keeps, identifiers pseudonymised, saved as ``new_name`` with its exact lineage and
        person key, so ``project.dp`` may query it. The rows stay in the workbench; audited."""
        return Derivations(self._ctx, self.id).derive(source, columns=columns, where=where, new_name=new_name)

    def datasets(self) -> pd.DataFrame:
        """Frames saved in the project with their lineage."""
        return ProjectData(self._ctx, self.id).datasets()

    def read(self, name: str, version: int | None = None) -> pd.DataFrame:
        """A frame saved in the project (latest version unless ``version``)."""
        return ProjectData(self._ctx, self.id).read(name, version)

    # -- linkage ------------------------------------------------------------------------------------------
    def link(self, left: str, right: str, *, spec: Any = None, engine: str = "recordlinkage",
             threshold: float | None = None, progress: bool | None = None) -> LinkedData:
        """Link two granted datasets inside the workbench: the linkage reads the columns owners granted for
        linkage; the project receives a link key, match weights and its own granted columns. Recorded, audited."""
        linkage = GovernedLinkage(self._ctx, self.id, truth=DemoMaterial(self._ctx))
        return linkage.link(left, right, spec=spec, engine=engine, threshold=threshold, progress=progress)

    def save_linked(self, run_id: int, name: str) -> records.SavedData:
        """Keep a linkage run's result in the project as the workbench made it (``LinkedData.save(name)``): its
        lineage is both datasets, its person key the link key."""
        return GovernedLinkage(self._ctx, self.id).save_run(run_id, name)

    def linkage_runs(self) -> pd.DataFrame:
        """The project's linkage runs: datasets, engine, threshold, counts and quality."""
        return GovernedLinkage(self._ctx, self.id).runs()

    def linkage_run(self, run_id: int) -> records.LinkageRun:
        """One linkage run in full, with its spec and m/u parameters."""
        return GovernedLinkage(self._ctx, self.id).run(run_id)

    # -- outputs ------------------------------------------------------------------------------------------
    @property
    def tables(self) -> ProjectTables:
        """Disclosure-checked tables and models, recorded as outputs: ``p.tables.crosstab(df, index=...)``."""
        return ProjectTables(self._ctx, self.id)

    @property
    def outputs(self) -> SubmittableOutputs:
        """The project's recorded outputs: ``.list()``, ``.get(id)``, ``.to_results_json(folder)``."""
        return SubmittableOutputs(self._ctx, self.id)

    @property
    def output_requests(self) -> OutputRequests:
        """Requests to release outputs: ``.create(title, context=..., outputs=[...])``, ``.list()``, ``.get(id)``."""
        return OutputRequests(self._ctx, self.id)

    @property
    def dp(self) -> NotebookDP:
        """Differentially private queries on granted data, charged to the budget: ``p.dp.crosstab(...)``;
        ``p.dp.explore(...)`` shows the accuracy of a choice of ε without spending it."""
        return NotebookDP(self._ctx, self.id, ProjectOutputs(self._ctx, self.id))


__all__ = ["Project", "ProjectCard"]
