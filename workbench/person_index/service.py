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
key and normalised identifying fields, and a record whose fingerprint is unchanged keeps its ``index_id``. Each
member also keeps a keyed hash of its record key and raw identifying values: a record whose raw values are an old
member's takes that member's fingerprint without being normalised again, so an update normalises only the records
whose raw text changed (those whose normalised values did not change still keep their ids by fingerprint). A
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import jellyfish
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import func, insert, select

from workbench import audit
from workbench.catalogue import in_place, versions
from workbench.catalogue.in_place import IN_PLACE
from workbench.db.schema import datasets, person_index_updates
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.governance.conditions import dataset_row
from workbench.ids import check_dataset_id
from workbench.linkage.link import link
from workbench.linkage.spec import Field, LinkageSpec, default_blocking, infer_spec
from workbench.linkage.standardise import clean_text
from workbench.person_index import columns, decisions, store
from workbench.person_index import engine as engines
from workbench.person_index.columns import Coded, from_hex, hex_text, keyed_hashes, normalise_column, value_hashes

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
# the index's field kinds, those whose columns usually hold the most distinct values (longest to normalise) first
_LONGEST_FIRST = ("identifier", "postcode", "date", "surname", "given_name", "exact")
PERSON_ROLES = ("direct_identifier",)
UPDATE_COLUMNS = ["id", "dataset_id", "version", "fields", "relinked", "counts", "quality", "warnings",
                  "updated_by", "updated_at"]
# raw hashes stand for normalised values as this release normalises them: a change to normalising (columns.py)
# bumps this, so that no record keeps a fingerprint made the old way
_RAW_VERSION = 1
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


def _hash_key(secret: bytes) -> str:
    return hmac.new(secret, b"workbench.person_index.fingerprint", hashlib.sha256).hexdigest()[:16]


def _raw_hashes(table: pa.Table, names: list[str], keyed: bool, secret: bytes, fields: dict[str, str]) -> np.ndarray:
    """A keyed hash per record of its record key (its row number when it has none) and raw identifying values, as
    stored: records alike in it are alike once normalised, so an update need not normalise them again. Keyed with
    the workspace key, the fields read and the columns' types (another of either matches nothing): DuckDB's 64-bit
    hash of the values and a secret salt, then encrypted with AES under a key derived from both
    (``in_place.content_keys``), so a stored hash says nothing of the values without the workspace key."""
    chosen = table.select(names)
    described = f"{_RAW_VERSION}|{keyed}|{sorted(fields.items())}|{[str(t) for t in chosen.schema.types]}".encode()
    salt = hmac.new(secret, b"workbench.person_index.raw|" + described, hashlib.sha256).hexdigest()[:32]
    parts = chosen.rename_columns([f"c{i}" for i in range(len(names))])
    if not keyed:
        parts = parts.append_column("n", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    listed = ", ".join(parts.column_names)
    con = duckdb.connect(config={"threads": 1})
    try:
        con.register("records", parts)
        out = con.execute(f"SELECT hash('{salt}', {listed}) AS h FROM records").fetchnumpy()["h"]
    finally:
        con.close()
    return in_place.content_keys(np.asarray(out, dtype=np.uint64), salt.encode())


def _key_text(column: pa.ChunkedArray) -> np.ndarray:
    """Record keys as text (as ``str`` writes them), one object per record."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_integer(column.type):
        return column.cast(pa.string()).to_numpy(zero_copy_only=False).astype(object)
    return column.to_pandas().astype(str).to_numpy(dtype=object)


def _normalise_table(table: pa.Table, fields: dict[str, str]) -> dict[str, Coded]:
    return {name: normalise_column(table[column], INDEX_FIELDS[name]) for name, column in fields.items()}


def _normalise_hashed(column: pa.ChunkedArray, kind: str, hash_key: str) -> tuple[Coded, np.ndarray]:
    """One field normalised, and the keyed hash of each of its distinct values (for its records' fingerprints)."""
    coded = normalise_column(column, kind)
    return coded, value_hashes(coded.uniques, hash_key)


def normalise(frame: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """The index fields of ``frame`` (index field → column), normalised once per distinct value; missing values
    are None."""
    table = pa.Table.from_pandas(frame[list(dict.fromkeys(fields.values()))], preserve_index=False)
    return columns.frame(_normalise_table(table, fields)).set_axis(frame.index)


def fingerprints(normalised: pd.DataFrame, keys: pd.Series, secret: bytes) -> np.ndarray:
    """A keyed hash per record of its record key and every index field (absent fields marked), as hex text: equal
    exactly when the record and its identifying fields are unchanged, and meaningless without the workspace key."""
    coded = {}
    for name in INDEX_FIELDS:
        if name in normalised:
            codes, uniques = pd.factorize(normalised[name], use_na_sentinel=True)
            coded[name] = Coded(codes=codes.astype(np.int64), uniques=np.asarray(uniques, dtype=object))
    hashed = keyed_hashes(keys.astype(str).to_numpy(dtype=object), [coded.get(f) for f in INDEX_FIELDS],
                          _hash_key(secret))
    return hex_text(hashed).to_numpy(zero_copy_only=False).astype("<U16")


def _spec(fields: list[str], one_to_one: bool) -> LinkageSpec:
    compared = tuple(Field(name=f, kind=INDEX_FIELDS[f], left=f, right=f, tf=f in ("given_name", "surname"))
                     for f in fields)
    return LinkageSpec(fields=compared, blocking=default_blocking(compared), one_to_one=one_to_one)


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

    members: pa.Table | None
    persons: _Persons | None
    fields: dict[str, str]
    relinked: bool
    counts: dict[str, int]
    quality: dict[str, Any]
    warnings: list[str]
    review: pd.DataFrame | None
    path: Path | str  # the dataset file, or the ``store.in_place_stamp`` of a dataset read in place
    coded: dict[str, Coded] | None = None  # the records' normalised identifying fields
    norm: pd.DataFrame | None = None  # the same as a frame, made only for clerical decisions to apply


PERSON_SCHEMA = pa.schema([("index_id", pa.string()), *[(f, pa.string()) for f in INDEX_FIELDS]])


class _Persons:
    """The index's persons as an Arrow table (``index_id`` and the normalised fields, text): an update reads,
    searches and changes it without making a Python object per person."""

    def __init__(self, table: pa.Table, changed: np.ndarray | None = None) -> None:
        missing = [f for f in PERSON_SCHEMA.names if f not in table.column_names]
        for name in missing:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
        self.table = table.select(PERSON_SCHEMA.names).cast(PERSON_SCHEMA).combine_chunks()
        # positions of the persons changed or added since they were read from the index (None: all of them)
        self.changed = changed
        self._ids: pa.Array | None = None
        self._dictionaries: dict[str, tuple[np.ndarray, pa.Array]] = {}

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def ids(self) -> pa.Array:
        if self._ids is None:
            self._ids = self.table.column("index_id").combine_chunks()
        return self._ids

    def holds(self, ids: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
        """Which of ``ids`` are persons of the index (False for null). The few ids are hashed and every person's
        looked up in them, rather than a hash table made of every person's."""
        values = ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(ids, type=pa.string())
        taken = self.ids.filter(pc.fill_null(pc.is_in(self.ids, value_set=values), False))
        return pc.fill_null(pc.is_in(values, value_set=taken), False).to_numpy(zero_copy_only=False)

    def positions(self, ids: pa.Array) -> np.ndarray:
        """Each id's row among the persons (-1 where it is none of them)."""
        return pc.fill_null(pc.index_in(ids, value_set=self.ids), -1).to_numpy(zero_copy_only=False)

    def held(self, field: str) -> bool:
        """Whether some person has ``field``."""
        column = self.table.column(field)
        return column.null_count < len(column)

    def frame(self, mask: np.ndarray | None = None) -> pd.DataFrame:
        """The persons (those of ``mask``) as a frame of objects, None where a field is missing."""
        table = self.table if mask is None else self.table.filter(pa.array(mask))
        return table.to_pandas()

    def fresh_ids(self, count: int) -> np.ndarray:
        """``count`` new index ids (as ``new_index_ids`` makes them) that no person holds."""
        out = np.empty(0, dtype=object)
        while len(out) < count:
            raw = np.unique(np.frombuffer(os.urandom(8 * (count - len(out))), dtype=np.uint64))
            text = pc.binary_join_element_wise("wbp_", hex_text(raw), "")
            fresh = text.to_numpy(zero_copy_only=False).astype(object)
            fresh = fresh[~self.holds(text) & ~np.isin(fresh, out)]
            # in random order: an id says nothing of when it was made
            out = np.concatenate([out, fresh[np.argsort(np.frombuffer(os.urandom(8 * len(fresh)), np.uint64))]])
        return out[:count]

    def _dictionary(self, field: str) -> tuple[np.ndarray, pa.Array]:
        if field not in self._dictionaries:
            self._dictionaries[field] = columns.dictionary(self.table.column(field))
        return self._dictionaries[field]

    def near(self, records: pd.DataFrame, spec: LinkageSpec) -> np.ndarray:
        """Which persons share the keys of some blocking rule with some record: the only persons the engine could
        pair with them, so linking a few records to a large index standardises and compares only those. A rule's
        whole-value parts pick the persons holding one of the records' values (a hash look-up over the persons'
        column); each key part is made once for every rule using it, as an integer per person (from the field's
        distinct values, or for a postcode's parts only for the persons who could share one), and keys compared as
        integers."""
        keep = np.zeros(len(self), dtype=bool)
        made: dict[tuple[str, str], tuple[pa.Array, np.ndarray, pd.Index]] = {}
        keyed: dict[tuple[str, str], np.ndarray] = {}  # (field, transform) → each person's key code

        def part_of(name: str, transform: str) -> tuple[pa.Array, np.ndarray, pd.Index]:
            if (name, transform) not in made:
                values = pa.array(records[name].to_numpy(dtype=object), type=pa.string())
                codes, distinct = columns.dictionary(values)
                keys = _keys(distinct, transform)
                wanted = pd.Index(pd.unique(keys[pd.notna(keys)]))
                record_code = np.append(wanted.get_indexer(keys), -1)[codes]
                made[name, transform] = (pa.array(wanted.to_numpy(dtype=object), type=pa.string()), record_code,
                                         wanted)
            return made[name, transform]

        def key_codes(name: str, transform: str) -> np.ndarray:
            # every person's key as a code among the records' keys (-1: none of them), made once for all the rules
            # using it: from the field's distinct values, or for a postcode's parts (hundreds of thousands of
            # distinct values) only for the persons whose value could give one of the records' keys
            if (name, transform) not in keyed:
                value_set, _, wanted = part_of(name, transform)
                if transform == "value":  # a hash look-up of every person's value in the records' values
                    keyed[name, transform] = pc.fill_null(pc.index_in(self.table.column(name), value_set=value_set),
                                                          -1).to_numpy(zero_copy_only=False).astype(np.int64)
                elif transform in ("sector", "district"):  # hundreds of thousands of distinct postcodes: no
                    # dictionary of them, every person's key made and looked up in Arrow
                    keyed[name, transform] = pc.fill_null(pc.index_in(
                        _key_array(self.table.column(name).combine_chunks(), transform), value_set=value_set),
                        -1).to_numpy(zero_copy_only=False).astype(np.int64)
                else:
                    codes, distinct = self._dictionary(name)
                    keyed[name, transform] = np.append(wanted.get_indexer(_keys(distinct, transform)), -1)[codes]
            return keyed[name, transform]

        for rule in spec.blocking:
            parts = []
            for key in rule:
                name, _, transform = key.partition(":")
                transform = transform or "value"
                if name not in records or transform not in _TRANSFORMS:
                    return np.ones(len(self), dtype=bool)  # a key this cannot make: every person may meet
                parts.append((name, transform))
            chosen = np.ones(len(self), dtype=bool)
            for name, transform in parts:
                if transform == "value":  # a field in several rules (dob, postcode) is looked up once
                    chosen &= key_codes(name, transform) >= 0
            candidates = np.flatnonzero(chosen)
            if not candidates.size:
                continue
            everyone = candidates.size == len(self)
            record_parts, person_parts, sizes = [], [], []
            for name, transform in parts:
                _, record_code, wanted = part_of(name, transform)
                person_keys = key_codes(name, transform)
                person_parts.append(person_keys if everyone else person_keys[candidates])
                record_parts.append(record_code)
                sizes.append(max(len(wanted), 1))
            if np.prod(np.asarray(sizes, dtype=float)) >= 2.0 ** 62:
                return np.ones(len(self), dtype=bool)  # keys too many to number: every person may meet
            record_key, record_ok = _mixed(record_parts, sizes)
            person_key, person_ok = _mixed(person_parts, sizes)
            wanted_keys = np.unique(record_key[record_ok])
            keep[candidates[person_ok & np.isin(person_key, wanted_keys)]] = True
        return keep

    def filled(self, part: pd.DataFrame, position: np.ndarray) -> _Persons:
        """Persons' missing fields filled from the records just linked to them (``position``: each record's
        person, -1 for none), with each person's first record holding the field (e.g. an NHS number a survey
        lacked); only the persons with gaps are rewritten."""
        linked = (position >= 0) & (position < len(self))
        if not linked.any():
            return self
        table, rows = self.table, np.empty(0, dtype=np.int64)
        for f in INDEX_FIELDS:
            if f not in part:
                continue
            column = table.column(f).combine_chunks()
            values = part[f].to_numpy(dtype=object)
            usable = linked & pd.notna(values)
            if not usable.any() or column.null_count == 0:
                continue
            persons, index = np.unique(position[usable], return_index=True)  # each person's first record
            gap = column.is_null().to_numpy(zero_copy_only=False)[persons]
            if not gap.any():
                continue
            targets = persons[gap]
            fill = pa.array(values[usable][index][gap], type=pa.string())
            order = np.arange(len(self), dtype=np.int64)
            order[targets] = len(self) + np.arange(targets.size)
            table = table.set_column(table.schema.get_field_index(f), f,
                                     pa.concat_arrays([column, fill]).take(pa.array(order)))
            rows = np.union1d(rows, targets)
        if not rows.size:
            return self
        return _Persons(table, None if self.changed is None else np.union1d(self.changed, rows))

    def appended(self, new: pa.Table) -> _Persons:
        if not new.num_rows:
            return self
        changed = None if self.changed is None else np.union1d(self.changed, len(self) + np.arange(new.num_rows))
        return _Persons(pa.concat_tables([self.table, new.cast(PERSON_SCHEMA)]), changed)


_TRANSFORMS = ("value", "initial", "first3", "soundex", "year", "month_day", "year_month", "sector", "district")
_POSTCODE = r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?)(?P<inward>[0-9][A-Z]{2})$"  # standardise.postcode_parts


def _keys(values: pa.Array, transform: str) -> np.ndarray:
    """A blocking key transform of distinct normalised values, as the engine computes it (None where it has
    none), as objects (``_key_array``)."""
    return _key_array(values, transform).to_numpy(zero_copy_only=False).astype(object)


def _key_array(values: pa.Array, transform: str) -> pa.Array:
    """A blocking key transform of normalised values, as the engine computes it (null where it has none); text
    slices and postcode parts as Arrow expressions, soundex one value at a time."""
    values = values.cast(pa.string())
    if transform == "value":
        out = values
    elif transform in ("initial", "first3", "year", "month_day", "year_month"):
        start, stop = {"initial": (0, 1), "first3": (0, 3), "year": (0, 4), "month_day": (4, 8),
                       "year_month": (0, 6)}[transform]
        out = pc.utf8_slice_codeunits(values, start, stop)
    elif transform == "soundex":
        out = pa.array([jellyfish.soundex(clean_text(v)) if v else "" for v in values.to_pylist()], pa.string())
    else:  # sector, district: the outward code (and the inward's first digit) of a UK postcode, else the code
        # less two (district) or one (sector) characters; a UK postcode's inward code is its last three characters
        # (a match, then slices: quicker than the expression's captures)
        uk = pc.match_substring_regex(values, _POSTCODE)
        outward = pc.utf8_slice_codeunits(values, 0, -3)
        if transform == "district":
            out = pc.if_else(uk, outward, pc.utf8_slice_codeunits(values, 0, -2))
        else:
            out = pc.if_else(uk, pc.binary_join_element_wise(outward, pc.utf8_slice_codeunits(values, -3, -2), " "),
                             pc.utf8_slice_codeunits(values, 0, -1))
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def _mixed(parts: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row from several key codes (-1 missing): (combined, complete)."""
    ok = np.logical_and.reduce([p >= 0 for p in parts])
    combined = np.zeros(len(parts[0]), dtype=np.int64)
    for p, size in zip(parts, sizes, strict=True):
        combined = combined * size + np.maximum(p, 0)
    return combined, ok


class PersonIndex:
    """The workspace's person index: ``ws.person_index.build()``, ``.refresh()``, ``.status()``,
    ``.quality(dataset_id)``, ``.review_pairs(dataset_id)``, ``.decide(dataset_id, pair, decision)``."""

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
        persons = store.person_count(root)
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
        dataset's row, the candidate (an index id, or another row of the dataset), weight and probability, and
        ``fields``: the identifying fields the update compared, normalised, of the record and of the candidate side
        by side with their agreement (``review_fields``), so that a linker can judge the pair; None when the
        dataset's file changed since the update (the rows may be other records now)."""
        check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("index.read", f"person-index review pairs of dataset {dataset_id}")
        root = self._ctx.vault.root
        frame = store.review(root, dataset_id)
        fields: dict[str, str] = {}
        if frame is not None:
            with self._ctx.db.read() as conn:
                frame = decisions.undecided(conn, dataset_id, frame)
                latest = latest_quality(conn, dataset_id)
            fields = {f: c for f, c in (latest or {}).get("fields", {}).items() if f in INDEX_FIELDS}
            frame = frame.assign(fields=review_fields(root, self._ctx.vault.dataset_path(dataset_id), dataset_id,
                                                      frame, fields))
        shown = frame is not None and bool(frame["fields"].notna().any())
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "index.review", f"dataset {dataset_id}",
                         detail={"pairs": 0 if frame is None else len(frame),
                                 "fields": list(fields) if shown else []})
        return frame if frame is not None else pd.DataFrame(columns=["kind", "row", "candidate", "match_weight",
                                                                     "match_probability", "accepted", "fields"])

    def decide(self, dataset_id: str, pair: Any, decision: str, note: str | None = None) -> dict[str, Any]:
        """Decide one review pair (a row of ``review_pairs``) "match" or "non-match" (admins and linkers); the
        pair leaves the queue, and the dataset's next update applies it (``workbench.person_index.decisions``)."""
        return decisions.decide(self._ctx, dataset_id, pair, decision, note)

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
                                                          .where(datasets.c.has_data.in_((1, IN_PLACE)))
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
            rows = [dict(r) for r in conn.execute(select(datasets.c.id, datasets.c.record, datasets.c.has_data)
                                                  .where(datasets.c.has_data.in_((1, IN_PLACE)))
                                                  .order_by(datasets.c.registered_at, datasets.c.id)).mappings()]
        wanted = [r["id"] for r in rows if is_person_level(r["record"])]
        # a source read in place may have changed unseen: it is read again (unchanged records keep their ids)
        placed = {r["id"] for r in rows if r["has_data"] == IN_PLACE}
        stale = [d for d in wanted
                 if d in placed or store.index_ids(root, d, self._ctx.vault.dataset_path(d)) is None]
        with self._ctx.db.read() as conn:  # clerical decisions are applied at an update
            stale += [d for d in decisions.pending_datasets(conn, wanted) if d not in stale]
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
        held = store.persons_table(root)
        persons = (_Persons(held, np.empty(0, dtype=np.int64)) if held is not None
                   else _Persons(PERSON_SCHEMA.empty_table()))
        with self._ctx.db.read() as conn:
            rows = {d: dataset_row(conn, d) for d in dataset_ids}
            previous = {d: latest_quality(conn, d) for d in dataset_ids}
            waiting = decisions.pending(conn, dataset_ids)
        linked: dict[str, _Linked] = {}
        dropped = list(removed)
        for d in dataset_ids:
            item = self._link(rows[d], persons, previous[d], quick=not waiting.get(d))
            if item is not None:
                linked[d] = item
                persons = item.persons if item.persons is not None else persons
            else:
                linked[d] = self._unlinkable(rows[d])
                if store.members(root, d) is not None:
                    dropped.append(d)  # its identifying columns are gone: so are its members
        removed = tuple(dropped)
        persons, applied = _apply_decisions(waiting, linked, persons, root) if waiting else (persons, {})
        me = self._ctx.actor.username
        now = datetime.now(UTC)
        truth = self._measure(linked) if linked else {}
        with self._ctx.write() as conn:
            if store.current(root) != base:
                return None
            changed = {d: (item.members, item.path) for d, item in linked.items() if item.path is not None}
            version = store.commit(root, persons.table, changed, removed=removed,
                                   persons_changed=persons.changed) if changed or removed else (
                base.name if base is not None else "")
            for d, item in linked.items():
                if d in truth:
                    item.quality["measured"] = truth[d]
                update_id = conn.execute(insert(person_index_updates).values(
                    dataset_id=d, version=version, fields=item.fields, relinked=int(item.relinked),
                    counts=item.counts, quality=_jsonable(item.quality), warnings=item.warnings, updated_by=me,
                    updated_at=now).returning(person_index_updates.c.id)).scalar_one()
                decisions.mark_applied(conn, applied.get(d, []), update_id)
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
        return _Linked(members=None, persons=None, fields={}, relinked=False, counts=counts,
                       quality={"coverage": 0.0, "match_rate": None}, warnings=[warning], review=None,
                       path=None)  # type: ignore[arg-type]  # nothing to write for it

    def _link(self, row: dict[str, Any], persons: _Persons, previous: dict[str, Any] | None,
              quick: bool = True) -> _Linked | None:
        """Link one dataset's new or changed records to ``persons``; None when it has no linkable fields.
        ``quick``: records whose raw values are unchanged are not normalised (False: every record is, for
        clerical decisions to apply to)."""
        record = row["record"]
        fields = linkable_fields(record)
        if not fields:
            return None
        place = None
        file = self._ctx.vault.dataset_path(row["id"])
        path: Path | str = file
        if row.get("has_data") == IN_PLACE:
            # no stable rows: each record is named by its content key, the members tied to the version linked
            with self._ctx.db.read() as conn:
                place = in_place.lookup(conn, self._ctx.vault.root, row)
                stamp = store.in_place_stamp(versions.current(conn, row["id"]))
            if place is None:
                raise NotFound(f"{row['id']} is registered in place but the workspace keeps no source for it; its "
                               "owner must register it again.")
            path = stamp
        elif not file.exists():
            raise NotFound(f"The vault holds no data for {row['id']}; its owner must register it with data.")
        secret = bytes.fromhex(self._ctx.secrets["pseudonymisation_key"])
        key = record_key(record)
        names = list(dict.fromkeys(([key] if key else []) + list(fields.values())))
        relinked = previous is not None and previous.get("fields") != fields
        # the old members (read, and their persons found) and the records' fields (each normalised) are
        # independent: Arrow's reading, hashing and look-ups run outside the GIL, so they overlap in threads
        with ThreadPoolExecutor(max_workers=2) as workers:
            prior = None if relinked else workers.submit(_old_members, self._ctx.vault.root, row["id"], persons)
            content = None
            if place is not None:
                table, digests = in_place.read_keyed(place, list(record.get("columns", [])), names, {})
                content = in_place.content_keys(digests, secret)
            else:
                table = pq.read_table(file, columns=names)
            n = table.num_rows
            hash_key = _hash_key(secret)
            raw_job = workers.submit(_raw_hashes, table, names, key is not None, secret, fields)
            # each field normalised and its distinct values hashed in a task; the fields of many distinct values
            # (identifiers, postcodes) first, so the longest tasks start first. The identity fields of every
            # record (their conflicts are counted over all of them), the others of the records to compare only.
            by_length = sorted(fields, key=lambda f: _LONGEST_FIRST.index(INDEX_FIELDS[f]))
            whole = {name: workers.submit(_normalise_hashed, table[fields[name]], INDEX_FIELDS[name], hash_key)
                     for name in by_length if name in IDENTITY_FIELDS}
            old_ids, old_fp, readable, old_at, old_raw = prior.result() if prior is not None else _NO_MEMBERS
            raw = raw_job.result()
            # a record whose raw key and values are an old member's (one with a person) has its fingerprint:
            # only the others are normalised (a dataset read in place, or with decisions to apply: all of them)
            found = np.full(n, -1, dtype=np.int64)
            if old_raw is not None and quick and place is None:
                found = _matching(raw, old_raw, readable & (old_at >= 0))
            hit = found >= 0
            todo = np.flatnonzero(~hit)
            part = table if todo.size == n else table.take(pa.array(todo))
            rest = {name: workers.submit(_normalise_hashed, part[fields[name]], INDEX_FIELDS[name], hash_key)
                    for name in by_length if name not in IDENTITY_FIELDS}
            keys = (_key_text(part.column(key)) if key
                    else content[todo].astype(str).astype(object) if content is not None  # rows move at a source
                    else todo.astype(str).astype(object))
            key_hashes = value_hashes(keys, hash_key)
            done = {name: (whole[name] if name in whole else rest[name]).result() for name in fields}
        coded: dict[str, Coded] = {}  # every record's, in the fields' order
        chosen: dict[str, Coded] = {}  # the records compared
        for name, (c, _) in done.items():
            if todo.size == n:
                coded[name] = chosen[name] = c
            elif name in whole:
                coded[name], chosen[name] = c, Coded(codes=c.codes[todo], uniques=c.uniques)
            else:
                codes = np.full(n, -1, dtype=np.int64)
                codes[todo] = c.codes
                coded[name], chosen[name] = Coded(codes=codes, uniques=c.uniques), c
        fp = np.empty(n, dtype=np.uint64)
        fp[hit] = old_fp[found[hit]]
        fp[todo] = keyed_hashes(keys, [chosen.get(f) for f in INDEX_FIELDS], hash_key,
                                hashed=(key_hashes, [done[f][1] if f in done else None for f in INDEX_FIELDS]))
        position = np.full(n, -1, dtype=np.int64)  # the old member whose index id each record keeps
        if len(old_ids):
            # never a person the index no longer holds
            position = _matching(fp, old_fp, readable & (old_at >= 0))
        unchanged = position >= 0
        # records found by their raw values had a person, so they hold values (their fields not normalised: -1)
        empty = np.logical_and.reduce([c.codes < 0 for c in coded.values()]) & ~hit
        compare = ~unchanged & ~empty
        rows = np.flatnonzero(compare)
        stage = _Stage()
        linked_count, new_count = 0, 0
        assigned = np.empty(0, dtype=object)
        person_at = np.where(unchanged, old_at[np.maximum(position, 0)] if old_at.size else -1, -1)
        if rows.size:
            # records with the same identifying fields (a patient's episodes) are one identity: link each once
            group, first = _identities(coded, rows)
            distinct = columns.frame(coded, rows[first])
            ids_once, at_once, new_persons = self._assign(distinct, persons, stage)
            assigned = ids_once[group]
            person_at[rows] = at_once[group]
            linked_count = int(((at_once[group] >= 0) & (at_once[group] < len(persons))).sum())
            new_count = new_persons.num_rows
            persons = persons.filled(distinct, at_once).appended(new_persons)
            if stage.review is not None:
                stage.review["row"] = rows[first[stage.review["row"].to_numpy()]]
                if (stage.review["kind"] == "record").any():
                    within = stage.review["kind"] == "record"
                    candidates = stage.review.loc[within, "candidate"].astype(np.int64).to_numpy()
                    stage.review.loc[within, "candidate"] = rows[first[candidates]].astype(str)
        # each record's index id: its old member's, the one just assigned, or none
        which = np.where(unchanged, position, -1)
        which[rows] = len(old_ids) + np.arange(rows.size)
        pool = pa.concat_arrays([old_ids, pa.array(assigned, type=pa.string())])
        ids = pc.take(pool, pa.array(which, mask=which < 0))
        members = pa.table({"row": pa.array(np.arange(n, dtype=np.int64)), "index_id": ids,
                            "fingerprint": hex_text(fp), store.RAW: pa.array(raw, pa.uint64())})
        if content is not None:
            members = members.append_column(store.CONTENT, pa.array(content, pa.uint64()))
        counts = {"records": n, "compared": int(rows.size), "unchanged": int(unchanged.sum()), "linked": linked_count,
                  "new_persons": new_count, "unlinked": int(empty.sum() - (empty & unchanged).sum()),
                  "review": 0 if stage.review is None else len(stage.review)}
        quality = _quality(stage, counts, 1.0 - ids.null_count / n if n else 0.0)
        quality["engine"] = self._engine.name if rows.size else None  # which engine compared the records
        if not rows.size and previous is not None and not relinked:
            # nothing compared: the model's estimates and the review pairs of the last comparison still hold
            for name in ("match_rate", "estimated_precision", "estimated_recall", "expected", "engine"):
                quality[name] = previous.get(name)
            quality["review_held"] = previous.get("review_held", previous.get("review", 0))
        else:
            quality["review_held"] = counts["review"]
        warnings = _conflicts(coded, person_at, persons)
        review = stage.review if rows.size or previous is None or relinked else _KEEP
        if review is not None and len(review) > REVIEW_KEPT:
            review = review.nsmallest(REVIEW_KEPT, "match_probability")
        return _Linked(members=members, persons=persons, fields=fields, relinked=bool(relinked), counts=counts,
                       quality=quality, warnings=warnings, review=review, path=path, coded=coded)

    def _assign(self, part: pd.DataFrame, persons: _Persons, stage: _Stage) -> tuple[np.ndarray, np.ndarray, pa.Table]:
        """Each record's index id: its best person above the threshold, else its within-dataset cluster's person,
        else a new person made from the cluster. Returns (ids, each record's person as a position among the
        persons, the new ones after the existing, the new persons)."""
        m = len(part)
        best = np.full(m, -1, dtype=np.int64)
        best_weight = np.full(m, -np.inf)
        existing_ids = np.empty(0, dtype=object)
        at = np.empty(0, dtype=np.int64)  # each candidate's position among the persons
        usable = [f for f in INDEX_FIELDS if f in part and part[f].notna().any() and persons.held(f)] \
            if len(persons) else []
        result = None
        if usable and len(_core(usable)) >= 2:
            # a few records against a large index: only the persons sharing a blocking key with them
            near = persons.near(part, _spec(usable, one_to_one=False)) if len(persons) > NEAR_RATIO * m else None
            if near is None or near.any():
                candidates = persons.frame(near)
                existing_ids = candidates["index_id"].to_numpy(dtype=object)
                at = np.arange(len(persons), dtype=np.int64) if near is None else np.flatnonzero(near)
                result = _link_or_none(part, candidates, usable, self._engine.linkage)
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
        chosen = best.copy()  # each record's candidate
        # a cluster goes to the person its members linked to most strongly
        frame = pd.DataFrame({"cluster": cluster, "best": best, "weight": best_weight})
        strongest = (frame[frame["best"] >= 0].sort_values("weight", ascending=False, kind="stable")
                     .drop_duplicates("cluster").set_index("cluster")["best"])
        unassigned = best < 0
        via_cluster = pd.Series(cluster[unassigned]).map(strongest).to_numpy()
        has = ~pd.isna(via_cluster)
        where = np.flatnonzero(unassigned)
        chosen[where[has]] = via_cluster[has].astype(np.int64)
        ids = np.empty(m, dtype=object)
        position = np.full(m, -1, dtype=np.int64)
        ids[chosen >= 0] = existing_ids[chosen[chosen >= 0]]
        position[chosen >= 0] = at[chosen[chosen >= 0]]
        still = where[~has]
        new_persons = PERSON_SCHEMA.empty_table()
        if still.size:
            number, clusters = pd.factorize(cluster[still])  # new persons in order of their first record
            new_ids = persons.fresh_ids(len(clusters))
            ids[still] = new_ids[number]
            position[still] = len(persons) + number
            # each new person's fields: the first of its records' values, field by field
            fields = {}
            for f in INDEX_FIELDS:
                values = part[f].to_numpy(dtype=object)[still] if f in part else np.full(still.size, None)
                held = pd.notna(values)
                firsts = np.full(len(clusters), None, dtype=object)
                taken, index = np.unique(number[held], return_index=True)
                firsts[taken] = values[held][index]
                fields[f] = pa.array(firsts, type=pa.string())
            new_persons = pa.table({"index_id": pa.array(new_ids, type=pa.string()), **fields}, schema=PERSON_SCHEMA)
        return ids, position, new_persons

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
            held = linked[d].members if d in linked else None
            members = held.to_pandas() if held is not None else store.members(root, d)
            if key is None or members is None or not len(members):
                continue
            if not self._ctx.vault.dataset_path(d).is_file():
                continue  # read in place: its rows are not in the members' order
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


def agreement(record: str | None, candidate: str | None) -> str:
    """How two normalised values of one field compare, in a word: "same", "differs", or "missing" (either side
    holds none, so the field says nothing about the pair)."""
    if record is None or candidate is None:
        return "missing"
    return "same" if record == candidate else "differs"


def review_fields(vault_root: Path, dataset_file: Path, dataset_id: str, pairs: pd.DataFrame,
                  fields: dict[str, str]) -> list[list[dict[str, Any]] | None]:
    """Per review pair, each of ``fields`` (index field → the dataset's column, as its last update read them):
    ``{"field", "record", "candidate", "agreement"}``, the record's value and the candidate's (the index person's
    stored value, or the other record's), normalised as the index normalises them. Reads only the row groups of
    the dataset file holding the pairs' rows, and only the persons named. None for every pair when the file is not
    the one the index was built from (its rows may be other records now) or nothing was linked on."""
    if not fields or not len(pairs) or not dataset_file.is_file() \
            or store.members_stamp(vault_root, dataset_id) != store.dataset_stamp(dataset_file):
        return [None] * len(pairs)
    rows = pairs["row"].astype(np.int64).to_numpy()
    is_record = (pairs["kind"] == "record").to_numpy()
    candidates = pairs["candidate"].astype(str).to_numpy(dtype=object)
    wanted = np.unique(np.concatenate([rows, candidates[is_record].astype(np.int64)]))
    values = _record_fields(dataset_file, fields, wanted)
    named = pa.array(np.unique(candidates[~is_record]).tolist(), type=pa.string())
    persons = store.persons_table(vault_root, ["index_id", *fields]) if len(named) else None
    held: dict[str, dict[str, str | None]] = {}
    if persons is not None:
        chosen = persons.filter(pc.fill_null(pc.is_in(persons.column("index_id"), value_set=named), False))
        held = {p["index_id"]: p for p in chosen.to_pylist()}
    out: list[list[dict[str, Any]] | None] = []
    nothing: dict[str, str | None] = {}
    for row, candidate, within in zip(rows, candidates, is_record, strict=True):
        mine = values.get(int(row), nothing)
        theirs = values.get(int(candidate), nothing) if within else held.get(candidate, nothing)
        out.append([{"field": f, "record": mine.get(f), "candidate": theirs.get(f),
                     "agreement": agreement(mine.get(f), theirs.get(f))} for f in fields])
    return out


def _record_fields(dataset_file: Path, fields: dict[str, str], rows: np.ndarray) -> dict[int, dict[str, str | None]]:
    """The normalised ``fields`` of the dataset file's ``rows`` (sorted, distinct), row → field → value, read from
    the row groups holding them only."""
    file = pq.ParquetFile(dataset_file)
    sizes = np.array([file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rows = rows[(rows >= 0) & (rows < starts[-1])]
    if not rows.size:
        return {}
    group = np.searchsorted(starts, rows, side="right") - 1
    groups = np.unique(group)
    table = file.read_row_groups(groups.tolist(), columns=list(dict.fromkeys(fields.values())))
    offsets = np.concatenate([[0], np.cumsum(sizes[groups])]).astype(np.int64)
    local = offsets[np.searchsorted(groups, group)] + rows - starts[group]
    normalised = columns.frame(_normalise_table(table.take(pa.array(local)), fields))
    return {int(r): {f: normalised[f].iloc[i] for f in fields} for i, r in enumerate(rows)}


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


_NO_MEMBERS = (pa.array([], type=pa.string()), np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool),
               np.empty(0, dtype=np.int64), None)


def _old_members(root: Path, dataset_id: str, persons: _Persons) -> tuple[pa.Array, np.ndarray, np.ndarray,
                                                                           np.ndarray, np.ndarray | None]:
    """The dataset's live members: (index ids, fingerprints, which fingerprints are readable, each member's person
    as a position among ``persons``, -1 where it holds none, their raw hashes or None when the file has none);
    empty when it has none."""
    old = store.members_table(root, dataset_id, ["index_id", "fingerprint", store.RAW])
    if old is None or not old.num_rows:
        return _NO_MEMBERS
    ids = old.column("index_id").combine_chunks().cast(pa.string())
    fp, readable = from_hex(old.column("fingerprint"))
    raw = None
    if store.RAW in old.column_names and old.column(store.RAW).null_count == 0:
        raw = old.column(store.RAW).combine_chunks().cast(pa.uint64()).to_numpy()
    return ids, fp, readable, persons.positions(ids), raw


def _identities(coded: dict[str, Coded], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each of ``rows``' identity number, the first of them of each identity, both in order of first appearance):
    records alike in every identifying field (missing alike) are one identity. Compared as the fields' codes."""
    group = np.zeros(rows.size, dtype=np.int64)
    for c in coded.values():
        # the identity so far and this field's code as one number, renumbered: never more than rows.size groups
        group = pd.factorize(group * np.int64(len(c.uniques) + 1) + (c.codes[rows] + 1))[0].astype(np.int64)
    return group, np.unique(group, return_index=True)[1].astype(np.int64)


def _matching(new: np.ndarray, old: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """For each new fingerprint, the first usable old row with that fingerprint (-1 where none): rows in place are
    compared directly, the rest looked up among the old rows holding one of their fingerprints, sorted."""
    out = np.full(len(new), -1, dtype=np.int64)
    if not usable.any():
        return out
    same = min(len(new), len(old))
    in_place = (new[:same] == old[:same]) & usable[:same]
    out[:same][in_place] = np.flatnonzero(in_place)
    rest = np.flatnonzero(out < 0)
    if rest.size:
        candidates = np.flatnonzero(usable)
        # only the old rows holding one of the fingerprints looked for (found by a hash look-up) are sorted
        candidates = candidates[pd.Series(old[candidates], copy=False).isin(new[rest]).to_numpy()]
        order = candidates[np.argsort(old[candidates], kind="stable")]
        sorted_fp = old[order]
        at = np.searchsorted(sorted_fp, new[rest])
        hit = at < sorted_fp.size
        hit[hit] = sorted_fp[at[hit]] == new[rest][hit]
        out[rest[hit]] = order[at[hit]]
    return out


def _core(fields: list[str]) -> list[str]:
    return [f for f in fields if f != "sex"]


def _apply_decisions(waiting: dict[str, list[decisions.Pending]], linked: dict[str, _Linked], persons: _Persons,
                     root: Path) -> tuple[_Persons, dict[str, list[tuple[int, str]]]]:
    """Apply clerical decisions (``decisions.apply``, which works on frames): the update's members and persons are
    made frames, and back, only for an update that has decisions to apply."""
    shown = {d: item for d, item in linked.items() if item.members is not None}
    schemas = {d: item.members.schema for d, item in shown.items() if item.members is not None}
    for d, item in shown.items():
        item.members = item.members.to_pandas() if item.members is not None else None  # a frame while they apply
        item.norm = columns.frame(item.coded) if d in waiting and item.coded is not None else None
    frame, applied = decisions.apply(waiting, shown, persons.frame(), root, new_index_ids, _KEEP)
    for d, item in shown.items():
        item.members = pa.Table.from_pandas(item.members, schema=schemas[d], preserve_index=False)
        item.norm = None
    return _Persons(pa.Table.from_pandas(frame, preserve_index=False)), applied


def _quality(stage: _Stage, counts: dict[str, int], coverage: float) -> dict[str, Any]:
    tp, fp, fn = stage.expected_tp, stage.expected_fp, stage.expected_fn
    return {
        "coverage": float(coverage),
        "match_rate": counts["linked"] / counts["compared"] if counts["compared"] else None,
        "estimated_precision": tp / (tp + fp) if tp + fp else None,
        "estimated_recall": tp / (tp + fn) if tp + fn else None,
        "expected": {"true_positives": tp, "false_positives": fp, "false_negatives": fn},
        "review_band": list(REVIEW_BAND),
    }


def _conflicts(coded: dict[str, Coded], person_at: np.ndarray, persons: _Persons) -> list[str]:
    """Warnings: persons to whom records with different NHS numbers (or NINOs) were linked, or whose records'
    number differs from the one the index holds for them (``person_at``: each record's person's position)."""
    out = []
    for f in IDENTITY_FIELDS:
        if f not in coded:
            continue
        value = coded[f].codes
        present = (person_at >= 0) & (value >= 0)
        if not present.any():
            continue
        # each person's lowest and highest value code (scattered, not sorted): two values when they differ
        owner, code = person_at[present], value[present]
        low = np.full(int(owner.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
        high = np.full(low.size, -1, dtype=np.int64)
        np.minimum.at(low, owner, code)
        np.maximum.at(high, owner, code)
        owners = np.flatnonzero(high >= 0)
        clashes = int((low[owners] != high[owners]).sum())
        single = owners[low[owners] == high[owners]]  # persons of one value: does the index hold another?
        if single.size and persons.held(f):
            values = pa.array(coded[f].uniques[low[single]], type=pa.string())
            held = persons.table.column(f).take(pa.array(single))
            clashes += int(pc.sum(pc.fill_null(pc.not_equal(held, values), False)).as_py() or 0)
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
            "version": row["version"],
            "updates": int(count), "updated_by": row["updated_by"], "updated_at": _iso(row["updated_at"]),
            **decisions.counts(conn, dataset_id)}


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


__all__ = ["INDEX_FIELDS", "PersonIndex", "agreement", "fingerprints", "is_person_level", "latest_quality",
           "linkable_fields", "new_index_ids", "normalise", "pair_counts", "record_key", "review_fields"]
