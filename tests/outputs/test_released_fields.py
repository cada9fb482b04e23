"""What leaves is what the checker sees: a release package of every output kind holds no text that the output
checker's views (``ws.review.show``, its notebook HTML, the REST detail, the terminal) did not show; and the
analyst's free text is screened for identifier-like values wherever it enters an output request."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest
from checking import CONTEXT, record_table, submitted
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, OWNER, PROJECT, cli_runner, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import DisclosureRisk
from workbench.outputs.checks import identifier_in_text, text_problem
from workbench.outputs.release import MANIFEST, RESULTS, verify_package
from workbench.server.handlers import review_detail

# what a package adds itself, and so no checker saw before release: (document, path) — a path ending in "*" covers
# everything under it. Hashes and sizes of files, the names the package gives its files, the release's own time
# and releaser, the format and tool versions.
PACKAGE_ADDED = {
    (MANIFEST, "format"), (MANIFEST, "tool"), (MANIFEST, "files*"), (MANIFEST, "request.released_by"),
    (MANIFEST, "request.released_at"), (RESULTS, "version"), (RESULTS, "tool*"),
}


# the documents' own structure: keys that name parts of a package rather than carry anything an analyst wrote
STRUCTURE = {"request", "project", "datasets", "project_datasets", "reviews", "outputs", "results", "uid", "status",
             "type", "properties", "files", "name", "sdc", "summary", "cells", "outcome", "command", "timestamp",
             "comments", "exception", "fair"}


def strings(value, path="", keys=True):
    """(path, text) of every key and every text value inside a JSON document."""
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if keys and not (path in ("", "results.*") and key in STRUCTURE):
                yield where, str(key)
            yield from strings(inner, where if path != "results" else "results.*", keys)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner, path, keys)
    elif isinstance(value, str):
        yield path, value


def package_added(document: str, path: str) -> bool:
    return any(document == d and (path == p or (p.endswith("*") and path.startswith(p[:-1])))
               for d, p in PACKAGE_ADDED)


def every_kind(desk, tmp_path: Path):
    """A submitted request holding a table, a regression, a DP result, a figure and a custom file."""
    import plotly.graph_objects as go

    desk(OWNER).dp.set_budget(DATASET, 10.0)
    project = desk(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    table = record_table(desk)
    table.request_exception("Small cells are published counts (table 4 of the annual report)")
    table.add_comment("Length of stay is in nights")
    model = project.tables.ols(data, "cost ~ length_of_stay", name="Cost by length of stay")
    dp = project.dp.crosstab(DATASET, "age_band", epsilon=0.5, name="DP admissions by age band")
    safe = table.safe_table
    figure = project.outputs.figure(go.Figure(go.Heatmap(z=safe.to_numpy(), x=list(map(str, safe.columns)),
                                                         y=list(map(str, safe.index)))), table, name="Heatmap")
    notes = tmp_path / "method.md"
    notes.write_text("# Method\nCounts from the admissions table.\n")
    custom = project.outputs.add_file(notes, description="How the counts were made", derived_from=[DATASET])
    return project.outputs.submit([table, model, dp, figure, custom], title="Admissions, every kind",
                                  context=CONTEXT)


def approve(desk, request) -> None:
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            desk(checker).review.decide(request.id, output_id, "approve", "Safe: checked against the totals")
    desk(CHECKER3).review.conclude(request.id, "approve", "Two independent approvals")


def test_every_text_in_a_package_was_in_the_checkers_view(desk, tmp_path, monkeypatch, capsys) -> None:
    request = every_kind(desk, tmp_path)
    approve(desk, request)
    checker = desk(CHECKER3)
    shown = checker.review.show(request.id)  # the view of the checker who releases it, just before
    rest = json.loads(json.dumps(review_detail(checker, request.id), default=str))
    html = shown._repr_html_()
    run = cli_runner(desk, monkeypatch, capsys)
    code, terminal, _ = run(CHECKER3, "review", "show", str(request.id))
    assert code == 0
    assert [o["kind"] for o in rest["outputs"]] == ["table", "regression", "dp", "figure", "file"]
    viewed = {text for _, text in strings(rest)}
    folder = Path(checker.review.release(request.id)["package"])
    assert verify_package(folder) == []
    checked = 0
    for name in (MANIFEST, RESULTS):
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        for path, text in strings(document):
            if package_added(name, path):
                continue
            checked += 1
            assert text in viewed, f"{name} {path}: {text!r} was not in the checker's view"
            shown_as = escape(json.dumps(text, ensure_ascii=False)[1:-1])
            assert shown_as in html, f"{name} {path}: {text!r} is not in the notebook view"
            assert json.dumps(text, ensure_ascii=False)[1:-1] in terminal, f"{name} {path}: not in the terminal"
    assert checked > 200
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for output, view in zip(manifest["outputs"], rest["outputs"], strict=True):
        released = view["released"]
        assert {k: v for k, v in output.items() if k != "table"} == {k: v for k, v in released.items()
                                                                     if k != "table"}
        for file_name in output["files"]:  # each file is what the checker was shown: the CSV, or its hash
            content = (folder / file_name).read_bytes()
            if released["table"] and file_name == released["table"]["file"]:
                assert content.decode("utf-8") == released["table"]["csv"]
                assert escape(released["table"]["csv"].splitlines()[1]) in html
            else:
                listed = next(a for a in released["attachments"] if a["file"] == file_name)
                assert manifest["files"][file_name]["sha256"] == listed["sha256"]
    assert "Counts from the admissions table." in html  # the custom file itself is previewed
    regression = manifest["outputs"][1]
    assert regression["properties"]["formula"] == "cost ~ length_of_stay" and regression["command"]
    assert rest["outputs"][1]["properties"] == regression["properties"]
    assert manifest["request"]["context"] == CONTEXT and rest["released"]["request"]["context"] == CONTEXT
    results = json.loads((folder / RESULTS).read_text(encoding="utf-8"))["results"]
    assert set(results[regression["uid"]]) == {"uid", "status", "type", "properties", "files", "outcome", "command",
                                               "summary", "timestamp", "comments", "exception",
                                               "fair"}  # ACRO 1.0.2's record


def test_properties_outside_the_released_fields_never_leave(desk) -> None:
    """Text in an output's properties that no released field carries stays in the workspace, whatever its key."""
    from workbench.outputs.released import free_text, released_output

    output = record_table(desk)
    hidden = "Jane Example of Mill Lane"
    output.properties.update(note=hidden, formula=hidden, dp={"epsilon": hidden}, figure={"traces": hidden})
    item = {"output_id": 1, "name": "by age and stay", "created_by": ANALYST, "created_at": None,
            "derived_from": [DATASET], "sources": [DATASET], "checksum": "0" * 64}
    released = released_output(output, item, f"{PROJECT}_output_1", {})
    assert hidden not in json.dumps(released)
    assert hidden not in json.dumps(free_text(output, "by age and stay", [DATASET]))


@pytest.mark.parametrize(("text", "what"), [
    ("patient 9434765919", "NHS number"), ("patient 943 476 5919", "NHS number"),
    ("NI AB 12 34 56 C", "National Insurance"), ("lives at SW1A 1AA", "postcode"),
    ("id 1a2b3c4d5e6f7a8b9c0d", "pseudonym"), ("record 12345678", "more than 6 digits"),
    ("hidden 943\u200b476\u200b5919", "NHS number"), ("full-width １２３４５６７８", "more than 6 digits"),
])
def test_identifier_like_values_are_found(text: str, what: str) -> None:
    problem = text_problem("title", text, 6)
    assert problem is not None and problem.startswith("title: ") and what in problem
    found = identifier_in_text(text, 6)[1]
    assert found not in problem or len(found) <= 3  # masked: messages and the audit log do not repeat it


@pytest.mark.parametrize("text", ["Inactivity by region, 2025", "Ages 16-64, Q1 2025", "E06000002 to E06000009",
                                  "1,250,000 admissions", "Table S1 1st row", "dp q0.5 of cost (ε=0.5)",
                                  "cost ~ length_of_stay + C(age_band)", "School 123456"])
def test_ordinary_text_passes(text: str) -> None:
    assert identifier_in_text(text, 6) is None


def refusals_of(ws, action: str) -> list[dict]:
    with ws._ctx.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == "refused")))]


NHS = "9434765919"


def _entry_points(desk):
    """name → (what to call, the audit action of its refusal, the field the message names)."""
    project = desk(ANALYST).project(PROJECT)
    table = record_table(desk)
    draft = project.output_requests.create("Admissions", context={"shown": "Admissions"})
    data = project.load(DATASET)
    data["band"] = data["age_band"].astype(str).where(data["length_of_stay"] > 2, f"ref {NHS}")
    labelled = project.tables.crosstab(data, "band", "length_of_stay", name="by band")
    return {
        "title": (lambda: project.output_requests.create(f"Admissions {NHS}", context=CONTEXT),
                  "requests.create", "title"),
        "title update": (lambda: draft.update(title=f"Admissions {NHS}"), "requests.update", "title"),
        "context": (lambda: project.output_requests.create("Admissions", context={**CONTEXT, "population":
                                                                                  f"patient {NHS}"}),
                    "requests.create", "context population"),
        "context update": (lambda: draft.update(purpose=f"for {NHS}"), "requests.update", "context purpose"),
        "comment": (lambda: table.add_comment(f"see {NHS}"), "outputs.update", "comment"),
        "exception": (lambda: table.request_exception(f"safe for {NHS}"), "outputs.update", "exception request"),
        "output name": (lambda: project.tables.crosstab(data, "age_band", "length_of_stay", name=f"by {NHS}"),
                        "outputs.create", "name"),
        "dp output name": (lambda: project.dp.crosstab(DATASET, "age_band", epsilon=0.5, name=f"dp {NHS}"),
                           "dp.query", "name"),
        "table labels": (lambda: draft.add(labelled), "requests.update", "row label"),
    }


ENTRY_POINTS = ["title", "title update", "context", "context update", "comment", "exception", "output name",
                "dp output name", "table labels"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_each_entry_point_refuses_an_identifier(desk, entry: str) -> None:
    desk(OWNER).dp.set_budget(DATASET, 10.0)
    call, action, field = _entry_points(desk)[entry]
    admin = desk(ADMIN)
    before = snapshot(admin)
    with pytest.raises(DisclosureRisk) as refused:
        call()
    message = str(refused.value)
    assert f"{field}: " in message and "looks like an NHS number" in message and NHS not in message
    assert snapshot(admin) == before  # nothing written (no budget spent, no output, no change)
    audited = refusals_of(admin, action)
    assert audited and audited[-1]["actor"] == ANALYST and "NHS number" in json.dumps(audited[-1]["detail"])
    assert NHS not in json.dumps(audited[-1]["detail"])


def test_a_checkers_comment_is_screened_too(desk) -> None:
    request = submitted(desk)
    before = snapshot(desk(ADMIN))
    with pytest.raises(DisclosureRisk, match="comment: '943… \\(10 characters\\)' looks like an NHS number"):
        desk(CHECKER).review.decide(request.id, request.outputs[0], "approve", f"Matches {NHS}")
    assert snapshot(desk(ADMIN)) == before and refusals_of(desk(ADMIN), "review.decide")


def test_submission_and_release_screen_again_with_the_settings_in_force(desk) -> None:
    project = desk(ANALYST).project(PROJECT)
    table = record_table(desk, name="Admissions 2024-2025 by 100000 band")  # 6 digits: passes by default
    request = project.outputs.submit([table], title="Admissions", context=CONTEXT)
    approve(desk, request)
    desk(ADMIN).review.update_settings(max_digits_in_text=5)
    shown = desk(CHECKER3).review.show(request.id)
    assert re.search("name: '100… \\(6 characters\\)' looks like a record number", shown["outputs"][0]["text_check"][0])
    assert "Text screening:" in shown._repr_html_()
    before = snapshot(desk(ADMIN))
    with pytest.raises(DisclosureRisk, match="Not released: output 'Admissions 2024-2025 by 100000 band': name"):
        desk(CHECKER3).review.release(request.id)
    assert snapshot(desk(ADMIN)) == before and refusals_of(desk(ADMIN), "review.release")
    assert not (desk(ADMIN).home / "releases" / PROJECT / f"request-{request.id}").exists()
    desk(ADMIN).review.update_settings(max_digits_in_text=6)
    assert desk(CHECKER3).review.release(request.id)["status"] == "released"


def test_what_a_figure_draws_is_shown_and_screened(desk) -> None:
    """A figure's HTML may carry text no table shows (a hidden trace, hover text): the checker reads it all as
    the figure's data, and an identifier in it is refused."""
    import plotly.graph_objects as go

    project = desk(ANALYST).project(PROJECT)
    table = record_table(desk)
    hidden = "Jane Example, Mill Lane"
    fig = go.Figure([go.Bar(x=["a", "b"], y=[1, 2]), go.Bar(x=["c"], y=[3], visible=False, hovertext=[hidden])])
    figure = project.outputs.figure(fig, table, name="Bars")
    request = project.outputs.submit([figure], title="A figure", context=CONTEXT)
    shown = desk(CHECKER).review.show(request.id)
    (html_file,) = [a for a in shown["outputs"][0]["released"]["attachments"] if a["name"] == "figure.html"]
    assert hidden in json.dumps(html_file["figure"], ensure_ascii=False) and escape(hidden) in shown._repr_html_()
    marked = go.Figure([go.Bar(x=["a"], y=[1]), go.Bar(x=["c"], y=[3], visible=False, hovertext=[f"id {NHS}"])])
    smuggler = project.outputs.figure(marked, table, name="More bars")
    draft = project.output_requests.create("Figures", context=CONTEXT)
    before = snapshot(desk(ADMIN))
    with pytest.raises(DisclosureRisk, match=r"output 'More bars': figure.data.hovertext: '943… \(10 characters\)'"):
        draft.add(smuggler)
    assert snapshot(desk(ADMIN)) == before and refusals_of(desk(ADMIN), "requests.update")


def test_numeric_labels_are_read_by_their_whole_part() -> None:
    """Bin edges made from data pass; a whole number used as a label is read in full."""
    import pandas as pd

    from workbench.outputs.released import table_texts

    bins = pd.DataFrame({"n": [12, 15]}, index=pd.IntervalIndex.from_breaks([0.0, 977.4523456789, 1954.21]))
    assert [(f, t) for f, t in table_texts(bins)] == [("row label", "0 to 977"), ("row label", "977 to 1954"),
                                                      ("column label", "n")]
    assert all(text_problem(f, t, 6) is None for f, t in table_texts(bins))
    people = pd.DataFrame({"n": [1, 1]}, index=pd.Index([9434765919, 9434765920], name="ref"))
    assert [f for f, t in table_texts(people) if text_problem(f, t, 6)] == ["row label", "row label"]
