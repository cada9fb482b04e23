"""The vault: governed data at rest as Parquet files inside the workspace folder.

Writes are staged to a temporary file and moved into place only after the database agreed (see
``staged``), so a refused or failed registration leaves no data behind. Restricted areas (e.g. the demo's
linkage truth) live apart from datasets so that nothing that loads datasets can reach them by accident.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.errors import InvalidInput, NotFound
from workbench.ids import check_dataset_id, check_project_id

RESTRICTED_AREAS = ("truth",)


class Vault:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        """Create the vault's folders, private to the workspace's owner."""
        for sub in ("", "datasets", "restricted", *(f"restricted/{a}" for a in RESTRICTED_AREAS)):
            (self.root / sub).mkdir(exist_ok=True, mode=0o700)

    def dataset_path(self, dataset_id: str) -> Path:
        """The file of the dataset's current version (what every reader reads unless a grant pins a version)."""
        return self.root / "datasets" / f"{check_dataset_id(dataset_id)}.parquet"

    def dataset_version_path(self, dataset_id: str, number: int) -> Path:
        """Where version ``number`` of a dataset is kept (the current one too: a hard link to the current file),
        so a grant pinned to an older version still loads it after the data was registered again."""
        return self.root / "datasets" / "versions" / check_dataset_id(dataset_id) / f"v{int(number)}.parquet"

    def restricted_path(self, area: str, name: str) -> Path:
        if area not in RESTRICTED_AREAS:
            raise InvalidInput(f"Unknown restricted area {area!r}; known: {', '.join(RESTRICTED_AREAS)}.",
                               field="area")
        return self.root / "restricted" / area / f"{check_dataset_id(name)}.parquet"

    def project_path(self, project_id: str, name: str, version: int) -> Path:
        """Where a project keeps version ``version`` of a frame its members saved."""
        return (self.project_root(project_id) / "data" / check_dataset_id(name, "name") / f"v{int(version)}.parquet")

    def project_root(self, project_id: str) -> Path:
        """A project's own area: saved frames (``data/``), outputs (``outputs/``), pseudonym cache (``cache/``)."""
        return self.root / "projects" / check_project_id(project_id, "project")

    def twin_path(self, dataset_id: str) -> Path:
        """The cached synthetic twin of a dataset (made from the data; readable by any catalogue reader)."""
        return self.root / "twins" / f"{check_dataset_id(dataset_id)}.parquet"

    def has_dataset(self, dataset_id: str) -> bool:
        return self.dataset_path(dataset_id).exists()

    def read(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
        if not path.exists():
            raise NotFound(f"No data is stored for {path.stem!r} in this workspace's vault.")
        return pd.read_parquet(path, columns=columns)

    def read_dataset(self, dataset_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read(self.dataset_path(dataset_id), columns)

    def write(self, path: Path, data: pd.DataFrame | pa.Table) -> None:
        """Write ``data`` to ``path`` atomically (readers see the old file or the new one, never half)."""
        with self.staged(path, data):
            pass

    @contextmanager
    def staged(self, path: Path, data: pd.DataFrame | pa.Table) -> Iterator[Path]:
        """Write ``data`` beside ``path``; move it into place if the block succeeds, else delete it."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        with self.staging(path) as tmp:
            pq.write_table(table, tmp)
            yield tmp

    @contextmanager
    def staging(self, path: Path) -> Iterator[Path]:
        """A temporary file beside ``path`` for the block to write (data too large to hold in memory is streamed
        into it); moved into place if the block succeeds, else deleted."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
