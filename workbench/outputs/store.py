"""The project's outputs: each one a disclosure-checked ``Output`` kept in the vault as an ACRO/SACRO
``results.json`` folder, with a database row (status, exception, provenance, checksum) and audit events.

``project.tables.crosstab(...)`` and its siblings check a table with the workspace's disclosure settings and
record it here; ``project.outputs`` lists, reopens and exports them. The stored folder's checksum is kept in the
database, so an output changed behind the workbench's back is refused rather than shown.
"""

from __future__ import annotations

import builtins
import hashlib
import shutil
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert, select, update

from workbench import audit
from workbench.db.schema import dp_spends, outputs
from workbench.disclosure.output import Output
from workbench.disclosure.results_json import read_results_json, results_files, to_results_json, write_files
from workbench.errors import InvalidInput, NotFound, WorkbenchError
from workbench.governance.conditions import project_facts, project_row, require_in_project
from workbench.governance.lineage import lapsed, taint
from workbench.governance.project_data import lineage
from workbench.outputs import linked
from workbench.outputs.checks import screen_text
from workbench.outputs.files import figure_output, file_output
from workbench.outputs.lifecycle import reset_reviews
from workbench.outputs.settings import output_checking_settings
from workbench.validation import MAX_NUMBER, check_number

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

ATTACHMENTS = "files"  # an output's own files (a figure's HTML and PNG, a custom file) inside its folder
LIST_COLUMNS = ["id", "name", "kind", "method", "status", "provenance", "exception", "sources", "created_by",
                "created_at"]


def uid(project_id: str, output_id: int) -> str:
    return f"{project_id}_output_{output_id}"


def _digest(folder: Path) -> str:
    """One SHA-256 over every file of an output's folder (names and contents)."""
    return _digest_files({path.relative_to(folder).as_posix(): path.read_bytes()
                          for path in folder.rglob("*") if path.is_file()})


def _digest_files(files: dict[str, bytes]) -> str:
    """``_digest`` of a folder holding ``files`` (path in the folder → content), from memory: files in path
    order, as a sorted listing of the folder gives them."""
    digest = hashlib.sha256()
    for name in sorted(files, key=lambda name: tuple(name.split("/"))):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _attach(folder: Path, attachments: dict[str, bytes]) -> None:
    for file_name, content in attachments.items():
        target = folder / ATTACHMENTS / file_name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(content)


def attachments_of(folder: Path) -> list[Path]:
    """An output's attached files (a figure's HTML/PNG, a custom file), by name."""
    return sorted(p for p in (folder / ATTACHMENTS).glob("*") if p.is_file())


def output_number(project_id: str, output: Any) -> int:
    """The number of an output recorded in ``project_id``, from the Output itself or its number; InvalidInput for
    an output of another project or anything else. A remote kernel sends outputs to the service by this number."""
    if isinstance(output, Output):
        prefix = f"{project_id}_output_"
        number = (output.uid or "")[len(prefix):]
        if not (output.uid or "").startswith(prefix) or not number.isdigit():
            raise InvalidInput("outputs: this output is not recorded in project "
                               f"{project_id}; make it with p.tables.* of this project.", field="outputs")
        return int(number)
    if isinstance(output, bool) or not isinstance(output, int) or not 1 <= output <= MAX_NUMBER:
        raise InvalidInput(f"outputs: {str(output)[:80]!r} is neither an output nor an output number.",
                           field="outputs")
    return output


class ProjectOutputs:
    """``project.outputs``: what the project has produced, for its members (and later its checkers)."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id

    # -- recording -------------------------------------------------------------------------------------------
    def check_can_record(self, resource: str) -> None:
        """Refuse before any work is done unless the caller may produce outputs in this project."""
        require_in_project(self._ctx, "outputs.create", resource, self.project_id)

    def record(self, output: Output, *, name: str, derived_from: list[str],
               attachments: dict[str, bytes] | None = None, origin: dict[str, Any] | None = None) -> Output:
        """Keep ``output`` in the project; returns it bound to its record (exceptions and comments persist).

        ``attachments`` (file name → content) are kept with it: a figure's HTML and PNG, a custom file.
        ``origin`` is given only by the services that computed the numbers themselves from a spec (source,
        version, file SHA-256, spec): the output's provenance is then ``computed``; without it, the numbers came
        from a frame a kernel sent and the output is ``analyst-supplied``."""
        name = self._check_name(name)
        me = self._ctx.actor.username
        resource = f"output {name!r} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("outputs.create", resource)) as conn:
            facts = project_facts(conn, project_row(conn, self.project_id), me)
            self._ctx.check("outputs.create", resource, **facts)
            self.screen(conn, [("name", name), *(("derived_from", str(d)) for d in derived_from)])
            sources = lineage(conn, self.project_id, derived_from)
            if origin is None:  # numbers from the member's kernel: it may hold whatever they loaded or read
                sources = sorted({*sources, *taint(conn, self.project_id, me)})
            gap = lapsed(conn, self.project_id, sources, f"output {name!r}")
            if gap:
                self._ctx.check("outputs.create", resource, **facts, lineage_lapsed=gap)
            linked.check(conn, self.project_id, output, name=name, origin=origin, sources=sources,
                         load=lambda other: self._load(conn, other))
            output_id = conn.execute(insert(outputs).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=self.project_id, name=name, kind=output.kind, method=output.method, status=output.status,
                exception=output.exception, derived_from=list(derived_from), sources=sources, checksum="",
                created_by=me, created_at=datetime.now(UTC),
                provenance="computed" if origin is not None else "analyst-supplied",
                origin=origin if origin is not None else {"lineage": sources, "declared": list(derived_from)},
            )).inserted_primary_key[0]
            output.uid = uid(self.project_id, output_id)
            if output.kind == "dp":
                self._claim_ledger_entries(conn, output, output_id)
            folder = self._folder(output_id)
            staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
            try:
                files = results_files({output.uid: output})
                staging.mkdir(parents=True)
                write_files(staging, files)
                _attach(staging, attachments or {})
                checksum = _digest_files({**files, **{f"{ATTACHMENTS}/{file_name}": content
                                                      for file_name, content in (attachments or {}).items()}})
                conn.execute(update(outputs).where(outputs.c.id == output_id).values(checksum=checksum))
                if folder.exists():  # left by a write whose transaction then failed: the id is free again
                    shutil.rmtree(folder)
                staging.replace(folder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            audit.append(conn, me, "outputs.create", f"output {output_id} in project {self.project_id}",
                         detail={"name": name, "method": output.method, "status": output.status, "sources": sources,
                                 **({"linked": [t["id"] for t in output.properties["linked"]["tables"]]}
                                    if linked.RULE in output.flags else {})})
        return self._bind(output, output_id)

    @staticmethod
    def screen(conn: Connection, texts: list[tuple[str, Any]]) -> None:
        """Refuse (``DisclosureRisk``) free text that looks like it holds an identifier (``checks.screen_text``,
        with the workspace's ``max_digits_in_text``)."""
        screen_text(texts, output_checking_settings(conn)["max_digits_in_text"])

    def _claim_ledger_entries(self, conn: Connection, output: Output, output_id: int) -> None:
        """A DP result is recorded only with the unclaimed budget-ledger entries of the query that made it, so
        numbers computed anywhere but ``project.dp`` cannot pass as differentially private."""
        entries = (output.properties.get("dp") or {}).get("ledger") or []
        rows = conn.execute(select(dp_spends.c.id).where(
            dp_spends.c.id.in_([e for e in entries if isinstance(e, int)])
            & (dp_spends.c.project_id == self.project_id) & (dp_spends.c.username == self._ctx.actor.username)
            & dp_spends.c.output_id.is_(None))).scalars().all()
        if not entries or sorted(rows) != sorted(entries):
            raise InvalidInput("output: differentially private results are recorded by the workbench itself, from "
                               "the query that spent their budget; run the query with project.dp.", field="output")
        conn.execute(update(dp_spends).where(dp_spends.c.id.in_(rows)).values(output_id=output_id))

    def _bind(self, output: Output, output_id: int) -> Output:
        output.on_change = lambda what, text: self._change(output_id, what, text)
        return output

    def _change(self, output_id: int, what: str, text: str) -> None:
        """Persist an exception request or a comment on a recorded output (before the object changes)."""
        me = self._ctx.actor.username
        resource = f"output {output_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("outputs.update", resource)) as conn:
            facts = project_facts(conn, project_row(conn, self.project_id), me)
            self._ctx.check("outputs.update", resource, **facts)
            self.screen(conn, [("exception request" if what == "exception" else "comment", text)])
            stored = self._load(conn, output_id)
            if what == "exception":
                stored.exception = text
            else:
                stored.comments.append(text)
            folder = self._folder(output_id)
            staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
            try:
                to_results_json({stored.uid: stored}, staging)  # type: ignore[arg-type]  # a stored output has its uid
                if (folder / ATTACHMENTS).exists():
                    shutil.copytree(folder / ATTACHMENTS, staging / ATTACHMENTS)
                checksum = _digest(staging)
                conn.execute(update(outputs).where(outputs.c.id == output_id).values(
                    exception=stored.exception, checksum=checksum))
                reset_reviews(conn, me, output_id, checksum)
                old = folder.with_name(f".{folder.name}.old.{uuid.uuid4().hex}")
                folder.replace(old)
                staging.replace(folder)
                shutil.rmtree(old, ignore_errors=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            audit.append(conn, me, f"outputs.{what}", resource, detail={what: text})

    def figure(self, fig: Any, table: Output | int, *, name: str | None = None) -> Output:
        """Record a plotly figure with the recorded table it was drawn from (whose check it carries): HTML, plus
        PNG where kaleido can run. Draw the figure from ``table.safe_table``: the checker compares the two."""
        self.check_can_record(f"a figure output in project {self.project_id}")
        drawn_from = self.get(self._id_of(table))
        output, files = figure_output(fig, drawn_from)
        row = self._row(self._id_of(table))
        return self.record(output, name=name or f"figure of {row['name']}"[:200], derived_from=row["derived_from"],
                           attachments=files)

    def add_file(self, path: str | Path, *, description: str, derived_from: list[str],
                 name: str | None = None) -> Output:
        """Record a custom file (a report, an image made elsewhere): always ``review`` for a checker to judge;
        its type and size must meet the workspace's output-checking settings."""
        self.check_can_record(f"a file output in project {self.project_id}")
        with self._ctx.db.read() as conn:
            settings = output_checking_settings(conn)
        output, files = file_output(path, description, settings)
        return self.record(output, name=name or Path(path).name, derived_from=derived_from, attachments=files)

    # -- reading ---------------------------------------------------------------------------------------------
    def list(self) -> pd.DataFrame:
        """The project's outputs, newest last (members of the project)."""
        with self._readable(f"outputs of project {self.project_id}") as conn:
            rows = conn.execute(select(outputs).where(outputs.c.project_id == self.project_id)
                                .order_by(outputs.c.id)).mappings().all()
        return pd.DataFrame([{c: r[c] for c in LIST_COLUMNS} for r in rows], columns=LIST_COLUMNS)

    def get(self, output_id: int) -> Output:
        """One recorded output, as checked (members of the project)."""
        resource = f"output {output_id} in project {self.project_id}"
        with self._readable(resource) as conn:
            output = self._load(conn, output_id)
        with self._ctx.write() as conn:  # the unmitigated table is governed data: reading it is recorded
            audit.append(conn, self._ctx.actor.username, "outputs.read", resource, detail={"status": output.status})
        return self._bind(output, output_id)

    def to_results_json(self, folder: str | Path, ids: builtins.list[int] | None = None) -> Path:
        """Write the project's outputs (or ``ids``) to a new folder as ACRO/SACRO ``results.json`` + CSVs."""
        resource = f"outputs of project {self.project_id}"
        with self._readable(resource) as conn:
            known = list(conn.execute(select(outputs.c.id).where(outputs.c.project_id == self.project_id)
                                      .order_by(outputs.c.id)).scalars())
            chosen = known if ids is None else [self._check_id(i, known) for i in ids]
            loaded = {uid(self.project_id, i): self._load(conn, i) for i in chosen}
        if not loaded:
            raise InvalidInput(f"Project {self.project_id} has no outputs to write yet.", field="ids")
        path = to_results_json(loaded, folder)
        with self._ctx.write() as conn:
            audit.append(conn, self._ctx.actor.username, "outputs.export", resource,
                         detail={"outputs": chosen, "folder": str(Path(folder).resolve())})
        return path

    # -- internals -------------------------------------------------------------------------------------------
    def _id_of(self, output: Any) -> int:
        """The number of a recorded output of this project, from the Output itself or its number."""
        return output_number(self.project_id, output)

    def _row(self, output_id: int) -> dict[str, Any]:
        with self._ctx.db.read() as conn:
            row = conn.execute(select(outputs).where((outputs.c.id == output_id)
                                                     & (outputs.c.project_id == self.project_id))).mappings().first()
        if row is None:
            raise NotFound(f"Project {self.project_id} has no output {output_id}; project.outputs.list() lists them.")
        return dict(row)

    def folder(self, output_id: int) -> Path:
        """Where a recorded output is kept in the vault."""
        return self._folder(output_id)

    def _folder(self, output_id: int) -> Path:
        folder = self._ctx.vault.project_root(self.project_id) / "outputs" / str(int(output_id))
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _check_id(self, value: Any, known: builtins.list[int]) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in known:
            raise NotFound(f"Project {self.project_id} has no output {value!r}; project.outputs.list() lists them.")
        return value

    def _load(self, conn: Connection, output_id: Any) -> Output:
        check_number(output_id, "output_id", "an output number")
        row = conn.execute(select(outputs).where((outputs.c.id == output_id)
                                                 & (outputs.c.project_id == self.project_id))).mappings().first()
        if row is None:
            raise NotFound(f"Project {self.project_id} has no output {output_id}; project.outputs.list() lists them.")
        folder = self._folder(output_id)
        if not (folder / "results.json").exists() or _digest(folder) != row["checksum"]:
            raise WorkbenchError(f"Output {output_id} of project {self.project_id} was changed or removed outside the "
                                 "workbench; an admin should check the vault and the audit log.")
        return read_results_json(folder)[uid(self.project_id, output_id)]

    def _readable(self, resource: str) -> Any:
        """A read transaction for members of the project (refusals audited)."""
        @contextmanager
        def guarded():
            require_in_project(self._ctx, "outputs.read", resource, self.project_id)
            try:
                with self._ctx.db.read() as conn:
                    yield conn
            except (NotFound, InvalidInput) as error:
                raise self._ctx.audit_refused("outputs.read", resource, error) from None

        return guarded()

    @staticmethod
    def _check_name(name: Any) -> str:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InvalidInput("name: give the output a short name (up to 200 characters), e.g. "
                               "'Inactivity by region and sex'.", field="name")
        return name.strip()
