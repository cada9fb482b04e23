"""The one place that decides who may do what.

Pure functions of (actor, action, resource) → ``Decision``. Services ask before they act; interfaces never
decide. Every action a service performs must be listed in ``ACTIONS`` — an unknown action is denied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = ("analyst", "output_checker", "data_owner", "trainer", "admin", "linker")


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
    detail: Mapping[str, Any] = field(default_factory=dict)  # what a refusal's audit event records beside it
    notebook: str | None = None  # the Python call that does what the reason asks, for notebooks only (errors.py)

    def __bool__(self) -> bool:
        return self.allowed


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str, notebook: str | None = None) -> Decision:
    return Decision(False, reason, notebook=notebook)


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
    current, owner = resource.get("current_owner"), resource.get("owner")
    if owner == actor.username and current not in (None, actor.username):
        return _deny(f"nobody makes themselves the owner of a dataset another person owns ({current}); the owner "
                     "decides its access requests, so another admin must hand it to you")
    if actor.has("admin"):
        return _allow("admins may change any catalogue entry")
    if actor.has("data_owner") and current == actor.username:
        if resource.get("owner") in (None, actor.username):
            return _allow("the data owner may change their own entry")
        return _deny("only an admin may hand a dataset to another data owner")
    return _deny(f"only an admin or the dataset's data owner ({resource.get('current_owner') or 'none'}) "
                 "may change this entry")


def _register_reference(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Distributions and contact points belong to whoever registered them: data owners add new ones and change
    their own; only an admin changes one another person registered (its registered owner stays).
    ``resource["registered_by"]`` is None for a new one."""
    if not actor.has("admin", "data_owner"):
        return _roles("admin", "data_owner")(actor, resource)
    holder = resource.get("registered_by")
    if holder in (None, actor.username):
        return _allow("data owners and admins may register and change their own distributions and contact points")
    if actor.has("admin"):
        return _allow("admins may change any distribution or contact point")
    return _deny(f"it belongs to {holder}, who registered it; only {holder} or an admin may change it (register "
                 "yours under an identifier of its own)")


def _manage_projects(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Admins manage projects, but nobody is added to a project whose access they decided or whose outputs they
    checked: leaving a project, approving its request or its outputs and joining again would otherwise decide for
    a project one works in. ``resource["decided_grants"]``: the current grants of the project the person being
    added approved; ``resource["checked_requests"]``: the project's output requests they reviewed or concluded."""
    allowed = _roles("admin")(actor, resource)
    if not allowed:
        return allowed
    decided = resource.get("decided_grants")
    if decided:
        return _deny(f"{resource.get('member')} approved the project's current grant(s) "
                     f"{', '.join(str(g) for g in decided)}, and nobody works in a project whose access they "
                     "decided; add someone else, or revoke the grant and have another owner or delegate decide")
    checked = resource.get("checked_requests")
    if checked:
        return _deny(f"{resource.get('member')} checked the project's output request(s) "
                     f"{', '.join(str(r) for r in checked)}, and nobody works in a project whose outputs they "
                     "checked; add someone else")
    return allowed


def _first_person(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    if resource.get("people_count", 1) == 0:
        return _allow("the first person into an empty workspace becomes its admin")
    return _roles("admin")(actor, resource)


def _is_owner(actor: Actor, resource: Mapping[str, Any]) -> bool:
    return actor.username == resource.get("owner") or actor.username in resource.get("delegates", ())


def _owner_or_delegate(what: str, admins: bool = False):
    """The dataset's data owner or one of their delegates (and admins, where ``admins``)."""
    def rule(actor: Actor, resource: Mapping[str, Any]) -> Decision:
        if _is_owner(actor, resource):
            return _allow(f"the dataset's owner or delegate may {what}")
        if admins and actor.has("admin"):
            return _allow(f"admins may {what}")
        who = resource.get("owner") or "no owner yet; an admin must name one"
        others = ", a delegate or an admin" if admins else " or a delegate"
        return _deny(f"only the dataset's data owner ({who}){others} may {what}")
    return rule


def _index_quality(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """A dataset's person-index quality: its owner or delegates, and the admins and linkers who keep the index."""
    if _is_owner(actor, resource):
        return _allow("the dataset's owner or delegate may see how its records link to the person index")
    if actor.has("admin", "linker"):
        return _allow(f"role {sorted(actor.roles & {'admin', 'linker'})[0]} keeps the person index")
    return _deny(f"only the dataset's data owner ({resource.get('owner') or 'none'}), a delegate, an admin or a "
                 "linker may see its person-index quality")


def _decide_request(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Owners and delegates decide requests for their datasets, but never a request of their own, and never one
    of a project they are a member of (in any role, at decision time): separation of duties, admins included.

    ``resource["members"]`` maps each member of the requesting project to their role; without it nobody decides.
    """
    if actor.username == resource.get("requested_by"):
        return _deny("nobody may decide their own request; another delegate or the owner must decide it")
    allowed = _owner_or_delegate("decide access requests for it")(actor, resource)
    if not allowed:
        return allowed
    project, members = resource.get("project"), resource.get("members")
    if members is None:
        return _deny(f"the members of project {project} are not known, so nobody can tell whether you are one of "
                     "them; nobody decides until they are")
    if actor.username in members:
        owner = resource.get("owner") or "none"
        instead = ("name a delegate who is not in the project to decide it"
                   if actor.username == owner else
                   f"the dataset's data owner ({owner}) or a delegate who is not in the project must decide (the "
                   "owner or an admin can name one)")
        return _deny(f"you are a member of project {project} ({members[actor.username]}) and nobody decides "
                     f"access for a project they work in; {instead}",
                     notebook="(ws.owner.delegate(dataset_id, username))" if actor.username == owner
                     else None)
    return allowed


def _grant_identifiers(_actor: Actor, resource: Mapping[str, Any]) -> Decision:
    if resource.get("gateway_allows_identifiers"):
        return _allow(f"the legal gateway {resource.get('gateway')} permits identifiable data")
    return _deny(f"the project's legal gateway {resource.get('gateway')} does not permit direct identifiers; "
                 "approve without them (they are pseudonymised keys at best) or move the project to a gateway "
                 "that permits identifiable data")


def _project_open(resource: Mapping[str, Any]) -> Decision | None:
    """A refusal if the project can do nothing but be read; None if it is open for work."""
    project, status = resource.get("project"), resource.get("project_status")
    if resource.get("project_ended"):
        return _deny(f"project {project} ended on {resource.get('project_end')} and can only be read; an admin "
                     "can extend it")
    if status not in resource.get("open_statuses", ("active",)):
        return _deny(f"project {project} is {status} and can only be read; an admin can make it active")
    return None


def _member(resource: Mapping[str, Any], roles: tuple[str, ...]) -> Decision | None:
    role, project = resource.get("member_role"), resource.get("project")
    if role is None:
        return _deny(f"you are not a member of project {project}; its lead ({resource.get('lead')}) can ask an "
                     "admin to add you")
    if role not in roles:
        return _deny(f"your role in project {project} is {role}; this needs the role {' or '.join(roles)}")
    return None


def _safe_person(actor: Actor, resource: Mapping[str, Any]) -> Decision | None:
    """Accredited and trained: a refusal naming what lapsed and who can renew it, or None."""
    status, until = resource.get("accreditation"), resource.get("accredited_until")
    if status != "accredited":
        return _deny(f"{actor.username} is not an accredited researcher (accreditation: {status or 'none'}); an "
                     f"admin records accreditation (workbench people accredit {actor.username} --until DATE)")
    if until is not None and str(until) < str(resource.get("today")):
        return _deny(f"the accreditation of {actor.username} expired on {until}; an admin can renew it "
                     f"(workbench people accredit {actor.username} --until DATE)")
    missing = resource.get("training_missing") or ()
    if missing:
        return _deny(f"{actor.username} has no current training record for {', '.join(missing)}; a trainer or "
                     f"admin records it (workbench people train {actor.username} COURSE --completed DATE)")
    return None


def _first_refusal(*checks: Decision | None) -> Decision | None:
    return next((c for c in checks if c is not None), None)


def _lineage_lapsed(resource: Mapping[str, Any]) -> Decision | None:
    """A refusal when what is acted on descends from a catalogue dataset the project no longer holds a current
    grant for; None otherwise. ``resource["lineage_lapsed"]``: one dict per such dataset with ``dataset``,
    ``owner``, ``why`` ("was revoked on D", "expired on D", "was never granted") and ``held_by`` (what descends
    from it: a saved frame, an output)."""
    lapsed = resource.get("lineage_lapsed") or ()
    if not lapsed:
        return None
    project = resource.get("project")
    reasons = [f"{item.get('held_by') or 'it'} descends from {item.get('dataset')}, and project {project}'s grant "
               f"for {item.get('dataset')} {item.get('why')}; its owner ({item.get('owner') or 'none'}) can renew it "
               f"(request access with project.request_access({item.get('dataset')!r}, ...))" for item in lapsed]
    return Decision(False, "; ".join(reasons), {"lineage_lapsed": sorted({str(i.get("dataset")) for i in lapsed}),
                                                "project": project})


def _request_access(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    refusal = _first_refusal(_member(resource, ("lead", "analyst")),
                             _project_open({**resource, "open_statuses": ("proposed", "active")}))
    return _allow("project leads and analysts may request data for an open project") if refusal is None else refusal


def _no_grant(project: Any, dataset: Any, owner: Any, lapsed: Any) -> Decision:
    """The refusal for data the project holds no current grant for, saying how to ask for one."""
    prefix = (f"project {project}'s grant for {dataset} {lapsed}" if lapsed
              else f"project {project} holds no grant for {dataset}")
    return _deny(f"{prefix}; request access with project.request_access({dataset!r}, ...) and its owner "
                 f"({owner}) decides")


def _load(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Active, accredited, trained member of an active project holding an unexpired grant for the columns."""
    refusal = _first_refusal(_member(resource, ("lead", "analyst")), _project_open(resource),
                             _safe_person(actor, resource))
    if refusal is not None:
        return refusal
    project, dataset, owner = resource.get("project"), resource.get("dataset"), resource.get("owner")
    if not resource.get("granted"):
        return _no_grant(project, dataset, owner, resource.get("lapsed_grant"))
    outside = [c for c in resource.get("wanted", ()) if c not in resource.get("granted", ())]
    if outside:
        return _deny(f"column(s) {', '.join(outside)} are outside project {project}'s grant for {dataset} "
                     f"(granted: {', '.join(resource['granted'])}); request them and its owner ({owner}) decides")
    return _allow("an accredited, trained member of an active project with a current grant")


def _link(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """As for loading, for each dataset linked: a current grant, and columns its owner granted for linkage."""
    refusal = _first_refusal(_member(resource, ("lead", "analyst")), _project_open(resource),
                             _safe_person(actor, resource))
    if refusal is not None:
        return refusal
    project = resource.get("project")
    for item in resource.get("datasets", ()):
        dataset, owner = item.get("dataset"), item.get("owner")
        if not item.get("granted"):
            return _no_grant(project, dataset, owner, item.get("lapsed_grant"))
        if not item.get("linkage"):
            return _deny(f"the owner of {dataset} ({owner}) has granted project {project} no columns for linkage; "
                         "ask them to approve a request with linkage=[...] naming the identifiers the linkage "
                         "may read")
    return _allow("an accredited, trained member of an active project with current grants for linkage")


def _work_in_project(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    refusal = _first_refusal(_member(resource, ("lead", "analyst")), _project_open(resource),
                             _safe_person(actor, resource), _lineage_lapsed(resource))
    return _allow("an accredited, trained member of an active project") if refusal is None else refusal


def _read_project_data(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    refusal = _first_refusal(_member(resource, ("lead", "analyst", "reviewer")), _safe_person(actor, resource),
                             _lineage_lapsed(resource))
    return _allow("an accredited, trained member of the project") if refusal is None else refusal


def _check_outputs(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """Output checkers review, conclude and release requests of projects they do not belong to, never an
    output they authored, and nothing of a suspended project."""
    if not actor.has("output_checker"):
        return _deny(f"only output checkers review output requests; {actor.username!r} has "
                     f"{', '.join(sorted(actor.roles)) or 'no role'}")
    project = resource.get("project")
    if resource.get("member_role") is not None:
        return _deny(f"you are a member of project {project} ({resource['member_role']}); a checker from outside "
                     "the project must review its outputs")
    if resource.get("authored"):
        return _deny("nobody reviews an output they authored; another output checker must do it")
    if resource.get("project_status") == "suspended":
        return _deny(f"project {project} is suspended; an admin can make it active again")
    lapsed = _lineage_lapsed(resource)
    if lapsed is not None:
        return lapsed
    return _allow("an output checker independent of the project")


def _download_release(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """A released package goes to the project's members, the output checkers who reviewed, concluded or
    released it, and the owners of the datasets it was made from; to nobody else, and nothing of a suspended
    project."""
    project = resource.get("project")
    if resource.get("project_status") == "suspended":
        return _deny(f"project {project} is suspended; an admin can make it active again")
    if resource.get("member_role") is not None:
        return _allow("a member of the project")
    if resource.get("took_part") and actor.has("output_checker"):
        return _allow("an output checker who checked or released it")
    if actor.username in resource.get("source_owners", ()):
        return _allow("the owner of a dataset it was made from")
    return _deny(f"a release package of project {project} goes only to the project's members, the output checkers "
                 "who released it and the owners of the datasets it was made from")


def _list_requests_to_decide(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    if actor.has("data_owner", "admin") or resource.get("delegate_of"):
        return _allow("data owners, their delegates and admins see requests waiting for a decision")
    return _deny("only data owners, their delegates and admins have requests to decide")


def _delegate(actor: Actor, resource: Mapping[str, Any]) -> Decision:
    """The data owner or an admin names (and withdraws) delegates, never themselves: whoever decides for a
    dataset is chosen by someone else. ``resource["delegate"]`` is the person named, ``"remove"`` a withdrawal."""
    owner = resource.get("owner")
    if not (actor.has("admin") or actor.username == owner):
        return _deny(f"only the dataset's data owner ({owner or 'none'}) or an admin names delegates")
    if resource.get("delegate") == actor.username and not resource.get("remove"):
        if actor.username == owner:
            return _deny("you own this dataset and decide its requests already; a delegate is someone else you "
                         "name")
        return _deny(f"nobody may name themselves a delegate; the dataset's data owner ({owner or 'none'}) or "
                     "another admin must name you")
    return _allow("the data owner (or an admin) names delegates")


def _own_tokens(what: str):
    """Admins manage anyone's API tokens; every registered person manages their own (``resource["username"]``)."""
    def rule(actor: Actor, resource: Mapping[str, Any]) -> Decision:
        if actor.has("admin"):
            return _allow(f"admins may {what} anyone's API tokens")
        if resource.get("username") == actor.username:
            return _allow(f"everyone registered may {what} their own API tokens")
        return _deny(f"only an admin may {what} another person's API tokens; you may {what} your own")
    return rule


ACTIONS = {
    "catalogue.read": _registered,
    "catalogue.export": _registered,
    "catalogue.register": _register_dataset,
    "catalogue.update": _update_dataset,
    "catalogue.register_reference": _register_reference,  # distributions, contact points
    "catalogue.terms": _roles("admin", "data_owner"),  # the abbreviations and synonyms search expands
    "people.read": _registered,
    "people.manage": _first_person,
    "projects.read": _registered,
    "departments.manage": _roles("admin"),
    "projects.manage": _manage_projects,
    "people.accredit": _roles("admin"),
    "people.train": _roles("admin", "trainer"),
    "access.request": _request_access,
    "access.list_mine": _registered,
    "access.list_to_decide": _list_requests_to_decide,
    "access.decide": _decide_request,
    "access.grant_identifiers": _grant_identifiers,
    "access.revoke": _owner_or_delegate("revoke its grants", admins=True),
    "access.pin": _owner_or_delegate("pin its grants to a version", admins=True),
    "access.delegate": _delegate,
    "data.load": _load,
    "data.save": _work_in_project,
    "data.read_saved": _read_project_data,
    "data.link": _link,
    "data.derive": _load,  # the workbench reads granted data and saves the rows in the project: as for a load
    "owner.usage": _owner_or_delegate("see how it is used", admins=True),
    "outputs.create": _work_in_project,
    "outputs.compute": _load,  # the workbench reads granted data to compute a table by spec: as for a load
    "outputs.update": _work_in_project,
    "outputs.read": _read_project_data,
    "requests.create": _work_in_project,
    "requests.update": _work_in_project,
    "requests.read": _read_project_data,
    "review.queue": _roles("output_checker"),
    "review.read": _check_outputs,
    "review.decide": _check_outputs,
    "review.conclude": _check_outputs,
    "review.release": _check_outputs,
    "outputs.download": _download_release,
    "dp.query": _load,
    "dp.budget.read": _read_project_data,
    "dp.budget.set": _owner_or_delegate("set its privacy budget", admins=True),
    "dp.twin_budget.set": _owner_or_delegate("set the privacy budget of its synthetic twins", admins=True),
    "training.attempt": _registered,
    "training.manage": _roles("admin", "trainer"),
    "demo.truth.read": _roles("admin", "trainer"),
    # the person index holds identifying fields: only admins and linkers build or read it, never a project
    "index.build": _roles("admin", "linker"),
    "index.read": _roles("admin", "linker"),
    "index.quality": _index_quality,
    # clerical review of the index's uncertain pairs ("match" / "non-match"): who builds the index, not owners
    "index.decide": _roles("admin", "linker"),
    "settings.read": _registered,
    "settings.write": _roles("admin"),
    "audit.verify": _roles("admin"),
    "tokens.create": _own_tokens("create"),
    "tokens.read": _own_tokens("list"),
    "tokens.revoke": _own_tokens("revoke"),
}

# -- the facts each action's rule is judged on: a fact the rule does not know is a bug in the caller ---------------
# A misspelt fact would otherwise read as missing and quietly deny, so ``decide`` refuses it loudly instead.
_PROJECT_FACTS = frozenset({  # conditions.project_facts: the person working in the project, and its state
    "project", "project_status", "project_end", "project_ended", "lead", "member_role",
    "accreditation", "accredited_until", "today", "training_missing"})
_DATASET_OWNER = frozenset({"owner", "delegates"})
_NONE: frozenset[str] = frozenset()
_LINEAGE = frozenset({"lineage_lapsed"})  # catalogue datasets in the lineage without a current grant (each a dict)
_CHECKING = frozenset({"project", "project_status", "member_role", "authored"})

FACTS: dict[str, frozenset[str]] = {
    "catalogue.read": _NONE,
    "catalogue.export": _NONE,
    "catalogue.register": frozenset({"owner"}),
    "catalogue.update": frozenset({"owner", "current_owner"}),
    "catalogue.register_reference": frozenset({"registered_by"}),
    "catalogue.terms": _NONE,
    "people.read": _NONE,
    "people.manage": frozenset({"people_count"}),
    "projects.read": _NONE,
    "departments.manage": _NONE,
    "projects.manage": frozenset({"member", "decided_grants", "checked_requests"}),
    "people.accredit": _NONE,
    "people.train": _NONE,
    "access.request": _PROJECT_FACTS,
    "access.list_mine": _NONE,
    "access.list_to_decide": frozenset({"delegate_of"}),
    "access.decide": _DATASET_OWNER | {"requested_by", "project", "dataset", "members"},
    "access.grant_identifiers": frozenset({"gateway", "gateway_allows_identifiers"}),
    "access.revoke": _DATASET_OWNER,
    "access.pin": _DATASET_OWNER,
    "access.delegate": frozenset({"owner", "delegate", "remove"}),
    "data.load": _PROJECT_FACTS | {"dataset", "owner", "granted", "wanted", "lapsed_grant"},
    "data.save": _PROJECT_FACTS,
    "data.read_saved": _PROJECT_FACTS | _LINEAGE,
    "data.link": _PROJECT_FACTS | {"datasets"},  # each: dataset, owner, granted, lapsed_grant, linkage
    "data.derive": _PROJECT_FACTS | {"dataset", "owner", "granted", "wanted", "lapsed_grant"},
    "owner.usage": _DATASET_OWNER,
    "outputs.create": _PROJECT_FACTS | _LINEAGE,
    "outputs.compute": _PROJECT_FACTS | {"dataset", "owner", "granted", "wanted", "lapsed_grant"},
    "outputs.update": _PROJECT_FACTS,
    "outputs.read": _PROJECT_FACTS,
    "requests.create": _PROJECT_FACTS | _LINEAGE,
    "requests.update": _PROJECT_FACTS | _LINEAGE,
    "requests.read": _PROJECT_FACTS,
    "review.queue": _NONE,
    "review.read": _CHECKING,
    "review.decide": _CHECKING | _LINEAGE,
    "review.conclude": _CHECKING | _LINEAGE,
    "review.release": _CHECKING | _LINEAGE,
    "outputs.download": frozenset({"project", "project_status", "member_role", "took_part", "source_owners"}),
    "dp.query": _PROJECT_FACTS | {"dataset", "owner", "granted", "wanted", "lapsed_grant"},
    "dp.budget.read": _PROJECT_FACTS,
    "dp.budget.set": _DATASET_OWNER,
    "dp.twin_budget.set": _DATASET_OWNER,
    "training.attempt": _NONE,
    "training.manage": _NONE,
    "demo.truth.read": _NONE,
    "index.build": _NONE,
    "index.read": _NONE,
    "index.quality": _DATASET_OWNER,
    "index.decide": _NONE,
    "settings.read": _NONE,
    "settings.write": _NONE,
    "audit.verify": _NONE,
    "tokens.create": frozenset({"username"}),
    "tokens.read": frozenset({"username"}),
    "tokens.revoke": frozenset({"username"}),
}


def check_facts(action: str, resource: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` (a bug in the caller, not a refusal) if ``resource`` names a fact ``action`` does not
    take. Unknown actions are left to ``decide``, which denies them."""
    unknown = sorted(set(resource) - FACTS.get(action, set(resource)))
    if unknown:
        raise TypeError(f"policy action {action!r} takes no fact(s) {', '.join(map(repr, unknown))}; it takes "
                        f"{', '.join(sorted(FACTS[action])) or 'none'}")


# How each action reads in a refusal: "<user> may not <verb> <resource>: <reason>."
VERBS = {
    "catalogue.read": "read", "catalogue.export": "export", "catalogue.register": "register",
    "catalogue.update": "change", "catalogue.register_reference": "register", "catalogue.terms": "change",
    "people.read": "list",
    "people.manage": "add", "projects.read": "read", "projects.manage": "create", "departments.manage": "add",
    "demo.truth.read": "read the linkage truth of",
    "index.build": "build", "index.read": "read", "index.quality": "see the person-index quality of",
    "index.decide": "decide the clerical review pairs of",
    "people.accredit": "accredit", "people.train": "record training for", "access.request": "request",
    "access.list_mine": "list", "access.list_to_decide": "list", "access.decide": "decide",
    "access.grant_identifiers": "grant direct identifiers of", "access.revoke": "revoke", "access.pin": "pin",
    "access.delegate": "name delegates for", "data.load": "load", "data.save": "save", "data.read_saved": "read",
    "data.link": "link", "data.derive": "derive a frame from", "outputs.compute": "compute",
    "owner.usage": "see the usage report of", "outputs.create": "record", "outputs.update": "change",
    "outputs.read": "read", "requests.create": "create", "requests.update": "change", "requests.read": "read",
    "review.queue": "list", "review.read": "review", "review.decide": "review", "review.conclude": "conclude",
    "review.release": "release", "outputs.download": "download", "settings.read": "read", "settings.write": "change",
    "dp.query": "run", "dp.budget.read": "read", "dp.budget.set": "set",
    "dp.twin_budget.set": "set",
    "training.attempt": "attempt", "training.manage": "manage",
    "audit.verify": "verify",
    "tokens.create": "create", "tokens.read": "list", "tokens.revoke": "revoke",
}


def decide(actor: Actor, action: str, resource: Mapping[str, Any] | None = None) -> Decision:
    """May ``actor`` perform ``action`` on ``resource``? Unknown actions are denied; a fact the action does not
    take (``FACTS``) raises ``TypeError``."""
    resource = resource or {}
    check_facts(action, resource)
    rule = ACTIONS.get(action)
    if rule is None:
        return _deny(f"unknown action {action!r}")
    if not actor.registered and action != "people.manage":  # the one thing a stranger may do: bootstrap
        return _registered(actor, {})
    return rule(actor, resource)


# -- whether an action could ever be allowed: asked before a request's body is read --------------------------------
# action → the workspace roles without one of which its rule refuses, whatever the resource. An action not listed
# may be allowed to any registered person on some resource (as a project member, a dataset's owner or delegate, or
# for their own things). tests/security check this table against the rules above.
ROLES_NEEDED: dict[str, tuple[str, ...]] = {
    "catalogue.register": ("admin", "data_owner"),
    "catalogue.update": ("admin", "data_owner"),
    "catalogue.register_reference": ("admin", "data_owner"),
    "catalogue.terms": ("admin", "data_owner"),
    "people.manage": ("admin",),  # a registered person's workspace is never empty
    "departments.manage": ("admin",),
    "projects.manage": ("admin",),
    "people.accredit": ("admin",),
    "people.train": ("admin", "trainer"),
    "review.queue": ("output_checker",),
    "review.read": ("output_checker",),
    "review.decide": ("output_checker",),
    "review.conclude": ("output_checker",),
    "review.release": ("output_checker",),
    "training.manage": ("admin", "trainer"),
    "demo.truth.read": ("admin", "trainer"),
    "index.build": ("admin", "linker"),
    "index.read": ("admin", "linker"),
    "index.decide": ("admin", "linker"),
    "settings.write": ("admin",),
    "audit.verify": ("admin",),
}


def may_ever(actor: Actor, action: str) -> Decision:
    """Could ``actor`` be allowed ``action`` on any resource at all? A cheap first question, asked before a
    request is read or decoded; ``decide`` still judges the actual resource. Unknown actions are denied."""
    if action not in ACTIONS:
        return _deny(f"unknown action {action!r}")
    if not actor.registered:
        return _registered(actor, {})
    roles = ROLES_NEEDED.get(action)
    if roles:
        return _roles(*roles)(actor, {})
    return _allow("a registered person may be allowed this on some resource")
