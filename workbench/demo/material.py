"""The demo's restricted material (``ws.demo``): which records are truly the same person, and how the demo was
built.

A service like any other: it asks the policy, reads and writes through the context and audits each read of the
truth. Linkage receives it as its ``TruthSource`` (``workbench.linkage.truth``) and never imports the demo.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from workbench import audit
from workbench.context import Context
from workbench.db.schema import settings
from workbench.errors import InvalidInput
from workbench.governance.policy import decide
from workbench.ids import check_dataset_id

DEMO_SETTING = "demo"


class DemoMaterial:
    """The demo's restricted material: which records are the same person (``ws.demo``)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def truth(self, dataset_id: str) -> pd.DataFrame:
        """Record key → true person id for a person-level demo dataset (admins and trainers only)."""
        check_dataset_id(dataset_id, "dataset_id")
        self._ctx.require("demo.truth.read", f"truth {dataset_id}")
        path = self._ctx.vault.restricted_path("truth", dataset_id)
        if not path.exists():
            raise InvalidInput(f"dataset_id: the demo holds no linkage truth for {dataset_id!r}; truth exists "
                               f"for: {', '.join(self.available()) or 'nothing (not a demo workspace)'}.",
                               field="dataset_id")
        frame = self._ctx.vault.read(path)
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "demo.truth.read", f"truth {dataset_id}",
                         detail={"rows": len(frame)})
        return frame

    def available(self) -> list[str]:
        folder = self._ctx.vault.root / "restricted" / "truth"
        return sorted(p.stem for p in folder.glob("*.parquet")) if folder.exists() else []

    def readable(self, dataset_ids: list[str]) -> bool:
        """Whether the demo holds truth for every one of ``dataset_ids`` and the caller may read it (asks the
        policy quietly: nothing is read or audited)."""
        available = self.available()
        return decide(self._ctx.actor, "demo.truth.read", {}).allowed and all(d in available for d in dataset_ids)

    def built(self) -> dict[str, Any] | None:
        """How the demo in this workspace was built (persons, seed, datasets, when), or None if it is no demo."""
        with self._ctx.db.read() as conn:
            return conn.execute(select(settings.c.value).where(settings.c.key == DEMO_SETTING)).scalar()

    def record_build(self, truth: Mapping[str, pd.DataFrame], *, persons: int, seed: int, datasets: int) -> None:
        """Keep the world's truth in the vault's restricted area and record the build (admins)."""
        self._ctx.require("settings.write", "demo settings")
        for name, frame in truth.items():
            self._ctx.vault.write(self._ctx.vault.restricted_path("truth", name), frame)
        value = {"persons": persons, "seed": seed, "datasets": datasets,
                 "built_at": datetime.now(UTC).isoformat()}
        with self._ctx.write() as conn:
            self._ctx.check("settings.write", "demo settings")
            conn.execute(insert(settings).values(key=DEMO_SETTING, value=value, updated_by=self._ctx.actor.username,
                                                 updated_at=datetime.now(UTC)))
            audit.append(conn, self._ctx.actor.username, "demo.build", "workspace", detail=value)
