"""``project.dp``: differentially private answers that the workbench computes itself from a query spec.

The analyst names a dataset (granted to the project, or a frame saved in it), the columns, ``epsilon`` and the
``bounds`` of every numeric value; the workbench checks the spec, the grant and the budget, reads the data itself,
clips each person's contribution, reserves the budget in one transaction, then draws the noise and records the
result as an Output (kind ``dp``) with its spec, mechanism, ε and ledger entry. Grouping cells come from the
catalogue's declared categories — never from the data, whose distinct values would leak. ``preview=True`` gives
the accuracy (noise scale and 95% half-width per cell) without reading the data or spending anything.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from workbench.db.schema import grants
from workbench.disclosure.output import Output
from workbench.disclosure.service import RESOURCE as SETTINGS_RESOURCE
from workbench.disclosure.service import read_settings
from workbench.disclosure.settings import DisclosureSettings
from workbench.dp import ledger, mechanisms
from workbench.errors import BudgetExceeded, Conflict, DisclosureRisk, InvalidInput, NotFound
from workbench.governance import sources
from workbench.governance.conditions import project_facts, project_row, require_in_project
from workbench.governance.sources import PERSON, Source
from workbench.labels import MISSING, header, number

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.outputs.store import ProjectOutputs

MAX_CONTRIBUTIONS = 1000
MAX_CELLS = 100_000
MAX_BINS = 10_000
MAX_BOUND = 1e15  # the size of a bound: past it widths overflow and the quantile mechanism has no candidate
MIN_BOUND = 1e-100  # the size of the larger bound: below it the integer scale of a sum overflows
NUMERIC = ("integer", "float")
AGGFUNCS = ("count", "sum", "mean")
EXAMPLE_ROWS = 1000  # a mean's preview without a declared row count shows its width for this many rows


@dataclass(frozen=True)
class Accuracy:
    """How accurate a query would be, from its spec alone: nothing read, nothing spent."""

    method: str
    source: str
    epsilon: float
    mechanism: str
    noise_scale: float
    half_width: pd.DataFrame
    remaining: dict[str, float]
    note: str = ""

    def __repr__(self) -> str:
        widths = self.half_width.to_numpy(dtype=float)
        return (f"<Accuracy {self.method} of {self.source} at ε={self.epsilon:g}: noise scale {self.noise_scale:.4g}, "
                f"95% interval ±{np.nanmax(widths):.4g}; ε left {self.remaining}>")

    def _repr_html_(self) -> str:
        left = ", ".join(f"{html.escape(k)}: ε {number(v)}" for k, v in self.remaining.items())
        return (f"<div><p><strong>Accuracy of a DP {html.escape(self.method)} of {html.escape(self.source)}"
                f"</strong> at ε = {number(self.epsilon)} ({html.escape(self.mechanism)}; nothing spent)</p>"
                f"<p>Noise scale {number(self.noise_scale)}. Budget left: {left or 'none set'}.</p>"
                + (f"<p>{html.escape(self.note)}</p>" if self.note else "")
                + widths_html(self.half_width) + "</div>")


def widths_html(widths: pd.DataFrame) -> str:
    """The 95% interval half-width of each cell as a table people read: the grouping column's name as a header
    ("Age band"), the cells' categories as they are, every width as "± 6" (never 6.000000 or 8.865e+04), missing
    as "—"."""
    single = len(widths.columns) == 1
    corner = header(str(widths.index.name)) if widths.index.name else ""
    heads = (["95% of answers within"] if single
             else [html.escape(str(c)) for c in widths.columns])
    head = "".join(f"<th style='text-align:right'>{h}</th>" for h in heads)
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(label))}</th>"
        + "".join(f"<td style='text-align:right'>{_plus_minus(x)}</td>" for x in row) + "</tr>"
        for label, row in zip(widths.index, widths.to_numpy(dtype=float), strict=True))
    return (f"<table class='wb-dp-widths'><caption>95% interval half-width per cell: the noise stays within it for "
            f"95% of answers</caption><thead><tr><th style='text-align:left'>{html.escape(corner)}</th>{head}"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def _plus_minus(width: float) -> str:
    shown = number(width)
    return shown if shown in (MISSING, "∞") else f"± {shown}"


# -- input checks ------------------------------------------------------------------------------------------------
def _bounds(value: Any, column: str) -> tuple[float, float]:
    example = f"bounds=(0, 100) for {column!r}"
    if value is None:
        raise InvalidInput(f"bounds: give the (lower, upper) bounds of {column!r} from what you know about it, never "
                           f"from the data (its minimum and maximum would leak), e.g. {example}.", field="bounds")
    try:
        lower, upper = value
        lower, upper = float(lower), float(upper)
    except (TypeError, ValueError):
        raise InvalidInput(f"bounds: {value!r} is not a (lower, upper) pair of numbers, e.g. {example}.",
                           field="bounds") from None
    if not (math.isfinite(lower) and math.isfinite(upper) and math.isfinite(upper - lower)
            and max(abs(lower), abs(upper)) <= MAX_BOUND):
        raise InvalidInput(f"bounds: {value!r} must be finite numbers no larger than {MAX_BOUND:g} in size, e.g. "
                           f"{example}.", field="bounds")
    if lower >= upper:
        raise InvalidInput(f"bounds: the lower bound ({lower:g}) must be below the upper ({upper:g}); they are "
                           "reversed or equal.", field="bounds")
    if max(abs(lower), abs(upper)) < MIN_BOUND:
        raise InvalidInput(f"bounds: {value!r} are too small to scale: one bound must be at least {MIN_BOUND:g} in "
                           f"size (bounds from {MIN_BOUND:g} to {MAX_BOUND:g} in size are accepted); measure the "
                           "value in larger units.", field="bounds")
    return lower, upper


def _contributions(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONTRIBUTIONS:
        raise InvalidInput(f"contributions: {value!r} is not a whole number from 1 to {MAX_CONTRIBUTIONS}: the most "
                           "rows one person may add (their further rows are left out; noise grows with it).",
                           field="contributions")
    return value


def _names(value: Any, field_name: str) -> list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput(f"{field_name}: name a column or a list of columns, not {value!r}.", field=field_name)
    return list(names)


def _categories(definition: dict[str, Any]) -> list[Any]:
    if definition.get("type") == "boolean":
        return [False, True]
    return list(definition.get("categories") or [])


MAX_RAW_CELLS = 4_000_000  # the file's own code combinations counted at once before folding into declared cells


def _combinable(combinations: int, rows: int) -> bool:
    """Whether every combination of the columns' own values can be counted at once (else each row is recoded)."""
    return combinations <= max(MAX_RAW_CELLS, 4 * rows)


def _group_codes(column: pa.ChunkedArray, declared: list[Any], boolean: bool) -> tuple[np.ndarray, np.ndarray]:
    """(each row's code among the column's own values, -1 when missing; each own value's position among the
    declared categories, -1 when undeclared). Dictionary columns give their indices as they are; others are
    dictionary-encoded first. The rows are never turned into Python objects, only the distinct values."""
    if boolean and not pa.types.is_boolean(column.type):
        values = column.to_pandas().astype("boolean")  # as pandas reads it: 0/1, "True"/"False"...
        return pd.Categorical(values, categories=declared).codes.astype(np.int64), np.arange(len(declared))
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if column.num_chunks > 1:
        column = column.unify_dictionaries()
    own = column.chunk(0).dictionary
    indices = [chunk.indices for chunk in column.chunks]
    if column.null_count:
        indices = [chunk.fill_null(-1) for chunk in indices]
    codes = (indices[0].to_numpy() if len(indices) == 1
             else np.concatenate([chunk.to_numpy() for chunk in indices]))
    labels = pd.Index(own.to_pandas())
    if boolean:
        labels = labels.astype("boolean")
    return codes, pd.Index(declared).get_indexer(labels)


def _crosstab_cells(table: pa.Table, groups: list[str], source: Source, n_cells: int,
                    units: np.ndarray | None) -> dict[str, np.ndarray]:
    """Counts (and sums of ``units``) per declared cell, row-major over ``groups``: one ``np.bincount`` over the
    combined codes of the file's own values (missing included), then the small table of those combinations is
    folded into the declared cells; rows with a missing or undeclared value fall in no cell."""
    parts = []
    for name in groups:
        codes, position = _group_codes(table[name], _categories(source.schema[name]),
                                       source.schema[name].get("type") == "boolean")
        missing = bool(len(codes)) and int(codes.min()) < 0
        if missing:  # code -1 becomes the first combination of the column, which falls in no cell
            codes, position = codes.astype(np.intp) + 1, np.append(-1, position)
        parts.append((codes, position, len(_categories(source.schema[name]))))
    size = math.prod(len(position) for _, position, _ in parts)
    if _combinable(size, table.num_rows):
        flat = parts[0][0].astype(np.intp)  # intp: np.bincount counts it without a copy
        target = np.zeros(1, dtype=np.int64)  # each combination's declared cell, -1 for none
        for i, (codes, position, declared) in enumerate(parts):
            if i:
                flat *= len(position)
                flat += codes
            target = np.where((target[:, None] < 0) | (position[None, :] < 0), -1,
                              target[:, None] * declared + position[None, :]).ravel()
        fold = target >= 0
        counts = np.bincount(flat, minlength=size)
        out = {"count": np.bincount(target[fold], weights=counts[fold], minlength=n_cells).astype(np.int64)}
        if units is not None:
            sums = np.bincount(flat, weights=units, minlength=size)
            out["sum"] = np.rint(np.bincount(target[fold], weights=sums[fold], minlength=n_cells)).astype(np.int64)
        return out
    code = np.zeros(table.num_rows, dtype=np.int64)  # too many own values to combine: recode row by row
    for codes, position, declared in parts:
        mapped = position[codes]
        code = np.where((code < 0) | (mapped < 0), -1, code * declared + mapped)
    keep = code >= 0
    out = {"count": np.bincount(code[keep], minlength=n_cells).astype(np.int64)}
    if units is not None:
        out["sum"] = np.rint(np.bincount(code[keep], weights=units[keep], minlength=n_cells)).astype(np.int64)
    return out


# -- the service -------------------------------------------------------------------------------------------------
class ProjectDP:
    """Differentially private counts, sums, means, crosstabs, histograms and quantiles for one project."""

    def __init__(self, ctx: Context, project_id: str, outputs: ProjectOutputs) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self._outputs = outputs

    # -- the queries -------------------------------------------------------------------------------------------
    def count(self, dataset: str, *, epsilon: float, where: dict | None = None, contributions: int = 1,
              preview: bool = False, name: str | None = None) -> Output | Accuracy:
        """How many people (rows, with ``contributions`` > 1 for datasets keyed by person)."""
        return self._run("count", dataset, dict(epsilon=epsilon, where=where, contributions=contributions),
                         preview, name)

    def sum(self, dataset: str, column: str, *, bounds: tuple[float, float] | None = None, epsilon: float,
            where: dict | None = None, contributions: int = 1, preview: bool = False,
            name: str | None = None) -> Output | Accuracy:
        """The sum of ``column``, each value clipped to ``bounds``."""
        return self._run("sum", dataset, dict(column=column, bounds=bounds, epsilon=epsilon, where=where,
                                              contributions=contributions), preview, name)

    def mean(self, dataset: str, column: str, *, bounds: tuple[float, float] | None = None, epsilon: float,
             where: dict | None = None, contributions: int = 1, preview: bool = False,
             name: str | None = None) -> Output | Accuracy:
        """The mean of ``column``: a noisy sum over a noisy count, each with half of ``epsilon``."""
        return self._run("mean", dataset, dict(column=column, bounds=bounds, epsilon=epsilon, where=where,
                                               contributions=contributions), preview, name)

    def crosstab(self, dataset: str, index: str | list[str], columns: str | list[str] | None = None, *,
                 epsilon: float, values: str | None = None, aggfunc: str = "count",
                 bounds: tuple[float, float] | None = None, where: dict | None = None, contributions: int = 1,
                 preview: bool = False, name: str | None = None) -> Output | Accuracy:
        """Counts (or a bounded sum or mean of ``values``) in every cell of the declared categories.

        The cells are disjoint, so the whole table costs ``epsilon`` once (parallel composition).
        """
        return self._run("crosstab", dataset, dict(index=index, columns=columns, epsilon=epsilon, values=values,
                                                   aggfunc=aggfunc, bounds=bounds, where=where,
                                                   contributions=contributions), preview, name)

    def histogram(self, dataset: str, column: str, *, bounds: tuple[float, float] | None = None, epsilon: float,
                  bins: int | list[float] = 10, where: dict | None = None, contributions: int = 1,
                  preview: bool = False, name: str | None = None) -> Output | Accuracy:
        """Counts of ``column`` in ``bins`` (a number of equal bins over ``bounds``, or edges within them);
        values outside the bounds fall into the end bins."""
        return self._run("histogram", dataset, dict(column=column, bounds=bounds, epsilon=epsilon, bins=bins,
                                                    where=where, contributions=contributions), preview, name)

    def quantile(self, dataset: str, column: str, q: float, *, bounds: tuple[float, float] | None = None,
                 epsilon: float, where: dict | None = None, contributions: int = 1, preview: bool = False,
                 name: str | None = None) -> Output | Accuracy:
        """The ``q`` quantile (0-1) of ``column`` by an Exponential mechanism over a grid fixed by ``bounds``."""
        return self._run("quantile", dataset, dict(column=column, q=q, bounds=bounds, epsilon=epsilon, where=where,
                                                   contributions=contributions), preview, name)

    def budget(self) -> pd.DataFrame:
        """ε set, spent and remaining for each dataset granted to the project (its own and dataset-wide budgets)."""
        resource = f"privacy budgets of project {self.project_id}"
        require_in_project(self._ctx, "dp.budget.read", resource, self.project_id)
        with self._ctx.db.read() as conn:
            datasets = sorted(set(conn.execute(select(grants.c.dataset_id)
                                               .where(grants.c.project_id == self.project_id)).scalars()))
            return ledger.budget_frame(conn, datasets, self.project_id)

    # -- the one path every query takes ---------------------------------------------------------------------
    def _run(self, method: str, dataset: Any, params: dict[str, Any], preview: Any, name: Any) -> Output | Accuracy:
        resource = f"dp {method} on {dataset} in project {self.project_id}"
        try:
            spec = self._check_params(method, params)
            if not isinstance(preview, bool):
                raise InvalidInput("preview: True or False.", field="preview")
            if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
                raise InvalidInput("name: a short name for the output (up to 200 characters).", field="name")
            short: BudgetExceeded | None = None
            with self._ctx.db.read() as conn:  # one read for the checks, the early budget answer and the settings
                if name is not None:  # refused before any budget is spent, not when the result is recorded
                    self._outputs.screen(conn, [("name", name)])
                source, facts = self._source(conn, dataset)
                used = self._check_columns(method, spec, source)
                if not preview:  # an early answer when the budget cannot pay, given only after the policy's
                    try:
                        ledger.check_available(conn, project_id=self.project_id, datasets=source.datasets,
                                               epsilon=spec["epsilon"])
                    except BudgetExceeded as error:
                        short = error
                settings = read_settings(conn)  # handed out only once ``settings.read`` is allowed, below
            cells = self._cells(method, spec, source)
        except (InvalidInput, NotFound, DisclosureRisk) as error:
            raise self._ctx.audit_refused("dp.query", resource, error) from None
        for check in source.checks:  # every catalogue dataset in the lineage: its grant, and its budget below
            self._ctx.require("dp.query", resource, **facts, dataset=check["dataset"], owner=check["owner"],
                              granted=check["granted"], wanted=source.wanted(check, used), lapsed_grant=check["lapsed"])
        if preview:
            return self._accuracy(method, spec, source, cells)
        if short is not None:  # nothing is read (the reservation below still decides)
            raise self._ctx.audit_refused("dp.query", resource, short) from None
        self._ctx.require("settings.read", SETTINGS_RESOURCE)  # the output records the disclosure settings
        frame = self._read(source, used, spec, resource)
        truth = self._aggregate(method, spec, source, cells, frame)
        query = {"method": method, "source": source.name, **spec, "where": sources.where_json(spec["where"])}
        with self._ctx.write(audit_refusals_as=("dp.query", resource)) as conn:
            _, entries, remaining = ledger.reserve(
                conn, username=self._ctx.actor.username, project_id=self.project_id, datasets=source.datasets,
                method=method, query=query, epsilon=spec["epsilon"])
        output = self._noisy_output(method, spec, source, cells, truth, query, entries, remaining, settings)
        return self._outputs.record(output, name=name or self._default_name(method, spec, source),
                                    derived_from=[source.name], origin=self._origin(source, query))

    @staticmethod
    def _origin(source: Source, query: dict[str, Any]) -> dict[str, Any]:
        """Where the result came from, with nothing that is an exact function of the rows: a frame cut from a
        dataset by ``where=`` may hold a row or none, and its file's SHA-256, released with the result, could be
        checked against the few files each guess would make. The frame is named by its version and by how the
        workbench made it (its source, that file's SHA-256, the columns and the filter)."""
        origin = source.origin(query)
        if source.kind == "saved":
            origin = {**origin, "sha256": None, "frame_spec": source.spec}
        return origin

    def _check_params(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {"epsilon": ledger.check_epsilon(params["epsilon"]),
                                "contributions": _contributions(params["contributions"]),
                                "where": sources.check_where(params.get("where"))}
        if method in ("sum", "mean", "histogram", "quantile"):
            if not isinstance(params["column"], str) or not params["column"]:
                raise InvalidInput("column: name the numeric column.", field="column")
            spec["column"] = params["column"]
            spec["bounds"] = _bounds(params["bounds"], params["column"])
        if method == "quantile":
            q = params["q"]
            if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
                raise InvalidInput(f"q: {q!r} is not a quantile between 0 and 1 (0.5 is the median).", field="q")
            spec["q"] = float(q)
        if method == "histogram":
            spec["edges"] = self._edges(params["bins"], spec["bounds"])
        if method == "crosstab":
            spec["index"] = _names(params["index"], "index")
            if not spec["index"]:
                raise InvalidInput("index: name the column(s) whose categories make the rows.", field="index")
            spec["columns"] = _names(params["columns"], "columns")
            aggfunc = params["aggfunc"]
            if aggfunc not in AGGFUNCS:
                raise InvalidInput(f"aggfunc: {aggfunc!r} is not one of {', '.join(AGGFUNCS)}.", field="aggfunc")
            spec["aggfunc"] = aggfunc
            if aggfunc == "count":
                if params["values"] is not None or params["bounds"] is not None:
                    raise InvalidInput("values/bounds: a count takes neither; give aggfunc='sum' or 'mean' to "
                                       "aggregate a column.", field="values")
            else:
                if not isinstance(params["values"], str) or not params["values"]:
                    raise InvalidInput(f"values: name the numeric column to {aggfunc}.", field="values")
                spec["column"] = params["values"]
                spec["bounds"] = _bounds(params["bounds"], params["values"])
            overlap = set(spec["index"]) & set(spec["columns"])
            if overlap or len(set(spec["index"])) < len(spec["index"]):
                raise InvalidInput(f"index/columns: a column may appear once ({', '.join(sorted(overlap))}).",
                                   field="columns")
        self._check_noise_fits(method, spec)
        return spec

    @staticmethod
    def _check_noise_fits(method: str, spec: dict[str, Any]) -> None:
        """Refuse, from the spec alone, an ε so small for the bounds that the noise would outgrow exact integers,
        and bounds so narrow for their size that the quantile's candidates would not be distinct numbers."""
        aggfunc = spec.get("aggfunc", method)
        epsilon, k = spec["epsilon"], spec["contributions"]
        if aggfunc in ("sum", "mean"):
            share = epsilon / 2 if aggfunc == "mean" else epsilon
            sensitivity = mechanisms.sum_sensitivity(spec["bounds"], k)
            if not mechanisms.noise_fits(share, sensitivity):
                least = sensitivity / mechanisms.MAX_NOISE_SCALE * (epsilon / share)
                raise InvalidInput(f"epsilon: {epsilon:g} is too small for bounds {spec['bounds']} with "
                                   f"contributions={k}: the noise would outgrow the integers it is drawn in. Use "
                                   f"an epsilon from {least:.3g} to {ledger.MAX_QUERY_EPSILON:g}, or narrower bounds.",
                                   field="epsilon")
        if method == "quantile":
            lower, upper = spec["bounds"]
            if mechanisms.quantile_resolution((lower, upper)) <= 4 * np.spacing(max(abs(lower), abs(upper))):
                raise InvalidInput(f"bounds: {spec['bounds']} are too narrow for numbers of their size: the "
                                   f"quantile's {mechanisms.QUANTILE_STEPS + 1:,} candidates between them would not "
                                   "be distinct. Give bounds at least a millionth of their size apart, e.g. "
                                   f"({lower:g}, {lower + max(abs(lower), 1.0) * 1e-6:g}) or wider.", field="bounds")

    @staticmethod
    def _edges(bins: Any, bounds: tuple[float, float]) -> list[float]:
        if isinstance(bins, int) and not isinstance(bins, bool):
            if not 1 <= bins <= MAX_BINS:
                raise InvalidInput(f"bins: {bins} is not a number of bins from 1 to {MAX_BINS}.", field="bins")
            return [float(x) for x in np.linspace(bounds[0], bounds[1], bins + 1)]
        try:
            edges = [float(x) for x in bins]
        except (TypeError, ValueError):
            raise InvalidInput(f"bins: {bins!r} is neither a number of bins nor a list of bin edges.",
                               field="bins") from None
        if (len(edges) < 2 or len(edges) > MAX_BINS + 1 or any(b <= a for a, b in pairwise(edges))
                or edges[0] < bounds[0] or edges[-1] > bounds[1] or not all(map(math.isfinite, edges))):
            raise InvalidInput(f"bins: edges must rise strictly and lie within the bounds {bounds}; got {bins!r}.",
                               field="bins")
        return edges

    def _source(self, conn: Connection, name: Any) -> tuple[Source, dict[str, Any]]:
        """The dataset or saved frame ``name`` (``sources.resolve``) and the policy facts of the person; a frame
        saved from a kernel is refused: its rows and person key are whatever the analyst wrote."""
        source = sources.resolve(conn, self._ctx.vault, self.project_id, name, "dataset")
        facts = project_facts(conn, project_row(conn, self.project_id), self._ctx.actor.username)
        if source.kind == "saved" and source.made_by != "workbench":
            raise InvalidInput(
                f"dataset: {name!r} is a frame saved from a kernel, so its rows and any person key in it are "
                "whatever was saved, and noise calibrated to one person's rows would protect nobody. Query its "
                "source instead, narrowing it with where= (e.g. project.dp.count('<dataset>', where={'sex': 'F'}, "
                "epsilon=...)), or have the workbench make the frame with project.derive(source, columns=..., "
                "where=..., new_name=...) and query that.", field="dataset")
        if source.kind == "saved" and source.person_key is None and not source.rows_are_people:
            raise InvalidInput(f"dataset: saved frame {name!r} has no column identifying the person, so one "
                               "person's contribution cannot be bounded; derive it again keeping the person key "
                               "(the dataset's personKey), e.g. project.derive(source, columns=[..., key], ...).",
                               field="dataset")
        return source, facts

    def _check_columns(self, method: str, spec: dict[str, Any], source: Source) -> list[str]:
        """Every column the query uses: known, not a direct or record identifier, categories declared for groups."""
        groups = spec.get("index", []) + spec.get("columns", [])
        value = [spec["column"]] if "column" in spec else []
        used = list(dict.fromkeys(groups + value + list(spec["where"])))
        sources.check_columns(source, used, what="differentially private queries")
        for column in groups:
            if not _categories(source.schema[column]):
                raise InvalidInput(f"{column!r} has no categories declared in the catalogue, so its cells cannot be "
                                   "fixed in advance (taking them from the data would leak); group by a category "
                                   "column, or ask the owner to declare its categories.", field="index")
        for column in value:
            if source.schema[column].get("type") not in NUMERIC:
                raise InvalidInput(f"{column!r} is {source.schema[column].get('type')}, not numeric; sums, means, "
                                   "histograms and quantiles need a numeric column.", field="column")
        return used

    def _cells(self, method: str, spec: dict[str, Any], source: Source) -> tuple[list[list[Any]], list[list[Any]]]:
        """Row and column labels of the answer, fixed by the spec and the public schema alone."""
        if method == "crosstab":
            rows = [_categories(source.schema[c]) for c in spec["index"]]
            cols = [_categories(source.schema[c]) for c in spec["columns"]]
            size = math.prod(len(r) for r in rows) * math.prod(len(c) for c in cols)
            if size > MAX_CELLS:
                raise InvalidInput(f"index/columns: {size:,} cells is more than {MAX_CELLS:,}; group by fewer "
                                   "columns.", field="columns")
            return rows, cols
        if method == "histogram":
            edges = spec["edges"]
            return [[f"[{a:g}, {b:g})" for a, b in pairwise(edges)]], []
        return [["all"]], []

    # -- accuracy ---------------------------------------------------------------------------------------------
    def _accuracy(self, method: str, spec: dict[str, Any], source: Source, cells: Any) -> Accuracy:
        epsilon, k = spec["epsilon"], spec["contributions"]
        shape = self._frame(cells, 0.0)
        note = ""
        scale: float
        width: float
        if method in ("count", "histogram") or spec.get("aggfunc") == "count":
            scale, width = mechanisms.count_accuracy(epsilon, k)
            mechanism = "Geometric (counts)"
        elif method == "sum" or spec.get("aggfunc") == "sum":
            scale, width = mechanisms.sum_accuracy(epsilon, spec["bounds"], k)
            mechanism = "Geometric on integer-scaled values (bounded sum)"
        elif method == "quantile":
            scale = 2 * mechanisms.quantile_sensitivity(spec["q"], k) / epsilon
            width = mechanisms.quantile_rank_half_width(epsilon, spec["q"], k)
            mechanism = "Exponential mechanism over a public grid (quantile)"
            note = self._quantile_note(width, spec["bounds"])
        else:  # a mean: noisy sum / noisy count, ε/2 each
            sum_scale, sum_width = mechanisms.sum_accuracy(epsilon / 2, spec["bounds"], k)
            _, count_width = mechanisms.count_accuracy(epsilon / 2, k)
            # the catalogue's declared row count is public; a saved frame's is the exact size of a filter's result
            declared = source.public_rows if source.kind == "dataset" else None
            n = max((declared or EXAMPLE_ROWS) / max(shape.size, 1), 1.0)
            largest = max(map(abs, spec["bounds"]))
            scale = sum_scale
            width = min((sum_width + largest * count_width) / n, spec["bounds"][1] - spec["bounds"][0])
            note = (f"For a mean the half-width depends on the cell's size n: about (±{sum_width:.4g} + "
                    f"{largest:g} × ±{count_width}) / n; shown for n = {n:,.0f} "
                    + ("(the rows per cell if spread evenly)." if declared else
                       f"(as if {EXAMPLE_ROWS:,} rows were spread evenly: this source declares no row count)."))
            mechanism = "noisy sum / noisy count (Geometric), ε/2 each"
        with self._ctx.db.read() as conn:
            remaining = {}
            for dataset_id in source.datasets:
                budgets = ledger.budget_rows(conn, dataset_id, self.project_id)
                remaining[dataset_id] = min((max(r["epsilon"] - ledger.spent(conn, dataset_id, r["project_id"])[0],
                                                 0.0) for r in budgets), default=0.0)
        half = self._frame(cells, float(width), self._label(method, spec), (spec.get("index", []),
                                                                             spec.get("columns", [])))
        return Accuracy(method, source.name, epsilon, mechanism, float(scale), half, remaining, note)

    # -- reading and aggregating ------------------------------------------------------------------------------
    def _read(self, source: Source, used: list[str], spec: dict[str, Any], resource: str) -> pa.Table:
        """The rows the query counts, as Arrow (no pandas frame: the cells come from dictionary indices): the
        used columns, ``where`` applied, rows without the aggregated value left out, each person clipped to
        ``contributions`` rows (the first in stored order)."""
        try:
            table = sources.read(source, used, spec["where"], person=source.person_key is not None,
                                 secret=bytes.fromhex(self._ctx.secrets["pseudonymisation_key"]))
        except (NotFound, InvalidInput, Conflict) as error:  # Conflict: the person index does not hold the data
            raise self._ctx.audit_refused("dp.query", resource, error) from None
        if "column" in spec:  # NaN counts as missing, as pandas counts it
            table = table.filter(pc.invert(pc.is_null(table[spec["column"]], nan_is_null=True)))
        if source.person_key:
            person = table[PERSON].to_numpy()
            keep = pd.Series(person).groupby(person, sort=False).cumcount().to_numpy() < spec["contributions"]
            if not keep.all():
                table = table.filter(pa.array(keep))
        return table

    def _aggregate(self, method: str, spec: dict[str, Any], source: Source, cells: Any,
                   table: pa.Table) -> dict[str, np.ndarray]:
        """True per-cell integers (counts; sums in integer units) — never shown, only noised."""
        n_cells = math.prod(len(c) for c in cells[0]) * math.prod(len(c) for c in cells[1])
        values = (np.asarray(table[spec["column"]].to_pandas(), dtype=float)
                  if "column" in spec else None)
        if method == "quantile" and values is not None:
            return {"values": values}
        units = (mechanisms.scaled(values, spec["bounds"])
                 if values is not None and method in ("sum", "mean", "crosstab") else None)
        if method == "crosstab":  # counted over the file's own codes, then folded into the declared cells
            return _crosstab_cells(table, spec["index"] + spec["columns"], source, n_cells, units)
        if method == "histogram":
            clipped = np.clip(values, spec["bounds"][0], spec["bounds"][1])  # type: ignore[arg-type]
            edges = np.asarray(spec["edges"])  # values beyond the bounds were clipped into the end bins
            code = np.clip(np.searchsorted(edges, clipped, side="right") - 1, 0, len(edges) - 2)
        else:
            code = np.zeros(table.num_rows, dtype=np.int64)
        out = {"count": np.bincount(code, minlength=n_cells).astype(np.int64)}
        if units is not None and method in ("sum", "mean"):
            out["sum"] = np.rint(np.bincount(code, weights=units, minlength=n_cells)).astype(np.int64)
        return out

    # -- noise and the recorded output ------------------------------------------------------------------------
    def _noisy_output(self, method: str, spec: dict[str, Any], source: Source, cells: Any,
                      truth: dict[str, np.ndarray], query: dict[str, Any], entries: list[int],
                      remaining: dict[str, float], settings: DisclosureSettings) -> Output:
        epsilon, k = spec["epsilon"], spec["contributions"]
        aggfunc = spec.get("aggfunc", method if method in ("sum", "mean") else "count")
        if method == "quantile":
            value = mechanisms.quantile(truth["values"], spec["q"], epsilon, spec["bounds"], k)
            values = np.array([value])
            # from ε, q, k and the grid alone: a width depending on the rows read would tell how many matched
            width = mechanisms.quantile_rank_half_width(epsilon, spec["q"], k)
            widths = np.array([np.nan])
            mechanism = (f"Exponential mechanism over {mechanisms.QUANTILE_STEPS + 1:,} candidates evenly spaced "
                         "across the bounds")
            scale = 2 * mechanisms.quantile_sensitivity(spec["q"], k) / epsilon
            extra = {"rank_half_width": width, "resolution": mechanisms.quantile_resolution(spec["bounds"]),
                     "accuracy_note": self._quantile_note(width, spec["bounds"])}
        elif aggfunc == "count":
            noisy = mechanisms.noisy_integers(truth["count"], epsilon, k)
            values = np.maximum(noisy, 0)
            scale, width = mechanisms.count_accuracy(epsilon, k)
            widths = np.full(values.shape, float(width))
            mechanism, extra = "Geometric (diffprivlib), post-processed to non-negative integers", {}
        elif aggfunc == "sum":
            factor = mechanisms.sum_scale(spec["bounds"])
            sensitivity = mechanisms.sum_sensitivity(spec["bounds"], k)
            values = mechanisms.noisy_integers(truth["sum"], epsilon, sensitivity) / factor
            scale, width = mechanisms.sum_accuracy(epsilon, spec["bounds"], k)
            widths = np.full(values.shape, float(width))
            mechanism, extra = f"Geometric (diffprivlib) on values scaled to units of {1 / factor:g}", {}
        else:  # mean = noisy sum / noisy count
            factor = mechanisms.sum_scale(spec["bounds"])
            sensitivity = mechanisms.sum_sensitivity(spec["bounds"], k)
            sums = mechanisms.noisy_integers(truth["sum"], epsilon / 2, sensitivity) / factor
            counts = mechanisms.noisy_integers(truth["count"], epsilon / 2, k)
            _, sum_width = mechanisms.sum_accuracy(epsilon / 2, spec["bounds"], k)
            _, count_width = mechanisms.count_accuracy(epsilon / 2, k)
            lower, upper = spec["bounds"]
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(counts > 0, np.clip(sums / np.maximum(counts, 1), lower, upper), np.nan)
                widths = np.where(counts > 0, np.minimum((sum_width + max(abs(lower), abs(upper)) * count_width)
                                                         / np.maximum(counts, 1), upper - lower), np.nan)
            scale = mechanisms.sum_accuracy(epsilon / 2, spec["bounds"], k)[0]
            mechanism = "noisy sum / noisy count (Geometric, diffprivlib), ε/2 each; mean clipped to the bounds"
            extra = {"counts": counts.tolist(), "approximate_interval": True}
        label = self._label(method, spec)
        names = spec.get("index", []), spec.get("columns", [])
        table, half = self._frame(cells, values, label, names), self._frame(cells, widths, label, names)
        unit = (f"a person (key {source.person_key!r}, at most {k} row{'s' if k > 1 else ''} each)"
                if source.person_key else "a person (one row per person, as the catalogue declares)")
        properties = {"dp": {
            "query": query, "mechanism": mechanism, "epsilon": epsilon, "delta": 0.0, "privacy_unit": unit,
            "contributions": k, "noise_scale": float(scale), "confidence": mechanisms.CONFIDENCE,
            "half_width": [[None if not np.isfinite(x) else float(x) for x in row] for row in half.to_numpy()],
            "ledger": entries, "remaining": remaining, "datasets": source.datasets, **extra}}
        return Output(kind="dp", method=f"dp_{method}", table=table, flags={}, status="pass", safe_table=table,
                      settings=settings, properties=properties, command=self._command(method, spec, source))

    @staticmethod
    def _quantile_note(width: float, bounds: tuple[float, float]) -> str:
        resolution = mechanisms.quantile_resolution(bounds)
        return (f"A quantile's 95% interval is in ranks: with 95% probability the answer is within ±{width:,.1f} "
                f"ranks (people) of the q-th quantile, to within half the grid step of {resolution:.4g} (the "
                f"answer is one of {mechanisms.QUANTILE_STEPS + 1:,} points evenly spaced across the bounds). This "
                "holds whatever the data and however wide the bounds; the interval in values depends on how densely "
                "the data lie around the quantile.")

    @staticmethod
    def _label(method: str, spec: dict[str, Any]) -> str:
        if method in ("sum", "mean", "quantile"):
            return spec["column"]
        if method == "crosstab" and spec["aggfunc"] != "count":
            return f"{spec['aggfunc']} of {spec['column']}"
        return "count"

    @staticmethod
    def _frame(cells: Any, values: Any, label: str = "value",
               names: tuple[list[str], list[str]] = ([], [])) -> pd.DataFrame:
        def axis(levels: list[list[Any]], named: list[str]) -> pd.Index:
            if len(levels) == 1:
                return pd.Index(levels[0], name=named[0] if named else None)
            return pd.MultiIndex.from_product(levels, names=named or None)

        rows, cols = cells
        index = axis(rows, names[0])
        columns = axis(cols, names[1]) if cols else pd.Index([label])
        data = np.asarray(values)
        if data.ndim == 0:
            data = np.full(len(index) * len(columns), data.item())
        return pd.DataFrame(data.reshape(len(index), len(columns)), index=index, columns=columns)

    @staticmethod
    def _command(method: str, spec: dict[str, Any], source: Source) -> str:
        args = [repr(source.name)] + [f"{k}={v!r}" for k, v in spec.items() if k != "edges" and v not in ({}, [])]
        return f"project.dp.{method}({', '.join(args)})"

    @staticmethod
    def _default_name(method: str, spec: dict[str, Any], source: Source) -> str:
        what = {"count": "count", "sum": f"sum of {spec.get('column')}", "mean": f"mean of {spec.get('column')}",
                "histogram": f"histogram of {spec.get('column')}",
                "quantile": f"q{spec.get('q', 0):g} of {spec.get('column')}"}.get(method)
        if method == "crosstab":
            what = (f"{spec['aggfunc']}" + (f" of {spec['column']}" if "column" in spec else "")
                    + f" by {' and '.join(spec['index'] + spec['columns'])}")
        return f"dp {what} ({source.name}, ε={spec['epsilon']:g})"[:200]


__all__ = ["Accuracy", "ProjectDP"]
