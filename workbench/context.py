"""What every service needs to act: the workspace's folder, database and vault, and who is acting.

``require`` asks the policy and refuses with ``AccessDenied``; each refusal is written to the audit log,
after the refused transaction has been rolled back, so that owners see attempts as well as uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import audit
from workbench.errors import AccessDenied, WorkbenchError
from workbench.governance.policy import VERBS, Actor, decide

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.db import Database
    from workbench.vault import Vault


class _Refusal(AccessDenied):
    """An AccessDenied raised inside a transaction, audited once the transaction is rolled back."""

    def __init__(self, message: str, action: str, resource: str, reason: str,
                 detail: dict[str, Any] | None = None, notebook: str | None = None) -> None:
        super().__init__(message, notebook=notebook)
        self.audit_entry = (action, resource, reason)
        self.audit_detail = detail or {}


@dataclass
class Context:
    home: Path
    db: Database
    vault: Vault
    actor: Actor
    secrets: dict[str, str] = field(repr=False, default_factory=dict)
    # served to remote kernels (`workbench serve`): what a kernel sends is the analyst's, not the workbench's
    service: bool = False

    def check(self, action: str, resource: str, **attributes: Any) -> None:
        """Refuse unless the policy allows; for use inside ``write()`` (the refusal is audited after)."""
        decision = decide(self.actor, action, attributes)
        if not decision:
            raise _Refusal(f"{self.actor.username} may not {VERBS.get(action, action)} {resource}: "
                           f"{decision.reason}.", action, resource, decision.reason, dict(decision.detail),
                           notebook=decision.notebook)

    def require(self, action: str, resource: str, **attributes: Any) -> None:
        """Refuse unless the policy allows; for use outside a transaction."""
        try:
            self.check(action, resource, **attributes)
        except _Refusal as refusal:
            self._audit_refusal(refusal)
            raise

    @contextmanager
    def write(self, audit_refusals_as: tuple[str, str] | None = None) -> Iterator[Connection]:
        """A serialised all-or-nothing write; policy refusals inside it are rolled back, then audited.

        With ``audit_refusals_as=(action, resource)`` any other refusal (unknown name, bad input, conflict) is
        audited too, as ``refused``: used where the attempt touched governed data.
        """
        try:
            with self.db.write() as conn:
                yield conn
        except _Refusal as refusal:
            self._audit_refusal(refusal)
            raise
        except WorkbenchError as error:
            if audit_refusals_as:
                self.audit_refused(*audit_refusals_as, error)
            raise

    def audit_refused(self, action: str, resource: str, error: WorkbenchError,
                      outcome: str = "refused") -> WorkbenchError:
        """Record a refused attempt on governed data (after any transaction); returns ``error`` to raise.

        ``outcome="denied"`` where the policy refused it (as ``require`` records)."""
        with self.db.write() as conn:
            audit.append(conn, self.actor.username, action, resource, outcome=outcome,
                         detail={"reason": str(error), "error": type(error).__name__})
        error.audited = True
        return error

    def _audit_refusal(self, refusal: _Refusal) -> None:
        action, resource, reason = refusal.audit_entry
        with self.db.write() as conn:
            audit.append(conn, self.actor.username, action, resource, outcome="denied",
                         detail={"reason": reason, **refusal.audit_detail})
        refusal.audited = True
