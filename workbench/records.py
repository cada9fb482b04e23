"""The shapes of the records services hand back: one place that says which keys a request, grant, review or
release carries.

They are ``TypedDict``s, not classes: callers (notebooks, the REST handlers, the remote kernel) index them as
plain dicts and they travel as JSON unchanged; the types only tell a reader and the type checker what is inside.
What a service hands back is a ``Card``: still a plain dict to every caller, which a notebook shows as a short
table for people (labels for codes, "345,272", "31 March 2027") instead of a dict's repr.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any, ClassVar, NotRequired, TypedDict

from workbench.labels import code_label, header, value


class AccessRequest(TypedDict):
    """A project's request for a dataset's columns, and its decision (``Access.get``, ``Owner.decide``)."""

    id: int
    project_id: str
    dataset_id: str
    requested_by: str
    columns: list[str]
    justification: str
    status: str  # pending, approved, refused or withdrawn
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    grant_id: int | None  # the grant an approval made
    expires: date | None  # ... and when it ends


class Grant(TypedDict):
    """Columns of a dataset a project may load, until ``expires`` (``state``: current, expired or revoked)."""

    id: NotRequired[int]  # absent where the answer is indexed by it (``Owner.revoke``)
    project_id: str
    dataset_id: str
    columns: list[str]
    identifiers: list[str]  # direct identifiers granted
    linkage: list[str] | None  # columns linkage may read, never handed to the project
    conditions: str
    expires: date
    state: str
    granted_by: str
    granted_at: datetime
    request_id: int
    version: int | None  # the dataset version it is pinned to; None: whichever version is current


class RequestedOutput(TypedDict):
    """One output of an output request, as the request lists it."""

    id: int
    name: str
    kind: str
    method: str
    status: str
    exception: str | None
    round: int


class OutputRequest(TypedDict):
    """A request to release outputs, with its outputs (``outputs.requests``, ``Review.decide/conclude``)."""

    id: int
    project_id: str
    title: str
    status: str
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    concluded_by: str | None
    concluded_at: datetime | None
    conclusion: str | None
    released_by: str | None
    released_at: datetime | None
    package: str | None
    manifest_sha256: str | None
    context: dict[str, str]
    outputs: list[RequestedOutput]


class Review(TypedDict):
    """One output checker's decision on one output, in one round of a request."""

    id: int
    request_id: int
    output_id: int
    round: int
    reviewer: str
    decision: str  # approve, changes or reject
    comment: str | None
    created_at: datetime


class Release(TypedDict):
    """A released request's package: where it is and what no longer matches its manifest (``Review.release``)."""

    request_id: int
    status: str
    package: str
    manifest_sha256: str | None
    released_by: str | None
    released_at: datetime | None
    problems: list[str]


class ReleaseManifest(Release):
    """A release with its manifest as written (None if it can no longer be read) (``Review.manifest``)."""

    manifest: dict[str, Any] | None


class Budget(TypedDict):
    """A dataset's privacy budget for a project or across all projects, and what is spent (``set_budget``)."""

    dataset_id: str
    scope: str  # the project, or "all projects"
    epsilon: float
    delta: float
    spent: float
    remaining: float


class LinkageRun(TypedDict):
    """One governed linkage run in full: spec, parameters (m/u), threshold, quality and counts."""

    id: int
    project_id: str
    left_dataset: str
    right_dataset: str | None  # None for deduplication
    engine: str
    spec: dict[str, Any]
    params: dict[str, Any]
    threshold: float
    quality: dict[str, Any]
    counts: dict[str, Any]
    columns: list[list[str]]  # the columns returned from each dataset
    created_by: str
    created_at: datetime


class SavedData(TypedDict):
    """A frame saved in a project: its name, version, size and lineage (``project.save``)."""

    name: str
    version: int
    rows: int
    sources: list[str]


class Card(dict[str, Any]):
    """A record as a dict (for code, JSON and the REST API) that a notebook shows for people: ``FIELDS`` in order,
    each under its label with its value formatted, and a one-line ``repr``."""

    KIND: ClassVar[str] = "Record"
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def title(self) -> str:
        return f"{self.KIND} {self.get('id', '')}".strip()

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{escape(header(k))}</th>"
                       f"<td style='text-align:left'>{escape(_shown(k, self[k]))}</td></tr>"
                       for k in self.FIELDS if k in self)
        return f"<div><h4>{escape(self.title())}</h4><table>{rows}</table></div>"

    def __repr__(self) -> str:
        return f"<{self.title()}: {dict.__repr__(self)}>"


def _shown(key: str, cell: Any) -> str:
    """A field's value as shown; a dict of measures (a linkage run's counts) as "Label: value" pairs."""
    if isinstance(cell, dict):
        return "; ".join(f"{header(k)}: {value(k, v)}" for k, v in cell.items()) or value(key, None)
    return value(key, cell)


class AccessRequestCard(Card):
    """An access request (``Access.get``, ``Owner.decide``) as a notebook shows it."""

    KIND = "Access request"
    FIELDS = ("project_id", "dataset_id", "status", "columns", "justification", "requested_by", "requested_at",
              "decided_by", "decided_at", "reason", "grant_id", "expires")

    def title(self) -> str:
        return (f"Access request {self.get('id')}: {self.get('dataset_id')} for project {self.get('project_id')} "
                f"({code_label(self.get('status')).lower()})")

    def __repr__(self) -> str:
        return f"<{self.title()}>"


class GrantCard(Card):
    """A grant (``Owner.revoke``) as a notebook shows it."""

    KIND = "Grant"
    FIELDS = ("project_id", "dataset_id", "state", "columns", "identifiers", "linkage", "conditions", "expires",
              "granted_by", "granted_at", "request_id", "version")

    def title(self) -> str:
        return (f"Grant of {self.get('dataset_id')} to project {self.get('project_id')} "
                f"({code_label(self.get('state')).lower()})")

    def __repr__(self) -> str:
        return f"<{self.title()}>"


class LinkageRunCard(Card):
    """A governed linkage run (``project.linkage_run``) as a notebook shows it: what was linked, how, and how well;
    its spec and parameters stay in the dict."""

    KIND = "Linkage run"
    FIELDS = ("project_id", "left_dataset", "right_dataset", "engine", "threshold", "counts", "quality",
              "created_by", "created_at")

    def title(self) -> str:
        pair = " and ".join(str(d) for d in (self.get("left_dataset"), self.get("right_dataset")) if d)
        return f"Linkage run {self.get('id')}: {pair}"

    def __repr__(self) -> str:
        return f"<{self.title()}>"
