"""Release packages: what leaves the workspace, written so that it is either whole or absent.

A package is a folder ``<home>/releases/<project>/request-<id>/`` holding the approved outputs as files (CSV for
tables, HTML and PNG for figures, custom files as they were), an ACRO/SACRO-compatible ``results.json`` and
``manifest.json`` (the request, project, context, datasets and their versions, checks, reviews, and the SHA-256
of every other file). What goes into them is defined once, in ``outputs/released.py``, and is exactly what the
output checkers were shown; this module only writes it. It is written into a temporary folder beside the
final one, each file fsynced, the manifest last, then renamed into place in one step. A crash leaves at most a
temporary folder, which the next attempt removes; a retry that finds a complete package for the same request
keeps it. ``verify_package`` checks a package against its manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInput

MANIFEST, RESULTS = "manifest.json", "results.json"
FORMAT = 1


def package_folder(home: Path, project_id: str, request_id: int) -> Path:
    return home / "releases" / project_id / f"request-{int(request_id)}"


def _write(path: Path, content: bytes) -> str:
    """Write one file durably; returns its SHA-256."""
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return hashlib.sha256(content).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n").encode("utf-8")


def verify_package(folder: str | Path) -> list[str]:
    """What is wrong with a release package (missing, changed or extra files); empty when it is intact."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} is missing or unreadable ({exc})"]
    problems = []
    for name, entry in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        content = path.read_bytes()
        if len(content) != entry.get("bytes") or hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    problems.extend(f"{name} is not in the manifest" for name in sorted(present - set(listed) - {MANIFEST}))
    return problems


def manifest_sha256(folder: Path) -> str:
    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


def existing(folder: Path, request_id: int, checksums: dict[int, str]) -> dict[str, Any] | None:
    """The manifest of a complete package already written for this request and these output versions."""
    if not folder.exists() or verify_package(folder):
        return None
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("request", {}).get("id") != request_id:
        return None
    if {int(o["id"]): o["checksum"] for o in manifest.get("outputs", [])} != checksums:
        return None
    return manifest


def write_package(folder: Path, files: dict[str, bytes], results: dict[str, Any], manifest: dict[str, Any]) -> str:
    """Write a package atomically at ``folder`` (which must not exist); returns the manifest's SHA-256.

    ``files``: name → content of each released file; ``results``: the ACRO/SACRO document; ``manifest``:
    everything but ``files``, which is filled here with each file's SHA-256 and size."""
    for name in files:
        if "/" in name or name.startswith(".") or name in (MANIFEST, RESULTS):
            raise InvalidInput(f"{name!r} cannot be a file of a release package.")
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):  # left by an attempt that crashed
        shutil.rmtree(stale, ignore_errors=True)
    staging = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex}")
    staging.mkdir(mode=0o700)
    try:
        listed = {}
        for name, content in files.items():
            listed[name] = {"sha256": _write(staging / name, content), "bytes": len(content)}
        content = _json(results)
        listed[RESULTS] = {"sha256": _write(staging / RESULTS, content), "bytes": len(content)}
        _write(staging / MANIFEST, _json({**manifest, "files": listed}))
        _fsync_dir(staging)
        os.rename(staging, folder)
        _fsync_dir(folder.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest_sha256(folder)


__all__ = ["MANIFEST", "RESULTS", "package_folder", "verify_package", "write_package"]
