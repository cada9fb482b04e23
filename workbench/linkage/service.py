"""Governed linkage: the separation principle. The linkage function inside the workbench reads the identifier
columns that each dataset's owner granted the project *for linkage*; the project receives only the linked
attributes it was granted itself (direct and record identifiers among them as its pseudonyms), a project-scoped
link key and the match weights. Each run (spec, engine, parameters, threshold, quality, counts) is recorded and audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert, select

from workbench import audit, records
from workbench.catalogue import in_place, versions
from workbench.db.schema import data_loads, grants, linkage_runs
from workbench.errors import InvalidInput, NotFound, WorkbenchError
from workbench.governance import conditions
from workbench.governance.access import grant_state
from workbench.governance.lineage import granted_version
from workbench.governance.project_data import SOURCES_ATTR, ProjectData, in_place_frame
from workbench.governance.pseudonyms import project_key, pseudonymise, read_governed
from workbench.labels import header, value
from workbench.linkage.link import ENGINES, link
from workbench.linkage.quality import weights_figure, weights_html
from workbench.linkage.spec import check_spec, infer_spec
from workbench.person_index import person_ids
from workbench.validation import check_flag, check_number

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.linkage.result import LinkageResult
    from workbench.linkage.spec import LinkageSpec
    from workbench.linkage.truth import TruthSource

RUN_COLUMNS = ["id", "left_dataset", "right_dataset", "engine", "threshold", "counts", "quality", "columns",
               "created_by", "created_at"]
LINK_COLUMNS = ["link_key", "match_weight", "match_probability"]


def _grant_facts(conn: Connection, project_id: str, dataset: dict[str, Any]) -> dict[str, Any]:
    """Columns granted to the project now, columns granted for linkage, and why no grant is current."""
    rows = conn.execute(select(grants).where((grants.c.project_id == project_id)
                                             & (grants.c.dataset_id == dataset["id"]))).mappings().all()
    current = [g for g in rows if grant_state(g, date.today()) == "current"]
    lapsed = None
    if rows and not current:
        last = max(rows, key=lambda g: g["id"])
        lapsed = (f"was revoked on {last['revoked_at']:%Y-%m-%d}" if last["revoked_at"] is not None
                  else f"expired on {last['expires']}")
    return {"dataset": dataset["id"], "owner": dataset["owner"],
            "granted": list(dict.fromkeys(c for g in current for c in g["columns"])),
            "identifiers": list(dict.fromkeys(c for g in current for c in g["identifiers"])),
            "linkage": list(dict.fromkeys(c for g in current for c in (g["linkage"] or []))),
            "lapsed_grant": lapsed}


def _suffix(dataset_id: str) -> str:
    return "_" + dataset_id.replace(".", "_")


class GovernedLinkage:
    """Linkage of catalogue datasets for one project (``project.link``) and the record of its runs."""

    def __init__(self, ctx: Context, project_id: str, truth: TruthSource | None = None) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self._truth = truth

    def _key(self) -> bytes:
        return project_key(bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id)

    def link(self, left_id: str, right_id: str, *, spec: LinkageSpec | dict | None = None,
             engine: str = "recordlinkage", threshold: float | None = None,
             progress: bool | None = None) -> LinkedData:
        """Link two granted datasets; returns the project's linked frame and the run's record."""
        resource = f"datasets {left_id} and {right_id} in project {self.project_id}"
        me = self._ctx.actor.username
        try:
            for name, value in (("left", left_id), ("right", right_id), ("engine", engine)):
                if not isinstance(value, str):
                    raise InvalidInput(f"{name}: give {'an engine name' if name == 'engine' else 'a dataset id'}, "
                                       f"not {type(value).__name__}.", field=name)
            if progress is not None:
                check_flag(progress, "progress")
            if engine not in ENGINES:
                raise InvalidInput(f"engine: {engine!r} is not one of {', '.join(ENGINES)}.", field="engine")
            if left_id == right_id:
                raise InvalidInput("right: link two different datasets; deduplicating one governed dataset is "
                                   "not offered yet.", field="right")
            with self._ctx.db.read() as conn:
                project = conditions.project_row(conn, self.project_id)
                datasets = [conditions.dataset_row(conn, d) for d in (left_id, right_id)]
                facts = conditions.project_facts(conn, project, me)
                items = [_grant_facts(conn, self.project_id, d) for d in datasets]
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("data.link", resource, error) from None
        self._ctx.require("data.link", resource, **facts, datasets=items)
        try:
            return self._run(resource, datasets, items, spec, engine, threshold, progress)
        except WorkbenchError as error:
            raise self._ctx.audit_refused("data.link", resource, error) from None

    def _run(self, resource: str, datasets: list[dict[str, Any]], items: list[dict[str, Any]], spec: Any,
             engine: str, threshold: float | None, progress: bool | None) -> LinkedData:
        me = self._ctx.actor.username
        with self._ctx.db.read() as conn:  # copied into the vault, or read in place at its source; the versions the
            # project's grants cover: the current one unless all are pinned (an older version is a copy, or gone)
            held = [(versions.current(conn, d["id"]), granted_version(conn, self.project_id, d["id"]))
                    for d in datasets]
            places = [in_place.lookup(conn, self._ctx.vault.root, d) if pinned in (None, latest) else None
                      for d, (latest, pinned) in zip(datasets, held, strict=True)]
        read = [pinned or latest for latest, pinned in held]
        files = [versions.version_file(self._ctx.vault, d["id"], number, latest)
                 for d, number, (latest, _pinned) in zip(datasets, read, held, strict=True)]
        for d, place, file in zip(datasets, places, files, strict=True):
            if place is None and not file.exists():
                raise NotFound(f"The vault holds no data for {d['id']}; its owner ({d['owner']}) must register it.")
        # the workbench's person id is derived on load, not a column of the file: linkage never reads it
        usable = [[c for c in dict.fromkeys(i["linkage"] + i["granted"])
                   if c not in person_ids.workbench_identifiers(d["record"])]
                  for d, i in zip(datasets, items, strict=True)]
        # a side read in place is read once (a database has no stable row order): the link's row numbers and the
        # columns returned come from the same table
        paths: list[Any] = [in_place.read_columns(self._ctx.vault.root, d, place, cols) if place is not None
                            else file for d, place, cols, file in zip(datasets, places, usable, files, strict=True)]
        raw = [path.to_pandas() if isinstance(path, pa.Table) else pq.read_table(path, columns=cols).to_pandas()
               for path, cols in zip(paths, usable, strict=True)]
        if spec is None:
            spec = infer_spec(raw[0][items[0]["linkage"]], raw[1][items[1]["linkage"]])
        spec = check_spec(spec)
        outside = [f"{f.left} of {items[0]['dataset']}" for f in spec.fields if f.left not in usable[0]] + \
                  [f"{f.right} of {items[1]['dataset']}" for f in spec.fields if f.right not in usable[1]]
        if outside:
            raise InvalidInput(f"spec: {', '.join(outside)} not granted to project {self.project_id} for linkage "
                               "or otherwise; the owner lists columns for linkage in linkage=[...] when approving.",
                               field="spec")
        result = link(raw[0], raw[1], spec, engine=engine, threshold=threshold, progress=progress)
        frame, returned = self._project_frame(result, datasets, items, paths)
        quality = result.summary()
        truth = self._truth_quality(result, datasets, paths)
        if truth is not None:
            quality["truth"] = truth
        counts = {k: quality[k] for k in ("left_records", "right_records", "candidate_pairs", "matches")}
        now = datetime.now(UTC)
        with self._ctx.write() as conn:
            run_id = conn.execute(insert(linkage_runs).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=self.project_id, left_dataset=datasets[0]["id"], right_dataset=datasets[1]["id"],
                engine=engine, spec=result.spec.to_dict(), params=result.model.to_dict(),
                threshold=float(result.threshold), quality=_jsonable(quality), counts=counts, columns=returned,
                created_by=me, created_at=now)).inserted_primary_key[0]
            self._ctx.vault.write(self._result_path(run_id), frame)  # saving the result saves the service's copy
            for d, cols, number in zip(datasets, returned_by_dataset(returned, datasets, items), read, strict=True):
                conn.execute(insert(data_loads).values(project_id=self.project_id, dataset_id=d["id"], username=me,
                                                       columns=cols, row_count=len(frame), at=now, version=number))
            audit.append(conn, me, "data.link", f"run {run_id}: {resource}", detail={
                "engine": engine, "threshold": float(result.threshold), "counts": counts, "columns": returned,
                "read_for_linkage": {i["dataset"]: [c for c in (f.left if n == 0 else f.right for f in spec.fields)]
                                     for n, i in enumerate(items)},
                "truth_read": truth is not None,
                "versions": {d["id"]: number for d, number in zip(datasets, read, strict=True)}})

        frame.attrs[SOURCES_ATTR] = [d["id"] for d in datasets]
        return LinkedData(self._ctx, self.project_id, run_id, frame, result, quality,
                          [d["id"] for d in datasets])

    def _project_frame(self, result: LinkageResult, datasets: list[dict[str, Any]], items: list[dict[str, Any]],
                       paths: list[Any]) -> tuple[pd.DataFrame, list[str]]:
        """Link key, weights and each side's granted columns (direct and record identifiers as the project's
        pseudonyms)."""
        keep = result._accepted()
        order = np.argsort(-result.weight[keep], kind="stable")
        rows = [result.li[keep][order], result.ri[keep][order]]
        key = self._key()
        link_key = pseudonymise(pa.array([f"link:{datasets[0]['id']}:{datasets[1]['id']}:{r}" for r in rows[0]],
                                         pa.string()), key)
        frame = pd.DataFrame({"link_key": link_key.to_pylist(), "match_weight": result.weight[keep][order],
                              "match_probability": result.probability[keep][order]})
        names = [[c for c in conditions.schema_roles(d["record"]) if c in i["granted"]]
                 for d, i in zip(datasets, items, strict=True)]
        clash = set(names[0]) & set(names[1])
        for side, (d, _i, path, cols) in enumerate(zip(datasets, items, paths, names, strict=True)):
            if not cols:
                continue
            roles = conditions.schema_roles(d["record"])
            identifiers = conditions.pseudonymised_columns(roles, cols)
            cache = self._ctx.vault.project_root(self.project_id) / "cache" / d["id"]
            if isinstance(path, pa.Table):  # read in place: pseudonymised as a load does
                table = path.select(cols)
                for name in identifiers:
                    table = table.set_column(table.schema.get_field_index(name), name,
                                             pseudonymise(table.column(name), key))
                governed = in_place_frame(table, cols, identifiers)
            else:
                governed = read_governed(path, cols, identifiers, key, cache=cache)
            part = governed.iloc[rows[side]].reset_index(drop=True)
            part.columns = [f"{c}{_suffix(d['id'])}" if c in clash else c for c in part.columns]
            frame = pd.concat([frame, part], axis=1)
        return frame, list(map(str, frame.columns))

    def _truth_quality(self, result: LinkageResult, datasets: list[dict[str, Any]],
                       paths: list[Any]) -> dict[str, Any] | None:
        """Precision, recall and F1 against the truth, when the project was given a source of it (the demo's)
        and the caller may read it there (each read audited by the source)."""
        if self._truth is None or not self._truth.readable([d["id"] for d in datasets]) \
                or any(isinstance(path, pa.Table) for path in paths):  # the demo's truth describes copied data
            return None
        persons = []
        for d, path in zip(datasets, paths, strict=True):
            truth = self._truth.truth(d["id"])
            key = truth.columns[0]
            ids = pq.read_table(path, columns=[key]).column(0).to_pandas()
            persons.append(ids.map(truth.set_index(key)["person_id"]).to_numpy())
        keep = result._accepted()
        correct = int((persons[0][result.li[keep]] == persons[1][result.ri[keep]]).sum())
        left_count = dict(zip(*np.unique(persons[0], return_counts=True), strict=True))
        right_count = dict(zip(*np.unique(persons[1], return_counts=True), strict=True))
        possible = int(sum(min(n, right_count.get(p, 0)) for p, n in left_count.items()))
        links = int(keep.sum())
        precision = correct / links if links else 0.0
        recall = correct / possible if possible else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "true_links": correct, "links": links,
                "possible_links": possible}

    def _result_path(self, run_id: int) -> Any:
        """Where the service keeps a run's linked frame: what ``save_run`` saves."""
        return self._ctx.vault.project_root(self.project_id) / "linkage" / f"run-{int(run_id)}.parquet"

    def save_run(self, run_id: int, name: str) -> records.SavedData:
        """Save a run's linked frame, as the workbench made it, as a saved frame of the project: made by the
        workbench, its lineage exactly the two datasets linked, its person key the link key."""
        row = self.run(run_id)
        path = self._result_path(row["id"])
        if not path.exists():
            raise self._ctx.audit_refused("data.save", f"{name} in project {self.project_id}", NotFound(
                f"Linkage run {row['id']} of project {self.project_id} kept no result to save; link the datasets "
                "again (project.link(...)) and save that result."))
        frame = self._ctx.vault.read(path)
        sources = [d for d in (row["left_dataset"], row["right_dataset"]) if d]
        return ProjectData(self._ctx, self.project_id).save_made(
            frame, name, sources=sources, derived_from=sources, person_key="link_key",
            spec={"method": "link", "linkage_run": row["id"], "engine": row["engine"],
                  "threshold": row["threshold"]})

    def runs(self) -> pd.DataFrame:
        """The project's linkage runs, newest last (members of the project)."""
        conditions.require_in_project(self._ctx, "data.read_saved", f"linkage runs of project {self.project_id}",
                           self.project_id)
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(linkage_runs).where(linkage_runs.c.project_id == self.project_id)
                                .order_by(linkage_runs.c.id)).mappings().all()
        return pd.DataFrame([{c: r[c] for c in RUN_COLUMNS} for r in rows], columns=RUN_COLUMNS)

    def run(self, run_id: int) -> records.LinkageRun:
        """One run in full: spec, parameters (m/u), threshold, quality and counts."""
        resource = f"linkage run {run_id} of project {self.project_id}"
        conditions.require_in_project(self._ctx, "data.read_saved", resource, self.project_id)
        try:
            check_number(run_id, "run_id", "a linkage run number")
        except InvalidInput as error:
            raise self._ctx.audit_refused("data.read_saved", resource, error) from None
        with self._ctx.db.read() as conn:
            row = conn.execute(select(linkage_runs).where((linkage_runs.c.project_id == self.project_id)
                                                          & (linkage_runs.c.id == run_id))).mappings().first()
        if row is None:
            raise self._ctx.audit_refused("data.read_saved", resource, NotFound(
                f"Project {self.project_id} has no linkage run {run_id!r}.",
                notebook="project.linkage_runs() lists them."))
        return cast("records.LinkageRun", records.LinkageRunCard(row))


def returned_by_dataset(columns: list[str], datasets: list[dict[str, Any]],
                        items: list[dict[str, Any]]) -> list[list[str]]:
    """Which of the returned columns came from each dataset (for the owners' usage report)."""
    out = []
    for d, i in zip(datasets, items, strict=True):
        suffix = _suffix(d["id"])
        out.append([c for c in i["granted"] if c in columns or f"{c}{suffix}" in columns])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class LinkedData:
    """What a governed linkage gives the project: ``.frame`` (link key, weights, granted attributes), the run's
    ``.quality``, ``.params``, ``.threshold``, a ``.histogram()``, and ``.save(name)`` with lineage to both."""

    def __init__(self, ctx: Context, project_id: str, run_id: int, frame: pd.DataFrame, result: LinkageResult,
                 quality: dict[str, Any], sources: list[str]) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self.run_id = run_id
        self.frame = frame
        self.quality = quality
        self.params = result.params
        self.threshold = float(result.threshold)
        self.sources = sources
        self._weights = result.weight[result.assigned]

    def histogram(self) -> Any:
        """Plotly histogram of the candidate pairs' match weights with the threshold (no record-level data)."""
        return weights_figure(self._weights, self.threshold, f"Linkage run {self.run_id}: match weights")

    def save(self, name: str) -> records.SavedData:
        """Save the run's linked frame in the project (the service's own copy, not ``.frame``, which the kernel
        may have changed): made by the workbench, derived from both datasets, its person key the link key."""
        return GovernedLinkage(self._ctx, self.project_id).save_run(self.run_id, name)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (f"<LinkedData run {self.run_id}: {len(self.frame):,} linked records of {' and '.join(self.sources)}"
                f" at match weight {self.threshold:.2f}>")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{escape(header(k))}</th><td>{escape(value(k, v))}</td></tr>"
                       for k, v in self.quality.items())
        return (f"<div><h4>Linkage run {self.run_id}</h4><table>{rows}</table>"
                f"{weights_html(self._weights, self.threshold)}{self.frame.head(10).to_html(index=False)}</div>")
