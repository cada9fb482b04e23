"""Blocking chosen from the data: rules that survive a wrong date of birth and a move together, the recall and pair
count of every candidate on the result, a spec's own rules kept as given, the pair budget, and both engines on
the chosen rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InvalidInput
from workbench.linkage import LinkageSpec, infer_spec, link
from workbench.linkage.blocking import choose_blocking, count_pairs, rule_keys
from workbench.linkage.spec import candidate_blocking
from workbench.linkage.standardise import prepare_fields

GIVEN = ["william", "robert", "richard", "james", "john", "thomas", "michael", "christopher", "daniel", "matthew",
         "andrew", "anthony", "samuel", "joseph", "peter", "edward", "david", "charles", "henry", "oliver",
         "elizabeth", "margaret", "patricia", "jennifer", "katherine", "rebecca", "victoria", "susan", "sarah",
         "emma", "laura", "hannah", "rachel", "amy", "lucy", "sophie", "chloe", "grace", "ella", "mia"]
NICK = {"william": "bill", "robert": "bob", "james": "jim", "thomas": "tom", "michael": "mike",
        "elizabeth": "liz", "margaret": "maggie", "katherine": "kate", "rebecca": "becky", "susan": "sue"}
SYLLABLES = ["ash", "brook", "cart", "dal", "ever", "fair", "gold", "har", "ing", "kel", "lang", "mor", "nor",
             "pen", "rad", "sel", "thorn", "wal", "wes", "york"]
ENDINGS = ["ton", "ley", "son", "wood", "field", "er", "man", "ford"]


def _typo(rng: np.random.Generator, text: str) -> str:
    i = int(rng.integers(0, max(len(text) - 1, 1)))
    return text[:i] + text[i + 1] + text[i] + text[i + 2:] if len(text) > 2 else text


def uk_people(persons: int = 1500, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Two extracts of one population: every person on the left, two thirds again on the right with name
    variants, date-of-birth errors and moves — some with a wrong date of birth *and* a new postcode."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], persons)
    given = rng.choice(GIVEN, persons)
    surname = [rng.choice(SYLLABLES) + rng.choice(ENDINGS) for _ in range(persons)]
    dob = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 23000, persons), unit="D")
    postcode = [f"{rng.choice(['LS', 'M', 'B', 'NE', 'CF'])}{rng.integers(1, 30)} {rng.integers(1, 10)}"
                f"{''.join(rng.choice(list('ABDEFGHJLNPQRSTUWXYZ'), 2))}" for _ in range(persons)]
    left = pd.DataFrame({"forename": given, "surname": surname, "dob": dob.strftime("%Y-%m-%d"), "sex": sex,
                         "postcode": postcode}, index=[f"L{i}" for i in range(persons)])
    people = rng.choice(persons, persons * 2 // 3, replace=False)
    right = left.iloc[people].copy()
    right.index = [f"R{i}" for i in range(len(right))]
    # slips drawn independently: a name variant, a wrong date of birth (half of them day and month read the
    # other way round), a move; a record may have several
    named, dated, moved = (rng.random(len(right)) < p for p in (0.15, 0.2, 0.25))
    transposed = dated & (rng.random(len(right)) < 0.5)
    kinds = {}
    for row in range(len(right)):
        if named[row]:
            name = right.iat[row, 0]
            right.iat[row, 0] = NICK.get(name, _typo(rng, name))
        day = pd.Timestamp(right.iat[row, 2])
        if transposed[row]:  # a day of month of 12 or less, read the other way round on the right
            first = int(rng.integers(1, 13))
            month = first % 12 + 1
            left.iat[people[row], 2] = f"{day.year:04d}-{month:02d}-{first:02d}"
            right.iat[row, 2] = f"{day.year:04d}-{first:02d}-{month:02d}"
        elif dated[row]:
            shifted = day + pd.Timedelta(days=int(rng.choice([-1, 1, 10, -10, 31])))
            right.iat[row, 2] = shifted.strftime("%Y-%m-%d")
        if moved[row]:
            right.iat[row, 4] = f"{rng.choice(['SW', 'EH', 'G', 'BS'])}{rng.integers(1, 30)} {rng.integers(1, 10)}AB"
        kinds[right.index[row]] = ("transposed" if transposed[row] else "dob" if dated[row] else "") + \
            ("+move" if moved[row] else "")
    right["surname"] = right["surname"].str.upper()
    truth = pd.DataFrame({"left_id": left.index[people], "right_id": right.index})
    return left, right, truth, kinds


@pytest.fixture(scope="module")
def people():
    return uk_people()


@pytest.fixture(scope="module")
def chosen(people):
    left, right, _, _ = people
    return link(left, right)


def test_chosen_rules_meet_records_whose_dob_and_postcode_both_differ(people, chosen) -> None:
    _left, _right, truth, kinds = people
    both_wrong = truth[[kinds[r] in ("dob+move", "transposed+move") for r in truth["right_id"]]]
    assert len(both_wrong) > 30
    ids = set(zip(*chosen._ids(), strict=True))
    met = [pair in ids for pair in zip(both_wrong["left_id"], both_wrong["right_id"], strict=True)]
    assert np.mean(met) >= 0.98
    # a chosen rule keys on neither the full date of birth nor the postcode
    assert any(all(key.partition(":")[0] not in ("postcode",) and key != "dob" for key in rule)
               for rule in chosen.spec.blocking), chosen.spec.blocking
    report = chosen.blocking
    assert {"rule", "pairs", "estimated_recall", "added_recall", "chosen"} <= set(report.columns)
    assert list(report.loc[report["chosen"], "rule"]) == [" + ".join(r) for r in chosen.spec.blocking]
    assert report.attrs["estimated_recall"] >= 0.99
    assert chosen.summary()["blocking_chosen_from_data"] is True
    assert chosen.evaluate(truth)["f1"] >= 0.97


def test_a_transposed_date_with_a_moved_postcode_is_found(people, chosen) -> None:
    left, right, truth, _ = people
    pair = left.iloc[[0]].copy(), left.iloc[[0]].copy()
    pair[0]["dob"], pair[1]["dob"] = "1975-04-09", "1975-09-04"
    pair[1]["postcode"] = "EH3 9ZZ"
    pair[1].index = ["extra"]
    matches = link(pd.concat([left, pair[0].set_axis(["target"])]), pd.concat([right, pair[1]])).matches
    assert ("target", "extra") in set(zip(matches["left_id"], matches["right_id"], strict=True))
    transposed = truth[[people[3][r] == "transposed+move" for r in truth["right_id"]]]
    assert len(transposed) > 10
    found = set(zip(chosen.matches["left_id"], chosen.matches["right_id"], strict=True))
    assert np.mean([p in found for p in zip(transposed["left_id"], transposed["right_id"], strict=True)]) >= 0.95


def test_a_specs_own_blocking_is_used_as_given(people) -> None:
    left, right, _, _ = people
    fields = infer_spec(left, right, choose=False).fields
    rules = (("postcode", "surname:initial"), ("dob",))
    result = link(left, right, LinkageSpec(fields=fields, blocking=rules))
    assert result.spec.blocking == rules
    assert result.summary()["blocking_chosen_from_data"] is False
    assert list(result.blocking["rule"]) == ["postcode + surname:initial", "dob"]
    as_dict = link(left, right, {"fields": [vars(f) for f in fields], "blocking": [list(r) for r in rules]})
    assert as_dict.spec.blocking == rules


def test_the_pair_budget_is_respected(people) -> None:
    left, right, _, _ = people
    spec = infer_spec(left, right, choose=False)
    prepared = prepare_fields(spec, left, right, dedupe=False)
    candidates = candidate_blocking(spec.fields)
    counts = dict(zip(candidates, count_pairs(spec, [rule_keys(r, prepared, False) for r in candidates], False),
                      strict=True))
    budget = sorted(counts.values())[len(counts) // 3] * 2
    small = LinkageSpec(fields=spec.fields, blocking=spec.blocking, max_pairs=budget)
    rules, report = choose_blocking(small, prepared, False, candidates)
    assert sum(counts[r] for r in rules) <= budget
    assert report.attrs["pair_budget"] == budget
    assert (report.loc[report["chosen"], "pairs"] <= budget).all()
    # no candidate fits: the refusal names the rules and how to fix it
    tiny = LinkageSpec(fields=spec.fields, blocking=spec.blocking, max_pairs=1)
    with pytest.raises(InvalidInput, match=r"over the limit of 1 .*raise max_pairs"):
        link(left, right, {**tiny.to_dict(), "blocking": []})


def test_inferred_spec_chooses_rules_from_the_frames(people, chosen) -> None:
    left, right, _, _ = people
    spec = infer_spec(left, right)
    assert spec.blocking == chosen.spec.blocking
    assert LinkageSpec.from_dict(spec.to_dict()) == spec


def test_both_engines_agree_on_the_chosen_rules(people, chosen) -> None:
    left, right, truth, _ = people
    splink = link(left, right, engine="splink")
    assert splink.spec.blocking == chosen.spec.blocking
    f1 = {"recordlinkage": chosen.evaluate(truth)["f1"], "splink": splink.evaluate(truth)["f1"]}
    assert abs(f1["recordlinkage"] - f1["splink"]) <= 0.005, f1
