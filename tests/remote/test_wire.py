"""What travels between kernel and service keeps its types, and what arrives malformed is refused, not built."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from workbench import wire
from workbench.audit import ChainCheck
from workbench.catalogue.entry import Entry
from workbench.errors import InvalidInput


def sample_frame() -> pd.DataFrame:
    frame = pd.DataFrame({
        "count": [1, 2, 3],
        "cost": [1.5, np.nan, -2.0],
        "name": ["a", None, "c"],
        "band": pd.Categorical(["0-17", "65+", "0-17"], categories=["0-17", "18-64", "65+"]),
        "when": pd.to_datetime(["2026-01-01", None, "2026-03-01"]),
        "flag": [True, False, True],
        "maybe": pd.array([1, None, 3], dtype="Int64"),
        "lists": [[1, 2], [], None],
    }, index=pd.Index(["x", "y", "z"], name="key"))
    frame.attrs["workbench.sources"] = ["dhsc.hes_apc"]
    return frame


def test_a_frame_travels_as_arrow_with_index_dtypes_and_attrs() -> None:
    frame = sample_frame()
    back = wire.arrow_to_frame(wire.frame_to_arrow(frame))
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs
    assert list(back["band"].cat.categories) == ["0-17", "18-64", "65+"]
    back = wire.arrow_to_frame(io.BytesIO(wire.frame_to_arrow(frame)))  # straight from a stream
    pd.testing.assert_frame_equal(back, frame)


def test_values_json_cannot_express_keep_their_types() -> None:
    value = {"when": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "pair": (1, "a"),
             "odd": float("nan"), "big": float("inf"), "n": np.int64(7), "x": np.float32(0.5),
             "ts": pd.Timestamp("2026-05-01"), "missing": pd.NaT, "frame": sample_frame(),
             "series": pd.Series([1, 2], name="s"), 3: "int key", "$dollar": "escaped key", "nested": [[{"a": 1}]],
             "check": ChainCheck(ok=True, events=3)}
    back = wire.loads(wire.dumps(value))
    assert back["when"] == date(2026, 1, 2) and back["at"] == value["at"] and back["pair"] == (1, "a")
    assert np.isnan(back["odd"]) and back["big"] == float("inf") and back["n"] == 7 and back["x"] == 0.5
    assert back["ts"] == pd.Timestamp("2026-05-01") and back["missing"] is None
    pd.testing.assert_frame_equal(back["frame"], value["frame"])
    pd.testing.assert_series_equal(back["series"], value["series"])
    assert back[3] == "int key" and back["$dollar"] == "escaped key" and back["nested"] == [[{"a": 1}]]
    assert back["check"] == ChainCheck(ok=True, events=3)


def test_a_released_file_travels_as_bytes_to_a_kernel_never_from_one() -> None:
    answer = ("p-x-request-1.zip", b"PK\x03\x04\x00\xff")
    assert wire.loads(wire.dumps(answer)) == answer
    assert wire.loads(wire.dumps(bytearray(b"\x00\x01"))) == b"\x00\x01"
    with pytest.raises(InvalidInput, match="a \\$bytes value is not accepted here"):
        wire.loads_request(wire.dumps({"content": b"data"}))
    with pytest.raises(InvalidInput, match="malformed \\$bytes"):
        wire.loads(json.dumps({"$bytes": "!!!not base64"}).encode())


def test_workbench_result_classes_are_rebuilt() -> None:
    entry = Entry(record={"localId": "dhsc.x", "title": "X"}, owner_name="Olu", has_data=True)
    back = wire.loads(wire.dumps(entry))
    assert isinstance(back, Entry) and back == entry


def test_anything_else_is_not_sent() -> None:
    with pytest.raises(TypeError, match="cannot send a object"):
        wire.dumps(object())


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"$nope": 1}).encode(), "unknown tag '\\$nope'"),
    (json.dumps({"$type": "os.system", "fields": {}}).encode(), "unknown type 'os.system'"),
    (json.dumps({"$frame": "!!!not base64"}).encode(), "malformed \\$frame"),
    (json.dumps({"$frame": base64.b64encode(b"not arrow").decode()}).encode(), "not an Arrow IPC stream"),
    (json.dumps({"$float": "1e999x"}).encode(), "malformed \\$float"),
    (json.dumps({"$date": "yesterday"}).encode(), "malformed \\$date"),
    (json.dumps({"$output": base64.b64encode(b"not a zip").decode()}).encode(), "zip archive"),
])
def test_malformed_values_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        wire.loads(raw)


def test_an_output_archive_cannot_write_outside_its_folder(tmp_path) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("../escaped.txt", "x")
    raw = json.dumps({"$output": base64.b64encode(sink.getvalue()).decode()}).encode()
    with pytest.raises(InvalidInput, match="outside its folder"):
        wire.loads(raw)


def test_a_frame_arrow_cannot_carry_is_refused_with_a_fix() -> None:
    mixed = pd.DataFrame({"v": [1, "two", 3.0]})
    with pytest.raises(InvalidInput, match="give each column one type"):
        wire.frame_to_arrow(mixed)


def test_an_output_archive_that_unpacks_too_big_is_refused(monkeypatch) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("results.json", "0" * 10_000)
    monkeypatch.setattr(wire, "MAX_OUTPUT_BYTES", 1_000)
    raw = json.dumps({"$output": base64.b64encode(sink.getvalue()).decode()}).encode()
    with pytest.raises(InvalidInput, match="unpacks to more than 1,000 bytes"):
        wire.loads(raw)


def test_a_frame_keeps_each_string_column_s_storage() -> None:
    """Arrow-backed strings (pseudonyms, person ids) come back Arrow-backed and Python ones as Python: pandas'
    own metadata does not say which, so a remote load would differ from the embedded one."""
    frame = pd.DataFrame({"arrow": pd.array(["a", None], dtype="string[pyarrow]"),
                          "python": pd.array(["b", None], dtype="string[python]"), "plain": ["c", "d"]})
    back = wire.arrow_to_frame(wire.frame_to_arrow(frame))
    pd.testing.assert_frame_equal(back, frame)
    assert back["arrow"].dtype.storage == "pyarrow" and back["python"].dtype.storage == "python"
