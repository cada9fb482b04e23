"""Revocation and expiry reach every copy: once a project's grant for a dataset lapses, reading a frame saved
from it (or a copy of that copy), recording an output from such a frame, putting such outputs in a request or
submitting it, and a checker reviewing, concluding or releasing it are each refused, audited, and change nothing;
the checker sees why a request is blocked; the owner's usage report lists what the revocation blocked. Embedded
and over the service (``kernel``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from checking import CONTEXT
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, OWNER, PROJECT, Unchanged, events
from sqlalchemy import update

from workbench.db.schema import grants
from workbench.errors import AccessDenied

pytestmark = pytest.mark.db  # also on PostgreSQL


def arrange(kernel):
    """Before the revocation: a frame saved from the dataset, a copy of that copy, an output recorded from it,
    a draft request, a submitted one and an approved one."""
    project = kernel(ANALYST).project(PROJECT)
    rows = project.load(DATASET)
    project.save(rows, "copy", derived_from=[DATASET])
    project.save(project.read("copy"), "copy_of_copy", derived_from=["copy"])
    table = project.tables.crosstab(project.read("copy_of_copy"), "age_band", "length_of_stay", name="from copy")
    other = project.tables.histogram(rows, "cost", bins=3, range=(0, 100_000), name="costs")
    draft = project.output_requests.create("Draft", context={"shown": "Admissions"})
    submitted = project.output_requests.create("Submitted", context=CONTEXT, outputs=[table], submit=True)
    approved = project.output_requests.create("Approved", context=CONTEXT, outputs=[other], submit=True)
    for checker in (CHECKER2, CHECKER3):
        kernel(checker).review.decide(approved.id, approved.outputs[0], "approve", "Safe")
    kernel(CHECKER3).review.conclude(approved.id, "approve")
    return project, rows, table, draft, submitted, approved


def revoke(kernel) -> None:
    owner = kernel(OWNER).owner
    grant_id = int(owner.grants(DATASET).query(f"project_id == '{PROJECT}'")["id"].iloc[0])
    owner.revoke(grant_id, reason="Project under review")


def refused(desk, action, *messages: str) -> None:
    unchanged = Unchanged(desk(ADMIN))
    with pytest.raises(AccessDenied) as denied:
        action()
    for message in messages:
        assert message in str(denied.value)
    unchanged.check()
    last = events(desk(ADMIN))[-1]
    assert last["outcome"] == "denied" and last["detail"]["lineage_lapsed"] == [DATASET]


def test_revocation_blocks_every_copy_and_the_owner_sees_it(kernel, desk) -> None:
    project, rows, table, draft, submitted, approved = arrange(kernel)
    revoke(kernel)
    today = date.today().isoformat()
    why = f"grant for {DATASET} was revoked on {today}"
    # every copy, however far from the load
    for name in ("copy", "copy_of_copy"):
        refused(desk, lambda n=name: project.read(n), f"saved frame {name} v1 descends from {DATASET}", why,
                f"its owner ({OWNER}) can renew it")
    # outputs from a frame the kernel still holds
    refused(desk, lambda: project.tables.crosstab(rows, "age_band", "length_of_stay", name="after"), why)
    # requests: creating, adding, submitting
    refused(desk, lambda: project.output_requests.create("Again", context=CONTEXT, outputs=[table]), why)
    refused(desk, lambda: draft.add(table), why)
    # the checker sees why, and may not review, conclude or release
    shown = kernel(CHECKER).review.show(submitted.id)
    assert shown["blocked"] == [{"output": submitted.outputs[0], "dataset": DATASET, "owner": OWNER,
                                 "reason": f"project {PROJECT}'s {why}; its owner ({OWNER}) can renew it"}]
    assert shown["outputs"][0]["can_review"] is False and "blocked" in shown["outputs"][0]["why_not"]
    queue = kernel(CHECKER).review.queue().set_index("id")
    assert queue.loc[submitted.id, "blocked"] == 1 and queue.loc[submitted.id, "awaiting_me"] == 0
    refused(desk, lambda: kernel(CHECKER).review.decide(submitted.id, submitted.outputs[0], "approve", "Safe"), why)
    refused(desk, lambda: kernel(CHECKER3).review.release(approved.id), why)
    assert kernel(CHECKER).review.show(approved.id)["blocked"][0]["dataset"] == DATASET
    # the owner's report lists what was blocked
    blocked = kernel(OWNER).owner.usage(DATASET).blocked
    assert set(blocked["action"]) == {"data.read_saved", "outputs.create", "requests.create", "requests.update",
                                      "review.decide", "review.release"}
    assert set(blocked["project_id"]) == {PROJECT} and all(DATASET in r for r in blocked["reason"])
    assert "Blocked after revocation or expiry" in kernel(OWNER).owner.usage(DATASET)._repr_html_()


def test_a_submitted_request_is_blocked_for_concluding_and_a_draft_for_submitting(kernel, desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    table = project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay", name="table")
    draft = project.output_requests.create("Draft", context=CONTEXT, outputs=[table])
    reviewed = project.output_requests.create("Reviewed", context=CONTEXT, outputs=[table], submit=True)
    for checker in (CHECKER2, CHECKER3):
        kernel(checker).review.decide(reviewed.id, reviewed.outputs[0], "approve", "Safe")
    checker = kernel(CHECKER)
    with desk(ADMIN)._ctx.db.write() as conn:  # the grant ran out yesterday
        conn.execute(update(grants).where(grants.c.project_id == PROJECT)
                     .values(expires=date.today() - timedelta(days=1)))
    why = f"grant for {DATASET} expired on {date.today() - timedelta(days=1)}"
    refused(desk, lambda: draft.submit(), why)
    refused(desk, lambda: checker.review.conclude(reviewed.id, "approve"), why)
    assert set(kernel(OWNER).owner.usage(DATASET).blocked["action"]) == {"requests.update", "review.conclude"}


def test_a_renewed_grant_unblocks(kernel, desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    project.save(project.load(DATASET), "copy", derived_from=[DATASET])
    revoke(kernel)
    with pytest.raises(AccessDenied):
        project.read("copy")
    asked = project.request_access(DATASET, justification="Renewal")
    kernel(OWNER).owner.decide(asked["id"], "approve")
    assert len(project.read("copy")) > 0
