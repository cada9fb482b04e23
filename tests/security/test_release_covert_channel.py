"""Attack: a covert channel to release. A hostile analyst hides text in an output where the output checker's view
does not show it (a removed formula term carried in the command, the properties, labels, names, comments,
margins, the request's fields), gets the request approved and released, and reads the text out of the package.

Closed by ``workbench/outputs/released.py``: the package (results.json, manifest.json, files) and every checker's
view are made from the same released fields, so text reaches a package only if the checker was shown it; and by
the text screen (``workbench/outputs/checks.py`` ``text_problem``), which refuses identifier-like values
wherever the analyst's text enters a request. Run embedded and against a real ``workbench serve``."""

from __future__ import annotations

import contextlib
import json
from html import escape
from pathlib import Path

import pytest
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, PROJECT, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import DisclosureRisk, InvalidInput
from workbench.outputs.released import SPEC_KEYS

CONTEXT = {"shown": "Admissions by age band", "population": "Test patients, 2025",
           "purpose": "Evaluation report", "differences": "First release"}
# hidden texts that do not look like identifiers: they may leave, but only where the checker saw them
SECRETS = {
    "formula": "Jane Example lives on Mill Lane",
    "name": "Rory Example owes rent",
    "label": "Kim Example left hospital early",
    "margins": "Sam Example is a carer",
    "comment": "Ali Example moved to Leeds",
    "exception": "Max Example has two jobs",
    "title": "Lee Example visited twice",
    "context": "Pat Example was admitted in May",
}
NHS = "9434765919"


def package_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.iterdir()) if p.is_file())


def refused(ws, action: str) -> list:
    with ws._ctx.db.read() as conn:
        return list(conn.execute(select(audit_events).where((audit_events.c.action == action)
                                                            & (audit_events.c.outcome == "refused"))))


def test_hidden_text_leaves_only_where_the_checker_saw_it(kernel, desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    data["band"] = data["age_band"].astype(str).where(data["length_of_stay"] > 1, SECRETS["label"])
    outputs = [project.tables.crosstab(data, "band", "length_of_stay", name="by band", margins=True,
                                       margins_name=SECRETS["margins"])]
    # a formula term that is removed again never shows in the fitted table (a strict formula grammar, with no I()
    # and no string literals, refuses it outright)
    with contextlib.suppress(InvalidInput):
        outputs.append(project.tables.ols(data, f'cost ~ length_of_stay - I("{SECRETS["formula"]}")'))
    outputs.append(project.tables.crosstab(data, "age_band", "length_of_stay", name=f"by age ({SECRETS['name']})"))
    outputs[0].add_comment(SECRETS["comment"])
    outputs[0].request_exception(SECRETS["exception"])
    request = project.outputs.submit(outputs, title=f"Admissions: {SECRETS['title']}",
                                     context={**CONTEXT, "purpose": SECRETS["context"]})
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            kernel(checker).review.decide(request.id, output_id, "approve", "Checked")
    kernel(CHECKER3).review.conclude(request.id, "approve")
    shown = kernel(CHECKER3).review.show(request.id)
    view = json.dumps(dict(shown), default=str, ensure_ascii=False)
    html = shown._repr_html_()
    released = kernel(CHECKER3).review.release(request.id)
    package = package_text(Path(released["package"]))
    leaked = [key for key, secret in SECRETS.items() if secret in package and not (secret in view and secret in html)]
    assert leaked == [], f"left in the package without the checker seeing it: {leaked}"
    for key in ("label", "margins", "comment", "exception", "title", "context", "name"):
        assert SECRETS[key] in package  # the channels that are shown are released as shown
    manifest = json.loads((Path(released["package"]) / "manifest.json").read_text(encoding="utf-8"))
    for output, seen in zip(manifest["outputs"], shown["outputs"], strict=True):
        assert output["command"] == seen["released"]["command"] and escape(output["command"]) in html
        assert output["properties"] == seen["properties"]
        assert set(output["properties"]) <= {"method", *SPEC_KEYS[output["kind"]], "dp", "figure"}


def labelled(project, data):
    """A table whose labels carry an NHS number (recorded: the refusal comes when it is added to a request)."""
    marked = data.assign(band=data["age_band"].astype(str).where(data["length_of_stay"] > 1, f"ref {NHS}"))
    return project.tables.crosstab(marked, "band", "length_of_stay", name="by band")


def modelled(project, data):
    """A model whose formula carries an NHS number in a removed term (refused outright by a strict grammar)."""
    return project.tables.ols(data, f'cost ~ length_of_stay - I("{NHS}")', name="Cost model")


# channel → (what is made first, or None; the attempt, given it; the audit actions a refusal may be under)
ATTACKS = {
    "label": (labelled, lambda project, data, request, made: request.add(made), ("requests.update",)),
    "formula": (modelled, lambda project, data, request, made: request.add(made), ("requests.update",)),
    "name": (None, lambda project, data, request, made: project.tables.crosstab(
        data, "age_band", "length_of_stay", name=f"patient {NHS}"), ("outputs.create",)),
    "comment": (None, lambda project, data, request, made: project.outputs.get(1).add_comment(f"see {NHS}"),
                ("outputs.update",)),
    "title": (None, lambda project, data, request, made: request.update(title=f"Admissions {NHS}"),
              ("requests.update",)),
    "context": (None, lambda project, data, request, made: request.update(population=f"patient {NHS}"),
                ("requests.update",)),
}


@pytest.mark.parametrize("channel", list(ATTACKS))
def test_identifiers_hidden_in_any_channel_are_refused(kernel, desk, channel: str) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    project.tables.crosstab(data, "age_band", "length_of_stay", name="by age")
    request = project.output_requests.create("Admissions", context={"shown": "Admissions"})
    make, attempt, actions = ATTACKS[channel]
    admin = desk(ADMIN)
    made = None
    if make is not None:
        before = snapshot(admin)
        try:
            made = make(project, data)
        except InvalidInput as error:  # the formula grammar refuses it before anything is recorded
            assert NHS not in str(error) or "I(" in str(error)
            assert snapshot(admin) == before
            return
    before = snapshot(admin)
    with pytest.raises(DisclosureRisk) as error:
        attempt(project, data, request, made)
    assert "looks like an NHS number" in str(error.value)
    assert NHS not in str(error.value)  # the refusal names the field and masks the value
    assert snapshot(admin) == before  # nothing recorded, added or changed
    events = [e for action in actions for e in refused(admin, action)]
    assert events and events[-1].actor == ANALYST and NHS not in json.dumps(events[-1].detail)
