"""Keyed pseudonyms: exact AES-CMAC, linkage inside a project only, nulls, pruning, refusals, no key leaks."""

from __future__ import annotations

import base64
import decimal
import hashlib
import hmac
import inspect
import os
import pickle
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from workbench.errors import InvalidInput, NotFound
from workbench.governance import pseudonyms
from workbench.governance.pseudonyms import project_key, pseudonymise, read_governed

MASTER = bytes.fromhex("8f1c0a6e2b7d4e93a5c1f0e2d3b4a59687706f5e4d3c2b1a0918273645546372")
KEY = project_key(MASTER, "p-alpha")
VALUES = ["1234", "9434765919", "", " 1234", "01234", "Ünïcödé ✓", "x" * 200, "a\\x41", "1234"]


def reference(value: object, key: bytes = KEY) -> str | None:
    """The definition, one value at a time with ``cryptography``'s CMAC: the first 20 hex characters of
    AES-256-CMAC over the value's decimal or UTF-8 text, under HMAC-SHA256(project key, "pseudonym:aes-256-cmac")."""
    if value is None:
        return None
    mac = CMAC(algorithms.AES(hmac.new(key, b"pseudonym:aes-256-cmac", hashlib.sha256).digest()))
    mac.update(str(value).encode("utf-8"))
    return mac.finalize().hex()[:20]


def write(path: Path, **columns: pa.Array | list) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture
def admissions(tmp_path: Path) -> Path:
    return write(tmp_path / "admissions.parquet",
                 nhs_number=pa.array(["9434765919", None, "4010232137", "9434765919"]),
                 person_id=pa.array([1234, 77, None, 1234], pa.int64()),
                 admitted=pa.array([pd.Timestamp("2026-01-0" + d).date() for d in "1234"], pa.date32()),
                 ward=pa.DictionaryArray.from_arrays(pa.array([0, 1, 0, 1], pa.int8()), pa.array(["A", "B"])),
                 cost=pa.array([10.5, 20.0, None, 7.25]))


# -- the definition ----------------------------------------------------------------------------------------
def test_project_key_is_an_hmac_of_the_project_id() -> None:
    assert hmac.new(MASTER, b"project:p-alpha", hashlib.sha256).digest() == KEY
    assert project_key(MASTER, "p-alpha") == KEY and project_key(MASTER, "p-beta") != KEY
    assert project_key(b"another master", "p-alpha") != KEY


@pytest.mark.parametrize("key", [KEY, b"k", b"\x00" * 64, bytes(range(256))], ids=["32", "1", "64", "256"])
def test_pseudonyms_equal_the_reference_hmac(key: bytes) -> None:
    assert pseudonymise(pa.array(VALUES), key).to_pylist() == [reference(v, key) for v in VALUES]
    ints = [0, 1234, -5, 2**63 - 1, -(2**63)]
    assert pseudonymise(pa.array(ints, pa.int64()), key).to_pylist() == [reference(v, key) for v in ints]
    assert pseudonymise(pa.array([2**64 - 1], pa.uint64()), key).to_pylist() == [reference(2**64 - 1, key)]


def test_text_and_integer_forms_of_a_value_link_and_nothing_is_normalised() -> None:
    text = pseudonymise(pa.array(["1234", "01234", " 1234", "ABC", "abc"]), KEY).to_pylist()
    number = pseudonymise(pa.array([1234], pa.int32()), KEY).to_pylist()
    assert text[0] == number[0]
    assert len(set(text)) == 5


def test_every_type_of_text_and_integer_and_dictionaries() -> None:
    expected = [reference(v) for v in ["7", "8", None, "7"]]
    for array in (pa.array(["7", "8", None, "7"], pa.large_string()), pa.array(["7", "8", None, "7"], pa.string_view()),
                  pa.array([7, 8, None, 7], pa.int8()), pa.array([7, 8, None, 7], pa.uint16()),
                  pa.array(["7", "8", None, "7"]).dictionary_encode(),
                  pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2]), pa.array(["7", "8", "7"]))):
        result = pseudonymise(array, KEY)
        assert result.type == pa.string() and result.to_pylist() == expected, array.type


def test_arrays_stay_arrays_and_chunked_arrays_chunked() -> None:
    chunked = pa.chunked_array([pa.array(["1", None]), pa.array([], pa.string()), pa.array(["2", "1", "3"])])
    result = pseudonymise(chunked, KEY)
    assert isinstance(result, pa.ChunkedArray) and len(result) == 5
    assert result.to_pylist() == [reference(v) for v in chunked.to_pylist()]
    single = pseudonymise(pa.array(["1"]), KEY)
    assert isinstance(single, pa.Array) and single.to_pylist() == [reference("1")]
    assert pseudonymise(pa.array([], pa.string()), KEY).to_pylist() == []
    assert pseudonymise(pa.chunked_array([], pa.int64()), KEY).to_pylist() == []
    assert pseudonymise(pa.array([None, None]), KEY).to_pylist() == [None, None]
    assert pseudonymise(pa.array([None, None], pa.string()), KEY).to_pylist() == [None, None]


def test_nulls_stay_null_and_null_rows_hide_nothing() -> None:
    result = pseudonymise(pa.array([None, "a", None, "b", None]), KEY)
    assert result.to_pylist() == [None, reference("a"), None, reference("b"), None]
    assert result.null_count == 3
    assert pa.compute.binary_length(result).to_pylist() == [None, 20, None, 20, None]
    data = bytes(result.buffers()[2])[:100]  # every row spans 20 bytes; a null's are zeros
    assert data == bytes(20) + reference("a").encode() + bytes(20) + reference("b").encode() + bytes(20)


def test_rfc_4493_example_vectors() -> None:
    """The batched CMAC is the standard one: the AES-128 examples of RFC 4493 section 4 (keys are AES-256 in use)."""
    cmac = pseudonyms._Cmac.__new__(pseudonyms._Cmac)
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    cmac._cipher = pseudonyms.Cipher(algorithms.AES(key), pseudonyms.modes.ECB()).encryptor()
    first = pseudonyms._double(cmac._cipher.update(bytes(16)))
    cmac._subkeys = (np.frombuffer(first, np.uint8), np.frombuffer(pseudonyms._double(first), np.uint8))
    message = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                            "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    expected = {0: "bb1d6929e95937287fa37d129b756746", 16: "070a16b46b4d4144f79bdd9dd04a287c",
                40: "dfa66747de9ae63030ca32611497c827", 64: "51f0bebf7e3b9d92fc49741779363cfe"}
    for length, tag in expected.items():
        out = np.zeros((2, 16), np.uint8)
        cmac.tags(np.frombuffer(message[:length], np.uint8).reshape(1, length), length, out, 0)
        assert out[0].tobytes().hex() == tag, length


@pytest.mark.parametrize("batch", [3, 1 << 20])
def test_every_length_and_layout_agrees_with_the_reference(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages of 0 to 70 bytes (one to five AES blocks, complete and padded last blocks), mixed lengths
    (sorted into groups), one length with nulls, null slots that hold bytes, and batches smaller than a group."""
    monkeypatch.setattr(pseudonyms, "_CMAC_BATCH", batch)
    mixed = ["x" * n for n in range(71)] + ["Ünïcödé", None, "9434765919"] * 3
    assert pseudonymise(pa.array(mixed), KEY).to_pylist() == [reference(v) for v in mixed]
    fixed = [None, "9434765919", "4010232137", None, "9434765919", "0000000000", None]
    assert pseudonymise(pa.array(fixed), KEY).to_pylist() == [reference(v) for v in fixed]
    hidden = pa.compute.if_else(pa.array([True, False, True, False]), pa.array(["1", "22", "333", "4444"]),
                                pa.scalar(None, pa.string()))  # null slots may keep their bytes
    assert pseudonymise(hidden, KEY).to_pylist() == [reference("1"), None, reference("333"), None]
    many = [str(i * 7919) for i in range(3000)]
    assert pseudonymise(pa.array(many), KEY).to_pylist() == [reference(v) for v in many]


@pytest.mark.parametrize("batch", [5, 1 << 16])
def test_integers_of_one_width_agree_with_the_reference(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Integers whose values all have the same number of digits take a table of four-digit groups instead of
    Arrow's cast to text: every width from 1 to 20 digits, every integer type, nulls (whose slots may hold any
    value), slices, and a column that mixes widths or signs in some batches only."""
    monkeypatch.setattr(pseudonyms, "_CMAC_BATCH", batch)
    for width in range(1, 21):
        low, high = (0 if width == 1 else 10 ** (width - 1)), min(10**width - 1, 2**64 - 1)
        values = sorted({low, high, (low + high) // 2, low + 7, high - 3})
        kind = pa.uint64() if high >= 2**63 else pa.int64()
        array = pa.array([*values, None, *values], kind)
        assert pseudonymise(array, KEY).to_pylist() == [reference(v) for v in array.to_pylist()], width
    for kind in (pa.int8(), pa.uint8(), pa.int16(), pa.uint16(), pa.int32(), pa.uint32()):
        array = pa.array([10, 99, None, 42, 57, 11, 12], kind)
        assert pseudonymise(array, KEY).to_pylist() == [reference(v) for v in array.to_pylist()], kind
    hidden = pa.compute.if_else(pa.array([True, False, True, True]), pa.array([1234, -99999, 5678, 4321], pa.int64()),
                                pa.scalar(None, pa.int64()))  # a null slot may keep a value of another width
    assert pseudonymise(hidden, KEY).to_pylist() == [reference(1234), None, reference(5678), reference(4321)]
    mixed = pa.array([1234567, 7654321, 1111111, 2222222, 3333333, 12, -5, 4444444, 5555555, 6666666, 7777777])
    assert pseudonymise(mixed.slice(1), KEY).to_pylist() == [reference(v) for v in mixed.to_pylist()[1:]]


def test_rows_in_the_project_order_are_the_rows_taken_in_that_order() -> None:
    values = pa.chunked_array([pa.array(["a", None, "bb", "a", "ccc", None]), pa.array(["dddd", "a"])])
    shuffle = pseudonyms._shuffle(KEY, "ds.one", 8)
    order = shuffle.order()
    plain = pseudonyms._pseudonymise_rows(values, KEY)
    taken = pseudonyms._pseudonym_column(*pseudonyms._keyed(values, KEY, shuffle))
    assert taken.to_pylist() == plain.take(pa.array(order)).to_pylist()
    text = bytes(taken.buffers()[2])
    assert taken.null_count == 2 and all(text[20 * at:20 * at + 20] == bytes(20) for at in np.flatnonzero(
        np.isin(order, [1, 5])))  # a null's 20 bytes are zeros wherever it lands


@pytest.mark.parametrize("larger_than", [0, 1 << 23])
def test_columns_grouped_by_bucket_then_taken_within_are_in_the_project_order(
        monkeypatch: pytest.MonkeyPatch, larger_than: int) -> None:
    """The two moves of the project's order (rows grouped by bucket, chunk by chunk, then taken within each
    bucket; for columns larger than ``larger_than`` bytes) give what taking the rows in the order does, for every
    kind of column: fixed-width values with and without nulls, sliced, over chunks, categories (by their codes)
    whose chunks have different dictionaries, and the kinds taken in the order itself (text, booleans, lists)."""
    monkeypatch.setattr(pseudonyms, "_CMAC_BATCH", 7)  # many chunks when the rows are grouped
    monkeypatch.setattr(pseudonyms, "_GROUP_BYTES", larger_than)
    rows = 300
    rng = np.random.default_rng(3)
    shuffle = pseudonyms._shuffle(KEY, "ds.one", rows)
    order = shuffle.order()
    assert order.tolist() == reference_order(KEY, "ds.one", rows)
    numbers = rng.integers(-10**6, 10**6, rows + 5)
    gaps = [None if i % 9 == 0 else int(v) for i, v in enumerate(numbers)]
    table = pa.table({
        "i8": pa.array(numbers[:rows] % 100, pa.int8()), "u16": pa.array(numbers[:rows] % 60_000, pa.uint16()),
        "i32": pa.array(gaps[:rows], pa.int32()), "i64": pa.array(gaps, pa.int64()).slice(5),
        "f16": pa.array(rng.random(rows).astype(np.float16)), "f64": pa.array(rng.random(rows)),
        "date": pa.array([None if v is None else v % 30_000 for v in gaps[:rows]], pa.int32()).cast(pa.date32()),
        "when": pa.array(numbers[:rows], pa.timestamp("us", tz="Europe/London")),
        "money": pa.array([None if v is None else decimal.Decimal(v) / 100 for v in gaps[:rows]],
                          pa.decimal128(12, 2)),
        "code": pa.array([f"{v % 1000:04d}".encode() for v in numbers[:rows]], pa.binary(4)),
        "kind": pa.chunked_array([pa.array(["x", "y", None] * 50).dictionary_encode(),
                                  pa.array(["z", "x", "w"] * 50).dictionary_encode()]),
        "text": pa.array([None if v is None else f"t{v}" for v in gaps[:rows]]),
        "flag": pa.array([None if v is None else v % 2 == 0 for v in gaps[:rows]]),
        "many": pa.array([[v] for v in numbers[:rows]]),
    })
    table = pa.concat_tables([table.slice(0, 100), table.slice(100, 0), table.slice(100)])  # chunks, one empty
    expected = table.combine_chunks().take(pa.array(order)).to_pandas()
    pd.testing.assert_frame_equal(pseudonyms._in_order(table, shuffle), expected)
    at_random = ("text", "flag", "many")  # of no fixed width: taken in the order itself
    for name in table.column_names:
        assert (pseudonyms._item(table.schema.field(name).type) is None) == (name in at_random)
        grouped = larger_than == 0 and name not in at_random
        assert pseudonyms._source(shuffle, table.column(name))[1].to_pylist() == (
            shuffle.within if grouped else order).tolist()
    assert pseudonyms._in_order(table.select([]), shuffle).index.equals(pd.RangeIndex(rows))


# -- across files, columns and projects ---------------------------------------------------------------------
def test_same_value_same_pseudonym_across_files_and_column_types(tmp_path: Path) -> None:
    first = write(tmp_path / "a.parquet", nhs=pa.array(["1234", "5678"]), n=[1, 2])
    second = write(tmp_path / "b.parquet", person=pa.array([5678, 1234, 99], pa.int64()))
    a = read_governed(first, ["nhs"], ["nhs"], KEY)
    b = read_governed(second, ["person"], ["person"], KEY)
    assert a["nhs"].tolist() == [b["person"][1], b["person"][0]] == [reference("1234"), reference(5678)]
    assert read_governed(first, ["nhs"], ["nhs"], KEY).equals(a)  # stable


def test_pseudonyms_differ_across_projects(admissions: Path) -> None:
    alpha = read_governed(admissions, ["nhs_number", "person_id"], ["nhs_number", "person_id"], KEY)
    beta = read_governed(admissions, ["nhs_number", "person_id"], ["nhs_number", "person_id"],
                         project_key(MASTER, "p-beta"))
    for column in ("nhs_number", "person_id"):
        assert not set(alpha[column].dropna()) & set(beta[column].dropna())
        assert alpha[column].isna().tolist() == beta[column].isna().tolist()


# -- read_governed -------------------------------------------------------------------------------------------
def test_read_governed_prunes_orders_and_pseudonymises(admissions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    real_read_table = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: calls.append(k) or real_read_table(*a, **k))
    columns = ["cost", "person_id", "ward", "nhs_number"]
    frame = read_governed(admissions, columns, ["nhs_number", "person_id"], KEY)
    assert calls == [{"columns": columns}]  # only these columns are decoded

    assert list(frame.columns) == columns and len(frame) == 4
    assert frame["nhs_number"].tolist() == [reference("9434765919"), pd.NA, reference("4010232137"),
                                            reference("9434765919")]
    assert frame["person_id"].tolist() == [reference(1234), reference(77), pd.NA, reference(1234)]
    assert frame["nhs_number"].dtype == frame["person_id"].dtype == pd.StringDtype("pyarrow")
    assert frame["nhs_number"].isna().tolist() == [False, True, False, False]

    plain = real_read_table(admissions, columns=columns).to_pandas()
    pd.testing.assert_frame_equal(frame[["cost", "ward"]], plain[["cost", "ward"]])
    assert isinstance(frame["ward"].dtype, pd.CategoricalDtype)


def test_read_governed_keeps_other_columns_exactly_as_pyarrow_reads_them(admissions: Path) -> None:
    columns = ["admitted", "ward", "cost", "person_id"]
    frame = read_governed(admissions, columns, [], KEY)
    pd.testing.assert_frame_equal(frame, pq.read_table(admissions, columns=columns).to_pandas())
    only_ids = read_governed(admissions, ["person_id"], ["person_id"], KEY)
    assert list(only_ids.columns) == ["person_id"] and len(only_ids) == 4
    assert isinstance(only_ids.index, pd.RangeIndex)


def test_read_governed_of_a_frame_pandas_wrote(tmp_path: Path) -> None:
    saved = pd.DataFrame({"id": ["a", "b", "a"], "when": pd.to_datetime(["2026-01-01", "2026-02-01", None]),
                          "kind": pd.Categorical(["x", "y", "x"]), "n": pd.array([1, None, 3], "Int64")},
                         index=pd.RangeIndex(10, 16, 2))
    path = tmp_path / "saved.parquet"
    saved.to_parquet(path)
    plain = pq.read_table(path, columns=["n", "when", "kind", "id"]).to_pandas()
    frame = read_governed(path, ["n", "when", "kind", "id"], ["id"], KEY)
    pd.testing.assert_frame_equal(frame.drop(columns="id"), plain.drop(columns="id"))
    assert frame["id"].tolist() == [reference("a"), reference("b"), reference("a")]
    assert read_governed(path, ["id"], ["id"], KEY).index.equals(plain.index)


def test_read_governed_on_many_row_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 500, 5000)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": ids, "text": pa.array([f"N{i}" for i in ids]), "x": np.arange(5000)}), path,
                   row_group_size=700)
    frame = read_governed(path, ["text", "x", "id"], ["id", "text"], KEY)
    assert frame["id"].tolist() == [reference(i) for i in ids.tolist()]
    assert frame["text"].tolist() == [reference(f"N{i}") for i in ids.tolist()]
    assert frame["x"].tolist() == list(range(5000))


# -- refusals ------------------------------------------------------------------------------------------------
def test_unknown_columns_are_named_with_what_exists(admissions: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope, nada not in admissions.parquet; it has nhs_number, person_id, "
                                           r"admitted, ward, cost") as refused:
        read_governed(admissions, ["cost", "nope", "nada"], [], KEY)
    assert refused.value.field == "columns"


def test_identifiers_must_be_among_the_columns(admissions: Path) -> None:
    with pytest.raises(InvalidInput, match="nhs_number not among the columns read") as refused:
        read_governed(admissions, ["cost"], ["nhs_number"], KEY)
    assert refused.value.field == "identifiers"


@pytest.mark.parametrize("key", [b"", bytearray(), "secret", None])
def test_keys_must_be_non_empty_bytes(admissions: Path, key: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_governed(admissions, ["cost"], [], key)
    assert refused.value.field == "key"
    with pytest.raises(InvalidInput):
        pseudonymise(pa.array(["1"]), key)
    with pytest.raises(InvalidInput):
        project_key(key, "p-alpha")
    with pytest.raises(InvalidInput):
        project_key(MASTER, "")


@pytest.mark.parametrize(("columns", "identifiers", "field"), [
    ("cost", [], "columns"), ([], [], "columns"), (["cost", "cost"], [], "columns"), (["cost"], "cost", "identifiers"),
])
def test_malformed_column_lists_are_refused(admissions: Path, columns, identifiers, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_governed(admissions, columns, identifiers, KEY)
    assert refused.value.field == field


def test_identifiers_of_ambiguous_types_are_refused(admissions: Path) -> None:
    for column in ("cost", "admitted"):
        with pytest.raises(InvalidInput, match=f"identifier column '{column}' has type") as refused:
            read_governed(admissions, [column], [column], KEY)
        assert refused.value.field == "identifiers"
    with pytest.raises(InvalidInput, match="text and integer"):
        pseudonymise(pa.array([1.5]), KEY)
    with pytest.raises(InvalidInput, match="pyarrow Array"):
        pseudonymise(["1234"], KEY)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="No Parquet file"):
        read_governed(tmp_path / "absent.parquet", ["x"], [], KEY)


# -- the key stays inside ------------------------------------------------------------------------------------
def test_the_key_appears_nowhere_in_the_output(admissions: Path) -> None:
    frame = read_governed(admissions, ["nhs_number", "person_id", "cost"], ["nhs_number", "person_id"], KEY)
    cipher = pseudonyms._Cmac(KEY)
    secrets = [KEY, MASTER, pseudonyms._cmac_key(KEY), *(bytes(subkey) for subkey in cipher._subkeys)]
    forms = [form for s in secrets for form in (s, s.hex().encode(), s.hex().upper().encode(), base64.b64encode(s))]
    blobs = [pickle.dumps(frame), frame.to_csv().encode(), repr(frame).encode(), repr(frame.attrs).encode(),
             b"".join(str(v).encode() for v in frame.to_numpy().ravel())]
    arrays = [pseudonymise(pa.array(VALUES), KEY), pseudonymise(pa.array([1, 2, None]), KEY)]
    blobs += [b"".join(bytes(buffer) for buffer in array.buffers() if buffer is not None) for array in arrays]
    assert not [form for form in forms for blob in blobs if form in blob]
    assert not frame.attrs


def test_only_project_key_returns_a_key() -> None:
    public = {name for name, value in vars(pseudonyms).items()
              if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == pseudonyms.__name__}
    assert public == {"matching_rows", "matching_rows_read", "project_key", "project_order", "project_rows",
                      "pseudonymise", "read_governed", "read_rows", "wait_for_cache"}  # none returns a key
    assert set(pseudonyms.__all__) == public | {"PSEUDONYM_LENGTH", "Read"}
    assert not [name for name, value in vars(pseudonyms).items()
                if not name.startswith("_") and isinstance(value, bytes | bytearray)]


def reference_order(key: bytes, dataset_id: str, rows: int) -> list[int]:
    """The project's order as docs/security.md describes it, written plainly: each row to one of 256 buckets drawn
    from the keyed generator, then the buckets in turn, each shuffled."""
    seed = hmac.new(key, b"order:" + dataset_id.encode(), hashlib.sha256).digest()
    generator = np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big")))
    buckets = generator.integers(0, 256, rows, dtype=np.uint8).tolist()
    order: list[int] = []
    for bucket in range(256):
        members = np.array([row for row in range(rows) if buckets[row] == bucket], dtype=np.int64)
        generator.shuffle(members)
        order += members.tolist()
    return order


def test_the_project_order_is_a_uniform_keyed_permutation() -> None:
    for rows in (0, 1, 2, 7, 300, 5_000):
        assert pseudonyms.project_order(KEY, "ds.one", rows).tolist() == reference_order(KEY, "ds.one", rows)
    order = pseudonyms.project_order(KEY, "ds.one", 100_000)
    assert order.dtype == np.int64 and np.array_equal(np.sort(order), np.arange(100_000))
    assert not np.array_equal(order, pseudonyms.project_order(KEY, "ds.two", 100_000))  # per dataset
    assert not np.array_equal(order, pseudonyms.project_order(b"o" * 32, "ds.one", 100_000))  # per project key
    # every one of the 24 orders of 4 rows about equally often over 12,000 datasets (chi-squared, 23 degrees of
    # freedom, below its 0.1 % point 49.7; the draws are fixed by the key, so this is no flaky test)
    counts = Counter(tuple(pseudonyms.project_order(KEY, f"ds.{i}", 4).tolist()) for i in range(12_000))
    assert len(counts) == 24 and sum((n - 500) ** 2 / 500 for n in counts.values()) < 49.7
    # and no position keeps its row more often than chance across datasets of 50 rows
    stays = sum(int((pseudonyms.project_order(KEY, f"ds.{i}", 50) == np.arange(50)).sum()) for i in range(2_000))
    assert abs(stays - 2_000) < 4 * 2_000 ** 0.5  # a fixed point per permutation on average


def test_a_cache_serves_repeat_reads_until_the_file_or_key_changes(tmp_path: Path) -> None:
    """Pseudonymised columns kept per file and key: the same frame, no raw identifier on disk, and a changed
    file or another key is hashed again."""
    data = pa.table({"nhs": pa.array([f"{9000000000 + i % 7}" for i in range(50)] + [None]),
                     "pid": pa.array(list(range(51)), pa.int64()), "x": pa.array(range(51))})
    path = tmp_path / "d.parquet"
    pq.write_table(data, path)
    cache = tmp_path / "cache"
    key = b"k" * 32
    first = read_governed(path, ["nhs", "pid", "x"], ["nhs", "pid"], key, cache=cache)
    pseudonyms.wait_for_cache()
    assert sorted(p.name for p in cache.iterdir()) == ["nhs.pseudonyms", "pid.pseudonyms"]
    stored = b"".join(p.read_bytes() for p in cache.iterdir())
    assert b"9000000000" not in stored and b"key" not in stored
    fingerprint = pseudonyms._fingerprint(path, key, None)
    for kept in cache.iterdir():  # what is kept is the pseudonyms only: 20-byte rows, nulls zeroed, and validity
        validity, rows, nulls = pseudonyms._from_cache(kept, pseudonyms._PSEUDONYMS, fingerprint, 51)
        expected = [None if v is pd.NA else v for v in first[kept.stem]]
        assert nulls == first[kept.stem].isna().sum() and (validity is None) == (nulls == 0)
        assert bytes(rows) == b"".join(v.encode() if v else bytes(20) for v in expected)
        assert kept.read_bytes().endswith(bytes(rows))
    again = read_governed(path, ["x", "nhs"], ["nhs"], key, cache=cache)
    pd.testing.assert_frame_equal(again, first[["x", "nhs"]])
    assert read_governed(path, ["nhs"], ["nhs"], key).equals(first[["nhs"]])  # same as without a cache
    other = read_governed(path, ["nhs"], ["nhs"], b"o" * 32, cache=cache)
    assert not set(other["nhs"].dropna()) & set(first["nhs"].dropna())
    changed = data.set_column(0, "nhs", pa.array([f"{8000000000 + i}" for i in range(51)]))
    pq.write_table(changed, path)
    os.utime(path, ns=(1, 1))
    fresh = read_governed(path, ["nhs"], ["nhs"], key, cache=cache)
    assert fresh["nhs"].tolist() == [reference(f"{8000000000 + i}", key) for i in range(51)]
    pseudonyms.wait_for_cache()
    (cache / "damaged").write_bytes(b"damaged")  # replaced, as the workbench replaces any cache file: loaded
    os.replace(cache / "damaged", cache / "nhs.pseudonyms")  # frames map the pages of the one they were made with
    assert read_governed(path, ["nhs"], ["nhs"], key, cache=cache).equals(fresh)


def test_rows_in_the_project_order_and_their_cache(tmp_path: Path) -> None:
    """With a dataset id, rows come in ``project_order`` (a fresh RangeIndex), the same as reordering the file-order
    frame; the order and the reordered pseudonyms are cached apart from the file-order ones and served again."""
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 300, 2000)
    path = write(tmp_path / "d.parquet", id=pa.array(ids),
                 text=pa.array([None if i % 11 == 0 else f"N{i}" for i in ids]),
                 kind=pa.array([f"k{i % 3}" for i in ids]).dictionary_encode(), x=pa.array(np.arange(2000)))
    cache = tmp_path / "cache"
    columns, identifiers = ["kind", "id", "x", "text"], ["id", "text"]
    plain = read_governed(path, columns, identifiers, KEY)
    expected = plain.take(pseudonyms.project_order(KEY, "ds.one", 2000)).reset_index(drop=True)
    for _ in range(2):  # computed, then from the cache
        ordered = read_governed(path, columns, identifiers, KEY, cache=cache, dataset_id="ds.one")
        pd.testing.assert_frame_equal(ordered, expected)
        pseudonyms.wait_for_cache()
    assert sorted(p.name for p in cache.iterdir()) == ["id.in-project-order.pseudonyms", "project-shuffle.rows",
                                                       "text.in-project-order.pseudonyms"]
    pd.testing.assert_frame_equal(read_governed(path, columns, identifiers, KEY, cache=cache), plain)
    other = read_governed(path, ["x"], [], KEY, cache=cache, dataset_id="ds.two")["x"]
    assert other.tolist() == pseudonyms.project_order(KEY, "ds.two", 2000).tolist()
    with pytest.raises(InvalidInput, match="dataset_id"):
        read_governed(path, ["x"], [], KEY, dataset_id="")


def test_the_cache_is_written_behind_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first load returns without waiting for its cache files; a load meanwhile takes the columns from memory,
    the same frame; once written they are served from disk. A folder removed meanwhile is not brought back; a file
    left half-written by a stopped process is removed by a later load, one being written is not."""
    path = write(tmp_path / "d.parquet", nhs=pa.array(["9434765919", None, "4010232137"] * 50), n=range(150))
    expected = read_governed(path, ["nhs", "n"], ["nhs"], KEY, dataset_id="ds.one")
    pseudonyms.wait_for_cache()  # other tests' files are written before ours are held
    gate, written = threading.Event(), []
    write_cache = pseudonyms._write_cache

    def held(target: Path, *args: object) -> None:
        assert gate.wait(30)
        write_cache(target, *args)
        written.append(target.name)

    monkeypatch.setattr(pseudonyms, "_write_cache", held)
    cache = tmp_path / "cache"
    first = read_governed(path, ["nhs", "n"], ["nhs"], KEY, cache=cache, dataset_id="ds.one")  # returns, unwritten
    assert not list(cache.iterdir()) and not written
    served = read_governed(path, ["nhs", "n"], ["nhs"], KEY, cache=cache, dataset_id="ds.one")  # from memory
    gate.set()
    pseudonyms.wait_for_cache()
    assert sorted(written) == ["nhs.in-project-order.pseudonyms", "project-shuffle.rows"] == sorted(
        p.name for p in cache.iterdir())
    for frame in (first, served):
        pd.testing.assert_frame_equal(frame, expected)
    assert served["nhs"].array._pa_array.chunks[0].buffers()[2].address == \
        first["nhs"].array._pa_array.chunks[0].buffers()[2].address  # the same memory, not keyed again
    with monkeypatch.context() as nothing_keyed:  # it comes from the files now
        nothing_keyed.setattr(pseudonyms, "_tags", None)
        pd.testing.assert_frame_equal(
            read_governed(path, ["nhs", "n"], ["nhs"], KEY, cache=cache, dataset_id="ds.one"), expected)
    gate.clear()
    other = tmp_path / "other"
    read_governed(path, ["nhs"], ["nhs"], KEY, cache=other)
    for kept in other.iterdir():  # the project's cache folder removed while its files wait to be written
        kept.unlink()
    other.rmdir()
    gate.set()
    pseudonyms.wait_for_cache()
    assert not other.exists()
    stopped, running = cache / ".nhs.in-project-order.pseudonyms.1.tmp", cache / ".project-order.rows.2.tmp"
    for aside in (stopped, running):  # one left by a process that stopped writing an hour ago, one being written
        aside.write_bytes(b"half")
    os.utime(stopped, (time.time() - 3700, time.time() - 3700))
    read_governed(path, ["nhs", "n"], ["nhs"], KEY, cache=cache, dataset_id="ds.one")
    assert not stopped.exists() and running.exists()


@pytest.mark.parametrize("larger_than", [0, 1 << 23])
@pytest.mark.parametrize("batch", [7, 64, 1 << 16])
def test_keyed_in_the_project_order_batch_by_batch_as_in_the_file_order(tmp_path: Path, batch: int, larger_than: int,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A first load in the project's order keys integers a batch of the order at a time and text in the file's
    order: the same pseudonyms and nulls either way as keying the whole column in the file's order and reordering
    (text of many lengths, integers of many widths and signs, nulls, several row groups), from the cache too;
    values (and tags) larger than ``larger_than`` bytes are moved by way of the order's buckets (text keyed 37
    rows at a time and written to its buckets)."""
    monkeypatch.setattr(pseudonyms, "_CMAC_BATCH", batch)
    monkeypatch.setattr(pseudonyms, "_GROUP_BYTES", larger_than)
    monkeypatch.setattr(pseudonyms, "_SCATTER_ROWS", 37)
    rng = np.random.default_rng(9)
    rows = 1_500
    text = pa.array([None if i % 13 == 0 else "x" * int(n) + str(i) for i, n in enumerate(rng.integers(0, 40, rows))])
    number = pa.array([None if i % 17 == 0 else int(v) for i, v in enumerate(rng.integers(-10**12, 10**12, rows))])
    fixed = pa.array([None if i % 19 == 0 else f"{v:010d}" for i, v in enumerate(rng.integers(0, 10**10, rows))])
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": text, "number": number, "fixed": fixed, "x": np.arange(rows)}), path,
                   row_group_size=400)
    columns, identifiers = ["text", "number", "fixed", "x"], ["text", "number", "fixed"]
    cache = tmp_path / "cache"
    ordered = read_governed(path, columns, identifiers, KEY, cache=cache, dataset_id="ds.one")
    order = pseudonyms.project_order(KEY, "ds.one", rows)
    expected = read_governed(path, columns, identifiers, KEY).take(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered, expected)
    for name in identifiers:
        reference = pseudonyms._pseudonymise_rows(pq.read_table(path).column(name), KEY).take(pa.array(order))
        assert [None if v is pd.NA else v for v in ordered[name].tolist()] == reference.to_pylist()
    pseudonyms.wait_for_cache()
    pd.testing.assert_frame_equal(read_governed(path, columns, identifiers, KEY, cache=cache, dataset_id="ds.one"),
                                  expected)  # from the cache


def test_a_full_disk_leaves_the_load_whole_and_uncached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache file's blocks are reserved before anything is written to it: with no room, the load
    still returns every pseudonym (kept in memory) and leaves no half-written file behind."""
    path = write(tmp_path / "d.parquet", nhs=pa.array(["9434765919", None, "4010232137"]), n=[1, 2, 3])
    expected = read_governed(path, ["nhs", "n"], ["nhs"], KEY)

    def no_room(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    pseudonyms.wait_for_cache()  # other tests' files are written with room
    monkeypatch.setattr(os, "posix_fallocate", no_room)
    cache = tmp_path / "cache"
    for dataset_id in (None, "ds.one"):
        frame = read_governed(path, ["nhs", "n"], ["nhs"], KEY, cache=cache, dataset_id=dataset_id)
        order = pseudonyms.project_order(KEY, "ds.one", 3) if dataset_id else np.arange(3)
        pd.testing.assert_frame_equal(frame, expected.take(order).reset_index(drop=True))
    pseudonyms.wait_for_cache()
    assert not list(cache.iterdir())
