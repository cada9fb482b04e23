"""What travels between a kernel and the workbench service: DataFrames as Arrow IPC streams, everything else as
JSON that keeps its types.

A DataFrame answer is sent as a bare Arrow IPC stream (``ARROW``), read straight from the socket into pandas.
Any other value is tagged JSON (``JSON``): plain JSON for what JSON already says, and ``{"$<tag>": ...}`` for
what it cannot — frames (base64 Arrow IPC), dates, tuples, non-finite floats, recorded outputs (their
``results.json`` folder, zipped), bytes (a released file a kernel downloads) and a short allow-list of the
workbench's own result classes. Decoding only ever
builds those types: nothing from the wire is imported or unpickled by name.

The two directions differ. The service reads a kernel's request with ``loads_request``, which builds only what some
operation's parameters take (frames, dates, tuples, non-finite floats, a linkage spec): a recorded output, bytes or
a result class is something the service sends, never something it accepts, so a request carrying one is refused
before anything in it is unpacked. The kernel reads the service's answers with ``loads``. An output archive is
unpacked within limits (entries, total size, compression ratio) into memory, never onto a disk, and a failure
to read it says so without quoting the files.
"""

from __future__ import annotations

import base64
import contextvars
import dataclasses
import hashlib
import io
import json
import math
import struct
import zipfile
from datetime import date, datetime, time
from importlib import import_module
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.disclosure.output import Output
from workbench.disclosure.results_json import read_results_files, results_files
from workbench.errors import InvalidInput
from workbench.operations import ARGUMENTS, RESULTS
from workbench.outputs.store import ATTACHMENTS

ARROW = "application/vnd.apache.arrow.stream"
JSON = "application/json"
MAX_OUTPUT_BYTES = 256 * 1024 * 1024  # an output unpacked: checked tables and figures, never a dataset
MAX_OUTPUT_ENTRIES = 256  # results.json, the released and unreleased tables, their checksums, attachments
MAX_OUTPUT_RATIO = 100  # unpacked / packed bytes, beyond the first MiB: CSV and JSON pack ~10:1, a bomb ~1000:1
RATIO_FREE_BYTES = 1024 * 1024
CHUNK = 64 * 1024
MAX_FREE_CELLS = 1_000_000  # values the frames of a request may have beyond 8 per byte (null columns take none)
_CELLS: contextvars.ContextVar[list[int]] = contextvars.ContextVar("cells")  # values left for a request's frames

# result classes rebuilt on the kernel side, by tag: (module, class, how their fields travel); declared with the
# operations that return them
TYPES: dict[str, tuple[str, str, str]] = RESULTS


# -- frames ----------------------------------------------------------------------------------------------------
_ARROW_STRINGS = b"workbench.arrow_strings"  # schema metadata: string columns held as string[pyarrow]

def frame_to_arrow(frame: Any) -> bytes:
    """A DataFrame (index, dtypes and ``attrs`` kept) as one Arrow IPC stream."""
    try:
        table = pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise InvalidInput(f"data: this DataFrame cannot be sent as Arrow ({error}); give each column one type "
                           "(e.g. df[col].astype(str)) and send it again.", field="data") from None
    arrow_strings = [str(c) for c, kind in frame.dtypes.items()
                     if isinstance(kind, pd.StringDtype) and kind.storage == "pyarrow"]
    if arrow_strings:  # pandas' own metadata does not say which storage a string column had
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _ARROW_STRINGS: json.dumps(arrow_strings).encode()})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def arrow_to_frame(source: Any, packed: int | None = None) -> Any:
    """An Arrow IPC stream (bytes or a readable file) as a DataFrame. ``packed``: the stream's size, when it came
    in a kernel's request; its values and types are then checked before pandas builds anything
    (``_check_expansion``)."""
    if isinstance(source, bytes | bytearray | memoryview):
        source = pa.BufferReader(bytes(source))
    try:
        table = pa.ipc.open_stream(source).read_all()
        if packed is not None:
            _check_expansion(table, packed)
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as error:
        if isinstance(error, InvalidInput):
            raise
        raise InvalidInput(f"data: not an Arrow IPC stream of a DataFrame ({type(error).__name__}).",
                           field="data") from None
    for field in table.schema:  # pandas gets list cells as numpy arrays; the frame sent had Python lists
        if pa.types.is_list(field.type) and field.name in frame.columns:
            frame[field.name] = [v.tolist() if hasattr(v, "tolist") else v for v in frame[field.name]]
    for name in _arrow_strings(table.schema.metadata or {}):
        if name in frame.columns and isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].astype("string[pyarrow]")
    return frame


def _arrow_strings(metadata: dict[bytes, bytes]) -> list[str]:
    """The string columns the sender held as Arrow-backed (``string[pyarrow]``), as ``frame_to_arrow`` noted them;
    anything malformed names none."""
    try:
        names = json.loads(metadata.get(_ARROW_STRINGS, b"[]"))
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _views(kind: Any) -> bool:
    """Whether an Arrow type is, or holds, one whose values may share storage: run-end encoded (one run stands
    for any number of rows) and the view types (every row may point at the same bytes)."""
    if any(test(kind) for test in (pa.types.is_run_end_encoded, pa.types.is_string_view, pa.types.is_binary_view,
                                   pa.types.is_list_view, pa.types.is_large_list_view)):
        return True
    return any(_views(kind.field(i).type) for i in range(kind.num_fields)) or (
        pa.types.is_dictionary(kind) and _views(kind.value_type))


def _values(array: Any) -> int:
    """How many values pandas builds for an Arrow array: its rows, and the values inside list and struct cells."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        return len(array) + len(array.dictionary)
    count = len(array)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        count += _values(array.flatten())
    elif pa.types.is_struct(kind):
        count += sum(_values(array.field(i)) for i in range(kind.num_fields))
    return count


def _check_expansion(table: Any, packed: int) -> None:
    """Refuse a frame that pandas would build far larger than the request it came in. A column of type null, or
    run-end encoded, has rows that take no bytes at all, so a few hundred bytes could ask for billions of cells;
    every other column takes at least a bit per value. So the values of all the frames of one request may number
    at most 8 per byte of the request (and ``MAX_FREE_CELLS`` more), which any frame ``frame_to_arrow`` wrote
    meets."""
    if any(_views(field.type) for field in table.schema):
        raise InvalidInput("data: a frame must travel as plain Arrow columns (as workbench.wire.frame_to_arrow "
                           "writes them), not run-end encoded or view columns.", field="data")
    cells = max(table.num_rows, 1) * max(table.num_columns, 1)
    cells = max(cells, sum(_values(chunk) for column in table.columns for chunk in column.chunks))
    budget = _CELLS.get(None)
    left = budget[0] if budget is not None else MAX_FREE_CELLS + 8 * packed
    if cells > left:
        raise InvalidInput(f"data: a frame of {table.num_rows:,} rows and {table.num_columns:,} columns ("
                           f"{cells:,} values) cannot have come in a request of this size; send frames as "
                           "workbench.wire.frame_to_arrow writes them.", field="data")
    if budget is not None:
        budget[0] -= cells


# -- tagged JSON -------------------------------------------------------------------------------------------------
def dumps(value: Any) -> bytes:
    """``value`` as tagged JSON bytes."""
    return json.dumps(_encode(value), allow_nan=False, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> Any:
    """The value that ``dumps`` wrote (an answer of the service); ``InvalidInput`` for anything else."""
    return _guarded(_json(raw), ANSWERS)


def loads_request(raw: bytes | str) -> Any:
    """A kernel's request as the service reads it: only the values some operation takes are built.

    A recorded output (``$output``) or a result class other than ``LinkageSpec`` is refused before any of it is
    decoded: outputs are named by their number, and results travel from the service to the kernel only."""
    budget = _CELLS.set([MAX_FREE_CELLS + 8 * len(raw or b"")])
    try:
        return _guarded(_json(raw), REQUESTS)
    finally:
        _CELLS.reset(budget)


def _guarded(tree: Any, rules: _Rules) -> Any:
    try:
        return _decode(tree, rules)
    except RecursionError:
        raise InvalidInput("body: the value is nested too deeply.", field="body") from None


def _json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("body: not valid JSON; send a JSON object.", field="body") from None


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, bytes | bytearray):  # a released file or package a kernel downloads (answers only)
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | set | frozenset):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and type(value) is not dict:
        name = type(value).__name__
        if name in TYPES and TYPES[name][2] == "dict":
            return {"$type": name, "value": _encode(dict(value))}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return None if value != value else {"$datetime": value.isoformat()}  # NaT is unequal to itself
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    return _encode_library(value)


def _encode_library(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {"$frame": base64.b64encode(frame_to_arrow(value)).decode()}
    if isinstance(value, pd.Series):
        return {"$series": base64.b64encode(frame_to_arrow(value.to_frame())).decode()}
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, np.ndarray):
        return [_encode(v) for v in value.tolist()]
    if isinstance(value, Output):
        return {"$output": base64.b64encode(output_to_zip(value)).decode()}
    if isinstance(value, Recorded):
        return {"$output": base64.b64encode(recorded_to_zip(value)).decode()}
    name = type(value).__name__
    if name in TYPES and TYPES[name][2] == "to_dict":
        return {"$type": name, "value": _encode(value.to_dict())}
    if name in TYPES and TYPES[name][2] == "fields" and dataclasses.is_dataclass(value):
        return {"$type": name, "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"cannot send a {type(value).__name__} between kernel and service")


@dataclasses.dataclass(frozen=True)
class _Rules:
    """What one direction of the wire may build: its tags and its result classes."""

    tags: frozenset[str]
    types: frozenset[str]
    refusal: str  # why a known tag outside ``tags`` is refused


def _decode(tree: Any, rules: _Rules) -> Any:
    if isinstance(tree, list):
        return [_decode(v, rules) for v in tree]
    if not isinstance(tree, dict):
        return tree
    tags = [k for k in tree if k.startswith("$")]
    if not tags:
        return {k: _decode(v, rules) for k, v in tree.items()}
    tag = tags[0]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise InvalidInput(f"body: unknown tag {tag!r}.", field="body")
    if tag not in rules.tags:
        raise InvalidInput(f"body: a {tag} value is not accepted here; {rules.refusal}", field="body")
    try:
        return decoder(tree[tag], tree, rules)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as error:
        if isinstance(error, InvalidInput):
            raise
        raise InvalidInput(f"body: a malformed {tag} value ({type(error).__name__}).", field="body") from None


def _frame(body: str) -> Any:
    raw = base64.b64decode(_text(body), validate=True)
    _check_uncompressed(raw)
    return arrow_to_frame(raw, packed=len(raw) if _CELLS.get(None) is not None else None)


def _check_uncompressed(raw: bytes) -> None:
    """Refuse an Arrow stream with compressed buffers: ``frame_to_arrow`` never compresses, and a few KB of
    compressed zeros would unpack to gigabytes, past any body limit."""
    try:
        for message in pa.ipc.MessageReader.open_stream(pa.BufferReader(raw)):
            if _compressed(message.metadata.to_pybytes()):
                raise InvalidInput("data: a frame must travel as an uncompressed Arrow stream (as "
                                   "workbench.wire.frame_to_arrow writes it).", field="data")
    except (pa.ArrowException, OSError, struct.error, IndexError) as error:
        raise InvalidInput(f"data: not an Arrow IPC stream of a DataFrame ({type(error).__name__}).",
                           field="data") from None


def _field(buf: bytes, table: int, index: int) -> int | None:
    """Where field ``index`` of the flatbuffer table at ``table`` is, or None when absent."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    size = struct.unpack_from("<H", buf, vtable)[0]
    if 4 + 2 * index >= size:
        return None
    offset = struct.unpack_from("<H", buf, vtable + 4 + 2 * index)[0]
    return table + offset if offset else None


def _compressed(buf: bytes) -> bool:
    """Whether an Arrow IPC message (its flatbuffer metadata) is a record or dictionary batch with compressed
    buffers: Message{1: header_type, 2: header}; DictionaryBatch{1: data}; RecordBatch{3: compression}."""
    root = struct.unpack_from("<I", buf, 0)[0]
    kind_at, header_at = _field(buf, root, 1), _field(buf, root, 2)
    if kind_at is None or header_at is None:
        return False
    kind, header = buf[kind_at], header_at + struct.unpack_from("<I", buf, header_at)[0]
    if kind == 2:  # a dictionary batch holds a record batch
        data_at = _field(buf, header, 1)
        if data_at is None:
            return False
        kind, header = 3, data_at + struct.unpack_from("<I", buf, data_at)[0]
    return kind == 3 and _field(buf, header, 3) is not None


def _series(body: str) -> Any:
    frame = _frame(body)
    if len(frame.columns) != 1:
        raise ValueError("a series travels as a frame of one column")
    return frame[frame.columns[0]]


def _timestamp(body: str) -> Any:
    if not isinstance(body, str):
        raise TypeError("a timestamp is text")
    return pd.Timestamp(body)


def _typed(_body: Any, tree: dict[str, Any], rules: _Rules) -> Any:
    name = tree["$type"]
    if not isinstance(name, str) or name not in TYPES:
        raise InvalidInput(f"body: unknown type {str(name)[:80]!r}.", field="body")
    if name not in rules.types:
        raise InvalidInput(f"body: a {name} is not accepted here; {rules.refusal}", field="body")
    module, cls, how = TYPES[name]
    kind = getattr(import_module(module), cls)
    if how == "dict":
        return kind(_decode(tree["value"], rules))
    if how == "to_dict":
        return kind.from_dict(_decode(tree["value"], rules))
    return kind(**{k: _decode(v, rules) for k, v in tree["fields"].items()})


def _float(body: str) -> float:
    if body not in ("nan", "inf", "-inf"):
        raise ValueError(f"{str(body)[:20]!r} is not nan, inf or -inf")
    return float(body)


def _text(body: Any) -> str:
    if not isinstance(body, str):
        raise TypeError(f"expected text, got {type(body).__name__}")
    return body


def _pairs(body: Any, rules: _Rules) -> dict[Any, Any]:
    out = {}
    for pair in body:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("a $map holds [key, value] pairs")
        out[_decode(pair[0], rules)] = _decode(pair[1], rules)
    return out


def _items(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise TypeError(f"expected a list, got {type(body).__name__}")
    return body


_DECODERS: dict[str, Any] = {
    "$float": lambda body, _, rules: _float(body),
    "$tuple": lambda body, _, rules: tuple(_decode(v, rules) for v in _items(body)),
    "$map": lambda body, _, rules: _pairs(_items(body), rules),
    "$datetime": lambda body, _, rules: datetime.fromisoformat(_text(body)),
    "$date": lambda body, _, rules: date.fromisoformat(_text(body)),
    "$time": lambda body, _, rules: time.fromisoformat(_text(body)),
    "$timestamp": lambda body, _, rules: _timestamp(body),
    "$frame": lambda body, _, rules: _frame(body),
    "$series": lambda body, _, rules: _series(body),
    "$output": lambda body, _, rules: zip_to_output(base64.b64decode(_text(body), validate=True)),
    "$bytes": lambda body, _, rules: base64.b64decode(_text(body), validate=True),
    "$type": _typed,
}
# the service's answers, read by a kernel: everything ``dumps`` writes
ANSWERS = _Rules(frozenset(_DECODERS), frozenset(TYPES), "")
# a kernel's requests, read by the service: only what some operation's parameters take
REQUESTS = _Rules(frozenset(_DECODERS) - {"$output", "$bytes"}, ARGUMENTS,
                  "a request names recorded outputs by their number, and sends only data, dates, numbers, text "
                  "and linkage specs.")


# -- recorded outputs --------------------------------------------------------------------------------------------
def output_to_zip(output: Any) -> bytes:
    """A recorded output as the zipped ``results.json`` folder it is kept as in the vault."""
    return _zip(results_files({output.uid or "output": output}))


@dataclasses.dataclass(frozen=True)
class Recorded:
    """An output the service answers with, and the vault folder it was recorded in: it travels as that folder,
    zipped as it is, rather than written again (``recorded_to_zip``)."""

    output: Any
    folder: Path


def recorded_to_zip(recorded: Recorded) -> bytes:
    """The zipped ``results.json`` folder of a recorded output, read from the vault: its results.json, tables and
    checksums (not its attachments, which ``output_to_zip`` does not send either). Written again from the output
    (``output_to_zip``) when the folder cannot be read whole or a file does not match its checksum (changed while
    it was read)."""
    folder = recorded.folder
    try:
        names = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                       if path.is_file() and path.relative_to(folder).parts[0] != ATTACHMENTS)
        files = {name: (folder / name).read_bytes() for name in names}
    except OSError:
        return output_to_zip(recorded.output)
    listed = {name for name in files if not name.startswith("checksums/")}
    if "results.json" not in files or any(
            files.get(f"checksums/{name}.txt", b"").decode("utf-8", "replace").strip()
            != hashlib.sha256(files[name]).hexdigest() for name in listed):
        return output_to_zip(recorded.output)
    return _zip({name: files[name] for name in sorted(files, key=lambda name: tuple(name.split("/")))})


def _zip(files: dict[str, bytes]) -> bytes:
    """Files (path in the folder → content) as one zip archive, packed in memory."""
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return sink.getvalue()


def zip_to_output(raw: bytes) -> Any:
    """The output that ``output_to_zip`` packed, unpacked within limits into memory (nothing touches a disk).

    Refused (``InvalidInput``, quoting nothing read from it): an archive with more than ``MAX_OUTPUT_ENTRIES``
    entries, unpacking to more than ``MAX_OUTPUT_BYTES`` or packed more tightly than ``MAX_OUTPUT_RATIO`` to one;
    a name that is absolute, climbs out (``..``), repeats or is not a plain file; a ``results.json`` naming a file
    outside the folder; anything that does not read back as exactly one output."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise InvalidInput("body: an output must travel as a zip archive.", field="body") from None
    with archive:
        _check_entries(entries, len(raw))
        files: dict[str, bytes] = {}
        folders: set[str] = set()
        try:
            for entry in entries:
                _unpack(archive, entry, files, folders)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError):
            raise InvalidInput("body: an output archive is damaged and cannot be unpacked.", field="body") from None
        try:
            outputs = read_results_files(files)
        except Exception:  # untrusted files: any failure is the archive's, and the message says nothing of them
            raise InvalidInput("body: an output archive does not hold an output the workbench wrote.",
                               field="body") from None
        if len(outputs) != 1:
            raise InvalidInput("body: an output archive must hold exactly one output.", field="body")
        output = next(iter(outputs.values()))
    return output


def _check_entries(entries: list[Any], packed: int) -> None:
    """Refuse, before unpacking anything, an archive whose listing breaks a limit or names a path outside."""
    if len(entries) > MAX_OUTPUT_ENTRIES:
        raise InvalidInput(f"body: an output archive holds more than {MAX_OUTPUT_ENTRIES} files.", field="body")
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_OUTPUT_BYTES:
        raise InvalidInput(f"body: an output archive unpacks to more than {MAX_OUTPUT_BYTES:,} bytes.",
                           field="body")
    if declared > RATIO_FREE_BYTES + MAX_OUTPUT_RATIO * packed:
        raise InvalidInput(f"body: an output archive is packed more tightly than {MAX_OUTPUT_RATIO} to 1; it "
                           "was not written by the workbench.", field="body")
    seen = set()
    for entry in entries:
        name = entry.filename
        parts = PurePosixPath(name).parts
        if (not parts or name.startswith("/") or "\\" in name or ":" in name or "\0" in name
                or any(part in ("..", ".") for part in parts) or name in seen):
            raise InvalidInput("body: an output archive names a file outside its folder (or twice).",
                               field="body")
        seen.add(name)


def _unpack(archive: Any, entry: Any, files: dict[str, bytes], folders: set[str]) -> None:
    """One entry into ``files`` (path in the folder → content; ``folders``: the folders they make), counting the
    bytes actually unpacked (declared sizes are not trusted). A name that would lie outside the folder, or be the
    folder itself, is refused; one that is already a file or a folder, or lies under a file, is damage, as on a
    disk."""
    parts = PurePosixPath(entry.filename).parts
    if not parts or parts[0] == "/" or any(part in ("..", ".") for part in parts):
        raise InvalidInput("body: an output archive names a file outside its folder (or twice).", field="body")
    name = "/".join(parts)
    parents = {"/".join(parts[:i]) for i in range(1, len(parts))}
    if name in files or any(parent in files for parent in parents):
        raise FileExistsError("a name given twice, or under a file")
    folders.update(parents)
    if entry.is_dir():
        folders.add(name)
        return
    if name in folders:
        raise IsADirectoryError("a file where a folder is")
    written = 0
    chunks = []
    with archive.open(entry) as source:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > entry.file_size or written > MAX_OUTPUT_BYTES:
                raise InvalidInput("body: an output archive unpacks to more than it declares.", field="body")
            chunks.append(chunk)
    files[name] = b"".join(chunks)
