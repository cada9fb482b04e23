"""Keyed pseudonyms for direct and record identifiers, and governed reads of Parquet files that apply them.

Keys. Each project has its own key, derived from the workspace master key as
``HMAC-SHA256(master_key, b"project:" + project_id)`` (``project_key``), so no per-project key is ever stored
and a key never leaves this module except through ``project_key`` itself. Nothing here returns, logs or embeds a
key: callers get pseudonyms only.

Pseudonym. ``pseudonym(value) = hex(HMAC-SHA256(project_key, canonical_text(value)))[:20]``: the first 20
lower-case hex characters (80 bits) of the RFC 2104 HMAC, exactly what
``hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:20]`` gives. 80 bits keep collisions negligible:
among 10 million distinct values the chance that any two share a pseudonym is about n²/2⁸¹ ≈ 4·10⁻¹¹ (one in
a billion at 50 million). The same value gets the same pseudonym in every dataset of a project (linkage works
inside it) and unrelated pseudonyms in other projects (no linkage across them without the workspace key).

Canonical text. Integers are their decimal text (``1234`` → ``"1234"``, ``-5`` → ``"-5"``); strings are their
UTF-8 bytes as they are — no trimming, case folding or padding, because standardising identifiers for linkage
is a separate, visible step. So an integer column holding 1234 and a text column holding ``"1234"`` in another
dataset link, while ``"01234"`` and ``" 1234"`` do not. Nulls stay null. Other types (floats, decimals, dates,
binary) are refused: their text form is ambiguous (``1234.0``?), so the data owner must fix the column type.

Output. ``pseudonymise`` returns Arrow ``string`` arrays; ``read_governed`` returns pandas ``string[pyarrow]``
columns (nulls as ``pd.NA``) for identifiers and, for every other column, exactly what
``pyarrow.parquet.read_table(path, columns=...).to_pandas()`` gives.

Speed. A Python HMAC per row (~1 µs) would dominate a load, so the HMAC runs once per *distinct* value (Arrow
``dictionary_encode``) and the pseudonyms are spread back to the rows with Arrow's fixed-width ``take`` (every
pseudonym is 20 bytes, so each Arrow string column is built from two buffers with no per-row Python work).
Distinct values are hashed by a Python loop that resumes SHA-256 from the pads' precomputed midstates (two
compressions, the least CPU per value) while, when there are many values and spare cores, DuckDB hashes blocks
from the other end in SQL — ``sha256(opad || unhex(sha256(ipad || value)))`` over BLOBs, multi-threaded and
outside the GIL — so the split follows what each side achieves on the machine. The pads go to DuckDB as query
parameters, never in SQL text, on a private in-memory connection with file access disabled, and each block it
returns is checked to be in order and 20 characters wide. Identifier columns are pseudonymised in parallel while
the other columns convert to pandas; Parquet is read with column pruning (only ``columns`` are decoded).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workbench.errors import InvalidInput, NotFound
from workbench.progress import bar

PSEUDONYM_LENGTH = 20  # hex characters: 80 bits of the HMAC
_FINGERPRINT = b"workbench.pseudonym_cache"  # metadata key: the file and key a cached column is valid for
PROGRESS_MIN_ROWS = 1_000_000  # loads this large show a progress bar (where someone watches)
_CMAC_BATCH = 1 << 20  # values per AES pass: bounds the temporary block buffers (16 MiB a block column)
_MAX_STRING_BYTES = 2**31 - 1  # Arrow `string` offsets are int32

__all__ = ["PSEUDONYM_LENGTH", "project_key", "project_order", "pseudonymise", "read_governed"]


def _check_key(key: object, field: str = "key") -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise InvalidInput(f"{field}: a key must be bytes, not {type(key).__name__}.", field=field)
    if not key:
        raise InvalidInput(f"{field}: the key is empty; pseudonyms need a secret key.", field=field)
    return bytes(key)


def project_key(master_key: bytes, project_id: str) -> bytes:
    """The project's pseudonymisation key, derived from the workspace master key so none is stored per project."""
    master = _check_key(master_key, "master_key")
    if not isinstance(project_id, str) or not project_id:
        raise InvalidInput(f"project_id: name the project the key is for, not {project_id!r}.", field="project_id")
    return hmac.new(master, b"project:" + project_id.encode("utf-8"), hashlib.sha256).digest()


def project_order(key: bytes, dataset_id: str, rows: int) -> Any:
    """The order in which a project receives a dataset's rows: a permutation keyed by the project's key, the same on
    every load of the project and unrelated across projects. Without it row *i* (and the index) would be the same
    record in every project's extract: a record key that no pseudonym hides."""
    seed = hmac.new(_check_key(key), b"order:" + dataset_id.encode("utf-8"), hashlib.sha256).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big"))).permutation(rows)


def _is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(
        arrow_type)


def _refusal(arrow_type: pa.DataType, name: str | None) -> InvalidInput | None:
    """Why values of this type cannot be pseudonymised, or None if they can."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if _is_text(arrow_type) or pa.types.is_integer(arrow_type) or pa.types.is_null(arrow_type):
        return None
    what = f"identifier column {name!r}" if name else "values"
    return InvalidInput(f"identifiers: {what} has type {arrow_type}; pseudonyms are defined for text and integer "
                        "identifiers only — store the identifier as text or integers.", field="identifiers")


def _cmac_key(key: bytes) -> bytes:
    """The AES-256 key of the project's pseudonyms, derived from its key with its own label (the project key
    also keys the row order and the cache fingerprint; each use gets an unrelated key)."""
    return hmac.new(key, b"pseudonym:aes-256-cmac", hashlib.sha256).digest()


def _double(block: bytes) -> bytes:
    """Multiplication by x in GF(2^128) (RFC 4493 section 2.3): the CMAC subkey step."""
    value = int.from_bytes(block, "big") << 1
    if value >> 128:
        value ^= 0x87
    return (value & (2**128 - 1)).to_bytes(16, "big")


def _hex(digests: np.ndarray) -> np.ndarray:
    """Fixed-width lower-case hex (``S20``) of the first bytes of each row of a (n, ≥10) uint8 array."""
    half = PSEUDONYM_LENGTH // 2
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    head = digests[:, :half]
    text = np.empty((len(digests), PSEUDONYM_LENGTH), dtype=np.uint8)
    text[:, 0::2], text[:, 1::2] = digits[head >> 4], digits[head & 15]
    return text.view(f"S{PSEUDONYM_LENGTH}").ravel()


class _Cmac:
    """AES-CMAC (NIST SP 800-38B, RFC 4493) of many messages at once: messages of one length share a block
    layout, so each CBC step over all of them is one AES-ECB call on a contiguous buffer."""

    def __init__(self, key: bytes) -> None:
        self._encrypt = Cipher(algorithms.AES(_cmac_key(key)), modes.ECB()).encryptor().update
        first = _double(self._encrypt(bytes(16)))
        self._subkeys = (np.frombuffer(first, np.uint8), np.frombuffer(_double(first), np.uint8))

    def aes(self, blocks: np.ndarray) -> np.ndarray:
        """AES of each row of a contiguous (n, 16) uint8 array."""
        return np.frombuffer(self._encrypt(blocks), np.uint8).reshape(-1, 16)

    def tags(self, messages: np.ndarray, length: int) -> np.ndarray:
        """The CMAC of each row of an (n, ``length``) uint8 array of messages ``length`` bytes long."""
        count = max(1, -(-length // 16))
        complete = length > 0 and length % 16 == 0
        blocks = np.zeros((len(messages), count * 16), np.uint8)
        blocks[:, :length] = messages
        if not complete:
            blocks[:, length] = 0x80  # 10* padding of the last block
        blocks[:, -16:] ^= self._subkeys[0 if complete else 1]
        state = np.ascontiguousarray(blocks[:, :16])
        for i in range(1, count):
            state = self.aes(state) ^ blocks[:, 16 * i:16 * (i + 1)]
        return self.aes(state)


def _cmac_distinct(values: pa.Array, key: bytes) -> np.ndarray:
    """Pseudonyms (fixed-width ASCII, ``S20``) of distinct non-null text or integer values, in their order:
    the AES-CMAC of each value's canonical text, computed per group of equal byte length."""
    messages = pc.cast(pc.cast(values, pa.large_string()), pa.large_binary())  # canonical text as UTF-8 bytes
    out = np.empty(len(messages), dtype=f"S{PSEUDONYM_LENGTH}")
    if not len(messages):
        return out
    cmac = _Cmac(key)
    offsets = np.frombuffer(messages.buffers()[1], np.int64)[messages.offset:messages.offset + len(messages) + 1]
    lengths = np.diff(offsets)
    order = None
    if lengths.min() != lengths.max():  # group equal lengths, so each group's bytes are contiguous
        order = np.argsort(lengths, kind="stable")
        messages = pc.take(messages, pa.array(order))
        offsets = np.frombuffer(messages.buffers()[1], np.int64)[:len(messages) + 1]
        lengths = lengths[order]
    data = np.frombuffer(messages.buffers()[2], np.uint8) if messages.buffers()[2] else np.empty(0, np.uint8)
    bounds = np.flatnonzero(np.diff(lengths)) + 1
    tags = np.empty(len(messages), dtype=f"S{PSEUDONYM_LENGTH}")
    for first, last in zip([0, *bounds], [*bounds, len(lengths)], strict=True):
        length = int(lengths[first])
        for start in range(first, last, _CMAC_BATCH):  # bounded temporary buffers
            stop = min(start + _CMAC_BATCH, last)
            base = int(offsets[start])
            group = data[base:base + (stop - start) * length].reshape(stop - start, length)
            tags[start:stop] = _hex(cmac.tags(group, length))
    if order is None:
        return tags
    out[order] = tags
    return out


def _spread(pseudonyms: pa.FixedSizeBinaryArray, indices: pa.Array, large: bool) -> pa.Array:
    """The rows' pseudonyms from the distinct values' ones, built straight into Arrow buffers (null rows empty)."""
    rows, nulls = len(indices), indices.null_count
    offset_type = np.int64 if large else np.int32
    if nulls:
        valid = pc.is_valid(indices).to_numpy(zero_copy_only=False)
        offsets = np.zeros(rows + 1, dtype=offset_type)
        np.cumsum(valid * offset_type(PSEUDONYM_LENGTH), out=offsets[1:])
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        indices = pc.drop_null(indices)
    else:
        offsets = np.arange(0, (rows + 1) * PSEUDONYM_LENGTH, PSEUDONYM_LENGTH, dtype=offset_type)
        validity = None
    data = pc.take(pseudonyms, indices)  # Arrow's fixed-width take: the string data, already in row order
    payload = (data.buffers()[1].slice(data.offset * PSEUDONYM_LENGTH, len(data) * PSEUDONYM_LENGTH) if len(data)
               else pa.py_buffer(b""))
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), rows,
                                 [validity, pa.py_buffer(offsets), payload], null_count=nulls)


def _pseudonymise_chunked(values: pa.ChunkedArray, key: bytes, *, large: bool = False, name: str | None = None,
                          keep: list | None = None) -> pa.ChunkedArray:
    refusal = _refusal(values.type, name)
    if refusal:
        raise refusal
    too_long = max((len(chunk) for chunk in values.chunks), default=0) * PSEUDONYM_LENGTH > _MAX_STRING_BYTES
    out_type = pa.large_string() if large or too_long else pa.string()
    if pa.types.is_dictionary(values.type):
        values = pc.cast(values, values.type.value_type)
    if pa.types.is_null(values.type) or values.num_chunks == 0:
        return pa.chunked_array([pa.nulls(len(chunk), out_type) for chunk in values.chunks], out_type)
    encoded = pc.dictionary_encode(values)  # drops empty chunks
    if encoded.num_chunks == 0:
        return pa.chunked_array([], out_type)
    dictionaries = {(len(c.dictionary), c.dictionary.buffers()[-1].address if c.dictionary.buffers()[-1] else 0)
                    for c in encoded.chunks}
    if len(dictionaries) > 1:  # Arrow shares one dictionary across chunks today; do not depend on it
        encoded = encoded.unify_dictionaries()
    hexes = _cmac_distinct(encoded.chunk(0).dictionary, key)
    pseudonyms = pa.FixedSizeBinaryArray.from_buffers(pa.binary(PSEUDONYM_LENGTH), len(hexes),
                                                      [None, pa.py_buffer(hexes)])
    if keep is not None:  # the same rows as indices into the pseudonyms: what the cache stores
        keep.append(pa.chunked_array([pa.DictionaryArray.from_arrays(chunk.indices, pseudonyms)
                                      for chunk in encoded.chunks]))
    return pa.chunked_array([_spread(pseudonyms, chunk.indices, out_type == pa.large_string())
                             for chunk in encoded.chunks], out_type)


def pseudonymise(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array | pa.ChunkedArray:
    """Each value's keyed pseudonym (nulls stay null), vectorised: one HMAC per distinct value."""
    key = _check_key(key)
    if isinstance(values, pa.ChunkedArray):
        return _pseudonymise_chunked(values, key)
    if not isinstance(values, pa.Array):
        raise InvalidInput(f"values: give a pyarrow Array or ChunkedArray, not {type(values).__name__}.",
                           field="values")
    result = _pseudonymise_chunked(pa.chunked_array([values]), key)
    return result.chunk(0) if result.num_chunks == 1 else result.combine_chunks()


def _check_columns(names: list[str], columns: object, identifiers: object, path: Path) -> tuple[list[str], list[str]]:
    if isinstance(columns, str) or not isinstance(columns, list | tuple) or not columns \
            or not all(isinstance(c, str) for c in columns):
        raise InvalidInput(f"columns: give a list of column names, not {columns!r}.", field="columns")
    if isinstance(identifiers, str) or not isinstance(identifiers, list | tuple) \
            or not all(isinstance(c, str) for c in identifiers):
        raise InvalidInput(f"identifiers: give a list of column names, not {identifiers!r}.", field="identifiers")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InvalidInput(f"columns: {', '.join(repeated)} listed more than once.", field="columns")
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise InvalidInput(f"columns: {', '.join(unknown)} not in {path.name}; it has {', '.join(names)}.",
                           field="columns")
    outside = [c for c in dict.fromkeys(identifiers) if c not in columns]
    if outside:
        raise InvalidInput(f"identifiers: {', '.join(outside)} not among the columns read "
                           f"({', '.join(columns)}); every identifier must be one of them.", field="identifiers")
    return list(columns), list(dict.fromkeys(identifiers))


def _fingerprint(path: Path, key: bytes) -> bytes:
    """What a cached column is valid for: this file as it is now, pseudonymised with this key (the key is not
    recoverable from it)."""
    stat = path.stat()
    check = hmac.new(key, b"workbench pseudonym cache: aes-256-cmac", hashlib.sha256).hexdigest()[:16]
    return f"{stat.st_size}:{stat.st_mtime_ns}:{check}".encode()


def _from_cache(cache: Path | None, name: str, fingerprint: bytes) -> pa.ChunkedArray | None:
    """A cached pseudonymised column, expanded to rows, or None when there is none for this file and key."""
    path = cache / f"{name}.arrow" if cache is not None else None
    if path is None or not path.is_file():
        return None
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            if (reader.schema.metadata or {}).get(_FINGERPRINT) != fingerprint:
                return None
            column = reader.read_all().column(0)
        if column.type != pa.dictionary(pa.int32(), pa.binary(PSEUDONYM_LENGTH)):
            return None
        return pa.chunked_array([_spread(chunk.dictionary, chunk.indices, True) for chunk in column.chunks],
                                pa.large_string())
    except (OSError, pa.ArrowException):
        return None  # damaged or half-written: compute again


def _to_cache(cache: Path, name: str, fingerprint: bytes, column: pa.ChunkedArray) -> None:
    """Keep a pseudonymised column as row indices into its distinct pseudonyms (Arrow IPC, read back mapped
    into memory), so the next read of the same file with the same key skips the hashing."""
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    schema = pa.schema([(name, column.type)], metadata={_FINGERPRINT: fingerprint})
    tmp = cache / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for chunk in column.chunks:
                writer.write_batch(pa.record_batch([chunk], schema=schema))
        os.replace(tmp, cache / f"{name}.arrow")
    finally:
        tmp.unlink(missing_ok=True)


def read_governed(path: str | Path, columns: list[str], identifiers: list[str], key: bytes, *,
                  cache: str | Path | None = None) -> pd.DataFrame:
    """Only ``columns`` of a Parquet file, in that order, each of ``identifiers`` replaced by its pseudonym.

    With ``cache`` (a folder kept for this file and key, e.g. per project and dataset), pseudonymised columns
    are kept there and reused while the file and key are unchanged: repeated loads skip the hashing.
    """
    key = _check_key(key)
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No Parquet file {path.name!r} to read (it is not stored).")
    schema = pq.read_schema(path)
    columns, identifiers = _check_columns(schema.names, columns, identifiers, path)
    for name in identifiers:
        refusal = _refusal(schema.field(name).type, name)
        if refusal:
            raise refusal

    cache = Path(cache) if cache is not None else None
    fingerprint = _fingerprint(path, key)
    cached = {name: _from_cache(cache, name, fingerprint) for name in identifiers}
    to_hash = [name for name in identifiers if cached[name] is None]
    rows = pq.read_metadata(path).num_rows
    with bar(2 + len(to_hash), f"Loading {path.stem}", worth_showing=rows >= PROGRESS_MIN_ROWS) as progress:
        progress.set_postfix_str("reading")
        table = pq.read_table(path, columns=[c for c in columns if cached.get(c) is None])
        progress.update(1)
        kept: dict[str, list] = {name: [] for name in identifiers}

        def pseudonymise_column(name: str) -> pa.ChunkedArray:
            return _pseudonymise_chunked(table.column(name), key, large=True, name=name,
                                         keep=kept[name] if cache is not None else None)

        with ThreadPoolExecutor(max_workers=max(1, len(identifiers))) as pool:
            pending = {name: pool.submit(pseudonymise_column, name) for name in to_hash}
            progress.set_postfix_str("pseudonymising " + ", ".join(to_hash) if to_hash else "converting")
            rest = table.drop_columns(list(pending))
            frame = rest.to_pandas()  # with no columns left, still the rows and the index pandas metadata describes
            progress.update(1)
            for position, name in enumerate(columns):
                if name in identifiers:
                    values = cached[name] if cached[name] is not None else pending[name].result()
                    if name in pending:
                        progress.update(1)
                    frame.insert(position, name, pd.arrays.ArrowStringArray(values))
    for name in pending:
        if kept[name]:
            _to_cache(cache, name, fingerprint, kept[name][0])  # type: ignore[arg-type]  # kept only with a cache
    return frame
