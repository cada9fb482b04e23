"""What an owner names in the lab's register form, as a source the catalogue reads: a file or folder inside the
lab's root folder, or a database URL with a table or a query.

The browser is not trusted: a path is read relative to the lab's root and must stay inside it once resolved (no
``..``, no absolute path elsewhere, no symbolic link leading out, also inside a Parquet folder); a file database
(SQLite, DuckDB) must be inside the root as well. A database URL's user name and password are never sent back:
messages name it as ``sources.safe_url`` does. The catalogue service then asks the policy and reads the data.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from workbench.catalogue.sources import Source, safe_url
from workbench.errors import InvalidInput

MAX_PATH = 1024
MAX_URL = 2048
MAX_FOLDER_ENTRIES = 100_000  # files looked at for links leading out of the root; a larger folder is refused
FILE_DATABASES = ("sqlite", "duckdb")


def lab_root(setting: object) -> Path:
    """The lab's root folder (Jupyter's ``server_root_dir``), resolved."""
    if not isinstance(setting, str | os.PathLike) or not str(setting):
        raise InvalidInput("path: this server has no lab folder to read files from; register with `workbench "
                           "catalogue register ENTRY.yaml --data SOURCE` instead.", field="path")
    return Path(setting).expanduser().resolve()


def _inside(path: Path, root: Path, shown: str, name: str) -> Path:
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise InvalidInput(f"{name}: {shown!r} is outside the lab's folder; put the data in the lab's file browser "
                           "(or a folder below it) and choose it there.", field=name)
    return resolved


def lab_path(text: str, root: Path, name: str = "path") -> Path:
    """``text`` (relative to the lab's root, as the file browser names it) as a resolved path inside ``root``."""
    if not text.strip() or len(text) > MAX_PATH or "\x00" in text:
        raise InvalidInput(f"{name}: give the path of a file or folder in the lab's file browser (at most "
                           f"{MAX_PATH} characters).", field=name)
    relative = PurePosixPath(text.strip().replace("\\", "/"))
    if ".." in relative.parts:
        raise InvalidInput(f"{name}: {text[:200]!r} climbs out with '..'; give the path as the lab's file browser "
                           "shows it.", field=name)
    candidate = Path(text.strip()) if relative.is_absolute() else root.joinpath(*relative.parts)
    resolved = _inside(candidate, root, text[:200], name)
    if resolved.is_dir():
        _no_link_out(resolved, root, text[:200], name)
    return resolved


def _no_link_out(folder: Path, root: Path, shown: str, name: str) -> None:
    """Refuse a folder holding a symbolic link (file or folder) that resolves outside ``root``."""
    seen = 0
    for parent, folders, files in os.walk(folder, followlinks=False):
        for entry in (*folders, *files):
            seen += 1
            if seen > MAX_FOLDER_ENTRIES:
                raise InvalidInput(f"{name}: {shown!r} holds more than {MAX_FOLDER_ENTRIES:,} files and folders; "
                                   "register it with `workbench catalogue register --data` instead.", field=name)
            path = Path(parent, entry)
            if path.is_symlink():
                _inside(path, root, f"{shown}/{path.relative_to(folder)}", name)


def lab_source(body: dict[str, Any], root: Path) -> Source | Path:
    """The source a register or draft form names: ``path``, or ``url`` with ``table`` or ``query``."""
    path, url = body.get("path"), body.get("url")
    if (path is None) == (url is None):
        raise InvalidInput("source: give either the path of a file or folder in the lab, or a database URL with "
                           "a table or a query.", field="path" if path is None else "url")
    if path is not None:
        for other in ("table", "query"):
            if body.get(other) is not None:
                raise InvalidInput(f"{other}: a file has no {other}; give {other} only with a database URL.",
                                   field=other)
        return lab_path(path, root)
    assert isinstance(url, str)  # read_body checked the kinds
    if len(url) > MAX_URL or "\x00" in url:
        raise InvalidInput(f"url: give a database URL of at most {MAX_URL} characters.", field="url")
    url = url.strip()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput("url: the database URL cannot be read; write it as driver://user@host:port/database "
                           "(an SQLAlchemy URL).", field="url") from None
    if parsed.get_backend_name() in FILE_DATABASES:
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise InvalidInput(f"url: {safe_url(url)} names no database file.", field="url")
        if Path(database).is_absolute():
            resolved = _inside(Path(database), root, safe_url(url), "url")
        else:  # relative to the lab's folder, not to wherever the server was started
            resolved = lab_path(database, root, "url")
        url = parsed.set(database=str(resolved)).render_as_string(hide_password=False)
    table, query = body.get("table") or None, body.get("query") or None
    return Source.database(url, table=table, query=query)


def shown(source: Source | Path, root: Path) -> str:
    """How the form names a source back: a path relative to the lab's root; a database without credentials."""
    if isinstance(source, Path):
        relative = source.relative_to(root).as_posix() if source != root else "."
        return f"{'folder' if source.is_dir() else 'file'} {relative}"
    return str(source)


def entry_text_is_plain(text: str) -> None:
    """Refuse YAML with anchors or aliases: an entry never needs them, and nested aliases can make a small text
    expand into a huge record (a "billion laughs")."""
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise InvalidInput("entry: the YAML uses anchors or aliases (& or *); write each value out.",
                                   field="entry")
    except yaml.YAMLError:
        return  # the entry's parser says where the YAML is wrong
