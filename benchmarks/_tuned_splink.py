"""A tuned multi-level Splink pipeline as a Splink user would write it, the baseline the linkage benchmarks time
the workbench's default engine against: from the same raw frames, its own standardisation in DuckDB SQL (text
lower-cased with accents and punctuation off, postcodes upper-cased without spaces and cut into sector and
district, dates as eight digits and year/month/day, nickname groups and Soundex joined from lookup tables made
over distinct values), fixed blocking rules on precomputed key columns, the workbench's multi-level comparisons
written as Splink comparison levels (the Splink engine's own `_levels`), u by random sampling, EM on two training
rules, predict (only pairs of match weight >= -10, the ones one-to-one assignment considers), then a threshold and
one-to-one assignment on the predictions.

What it is given, fixed in advance as a tuned user's settings would be (not timed): the fields and their kinds,
the blocking rules (the ones the default engine chose from the data), the two EM training rules and the prior.
It does not pay for choosing blocking rules or for the workbench's standardisation.
"""

from __future__ import annotations

import gc
import logging
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

UK_POSTCODE = "^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{2}$"


def _text(column: str) -> str:
    """lower case, accents off, a hyphen a space, other punctuation dropped, spaces collapsed, '' as NULL."""
    return (f"nullif(trim(regexp_replace(regexp_replace(replace(lower(strip_accents(CAST({column} AS VARCHAR))), "
            f"'-', ' '), '[^0-9a-z ]+', '', 'g'), ' +', ' ', 'g')), '')")


def _value_sql(kind: str, column: str, is_datetime: bool) -> str:
    if kind == "date":
        if is_datetime:
            return f"strftime({column}, '%Y%m%d')"
        digits = f"regexp_replace(CAST({column} AS VARCHAR), '[^0-9]', '', 'g')"
        # day/month/year written the UK way: reorder to year first
        uk = f"regexp_matches(CAST({column} AS VARCHAR), '^[0-9]{{1,2}}[^0-9][0-9]{{1,2}}[^0-9][0-9]{{4}}$')"
        reordered = (f"right({digits}, 4) || lpad(split_part(regexp_replace(CAST({column} AS VARCHAR), '[^0-9]', "
                     f"'/', 'g'), '/', 2), 2, '0') || lpad(split_part(regexp_replace(CAST({column} AS VARCHAR), "
                     f"'[^0-9]', '/', 'g'), '/', 1), 2, '0')")
        return f"nullif(CASE WHEN {uk} THEN {reordered} ELSE {digits} END, '')"
    if kind == "postcode":
        code = f"upper(regexp_replace(CAST({column} AS VARCHAR), '[^0-9A-Za-z]', '', 'g'))"
        return f"nullif(regexp_replace({code}, '^(..+)O(..)$', '\\1' || '0' || '\\2'), '')"
    if kind == "identifier":
        return f"nullif(upper(regexp_replace(CAST({column} AS VARCHAR), '[^0-9A-Za-z]', '', 'g')), '')"
    if kind == "numeric":
        return f"nullif(trim(CAST({column} AS VARCHAR)), '')"
    return _text(column)


def _key_sql(name: str, transform: str) -> str:
    """SQL for a blocking key of the standardised table (``s``)."""
    v = f's."{name}__v"'
    if transform == "value":
        return v
    if transform == "initial":
        return f"left({v}, 1)"
    if transform == "first3":
        return f"left({v}, 3)"
    if transform == "soundex":
        return f'x_{name}.sdx'
    if transform == "year":
        return f"left({v}, 4)"
    if transform == "month_day":
        return f"substr({v}, 5, 4)"
    if transform == "year_month":
        return f"left({v}, 6)"
    if transform == "date_unordered":
        return (f"CASE WHEN length({v}) = 8 THEN left({v}, 4) || least(substr({v}, 5, 2), substr({v}, 7, 2)) || "
                f"greatest(substr({v}, 5, 2), substr({v}, 7, 2)) END")
    if transform in ("sector", "district"):
        return f's."{name}__{transform}"'
    raise ValueError(transform)


def settings_for(spec: Any, prepared: dict[str, Any]) -> dict[str, Any]:
    """The tuned user's fixed choices, read once from a workbench linkage (not timed): fields, blocking rules,
    EM training rules."""
    from workbench.linkage.engine_splink import _training_rules

    return {"fields": [(f.name, f.kind, f.left, f.right) for f in spec.fields], "blocking": list(spec.blocking),
            "training": _training_rules(spec, prepared), "spec": spec}


def tuned_splink(left: pd.DataFrame, right: pd.DataFrame, settings: dict[str, Any], *,
                 seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(left row numbers, right row numbers, match weights, accepted) of a Splink linkage of the raw frames."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator

    from workbench.linkage.engine_splink import _levels
    from workbench.linkage.nicknames import nickname_index
    from workbench.linkage.result import ASSIGNABLE_WEIGHT, choose_threshold, one_to_one

    spec = settings["spec"]
    fields = settings["fields"]
    con = duckdb.connect()
    for side, frame in (("l", left), ("r", right)):
        raw = frame.reset_index(drop=True)
        raw.insert(0, "unique_id", np.arange(len(raw), dtype=np.int64))
        con.register(f"raw_{side}", raw)
    nick = nickname_index()
    con.register("nicknames", pd.DataFrame({"name": list(nick), "grp": list(nick.values())}))
    keys = sorted({k for rule in settings["blocking"] for k in rule})
    soundex = sorted({k.partition(":")[0] for k in keys if k.endswith(":soundex")})
    for side in ("l", "r"):
        frame = left if side == "l" else right
        columns = ["unique_id"]
        for name, kind, lc, rc in fields:
            column = lc if side == "l" else rc
            dated = pd.api.types.is_datetime64_any_dtype(frame[column])
            columns.append(f'{_value_sql(kind, chr(34) + column + chr(34), dated)} AS "{name}__v"')
        con.execute(f"CREATE TEMP TABLE stage_{side} AS SELECT {', '.join(columns)} FROM raw_{side}")
        parts = []
        for name, kind, _, _ in fields:
            v = f'"{name}__v"'
            if kind == "given_name":
                parts.append(f'n_{name}.grp AS "{name}__grp"')
            elif kind == "date":
                for part, start, length in (("y", 1, 4), ("m", 5, 2), ("d", 7, 2)):
                    parts.append(f"CASE WHEN length({v}) = 8 THEN try_cast(substr({v}, {start}, {length}) AS INTEGER) "
                                 f'END AS "{name}__{part}"')
            elif kind == "postcode":
                uk = f"regexp_matches({v}, '{UK_POSTCODE}')"
                parts.append(f"CASE WHEN {uk} THEN regexp_extract({v}, '{UK_POSTCODE}', 1) || ' ' || "
                             f"regexp_extract({v}, '{UK_POSTCODE}', 2) ELSE left({v}, length({v}) - 1) END "
                             f'AS "{name}__sector"')
                parts.append(f"CASE WHEN {uk} THEN regexp_extract({v}, '{UK_POSTCODE}', 1) "
                             f'ELSE left({v}, length({v}) - 2) END AS "{name}__district"')
            elif kind == "numeric":
                parts.append(f'try_cast({v} AS DOUBLE) AS "{name}__num"')
        joins = " ".join(f'LEFT JOIN nicknames n_{name} ON n_{name}.name = split_part(s."{name}__v", \' \', 1)'
                         for name, kind, _, _ in fields if kind == "given_name")
        con.execute(f"CREATE TEMP TABLE part_{side} AS SELECT s.* {''.join(', ' + p for p in parts)} "
                    f"FROM stage_{side} s {joins}")
    # Soundex over the distinct values of both sides (DuckDB has none): a lookup table joined back
    import jellyfish

    for name in soundex:
        values = con.execute(f'SELECT DISTINCT "{name}__v" FROM part_l UNION SELECT DISTINCT "{name}__v" FROM part_r'
                             ).fetchnumpy()[f"{name}__v"]
        values = [v for v in values.tolist() if v is not None]
        con.register(f"sdx_{name}", pd.DataFrame({"v": values, "sdx": [jellyfish.soundex(v) or None for v in values]}))
    key_columns = {k: f"k_{i}" for i, k in enumerate(keys)}
    for side in ("l", "r"):
        select = ", ".join(f"{_key_sql(*(k.partition(':')[::2] if ':' in k else (k, 'value')))} AS {c}"
                           for k, c in key_columns.items())
        joins = " ".join(f'LEFT JOIN sdx_{name} x_{name} ON x_{name}.v = s."{name}__v"' for name in soundex)
        con.execute(f"CREATE TABLE std_{side} AS SELECT s.*, {select} FROM part_{side} s {joins}")
    blocking = [" AND ".join(f"l.{key_columns[k]} = r.{key_columns[k]}" for k in rule) for rule in settings["blocking"]]
    surname = next((name for name, kind, _, _ in fields if kind == "surname"), None)
    comparisons = [cl.CustomComparison(_levels(f, "duckdb", surname), output_column_name=f.name) for f in spec.fields]
    n_left, n_right = len(left), len(right)
    cross = n_left * n_right
    db_api = DuckDBAPI(connection=con)
    inputs = [db_api.register("std_l", table_name="wb_left"), db_api.register("std_r", table_name="wb_right")]
    creator = SettingsCreator(link_type="link_only", comparisons=comparisons,
                              blocking_rules_to_generate_predictions=blocking, retain_matching_columns=False,
                              retain_intermediate_calculation_columns=False,
                              probability_two_random_records_match=min(max(min(n_left, n_right) * 0.9 / cross, 1e-12),
                                                                       0.5))
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker = Linker(inputs, creator, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=min(2e6, cross), seed=seed)
    for rule in settings["training"]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    # pairs below this weight never take part in one-to-one assignment or the threshold: not fetched
    predictions = linker.inference.predict(threshold_match_weight=ASSIGNABLE_WEIGHT).as_pandas_dataframe()
    li = predictions["unique_id_l"].to_numpy(np.int64)
    ri = predictions["unique_id_r"].to_numpy(np.int64)
    swap = (predictions["source_dataset_l"] == "wb_right").to_numpy()
    li, ri = np.where(swap, ri, li), np.where(swap, li, ri)
    weight = predictions["match_weight"].to_numpy(float)
    probability = predictions["match_probability"].to_numpy(float)
    keep = one_to_one(li, ri, weight)
    threshold = choose_threshold(weight[keep], probability[keep])
    con.close()
    return li, ri, weight, keep & (weight >= threshold)


def interleaved(left: pd.DataFrame, right: pd.DataFrame, settings: dict[str, Any], repeats: int,
                **options: Any) -> None:
    """Time the default engine, the Splink engine and the tuned Splink pipeline warm, repeats interleaved, and
    print their medians and ratios (``options`` go to both engines' ``link``)."""
    from workbench.linkage.link import link

    gc.collect()
    ours, engine, tuned = [], [], []
    for _ in range(repeats):
        for times, run in ((ours, lambda: link(left, right, **options)),
                           (engine, lambda: link(left, right, engine="splink", **options)),
                           (tuned, lambda: tuned_splink(left, right, settings))):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
            gc.collect()
    mine = statistics.median(ours)
    print(f"warm medians of {repeats}, interleaved: default engine {mine:.2f} s, Splink engine "
          f"{statistics.median(engine):.2f} s, tuned Splink pipeline {statistics.median(tuned):.2f} s; "
          f"tuned Splink/default time {statistics.median(tuned) / mine:.1f}x, Splink engine/default "
          f"{statistics.median(engine) / mine:.1f}x (all: {', '.join(f'{t:.2f}' for t in ours)} / "
          f"{', '.join(f'{t:.2f}' for t in engine)} / {', '.join(f'{t:.2f}' for t in tuned)} s)")
