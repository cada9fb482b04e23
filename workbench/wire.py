"""What travels between a kernel and the workbench service: DataFrames as Arrow IPC streams, everything else as
JSON that keeps its types.

A DataFrame answer is sent as a bare Arrow IPC stream (``ARROW``), read straight from the socket into pandas.
Any other value is tagged JSON (``JSON``): plain JSON for what JSON already says, and ``{"$<tag>": ...}`` for
what it cannot — frames (base64 Arrow IPC), dates, tuples, non-finite floats, recorded outputs (their
``results.json`` folder, zipped) and a short allow-list of the workbench's own result classes. Decoding only ever
builds those types: nothing from the wire is imported or unpickled by name.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
from datetime import date, datetime, time
from typing import Any

from workbench.errors import InvalidInput

ARROW = "application/vnd.apache.arrow.stream"
JSON = "application/json"
MAX_OUTPUT_BYTES = 256 * 1024 * 1024  # an output unpacked: checked tables and figures, never a dataset

# result classes rebuilt on the kernel side, by tag: (module, class, how their fields travel)
TYPES: dict[str, tuple[str, str, str]] = {
    "Entry": ("workbench.catalogue.entry", "Entry", "fields"),
    "ChainCheck": ("workbench.audit", "ChainCheck", "fields"),
    "DisclosureSettings": ("workbench.disclosure.settings", "DisclosureSettings", "fields"),
    "UsageReport": ("workbench.governance.access", "UsageReport", "fields"),
    "Accuracy": ("workbench.dp.queries", "Accuracy", "fields"),
    "RequestDetail": ("workbench.outputs.review", "RequestDetail", "dict"),
    "LinkageSpec": ("workbench.linkage.spec", "LinkageSpec", "to_dict"),
}


# -- frames ----------------------------------------------------------------------------------------------------
def frame_to_arrow(frame: Any) -> bytes:
    """A DataFrame (index, dtypes and ``attrs`` kept) as one Arrow IPC stream."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise InvalidInput(f"data: this DataFrame cannot be sent as Arrow ({error}); give each column one type "
                           "(e.g. df[col].astype(str)) and send it again.", field="data") from None
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def arrow_to_frame(source: Any) -> Any:
    """An Arrow IPC stream (bytes or a readable file) as a DataFrame."""
    import pyarrow as pa

    if isinstance(source, bytes | bytearray | memoryview):
        source = pa.BufferReader(bytes(source))
    try:
        table = pa.ipc.open_stream(source).read_all()
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"data: not an Arrow IPC stream ({error}).", field="data") from None
    frame = table.to_pandas()
    for field in table.schema:  # pandas gets list cells as numpy arrays; the frame sent had Python lists
        if pa.types.is_list(field.type) and field.name in frame.columns:
            frame[field.name] = [v.tolist() if hasattr(v, "tolist") else v for v in frame[field.name]]
    return frame


# -- tagged JSON -------------------------------------------------------------------------------------------------
def dumps(value: Any) -> bytes:
    """``value`` as tagged JSON bytes."""
    return json.dumps(_encode(value), allow_nan=False, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> Any:
    """The value that ``dumps`` wrote; ``InvalidInput`` for anything else."""
    try:
        tree = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body: not valid JSON; send a JSON object.", field="body") from None
    return _decode(tree)


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
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
    import numpy as np
    import pandas as pd

    from workbench.disclosure.output import Output

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
    name = type(value).__name__
    if name in TYPES and TYPES[name][2] == "to_dict":
        return {"$type": name, "value": _encode(value.to_dict())}
    if name in TYPES and TYPES[name][2] == "fields" and dataclasses.is_dataclass(value):
        return {"$type": name, "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"cannot send a {type(value).__name__} between kernel and service")


def _decode(tree: Any) -> Any:
    if isinstance(tree, list):
        return [_decode(v) for v in tree]
    if not isinstance(tree, dict):
        return tree
    tags = [k for k in tree if k.startswith("$")]
    if not tags:
        return {k: _decode(v) for k, v in tree.items()}
    tag = tags[0]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise InvalidInput(f"body: unknown tag {tag!r}.", field="body")
    try:
        return decoder(tree[tag], tree)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        if isinstance(error, InvalidInput):
            raise
        raise InvalidInput(f"body: a malformed {tag} value ({error}).", field="body") from None


def _frame(body: str) -> Any:
    return arrow_to_frame(base64.b64decode(body, validate=True))


def _series(body: str) -> Any:
    frame = _frame(body)
    return frame[frame.columns[0]]


def _timestamp(body: str) -> Any:
    import pandas as pd

    return pd.Timestamp(body)


def _typed(_body: Any, tree: dict[str, Any]) -> Any:
    from importlib import import_module

    name = tree["$type"]
    if name not in TYPES:
        raise InvalidInput(f"body: unknown type {name!r}.", field="body")
    module, cls, how = TYPES[name]
    kind = getattr(import_module(module), cls)
    if how == "dict":
        return kind(_decode(tree["value"]))
    if how == "to_dict":
        return kind.from_dict(_decode(tree["value"]))
    return kind(**{k: _decode(v) for k, v in tree["fields"].items()})


def _float(body: str) -> float:
    if body not in ("nan", "inf", "-inf"):
        raise ValueError(f"{body!r} is not nan, inf or -inf")
    return float(body)


_DECODERS: dict[str, Any] = {
    "$float": lambda body, _: _float(body),
    "$tuple": lambda body, _: tuple(_decode(v) for v in body),
    "$map": lambda body, _: {_decode(k): _decode(v) for k, v in body},
    "$datetime": lambda body, _: datetime.fromisoformat(body),
    "$date": lambda body, _: date.fromisoformat(body),
    "$time": lambda body, _: time.fromisoformat(body),
    "$timestamp": lambda body, _: _timestamp(body),
    "$frame": lambda body, _: _frame(body),
    "$series": lambda body, _: _series(body),
    "$output": lambda body, _: zip_to_output(base64.b64decode(body, validate=True)),
    "$type": _typed,
}


# -- recorded outputs --------------------------------------------------------------------------------------------
def output_to_zip(output: Any) -> bytes:
    """A recorded output as the zipped ``results.json`` folder it is kept as in the vault."""
    import tempfile
    import zipfile
    from pathlib import Path

    from workbench.disclosure.results_json import to_results_json

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "output"
        to_results_json({output.uid or "output": output}, folder)
        sink = io.BytesIO()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        return sink.getvalue()


def zip_to_output(raw: bytes) -> Any:
    """The output that ``output_to_zip`` packed; refuses archives with paths outside their folder."""
    import tempfile
    import zipfile
    from pathlib import Path, PurePosixPath

    from workbench.disclosure.results_json import read_results_json

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise InvalidInput("body: an output must travel as a zip archive.", field="body") from None
    with tempfile.TemporaryDirectory() as tmp, archive:
        if sum(item.file_size for item in archive.infolist()) > MAX_OUTPUT_BYTES:
            raise InvalidInput(f"body: an output archive unpacks to more than {MAX_OUTPUT_BYTES:,} bytes.",
                               field="body")
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or not parts:
                raise InvalidInput(f"body: an output archive names {name!r}, outside its folder.", field="body")
        archive.extractall(tmp)
        outputs = read_results_json(Path(tmp))
        if len(outputs) != 1:
            raise InvalidInput("body: an output archive must hold exactly one output.", field="body")
        output = next(iter(outputs.values()))
    return output
