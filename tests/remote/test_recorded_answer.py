"""A recorded output travels to a kernel as the folder the vault keeps it in, zipped as it is: the same output as
one written again for the answer, never its attachments, and written again when the folder changed meanwhile."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from helpers import ANALYST, DATASET, PROJECT

from workbench import wire
from workbench.errors import InvalidInput
from workbench.outputs.store import output_number
from workbench.server.kernel import call


def _recorded(desk):
    ws = desk(ANALYST)
    project = ws.project(PROJECT)
    output = project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay", name="by age and stay")
    return ws, output, project.outputs.folder(output_number(PROJECT, output))


def _names(raw: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(raw)).namelist()


def _same(back, output) -> None:
    pd.testing.assert_frame_equal(back.table, output.table)
    pd.testing.assert_frame_equal(back.safe_table, output.safe_table)
    assert back.uid == (output.uid or "output") and back.status == output.status and back.summary() == output.summary()
    assert set(back.flags) == set(output.flags)
    for name, flag in output.flags.items():
        pd.testing.assert_frame_equal(back.flags[name], flag)


def test_a_recorded_output_travels_as_its_vault_folder(desk) -> None:
    ws, output, folder = _recorded(desk)
    answer = call(ws, "outputs.get", {"project": PROJECT, "output_id": output_number(PROJECT, output)})
    assert isinstance(answer, wire.Recorded) and answer.folder == folder
    (folder / "files").mkdir()
    (folder / "files" / "figure.html").write_text("<html></html>")  # an attachment stays in the vault
    raw = wire.recorded_to_zip(answer)
    assert _names(raw) == _names(wire.output_to_zip(output))
    assert all(not name.startswith("files/") for name in _names(raw))
    for name in _names(raw):
        assert zipfile.ZipFile(io.BytesIO(raw)).read(name) == (folder / name).read_bytes()
    _same(wire.loads(wire.dumps(answer)), output)


def test_a_folder_changed_while_it_is_read_is_written_again(desk) -> None:
    _ws, output, folder = _recorded(desk)
    csv = next(folder.glob("*.csv"))
    csv.write_text(csv.read_text().replace("\n", "\n ", 1))  # no longer matches its checksum
    raw = wire.recorded_to_zip(wire.Recorded(output, folder))
    _same(wire.zip_to_output(raw), output)
    gone = wire.recorded_to_zip(wire.Recorded(output, folder.with_name("no-such-output")))
    _same(wire.zip_to_output(gone), output)


def test_an_answer_of_no_recorded_output_is_written_again(desk) -> None:
    from workbench import disclosure as sdc

    ws = desk(ANALYST)
    loose = sdc.crosstab(pd.Series(list("aabb") * 5), pd.Series(list("xyxy") * 5))
    from workbench.server.kernel import _recorded as recorded

    assert recorded(ws, PROJECT, loose) is loose
    _same(wire.loads(wire.dumps(loose)), loose)


def _archive(entries: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return sink.getvalue()


@pytest.mark.parametrize("entries", [
    {"results.json": b"{}", "results.json/x": b"x"},  # a file where a folder would be
    {"a/b": b"x", "a": b"y"},  # a folder where a file would be
    {"a//b": b"x", "a/b": b"y"},  # the same file twice, spelled differently
])
def test_an_archive_a_disk_could_not_hold_is_damaged(entries: dict[str, bytes]) -> None:
    with pytest.raises(InvalidInput, match="damaged"):
        wire.zip_to_output(_archive(entries))
