"""A numeric column's public bounds (``lowerBound``, ``upperBound``): valid only on numeric columns and in order,
kept through DCAT JSON-LD, and what a histogram by spec takes its range from."""

from __future__ import annotations

import pytest
from factories import admissions, record
from helpers import OWNER

from workbench.catalogue.dcat import from_jsonld, to_jsonld
from workbench.catalogue.model import MetadataInvalid, validate
from workbench.errors import InvalidInput, NotFound


def bounded(**bounds: object) -> dict:
    columns = record()["columns"]
    cost = next(c for c in columns if c["name"] == "cost")
    cost.update(bounds)
    return record(columns=columns)


def test_bounds_validate_as_numbers_and_survive_dcat() -> None:
    checked = validate(bounded(lowerBound=0, upperBound=100_000), "Dataset")
    cost = next(c for c in checked["columns"] if c["name"] == "cost")
    assert (cost["lowerBound"], cost["upperBound"]) == (0.0, 100_000.0)
    [back], _ = from_jsonld(to_jsonld([checked]))
    assert back == checked


@pytest.mark.parametrize(("bounds", "where", "message"), [
    ({"lowerBound": 10, "upperBound": 10}, "upperBound", "must be above"),
    ({"lowerBound": 100, "upperBound": 0}, "upperBound", "must be above"),
    ({"lowerBound": "zero"}, "lowerBound", "expected a finite number"),
    ({"upperBound": float("inf")}, "upperBound", "expected a finite number"),
    ({"lowerBound": True}, "lowerBound", "expected a finite number"),
])
def test_bad_bounds_are_refused(bounds, where, message) -> None:
    with pytest.raises(MetadataInvalid, match=message) as caught:
        validate(bounded(**bounds), "Dataset")
    assert where in caught.value.field


def test_only_numeric_columns_have_bounds() -> None:
    columns = record()["columns"]
    text = next(c for c in columns if c["type"] in ("string", "category"))
    text.update(lowerBound=0, upperBound=1)
    with pytest.raises(MetadataInvalid, match="only numeric columns have bounds"):
        validate(record(columns=columns), "Dataset")


def test_data_outside_the_declared_bounds_is_refused(staffed) -> None:
    owner = staffed(OWNER)
    data = admissions(50)
    with pytest.raises(InvalidInput, match=r"values of 'cost' lie outside its declared bounds"):
        owner.catalogue.register(bounded(lowerBound=0, upperBound=100), data)
    with pytest.raises(NotFound):
        owner.catalogue.get(bounded()["localId"])  # nothing registered
    entry = owner.catalogue.register(bounded(lowerBound=0), data)  # one bound is enough
    assert next(c for c in entry.record["columns"] if c["name"] == "cost")["lowerBound"] == 0.0
