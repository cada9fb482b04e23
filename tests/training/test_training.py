"""Training through the workspace (SQLite and PostgreSQL): trainees attempt exercises and get feedback; trainers
make cohorts, assign, follow progress and read answers; nobody else reads answers or solutions."""

from __future__ import annotations

import pytest
from helpers import ADMIN, ANALYST, CHECKER, OWNER, TRAINER, snapshot

import workbench
from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound


@pytest.fixture
def cohort(staffed):
    trainer = staffed(TRAINER)
    trainer.training.create_cohort("c-november", "Analysts, November", members=[ANALYST, CHECKER])
    trainer.training.assign("c-november", ["sdc-1", "dp-1"], due="2026-12-31")
    return staffed


def test_a_trainee_attempts_gets_feedback_and_the_trainer_sees_progress(cohort) -> None:
    analyst = cohort(ANALYST)
    assert list(analyst.training.mine()["exercise_id"]) == ["dp-1", "sdc-1"]
    ex = analyst.training.exercise("sdc-1")
    assert "threshold" in ex.question and "table" in ex.material
    first = ex.check(["Nowhere × 16-24"])
    assert not first and "is not a label of this exercise" in first.message and "Area A × 16-24" in first.message
    with pytest.raises(AccessDenied, match="may not manage"):
        ex.solution()
    right = cohort(TRAINER).training.exercise("sdc-1")  # the trainer's own copy has other numbers
    assert isinstance(right.solution(), list)
    # the trainee's material is the same each time they open it
    again = analyst.training.exercise("sdc-1")
    assert again.material["table"].equals(ex.material["table"])
    cells = [f"{r} × {c}" for r in ex.material["table"].index for c in ex.material["table"].columns
             if ex.material["table"].loc[r, c] < 10]
    assert ex.check(cells)
    assert analyst.training.mine().set_index("exercise_id").loc["sdc-1", "solved"]
    progress = cohort(TRAINER).training.progress("c-november").set_index(["username", "exercise_id"])
    assert progress.loc[(ANALYST, "sdc-1"), "attempts"] == 2 and progress.loc[(ANALYST, "sdc-1"), "solved"]
    assert progress.loc[(CHECKER, "dp-1"), "attempts"] == 0
    answers = cohort(TRAINER).training.answers("c-november")
    assert list(answers["correct"]) == [False, True] and answers["answer"].iloc[1] == cells
    figure = cohort(TRAINER).training.progress_figure("c-november")
    assert "1 of 4 solved" in figure.layout.title.text


def test_only_trainers_and_admins_manage_cohorts_and_read_answers(cohort) -> None:
    for user in (ANALYST, OWNER, CHECKER):
        ws = cohort(user)
        state = snapshot(ws)
        with pytest.raises(AccessDenied):
            ws.training.create_cohort("c-other", "Other", members=[ANALYST])
        with pytest.raises(AccessDenied):
            ws.training.progress("c-november")
        with pytest.raises(AccessDenied):
            ws.training.answers("c-november")
        with pytest.raises(AccessDenied):
            ws.training.assign("c-november", ["sdc-2"])
        assert snapshot(ws) == state
    cohort(ADMIN).training.assign("c-november", ["sdc-2"])
    assert "sdc-2" in set(cohort(ADMIN).training.progress("c-november")["exercise_id"])


def test_bad_input_is_refused_and_changes_nothing(cohort) -> None:
    trainer = cohort(TRAINER)
    state = snapshot(trainer)
    with pytest.raises(NotFound, match="No exercise"):
        trainer.training.assign("c-november", ["sdc-99"])
    with pytest.raises(NotFound, match="No cohort"):
        trainer.training.assign("c-nothing", ["sdc-1"])
    with pytest.raises(InvalidInput, match="exercises"):
        trainer.training.assign("c-november", "sdc-1")
    with pytest.raises(InvalidInput, match="due"):
        trainer.training.assign("c-november", ["sdc-1"], due="soon")
    with pytest.raises(Conflict, match="exists already"):
        trainer.training.create_cohort("c-november", "Again", members=[ANALYST])
    with pytest.raises(NotFound, match="not registered"):
        trainer.training.create_cohort("c-new", "New", members=["nobody.here"])
    with pytest.raises(InvalidInput, match="members"):
        trainer.training.create_cohort("c-new", "New", members=[])
    with pytest.raises(InvalidInput, match="cohort_id"):
        trainer.training.create_cohort("Bad Id", "New", members=[ANALYST])
    with pytest.raises(NotFound, match="No exercise"):
        trainer.training.exercise("nope")
    assert snapshot(trainer) == state


def test_the_module_shortcut_opens_the_default_workspace(cohort, monkeypatch) -> None:
    ws = cohort(ANALYST)
    monkeypatch.setenv("WORKBENCH_HOME", str(ws.home))
    if ws._ctx.db.dialect == "postgresql":
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", ws._ctx.db.url)
    ex = workbench.training.exercise("dp-1")
    assert ex.id == "dp-1" and "ε" in ex.question
    assert "Spend a privacy budget" in ex._repr_html_()
    feedback = ex.check(-3)
    assert not feedback and "Not yet" in repr(feedback)


def test_exercise_material_reads_as_a_table_for_people(cohort) -> None:
    """The material's tables have human headers, row labels, labelled codes and formatted values (not a
    DataFrame's to_html: no raw column names, index names, role codes or True/False)."""
    analyst = cohort(ANALYST)
    sdc = analyst.training.exercise("sdc-1")
    html = sdc._repr_html_()
    assert "<h4>Table</h4>" in html and ">Area / Age</th>" in html and "dataframe" not in html
    for area in sdc.material["table"].index:
        assert f"scope='row'>{area}</th>" in html
    access = analyst.training.exercise("access-1")._repr_html_()
    assert ">Direct identifier<" in access and "direct_identifier" not in access and ">Role</th>" in access
    assert ">nhs_number<" in access  # the names stay what a request asks for
    linkage = analyst.training.exercise("linkage-1")._repr_html_()
    assert ">Match weight</th>" in linkage and ">Yes<" in linkage and ">True<" not in linkage
