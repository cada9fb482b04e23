"""The person index service (``ws.person_index``): links the catalogue's person-level datasets into one set of
persons, each with a random ``index_id``, so that projects join granted datasets on a project-keyed person id
without running linkage themselves.

Who sees what:

- admins and linkers build and refresh the index and read its status and clerical review pairs;
- a dataset's owner, its delegates, admins and linkers read its quality record (counts, match rate, estimated and
  measured precision and recall, warnings): numbers only, never an identifying value or an index id;
- nobody else, and nothing here is reachable from a kernel: the index and its identifying fields stay in the
  vault's restricted area (``workbench.person_index.store``).

A dataset is *person-level* when it declares a ``personKey`` or has a column of role ``direct_identifier``; it is
*linkable* when at least two of the index's fields (given name, surname, date of birth, sex, postcode, NHS number,
National Insurance number) can be read from its columns by name, one of them more than sex. Registering a
person-level dataset with data links it (synchronously); one that is not linkable gets a warning in its quality
record, and building the index for it by name is refused.

An update compares only records that are new or changed: each record's fingerprint is a keyed hash of its record
key and normalised identifying fields, and a record whose fingerprint is unchanged keeps its ``index_id``. A
changed schema (another set of identifying fields) changes every fingerprint, so the dataset is linked again from
scratch. Changed records are linked to the index's persons and deduplicated among themselves with the workbench's
linkage engine (``workbench.linkage.link.link``); records that match nobody become new persons. One update is one
``store.commit`` and one database transaction holding its record and audit event: a failure leaves the previous
index and no record.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jellyfish
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import func, insert, select

from workbench import audit
from workbench.db.schema import datasets, person_index_updates
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.governance.conditions import dataset_row
from workbench.ids import check_dataset_id
from workbench.linkage.link import link
from workbench.linkage.spec import Field, LinkageSpec, default_blocking, infer_spec
from workbench.linkage.standardise import clean_date, clean_postcode, clean_text, postcode_parts
from workbench.person_index import engine as engines
from workbench.person_index import store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.linkage.result import LinkageResult
    from workbench.linkage.truth import TruthSource

# the index's identifying fields (name → linkage kind), as the linkage engine's ``infer_spec`` names them
INDEX_FIELDS: dict[str, str] = {"given_name": "given_name", "surname": "surname", "dob": "date", "sex": "exact",
                                "postcode": "postcode", "nhs_number": "identifier", "nino": "identifier"}
IDENTITY_FIELDS = ("nhs_number", "nino")  # two records of one person never carry two different values
REVIEW_BAND = (0.2, 0.9)  # a best candidate pair with a match probability in this band goes to clerical review
# a link is never accepted below match probability 0.5: with no true matches among the candidates (records of
# different people only) the model's own threshold can fall far below it
MIN_WEIGHT = 0.0
NEAR_RATIO = 4  # link to the persons near the records only when the index has this many times more persons
REVIEW_KEPT = 10_000  # review pairs held per dataset (the count is always complete)
PERSON_ROLES = ("direct_identifier",)
UPDATE_COLUMNS = ["id", "dataset_id", "version", "fields", "relinked", "counts", "quality", "warnings",
                  "updated_by", "updated_at"]
_ABSENT = "\x00"  # a field the dataset does not hold, in fingerprints
_KEEP = pd.DataFrame({"keep": []})  # review pairs: keep those of the last comparison


_DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar("person_index_deferred", default=False)


@contextlib.contextmanager
def deferred_linking() -> Iterator[None]:
    """Registrations inside leave linking to one ``build()`` after them (a bulk load, such as the demo's): each
    registration's update otherwise reads and rewrites the whole index."""
    token = _DEFERRED.set(True)
    try:
        yield
    finally:
        _DEFERRED.reset(token)


def linking_deferred() -> bool:
    return _DEFERRED.get()


def new_index_ids(count: int, taken: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """``count`` fresh index ids: "wbp_" and 16 random hex digits from the operating system's generator, so an id
    says nothing about the person, the order they were indexed in or how many there are."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < count:
        need = count - len(out)
        raw = os.urandom(8 * need).hex()
        for i in range(need):
            candidate = "wbp_" + raw[16 * i:16 * i + 16]
            if candidate not in seen:
                seen.add(candidate)
                out.append(candidate)
    return out


def is_person_level(record: dict[str, Any]) -> bool:
    """A dataset about people: it declares a person key or holds a direct identifier."""
    return bool(record.get("personKey")) or any(c.get("role") in PERSON_ROLES for c in record.get("columns", []))


def linkable_fields(record: dict[str, Any]) -> dict[str, str]:
    """Index field → the dataset's column holding it, read from column names (as the linkage engine reads them);
    empty when fewer than two usable fields (or only sex and one other) are present."""
    names = [c["name"] for c in record.get("columns", []) if c.get("role") != "record_identifier"]
    try:
        spec = infer_spec(pd.DataFrame(columns=names))
    except InvalidInput:
        return {}
    found = {f.name: f.left for f in spec.fields if f.name in INDEX_FIELDS}
    if len(found) < 2 or len(set(found) - {"sex"}) < 2:
        return {}
    return {name: found[name] for name in INDEX_FIELDS if name in found}


def record_key(record: dict[str, Any]) -> str | None:
    """The column naming each record (the first of role record_identifier), or None (records are their row)."""
    return next((c["name"] for c in record.get("columns", []) if c.get("role") == "record_identifier"), None)


def _clean_identifier(value: object) -> str | None:
    return re.sub(r"[^0-9A-Za-z]", "", str(value)).upper() or None


def _cleaner(kind: str) -> Any:
    if kind == "date":
        return clean_date
    if kind == "postcode":
        return lambda v: clean_postcode(str(v)) or None
    if kind == "identifier":
        return _clean_identifier
    if kind == "exact":
        return lambda v: clean_text(str(v)).upper() or None
    return lambda v: clean_text(str(v)) or None


def normalise(frame: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """The index fields of ``frame`` (index field → column), normalised once per distinct value; missing values
    are None."""
    out = {}
    for name, column in fields.items():
        values = frame[column]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        clean = _cleaner(INDEX_FIELDS[name])
        cleaned = np.array([clean(v) for v in uniques] + [None], dtype=object)
        out[name] = cleaned[codes]  # code -1 (missing) takes the last entry, None
    return pd.DataFrame(out, index=frame.index)


def fingerprints(normalised: pd.DataFrame, keys: pd.Series, secret: bytes) -> np.ndarray:
    """A keyed hash per record of its record key and every index field (absent fields marked), as hex text: equal
    exactly when the record and its identifying fields are unchanged, and meaningless without the workspace key."""
    hash_key = hmac.new(secret, b"workbench.person_index.fingerprint", hashlib.sha256).hexdigest()[:16]
    parts = {"_key": keys.astype(str).to_numpy()}
    for name in INDEX_FIELDS:
        parts[name] = (normalised[name].to_numpy() if name in normalised else
                       np.full(len(normalised), _ABSENT, dtype=object))
    frame = pd.DataFrame(parts).fillna(_ABSENT).astype(str)
    hashed = pd.util.hash_pandas_object(frame, index=False, hash_key=hash_key).to_numpy(np.uint64)
    return np.char.mod("%016x", hashed.astype(np.uint64)) if len(hashed) else np.empty(0, dtype="<U16")


def _spec(fields: list[str], one_to_one: bool) -> LinkageSpec:
    compared = tuple(Field(name=f, kind=INDEX_FIELDS[f], left=f, right=f, tf=f in ("given_name", "surname"))
                     for f in fields)
    return LinkageSpec(fields=compared, blocking=default_blocking(compared), one_to_one=one_to_one)


def _usable(left: pd.DataFrame, right: pd.DataFrame) -> list[str]:
    """Fields held (somewhere) on both sides: a field missing everywhere on one side cannot be compared."""
    return [f for f in INDEX_FIELDS if f in left and f in right and left[f].notna().any() and right[f].notna().any()]


@dataclass
class _Stage:
    """One linkage step's pairs: expected true and false positives and false negatives, and the review band."""

    expected_tp: float = 0.0
    expected_fp: float = 0.0
    expected_fn: float = 0.0
    review: pd.DataFrame | None = None

    def add(self, result: LinkageResult, accepted: np.ndarray, kind: str, left_rows: np.ndarray,
            right_ids: np.ndarray) -> None:
        p = result.probability
        self.expected_tp += float(p[accepted].sum())
        self.expected_fp += float((1 - p[accepted]).sum())
        self.expected_fn += float(p[~accepted].sum())
        band = (p >= REVIEW_BAND[0]) & (p < REVIEW_BAND[1])
        if band.any():
            frame = pd.DataFrame({"kind": kind, "row": left_rows[result.li[band]],
                                  "candidate": right_ids[result.ri[band]].astype(str),
                                  "match_weight": result.weight[band], "match_probability": p[band],
                                  "accepted": accepted[band]})
            self.review = frame if self.review is None else pd.concat([self.review, frame], ignore_index=True)


@dataclass
class _Linked:
    """One dataset linked: its members, the persons after it, its update record."""

    members: pd.DataFrame
    persons: pd.DataFrame
    fields: dict[str, str]
    relinked: bool
    counts: dict[str, int]
    quality: dict[str, Any]
    warnings: list[str]
    review: pd.DataFrame | None
    path: Path


class PersonIndex:
    """The workspace's person index: ``ws.person_index.build()``, ``.refresh()``, ``.status()``,
    ``.quality(dataset_id)``, ``.review_pairs(dataset_id)``."""

    def __init__(self, ctx: Context, truth: TruthSource | None = None) -> None:
        self._ctx = ctx
        self._truth = truth
        self._engine = engines.IndexEngine()  # the workspace's, read at each update

    # -- reading ----------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Persons, datasets indexed, the live version and when it was made (admins and linkers)."""
        self._ctx.require("index.read", "the person index")
        root = self._ctx.vault.root
        folder = store.current(root)
        persons = 0 if folder is None else pq.read_metadata(folder / "persons.parquet").num_rows
        indexed = [] if folder is None else sorted(p.stem for p in (folder / "members").glob("*.parquet"))
        with self._ctx.db.read() as conn:
            last = conn.execute(select(person_index_updates.c.version, person_index_updates.c.updated_at)
                                .order_by(person_index_updates.c.id.desc()).limit(1)).first()
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "index.read", "the person index",
                         detail={"persons": persons, "datasets": len(indexed)})
        return {"persons": persons, "datasets": indexed, "version": None if folder is None else folder.name,
                "built_at": None if last is None or folder is None else _iso(last.updated_at),
                **engines.configured(self._ctx.home).describe()}

    def quality(self, dataset_id: str) -> dict[str, Any]:
        """The dataset's index coverage and quality: the latest update's counts, match rate, estimated (from the
        model's match probabilities) and measured (against truth, where there is any) precision and recall, the
        clerical review count and warnings. Its owner, delegates, admins and linkers."""
        resource = f"person-index quality of dataset {dataset_id}"
        try:
            with self._ctx.db.read() as conn:
                dataset = dataset_row(conn, dataset_id)
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("index.quality", resource, error) from None
        self._ctx.require("index.quality", resource, owner=dataset["owner"], delegates=dataset["delegates"])
        with self._ctx.db.read() as conn:
            latest = latest_quality(conn, dataset_id)
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "index.quality", resource)
        if latest is None:
            return {"dataset_id": dataset_id, "indexed": False, "person_level": is_person_level(dataset["record"]),
                    "warnings": [] if not is_person_level(dataset["record"]) else
                    ["not yet linked to the person index; an admin or linker runs ws.person_index.build()"]}
        return latest

    def updates(self, dataset_id: str | None = None) -> pd.DataFrame:
        """Every update of the index (one dataset's, or all), oldest first (admins and linkers)."""
        if dataset_id is not None:
            check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("index.read", "the person index updates")
        query = select(person_index_updates).order_by(person_index_updates.c.id)
        if dataset_id is not None:
            query = query.where(person_index_updates.c.dataset_id == dataset_id)
        with self._ctx.db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([{c: r[c] for c in UPDATE_COLUMNS} for r in rows], columns=UPDATE_COLUMNS)

    def review_pairs(self, dataset_id: str) -> pd.DataFrame:
        """The uncertain pairs of the dataset's last update, for clerical review (admins and linkers): the
        dataset's row, the candidate (an index id, or another row of the dataset), weight and probability."""
        check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("index.read", f"person-index review pairs of dataset {dataset_id}")
        frame = store.review(self._ctx.vault.root, dataset_id)
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "index.review", f"dataset {dataset_id}",
                         detail={"pairs": 0 if frame is None else len(frame)})
        return frame if frame is not None else pd.DataFrame(columns=["kind", "row", "candidate", "match_weight",
                                                                     "match_probability", "accepted"])

    # -- building ---------------------------------------------------------------------------------------------
    def build(self, dataset_id: str | None = None) -> dict[str, Any]:
        """Link one dataset (refused if it is not person-level with linkable fields) or every person-level
        dataset with data into the index, comparing only new or changed records (admins and linkers)."""
        if dataset_id is not None:
            check_dataset_id(dataset_id, "dataset_id")
        resource = "the person index" if dataset_id is None else f"dataset {dataset_id} in the person index"
        self._ctx.require("index.build", resource)
        try:
            with self._ctx.db.read() as conn:
                if dataset_id is None:
                    rows = [dict(r) for r in conn.execute(select(datasets.c.id, datasets.c.record)
                                                          .where(datasets.c.has_data == 1)
                                                          .order_by(datasets.c.registered_at, datasets.c.id))
                            .mappings()]
                    chosen = [r for r in rows if is_person_level(r["record"])]
                else:
                    chosen = [dataset_row(conn, dataset_id)]
            if dataset_id is not None:
                self._check_linkable(chosen[0])
            return self._update([r["id"] for r in chosen], resource)
        except WorkbenchError as error:
            if getattr(error, "audited", False):
                raise
            raise self._ctx.audit_refused("index.build", resource, error) from None

    def refresh(self) -> dict[str, Any]:
        """Bring the index up to date: link datasets whose data changed since they were linked (or never were),
        and drop the members of datasets no longer catalogued (admins and linkers)."""
        self._ctx.require("index.build", "the person index")
        root = self._ctx.vault.root
        with self._ctx.db.read() as conn:
            rows = [dict(r) for r in conn.execute(select(datasets.c.id, datasets.c.record)
                                                  .where(datasets.c.has_data == 1)
                                                  .order_by(datasets.c.registered_at, datasets.c.id)).mappings()]
        wanted = [r["id"] for r in rows if is_person_level(r["record"])]
        stale = [d for d in wanted if store.index_ids(root, d, self._ctx.vault.dataset_path(d)) is None]
        folder = store.current(root)
        held = [] if folder is None else [p.stem for p in (folder / "members").glob("*.parquet")]
        gone = tuple(d for d in held if d not in wanted)
        return self._update(stale, "the person index", removed=gone)

    def link_registered(self, dataset_id: str) -> dict[str, Any] | None:
        """Called by the catalogue after a dataset's data was registered (the registration was allowed): link a
        person-level dataset, or record that it has no linkable fields. None for a dataset not about people."""
        with self._ctx.db.read() as conn:
            row = dataset_row(conn, dataset_id)
        # only who may change the entry (its owner, an admin) sets its linking going: an update writes the index
        self._ctx.require("catalogue.update", f"dataset {dataset_id}", owner=row["owner"], current_owner=row["owner"])
        if not is_person_level(row["record"]):
            return None
        return self._update([dataset_id], f"dataset {dataset_id} in the person index")

    def fields_changed(self, dataset_id: str) -> bool:
        """Whether a person-level dataset with data reads other identifying columns than when it was last linked
        (a metadata-only change that needs linking again). Reads the catalogue only."""
        with self._ctx.db.read() as conn:
            row = dataset_row(conn, dataset_id)
            if not row["has_data"] or not is_person_level(row["record"]):
                return False
            last = latest_quality(conn, dataset_id)
        return last is not None and last.get("fields") != linkable_fields(row["record"])

    def _check_linkable(self, row: dict[str, Any]) -> None:
        if not row.get("has_data"):
            raise NotFound(f"The vault holds no data for {row['id']}; its owner must register it with data before "
                           "it can be linked to the person index.")
        if not is_person_level(row["record"]):
            raise InvalidInput(f"dataset_id: {row['id']} is not a person-level dataset (it declares no personKey and "
                               "no column of role direct_identifier), so it has no place in the person index.",
                               field="dataset_id")
        if not linkable_fields(row["record"]):
            raise InvalidInput(f"dataset_id: {row['id']} has no linkable fields: the person index needs at least two "
                               f"of {', '.join(INDEX_FIELDS)} (by column name, e.g. first_name, last_name, dob, "
                               "postcode, nhs_number), one of them other than sex. Its owner can rename columns.",
                               field="dataset_id")

    def _update(self, dataset_ids: list[str], resource: str, removed: tuple[str, ...] = ()) -> dict[str, Any]:
        """Link ``dataset_ids`` in turn and commit them as one new version; retried when another update made a
        version meanwhile (the linking is done outside the database's write lock). The engine is the workspace's
        (``person_index.engine``), checked, and started when there is something to link, before any record is
        read."""
        self._engine = engines.configured(self._ctx.home)
        if dataset_ids:
            engines.start(self._engine)
        for _attempt in range(3):
            result = self._attempt(dataset_ids, resource, removed)
            if result is not None:
                return result
        raise Conflict("The person index kept changing while this update was linking; try again.")

    def _attempt(self, dataset_ids: list[str], resource: str, removed: tuple[str, ...]) -> dict[str, Any] | None:
        root = self._ctx.vault.root
        base = store.current(root)
        persons = store.persons(root)
        if persons is None:
            persons = pd.DataFrame({"index_id": pd.Series(dtype=object),
                                    **{f: pd.Series(dtype=object) for f in INDEX_FIELDS}})
        with self._ctx.db.read() as conn:
            rows = {d: dataset_row(conn, d) for d in dataset_ids}
            previous = {d: latest_quality(conn, d) for d in dataset_ids}
        linked: dict[str, _Linked] = {}
        dropped = list(removed)
        for d in dataset_ids:
            item = self._link(rows[d], persons, previous[d])
            if item is not None:
                linked[d] = item
                persons = item.persons
            else:
                linked[d] = self._unlinkable(rows[d])
                if store.members(root, d) is not None:
                    dropped.append(d)  # its identifying columns are gone: so are its members
        removed = tuple(dropped)
        me = self._ctx.actor.username
        now = datetime.now(UTC)
        truth = self._measure(linked) if linked else {}
        with self._ctx.write() as conn:
            if store.current(root) != base:
                return None
            changed = {d: (item.members, item.path) for d, item in linked.items() if item.path is not None}
            version = store.commit(root, persons, changed, removed=removed) if changed or removed else (
                base.name if base is not None else "")
            for d, item in linked.items():
                if d in truth:
                    item.quality["measured"] = truth[d]
                conn.execute(insert(person_index_updates).values(
                    dataset_id=d, version=version, fields=item.fields, relinked=int(item.relinked),
                    counts=item.counts, quality=_jsonable(item.quality), warnings=item.warnings, updated_by=me,
                    updated_at=now))
            audit.append(conn, me, "index.update", resource, detail={
                "version": version, "persons": len(persons), "removed": list(removed),
                "datasets": {d: item.counts for d, item in linked.items()}})
        for d, item in linked.items():  # the review pairs of the update just committed
            if item.review is not _KEEP:
                store.write_review(root, d, item.review)
        return {"version": version, "persons": len(persons),
                "datasets": {d: {**item.counts, "warnings": item.warnings} for d, item in linked.items()}}

    def _unlinkable(self, row: dict[str, Any]) -> _Linked:
        warning = (f"{row['id']} is person-level but has no linkable fields: the person index needs at least two of "
                   f"{', '.join(INDEX_FIELDS)} (by column name), one of them other than sex; its records get no "
                   "person id")
        counts = {"records": int(row["record"].get("rowCount") or 0), "compared": 0, "unchanged": 0, "linked": 0,
                  "new_persons": 0, "unlinked": int(row["record"].get("rowCount") or 0), "review": 0}
        return _Linked(members=pd.DataFrame(), persons=pd.DataFrame(), fields={}, relinked=False, counts=counts,
                       quality={"coverage": 0.0, "match_rate": None}, warnings=[warning], review=None,
                       path=None)  # type: ignore[arg-type]  # nothing to write for it

    def _link(self, row: dict[str, Any], persons: pd.DataFrame, previous: dict[str, Any] | None) -> _Linked | None:
        """Link one dataset's new or changed records to ``persons``; None when it has no linkable fields."""
        record = row["record"]
        fields = linkable_fields(record)
        if not fields:
            return None
        path = self._ctx.vault.dataset_path(row["id"])
        if not path.exists():
            raise NotFound(f"The vault holds no data for {row['id']}; its owner must register it with data.")
        key = record_key(record)
        columns = list(dict.fromkeys(([key] if key else []) + list(fields.values())))
        raw = pq.read_table(path, columns=columns).to_pandas()
        n = len(raw)
        norm = normalise(raw, fields)
        keys = raw[key] if key else pd.Series(np.arange(n))
        fp = fingerprints(norm, keys, bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]))
        relinked = previous is not None and previous.get("fields") != fields
        old = store.members(self._ctx.vault.root, row["id"])
        ids = pd.Series([None] * n, dtype=object)
        if old is not None and not relinked and len(old):
            kept = old.dropna(subset=["index_id"]).drop_duplicates("fingerprint").set_index("fingerprint")["index_id"]
            kept = kept[kept.isin(persons["index_id"])]  # never a person the index no longer holds
            ids = pd.Series(fp).map(kept).astype(object)
            ids = ids.where(ids.notna(), None)
        unchanged = ids.notna().to_numpy()
        empty = norm.isna().all(axis=1).to_numpy()
        compare = ~unchanged & ~empty
        rows = np.flatnonzero(compare)
        stage = _Stage()
        linked_count, new_count = 0, 0
        persons = persons.reset_index(drop=True)
        if rows.size:
            part = norm.iloc[rows].reset_index(drop=True)
            # records with the same identifying fields (a patient's episodes) are one identity: link each once
            group, first = _identities(part)
            distinct = part.iloc[first].reset_index(drop=True)
            assigned_once, _linked, _new_ids, new_persons = self._assign(distinct, persons, stage)
            assigned = assigned_once[group]
            ids.iloc[rows] = assigned
            linked_count = int(pd.Series(assigned).isin(persons["index_id"]).sum())
            new_count = len(new_persons)
            persons = _fill(persons, distinct, assigned_once)
            if new_count:
                persons = pd.concat([persons, new_persons], ignore_index=True)
            if stage.review is not None:
                stage.review["row"] = rows[first[stage.review["row"].to_numpy()]]
                if (stage.review["kind"] == "record").any():
                    within = stage.review["kind"] == "record"
                    candidates = stage.review.loc[within, "candidate"].astype(np.int64).to_numpy()
                    stage.review.loc[within, "candidate"] = rows[first[candidates]].astype(str)
        members = pd.DataFrame({"row": np.arange(n, dtype=np.int64), "index_id": ids.to_numpy(dtype=object),
                                "fingerprint": fp.astype(object)})
        counts = {"records": n, "compared": int(rows.size), "unchanged": int(unchanged.sum()), "linked": linked_count,
                  "new_persons": new_count, "unlinked": int(empty.sum() - (empty & unchanged).sum()),
                  "review": 0 if stage.review is None else len(stage.review)}
        quality = _quality(stage, counts, members)
        quality["engine"] = self._engine.name if rows.size else None  # which engine compared the records
        if not rows.size and previous is not None and not relinked:
            # nothing compared: the model's estimates and the review pairs of the last comparison still hold
            for name in ("match_rate", "estimated_precision", "estimated_recall", "expected", "engine"):
                quality[name] = previous.get(name)
            quality["review_held"] = previous.get("review_held", previous.get("review", 0))
        else:
            quality["review_held"] = counts["review"]
        warnings = _conflicts(norm, ids, persons)
        review = stage.review if rows.size or previous is None or relinked else _KEEP
        if review is not None and len(review) > REVIEW_KEPT:
            review = review.nsmallest(REVIEW_KEPT, "match_probability")
        return _Linked(members=members, persons=persons, fields=fields, relinked=bool(relinked), counts=counts,
                       quality=quality, warnings=warnings, review=review, path=path)

    def _assign(self, part: pd.DataFrame, persons: pd.DataFrame,
                stage: _Stage) -> tuple[np.ndarray, int, list[str], pd.DataFrame]:
        """Each record's index id: its best person above the threshold, else its within-dataset cluster's person,
        else a new person made from the cluster. Returns (ids, records linked to existing persons, new ids, the
        new persons)."""
        m = len(part)
        best = np.full(m, -1, dtype=np.int64)
        best_weight = np.full(m, -np.inf)
        existing_ids = persons["index_id"].to_numpy(dtype=object)
        usable = _usable(part, persons) if len(persons) else []
        result = None
        if usable and len(_core(usable)) >= 2:
            # a few records against a large index: only the persons sharing a blocking key with them
            near = (_near(part, persons, _spec(usable, one_to_one=False)) if len(persons) > NEAR_RATIO * m
                    else np.ones(len(persons), dtype=bool))
            if near.any():
                result = _link_or_none(part, persons[near].reset_index(drop=True), usable, self._engine.linkage)
                existing_ids = existing_ids[near]
        if result is not None:
            order = np.lexsort((-result.weight, result.li))
            first = np.ones(order.size, dtype=bool)
            first[1:] = result.li[order][1:] != result.li[order][:-1]
            top = order[first]  # each record's best candidate
            accepted = np.zeros(result.li.size, dtype=bool)
            accepted[top] = result.weight[top] >= max(result.threshold, MIN_WEIGHT)
            best[result.li[accepted]] = result.ri[accepted]
            best_weight[result.li[accepted]] = result.weight[accepted]
            stage.add(result, accepted, "person", np.arange(m), existing_ids)
        linked = int((best >= 0).sum())
        # deduplicate within the dataset: clusters of records of one person
        cluster = np.arange(m)
        inside = [f for f in INDEX_FIELDS if f in part and part[f].notna().any()]
        dedupe = _link_or_none(part, None, inside, self._engine.linkage) if m > 1 and len(_core(inside)) >= 2 else None
        if dedupe is not None:
            accepted = dedupe.weight >= max(dedupe.threshold, MIN_WEIGHT)
            graph = coo_matrix((np.ones(int(accepted.sum())), (dedupe.li[accepted], dedupe.ri[accepted])),
                               shape=(m, m))
            cluster = connected_components(graph, directed=False)[1]
            stage.add(dedupe, accepted, "record", np.arange(m), np.arange(m))
        ids = np.empty(m, dtype=object)
        ids[best >= 0] = existing_ids[best[best >= 0]]
        # a cluster goes to the person its members linked to most strongly
        frame = pd.DataFrame({"cluster": cluster, "best": best, "weight": best_weight})
        strongest = (frame[frame["best"] >= 0].sort_values("weight", ascending=False, kind="stable")
                     .drop_duplicates("cluster").set_index("cluster")["best"])
        unassigned = best < 0
        via_cluster = pd.Series(cluster[unassigned]).map(strongest).to_numpy()
        has = ~pd.isna(via_cluster)
        where = np.flatnonzero(unassigned)
        ids[where[has]] = existing_ids[via_cluster[has].astype(np.int64)]
        linked += int(has.sum())
        still = where[~has]
        new_persons = pd.DataFrame(columns=["index_id", *INDEX_FIELDS])
        new_ids: list[str] = []
        if still.size:
            clusters = pd.unique(cluster[still])
            new_ids = new_index_ids(len(clusters), set(existing_ids))
            by_cluster = dict(zip(clusters, new_ids, strict=True))
            ids[still] = [by_cluster[c] for c in cluster[still]]
            first_values = part.iloc[still].assign(_c=cluster[still]).groupby("_c", sort=False).first()
            new_persons = first_values.reindex(clusters).reset_index(drop=True)
            new_persons = new_persons.reindex(columns=list(INDEX_FIELDS)).astype(object)
            new_persons.insert(0, "index_id", new_ids)
            new_persons = new_persons.where(new_persons.notna(), None)
        return ids, linked, new_ids, new_persons

    def _measure(self, linked: dict[str, _Linked]) -> dict[str, dict[str, Any]]:
        """Pairwise precision and recall of the index against truth, where the truth source holds it for the
        datasets: pairs of records sharing an index id against pairs of records of one true person, counting the
        pairs that involve the dataset (within it, and with the other indexed datasets that have truth)."""
        if self._truth is None:
            return {}
        root = self._ctx.vault.root
        folder = store.current(root)
        indexed = set(linked) | ({p.stem for p in (folder / "members").glob("*.parquet")} if folder else set())
        candidates = sorted(d for d in indexed if self._truth.readable([d]))
        if not any(d in candidates for d in linked):
            return {}
        frames = []
        with self._ctx.db.read() as conn:
            keys = {d: record_key(dataset_row(conn, d)["record"]) for d in candidates}
        for d in candidates:
            key = keys[d]
            members = linked[d].members if d in linked else store.members(root, d)
            if key is None or members is None or not len(members):
                continue
            truth = self._truth.truth(d)
            record_keys = pq.read_table(self._ctx.vault.dataset_path(d), columns=[key]).column(0).to_pandas()
            person = record_keys.map(truth.set_index(truth.columns[0])["person_id"])
            index_id = pd.Series(members.sort_values("row")["index_id"].to_numpy(), dtype=object)
            frames.append(pd.DataFrame({"dataset": d, "truth": person.to_numpy(), "index_id": index_id.to_numpy()}))
        if not frames:
            return {}
        everything = pd.concat(frames, ignore_index=True)
        out = {}
        whole = pair_counts(everything)
        for d in linked:
            if d not in candidates:
                continue
            rest = pair_counts(everything[everything["dataset"] != d])
            tp, predicted, true = (a - b for a, b in zip(whole, rest, strict=True))
            precision = tp / predicted if predicted else None
            recall = tp / true if true else None
            f1 = (2 * precision * recall / (precision + recall)
                  if precision is not None and recall is not None and precision + recall else None)
            out[d] = {"precision": precision, "recall": recall, "f1": f1, "true_pairs": int(true),
                      "linked_pairs": int(predicted), "correct_pairs": int(tp)}
        return out


def pair_counts(frame: pd.DataFrame) -> tuple[int, int, int]:
    """(pairs of records sharing both an index id and a true person, pairs sharing an index id, pairs sharing a
    true person), records without either counted apart."""
    def pairs(sizes: pd.Series) -> int:
        values = sizes.to_numpy(np.int64)
        return int((values * (values - 1) // 2).sum())
    linked = frame.dropna(subset=["index_id"])
    both = linked.dropna(subset=["truth"])
    return (pairs(both.groupby(["index_id", "truth"]).size()), pairs(linked.groupby("index_id").size()),
            pairs(frame.dropna(subset=["truth"]).groupby("truth").size()))


def _link_or_none(left: pd.DataFrame, right: pd.DataFrame | None, fields: list[str],
                  engine: str = "recordlinkage") -> LinkageResult | None:
    """The engine's result, or None when no pair of records meets a blocking rule (nobody to compare with)."""
    try:
        return link(left[fields], None if right is None else right[fields], _spec(fields, one_to_one=False),
                    engine=engine)
    except InvalidInput as error:
        if "no pair of records meets any blocking rule" in str(error):
            return None
        raise


def _transform(values: pd.Series, transform: str) -> pd.Series:
    """A blocking key transform of normalised values, as the engine computes it (None where it has none)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if transform == "value":
        keys = list(uniques)
    elif transform == "initial":
        keys = [v[:1] for v in uniques]
    elif transform == "first3":
        keys = [v[:3] for v in uniques]
    elif transform == "soundex":
        keys = [jellyfish.soundex(clean_text(v)) if v else "" for v in uniques]
    elif transform == "year":
        keys = [v[:4] for v in uniques]
    elif transform == "month_day":
        keys = [v[4:8] for v in uniques]
    else:
        keys = [postcode_parts(v)[0 if transform == "sector" else 1] for v in uniques]
    table = np.array([k or None for k in keys] + [None], dtype=object)
    return pd.Series(table[codes], index=values.index)


def _near(records: pd.DataFrame, persons: pd.DataFrame, spec: LinkageSpec) -> np.ndarray:
    """Which persons share the keys of some blocking rule with some record: the only persons the engine could pair
    with them, so linking a few records to a large index standardises and compares only those."""
    keep = np.zeros(len(persons), dtype=bool)
    cache: dict[tuple[int, str], pd.Series] = {}
    for rule in spec.blocking:
        sides = []
        for side, frame in enumerate((records, persons)):
            parts = []
            for key in rule:
                name, _, transform = key.partition(":")
                if (side, key) not in cache:
                    cache[side, key] = _transform(frame[name], transform or "value")
                parts.append(cache[side, key])
            complete = np.logical_and.reduce([p.notna().to_numpy() for p in parts])
            joined = parts[0][complete].astype(str)
            for part in parts[1:]:
                joined = joined + "\x1f" + part[complete].astype(str)
            sides.append(joined)
        wanted = set(sides[0])
        if wanted and len(sides[1]):
            keep[sides[1].index[sides[1].isin(wanted)].to_numpy()] = True
    return keep


def _identities(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(each record's identity number, the first record of each identity): records alike in every identifying
    field (missing alike) are one identity."""
    filled = part.astype(object).where(part.notna(), _ABSENT)
    group = filled.groupby(list(part.columns), sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(part))).groupby(group).first().to_numpy()
    return group, first


def _core(fields: list[str]) -> list[str]:
    return [f for f in fields if f != "sex"]


def _fill(persons: pd.DataFrame, part: pd.DataFrame, assigned: np.ndarray) -> pd.DataFrame:
    """Persons' missing fields filled from the records just linked to them (e.g. an NHS number a survey lacked)."""
    if not len(persons):
        return persons
    known = part.assign(index_id=assigned)
    known = known[known["index_id"].isin(persons["index_id"])]
    if not len(known):
        return persons
    firsts = known.groupby("index_id", sort=False).first()
    out = persons.set_index("index_id")
    for f in INDEX_FIELDS:
        if f not in firsts:
            continue
        if f not in out:
            out[f] = None
        gaps = out[f].isna()
        if gaps.any():
            fill = firsts[f].reindex(out.index[gaps])
            out.loc[gaps, f] = fill.where(fill.notna(), None).to_numpy(dtype=object)
    return out.reset_index()


def _quality(stage: _Stage, counts: dict[str, int], members: pd.DataFrame) -> dict[str, Any]:
    tp, fp, fn = stage.expected_tp, stage.expected_fp, stage.expected_fn
    records = counts["records"]
    return {
        "coverage": float(members["index_id"].notna().mean()) if records else 0.0,
        "match_rate": counts["linked"] / counts["compared"] if counts["compared"] else None,
        "estimated_precision": tp / (tp + fp) if tp + fp else None,
        "estimated_recall": tp / (tp + fn) if tp + fn else None,
        "expected": {"true_positives": tp, "false_positives": fp, "false_negatives": fn},
        "review_band": list(REVIEW_BAND),
    }


def _conflicts(norm: pd.DataFrame, ids: pd.Series, persons: pd.DataFrame) -> list[str]:
    """Warnings: persons to whom records with different NHS numbers (or NINOs) were linked."""
    out = []
    for f in IDENTITY_FIELDS:
        if f not in norm:
            continue
        frame = pd.DataFrame({"index_id": ids.to_numpy(dtype=object), "value": norm[f].to_numpy(dtype=object)})
        frame = frame.dropna()
        if f in persons:
            held = persons[["index_id", f]].dropna().rename(columns={f: "value"})
            held = held[held["index_id"].isin(frame["index_id"])]
            frame = pd.concat([frame, held], ignore_index=True)
        distinct = frame.drop_duplicates().groupby("index_id").size()
        clashes = int((distinct > 1).sum())
        if clashes:
            label = "NHS numbers" if f == "nhs_number" else "National Insurance numbers"
            out.append(f"conflicting identities: {clashes:,} person(s) in the index were linked from records with "
                       f"different {label}; a linker can review them (ws.person_index.review_pairs)")
    return out


def latest_quality(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """The dataset's index coverage and quality record (its latest update), or None if it was never linked."""
    t = person_index_updates
    row = conn.execute(select(t).where(t.c.dataset_id == dataset_id).order_by(t.c.id.desc())
                       .limit(1)).mappings().first()
    if row is None:
        return None
    count = conn.execute(select(func.count()).select_from(t).where(t.c.dataset_id == dataset_id)).scalar_one()
    return {"dataset_id": dataset_id, "indexed": True, "fields": dict(row["fields"]), "relinked": bool(row["relinked"]),
            **dict(row["counts"]), **dict(row["quality"]), "warnings": list(row["warnings"]), "update": row["id"],
            "updates": int(count), "updated_by": row["updated_by"], "updated_at": _iso(row["updated_at"])}


def _iso(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


__all__ = ["INDEX_FIELDS", "PersonIndex", "fingerprints", "is_person_level", "latest_quality", "linkable_fields",
           "new_index_ids", "normalise", "pair_counts", "record_key"]
