"""``link(left, right=None, spec=None, engine=...)``: standardise, block, compare, estimate, score, decide.

The steps are the same whichever engine finds and compares the candidate pairs, so both engines give
comparable results from one spec: the threshold (a match weight, or the one that maximises the model's own
expected F1), one-to-one assignment for two tables, clusters for one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from workbench.linkage.result import LinkageResult
    from workbench.linkage.spec import LinkageSpec

ENGINES = ("recordlinkage", "splink", "splink-spark")


def _check_frame(frame: Any, side: str) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"{side}: give a pandas DataFrame, not {type(frame).__name__}.", field=side)
    if len(frame) == 0:
        raise InvalidInput(f"{side}: the DataFrame has no rows; there is nothing to link.", field=side)
    if len(frame.columns) == 0:
        raise InvalidInput(f"{side}: the DataFrame has no columns; there is nothing to compare.", field=side)
    if not frame.index.is_unique:
        repeated = frame.index[frame.index.duplicated()].unique()[:5].tolist()
        raise InvalidInput(f"{side}: the index (the record ids) repeats, e.g. {repeated}; every record needs its "
                           "own id: frame.reset_index(drop=True) numbers them, or set a unique id column with "
                           "frame.set_index(...).", field=side)
    return frame


def _check_spec_columns(spec: LinkageSpec, left: pd.DataFrame, right: pd.DataFrame) -> None:
    problems = []
    for f in spec.fields:
        if f.left not in left.columns:
            problems.append(f"left has no column {f.left!r} (field {f.name})")
        if f.right not in right.columns:
            problems.append(f"right has no column {f.right!r} (field {f.name})")
    if problems:
        raise InvalidInput(f"spec: {'; '.join(problems)}.", field="spec")


def _tf_adjustment(prepared: Any, li: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Extra weight for agreeing on a rare value (less for a common one), relative to the average agreement."""
    import numpy as np

    codes = np.concatenate([prepared.left, prepared.right])
    freq = np.bincount(codes[codes >= 0], minlength=len(prepared.uniques)).astype(float)
    freq /= max(freq.sum(), 1.0)
    top = level == len(prepared.field.levels)
    out = np.zeros(level.size)
    if not top.any():
        return out
    agreeing = freq[prepared.left[li[top]]]
    out[top] = -np.log2(agreeing / agreeing.mean())
    return out


def link(left: pd.DataFrame, right: pd.DataFrame | None = None, spec: LinkageSpec | dict | None = None,
         engine: str = "recordlinkage", *, threshold: float | None = None, progress: bool | None = None,
         seed: int = 1) -> LinkageResult:
    """Link ``left`` to ``right`` (or deduplicate ``left`` when ``right`` is None) under ``spec``.

    ``spec=None`` infers one from column names, with blocking rules chosen from the data (see
    ``blocking.choose_blocking``; ``result.blocking`` shows them); a spec's own rules are used as given.
    ``threshold`` (a match weight) overrides the spec's; by default the threshold maximises the model's expected
    F1. Record ids are the frames' index values.
    """
    import numpy as np

    from workbench.linkage.result import LinkageResult, choose_threshold, one_to_one
    from workbench.linkage.spec import check_spec, infer_spec
    from workbench.linkage.standardise import prepare_fields

    if engine not in ENGINES:
        raise InvalidInput(f"engine: {engine!r} is not one of {', '.join(ENGINES)}.", field="engine")
    left = _check_frame(left, "left")
    dedupe = right is None
    right_frame = left if dedupe else _check_frame(right, "right")
    # rules are chosen from the data unless the spec gives them
    choose = spec is None or (isinstance(spec, dict) and not spec.get("blocking"))
    chosen_report = None
    spec = infer_spec(left, None if dedupe else right_frame, choose=False) if spec is None else check_spec(spec)
    _check_spec_columns(spec, left, right_frame)
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise InvalidInput(f"threshold: give a match weight (a number), not {threshold!r}.", field="threshold")
    prepared = prepare_fields(spec, left, right_frame, dedupe, progress)
    if choose:
        from workbench.linkage.blocking import choose_blocking
        from workbench.linkage.spec import candidate_blocking

        rules, chosen_report = choose_blocking(spec, prepared, dedupe, candidate_blocking(spec.fields), seed=seed)
        spec = replace(spec, blocking=rules)
    if engine in ("splink", "splink-spark"):
        from workbench.linkage.engine_splink import run_splink
        from workbench.linkage.engine_splink_spark import run_splink_spark

        run = run_splink if engine == "splink" else run_splink_spark
        li, ri, matrix, weight, model, estimate = run(spec, prepared, left, right_frame, dedupe, progress=progress,
                                                      seed=seed)
    else:
        from workbench.linkage.blocking import blocked_fields
        from workbench.linkage.compare import random_u
        from workbench.linkage.engine_recordlinkage import candidate_levels
        from workbench.linkage.fellegi_sunter import estimate_by_rules, patterns, score

        li, ri, matrix, rule_bits, estimate = candidate_levels(spec, prepared, len(left), len(right_frame), dedupe,
                                                          progress)
        names = [f.name for f in spec.fields]
        rule_fields = [blocked_fields(r, names) for r in spec.blocking]
        population = len(left) * (len(left) - 1) / 2 if dedupe else len(left) * len(right_frame)
        u = random_u(prepared, len(left), len(right_frame), dedupe, seed=seed)
        counted = patterns(matrix)
        model = estimate_by_rules(matrix, rule_bits, rule_fields, u, population, names,
                                  [list(f.levels) for f in spec.fields], max_iterations=spec.max_iterations,
                                  matrix_patterns=counted)
        weight, _ = score(model, matrix, counted)
        for j, f in enumerate(spec.fields):
            if f.tf and len(weight):
                weight = weight + _tf_adjustment(prepared[f.name], li, matrix[:, j])
    probability = 1.0 / (1.0 + np.power(2.0, -weight)) if len(weight) else np.empty(0)
    keep = np.ones(len(li), dtype=bool)
    if not dedupe and spec.one_to_one:
        keep = one_to_one(li, ri, weight)
    chosen = threshold if threshold is not None else spec.threshold
    if chosen is None:
        chosen = choose_threshold(weight[keep], probability[keep])
    return LinkageResult(left=left, right=None if dedupe else right_frame, spec=spec, engine=engine, li=li, ri=ri,
                         levels=matrix, weight=weight, probability=probability, assigned=keep,
                         threshold=float(chosen), model=model, pair_estimate=estimate, chosen_blocking=chosen_report)


__all__ = ["ENGINES", "link"]
