"""The JupyterLab extension ships with the package: built, installed and enabled, and its jest units pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extensions" / "workbench-labextension"
JLPM = Path(sys.executable).parent / "jlpm"


def test_the_lab_extension_is_installed_prebuilt() -> None:
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "workbench-labextension"
    meta = json.loads((installed / "package.json").read_text())
    assert meta["name"] == "workbench-labextension" and meta["jupyterlab"]["_build"]["load"]
    assert (installed / meta["jupyterlab"]["_build"]["load"]).exists()


def test_the_server_extension_is_enabled_on_install() -> None:
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "workbench.json"
    assert json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]["workbench.server"] is True


def test_jest_units() -> None:
    env = {**os.environ, "CI": "true", "PATH": f"{JLPM.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not (EXTENSION / "node_modules").exists():  # a clone whose build was skipped: install what jest needs
        subprocess.run([str(JLPM), "install"], cwd=EXTENSION, env=env, check=True, capture_output=True, timeout=600)
    result = subprocess.run([str(JLPM), "test", "--ci"], cwd=EXTENSION, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "failed" not in result.stderr.split("Tests:")[-1].splitlines()[0]
