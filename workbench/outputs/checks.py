"""What happens to an output before and while a checker sees it.

Automatic refusals (``refusals``): a table listing identifiers or pseudonyms, a table so long it is microdata, a
file of a type or size the workspace does not release, and free text that leaves with an output (its name,
labels, command, model spec, comments, exception request...) holding a value that looks like an identifier
(``text_problem``, the one screen every entry point of analyst text uses). Each says what the analyst should
change; a request holding such an output cannot be submitted. Checker aids (``table_aids``, ``differencing``):
the numbers an output checker looks at first, and a warning when an earlier release of the same project cut the
same population by the same dimensions, so that subtracting one table from the other could reveal a small group.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import DisclosureRisk
from workbench.outputs.files import FIGURE_JSON, check_file
from workbench.outputs.released import free_text

if TYPE_CHECKING:

    from workbench.disclosure.output import Output

PSEUDONYM = re.compile(r"^[0-9a-f]{20}$")  # the workbench's pseudonyms: 20 hex characters of an HMAC
SAMPLE = 2000  # labels and cells looked at per axis / column for pseudonyms
# one character that may stand between the groups of a number written to dodge the screen: spaces, dashes of
# every kind, dots, commas, slashes, underscores, colons, middle dots
SEPARATOR = r"[\s\-\u2010-\u2015\u2212.,/_:\u00b7]"
# what may stand between the groups of a split-up NHS number (whose check digit keeps ordinary text from matching):
# any one to three characters that are not digits ("943x476x5919", "943 - 476 - 5919", "943;476;5919")
DIGIT_GAP = r"\D{1,3}"
# what may stand between the groups of a split-up pseudonym: any one character that is not a letter or digit, or
# a symbol other than a comma or bracket between two spaces ("2ace504c92;bf79c60fd4", "2ace504c92 + bf79c60fd4")
HEX_GAP = r"(?:[^0-9A-Za-z]|\s[^0-9A-Za-z\s,()\[\]{}]\s)"
# values in free text that look like identifiers (and what they look like); a run of more digits than the
# ``max_digits_in_text`` setting is refused too
IDENTIFIER_PATTERNS = (
    ("an NHS number", re.compile(rf"(?<!\d)\d{{3}}{SEPARATOR}?\d{{3}}{SEPARATOR}?\d{{4}}(?!\d)")),
    ("a National Insurance number", re.compile(
        rf"(?<![A-Za-z0-9#])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]{SEPARATOR}?\d{{2}}{SEPARATOR}?\d{{2}}{SEPARATOR}?\d{{2}}"
        rf"{SEPARATOR}?[A-D](?![A-Za-z0-9])", re.I)),
    # in any case, spaced or hyphenated; not an ordinal ("Table S1 1st row")
    ("a postcode", re.compile(rf"(?<![A-Za-z0-9#])[A-Z]{{1,2}}\d[A-Z\d]?(?: ?{SEPARATOR} ?)?"
                              r"(?!\d(?-i:st|nd|rd|th)(?![A-Za-z0-9]))\d[A-Z]{2}(?![A-Za-z0-9])", re.I)),
    ("a pseudonym (20 or more hexadecimal characters)", re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{20,}(?![0-9A-Fa-f])")),
)

# runs of hexadecimal groups joined by short gaps: a pseudonym split up ("2ace504c92 bf79c60fd4")
SPLIT_HEX = re.compile(rf"(?<![0-9A-Fa-f])[0-9A-Fa-f]+(?:{HEX_GAP}[0-9A-Fa-f]+)+(?![0-9A-Fa-f])")

# categories of characters that hide or reorder text on screen: control, format (bidirectional overrides,
# zero-width), surrogate, private use, unassigned, line and paragraph separators
HIDING = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")

# ONS (GSS) geography codes, a letter and eight digits (E06000002): public, so not a record number
GEOGRAPHY_CODE = re.compile(r"(?<![A-Za-z0-9])[EJKLMNSW]\d{8}(?![A-Za-z0-9])")


def _nhs_number(digits: str) -> bool:
    """Whether ten digits carry a valid NHS number check digit (modulus 11)."""
    if len(digits) != 10 or not digits.isascii():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return check != 10 and check % 11 == int(digits[9])


# Cyrillic and Greek letters drawn like the Latin letters of hexadecimal: "2аce504c92..." with a Cyrillic а reads
# as a pseudonym to a checker and to whoever receives it
LOOK_ALIKES = str.maketrans("\u0430\u0441\u0435\u0410\u0412\u0421\u0415\u0391\u0392\u0395\u03f2\u0501",
                            "aceABCEABEcd")


def _ascii_digit(char: str) -> str:
    """A decimal digit of any script as its ASCII digit (Arabic-Indic, Devanagari...), a letter drawn like a
    hexadecimal one as that letter, other characters as they are."""
    value = unicodedata.decimal(char, None) if not char.isascii() else None
    return str(value) if value is not None else char.translate(LOOK_ALIKES)


def identifier_in_text(text: str, max_digits: int) -> tuple[str, str] | None:
    """The first value in ``text`` that looks like an identifier or a pseudonym, and what it looks like; None
    when there is none. Compatibility forms are folded and invisible format characters dropped first, so that
    full-width digits or a zero-width space inside a number do not hide it."""
    normal = "".join(_ascii_digit(ch) for ch in unicodedata.normalize("NFKC", text)
                     if unicodedata.category(ch) != "Cf")
    for what, pattern in IDENTIFIER_PATTERNS:
        found = pattern.search(normal)
        if found:
            return what, found.group()
    plain = GEOGRAPHY_CODE.sub(" ", normal)
    found = re.search(rf"\d{{{max_digits + 1},}}", plain)
    if found:
        return f"a record number (more than {max_digits} digits in a row)", found.group()
    for found in re.finditer(rf"(?<!\d)\d+(?:{DIGIT_GAP}\d+)+(?!\d)", plain):
        groups = re.findall(r"\d+", found.group())
        for start in range(len(groups)):  # any consecutive groups holding ten digits in all
            for end in range(start + 1, len(groups) + 1):
                digits = "".join(groups[start:end])
                if len(digits) >= 10:
                    if _nhs_number(digits):
                        return "an NHS number (its ten digits split up)", found.group()
                    break
    found = re.search(rf"(?<![\d\w])\d(?:{SEPARATOR}\d){{{max_digits},}}(?![\d\w])", plain)
    if found:
        return f"a record number written digit by digit (more than {max_digits} digits)", found.group()
    for found in SPLIT_HEX.finditer(plain):
        run = re.sub(r"[^0-9A-Fa-f]", "", found.group())
        if len(run) >= 20 and sum(c.isdigit() for c in run) >= 5 and sum(c.isalpha() for c in run) >= 3:
            return "a pseudonym split into parts (20 or more hexadecimal characters)", found.group()
    return None


def _masked(token: str) -> str:
    """Enough of an offending value to find it, not enough to repeat it in messages and the audit log."""
    return f"{token[:3]}… ({len(token)} characters)" if len(token) > 3 else token


def text_problem(field: str, text: Any, max_digits: int) -> str | None:
    """Why the free text ``text`` of ``field`` may not leave the workspace, or None: the one screen applied to
    every piece of analyst text that enters an output request (and to checkers' comments)."""
    if not isinstance(text, str):
        return None
    found = identifier_in_text(text, max_digits)
    if found is None:
        hidden = next((ch for ch in text if unicodedata.category(ch) in HIDING and ch not in "\n\r\t"), None)
        if hidden is not None:
            return (f"{field}: it holds character U+{ord(hidden):04X}, an invisible or control character (a "
                    "right-to-left override, a zero-width space...) that changes or hides what a checker reads: "
                    "remove it")
        return None
    what, token = found
    return (f"{field}: {_masked(token)!r} looks like {what}; text that leaves with an output must not hold "
            "identifiers: remove it (write large numbers with separators, e.g. 1,250,000)")


def screen_text(texts: Iterable[tuple[str, Any]], max_digits: int) -> None:
    """Refuse with ``DisclosureRisk`` naming each field whose text looks like it holds an identifier."""
    problems = [p for field, text in texts if (p := text_problem(field, text, max_digits)) is not None]
    if problems:
        raise DisclosureRisk("Refused: " + "; ".join(problems) + ".")


def dimensions(output: Output) -> list[str]:
    """The named dimensions a table is cut by (index and column level names), for differencing checks."""
    names = [*output.table.index.names, *output.table.columns.names]
    return sorted({str(n) for n in names if n is not None})


def _labels(table: pd.DataFrame) -> list[str]:
    names = [str(n) for n in (*table.index.names, *table.columns.names) if n is not None]
    for label in table.columns:
        names.extend(str(part) for part in (label if isinstance(label, tuple) else (label,)))
    return names


def _pseudonyms(table: pd.DataFrame) -> str | None:
    """A value in the table's labels or text cells that looks like a workbench pseudonym, if any."""
    for level in range(table.index.nlevels):
        for value in table.index.get_level_values(level)[:SAMPLE]:
            if isinstance(value, str) and PSEUDONYM.match(value):
                return value
    for label in table.columns[:SAMPLE]:
        for part in label if isinstance(label, tuple) else (label,):
            if isinstance(part, str) and PSEUDONYM.match(part):
                return part
    for column in range(table.shape[1]):
        series = table.iloc[:SAMPLE, column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            for value in series:
                if isinstance(value, str) and PSEUDONYM.match(value):
                    return value
    return None


def text_refusals(output: Output, name: str, derived_from: list[str], settings: dict[str, Any],
                  attachments: dict[str, bytes] | None = None) -> list[str]:
    """The released free text of ``output`` (``released.free_text``) that looks like it holds an identifier;
    a figure recorded without the plotly JSON a checker reads is refused too."""
    max_digits = settings["max_digits_in_text"]
    problems = [f"output {name!r}: {p}" for field, text in free_text(output, name, derived_from, attachments)
                if (p := text_problem(field, text, max_digits)) is not None]
    if output.kind == "figure" and FIGURE_JSON not in (attachments or {}):
        problems.append(f"output {name!r}: this figure was recorded without the data a checker reads; record it "
                        "again with project.outputs.figure")
    return problems


def refusals(output: Output, name: str, settings: dict[str, Any], identifiers: set[str],
             attachments: list[tuple[str, int]], derived_from: Iterable[str] = (),
             contents: dict[str, bytes] | None = None) -> list[str]:
    """Why ``output`` may not go to a checker (empty when it may), each with what to change. ``contents``: the
    output's own files by name (a figure's JSON is screened)."""
    problems = text_refusals(output, name, list(derived_from), settings, contents)
    if output.kind == "file":
        for file_name, size in attachments:
            problems.extend(f"output {name!r}: {p}" for p in check_file(file_name, size, settings))
        return problems
    table = output.safe_table
    if len(table) > settings["max_table_rows"]:
        problems.append(f"output {name!r} has {len(table):,} rows, more than the {settings['max_table_rows']:,} a "
                        "table may have: that is microdata, not an aggregate; group it into fewer categories")
    listed = sorted(set(_labels(table)) & identifiers)
    if listed:
        problems.append(f"output {name!r} is cut by the identifier column(s) {', '.join(listed)}; tables must not "
                        "list people: leave the identifier out of the table")
    found = _pseudonyms(table)
    if found is not None:
        problems.append(f"output {name!r} contains a pseudonymised identifier ({found[:6]}…); tables must not list "
                        "people: aggregate over them instead")
    for file_name, size in attachments:
        if size > settings["max_file_bytes"]:
            problems.append(f"output {name!r}: {file_name} is {size:,} bytes, over the "
                            f"{settings['max_file_bytes']:,}-byte limit; simplify the figure")
    return problems


def table_aids(output: Output) -> dict[str, Any]:
    """Min, min excluding zero, max, sum and the share of whole numbers divisible by 5, over the unmitigated
    table's numbers; and how many cells each rule flags."""
    numeric = output.table.select_dtypes(include="number")
    values = numeric.to_numpy(dtype=float, na_value=np.nan).ravel() if not numeric.empty else np.array([])
    values = values[~np.isnan(values)]
    nonzero = values[values != 0]
    whole = values[np.isclose(values, np.round(values))]
    aids: dict[str, Any] = {"cells": int(output.table.size), "numeric_cells": int(values.size),
                            "min": None, "min_excluding_zero": None, "max": None, "sum": None,
                            "share_divisible_by_5": None}
    if values.size:
        aids.update(min=float(values.min()), max=float(values.max()), sum=float(values.sum()))
    if nonzero.size:
        aids["min_excluding_zero"] = float(nonzero.min())
    if whole.size:
        aids["share_divisible_by_5"] = float(np.mean(np.round(whole) % 5 == 0))
    aids["flagged"] = {rule: int(pd.DataFrame(flag).to_numpy().sum()) for rule, flag in output.flags.items()}
    return aids


TABLE_MAX_ROWS, TABLE_MAX_COLS = 60, 30  # as much as the notebook view shows; the aids cover the whole table


def _cell_value(value: Any) -> Any:
    """A table value as plain JSON-able Python: numbers stay numbers, missing is None, the rest text."""
    if value is None or (not isinstance(value, str) and bool(np.ndim(value) == 0) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)


def _label(value: Any) -> str:
    return " / ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def table_cells(output: Output) -> dict[str, Any]:
    """The unmitigated table cell by cell, each with the rules that flag it and whether mitigation suppressed it,
    so that a client draws the table with flagged cells highlighted (at most 60 rows × 30 columns)."""
    table = output.table
    n_rows, n_cols = min(len(table), TABLE_MAX_ROWS), min(table.shape[1], TABLE_MAX_COLS)
    flags = {rule: flag.to_numpy()[:n_rows, :n_cols] for rule, flag in output.flags.items()}
    suppressed = output.suppressed.to_numpy()[:n_rows, :n_cols] if output.suppressed is not None else None
    rows = []
    for r in range(n_rows):
        cells = []
        for c in range(n_cols):
            cells.append({"value": _cell_value(table.iat[r, c]),
                          "flags": [rule for rule, flag in flags.items() if bool(flag[r, c])],
                          "suppressed": bool(suppressed[r, c]) if suppressed is not None else False})
        rows.append({"label": _label(table.index[r]), "cells": cells})
    return {"index_names": [None if n is None else str(n) for n in table.index.names],
            "column_names": [None if n is None else str(n) for n in table.columns.names],
            "columns": [_label(c) for c in table.columns[:n_cols]], "rows": rows,
            "total_rows": len(table), "total_columns": int(table.shape[1])}


def differencing(output: Output, sources: list[str], earlier: list[dict[str, Any]]) -> list[str]:
    """Warnings for earlier releases of the same project cut by the same dimensions on overlapping data.

    ``earlier``: dicts with ``request_id``, ``output_id``, ``name``, ``dimensions`` and ``sources``."""
    mine = dimensions(output)
    if output.kind == "file" or not mine:
        return []
    warnings = []
    for other in earlier:
        shared = sorted(set(sources) & set(other["sources"]))
        if other["dimensions"] == mine and shared:
            warnings.append(f"release {other['request_id']} (output {other['output_id']} {other['name']!r}) was "
                            f"cut by the same dimensions ({' × '.join(mine)}) from {', '.join(shared)}: check "
                            "that subtracting one table from the other does not reveal a small group")
    return warnings


__all__ = ["differencing", "dimensions", "identifier_in_text", "refusals", "screen_text", "table_aids", "table_cells",
           "text_problem", "text_refusals"]
