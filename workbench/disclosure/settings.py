"""The disclosure-control settings: which rules apply, their parameters, and how failing tables are mitigated.

The defaults are the conventional ones (threshold 10, dominance 2/90%, p% 10%, residual degrees of freedom 10).
A workspace admin may change them (``ws.disclosure.update_settings``); everyone may read them, so analysts know
the rules their outputs meet before they submit them. Pure Python, so reading settings imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from workbench.errors import InvalidInput

NEGATIVE_CHOICES = ("review", "fail")
MITIGATION_CHOICES = ("suppress", "round", "none")
# at base 2 nearest rounding (ties to even) gives 2 only from 2 and 6 only from 6: a published cell pins its count
MIN_ROUNDING_BASE = 3
MAX_ROUNDING_BASE = 1_000_000  # beyond this a rounded table says nothing; a base past 2**53 is not even exact


@dataclass(frozen=True)
class DisclosureSettings:
    """Rule parameters applied to every output (see docs/disclosure.md)."""

    threshold: int = 10
    """A cell with records, but fewer than this many, fails (in a table of values, fewer than this many with a
    value: a row whose value is missing adds nothing to the statistic)."""
    zeros: bool = True
    """Empty cells fail, in frequency and value tables alike (they reveal that no one has that combination)."""
    dominance_n: int = 2
    """Dominance (n, k) rule: the n largest contributions..."""
    dominance_k: float = 0.9
    """...may not make up this share (or more) of the cell total."""
    p_percent: float = 0.1
    """p% rule: what is left after the two largest contributions must be at least p × the largest."""
    negative: str = "review"
    """Cells with negative contributions (dominance undefined): 'review' (a checker looks) or 'fail'."""
    missing: bool = False
    """Flag cells with missing values for review."""
    dof: int = 10
    """Regressions need at least this many residual degrees of freedom."""
    mitigation: str = "suppress"
    """What a failing table becomes: 'suppress' (primary + secondary suppression), 'round', or 'none' (checks
    only: a failing output keeps status 'fail' and its table, for the checker to decide)."""
    rounding_base: int = 5
    """Base of rounding when mitigation is 'round' (2 to 1,000,000: a base of 1 rounds nothing)."""
    protection: float = 1.0
    """Secondary suppression leaves each suppressed cell an interval wider than protection × its value (besides
    the upper and lower protection levels its failing rules ask for)."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None = None, *, base: DisclosureSettings | None = None
                     ) -> DisclosureSettings:
        """Settings from ``values`` laid over ``base`` (default: the defaults); refuse unknown or bad fields."""
        values = dict(values or {})
        base = base or cls()
        known = {f.name for f in fields(cls)}
        problems: list[tuple[str, str]] = []
        for name in sorted(set(values) - known):
            problems.append((name, f"{name}: not a disclosure setting; known settings: {', '.join(sorted(known))}."))
        merged = {**asdict(base), **{k: v for k, v in values.items() if k in known}}
        for name in sorted(set(values) & known):
            problem = _check(name, merged[name])
            if problem:
                problems.append((name, f"{name}: {problem}"))
        if problems:
            message = " ".join(p for _, p in problems)
            raise InvalidInput(message, field=problems[0][0] if len(problems) == 1 else None, problems=problems)
        merged["dominance_k"] = float(merged["dominance_k"])
        merged["p_percent"] = float(merged["p_percent"])
        merged["protection"] = float(merged["protection"])
        return cls(**merged)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __post_init__(self) -> None:
        for f in fields(self):
            problem = _check(f.name, getattr(self, f.name))
            if problem:
                raise InvalidInput(f"{f.name}: {problem}", field=f.name)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN


def _check(name: str, value: Any) -> str | None:
    """What is wrong with one setting's value and how to fix it, or None."""
    if name == "rounding_base":
        if not _is_int(value) or not MIN_ROUNDING_BASE <= value <= MAX_ROUNDING_BASE:
            return (f"give a whole number from {MIN_ROUNDING_BASE} to {MAX_ROUNDING_BASE:,} (e.g. 5 or 10; a base of "
                    f"1 rounds nothing, and at 2 some rounded counts are exact), not {value!r}.")
    elif name in ("threshold", "dominance_n", "dof"):
        if not _is_int(value) or value < 1:
            return f"give a whole number of at least 1, not {value!r}."
    elif name in ("zeros", "missing"):
        if not isinstance(value, bool):
            return f"give True or False, not {value!r}."
    elif name == "dominance_k":
        if not _is_number(value) or not 0 < value <= 1:
            return f"give a share between 0 and 1 (e.g. 0.9 for 90%), not {value!r}."
    elif name == "p_percent":
        if not _is_number(value) or not 0 < value < 1:
            return f"give a fraction between 0 and 1 (e.g. 0.1 for 10%), not {value!r}."
    elif name == "protection":
        if not _is_number(value) or not 0 <= value <= 100:
            return f"give a multiple of the cell value between 0 and 100 (e.g. 1.0), not {value!r}."
    elif name == "negative":
        if value not in NEGATIVE_CHOICES:
            return f"give one of {', '.join(map(repr, NEGATIVE_CHOICES))}, not {value!r}."
    elif name == "mitigation" and value not in MITIGATION_CHOICES:
        return f"give one of {', '.join(map(repr, MITIGATION_CHOICES))}, not {value!r}."
    return None


def resolve(settings: DisclosureSettings | Mapping[str, Any] | None) -> DisclosureSettings:
    """The settings a standalone function uses: the given ones, a mapping of changes, or the defaults."""
    if settings is None:
        return DisclosureSettings()
    if isinstance(settings, DisclosureSettings):
        return settings
    if isinstance(settings, Mapping):
        return DisclosureSettings.from_mapping(settings)
    raise InvalidInput(f"settings: give DisclosureSettings (e.g. ws.disclosure.settings()) or None, not "
                       f"{type(settings).__name__}.", field="settings")


__all__ = ["MITIGATION_CHOICES", "NEGATIVE_CHOICES", "DisclosureSettings", "resolve"]
