"""My outputs: an analyst follows their projects' output requests and collects what was released.

``requests()`` lists the output requests of every project the person belongs to, each with its outputs, its
status, the checkers' reviews once the project may see them (``OutputRequests.reviews``' rule: a concluded
request's, or an earlier round's) and, once released, the files of its package with their sizes and SHA-256.

``package(id)`` (the whole package as a zip) and ``file(id, name)`` (one of its files) serve a released package to
the project's members, the output checkers who reviewed, concluded or released it, and the owners of the
catalogue datasets it was made from (policy action ``outputs.download``); anyone else is refused. Only names the
package's manifest lists (and the manifest itself) are served, and only while the package still matches its
manifest, so nothing else under the workspace folder can be reached and a changed file never leaves. Every
download and every refusal is audited with who asked for what.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from workbench import audit
from workbench.db.schema import datasets, output_request_items, output_requests, output_reviews, outputs
from workbench.db.schema import project_members as members
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance.conditions import project_facts, project_row
from workbench.outputs import release as package
from workbench.outputs.lifecycle import CONCLUDED
from workbench.outputs.requests import REVIEW_COLUMNS, request_items, request_row

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

# a released file's name as the package writes it (``<uid>.csv``, ``<uid>_<file>``, results.json...)
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,254}$")
REQUEST_FIELDS = ("id", "project_id", "title", "status", "created_by", "created_at", "submitted_at",
                  "concluded_by", "concluded_at", "conclusion", "released_by", "released_at")


def visible_reviews(status: str, rounds: dict[int, int], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reviews a project may see: all of a concluded request's; otherwise those of earlier rounds."""
    return [{c: r[c] for c in REVIEW_COLUMNS} for r in rows
            if status in CONCLUDED or r["output_id"] not in rounds or r["round"] < rounds[r["output_id"]]]


def check_file_name(name: Any) -> str:
    """A package file's name, or InvalidInput: a plain file name, never a path."""
    if not isinstance(name, str) or not FILE_NAME.match(name) or ".." in name:
        raise InvalidInput(f"name: {str(name)[:80]!r} is not the name of a file of a release package; give one "
                           "of the names the package lists (e.g. results.json).", field="name")
    return name


class MyOutputs:
    """``ws.my_outputs``: ``requests()`` of my projects, and a released package: ``package(id)``, ``file(id, name)``."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- following my requests -------------------------------------------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        """The output requests of every project I am a member of, newest first, with what I may see of each."""
        me = self._ctx.actor.username
        with self._ctx.db.read() as conn:
            mine = select(members.c.project_id).where(members.c.username == me)
            rows = conn.execute(select(output_requests).where(output_requests.c.project_id.in_(mine))
                                .order_by(output_requests.c.id.desc())).mappings().all()
            listed = []
            for row in rows:
                items = request_items(conn, row["id"])
                rounds = {i["output_id"]: i["round"] for i in items}
                reviews = [dict(r) for r in conn.execute(select(output_reviews).where(
                    output_reviews.c.request_id == row["id"]).order_by(output_reviews.c.id)).mappings()]
                listed.append({
                    **{k: row[k] for k in REQUEST_FIELDS}, "context": dict(row["context"]),
                    "outputs": [{"id": i["output_id"], "name": i["name"], "kind": i["kind"], "status": i["status"],
                                 "round": i["round"]} for i in items],
                    "reviews": visible_reviews(row["status"], rounds, reviews),
                    "files": self._listed_files(dict(row)) if row["status"] == "released" else [],
                })
        return listed

    def _listed_files(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        manifest = self._manifest(self._ctx.home / row["package"]) if row["package"] else None
        if manifest is None:
            return []
        files = {package.MANIFEST: {"bytes": (self._ctx.home / row["package"] / package.MANIFEST).stat().st_size,
                                    "sha256": row["manifest_sha256"]}, **manifest.get("files", {})}
        return [{"name": name, "bytes": entry.get("bytes"), "sha256": entry.get("sha256")}
                for name, entry in sorted(files.items())]

    @staticmethod
    def _manifest(folder: Path) -> dict[str, Any] | None:
        try:
            return json.loads((folder / package.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # -- collecting a released package -----------------------------------------------------------------------
    def package(self, request_id: int) -> tuple[str, bytes]:
        """A released request's whole package as a zip: (file name, bytes)."""
        resource = f"the release package of output request {request_id}"
        with self._ctx.write(audit_refusals_as=("outputs.download", resource)) as conn:
            row, folder = self._released(conn, request_id, resource)
            top = f"{row['project_id']}-request-{row['id']}"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(p for p in folder.iterdir() if p.is_file()):
                    archive.writestr(f"{top}/{path.name}", path.read_bytes())
            content = buffer.getvalue()
            audit.append(conn, self._ctx.actor.username, "outputs.download", resource,
                         detail={"file": f"{top}.zip", "bytes": len(content),
                                 "manifest_sha256": row["manifest_sha256"]})
        return f"{top}.zip", content

    def file(self, request_id: int, name: str) -> tuple[str, bytes]:
        """One file of a released request's package: (its name, bytes). Names come from the package's manifest."""
        resource = f"the release package of output request {request_id}"
        with self._ctx.write(audit_refusals_as=("outputs.download", resource)) as conn:
            row, folder = self._released(conn, request_id, resource)
            name = check_file_name(name)
            listed = (self._manifest(folder) or {}).get("files", {})
            if name != package.MANIFEST and name not in listed:
                raise NotFound(f"The package of output request {request_id} has no file {name!r}; its files are "
                               f"{', '.join(sorted([package.MANIFEST, *listed]))}.")
            content = (folder / name).read_bytes()
            audit.append(conn, self._ctx.actor.username, "outputs.download", resource,
                         detail={"file": name, "bytes": len(content),
                                 "sha256": listed.get(name, {}).get("sha256", row["manifest_sha256"])})
        return name, content

    def _released(self, conn: Connection, request_id: int, resource: str) -> tuple[dict[str, Any], Path]:
        """The request and its package folder, once the policy allows the download and the package is whole."""
        row = request_row(conn, request_id)
        self._ctx.check("outputs.download", resource, **self._facts(conn, row))
        if row["status"] != "released" or not row["package"]:
            raise NotFound(f"Output request {request_id} is {row['status'].replace('_', ' ')}: it has no release "
                           "package yet (an output checker releases it once it is approved).")
        folder = self._ctx.home / row["package"]
        problems = package.verify_package(folder)
        if problems:
            raise Conflict(f"The package of output request {request_id} no longer matches its manifest "
                           f"({'; '.join(problems)}), so it is not served; an admin must restore it.")
        return row, folder

    def _facts(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
        """Who the person is to this request: project member, a checker who took part, a source's owner."""
        me = self._ctx.actor.username
        facts = project_facts(conn, project_row(conn, row["project_id"]), me)
        reviewed = conn.execute(select(func.count()).select_from(output_reviews).where(
            (output_reviews.c.request_id == row["id"]) & (output_reviews.c.reviewer == me))).scalar_one()
        sources = {s for (found,) in conn.execute(select(outputs.c.sources).join(
            output_request_items, output_request_items.c.output_id == outputs.c.id).where(
            output_request_items.c.request_id == row["id"])).all() for s in (found or [])}
        owners = set(conn.execute(select(datasets.c.owner).where(datasets.c.id.in_(sorted(sources)))).scalars())
        return {"project": row["project_id"], "project_status": facts["project_status"],
                "member_role": facts["member_role"],
                "took_part": bool(reviewed) or me in (row["concluded_by"], row["released_by"]),
                "source_owners": sorted(o for o in owners if o)}


__all__ = ["MyOutputs", "check_file_name", "visible_reviews"]
