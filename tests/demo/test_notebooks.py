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
