"""``ws.training``: trainers run cohorts through exercises; trainees attempt them and get feedback at once.

Every attempt is kept (answer, verdict, feedback) so trainers can follow progress; answers and model solutions
are for trainers (and admins) only — a trainee sees their own verdicts and hints, never another's answer.
"""

from __future__ import annotations

import html
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select

from workbench import audit
from workbench.db.schema import people, training_assignments, training_attempts, training_cohorts, training_members
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.ids import check_project_id
from workbench.labels import header, table_html
from workbench.training.exercises import EXERCISES
from workbench.validation import check_date, check_text

if TYPE_CHECKING:

    from workbench.context import Context
    from workbench.training.exercises import Exercise

PROGRESS_COLUMNS = ["username", "exercise_id", "attempts", "solved", "first_solved", "last_attempt", "due"]


def _exercise(exercise_id: Any) -> Exercise:
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        raise NotFound(f"No exercise {exercise_id!r}; ws.training.exercises() lists them: {', '.join(EXERCISES)}.")
    return EXERCISES[exercise_id]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one attempt: ``correct`` and a message that says what to look at next."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return f"{'Correct' if self.correct else 'Not yet'}: {self.message}"

    def _repr_html_(self) -> str:
        colour = "#198754" if self.correct else "#fd7e14"
        return f"<p style='border-left:4px solid {colour};padding-left:8px'>{html.escape(self.message)}</p>"


class Attempt:
    """One trainee's copy of an exercise: ``.prompt``, ``.material``, ``.check(answer)``; ``.solution()`` for
    trainers."""

    def __init__(self, training: Training, exercise: Exercise, username: str) -> None:
        self._training = training
        self.exercise = exercise
        self.id, self.title, self.prompt = exercise.id, exercise.title, exercise.prompt
        seed = zlib.crc32(f"{username}/{exercise.id}".encode())  # the same material every time for this person
        self.material = exercise.make(np.random.default_rng(seed))
        self.question = self.material.get("question", exercise.prompt)

    def check(self, answer: Any) -> Feedback:
        """Judge ``answer`` and record the attempt; the feedback says what to look at next when it is not yet."""
        return self._training._record(self, answer)

    def solution(self) -> Any:
        """The model answer for this material (trainers and admins)."""
        self._training._ctx.require("training.manage", f"the solution of exercise {self.id}")
        return self.exercise.solve(self.material)

    def __repr__(self) -> str:
        return f"<Exercise {self.id}: {self.title}>\n{self.question}"

    def _repr_html_(self) -> str:
        parts = [f"<div><h3>{html.escape(self.title)} <code>{html.escape(self.id)}</code></h3>",
                 f"<p>{html.escape(self.question)}</p>"]
        for name, value in self.material.items():
            if isinstance(value, pd.DataFrame):  # headers, numbers and codes as people read them
                table = table_html(value, index=not isinstance(value.index, pd.RangeIndex))
                parts.append(f"<h4>{html.escape(header(name))}</h4>{table}")
        parts.append("<p>Answer with <code>.check(answer)</code>.</p></div>")
        return "".join(parts)


class Training:
    """Exercises for everyone; cohorts, assignments, progress, answers and solutions for trainers."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- trainees ----------------------------------------------------------------------------------------------
    def exercises(self) -> pd.DataFrame:
        """Every exercise: id, title, skill area, what it asks."""
        self._ctx.require("training.attempt", "exercises")
        return pd.DataFrame([{"id": e.id, "title": e.title, "skill": e.skill, "prompt": e.prompt}
                             for e in EXERCISES.values()], columns=["id", "title", "skill", "prompt"])

    def exercise(self, exercise_id: str) -> Attempt:
        """Your copy of an exercise (material made for you), to read and answer with ``.check(answer)``."""
        exercise = _exercise(exercise_id)
        self._ctx.require("training.attempt", f"exercise {exercise_id}")
        return Attempt(self, exercise, self._ctx.actor.username)

    def mine(self) -> pd.DataFrame:
        """The exercises assigned to me, with due dates and whether I have solved them."""
        a, t, m = training_assignments, training_attempts, training_members
        me = self._ctx.actor.username
        self._ctx.require("training.attempt", "my exercises")
        with self._ctx.db.read() as conn:
            assigned = conn.execute(select(a.c.cohort_id, a.c.exercise_id, a.c.due)
                                    .join(m, m.c.cohort_id == a.c.cohort_id).where(m.c.username == me)
                                    .order_by(a.c.cohort_id, a.c.exercise_id)).all()
            solved = set(conn.execute(select(t.c.exercise_id).where((t.c.username == me) & (t.c.correct == 1)))
                         .scalars())
        return pd.DataFrame([{"cohort_id": c, "exercise_id": e, "due": d, "solved": e in solved}
                             for c, e, d in assigned], columns=["cohort_id", "exercise_id", "due", "solved"])

    def _record(self, attempt: Attempt, answer: Any) -> Feedback:
        try:
            stored = json.loads(json.dumps(answer, default=str))
        except (TypeError, ValueError):
            raise InvalidInput("answer: give plain values (numbers, text, lists or dicts of them).",
                               field="answer") from None
        correct, message = attempt.exercise.check(answer, attempt.material)
        me = self._ctx.actor.username
        with self._ctx.write() as conn:
            self._ctx.check("training.attempt", f"exercise {attempt.id}")
            conn.execute(insert(training_attempts).values(exercise_id=attempt.id, username=me, answer=stored,
                                                          correct=int(correct), feedback=message,
                                                          at=datetime.now(UTC)))
            audit.append(conn, me, "training.attempt", f"exercise {attempt.id}", detail={"correct": correct})
        return Feedback(correct, message)

    # -- trainers ----------------------------------------------------------------------------------------------
    def create_cohort(self, cohort_id: str, title: str, *, members: list[str]) -> dict[str, Any]:
        """A cohort of trainees (trainers and admins)."""
        me = self._ctx.actor.username
        with self._ctx.write() as conn:
            self._ctx.check("training.manage", f"cohort {cohort_id}")
            check_project_id(cohort_id, "cohort_id")
            title = check_text(title, "title", "a title for the cohort, e.g. 'Analysts, November intake'")
            if not isinstance(members, list | tuple) or not all(isinstance(u, str) for u in members) or not members:
                raise InvalidInput("members: list the usernames of the trainees.", field="members")
            known = set(conn.execute(select(people.c.username).where(people.c.username.in_(members))).scalars())
            unknown = sorted(set(members) - known)
            if unknown:
                raise NotFound(f"members: {', '.join(unknown)} are not registered people; add them first.")
            if conn.execute(select(training_cohorts.c.id).where(training_cohorts.c.id == cohort_id)).first():
                raise Conflict(f"Cohort {cohort_id} exists already; choose another id.")
            conn.execute(insert(training_cohorts).values(id=cohort_id, title=title, created_by=me,
                                                         created_at=datetime.now(UTC)))
            conn.execute(insert(training_members), [{"cohort_id": cohort_id, "username": u}
                                                    for u in sorted(set(members))])
            audit.append(conn, me, "training.cohort", f"cohort {cohort_id}", detail={"members": sorted(set(members))})
        return {"id": cohort_id, "title": title, "members": sorted(set(members))}

    def assign(self, cohort_id: str, exercises: list[str], *, due: Any = None) -> list[str]:
        """Assign exercises to a cohort (again: moves the due date)."""
        a = training_assignments
        if isinstance(exercises, str) or not isinstance(exercises, list | tuple) or not exercises:
            raise InvalidInput("exercises: list exercise ids, e.g. ['sdc-1', 'dp-1'].", field="exercises")
        chosen = [_exercise(e).id for e in exercises]
        due_date = check_date(due, "due") if due is not None else None
        me = self._ctx.actor.username
        with self._ctx.write() as conn:
            self._ctx.check("training.manage", f"cohort {cohort_id}")
            self._cohort(conn, cohort_id)
            conn.execute(delete(a).where((a.c.cohort_id == cohort_id) & a.c.exercise_id.in_(chosen)))
            conn.execute(insert(a), [{"cohort_id": cohort_id, "exercise_id": e, "due": due_date, "assigned_by": me,
                                      "assigned_at": datetime.now(UTC)} for e in chosen])
            audit.append(conn, me, "training.assign", f"cohort {cohort_id}", detail={"exercises": chosen,
                                                                                     "due": str(due_date)})
        return chosen

    def progress(self, cohort_id: str) -> pd.DataFrame:
        """One row per trainee and assigned exercise: attempts, solved, when (trainers and admins)."""
        a, t, m = training_assignments, training_attempts, training_members
        self._ctx.require("training.manage", f"progress of cohort {cohort_id}")
        with self._ctx.db.read() as conn:
            self._cohort(conn, cohort_id)
            members = list(conn.execute(select(m.c.username).where(m.c.cohort_id == cohort_id)
                                        .order_by(m.c.username)).scalars())
            assigned = conn.execute(select(a.c.exercise_id, a.c.due).where(a.c.cohort_id == cohort_id)
                                    .order_by(a.c.exercise_id)).all()
            attempts = conn.execute(select(t.c.username, t.c.exercise_id, t.c.correct, t.c.at)
                                    .where(t.c.username.in_(members))).all()
        rows = []
        for user in members:
            for exercise_id, due in assigned:
                mine = [x for x in attempts if x.username == user and x.exercise_id == exercise_id]
                solved = [x.at for x in mine if x.correct]
                rows.append({"username": user, "exercise_id": exercise_id, "attempts": len(mine),
                             "solved": bool(solved), "first_solved": min(solved) if solved else None,
                             "last_attempt": max((x.at for x in mine), default=None), "due": due})
        return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)

    def answers(self, cohort_id: str) -> pd.DataFrame:
        """Every attempt of the cohort's members at its exercises, with the answers (trainers and admins)."""
        a, t, m = training_assignments, training_attempts, training_members
        self._ctx.require("training.manage", f"answers of cohort {cohort_id}")
        with self._ctx.db.read() as conn:
            self._cohort(conn, cohort_id)
            rows = conn.execute(
                select(t.c.username, t.c.exercise_id, t.c.answer, t.c.correct, t.c.feedback, t.c.at)
                .join(m, (m.c.username == t.c.username) & (m.c.cohort_id == cohort_id))
                .join(a, (a.c.exercise_id == t.c.exercise_id) & (a.c.cohort_id == cohort_id))
                .order_by(t.c.at)).all()
        return pd.DataFrame([dict(r._mapping, correct=bool(r.correct)) for r in rows],
                            columns=["username", "exercise_id", "answer", "correct", "feedback", "at"])

    @staticmethod
    def _cohort(conn: Any, cohort_id: Any) -> None:
        if not isinstance(cohort_id, str) or conn.execute(
                select(training_cohorts.c.id).where(training_cohorts.c.id == cohort_id)).first() is None:
            raise NotFound(f"No cohort {cohort_id!r}; ws.training.create_cohort(...) makes one.")
