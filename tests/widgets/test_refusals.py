"""In a notebook a refusal reads as one line with the full traceback on request; other errors are untouched."""

from __future__ import annotations

import re
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell

import workbench as wb
from workbench.errors import AccessDenied, WorkbenchError
from workbench.widgets import refusals

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def shell():
    """A real IPython shell, its custom handler and the last exception put back afterwards."""
    ipython = InteractiveShell.instance()
    before = (ipython.custom_exceptions, ipython.CustomTB)
    last = {name: getattr(sys, name) for name in ("last_type", "last_value", "last_traceback", "last_exc")
            if hasattr(sys, name)}
    ipython.set_custom_exc((), None)
    ipython.custom_exceptions = ()
    yield ipython
    ipython.custom_exceptions, ipython.CustomTB = before
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if name in last:
            setattr(sys, name, last[name])
        elif hasattr(sys, name):
            delattr(sys, name)


def run(shell, code: str, capsys) -> tuple[object, str]:
    result = shell.run_cell(code, store_history=False)
    out = capsys.readouterr()
    return result, out.out + out.err


def test_connect_makes_a_refusal_one_line_with_the_traceback_on_request(shell, tmp_path, capsys) -> None:
    shell.user_ns["wb"] = wb
    result, shown = run(shell, f"ws = wb.connect({str(tmp_path / 'none')!r}, create=False)", capsys)
    assert isinstance(result.error_in_exec, WorkbenchError)  # the cell still fails: "run all" stops here
    lines = [line for line in shown.splitlines() if line.strip()]
    assert lines[0].startswith("WorkbenchError: No workspace at ") and "workbench init" in lines[0]
    assert lines[1:] == [refusals.DETAILS]
    assert "Traceback" not in shown and "File " not in shown and "workbench/" not in shown
    _, full = run(shell, "%tb", capsys)
    assert "No workspace at" in full and "workspace.py" in full and len(full.splitlines()) > 5


def test_other_exceptions_keep_the_full_traceback(shell, tmp_path, capsys) -> None:
    shell.user_ns["wb"] = wb
    run(shell, f"ws = wb.connect({str(tmp_path / 'ws')!r})", capsys)
    result, shown = run(shell, "def inner():\n    return 1 / 0\ninner()", capsys)
    shown = ANSI.sub("", shown)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "ZeroDivisionError" in shown and "inner()" in shown and "1 / 0" in shown
    assert refusals.DETAILS not in shown


def test_installing_is_idempotent_and_leaves_a_notebook_s_own_handler(shell) -> None:
    assert refusals.install(shell) and refusals.install(shell)
    assert shell.custom_exceptions == (WorkbenchError,)
    shell.set_custom_exc((KeyError,), lambda *args, **kwargs: None)
    assert not refusals.install(shell) and shell.custom_exceptions == (KeyError,)


def test_outside_ipython_nothing_is_installed(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert refusals.install() is False
    assert refusals.install(object()) is False


def test_a_refusal_s_message_folds_onto_one_line() -> None:
    error = WorkbenchError("epsilon: 5 is more than\n  the budget left (1); ask the owner for more.")
    assert refusals.refusal_lines(error) == [
        "WorkbenchError: epsilon: 5 is more than the budget left (1); ask the owner for more.", refusals.DETAILS]


def test_an_internal_subclass_shows_as_its_public_kind() -> None:
    class _Refusal(AccessDenied):
        pass

    assert refusals.refusal_lines(_Refusal("no.")) == ["AccessDenied: no.", refusals.DETAILS]
