"""The people and project a benchmark's workspace needs: an admin, an ONS data owner (``olu.owner``) and an
accredited analyst (``ann.analyst``) leading project ``p-bench``, so that each benchmark adds only its data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def staffed(home: Path, url: str | None) -> Callable[[str], Any]:
    """Set up the workspace at ``home`` (on ``url``, or SQLite) and return a function connecting as a user."""
    import workbench

    def as_user(user: str) -> Any:
        os.environ["WORKBENCH_USER"] = user
        return workbench.connect(home, database_url=url)

    admin = as_user("ada.admin")
    admin.people.add("ada.admin", "Ada Admin", roles=["admin"])
    admin.departments.add("office-for-national-statistics", "Office for National Statistics", "ONS")
    admin.people.add("olu.owner", "Olu Owner", roles=["data_owner"], department="ONS")
    admin.people.add("ann.analyst", "Ann Analyst", roles=["analyst"], department="ONS")
    admin.people.accredit("ann.analyst", until="2099-12-31")
    admin.people.record_training("ann.analyst", "safe-researcher", completed="2026-01-05")
    admin.create_project("p-bench", "Bench", "Benchmark", mission=1, legal_gateway="dea-2017-research",
                         lead="ann.analyst", start="2026-01-01", end="2099-12-31", status="active")
    return as_user
