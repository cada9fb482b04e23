"""Progress bars for long operations (loads, linkage stages, the demo build), notebook-aware through tqdm.auto.

Shown where someone is watching — in a Jupyter kernel (as a widget) or on a terminal — and when the work is big
enough to wait for; ``WORKBENCH_PROGRESS=always`` or ``never`` overrides (tests and batch jobs).
"""

from __future__ import annotations

import os
import sys
from typing import Any

SETTING = "WORKBENCH_PROGRESS"


def _watched() -> bool:
    choice = os.environ.get(SETTING, "").lower()
    if choice in ("always", "never"):
        return choice == "always"
    try:
        from IPython import get_ipython

        if get_ipython() is not None and type(get_ipython()).__name__ == "ZMQInteractiveShell":
            return True
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        pass
    return sys.stderr.isatty()


def bar(total: int | None, description: str, *, unit: str = "step", worth_showing: bool = True) -> Any:
    """A tqdm bar (``.update(n)``, ``.set_postfix_str(...)``, a context manager); inert when nobody watches or the
    work is small (``worth_showing=False``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit=unit, disable=not (worth_showing and _watched()),
                leave=False, dynamic_ncols=True)
