"""Access requests, owner decisions and grants: the one road from a project to a dataset.

A project's lead or analyst asks for a dataset (optionally some columns) with a justification; the dataset's
data owner or one of their delegates approves (with an expiry and conditions, perhaps fewer columns) or
refuses with a reason (never for a project they are a member of, nor their own request; nobody names
themselves a delegate); approval creates a time-limited grant. Direct identifiers are granted only when the
project's legal gateway permits identifiable data and the owner ticks each one; even then loads carry them
as per-project pseudonyms. Record identifiers (case, episode, claim ids) are granted like any column, and loads
carry them as per-project pseudonyms too. Owners see what waits for them and, in the usage report, where their
data went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from sqlalchemy import String, delete, func, insert, or_, select, update
from sqlalchemy import cast as cast_

from workbench import audit, records
from workbench.catalogue import versions
from workbench.db.schema import (
    access_requests,
    audit_events,
    data_loads,
    dataset_delegates,
    datasets,
    dp_budgets,
    dp_spends,
    grants,
    legal_gateways,
    outputs,
    people,
    project_datasets,
    project_members,
    projects,
)
from workbench.db.schema import output_request_items as items
from workbench.db.schema import output_requests as requests
from workbench.db.settings import replace_setting
from workbench.dp import twin_budget
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance.conditions import (
    ACCESS_SETTING,
    access_settings,
    check_access_settings,
    check_columns,
    dataset_row,
    project_facts,
    project_members_of,
    project_row,
    schema_roles,
)
from workbench.labels import table_html
from workbench.person_index import person_ids
from workbench.person_index.service import latest_quality
from workbench.validation import MAX_NUMBER, check_date, check_flag, check_text, check_username

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, RowMapping

    from workbench.context import Context

DECISIONS = ("approve", "refuse")
REQUEST_COLUMNS = ["id", "project_id", "dataset_id", "requested_by", "columns", "justification", "status",
                   "requested_at", "decided_by", "decided_at", "reason", "grant_id", "expires"]
GRANT_COLUMNS = ["id", "project_id", "dataset_id", "columns", "identifiers", "linkage", "conditions", "expires",
                 "state", "granted_by", "granted_at", "request_id", "version"]


def grant_state(row: Any, today: date) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    return "expired" if row["expires"] < today else "current"


class Access:
    """Requests, decisions, grants and delegates (``ws.access`` for requesters, ``ws.owner`` for owners)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- requesting ---------------------------------------------------------------------------------------
    def request(self, project_id: str, dataset_id: str, columns: list[str] | None = None, *,
                justification: str) -> records.AccessRequest:
        """Ask the dataset's owner for access for a project; returns the pending request."""
        r = access_requests
        resource = f"dataset {dataset_id} for project {project_id}"
        with self._ctx.write(audit_refusals_as=("access.request", resource)) as conn:
            project = project_row(conn, project_id)
            dataset = dataset_row(conn, dataset_id)
            self._ctx.check("access.request", resource, **project_facts(conn, project, self._ctx.actor.username))
            justification = check_text(justification, "justification",
                                       "a justification: why the project needs this dataset and these columns")
            if not dataset["has_data"]:
                raise InvalidInput(f"dataset_id: {dataset_id} is catalogued but this workspace holds no data for "
                                   "it, so there is nothing to grant.", field="dataset_id")
            roles = schema_roles(person_ids.schema_view(dataset["record"], self._ctx.vault.root))
            wanted = check_columns(columns, roles, dataset_id) or list(roles)
            pending = conn.execute(select(r.c.id).where(
                (r.c.project_id == project_id) & (r.c.dataset_id == dataset_id) & (r.c.status == "pending")
            )).scalar()
            if pending is not None:
                raise Conflict(f"Request {pending} for {dataset_id} in project {project_id} is still pending; wait "
                               "for its decision (My requests in the Access requests panel show it) before asking "
                               "again.",
                               notebook="Your access requests: ws.access.mine().")
            request_id = conn.execute(insert(r).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=project_id, dataset_id=dataset_id, requested_by=self._ctx.actor.username,
                columns=wanted, justification=justification, status="pending",
                requested_at=datetime.now(UTC))).inserted_primary_key[0]
            identifiers = [c for c in wanted if roles[c] == "direct_identifier"]
            audit.append(conn, self._ctx.actor.username, "access.request", f"request {request_id}: {resource}",
                         detail={"columns": wanted, "direct_identifiers": identifiers,
                                 "owner": dataset["owner"]})
        return self.get(request_id)

    def get(self, request_id: int) -> records.AccessRequest:
        """One request as a dict (readable by anyone registered: requests are not data)."""
        r = access_requests
        request_id = _check_id(request_id, "request_id")
        self._ctx.require("access.list_mine", f"request {request_id}")
        with self._ctx.db.read() as conn:
            if conn.execute(select(r.c.id).where(r.c.id == request_id)).first() is None:
                raise NotFound(f"No access request {request_id} of yours; your access requests list them.",
                               notebook="(ws.access.mine())")
            return self._row_after(conn, request_id)

    def mine(self) -> pd.DataFrame:
        """Requests I made or that were made for my projects: where each one is."""
        me = self._ctx.actor.username
        with self._ctx.db.read() as conn:
            projects = list(conn.execute(select(project_members.c.project_id)
                                         .where(project_members.c.username == me)).scalars())
        return self._requests(where=("mine", (me, projects)), action="access.list_mine")

    def for_project(self, project_id: str) -> pd.DataFrame:
        with self._ctx.db.read() as conn:
            project_row(conn, project_id)
        return self._requests(where=("project_id", project_id), action="projects.read")

    # -- deciding -----------------------------------------------------------------------------------------
    def to_decide(self, status: str | None = "pending") -> pd.DataFrame:
        """Requests on datasets I own or am a delegate for (admins see all), ``status=None`` for every state."""
        if status is not None and (not isinstance(status, str)
                                   or status not in ("pending", "approved", "refused", "withdrawn")):
            raise InvalidInput(f"status: {status!r} is not pending, approved, refused or withdrawn (or None).",
                               field="status")
        me = self._ctx.actor.username
        with self._ctx.db.read() as conn:
            delegate_of = list(conn.execute(select(dataset_delegates.c.dataset_id)
                                            .where(dataset_delegates.c.username == me)).scalars())
            owned = list(conn.execute(select(datasets.c.id).where(datasets.c.owner == me)).scalars())
        self._ctx.require("access.list_to_decide", "access requests", delegate_of=delegate_of)
        scope = None if self._ctx.actor.has("admin") else owned + delegate_of
        frame = self._requests(where=("datasets", scope), action=None)
        return frame if status is None else frame[frame["status"] == status].reset_index(drop=True)

    def decide(self, request_id: int, decision: str, *, columns: list[str] | None = None,
               identifiers: list[str] | tuple[str, ...] = (), expires: date | str | None = None,
               conditions: str = "", reason: str | None = None,
               linkage: list[str] | tuple[str, ...] = (), version: int | None = None) -> records.AccessRequest:
        """Approve (perhaps fewer columns, until ``expires``, under ``conditions``) or refuse (with ``reason``).

        Direct identifiers in the request are granted only if listed in ``identifiers`` and the project's
        legal gateway permits identifiable data; otherwise they are left out of the grant. ``linkage`` lists
        requested columns the workbench's linkage function may read to link this dataset for the project
        (``project.link``); the project itself never receives them unless they are also granted. ``version``
        pins the grant to one version of the dataset's data (its entry lists them); without it the grant covers
        whichever version is current, so data registered again reaches the project.
        """
        r = access_requests
        request_id = _check_id(request_id, "request_id")
        if not isinstance(decision, str) or decision not in DECISIONS:
            raise InvalidInput(f"decision: {str(decision)[:80]!r} is not 'approve' or 'refuse'.", field="decision")
        resource = f"request {request_id}"
        with self._ctx.write(audit_refusals_as=("access.decide", resource)) as conn:
            request = conn.execute(select(r).where(r.c.id == request_id)).mappings().first()
            if request is None:
                raise NotFound(f"No access request {request_id} waiting for your decision; the requests to "
                               "decide list them.", notebook="(ws.owner.requests())")
            resource = f"request {request_id}: dataset {request['dataset_id']} for project {request['project_id']}"
            dataset = dataset_row(conn, request["dataset_id"])
            self._ctx.check("access.decide", resource, owner=dataset["owner"], delegates=dataset["delegates"],
                            requested_by=request["requested_by"], project=request["project_id"],
                            dataset=dataset["id"], members=project_members_of(conn, request["project_id"]))
            if request["status"] != "pending":
                raise Conflict(f"Request {request_id} was already {request['status']} by {request['decided_by']}; "
                               "a new request is needed to change access.")
            now = datetime.now(UTC)
            if decision == "refuse":
                reason = check_text(reason, "reason", "the reason for refusing, so the requester can act on it")
                conn.execute(update(r).where(r.c.id == request_id).values(
                    status="refused", decided_by=self._ctx.actor.username, decided_at=now, reason=reason))
                audit.append(conn, self._ctx.actor.username, "access.refuse", resource, detail={"reason": reason})
                return self._row_after(conn, request_id)
            project = project_row(conn, request["project_id"])
            view = person_ids.schema_view(dataset["record"], self._ctx.vault.root)
            roles = schema_roles(view)
            requested = list(request["columns"])
            chosen = check_columns(columns, roles, dataset["id"]) or requested
            beyond = [c for c in chosen if c not in requested]
            if beyond:
                raise InvalidInput(f"columns: {', '.join(beyond)} were not requested; approve at most "
                                   f"{', '.join(requested)}.", field="columns")
            ticked = (check_columns(identifiers, roles, dataset["id"]) or []) if identifiers else []
            not_identifiers = [c for c in ticked if roles[c] != "direct_identifier" or c not in chosen]
            if not_identifiers:
                raise InvalidInput(f"identifiers: {', '.join(not_identifiers)} are not requested direct identifiers "
                                   "of this dataset.", field="identifiers")
            if ticked:
                gateway = conn.execute(select(legal_gateways).where(legal_gateways.c.code == project["legal_gateway"])
                                       ).mappings().one()
                self._ctx.check("access.grant_identifiers", f"{dataset['id']} for project {project['id']}",
                                gateway=gateway["code"], gateway_allows_identifiers=bool(gateway["allows_identifiers"]))
            for_linkage = (check_columns(linkage, roles, dataset["id"]) or []) if linkage else []
            if person_ids.provided(view.get("columns", [])) and person_ids.PERSON_ID in for_linkage:
                raise InvalidInput(f"linkage: {person_ids.PERSON_ID} is the workbench's person id, which the person "
                                   "index already links; grant it as a column and the project joins on it.",
                                   field="linkage")
            unrequested = [c for c in for_linkage if c not in requested]
            if unrequested:
                raise InvalidInput(f"linkage: {', '.join(unrequested)} were not requested; columns for linkage "
                                   f"must be among {', '.join(requested)}.", field="linkage")
            granted = [c for c in chosen if roles.get(c) != "direct_identifier" or c in ticked]
            if not granted:
                raise InvalidInput("columns: nothing would be granted (direct identifiers need ticking in "
                                   "identifiers=[...]); refuse the request instead.", field="columns")
            until = check_date(expires, "expires") if expires is not None else project["end_date"]
            if until < date.today():
                raise InvalidInput(f"expires: {until} is in the past; give a future date.", field="expires")
            if until > project["end_date"]:
                raise InvalidInput(f"expires: {until} is after the project ends ({project['end_date']}); a grant "
                                   "cannot outlive its project.", field="expires")
            if not isinstance(conditions, str):
                raise InvalidInput("conditions: give the conditions as text.", field="conditions")
            pinned = None if version is None else versions.check_version(conn, dataset["id"], version)
            conn.execute(update(r).where(r.c.id == request_id).values(
                status="approved", decided_by=self._ctx.actor.username, decided_at=now,
                reason=(reason or "").strip() or None))
            grant_id = conn.execute(insert(grants).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=project["id"], dataset_id=dataset["id"], request_id=request_id, columns=granted,
                identifiers=ticked, linkage=for_linkage, conditions=conditions.strip(), expires=until,
                granted_by=self._ctx.actor.username, granted_at=now, version=pinned)).inserted_primary_key[0]
            withheld = [c for c in requested if c not in granted]
            audit.append(conn, self._ctx.actor.username, "access.grant", resource,
                         detail={"grant": grant_id, "columns": granted, "identifiers": ticked, "linkage": for_linkage,
                                 "withheld": withheld, "expires": until.isoformat(), "conditions": conditions,
                                 **({"version": pinned} if pinned is not None else {})})
            return self._row_after(conn, request_id)

    def revoke(self, grant_id: int, *, reason: str) -> records.Grant:
        """End a grant now (the owner, a delegate or an admin); loads under it stop at once."""
        grant_id = _check_id(grant_id, "grant_id")
        resource = f"grant {grant_id}"
        with self._ctx.write(audit_refusals_as=("access.revoke", resource)) as conn:
            grant, _dataset, resource = self._grant_to_change(conn, grant_id, "access.revoke")
            reason = check_text(reason, "reason", "the reason for revoking the grant")
            if grant["revoked_at"] is not None:
                raise Conflict(f"Grant {grant_id} was already revoked by {grant['revoked_by']}.")
            conn.execute(update(grants).where(grants.c.id == grant_id).values(
                revoked_by=self._ctx.actor.username, revoked_at=datetime.now(UTC)))
            audit.append(conn, self._ctx.actor.username, "access.revoke", resource, detail={"reason": reason})
        return cast("records.Grant", records.GrantCard(
            self.grants(dataset_id=grant["dataset_id"]).set_index("id").loc[grant_id].to_dict()))

    def _grant_to_change(self, conn: Connection, grant_id: int,
                         action: str) -> tuple[RowMapping, dict[str, Any], str]:
        """A grant whose dataset's owner, a delegate or an admin may take ``action`` on it (refused otherwise): the
        grant, its dataset and how the audit log names the grant."""
        grant = conn.execute(select(grants).where(grants.c.id == grant_id)).mappings().first()
        if grant is None:
            raise NotFound(f"No grant {grant_id}; a dataset's usage report lists its grants.",
                           notebook="(ws.owner.grants(dataset_id))")
        dataset = dataset_row(conn, grant["dataset_id"])
        resource = f"grant {grant_id}: dataset {grant['dataset_id']} for project {grant['project_id']}"
        self._ctx.check(action, resource, owner=dataset["owner"], delegates=dataset["delegates"])
        return grant, dataset, resource

    def pin(self, grant_id: int, version: int | None) -> records.Grant:
        """Pin a current grant to one version of the dataset's data (its entry lists them), or with ``None`` let it
        follow whichever version is current again (the owner, a delegate or an admin)."""
        grant_id = _check_id(grant_id, "grant_id")
        resource = f"grant {grant_id}"
        with self._ctx.write(audit_refusals_as=("access.pin", resource)) as conn:
            grant, dataset, resource = self._grant_to_change(conn, grant_id, "access.pin")
            pinned = None if version is None else versions.check_version(conn, dataset["id"], version)
            state = grant_state(grant, date.today())
            if state != "current":
                raise Conflict(f"Grant {grant_id} is {state}; only a current grant can be pinned to a version.")
            conn.execute(update(grants).where(grants.c.id == grant_id).values(version=pinned))
            audit.append(conn, self._ctx.actor.username, "access.pin", resource,
                         detail={"version": pinned, "was": grant["version"]})
        return cast("records.Grant", records.GrantCard(
            self.grants(dataset_id=grant["dataset_id"]).set_index("id").loc[grant_id].to_dict()))

    def grants(self, *, project_id: str | None = None, dataset_id: str | None = None) -> pd.DataFrame:
        """Grants of a project or on a dataset (or all), with their state: current, expired or revoked."""
        self._ctx.require("projects.read", "grants")
        query = select(grants).order_by(grants.c.id)
        with self._ctx.db.read() as conn:
            if project_id is not None:
                project_row(conn, project_id)
                query = query.where(grants.c.project_id == project_id)
            if dataset_id is not None:
                dataset_row(conn, dataset_id)
                query = query.where(grants.c.dataset_id == dataset_id)
            rows = conn.execute(query).mappings().all()
        today = date.today()
        frame = pd.DataFrame([{**{c: row.get(c) for c in GRANT_COLUMNS if c != "state"},
                               "linkage": list(row.get("linkage") or []),
                               "state": grant_state(row, today)} for row in rows], columns=GRANT_COLUMNS)
        # the pinned version, or None (whichever is current): whole numbers, never NaN
        frame["version"] = pd.Series([row.get("version") for row in rows], index=frame.index, dtype=object)
        return frame

    # -- delegates ----------------------------------------------------------------------------------------
    def delegate(self, dataset_id: str, username: str, *, remove: bool = False) -> list[str]:
        """Name (or, with ``remove``, withdraw) a delegate who decides requests for the owner's dataset."""
        d = dataset_delegates
        resource = f"dataset {dataset_id}"
        with self._ctx.write(audit_refusals_as=("access.delegate", resource)) as conn:
            dataset = dataset_row(conn, dataset_id)
            check_username(username)  # the policy compares the delegate with the actor: a name, and a flag
            check_flag(remove, "remove")
            self._ctx.check("access.delegate", resource, owner=dataset["owner"], delegate=username, remove=remove)
            if conn.execute(select(people.c.username).where(people.c.username == username)).first() is None:
                raise NotFound(f"No person {username!r} is registered in this workspace.")
            if remove:
                if username not in dataset["delegates"]:
                    raise NotFound(f"{username} is not a delegate for {dataset_id}.")
                conn.execute(delete(d).where((d.c.dataset_id == dataset_id) & (d.c.username == username)))
            else:
                if username == dataset["owner"] or username in dataset["delegates"]:
                    raise Conflict(f"{username} already decides requests for {dataset_id}.")
                conn.execute(insert(d).values(dataset_id=dataset_id, username=username,
                                              added_by=self._ctx.actor.username, added_at=datetime.now(UTC)))
            audit.append(conn, self._ctx.actor.username, "access.undelegate" if remove else "access.delegate",
                         resource, detail={"delegate": username})
            return dataset_row(conn, dataset_id)["delegates"]

    # -- settings -----------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Required training courses and the synthetic twins' category threshold (anyone may read)."""
        self._ctx.require("settings.read", "the access settings")
        with self._ctx.db.read() as conn:
            return access_settings(conn)

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change access settings (admins)."""
        changes = check_access_settings(dict(changes))
        with self._ctx.write() as conn:
            self._ctx.check("settings.write", "the access settings")
            value = {**access_settings(conn), **changes}
            replace_setting(conn, ACCESS_SETTING, value, self._ctx.actor.username)
            audit.append(conn, self._ctx.actor.username, "settings.update", "access settings", detail=changes)
        return value

    # -- usage ----------------------------------------------------------------------------------------------
    def usage(self, dataset_id: str) -> UsageReport:
        """For the owner, delegates and admins: who holds grants, loads over time, derived project data."""
        resource = f"dataset {dataset_id}"
        try:
            with self._ctx.db.read() as conn:
                dataset = dataset_row(conn, dataset_id)
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("owner.usage", resource, error) from None
        self._ctx.require("owner.usage", resource, owner=dataset["owner"], delegates=dataset["delegates"])
        today = date.today()
        with self._ctx.db.read() as conn:
            latest = versions.current(conn, dataset_id)
            grant_rows = conn.execute(
                select(grants, projects.c.title, projects.c.purpose, projects.c.status.label("project_status"),
                       legal_gateways.c.title.label("gateway"))
                .join(projects, projects.c.id == grants.c.project_id)
                .join(legal_gateways, legal_gateways.c.code == projects.c.legal_gateway)
                .where(grants.c.dataset_id == dataset_id).order_by(grants.c.id)).mappings().all()
            loads = conn.execute(select(data_loads.c.project_id, data_loads.c.username, data_loads.c.row_count,
                                        data_loads.c.at, data_loads.c.version)
                                 .where(data_loads.c.dataset_id == dataset_id)).all()
            held = versions.listing(conn, dataset_id)
            derived = [row for row in conn.execute(select(project_datasets)).mappings()
                       if dataset_id in row["sources"]]
            load_count = conn.execute(select(func.count()).select_from(data_loads)
                                      .where(data_loads.c.dataset_id == dataset_id)).scalar_one()
            released = _releases_from(conn, dataset_id)
            made = _outputs_from(conn, dataset_id)
            privacy = privacy_spend(conn, dataset_id)
            blocked = blocked_by_lapse(conn, dataset_id)
            index_quality = latest_quality(conn, dataset_id)
        grant_frame = pd.DataFrame([{
            "project_id": g["project_id"], "title": g["title"], "purpose": g["purpose"], "legal_gateway": g["gateway"],
            "columns": list(g["columns"]), "identifiers": list(g["identifiers"]), "conditions": g["conditions"],
            "expires": g["expires"], "state": grant_state(g, today), "grant_id": g["id"],
            "version": g["version"] or latest, "pinned": g["version"] is not None} for g in grant_rows],
            columns=["project_id", "title", "purpose", "legal_gateway", "columns", "identifiers", "conditions",
                     "expires", "state", "grant_id", "version", "pinned"])
        grant_frame["version"] = _whole_or_none(grant_frame["version"])
        load_frame = pd.DataFrame(loads, columns=["project_id", "username", "rows", "at", "version"])
        load_frame["month"] = pd.to_datetime(load_frame["at"], utc=True).dt.strftime("%Y-%m")
        load_frame["version"] = load_frame["version"].fillna(0).astype("int64")  # 0: loaded before versions
        by_month = (load_frame.groupby(["project_id", "month", "version"])
                    .agg(loads=("rows", "size"), rows=("rows", "sum"), people=("username", "nunique"))
                    .reset_index())
        by_month["version"] = _whole_or_none(by_month["version"].where(by_month["version"] > 0))
        version_frame = _versions_used(held, load_frame, grant_rows, today)
        derived_frame = pd.DataFrame([{c: d[c] for c in ("project_id", "name", "version", "derived_from",
                                                         "row_count", "created_by", "created_at")}
                                      for d in derived],
                                     columns=["project_id", "name", "version", "derived_from", "row_count",
                                              "created_by", "created_at"])
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "owner.usage", resource, detail={"loads": load_count})
        releases = pd.DataFrame(released, columns=RELEASE_COLUMNS)
        return UsageReport(dataset_id=dataset_id, owner=dataset["owner"], grants=grant_frame, loads=by_month,
                           derived=derived_frame, releases=releases, privacy=privacy,
                           outputs=pd.DataFrame(made, columns=OUTPUT_COLUMNS), blocked=blocked,
                           versions=version_frame, person_index=index_quality)

    # -- internals ------------------------------------------------------------------------------------------
    def _requests(self, *, where: tuple[str, Any], action: str | None) -> pd.DataFrame:
        r = access_requests
        if action:
            self._ctx.require(action, "access requests")
        query = (select(r, grants.c.id.label("grant_id"), grants.c.expires)
                 .outerjoin(grants, grants.c.request_id == r.c.id).order_by(r.c.id))
        kind, value = where
        if kind == "project_id":
            query = query.where(r.c.project_id == value)
        elif kind == "mine":
            me, projects = value
            query = query.where(or_(r.c.requested_by == me, r.c.project_id.in_(projects)))
        elif kind == "datasets" and value is not None:
            query = query.where(r.c.dataset_id.in_(value))
        with self._ctx.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        frame = pd.DataFrame([{c: row[c] for c in REQUEST_COLUMNS} for row in rows], columns=REQUEST_COLUMNS)
        return frame.astype({"id": "int64", "grant_id": "Int64"})  # a pending request has no grant yet

    def _row_after(self, conn: Connection, request_id: int) -> records.AccessRequest:
        """One request as plain Python values."""
        r = access_requests
        row = conn.execute(select(r, grants.c.id.label("grant_id"), grants.c.expires)
                           .outerjoin(grants, grants.c.request_id == r.c.id).where(r.c.id == request_id)
                           ).mappings().one()
        return cast("records.AccessRequest", records.AccessRequestCard({c: row[c] for c in REQUEST_COLUMNS}))


class Owner:
    """The data owner's desk (``ws.owner``): what waits for me, decisions, delegates, grants and usage."""

    def __init__(self, ctx: Context) -> None:
        self._access = Access(ctx)

    def requests(self, status: str | None = "pending") -> pd.DataFrame:
        """Requests waiting for my decision (``status=None``: every request on my datasets)."""
        return self._access.to_decide(status)

    def decide(self, request_id: int, decision: str, **options: Any) -> records.AccessRequest:
        """``decide(id, "approve", columns=..., identifiers=..., expires=..., conditions=...)`` or
        ``decide(id, "refuse", reason=...)``."""
        return self._access.decide(request_id, decision, **options)

    def grants(self, dataset_id: str) -> pd.DataFrame:
        return self._access.grants(dataset_id=dataset_id)

    def revoke(self, grant_id: int, *, reason: str) -> records.Grant:
        return self._access.revoke(grant_id, reason=reason)

    def pin(self, grant_id: int, version: int | None) -> records.Grant:
        """Pin a grant to one version of the dataset's data, or with ``None`` let it follow the current one."""
        return self._access.pin(grant_id, version)

    def delegate(self, dataset_id: str, username: str, *, remove: bool = False) -> list[str]:
        return self._access.delegate(dataset_id, username, remove=remove)

    def usage(self, dataset_id: str) -> UsageReport:
        return self._access.usage(dataset_id)

    def datasets(self) -> pd.DataFrame:
        """The datasets whose requests I decide, by title: those I own (``role`` "owner") and those I am a
        delegate for ("delegate"), so an owner's desk can offer them without an id being typed."""
        ctx = self._access._ctx
        ctx.require("catalogue.read", "catalogue")
        me = ctx.actor.username
        d = dataset_delegates
        with ctx.db.read() as conn:
            owned = conn.execute(select(datasets.c.id, datasets.c.title).where(datasets.c.owner == me)).all()
            delegated = conn.execute(select(datasets.c.id, datasets.c.title)
                                     .join(d, d.c.dataset_id == datasets.c.id).where(d.c.username == me)).all()
        mine = {i for i, _ in owned}  # an owner is never their own delegate; owning is what counts if both held
        rows = ([{"id": i, "title": t, "role": "owner"} for i, t in owned]
                + [{"id": i, "title": t, "role": "delegate"} for i, t in delegated if i not in mine])
        frame = pd.DataFrame(rows, columns=["id", "title", "role"])
        return frame.sort_values(["title", "id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class UsageReport:
    """Where an owner's dataset went: grants, loads per project and month, derived data, releases."""

    dataset_id: str
    owner: str | None
    grants: pd.DataFrame
    loads: pd.DataFrame
    derived: pd.DataFrame
    releases: pd.DataFrame
    privacy: pd.DataFrame  # differential privacy: ε spent per project against its budget
    # every output made from it, with its provenance: computed by the workbench from a spec (source, version) or
    # analyst-supplied (a frame from a kernel whose tracked lineage holds the dataset)
    outputs: pd.DataFrame
    blocked: pd.DataFrame  # what revocation or expiry stopped: refused reads, outputs, requests, reviews, releases
    # every version of its data (number, when, rows, checksum or marker, current) with the loads that read it and
    # the current grants covering it
    versions: pd.DataFrame
    # how its records link to the workspace's person index: coverage, match rate, estimated and measured precision
    # and recall, clerical review count, warnings (numbers only; None when it was never linked)
    person_index: dict[str, Any] | None = None


    def _repr_html_(self) -> str:
        parts = [f"<div><h3>Usage of {escape(self.dataset_id)}</h3><p>Owner: {escape(self.owner or 'none')}</p>"]
        for title, frame in (("Versions of its data", self.versions), ("Grants", self.grants),
                             ("Loads by project, month and version", self.loads),
                             ("Derived project datasets", self.derived),
                             ("Outputs made from it (computed by the workbench, or analyst-supplied)", self.outputs),
                             ("Released outputs", self.releases),
                             ("Privacy budget spent (differential privacy)", self.privacy),
                             ("Blocked after revocation or expiry", self.blocked)):
            body = table_html(frame) if not frame.empty else "<p><em>None</em></p>"
            parts.append(f"<h4>{title}</h4>{body}")
        if self.person_index is not None:
            q = self.person_index
            shown = [(k, q.get(k)) for k in ("records", "coverage", "match_rate", "estimated_precision",
                                             "estimated_recall", "review_held", "updated_at")]
            measured = q.get("measured") or {}
            shown += [(f"measured {k}", measured.get(k)) for k in ("precision", "recall", "f1") if k in measured]
            rows = "".join(f"<tr><th style='text-align:left'>{escape(k.replace('_', ' '))}</th><td>"
                           f"{escape(f'{v:.3f}' if isinstance(v, float) else str(v))}</td></tr>"
                           for k, v in shown if v is not None)
            warnings = "".join(f"<p class='workbench-warning'>&#9888; {escape(w)}</p>" for w in q.get("warnings", []))
            parts.append(f"<h4>Person index</h4>{warnings}<table>{rows}</table>")
        return "".join(parts) + "</div>"


RELEASE_COLUMNS = ["request_id", "project_id", "title", "output_id", "output", "kind", "provenance", "released_by",
                   "released_at", "package"]
OUTPUT_COLUMNS = ["project_id", "output_id", "name", "kind", "provenance", "source", "version", "method", "status",
                  "created_by", "created_at"]


VERSION_COLUMNS = ["version", "registered_at", "registered_by", "rows", "checksum", "marker", "mode", "current",
                   "loads", "projects_loading", "grants"]


def _whole_or_none(column: pd.Series) -> pd.Series:
    """A column of version numbers as whole numbers, with None (not NaN) where there is none."""
    return pd.Series([None if pd.isna(v) else int(v) for v in column], index=column.index, dtype=object)


def _versions_used(held: list[dict[str, Any]], loads: pd.DataFrame, grant_rows: Any, today: date) -> pd.DataFrame:
    """The usage report's versions: each version of the data with how many loads read it, by how many projects,
    and how many current grants cover it (pinned to it, or following the current version)."""
    latest = held[-1]["number"] if held else None
    covering: dict[int, int] = {}
    for g in grant_rows:
        covered = g["version"] or latest
        if grant_state(g, today) == "current" and covered is not None:
            covering[int(covered)] = covering.get(int(covered), 0) + 1
    rows = []
    for v in held:
        read = loads[loads["version"] == v["number"]]
        rows.append({"version": v["number"], "registered_at": v["registeredAt"], "registered_by": v["registeredBy"],
                     "rows": v["rows"], "checksum": v["checksum"], "marker": v["marker"], "mode": v["mode"],
                     "current": v["current"], "loads": len(read), "projects_loading": int(read["project_id"].nunique()),
                     "grants": covering.get(v["number"], 0)})
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def _releases_from(conn: Connection, dataset_id: str) -> list[dict[str, Any]]:
    """Released outputs that descend from the dataset, one row per output, oldest release first."""
    rows = conn.execute(select(requests.c.id.label("request_id"), requests.c.project_id, requests.c.title,
                               outputs.c.id.label("output_id"), outputs.c.name.label("output"), outputs.c.kind,
                               outputs.c.provenance, requests.c.released_by, requests.c.released_at, requests.c.package,
                               outputs.c.sources)
                        .join(items, items.c.request_id == requests.c.id)
                        .join(outputs, outputs.c.id == items.c.output_id)
                        .where(requests.c.status == "released")
                        .order_by(requests.c.released_at, requests.c.id, outputs.c.id)).mappings().all()
    return [{c: r[c] for c in RELEASE_COLUMNS} for r in rows if dataset_id in r["sources"]]


def _outputs_from(conn: Connection, dataset_id: str) -> list[dict[str, Any]]:
    """Every output whose lineage holds the dataset, oldest first, with its provenance class and, for a computed
    one, the source it was computed from and that source's version."""
    rows = conn.execute(select(outputs).order_by(outputs.c.id)).mappings().all()
    made = []
    for r in rows:
        if dataset_id not in r["sources"]:
            continue
        origin = r["origin"] or {}
        computed = r["provenance"] == "computed"
        made.append({"project_id": r["project_id"], "output_id": r["id"], "name": r["name"], "kind": r["kind"],
                     "provenance": r["provenance"], "source": origin.get("source") if computed else None,
                     "version": None if not computed or origin.get("version") is None else str(origin["version"]),
                     "method": r["method"], "status": r["status"], "created_by": r["created_by"],
                     "created_at": r["created_at"]})
    return made


BLOCKED_COLUMNS = ["at", "project_id", "username", "action", "resource", "reason"]


def blocked_by_lapse(conn: Connection, dataset_id: str) -> pd.DataFrame:
    """What a revoked or expired grant for the dataset stopped, from the audit log: every refused read of a saved
    frame, output, request, review and release whose lineage held the dataset, oldest first."""
    rows = conn.execute(select(audit_events.c.at, audit_events.c.actor, audit_events.c.action,
                               audit_events.c.resource, audit_events.c.detail)
                        .where((audit_events.c.outcome == "denied")
                               & cast_(audit_events.c.detail, String).contains("lineage_lapsed"))
                        .order_by(audit_events.c.seq)).all()
    found = [{"at": at, "project_id": detail.get("project"), "username": actor, "action": action,
              "resource": resource, "reason": detail.get("reason")}
             for at, actor, action, resource, detail in rows
             if isinstance(detail, dict) and dataset_id in (detail.get("lineage_lapsed") or ())]
    return pd.DataFrame(found, columns=BLOCKED_COLUMNS)


def privacy_spend(conn: Connection, dataset_id: str) -> pd.DataFrame:
    """Per project (and in total): DP queries on the dataset, ε spent, and the budget it is charged against; then
    the synthetic twins (twins made, ε spent, the twin budget) once any was made or its budget set."""
    spends = conn.execute(select(dp_spends.c.project_id, func.count(), func.sum(dp_spends.c.epsilon),
                                 func.max(dp_spends.c.at)).where(dp_spends.c.dataset_id == dataset_id)
                          .group_by(dp_spends.c.project_id).order_by(dp_spends.c.project_id)).all()
    budgets = {row.project_id: row.epsilon for row in
               conn.execute(select(dp_budgets.c.project_id, dp_budgets.c.epsilon)
                            .where(dp_budgets.c.dataset_id == dataset_id))}
    rows = [{"project_id": project, "queries": count, "epsilon_spent": float(total), "epsilon_budget":
             budgets.get(project), "last_query": last} for project, count, total, last in spends]
    if rows or None in budgets:
        rows.append({"project_id": "all projects", "queries": sum(r["queries"] for r in rows),
                     "epsilon_spent": sum(r["epsilon_spent"] for r in rows), "epsilon_budget": budgets.get(None),
                     "last_query": max((r["last_query"] for r in rows), default=None)})
    twins = twin_budget.budget(conn, dataset_id)
    if twins["twins"] or twins["set_by"]:  # the synthetic twins every catalogue reader sees: their own budget
        made = twin_budget.latest(conn, dataset_id)
        rows.append({"project_id": "synthetic twins", "queries": twins["twins"], "epsilon_spent": twins["spent"],
                     "epsilon_budget": twins["epsilon"], "last_query": made["made_at"] if made else None})
    return pd.DataFrame(rows, columns=["project_id", "queries", "epsilon_spent", "epsilon_budget", "last_query"])


def _check_id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() \
            or not 1 <= int(value) <= MAX_NUMBER:
        raise InvalidInput(f"{field}: {value!r} is not a number from 1 to {MAX_NUMBER}.", field=field)
    return int(value)
