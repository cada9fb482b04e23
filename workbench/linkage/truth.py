"""Where governed linkage may find the truth (which records are the same person) to report quality against it.

Only a demo or training workspace has such truth; the interface that builds the project's linkage passes its
source in (``ws.demo``), so linkage never depends on where the truth comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pandas as pd


class TruthSource(Protocol):
    def readable(self, dataset_ids: list[str]) -> bool:
        """Whether truth exists for every one of ``dataset_ids`` and the caller may read it (nothing read)."""
        ...

    def truth(self, dataset_id: str) -> pd.DataFrame:
        """Record key (first column) → ``person_id`` for ``dataset_id``; each read audited."""
        ...
