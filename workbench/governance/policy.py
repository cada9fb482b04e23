"""The one place that decides who may do what.

Pure functions of (actor, action, resource) → ``Decision``. Services ask before they act; interfaces never
decide. Every action a service performs must be listed in ``ACTIONS`` — an unknown action is denied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = ("analyst", "output_checker", "data_owner", "trainer", "admin")


@dataclass(frozen=True)
class Actor:
    """The person acting, as the workspace knows them."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None
    registered: bool = False

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _registered(actor: Actor, _resource: Mapping[str, Any]) -> Decision:
    if actor.registered:
        return _allow("registered people may read the catalogue")
    return _deny(f"{actor.username!r} is not a registered person in this workspace; ask an admin to add you")


def _roles(*roles: str):
    def rule(actor: Actor, _resource: Mapping[str, Any]) -> Decision:
        if actor.has(*roles):
            return _allow(f"role {sorted(actor.roles & set(roles))[0]} may do this")
        return _deny(f"this needs one of the roles {', '.join(roles)}; {actor.username!r} has "
                     f"{', '.join(sorted(actor.roles)) or 'no role'}")
    return rule


def _register_dataset(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Admins register any entry; a data owner registers entries they will own themselves."""
    if actor.has("admin"):
        return _allow("admins may register any catalogue entry")
    if actor.has("data_owner"):
        owner = resource.get("owner")
        if owner in (None, actor.username):
            return _allow("data owners may register datasets they own")
        return _deny(f"a data owner may only register datasets they own themselves, not ones owned by {owner!r}")
    return _deny("only admins and data owners may register catalogue entries")


def _update_dataset(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Admins change any entry; its data owner changes their own and may not hand it to someone else."""
    if actor.has("admin"):
        return _allow("admins may change any catalogue entry")
    if actor.has("data_owner") and resource.get("current_owner") == actor.username:
        if resource.get("owner") in (None, actor.username):
            return _allow("the data owner may change their own entry")
        return _deny("only an admin may hand a dataset to another data owner")
    return _deny(f"only an admin or the dataset's data owner ({resource.get('current_owner') or 'none'}) "
                 "may change this entry")


def _first_person(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    if resource.get("people_count", 1) == 0:
        return _allow("the first person into an empty workspace becomes its admin")
    return _roles("admin")(actor, resource)


ACTIONS = {
    "catalogue.read": _registered,
    "catalogue.export": _registered,
    "catalogue.register": _register_dataset,
    "catalogue.update": _update_dataset,
    "catalogue.register_reference": _roles("admin", "data_owner"),  # distributions, contact points
    "people.read": _registered,
    "people.manage": _first_person,
    "projects.read": _registered,
    "departments.manage": _roles("admin"),
    "projects.manage": _roles("admin"),
    "demo.truth.read": _roles("admin", "trainer"),
    "settings.write": _roles("admin"),
    "audit.verify": _roles("admin"),
}

# How each action reads in a refusal: "<user> may not <verb> <resource>: <reason>."
VERBS = {
    "catalogue.read": "read", "catalogue.export": "export", "catalogue.register": "register",
    "catalogue.update": "change", "catalogue.register_reference": "register", "people.read": "list",
    "people.manage": "add", "projects.read": "read", "projects.manage": "create", "departments.manage": "add",
    "demo.truth.read": "read the linkage truth of", "settings.write": "change", "audit.verify": "verify",
}


def decide(actor: Actor, action: str, resource: Mapping[str, Any] | None = None) -> Decision:
    """May ``actor`` perform ``action`` on ``resource``? Unknown actions are denied."""
    rule = ACTIONS.get(action)
    if rule is None:
        return _deny(f"unknown action {action!r}")
    return rule(actor, resource or {})
