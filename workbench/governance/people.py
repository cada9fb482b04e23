"""Safe people: who is registered in the workspace, their department, roles, accreditation and training.

The first person added to an empty workspace becomes its admin; after that only admins add people and
record accreditation; admins and trainers record training. Loading governed data needs a current
accreditation and current training in every required course (``workbench.governance.access``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, func, insert, or_, select, update

from workbench import audit
from workbench.catalogue.model import ORGANISATION_SLUG
from workbench.config import USERNAME_PATTERN
from workbench.db.schema import departments, people, person_roles, training_records
from workbench.errors import Conflict, InvalidInput, NotFound
from workbench.governance.policy import ROLES, Actor
from workbench.validation import CODE, check_date, check_username

ACCREDITATIONS = ("none", "accredited", "suspended", "revoked")

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context


def actor_for(conn: Connection, username: str) -> Actor:
    """The Actor the policy sees for ``username`` (unregistered people have no roles)."""
    row = conn.execute(select(people.c.department).where(people.c.username == username)).first()
    if row is None:
        return Actor(username)
    roles = frozenset(conn.execute(select(person_roles.c.role).where(person_roles.c.username == username))
                      .scalars())
    return Actor(username, roles, row.department, registered=True)


def check_roles(roles: Iterable[str]) -> list[str]:
    roles = list(roles)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"roles: unknown role(s) {', '.join(map(repr, unknown))}; use {', '.join(ROLES)}.",
                           field="roles")
    return sorted(set(roles))


def _name_from_slug(slug: str) -> str:
    small = {"and", "for", "of", "the", "on", "in"}
    words = slug.split("-")
    return " ".join(w if (w in small and i) else w.capitalize() for i, w in enumerate(words))


class Departments:
    """The organisations that hold data and employ people (GOV.UK organisation slugs)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list(self) -> pd.DataFrame:
        self._ctx.require("people.read", "departments")
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(departments).order_by(departments.c.slug)).mappings().all()
        return pd.DataFrame(rows, columns=["slug", "abbreviation", "name"])

    def resolve(self, conn: Connection, value: str) -> str:
        """A department slug from its slug or abbreviation (any case); refuse unknown ones."""
        t = departments
        slug = conn.execute(select(t.c.slug).where(or_(t.c.slug == value.lower(),
                                                       func.lower(t.c.abbreviation) == value.lower()))).scalar()
        if slug is None:
            known = ", ".join(f"{r.abbreviation or r.slug}" for r in conn.execute(select(t).order_by(t.c.slug)))
            raise InvalidInput(f"department: {value!r} is not a department of this workspace; known: "
                               f"{known or 'none yet'}.", field="department")
        return slug

    def add(self, slug: str, name: str, abbreviation: str | None = None) -> None:
        """Register a department (admins); refuse a malformed slug or a duplicate."""
        t = departments
        if not isinstance(slug, str) or not ORGANISATION_SLUG.match(slug):
            raise InvalidInput(f"slug: {slug!r} is not a GOV.UK organisation slug (e.g. 'home-office').",
                               field="slug")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name: give the department's name.", field="name")
        with self._ctx.write() as conn:
            self._ctx.check("departments.manage", f"department {slug}")
            if conn.execute(select(t.c.slug).where(t.c.slug == slug)).first():
                raise Conflict(f"Department {slug!r} already exists.")
            if abbreviation and conn.execute(select(t.c.slug).where(t.c.abbreviation == abbreviation)).first():
                raise Conflict(f"Another department already uses the abbreviation {abbreviation!r}.")
            self.ensure(conn, slug, name.strip(), abbreviation)
            audit.append(conn, self._ctx.actor.username, "departments.add", f"department {slug}",
                         detail={"name": name, "abbreviation": abbreviation})

    @staticmethod
    def ensure(conn: Connection, slug: str, name: str | None = None, abbreviation: str | None = None) -> None:
        """Record an organisation the first time it is named (idempotent)."""
        t = departments
        if conn.execute(select(t.c.slug).where(t.c.slug == slug)).first() is None:
            conn.execute(insert(t).values(slug=slug, abbreviation=abbreviation,
                                          name=name or _name_from_slug(slug)))


class People:
    """Registered people and their roles."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def add(self, username: str, name: str, *, roles: Iterable[str], email: str | None = None,
            department: str | None = None) -> dict[str, Any]:
        """Register a person with roles; refuse duplicates and unknown departments or roles."""
        if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
            raise InvalidInput(f"username: {username!r} is not valid: use 2–63 lower-case letters, digits, "
                               "'.', '_' or '-', starting with a letter.", field="username")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name: give the person's full name.", field="name")
        if email is not None and "@" not in email:
            raise InvalidInput(f"email: {email!r} is not an email address.", field="email")
        roles = check_roles(roles)
        with self._ctx.write() as conn:
            count = conn.execute(select(func.count()).select_from(people)).scalar_one()
            self._ctx.check("people.manage", f"person {username}", people_count=count)
            if count == 0 and ("admin" not in roles or username != self._ctx.actor.username):
                raise InvalidInput(f"The first person in a workspace must be you ({self._ctx.actor.username}), "
                                   "as its admin.", field="roles")
            if conn.execute(select(people.c.username).where(people.c.username == username)).first():
                raise Conflict(f"{username!r} is already registered; change their roles instead.")
            slug = Departments(self._ctx).resolve(conn, department) if department else None
            conn.execute(insert(people).values(username=username, name=name.strip(), email=email,
                                               department=slug, created_at=datetime.now(UTC)))
            if roles:
                conn.execute(insert(person_roles), [{"username": username, "role": r} for r in roles])
            audit.append(conn, self._ctx.actor.username, "people.add", f"person {username}",
                         detail={"roles": roles, "department": slug})
            if username == self._ctx.actor.username:
                self._ctx.actor = actor_for(conn, username)
        return self.get(username)

    def get(self, username: str) -> dict[str, Any]:
        """One person with their roles."""
        self._ctx.require("people.read", f"person {username}")
        check_username(username)
        with self._ctx.db.read() as conn:
            row = conn.execute(select(people).where(people.c.username == username)).mappings().first()
            if row is None:
                raise NotFound(f"No person {username!r} is registered in this workspace.")
            actor = actor_for(conn, username)
        return {**dict(row), "roles": sorted(actor.roles)}

    def list(self) -> pd.DataFrame:
        """Everyone registered, username first, with their roles."""
        self._ctx.require("people.read", "people")
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(people).order_by(people.c.username)).mappings().all()
            roles: dict[str, list[str]] = {}
            for r in conn.execute(select(person_roles).order_by(person_roles.c.role)):
                roles.setdefault(r.username, []).append(r.role)
        frame = pd.DataFrame(rows, columns=["username", "name", "email", "department", "accreditation",
                                            "accredited_until", "created_at"])
        frame.insert(2, "roles", [roles.get(u, []) for u in frame["username"]])
        return frame

    def set_roles(self, username: str, roles: Iterable[str]) -> dict[str, Any]:
        """Replace a person's roles (admins); an admin cannot remove their own admin role."""
        roles = check_roles(roles)
        with self._ctx.write(audit_refusals_as=("people.manage", f"person {username}")) as conn:
            self._ctx.check("people.manage", f"person {username}")
            self._require_person(conn, username)
            if username == self._ctx.actor.username and "admin" not in roles:
                raise InvalidInput("roles: you cannot remove your own admin role; ask another admin.", field="roles")
            before = sorted(conn.execute(select(person_roles.c.role).where(person_roles.c.username == username))
                            .scalars())
            conn.execute(delete(person_roles).where(person_roles.c.username == username))
            if roles:
                conn.execute(insert(person_roles), [{"username": username, "role": r} for r in roles])
            audit.append(conn, self._ctx.actor.username, "people.roles", f"person {username}",
                         detail={"before": before, "after": roles})
        return self.get(username)

    def accredit(self, username: str, *, until: date | str | None = None,
                 status: str = "accredited") -> dict[str, Any]:
        """Record a person's researcher accreditation (admins): accredited until a date, suspended or revoked."""
        if status not in ACCREDITATIONS:
            raise InvalidInput(f"status: {status!r} is not one of {', '.join(ACCREDITATIONS)}.", field="status")
        expiry = check_date(until, "until") if until is not None else None
        if status == "accredited":
            if expiry is None:
                raise InvalidInput("until: give the date the accreditation expires (YYYY-MM-DD).", field="until")
            if expiry < date.today():
                raise InvalidInput(f"until: {expiry} is in the past; give a future expiry date.", field="until")
        with self._ctx.write(audit_refusals_as=("people.accredit", f"person {username}")) as conn:
            self._ctx.check("people.accredit", f"person {username}")
            self._require_person(conn, username)
            conn.execute(update(people).where(people.c.username == username)
                         .values(accreditation=status, accredited_until=expiry))
            audit.append(conn, self._ctx.actor.username, "people.accredit", f"person {username}",
                         detail={"status": status, "until": expiry.isoformat() if expiry else None})
        return self.get(username)

    def record_training(self, username: str, course: str, *, completed: date | str,
                        expires: date | str | None = None) -> pd.DataFrame:
        """Record a completed course (admins and trainers); it counts until ``expires`` (default 3 years)."""
        if not isinstance(course, str) or not CODE.match(course):
            raise InvalidInput(f"course: {course!r} is not a course code: use lower-case letters, digits and "
                               "'-', e.g. 'safe-researcher'.", field="course")
        done = check_date(completed, "completed")
        if done > date.today():
            raise InvalidInput(f"completed: {done} is in the future.", field="completed")
        until = check_date(expires, "expires") if expires is not None else done.replace(year=done.year + 3)
        if until <= done:
            raise InvalidInput(f"expires: {until} is not after completion ({done}).", field="expires")
        with self._ctx.write(audit_refusals_as=("people.train", f"person {username}")) as conn:
            self._ctx.check("people.train", f"person {username}")
            self._require_person(conn, username)
            key = (training_records.c.username == username) & (training_records.c.course == course) & \
                (training_records.c.completed == done)
            if conn.execute(select(training_records.c.course).where(key)).first():
                raise Conflict(f"{username} already has {course} completed on {done} on record.")
            conn.execute(insert(training_records).values(
                username=username, course=course, completed=done, expires=until,
                recorded_by=self._ctx.actor.username, recorded_at=datetime.now(UTC)))
            audit.append(conn, self._ctx.actor.username, "people.train", f"person {username}",
                         detail={"course": course, "completed": done.isoformat(), "expires": until.isoformat()})
        return self.training(username)

    def training(self, username: str) -> pd.DataFrame:
        """A person's training records, newest first."""
        t = training_records
        self._ctx.require("people.read", f"person {username}")
        check_username(username)
        with self._ctx.db.read() as conn:
            self._require_person(conn, username)
            rows = conn.execute(select(t.c.course, t.c.completed, t.c.expires, t.c.recorded_by)
                                .where(t.c.username == username).order_by(t.c.completed.desc())).mappings().all()
        frame = pd.DataFrame(rows, columns=["course", "completed", "expires", "recorded_by"])
        frame["current"] = [e >= date.today() for e in frame["expires"]]
        return frame

    @staticmethod
    def _require_person(conn: Connection, username: str) -> None:
        if conn.execute(select(people.c.username).where(people.c.username == username)).first() is None:
            raise NotFound(f"No person {username!r} is registered in this workspace; check the username.",
                           notebook="ws.people.list() lists them.")
