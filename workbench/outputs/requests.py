"""Output requests: the analyst's side of output checking.

An analyst groups recorded outputs into a request with a title and structured context (what is shown, the
population, why it is needed, how it differs from earlier releases) and submits it. Output checkers from
outside the project review each output (``outputs/review.py``); a request moves

    draft → submitted → partially_reviewed → reviewed → approved | returned | rejected;  approved → released
    returned → submitted (after changes);  any open state → withdrawn

``TRANSITIONS`` is the whole state machine; every change of status goes through ``next_status``. Changing an
output after submission (an exception request, a comment) resets its reviews. Automatic refusals
(``outputs/checks.py``) run when an output is added and again on submission, so a checker never sees them; the
title and context, which leave with a release, are screened for identifier-like values whenever they are set
and again on submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from sqlalchemy import delete, func, insert, select, update

from workbench import audit
from workbench.db.schema import output_request_items as items
from workbench.db.schema import output_requests as requests
from workbench.db.schema import output_reviews as reviews
from workbench.db.schema import outputs
from workbench.db.schema import outputs as outputs_t
from workbench.errors import Conflict, DisclosureRisk, InvalidInput, NotFound
from workbench.governance.conditions import (
    dataset_row,
    identifier_columns,
    project_facts,
    project_row,
    require_in_project,
)
from workbench.governance.lineage import lapsed_outputs
from workbench.outputs.checks import refusals, screen_text
from workbench.outputs.files import FIGURE_JSON
from workbench.outputs.lifecycle import (
    CONCLUDED,
    STATUSES,
    TRANSITIONS,
    next_status,
)
from workbench.outputs.settings import output_checking_settings
from workbench.outputs.store import ProjectOutputs, attachments_of
from workbench.person_index import person_ids
from workbench.validation import check_flag, check_number

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench import records
    from workbench.context import Context

CONTEXT_FIELDS = {
    "shown": "what the outputs show",
    "population": "the population they describe (who, where, when)",
    "purpose": "why they are needed outside the workspace",
    "differences": "how they differ from earlier releases (or 'first release')",
}
LIST_COLUMNS = ["id", "project_id", "title", "status", "outputs", "created_by", "created_at", "submitted_at",
                "concluded_by", "released_at"]
REVIEW_COLUMNS = ["output_id", "round", "reviewer", "decision", "comment", "created_at"]


def request_row(conn: Connection, request_id: Any, project_id: str | None = None) -> dict[str, Any]:
    """A request's row; refuses a malformed or unknown id (or one of another project)."""
    check_number(request_id, "request_id", "a request number")
    row = conn.execute(select(requests).where(requests.c.id == request_id)).mappings().first()
    if row is None or (project_id is not None and row["project_id"] != project_id):
        where = f"project {project_id}" if project_id else "this workspace"
        raise NotFound(f"No output request {request_id} in {where}; .list() shows the requests.")
    return dict(row)


def request_items(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The request's outputs with their rows, in the order they were added."""
    rows = conn.execute(select(items.c.output_id, items.c.round, items.c.checksum.label("item_checksum"), outputs)
                        .join(outputs, outputs.c.id == items.c.output_id)
                        .where(items.c.request_id == request_id)
                        .order_by(items.c.added_at, items.c.output_id)).mappings().all()
    return [dict(r) for r in rows]


def as_dict(conn: Connection, row: dict[str, Any]) -> records.OutputRequest:
    """A request as plain values (JSON-able but for datetimes), with its outputs."""
    return cast("records.OutputRequest", {
        **{k: row[k] for k in ("id", "project_id", "title", "status", "created_by", "created_at", "submitted_at",
                               "concluded_by", "concluded_at", "conclusion", "released_by", "released_at", "package",
                               "manifest_sha256")},
        "context": dict(row["context"]),
        "outputs": [{"id": i["id"], "name": i["name"], "kind": i["kind"], "method": i["method"],
                     "status": i["status"], "exception": i["exception"], "round": i["round"]}
                    for i in request_items(conn, row["id"])]})


def check_context(context: Any, *, complete: bool) -> dict[str, str]:
    """The structured context: known fields, text each; all of them when ``complete`` (on submission)."""
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise InvalidInput("context: give a dict with " + ", ".join(f"{k!r} ({v})" for k, v in CONTEXT_FIELDS.items())
                           + ".", field="context")
    unknown = sorted(set(context) - set(CONTEXT_FIELDS))
    if unknown:
        raise InvalidInput(f"context: {', '.join(map(str, unknown))} not a context field; the fields are "
                           f"{', '.join(CONTEXT_FIELDS)}.", field="context")
    checked = {}
    for key, value in context.items():
        if not isinstance(value, str) or len(value) > 5000:
            raise InvalidInput(f"context: {key} must be text (up to 5,000 characters): {CONTEXT_FIELDS[key]}.",
                               field="context")
        if value.strip():
            checked[key] = value.strip()
    if complete:
        missing = [k for k in CONTEXT_FIELDS if k not in checked]
        if missing:
            raise InvalidInput("context: before submitting, say " + "; ".join(f"{k}: {CONTEXT_FIELDS[k]}"
                                                                              for k in missing) + ".",
                               field="context")
    return checked


def screen_request_text(conn: Connection, title: str | None, context: dict[str, str] | None) -> None:
    """The text screen (``checks.screen_text``) over a request's title and context fields: they leave with
    the release."""
    texts = ([("title", title)] if title is not None else []) + [(f"context {k}", v)
                                                                  for k, v in (context or {}).items()]
    screen_text(texts, output_checking_settings(conn)["max_digits_in_text"])


def check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 300:
        raise InvalidInput("title: give the request a short title (up to 300 characters), e.g. 'Inactivity by "
                           "region, 2025'.", field="title")
    return title.strip()


class OutputRequests:
    """``project.output_requests``: create, list and open a project's output requests (its members)."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id

    def create(self, title: str, *, context: dict[str, str] | None = None, outputs: list[Any] | None = None,
               submit: bool = False) -> OutputRequest:
        """A new draft request (``submit=True``: submitted at once) of recorded ``outputs``."""
        me = self._ctx.actor.username
        resource = f"an output request in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.create", resource)) as conn:
            self._check(conn, "requests.create", resource)
            title = check_title(title)
            check_flag(submit, "submit")
            context = check_context(context, complete=submit)
            screen_request_text(conn, title, context)
            request_id = conn.execute(insert(requests).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=self.project_id, title=title, context=context, status="draft", created_by=me,
                created_at=datetime.now(UTC))).inserted_primary_key[0]
            audit.append(conn, me, "requests.create", f"output request {request_id} in project {self.project_id}",
                         detail={"title": title})
            self._add(conn, request_id, outputs or [], "requests.create", resource)
            if submit:
                self._submit(conn, request_row(conn, request_id))
        return self.get(request_id)

    def list(self) -> pd.DataFrame:
        """The project's output requests, oldest first."""
        self._readable(f"output requests of project {self.project_id}")
        count = (select(func.count()).select_from(items).where(items.c.request_id == requests.c.id)
                 .scalar_subquery().label("outputs"))
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(requests, count).where(requests.c.project_id == self.project_id)
                                .order_by(requests.c.id)).mappings().all()
        return pd.DataFrame([{c: r[c] for c in LIST_COLUMNS} for r in rows], columns=LIST_COLUMNS)

    def get(self, request_id: int) -> OutputRequest:
        """One request, with its outputs and where it is."""
        resource = f"output request {request_id} in project {self.project_id}"
        self._readable(resource)
        try:
            with self._ctx.db.read() as conn:
                data = as_dict(conn, request_row(conn, request_id, self.project_id))
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("requests.read", resource, error) from None
        return OutputRequest(self, data)

    # -- changes (through OutputRequest) -------------------------------------------------------------------
    def change(self, request_id: int, *, add: Sequence[Any] = (), remove: Sequence[Any] = (), title: str | None = None,
               context: dict[str, str] | None = None) -> None:
        """Add or remove outputs, retitle, or change context fields of a draft or returned request."""
        me = self._ctx.actor.username
        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.update", resource)) as conn:
            self._check(conn, "requests.update", resource)
            row = request_row(conn, request_id, self.project_id)
            next_status(row["status"], "edit")
            changes: dict[str, Any] = {}
            if title is not None:
                changes["title"] = check_title(title)
            if context is not None:
                merged = {**row["context"], **{k: v for k, v in context.items()}}
                changes["context"] = check_context({k: v for k, v in merged.items() if v is not None},
                                                   complete=False)
            screen_request_text(conn, changes.get("title"), changes.get("context"))
            if changes:
                conn.execute(update(requests).where(requests.c.id == request_id).values(**changes))
                audit.append(conn, me, "requests.update", resource, detail=changes)
            present = {i["output_id"] for i in request_items(conn, request_id)}
            dropped = []
            for output in remove:
                output_id = self._outputs()._id_of(output)
                if output_id not in present:
                    raise NotFound(f"Output {output_id} is not in output request {request_id}.")
                conn.execute(delete(items).where((items.c.request_id == request_id) & (items.c.output_id == output_id)))
                dropped.append(output_id)
            if dropped:
                audit.append(conn, me, "requests.remove", resource, detail={"outputs": dropped})
            self._add(conn, request_id, list(add), "requests.update", resource)

    def submit(self, request_id: int) -> None:
        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.submit", resource)) as conn:
            self._check(conn, "requests.update", resource)
            self._submit(conn, request_row(conn, request_id, self.project_id))

    def withdraw(self, request_id: int, reason: str | None = None) -> None:
        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.withdraw", resource)) as conn:
            self._check(conn, "requests.update", resource)
            row = request_row(conn, request_id, self.project_id)
            status = next_status(row["status"], "withdraw")
            if reason is not None and not isinstance(reason, str):
                raise InvalidInput("reason: give the reason as text, or leave it out.", field="reason")
            conn.execute(update(requests).where(requests.c.id == request_id).values(status=status))
            audit.append(conn, self._ctx.actor.username, "requests.withdraw", resource,
                         detail={"before": row["status"], "reason": (reason or "").strip()})

    def reviews(self, request_id: int) -> pd.DataFrame:
        """The checkers' reviews the project may see: those of concluded requests and of earlier rounds."""
        resource = f"output request {request_id} in project {self.project_id}"
        self._readable(resource)
        with self._ctx.db.read() as conn:
            row = request_row(conn, request_id, self.project_id)
            rounds = {i["output_id"]: i["round"] for i in request_items(conn, request_id)}
            rows = conn.execute(select(reviews).where(reviews.c.request_id == request_id)
                                .order_by(reviews.c.id)).mappings().all()
        shown = [r for r in rows if row["status"] in CONCLUDED or r["round"] < rounds.get(r["output_id"], 0)
                 or r["output_id"] not in rounds]
        return pd.DataFrame([{c: r[c] for c in REVIEW_COLUMNS} for r in shown], columns=REVIEW_COLUMNS)

    # -- internals -----------------------------------------------------------------------------------------
    def _outputs(self) -> Any:
        return ProjectOutputs(self._ctx, self.project_id)

    def _check(self, conn: Connection, action: str, resource: str, output_ids: Sequence[int] = ()) -> None:
        """Ask the policy; with ``output_ids``, also whether every dataset in their lineage is still granted."""
        facts = project_facts(conn, project_row(conn, self.project_id), self._ctx.actor.username)
        gap = lapsed_outputs(conn, self.project_id, conn.execute(
            select(outputs.c.id, outputs.c.sources).where(outputs.c.id.in_(list(output_ids))
                                                          & (outputs.c.project_id == self.project_id))
            .order_by(outputs.c.id)).mappings().all()) if output_ids else []
        self._ctx.check(action, resource, **facts, **({"lineage_lapsed": gap} if gap else {}))

    def _readable(self, resource: str) -> None:
        require_in_project(self._ctx, "requests.read", resource, self.project_id)

    def _add(self, conn: Connection, request_id: int, outputs: Sequence[Any], action: str, resource: str) -> None:
        if not outputs:
            return
        if not isinstance(outputs, list | tuple):
            raise InvalidInput("outputs: give a list of recorded outputs (or their numbers).", field="outputs")
        store = self._outputs()
        wanted = [store._id_of(o) for o in outputs]
        self._check(conn, action, resource, wanted)
        present = {i["output_id"] for i in request_items(conn, request_id)}
        for output_id in wanted:
            if output_id in present or wanted.count(output_id) > 1:
                raise Conflict(f"Output {output_id} is already in output request {request_id}.")
        self._screen(conn, wanted, output_checking_settings(conn))
        now, me = datetime.now(UTC), self._ctx.actor.username
        for output_id in wanted:
            checksum = conn.execute(select(outputs_t.c.checksum).where(outputs_t.c.id == output_id)).scalar_one()
            conn.execute(insert(items).values(request_id=request_id, output_id=output_id, round=1, checksum=checksum,
                                              added_by=me, added_at=now))
        audit.append(conn, me, "requests.add", f"output request {request_id} in project {self.project_id}",
                     detail={"outputs": wanted})

    def _screen(self, conn: Connection, output_ids: Sequence[int], settings: dict[str, Any]) -> None:
        """Refuse outputs the automatic rules refuse, naming each problem and what to change."""
        store = self._outputs()
        problems: list[str] = []
        for output_id in output_ids:
            output = store._load(conn, output_id)  # NotFound for another project's output; checksum verified
            row = conn.execute(select(outputs.c.name, outputs.c.sources, outputs.c.derived_from)
                               .where(outputs.c.id == output_id)).one()
            # the workbench's person id is an identifier of every dataset whose owner declared no column so named
            identifiers = {c for dataset_id in row.sources for c in identifier_columns(conn, dataset_id)
                           + person_ids.workbench_identifiers(dataset_row(conn, dataset_id)["record"])}
            paths = attachments_of(store.folder(output_id))
            files = [(p.name, p.stat().st_size) for p in paths]
            contents = {p.name: p.read_bytes() for p in paths if p.name == FIGURE_JSON}
            problems.extend(refusals(output, row.name, settings, identifiers, files, list(row.derived_from),
                                     contents))
        if problems:
            raise DisclosureRisk("Refused before output checking: " + "; ".join(problems) + ".")

    def _submit(self, conn: Connection, row: dict[str, Any]) -> None:
        status = next_status(row["status"], "submit")
        check_context(row["context"], complete=True)
        screen_request_text(conn, row["title"], row["context"])
        held = request_items(conn, row["id"])
        if not held:
            raise InvalidInput(f"Output request {row['id']} has no outputs; add some before submitting it.",
                               field="outputs")
        self._check(conn, "requests.update", f"output request {row['id']} in project {self.project_id}",
                    [i["output_id"] for i in held])
        self._screen(conn, [i["output_id"] for i in held], output_checking_settings(conn))
        for item in held:
            checksum = conn.execute(select(outputs.c.checksum).where(outputs.c.id == item["output_id"])).scalar_one()
            new_round = item["round"] + 1 if row["status"] == "returned" else item["round"]
            conn.execute(update(items).where((items.c.request_id == row["id"])
                                             & (items.c.output_id == item["output_id"]))
                         .values(checksum=checksum, round=new_round))
        conn.execute(update(requests).where(requests.c.id == row["id"]).values(
            status=status, submitted_at=datetime.now(UTC), concluded_by=None, concluded_at=None, conclusion=None))
        audit.append(conn, self._ctx.actor.username, "requests.submit",
                     f"output request {row['id']} in project {self.project_id}",
                     detail={"before": row["status"], "outputs": [i["output_id"] for i in held]})


class OutputRequest:
    """One output request as its project sees it; ``.add``, ``.remove``, ``.update``, ``.submit``, ``.withdraw``
    change it (and refresh this object), ``.reviews()`` shows the checkers' comments once they may be seen."""

    def __init__(self, service: OutputRequests, data: records.OutputRequest) -> None:
        self._service = service
        self._data = data

    id = property(lambda self: self._data["id"])
    project_id = property(lambda self: self._data["project_id"])
    title = property(lambda self: self._data["title"])
    status = property(lambda self: self._data["status"])
    context = property(lambda self: dict(self._data["context"]))
    outputs = property(lambda self: [o["id"] for o in self._data["outputs"]])

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def refresh(self) -> OutputRequest:
        self._data = self._service.get(self.id)._data
        return self

    def add(self, *outputs: Any) -> OutputRequest:
        """Add recorded outputs (objects or numbers); each passes the automatic refusals first."""
        self._service.change(self.id, add=list(outputs))
        return self.refresh()

    def remove(self, *outputs: Any) -> OutputRequest:
        self._service.change(self.id, remove=list(outputs))
        return self.refresh()

    def update(self, *, title: str | None = None, **context: str) -> OutputRequest:
        """Change the title or context fields (shown, population, purpose, differences)."""
        self._service.change(self.id, title=title, context=context or None)
        return self.refresh()

    def submit(self) -> OutputRequest:
        """Send it to the output checkers (again, after a return: every output is reviewed afresh)."""
        self._service.submit(self.id)
        return self.refresh()

    def withdraw(self, reason: str | None = None) -> OutputRequest:
        self._service.withdraw(self.id, reason)
        return self.refresh()

    def reviews(self) -> pd.DataFrame:
        return self._service.reviews(self.id)

    def __repr__(self) -> str:
        return f"<OutputRequest {self.id} {self.title!r} ({self.status}, {len(self.outputs)} outputs)>"

    def _repr_html_(self) -> str:
        d = self._data
        context = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in d["context"].items())
        rows = "".join(f"<tr><td>{o['id']}</td><td>{escape(o['name'])}</td><td>{escape(o['kind'])}</td>"
                       f"<td>{escape(o['status'])}</td></tr>" for o in d["outputs"])
        conclusion = (f"<p>Checker's conclusion ({escape(d['concluded_by'] or '')}): "
                      f"{escape(d['conclusion'] or '')}</p>"
                      if d.get("conclusion") else "")
        return (f"<div><h3>{escape(d['title'])} <small>request {d['id']}, {escape(d['status'])}</small></h3>"
                f"<ul>{context}</ul>{conclusion}<table><tr><th>output</th><th>name</th><th>kind</th>"
                f"<th>check</th></tr>{rows}</table></div>")


class SubmittableOutputs(ProjectOutputs):
    """``project.outputs``: the project's recorded outputs — and ``submit(...)``, which makes an output request of
    some and submits it for checking in one step."""

    def submit(self, outputs: list[Any], *, title: str, context: dict[str, str]) -> OutputRequest:
        """Create an output request of ``outputs`` with its context and submit it for checking, in one step."""
        return OutputRequests(self._ctx, self.project_id).create(title, context=context, outputs=outputs,
                                                                 submit=True)


__all__ = ["CONTEXT_FIELDS", "STATUSES", "TRANSITIONS", "OutputRequest", "OutputRequests", "SubmittableOutputs",
           "next_status"]
