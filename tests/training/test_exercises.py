"""Every exercise is solvable, judges wrong answers as 'not yet' with a hint, and makes its material afresh per
trainee but the same each time for one trainee."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.training.exercises import EXERCISES

WRONG = {
    "catalogue-1": [], "access-1": ["nhs_number", "age_band", "la_code", "admission_date", "admission_method"],
    "linkage-1": -50.0, "sdc-1": ["Area A × 16-24"], "sdc-2": [], "sdc-3": -1, "dp-1": 0,
    "checker-1": {"decision": "approve", "reason": "fine"},
}


def test_every_exercise_has_a_wrong_answer_here() -> None:
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_model_answer_is_correct_and_a_wrong_one_gets_a_hint(exercise_id: str, seed: int) -> None:
    exercise = EXERCISES[exercise_id]
    material = exercise.make(np.random.default_rng(seed))
    correct, message = exercise.check(exercise.solve(material), material)
    assert correct, message
    correct, hint = exercise.check(WRONG[exercise_id], material)
    assert not correct, hint
    assert hint.startswith(("Not yet", "Answer with")) or " not " in hint, hint


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_malformed_answers_are_told_what_shape_to_give(exercise_id: str) -> None:
    exercise = EXERCISES[exercise_id]
    material = exercise.make(np.random.default_rng(1))
    correct, hint = exercise.check(object(), material)
    assert not correct and hint


def test_hints_teach_the_rule() -> None:
    access = EXERCISES["access-1"]
    material = access.make(np.random.default_rng(1))
    assert "identif" in access.check(WRONG["access-1"], material)[1]
    assert "per month" in access.check(["age_band", "la_code", "admission_method"], material)[1]
    assert "does not use sex" in access.check(["age_band", "la_code", "admission_date", "admission_method", "sex"],
                                             material)[1]
    linkage = EXERCISES["linkage-1"]
    material = linkage.make(np.random.default_rng(1))
    assert "raise the threshold" in linkage.check(-5.0, material)[1]
    assert "lower threshold" in linkage.check(15.0, material)[1]
    review = EXERCISES["checker-1"]
    material = review.make(np.random.default_rng(1))
    assert "reason must tell" in review.check({"decision": "return", "reason": ""}, material)[1]


def test_the_sdc_exercises_agree_with_the_workbench_rules() -> None:
    """The threshold exercise's answer is exactly the cells the disclosure library flags."""
    exercise = EXERCISES["sdc-1"]
    material = exercise.make(np.random.default_rng(7))
    table = material["table"]
    small = sorted(f"{r} × {c}" for r in table.index for c in table.columns if 0 < table.loc[r, c] < 10)
    assert exercise.solve(material) == small


def _typed(label: str) -> str:
    """A label as a trainee types it: "x" for "×", odd spacing and case."""
    return "  " + label.replace(" × ", "  x ").upper() + " "


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_cell_checks_read_x_for_times_and_ignore_spacing_and_case(seed: int) -> None:
    threshold = EXERCISES["sdc-1"]
    material = threshold.make(np.random.default_rng(seed))
    failing = threshold.solve(material)
    correct, message = threshold.check([_typed(label) for label in failing], material)
    assert correct, message
    table = material["table"]
    passing = next(f"{r} × {c}" for r in table.index for c in table.columns if table.loc[r, c] >= 10)
    correct, message = threshold.check([_typed(passing)], material)
    assert not correct and message.startswith(f"Not yet: {passing} passes the threshold rule")
    small = next(label for label in failing)
    correct, message = threshold.check([small.replace(" × ", " x ")], material)
    assert not correct and "passes" not in message  # a failing cell typed with "x" is never judged as passing

    dominance = EXERCISES["sdc-2"]
    material = dominance.make(np.random.default_rng(seed))
    correct, message = dominance.check([s.lower() for s in dominance.solve(material)], material)
    assert correct, message


def test_a_label_the_check_cannot_read_is_refused_with_the_valid_labels() -> None:
    threshold = EXERCISES["sdc-1"]
    material = threshold.make(np.random.default_rng(4))
    failing = threshold.solve(material)
    correct, message = threshold.check([*failing, "Area A / 16-24"], material)
    assert not correct
    assert "'Area A / 16-24' is not a label of this exercise" in message and "Area D × 65+" in message
    assert "passes" not in message and "Correct" not in message
    correct, message = EXERCISES["sdc-2"].check(["Mining"], EXERCISES["sdc-2"].make(np.random.default_rng(4)))
    assert not correct and "'Mining' is not a label" in message and "Retail" in message
