"""Rules for the short local names used in the API, the CLI and on disk.

A local dataset id (``dhsc.hes_apc``) names a file in the vault, so it must never carry a path separator,
``..`` or anything a shell or SQL would read specially.
"""

from __future__ import annotations

import re

from workbench.errors import InvalidInput

DATASET_ID = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$")
PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
MAX_ID_LENGTH = 64


def check_dataset_id(value: object, field: str = "localId") -> str:
    """Return ``value`` if it is a valid local dataset id, else refuse saying why."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: a dataset id must be a string like 'dhsc.hes_apc', not {value!r}.",
                           field=field)
    if "/" in value or "\\" in value or ".." in value:
        raise InvalidInput(
            f"{field}: {value!r} contains a path separator or '..'; a dataset id is a short name like "
            "'dhsc.hes_apc' (lower-case letters, digits, '_' and '-', parts joined by single dots).",
            field=field)
    if len(value) > MAX_ID_LENGTH or not DATASET_ID.match(value):
        raise InvalidInput(
            f"{field}: {value!r} is not a valid dataset id: use at most {MAX_ID_LENGTH} characters, lower-case "
            "letters, digits, '_' and '-', parts joined by single dots, starting with a letter "
            "(e.g. 'dhsc.hes_apc').", field=field)
    return value


def check_project_id(value: object, field: str = "id") -> str:
    """Return ``value`` if it is a valid project id (``m1-economic-inactivity``), else refuse."""
    if not isinstance(value, str) or not PROJECT_ID.match(value):
        raise InvalidInput(
            f"{field}: {value!r} is not a valid project id: use 3–64 lower-case letters, digits and '-', "
            "e.g. 'm1-economic-inactivity'.", field=field)
    return value


def slug_from_uri(uri: str) -> str:
    """A local dataset id suggested by an entry's URI: its last meaningful path segment, slugged."""
    tail = [part for part in re.split(r"[/#?=&]", uri) if part][-1:] or ["dataset"]
    slug = re.sub(r"[^a-z0-9_-]+", "-", tail[0].lower()).strip("-_")[:MAX_ID_LENGTH]
    if not slug or not slug[0].isalpha():
        slug = ("d-" + slug)[:MAX_ID_LENGTH].rstrip("-_") or "dataset"
    return slug
