"""The catalogue's abbreviations and synonyms (``ws.catalogue.terms``): "HES" means "Hospital Episode Statistics",
"A&E" means "accident and emergency". Search uses them both ways: typing the term finds entries that spell out the
meaning, typing the meaning finds entries that use the term. They are catalogue data, kept by data owners and
admins (every change audited), because which abbreviations a community uses is knowledge about its data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import delete, insert, select, update

from workbench import audit
from workbench.catalogue.text import MAX_TERM_LENGTH, STOPWORDS, term_key, words
from workbench.db.schema import search_terms
from workbench.errors import InvalidInput, NotFound
from workbench.validation import check_optional_text

if TYPE_CHECKING:
    from workbench.context import Context

MAX_TERM = 100
MAX_MEANING = 300


def _checked(term: object, meaning: object) -> tuple[str, str, str]:
    """(key, term, meaning) of a valid pair, or refuse saying what to change."""
    term = check_optional_text(term, "term", "the abbreviation or word", limit=MAX_TERM)
    meaning = check_optional_text(meaning, "meaning", "what it stands for", limit=MAX_MEANING)
    if term is None or not term.strip():
        raise InvalidInput("term: give the abbreviation or word users type, e.g. 'A&E'.", field="term")
    if meaning is None or not meaning.strip():
        raise InvalidInput("meaning: give what the term stands for, e.g. 'accident and emergency'.", field="meaning")
    key = term_key(term)
    if not key:
        raise InvalidInput(f"term: {term!r} has no letters or digits to search for; give e.g. 'A&E'.", field="term")
    if len("".join(words(term))) > MAX_TERM_LENGTH:
        raise InvalidInput(f"term: {term!r} is too long for a search term; give at most {MAX_TERM_LENGTH} letters "
                           "and digits.", field="term")
    content = [w for w in words(meaning) if len(w) > 1 and w not in STOPWORDS]
    if not content:
        raise InvalidInput(f"meaning: {meaning!r} has no word to search for (only punctuation, single letters or "
                           "words such as 'and', 'of'); spell it out, e.g. 'accident and emergency'.",
                           field="meaning")
    if "".join(content) == key:
        raise InvalidInput(f"meaning: {meaning!r} is the term itself; give what {term!r} stands for.",
                           field="meaning")
    return key, " ".join(term.split()), " ".join(meaning.split())


class SearchTerms:
    """List, add and remove the abbreviations and synonyms catalogue search expands."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list(self) -> pd.DataFrame:
        """Every term and meaning, with who added it and when, by term."""
        self._ctx.require("catalogue.read", "search terms")
        t = search_terms
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(t.c.term, t.c.meaning, t.c.added_by, t.c.added_at)
                                .order_by(t.c.key, t.c.meaning)).all()
        return pd.DataFrame([r._asdict() for r in rows], columns=["term", "meaning", "added_by", "added_at"])

    def add(self, term: str, meaning: str) -> dict[str, str]:
        """Say that ``term`` stands for ``meaning`` (data owners and admins). A term may have several meanings;
        adding a pair again only updates how the term is written. Returns ``{"term", "meaning", "action"}``."""
        key, term, meaning = _checked(term, meaning)
        t = search_terms
        resource = f"search term {term!r}"
        with self._ctx.write(audit_refusals_as=("catalogue.search_term", resource)) as conn:
            self._ctx.check("catalogue.terms", resource)
            exists = conn.execute(select(t.c.term).where((t.c.key == key) & (t.c.meaning == meaning))).first()
            now = datetime.now(UTC)
            if exists:
                conn.execute(update(t).where((t.c.key == key) & (t.c.meaning == meaning))
                             .values(term=term, added_by=self._ctx.actor.username, added_at=now))
            else:
                conn.execute(insert(t).values(key=key, term=term, meaning=meaning,
                                              added_by=self._ctx.actor.username, added_at=now))
            action = "updated" if exists else "added"
            audit.append(conn, self._ctx.actor.username, "catalogue.search_term", resource,
                         detail={"meaning": meaning, "action": action})
        return {"term": term, "meaning": meaning, "action": action}

    def remove(self, term: str, meaning: str | None = None) -> int:
        """Forget a term's meaning (or, without ``meaning``, all of them); returns how many were removed."""
        text = check_optional_text(term, "term", "the abbreviation or word", limit=MAX_TERM)
        check_optional_text(meaning, "meaning", "the meaning to remove", limit=MAX_MEANING)
        key = term_key(text or "")
        if not key:
            raise InvalidInput("term: give the term to remove, e.g. 'A&E'.", field="term")
        t = search_terms
        resource = f"search term {text!r}"
        with self._ctx.write(audit_refusals_as=("catalogue.search_term", resource)) as conn:
            self._ctx.check("catalogue.terms", resource)
            where = t.c.key == key
            if meaning is not None:
                where = where & (t.c.meaning == " ".join(meaning.split()))
            removed = conn.execute(delete(t).where(where)).rowcount
            if not removed:
                known = ", ".join(conn.execute(select(t.c.term).distinct().order_by(t.c.term)).scalars())
                raise NotFound(f"No search term {text!r}{f' meaning {meaning!r}' if meaning else ''}; known terms: "
                               f"{known or 'none yet'} (ws.catalogue.terms.list()).")
            audit.append(conn, self._ctx.actor.username, "catalogue.search_term", resource,
                         detail={"meaning": meaning, "action": "removed", "count": removed})
        return removed
