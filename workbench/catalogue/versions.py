"""Dataset versions: every registration of a dataset's data is a new version, numbered from 1; the highest is current.

A version records when and by whom it was registered, its rows, and either the SHA-256 of the file the vault
stores (copied data) or a snapshot marker of the source (data read in place, where hashing would mean reading
it all). The vault keeps each version's file (``Vault.dataset_version_path``, a hard link where the file system
allows) beside the current one (``Vault.dataset_path``), so a grant pinned to a version still loads it after the
data was registered again. Files are never rewritten in place: a new version's file is linked and renamed into
place, so frames that memory-map an older file keep reading it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from workbench.db.schema import data_loads, dataset_versions
from workbench.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.vault import Vault

MODES = ("copy", "in-place")
_HASH_CHUNK = 1 << 20
# (device, inode, mtime_ns, size) → digest: a file is hashed once per change, and a staged file's digest holds
# after it is renamed or linked into place (same inode)
_SHA256: dict[tuple[int, int, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered while the file (its inode, modification time and size) is unchanged."""
    stat = path.stat()
    key = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if key not in _SHA256:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
        if len(_SHA256) > 4096:
            _SHA256.clear()
        _SHA256[key] = digest.hexdigest()
    return _SHA256[key]


def current(conn: Connection, dataset_id: str) -> int | None:
    """The dataset's current version number (None: no data was ever registered)."""
    number = conn.execute(select(func.max(dataset_versions.c.number))
                          .where(dataset_versions.c.dataset_id == dataset_id)).scalar()
    return None if number is None else int(number)


def used(conn: Connection, dataset_id: str, project_id: str | None = None, before: datetime | None = None
         ) -> int | None:
    """The version of a dataset a project's work was made from: the version of its latest load of it (at or before
    ``before``), else the current version."""
    if project_id is not None:
        query = select(data_loads.c.version).where(
            (data_loads.c.project_id == project_id) & (data_loads.c.dataset_id == dataset_id)
            & data_loads.c.version.is_not(None))
        if before is not None:
            query = query.where(data_loads.c.at <= before)
        number = conn.execute(query.order_by(data_loads.c.id.desc()).limit(1)).scalar()
        if number is not None:
            return int(number)
    return current(conn, dataset_id)


def record_version(conn: Connection, dataset_id: str, *, username: str, rows: int | None,
                   checksum: str | None = None, marker: str | None = None, mode: str = "copy",
                   at: datetime | None = None) -> int:
    """Add the next version of a dataset in the caller's write transaction and return its number. Give the stored
    file's ``checksum`` (SHA-256, copied data) or a ``marker`` of the source's snapshot (data read in place)."""
    if mode not in MODES:
        raise InvalidInput(f"mode: {mode!r} is not one of {', '.join(MODES)}.", field="mode")
    if checksum is None and marker is None:
        raise InvalidInput("A dataset version needs the stored file's checksum or the source's snapshot marker.",
                           field="data")
    number = (current(conn, dataset_id) or 0) + 1
    conn.execute(insert(dataset_versions).values(
        dataset_id=dataset_id, number=number, row_count=rows, checksum=checksum,
        marker=None if marker is None else str(marker)[:500], mode=mode, registered_by=username,
        registered_at=at or datetime.now(UTC)))
    return number


def listing(conn: Connection, dataset_id: str) -> list[dict[str, Any]]:
    """The dataset's versions as an entry lists them, oldest first: ``number``, ``registeredAt`` (ISO 8601),
    ``registeredBy``, ``rows``, ``checksum`` (SHA-256 of the stored file) or ``marker`` (the source's snapshot, for
    data read in place), ``mode`` and ``current``."""
    rows = conn.execute(select(dataset_versions).where(dataset_versions.c.dataset_id == dataset_id)
                        .order_by(dataset_versions.c.number)).mappings().all()
    last = rows[-1]["number"] if rows else None
    return [{"number": int(r["number"]), "registeredAt": _iso(r["registered_at"]), "registeredBy": r["registered_by"],
             "rows": None if r["row_count"] is None else int(r["row_count"]), "checksum": r["checksum"],
             "marker": r["marker"], "mode": r["mode"], "current": r["number"] == last} for r in rows]


def check_version(conn: Connection, dataset_id: str, version: Any, field: str = "version") -> int:
    """``version`` as the number of one of the dataset's versions, or refuse it."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"{field}: give a version number of {dataset_id} (1, 2, ...), not {version!r}.",
                           field=field)
    latest = current(conn, dataset_id)
    if latest is None:
        raise InvalidInput(f"{field}: {dataset_id} has no registered data, so no version to pin.", field=field)
    if version > latest:
        raise InvalidInput(f"{field}: {dataset_id} has versions 1 to {latest}, not {version}; its entry lists "
                           "them.", field=field)
    return version


def version_file(vault: Vault, dataset_id: str, number: int | None, latest: int | None) -> Path:
    """The file holding version ``number`` (the current file when it is the current version or None)."""
    if number is None or number == latest:
        return vault.dataset_path(dataset_id)
    path = vault.dataset_version_path(dataset_id, number)
    if not path.exists():
        raise NotFound(f"Version {number} of {dataset_id} is no longer held in this workspace's vault; ask its owner "
                       "to pin a version the vault holds, or to grant the current one.")
    return path


def _link(source: Path, target: Path) -> None:
    """``target`` as another name of ``source``'s file (a copy where the file system has no hard links)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here: a copy, staged and renamed so no reader sees half of it
        partial = target.with_name(f".{target.name}.partial")
        shutil.copy2(source, partial)
        os.replace(partial, target)


def keep_previous(vault: Vault, dataset_id: str, previous: int | None) -> None:
    """Make sure the current file is kept as version ``previous`` before a new version replaces it (data registered
    before versions were kept has no version file yet)."""
    current_file = vault.dataset_path(dataset_id)
    if previous is None or not current_file.exists():
        return
    kept = vault.dataset_version_path(dataset_id, previous)
    if not kept.exists():
        with suppress(FileExistsError):
            _link(current_file, kept)


def keep_new(vault: Vault, dataset_id: str, staged: Path, number: int) -> None:
    """Keep the staged file of version ``number`` under its version's name; called once the version is committed
    (so the number is this registration's), before the staged file is moved into place as the current file."""
    target = vault.dataset_version_path(dataset_id, number)
    if target.exists():
        target.unlink()  # left by a registration that failed after linking: never a committed version's file
    _link(staged, target)


def _iso(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


__all__ = ["check_version", "current", "file_sha256", "keep_new", "keep_previous", "listing", "record_version",
           "used", "version_file"]
