"""Catalogue search in the database: storing an entry's weighted terms, ranking a query's slots in portable SQL,
and "did you mean" over the words of titles and keywords.

Ranking is the same on SQLite and PostgreSQL because it is plain SQL over the terms ``workbench.catalogue.text``
made: an entry's score is, for each slot of the query, the best weight among the slot's alternatives (an
alternative of several words counts its weakest), summed over slots. So a word in the title beats one in the
keywords, which beats one in the description; an entry matching two of the words beats one matching one of them
however often; ties go by id.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import jellyfish
from sqlalchemy import delete, func, insert, select
from sqlalchemy import text as sql_text

from workbench.catalogue.entry import theme_label
from workbench.catalogue.text import (
    MAX_TERM_LENGTH,
    STOPWORDS,
    Slot,
    document_terms,
    normalise,
    stem,
    words,
)
from workbench.db.schema import audit_events, dataset_terms, dataset_themes, datasets, departments, search_terms

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.db import Database


def entry_fields(record: Mapping[str, Any], department: tuple[str | None, str] | None) -> dict[str, str]:
    """The text of an entry's searchable fields. Themes count as keywords (a user typing "health" means the
    Health theme); the publishing department (abbreviation and name) as little as a column name."""
    themes = [theme_label(t) for t in record.get("theme", [])]
    return {
        "title": record["title"],
        "keywords": " ".join([*record.get("keyword", []), *themes]),
        "description": f"{record.get('summary') or ''} {record['description']}",
        "columns": " ".join(f"{c['name'].replace('_', ' ')} {c.get('description', '')}"
                            for c in record.get("columns") or []),
        "publisher": " ".join(p for p in (department or ()) if p),
    }


def index_entry(conn: Connection, dataset_id: str, record: Mapping[str, Any]) -> None:
    """Store (or replace) an entry's weighted terms; called in the transaction that writes the entry."""
    department = conn.execute(select(departments.c.abbreviation, departments.c.name)
                              .where(departments.c.slug == record["department"])).first()
    terms = document_terms(entry_fields(record, tuple(department) if department else None))
    conn.execute(delete(dataset_terms).where(dataset_terms.c.dataset_id == dataset_id))
    if terms:
        conn.execute(insert(dataset_terms), [{"term": t, "dataset_id": dataset_id, "weight": w}
                                             for t, w in terms.items()])


def refresh_statistics(db: Database) -> None:
    """After a bulk import, tell PostgreSQL's planner how large the catalogue now is, and mark the new rows visible
    to every transaction. Until autovacuum gets to it the planner takes the search tables for nearly empty and
    joins filters by nested loops (measured, 10,000 entries searched with filters took 250 ms instead of 8 ms),
    and each term's rows are read from the heap, scattered over as many pages as entries (15 ms for a word in one
    entry in six) instead of from the index that holds their weights. VACUUM cannot run inside a transaction, so
    this runs after the import committed. SQLite plans these queries well without, and stores terms in order."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sql_text("VACUUM (ANALYZE) datasets, dataset_terms, dataset_missions, dataset_themes"))


def synonyms(conn: Connection) -> list[tuple[str, str]]:
    """The catalogue's (term, meaning) pairs: a small table."""
    return [(r.term, r.meaning) for r in conn.execute(select(search_terms.c.term, search_terms.c.meaning))]


def _asked_words(text: str) -> tuple[dict[str, str], str | None]:
    """The words of a query a "did you mean" may replace, with their stems, and the last word if the user may
    still be typing it (it then counts as known when some term starts with it)."""
    chunks = normalise(text).split()
    typing = bool(chunks) and not text[-1:].isspace()
    asked = {w: stem(w) for chunk in chunks if len(parts := words(chunk)) == 1 for w in parts
             if len(w) > 2 and w not in STOPWORDS and not w.isdigit()}
    last = words(chunks[-1]) if chunks else []
    return asked, (last[0] if typing and len(last) == 1 and last[0] in asked else None)


def prepare(conn: Connection, text: str) -> tuple[list[tuple[str, str]], set[str]]:
    """What a search needs before it ranks, in one round trip to the database: the synonyms (to parse the query)
    and the words of the query no entry holds (by stem; the last word, while typing, as a prefix too), which a
    "did you mean" may replace. Each word costs one index probe that stops at its first entry, not a read of
    every entry holding it."""
    asked, typing = _asked_words(text)
    stems = sorted(set(asked.values()))
    parts = ["SELECT 0 AS kind, term AS a, meaning AS b FROM search_terms"]
    params: dict[str, str] = {}
    for i, term in enumerate(stems):
        params[f"held{i}"] = term
        parts.append(f"SELECT 1, CAST(:held{i} AS VARCHAR(100)), NULL WHERE EXISTS "
                     f"(SELECT 1 FROM dataset_terms WHERE term = :held{i})")
    if typing is not None:
        prefix = typing[:MAX_TERM_LENGTH]
        params["typed_from"], params["typed_to"] = prefix, _after(prefix)
        parts.append("SELECT 2, CAST(:typed_from AS VARCHAR(100)), NULL WHERE EXISTS "
                     "(SELECT 1 FROM dataset_terms WHERE term >= :typed_from AND term < :typed_to)")
    pairs: list[tuple[str, str]] = []
    held: set[str] = set()
    typed = False
    for kind, a, b in conn.execute(sql_text(" UNION ALL ".join(parts)), params):
        if kind == 0:
            pairs.append((a, b))
        elif kind == 1:
            held.add(a)
        else:
            typed = True
    unknown = {w for w, s in asked.items() if s not in held}
    if typed and typing is not None:
        unknown.discard(typing)
    return pairs, unknown


def _after(prefix: str) -> str:
    """The first string after every string starting with ``prefix`` (bytewise, as both databases compare terms)."""
    return prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))


class RankingQuery:
    """The SQL ranking a query's slots, with its parameters; ``where`` are filters on ``d`` (datasets)."""

    def __init__(self, dialect: str, slots: list[Slot], where: list[str], params: dict[str, Any]) -> None:
        self.params = dict(params)
        matches = list(dict.fromkeys(m for s in slots for a in s.alternatives for m in a))
        reads = []  # one index read per match, each row tagged with its match: no OR for the planner to merge
        for i, match in enumerate(matches):
            term = match.term[:MAX_TERM_LENGTH]
            if match.prefix:
                self.params[f"term_from{i}"], self.params[f"term_to{i}"] = term, _after(term)
                condition = f"term >= :term_from{i} AND term < :term_to{i}"
            else:
                self.params[f"term{i}"] = term
                condition = f"term = :term{i}"
            reads.append(f"SELECT dataset_id, {i} AS m, weight FROM dataset_terms WHERE {condition}")
        greatest, least = ("max", "min") if dialect == "sqlite" else ("greatest", "least")

        def best(items: list[str], function: str) -> str:
            return items[0] if len(items) == 1 else f"{function}({', '.join(items)})"

        found = {m: f"max(CASE WHEN dt.m = {i} THEN dt.weight ELSE 0 END)" for i, m in enumerate(matches)}
        slot_scores = [best([best([found[m] for m in alternative], least) for alternative in slot.alternatives],
                            greatest) for slot in slots]
        scored = (f"SELECT dt.dataset_id AS id, {' + '.join(slot_scores)} AS score "
                  f"FROM ({' UNION ALL '.join(reads)}) dt GROUP BY dt.dataset_id")
        # filters apply to each matching entry once, after its terms are summed, not to each matching term
        self.scored = (f"SELECT s.id, s.score FROM ({scored}) s JOIN datasets d ON d.id = s.id "
                       f"WHERE {' AND '.join(where)}") if where else scored

    def page(self, dialect: str, limited: bool) -> str:
        """Ids, scores and the number of all matches, best first, one page (``:limit`` after ``:offset``) or
        everything after ``:offset``."""
        if limited:
            page = " LIMIT :limit OFFSET :offset"
        else:  # SQLite needs a LIMIT before OFFSET; -1 is its "no limit"
            page = " LIMIT -1 OFFSET :offset" if dialect == "sqlite" else " OFFSET :offset"
        return (f"SELECT s.id, s.score, count(*) OVER () AS total FROM ({self.scored}) s WHERE s.score > 0 "
                f"ORDER BY s.score DESC, s.id{page}")

    def count(self) -> str:
        return f"SELECT count(*) FROM ({self.scored}) s WHERE s.score > 0"


# -- did you mean ---------------------------------------------------------------------------------------------------
_VOCABULARY: dict[tuple[str, Any], Counter[str]] = {}
_VOCABULARY_LOCK = threading.Lock()


def vocabulary(conn: Connection, url: str) -> Counter[str]:
    """The words of every title, keyword, theme and synonym with how many entries use each; kept per database
    until the next audited change (every change to an entry or a search term is audited), which the audit log's
    last sequence number tells at the cost of one index look-up."""
    key = (url, conn.execute(select(func.max(audit_events.c.seq))).scalar())
    with _VOCABULARY_LOCK:
        if key in _VOCABULARY:
            return _VOCABULARY[key]
    themes: dict[str, list[str]] = {}
    for dataset_id, label in conn.execute(select(dataset_themes.c.dataset_id, dataset_themes.c.label)):
        themes.setdefault(dataset_id, []).append(label)
    counts: Counter[str] = Counter()
    for dataset_id, title, keywords in conn.execute(select(datasets.c.id, datasets.c.title,
                                                           datasets.c.keywords_text)):
        text = f"{title} {keywords} {' '.join(themes.get(dataset_id, []))}"
        counts.update({w for w in words(text) if len(w) > 2 and not w.isdigit()})
    for term, meaning in synonyms(conn):
        counts.update(w for w in words(f"{term} {meaning}") if len(w) > 2)
    with _VOCABULARY_LOCK:
        if len(_VOCABULARY) > 16:
            _VOCABULARY.clear()
        _VOCABULARY[key] = counts
    return counts


def _closest(word: str, counts: Counter[str]) -> str | None:
    """The vocabulary word nearest ``word`` by Damerau–Levenshtein distance (a swap of two letters is one edit):
    at most 1 edit for words of up to 4 letters, 2 for longer; ties go to the word more entries use."""
    limit = 1 if len(word) <= 4 else 2
    best: tuple[int, int, str] | None = None
    for candidate, n in counts.items():
        if abs(len(candidate) - len(word)) > limit or candidate == word:
            continue
        distance = jellyfish.damerau_levenshtein_distance(word, candidate)
        if distance <= limit and (best is None or (distance, -n, candidate) < best):
            best = (distance, -n, candidate)
    return best[2] if best else None


def suggestion(text: str, counts: Counter[str], unknown: Iterable[str]) -> str | None:
    """The query with each ``unknown`` word replaced by the nearest word the catalogue's titles and keywords use
    ("hosptial" → "hospital"), or None when none has a replacement."""
    unknown = set(unknown)
    changed = False
    out = []
    for chunk in normalise(text).split():
        parts = words(chunk)
        if len(parts) == 1 and parts[0] in unknown:
            nearest = _closest(parts[0], counts)
            if nearest is not None:
                out.append(nearest)
                changed = True
                continue
        out.append(chunk)
    return " ".join(out) if changed else None
