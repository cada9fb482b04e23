"""A refusal in a notebook reads as one line, not a traceback through the workbench's own frames.

A ``WorkbenchError`` is the workbench saying no on purpose, and its message already says what was wrong and what
to do; the 40 lines of internal frames above it only hide that. ``wb.connect()`` installs an IPython handler for
``WorkbenchError`` alone: the cell fails (so "run all" still stops there) with the error's name and message and a
note that ``%tb`` shows the full traceback. Every other exception keeps IPython's usual traceback, because an
exception that is not a refusal is a bug and its frames are what matter.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from workbench import errors
from workbench.errors import WorkbenchError

DETAILS = "(%tb shows the full traceback.)"


def refusal_lines(error: BaseException) -> list[str]:
    """What a notebook shows for a refusal: its kind (the public class, not an internal subclass) and message on
    one line, then where the details are."""
    kind = next((k.__name__ for k in type(error).__mro__ if k.__name__ in errors.__all__), type(error).__name__)
    message = " ".join(str(error).split())
    return [f"{kind}: {message}" if message else kind, DETAILS]


def show_refusal(shell: Any, etype: type[BaseException], value: BaseException, tb: TracebackType | None,
                 tb_offset: int | None = None) -> list[str]:
    """IPython's custom exception handler for ``WorkbenchError``: show the short form, keep the traceback for
    ``%tb`` (IPython does not record it for exceptions a custom handler takes)."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    lines = refusal_lines(value)
    shell._showtraceback(etype, value, lines)  # the kernel sends it as the cell's error; a terminal prints it
    return lines


def install(shell: Any = None) -> bool:
    """Show ``WorkbenchError`` refusals briefly in the running IPython (or in ``shell``); True when the handler
    is in place. Outside IPython, or when the notebook already has its own custom handler, nothing changes;
    installing twice is the same as once."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported means not running under IPython
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    handled = tuple(getattr(shell, "custom_exceptions", ()))
    if handled == (WorkbenchError,):
        return True
    if handled:  # someone else's handler: theirs wins
        return False
    shell.set_custom_exc((WorkbenchError,), show_refusal)
    return True


__all__ = ["DETAILS", "install", "refusal_lines", "show_refusal"]
