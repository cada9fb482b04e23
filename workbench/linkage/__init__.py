"""Record linkage: a declarative spec, three engines (recordlinkage, Splink on DuckDB, Splink on Spark), multi-level
Fellegi–Sunter by EM, quality with and without truth, and clerical review.

    from workbench import linkage
    result = linkage.link(left, right)        # spec inferred from column names
    result.matches                            # left_id, right_id, match_weight, match_probability

Governed linkage of catalogue datasets (identifiers stay inside the workbench) is ``project.link(...)``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from workbench.linkage import link as _engine
from workbench.linkage.spec import KINDS, LEVELS, Field, LinkageSpec, infer_spec

if TYPE_CHECKING:
    from workbench.widgets.linkage import NotebookLinkageResult

ENGINES = _engine.ENGINES


@functools.wraps(_engine.link)
def link(*args: Any, **options: Any) -> NotebookLinkageResult:
    # the library's entry point: the result gains its notebook views (.review(), .explore_threshold())
    from workbench.widgets.linkage import NotebookLinkageResult

    return NotebookLinkageResult.of(_engine.link(*args, **options))


__all__ = ["ENGINES", "KINDS", "LEVELS", "Field", "LinkageSpec", "infer_spec", "link"]
