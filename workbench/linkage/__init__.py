"""Record linkage: a declarative spec, three engines (recordlinkage, Splink on DuckDB, Splink on Spark), multi-level
Fellegi–Sunter by EM, quality with and without truth, and clerical review.

    from workbench import linkage
    result = linkage.link(left, right)        # spec inferred from column names
    result.matches                            # left_id, right_id, match_weight, match_probability

Governed linkage of catalogue datasets (identifiers stay inside the workbench) is ``project.link(...)``.
"""

from __future__ import annotations

from workbench.linkage.link import ENGINES, link
from workbench.linkage.spec import KINDS, LEVELS, Field, LinkageSpec, infer_spec

__all__ = ["ENGINES", "KINDS", "LEVELS", "Field", "LinkageSpec", "infer_spec", "link"]
