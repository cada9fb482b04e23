"""The output checker's notebook widget: ``ws.review.widget()``.

A queue of requests to pick from; the chosen request's context (and, prominently, any output a lapsed grant
blocks); each output opening with its provenance (computed by the workbench from a spec, or an analyst-supplied
frame with its lineage), then the table as it will be released beside the unmitigated one and its check
(flagged cells highlighted), checker aids, differencing warnings and the reviews you may see, and decision
buttons with a comment box; then conclude (approve, return, reject) and release. It calls the same service as
``ws.review``, so every rule (independence, blind reviews, comments) holds here too; refusals appear as messages
in the widget.
"""

from __future__ import annotations

from html import escape
from typing import Any

from workbench.errors import WorkbenchError
from workbench.outputs.provenance_view import blocked_html
from workbench.outputs.requests import CONTEXT_FIELDS
from workbench.outputs.review import Review, output_html, request_released_html
from workbench.widgets.labels import code_label, header, number

DECISIONS = (("Approve", "approve"), ("Changes needed", "changes"), ("Reject", "reject"))


class NotebookReview(Review):
    """Output checking (``ws.review``) — and all of it in one notebook widget: ``ws.review.widget()``."""

    def widget(self) -> ReviewWidget:
        """The notebook review widget: queue, request detail, decisions with comments, release."""
        return ReviewWidget(self)


class OutputPanel:
    """One output of the shown request: its check as HTML, a decision, a comment and a button."""

    def __init__(self, widget: ReviewWidget, output: dict[str, Any], needed: int,
                 blocked: list[dict[str, Any]] | None = None) -> None:
        import ipywidgets as w

        self.output_id = output["id"]
        self.html = w.HTML(output_html(output, needed, blocked))
        self.decision = w.ToggleButtons(options=list(DECISIONS), value="approve",
                                        description="Decision")
        self.comment = w.Textarea(placeholder="Comment (needed against the automatic check, and for changes)",
                                  layout=w.Layout(width="90%"))
        self.button = w.Button(description="Record my review", button_style="primary",
                               disabled=not output["can_review"],
                               tooltip=output["why_not"] or "record your independent review")
        self.button.on_click(lambda _button: widget.decide(self))
        note = w.HTML("" if output["can_review"] else f"<em>You cannot review it: {escape(output['why_not'])}</em>")
        self.box = w.VBox([self.html, note, self.decision, self.comment, self.button])


class ReviewWidget:
    """Queue, request detail, decisions, conclusion and release in one notebook widget."""

    def __init__(self, review: Review) -> None:
        import ipywidgets as w

        self._review = review
        self.request_id: int | None = None
        self.queue = w.Select(options=[], description="Queue", rows=6, layout=w.Layout(width="95%"))
        self.refresh = w.Button(description="Refresh queue")
        self.header = w.HTML()
        self.outputs = w.VBox()
        self.panels: dict[int, OutputPanel] = {}
        self.conclusion = w.Textarea(placeholder="Comment for the analyst (needed to return or reject)",
                                     layout=w.Layout(width="90%"))
        self.conclude_buttons = {outcome: w.Button(description=outcome.title(), button_style=style)
                                 for outcome, style in (("approve", "success"), ("return", "warning"),
                                                        ("reject", "danger"))}
        self.release = w.Button(description="Release", button_style="success", icon="check")
        self.message = w.HTML()
        self.refresh.on_click(lambda _button: self.reload())
        for outcome, button in self.conclude_buttons.items():
            button.on_click(lambda _button, o=outcome: self.conclude(o))
        self.release.on_click(lambda _button: self.do_release())
        self.queue.observe(lambda change: self.show(change["new"]) if change["new"] is not None else None,
                           names="value")
        actions = w.VBox([w.HTML("<b>Conclude the request</b>"), self.conclusion,
                          w.HBox(list(self.conclude_buttons.values())), self.release])
        self.root = w.VBox([w.HBox([self.queue, self.refresh]), self.message, self.header, self.outputs, actions])
        self.reload()

    # -- actions -------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Fetch the queue again (the chosen request stays chosen if it is still there)."""
        frame = self._attempt(self._review.queue)
        if frame is None:
            return
        self.queue.options = [(f"{r.title} — project {r.project_id}, request {r.id}: {code_label(r.status)}, "
                               f"{number(r.reviews_in)} of {number(r.reviews_needed)} reviews in"
                               + (f", {number(r.awaiting_me)} waiting for you" if r.awaiting_me else ""), int(r.id))
                              for r in frame.itertuples()]

    def show(self, request_id: int) -> None:
        """Show one request: its context, what a release of it holds, and its outputs with decision controls."""
        detail = self._attempt(self._review.show, request_id)
        if detail is None:
            return
        self.request_id = request_id
        request = detail["request"]
        context = "".join(f"<li><b>{escape(_context_label(k))}</b>: {escape(v)}</li>"
                          for k, v in request["context"].items())
        self.header.value = (f"<h3>{escape(request['title'])} <small>request {request['id']}, project "
                             f"{escape(request['project_id'])}: {escape(code_label(request['status']).lower())}"
                             f"</small></h3>{blocked_html(detail.get('blocked'))}<ul>{context}</ul>"
                             f"{request_released_html(detail)}")
        self.panels = {o["id"]: OutputPanel(self, o, detail["reviews_required"], detail.get("blocked"))
                       for o in detail["outputs"]}
        self.outputs.children = [panel.box for panel in self.panels.values()]
        status = request["status"]
        for button in self.conclude_buttons.values():
            button.disabled = status != "reviewed"
        self.release.disabled = status != "approved"

    def decide(self, panel: OutputPanel) -> None:
        result = self._attempt(self._review.decide, self.request_id, panel.output_id, panel.decision.value,
                               panel.comment.value or None)
        if result is not None:
            chosen = dict((v, k) for k, v in DECISIONS)[panel.decision.value].lower()
            self._after(f"Recorded your review ({chosen}) of output {panel.output_id}; the request is "
                        f"{code_label(result['status']).lower()}.")

    def conclude(self, outcome: str) -> None:
        result = self._attempt(self._review.conclude, self.request_id, outcome, self.conclusion.value or None)
        if result is not None:
            self._after(f"Request {result['id']} is {code_label(result['status']).lower()}.")

    def do_release(self) -> None:
        result = self._attempt(self._review.release, self.request_id)
        if result is not None:
            self._after(f"Released to {escape(result['package'])} (manifest SHA-256 "
                        f"{escape(result['manifest_sha256'][:16])}…).")

    # -- internals -----------------------------------------------------------------------------------------
    def _after(self, text: str) -> None:
        request_id = self.request_id
        self.reload()
        if request_id is not None:
            self.show(request_id)
        self.message.value = f"<p style='color:#198754'>{text}</p>"

    def _attempt(self, call: Any, *args: Any) -> Any:
        """Run a service call; a refusal becomes the widget's message instead of a traceback."""
        try:
            result = call(*args)
        except WorkbenchError as error:
            self.message.value = f"<p style='color:#b02a37'>{escape(str(error))}</p>"
            return None
        self.message.value = ""
        return result

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.root._repr_mimebundle_(**kwargs)


def _context_label(field: str) -> str:
    """A context field as the analyst was asked it: ``shown`` → "What the outputs show"."""
    asked = CONTEXT_FIELDS.get(field)
    return asked[0].upper() + asked[1:] if asked else header(field)


__all__ = ["OutputPanel", "ReviewWidget"]
