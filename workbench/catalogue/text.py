"""How catalogue text becomes search terms, the same way for entries and for queries, on every database.

Words are stemmed with the Snowball English stemmer (``snowballstemmer``, the stemmer Sphinx and many search
engines use), so "hospitals", "hospital" and "hospitalised" meet. The analysis runs here, in Python, rather than
in SQLite FTS5 or PostgreSQL's text search: the two engines tokenise, stem and rank differently, and a catalogue
must answer the same on either. An entry is stored as its terms with a weight that says in which of its fields
each appears (title > keywords and themes > summary and description > column names and publisher), and a query
becomes *slots* — one per word the user typed — each satisfied by any of its alternatives (the word's stem, its
prefix while typing, an abbreviation's meaning or the abbreviation for a meaning).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# how much a term counts for in each field; a term in several fields counts for each (title + keywords: 12)
FIELD_WEIGHTS = {"title": 8, "keywords": 4, "description": 2, "columns": 1, "publisher": 1}
MAX_TERM_LENGTH = 64  # longer words are cut to this (the column's width); nobody searches for 65 letters
MIN_PREFIX = 3  # the last word is matched as a prefix (search as you type) from this many letters
MAX_COMPACT = 12  # "A&E", "ICD-10", "16-24": a punctuated word also counts as its letters run together
# Words too common to say what an entry is about; a query of only these finds nothing rather than everything.
STOPWORDS = frozenset("""
a an and are as at be by for from has have in into is it its of on or that the their this to was were which
with within per via all any each
""".split())  # noqa: SIM905 - a paragraph of words reads better than a list

_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    """Lower case, accents off ("Ünïcode" → "unicode"), control characters as spaces."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in unicodedata.normalize("NFKD", text))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word: ``stem('admissions') == 'admiss'``."""
    return _STEMMER.stemWord(word)[:MAX_TERM_LENGTH]


def words(text: str) -> list[str]:
    """The lower-case words of a text, in order (letters and digits; punctuation and ``_`` separate)."""
    return _WORD.findall(normalise(text))


def compact(chunk: str) -> str:
    """A punctuated word's letters run together ("A&E" → "ae", "ICD-10" → "icd10"), or '' if it has one part or
    is too long to be an abbreviation."""
    parts = words(chunk)
    joined = "".join(parts)
    return joined if len(parts) > 1 and len(joined) <= MAX_COMPACT else ""


def term_key(term: str) -> str:
    """How an abbreviation or synonym is looked up: its letters and digits, lower case ("A&E", "a & e" → "ae")."""
    return "".join(words(term))[:MAX_TERM_LENGTH]


def _content(word: str) -> bool:
    return len(word) > 1 and word not in STOPWORDS


def field_terms(text: str) -> set[str]:
    """The terms a field's text is stored as: each word and its stem, and the run-together form of punctuated
    words. One-letter words and stopwords are left out (they would match nearly every entry)."""
    terms: set[str] = set()
    for chunk in normalise(text).split():
        for word in words(chunk):
            if _content(word):
                terms.add(word[:MAX_TERM_LENGTH])
                terms.add(stem(word))
        if joined := compact(chunk):
            terms.add(joined)
    return terms


def document_terms(fields: Mapping[str, str]) -> dict[str, int]:
    """An entry's terms and their weights: the sum of ``FIELD_WEIGHTS`` of the fields each appears in."""
    weights: dict[str, int] = {}
    for field, text in fields.items():
        for term in field_terms(text or ""):
            weights[term] = weights.get(term, 0) + FIELD_WEIGHTS[field]
    return weights


@dataclass(frozen=True)
class Match:
    """One stored term to look for: exactly, or (``prefix``) any term starting with it."""

    term: str
    prefix: bool = False


Alternative = tuple[Match, ...]  # every match must be found (an expansion of several words)


@dataclass(frozen=True)
class Slot:
    """One thing the user typed and the alternatives that satisfy it; ``words`` are what they typed."""

    words: tuple[str, ...]
    alternatives: tuple[Alternative, ...]


def _meaning_alternative(meaning: str) -> Alternative:
    return tuple(Match(stem(w)) for w in words(meaning) if _content(w))


def parse_query(text: str, synonyms: Iterable[tuple[str, str]] = ()) -> list[Slot]:
    """The slots of a query. ``synonyms`` are (abbreviation or term, meaning) pairs from the catalogue's table:
    typing either side finds entries that use the other. The last word, when the user may still be typing it
    (no space after it) and it has ``MIN_PREFIX`` letters, also matches as a prefix."""
    by_key: dict[str, list[str]] = {}
    for term, meaning in synonyms:
        by_key.setdefault(term_key(term), []).append(meaning)
    text = normalise(text)
    chunks = text.split()
    typing = bool(chunks) and not text[-1:].isspace()
    slots: list[Slot] = []
    for i, chunk in enumerate(chunks):
        parts = words(chunk)
        key = "".join(parts)[:MAX_TERM_LENGTH]
        alternatives: list[Alternative] = []
        if len(parts) > 1:  # "A&E": the run-together form, and the parts that say something ("long-term")
            if joined := compact(chunk):
                alternatives.append((Match(joined),))
            content = tuple(Match(stem(w)) for w in parts if _content(w))
            if content:
                alternatives.append(content)
        elif parts and _content(parts[0]):
            word = parts[0][:MAX_TERM_LENGTH]
            alternatives.append((Match(stem(word)),))
            if typing and i == len(chunks) - 1 and len(word) >= MIN_PREFIX:
                alternatives.append((Match(word, prefix=True),))
        for meaning in by_key.get(key, []):
            if expansion := _meaning_alternative(meaning):
                alternatives.append(expansion)
        if alternatives:
            slots.append(Slot((chunk,), tuple(dict.fromkeys(alternatives))))
    return _join_meanings(slots, by_key)


def _join_meanings(slots: list[Slot], by_key: dict[str, list[str]]) -> list[Slot]:
    """Where the query spells out a meaning ("accident and emergency"), those words become one slot that its
    abbreviation ("A&E") satisfies too."""
    for key, meanings in by_key.items():
        for meaning in meanings:
            wanted = [stem(w) for w in words(meaning) if _content(w)]
            n = len(wanted)
            if not n:
                continue
            firsts = [s.alternatives[0] for s in slots]
            for start in range(len(slots) - n + 1):
                if [a[0].term if len(a) == 1 else None for a in firsts[start:start + n]] == wanted:
                    merged = (*(slots[start].alternatives if n == 1 else (tuple(Match(w) for w in wanted),)),
                              (Match(key),))
                    slot = Slot(tuple(w for s in slots[start:start + n] for w in s.words), tuple(dict.fromkeys(merged)))
                    slots = [*slots[:start], slot, *slots[start + n:]]
                    break
    return slots
