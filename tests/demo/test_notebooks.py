"""The notebooks run top to bottom, each against its own fresh copy of the demo workspace, one test per notebook
so that they run in parallel. Each runs in its own kernel, started in the notebook's folder, as nbval's lax mode
would run it (every cell, in order; a cell that raises fails the test; cells assert what matters), but driven from
this test process (nbclient) rather than a nested pytest, whose start-up alone cost seconds per notebook."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers import DEMO_USER

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(path for path in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
CELL_TIMEOUT = 600  # seconds: a safety net for a stuck cell on a loaded machine, not a speed requirement


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ALL, ids=[str(path.relative_to(NOTEBOOKS)) for path in ALL])
def test_notebook_runs(notebook: Path, demo_home: Path) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {**os.environ, "WORKBENCH_HOME": str(demo_home), "WORKBENCH_USER": DEMO_USER}
    env.pop("WORKBENCH_DATABASE_URL", None)
    book = nbformat.read(notebook, as_version=4)
    client = NotebookClient(book, timeout=CELL_TIMEOUT, kernel_name=book.metadata.get("kernelspec", {}).get(
        "name", "python3"), resources={"metadata": {"path": str(notebook.parent)}})
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the kernel's traceback, without its colours
        pytest.fail(f"{notebook.relative_to(NOTEBOOKS)}: {plain[-5000:]}", pytrace=False)
    ran = [cell for cell in book.cells if cell.cell_type == "code" and cell.source.strip()]
    assert ran and all(cell.execution_count for cell in ran)


def test_notebooks_are_kept_without_outputs() -> None:
    """Outputs belong to a run, not to the repository: every notebook is committed cleared."""
    assert {"missions", "checker"} <= {path.parent.name for path in ALL}
    for path in ALL:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs"


def test_every_mission_has_its_notebook() -> None:
    missions = sorted(path.name for path in (NOTEBOOKS / "missions").glob("m*.ipynb"))
    assert [name[:2] for name in missions] == ["m1", "m2", "m3", "m4", "m5"]
    assert list((NOTEBOOKS / "checker").glob("*.ipynb"))
