"""Data moving into and inside a project: governed loads and the project data space.

``load`` returns only granted columns, with every direct and record identifier replaced by this project's keyed
pseudonym (the key stays in the workspace); each load is recorded for the owner's usage report. Members save
derived frames into the project with their lineage, so owners can follow their data into derived datasets.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select

from workbench import audit
from workbench.catalogue import in_place, versions
from workbench.catalogue.model import PSEUDONYMISED_ROLES
from workbench.db.schema import data_loads, grants, saved_reads
from workbench.db.schema import project_datasets as pd_t
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance import pseudonyms
from workbench.governance.conditions import (
    check_columns,
    dataset_row,
    project_facts,
    project_row,
    pseudonymised_columns,
    require_in_project,
    schema_roles,
)
from workbench.governance.lineage import granted_version, grants_for, lapsed, taint
from workbench.governance.pseudonyms import project_key
from workbench.governance.sources import check_where, filter_expression, where_json
from workbench.ids import check_dataset_id
from workbench.person_index import person_ids

SOURCES_ATTR = "workbench.sources"  # DataFrame.attrs key: the catalogue datasets a loaded frame comes from

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench import records
    from workbench.context import Context

SAVED_COLUMNS = ["name", "version", "columns", "row_count", "derived_from", "sources", "made_by", "person_key",
                 "created_by", "created_at"]


def lineage(conn: Connection, project_id: str, derived_from: Any) -> list[str]:
    """The catalogue datasets a new frame or output descends from: the named datasets granted to the project,
    plus the sources of named saved frames. Refuses an empty list or a name that is neither."""
    if not isinstance(derived_from, list | tuple) or not derived_from or not all(isinstance(d, str)
                                                                                for d in derived_from):
        raise InvalidInput("derived_from: name what it was made from: dataset ids granted to the project and/or "
                           "names of frames saved in it, e.g. ['ons.lfs'].", field="derived_from")
    sources: list[str] = []
    for item in derived_from:
        saved = conn.execute(select(pd_t.c.sources).where((pd_t.c.project_id == project_id)
                                                          & (pd_t.c.name == item))).scalars().all()
        if saved:
            sources.extend(s for row in saved for s in row)
            continue
        if conn.execute(select(grants.c.id).where((grants.c.project_id == project_id)
                                                  & (grants.c.dataset_id == item))).first():
            sources.append(item)
            continue
        raise InvalidInput(f"derived_from: {item!r} is neither a dataset granted to project {project_id} nor a "
                           "frame saved in it.", field="derived_from")
    return sorted(set(sources))


def _check_sample(sample: Any, seed: Any) -> tuple[int | float, int | None] | None:
    """``sample`` and ``seed`` checked: None, or (a whole number of rows from 1, or a fraction in (0, 1]; the seed:
    None or a whole number)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise InvalidInput(f"seed: give a whole number (the same one draws the same sample), not {seed!r}.",
                           field="seed")
    if sample is None:
        if seed is not None:
            raise InvalidInput("seed: a seed draws a sample; give sample= too (rows, or a fraction such as 0.1).",
                               field="seed")
        return None
    seed = None if seed is None else int(seed)
    if isinstance(sample, bool) or not isinstance(sample, int | float | np.integer | np.floating):
        raise InvalidInput(f"sample: give a number of rows (e.g. 1000) or a fraction in (0, 1] (e.g. 0.1), not "
                           f"{sample!r}.", field="sample")
    if isinstance(sample, int | np.integer):
        if sample < 1:
            raise InvalidInput(f"sample: {sample} rows keeps nothing; ask for at least 1 row, or a fraction such as "
                               "0.1.", field="sample")
        return int(sample), seed
    if not 0 < float(sample) <= 1:  # NaN fails this too
        raise InvalidInput(f"sample: a fraction must be above 0 and at most 1, not {sample!r}; give a number of "
                           "rows as a whole number.", field="sample")
    return float(sample), seed


def _check_batch_rows(rows: Any, ctx: Context, resource: str) -> int:
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
        raise ctx.audit_refused("data.load", resource, InvalidInput(
            f"rows: give the number of rows in a batch, a whole number from 1, not {rows!r}.", field="rows"))
    return int(rows)


def _check_filtered(where: dict[str, Any], roles: dict[str, str], dataset_id: str) -> None:
    """Every column ``where`` names is one of the dataset's and not an identifier: filtering on an identifier's
    values would say which people the dataset holds, which its pseudonyms hide."""
    for column in where:
        if column not in roles:
            raise InvalidInput(f"where: {column!r} is not a column of {dataset_id}; its columns are "
                               f"{', '.join(roles)}.", field="where")
        if roles[column] in PSEUDONYMISED_ROLES:
            raise InvalidInput(f"where: {column!r} is a {roles[column].replace('_', ' ')} of {dataset_id}, which "
                               "a load never filters on (that would tell which people it holds); filter on other "
                               "granted columns, or on the pseudonyms after loading.", field="where")


@dataclass(frozen=True)
class IndexedInPlace:
    """What finds the project's person ids of a dataset read in place whose schema holds the workbench's
    ``person_id``: the vault whose person index linked it, its current catalogue version, the workspace's key (its
    records' content keys) and the project (whose person ids they are)."""

    vault_root: Path
    version: int | None
    master_key: bytes = field(repr=False)
    project_id: str


def governed_in_place(place: in_place.InPlace, declared: list[dict[str, Any]], wanted: list[str],
                      identifiers: list[str], where: dict[str, Any], key: bytes, *,
                      index: IndexedInPlace | None = None) -> pa.Table:
    """``wanted`` columns of a dataset read in place, rows kept by ``where`` (pushed down) in the project's keyed
    order, each of ``identifiers`` replaced by its pseudonym under the project's ``key`` (the pseudonyms a copied
    dataset's load gives for the same values). With ``index`` and ``person_id`` among ``wanted``, that column is
    each row's project person id, found by its content key (``person_ids.in_place_person_ids``): refused
    (Conflict) when the index does not hold a row read (its source changed since it was linked). ``declared``:
    the source's own columns (never the workbench's ``person_id``)."""
    if index is None or person_ids.PERSON_ID not in wanted:
        return _pseudonymised(in_place.read(place, declared, wanted, where, order_key=key), identifiers, key)
    read = [c for c in wanted if c != person_ids.PERSON_ID]
    table, digests = in_place.read_keyed(place, declared, read, where, order_key=key)
    table = _pseudonymised(table, [c for c in identifiers if c in read], key)
    ids = person_ids.in_place_person_ids(index.vault_root, place.dataset_id, index.version, digests,
                                         index.master_key, index.project_id)
    if not read:
        return pa.table({person_ids.PERSON_ID: ids})
    return table.add_column(wanted.index(person_ids.PERSON_ID), person_ids.PERSON_ID, ids)


def _pseudonymised(table: pa.Table, identifiers: list[str], key: bytes) -> pa.Table:
    for name in identifiers:
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pseudonyms.pseudonymise(table.column(name), key))
    return table


def in_place_frame(table: pa.Table, wanted: list[str], identifiers: list[str],
                   rows: np.ndarray | None = None) -> pd.DataFrame:
    """Rows (positions; all when None) of a ``governed_in_place`` table as pandas, as a copied dataset's load gives
    them: identifiers as ``string[pyarrow]``, a fresh ``RangeIndex``."""
    if rows is not None:
        table = table.take(pa.array(rows, pa.int64()))
    frame = table.drop_columns(identifiers).to_pandas()
    frame.index = pd.RangeIndex(len(frame))
    for position, name in enumerate(wanted):
        if name in identifiers:
            frame.insert(position, name, pd.arrays.ArrowStringArray(pc.cast(table.column(name), pa.large_string())))
    return frame


def _in_place_frame(plan: dict[str, Any], rows: np.ndarray) -> pd.DataFrame:
    return in_place_frame(plan["in_place"], plan["wanted"], plan["identifiers"], rows)


class ProjectData:
    """Governed loads and saved frames of one project."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id

    def _key(self) -> bytes:
        return project_key(bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id)

    def indexed_in_place(self, version: int | None) -> IndexedInPlace:
        """What finds this project's person ids of a dataset read in place at catalogue ``version``."""
        return IndexedInPlace(self._ctx.vault.root, version, bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]),
                              self.project_id)

    def load(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
             sample: int | float | None = None, seed: int | None = None) -> pd.DataFrame:
        """The granted columns of a dataset (or ``columns`` of them), direct and record identifiers pseudonymised,
        rows in the project's own order (``pseudonyms.project_order``). A dataset in the person index may have
        ``person_id`` granted: the project's person id of each record (``person_index.person_ids``).

        ``where`` keeps rows as outputs by spec do (``sources.check_where``: equality, membership, ranges) on
        granted columns that are not identifiers, pushed into the Parquet scan; ``sample`` keeps n rows (an int)
        or a fraction in (0, 1] of them, drawn from ``seed`` and the project's key (the same seed gives the same
        rows in this project, unrelated rows in another). The rows kept come in the order of the full load."""
        plan = self._plan(dataset_id, columns, where, sample, seed)
        resource, wanted, identifiers = plan["resource"], plan["wanted"], plan["identifiers"]
        if "in_place" in plan:
            frame = _in_place_frame(plan, plan["rows"])
            frame.attrs[SOURCES_ATTR] = [dataset_id]
            self._record(dataset_id, plan, len(frame))
            return frame
        try:
            frame = person_ids.read_dataset(
                self._ctx.vault.root, dataset_id, plan["path"], wanted, identifiers,
                bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id,
                with_person_id=plan["with_person_id"], cache=plan["cache"],
                in_project_order=True,  # taken while still Arrow: cheaper than reordering the frame
                rows=plan["rows"], read=plan["read"])
        except Conflict as error:
            raise self._ctx.audit_refused("data.load", resource, error) from None
        frame.attrs[SOURCES_ATTR] = [dataset_id]  # provenance for outputs made from it
        self._record(dataset_id, plan, len(frame))
        return frame

    def batches(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
                rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """What ``load(dataset_id, columns, where=where)`` gives, as pandas frames of at most ``rows`` rows each,
        in the same order (their concatenation is that load), so an extract larger than memory can be worked
        through. Checked when called (a refusal is raised then, audited); each batch is recorded and audited as
        a load when it is read, and reads only the row groups holding its rows."""
        size = _check_batch_rows(rows, self._ctx, f"dataset {dataset_id} in project {self.project_id}")
        plan = self._plan(dataset_id, columns, where, None, None, everything=True)
        self._person_ids_available(dataset_id, plan)
        return self._batches(dataset_id, plan, size)

    def _batches(self, dataset_id: str, plan: dict[str, Any], size: int) -> Iterator[pd.DataFrame]:
        for number in range(-(-len(plan["rows"]) // size)):
            yield self._batch(dataset_id, plan, size, number)

    def batch(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
              rows: int = 100_000, number: int = 0) -> pd.DataFrame | None:
        """Batch ``number`` (from 0) of ``batches(dataset_id, columns, where=where, rows=rows)``, or None past
        the last: checked, recorded and audited as a load of its rows. What a kernel connected to the service
        asks for, one batch at a time."""
        resource = f"dataset {dataset_id} in project {self.project_id}"
        size = _check_batch_rows(rows, self._ctx, resource)
        if isinstance(number, bool) or not isinstance(number, int | np.integer) or number < 0:
            raise self._ctx.audit_refused("data.load", resource, InvalidInput(
                f"number: give the batch's number, a whole number from 0, not {number!r}.", field="number"))
        plan = self._plan(dataset_id, columns, where, None, None, everything=True)
        if number * size >= len(plan["rows"]):
            return None
        self._person_ids_available(dataset_id, plan)
        return self._batch(dataset_id, plan, size, int(number))

    def _person_ids_available(self, dataset_id: str, plan: dict[str, Any]) -> None:
        """Refuse (audited) before any batch when ``person_id`` is asked for but the index does not describe the
        dataset's file now."""
        if plan["with_person_id"] and person_ids.PERSON_ID in plan["wanted"]:
            try:
                person_ids.read_dataset(self._ctx.vault.root, dataset_id, plan["path"], [person_ids.PERSON_ID], [],
                                        bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id,
                                        with_person_id=True, cache=plan["cache"], rows=plan["rows"][:0])
            except Conflict as error:
                raise self._ctx.audit_refused("data.load", plan["resource"], error) from None

    def _batch(self, dataset_id: str, plan: dict[str, Any], size: int, number: int) -> pd.DataFrame:
        first = number * size
        try:
            if "in_place" in plan:
                frame = _in_place_frame(plan, plan["rows"][first:first + size])
            else:
                frame = person_ids.read_dataset(
                    self._ctx.vault.root, dataset_id, plan["path"], plan["wanted"], plan["identifiers"],
                    bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id,
                    with_person_id=plan["with_person_id"], cache=plan["cache"],
                    rows=plan["rows"][first:first + size])
        except Conflict as error:
            raise self._ctx.audit_refused("data.load", plan["resource"], error) from None
        frame.index = pd.RangeIndex(first, first + len(frame))
        frame.attrs[SOURCES_ATTR] = [dataset_id]
        self._record(dataset_id, plan, len(frame), batch={"number": number, "rows": size,
                                                          "of_rows": len(plan["rows"])})
        return frame

    def _plan(self, dataset_id: str, columns: Any, where: Any, sample: Any, seed: Any, *,
              everything: bool = False) -> dict[str, Any]:
        """Check a load and choose its rows: the columns, the identifiers among them, and the file row numbers to
        read in the project's order (None for every row, read by the unfiltered path; with ``everything`` always
        the numbers). Refusals are audited; nothing else is recorded."""
        resource = f"dataset {dataset_id} in project {self.project_id}"
        me = self._ctx.actor.username
        try:
            conditions = check_where(where)
            sampling = _check_sample(sample, seed)
            with self._ctx.db.read() as conn:
                project = project_row(conn, self.project_id)
                dataset = dataset_row(conn, dataset_id)
                record = person_ids.schema_view(dataset["record"], self._ctx.vault.root)
                roles = schema_roles(record)
                wanted = check_columns(columns, roles, dataset_id)
                facts = project_facts(conn, project, me)
                granted, lapsed = grants_for(conn, self.project_id, dataset_id)
                latest, pinned = versions.current(conn, dataset_id), granted_version(conn, self.project_id, dataset_id)
                place = in_place.lookup(conn, self._ctx.vault.root, dataset)  # None: copied into the vault
            _check_filtered(conditions, roles, dataset_id)
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("data.load", resource, error) from None
        older = pinned is not None and pinned != latest  # the person index describes the current version only
        provided = person_ids.provided(record.get("columns", [])) and not older
        wanted = wanted or [c for c in roles if c in granted and not (older and c == person_ids.PERSON_ID)]
        self._ctx.require("data.load", resource, **facts, dataset=dataset_id, owner=dataset["owner"],
                          granted=granted, wanted=list(dict.fromkeys([*wanted, *conditions])), lapsed_grant=lapsed)
        if place is not None and not older:  # read at the source now (an older pinned version is a copy, or gone)
            return {**self._plan_in_place(place, resource, record, roles, wanted, conditions, sampling,
                                          person=provided, version=latest), "version": latest}
        path, cache = self._version_file(dataset_id, latest, pinned, wanted, resource)
        if not path.exists():
            raise self._ctx.audit_refused("data.load", resource, NotFound(
                f"The vault holds no data for {dataset_id}; its owner ({dataset['owner']}) must register it."))
        chosen, read = None, None
        if conditions or sampling or everything:
            try:
                kept = None
                if conditions:
                    expression = filter_expression(pq.read_schema(path), conditions, dataset_id)
                    if not (sampling or everything):  # the rows kept are the load: read them in the same scan
                        read = pseudonyms.matching_rows_read(path, conditions, wanted)
                    kept = read.rows if read is not None else \
                        pseudonyms.matching_rows(path, expression, list(conditions), where=conditions)
                chosen = pseudonyms.project_rows(path, self._key(), dataset_id, kept, cache=cache)
                if sampling:
                    chosen = self._sample(chosen, dataset_id, *sampling)
            except (InvalidInput, NotFound) as error:
                raise self._ctx.audit_refused("data.load", resource, error) from None
        return {"resource": resource, "wanted": wanted, "identifiers": pseudonymised_columns(roles, wanted),
                "path": path, "cache": cache, "rows": chosen, "read": read, "where": conditions, "sample": sampling,
                "with_person_id": provided, "version": pinned or latest}

    def _version_file(self, dataset_id: str, latest: int | None, pinned: int | None, wanted: list[str],
                      resource: str) -> tuple[Path, Path]:
        """The file of the version the project's grants cover (the current one unless they are all pinned) and the
        project's cache folder for it: an older version keeps caches of its own, so loads of the current one and of
        a pinned one do not evict each other's."""
        cache = self._ctx.vault.project_root(self.project_id) / "cache" / dataset_id
        if pinned is None or pinned == latest:
            return self._ctx.vault.dataset_path(dataset_id), cache
        try:
            path = versions.version_file(self._ctx.vault, dataset_id, pinned, latest)
            held = set(pq.read_schema(path).names)
        except NotFound as error:
            raise self._ctx.audit_refused("data.load", resource, error) from None
        if person_ids.PERSON_ID in wanted and person_ids.PERSON_ID not in held:
            raise self._ctx.audit_refused("data.load", resource, InvalidInput(
                f"columns: {person_ids.PERSON_ID} comes from the person index, which links the current version of "
                f"{dataset_id}, not version {pinned} the project's grant is pinned to; load the other columns.",
                field="columns"))
        missing = [c for c in wanted if c not in held]
        if missing:
            raise self._ctx.audit_refused("data.load", resource, InvalidInput(
                f"columns: version {pinned} of {dataset_id}, which the project's grant is pinned to, has no column "
                f"{', '.join(missing)}; load the others, or ask its owner to pin a later version.", field="columns"))
        return path, cache.with_name(f"{dataset_id}@v{pinned}")

    def _plan_in_place(self, place: in_place.InPlace, resource: str, record: dict[str, Any], roles: dict[str, str],
                       wanted: list[str], conditions: dict[str, Any], sampling: Any, *, person: bool = False,
                       version: int | None = None) -> dict[str, Any]:
        """A checked load of a dataset read in place: its rows read now at the source (columns pruned, ``where``
        pushed down) in the project's keyed order (``in_place.read``), identifiers pseudonymised as a copied
        dataset's are; ``rows`` are positions in that table. A source that cannot be read is refused, audited,
        naming the dataset and its owner. With ``person`` (the workbench's ``person_id`` in the schema) and it
        asked for, each row's person id is found by its content key (``person_ids.in_place_person_ids``); refused,
        audited, when the index does not hold the rows read."""
        identifiers = pseudonymised_columns(roles, wanted)
        declared = [c for c in record.get("columns", []) if not person_ids.provided([c])]  # the source's columns
        try:
            table = governed_in_place(place, declared, wanted, identifiers, conditions, self._key(),
                                      index=self.indexed_in_place(version) if person else None)
            chosen = np.arange(table.num_rows, dtype=np.int64)
            if sampling:
                chosen = self._sample(chosen, place.dataset_id, *sampling)
        except (InvalidInput, NotFound, Conflict) as error:
            raise self._ctx.audit_refused("data.load", resource, error) from None
        return {"resource": resource, "wanted": wanted, "identifiers": identifiers, "path": None, "cache": None,
                "rows": chosen, "where": conditions, "sample": sampling, "with_person_id": False, "in_place": table}

    def _sample(self, chosen: np.ndarray, dataset_id: str, size: int | float, seed: int | None) -> np.ndarray:
        """``size`` rows (or that fraction) of ``chosen``, keeping their order: drawn from the project's key,
        the dataset and ``seed`` (a fresh draw without one)."""
        available = len(chosen)
        count = size if isinstance(size, int) else round(size * available)
        if isinstance(size, int) and count > available:
            raise InvalidInput(f"sample: {count:,} rows asked for, but the load keeps {available:,}; ask for at "
                               "most that many, or a fraction such as sample=0.1.", field="sample")
        if count < 1:
            raise InvalidInput(f"sample: a fraction of {size} of {available:,} rows keeps no row; ask for a larger "
                               "fraction or a number of rows.", field="sample")
        drawn = secrets.randbits(64) if seed is None else seed
        material = hmac.new(self._key(), f"sample:{dataset_id}:{drawn}".encode(), hashlib.sha256).digest()
        generator = np.random.Generator(np.random.PCG64(int.from_bytes(material, "big")))
        return chosen[np.sort(generator.choice(available, size=count, replace=False))]

    def _record(self, dataset_id: str, plan: dict[str, Any], rows: int, batch: dict[str, int] | None = None) -> None:
        """The load in ``data_loads`` (the owner's usage report) and in the audit log, with its where and
        sample when it had them."""
        me = self._ctx.actor.username
        detail: dict[str, Any] = {"columns": plan["wanted"], "pseudonymised": plan["identifiers"], "rows": rows,
                                  "version": plan["version"]}
        if plan["where"]:
            detail["where"] = where_json(plan["where"])
        if plan["sample"]:
            detail["sample"], detail["seed"] = plan["sample"]
        if batch is not None:
            detail["batch"] = batch
        with self._ctx.write() as conn:
            conn.execute(insert(data_loads).values(project_id=self.project_id, dataset_id=dataset_id, username=me,
                                                   columns=plan["wanted"], row_count=rows, at=datetime.now(UTC),
                                                   version=plan["version"]))
            audit.append(conn, me, "data.load", plan["resource"], detail=detail)

    def save(self, frame: pd.DataFrame, name: str, *, derived_from: list[str]) -> records.SavedData:
        """Save a frame from the member's kernel as the next version of ``name``. Its lineage is computed: the
        datasets and saved frames named in ``derived_from``, plus everything the member loaded or read in the
        project before now (their kernel may hold any of it)."""
        me = self._ctx.actor.username
        return self._save(frame, name, derived_from=derived_from,
                          sources=lambda conn: sorted({*lineage(conn, self.project_id, derived_from),
                                                       *taint(conn, self.project_id, me)}))

    def save_made(self, frame: pd.DataFrame, name: str, *, sources: list[str], derived_from: list[str],
                  person_key: str | None = None, spec: dict[str, Any] | None = None) -> records.SavedData:
        """Save a frame the workbench made itself (a linkage result, a derivation the service computed) with its
        exact lineage ``sources`` and, when its rows are people, the ``person_key`` column; never called with a
        frame a kernel sent."""
        if person_key is not None and person_key not in frame.columns:
            raise InvalidInput(f"person_key: {person_key!r} is not a column of the frame.", field="person_key")
        return self._save(frame, name, derived_from=derived_from, sources=lambda _conn: sorted(set(sources)),
                          made_by="workbench", person_key=person_key, spec=spec)

    def _save(self, frame: pd.DataFrame, name: str, *, derived_from: list[str], sources: Any,
              made_by: str = "analyst", person_key: str | None = None,
              spec: dict[str, Any] | None = None) -> records.SavedData:
        resource = f"{name} in project {self.project_id}"
        me = self._ctx.actor.username
        with self._ctx.write(audit_refusals_as=("data.save", resource)) as conn:
            project = project_row(conn, self.project_id)
            self._ctx.check("data.save", resource, **project_facts(conn, project, me))
            check_dataset_id(name, "name")
            if not isinstance(frame, pd.DataFrame):
                raise InvalidInput(f"frame: give a pandas DataFrame, not {type(frame).__name__}.", field="frame")
            if frame.columns.empty:
                raise InvalidInput("frame: the DataFrame has no columns.", field="frame")
            lineage_of = sources(conn)  # checks derived_from first
            return self._store(conn, frame, name, derived_from=list(derived_from), sources=lineage_of,
                               made_by=made_by, person_key=person_key, spec=spec, action="data.save", field="frame")

    def save_derived(self, conn: Connection, frame: pd.DataFrame, name: str, *, sources: list[str],
                     person_key: str | None, spec: dict[str, Any], made_by: str, action: str) -> records.SavedData:
        """Keep rows a service made itself (``project.derive``) as the next version of ``name``, in the caller's
        write transaction, after the caller asked the policy: exact lineage ``sources``, who made the rows, the
        person key the workbench tracked and the spec it followed; audited as ``action``."""
        check_dataset_id(name, "new_name")
        return self._store(conn, frame, name, derived_from=[spec["source"]], sources=sources, made_by=made_by,
                           person_key=person_key, spec=spec, action=action, field="new_name")

    def _store(self, conn: Connection, frame: pd.DataFrame, name: str, *, derived_from: list[str],
               sources: list[str], made_by: str, person_key: str | None, spec: dict[str, Any] | None, action: str,
               field: str) -> records.SavedData:
        """Write ``frame`` as the next version of ``name`` with its lineage, in the caller's transaction; audited
        as ``action``. A frame Arrow cannot store is refused on ``field``."""
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidInput(f"{field}: cannot be stored ({exc}); convert mixed-type columns first.",
                               field=field) from None
        me = self._ctx.actor.username
        version = (conn.execute(select(func.max(pd_t.c.version)).where(
            (pd_t.c.project_id == self.project_id) & (pd_t.c.name == name))).scalar() or 0) + 1
        path = self._ctx.vault.project_path(self.project_id, name, version)
        with self._ctx.vault.staged(path, table):
            conn.execute(insert(pd_t).values(
                project_id=self.project_id, name=name, version=version, columns=list(map(str, frame.columns)),
                row_count=len(frame), derived_from=derived_from, sources=sources, created_by=me,
                created_at=datetime.now(UTC), made_by=made_by, person_key=person_key, spec=spec))
            detail = {"rows": len(frame), "derived_from": derived_from, "sources": sources, "made_by": made_by,
                      "person_key": person_key}
            audit.append(conn, me, action, f"{name} v{version} in project {self.project_id}",
                         detail={**detail, "spec": spec} if spec is not None else detail)
        return {"name": name, "version": version, "rows": len(frame), "sources": sources}

    def datasets(self) -> pd.DataFrame:
        """Frames saved in the project, every version, with lineage (members only)."""
        rows = self._members_only(f"saved data of project {self.project_id}", lambda conn: conn.execute(
            select(pd_t).where(pd_t.c.project_id == self.project_id)
            .order_by(pd_t.c.name, pd_t.c.version)).mappings().all())
        return pd.DataFrame([{c: r[c] for c in SAVED_COLUMNS} for r in rows], columns=SAVED_COLUMNS)

    def read(self, name: str, version: int | None = None) -> pd.DataFrame:
        """A saved frame (the latest version unless ``version``), for members of the project, while the project
        holds a current grant for every dataset in its lineage. Each read is recorded: what the member saves
        afterwards inherits its lineage."""
        resource = f"{name} in project {self.project_id}"
        me = self._ctx.actor.username

        def find(conn: Connection) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
            check_dataset_id(name, "name")
            latest = conn.execute(select(func.max(pd_t.c.version)).where(
                (pd_t.c.project_id == self.project_id) & (pd_t.c.name == name))).scalar()
            if latest is None:
                raise NotFound(f"Project {self.project_id} has no saved frame {name!r}; project.datasets() lists "
                               "them.")
            if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                        or not 1 <= version <= latest):
                raise InvalidInput(f"version: {name} has versions 1 to {latest}, not {version!r}.", field="version")
            chosen = version or latest
            sources = conn.execute(select(pd_t.c.sources).where(
                (pd_t.c.project_id == self.project_id) & (pd_t.c.name == name) & (pd_t.c.version == chosen))
            ).scalar_one()
            facts = project_facts(conn, project_row(conn, self.project_id), me)
            return chosen, facts, lapsed(conn, self.project_id, sources, f"saved frame {name} v{chosen}")

        chosen, facts, gap = self._members_only(resource, find)
        if gap:
            self._ctx.require("data.read_saved", resource, **facts, lineage_lapsed=gap)
        frame = self._ctx.vault.read(self._ctx.vault.project_path(self.project_id, name, chosen))
        frame.attrs[SOURCES_ATTR] = [name]
        with self._ctx.write() as conn:
            conn.execute(insert(saved_reads).values(project_id=self.project_id, name=name, version=chosen,
                                                    username=me, at=datetime.now(UTC)))
            audit.append(conn, me, "data.read_saved", f"{name} v{chosen} in project {self.project_id}",
                         detail={"rows": len(frame)})
        return frame

    def _members_only(self, resource: str, then: Any) -> Any:
        require_in_project(self._ctx, "data.read_saved", resource, self.project_id)
        try:
            with self._ctx.db.read() as conn:
                return then(conn)
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("data.read_saved", resource, error) from None
