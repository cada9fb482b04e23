"""Progress bars (tqdm) on the long stages, only when asked for."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def steps(items: Iterable[T], what: str, show: bool) -> Iterator[T]:
    """``items`` with a tqdm bar labelled ``what`` when ``show``; plain iteration otherwise."""
    if not show:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=what, leave=False)
