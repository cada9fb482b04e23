"""Fixtures for output checking: a granted project with a recorded table, and three independent checkers."""

from __future__ import annotations

import pytest
from conftest import ADMIN, ANALYST, DATASET, PROJECT, grant

CHECKER2, CHECKER3 = "dee.checker", "eve.checker"
CONTEXT = {"shown": "Admissions by age band and length of stay", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}


@pytest.fixture
def desk(governed):
    """``governed`` plus a grant of DATASET to PROJECT and two more output checkers (CHECKER is the first)."""
    grant(governed)
    admin = governed(ADMIN)
    for user in (CHECKER2, CHECKER3):
        admin.people.add(user, user.replace(".", " ").title(), roles=["output_checker"], department="DHSC")
    return governed


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
