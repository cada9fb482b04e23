"""The policy as a matrix: every role against every action, allowed and denied (pure functions)."""

from __future__ import annotations

import pytest

from workbench.errors import WorkbenchError
from workbench.governance.policy import ACTIONS, FACTS, ROLES, Actor, check_facts, decide

ALLOWED = {
    # action: roles allowed (with the resource used below)
    "catalogue.read": set(ROLES),
    "catalogue.export": set(ROLES),
    "catalogue.register": {"admin", "data_owner"},
    "catalogue.update": {"admin", "data_owner"},
    "catalogue.register_reference": {"admin", "data_owner"},
    "catalogue.terms": {"admin", "data_owner"},
    "people.read": set(ROLES),
    "people.manage": {"admin"},
    "projects.read": set(ROLES),
    "projects.manage": {"admin"},
    "departments.manage": {"admin"},
    "audit.verify": {"admin"},
    "demo.truth.read": {"admin", "trainer"},
    # the person index: admins and linkers; a dataset's quality also its owner (another person's here)
    "index.build": {"admin", "linker"},
    "index.read": {"admin", "linker"},
    "index.quality": {"admin", "linker"},
    "index.decide": {"admin", "linker"},
    "settings.read": set(ROLES),
    "settings.write": {"admin"},
    "people.accredit": {"admin"},
    "people.train": {"admin", "trainer"},
    # rules that judge membership, ownership and conditions rather than roles: every role, given the facts
    "access.request": set(ROLES),
    "access.list_mine": set(ROLES),
    "access.list_to_decide": {"admin", "data_owner"},
    "access.decide": set(ROLES),
    "access.grant_identifiers": set(ROLES),
    "access.revoke": {"admin"},
    "access.pin": {"admin"},
    "access.delegate": {"admin"},
    "data.load": set(ROLES),
    "data.save": set(ROLES),
    "data.read_saved": set(ROLES),
    "data.link": set(ROLES),
    "data.derive": set(ROLES),
    "owner.usage": {"admin"},
    "outputs.create": set(ROLES),
    "outputs.compute": set(ROLES),
    "outputs.update": set(ROLES),
    "outputs.read": set(ROLES),
    "requests.create": set(ROLES),
    "requests.update": set(ROLES),
    "requests.read": set(ROLES),
    "review.queue": {"output_checker"},
    "review.read": {"output_checker"},
    "review.decide": {"output_checker"},
    "review.conclude": {"output_checker"},
    "review.release": {"output_checker"},
    "outputs.download": set(ROLES),  # a project member, whatever their workspace roles
    "dp.query": set(ROLES),
    "dp.budget.read": set(ROLES),
    "dp.budget.set": {"admin"},
    "dp.twin_budget.set": {"admin"},
    "training.attempt": set(ROLES),
    "training.manage": {"admin", "trainer"},
    # API tokens of someone else (everyone manages their own: test_own_api_tokens)
    "tokens.create": {"admin"},
    "tokens.read": {"admin"},
    "tokens.revoke": {"admin"},
}
TODAY = "2026-06-01"
GOOD = {"project": "p", "project_status": "active", "project_ended": False, "member_role": "analyst",
        "accreditation": "accredited", "accredited_until": "2027-01-01", "today": TODAY, "training_missing": []}
RESOURCE = {"catalogue.register": {"owner": "me"}, "catalogue.update": {"owner": "me", "current_owner": "me"},
            "people.manage": {"people_count": 3}, "access.request": GOOD,
            "access.decide": {"owner": "me", "requested_by": "someone.else", "project": "p",
                              "members": {"someone.else": "lead"}},
            "access.grant_identifiers": {"gateway": "nhs-act-2006-s251", "gateway_allows_identifiers": True},
            "access.revoke": {"owner": "someone.else"}, "access.pin": {"owner": "someone.else"},
            "access.delegate": {"owner": "someone.else"},
            "owner.usage": {"owner": "someone.else"}, "index.quality": {"owner": "someone.else"},
            "data.load": {**GOOD, "dataset": "d", "owner": "o", "granted": ["a", "b"], "wanted": ["a"]},
            "data.link": {**GOOD, "datasets": [{"dataset": "d", "owner": "o", "granted": ["a"], "linkage": ["n"]},
                                               {"dataset": "e", "owner": "o", "granted": ["b"], "linkage": ["m"]}]},
            "data.save": GOOD, "data.read_saved": GOOD, "outputs.create": GOOD, "outputs.update": GOOD,
            "outputs.read": GOOD, "requests.create": GOOD, "requests.update": GOOD, "requests.read": GOOD,
            **{f"review.{a}": {"project": "p", "member_role": None, "project_status": "active", "authored": False}
               for a in ("read", "decide", "conclude", "release")},
            "outputs.download": {"project": "p", "project_status": "active", "member_role": "reviewer",
                                 "took_part": False, "source_owners": []},
            "dp.budget.read": GOOD, "dp.budget.set": {"owner": "someone.else"},
            "dp.twin_budget.set": {"owner": "someone.else"},
            "dp.query": {**GOOD, "dataset": "d", "owner": "o", "granted": ["a", "b"], "wanted": ["a"]},
            **{a: {**GOOD, "dataset": "d", "owner": "o", "granted": ["a", "b"], "wanted": ["a"]}
               for a in ("data.derive", "outputs.compute")},
            **{f"tokens.{a}": {"username": "someone.else"} for a in ("create", "read", "revoke")}}


def test_matrix_covers_every_action() -> None:
    assert set(ALLOWED) == set(ACTIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_role_action_matrix(role: str, action: str) -> None:
    actor = Actor("me", frozenset({role}), registered=True)
    decision = decide(actor, action, RESOURCE.get(action))
    assert decision.allowed == (role in ALLOWED[action]), decision.reason
    assert decision.reason


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_unregistered_people_may_do_nothing(action: str) -> None:
    assert not decide(Actor("stranger"), action, RESOURCE.get(action))


def test_resource_rules() -> None:
    owner = Actor("me", frozenset({"data_owner"}), registered=True)
    assert not decide(owner, "catalogue.register", {"owner": "someone.else"})
    # a dataset's person-index quality: its owner and delegates (and admins, linkers), never another owner
    assert decide(owner, "index.quality", {"owner": "me", "delegates": []})
    assert decide(owner, "index.quality", {"owner": "other", "delegates": ["me"]})
    assert not decide(owner, "index.quality", {"owner": "other", "delegates": []})
    assert not decide(owner, "index.read", {}) and not decide(owner, "index.build", {})
    assert not decide(owner, "index.decide", {})  # an owner sees the quality record, but the review is the linkers'
    assert not decide(owner, "catalogue.update", {"owner": "me", "current_owner": "someone.else"})
    assert not decide(owner, "catalogue.update", {"owner": "someone.else", "current_owner": "me"})
    assert decide(owner, "catalogue.update", {"owner": None, "current_owner": "me"})
    admin = Actor("root.admin", frozenset({"admin"}), registered=True)
    assert decide(admin, "catalogue.update", {"owner": "x", "current_owner": "y"})
    # nobody makes themselves the owner of another person's dataset, admins included
    assert not decide(admin, "catalogue.update", {"owner": "root.admin", "current_owner": "y"})
    assert decide(admin, "catalogue.update", {"owner": "root.admin", "current_owner": None})
    # nobody joins a project whose current grants they approved
    assert not decide(admin, "projects.manage", {"member": "root.admin", "decided_grants": [3]})
    assert decide(admin, "projects.manage", {"member": "root.admin", "decided_grants": []})
    # nor one whose output requests they reviewed or concluded
    assert not decide(admin, "projects.manage", {"member": "root.admin", "decided_grants": [], "checked_requests": [2]})
    assert decide(admin, "projects.manage", {"member": "root.admin", "decided_grants": [], "checked_requests": []})
    # bootstrap: only into an empty workspace may a stranger register (as its first admin)
    assert decide(Actor("first"), "people.manage", {"people_count": 0})
    assert not decide(Actor("first"), "people.manage", {"people_count": 1})


LOAD = RESOURCE["data.load"]


@pytest.mark.parametrize(("facts", "reason"), [
    ({"member_role": None}, "you are not a member of project p"),
    ({"member_role": "reviewer"}, "your role in project p is reviewer; this needs the role lead or analyst"),
    ({"project_status": "closed"}, "project p is closed and can only be read"),
    ({"project_status": "proposed"}, "project p is proposed and can only be read; an admin can make it active"),
    ({"project_ended": True, "project_end": "2026-05-01"}, "project p ended on 2026-05-01"),
    ({"accreditation": "none"}, "is not an accredited researcher"),
    ({"accredited_until": "2026-05-31"}, "expired on 2026-05-31; an admin can renew it"),
    ({"training_missing": ["safe-researcher"]}, "no current training record for safe-researcher"),
    ({"granted": []}, "project p holds no grant for d; request access"),
    ({"granted": [], "lapsed_grant": "expired on 2026-05-01"}, "grant for d expired on 2026-05-01"),
    ({"wanted": ["a", "c"]}, r"column\(s\) c are outside project p's grant for d \(granted: a, b\)"),
])
def test_each_load_condition_is_named(facts: dict, reason: str) -> None:
    import re

    analyst = Actor("me", frozenset({"analyst"}), registered=True)
    assert decide(analyst, "data.load", LOAD)
    decision = decide(analyst, "data.load", {**LOAD, **facts})
    assert not decision and re.search(reason, decision.reason), decision.reason


def test_ownership_rules() -> None:
    owner = Actor("me", frozenset({"data_owner"}), registered=True)
    delegate = Actor("dee", frozenset({"analyst"}), registered=True)
    other = Actor("other", frozenset({"data_owner"}), registered=True)
    resource = {"owner": "me", "delegates": ["dee"], "requested_by": "ann", "project": "p", "members": {"ann": "lead"}}
    assert decide(owner, "access.decide", resource) and decide(delegate, "access.decide", resource)
    assert not decide(other, "access.decide", resource)
    assert "own request" in decide(delegate, "access.decide", {**resource, "requested_by": "dee"}).reason
    dataset = {"owner": "me", "delegates": ["dee"]}
    assert decide(owner, "owner.usage", dataset) and decide(delegate, "owner.usage", dataset)
    assert not decide(other, "owner.usage", dataset)
    assert decide(owner, "access.delegate", {"owner": "me"})
    assert not decide(delegate, "access.delegate", {"owner": "me"})
    assert decide(delegate, "access.list_to_decide", {"delegate_of": ["d"]})
    assert not decide(delegate, "access.grant_identifiers", {"gateway": "g", "gateway_allows_identifiers": False})
    assert not decide(owner, "access.request", {**GOOD, "project_status": "closed"})
    assert decide(owner, "access.request", {**GOOD, "project_status": "proposed"})
    assert decide(owner, "data.read_saved", {**GOOD, "member_role": "reviewer", "project_status": "closed"})


def test_every_action_reads_well_in_a_refusal() -> None:
    from workbench.governance.policy import VERBS

    assert set(VERBS) == set(ACTIONS)


def test_unknown_actions_are_denied() -> None:
    assert not decide(Actor("a", frozenset(ROLES), registered=True), "catalogue.delete_everything")


# -- the facts each action takes: a misspelt or stray fact is a bug in the caller, raised, never a quiet denial ----
def test_every_action_declares_its_facts() -> None:
    assert set(FACTS) == set(ACTIONS)
    for action, resource in RESOURCE.items():
        assert set(resource) <= FACTS[action], action


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_declared_facts_are_accepted(action: str) -> None:
    check_facts(action, dict.fromkeys(FACTS[action]))


@pytest.mark.parametrize("registered", [True, False])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_an_unknown_fact_raises(action: str, registered: bool) -> None:
    actor = Actor("me", frozenset(ROLES), registered=registered)
    with pytest.raises(TypeError, match=f"policy action '{action}' takes no fact.*'project_stauts'") as raised:
        decide(actor, action, {**RESOURCE.get(action, {}), "project_stauts": "active"})
    assert not isinstance(raised.value, WorkbenchError)


def test_a_stray_fact_raises_through_the_context(tmp_path) -> None:
    """Services ask through ``Context.require``: the bug surfaces there too, not as a refusal."""
    from workbench.context import Context

    ctx = Context(tmp_path, db=None, vault=None, actor=Actor("me", frozenset({"admin"}), registered=True))
    with pytest.raises(TypeError, match="'owner'"):
        ctx.require("settings.read", "the access settings", owner="me")


LINK = RESOURCE["data.link"]


@pytest.mark.parametrize(("datasets", "reason"), [
    ([{"dataset": "d", "owner": "o", "granted": [], "linkage": ["n"]}], "project p holds no grant for d"),
    ([{"dataset": "d", "owner": "o", "granted": [], "linkage": [], "lapsed_grant": "expired on 2026-01-01"}],
     "project p's grant for d expired on 2026-01-01"),
    ([{"dataset": "d", "owner": "o", "granted": ["a"], "linkage": ["n"]},
      {"dataset": "e", "owner": "q", "granted": ["b"], "linkage": []}],
     "the owner of e (q) has granted project p no columns for linkage"),
])
def test_linking_needs_grants_and_columns_for_linkage(datasets: list, reason: str) -> None:
    decision = decide(Actor("me", frozenset({"analyst"}), registered=True), "data.link", {**LINK, "datasets": datasets})
    assert not decision and reason in decision.reason


def test_linking_needs_a_safe_person_in_an_open_project() -> None:
    me = Actor("me", frozenset({"analyst"}), registered=True)
    assert "not a member" in decide(me, "data.link", {**LINK, "member_role": None}).reason
    assert "is closed" in decide(me, "data.link", {**LINK, "project_status": "closed"}).reason
    assert "accredited" in decide(me, "data.link", {**LINK, "accreditation": None}).reason


def test_output_checking_rules() -> None:
    checker = Actor("me", frozenset({"output_checker"}), registered=True)
    independent = RESOURCE["review.decide"]
    assert decide(checker, "review.decide", independent)
    assert "member of project p" in decide(checker, "review.decide", {**independent, "member_role": "reviewer"}).reason
    assert not decide(checker, "review.release", {**independent, "member_role": "analyst"})
    assert "authored" in decide(checker, "review.decide", {**independent, "authored": True}).reason
    assert "suspended" in decide(checker, "review.release", {**independent, "project_status": "suspended"}).reason
    assert decide(checker, "review.release", {**independent, "project_status": "closed"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["tokens.create", "tokens.read", "tokens.revoke"])
def test_own_api_tokens(role: str, action: str) -> None:
    me = Actor("me", frozenset({role}), registered=True)
    assert decide(me, action, {"username": "me"}), "everyone registered manages their own tokens"
    everyone = decide(me, action, {"username": None})  # every person's at once
    assert everyone.allowed == (role == "admin"), everyone.reason
    other = decide(me, action, {"username": "someone.else"})
    assert other.allowed == (role == "admin")
    if role != "admin":
        assert "only an admin" in other.reason and "your own" in other.reason
    assert not decide(Actor("me"), action, {"username": "me"}), "a person not registered has no tokens"


# -- separation of duties ------------------------------------------------------------------------------------------
DECIDE = {"owner": "own.er", "delegates": ["dee.legate", "ada.admin"], "requested_by": "ann", "project": "p",
          "dataset": "d", "members": {"ann": "lead"}}
DECIDERS = {"owner": Actor("own.er", frozenset({"data_owner"}), registered=True),
            "delegate": Actor("dee.legate", frozenset({"analyst"}), registered=True),
            "admin named a delegate": Actor("ada.admin", frozenset({"admin", "analyst"}), registered=True)}


@pytest.mark.parametrize("who", sorted(DECIDERS))
def test_deciders_outside_the_project_decide(who: str) -> None:
    assert decide(DECIDERS[who], "access.decide", DECIDE)


@pytest.mark.parametrize("project_role", ["lead", "analyst", "reviewer"])
@pytest.mark.parametrize("who", sorted(DECIDERS))
def test_nobody_decides_for_a_project_they_are_a_member_of(who: str, project_role: str) -> None:
    actor = DECIDERS[who]
    decision = decide(actor, "access.decide", {**DECIDE, "members": {"ann": "lead", actor.username: project_role}})
    assert not decision
    assert decision.reason.startswith(f"you are a member of project p ({project_role})"), decision.reason
    instead = ("name a delegate who is not in the project to decide it" if who == "owner" else
               "the dataset's data owner (own.er) or a delegate who is not in the project must decide")
    assert instead in decision.reason, decision.reason
    assert "ws." not in decision.reason  # the lab shows the reason; the Python call is for notebooks only
    assert decision.notebook == ("(ws.owner.delegate(dataset_id, username))" if who == "owner"
                                 else None)


def test_a_delegate_who_is_a_member_of_the_requesting_project_does_not_decide() -> None:
    delegate = DECIDERS["delegate"]
    resource = {**DECIDE, "members": {"ann": "lead", "dee.legate": "analyst"}}
    assert "you are a member of project p (analyst)" in decide(delegate, "access.decide", resource).reason
    # the same delegate decides another project's request, of which they are not a member
    assert decide(delegate, "access.decide", {**resource, "project": "q", "members": {"ann": "lead"}})


def test_admin_is_no_bypass_for_deciding() -> None:
    admin = Actor("root.admin", frozenset({"admin"}), registered=True)
    decision = decide(admin, "access.decide", DECIDE)
    assert not decision and "only the dataset's data owner (own.er) or a delegate may decide" in decision.reason
    everything = Actor("all.roles", frozenset(ROLES), registered=True)
    assert not decide(everything, "access.decide", {**DECIDE, "delegates": ["all.roles"],
                                                     "members": {"ann": "lead", "all.roles": "reviewer"}})


def test_nobody_decides_when_the_members_are_unknown() -> None:
    decision = decide(DECIDERS["owner"], "access.decide", {k: v for k, v in DECIDE.items() if k != "members"})
    assert not decision and "members of project p are not known" in decision.reason


def test_nobody_decides_their_own_request_still() -> None:
    decision = decide(DECIDERS["owner"], "access.decide", {**DECIDE, "requested_by": "own.er"})
    assert not decision and "nobody may decide their own request" in decision.reason


@pytest.mark.parametrize(("actor", "resource", "allowed", "reason"), [
    (Actor("ada.admin", frozenset({"admin", "analyst"}), registered=True), {"owner": "o", "delegate": "ada.admin"},
     False, "nobody may name themselves a delegate; the dataset's data owner (o) or another admin must name you"),
    (Actor("o", frozenset({"data_owner"}), registered=True), {"owner": "o", "delegate": "o"},
     False, "you own this dataset and decide its requests already"),
    (Actor("o", frozenset({"data_owner", "admin"}), registered=True), {"owner": "o", "delegate": "o"},
     False, "you own this dataset"),
    (Actor("ada.admin", frozenset({"admin"}), registered=True), {"owner": "o", "delegate": "dee"}, True, ""),
    (Actor("o", frozenset({"data_owner"}), registered=True), {"owner": "o", "delegate": "dee"}, True, ""),
    (Actor("ada.admin", frozenset({"admin"}), registered=True), {"owner": "o", "delegate": "ada.admin",
                                                                 "remove": True}, True, ""),
    (Actor("dee", frozenset({"data_owner"}), registered=True), {"owner": "o", "delegate": "dee"},
     False, "only the dataset's data owner (o) or an admin names delegates"),
])
def test_nobody_names_themselves_a_delegate(actor: Actor, resource: dict, allowed: bool, reason: str) -> None:
    decision = decide(actor, "access.delegate", resource)
    assert decision.allowed == allowed and reason in decision.reason, decision.reason


@pytest.mark.parametrize(("roles", "registered_by", "allowed", "reason"), [
    ({"data_owner"}, None, True, ""),
    ({"data_owner"}, "me", True, ""),
    ({"data_owner"}, "priya.owner", False,
     "it belongs to priya.owner, who registered it; only priya.owner or an admin may change it"),
    ({"admin"}, "priya.owner", True, "admins may change any"),
    ({"admin"}, None, True, ""),
    ({"analyst"}, None, False, "this needs one of the roles admin, data_owner"),
    ({"analyst"}, "me", False, "this needs one of the roles admin, data_owner"),
])
def test_distributions_and_contact_points_belong_to_who_registered_them(roles: set, registered_by: str | None,
                                                                        allowed: bool, reason: str) -> None:
    decision = decide(Actor("me", frozenset(roles), registered=True), "catalogue.register_reference",
                      {"registered_by": registered_by})
    assert decision.allowed == allowed and reason in decision.reason, decision.reason
