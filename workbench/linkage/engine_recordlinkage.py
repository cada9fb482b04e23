"""The default engine: recordlinkage's pipeline objects (``Index`` → ``Compare``) with the workbench's blocking
and multi-level comparisons plugged in as recordlinkage algorithms and features, then Fellegi–Sunter by EM.

recordlinkage's own block union and string features run per pair in Python; its extension points let the
workbench keep the pipeline (and the objects users know) while the work is done once per distinct value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.linkage.blocking import candidate_pairs
from workbench.linkage.compare import levels
from workbench.linkage.progress import steps

if TYPE_CHECKING:

    from workbench.linkage.spec import LinkageSpec
    from workbench.linkage.standardise import Prepared


def candidate_levels(spec: LinkageSpec, prepared: dict[str, Prepared], n_left: int, n_right: int, dedupe: bool,
                     progress: bool | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(left rows, right rows, level matrix, the rules each pair meets as bits, per-rule pair estimate) through
    recordlinkage's Index and Compare."""
    import recordlinkage
    from recordlinkage.base import BaseCompareFeature, BaseIndexAlgorithm


    estimate: list[int] = []
    rule_bits: list[np.ndarray] = []

    class UnionOfBlocks(BaseIndexAlgorithm):
        """Pairs agreeing on every key of at least one blocking rule."""

        def _link_index(self, df_a: pd.DataFrame, df_b: pd.DataFrame) -> pd.MultiIndex:
            li, ri, bits, counts = candidate_pairs(spec, prepared, dedupe=False, progress=progress)
            estimate.extend(counts)
            rule_bits.append(bits)
            return _pairs_index(li, ri, n_left, n_right)

        def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
            li, ri, bits, counts = candidate_pairs(spec, prepared, dedupe=True, progress=progress)
            estimate.extend(counts)
            rule_bits.append(bits)
            return _pairs_index(li, ri, n_left, n_left)

    class Levels(BaseCompareFeature):
        """A field's multi-level comparison, read from the records' row numbers."""

        def __init__(self, name: str) -> None:
            super().__init__("_row", "_row", label=name)
            self._prepared = prepared[name]

        def _compute_vectorized(self, rows_left: pd.Series, rows_right: pd.Series) -> np.ndarray:
            return levels(self._prepared, rows_left.to_numpy(), rows_right.to_numpy())

    rows_left = pd.DataFrame({"_row": np.arange(n_left, dtype=np.int64)})
    rows_right = rows_left if dedupe else pd.DataFrame({"_row": np.arange(n_right, dtype=np.int64)})
    indexer = recordlinkage.Index()
    indexer.add(UnionOfBlocks(verify_integrity=False))
    pairs = indexer.index(rows_left) if dedupe else indexer.index(rows_left, rows_right)
    class Compare(recordlinkage.Compare):
        """recordlinkage's Compare, given the pairs as the features' index directly: its own union sets them
        with ``set_index``, which builds the pairs' MultiIndex again (a factorisation of both levels)."""

        def _union(self, objs: Any, index: pd.MultiIndex | None = None, column_i: int = 0) -> pd.DataFrame:
            result = super()._union(objs, None, column_i)
            if index is not None:
                result.index = index
            return result

    compare = Compare(n_jobs=1)
    for name in prepared:
        compare.add(Levels(name))
    if len(pairs) == 0:
        matrix = np.empty((0, len(prepared)), dtype=np.int8)
    else:
        chunks = []
        size = 2_000_000
        for start in steps(range(0, len(pairs), size), "comparing", progress and len(pairs) > size):
            vectors = compare.compute(pairs[start:start + size], rows_left, None if dedupe else rows_right)
            chunks.append(vectors.to_numpy(dtype=np.int8))
        matrix = np.concatenate(chunks)
    li = pairs.get_level_values(0).to_numpy(np.int64)
    ri = pairs.get_level_values(1).to_numpy(np.int64)
    return li, ri, matrix, rule_bits[0], estimate


def _pairs_index(li: np.ndarray, ri: np.ndarray, n_left: int, n_right: int) -> pd.MultiIndex:
    """The pairs as recordlinkage's MultiIndex, built from the row numbers as its codes (no factorisation of
    the pairs' values, which ``MultiIndex.from_arrays`` would do)."""
    # plain integer levels: taking from a RangeIndex checks whether the result is a range again, per call
    levels = [pd.Index(np.arange(n, dtype=np.int64)) for n in (n_left, n_right)]
    return pd.MultiIndex(levels=levels, codes=[li, ri], names=["left", "right"], verify_integrity=False)
