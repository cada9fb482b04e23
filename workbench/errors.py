"""The one exception hierarchy of the workbench.

Every refusal a user can meet is a ``WorkbenchError``; its message says what was wrong and what to do next.
Interfaces (kernel API, CLI, REST) catch ``WorkbenchError`` and show the message; anything else is a bug.

A message names what to do in words every interface shares ("your access requests list it"); where Python code
is the way to do it, the call goes in ``notebook``, which ``str(error)`` adds for notebooks, the CLI and remote
kernels, and which the lab's REST handlers leave out (``lab_message``): a lab user is never told to call Python.
A hint that only names the call for what the message already says is written in brackets ("(ws.access.mine())")
and goes inside the message's last sentence, so a notebook reads it once: "No access request 5 of yours; your
access requests list them (ws.access.mine())."
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose.

    ``audited`` is set once the refusal is in the audit log, so an interface that audits every refusal it
    passes on (the service's kernel route) records each one exactly once."""

    audited: bool = False

    def __init__(self, *args: object, notebook: str | None = None) -> None:
        super().__init__(*args)
        self.notebook = notebook

    @property
    def lab_message(self) -> str:
        """The message without its Python hint: what the lab shows."""
        return super().__str__()

    def __str__(self) -> str:
        text = super().__str__()
        hint = getattr(self, "notebook", None)
        if not hint:
            return text
        if hint.startswith("(") and text.endswith("."):  # the call for what the last sentence says: inside it
            return f"{text[:-1]} {hint}."
        return f"{text} {hint}"


class InvalidInput(WorkbenchError, ValueError):
    """The caller's input is malformed or out of range; nothing was changed.

    ``problems`` lists ``(field, message)`` pairs when several fields were wrong at once.
    """

    def __init__(self, message: str, *, field: str | None = None,
                 problems: list[tuple[str, str]] | None = None, notebook: str | None = None) -> None:
        super().__init__(message, notebook=notebook)
        self.field = field
        self.problems = problems or ([(field, message)] if field else [])


class AccessDenied(WorkbenchError, PermissionError):
    """The policy refused the actor this action on this resource."""


class NotFound(WorkbenchError, LookupError):
    """The named thing does not exist (or the actor may not know it exists)."""


class Conflict(WorkbenchError):
    """The action clashes with the current state (already exists, newer schema, closed project...)."""


class BudgetExceeded(WorkbenchError):
    """A privacy budget would be overspent; nothing was charged."""


class DisclosureRisk(WorkbenchError):
    """An output failed disclosure control and may not leave the workbench as it is."""


__all__ = [
    "AccessDenied",
    "BudgetExceeded",
    "Conflict",
    "DisclosureRisk",
    "InvalidInput",
    "NotFound",
    "WorkbenchError",
]
