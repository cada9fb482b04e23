"""The notebook review widget, driven headlessly through its widget models."""

from __future__ import annotations

from checking import submitted
from helpers import CHECKER, CHECKER2, CHECKER3


def test_review_widget_from_queue_to_release(desk) -> None:
    request = submitted(desk)
    output_id = request.outputs[0]
    widget = desk(CHECKER).review.widget()
    assert [value for _label, value in widget.queue.options] == [request.id]
    widget.queue.value = request.id
    assert "Admissions" in widget.header.value and widget.request_id == request.id
    panel = widget.panels[output_id]
    assert "outline:1px solid" in panel.html.value and "min excluding zero" in panel.html.value
    panel.decision.value = "changes"
    panel.button.click()
    assert "what to change" in widget.message.value  # a refusal is a message, nothing recorded
    panel.decision.value, panel.comment.value = "approve", "Safe after suppression"
    panel.button.click()
    assert "partially reviewed" in widget.message.value
    assert widget.panels[output_id].button.disabled  # reviewed once
    assert widget.conclude_buttons["approve"].disabled and widget.release.disabled

    second = desk(CHECKER2).review.widget()
    second.queue.value = request.id
    assert "hidden until all are in" in second.panels[output_id].html.value
    second.panels[output_id].button.click()
    assert "the request is reviewed" in second.message.value

    third = desk(CHECKER3).review.widget()
    third.queue.value = request.id
    assert not third.conclude_buttons["approve"].disabled
    third.conclude_buttons["reject"].click()
    assert "say why the request is rejected" in third.message.value
    third.conclude_buttons["approve"].click()
    assert "is approved" in third.message.value and not third.release.disabled
    third.release.click()
    assert "Released to" in third.message.value and f"request-{request.id}" in third.message.value
    assert third.queue.options == ()  # released requests leave the queue
    assert "application/vnd.jupyter.widget-view+json" in third._repr_mimebundle_()


def test_review_widget_speaks_in_labels_not_codes(desk) -> None:
    request = submitted(desk)
    widget = desk(CHECKER).review.widget()
    (label, _value), = widget.queue.options
    assert "Submitted" in label and "0 of 2 reviews in" in label and "_" not in label.split(":", 1)[1]
    widget.queue.value = request.id
    panel = widget.panels[request.outputs[0]]
    assert [text for text, _ in panel.decision.options] == ["Approve", "Changes needed", "Reject"]
    panel.decision.value, panel.comment.value = "approve", "Safe after suppression"
    panel.button.click()
    assert "review (approve)" in widget.message.value and "partially_reviewed" not in widget.message.value
    assert "partially reviewed" in widget.header.value


def test_review_widget_says_what_a_dash_means(desk) -> None:
    """A cell the released file leaves empty shows as "–", and the key under the table says so, as the lab's
    checker panel does; cells mitigation changed and suppressed cells in the full counts are keyed too."""
    request = submitted(desk)
    widget = desk(CHECKER).review.widget()
    widget.queue.value = request.id
    html = widget.panels[request.outputs[0]].html.value
    released = html[html.index("As it will be released"):html.index("Unmitigated, as checked")]
    assert "<td class='wb-blank'" in released and ">–</td>" in released  # the fixture's table needs suppression
    assert "Blank: suppressed, left empty in the released file" in released
    checked = html[html.index("Unmitigated, as checked"):]
    if "suppressed to protect another cell" in checked:  # a cell suppressed for another's sake is keyed too
        assert "Suppressed to protect another cell (blank when released)" in checked


def test_released_table_key_when_nothing_changed() -> None:
    from workbench.outputs.provenance_view import released_table_html

    cells = {"index_names": ["<b>band</b>"], "columns": ["<script>x</script>"], "total_rows": 1, "total_columns": 1,
             "rows": [{"label": "<i>", "cells": [{"value": 12, "changed": False}]}]}
    html = released_table_html(cells)
    assert "Released exactly as counted: no cell is blank or changed." in html and "–" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;band" in html
    cells["rows"][0]["cells"][0] = {"value": None, "changed": True}
    assert "Blank: suppressed" in released_table_html(cells) and "exactly as counted" not in released_table_html(cells)
