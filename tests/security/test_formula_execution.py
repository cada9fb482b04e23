"""Code execution through a regression formula, tried as a hostile analyst would, embedded and against a real
``workbench serve``.

patsy evaluates formula terms as Python, so ``C(__import__('os').system(...))`` once ran in the service process.
The workbench now parses formulas with its own grammar and never evaluates them: every code-carrying formula given
to ``p.tables.ols / logit / probit`` is refused with ``InvalidInput`` naming the token, runs nothing (the file its
payload would create does not appear), writes nothing, and is audited as a refused ``outputs.create``. A text
hidden in a removed term cannot reach the stored output either: what is stored is the canonical formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ADMIN, ANALYST, DATASET, PROJECT, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput

METHODS = ["ols", "logit", "probit"]


def payloads(sentinel: Path) -> list[tuple[str, str]]:
    """Formulas whose terms would create ``sentinel`` (or leak text) if anything evaluated them, each with what its
    refusal says: the offending token (at its position) and why."""
    cases = [
        (f"cost ~ C(__import__('os').system('touch {sentinel}'))", "'", "is not allowed: strings"),
        (f'cost ~ length_of_stay + I(open("{sentinel}", "w"))', '"', "is not allowed: strings"),
        ("cost ~ length_of_stay + I(__builtins__)", "I", "is a function call"),
        ("cost ~ length_of_stay + np.log(cost)", ".", "is not allowed: there is no attribute access"),
        ("cost ~ length_of_stay + cost.__class__", ".", "is not allowed: there is no attribute access"),
        ("cost ~ length_of_stay + exec(compile(cost))", "exec", "is a function call"),
        ("cost ~ length_of_stay - I(nhs_number)", "I", "is a function call"),
        ("cost ~ length_of_stay ** 2", "**", "is not allowed: powers"),
        ("cost ~ length_of_stay + `x\u202e`", "\u202e", None),
    ]
    out = []
    for formula, token, why in cases:
        at = formula.index(token) + 1
        if why is None:  # an invisible character inside back-quotes
            out.append((formula, f"U\\+202E at position {at} \\(inside a back-quoted name\\)"))
        else:
            out.append((formula, f"{re.escape(repr(token))} at position {at} {why}"))
    out.append(("cost ~ length_of_stay + (lambda x: cost)", "found 'x' at position 33"))
    out.append(("cost ~ salary", r"'salary' is not a column of the data \(its columns: "))  # once a 500 remotely
    return out


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def refusals(ws) -> list[dict]:
    with ws._ctx.db.read() as conn:
        rows = conn.execute(select(audit_events).where(
            (audit_events.c.action == "outputs.create") & (audit_events.c.outcome == "refused")
            & (audit_events.c.actor == ANALYST)).order_by(audit_events.c.seq)).mappings().all()
    return [dict(r) for r in rows]


@pytest.mark.parametrize("method", METHODS)
def test_code_in_a_formula_is_refused_runs_nothing_and_is_audited(kernel, desk, tmp_path, method) -> None:
    host = desk(ADMIN)  # the workspace as the service host sees it
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    sentinel = tmp_path / "pwned"
    for formula, token in payloads(sentinel):
        before, audited = state(host), len(refusals(host))
        with pytest.raises(InvalidInput, match=token):
            getattr(project.tables, method)(data, formula)
        assert not sentinel.exists(), f"{formula!r} ran"
        assert state(host) == before, f"{formula!r} changed something"
        events = refusals(host)
        assert len(events) == audited + 1, f"{formula!r} was not audited"
        assert events[-1]["resource"] == f"a {method} output in project {PROJECT}"
        assert events[-1]["detail"]["error"] == "InvalidInput"
        assert events[-1]["detail"]["reason"].startswith("formula: ")
    assert list(project.outputs.list()["id"]) == []


def test_the_stored_model_spec_is_the_canonical_formula(kernel, desk) -> None:
    """What is kept (and later released) is rebuilt from the parsed terms, never the text as typed."""
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    out = project.tables.ols(data, "cost~length_of_stay+age_band - age_band + (age_band) - age_band")
    assert out.properties["formula"] == "cost ~ length_of_stay"
    assert out.command == "sdc.ols(formula='cost ~ length_of_stay', data=data)"
    stored = desk(ANALYST).project(PROJECT).outputs.get(1)
    assert stored.properties["formula"] == "cost ~ length_of_stay"
    assert list(desk(ANALYST).project(PROJECT).outputs.list()["name"]) == ["ols: cost ~ length_of_stay"]


def test_no_formula_reaches_patsy_or_eval(desk, monkeypatch) -> None:
    """Valid formulas fit with patsy's evaluation and Python's eval out of reach (embedded: same process)."""
    import builtins

    import patsy
    import patsy.eval

    def forbidden(*args, **kwargs):
        raise AssertionError("a formula reached an evaluator")

    monkeypatch.setattr(patsy.eval.EvalEnvironment, "eval", forbidden)
    monkeypatch.setattr(patsy, "dmatrices", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    project = desk(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    for method in METHODS:
        frame = data.assign(high=(data["cost"] > data["cost"].median()).astype(float))
        out = getattr(project.tables, method)(frame, "high ~ length_of_stay + C(age_band)" if method != "ols"
                                              else "cost ~ length_of_stay * C(age_band)", derived_from=[DATASET])
        assert out.kind == "regression"
