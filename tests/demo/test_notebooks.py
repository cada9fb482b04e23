"""The notebooks run top to bottom, each against its own fresh copy of the demo workspace (nbval, lax: cells
assert what matters), one test per notebook so that they run in parallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DEMO_USER

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
UNNEEDED_PLUGINS = ("randomly", "xdist", "xdist.looponfail", "hypothesispytest", "anyio", "faker")
ALL = sorted(path for path in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ALL, ids=[str(path.relative_to(NOTEBOOKS)) for path in ALL])
def test_notebook_runs(notebook: Path, demo_home: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(demo_home), "WORKBENCH_USER": DEMO_USER}
    env.pop("WORKBENCH_DATABASE_URL", None)
    # the project's pytest options (parallel workers, random order) are not for a notebook's cells, nor are the
    # plugins nbval does not need (loading them costs about a second per notebook)
    result = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider",
                             *(f"-pno:{plugin}" for plugin in UNNEEDED_PLUGINS), "--nbval-lax", "-q", str(notebook)],
                            env=env, capture_output=True, text=True, cwd=NOTEBOOKS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


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
