"""Tables and models by spec: ``p.tables.crosstab("ons.lfs", index="region", ...)`` computed by the workbench.

The analyst names a source (a dataset granted to the project, or a frame saved in it), the columns and ``where``
filters; the workbench resolves the source (``governance.sources``), asks the policy for each catalogue dataset in
its lineage (``outputs.compute``: a current grant of the columns used, as for a load), reads only those columns of
the rows kept (pyarrow: columns pruned, filters pushed into the scan, labels as categorical codes), computes the
table with the workspace's disclosure settings and, when the source has a person key (the dataset's
``personKey``, or the key of a frame the workbench made), the rules count distinct persons and each person's
contribution (``persons=``). The output is recorded as ``computed``: its origin names the source, its version,
the file's SHA-256, the datasets in its lineage and the spec. A frame saved from a kernel (``project.save``) is
read the same way, but its rows are whatever the analyst wrote, so the table is judged as one made from a frame
the analyst supplied (``analyst-supplied``, with its lineage) by the frame path of ``outputs.tables``.
Identifiers are never grouped, filtered or aggregated; lineage is computed, so ``derived_from`` is refused. A
refusal records nothing and is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.compute as pc

from workbench import disclosure as sdc
from workbench.disclosure.formula import parse
from workbench.disclosure.service import Disclosure
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError
from workbench.governance import sources
from workbench.governance.conditions import project_facts, project_row
from workbench.governance.sources import PERSON, Source
from workbench.validation import check_optional_text

if TYPE_CHECKING:
    import pyarrow as pa

    from workbench.context import Context
    from workbench.disclosure.output import Output
    from workbench.outputs.store import ProjectOutputs
    from workbench.outputs.tables import ProjectTables

WHAT = "tables by spec"
TEXT_TYPES = ("string", "category", "boolean", "date")  # columns a histogram refuses for their values, not range


def _names(value: Any, field: str, *, required: bool = True) -> list[str]:
    """Column name(s) as a list; refuse anything but a name or a list of names."""
    if value is None and not required:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput(f"{field}: name a column of the source or a list of them, not {value!r}.", field=field)
    return list(names)


def _one(names: list[str]) -> Any:
    return names[0] if len(names) == 1 else names


class ComputedTables:
    """Disclosure-checked tables and models the workbench computes from a named source, in one project."""

    def __init__(self, ctx: Context, project_id: str, outputs: ProjectOutputs, supplied: ProjectTables) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self._outputs = outputs
        self._supplied = supplied  # the frame path: rows a kernel wrote are judged as the analyst's

    # -- the methods -------------------------------------------------------------------------------------------
    def crosstab(self, source: Any, index: Any, columns: Any, values: Any = None, aggfunc: str | None = None, *,
                 where: dict[str, Any] | None = None, name: str | None = None, derived_from: Any = None,
                 **options: Any) -> Output:
        """``sdc.crosstab`` of columns of ``source``; ``options`` as ``pd.crosstab`` (margins, dropna...)."""
        def plan() -> tuple[dict[str, Any], list[str]]:
            rows, cols = _names(index, "index"), _names(columns, "columns")
            value = _names(values, "values", required=False)
            spec = {"index": rows, "columns": cols, "values": _one(value) if value else None, "aggfunc": aggfunc}
            return spec, rows + cols + value

        def run(frame: pd.DataFrame, spec: dict[str, Any], extra: dict[str, Any]) -> Output:
            def pick(names: list[str]) -> Any:
                series = [frame[n] for n in names]
                return series[0] if len(series) == 1 else series
            return sdc.crosstab(pick(spec["index"]), pick(spec["columns"]),
                                frame[spec["values"]] if spec["values"] else None, aggfunc=aggfunc,
                                **options, **extra)
        return self._make("crosstab", source, plan, run, where, name, derived_from, options,
                          lambda frame, given: self._supplied.crosstab(frame, index, columns, values, aggfunc,
                                                                       name=given, derived_from=[source], **options))

    def pivot_table(self, source: Any, values: Any = None, index: Any = None, columns: Any = None,
                    aggfunc: str | list[str] = "mean", *, where: dict[str, Any] | None = None,
                    name: str | None = None, derived_from: Any = None, **options: Any) -> Output:
        """``sdc.pivot_table`` of columns of ``source``: several values and aggregations at once."""
        def plan() -> tuple[dict[str, Any], list[str]]:
            rows = _names(index, "index")
            cols, value = _names(columns, "columns", required=False), _names(values, "values", required=False)
            return ({"index": _one(rows), "columns": _one(cols) if cols else None,
                     "values": _one(value) if value else None, "aggfunc": aggfunc}, rows + cols + value)

        def run(frame: pd.DataFrame, spec: dict[str, Any], extra: dict[str, Any]) -> Output:
            return sdc.pivot_table(frame, values=spec["values"], index=spec["index"], columns=spec["columns"],
                                   aggfunc=aggfunc, **options, **extra)
        return self._make("pivot_table", source, plan, run, where, name, derived_from, options,
                          lambda frame, given: self._supplied.pivot_table(frame, values, index, columns, aggfunc,
                                                                          name=given, derived_from=[source],
                                                                          **options))

    def groupby_agg(self, source: Any, by: Any, values: Any, aggfunc: str | list[str] = "mean", *,
                    where: dict[str, Any] | None = None, name: str | None = None, derived_from: Any = None,
                    **options: Any) -> Output:
        """``sdc.groupby_agg`` of columns of ``source``."""
        def plan() -> tuple[dict[str, Any], list[str]]:
            groups, value = _names(by, "by"), _names(values, "values")
            return {"by": _one(groups), "values": _one(value), "aggfunc": aggfunc}, groups + value

        def run(frame: pd.DataFrame, spec: dict[str, Any], extra: dict[str, Any]) -> Output:
            return sdc.groupby_agg(frame, spec["by"], spec["values"], aggfunc, **options, **extra)
        return self._make("groupby_agg", source, plan, run, where, name, derived_from, options,
                          lambda frame, given: self._supplied.groupby_agg(frame, by, values, aggfunc, name=given,
                                                                          derived_from=[source], **options))

    def histogram(self, source: Any, column: Any, bins: Any = 10, range: tuple[float, float] | None = None, *,
                  where: dict[str, Any] | None = None, name: str | None = None, derived_from: Any = None) -> Output:
        """``sdc.histogram`` of one column of ``source``. Without ``range`` (and with a number of bins), the range
        is the column's bounds declared in the catalogue (``lowerBound``, ``upperBound``): public metadata, never
        the data's smallest and largest values."""
        chosen: dict[str, Any] = {"range": range}

        def plan() -> tuple[dict[str, Any], list[str]]:
            names = _names(column, "column")
            if len(names) != 1:
                raise InvalidInput("column: name one numeric column.", field="column")
            try:  # as recorded in the spec; sdc.histogram judges the values themselves
                edges = bins if isinstance(bins, int) and not isinstance(bins, bool) else [float(b) for b in bins]
                bounds = None if range is None else [float(x) for x in range]
            except (TypeError, ValueError):
                raise InvalidInput(f"bins/range: give a number of bins or a list of bin edges, and range as "
                                   f"(low, high), not bins={bins!r}, range={range!r}.", field="bins") from None
            return {"column": names[0], "bins": edges, "range": bounds}, names

        def settle(source: Source, spec: dict[str, Any]) -> None:
            declared = (source.schema.get(spec["column"]) or {}).get("type")
            if spec["range"] is None and isinstance(spec["bins"], int) and declared not in TEXT_TYPES:
                spec["range"] = chosen["range"] = declared_range(source, spec["column"])

        def run(frame: pd.DataFrame, spec: dict[str, Any], extra: dict[str, Any]) -> Output:
            values = frame[spec["column"]]
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                raise InvalidInput(f"column: {spec['column']!r} holds {values.dtype}, not numbers; a histogram "
                                   "needs a numeric column (use crosstab or groupby_agg to count labels).",
                                   field="column")
            return sdc.histogram(values, bins, None if spec["range"] is None else tuple(spec["range"]), **extra)
        return self._make("histogram", source, plan, run, where, name, derived_from, {},
                          lambda frame, given: self._supplied.histogram(frame, column, bins, chosen["range"],
                                                                        name=given, derived_from=[source]),
                          settle=settle)

    def model(self, method: str, source: Any, formula: Any, *, where: dict[str, Any] | None = None,
              name: str | None = None, derived_from: Any = None) -> Output:
        """``sdc.ols`` / ``logit`` / ``probit`` with a formula over columns of ``source``."""
        def plan() -> tuple[dict[str, Any], list[str]]:
            parsed = parse(formula)
            return {"formula": parsed.text}, list(parsed.columns)

        def run(frame: pd.DataFrame, spec: dict[str, Any], extra: dict[str, Any]) -> Output:
            extra.pop("persons", None)  # a model's rule is its residual degrees of freedom, not cell counts
            return getattr(sdc, method)(formula=formula, data=frame, **extra)
        return self._make(method, source, plan, run, where, name, derived_from, {},
                          lambda frame, given: getattr(self._supplied, method)(frame, formula, name=given,
                                                                               derived_from=[source]))

    # -- the one path ----------------------------------------------------------------------------------------
    def _make(self, method: str, source_name: Any, plan: Callable[[], tuple[dict[str, Any], list[str]]],
              run: Callable[[pd.DataFrame, dict[str, Any], dict[str, Any]], Output], where: Any, name: Any,
              derived_from: Any, options: dict[str, Any],
              supplied: Callable[[pd.DataFrame, str | None], Output],
              settle: Callable[[Source, dict[str, Any]], None] | None = None) -> Output:
        resource = f"a {method} output from {str(source_name)[:64]} in project {self.project_id}"
        self._outputs.check_can_record(resource)
        try:
            if not isinstance(source_name, str):
                raise InvalidInput(f"where: filters apply to a source named by text (a granted dataset or a saved "
                                   f"frame); filter a {type(source_name).__name__} yourself before tabulating it.",
                                   field="where")
            if derived_from is not None:
                raise InvalidInput(f"derived_from: a table made from {source_name!r} by name descends from what "
                                   "the workbench read, which it records itself; leave derived_from out.",
                                   field="derived_from")
            given = check_optional_text(name, "name", "a name for the output", limit=200)
            spec, needed = plan()
            conditions = sources.check_where(where)
            with self._ctx.db.read() as conn:
                source = sources.resolve(conn, self._ctx.vault, self.project_id, source_name)
                facts = project_facts(conn, project_row(conn, self.project_id), self._ctx.actor.username)
                if given is not None:
                    self._outputs.screen(conn, [("name", given)])
            needed = list(dict.fromkeys(needed))
            used = list(dict.fromkeys(needed + list(conditions)))
            sources.check_columns(source, used, what=WHAT)
            if settle is not None:  # what the spec takes from the source's public metadata
                settle(source, spec)
        except AccessDenied:
            raise
        except WorkbenchError as error:
            raise self._ctx.audit_refused("outputs.compute", resource, error) from None
        for check in source.checks:  # every catalogue dataset in the lineage, as for a load of those columns
            self._ctx.require("outputs.compute", resource, **facts, dataset=check["dataset"], owner=check["owner"],
                              granted=check["granted"], wanted=source.wanted(check, used),
                              lapsed_grant=check["lapsed"])
        if source.kind == "saved" and source.made_by != "workbench":
            return self._analyst_rows(source, needed, conditions, given, supplied, resource)
        spec = {"method": method, **spec, "where": sources.where_json(conditions),
                **{k: v for k, v in options.items() if isinstance(v, str | int | float | bool | type(None))}}
        try:
            table = sources.read(source, needed, conditions, person=source.person_key is not None,
                                 secret=bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]))
            # the columns with no missing value in the rows read: a count of one is then a count of the rows,
            # which the linked-table check needs to know (read before the table is handed to pandas)
            complete = [c for c in needed if table.column(c).null_count == 0]
            frame, extra = self._frame(table, source)
            extra["settings"] = Disclosure(self._ctx).settings()
            output = run(frame, spec, extra)
        except AccessDenied:
            raise
        except WorkbenchError as error:
            raise self._ctx.audit_refused("outputs.compute", resource, error) from None
        except (NotImplementedError, TypeError, ValueError, OverflowError, ZeroDivisionError) as error:
            refusal = InvalidInput(f"{source_name}: these columns cannot be tabulated as asked ({type(error).__name__}"
                                   f": {str(error)[:200]}); choose numeric columns for values and labels to group "
                                   "by.", field="columns")
            raise self._ctx.audit_refused("outputs.compute", resource, refusal) from None
        origin = {**source.origin(spec), "complete": complete, "filtered": _filtered(source, conditions)}
        return self._outputs.record(output, name=given or self._default_name(method, spec, source),
                                    derived_from=[source.name], origin=origin)

    def _analyst_rows(self, source: Source, needed: list[str], conditions: dict[str, Any], given: str | None,
                      supplied: Callable[[pd.DataFrame, str | None], Output], resource: str) -> Output:
        """A frame saved from a kernel holds rows the analyst wrote, which may not be people: the workbench reads
        it (the columns needed, any identifier column that may key its people, the rows ``where`` keeps) and
        judges the table as one made from a frame the analyst supplied (``analyst-supplied``, its lineage)."""
        try:
            table = sources.read(source, list(dict.fromkeys(needed + source.identifiers())), conditions)
        except WorkbenchError as error:
            raise self._ctx.audit_refused("outputs.compute", resource, error) from None
        return supplied(table.to_pandas(self_destruct=True), given)

    @staticmethod
    def _frame(table: pa.Table, source: Source) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The rows as pandas (text as categorical codes), and ``persons=``: the person-key codes, when the source
        has a key the workbench trusts."""
        extra: dict[str, Any] = {}
        if PERSON in table.column_names:
            extra["persons"] = table.column(PERSON).to_numpy()
            table = table.drop_columns([PERSON])
        frame = table.to_pandas(strings_to_categorical=True, self_destruct=True)
        for column in frame.columns:  # labels in sorted order, as a frame of text would give them
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].cat.reorder_categories(sorted(frame[column].cat.categories))
        return frame, extra

    @staticmethod
    def _default_name(method: str, spec: dict[str, Any], source: Source) -> str:
        if "formula" in spec:
            what = spec["formula"]
        elif method == "histogram":
            what = f"histogram of {spec['column']}"
        else:
            groups = [spec.get("index"), spec.get("columns"), spec.get("by")]
            words = [" and ".join(g) if isinstance(g, list) else g for g in groups if g]
            value = spec.get("values")
            what = (f"{spec.get('aggfunc') or 'count'} of {value}" if value else "count") + f" by {' and '.join(words)}"
        return f"{method}: {what} ({source.name})"[:200]


def declared_range(source: Source, column: str) -> list[float]:
    """The (low, high) bounds the catalogue declares for ``column`` of ``source``: a histogram's range from
    public metadata, since one taken from the data would publish its smallest and largest values."""
    definition = source.schema.get(column) or {}
    low, high = definition.get("lowerBound"), definition.get("upperBound")
    if low is None or high is None:
        raise InvalidInput(f"range: the catalogue declares no bounds for {column!r} of {source.name!r}, and a range "
                           "taken from the data would publish its smallest and largest values; pass "
                           f"range=(low, high) from what is publicly known about {column!r} (e.g. range=(0, 120) "
                           "for an age) or bins as a list of edges, or ask the data owner to declare the column's "
                           "lowerBound and upperBound.", field="range")
    return [float(low), float(high)]


__all__ = ["ComputedTables", "declared_range"]


FILTER_LABELS = 1_000  # a filtered column's labels are recorded up to this many (beyond: "in" or "out" of it)


def _filtered(source: Source, conditions: dict[str, Any]) -> dict[str, Any]:
    """Per column filtered on: whether it is ever missing in the whole source and, filtered by value, its labels
    there (up to FILTER_LABELS). The linked-table check needs them to know which rows a filter leaves out (none,
    when it keeps every label of a column never missing); they stay in the output's record, never in what is
    released."""
    out: dict[str, Any] = {}
    for column, condition in conditions.items():
        values = sources.read(source, [column], {}).column(column)
        if isinstance(condition, dict):  # a range: cut at the bounds of every table's ranges, not by label
            out[column] = {"missing": values.null_count > 0}
            continue
        labels = pc.unique(values.drop_null())
        if len(labels) <= FILTER_LABELS:
            out[column] = {"labels": sorted(str(v) for v in labels.to_pylist()), "missing": values.null_count > 0}
    return out

