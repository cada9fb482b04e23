"""The notebooks run top to bottom against a demo workspace (nbval, lax: cells assert what matters)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import DEMO_USER

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_notebooks_run(demo_home: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(demo_home), "WORKBENCH_USER": DEMO_USER}
    env.pop("WORKBENCH_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
                             str(NOTEBOOKS)], env=env, capture_output=True, text=True, cwd=NOTEBOOKS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_notebooks_are_kept_without_outputs() -> None:
    """Outputs belong to a run, not to the repository: every notebook is committed cleared."""
    import json

    notebooks = sorted(NOTEBOOKS.rglob("*.ipynb"))
    assert {"missions", "checker"} <= {path.parent.name for path in notebooks}
    for path in notebooks:
        if ".ipynb_checkpoints" in path.parts:
            continue
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs"


def test_every_mission_has_its_notebook() -> None:
    missions = sorted(path.name for path in (NOTEBOOKS / "missions").glob("m*.ipynb"))
    assert [name[:2] for name in missions] == ["m1", "m2", "m3", "m4", "m5"]
    assert list((NOTEBOOKS / "checker").glob("*.ipynb"))
