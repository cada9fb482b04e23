"""Keyed pseudonyms for direct and record identifiers, and governed reads of Parquet files that apply them.

Keys. Each project has its own key, derived from the workspace master key as
``HMAC-SHA256(master_key, b"project:" + project_id)`` (``project_key``), so no per-project key is ever stored
and a key never leaves this module except through ``project_key`` itself. Nothing here returns, logs or embeds a
key: callers get pseudonyms only. Pseudonyms use their own key derived from it,
``K = HMAC-SHA256(project_key, b"pseudonym:aes-256-cmac")`` (32 bytes), so the project key's other uses (the
project's row order, the cache fingerprint) and the pseudonyms never share a key.

Pseudonym. ``pseudonym(value) = hex(AES-256-CMAC(K, canonical_text(value)))[:20]``: the first 20 lower-case hex
characters (80 bits) of the CMAC of NIST SP 800-38B / RFC 4493 — exactly what ``cryptography``'s
``CMAC(algorithms.AES(K))`` gives for the value's bytes. CMAC is a pseudorandom function for messages of any
length, so without K a pseudonym says nothing about its value and cannot be recomputed or reversed; truncation to
80 bits keeps that (SP 800-38B allows tags from 64 bits). 80 bits keep collisions negligible: among 10 million
distinct values the chance that any two share a pseudonym is about n²/2⁸¹ ≈ 4·10⁻¹¹ (one in a billion at 50
million). The same value gets the same pseudonym in every dataset of a project, on every load (linkage works
inside it), and unrelated pseudonyms in other projects (no linkage across them without the workspace key).
Until 2026-12 pseudonyms were ``hex(HMAC-SHA256(project_key, text))[:20]``; cached columns made that way are
invalidated by the cache fingerprint, and frames saved before then keep the pseudonyms they were saved with.

Canonical text. Integers are their decimal text (``1234`` → ``"1234"``, ``-5`` → ``"-5"``); strings are their
UTF-8 bytes as they are — no trimming, case folding or padding, because standardising identifiers for linkage
is a separate, visible step. So an integer column holding 1234 and a text column holding ``"1234"`` in another
dataset link, while ``"01234"`` and ``" 1234"`` do not. Nulls stay null. Other types (floats, decimals, dates,
binary) are refused: their text form is ambiguous (``1234.0``?), so the data owner must fix the column type.

Output. ``pseudonymise`` returns Arrow ``string`` arrays; ``read_governed`` returns pandas ``string[pyarrow]``
columns (nulls as ``pd.NA``) for identifiers and, for every other column, exactly what
``pyarrow.parquet.read_table(path, columns=...).to_pandas()`` gives — with ``dataset_id``, those rows taken in
the project's order (``project_order``) with a fresh ``RangeIndex``. Loads that keep only some rows (a filter, a
sample, a batch) find them with ``matching_rows`` (the filter pushed into the scan), put them in the project's
order with ``project_rows`` and read them with ``read_rows``: row for row what ``read_governed`` gives for those
rows, keying only their values (a pseudonym depends on the value and key alone, so it is the full load's).

Speed. Every row is keyed in native code, with no Python work per value, a batch of 65,536 rows at a time
in the file's order, so the text of integers, the AES blocks and the tags of a batch stay in the CPU's caches
and no temporary is as long as the column: rows are grouped by the byte length of their canonical text
(identifiers are usually fixed-width, so there is one group and its bytes already lie back to back in the Arrow
buffer; integers of one width are turned into text four digits at a time through a table), each group's
padded 16-byte blocks are laid out a 64-bit word at a time with numpy, and each CBC step of the CMAC over a
whole group is one AES-ECB call of OpenSSL (AES-NI) through ``cryptography``. A dictionary-encoded column is
keyed once per dictionary entry. Text is keyed in the file's order, a slice at a time, each slice's 16-byte
tags written to their rows' places among the rows grouped by the project order's buckets (one array per
column); they are then taken in the project's order (within each bucket) as single ``complex128`` items and
turned into hex through a 65,536-entry table (two bytes → four characters). Integers are taken in the project's
order a batch at a time (8-byte values cost what 16-byte tags do to take) and keyed and turned into hex there,
so no column-long tags array is made for them; Arrow's take of text costs several times its keying, so text is
not taken that way.
Values of a fixed width larger than the CPU's caches (tags, integers, numbers, dates) are not taken at random
in the project's order, a cache miss a row, but in the two moves that draw it (``_Shuffle``): written into the
order's 256 buckets while read in turn, then taken within each bucket, in cache — about half the cost.
The hex goes into a buffer of Arrow's memory pool, which is the Arrow string buffer returned and is then written
to the column's cache file with plain writes (cheaper than faulting in the pages of a memory-mapped file); every
pseudonym is 20 bytes, so the offsets of every column are one shared read-only buffer. Identifier columns are
keyed in parallel while the other columns are taken in order (each combined into one chunk first) and converted
to pandas; Parquet is read with column pruning (only ``columns`` are decoded), and the project's order is
computed while it is read. A filtered load finds its rows with DuckDB's Parquet scan where DuckDB compares as
pyarrow does (``matching_rows`` with ``where``), otherwise with the pyarrow expression; a load of all the rows a
filter keeps reads their plain columns in that same scan (``matching_rows_read``, given to ``read_rows``), so the
file is scanned once, and puts them in the project's order by each row's rank in it (the inverse of the order,
cached beside it), looking up only the rows kept.

Cache. The cache files are written behind the load: the frame is returned first, and one background thread
writes them once no governed read is running (so a read has the cores to itself); a load meanwhile takes the
columns from memory, and ``wait_for_cache`` waits for the writes. Each pseudonymised column is kept in the order
it was returned, as 20-byte rows after a small header
(magic, kind, rows, null count, the fingerprint of the file and key it is valid for) and a validity bitmap,
and the project's order beside it as its two moves (each file row's place among the rows grouped by bucket,
and each place's row within its bucket: 16 bytes a row); the order itself and its inverse (each row's rank),
for loads of some rows, as 8-byte rows when first needed. A repeat load memory-maps them, so it neither keys nor
reorders identifiers. A cache file is written aside (its blocks reserved first, so a
full disk is an error before anything is written) and renamed into place, never rewritten in place: frames loaded
earlier map the pages of the file they were made with.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workbench.errors import InvalidInput, NotFound
from workbench.progress import bar

PSEUDONYM_LENGTH = 20  # hex characters: 80 bits of the HMAC
PROGRESS_MIN_ROWS = 1_000_000  # loads this large show a progress bar (where someone watches)
_CMAC_BATCH = 1 << 16  # rows per batch: its text, AES blocks and tags (1 MiB a block column) stay in cache
_MAX_STRING_BYTES = 2**31 - 1  # Arrow `string` offsets are int32

__all__ = ["PSEUDONYM_LENGTH", "Read", "matching_rows", "matching_rows_read", "project_key", "project_order",
           "project_rows", "pseudonymise", "read_governed", "read_rows", "wait_for_cache"]


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


_ORDER_BUCKETS = 256  # the rows of one bucket (8 bytes each) are shuffled within the CPU's caches
_GROUP_BYTES = 1 << 23  # a column larger than this is taken in the project's order by way of its buckets


class _Shuffle:
    """The project's order (``project_order``) as the two moves that draw it, to take columns in it. Taken at
    random, a column larger than the CPU's caches costs a cache miss a row; these two moves about half as much.

    ``spread`` sends each file row to its place among its bucket's rows (the buckets one after another, each
    bucket's rows in the file's order): the file's rows are read in turn and written into 256 streams, each one
    sequential. ``within`` then gives, for each place in the project's order, the place among the grouped rows
    it takes its row from: the shuffle inside a bucket, whose few hundred kilobytes stay in the CPU's caches.
    Both are views of one array (``both``), kept in the cache as one file. A column small enough to stay in the
    caches is taken at random in the order itself, made once when first needed."""

    def __init__(self, both: np.ndarray) -> None:
        rows = len(both) // 2
        self.both, self.spread, self.within = both, both[:rows], both[rows:]
        self._order: np.ndarray | None = None
        self._making = threading.Lock()

    def order(self) -> np.ndarray:
        """The project's order itself: each place's file row."""
        with self._making:
            if self._order is None:
                self._order = np.take(self.grouped([np.arange(len(self.spread), dtype=np.int64)]), self.within)
            return self._order

    def grouped(self, pieces: list[np.ndarray]) -> np.ndarray:
        """Values (one per file row, in consecutive pieces: a column's chunks need no combined copy first) at their
        places among the rows grouped by bucket."""
        out, row = _pooled(len(self.spread), pieces[0].dtype), 0
        for piece in pieces:
            out[self.spread[row:row + len(piece)]] = piece
            row += len(piece)
        return out


def _shuffle(key: bytes, dataset_id: str, rows: int) -> _Shuffle:
    """Draw the project's order for a dataset (``project_order``) as its two moves (``_Shuffle``)."""
    seed = hmac.new(_check_key(key), b"order:" + dataset_id.encode("utf-8"), hashlib.sha256).digest()
    generator = np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big")))
    buckets = generator.integers(0, _ORDER_BUCKETS, rows, dtype=np.uint8)
    sizes = np.bincount(buckets, minlength=_ORDER_BUCKETS)
    starts = np.cumsum(sizes) - sizes
    both = _pooled(2 * rows, np.int64)
    spread, within = both[:rows], both[rows:]
    behind = starts.copy()  # the next free place of each bucket, over the chunks so far
    for first in range(0, rows, _CMAC_BATCH):  # each chunk's rows grouped by a radix sort that stays in cache
        chunk = buckets[first:first + _CMAC_BATCH]
        local = np.argsort(chunk, kind="stable")
        counts = np.bincount(chunk, minlength=_ORDER_BUCKETS)
        ahead = np.cumsum(counts) - counts  # where each bucket's rows start in the sorted chunk
        spread[first + local] = (behind - ahead)[chunk[local]] + np.arange(len(chunk))
        behind += counts
        within[first:first + len(chunk)] = np.arange(first, first + len(chunk))
    for bucket in np.flatnonzero(sizes > 1).tolist():  # shuffling fewer than two rows draws nothing
        generator.shuffle(within[starts[bucket]:starts[bucket] + sizes[bucket]])
    return _Shuffle(both)


def project_order(key: bytes, dataset_id: str, rows: int) -> np.ndarray:
    """The order in which a project receives a dataset's rows: a permutation keyed by the project's key, the same on
    every load of the project and unrelated across projects. Without it row *i* (and the index) would be the same
    record in every project's extract: a record key that no pseudonym hides.

    Drawn uniformly by Rao and Sandelius's method from a generator seeded with ``HMAC-SHA256(key, "order:" +
    dataset_id)``: every row goes to one of 256 buckets at random, the buckets follow one another (each bucket's
    rows in the file's order), and each is shuffled (Fisher–Yates) — every permutation equally likely, as with
    one shuffle of all rows, but each shuffle's random swaps stay within a bucket that fits the CPU's caches (a
    whole-table shuffle misses them on nearly every row)."""
    return _shuffle(key, dataset_id, rows).order()


_ITEMS = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64, 128: np.complex128}  # bits -> a numpy item


def _item(kind: pa.DataType) -> Any:
    """The numpy item that holds one value of an Arrow type of a fixed number of bytes (numbers, dates and
    times, decimals; a category's code), or None (text, booleans, nested values)."""
    if pa.types.is_dictionary(kind):
        return _item(kind.index_type)
    if isinstance(kind, pa.BaseExtensionType) or pa.types.is_boolean(kind):
        return None
    try:
        return _ITEMS.get(kind.bit_width)
    except ValueError:  # of no fixed width
        return None


def _source(shuffle: _Shuffle, values: pa.ChunkedArray) -> tuple[pa.Array | pa.ChunkedArray, pa.Array]:
    """What to take a column from, and at which places, to have it in the project's order: values of a fixed
    number of bytes (or categories' codes) larger than the caches grouped by bucket (with their nulls) and the
    places ``within`` the buckets; others as they are, and the order itself (taken at random)."""
    item = _item(values.type)
    if item is None or len(values) * np.dtype(item).itemsize <= _GROUP_BYTES:
        return values, pa.array(shuffle.order())
    size = np.dtype(item).itemsize
    if pa.types.is_dictionary(values.type):
        array = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)  # one dictionary for all
        codes, within = _source(shuffle, pa.chunked_array([array.indices]))
        return pa.DictionaryArray.from_arrays(codes, array.dictionary, ordered=array.type.ordered), within
    chunks = [chunk for chunk in values.chunks if len(chunk)]
    data = shuffle.grouped([np.frombuffer(chunk.buffers()[1], item, count=len(chunk), offset=chunk.offset * size)
                            for chunk in chunks])
    validity = None
    if values.null_count:
        validity = np.packbits(shuffle.grouped([chunk.is_valid().to_numpy(zero_copy_only=False) for chunk in chunks]),
                               bitorder="little")
    grouped = pa.Array.from_buffers(values.type, len(values), [_frozen(validity), _frozen(data)],
                                    null_count=values.null_count)
    return grouped, pa.array(shuffle.within)


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


def _pooled(shape: int | tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array in Arrow's memory pool. Its allocator keeps freed pages for the next load, where
    fresh numpy arrays of this size come from the kernel page by page: on a virtual machine that costs more than
    the work done in them."""
    dims = (shape,) if isinstance(shape, int) else shape
    size = int(np.prod(dims, dtype=np.int64)) * np.dtype(dtype).itemsize
    return np.frombuffer(pa.allocate_buffer(max(size, 1)), dtype, count=int(np.prod(dims))).reshape(dims)


def _hex_table() -> np.ndarray:
    """For each 2-byte word as it lies in memory, its 4 lower-case hex characters as one uint32 (same layout)."""
    pairs = np.frombuffer(b"".join(f"{byte:02x}".encode() for byte in range(256)), np.uint16)
    words = np.arange(2**16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
    return np.ascontiguousarray(np.stack([pairs[words[:, 0]], pairs[words[:, 1]]], axis=1)).view(np.uint32).ravel()


_HEX_WORDS = _hex_table()


def _hex(tags: np.ndarray, out: np.ndarray) -> None:
    """Lower-case hex of the first 10 bytes of each row of a (n, 16) uint8 array into ``out`` (n × 20 bytes).
    Taken with ``mode="clip"``: every 2-byte word is in the table, and numpy's default mode writes into a copy of
    ``out`` first (so that an index out of range leaves it untouched), which costs more than the lookup."""
    words = tags.view(np.uint16)[:, :PSEUDONYM_LENGTH // 4]
    np.take(_HEX_WORDS, words, out=out.view(np.uint32).reshape(len(tags), PSEUDONYM_LENGTH // 4), mode="clip")


_WORD = np.dtype("<u8")  # a block is laid out as two little-endian 64-bit words


def _words(messages: np.ndarray, start: int, size: int, out: np.ndarray) -> None:
    """Bytes ``start`` to ``start + size`` (1 to 8) of each row of an (n, length) uint8 array with contiguous
    rows into ``out`` as little-endian 64-bit words, zero above ``size`` bytes: one strided read of 8 bytes a row.
    A short word reads past its row into the next one (masked off); rows whose 8 bytes would end past the last
    row are copied a byte at a time instead."""
    rows, stride = messages.shape[0], messages.strides[0]
    safe = rows
    if size < 8:
        span = (rows - 1) * stride + messages.shape[1]  # from the first row's first byte to the last row's end
        safe = min(rows, max(0, (span - start - 8) // stride + 1)) if stride > 0 else 0
    if safe:
        read = np.lib.stride_tricks.as_strided(messages[:, start:], shape=(safe, 8), strides=(stride, 1))
        out[:safe] = read.view(_WORD)[:, 0]
    if safe < rows:
        tail = np.zeros((rows - safe, 8), np.uint8)
        tail[:, :size] = messages[safe:, start:start + size]
        out[safe:] = tail.view(_WORD)[:, 0]
    if size < 8:
        out &= np.uint64((1 << (8 * size)) - 1)


class _Cmac:
    """AES-CMAC (NIST SP 800-38B, RFC 4493) of many messages at once: messages of one length share a block
    layout, so each CBC step over all of them is one AES-ECB call on a contiguous buffer."""

    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(_cmac_key(key)), modes.ECB()).encryptor()
        first = _double(self._cipher.update(bytes(16)))
        self._subkeys = (np.frombuffer(first, np.uint8), np.frombuffer(_double(first), np.uint8))

    def tags(self, messages: np.ndarray, length: int, out: np.ndarray, row: int) -> None:
        """The CMAC of each row of an (n, ``length``) uint8 array of messages ``length`` bytes long, into rows
        ``row`` to ``row + n`` of ``out``, a C-contiguous (m, 16) uint8 array with a spare row after them (the
        cipher may write up to 15 bytes past its output; they are overwritten or unused). The blocks are laid out
        a 64-bit word at a time (one numpy pass over all messages per word, not per byte)."""
        rows = len(messages)
        if out.shape[1:] != (16,) or not out.flags.c_contiguous or row + rows >= len(out):
            raise ValueError("CMAC output needs contiguous 16-byte rows and a spare row after those written.")
        if length and messages.strides[1] != 1:
            messages = np.ascontiguousarray(messages)
        count = max(1, -(-length // 16))
        complete = length > 0 and length % 16 == 0
        words = np.empty((count, rows, 2), _WORD)  # block by block, each block's rows back to back
        for word in range(2 * count):
            first, target = 8 * word, words[word // 2, :, word % 2]
            if first < length:
                _words(messages, first, min(8, length - first), target)
                if length - first < 8:
                    target |= np.uint64(0x80 << (8 * (length - first)))  # 10* padding of the last block
            else:
                target[:] = 0x80 if first == length else 0
        subkey = self._subkeys[0 if complete else 1].view(_WORD)
        words[-1, :, 0] ^= subkey[0]
        words[-1, :, 1] ^= subkey[1]
        state = words[0]
        for i in range(1, count):
            encrypted = np.frombuffer(self._cipher.update(state.reshape(-1).view(np.uint8).data), _WORD)
            state = encrypted.reshape(rows, 2) ^ words[i]
        self._cipher.update_into(state.reshape(-1).view(np.uint8).data,
                                 out.data.cast("B")[16 * row:16 * (row + rows) + 15])

    def of_equal_lengths(self, data: np.ndarray, start: int, rows: int, length: int, out: np.ndarray,
                         row: int = 0) -> None:
        """Tags of ``rows`` messages of ``length`` bytes stored back to back in ``data`` from ``start``, into
        ``out`` from ``row`` (as ``tags``), a batch at a time so the block buffers stay small."""
        for first in range(0, rows, _CMAC_BATCH):
            count = min(_CMAC_BATCH, rows - first)
            begin = start + first * length
            self.tags(data[begin:begin + count * length].reshape(count, length), length, out, row + first)


def _as_text(piece: pa.Array) -> pa.Array:
    """A slice of an identifier column as text with offsets: integers as their decimal text, views as strings."""
    if pa.types.is_integer(piece.type):
        return pc.cast(piece, pa.string())
    if pa.types.is_string_view(piece.type):
        return pc.cast(piece, pa.large_string())
    return piece


_DIGITS = np.frombuffer("".join(f"{group:04d}" for group in range(10_000)).encode(), np.uint32)  # 4 characters


def _decimal_digits(piece: pa.Array) -> np.ndarray | None:
    """The decimal text of an integer array as an (n, digits) uint8 array when every non-null value is
    non-negative with the same number of digits (identifiers usually are; a null row's text means nothing),
    four digits at a time through a table: cheaper than Arrow's cast to strings. None otherwise."""
    if len(piece) == piece.null_count:
        return None
    least, most = (value.as_py() for value in pc.min_max(piece).values())
    width = len(str(most))
    if least < 0 or len(str(least)) != width:
        return None
    kind = np.dtype(piece.type.to_pandas_dtype())
    rest = np.frombuffer(piece.buffers()[1], kind)[piece.offset:piece.offset + len(piece)]
    rest = rest.astype(np.uint64 if kind.kind == "u" else np.int64, copy=False)
    groups = -(-width // 4)
    text = np.empty((len(piece), groups), np.uint32)  # groups of four characters, the first zero-padded
    for group in range(groups - 1, 0, -1):
        quotient = rest // 10_000
        np.take(_DIGITS, rest - quotient * 10_000, out=text[:, group], mode="clip")
        rest = quotient
    np.take(_DIGITS, rest, out=text[:, 0], mode="clip")  # null slots may hold anything: clipped, still a group
    return text.view(np.uint8)[:, 4 * groups - width:]


def _buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (one more than the values) and data bytes of a non-empty string or large string array."""
    width = np.int64 if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], width)[array.offset:array.offset + len(array) + 1]
    data = array.buffers()[2]
    return offsets, (np.frombuffer(data, np.uint8) if data is not None and data.size else np.zeros(1, np.uint8))


def _items(tags: np.ndarray) -> np.ndarray:
    """A C-contiguous (n, 16) uint8 array as n 16-byte items: rows taken or placed in one fast numpy pass."""
    return tags.view(np.complex128).reshape(-1)


def _tag_text(cmac: _Cmac, text: pa.Array, out: np.ndarray, row: int) -> np.ndarray | None:
    """The CMAC of each row of a text array into rows ``row`` on of ``out`` (as ``_Cmac.tags``; a null row's tag
    means nothing), computed per group of messages of equal byte length; which rows are valid, or None if all.

    When every non-null message has the same length (fixed-width identifiers) and null rows span no bytes, their
    bytes lie back to back in the Arrow buffer and are encrypted where they are; otherwise the rows are first
    sorted by length (a radix sort of the lengths, then one Arrow ``take``)."""
    rows = len(text)
    valid = None if text.null_count == 0 else pc.is_valid(text).to_numpy(zero_copy_only=False)
    present = rows - text.null_count
    if not present:
        return valid
    offsets, data = _buffers(text)
    lengths = np.diff(offsets)
    if valid is not None:
        lengths[~valid] = 0  # a null's slot may hold bytes; taken, it holds none
    shortest, longest = (int(f(lengths if valid is None else lengths[valid])) for f in (np.min, np.max))
    if shortest == longest and int(offsets[-1] - offsets[0]) == shortest * present:
        if valid is None:
            cmac.of_equal_lengths(data, int(offsets[0]), rows, shortest, out, row)
        else:
            part = np.empty((present + 1, 16), np.uint8)
            cmac.of_equal_lengths(data, int(offsets[0]), present, shortest, part)
            _items(out)[row + np.flatnonzero(valid)] = _items(part)[:present]
        return valid
    order = np.argsort(lengths.astype(np.uint16) if longest < 2**16 else lengths, kind="stable")  # radix sort
    ordered = pc.take(text, pa.array(order))
    offsets, data = _buffers(ordered)
    sizes = lengths[order]
    bounds = np.flatnonzero(np.diff(sizes)) + 1
    part = np.empty((rows + 1, 16), np.uint8)
    for first, last in zip([0, *bounds.tolist()], [*bounds.tolist(), rows], strict=True):
        cmac.of_equal_lengths(data, int(offsets[first]), last - first, int(sizes[first]), part, first)
    _items(out)[row + order] = _items(part)[:rows]
    return valid


def _tag_array(cmac: _Cmac, array: pa.Array, out: np.ndarray, row: int) -> np.ndarray | None:
    """The CMAC of each row of one array into ``out`` from ``row``, a batch of rows at a time (so the text of
    integers and the AES blocks stay small and in the CPU's caches); which rows are valid, or None if all. A
    dictionary's entries are keyed once and their tags taken by its indices."""
    rows = len(array)
    if pa.types.is_null(array.type):
        return np.zeros(rows, bool)
    if pa.types.is_dictionary(array.type):
        entries = np.empty((len(array.dictionary) + 1, 16), np.uint8)
        known = _tag_array(cmac, array.dictionary, entries, 0)
        indices = pc.fill_null(array.indices, 0).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        if len(array.dictionary):
            np.take(_items(entries), indices, out=_items(out)[row:row + rows])
        valid = None if array.null_count == 0 else pc.is_valid(array).to_numpy(zero_copy_only=False)
        if known is not None:
            valid = known[indices] if valid is None else valid & known[indices]
        return valid
    valid = None
    for start in range(0, rows, _CMAC_BATCH):
        piece = array.slice(start, _CMAC_BATCH)
        digits = _decimal_digits(piece) if pa.types.is_integer(piece.type) else None
        if digits is None:
            shown = _tag_text(cmac, _as_text(piece), out, row + start)
        else:
            cmac.tags(digits, digits.shape[1], out, row + start)
            shown = None if piece.null_count == 0 else pc.is_valid(piece).to_numpy(zero_copy_only=False)
        if shown is not None:
            if valid is None:
                valid = np.ones(rows, bool)
            valid[start:start + len(piece)] = shown
    return valid


_SCATTER_ROWS = 1 << 20  # rows keyed at once before being written to their buckets (16 MiB of tags)


def _tags(values: pa.ChunkedArray, key: bytes,
          spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The AES-CMAC of every row's canonical text as a (n + 1, 16) uint8 array (a spare row last; rows of nulls
    hold no meaningful tag), chunk by chunk and batch by batch; and which rows are valid, or None when none is
    null. In the file's order, or with ``spread`` (``_Shuffle.spread``) at each row's place among the rows
    grouped by the project order's buckets: keyed a slice at a time and written there, so no second column-long
    array of tags is made to group them."""
    cmac, rows = _Cmac(key), len(values)
    tags = _pooled((rows + 1, 16), np.uint8)
    pieces, scratch = values.chunks, None
    if spread is not None:
        pieces = [chunk.slice(first, _SCATTER_ROWS) for chunk in values.chunks
                  for first in range(0, len(chunk), _SCATTER_ROWS)]
        scratch = np.empty((min(rows, _SCATTER_ROWS) + 1, 16), np.uint8)
    valid, row = None, 0
    for piece in pieces:
        places = slice(row, row + len(piece)) if spread is None else spread[row:row + len(piece)]
        if scratch is None:
            shown = _tag_array(cmac, piece, tags, row)
        else:
            shown = _tag_array(cmac, piece, scratch, 0)
            _items(tags)[places] = _items(scratch)[:len(piece)]
        if shown is not None and not shown.all():
            if valid is None:
                valid = np.ones(rows, bool)
            valid[places] = shown
        row += len(piece)
    return tags, valid


def _keyed(values: pa.ChunkedArray, key: bytes,
           shuffle: _Shuffle | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The tags of text values and which are valid (``_tags``), and where each place of the project's order takes
    its tag from (None: in the file's order, without ``shuffle``): grouped by bucket as they are keyed when they
    are larger than the caches, then taken within each bucket; else in the file's order, taken in the order."""
    if shuffle is None:
        return (*_tags(values, key), None)
    if (len(values) + 1) * 16 > _GROUP_BYTES:
        return (*_tags(values, key, shuffle.spread), shuffle.within)
    return (*_tags(values, key), shuffle.order())


_OFFSETS: list[np.ndarray] = []  # the longest offsets of pseudonym columns made so far, shared
_OFFSETS_LOCK = threading.Lock()


def _fixed_offsets(rows: int) -> pa.Buffer:
    """Offsets 0, 20, 40, ... (int64) for ``rows`` values: one read-only buffer shared by every pseudonym column."""
    with _OFFSETS_LOCK:
        if not _OFFSETS or len(_OFFSETS[0]) < rows + 1:
            offsets = _pooled(rows + 1, np.int64)
            for start in range(0, rows + 1, _CMAC_BATCH):
                stop = min(start + _CMAC_BATCH, rows + 1)
                np.multiply(np.arange(start, stop, dtype=np.int64), PSEUDONYM_LENGTH, out=offsets[start:stop])
            offsets.flags.writeable = False
            _OFFSETS[:] = [offsets]
        return pa.py_buffer(_OFFSETS[0][:rows + 1])


def _write_text(tags: np.ndarray, valid: np.ndarray | None, at: np.ndarray | None,
                text: np.ndarray) -> np.ndarray | None:
    """The pseudonyms of rows with these tags (the rows ``at`` when given) into ``text``, a (rows, 20) uint8
    array, a batch at a time; a null row's 20 bytes are zeros (Arrow lets a null span bytes, and these hide
    nothing). Which rows of ``text`` are valid, or None if all."""
    rows = len(text)
    items = _items(tags)

    def write(first: int, last: int) -> None:
        scratch = np.empty(min(_CMAC_BATCH, last - first), np.complex128)
        for start in range(first, last, _CMAC_BATCH):
            stop = min(start + _CMAC_BATCH, last)
            if at is None:
                block = tags[start:stop]
            else:
                block = np.take(items, at[start:stop], out=scratch[:stop - start], mode="clip")  # the order's places
                block = block.view(np.uint8).reshape(-1, 16)
            _hex(block, text[start:stop])

    if rows < 2 * _CMAC_BATCH:
        write(0, rows)
    else:  # the last column of a load is often written alone: both halves at once use both cores
        half = rows // 2 // _CMAC_BATCH * _CMAC_BATCH
        with ThreadPoolExecutor(max_workers=1) as pool:
            other = pool.submit(write, half, rows)
            write(0, half)
            other.result()
    if valid is None:
        return None
    shown = valid if at is None else valid[at]
    text[np.flatnonzero(~shown)] = 0
    return shown


def _frozen(buffer: Any) -> pa.Buffer | None:
    """A numpy array (made read-only) or Arrow buffer as an Arrow buffer; None stays None."""
    if isinstance(buffer, np.ndarray):
        buffer.flags.writeable = False
        return pa.py_buffer(buffer)
    return buffer


def _column(validity: Any, data: Any, rows: int, nulls: int) -> pa.LargeStringArray:
    """A pseudonym column on its buffers (numpy arrays made read-only, or Arrow buffers) and the shared offsets."""
    return pa.Array.from_buffers(pa.large_string(), rows, [_frozen(validity) if nulls else None,
                                                          _fixed_offsets(rows), _frozen(data)], null_count=nulls)


def _pseudonym_column(tags: np.ndarray, valid: np.ndarray | None, at: np.ndarray | None,
                      keep: Path | None = None, fingerprint: bytes = b"") -> pa.LargeStringArray:
    """The pseudonyms of rows with these tags (the rows ``at`` when given, as ``_keyed`` gives them) as an Arrow
    ``large_string`` array (in Arrow's memory pool). With ``keep``, also written to that cache file; where it
    cannot be (no room), the load goes on uncached."""
    rows = len(tags) - 1
    nulls = 0 if valid is None else rows - int(np.count_nonzero(valid))
    text = _pooled((rows, PSEUDONYM_LENGTH), np.uint8)
    shown = _write_text(tags, valid, at, text)
    validity = None if shown is None else np.packbits(shown, bitorder="little")
    if keep is not None:
        _keep(keep, _PSEUDONYMS, rows, nulls, fingerprint, validity, text.reshape(-1))
    return _column(validity, text.reshape(-1), rows, nulls)


def _pseudonyms_in_order(values: pa.ChunkedArray, key: bytes, shuffle: _Shuffle, keep: Path | None,
                         fingerprint: bytes) -> pa.LargeStringArray | None:
    """The pseudonyms of ``values`` in the project's order, as ``_pseudonym_column(*_keyed(values, key, shuffle),
    keep, fingerprint)`` gives them, but a batch of the project's order at a time: the batch's values are taken
    (``_source``), keyed and written as hex while they are in the CPU's caches, so no column-long array of tags
    is made (160 MB per 10 million rows, fresh pages on every first load). For values of a fixed width
    (integers): moving them costs what moving 16-byte tags does, where text costs several times its keying to
    move (the caller keys text in the file's order). None for values of no fixed width."""
    if _item(values.type) is None:
        return None
    column, at = _source(shuffle, values)
    if isinstance(column, pa.ChunkedArray):  # a batch's take from one array, not a search of the chunks
        column = column.combine_chunks()
    cmac, rows = _Cmac(key), len(values)
    text = _pooled((rows, PSEUDONYM_LENGTH), np.uint8)
    tags = np.empty((min(_CMAC_BATCH, rows) + 1, 16), np.uint8)
    shown = None
    for start in range(0, rows, _CMAC_BATCH):
        stop = min(start + _CMAC_BATCH, rows)
        valid = _tag_array(cmac, column.take(at.slice(start, stop - start)), tags, 0)
        _hex(tags[:stop - start], text[start:stop])
        if valid is not None:
            if shown is None:
                shown = np.ones(rows, bool)
            shown[start:stop] = valid
    nulls = 0 if shown is None else rows - int(np.count_nonzero(shown))
    validity = None
    if shown is not None and nulls:
        text[np.flatnonzero(~shown)] = 0  # a null's 20 bytes are zeros, as _write_text leaves them
        validity = np.packbits(shown, bitorder="little")
    if keep is not None:
        _keep(keep, _PSEUDONYMS, rows, nulls, fingerprint, validity, text.reshape(-1))
    return _column(validity, text.reshape(-1), rows, nulls)


def _pseudonymise_rows(values: pa.ChunkedArray, key: bytes, *, name: str | None = None) -> pa.LargeStringArray:
    """Every row's pseudonym as one Arrow ``large_string`` array, in the file's order."""
    refusal = _refusal(values.type, name)
    if refusal:
        raise refusal
    return _pseudonym_column(*_tags(values, key), None)


def pseudonymise(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array | pa.ChunkedArray:
    """Each value's keyed pseudonym (nulls stay null), vectorised: the AES-CMAC of all rows in batched AES calls.
    Arrays of up to 100 million values come back as Arrow ``string``, longer ones as ``large_string``."""
    key = _check_key(key)
    if isinstance(values, pa.ChunkedArray):
        chunked = values
    elif isinstance(values, pa.Array):
        chunked = pa.chunked_array([values])
    else:
        raise InvalidInput(f"values: give a pyarrow Array or ChunkedArray, not {type(values).__name__}.",
                           field="values")
    result = _pseudonymise_rows(chunked, key)
    if len(result) * PSEUDONYM_LENGTH <= _MAX_STRING_BYTES:
        result = result.cast(pa.string())
    if isinstance(values, pa.Array):
        return result
    lengths = [len(chunk) for chunk in values.chunks]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64).tolist()
    return pa.chunked_array([result.slice(start, length) for start, length in zip(starts, lengths, strict=False)],
                            result.type)


def _checked_file(path: Path, columns: Any, identifiers: Any) -> tuple[pa.Schema, list[str], list[str]]:
    """The stored file's schema and the checked columns and identifiers to read from it; refused when the file is
    missing, a column is not in it, or an identifier's type cannot be pseudonymised."""
    if not path.is_file():
        raise NotFound(f"No Parquet file {path.name!r} to read (it is not stored).")
    schema = pq.read_schema(path)
    columns, identifiers = _check_columns(schema.names, columns, identifiers, path)
    for name in identifiers:
        refusal = _refusal(schema.field(name).type, name)
        if refusal:
            raise refusal
    return schema, columns, identifiers


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


def _fingerprint(path: Path, key: bytes, dataset_id: str | None) -> bytes:
    """What a cached column is valid for: this file as it is now, pseudonymised with this key (the key is not
    recoverable from it), its rows in the file's order or in the project's order for ``dataset_id``."""
    stat = path.stat()
    check = hmac.new(key, b"workbench pseudonym cache: aes-256-cmac", hashlib.sha256).hexdigest()[:16]
    order = "file" if dataset_id is None else f"project-order-2:{dataset_id}"  # 2: drawn bucket by bucket
    return f"{stat.st_size}:{stat.st_mtime_ns}:{check}:{order}".encode()


def _cache_file(cache: Path, name: str, dataset_id: str | None) -> Path:
    return cache / (f"{name}.pseudonyms" if dataset_id is None else f"{name}.in-project-order.pseudonyms")


def _forget_old_caches(cache: Path, names: list[str], dataset_id: str | None) -> None:
    """Remove the Arrow IPC files in which these columns (and the order) were cached before 2026-12, and files left
    half-written aside by a process that stopped: never read, they would only take room."""
    old = [f"{name}.arrow" if dataset_id is None else f"{name}.in-project-order.arrow" for name in names]
    for name in old + (["order.arrow"] if dataset_id is not None else []):
        (cache / name).unlink(missing_ok=True)
    stale = time.time() - _STALE_SECONDS
    for aside in cache.glob(".*.tmp"):  # left by a process that stopped while writing behind a load
        with suppress(OSError):
            if aside.stat().st_mtime < stale:
                aside.unlink()


_STALE_SECONDS = 3600  # a file written aside this long ago belongs to no write still running


_MAGIC = b"WBCACHE1"  # a cache file: magic, kind, rows, nulls, fingerprint, then validity bitmap and rows
_HEADER = struct.Struct("<8s8sQQI")  # magic, kind, rows, null count, length of the fingerprint that follows
_PSEUDONYMS, _ORDER, _SHUFFLE = b"pseudo20", b"order-i8", b"shuf-2i8"  # what a cache file holds
_WIDTH = {_PSEUDONYMS: PSEUDONYM_LENGTH, _ORDER: 8, _SHUFFLE: 16}  # its bytes a row


def _layout(kind: bytes, rows: int, nulls: int, fingerprint: bytes) -> tuple[bytes, int, int, int]:
    """A cache file's header, where its validity bitmap and its rows start (64-byte aligned), and its size."""
    head = _HEADER.pack(_MAGIC, kind, rows, nulls, len(fingerprint)) + fingerprint
    validity = -(-len(head) // 64) * 64
    data = validity + (-(-((rows + 7) // 8) // 64) * 64 if nulls else 0)
    return head, validity, data, data + rows * _WIDTH[kind]


def _write_cache(path: Path, kind: bytes, rows: int, nulls: int, fingerprint: bytes, validity: Any,
                 data: Any) -> None:
    """A new cache file holding ``validity`` (a bitmap, None without nulls) and ``data`` (the rows), written aside
    with plain writes and renamed into place: never rewritten in place, since frames loaded earlier map the pages
    of the file they were made with. Its blocks are reserved first, so a full disk is an ``OSError`` before
    anything is written. Plain writes from the column's own memory cost less than faulting in the pages of a
    memory-mapped file (a fault per page on this kind of virtual machine)."""
    head, at_validity, at_data, size = _layout(kind, rows, nulls, fingerprint)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(handle, 0, size)
            pieces = [(0, memoryview(head))]
            if nulls:
                pieces.append((at_validity, memoryview(validity).cast("B")))
            pieces.append((at_data, memoryview(data).cast("B")))
            for offset, piece in pieces:
                while len(piece):
                    written = os.pwrite(handle, piece, offset)
                    piece, offset = piece[written:], offset + written
            os.ftruncate(handle, size)  # where no posix_fallocate: the file's full size all the same
        finally:
            os.close(handle)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class _Writing(NamedTuple):
    """A cache file being written behind a load, and what it will hold (read-only buffers)."""

    kind: bytes
    fingerprint: bytes
    rows: int
    nulls: int
    validity: pa.Buffer | None
    data: pa.Buffer


_P = ParamSpec("_P")
_T = TypeVar("_T")
_BEHIND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-cache")  # one writer, in submission order
_WRITING: dict[Path, _Writing] = {}  # cache file -> what is being written to it
_WRITING_LOCK = threading.Lock()


class _Reads:
    """The governed reads running now. Cache files are written behind them, once none is running, so that a read
    has the machine's cores to itself and its caller gets the frame first."""

    def __init__(self) -> None:
        self._running = 0
        self._changed = threading.Condition()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._changed:
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def wait_until_none(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._running)


_READS = _Reads()


def _a_read(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """A governed read: cache files wait to be written until no such read is running (``_Reads``)."""
    @functools.wraps(function)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with _READS.running():
            return function(*args, **kwargs)

    return read


def _keep(path: Path, kind: bytes, rows: int, nulls: int, fingerprint: bytes, validity: Any, data: Any) -> None:
    """Keep a column in a cache file, written behind the load on one background thread: the frame is returned
    without waiting for the disk, and a load meanwhile takes the column from memory (``_from_cache``). Where it
    cannot be written (no room, the folder gone), it stays uncached and is computed again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return
    writing = _Writing(kind, fingerprint, rows, nulls, _frozen(validity) if nulls else None, _frozen(data))
    with _WRITING_LOCK:
        _WRITING[path] = writing

    def write() -> None:
        try:
            _READS.wait_until_none()
            with suppress(OSError):
                _write_cache(path, kind, rows, nulls, fingerprint, writing.validity, writing.data)
        finally:
            with _WRITING_LOCK:
                if _WRITING.get(path) is writing:
                    del _WRITING[path]

    _BEHIND.submit(write)


def wait_for_cache() -> None:
    """Return once every cache file written behind a load so far is on disk (or was given up for want of room)."""
    _BEHIND.submit(lambda: None).result()


def _from_cache(path: Path | None, kind: bytes, fingerprint: bytes,
                rows: int) -> tuple[pa.Buffer | None, pa.Buffer, int] | None:
    """A cached column's validity bitmap (None without nulls), rows and null count, memory-mapped (not copied), or
    still in memory while it is being written behind a load; None when there is none for this file, key and order."""
    if path is None:
        return None
    with _WRITING_LOCK:
        writing = _WRITING.get(path)
    if writing is not None and writing.kind == kind and writing.fingerprint == fingerprint and writing.rows == rows:
        return writing.validity, writing.data, writing.nulls
    if not path.is_file():
        return None
    try:
        with pa.memory_map(str(path)) as source:
            magic, found, count, nulls, length = _HEADER.unpack(source.read(_HEADER.size))
            if (magic, found, count) != (_MAGIC, kind, rows) or nulls > rows or source.read(length) != fingerprint:
                return None
            _head, validity, data, size = _layout(kind, rows, nulls, fingerprint)
            if source.size() != size:
                return None
            source.seek(validity)
            bitmap = source.read_buffer((rows + 7) // 8) if nulls else None
            source.seek(data)
            return bitmap, source.read_buffer(rows * _WIDTH[kind]), nulls
    except (OSError, struct.error, pa.ArrowException):
        return None  # damaged or half-written: compute again


def _cached_shuffle(key: bytes, dataset_id: str, rows: int, cache: Path | None, fingerprint: bytes) -> _Shuffle:
    """The project's order of the dataset's rows as its two moves (``_Shuffle``), kept in the cache beside the
    pseudonyms: a repeat load takes its other columns in order without drawing it again."""
    path = cache / "project-shuffle.rows" if cache is not None else None
    kept = _from_cache(path, _SHUFFLE, fingerprint, rows)
    if kept is not None:
        return _Shuffle(np.frombuffer(kept[1], np.int64))
    shuffle = _shuffle(key, dataset_id, rows)
    if path is not None:
        _keep(path, _SHUFFLE, rows, 0, fingerprint, None, shuffle.both)
    return shuffle


def _order(key: bytes, dataset_id: str, rows: int, cache: Path | None, fingerprint: bytes) -> np.ndarray:
    """The project's order of the dataset's rows (``project_order``), kept in the cache beside the pseudonyms."""
    path = cache / "project-order.rows" if cache is not None else None
    kept = _from_cache(path, _ORDER, fingerprint, rows)
    if kept is not None:
        return np.frombuffer(kept[1], np.int64)
    order = _cached_shuffle(key, dataset_id, rows, cache, fingerprint).order()
    if path is not None:
        _keep(path, _ORDER, rows, 0, fingerprint, None, order)
    return order


def _in_order(table: pa.Table, shuffle: _Shuffle | None) -> pd.DataFrame:
    """A table as pandas, its rows taken in the project's order first when its ``shuffle`` is given (then with a
    fresh ``RangeIndex``), each column as ``_source`` says."""
    if shuffle is None:
        return table.to_pandas()  # with no columns left, still the rows and the index pandas metadata describes
    if not table.num_columns:
        return pd.DataFrame(index=pd.RangeIndex(len(shuffle.within)))
    schema, columns = table.schema, table.columns
    del table  # each column is now held by ``columns`` (and the caller's table, if it keeps one)

    def take(position: int) -> pa.Array:
        column, columns[position] = columns[position], None  # freed once taken: its pages serve the next column
        return pc.take(*_source(shuffle, column))

    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy's scatter and Arrow's take run outside the GIL
        taken = pa.table(list(pool.map(take, range(len(columns)))), schema=schema)
    frame = taken.to_pandas(self_destruct=True)  # each taken column freed once converted, for the next to reuse
    frame.index = pd.RangeIndex(len(frame))
    return frame


@_a_read
def read_governed(path: str | Path, columns: list[str], identifiers: list[str], key: bytes, *,
                  cache: str | Path | None = None, dataset_id: str | None = None) -> pd.DataFrame:
    """Only ``columns`` of a Parquet file, in that order, each of ``identifiers`` replaced by its pseudonym.

    With ``dataset_id``, the rows come in the project's own order for that dataset (``project_order``), with a
    ``RangeIndex``: taken while the columns are still Arrow, which costs less than reordering the frame.
    With ``cache`` (a folder kept for this file and key, e.g. per project and dataset), pseudonymised columns
    (and the project's order) are kept there and reused while the file and key are unchanged: repeated loads
    skip the hashing and the reordering of identifiers.
    """
    key = _check_key(key)
    path = Path(path)
    if dataset_id is not None and (not isinstance(dataset_id, str) or not dataset_id):
        raise InvalidInput(f"dataset_id: name the dataset whose project order to use, not {dataset_id!r}.",
                           field="dataset_id")
    _schema, columns, identifiers = _checked_file(path, columns, identifiers)

    cache = Path(cache) if cache is not None else None
    fingerprint = _fingerprint(path, key, dataset_id)
    rows = pq.read_metadata(path).num_rows
    files = {name: _cache_file(cache, name, dataset_id) if cache is not None else None for name in identifiers}
    kept = {name: _from_cache(files[name], _PSEUDONYMS, fingerprint, rows) for name in identifiers}
    cached = {name: None if stored is None else _column(stored[0], stored[1], rows, stored[2])
              for name, stored in kept.items()}
    to_hash = [name for name in identifiers if cached[name] is None]
    if cache is not None and cache.is_dir():
        _forget_old_caches(cache, identifiers, dataset_id)
    with bar(2 + len(to_hash), f"Loading {path.stem}", worth_showing=rows >= PROGRESS_MIN_ROWS) as progress, \
            ThreadPoolExecutor(max_workers=1 + max(1, len(to_hash))) as pool:
        progress.set_postfix_str("reading")
        ordering = pool.submit(_cached_shuffle, key, dataset_id, rows, cache, fingerprint) \
            if dataset_id is not None else None
        table = pq.read_table(path, columns=[c for c in columns if cached.get(c) is None])  # meanwhile
        progress.update(1)

        def pseudonymise_column(name: str, values: pa.ChunkedArray) -> pa.Array:
            if ordering is not None and pa.types.is_integer(values.type):  # text is cheaper keyed in file order
                in_order = _pseudonyms_in_order(values, key, ordering.result(), files[name], fingerprint)
                if in_order is not None:
                    return in_order
            return _pseudonym_column(*_keyed(values, key, ordering.result() if ordering is not None else None),
                                     files[name], fingerprint)

        pending = {name: pool.submit(pseudonymise_column, name, table.column(name)) for name in to_hash}
        progress.set_postfix_str("pseudonymising " + ", ".join(to_hash) if to_hash else "converting")
        rest = [table.drop_columns(list(pending))]
        del table  # each identifier's values now held by its keying alone, freed once keyed
        frame = _in_order(rest.pop(), ordering.result() if ordering is not None else None)  # owns the other columns
        progress.update(1)
        for position, name in enumerate(columns):
            if name in identifiers:
                values = cached[name]
                if values is None:
                    values = pending[name].result()
                    progress.update(1)
                frame.insert(position, name, pd.arrays.ArrowStringArray(values))
    return frame


# -- chosen rows -----------------------------------------------------------------------------------------------------
_ROW = "\0row"  # the column of file row numbers while a filter is evaluated (no stored column can be named so)


def _row_group_starts(path: Path) -> np.ndarray:
    meta = pq.read_metadata(path)
    return np.concatenate([[0], np.cumsum([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])]
                          ).astype(np.int64)


_SQL_OPERATORS = {">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _sql_filter(schema: pa.Schema, where: dict[str, Any]) -> tuple[str, list[Any]] | None:
    """``where`` (``sources.check_where``'s canonical form, already checked by ``sources.filter_expression``) as
    a DuckDB condition and its parameters, each value cast to its column's type as ``filter_expression`` casts
    it, so both keep the same rows; None where the two could differ (floats: NaN orders differently; times with
    zones, decimals, binary), and the caller evaluates the pyarrow expression instead."""
    parts: list[str] = []
    params: list[Any] = []
    for column, condition in where.items():
        if column not in schema.names or "\0" in column:
            return None
        kind = schema.field(column).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_date32(kind) or pa.types.is_boolean(kind)):
            return None
        name = '"' + column.replace('"', '""') + '"'

        def value(v: Any, kind: pa.DataType = kind) -> Any:
            if pa.types.is_integer(kind) and isinstance(v, float):
                return v  # age > 5.5 on whole numbers: compared as numbers, as pyarrow does
            return pa.scalar(v).cast(kind).as_py()

        try:
            if isinstance(condition, dict):
                for op, bound in condition.items():
                    parts.append(f"{name} {_SQL_OPERATORS[op]} ?")
                    params.append(value(bound))
            elif isinstance(condition, list):
                values = [value(v) for v in condition]
                if not values or any(v is None for v in values):
                    return None
                parts.append(f"{name} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
            else:
                parts.append(f"{name} = ?")
                params.append(value(condition))
        except (pa.ArrowException, KeyError, OverflowError, TypeError, ValueError):
            return None
        if any(p is None for p in params):
            return None
    return (" AND ".join(parts), params) if parts else None


def _rows_where(path: Path, condition: str, params: list[Any]) -> np.ndarray:
    """The file row numbers (sorted int64) of the rows a DuckDB condition keeps, from DuckDB's Parquet scan: the
    filter is evaluated inside the scan (a dictionary column once per dictionary entry, row groups skipped by
    their statistics), which costs less than decoding the columns into Arrow and filtering there."""
    source = str(path).replace("'", "''")  # the vault's own path, quoted as an SQL literal
    with duckdb.connect(config={"threads": 2}) as con:
        found = con.execute(f"SELECT file_row_number FROM read_parquet('{source}', file_row_number = true) "
                            f"WHERE {condition}", params).fetchnumpy()["file_row_number"]
    return np.sort(np.asarray(found, dtype=np.int64))


def matching_rows(path: str | Path, expression: pc.Expression, columns: list[str], *,
                  where: dict[str, Any] | None = None) -> np.ndarray:
    """The file row numbers (sorted int64) of the rows ``expression`` keeps, reading only ``columns`` (those it
    names) of the row groups whose statistics say they may hold such rows: the filter pushed into the scan.
    With ``where`` (the conditions ``expression`` was made from), DuckDB evaluates them in its Parquet scan where
    its comparisons are pyarrow's (text, whole numbers, dates, booleans); the same rows either way."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No Parquet file {path.name!r} to read (it is not stored).")
    sql = _sql_filter(pq.read_schema(path), where) if where else None
    if sql is not None:
        return _rows_where(path, *sql)
    starts = _row_group_starts(path)
    fragment = next(iter(ds.dataset(str(path), format="parquet").get_fragments()))

    def kept(piece: Any) -> np.ndarray:
        group = piece.row_groups[0].id
        table = piece.to_table(columns=columns)
        numbers = pa.array(np.arange(starts[group], starts[group + 1], dtype=np.int64))
        return table.append_column(_ROW, numbers).filter(expression).column(_ROW).to_numpy()

    pieces = fragment.split_by_row_group(expression)
    with ThreadPoolExecutor(max_workers=2) as pool:  # row groups decoded two at a time
        found = list(pool.map(kept, pieces))
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)


def matching_rows_read(path: str | Path, where: dict[str, Any], columns: list[str]) -> Read | None:
    """``matching_rows`` for ``where`` and, from the same DuckDB scan, those of ``columns`` that are stored plain
    (not dictionaries) for those rows, in ascending row order and the file's types: what ``read_rows(..., read=)``
    would otherwise scan the file again for. None where DuckDB does not evaluate ``where`` as pyarrow does, no
    column is plain, or a column does not come back in its file type (the caller then takes the two scans)."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No Parquet file {path.name!r} to read (it is not stored).")
    schema = pq.read_schema(path)
    sql = _sql_filter(schema, where)
    plain = [c for c in dict.fromkeys(columns)
             if c in schema.names and not pa.types.is_dictionary(schema.field(c).type)]
    if sql is None or not plain:
        return None
    found = _duckdb_rows(path, schema, plain, f"WHERE {sql[0]}", sql[1])
    if found is None:
        return None
    return Read(found[0], found[1])


def project_rows(path: str | Path, key: bytes, dataset_id: str, kept: np.ndarray | None, *,
                 cache: str | Path | None = None) -> np.ndarray:
    """The file row numbers of ``kept`` (all rows when None) in the project's order for the dataset: the order
    of the full load (``read_governed`` with ``dataset_id``) with the other rows left out. The order is the one
    kept in ``cache`` beside the full load's pseudonyms."""
    path = Path(path)
    key = _check_key(key)
    rows = pq.read_metadata(path).num_rows
    order = _order(key, dataset_id, rows, Path(cache) if cache is not None else None,
                   _fingerprint(path, key, dataset_id))
    if kept is None:
        return np.array(order, dtype=np.int64)
    kept = np.asarray(kept, dtype=np.int64)
    rank = _rank(order, Path(cache) if cache is not None else None, _fingerprint(path, key, dataset_id))
    return kept[np.argsort(rank[kept], kind="stable")]


def _rank(order: np.ndarray, cache: Path | None, fingerprint: bytes) -> np.ndarray:
    """Each file row's place in the project's order (the inverse of ``order``), kept in the cache beside it: a
    filtered load then puts its rows in order by looking up only theirs, not by a pass over every row."""
    path = cache / "project-rank.rows" if cache is not None else None
    kept = _from_cache(path, _ORDER, fingerprint, len(order))
    if kept is not None:
        return np.frombuffer(kept[1], np.int64)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    if path is not None:
        _keep(path, _ORDER, len(order), 0, fingerprint, None, rank)
    return rank


class Read(NamedTuple):
    """Rows already read (``matching_rows_read``): their file row numbers, ascending, and some columns of them."""

    rows: np.ndarray
    table: pa.Table


@_a_read
def read_rows(path: str | Path, columns: list[str], identifiers: list[str], key: bytes,
              rows: np.ndarray, *, read: Read | None = None) -> pd.DataFrame:
    """``columns`` of the file rows numbered ``rows``, in that order, with a fresh ``RangeIndex``, each of
    ``identifiers`` replaced by its pseudonym: row for row what ``read_governed`` gives for those rows (the same
    types and the same pseudonyms), but only the row groups holding them are read and only their values keyed.
    ``read``: columns of these rows (or more) already read from this file, taken from it instead of read again."""
    key = _check_key(key)
    path = Path(path)
    schema, columns, identifiers = _checked_file(path, columns, identifiers)
    rows = np.asarray(rows, dtype=np.int64)
    ascending = np.sort(rows)
    # dictionary columns (categories) are cheap to decode and keep the file's dictionary read as pyarrow reads it;
    # the others (text above all) come through DuckDB, which decodes only the rows asked for
    coded = [c for c in columns if pa.types.is_dictionary(schema.field(c).type)]
    plain = [c for c in columns if c not in coded]
    given = _given(read, plain, ascending) if plain else None
    with ThreadPoolExecutor(max_workers=1) as pool:  # both release the GIL: the categories meanwhile
        pending = pool.submit(_rows_by_row_group, path, coded, ascending) if coded and plain else None
        table = given if given is not None else _rows_by_duckdb(path, schema, plain, ascending) if plain else None
        other = pending.result() if pending is not None else None
    if table is None:
        table = _rows_by_row_group(path, columns, ascending)
    elif other is not None:
        table = pa.table({c: (other if c in coded else table).column(c) for c in columns},
                         schema=pa.schema([schema.field(c) for c in columns], metadata=schema.metadata))
    if len(rows) and not np.array_equal(rows, ascending):
        table = table.take(pa.array(np.searchsorted(ascending, rows)))
    frame = table.drop_columns(identifiers).to_pandas()
    frame.index = pd.RangeIndex(len(frame))
    for position, name in enumerate(columns):
        if name in identifiers:
            values = _pseudonymise_rows(table.column(name), key, name=name)
            frame.insert(position, name, pd.arrays.ArrowStringArray(values))
    return frame


def _given(read: Read | None, columns: list[str], ascending: np.ndarray) -> pa.Table | None:
    """``columns`` of the rows ``ascending`` from ``read``, or None when it does not hold them all."""
    if read is None or not set(columns) <= set(read.table.column_names) or len(read.rows) < len(ascending):
        return None
    if len(read.rows) == len(ascending) and np.array_equal(read.rows, ascending):
        return read.table.select(columns)
    at = np.searchsorted(read.rows, ascending)
    if (at >= len(read.rows)).any() or not np.array_equal(read.rows[at], ascending):
        return None
    return read.table.select(columns).take(pa.array(at))


def _rows_by_duckdb(path: Path, schema: pa.Schema, columns: list[str], ascending: np.ndarray) -> pa.Table | None:
    """``columns`` of the file rows numbered ``ascending`` (sorted), through DuckDB's Parquet scan: the row
    numbers are joined into the scan, so only their values are decoded (text above all). None when a column's type
    does not come back exactly (the caller then reads row groups with pyarrow)."""
    if not len(ascending):
        return None
    found = _duckdb_rows(path, schema, columns, "SEMI JOIN wanted ON file_row_number = wanted_row", [],
                         wanted=pa.table({"wanted_row": pa.array(ascending)}))
    return found[1] if found is not None and len(found[0]) == len(ascending) else None


def _duckdb_rows(path: Path, schema: pa.Schema, columns: list[str], clause: str, params: list[Any], *,
                 wanted: pa.Table | None = None) -> tuple[np.ndarray, pa.Table] | None:
    """The row numbers (ascending) and ``columns`` of the rows DuckDB's Parquet scan keeps with ``clause`` (a
    ``WHERE`` with ``params``, or a join to the table ``wanted``), cast back to the file's Arrow types and metadata
    so pandas sees what a pyarrow read gives; None when a column's type does not come back exactly."""
    target = pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
    if any(f.name.startswith("\0") or '"' in f.name for f in target):
        return None
    quoted = ", ".join(f'"{c}"' for c in columns)
    source = str(path).replace("'", "''")  # the vault's own path, quoted as an SQL literal
    with duckdb.connect(config={"threads": 2}) as con:
        if wanted is not None:
            con.register("wanted", wanted)
        found = con.sql(f"SELECT {quoted}, file_row_number FROM read_parquet('{source}', file_row_number = true) "
                        f"{clause} ORDER BY file_row_number", params=params).to_arrow_table()
    try:
        arrays = [pc.cast(found.column(i), field.type) for i, field in enumerate(target)]
    except (pa.ArrowException, NotImplementedError):
        return None
    numbers = found.column(len(columns)).to_numpy().astype(np.int64, copy=False)
    return numbers, pa.table(arrays, schema=target)


def _rows_by_row_group(path: Path, columns: list[str], ascending: np.ndarray) -> pa.Table:
    """``columns`` of the file rows numbered ``ascending`` (sorted): each row group holding some read with
    pyarrow and the rows taken."""
    starts = _row_group_starts(path)
    groups = np.searchsorted(starts, ascending, side="right") - 1
    bounds = np.searchsorted(groups, np.arange(len(starts)))  # where each row group's rows begin in ascending
    parquet = pq.ParquetFile(path)

    def taken(group: int) -> pa.Table:  # a reader per thread: Arrow's file reader is not safe to share
        local = ascending[bounds[group]:bounds[group + 1]] - starts[group]
        reader = pq.ParquetFile(path, metadata=parquet.metadata)
        return reader.read_row_group(group, columns=columns).take(pa.array(local))

    with ThreadPoolExecutor(max_workers=2) as pool:
        pieces = list(pool.map(taken, [int(g) for g in np.unique(groups)]))
    if pieces:
        return pa.concat_tables(pieces).unify_dictionaries().combine_chunks()
    return parquet.schema_arrow.empty_table().select(columns)
