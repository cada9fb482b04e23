"""Progress bars (tqdm) on the long stages: asked for, or by default where someone is watching."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from workbench.progress import watched

T = TypeVar("T")


def steps(items: Iterable[T], what: str, show: bool | None) -> Iterator[T]:
    """``items`` with a tqdm bar labelled ``what`` when ``show`` (None: when someone is watching, see
    ``workbench.progress``); plain iteration otherwise."""
    if show is None:
        show = watched()
    if not show:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=what, leave=False)
