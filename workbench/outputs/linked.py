"""The linked-table check run when a table is recorded in a project.

A table checked on its own can still give away the cells its suppression hid once another table of the same rows is
published beside it (``disclosure.linked``). So when a table is recorded, the project's other recorded tables of the
same data are gathered (those that already fail are not releasable as they stand and are left out): every table the
workbench computed from the same source, version and file, whatever its ``where`` filter, is a candidate; a table
from a frame the analyst supplied is matched by its lineage datasets, which cannot prove the rows are the same.

Each table is split into its blocks of values (one per value column and aggregation). Counts and sums are what an LP
adds up: a filter is a restriction of the joint cells (an equality or list filter keeps some labels of its column, a
range filter keeps pieces of its column cut at every bound the tables' range filters use), a count of a column with
missing values an in/out split on "not missing", and a mean a sum once the count of the same cells and rows is
published (sum = mean × count). The blocks linked to the new table through shared dimensions go into one LP per
quantity. A suppressed cell that the LP pins down inside its protection (or a rounded count that failed a rule,
narrowed to one whole number) fails the NEW output with rule ``linked``,
naming the tables and the first few cells given back. What cannot be modelled so (a median, min, max, std or mode
block, a mean without its counts, a table that could not be matched with certainty) gives the output the manual
linked-table review note ACRO gives every table, never a silent pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from workbench.db.schema import outputs
from workbench.disclosure.linked import OTHER, LinkedTable, TooLarge, attack, blocks, from_output

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.disclosure.output import Output

RULE = "linked"
METHODS = ("crosstab", "pivot_table", "groupby_agg")
COMPUTED = "computed"
SECONDS = 10.0  # the LP's time limit: the check runs while the output is being recorded
ENOUGH = 5  # recoverable cells named before the check stops looking: one fails the table, a few show the pattern
COUNTS = ("count", "size")
RANGE = "\x00range "  # a column filtered by range, cut at every bound any table's filter uses: "{column}"
PRESENT = "\x00present "  # an in/out dimension per column counted: its rows where it is not missing
IN = ("in",)


@dataclass(frozen=True)
class Shape:
    """What a recorded table aggregates, by which dimensions, over which rows."""

    dims: tuple[str, ...]
    aggfuncs: tuple[str, ...]  # as asked; () for a count of rows
    values: tuple[str, ...]  # the value columns aggregated
    exact: str | None  # computed tables: source, version and file SHA-256; None for analyst-supplied
    lineage: tuple[str, ...]
    where: dict[str, Any] = field(default_factory=dict)  # the rows kept (computed tables)
    complete: tuple[str, ...] = ()  # columns with no missing value in the rows the table was made from
    filtered: dict[str, Any] = field(default_factory=dict)  # per column filtered by value: its labels, if missing
    plain: bool = True  # False: proportions, or rows with missing keys kept (not a count or sum of cells)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


def computed_shape(origin: dict[str, Any], sources: Sequence[str]) -> Shape | None:
    """A table the workbench computed by spec: population key, filter and dimensions from its origin."""
    spec = origin.get("spec") or {}
    if spec.get("method") not in METHODS:
        return None
    if spec.get("method") == "groupby_agg":
        dims = _listed(spec.get("by"))
    else:
        dims = _listed(spec.get("index")) + _listed(spec.get("columns"))
    if not dims or len(set(dims)) != len(dims):
        return None
    key = json.dumps([origin.get("source"), origin.get("version"), origin.get("sha256")], sort_keys=True,
                     default=str)
    lineage = tuple(sorted(_listed(origin.get("datasets")) or list(sources)))
    return Shape(dims=tuple(dims), aggfuncs=tuple(_listed(spec.get("aggfunc"))),
                 values=tuple(_listed(spec.get("values"))), exact=key, lineage=lineage,
                 where=dict(spec.get("where") or {}),
                 complete=tuple(_listed(origin.get("complete"))), filtered=dict(origin.get("filtered") or {}),
                 plain=not spec.get("normalize") and spec.get("dropna") is not False)


def supplied_shape(output: Output, sources: Sequence[str]) -> Shape | None:
    """A table from a frame the analyst supplied: dimensions from its axes' names, what it aggregates from its
    properties; the rows it covers are unknown."""
    if output.kind != "table" or output.method not in METHODS:
        return None
    props = output.properties
    dims = [str(n) for n in (*output.table.index.names, *output.table.columns.names) if n is not None]
    if not dims or len(set(dims)) != len(dims):
        return None
    return Shape(dims=tuple(dims), aggfuncs=tuple(_listed(props.get("aggfunc"))),
                 values=tuple(_listed(props.get("values"))), exact=None, lineage=tuple(sorted(sources)),
                 plain=not props.get("normalize") and props.get("dropna") is not False)


@dataclass
class _Member:
    id: int | None  # None: the output being recorded
    name: str
    shape: Shape
    output: Output


@dataclass
class _Block:
    """One block of values of a member's table: what it aggregates and, when an LP can add it up, as a table."""

    member: _Member
    key: tuple[Any, ...]
    func: str  # "count", "sum", "mean" or the aggregation that cannot be added up
    column: str | None
    table: LinkedTable | None
    new: bool = False  # made (in part) from the output being recorded

    @property
    def quantity(self) -> tuple[str, str | None]:
        return ("count", None) if self.func == "count" else (self.func, self.column)


Labels = list[tuple[str, tuple[str, ...]]]


def _order(value: Any) -> tuple[bool, Any]:
    return (isinstance(value, str), value)


def _cuts(members: Sequence[_Member]) -> dict[str, list[Any]]:
    """Per column filtered by range in any of the tables, every bound used, in order."""
    bounds: dict[str, set[Any]] = {}
    for member in members:
        for column, condition in member.shape.where.items():
            if isinstance(condition, dict):
                bounds.setdefault(column, set()).update(condition.values())
    return {c: sorted(b, key=_order) for c, b in bounds.items()}


def _pieces(cuts: list[Any]) -> list[tuple[str, Any, Any]]:
    """The line cut at ``cuts``: below the first, each bound itself, between two, above the last."""
    out: list[tuple[str, Any, Any]] = [("<", cuts[0], None)]
    for k, bound in enumerate(cuts):
        out.append(("=", bound, None))
        out.append(("()", bound, cuts[k + 1]) if k + 1 < len(cuts) else (">", bound, None))
    return out


def _inside(piece: tuple[str, Any, Any], op: str, bound: Any) -> bool:
    """Whether every value of ``piece`` satisfies ``op bound`` (``bound`` is one of the cuts, so it is all or
    none)."""
    kind, a, b = piece
    if kind == "=":
        return {"<": _order(a) < _order(bound), "<=": _order(a) <= _order(bound), ">": _order(a) > _order(bound),
                ">=": _order(a) >= _order(bound)}[op]
    if op in (">", ">="):
        return kind == ">" or (kind == "()" and _order(bound) <= _order(a))
    return kind == "<" or (kind == "()" and _order(bound) >= _order(b))


def _label_of(piece: tuple[str, Any, Any]) -> str:
    kind, a, b = piece
    return f"({a}, {b})" if kind == "()" else f"{kind}{a}"


def _restriction(shape: Shape, cuts: dict[str, list[Any]]) -> tuple[Labels, Labels]:
    """A filter as labels kept per column (a list or value keeps those labels; a range keeps the pieces it holds
    of its column cut at every bound of every table's range filters, ``cuts``), with every label of each column
    where known (OTHER: rows missing it). A filter keeping every label of a column never missing keeps every row:
    no restriction."""
    out: Labels = []
    domain: Labels = []
    for column, condition in shape.where.items():
        if isinstance(condition, dict):
            pieces = _pieces(cuts[column])
            kept = tuple(_label_of(p) for p in pieces if all(_inside(p, op, v) for op, v in condition.items()))
            dim = f"{RANGE}{column}"
            out.append((dim, kept or ("\x00none",)))
            facts = shape.filtered.get(column)
            never_missing = isinstance(facts, dict) and facts.get("missing") is False
            domain.append((dim, tuple(_label_of(p) for p in pieces) + (() if never_missing else (OTHER,))))
            continue
        allowed = tuple(str(v) for v in _listed(condition))
        facts = shape.filtered.get(column)
        if isinstance(facts, dict):
            every = tuple(_listed(facts.get("labels")))
            if not facts.get("missing") and set(every) <= set(allowed):
                continue
            domain.append((column, (*every, OTHER) if facts.get("missing") else every))
        out.append((column, allowed))
    return out, domain


def _blocks(member: _Member, cuts: dict[str, list[Any]]) -> list[_Block]:
    """``member``'s table as blocks: counts (of rows, or of a column's present values), sums, means; any other
    aggregation, or a block that is not laid out as cells of its dimensions, with no table."""
    shape, output = member.shape, member.output
    found = []
    for key in blocks(output, shape.dims):
        parts = [str(p) for p in key]
        funcs = [p for p in parts if p in shape.aggfuncs] or (list(shape.aggfuncs[:1]) if len(shape.aggfuncs) == 1
                                                              else [])
        columns = [p for p in parts if p in shape.values] or (list(shape.values[:1]) if len(shape.values) == 1
                                                              else [])
        func = funcs[0] if funcs else ("count" if not shape.aggfuncs else "?")
        column = columns[0] if columns else None
        restrict, domain = _restriction(shape, cuts)
        if func in COUNTS:
            if func == "count" and column is not None and column not in shape.complete:
                restrict.append((f"{PRESENT}{column}", IN))
            func = "count"
        elif func in ("sum", "mean") and column is None:
            func = "?"
        table = None
        if shape.plain and func in ("count", "sum", "mean"):
            try:
                table = from_output(output, member.name, shape.dims, block=key or None, restrict=restrict,
                                    domain=domain)
            except ValueError:
                func = "?"
        found.append(_Block(member, key, func, column, table, new=member.id is None))
    return found


def _sums_of_means(all_blocks: list[_Block]) -> list[_Block]:
    """Each mean block whose count (of the same cells and rows) is published, as the sums it gives: mean × count.
    A mean block with no such count is left without a table."""
    derived = []
    for mean in all_blocks:
        if mean.func != "mean" or mean.table is None:
            continue
        wanted = set(mean.table.restrict)
        if mean.column not in mean.member.shape.complete:
            wanted.add((f"{PRESENT}{mean.column}", IN))
        count = next((b for b in all_blocks if b.func == "count" and b.table is not None
                      and set(b.table.dims) == set(mean.table.dims) and set(b.table.restrict) == wanted
                      and (b.member is mean.member or b.member.shape.exact == mean.member.shape.exact)), None)
        if count is None:
            mean.table = None
            continue
        at = {frozenset(zip(count.table.dims, c, strict=True)): i  # type: ignore[union-attr]
              for i, c in enumerate(count.table.coords)}  # type: ignore[union-attr]
        ct = count.table
        assert ct is not None
        n = len(mean.table.coords)
        value, low, high, need = (np.full(n, np.nan) for _ in range(4))
        for i, c in enumerate(mean.table.coords):
            j = at.get(frozenset(zip(mean.table.dims, c, strict=True)))
            if j is None:
                continue
            m = mean.table.value[i]
            value[i] = m * ct.value[j]
            need[i] = mean.table.need[i] * ct.value[j]
            ends = [mean.table.low[i] * ct.low[j], mean.table.low[i] * ct.high[j]]
            low[i], high[i] = min(ends), max(ends)
        table = LinkedTable(name=f"{mean.member.name} (mean × count)", dims=mean.table.dims,
                            coords=mean.table.coords, value=value, low=low, high=high, need=need,
                            restrict=mean.table.restrict, domain=mean.table.domain)
        derived.append(_Block(mean.member, mean.key, "sum", mean.column, table, new=mean.new or count.new))
        mean.table = None
        mean.func = "mean×count"  # modelled through its sums
    return derived


def _dims(table: LinkedTable) -> set[str]:
    return {*table.dims, *(d for d, _ in table.restrict)}


def _component(start: list[_Block], others: list[_Block]) -> list[_Block]:
    """The new table's blocks and the blocks joined to them through shared dimensions (or filtered columns),
    directly or through each other."""
    group = list(start)
    dims = set().union(*(_dims(b.table) for b in start if b.table is not None))
    left = list(others)
    grown = True
    while grown:
        grown = False
        for block in list(left):
            if block.table is not None and dims & _dims(block.table):
                group.append(block)
                dims |= _dims(block.table)
                left.remove(block)
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


def _fail(new_member: _Member, group: list[_Block], recovered: list[Any]) -> None:
    """Fail the new output with rule ``linked``: flag its cells over the recovered ones, name the tables."""
    output = new_member.output
    shape = output.table.shape
    own = [b for b in group if b.member is new_member and b.table is not None]
    whole = own[0].table if len(own) == 1 and not own[0].key else None
    if whole is not None and len(whole.coords) != shape[0] * shape[1]:
        whole = None  # flag every cell of a table the check saw in parts
    hit = np.zeros(shape[0] * shape[1], dtype=bool)
    cells = []
    for found in recovered:
        where = group[found.table].table
        assert where is not None
        if whole is not None:
            hit |= _overlap(whole, where.dims, where.coords[found.cell])
        cells.append(f"{_label(where.coords[found.cell], where.dims)} of {_named(group[found.table].member)}")
    flag = hit.reshape(shape) if hit.any() else np.ones(shape, dtype=bool)
    others: list[_Member] = []
    for block in group:
        if block.member is not new_member and all(block.member is not m for m in others):
            others.append(block.member)
    named = [_named(m) for m in others]
    output.flags[RULE] = pd.DataFrame(flag, index=output.table.index, columns=output.table.columns)
    output.measures[RULE] = pd.DataFrame(np.where(flag, float(len(recovered)), np.nan), index=output.table.index,
                                         columns=output.table.columns)
    output.properties["linked"] = {
        "tables": [{"id": m.id, "name": m.name} for m in others],
        "recovered": cells,
        "explanation": (f"together with {', '.join(named) or 'its own other blocks'}, this table lets the "
                        f"suppressed or rounded cell{'s' if len(cells) != 1 else ''} {'; '.join(cells)} be worked "
                        "out (by linear programming over the tables' shared margins) within less than the protection "
                        f"suppression or rounding gave {'them' if len(cells) != 1 else 'it'}; leave out or coarsen "
                        "a dimension, or drop one of the tables"),
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
            if shape is not None and shape.exact == new_shape.exact:  # the same rows, whatever the filter
                linked.append(_Member(row["id"], row["name"], shape, load(row["id"])))
            continue  # another source, version or file: not the same cells
        other = load(row["id"])
        shape = (computed_shape(row["origin"], _listed(row["sources"])) if computed
                 else supplied_shape(other, _listed(row["sources"])))
        if shape is None:
            continue
        uncertain.append(f"output {row['id']} {row['name']!r}")
        if shape.lineage == new_shape.lineage:
            plausible.append(_Member(row["id"], row["name"], shape, other))
    new = _Member(None, name, new_shape, output)
    outcome, unmodelled = _run(new, linked + plausible)
    if outcome is None and plausible:  # the analyst's tables did not describe the same rows: exact ones alone
        outcome, unmodelled = _run(new, linked)
    if outcome in ("too large", "unfinished", None):
        why = {"too large": "cut the data too finely together for the workbench to check them",
               "unfinished": f"took more than {SECONDS:.0f} s to check together",
               None: "do not add up to one another as tables of the same rows should"}[outcome]
        output.require_review(f"linked tables: this table and the project's other tables of the same data {why}; "
                              "check by hand that their suppressed cells cannot be worked out from each other")
    elif unmodelled and RULE not in output.flags:
        output.require_review("linked tables: the workbench cannot work out by linear programming what "
                              f"{'; '.join(unmodelled[:10])}{' ...' if len(unmodelled) > 10 else ''} give away "
                              "beside the project's other tables of the same data, some with suppressed cells; "
                              "check by hand that no suppressed cell can be worked out from them")
    elif uncertain and RULE not in output.flags:
        output.require_review("linked tables: the workbench cannot tell whether this table and "
                              f"{', '.join(uncertain[:10])}{' ...' if len(uncertain) > 10 else ''} (of the same data) "
                              "cover the same rows; check by hand that suppressed cells of one cannot be worked out "
                              "from the other")


def _suppressed(output: Output) -> bool:
    return output.suppressed is not None and bool(output.suppressed.to_numpy(dtype=bool).any())


def _unmodelled(new: _Member, all_blocks: list[_Block]) -> list[str]:
    """The blocks no LP adds up (median, min, max, std, mode; a mean without its counts) beside a table of
    another output with suppressed cells: each named, with what it is."""
    hidden = [m for m in {id(b.member): b.member for b in all_blocks}.values() if _suppressed(m.output)]
    out = []
    for block in all_blocks:
        if block.table is not None or block.func == "mean×count":
            continue
        if not any(m is not block.member for m in hidden):
            continue
        what = ("a mean whose counts are not published" if block.func == "mean"
                else "a block that is not a count or sum of its cells" if block.func in ("count", "sum", "?")
                else f"a {block.func}")
        label = f"{_named(block.member)}{' ' + repr(tuple(str(p) for p in block.key)) if block.key else ''} ({what})"
        if label not in out:
            out.append(label)
    return out


def _run(new: _Member, candidates: list[_Member]) -> tuple[str | None, list[str]]:
    """Run the LP over the new table's linked blocks, one per quantity; "failed", "passed", "too large",
    "unfinished" (time limit), or None when the tables cannot all describe the same rows; with the blocks that
    could not be modelled (see ``_unmodelled``)."""
    cuts = _cuts([new, *candidates])
    all_blocks = [b for m in [new, *candidates] for b in _blocks(m, cuts)]
    all_blocks += _sums_of_means(all_blocks)
    unmodelled = _unmodelled(new, all_blocks)
    usable = [b for b in all_blocks if b.table is not None]
    outcome = "passed"
    for quantity in dict.fromkeys(b.quantity for b in usable if b.new):
        same = [b for b in usable if b.quantity == quantity]
        group = _component([b for b in same if b.new], [b for b in same if not b.new])
        if len(group) < 2:
            continue
        tables = [b.table for b in group]
        assert all(t is not None for t in tables)
        nonnegative = quantity[0] == "count" or all(np.nanmin(np.append(t.value, 0.0)) >= 0  # type: ignore[union-attr]
                                                    for t in tables)
        try:
            found = attack(tables, nonnegative=nonnegative, enough=ENOUGH, seconds=SECONDS)  # type: ignore[arg-type]
        except TooLarge:
            outcome = "too large"
            continue
        if not found.feasible:
            return None, unmodelled
        if found.recovered:
            _fail(new, group, found.recovered)
            return "failed", unmodelled
        if not found.finished:
            outcome = "unfinished"
    return outcome, unmodelled


__all__ = ["RULE", "Shape", "check", "computed_shape", "supplied_shape"]
