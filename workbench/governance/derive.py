"""``project.derive``: a frame the workbench makes itself from a source, by spec, and keeps in the project.

The service reads the source (a dataset granted to the project, or a frame saved in it) with the columns and
``where`` filters asked for, as ``project.load`` would hand them over (granted columns only, identifiers as the
project's pseudonyms, rows in the project's order), and saves the rows as a workbench-made frame: its lineage is
exactly the source's, its person key (the dataset's ``personKey``, pseudonymised) is tracked when kept, and its
spec (source, version, file SHA-256, columns, where) is recorded. Nothing reaches the kernel but the record, so
``project.dp`` may trust the frame's rows and key. A frame derived from one the analyst saved stays the analyst's
(``made_by='analyst'``, no tracked key): deriving never blesses rows a kernel wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance import sources
from workbench.governance.conditions import project_facts, project_row, pseudonymised_columns
from workbench.governance.project_data import ProjectData, governed_in_place, in_place_frame
from workbench.governance.pseudonyms import project_key, project_order
from workbench.ids import check_dataset_id
from workbench.person_index import person_ids

if TYPE_CHECKING:
    import pandas as pd

    from workbench import records
    from workbench.context import Context
    from workbench.governance.sources import Source

ROW = "\0row"  # the row-number column used to find the rows ``where`` keeps


def _columns(value: Any, source: Source) -> list[str]:
    """The columns asked for (all the source's when None): known, distinct, at least one."""
    if value is None:
        if source.kind == "dataset":
            granted = source.checks[0]["granted"]
            return [c for c in source.schema if c in granted] or list(source.schema)
        return list(source.schema)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value or not all(isinstance(c, str) and c for c in value):
        raise InvalidInput("columns: give a list of column names to keep, e.g. ['age_band', 'cost'], or leave it "
                           "out for every granted column.", field="columns")
    columns = list(dict.fromkeys(value))
    unknown = [c for c in columns if c not in source.schema]
    if unknown:
        raise InvalidInput(f"columns: {', '.join(map(repr, unknown))} not in {source.name}; its columns are "
                           f"{', '.join(source.schema)}.", field="columns")
    return columns


def _kept_rows(source: Source, where: dict[str, Any]) -> np.ndarray | None:
    """Positions (in file order) of the rows ``where`` keeps; None when it keeps them all."""
    if not where:
        return None
    schema = pq.read_schema(source.path)
    missing = [c for c in where if c not in schema.names]
    if missing:
        raise NotFound(f"The file of {source.name} has no column {', '.join(map(repr, missing))}; its owner must "
                       "register its data again.")
    table = pq.read_table(source.path, columns=list(where))
    table = table.append_column(ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    expression = sources.filter_expression(schema, where, source.name)
    return table.filter(expression).column(ROW).to_numpy()


class Derivations:
    """Frames the workbench derives by spec in one project."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id

    def derive(self, source: str, *, columns: list[str] | None = None, where: dict[str, Any] | None = None,
               new_name: str) -> records.SavedData:
        """Read ``source`` (``columns`` of the rows ``where`` keeps) inside the workbench and save it as the next
        version of ``new_name``, made by the workbench with its exact lineage and person key; audited."""
        resource = f"{new_name!s:.64} derived from {source!s:.64} in project {self.project_id}"
        me = self._ctx.actor.username
        try:
            check_dataset_id(new_name, "new_name")
            with self._ctx.db.read() as conn:
                found = sources.resolve(conn, self._ctx.vault, self.project_id, source)
                facts = project_facts(conn, project_row(conn, self.project_id), me)
            wanted = _columns(columns, found)
            conditions = sources.check_where(where)
            sources.check_columns(found, list(conditions), what="derived frames")
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("data.derive", resource, error) from None
        for check in found.checks:
            self._ctx.require("data.derive", resource, **facts, dataset=check["dataset"], owner=check["owner"],
                              granted=check["granted"], wanted=found.wanted(check, wanted),
                              lapsed_grant=check["lapsed"])
        try:
            if found.place is not None:  # read in place: the filter pushed into the read at its source
                roles = {c: d.get("role", "other") for c, d in found.schema.items()}
                identifiers = pseudonymised_columns(roles, wanted)
                key = project_key(bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]), self.project_id)
                declared = [c for c in found.schema.values() if not person_ids.provided([c])]
                # its person_id as a load gives it: found in the person index by each row's content key
                index = (ProjectData(self._ctx, self.project_id).indexed_in_place(found.version)
                         if person_ids.provided(found.schema.values()) else None)
                frame = in_place_frame(governed_in_place(found.place, declared, wanted, identifiers, conditions, key,
                                                         index=index), wanted, identifiers)
            else:
                if not found.path.exists():
                    raise NotFound(f"The vault holds no data for {found.name}; its owner must register it.")
                kept = _kept_rows(found, conditions)
                frame = self._rows(found, wanted, kept)
        except (NotFound, InvalidInput, Conflict) as error:
            raise self._ctx.audit_refused("data.derive", resource, error) from None
        workbench_made = found.made_by in ("catalogue", "workbench")
        person_key = found.person_key if workbench_made and found.person_key in wanted else None
        spec = {"source": found.name, "kind": found.kind, "version": sources.plain_value(found.version),
                "sha256": found.sha256(), "columns": wanted, "where": sources.where_json(conditions),
                # rows of a source whose rows are people stay people (filtering keeps whole rows)
                "rows_are_people": workbench_made and found.rows_are_people}
        with self._ctx.write(audit_refusals_as=("data.derive", resource)) as conn:
            return ProjectData(self._ctx, self.project_id).save_derived(
                conn, frame, new_name, sources=list(found.datasets), person_key=person_key, spec=spec,
                made_by="workbench" if workbench_made else "analyst", action="data.derive")

    def _rows(self, source: Source, columns: list[str], kept: np.ndarray | None) -> pd.DataFrame:
        """The rows as ``project.load`` / ``project.read`` would give them: a dataset's identifiers pseudonymised
        and its rows in the project's order; a saved frame as saved."""
        if source.kind == "saved":
            frame = self._ctx.vault.read(source.path, columns)
            return frame if kept is None else frame.take(kept).reset_index(drop=True)
        roles = {c: d.get("role", "other") for c, d in source.schema.items()}
        master = bytes.fromhex(self._ctx.secrets["pseudonymisation_key"])
        key = project_key(master, self.project_id)
        cache = self._ctx.vault.project_root(self.project_id) / "cache" / source.name
        frame = person_ids.read_dataset(self._ctx.vault.root, source.name, source.path, columns,
                                        pseudonymised_columns(roles, columns), master, self.project_id,
                                        with_person_id=person_ids.provided(source.schema.values()), cache=cache)
        order = project_order(key, source.name, len(frame))
        if kept is not None:
            mask = np.zeros(len(frame), dtype=bool)
            mask[kept] = True
            order = order[mask[order]]
        return frame.take(order).reset_index(drop=True)


__all__ = ["Derivations"]
