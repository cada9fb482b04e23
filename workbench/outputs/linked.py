"""The linked-table check run when a table is recorded in a project.

A table checked on its own can still give away the cells its suppression hid once another table of the same rows is
published beside it (``disclosure.linked``). So when a count or sum table is recorded, the project's other recorded
tables of the same population are gathered (those that already fail are not releasable as they stand and are left
out): tables the workbench computed from the same source, version, file and ``where`` filter, aggregating the same
thing, match exactly; a table from a frame the analyst supplied is matched by its lineage datasets and dimension
names, which cannot prove the rows are the same. Of those, the ones linked to the new table through shared
dimensions (one a margin of the other, or a margin in common, directly or through other tables) go into one LP with
it. A suppressed cell of any of them that the LP pins down inside its protection fails the NEW output with rule
``linked``, naming the tables and the first few cells given back; its cells that overlap the recovered cells are
flagged. When a table of the same data could not be matched with certainty, the output gets the manual linked-table
review note ACRO gives every table, never a silent pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from workbench.db.schema import outputs
from workbench.disclosure.linked import LinkedTable, TooLarge, attack, from_output

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.disclosure.output import Output

RULE = "linked"
METHODS = ("crosstab", "pivot_table", "groupby_agg")
COMPUTED = "computed"
SECONDS = 10.0  # the LP's time limit: the check runs while the output is being recorded
ENOUGH = 5  # recoverable cells named before the check stops looking: one fails the table, a few show the pattern


@dataclass(frozen=True)
class Shape:
    """What a recorded table counts or sums, by which dimensions, over which rows."""

    dims: tuple[str, ...]
    quantity: tuple[str, str | None]  # ("count", None), ("count", column) or ("sum", column)
    exact: str | None  # computed tables: source, version, file SHA-256 and ``where``; None for analyst-supplied
    lineage: tuple[str, ...]


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


def _quantity(aggfunc: Any, values: Any) -> tuple[str, str | None] | None:
    """Count or sum of one column (or the rows counted): the additive aggregates an LP can add up."""
    funcs, columns = _listed(aggfunc), _listed(values)
    if len(funcs) > 1 or len(columns) > 1:
        return None
    func = funcs[0] if funcs else None
    column = columns[0] if columns else None
    if func is None and column is None:
        return ("count", None)
    if func in ("count", "size") or (func is None and column is not None):
        return ("count", column) if func == "count" else None
    if func == "sum" and column is not None:
        return ("sum", column)
    return None


def computed_shape(origin: dict[str, Any], sources: Sequence[str]) -> Shape | None:
    """A table the workbench computed by spec: exact population key and dimensions from its origin."""
    spec = origin.get("spec") or {}
    if spec.get("method") not in METHODS or spec.get("normalize") or spec.get("dropna") is False:
        return None
    if spec.get("method") == "groupby_agg":
        dims = _listed(spec.get("by"))
    else:
        dims = _listed(spec.get("index")) + _listed(spec.get("columns"))
    quantity = _quantity(spec.get("aggfunc"), spec.get("values"))
    if quantity is None or not dims or len(set(dims)) != len(dims):
        return None
    key = json.dumps([origin.get("source"), origin.get("version"), origin.get("sha256"), spec.get("where") or {}],
                     sort_keys=True, default=str)
    lineage = tuple(sorted(_listed(origin.get("datasets")) or list(sources)))
    return Shape(dims=tuple(dims), quantity=quantity, exact=key, lineage=lineage)


def supplied_shape(output: Output, sources: Sequence[str]) -> Shape | None:
    """A table from a frame the analyst supplied: dimensions from its axes' names, what it aggregates from its
    properties; the rows it covers are unknown."""
    if output.kind != "table" or output.method not in METHODS:
        return None
    props = output.properties
    quantity = _quantity(props.get("aggfunc"), props.get("values"))
    if quantity is None:
        return None
    dims = [str(n) for n in (*output.table.index.names, *output.table.columns.names) if n is not None]
    if not dims or len(set(dims)) != len(dims):
        return None
    return Shape(dims=tuple(dims), quantity=quantity, exact=None, lineage=tuple(sorted(sources)))


@dataclass
class _Member:
    id: int | None  # None: the output being recorded
    name: str
    shape: Shape
    output: Output


def _component(new: _Member, others: list[_Member]) -> list[_Member]:
    """The new table and the tables joined to it through shared dimensions, directly or through each other."""
    group, dims, left = [new], set(new.shape.dims), list(others)
    grown = True
    while grown:
        grown = False
        for member in list(left):
            if dims & set(member.shape.dims):
                group.append(member)
                dims |= set(member.shape.dims)
                left.remove(member)
                grown = True
    return group


def _label(coords: tuple[str | None, ...], dims: tuple[str, ...]) -> str:
    parts = [f"{d}={c}" for d, c in zip(dims, coords, strict=True) if c is not None]
    return ", ".join(parts) or "the grand total"


def _named(member: _Member) -> str:
    return f"output {member.id} {member.name!r}" if member.id is not None else "this output"


def _overlap(new: LinkedTable, dims: tuple[str, ...], coords: tuple[str | None, ...]) -> np.ndarray:
    """The new table's cells that add up some of the same rows as the cell at ``coords`` (on ``dims``)."""
    hit = np.ones(len(new.coords), dtype=bool)
    for k, dim in enumerate(new.dims):
        if dim in dims:
            label = coords[dims.index(dim)]
            if label is not None:
                hit &= np.array([c[k] is None or c[k] == label for c in new.coords])
    return hit


def _fail(new_member: _Member, table: LinkedTable, group: list[_Member], tables: list[LinkedTable],
          recovered: list[Any]) -> None:
    """Fail the new output with rule ``linked``: flag its cells over the recovered ones, name the tables."""
    output = new_member.output
    hit = np.zeros(len(table.coords), dtype=bool)
    cells = []
    for found in recovered:
        where = tables[found.table]
        hit |= _overlap(table, where.dims, where.coords[found.cell])
        cells.append(f"{_label(where.coords[found.cell], where.dims)} of {_named(group[found.table])}")
    shape = output.table.shape
    flag = hit.reshape(shape) if hit.any() else np.ones(shape, dtype=bool)
    others = [_named(m) for m in group[1:]]
    output.flags[RULE] = pd.DataFrame(flag, index=output.table.index, columns=output.table.columns)
    output.measures[RULE] = pd.DataFrame(np.where(flag, float(len(recovered)), np.nan), index=output.table.index,
                                         columns=output.table.columns)
    output.properties["linked"] = {
        "tables": [{"id": m.id, "name": m.name} for m in group[1:]],
        "recovered": cells,
        "explanation": (f"together with {', '.join(others)}, this table lets the suppressed "
                        f"cell{'s' if len(cells) != 1 else ''} {'; '.join(cells)} be worked out (by linear "
                        "programming over the tables' shared margins) within less than the protection suppression "
                        f"gave {'them' if len(cells) != 1 else 'it'}; leave out or coarsen a dimension, or drop one "
                        "of the tables"),
    }
    output.status = "fail"
    output.status_before_mitigation = "fail"


def check(conn: Connection, project_id: str, output: Output, *, name: str, origin: dict[str, Any] | None,
          sources: Sequence[str], load: Callable[[int], Output]) -> None:
    """Run the linked-table check on ``output`` before it is recorded (``origin``: its computed origin, None for
    an analyst-supplied table): fail it with rule ``linked``, or add the manual review note, as the module says.
    ``load`` reads a recorded output of the project by number."""
    new_shape = computed_shape(origin, sources) if origin is not None else supplied_shape(output, sources)
    if new_shape is None or output.kind != "table":
        return
    rows = conn.execute(select(outputs.c.id, outputs.c.name, outputs.c.method, outputs.c.provenance,
                               outputs.c.origin, outputs.c.sources)
                        .where((outputs.c.project_id == project_id) & (outputs.c.kind == "table")
                               & outputs.c.method.in_(METHODS) & (outputs.c.status != "fail"))
                        .order_by(outputs.c.id)).mappings().all()
    linked: list[_Member] = []
    plausible: list[_Member] = []
    uncertain: list[str] = []
    for row in rows:
        lineage = set(_listed(row["sources"]))
        if not lineage & set(new_shape.lineage):
            continue
        computed = row["provenance"] == COMPUTED and isinstance(row["origin"], dict)
        if computed and new_shape.exact is not None:
            shape = computed_shape(row["origin"], _listed(row["sources"]))
            if shape is not None and shape.exact == new_shape.exact and shape.quantity == new_shape.quantity:
                linked.append(_Member(row["id"], row["name"], shape, load(row["id"])))
            continue  # another source, version, filter or aggregate: not the same cells
        other = load(row["id"])
        shape = (computed_shape(row["origin"], _listed(row["sources"])) if computed
                 else supplied_shape(other, _listed(row["sources"])))
        if shape is None:
            continue
        uncertain.append(f"output {row['id']} {row['name']!r}")
        if shape.lineage == new_shape.lineage and shape.quantity[0] == new_shape.quantity[0]:
            plausible.append(_Member(row["id"], row["name"], shape, other))
    new = _Member(None, name, new_shape, output)
    outcome = _run(new, linked + plausible)
    if outcome is None and plausible:  # the analyst's tables did not describe the same rows: exact ones alone
        outcome = _run(new, linked)
    if outcome in ("too large", "unfinished", None):
        why = {"too large": "cut the data too finely together for the workbench to check them",
               "unfinished": f"took more than {SECONDS:.0f} s to check together",
               None: "do not add up to one another as tables of the same rows should"}[outcome]
        output.require_review(f"linked tables: this table and the project's other tables of the same data {why}; "
                              "check by hand that their suppressed cells cannot be worked out from each other")
    elif uncertain and RULE not in output.flags:
        output.require_review("linked tables: the workbench cannot tell whether this table and "
                              f"{', '.join(uncertain[:10])}{' ...' if len(uncertain) > 10 else ''} (of the same data) "
                              "cover the same rows; check by hand that suppressed cells of one cannot be worked out "
                              "from the other")


def _run(new: _Member, candidates: list[_Member]) -> str | None:
    """Run the LP over the new table's linked group; "failed", "passed", "too large", "unfinished" (time limit),
    or None when the tables cannot all describe the same rows."""
    same = [m for m in candidates if m.shape.quantity == new.shape.quantity
            or ((new.shape.exact is None or m.shape.exact is None) and m.shape.quantity[0] == new.shape.quantity[0])]
    group = _component(new, same)
    if len(group) < 2:
        return "passed"
    members, tables = [], []
    for member in group:  # a recorded table of another layout (several blocks of values) is left out
        try:
            tables.append(from_output(member.output, member.name, member.shape.dims))
            members.append(member)
        except ValueError:
            if member is new:
                return "passed"
    if len(members) < 2:
        return "passed"
    nonnegative = new.shape.quantity[0] == "count" or all(np.nanmin(np.append(t.value, 0.0)) >= 0 for t in tables)
    try:
        found = attack(tables, nonnegative=nonnegative, enough=ENOUGH, seconds=SECONDS)
    except TooLarge:
        return "too large"
    if not found.feasible:
        return None
    if found.recovered:
        _fail(new, tables[0], members, tables, found.recovered)
        return "failed"
    return "passed" if found.finished else "unfinished"


__all__ = ["RULE", "Shape", "check", "computed_shape", "supplied_shape"]
