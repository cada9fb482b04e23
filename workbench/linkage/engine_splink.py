"""The Splink engine (DuckDB): the same standardised values, blocking rules and comparison levels, written as
Splink settings, estimated with Splink's own training (u by random sampling, m by EM per training rule) and
scored by Splink. The settings are written for a SQL dialect, so the Spark engine (``engine_splink_spark``) runs
the same settings on Splink's Spark backend.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.linkage.blocking import count_pairs, refuse_none, refuse_too_many, rule_keys
from workbench.linkage.fellegi_sunter import Model

if TYPE_CHECKING:

    from workbench.linkage.spec import Field, LinkageSpec
    from workbench.linkage.standardise import Prepared


# what differs between the backends' SQL: identifier quotes and two string functions (Splink's Spark jar names
# Jaro-Winkler ``jaro_winkler``; Spark has no ``hamming``, and for equal lengths Levenshtein <= 1 is the same test)
DIALECTS: dict[str, dict[str, str]] = {
    "duckdb": {"quote": '"', "jaro_winkler": "jaro_winkler_similarity", "hamming": "hamming"},
    "spark": {"quote": "`", "jaro_winkler": "jaro_winkler", "hamming": "levenshtein"},
}


def _q(column: str, side: str, dialect: str = "duckdb") -> str:
    """A quoted identifier (``check_spec`` allows only letters, digits and '_' in field names; quotes inside are
    doubled all the same, so no name can end the identifier)."""
    quote = DIALECTS[dialect]["quote"]
    return quote + f"{column}_{side}".replace(quote, quote * 2) + quote


def _levels(f: Field, dialect: str = "duckdb", partner: str | None = None) -> list[dict[str, Any]]:
    """Splink comparison levels mirroring ``compare.levels`` for the field's kind (null first, else last);
    ``partner`` is the surname field a given name is checked against for names written the other way round."""
    sql = DIALECTS[dialect]
    jw, hamming = sql["jaro_winkler"], sql["hamming"]

    def sides(part: str) -> tuple[str, str]:
        return _q(f"{f.name}__{part}", "l", dialect), _q(f"{f.name}__{part}", "r", dialect)

    v = f"{f.name}__v"
    lv, rv = sides("v")
    out: list[dict[str, Any]] = [{"sql_condition": f"{lv} IS NULL OR {rv} IS NULL", "label_for_charts": "missing",
                                  "is_null_level": True}]
    exact: dict[str, Any] = {"sql_condition": f"{lv} = {rv}", "label_for_charts": "exact"}
    if f.tf:
        exact.update(tf_adjustment_column=v, tf_adjustment_weight=1.0)
    out.append(exact)
    if f.kind in ("given_name", "surname", "string"):
        if f.kind == "given_name":
            gl, gr = sides("grp")
            out.append({"sql_condition": f"{gl} = {gr}", "label_for_charts": "same name group"})
        out += [{"sql_condition": f"{jw}({lv}, {rv}) >= 0.92", "label_for_charts": "JW >= 0.92"},
                {"sql_condition": f"{jw}({lv}, {rv}) >= 0.8", "label_for_charts": "JW >= 0.80"}]
        if f.kind == "given_name":
            condition = "FALSE"
            if partner is not None:
                pl, pr = _q(f"{partner}__v", "l", dialect), _q(f"{partner}__v", "r", dialect)
                condition = f"{lv} = {pr} AND {pl} = {rv}"
            out.append({"sql_condition": condition, "label_for_charts": "given name and surname swapped"})
    elif f.kind == "identifier":
        out += [{"sql_condition": f"levenshtein({lv}, {rv}) <= 1", "label_for_charts": "Levenshtein <= 1"},
                {"sql_condition": f"levenshtein({lv}, {rv}) <= 2", "label_for_charts": "Levenshtein <= 2"}]
    elif f.kind == "date":
        (yl, yr), (ml, mr), (dl, dr) = sides("y"), sides("m"), sides("d")
        valid = f"{yl} >= 0 AND {yr} >= 0"
        out += [{"sql_condition": f"{valid} AND {yl} = {yr} AND {ml} = {dr} AND {dl} = {mr}",
                 "label_for_charts": "day/month transposed"},
                {"sql_condition": f"{valid} AND {ml} = {mr} AND {dl} = {dr} AND abs({yl} - {yr}) = 1",
                 "label_for_charts": "year off by one"},
                {"sql_condition": f"(CASE WHEN length({lv}) = length({rv}) THEN {hamming}({lv}, {rv}) ELSE 99 END) "
                                  "<= 1", "label_for_charts": "one digit differs"}]
    elif f.kind == "postcode":
        (sl, sr), (dl, dr) = sides("sector"), sides("district")
        out += [{"sql_condition": f"{sl} = {sr}", "label_for_charts": "same sector"},
                {"sql_condition": f"{dl} = {dr}", "label_for_charts": "same district"}]
    elif f.kind == "numeric":
        nl, nr = sides("num")
        out.append({"sql_condition": f"abs({nl} - {nr}) <= {float(f.tolerance)}",
                    "label_for_charts": "within tolerance"})
    out.append({"sql_condition": "ELSE", "label_for_charts": "none of these"})
    return out


def _frame(prepared: dict[str, Prepared], side: str, n: int, block_keys: list[np.ndarray]) -> pd.DataFrame:
    """What Splink sees: a row id, each field's standardised value and parts, and each blocking rule's key."""
    columns: dict[str, Any] = {"unique_id": np.arange(n, dtype=np.int64)}
    for name, p in prepared.items():
        codes = p.left if side == "left" else p.right
        present = codes >= 0
        safe = np.maximum(codes, 0)
        columns[f"{name}__v"] = pd.array(np.where(present, p.uniques[safe] if len(p.uniques) else None, None),
                                         dtype="string")
        if "group" in p.extra:
            group = p.extra["group"][safe]
            columns[f"{name}__grp"] = pd.array(np.where(present & (group >= 0), group, None), dtype="Int64")
        if "ymd" in p.extra:
            ymd = p.extra["ymd"][safe]
            for i, part in enumerate(("y", "m", "d")):
                columns[f"{name}__{part}"] = pd.array(np.where(present, ymd[:, i], None), dtype="Int64")
        for part in ("sector", "district"):
            if part in p.extra:
                columns[f"{name}__{part}"] = pd.array(np.where(present, p.extra[part][safe], None), dtype="Int64")
        if "number" in p.extra:
            columns[f"{name}__num"] = np.where(present, p.extra["number"][safe], np.nan)
    for i, keys in enumerate(block_keys):
        columns[f"block_{i}"] = pd.array(np.where(keys >= 0, keys, None), dtype="Int64")
    return pd.DataFrame(columns)


def _training_rules(spec: LinkageSpec, prepared: dict[str, Prepared], dialect: str = "duckdb",
                    dedupe: bool = False) -> list[str]:
    """Two exact-agreement rules on different fields, so every field's m is estimated by at least one. A rule no
    pair of records meets is left out (Splink's EM refuses it), e.g. NHS numbers among a dataset's distinct
    people; with neither left, m keeps Splink's defaults (EM on other rules' pairs, all of different people,
    would learn m from non-matches and accept some of them)."""
    ranked = sorted(spec.fields, key=lambda f: -len(prepared[f.name].uniques))
    rules = [[ranked[0].name]]
    if len(ranked) > 1:
        rules.append([f.name for f in ranked[1:3]])
    rules = [rule for rule in rules if _agreeing(rule, prepared, dedupe)]
    q = DIALECTS[dialect]["quote"]
    def ident(name: str) -> str:
        return q + f"{name}__v".replace(q, q * 2) + q
    return [" AND ".join(f"l.{ident(n)} = r.{ident(n)}" for n in rule) for rule in rules]


def _agreeing(names: list[str], prepared: dict[str, Prepared], dedupe: bool) -> bool:
    """Whether some pair of records agrees exactly on every field in ``names``."""
    left, right = rule_keys(tuple(names), prepared, dedupe)
    left = left[left >= 0]
    if dedupe:
        return bool(np.unique(left).size < left.size)
    return bool(np.isin(left, right[right >= 0]).any())


def _model(settings: dict[str, Any], spec: LinkageSpec, lam: float) -> Model:
    m, u = [], []
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        mm = [lv.get("m_probability") or 1e-9 for lv in reversed(levels)]  # else (0) first, exact last
        uu = [lv.get("u_probability") or 1e-9 for lv in reversed(levels)]
        m.append(np.asarray(mm, dtype=float))
        u.append(np.asarray(uu, dtype=float))
    return Model(fields=[f.name for f in spec.fields], level_names=[list(f.levels) for f in spec.fields], m=m, u=u,
                 lam=lam, iterations=0, converged=True)


def run_splink(spec: LinkageSpec, prepared: dict[str, Prepared], left: pd.DataFrame, right: pd.DataFrame,
               dedupe: bool, *, progress: bool | None = None, seed: int = 1, db_api: Any = None,
               dialect: str = "duckdb") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Model, list[int]]:
    """Candidate pairs, their level matrix, Splink's match weights, the model and the pair estimate.

    ``db_api`` is the Splink backend (DuckDB when None) and ``dialect`` the SQL its settings are written in.
    """
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator


    keys = [rule_keys(rule, prepared, dedupe) for rule in spec.blocking]
    estimate = count_pairs(spec, keys, dedupe)
    refuse_too_many(spec, estimate)
    refuse_none(estimate)
    n_left, n_right = len(left), len(right)
    frames = [_frame(prepared, "left", n_left, [k[0] for k in keys])]
    if not dedupe:
        frames.append(_frame(prepared, "right", n_right, [k[1] for k in keys]))
    surname = next((f.name for f in spec.fields if f.kind == "surname"), None)
    comparisons = [cl.CustomComparison(_levels(f, dialect, surname), output_column_name=f.name) for f in spec.fields]
    q = DIALECTS[dialect]["quote"]
    blocking = [f"l.{q}block_{i}{q} = r.{q}block_{i}{q}" for i in range(len(spec.blocking))]
    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI() if db_api is None else db_api
    # the run's own input names: a Spark session outlives the run and may hold another run's at the same time
    run = uuid.uuid4().hex[:12]
    inputs = [db_api.register(frame, dataset_display_name=name, table_name=f"{name}_{run}")
              for frame, name in zip(frames, ("wb_left", "wb_right"), strict=False)]
    # Splink's prior (the chance two random records match): most records of the smaller table are assumed to have
    # a match (5 % duplicates for one table); Splink's EM does not keep its own estimate of it
    expected = min(n_left, n_right) * 0.9 if not dedupe else max(n_left * 0.05, 1.0)
    cross = n_left * n_right if not dedupe else n_left * (n_left - 1) / 2
    settings = SettingsCreator(link_type="dedupe_only" if dedupe else "link_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=blocking, retain_matching_columns=False,
                               retain_intermediate_calculation_columns=True,
                               probability_two_random_records_match=min(max(expected / max(cross, 1), 1e-12), 0.5))
    linker = Linker(inputs if not dedupe else inputs[0], settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=min(2e6, max(cross, 1)), seed=seed)
    for rule in _training_rules(spec, prepared, dialect, dedupe):
        _train_m(linker, rule)
    predictions = linker.inference.predict().as_pandas_dataframe()
    li = predictions["unique_id_l"].to_numpy(np.int64)
    ri = predictions["unique_id_r"].to_numpy(np.int64)
    if not dedupe and "source_dataset_l" in predictions:
        swap = (predictions["source_dataset_l"] == "wb_right").to_numpy()
        li, ri = np.where(swap, ri, li), np.where(swap, li, ri)
    weight = predictions["match_weight"].to_numpy(float)
    model_settings = linker.misc.save_model_to_json()
    lam = float(model_settings.get("probability_two_random_records_match", 1e-4))
    model = _model(model_settings, spec, lam)
    matrix = np.empty((len(predictions), len(spec.fields)), dtype=np.int8)
    for j, (f, level_weights) in enumerate(zip(spec.fields, model.weights(), strict=True)):
        matrix[:, j] = _levels_from_weights(predictions[f"mw_{f.name}"].to_numpy(float), level_weights)
    if dialect == "spark":  # the session stays: drop the run's tables and the intermediates Spark holds for it
        db_api.delete_tables_created_by_splink_from_db()
        for table in inputs:
            db_api.delete_table_from_database(table.physical_name)
    return li, ri, matrix, weight, model, estimate


def _train_m(linker: Any, rule: str) -> None:
    """Splink's EM on one training rule. Splink 5 refuses an m it estimated below 1e-300 (a level the rule's pairs
    all but never reach) with a ValueError, after narrowing the linker's settings to the fields being trained:
    the settings are put back and m keeps what it had (the other rule's estimate, else Splink's default)."""
    saved = linker._settings_obj.core_model_settings.copy()
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    except ValueError as error:
        if "below the minimum allowed value" not in str(error):
            raise
        linker._settings_obj.core_model_settings = saved


def _levels_from_weights(weights: np.ndarray, level_weights: np.ndarray) -> np.ndarray:
    """Splink reports each comparison's match weight, not its level: the level is the one with that weight
    (a missing value weighs exactly 0)."""
    distance = np.abs(weights[:, None] - level_weights[None, :])
    level = distance.argmin(axis=1).astype(np.int8)
    missing = (np.abs(weights) < 1e-12) & (distance.min(axis=1) > 1e-9)
    level[missing] = -1
    return level
