"""Skills training: exercises with automatic checks and feedback, cohorts and progress for trainers.

    ex = wb.training.exercise("sdc-1")     # your own copy, in the workspace that wb.connect() opens
    ex.material["table"]; ex.check(["Area A × 16-24"])   # → Correct / Not yet, with a hint that teaches

Trainers: ``ws.training.create_cohort(...)``, ``.assign(...)``, ``.progress(cohort)``, ``.answers(cohort)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.training.service import Attempt


def exercise(exercise_id: str, ws: Any = None) -> Attempt:
    """Your copy of exercise ``exercise_id`` in ``ws`` (default: the workspace ``wb.connect()`` opens)."""
    if ws is None:
        from workbench import connect

        ws = connect(create=False)
    return ws.training.exercise(exercise_id)
