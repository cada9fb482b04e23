"""The demo: a workspace holding a synthetic public sector (``workbench demo``), and its restricted truth.

``build_demo`` (``build.py``) is a client: it plays the world's people through the public API. ``DemoMaterial``
(``material.py``, ``ws.demo``) is the service that keeps the truth and answers who may read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.demo.material import DemoMaterial

if TYPE_CHECKING:
    from workbench.demo.build import build_demo


def __getattr__(name: str) -> Any:
    """``build_demo`` loads the builder (and the workspace it drives) on first use: the entry point of
    ``workbench demo``."""
    if name == "build_demo":
        from workbench.demo.build import build_demo

        return build_demo
    raise AttributeError(f"module 'workbench.demo' has no attribute {name!r}")


__all__ = ["DemoMaterial", "build_demo"]
