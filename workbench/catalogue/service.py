"""The catalogue service: register, import, export, read and search dataset entries.

Writes are all-or-nothing: a file of several records is validated whole before anything is written, data
is staged in the vault and moved into place only after the database committed. Search ranks each entry's
weighted terms (``workbench.catalogue.text`` and ``.search``) in plain SQL, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from sqlalchemy import JSON, delete, func, insert, select, update
from sqlalchemy import text as sql

from workbench import audit
from workbench.catalogue import in_place, versions
from workbench.catalogue.dcat import from_jsonld, to_jsonld
from workbench.catalogue.draft import draft, refuse_placeholders
from workbench.catalogue.entry import Entry, theme_label
from workbench.catalogue.model import KINDS, MetadataInvalid, detect_kind, schema, validate
from workbench.catalogue.quality import check_data, infer_columns, key_candidates, record_key_warnings, unique_per_row
from workbench.catalogue.search import (
    RankingQuery,
    index_entry,
    prepare,
    refresh_statistics,
    suggestion,
    vocabulary,
)
from workbench.catalogue.sources import Source, copy_to, source_of
from workbench.catalogue.terms import SearchTerms
from workbench.catalogue.text import parse_query
from workbench.catalogue.twin import Marginal, redraw, synthesise
from workbench.db.schema import (
    contact_points,
    dataset_delegates,
    dataset_missions,
    dataset_themes,
    datasets,
    departments,
    distributions,
    legal_gateways,
    people,
)
from workbench.dp import twin_budget
from workbench.errors import BudgetExceeded, Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.governance.conditions import access_settings, dataset_row
from workbench.governance.people import Departments, actor_for
from workbench.governance.policy import decide
from workbench.ids import check_dataset_id, slug_from_uri
from workbench.person_index import person_ids
from workbench.person_index.service import PersonIndex, is_person_level, latest_quality, linking_deferred
from workbench.validation import check_optional_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.selectable import TextualSelect

    from workbench.context import Context
    from workbench.linkage.truth import TruthSource

MAX_QUERY_LENGTH = 500
MAX_QUERY_WORDS = 32  # words after these are ignored
BULK_IMPORT = 100  # datasets in one import after which the database's planner statistics are refreshed
MAX_OFFSET = 1_000_000_000  # far past any catalogue; keeps the number inside the databases' integers
SEARCH_COLUMNS = ["id", "title", "department", "owner", "missions", "themes", "access_rights",
                  "security_classification", "rows", "summary", "score"]


def _query_text(text: object) -> str:
    """The search text, or refuse what cannot be one: not a string, or longer than ``MAX_QUERY_LENGTH``.
    Control characters count as spaces and punctuation separates words; a text of only punctuation or common
    words ("and", "of") has nothing to search for and finds nothing."""
    if not isinstance(text, str):
        raise InvalidInput(f"text: search text must be a string, not {type(text).__name__}.", field="text")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"text: the search text is {len(text):,} characters long; use at most "
                           f"{MAX_QUERY_LENGTH} (a few words find more than a paragraph).", field="text")
    return text


def _listing(dialect: str, where: list[str], limited: bool) -> tuple[str, str]:
    """With no search text: (every entry matching the filters by title, one page; their count)."""
    filters = (" WHERE " + " AND ".join(where)) if where else ""
    if limited:
        page = " LIMIT :limit OFFSET :offset"
    else:  # SQLite needs a LIMIT before OFFSET; -1 is its "no limit"
        page = " LIMIT -1 OFFSET :offset" if dialect == "sqlite" else " OFFSET :offset"
    return (f"SELECT d.id, 0.0 AS score FROM datasets d{filters} ORDER BY lower(d.title), d.id{page}",
            f"SELECT count(*) FROM datasets d{filters}")


def _with_details(page: str, order: str) -> TextualSelect:
    """One page of ids (with scores, and the total where ranked) joined with what a result shows, in ``order``
    over ``p`` (the page) and ``d`` (datasets): one statement, so one round trip to the database."""
    return sql(f"SELECT p.*, d.title, d.record, d.owner, d.row_count, d.access_rights, "
               f"d.security_classification, coalesce(dep.abbreviation, dep.slug) AS department "
               f"FROM ({page}) p JOIN datasets d ON d.id = p.id JOIN departments dep ON dep.slug = d.department "
               f"ORDER BY {order}").columns(record=JSON)


class Catalogue:
    """Find, read and register datasets: ``ws.catalogue``."""

    def __init__(self, ctx: Context, truth: TruthSource | None = None) -> None:
        self._ctx = ctx
        self._truth = truth  # where the person index may measure its quality (the demo's truth), if anywhere

    # ----- reading -------------------------------------------------------------------------------------
    def __getitem__(self, dataset_id: str) -> Entry:
        return self.get(dataset_id)

    def __contains__(self, dataset_id: object) -> bool:
        if not isinstance(dataset_id, str):
            return False
        self._ctx.require("catalogue.read", "catalogue")
        with self._ctx.db.read() as conn:
            return conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id)).first() is not None

    def __len__(self) -> int:
        self._ctx.require("catalogue.read", "catalogue")
        with self._ctx.db.read() as conn:
            return conn.execute(select(func.count()).select_from(datasets)).scalar_one()

    def get(self, dataset_id: str) -> Entry:
        """The full entry for a local dataset id (e.g. ``'dhsc.hes_apc'``)."""
        check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("catalogue.read", f"dataset {dataset_id}")
        with self._ctx.db.read() as conn:
            return self._entry(conn, dataset_id)

    def _entry(self, conn: Connection, dataset_id: str) -> Entry:
        row = conn.execute(
            select(datasets.c.record, datasets.c.has_data, people.c.name.label("owner_name"),
                   departments.c.name.label("department_name"))
            .select_from(datasets.outerjoin(people, people.c.username == datasets.c.owner)
                         .join(departments, departments.c.slug == datasets.c.department))
            .where(datasets.c.id == dataset_id)).first()
        if row is None:
            raise NotFound(f"No dataset {dataset_id!r} in the catalogue; ws.catalogue.search() lists them.")
        view = person_ids.schema_view(row.record, self._ctx.vault.root)
        provided = tuple(c for c in view.get("columns", []) if c not in row.record.get("columns", []))
        return Entry(row.record, row.owner_name, row.department_name, bool(row.has_data),
                     tuple(self._warnings(row.record, bool(row.has_data))), _twin_facts(conn, dataset_id), provided,
                     self._index_quality(conn, dataset_id, row.record), tuple(versions.listing(conn, dataset_id)),
                     self._storage(conn, dataset_id, row.record, row.has_data))

    def _may(self, conn: Connection, action: str, dataset_id: str, record: dict[str, Any]) -> bool:
        """Whether the actor may take an owner's ``action`` on the dataset (asked quietly: no refusal is audited,
        the entry simply goes without what it guards)."""
        delegates = sorted(conn.execute(select(dataset_delegates.c.username)
                                        .where(dataset_delegates.c.dataset_id == dataset_id)).scalars())
        return decide(self._ctx.actor, action, {"owner": record.get("dataOwner"), "delegates": delegates}).allowed

    def _index_quality(self, conn: Connection, dataset_id: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """The entry's person-index quality for those who may see it."""
        if not is_person_level(record) or not self._may(conn, "index.quality", dataset_id, record):
            return None
        return latest_quality(conn, dataset_id)

    def _storage(self, conn: Connection, dataset_id: str, record: dict[str, Any],
                 has_data: int | None) -> dict[str, Any] | None:
        """Where a dataset's data is held (``Entry.storage``): copied or in place for every reader; the source's
        kind, location and table (never a login) only for those who may see how the dataset is used (its owner,
        delegates and admins), since a file path or database host helps nobody else and tells them where to aim."""
        if not has_data:
            return None
        if has_data != in_place.IN_PLACE:
            return {"mode": "copy"}
        if not self._may(conn, "owner.usage", dataset_id, record):
            return {"mode": "in-place"}
        return in_place.describe(conn, dataset_id)

    def _warnings(self, record: dict[str, Any], has_data: bool) -> list[str]:
        """What the catalogue notices in a record without refusing it: columns with role 'other' that look like
        record keys (named like an identifier and, when the data is held, different on every row)."""
        columns = record.get("columns")
        candidates = key_candidates(columns)
        if not candidates:
            return []
        unique = None
        path = self._ctx.vault.dataset_path(record["localId"])
        if has_data and path.exists():
            unique = _unique_in_file(path, candidates)
        return record_key_warnings(columns, unique)

    def twin(self, dataset_id: str) -> pd.DataFrame:
        """The dataset's synthetic twin, for writing code before access is granted (any catalogue reader).

        Same columns and types as the data; each column drawn independently from an ε-differentially private
        histogram over its declared categories or bounds (identifiers and free text made up; numbers and dates
        without declared bounds left missing). Made on first use, charged once to the dataset's twin budget
        (``ws.dp.twin_budget``), and kept: reading it again costs nothing. New data or a changed schema makes a
        new twin, charged again; a changed ``twin_min_count`` only redraws it from what was released (free).
        """
        check_dataset_id(dataset_id, "dataset_id")
        resource = f"twin of dataset {dataset_id}"
        self._ctx.require("catalogue.read", resource)
        with self._ctx.db.read() as conn:
            entry = self._entry(conn, dataset_id)
            min_count = access_settings(conn)["twin_min_count"]
            row = dataset_row(conn, dataset_id)
            place = in_place.lookup(conn, self._ctx.vault.root, row)  # None: copied into the vault
        data = self._ctx.vault.dataset_path(dataset_id)
        if place is None and not data.exists():
            raise NotFound(f"{dataset_id} is catalogued without data in this workspace, so it has no twin.")
        path = self._ctx.vault.twin_path(dataset_id)
        version = _twin_version(data, entry.record) if place is None else _in_place_twin_version(place, entry.record)
        seed = zlib.crc32(dataset_id.encode())
        if path.exists():
            cached = pq.read_table(path)
            meta = cached.schema.metadata or {}
            if meta.get(TWIN_VERSION) == version.encode():
                if meta.get(TWIN_MIN_COUNT) == str(min_count).encode():
                    return _with_provided(cached.to_pandas(), entry, seed)
                marginals = [Marginal(**m) for m in json.loads(meta[TWIN_MARGINALS])]
                stored = pq.read_schema(data) if place is None else in_place.declared_schema(
                    entry.record.get("columns", []))
                table = redraw(marginals, stored, rows=cached.num_rows, min_count=min_count, seed=seed)
                return _with_provided(self._keep_twin(path, table, version, min_count, marginals).to_pandas(),
                                      entry, seed)
        try:
            with self._ctx.db.read() as conn:  # refuse before reading any data when the budget cannot pay
                per_twin = twin_budget.budget(conn, dataset_id)["per_twin"]
                twin_budget.check_available(conn, dataset_id, per_twin)
        except BudgetExceeded as error:
            raise self._ctx.audit_refused("catalogue.twin", resource, error) from None
        whole = pq.read_table(data) if place is None else in_place.read_columns(
            self._ctx.vault.root, row, place, [c["name"] for c in entry.record.get("columns", [])])
        made = synthesise(whole, entry.record["columns"], epsilon=per_twin,
                          person_key=entry.record.get("personKey"), complete=_complete(entry.record),
                          min_count=min_count, seed=seed)
        # nothing leaves until the charge is committed; a refusal here (a concurrent twin took the budget)
        # discards what was measured
        with self._ctx.write(audit_refusals_as=("catalogue.twin", resource)) as conn:
            twin_budget.charge(conn, username=self._ctx.actor.username, dataset_id=dataset_id, version=version,
                               epsilon=made.epsilon, columns=[m.summary() for m in made.marginals])
        return _with_provided(self._keep_twin(path, made.table, version, min_count, made.marginals).to_pandas(),
                              entry, seed)

    def _keep_twin(self, path: Path, table: pa.Table, version: str, min_count: int,
                   marginals: builtins.list[Marginal]) -> pa.Table:
        """Store the twin with what it was made from, and the released (noisy) marginals it can be redrawn from."""
        released = json.dumps([dataclasses.asdict(m) for m in marginals])
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), TWIN_VERSION: version.encode(),
                                               TWIN_MIN_COUNT: str(min_count).encode(),
                                               TWIN_MARGINALS: released.encode()})
        self._ctx.vault.write(path, table)
        return table

    def departments(self) -> pd.DataFrame:
        return Departments(self._ctx).list()

    def search(self, text: str = "", *, department: str | None = None, mission: int | None = None,
               theme: str | None = None, security_classification: str | None = None,
               access_rights: str | None = None, limit: int | None = 50, offset: int = 0) -> pd.DataFrame:
        """Ranked free-text search over titles, descriptions, keywords and column names, with filters.

        Returns a DataFrame whose first column is the local dataset id. An empty ``text`` lists every
        entry matching the filters, by title. ``limit`` and ``offset`` select one page of the ranking, so a
        browser never has to receive thousands of entries to show fifty; ``search_page`` also counts them all.
        """
        return self._search(text, department=department, mission=mission, theme=theme,
                            security_classification=security_classification, access_rights=access_rights,
                            limit=limit, offset=offset, count=False)[0]

    def search_page(self, text: str = "", *, department: str | None = None, mission: int | None = None,
                    theme: str | None = None, security_classification: str | None = None,
                    access_rights: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """One page of ``search`` and the number of all matches: ``{"results", "total", "offset", "limit"}``.

        The page and the count are read in one transaction, so "Showing 51–100 of 1,234" is never stale
        against the rows it shows. When nothing matches, ``suggestion`` is the text with misspelt words replaced
        by the nearest words of the catalogue's titles and keywords ("hosptial" → "hospital") if that finds
        something — a "did you mean" — and otherwise None.
        """
        if limit is None:
            raise InvalidInput("limit: a page needs a size; give a whole number from 1 to 10000.", field="limit")
        frame, total, suggested = self._search(text, department=department, mission=mission, theme=theme,
                                               security_classification=security_classification,
                                               access_rights=access_rights, limit=limit, offset=offset, count=True)
        return {"results": frame, "total": total, "offset": offset, "limit": limit, "suggestion": suggested}

    def _search(self, text: str, *, department: str | None, mission: int | None, theme: str | None,
                security_classification: str | None, access_rights: str | None, limit: int | None,
                offset: int, count: bool) -> tuple[pd.DataFrame, int | None, str | None]:
        text = "" if text is None else _query_text(text)
        for name, value in (("department", department), ("theme", theme),
                            ("security_classification", security_classification), ("access_rights", access_rights)):
            check_optional_text(value, name, f"a {name.replace('_', ' ')}", limit=200)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000):
            raise InvalidInput(f"limit: {limit!r} must be a whole number from 1 to 10000, or None.", field="limit")
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"offset: {offset!r} must be a whole number from 0 to {MAX_OFFSET} (the number of "
                               "results to skip; 0 for the first page).", field="offset")
        self._ctx.require("catalogue.read", "catalogue")
        model = schema()
        for name, value, enum in (("security_classification", security_classification,
                                   "SecurityClassificationValues"),
                                  ("access_rights", access_rights, "AccessRightsValues")):
            if value is not None and value not in model.enums[enum]:
                raise InvalidInput(f"{name}: {value!r} is not one of {', '.join(model.enums[enum])}.", field=name)
        if mission is not None and (isinstance(mission, bool) or mission not in (1, 2, 3, 4, 5)):
            raise InvalidInput(f"mission: {mission!r} is not a mission number 1–5.", field="mission")
        dialect = self._ctx.db.dialect
        where: list[str] = []
        params: dict[str, Any] = {"offset": offset}
        total, suggested = None, None
        with self._ctx.db.read() as conn:
            if department is not None:
                params["department"] = Departments(self._ctx).resolve(conn, department)
                where.append("d.department = :department")
            if mission is not None:
                params["mission"] = mission
                where.append("EXISTS (SELECT 1 FROM dataset_missions m WHERE m.dataset_id = d.id "
                             "AND m.mission = :mission)")
            if theme is not None:
                params["theme"] = str(theme)
                params["theme_label"] = str(theme).lower()
                where.append("EXISTS (SELECT 1 FROM dataset_themes t WHERE t.dataset_id = d.id "
                             "AND (t.theme = :theme OR lower(t.label) = :theme_label))")
            if security_classification is not None:
                params["classification"] = security_classification
                where.append("d.security_classification = :classification")
            if access_rights is not None:
                params["access"] = access_rights
                where.append("d.access_rights = :access")
            if limit is not None:
                params["limit"] = limit
            pairs, unknown = prepare(conn, text) if text.strip() else ([], set())
            slots = parse_query(text, pairs)[:MAX_QUERY_WORDS] if text.strip() else []
            if slots:
                query = RankingQuery(dialect, slots, where, params)
                page, counting, run = query.page(dialect, limit is not None), query.count(), query.params
                order = "p.score DESC, p.id"
            elif text.strip():  # only punctuation or common words: nothing to search for, so nothing found
                page, counting, run = "SELECT id, 0.0 AS score FROM datasets WHERE 1 = 0", "SELECT 0", {}
                order = "p.id"
            else:
                page, counting, run = *_listing(dialect, where, limit is not None), params
                order = "lower(d.title), d.id"
            ranked = conn.execute(_with_details(page, order), run).all()  # the page and what it shows, at once
            if count:
                if offset == 0 and (limit is None or len(ranked) < limit):
                    total = len(ranked)  # the whole ranking fits on this page: nothing more to count
                elif ranked and slots:
                    total = ranked[0].total  # counted with the ranking
                else:
                    total = conn.execute(sql(counting), run).scalar_one()
                if offset == 0 and slots and unknown:
                    suggested = self._did_you_mean(conn, text, unknown, pairs, where, params)
        out = []
        for row in ranked:
            record = row.record
            out.append({
                "id": row.id, "title": row.title, "department": row.department, "owner": row.owner,
                "missions": record.get("mission", []),
                "themes": [theme_label(t) for t in record.get("theme", [])],
                "access_rights": row.access_rights, "security_classification": row.security_classification,
                "rows": row.row_count,
                "summary": record.get("summary") or record["description"][:200],
                "score": round(float(row.score), 4),
            })
        frame = pd.DataFrame(out, columns=SEARCH_COLUMNS)
        frame["rows"] = frame["rows"].astype("Int64")
        return frame, total, suggested

    def _did_you_mean(self, conn: Connection, text: str, unknown: set[str], pairs: builtins.list[tuple[str, str]],
                      where: builtins.list[str], params: dict[str, Any]) -> str | None:
        """The text with the ``unknown`` words (held by no entry) replaced by the nearest words of titles and
        keywords, if that finds anything."""
        suggested = suggestion(text, vocabulary(conn, self._ctx.db.url), unknown)
        if suggested is None:
            return None
        slots = parse_query(suggested + " ", pairs)[:MAX_QUERY_WORDS]  # whole words, not prefixes
        if not slots:
            return None
        query = RankingQuery(self._ctx.db.dialect, slots, where, params)
        return suggested if conn.execute(sql(query.count()), query.params).scalar_one() else None

    @property
    def terms(self) -> SearchTerms:
        """The abbreviations and synonyms search expands: ``.list()``, ``.add(term, meaning)``, ``.remove(term)``."""
        return SearchTerms(self._ctx)

    def facets(self) -> dict[str, list[tuple[str, Any, int]]]:
        """What the search filters can take, with how many entries each: ``{filter: [(label, value, count)]}``
        for department, mission, theme, security_classification and access_rights (for filter menus)."""
        self._ctx.require("catalogue.read", "catalogue")
        with self._ctx.db.read() as conn:
            department = conn.execute(
                select(func.coalesce(departments.c.abbreviation, departments.c.slug), departments.c.slug,
                       func.count()).join(datasets, datasets.c.department == departments.c.slug)
                .group_by(departments.c.slug, departments.c.abbreviation).order_by(departments.c.slug)).all()
            mission = conn.execute(select(dataset_missions.c.mission, func.count())
                                   .group_by(dataset_missions.c.mission).order_by(dataset_missions.c.mission)).all()
            theme = conn.execute(select(dataset_themes.c.label, func.count()).group_by(dataset_themes.c.label)
                                 .order_by(dataset_themes.c.label)).all()
            plain = {name: conn.execute(select(column, func.count()).group_by(column).order_by(column)).all()
                     for name, column in (("security_classification", datasets.c.security_classification),
                                          ("access_rights", datasets.c.access_rights))}
        return {"department": [(str(label), slug, n) for label, slug, n in department],
                "mission": [(f"Mission {m}", int(m), n) for m, n in mission],
                "theme": [(str(label), str(label), n) for label, n in theme],
                **{name: [(str(v), str(v), n) for v, n in rows] for name, rows in plain.items()}}

    def coverage(self) -> pd.DataFrame:
        """How many datasets each department holds for each mission (department, mission, datasets)."""
        self._ctx.require("catalogue.read", "catalogue")
        with self._ctx.db.read() as conn:
            rows = conn.execute(
                select(func.coalesce(departments.c.abbreviation, departments.c.slug), dataset_missions.c.mission,
                       func.count())
                .join(datasets, datasets.c.id == dataset_missions.c.dataset_id)
                .join(departments, departments.c.slug == datasets.c.department)
                .group_by(departments.c.slug, departments.c.abbreviation, dataset_missions.c.mission)).all()
        return pd.DataFrame([(str(d), int(m), int(n)) for d, m, n in rows],
                            columns=["department", "mission", "datasets"]).sort_values(["department", "mission"],
                                                                                       ignore_index=True)

    def list(self) -> pd.DataFrame:
        """Every entry, by title."""
        return self.search("", limit=None)

    # ----- writing -------------------------------------------------------------------------------------
    def infer_columns(self, frame: pd.DataFrame) -> builtins.list[dict[str, Any]]:
        """A starting schema for ``frame`` (type from dtype; role 'record_identifier' for a column named like an id
        that differs on every row, else 'other'): set the roles before registering."""
        return infer_columns(frame)

    def draft(self, data: pd.DataFrame | Source | str | Path) -> str:
        """A UK-model YAML skeleton of an entry for ``data`` (as ``register`` takes it), for its owner to complete:
        columns with types, categories, suggested roles and coverage from the data; ``<TO COMPLETE: ...>`` where
        only the owner knows, which ``register`` refuses until replaced. For admins and data owners."""
        self._ctx.require("catalogue.register", "catalogue", owner=self._ctx.actor.username)
        if isinstance(data, pd.DataFrame):
            return draft(data)
        if self._ctx.service:
            raise InvalidInput("data: the workbench service reads no file or database named by a kernel; draft "
                               "from a DataFrame, or with `workbench catalogue draft --data SOURCE` on the machine "
                               "that runs the workbench.", field="data")
        return draft(source_of(data))

    def register(self, record: dict[str, Any], data: pd.DataFrame | Source | str | Path | None = None, *,
                 dataset_id: str | None = None, mode: str = "copy") -> Entry:
        """Register (or update, by identifier) one dataset entry, optionally with its data.

        ``data`` is a DataFrame, the path of a CSV file, a Parquet file or a folder of Parquet files, or a
        ``Source.database(url, table=...)`` / ``Source.database(url, query="SELECT ...")``. With data, the schema
        must describe every column and the row count and completeness are computed from the data, which is copied
        into the vault (streamed, so it need not fit in memory). A column with role 'other' that looks like a
        record key is registered as given, with a warning in the entry's ``warnings``.

        ``mode="in-place"`` (a file, folder or database, not a DataFrame) checks and measures the data the same way
        but copies nothing: the workbench keeps only where it is (a database's login in the workspace's protected
        credentials, never shown) and reads it at each load, with the columns and filter pushed down
        (``catalogue.in_place``).
        """
        if mode != "copy" or (data is not None and not isinstance(data, pd.DataFrame)):
            return self._register_source(record, data, dataset_id, mode)
        record = self._prepare(validate(refuse_placeholders(record), "Dataset", source="the entry"), dataset_id)
        if data is None:
            with self._ctx.write() as conn:
                self._write_dataset(conn, record, None)
        else:
            checked = check_data(record.get("columns"), data)
            path = self._ctx.vault.dataset_path(record["localId"])
            with self._ctx.vault.staged(path, checked.table) as staged:
                self._commit_data(record, staged, (checked.row_count, checked.completeness))
        if data is not None:
            in_place.drop_credentials(self._ctx.vault.root, record["localId"])  # copied now: no longer in place
        self._index(record["localId"], data_given=data is not None)
        return self.get(record["localId"])

    def _register_source(self, record: dict[str, Any], data: object, dataset_id: str | None,
                         mode: object = "copy") -> Entry:
        """Register with data read from a file or a database: asked of the policy before anything is read, copied
        into a temporary file in the vault, moved into place once the entry is committed; every refusal audited."""
        resource = "catalogue"
        try:
            if in_place.check_mode(mode) == "in-place":
                return self._register_in_place(record, data, dataset_id)
            record = self._prepare(validate(refuse_placeholders(record), "Dataset", source="the entry"), dataset_id)
            resource = f"dataset {record['localId']}"
            if self._ctx.service:
                raise InvalidInput("data: the workbench service reads no file or database named by a kernel; send "
                                   "the data as a DataFrame, or register it with `workbench catalogue register "
                                   "ENTRY.yaml --data SOURCE` on the machine that runs the workbench.", field="data")
            self._may_write(record, resource)
            source = self._outside_vault(source_of(data))
            path = self._ctx.vault.dataset_path(record["localId"])
            with self._ctx.vault.staging(path) as staged:
                copied = copy_to(source, record.get("columns"), staged)
                self._commit_data(record, staged, (copied.row_count, copied.completeness), source=str(source))
        except WorkbenchError as error:
            if not error.audited:
                self._ctx.audit_refused("catalogue.register", resource, error)
            raise
        in_place.drop_credentials(self._ctx.vault.root, record["localId"])  # copied now: no longer read in place
        self._index(record["localId"], data_given=True)
        return self.get(record["localId"])

    def _commit_data(self, record: dict[str, Any], staged: Path, computed: tuple[int, dict[str, float]],
                     source: str | None = None, *, marker: str | None = None, mode: str = "copy") -> int:
        """Write the entry and its data's new version in one transaction; then keep the staged file as that
        version's, before the caller's staging block moves it into place as the current file. A failure before
        the commit leaves the previous version current and its file untouched. ``marker`` (data read in place)
        stands for the stored file's checksum."""
        dataset_id = record["localId"]
        checksum = versions.file_sha256(staged) if marker is None else None
        with self._ctx.write() as conn:
            previous = versions.current(conn, dataset_id)
            self._write_dataset(conn, record, computed, source=source, version=(previous or 0) + 1)
            versions.keep_previous(self._ctx.vault, dataset_id, previous)
            number = versions.record_version(conn, dataset_id, username=self._ctx.actor.username, rows=computed[0],
                                             checksum=checksum, marker=marker, mode=mode)
        if marker is None:
            versions.keep_new(self._ctx.vault, dataset_id, staged, number)
        return number

    # ----- in place (``catalogue.in_place``) ------------------------------------------------------------------
    def _register_in_place(self, record: dict[str, Any], data: object, dataset_id: str | None) -> Entry:
        """Register a file, folder or database whose data stays where it is: checked and measured by streaming it,
        then only where it is recorded (a database URL in the vault's credentials file, moved into place once the
        entry is committed). A copy of earlier data in the vault is removed after. Refusals audited by the caller."""
        if data is None or isinstance(data, pd.DataFrame):
            raise InvalidInput("data: mode='in-place' reads the data where it is, so give a CSV or Parquet path or a "
                               "Source.database(url, table=...) (a DataFrame or no data is registered with "
                               "mode='copy').", field="data")
        record = self._prepare(validate(refuse_placeholders(record), "Dataset", source="the entry"), dataset_id)
        if self._ctx.service:
            raise InvalidInput("data: the workbench service reads no file or database named by a kernel; register it "
                               "with `workbench catalogue register ENTRY.yaml --data SOURCE --mode in-place` on the "
                               "machine that runs the workbench.", field="data")
        self._may_write(record, f"dataset {record['localId']}")
        source = self._outside_vault(source_of(data))
        self._ctx.vault.ensure()
        measured = in_place.measure(source, record.get("columns"), self._ctx.vault.root / "datasets")
        dataset = record["localId"]
        now = datetime.now(UTC)
        with in_place.staged_credentials(self._ctx.vault.root, dataset, source), self._ctx.write() as conn:
            previous = versions.current(conn, dataset)
            self._write_dataset(conn, record, (measured.row_count, measured.completeness), source=str(source),
                                read_in_place=True, version=(previous or 0) + 1)
            in_place.keep(conn, dataset, source, self._ctx.actor.username, now)
            versions.keep_previous(self._ctx.vault, dataset, previous)  # an earlier copy stays loadable when pinned
            versions.record_version(conn, dataset, username=self._ctx.actor.username, rows=measured.row_count,
                                    marker=_in_place_marker(source, now), mode="in-place", at=now)
        self._ctx.vault.dataset_path(dataset).unlink(missing_ok=True)  # an earlier copy is not read any more
        self._index(dataset, data_given=True)  # linked by content key: a source has no stable rows
        return self.get(dataset)

    def _outside_vault(self, source: Source) -> Source:
        """Refuse a file or folder inside the vault: what the workbench already holds is governed data (another
        dataset's file, a project's frames, a source's login), never a new source, copied or in place."""
        if source.path is not None:
            vault = self._ctx.vault.root.resolve()
            if source.path == vault or vault in source.path.parents:
                raise InvalidInput("data: that file is inside the workbench's vault, where it keeps governed data; "
                                   "register the data from where its owner keeps it.", field="data")
        return source

    def _may_write(self, record: dict[str, Any], resource: str) -> None:
        """Ask the policy, before any data is read, whether the actor may register (or update) this entry; the
        write asks again, in its transaction."""
        with self._ctx.db.read() as conn:
            existing = conn.execute(select(datasets.c.owner).where(datasets.c.id == record["localId"])).first()
        owner = record.get("dataOwner") or (existing.owner if existing else None)
        if owner is None and self._ctx.actor.has("data_owner"):
            owner = self._ctx.actor.username
        if existing is None:
            self._ctx.require("catalogue.register", resource, owner=owner)
        else:
            self._ctx.require("catalogue.update", resource, owner=owner, current_owner=existing.owner)

    def _index(self, dataset_id: str, *, data_given: bool) -> None:
        """Link a person-level dataset to the person index once its data is in place: always after new data;
        after a metadata-only change only when its identifying columns changed (then from scratch). The
        registration is committed first: if linking fails, the previous index stays and ``refresh()`` retries."""
        if linking_deferred():
            return
        index = PersonIndex(self._ctx, self._truth)
        if data_given or index.fields_changed(dataset_id):
            index.link_registered(dataset_id)

    def import_text(self, text: str, *, format: str = "yaml", source: str = "input",
                    kind: str | None = None, dataset_id: str | None = None) -> builtins.list[dict[str, str]]:
        """Import YAML (UK metadata model) or DCAT JSON-LD text; all records or none.

        One result per record (kind, id, identifier, action); a dataset's result also lists ``warnings``, e.g. a
        column with role 'other' that looks like a record key.
        """
        if not isinstance(text, str):
            raise InvalidInput(f"text: give the records as YAML or JSON-LD text, not {type(text).__name__}.",
                               field="text")
        for name, value in (("format", format), ("source", source), ("kind", kind), ("dataset_id", dataset_id)):
            check_optional_text(value, name, f"a {name}", limit=500)
        if format in ("jsonld", "json-ld", "json"):
            if kind not in (None, "Dataset", "Distribution"):
                raise InvalidInput(f"kind: JSON-LD holds datasets and distributions, not {kind!r}.",
                                   field="kind")
            datasets, distributions = from_jsonld(text, source=source)
            docs = [("Dataset", r) for r in datasets] + [("Distribution", r) for r in distributions]
        elif format == "yaml":
            parsed = _parse_yaml(text, source)
            docs = []
            for i, doc in enumerate(parsed):
                label = source if len(parsed) == 1 else f"{source} record {i + 1}"
                doc_kind = kind or detect_kind(doc, label)
                docs.append((doc_kind, validate(refuse_placeholders(doc, label), doc_kind, source=label)))
        else:
            raise InvalidInput(f"format: {format!r} is not supported; use 'yaml' or 'jsonld'.", field="format")
        if dataset_id is not None and sum(k == "Dataset" for k, _ in docs) != 1:
            raise InvalidInput("dataset_id: only a file holding exactly one dataset can be given an id.",
                               field="dataset_id")
        prepared = [(k, self._prepare(doc, dataset_id) if k == "Dataset" else doc) for k, doc in docs]
        results = []
        with self._ctx.write() as conn:
            for k, doc in prepared:
                if k == "Dataset":
                    results.append(self._write_dataset(conn, doc, None))
                elif k == "Distribution":
                    results.append(self._write_distribution(conn, doc))
                else:
                    results.append(self._write_contact_point(conn, doc))
        for k, doc in prepared:
            if k == "Dataset":
                self._index(doc["localId"], data_given=False)
        if sum(k == "Dataset" for k, _ in prepared) >= BULK_IMPORT:
            refresh_statistics(self._ctx.db)
        return results

    def import_file(self, path: str | Path, *, kind: str | None = None,
                    dataset_id: str | None = None) -> builtins.list[dict[str, str]]:
        """Import a ``.yaml``/``.yml`` file in the UK model or a ``.jsonld``/``.json`` DCAT file."""
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"No file {str(path)!r} to import.")
        fmt = "jsonld" if path.suffix.lower() in (".jsonld", ".json") else "yaml"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Cannot read {path}: {exc}.", field="path") from None
        return self.import_text(text, format=fmt, source=path.name, kind=kind, dataset_id=dataset_id)

    def export(self, dataset_id: str | None = None) -> str:
        """DCAT 3 JSON-LD of one entry, or of the whole catalogue with its distributions."""
        if dataset_id is not None:
            check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("catalogue.export", f"dataset {dataset_id}" if dataset_id else "catalogue")
        with self._ctx.db.read() as conn:
            query = select(datasets.c.record).order_by(datasets.c.id)
            if dataset_id is not None:
                query = query.where(datasets.c.id == dataset_id)
            records = list(conn.execute(query).scalars())
            if dataset_id is not None and not records:
                raise NotFound(f"No dataset {dataset_id!r} in the catalogue.")
            wanted = {uri for r in records for uri in r.get("distribution", [])}
            dists = [d for d in conn.execute(select(distributions.c.record).order_by(distributions.c.identifier))
                     .scalars() if dataset_id is None or d["identifier"] in wanted]
        return to_jsonld(records, dists)

    # ----- internals -----------------------------------------------------------------------------------
    def _prepare(self, record: dict[str, Any], dataset_id: str | None) -> dict[str, Any]:
        """Settle the local id (given, in the record, or from the URI) before anything is written."""
        record = dict(record)
        if dataset_id is not None:
            check_dataset_id(dataset_id, "dataset_id")
            if record.get("localId") not in (None, dataset_id):
                raise InvalidInput(f"dataset_id: {dataset_id!r} differs from the record's localId "
                                   f"{record['localId']!r}; give one or the other.", field="dataset_id")
            record["localId"] = dataset_id
        record.setdefault("localId", slug_from_uri(record["identifier"]))
        record.setdefault("department", record["publisher"])
        return record

    def _write_dataset(self, conn: Connection, record: dict[str, Any],
                       computed: tuple[int, dict[str, float]] | None, source: str | None = None, *,
                       read_in_place: bool = False, version: int | None = None) -> dict[str, str]:
        ctx = self._ctx
        dataset_id = record["localId"]
        existing = conn.execute(select(datasets.c.id, datasets.c.owner, datasets.c.has_data, datasets.c.record)
                                .where(datasets.c.id == dataset_id)).first()
        clash = conn.execute(select(datasets.c.id).where(datasets.c.identifier == record["identifier"])).scalar()
        if clash is not None and clash != dataset_id:
            raise Conflict(f"The identifier {record['identifier']!r} is already catalogued as {clash!r}; "
                           f"import it as {clash!r} (or give it a different identifier).")
        owner = record.get("dataOwner") or (existing.owner if existing else None)
        if owner is None and ctx.actor.has("data_owner"):
            owner = ctx.actor.username
        if existing is None:
            ctx.check("catalogue.register", f"dataset {dataset_id}", owner=owner)
        else:
            ctx.check("catalogue.update", f"dataset {dataset_id}", owner=owner, current_owner=existing.owner)
        if owner is not None:
            holder = actor_for(conn, owner)
            if not holder.registered:
                raise InvalidInput(f"dataOwner: {owner!r} is not registered in this workspace; add them first.",
                                   field="dataOwner")
            if not holder.has("data_owner", "admin"):
                raise InvalidInput(f"dataOwner: {owner!r} is not a data owner (their roles: "
                                   f"{', '.join(sorted(holder.roles)) or 'none'}).", field="dataOwner")
            record["dataOwner"] = owner
        gateways = record.get("legalGateway", [])
        known = set(conn.execute(select(legal_gateways.c.code)).scalars())
        if set(gateways) - known:
            raise InvalidInput(f"legalGateway: unknown gateway(s) {', '.join(sorted(set(gateways) - known))}; "
                               f"known: {', '.join(sorted(known))}.", field="legalGateway")
        if computed is not None:
            record["rowCount"], record["completeness"] = computed
        elif existing is not None and existing.has_data:
            for key in ("rowCount", "completeness"):  # computed from the stored data, not declared
                if key in existing.record:
                    record[key] = existing.record[key]
        if record.get("completeness") and record.get("columns"):
            names = {c["name"] for c in record["columns"]}
            record["completeness"] = {k: v for k, v in record["completeness"].items() if k in names}
        record = validate(record, "Dataset", source=f"dataset {dataset_id}")
        Departments.ensure(conn, record["department"])
        now = datetime.now(UTC)
        values = {
            "identifier": record["identifier"], "title": record["title"], "summary": record.get("summary"),
            "description": record["description"], "keywords_text": " ".join(record.get("keyword", [])),
            "columns_text": " ".join(f"{c['name'].replace('_', ' ')} {c.get('description', '')}"
                                     for c in record.get("columns", [])),
            "department": record["department"], "owner": record.get("dataOwner"),
            "security_classification": record["securityClassification"],
            "access_rights": record["accessRights"], "update_frequency": record["updateFrequency"],
            "modified": date.fromisoformat(record["modified"]), "row_count": record.get("rowCount"),
            # 1: copied into the vault; 2: read in place; kept as it was by a change of metadata only
            "has_data": (in_place.IN_PLACE if read_in_place else 1) if computed is not None
            else int(existing.has_data if existing else 0),
            "record": record, "updated_at": now,
        }
        if existing is None:
            conn.execute(insert(datasets).values(id=dataset_id, registered_by=ctx.actor.username,
                                                 registered_at=now, **values))
        else:
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**values))
            conn.execute(delete(dataset_missions).where(dataset_missions.c.dataset_id == dataset_id))
            conn.execute(delete(dataset_themes).where(dataset_themes.c.dataset_id == dataset_id))
        if record.get("mission"):
            conn.execute(insert(dataset_missions), [{"dataset_id": dataset_id, "mission": m}
                                                    for m in record["mission"]])
        if record.get("theme"):
            conn.execute(insert(dataset_themes), [{"dataset_id": dataset_id, "theme": t, "label": theme_label(t)}
                                                  for t in record["theme"]])
        index_entry(conn, dataset_id, record)
        if computed is not None and not read_in_place:
            in_place.forget(conn, dataset_id)  # copied data replaces an in-place source
        action = "created" if existing is None else "updated"
        # with new data the entry is read back after the data is in place; otherwise the data (if any) is as it was
        warnings = [] if computed is not None else self._warnings(record, bool(existing and existing.has_data))
        audit.append(conn, ctx.actor.username, f"catalogue.{'register' if existing is None else 'update'}",
                     f"dataset {dataset_id}",
                     detail={"identifier": record["identifier"], "owner": record.get("dataOwner"),
                             "rows": record.get("rowCount"), "data": computed is not None,
                             **({"mode": "in-place"} if read_in_place else {}),
                             **({"source": source} if source else {}),
                             **({"version": version} if version else {})})
        return {"kind": "Dataset", "id": dataset_id, "identifier": record["identifier"], "action": action,
                "warnings": warnings}

    def _write_distribution(self, conn: Connection, record: dict[str, Any]) -> dict[str, str]:
        t = distributions
        exists = conn.execute(select(t.c.identifier, t.c.registered_by)
                              .where(t.c.identifier == record["identifier"])).first()
        self._ctx.check("catalogue.register_reference", f"distribution {record['identifier']}",
                        registered_by=exists.registered_by if exists else None)
        values = {"title": record["title"], "media_type": record["mediaType"], "record": record}
        if exists:
            conn.execute(update(t).where(t.c.identifier == record["identifier"]).values(**values))
        else:
            conn.execute(insert(t).values(identifier=record["identifier"], registered_by=self._ctx.actor.username,
                                          registered_at=datetime.now(UTC), **values))
        audit.append(conn, self._ctx.actor.username, "catalogue.distribution",
                     f"distribution {record['identifier']}", detail={"media_type": record["mediaType"]})
        return {"kind": "Distribution", "id": record["identifier"], "identifier": record["identifier"],
                "action": "updated" if exists else "created"}

    def _write_contact_point(self, conn: Connection, record: dict[str, Any]) -> dict[str, str]:
        t = contact_points
        # one mailbox is one contact point, however its address is spelt (case, surrounding spaces)
        exists = conn.execute(select(t.c.email, t.c.registered_by).where(
            func.lower(func.trim(t.c.email)) == record["email"].strip().lower())).first()
        self._ctx.check("catalogue.register_reference", f"contact point {record['email']}",
                        registered_by=exists.registered_by if exists else None)
        if exists:
            conn.execute(update(t).where(t.c.email == exists.email).values(name=record["contactName"],
                                                                             record=record))
        else:
            conn.execute(insert(t).values(email=record["email"], name=record["contactName"], record=record,
                                          registered_by=self._ctx.actor.username, registered_at=datetime.now(UTC)))
        audit.append(conn, self._ctx.actor.username, "catalogue.contact_point", f"contact point {record['email']}")
        return {"kind": "ContactPoint", "id": record["email"], "identifier": record["email"],
                "action": "updated" if exists else "created"}


# what a cached twin file says of itself (Parquet schema metadata)
TWIN_VERSION = b"workbench.twin"
TWIN_MIN_COUNT = b"workbench.twin.min_count"
TWIN_MARGINALS = b"workbench.twin.marginals"


def _with_provided(twin: pd.DataFrame, entry: Entry, seed: int) -> pd.DataFrame:
    """The twin with the columns the workbench provides (``person_id``) made up, so code written on the twin runs
    on the granted data: random ids, nothing drawn from the index or the data."""
    for column in entry.provided:
        twin[column["name"]] = pd.arrays.ArrowStringArray(person_ids.made_up(len(twin), seed))
    return twin


def _twin_facts(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """What the entry says of the dataset's synthetic twin: the last one's ε and when it was made, and the budget."""
    made = twin_budget.latest(conn, dataset_id)
    if made is None:
        return None
    budget = twin_budget.budget(conn, dataset_id)
    at = made["made_at"]
    return {"epsilon": made["epsilon"], "made_at": (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(),
            "budget": budget["epsilon"], "spent": budget["spent"], "twins": budget["twins"]}


def _complete(record: dict[str, Any]) -> frozenset[str]:
    """Columns the entry shows as never missing (completeness 1, public in the catalogue)."""
    return frozenset(name for name, share in (record.get("completeness") or {}).items() if share >= 1.0)


def _in_place_marker(source: Source, now: datetime) -> str:
    """A version of data read in place, without reading it: when it was registered, which source (no login), and
    for files the sizes and modification times of the files read then (a database has no cheap equivalent)."""
    where = hashlib.sha256(json.dumps(in_place.row_values(source), sort_keys=True).encode()).hexdigest()[:16]
    marker = f"registered {now.isoformat(timespec='seconds')}; source {where}"
    path = source.path
    if path is not None and path.exists():
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        stamp = ";".join(f"{f.relative_to(path) if f != path else f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                         for f in files)
        marker += f"; {len(files)} file(s) {hashlib.sha256(stamp.encode()).hexdigest()[:16]}"
    return marker


def _twin_version(data: Path, record: dict[str, Any]) -> str:
    """What a twin is made from: the stored data's version and the schema (roles, categories, bounds, person key).
    Any change makes a new twin, charged again."""
    schema_text = json.dumps([record.get("columns", []), record.get("personKey")], sort_keys=True, default=str)
    return f"{data.stat().st_mtime_ns}:{data.stat().st_size}:{zlib.crc32(schema_text.encode()):08x}"


def _in_place_twin_version(place: in_place.InPlace, record: dict[str, Any]) -> str:
    """A twin's version for data read in place: the source's identity, the figures measured when it was last
    registered and the schema (a database has no file whose change could be seen)."""
    measured = json.dumps([record.get("rowCount"), record.get("completeness"), record.get("columns", []),
                           record.get("personKey")], sort_keys=True, default=str)
    return f"in-place:{place.marker()[:16]}:{zlib.crc32(measured.encode()):08x}"


_UNIQUE_CACHE: dict[tuple[str, int, int, tuple[str, ...]], frozenset[str]] = {}


def _unique_in_file(path: Path, candidates: list[str]) -> set[str]:
    """Which candidate columns of a stored dataset differ on every row; a candidate the file does not hold (the
    schema was changed without new data) counts as unique, so its name alone warns. Kept per file version."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, tuple(candidates))
    if key not in _UNIQUE_CACHE:
        held = [c for c in candidates if c in pq.read_schema(path).names]
        unique = unique_per_row(pq.read_table(path, columns=held), held) if held else set()
        if len(_UNIQUE_CACHE) > 256:
            _UNIQUE_CACHE.clear()
        _UNIQUE_CACHE[key] = frozenset(unique | (set(candidates) - set(held)))
    return set(_UNIQUE_CACHE[key])


def read_entry(path: str | Path) -> dict[str, Any]:
    """The one dataset entry a YAML file holds, as a record for ``Catalogue.register`` (checked there)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"There is no entry file {str(path)!r}.", field="entry") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read the entry file {str(path)!r}: {exc}.", field="entry") from None
    return entry_from_text(text, path.name)


def entry_from_text(text: str, source: str = "the entry") -> dict[str, Any]:
    """The one dataset entry YAML (or JSON) ``text`` holds, as a record for ``Catalogue.register`` (checked there)."""
    docs = _parse_yaml(text, source)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InvalidInput(f"{source} must hold exactly one dataset entry (a mapping); it holds {len(docs)} "
                           "documents. `workbench catalogue import` takes files of several records.", field="entry")
    return docs[0]


def _parse_yaml(text: str, source: str) -> list[Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{source} is not valid YAML{at}: {problem}. Nothing was imported.",
                           field="yaml") from None
    if not docs:
        raise InvalidInput(f"{source} holds no records; nothing was imported.", field="yaml")
    return docs


__all__ = ["KINDS", "Catalogue", "MetadataInvalid", "Source", "infer_columns"]
