"""A checked table cell by cell, as the REST API sends it to the Output checking widget."""

from __future__ import annotations

import pandas as pd
from checking import record_table

from workbench.outputs.checks import TABLE_MAX_ROWS, table_cells


def test_cells_carry_their_flags_and_the_failures_agree(desk) -> None:
    output = record_table(desk)
    cells = table_cells(output)
    assert cells["columns"] == [str(c) for c in output.table.columns]
    assert cells["index_names"] == ["age_band"] and cells["total_rows"] == len(output.table)
    flagged = {(row["label"], cells["columns"][i], rule) for row in cells["rows"]
               for i, cell in enumerate(row["cells"]) for rule in cell["flags"]}
    failures = output.failures()
    assert flagged == {(str(r.row), str(r.column), r.rule) for r in failures.itertuples()}
    values = [cell["value"] for row in cells["rows"] for cell in row["cells"]]
    assert values == [v for v in output.table.to_numpy().ravel().tolist()]
    assert all(isinstance(v, int | float) for v in values)


def test_large_tables_are_cut_and_missing_values_are_none(desk) -> None:
    output = record_table(desk)
    big = pd.DataFrame({"n": [float("nan")] + [1.0] * (TABLE_MAX_ROWS + 5)})
    output.table, output.flags, output.suppressed = big, {"threshold": big.notna()}, big.isna()
    cells = table_cells(output)
    assert len(cells["rows"]) == TABLE_MAX_ROWS and cells["total_rows"] == TABLE_MAX_ROWS + 6
    first = cells["rows"][0]["cells"][0]
    assert first == {"value": None, "flags": [], "suppressed": True}
    assert cells["rows"][1]["cells"][0] == {"value": 1.0, "flags": ["threshold"], "suppressed": False}
