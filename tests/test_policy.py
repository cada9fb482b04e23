"""The policy as a matrix: every role against every action, allowed and denied (pure functions)."""

from __future__ import annotations

import pytest

from workbench.governance.policy import ACTIONS, ROLES, Actor, decide

ALLOWED = {
    # action: roles allowed (with the resource used below)
    "catalogue.read": set(ROLES),
    "catalogue.export": set(ROLES),
    "catalogue.register": {"admin", "data_owner"},
    "catalogue.update": {"admin", "data_owner"},
    "catalogue.register_reference": {"admin", "data_owner"},
    "people.read": set(ROLES),
    "people.manage": {"admin"},
    "projects.read": set(ROLES),
    "projects.manage": {"admin"},
    "departments.manage": {"admin"},
    "audit.verify": {"admin"},
    "demo.truth.read": {"admin", "trainer"},
    "settings.write": {"admin"},
}
RESOURCE = {"catalogue.register": {"owner": "me"}, "catalogue.update": {"owner": "me", "current_owner": "me"},
            "people.manage": {"people_count": 3}}


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
    assert not decide(owner, "catalogue.update", {"owner": "me", "current_owner": "someone.else"})
    assert not decide(owner, "catalogue.update", {"owner": "someone.else", "current_owner": "me"})
    assert decide(owner, "catalogue.update", {"owner": None, "current_owner": "me"})
    admin = Actor("root.admin", frozenset({"admin"}), registered=True)
    assert decide(admin, "catalogue.update", {"owner": "x", "current_owner": "y"})
    # bootstrap: only into an empty workspace may a stranger register (as its first admin)
    assert decide(Actor("first"), "people.manage", {"people_count": 0})
    assert not decide(Actor("first"), "people.manage", {"people_count": 1})


def test_every_action_reads_well_in_a_refusal() -> None:
    from workbench.governance.policy import VERBS

    assert set(VERBS) == set(ACTIONS)


def test_unknown_actions_are_denied() -> None:
    assert not decide(Actor("a", frozenset(ROLES), registered=True), "catalogue.delete_everything")
