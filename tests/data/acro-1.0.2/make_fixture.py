"""Make the ACRO 1.0.2 results folder beside this script (``results/``) and the records it was made from
(``records.csv``), with the real ``acro`` package.

Run with a Python that has ``acro==1.0.2`` installed (it is not a dependency of the workbench), from any folder:

    python3 -m venv /tmp/acro-venv && /tmp/acro-venv/bin/pip install acro==1.0.2
    /tmp/acro-venv/bin/python tests/data/acro-1.0.2/make_fixture.py

The records are generated here (fixed seed), so the folder can be made again; its timestamps will differ.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import acro
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def records() -> pd.DataFrame:
    """Five regions × two sexes × three statuses, with the cases the checks disagree on: an empty region/sex
    combination (E, M), small cells (region D), a dominated cell (region C, F: one large income), contributors
    whose income is exactly 0, a cell whose incomes are all the same (region B, M, status z), and negative
    values (in ``balance`` only, so the income tables keep their dominance checks)."""
    rng = np.random.default_rng(20260)
    rows = []
    sizes = {("A", "F"): 40, ("A", "M"): 35, ("B", "F"): 30, ("B", "M"): 30, ("C", "F"): 25, ("C", "M"): 20,
             ("D", "F"): 4, ("D", "M"): 12, ("E", "F"): 15}
    for (region, sex), n in sizes.items():
        for i in range(n):
            status = "xyz"[i % 3]
            income = float(rng.integers(100, 1000))
            if i % 7 == 0:
                income = 0.0  # a zero-valued contributor
            rows.append({"region": region, "sex": sex, "status": status, "income": income,
                         "balance": float(rng.integers(0, 500))})
    data = pd.DataFrame(rows)
    dominated = (data["region"] == "C") & (data["sex"] == "F")
    data.loc[data.index[dominated][0], "income"] = 1_000_000.0
    same = (data["region"] == "B") & (data["sex"] == "M") & (data["status"] == "z")
    data.loc[same, "income"] = 500.0
    negative = (data["region"] == "A") & (data["sex"] == "M")
    data.loc[data.index[negative][:2], "balance"] = [-250.0, -40.0]
    return data


def main() -> None:
    data = records()
    data.to_csv(HERE / "records.csv", index=False)
    target = HERE / "results"
    if target.exists():
        shutil.rmtree(target)
    with tempfile.TemporaryDirectory() as scratch:  # acro writes its artifacts under the working folder
        os.chdir(scratch)
        session = acro.ACRO(suppress=False)
        session.crosstab(data["region"], data["sex"])  # output_0: frequencies, an empty cell, small cells
        session.crosstab(data["region"], data["sex"], values=data["income"], aggfunc="mean")  # output_1
        session.crosstab(data["region"], data["sex"], values=data["balance"], aggfunc="sum")  # output_2: negatives
        session.pivot_table(data, index=["region"], columns=["sex", "status"], values=["income"],
                            aggfunc=["mean"])  # output_3: multi-level column headers
        session.crosstab([data["region"], data["status"]], data["sex"], values=data["income"],
                         aggfunc="sum")  # output_4: multi-level row labels
        session.finalise(str(target), "json")


if __name__ == "__main__":
    main()
