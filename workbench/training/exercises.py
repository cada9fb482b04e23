"""The skills exercises: material made afresh for each trainee, an automatic check, and a hint that teaches.

Each exercise is pure: ``make(rng)`` builds the trainee's material (so neighbours cannot copy answers), ``check``
judges an answer against it and says what to look at next, and ``solve`` gives the model answer (shown to
trainers only). The disclosure exercises judge with the workbench's own rules (``workbench.disclosure``) and the
DP one with its own accuracy arithmetic, so training and practice never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench import disclosure as sdc
from workbench.dp.mechanisms import geometric_half_width

Check = tuple[bool, str]


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    skill: str  # the skills road map's area: analysis, linkage, disclosure control, privacy, output checking
    prompt: str
    make: Callable[[np.random.Generator], dict[str, Any]]
    check: Callable[[Any, dict[str, Any]], Check]
    solve: Callable[[dict[str, Any]], Any]


def _ids(answer: Any, field: str = "answer") -> set[str] | str:
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, list | tuple | set) or not all(isinstance(a, str) for a in answer):
        return f"Answer with a list of {field}, e.g. ['a', 'b']."
    return set(answer)


# -- catalogue-1: choose datasets ---------------------------------------------------------------------------------
GATEWAY = "nhs-act-2006-s251"


def _make_catalogue(rng: np.random.Generator) -> dict[str, Any]:
    good = {"missions": [5], "legal_gateways": [GATEWAY, "dea-2017-research"], "coverage": "2021-04-01 to 2026-03-31",
            "columns": ["episode_id", "la_code", "admission_date", "admission_method", "age_band"]}
    variants: list[tuple[str, dict[str, Any]]] = [
        ("Hospital admissions, all providers", {}),
        ("Hospital admissions, independent sector", {"legal_gateways": [GATEWAY], "missions": [1, 5]}),
        ("Emergency care attendances", {"coverage": "2025-01-01 to 2026-03-31"}),
        ("Admissions by trust (no area)", {"columns": ["trust_code", "admission_date", "admission_method"]}),
        ("Admissions survey for research", {"legal_gateways": ["dea-2017-research"]}),
        ("School census", {"missions": [4], "columns": ["upn", "la_code", "census_date"]}),
        ("Admissions 2010-2019 archive", {"coverage": "2010-04-01 to 2019-03-31"}),
    ]
    codes = rng.permutation(900)[: len(variants)] + 100
    rows = [{"id": f"ds.{code}", "title": title, **{**good, **change}}
            for code, (title, change) in zip(codes, variants, strict=True)]
    order = rng.permutation(len(rows))
    return {"entries": pd.DataFrame([rows[i] for i in order]),
            "question": f"A mission 5 project under the legal gateway {GATEWAY} counts emergency admissions by "
                        "local authority (la_code) in the calendar year 2024. Which entries can it use?"}


def _why_not(entry: dict[str, Any]) -> str | None:
    if 5 not in entry["missions"]:
        return "it does not serve mission 5"
    if GATEWAY not in entry["legal_gateways"]:
        return f"it is not shared under {GATEWAY}, the project's gateway"
    start, end = entry["coverage"].split(" to ")
    if not (start <= "2024-01-01" and end >= "2024-12-31"):
        return f"it covers {entry['coverage']}, not the whole of 2024"
    missing = {"la_code", "admission_method"} - set(entry["columns"])
    if missing:
        return f"it has no {', '.join(sorted(missing))} column"
    return None


def _solve_catalogue(material: dict[str, Any]) -> list[str]:
    return sorted(e["id"] for e in material["entries"].to_dict("records") if _why_not(e) is None)


def _check_catalogue(answer: Any, material: dict[str, Any]) -> Check:
    chosen = _ids(answer, "dataset ids")
    if isinstance(chosen, str):
        return False, chosen
    entries = {e["id"]: e for e in material["entries"].to_dict("records")}
    unknown = sorted(chosen - set(entries))
    if unknown:
        return False, f"{', '.join(unknown)} is not in the list of entries."
    for dataset_id in sorted(chosen):
        reason = _why_not(entries[dataset_id])
        if reason:
            return False, f"Not yet: {dataset_id} cannot be used: {reason}. Read each entry's missions, gateways, " \
                          "coverage and columns against the question."
    missed = sorted(set(_solve_catalogue(material)) - chosen)
    if missed:
        return False, f"Not yet: {len(missed)} more entr{'ies meet' if len(missed) > 1 else 'y meets'} every " \
                      "condition; check the ones with more than one gateway or mission."
    return True, "Correct: each chosen entry serves mission 5, is shared under the project's gateway, covers 2024 " \
                 "and has the area and admission method."


# -- access-1: ask for the fewest columns -------------------------------------------------------------------------
NEEDS = {"age_band": "by age band", "la_code": "by local authority", "admission_date": "per month",
         "admission_method": "emergency (the admission method)"}


def _make_access(rng: np.random.Generator) -> dict[str, Any]:
    columns = [("nhs_number", "direct_identifier", "NHS number"), ("surname", "direct_identifier", "Family name"),
               ("dob", "quasi_identifier", "Date of birth"), ("age_band", "quasi_identifier", "Age band"),
               ("sex", "quasi_identifier", "Sex"), ("la_code", "quasi_identifier", "Local authority of residence"),
               ("postcode", "direct_identifier", "Home postcode"), ("admission_date", "quasi_identifier", "Admitted"),
               ("admission_method", "sensitive", "Elective, emergency or other"),
               ("primary_diagnosis", "sensitive", "ICD-10 code"), ("length_of_stay", "sensitive", "Nights"),
               ("provider_code", "other", "Hospital trust")]
    order = rng.permutation(len(columns))
    schema = pd.DataFrame([columns[i] for i in order], columns=["name", "role", "description"])
    return {"schema": schema, "question": "Count emergency admissions by age band and local authority, per month. "
                                          "Which columns should the access request ask for?"}


def _check_access(answer: Any, material: dict[str, Any]) -> Check:
    chosen = _ids(answer, "column names")
    if isinstance(chosen, str):
        return False, chosen
    roles = dict(zip(material["schema"]["name"], material["schema"]["role"], strict=True))
    unknown = sorted(chosen - set(roles))
    if unknown:
        return False, f"{', '.join(unknown)} is not a column of this dataset."
    identifiers = sorted(c for c in chosen if roles[c] == "direct_identifier")
    if identifiers:
        return False, f"Not yet: {', '.join(identifiers)} identif{'y' if len(identifiers) > 1 else 'ies'} people " \
                      "directly and the counts do not need it; owners refuse such requests."
    missing = [need for column, need in NEEDS.items() if column not in chosen]
    if missing:
        return False, f"Not yet: the question needs a column for {missing[0]}."
    extra = sorted(chosen - set(NEEDS))
    if extra:
        return False, f"Not yet: the question does not use {', '.join(extra)}; ask only for what it needs " \
                      "(data minimisation), and the owner can approve sooner."
    return True, "Correct: the fewest columns that answer the question, and no identifier."


# -- linkage-1: choose a threshold --------------------------------------------------------------------------------
TARGET_PRECISION = 0.98


def _make_linkage(rng: np.random.Generator) -> dict[str, Any]:
    matches, others = int(rng.integers(700, 900)), int(rng.integers(2500, 3500))
    weights = np.concatenate([rng.normal(9, 3, matches), rng.normal(-7, 3.5, others)])
    truth = np.concatenate([np.ones(matches, bool), np.zeros(others, bool)])
    order = rng.permutation(len(weights))
    pairs = pd.DataFrame({"match_weight": np.round(weights[order], 2), "is_match": truth[order]})
    return {"pairs": pairs, "target_precision": TARGET_PRECISION,
            "question": f"From these scored candidate pairs with known truth, choose the lowest threshold (a match "
                        f"weight, to one decimal) at which precision is at least {TARGET_PRECISION}."}


def _precision_recall(pairs: Any, threshold: float) -> tuple[float, float]:
    chosen = pairs["match_weight"] >= threshold
    true = int((chosen & pairs["is_match"]).sum())
    precision = true / int(chosen.sum()) if chosen.any() else 1.0
    return precision, true / int(pairs["is_match"].sum())


def _solve_linkage(material: dict[str, Any]) -> float:
    for threshold in np.arange(-15.0, 25.0, 0.1):
        if _precision_recall(material["pairs"], round(float(threshold), 1))[0] >= TARGET_PRECISION:
            return round(float(threshold), 1)
    return 25.0


def _check_linkage(answer: Any, material: dict[str, Any]) -> Check:
    if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
        return False, "Answer with a number: the match weight at and above which pairs are taken as matches."
    precision, recall = _precision_recall(material["pairs"], float(answer))
    best = _solve_linkage(material)
    if precision < TARGET_PRECISION:
        return False, f"Not yet: at {answer:g} the precision is {precision:.3f}; raise the threshold. Sort the " \
                      "pairs by weight and compute precision = true matches / pairs above the threshold."
    lost = recall - _precision_recall(material["pairs"], best)[1]
    if answer > best + 0.5:
        return False, f"Not yet: precision is met ({precision:.3f}) but you give up {lost:.1%} of recall; a lower " \
                      "threshold still meets the target. Walk down the precision-recall curve."
    return True, f"Correct: precision {precision:.3f} with recall {recall:.3f} at {answer:g}."


# -- sdc-1: threshold; sdc-2: dominance; sdc-3: differencing ------------------------------------------------------
def _cells(table: Any, flags: Any) -> set[str]:
    return {f"{r} × {c}" for r in table.index for c in table.columns if bool(flags.loc[r, c])}


def _make_threshold(rng: np.random.Generator) -> dict[str, Any]:
    areas = [f"Area {a}" for a in "ABCD"]
    ages = ["16-24", "25-34", "35-49", "50-64", "65+"]
    counts = rng.integers(12, 200, (len(areas), len(ages)))
    for _ in range(int(rng.integers(2, 5))):
        counts[rng.integers(len(areas)), rng.integers(len(ages))] = int(rng.integers(1, 10))
    return {"table": pd.DataFrame(counts, index=pd.Index(areas, name="area"), columns=pd.Index(ages, name="age")),
            "threshold": 10, "question": "Which cells fail the threshold rule (fewer than 10 people)? Answer with "
                                         "labels like 'Area A × 16-24' (or 'Area A x 16-24')."}


def _solve_threshold(material: dict[str, Any]) -> list[str]:
    """The workbench's own threshold rule, run on the people the table counts."""
    table = material["table"]
    people = pd.DataFrame([(r, c) for r in table.index for c in table.columns for _ in range(int(table.loc[r, c]))],
                          columns=["row", "column"])
    settings = sdc.DisclosureSettings(mitigation="none", threshold=material["threshold"])
    output = sdc.crosstab(people["row"], people["column"], settings=settings)
    return sorted(_cells(output.table, output.flags["threshold"]))


def _label_key(label: str) -> str:
    """What a trainee means by a label, whatever the spacing, case, or "x" typed for "×"."""
    return "".join(label.casefold().replace("×", "x").split())


def _matched(chosen: set[str], valid: list[str]) -> set[str] | str:
    """The trainee's labels as the exercise spells them — or, for any label matching none, a message listing the
    valid ones (a label the check cannot read must never be judged as passing or failing the rule)."""
    spelled = {_label_key(label): label for label in valid}
    unknown = sorted(label for label in chosen if _label_key(label) not in spelled)
    if unknown:
        return (f"{', '.join(repr(u) for u in unknown)} is not a label of this exercise; use labels from this list "
                f"(spacing, case and x for × do not matter): {', '.join(valid)}.")
    return {spelled[_label_key(label)] for label in chosen}


def _check_cells(solve: Callable[[dict[str, Any]], list[str]], rule: str,
                 labels: Callable[[dict[str, Any]], list[str]]) -> Callable[[Any, dict[str, Any]], Check]:
    def check(answer: Any, material: dict[str, Any]) -> Check:
        given = _ids(answer, "cell labels")
        if isinstance(given, str):
            return False, given
        chosen = _matched(given, labels(material))
        if isinstance(chosen, str):
            return False, chosen
        right = set(solve(material))
        if chosen == right:
            return True, f"Correct: those {len(right)} cells fail the {rule}."
        if chosen - right:
            return False, f"Not yet: {sorted(chosen - right)[0]} passes the {rule}. " + RULE_HINTS[rule]
        return False, f"Not yet: {len(right - chosen)} more cell(s) fail the {rule}. " + RULE_HINTS[rule]
    return check


def _table_cells(material: dict[str, Any]) -> list[str]:
    table = material["table"]
    return [f"{r} × {c}" for r in table.index for c in table.columns]


def _sectors(material: dict[str, Any]) -> list[str]:
    return list(material["contributions"])


RULE_HINTS = {
    "threshold rule": "A cell fails when it counts fewer people than the threshold (zero is not counted here).",
    "dominance rule": "A cell fails when its two largest contributions make up more than 90% of its total.",
}


def _make_dominance(rng: np.random.Generator) -> dict[str, Any]:
    cells = {}
    sectors = ("Retail", "Manufacturing", "Transport", "Energy", "Finance", "Farming")
    dominated = set(rng.choice(sectors, size=int(rng.integers(2, 4)), replace=False))
    for sector in sectors:
        firms = rng.lognormal(3, 0.4, int(rng.integers(6, 10)))
        if sector in dominated:
            firms[0] = firms.sum() * float(rng.uniform(12, 30))  # one firm dwarfs the rest
        cells[sector] = [round(float(f), 1) for f in rng.permutation(firms)]
    return {"contributions": cells, "question": "Each sector's total turnover is to be published. Which sectors "
                                                "fail the dominance rule (2 largest firms > 90% of the total)?"}


def _solve_dominance(material: dict[str, Any]) -> list[str]:
    """The workbench's own dominance rule (2 largest > 90% by default), run on the firms' turnovers."""
    firms = pd.DataFrame([(sector, value) for sector, values in material["contributions"].items()
                          for value in values], columns=["sector", "turnover"])
    settings = sdc.DisclosureSettings(mitigation="none", threshold=1)
    output = sdc.crosstab(firms["sector"], pd.Series("turnover", index=firms.index), values=firms["turnover"],
                          aggfunc="sum", settings=settings)
    return sorted(str(r) for r in output.table.index if bool(output.flags["dominance"].loc[r].any()))


def _make_differencing(rng: np.random.Generator) -> dict[str, Any]:
    counts = rng.integers(15, 120, (3, 3))
    row, col = int(rng.integers(3)), int(rng.integers(3))
    counts[row, col] = int(rng.integers(1, 9))
    table = pd.DataFrame(counts, index=["North", "Midlands", "South"], columns=["Employed", "Unemployed", "Inactive"])
    shown = table.astype(object)
    shown.iloc[row, col] = "suppressed"
    shown["Total"] = table.sum(axis=1)
    return {"published": shown, "hidden": (table.index[row], table.columns[col]),
            "question": "One small cell was suppressed, but the row totals were published. What number was "
                        "suppressed?"}


def _solve_differencing(material: dict[str, Any]) -> int:
    row, _ = material["hidden"]
    published = material["published"].loc[row]
    return int(published["Total"] - sum(v for k, v in published.items() if k != "Total" and v != "suppressed"))


def _check_differencing(answer: Any, material: dict[str, Any]) -> Check:
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
        return False, "Answer with a whole number: the count that was suppressed."
    if int(answer) == _solve_differencing(material):
        return True, "Correct — and that is why suppressing one cell is not enough when totals are published: " \
                     "secondary suppression hides a second cell in the same row and column (the workbench does " \
                     "this for you)."
    return False, "Not yet: the row total is published; subtract the other cells of that row from it."


# -- dp-1: spending a budget ---------------------------------------------------------------------------------------
def _make_budget(rng: np.random.Generator) -> dict[str, Any]:
    budget = float(rng.choice([0.5, 1.0, 2.0]))
    tables = int(rng.choice([2, 4, 5]))
    return {"budget": budget, "tables": tables,
            "question": f"Your project has ε = {budget:g} for a dataset with one row per person. You need {tables} "
                        "count tables from it and split ε evenly. What is the 95% interval half-width of each cell "
                        "(a whole number of people)?"}


def _solve_budget(material: dict[str, Any]) -> int:
    return geometric_half_width(material["budget"] / material["tables"], 1)


def _check_budget(answer: Any, material: dict[str, Any]) -> Check:
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
        return False, "Answer with a whole number of people."
    right = _solve_budget(material)
    share = material["budget"] / material["tables"]
    if int(answer) == right:
        return True, f"Correct: ε = {share:g} each gives ±{right}. Fewer tables, or a larger budget, narrow it; " \
                     "project.dp.explore shows the trade-off without spending."
    return False, f"Not yet: each table gets ε = {share:g}. For counts the noise is two-sided Geometric with " \
                  f"α = e^(-ε); find the smallest t with 2α^(t+1)/(1+α) <= 0.05, or ask " \
                  f"project.dp.count(..., epsilon={share:g}, preview=True)."


# -- checker-1: review an output ---------------------------------------------------------------------------------
def _make_review(rng: np.random.Generator) -> dict[str, Any]:
    rows = []
    for region in ("North", "Midlands", "South"):
        for status in ("Employed", "Unemployed", "Inactive"):
            rows += [{"region": region, "status": status}] * int(rng.integers(20, 90))
    small = (["North", "Midlands", "South"][int(rng.integers(3))], "Unemployed")
    frame = pd.DataFrame(rows)
    keep = ~((frame["region"] == small[0]) & (frame["status"] == small[1]))
    extra = pd.DataFrame([{"region": small[0], "status": small[1]}] * int(rng.integers(2, 7)))
    frame = pd.concat([frame[keep], extra], ignore_index=True)
    output = sdc.crosstab(frame["region"], frame["status"], settings=sdc.DisclosureSettings(mitigation="none"))
    return {"table": output.table, "checks": output.summary(), "analyst_note": "Counts by region for a briefing.",
            "question": "You are the output checker. Decide 'approve' or 'return' and give your reason: "
                        "answer {'decision': ..., 'reason': ...}."}


def _solve_review(material: dict[str, Any]) -> dict[str, str]:
    return {"decision": "return", "reason": "A cell counts fewer than 10 people (threshold rule); suppress or "
                                            "combine categories before release."}


def _check_review(answer: Any, material: dict[str, Any]) -> Check:
    if not isinstance(answer, dict) or answer.get("decision") not in ("approve", "return"):
        return False, "Answer with {'decision': 'approve' or 'return', 'reason': '...'}."
    if answer["decision"] == "approve":
        return False, "Not yet: read the checks — " + material["checks"] + ". A table failing a rule with no " \
                      "exception requested goes back to the analyst."
    reason = str(answer.get("reason") or "").lower()
    if not any(word in reason for word in ("threshold", "small", "fewer", "10", "suppress")):
        return False, "Not yet: the decision is right, but the reason must tell the analyst what to change " \
                      "(which rule failed, and how to fix it)."
    return True, "Correct: returned with a reason the analyst can act on."


EXERCISES: dict[str, Exercise] = {e.id: e for e in (
    Exercise("catalogue-1", "Choose datasets from catalogue entries", "analysis",
             "Read the entries (missions, legal gateways, coverage, columns) and pick every one the project can use.",
             _make_catalogue, _check_catalogue, _solve_catalogue),
    Exercise("access-1", "Ask for the fewest columns", "information governance",
             "Choose the columns an access request needs for the question — no more, and no identifier.",
             _make_access, _check_access, lambda m: sorted(NEEDS)),
    Exercise("linkage-1", "Choose a match threshold from a precision-recall curve", "linkage",
             "Scored candidate pairs with their truth: choose the lowest threshold meeting the precision target.",
             _make_linkage, _check_linkage, _solve_linkage),
    Exercise("sdc-1", "Spot cells under the threshold", "disclosure control",
             "Find every cell of the table that counts fewer people than the threshold.",
             _make_threshold, _check_cells(_solve_threshold, "threshold rule", _table_cells), _solve_threshold),
    Exercise("sdc-2", "Spot dominated cells", "disclosure control",
             "Find every sector whose total is dominated by its two largest firms.",
             _make_dominance, _check_cells(_solve_dominance, "dominance rule", _sectors), _solve_dominance),
    Exercise("sdc-3", "Undo a suppression by differencing", "disclosure control",
             "Recover a suppressed cell from the published totals — and see why one suppression is not enough.",
             _make_differencing, _check_differencing, _solve_differencing),
    Exercise("dp-1", "Spend a privacy budget", "privacy",
             "Split ε over several tables and work out the accuracy each one gets.",
             _make_budget, _check_budget, _solve_budget),
    Exercise("checker-1", "Review an output as a checker", "output checking",
             "Read a table and its automatic checks, then approve it or return it with a reason the analyst can "
             "act on.", _make_review, _check_review, _solve_review),
)}
