"""The disclosure rules, each a vectorised test over per-cell statistics (True = the cell fails the rule).

Every rule also has a measure (the number the rule looked at: a count, a share, a ratio), kept for the cells that
fail so that ``Output.explain()`` can say why. Which rules apply depends on the aggregation: every table needs the
threshold and zeros rules (an empty cell of a mean table tells that nobody has that combination, as a 0 in a
frequency table does); magnitude tables (sums, means...) also need dominance, p% and all-values-same.

``ACRO_NAMES`` gives each rule's name in ACRO 1.0.2's ``results.json`` (its ontology's check names) and
``ACRO_04_NAMES`` in ACRO 0.4's; ``OUR_NAMES`` reads either back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workbench.disclosure.settings import DisclosureSettings
from workbench.disclosure.stats import CellStats

AGGFUNCS = ("count", "sum", "mean", "median", "min", "max", "std", "mode")
FREQUENCY = (None, "count")
MAGNITUDE = ("sum", "mean", "median", "min", "max", "std")
# relative spread under which a cell's values count as all the same (float noise, not a real difference)
SAME_TOLERANCE = 1e-9

# Rules a mitigation cannot repair: the output fails until the analyst changes it.
UNMITIGABLE = ("dof", "edges")
# ACRO 1.0.2's check names for the rules (its statbarn ontology), used in results.json; rules ACRO has no check
# for keep their own name. ACRO reports negative values under NKCheck and PPercentCheck (status review).
ACRO_NAMES = {"threshold": "MinimumThresholdCheck", "zeros": "PresenceOfZeroCheck", "dominance": "NKCheck",
              "p_percent": "PPercentCheck", "all_same": "AllSameValuesCheck", "missing": "MissingCheck",
              "dof": "MinimumDoFCheck", "negative": "negative", "edges": "edges"}
# ACRO 0.4's names (SACRO-Viewer 0.4), read back from older folders
ACRO_04_NAMES = {"threshold": "threshold", "zeros": "zeros", "dominance": "nk-rule", "p_percent": "p-ratio",
                 "all_same": "all-values-are-same", "negative": "negative", "missing": "missing", "dof": "dof",
                 "edges": "edges"}
OUR_NAMES = {acro: ours for names in (ACRO_04_NAMES, ACRO_NAMES) for ours, acro in names.items()}
# ACRO 1.0.2 checks that flag no cell: what it needs a person to consider (zeros policy, linked tables, statbarn)
ACRO_NOTES = ("RequiredZeroCheck", "PresenceOfLinkedTableCheck", "StatbarnDataCheck")


def contributors(stats: CellStats) -> np.ndarray:
    """What the threshold counts: the records of a frequency table; in a table of values the records with a value
    (as ACRO counts them), since a row whose value is missing adds nothing to a mean, sum, median or maximum: a
    cell of twelve records of which three have a value publishes a statistic of three people."""
    return stats.count if stats.n_valid is None else stats.n_valid


def threshold(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """Cells with records, but fewer than the threshold with a value (``contributors``)."""
    return (stats.count > 0) & (contributors(stats) < settings.threshold)


def zeros(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """Empty cells: they tell that no one in the group has the trait."""
    return stats.count == 0


def _dominance_defined(stats: CellStats) -> np.ndarray:
    return (stats.negatives == 0) & (stats.total > 0)


def dominance_share(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    top = stats.top[..., :settings.dominance_n].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(stats.total > 0, top / stats.total, np.nan)


def dominance(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """The n largest contributions make up k or more of the cell total (defined without negatives)."""
    top = stats.top[..., :settings.dominance_n].sum(axis=-1)
    return _dominance_defined(stats) & (top >= settings.dominance_k * stats.total)


def p_ratio(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    first, second = stats.top[..., 0], stats.top[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(first > 0, np.maximum(stats.total - first - second, 0) / first, np.nan)


def p_percent(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """What is left after the two largest contributions is less than p × the largest: the second-largest
    contributor could estimate the largest to within p%."""
    first, second = stats.top[..., 0], stats.top[..., 1]
    rest = stats.total - first - second
    return _dominance_defined(stats) & (first > 0) & (rest < settings.p_percent * first)


def all_same(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """Two or more values, all the same: the cell's mean (sum, median, min, max) gives away each contributor's
    value, and a standard deviation of 0 says that they are all equal."""
    same = (stats.n_valid >= 2) & _same(stats.smallest, stats.top[..., 0])
    if stats.row_range is not None:  # counting persons: one value on every row gives it away too
        same |= (stats.row_count >= 2) & _same(*stats.row_range)
    return same


def _same(smallest: np.ndarray, largest: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(largest), np.abs(smallest))
        return largest - smallest <= SAME_TOLERANCE * scale


def negative(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """Negative contributions make the dominance rules undefined: a person must look."""
    return stats.negatives > 0


def missing(stats: CellStats, settings: DisclosureSettings) -> np.ndarray:
    """Cells with missing values (optional rule)."""
    return stats.missing > 0


RULES: dict[str, tuple[Callable, Callable]] = {
    "threshold": (threshold, lambda s, _st: contributors(s).astype(float)),
    "zeros": (zeros, lambda s, _st: s.count.astype(float)),
    "dominance": (dominance, dominance_share),
    "p_percent": (p_percent, p_ratio),
    "all_same": (all_same, lambda s, _st: s.n_valid.astype(float)),
    "negative": (negative, lambda s, _st: s.negatives.astype(float)),
    "missing": (missing, lambda s, _st: s.missing.astype(float)),
}

DESCRIPTIONS = {
    "threshold": "cells with fewer than {threshold} records",
    "zeros": "empty cells (they reveal that no one has that combination)",
    "dominance": "cells where the {dominance_n} largest contributions are {dominance_k:.0%} or more of the total",
    "p_percent": "cells where the rest after the two largest contributions is under {p_percent:.0%} of the largest",
    "all_same": "cells whose contributions are all the same (the cell gives away each one)",
    "negative": "cells with negative contributions (dominance cannot be assessed; a checker must look)",
    "missing": "cells with missing values",
    "linked": "cells that, with other recorded tables of the same rows, let a suppressed cell be worked out",
    "dof": "a model with fewer than {dof} residual degrees of freedom",
    "edges": "outer bin edges that equal the smallest or largest value (to within a millionth of the range), "
             "disclosing it",
}


# how the rules speak of what they count: rows (each row a person) or persons (several rows may be one person)
PRIVACY_UNITS = ("row", "person")
_WORDS = {"row": {"records": "records", "contributions": "contributions"},
          "person": {"records": "persons", "contributions": "persons' contributions"}}


def _words(unit: str) -> dict[str, str]:
    return _WORDS.get(unit, _WORDS["row"])


def describe(rule: str, settings: DisclosureSettings, unit: str = "row") -> str:
    """What ``rule`` flags, in the output's privacy unit (``"person"``: the rules counted persons)."""
    if rule not in DESCRIPTIONS:  # a check another tool (ACRO) ran
        return f"cells flagged by {rule}"
    text = DESCRIPTIONS[rule].format(**settings.as_dict())
    if unit == "person":
        text = (text.replace("records", "persons").replace("largest contributions", "largest persons' contributions")
                .replace("negative contributions", "persons whose contributions sum to a negative"))
    return text


def reason(rule: str, measure: float, settings: DisclosureSettings, unit: str = "row", values: bool = False) -> str:
    """Why one cell fails ``rule``, with the number the rule looked at, in the output's privacy unit; ``values``:
    the table aggregates values (its threshold counted the records with a value)."""
    words = _words(unit)
    if rule != "edges" and measure != measure:  # NaN: no measure kept (a folder another tool wrote)
        return f"flagged by {rule}"
    if rule == "threshold" and values:
        return f"{measure:.0f} {words['records']} with a value, fewer than {settings.threshold}"
    if rule == "threshold":
        return f"{measure:.0f} {words['records']}, fewer than {settings.threshold}"
    if rule == "zeros":
        return f"no {words['records']}"
    if rule == "dominance":
        return (f"the {settings.dominance_n} largest {words['contributions']} are {measure:.1%} of the total "
                f"(limit {settings.dominance_k:.0%})")
    if rule == "p_percent":
        return (f"after the two largest {words['contributions']}, {measure:.1%} of the largest is left "
                f"(needs {settings.p_percent:.0%})")
    if rule == "all_same":
        return f"all {measure:.0f} {words['contributions']} are the same"
    if rule == "negative":
        if unit == "person":
            return f"{measure:.0f} persons whose contributions sum to a negative"
        return f"{measure:.0f} negative contributions"
    if rule == "missing":
        return f"{measure:.0f} missing values"
    if rule == "linked":
        return (f"adds up rows of {measure:.0f} suppressed cell{'s' if measure != 1 else ''} that linked tables "
                "give away")
    if rule == "dof":
        return f"{measure:.0f} residual degrees of freedom, fewer than {settings.dof}"
    if rule == "edges":
        return "an outer bin edge equals the smallest or largest value (to within a millionth of the range)"
    return rule


def applicable(aggfunc: str | None, has_values: bool, settings: DisclosureSettings) -> list[str]:
    """The rules that apply to a table aggregated with ``aggfunc``."""
    names = ["threshold"]
    if settings.zeros:
        names.append("zeros")
    if has_values and aggfunc in MAGNITUDE:
        names += ["dominance", "p_percent", "all_same", "negative"]
    if has_values and aggfunc == "mode":  # a mode everyone in the cell shares is each one's value
        names.append("all_same")
    if has_values and settings.missing and aggfunc is not None:
        names.append("missing")
    return names


def evaluate(stats: CellStats, aggfunc: str | None, settings: DisclosureSettings
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Flags and measures of every applicable rule, in the stats' shape."""
    flags, measures = {}, {}
    for name in applicable(aggfunc, stats.has_values, settings):
        test, measure = RULES[name]
        flags[name] = np.asarray(test(stats, settings), dtype=bool)
        measures[name] = np.asarray(measure(stats, settings), dtype=float)
    return flags, measures


def failing(settings: DisclosureSettings) -> set[str]:
    """Rules whose failure fails an output (the others send it to review)."""
    names = {"threshold", "zeros", "dominance", "p_percent", "all_same", *UNMITIGABLE}
    if settings.negative == "fail":
        names.add("negative")
    return names


__all__ = ["ACRO_04_NAMES", "ACRO_NAMES", "ACRO_NOTES", "AGGFUNCS", "DESCRIPTIONS", "OUR_NAMES", "PRIVACY_UNITS",
           "RULES", "all_same", "applicable", "describe", "dominance", "evaluate", "failing", "missing", "negative",
           "p_percent", "reason", "threshold", "zeros"]
