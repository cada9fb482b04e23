"""``project.tables``: the disclosure-control functions bound to a project.

Each takes the data first and column names after (``p.tables.crosstab(df, index="region", columns="sex",
values="income", aggfunc="mean")``), checks the table with the workspace's disclosure settings (not the
analyst's), and records the result in the project as an output for later submission. Permission is asked
before any work is done. Provenance comes from ``derived_from`` or, when absent, from the frame itself: frames
returned by ``project.load`` and ``project.read`` carry the datasets they came from. A call refused for its
input (a bad column, a formula outside the grammar...) touched the project's data, so it is audited as
``refused``.

Given a source named by text instead of a frame (``p.tables.crosstab("ons.lfs", index="region", ...,
where={...})``), the workbench computes the table itself from the source (``outputs.computed``) and records it as
``computed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import disclosure as sdc
from workbench.disclosure.service import Disclosure
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError
from workbench.governance.project_data import SOURCES_ATTR
from workbench.outputs.computed import ComputedTables
from workbench.outputs.store import ProjectOutputs
from workbench.validation import check_optional_text

if TYPE_CHECKING:

    from workbench.context import Context
    from workbench.disclosure.output import Output


def _columns(data: pd.DataFrame, names: Any, field: str, required: bool = True) -> Any:
    """Column(s) of ``data`` by name: a Series for one name, a list of Series for several."""
    if names is None and not required:
        return None
    many = isinstance(names, list | tuple)
    wanted = list(names) if many else [names]
    if not wanted or not all(isinstance(n, str) for n in wanted):
        raise InvalidInput(f"{field}: give a column name of the data, or a list of them.", field=field)
    missing = [n for n in wanted if n not in data.columns]
    if missing:
        raise InvalidInput(f"{field}: {', '.join(missing)} not among the data's columns "
                           f"({', '.join(map(str, data.columns))}).", field=field)
    series = [data[n] for n in wanted]
    return series if many else series[0]


# the options each table function takes besides what its ProjectTables method passes itself
OPTIONS = {"crosstab": ("rownames", "colnames", "margins", "margins_name", "dropna", "normalize"),
           "pivot_table": ("fill_value", "margins", "dropna", "margins_name", "observed", "sort"),
           "groupby_agg": ("dropna",)}


def _check_options(method: str, options: dict[str, Any]) -> None:
    """Options go to the table function; the workspace's disclosure settings are not one of them, and an option
    the function does not take is refused naming the ones it does."""
    if "settings" in options:
        raise InvalidInput("settings: a project's tables are checked against the workspace's disclosure settings "
                           "(ws.disclosure.settings()); leave settings out.", field="settings")
    unknown = sorted(set(options) - set(OPTIONS[method]))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: {method} takes no option {', '.join(map(repr, unknown))}; its options "
                           f"are {', '.join(OPTIONS[method])}.", field=unknown[0])


def _given(name: Any) -> str | None:
    """The output name the analyst gave (text, or None for the default)."""
    return check_optional_text(name, "name", "a name for the output", limit=200)


class ProjectTables:
    """Disclosure-checked tables and models recorded in one project."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self._outputs = ProjectOutputs(ctx, project_id)
        self._computed = ComputedTables(ctx, project_id, self._outputs, self)  # a source named by text: by spec

    def crosstab(self, data: pd.DataFrame | str, index: Any, columns: Any, values: str | None = None,
                 aggfunc: str | None = None, *, where: dict[str, Any] | None = None, name: str | None = None,
                 derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.crosstab`` over columns of ``data`` (a frame, or a source named by text: computed by the
        workbench, rows kept by ``where``); ``options`` as ``pd.crosstab`` (margins, dropna...)."""
        _check_options("crosstab", options)
        if isinstance(data, str) or where is not None:
            return self._computed.crosstab(data, index, columns, values, aggfunc, where=where, name=name,
                                           derived_from=derived_from, **options)

        def run(settings: Any) -> Output:
            return sdc.crosstab(_columns(data, index, "index"), _columns(data, columns, "columns"),
                                _columns(data, values, "values", required=False), aggfunc=aggfunc,
                                settings=settings, **options)
        return self._record("crosstab", data, run,
                            _given(name) or self._name("crosstab", index, columns, values, aggfunc), derived_from)

    def pivot_table(self, data: pd.DataFrame | str, values: Any = None, index: Any = None, columns: Any = None,
                    aggfunc: str | list[str] = "mean", *, where: dict[str, Any] | None = None,
                    name: str | None = None, derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.pivot_table``: several values columns and several aggregations at once."""
        _check_options("pivot_table", options)
        if isinstance(data, str) or where is not None:
            return self._computed.pivot_table(data, values, index, columns, aggfunc, where=where, name=name,
                                              derived_from=derived_from, **options)

        def run(settings: Any) -> Output:
            return sdc.pivot_table(data, values=values, index=index, columns=columns, aggfunc=aggfunc,
                                   settings=settings, **options)
        return self._record("pivot_table", data, run,
                            _given(name) or self._name("pivot_table", index, columns, values, aggfunc), derived_from)

    def groupby_agg(self, data: pd.DataFrame | str, by: Any, values: Any, aggfunc: str | list[str] = "mean", *,
                    where: dict[str, Any] | None = None, name: str | None = None,
                    derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.groupby_agg``: ``data.groupby(by)[values].agg(aggfunc)`` checked."""
        _check_options("groupby_agg", options)
        if isinstance(data, str) or where is not None:
            return self._computed.groupby_agg(data, by, values, aggfunc, where=where, name=name,
                                              derived_from=derived_from, **options)

        def run(settings: Any) -> Output:
            return sdc.groupby_agg(data, by, values, aggfunc, settings=settings, **options)
        return self._record("groupby_agg", data, run,
                            _given(name) or self._name("groupby", by, None, values, aggfunc), derived_from)

    def histogram(self, data: pd.DataFrame | str, column: str, bins: Any = 10,
                  range: tuple[float, float] | None = None, *, where: dict[str, Any] | None = None,
                  name: str | None = None, derived_from: list[str] | None = None) -> Output:
        """``sdc.histogram`` of one column of ``data``."""
        if isinstance(data, str) or where is not None:
            return self._computed.histogram(data, column, bins, range, where=where, name=name,
                                            derived_from=derived_from)
        def run(settings: Any) -> Output:
            return sdc.histogram(_columns(data, column, "column"), bins, range, settings=settings)
        return self._record("histogram", data, run, _given(name) or f"histogram of {column}", derived_from)

    def ols(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
            name: str | None = None, derived_from: list[str] | None = None) -> Output:
        """``sdc.ols`` with a formula over ``data`` (residual degrees of freedom checked)."""
        if isinstance(data, str) or where is not None:
            return self._computed.model("ols", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("ols", data, formula, name, derived_from)

    def logit(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
              name: str | None = None, derived_from: list[str] | None = None) -> Output:
        if isinstance(data, str) or where is not None:
            return self._computed.model("logit", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("logit", data, formula, name, derived_from)

    def probit(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
               name: str | None = None, derived_from: list[str] | None = None) -> Output:
        if isinstance(data, str) or where is not None:
            return self._computed.model("probit", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("probit", data, formula, name, derived_from)

    # -- internals -------------------------------------------------------------------------------------------
    def _model(self, method: str, data: pd.DataFrame, formula: str, name: str | None,
               derived_from: list[str] | None) -> Output:
        def run(settings: Any) -> Output:
            return getattr(sdc, method)(formula=formula, data=data, settings=settings)

        def default_name(output: Output) -> str:  # the formula as parsed, never the text as typed
            return f"{method}: {output.properties['formula']}"[:200]
        return self._record(method, data, run, _given(name) or default_name, derived_from)

    def _record(self, method: str, data: Any, run: Any, name: str | Callable[[Output], str],
                derived_from: list[str] | None) -> Output:
        resource = f"a {method} output in project {self.project_id}"
        self._outputs.check_can_record(resource)
        try:
            if not isinstance(data, pd.DataFrame):
                raise InvalidInput(f"data: give the pandas DataFrame the table is made from, not "
                                   f"{type(data).__name__}.", field="data")
            if derived_from is None:
                derived_from = data.attrs.get(SOURCES_ATTR) or []
                if not isinstance(derived_from, list | tuple):  # attrs travel with the frame: the sender's to set
                    raise InvalidInput(f"derived_from: the frame's own record of its sources (attrs"
                                       f"[{SOURCES_ATTR!r}]) is a {type(derived_from).__name__}, not a list of "
                                       "names; name its sources, e.g. derived_from=['ons.lfs'].", field="derived_from")
                derived_from = list(derived_from)
            if not derived_from:
                raise InvalidInput("derived_from: this frame does not say where it came from (frames from "
                                   "project.load and project.read do); name its sources, e.g. "
                                   "derived_from=['ons.lfs'].", field="derived_from")
            try:
                output = run(self._settings())
            except WorkbenchError:
                raise
            except (NotImplementedError, TypeError, ValueError, OverflowError, ZeroDivisionError) as error:
                # pandas and numpy refusing a column's type or values (float16 keys, bytes, decimals summed
                # with floats...): the data sent cannot be tabulated as asked, which is the caller's to change
                raise InvalidInput(f"data: these columns cannot be tabulated as asked ({type(error).__name__}: "
                                   f"{str(error)[:200]}); give numbers as int64 or float64 and labels as text, "
                                   "e.g. df[col].astype(float) or .astype(str).", field="data") from None
        except AccessDenied:
            raise  # the policy's refusals are audited where they are made
        except WorkbenchError as error:
            self._ctx.audit_refused("outputs.create", resource, error)
            raise
        return self._outputs.record(output, name=name(output) if callable(name) else name, derived_from=derived_from)

    def _settings(self) -> Any:
        return Disclosure(self._ctx).settings()

    @staticmethod
    def _name(method: str, index: Any, columns: Any, values: Any, aggfunc: Any) -> str:
        def words(x: Any) -> str:
            return " and ".join(map(str, x)) if isinstance(x, list | tuple) else str(x)

        parts = [f"{aggfunc or 'count'} of {values}" if values is not None else "count", f"by {words(index)}"]
        if columns is not None:
            parts.append(f"and {words(columns)}")
        return f"{method}: {' '.join(parts)}"[:200]
