"""Regression formulas: the workbench's own strict grammar, parsed here and never evaluated as code.

A formula names columns of the data and says how they enter the model. Nothing in it is executed: it is read by
a tokenizer and a recursive-descent parser of the grammar below, and the design matrix is built from the
DataFrame's columns with pandas/numpy. Anything outside the grammar is refused with ``InvalidInput`` naming the
token and its position. The grammar is a small subset of the R/patsy formula language, and for that subset the
design matrix is the one patsy builds (same columns, same order, same names, same treatment coding, same rows
dropped for missing values), so results are those of ``statsmodels.formula.api`` without its code evaluation.

Grammar (whitespace between tokens is ignored)::

    formula  := outcome "~" rhs
    outcome  := name
    rhs      := [ "+" | "-" ] sum          a sign may only start the right-hand side ("y ~ -1 + x")
    sum      := product { ("+" | "-") product }
    product  := interact { "*" interact }       a*b means a + b + a:b
    interact := atom { ":" atom }                a:b is the interaction of a and b
    atom     := name | "C(" name [ "," level ] ")" | "0" | "1" | "(" sum ")"
    name     := [A-Za-z_][A-Za-z0-9_]*  |  `any other column name`     (`` inside back-quotes is one `)
    level    := [A-Za-z_][A-Za-z0-9_]*  |  digits[.digits]  |  `back-quoted level`

``- term`` removes a term; ``0``, ``+ 0``, ``- 1`` drop the intercept and ``1`` (or ``- 0``) keeps it. ``C(name)``
treats a column as categorical (treatment coding, the first level as reference); ``C(name, level)`` makes
``level`` the reference. A column that is not numeric (text, boolean, pandas Categorical) is categorical when
used bare.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput

MAX_LENGTH = 2_000  # characters of formula text
MAX_TERMS = 200  # terms of the model, also while a product is expanded
MAX_DEGREE = 8  # columns in one interaction term
MAX_DEPTH = 20  # nested parentheses
MAX_COLUMNS = 1_000  # columns of the design matrix
# rows × columns of the design matrix: 400 MB of floats (a million records and 50 columns). A categorical column
# turns each row into up to MAX_COLUMNS cells, so a small body could otherwise make the service allocate
# gigabytes; MAX_WORK bounds the fit of the wide matrices that stay under it
MAX_CELLS = 50_000_000
MAX_WORK = 5_000_000_000  # rows × columns² of the design matrix: what fitting it costs (a few seconds at most)
SHOWN_LEVELS = 10  # a column with at most this many levels has them listed when a reference is not one

GRAMMAR = ("A formula is 'outcome ~ terms': column names (age, or `odd name` in back-quotes) joined by + (add), "
           "- (remove), : (interaction) and * (a*b = a + b + a:b), with parentheses; C(name) or C(name, level) for "
           "a categorical column (level: its reference level); 0 or - 1 to drop the intercept, 1 to keep it. "
           "Nothing else: no other functions, I(), strings, attributes or arithmetic.")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_WHITESPACE = " \t\r\n"
_OPERATORS = "~+-:*(),"
_HINTS = {
    "'": "strings are not part of a formula; back-quote a column name with odd characters: `odd name`",
    '"': "strings are not part of a formula; back-quote a column name with odd characters: `odd name`",
    ".": "there is no attribute access or method call in a formula",
    "[": "there is no indexing in a formula",
    "]": "there is no indexing in a formula",
    "/": "nesting (/) is not supported: write a + a:b",
    "|": "| is not supported",
    "=": "there are no keywords or assignments in a formula",
    "@": "@ is not supported",
    "**": "powers (**) are not supported: write the interactions out with :",
}


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(f"formula: {message}. {GRAMMAR}", field="formula")


def _show(text: str) -> str:
    """A token for a message: repr'd, shortened."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


# -- tokens --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # "name" (identifier), "quoted" (back-quoted name), "number", "op", "end"
    text: str  # the name, number or operator (a quoted name without its back-quotes)
    position: int  # 1-based character position in the formula

    def shown(self) -> str:
        if self.kind == "end":
            return "the end of the formula"
        return f"{_show(self.text if self.kind != 'quoted' else _quote(self.text))} at position {self.position}"


def _bad_character(char: str) -> bool:
    """Control, format (e.g. bidirectional overrides, zero-width) and other invisible characters."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, or InvalidInput naming the first character that is not part of the grammar."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in _WHITESPACE:
            i += 1
        elif text.startswith("**", i):
            raise _refuse(f"'**' at position {i + 1} is not allowed: {_HINTS['**']}")
        elif char in _OPERATORS:
            tokens.append(Token("op", char, i + 1))
            i += 1
        elif char == "`":
            start, i, chars = i, i + 1, []
            while True:
                if i >= n:
                    raise _refuse(f"the back-quoted name at position {start + 1} is not closed")
                if text[i] == "`":
                    if text.startswith("``", i):
                        chars.append("`")
                        i += 2
                        continue
                    i += 1
                    break
                if _bad_character(text[i]):
                    raise _refuse(f"character U+{ord(text[i]):04X} at position {i + 1} (inside a back-quoted "
                                  "name) is an invisible or control character")
                chars.append(text[i])
                i += 1
            if not chars:
                raise _refuse(f"the back-quoted name at position {start + 1} is empty")
            tokens.append(Token("quoted", "".join(chars), start + 1))
        elif match := _IDENTIFIER.match(text, i):
            tokens.append(Token("name", match.group(), i + 1))
            i = match.end()
        elif match := _NUMBER.match(text, i):
            if match.end() < n and (text[match.end()] == "." or _IDENTIFIER.match(text, match.end())):
                raise _refuse(f"{_show(text[i:match.end() + 1])} at position {i + 1} is not a number or a name")
            tokens.append(Token("number", match.group(), i + 1))
            i = match.end()
        else:
            hint = _HINTS.get(char)
            if hint is None and (_bad_character(char) or not char.isascii()):
                hint = (f"it is character U+{ord(char):04X}; outside back-quotes a formula is plain ASCII: "
                        "back-quote a column name with other characters")
            raise _refuse(f"{_show(char)} at position {i + 1} is not allowed" + (f": {hint}" if hint else ""))
    tokens.append(Token("end", "", n + 1))
    return tokens


# -- the parsed formula ---------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    """A column name as written in a canonical formula: bare if it is an identifier, else back-quoted."""
    return name if _IDENTIFIER.fullmatch(name) else "`" + name.replace("`", "``") + "`"


def _level_text(level: str) -> str:
    return level if _IDENTIFIER.fullmatch(level) or _NUMBER.fullmatch(level) else "`" + level.replace("`", "``") + "`"


@dataclass(frozen=True)
class Factor:
    """One column as it enters the model: bare, or ``C(column)`` / ``C(column, reference)``."""

    column: str
    categorical: bool = False  # written C(...)
    reference: str | None = None  # the reference level, as written

    @property
    def text(self) -> str:
        """The canonical text, which is also the name of the factor in parameter names."""
        if not self.categorical:
            return _quote(self.column)
        ref = f", {_level_text(self.reference)}" if self.reference is not None else ""
        return f"C({_quote(self.column)}{ref})"


Term = tuple[Factor, ...]  # the factors of one term, in the order written; () is the intercept


def _term_key(term: Term) -> frozenset[Factor]:
    return frozenset(term)


def _unique(terms: list[Term]) -> list[Term]:
    """Terms without repeats (a:b is b:a), first occurrence kept."""
    seen: set[frozenset[Factor]] = set()
    out = []
    for term in terms:
        if _term_key(term) not in seen:
            seen.add(_term_key(term))
            out.append(term)
    if len(out) > MAX_TERMS:
        raise _refuse(f"it expands to more than {MAX_TERMS} terms")
    return out


@dataclass
class _Expr:
    """An evaluated sub-expression: its terms and what it says of the intercept (as patsy's algebra)."""

    terms: list[Term] = field(default_factory=list)
    intercept: bool = False
    intercept_removed: bool = False


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the outcome column, whether the model has an intercept, and its terms in order."""

    outcome: str
    intercept: bool
    terms: tuple[Term, ...]
    columns: tuple[str, ...] = field(compare=False)  # every column it names, removed terms included

    @property
    def text(self) -> str:
        """The canonical formula, rebuilt from the parsed terms: what is stored and shown."""
        parts = [":".join(f.text for f in term) for term in self.terms]
        if not self.intercept:
            parts.insert(0, "0")
        elif not parts:
            parts = ["1"]
        return f"{_quote(self.outcome)} ~ {' + '.join(parts)}"

    def __str__(self) -> str:
        return self.text


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0
        self.columns: list[str] = []

    # token helpers
    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def expect(self, op: str, what: str) -> Token:
        if not self.is_op(op):
            raise _refuse(f"expected {what} but found {self.peek().shown()}")
        return self.take()

    def unexpected(self, expected: str) -> InvalidInput:
        token = self.peek()
        following = self.tokens[self.at + 1] if token.kind != "end" else token
        if token.kind == "name" and following.kind == "op" and following.text == "(":
            return _refuse(f"{token.shown()} is a function call; the only function is C(name) or C(name, level)")
        return _refuse(f"expected {expected} but found {token.shown()}")

    # grammar
    def formula(self) -> Formula:
        if self.is_op("~"):
            raise _refuse("give the outcome column before '~' (e.g. 'income ~ age')")
        outcome = self.name("the outcome column")
        self.expect("~", "'~' after the outcome (a formula is 'outcome ~ terms')")
        node = self.sum(signed=True)
        if self.peek().kind != "end":
            raise self.unexpected("'+', '-', ':', '*' or the end of the formula")
        terms = _unique(node.terms)
        if any(len(t) > MAX_DEGREE for t in terms):
            raise _refuse(f"an interaction has more than {MAX_DEGREE} columns")
        intercept = not node.intercept_removed
        if not terms and not intercept:
            raise _refuse("the model has no terms and no intercept")
        return Formula(outcome, intercept, tuple(terms), tuple(dict.fromkeys(self.columns)))

    def _literal(self, start: int) -> str | None:
        """'0' or '1' if tokens[start:at] are a bare 0 or 1 (in parentheses or not), else None."""
        inner = [t for t in self.tokens[start:self.at] if not (t.kind == "op" and t.text in "()")]
        if len(inner) == 1 and inner[0].kind == "number" and inner[0].text in ("0", "1"):
            return inner[0].text
        return None

    def sum(self, signed: bool = False) -> _Expr:
        sign = self.take() if signed and self.is_op("+", "-") else None
        start = self.at
        left = self.product()
        if sign is not None and sign.text == "-":
            literal = self._literal(start)
            if literal is None:
                raise _refuse(f"{sign.shown()} can only remove the intercept ('y ~ -1 + x'); a term is removed "
                              "with 'a - term'")
            left = _Expr(intercept=True) if literal == "0" else _Expr(intercept_removed=True)
        while self.is_op("+", "-"):
            op = self.take()
            if self.is_op("+", "-"):
                raise _refuse(f"{self.peek().shown()} follows {op.shown()}: a sign can only start the right-hand "
                              "side; write 'x - 1' to drop the intercept")
            start = self.at
            right = self.product()
            literal = self._literal(start)
            left = self._plus(left, right, literal) if op.text == "+" else self._minus(left, right, literal)
        return left

    @staticmethod
    def _plus(left: _Expr, right: _Expr, literal: str | None) -> _Expr:
        if literal == "0":
            return _Expr(left.terms, intercept=False, intercept_removed=True)
        if right.intercept:
            return _Expr(_unique(left.terms + right.terms), intercept=True, intercept_removed=False)
        return _Expr(_unique(left.terms + right.terms), left.intercept, left.intercept_removed)

    @staticmethod
    def _minus(left: _Expr, right: _Expr, literal: str | None) -> _Expr:
        if literal == "0":
            return _Expr(left.terms, intercept=True, intercept_removed=False)
        if literal == "1":
            return _Expr(left.terms, intercept=False, intercept_removed=True)
        removed = {_term_key(t) for t in right.terms}
        terms = [t for t in left.terms if _term_key(t) not in removed]
        if right.intercept:
            return _Expr(terms, intercept=False, intercept_removed=True)
        return _Expr(terms, left.intercept, left.intercept_removed)

    def product(self) -> _Expr:
        left = self.interact()
        while self.is_op("*"):
            op = self.take()
            right = self.interact()
            self._interactable(left, op)
            self._interactable(right, op)
            left = _Expr(_unique(left.terms + right.terms + self._interaction(left, right)))
        return left

    def interact(self) -> _Expr:
        left = self.atom()
        while self.is_op(":"):
            op = self.take()
            right = self.atom()
            self._interactable(left, op)
            self._interactable(right, op)
            left = _Expr(_unique(self._interaction(left, right)))
        return left

    @staticmethod
    def _interactable(expr: _Expr, op: Token) -> None:
        if expr.intercept or expr.intercept_removed:
            raise _refuse(f"the intercept (0 or 1) cannot take part in {op.shown()}")

    @staticmethod
    def _interaction(left: _Expr, right: _Expr) -> list[Term]:
        terms = []
        for a in left.terms:
            for b in right.terms:
                terms.append(tuple(dict.fromkeys(a + b)))
                if len(terms) > MAX_TERMS:
                    raise _refuse(f"it expands to more than {MAX_TERMS} terms")
        return terms

    def atom(self) -> _Expr:
        token = self.peek()
        if token.kind == "number":
            self.take()
            if token.text == "0":
                return _Expr(intercept_removed=True)
            if token.text == "1":
                return _Expr(intercept=True)
            raise _refuse(f"{token.shown()} is a number; the only numbers in a formula are 0 and 1 (the intercept)")
        if self.is_op("("):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _refuse(f"parentheses are nested more than {MAX_DEPTH} deep")
            node = self.sum()
            self.expect(")", f"')' to close the '(' at position {token.position}")
            self.depth -= 1
            return node
        if token.kind == "name" and token.text == "C" and self.tokens[self.at + 1].text == "(" \
                and self.tokens[self.at + 1].kind == "op":
            self.take()
            self.take()
            column = self.name("a column name inside C( )")
            reference = None
            if self.is_op(","):
                self.take()
                level = self.take()
                if level.kind not in ("name", "quoted", "number"):
                    raise _refuse(f"expected a reference level after ',' but found {level.shown()}")
                reference = level.text
            if not self.is_op(")"):
                raise _refuse(f"expected ')' to close C( but found {self.peek().shown()}: C takes a column "
                              "name and, optionally, its reference level")
            self.take()
            return _Expr([(Factor(column, categorical=True, reference=reference),)])
        if token.kind in ("name", "quoted"):
            return _Expr([(Factor(self.name("a column name")),)])
        raise self.unexpected("a column name, C(name), 0, 1 or '('")

    def name(self, what: str) -> str:
        token = self.peek()
        following = self.tokens[self.at + 1] if token.kind != "end" else token
        if token.kind not in ("name", "quoted"):
            raise self.unexpected(what)
        if token.kind == "name" and following.kind == "op" and following.text == "(":
            raise self.unexpected(what)
        self.take()
        self.columns.append(token.text)
        return token.text


def parse(text: Any) -> Formula:
    """``text`` parsed by the grammar above, or InvalidInput naming the offending token and the grammar."""
    if not isinstance(text, str):
        raise InvalidInput(f"formula: give the formula as text, such as 'income ~ age + C(region)', not "
                           f"{type(text).__name__}.", field="formula")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"formula: it has {len(text):,} characters; a formula has at most {MAX_LENGTH:,}.",
                           field="formula")
    if "~" not in text:
        raise _refuse("there is no '~' between the outcome and the terms")
    return _Parser(text).formula()


# -- the design matrix ----------------------------------------------------------------------------------------
@dataclass
class Design:
    """The outcome and the design matrix (patsy's columns and names), rows with missing values dropped."""

    formula: Formula
    endog: pd.Series
    exog: pd.DataFrame


def _column(data: pd.DataFrame, name: str) -> pd.Series:
    found = [c for c in data.columns if isinstance(c, str) and c == name]
    if not found:
        shown = ", ".join(_quote(str(c)) for c in list(data.columns)[:50])
        more = f" and {len(data.columns) - 50} more" if len(data.columns) > 50 else ""
        raise InvalidInput(f"formula: {_show(name)} is not a column of the data (its columns: {shown}{more}).",
                           field="formula")
    if len(found) > 1:
        raise InvalidInput(f"formula: the data has {len(found)} columns named {_show(name)}; rename them.",
                           field="formula")
    return data[name]


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype))


def _numbers(series: pd.Series, what: str) -> np.ndarray:
    values = series.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        raise InvalidInput(f"formula: {what} has infinite values; replace or drop them first.", field="formula")
    return values


class _SortKey:
    """Orders levels like patsy: naturally where comparable, numbers before other types, else by type name."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _SortKey) -> bool:
        try:
            return bool(self.value < other.value)
        except TypeError:
            pass
        mine, theirs = _comparable_to_number(self.value), _comparable_to_number(other.value)
        if mine != theirs:
            return mine
        return (type(self.value).__name__, str(self.value)) < (type(other.value).__name__, str(other.value))


def _comparable_to_number(value: Any) -> bool:
    try:
        value < 0  # noqa: B015 - only whether the comparison is defined
    except TypeError:
        return False
    return True


@dataclass
class _Categorical:
    levels: list[Any]
    codes: np.ndarray  # level index per row, -1 where missing
    reference: int | None  # index of the reference level (treatment coding), None: the first


def _categorical(series: pd.Series, factor: Factor) -> _Categorical:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        levels = list(dtype.categories)
        codes = series.cat.codes.to_numpy(dtype=np.int64)
    else:
        if pd.api.types.is_bool_dtype(dtype):
            levels = [False, True]
        else:
            seen = series.dropna().drop_duplicates()
            if len(seen) > MAX_COLUMNS + 1:
                raise InvalidInput(f"formula: {factor.text} has more than {MAX_COLUMNS + 1:,} levels; a model has "
                                   f"at most {MAX_COLUMNS:,} columns.", field="formula")
            values = list(seen)
            if all(isinstance(v, bool | np.bool_) for v in values):
                levels = [False, True]
            else:
                levels = [k.value for k in sorted(map(_SortKey, values))]
        codes = pd.Categorical(series, categories=levels).codes.astype(np.int64)
    reference = None
    if factor.reference is not None:
        reference = _reference_index(levels, factor)
    return _Categorical(levels, codes, reference)


def _reference_index(levels: list[Any], factor: Factor) -> int:
    wanted = factor.reference
    for i, level in enumerate(levels):
        if str(level) == wanted:
            return i
    if _NUMBER.fullmatch(wanted or ""):
        for i, level in enumerate(levels):
            if isinstance(level, int | float | np.number) and not isinstance(level, bool) and \
                    float(level) == float(wanted):
                return i
    shown = (f" ({', '.join(_show(str(v)) for v in levels)})" if len(levels) <= SHOWN_LEVELS else "")
    raise InvalidInput(f"formula: {_show(wanted)} in {factor.text} is not one of the {len(levels)} levels of "
                       f"{_quote(factor.column)}{shown}; write a level exactly as it is in the data (back-quoted "
                       "if it has spaces or symbols).", field="formula")


def _subsets(items: list[Factor]) -> list[frozenset[tuple[Factor, bool]]]:
    """Every subset of ``items``, shortest first, ties in the order of the items (as patsy's redundancy pass)."""
    return [frozenset((f, False) for f in combo)
            for size in range(len(items) + 1) for combo in itertools.combinations(items, size)]


def _codings(categorical: list[Factor], used: set[frozenset[tuple[Factor, bool]]]) -> list[dict[Factor, bool]]:
    """How each categorical factor of a term is coded in each of its subterms: full rank (True) or reduced.

    patsy's rule for a full-rank design without redundancy: expand the term into every subset of its categorical
    factors, drop those an earlier term of the same numeric bucket already spans, then merge greedily (left to
    right) a subterm into a longer one that differs by one factor, which that factor then codes in full rank."""
    subterms = [s for s in _subsets(categorical) if s not in used]
    used.update(subterms)
    merged = True
    while merged:
        merged = False
        for i, short in enumerate(subterms):
            for j in range(i + 1, len(subterms)):
                long = subterms[j]
                if len(long) - len(short) == 1 and long > short:
                    (extra,) = long - short
                    subterms[j] = frozenset(short | {(extra[0], True)})
                    subterms.pop(i)
                    merged = True
                    break
            if merged:
                break
    return [dict(subterm) for subterm in subterms]


def _contrast(info: _Categorical, full_rank: bool, name: str) -> tuple[list[int], list[str]]:
    """Treatment coding of a categorical factor: the level each column indicates, and the columns' names."""
    if full_rank:
        return list(range(len(info.levels))), [f"{name}[{level}]" for level in info.levels]
    ref = info.reference or 0
    keep = [i for i in range(len(info.levels)) if i != ref]
    return keep, [f"{name}[T.{info.levels[i]}]" for i in keep]


def design(formula: Formula | str, data: Any) -> Design:
    """The outcome and design matrix of ``formula`` over ``data``, as patsy would build them, never evaluating
    the formula: numeric columns enter as they are, categorical ones in treatment coding."""
    if isinstance(formula, str):
        formula = parse(formula)
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise InvalidInput("data: give the DataFrame the formula refers to (it has no rows).", field="data")
    for name in formula.columns:
        _column(data, name)
    outcome = _column(data, formula.outcome)
    if pd.api.types.is_bool_dtype(outcome.dtype):
        y = outcome.to_numpy(dtype=float, na_value=np.nan)
    elif _is_numeric(outcome):
        y = _numbers(outcome, f"the outcome {_quote(formula.outcome)}")
    else:
        raise InvalidInput(f"formula: the outcome {_quote(formula.outcome)} is not numeric or boolean "
                           f"(it is {outcome.dtype}); give a numeric (or 0/1, True/False) column.", field="formula")
    missing = np.isnan(y)

    factors = list(dict.fromkeys(f for term in formula.terms for f in term))
    numeric: dict[Factor, np.ndarray] = {}
    categorical: dict[Factor, _Categorical] = {}
    for factor in factors:
        series = _column(data, factor.column)
        if not factor.categorical and _is_numeric(series):
            numeric[factor] = _numbers(series, _quote(factor.column))
            missing |= np.isnan(numeric[factor])
        elif pd.api.types.is_complex_dtype(series.dtype):
            raise InvalidInput(f"formula: {_quote(factor.column)} has complex numbers.", field="formula")
        else:
            try:
                categorical[factor] = _categorical(series, factor)
            except TypeError:  # values that cannot be compared or hashed (lists, dicts...)
                raise InvalidInput(f"formula: {_quote(factor.column)} holds values that cannot be categories "
                                   "(lists or other objects); give it text or numbers.", field="formula") from None
            missing |= categorical[factor].codes < 0

    # patsy's order: terms grouped by their numeric factors (the group without any first, then by first
    # appearance), each group by degree; each term's subterms coded so that the design has no redundancy
    buckets: dict[frozenset[Factor], list[Term]] = {}
    for term in ((),) * formula.intercept + formula.terms:
        buckets.setdefault(frozenset(f for f in term if f in numeric), []).append(term)
    order = sorted(buckets, key=lambda b: (len(b) > 0, list(buckets).index(b)))
    plan: list[tuple[list[Factor], dict[Factor, bool]]] = []
    for bucket in order:
        used: set[frozenset[tuple[Factor, bool]]] = set()
        for term in sorted(buckets[bucket], key=len):
            for coding in _codings([f for f in term if f in categorical], used):
                plan.append(([f for f in term if f in numeric or f in coding], coding))

    widths = [int(np.prod([len(categorical[f].levels) - (not coding[f]) if f in categorical else 1
                           for f in factors_])) for factors_, coding in plan]
    keep = ~missing
    rows = int(keep.sum())
    if sum(widths) > MAX_COLUMNS:
        raise InvalidInput(f"formula: the model would have {sum(widths):,} columns; at most {MAX_COLUMNS:,}. Use "
                           "fewer or coarser categorical columns.", field="formula")
    if rows * sum(widths) > MAX_CELLS:
        raise InvalidInput(f"formula: the design matrix would have {rows:,} × {sum(widths):,} cells; at most "
                           f"{MAX_CELLS:,}. Use fewer or coarser categorical columns, or a sample of the rows.",
                           field="formula")
    if rows * sum(widths) ** 2 > MAX_WORK:
        raise InvalidInput(f"formula: fitting a design matrix of {rows:,} rows × {sum(widths):,} columns is more "
                           f"work than one model may take (rows × columns² at most {MAX_WORK:,}). Use fewer or "
                           "coarser categorical columns, or a sample of the rows.", field="formula")
    if rows == 0:
        raise InvalidInput("data: no row has a value in every column the formula uses, so there is no model to "
                           "fit.", field="data")

    matrix = np.empty((rows, sum(widths)))
    names: list[str] = []
    for factors_, coding in plan:
        # per factor: its values (numeric) or level codes (categorical) on the kept rows, and per column of the
        # factor the level it indicates (None for a numeric factor) and the column's name
        pieces: list[tuple[np.ndarray, list[int | None], list[str]]] = []
        for factor in factors_:
            if factor in numeric:
                pieces.append((numeric[factor][keep], [None], [factor.text]))
            else:
                info = categorical[factor]
                levels, level_names = _contrast(info, coding[factor], factor.text)
                pieces.append((info.codes[keep], list(levels), level_names))
        # the left-most factor's columns vary fastest (as R and patsy)
        for combo in itertools.product(*[range(len(piece[2])) for piece in reversed(pieces)]):
            value = np.ones(rows)
            parts = []
            for (values, levels_, level_names), j in zip(pieces, combo[::-1], strict=True):
                value = value * (values if levels_[j] is None else (values == levels_[j]))
                parts.append(level_names[j])
            name = ":".join(parts) or "Intercept"
            if name in names:
                raise InvalidInput(f"formula: two columns of the model would both be called {_show(name)}; rename "
                                   "the data column.", field="formula")
            matrix[:, len(names)] = value
            names.append(name)
    index = data.index[keep]
    exog = pd.DataFrame(matrix, index=index, columns=names)
    endog = pd.Series(y[keep], index=index, name=formula.outcome)
    return Design(formula, endog, exog)


__all__ = ["GRAMMAR", "MAX_CELLS", "MAX_COLUMNS", "MAX_LENGTH", "MAX_TERMS", "MAX_WORK", "Design", "Factor",
           "Formula", "design", "parse", "tokenize"]
