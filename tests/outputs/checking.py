"""Helpers for output checking tests (the ``desk`` fixture is in tests/conftest.py)."""

from __future__ import annotations

from helpers import ANALYST, CHECKER2, CHECKER3, DATASET, PROJECT  # noqa: F401 (re-exported)

CONTEXT = {"shown": "Admissions by age band and length of stay", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}


def record_table(connect, name: str = "by age and stay", **options):
    """ANALYST records a crosstab of the granted data in PROJECT."""
    project = connect(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    return project.tables.crosstab(data, "age_band", "length_of_stay", name=name, **options)


def submitted(connect, outputs=None, context=None):
    """A submitted request of ``outputs`` (default: one new table) by ANALYST."""
    project = connect(ANALYST).project(PROJECT)
    outputs = outputs if outputs is not None else [record_table(connect)]
    return project.output_requests.create("Admissions", context=context or CONTEXT, outputs=outputs, submit=True)
