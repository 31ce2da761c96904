"""Writing outputs: a pre-created file filled in any order, by one process or several, that
segyio reads back with the input's headers, and that has its final name only when whole."""

from __future__ import annotations

import errno
import multiprocessing
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import segyio

import seisproc.io.writer as writer_module
from seisproc.errors import OutputError
from seisproc.io import (
    SegyLayout,
    SegyWriter,
    commit_output,
    create_output,
    discard_output,
    open_segy,
)
from seisproc.io.textheader import decode_text_header
from seisproc.io.writer import output_file_header, output_layout

DATA = Path(__file__).resolve().parents[1] / "data"
SCATTERED_CHUNKS = [np.array([7, 2, 9]), np.array([0, 1]), np.array([11, 10, 3]),
                    np.array([5]), np.array([4, 6, 8])]
PROVENANCE = ["SEISPROC FLOW bandpass-agc", "INPUT shots.sgy", "bandpass f1=5 f2=10 f3=60 f4=80",
              "agc window_ms=500"]


def copy_in_chunks(source: Path, partial: Path, chunks: list[np.ndarray],
                   file_header: bytes | None = None) -> SegyLayout:
    """Read each chunk of traces from ``source`` and write it at the same positions."""
    with open_segy(source) as src:
        layout = output_layout(src.layout)
        create_output(partial, file_header or src.file_header_bytes, layout)
        with SegyWriter(partial, layout) as writer:
            for positions in chunks:
                samples, headers = src.read(positions)
                writer.write(positions, headers, samples)
    return layout


@pytest.mark.parametrize("name", ["ieee.sgy", "ibm_rev1.sgy", "ieee_little.sgy",
                                  "extended_text.sgy"])
def test_a_copy_written_at_scattered_positions_equals_the_input_byte_for_byte(
        tmp_path: Path, name: str) -> None:
    partial, final = tmp_path / "out.sgy.partial", tmp_path / "out.sgy"
    copy_in_chunks(DATA / name, partial, SCATTERED_CHUNKS)
    commit_output(partial, final)
    assert final.read_bytes() == (DATA / name).read_bytes()
    endian = "little" if "little" in name else "big"
    with segyio.open(final, ignore_geometry=True, endian=endian) as out, \
            segyio.open(DATA / name, ignore_geometry=True, endian=endian) as src:
        assert out.tracecount == src.tracecount
        for i in range(src.tracecount):
            assert out.header[i] == src.header[i]
        np.testing.assert_array_equal(out.trace.raw[:], src.trace.raw[:])


@pytest.mark.parametrize(("name", "code"), [("ieee.sgy", 5), ("ibm_rev1.sgy", 1)])
def test_written_samples_read_back_exactly_through_segyio(tmp_path: Path, name: str,
                                                          code: int) -> None:
    with open_segy(DATA / name) as src:
        layout, file_header = src.layout, src.file_header_bytes
        _, headers = src.read(np.arange(12))
    rng = np.random.default_rng(1)
    if code == 5:
        samples = rng.standard_normal((12, 50)).astype(np.float32) * 1e3
    else:  # values with few significant bits, which IBM holds exactly
        samples = (rng.integers(-2**16, 2**16, (12, 50)) / 64.0).astype(np.float32)
    path = tmp_path / "out.sgy"
    create_output(path, file_header, layout)
    with SegyWriter(path, layout) as writer:
        order = rng.permutation(12)
        writer.write(order, headers[order], samples[order])
    with segyio.open(path, ignore_geometry=True) as f:
        assert f.bin[segyio.BinField.Format] == code
        np.testing.assert_array_equal(f.trace.raw[:], samples)


def test_integer_input_is_written_as_ieee_floats(tmp_path: Path) -> None:
    with open_segy(DATA / "int16.sgy") as src:
        file_header = output_file_header(src, PROVENANCE)
    out = tmp_path / "out.sgy"
    layout = copy_in_chunks(DATA / "int16.sgy", out, SCATTERED_CHUNKS, file_header)
    assert layout.format.code == 5
    with segyio.open(out, ignore_geometry=True) as f, \
            segyio.open(DATA / "int16.sgy", ignore_geometry=True) as f16:
        assert f.bin[segyio.BinField.Format] == 5
        for i in range(12):
            assert f.header[i] == f16.header[i]
        np.testing.assert_array_equal(f.trace.raw[:], f16.trace.raw[:].astype(np.float32))


@pytest.mark.parametrize(("name", "in_code", "out_code"), [
    ("ibm_rev0.sgy", 1, 1), ("ieee.sgy", 5, 5), ("ieee_little.sgy", 5, 5), ("int32.sgy", 2, 5),
    ("int16.sgy", 3, 5), ("int8.sgy", 8, 5), ("ieee64.sgy", 6, 5), ("extended_text.sgy", 5, 5),
    ("ascii_text.sgy", 5, 5),
])
def test_output_file_header_stamps_provenance_and_keeps_everything_else(
        name: str, in_code: int, out_code: int) -> None:
    with open_segy(DATA / name) as src:
        original, endian = src.file_header_bytes, src.layout.endian
        header = output_file_header(src, PROVENANCE)
    assert len(header) == len(original)
    lines = decode_text_header(header[:3200]).split("\n")
    assert lines[30:34] == [f"C{31 + i} {line}" for i, line in enumerate(PROVENANCE)]
    assert lines[34:38] == ["C35", "C36", "C37", "C38"]
    for card in [*range(30), 38, 39]:  # C1-C30, C39, C40: byte for byte
        assert header[80 * card : 80 * card + 80] == original[80 * card : 80 * card + 80]
    assert header[0] == original[0]  # same encoding, EBCDIC or ASCII
    code = np.frombuffer(header, dtype=np.dtype(">i2" if endian == "big" else "<i2"),
                         count=1, offset=3224)[0]
    assert code == out_code
    assert header[3200:3224] == original[3200:3224]
    assert header[3226:] == original[3226:]  # rest of the binary and extended headers


def test_provenance_too_long_for_eight_cards_is_cut_and_says_so() -> None:
    with open_segy(DATA / "ieee.sgy") as src:
        header = output_file_header(src, [f"step {i}: " + "x" * 100 for i in range(10)])
    lines = decode_text_header(header[:3200]).split("\n")
    assert lines[37] == "C38 (flow continues; see the job history)"
    assert lines[38:] == ["C39", "C40"]
    assert all(len(line) <= 80 for line in lines)


def write_positions(path: Path, layout: SegyLayout, source: Path,
                    positions: np.ndarray) -> None:
    """A worker: writes one share of the traces, in chunks of five."""
    with open_segy(source) as src, SegyWriter(path, layout) as writer:
        for chunk in np.array_split(positions, max(1, len(positions) // 5)):
            samples, headers = src.read(chunk)
            writer.write(chunk, headers, samples[:, ::-1])  # a processed copy


def test_two_processes_writing_disjoint_traces_give_the_same_bytes_as_one(
        tmp_path: Path, small_survey: Path) -> None:
    with open_segy(small_survey) as src:
        layout, file_header = src.layout, src.file_header_bytes
    everything = np.arange(layout.n_traces)
    one, two = tmp_path / "one.sgy", tmp_path / "two.sgy"
    create_output(one, file_header, layout)
    write_positions(one, layout, small_survey, everything)
    create_output(two, file_header, layout)
    fork = multiprocessing.get_context("fork")
    shares = [everything[everything % 3 == 0], everything[everything % 3 != 0]]
    workers = [fork.Process(target=write_positions, args=(two, layout, small_survey, share))
               for share in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert two.read_bytes() == one.read_bytes()
    assert one.read_bytes()[3600:] != small_survey.read_bytes()[3600:]


def test_the_output_exists_under_its_final_name_only_after_commit(tmp_path: Path) -> None:
    partial, final = tmp_path / ".out.sgy.partial", tmp_path / "out.sgy"
    with open_segy(DATA / "ieee.sgy") as src:
        layout = src.layout
        create_output(partial, src.file_header_bytes, layout)
        assert partial.stat().st_size == 3600 + 12 * layout.trace_bytes  # full size at once
        assert not final.exists()
        with SegyWriter(partial, layout) as writer:
            for positions in SCATTERED_CHUNKS:
                samples, headers = src.read(positions)
                writer.write(positions, headers, samples)
                assert not final.exists()
    commit_output(partial, final)
    assert final.exists() and not partial.exists()
    assert final.read_bytes() == (DATA / "ieee.sgy").read_bytes()


def test_discard_output_removes_the_partial_file_and_accepts_a_missing_one(
        tmp_path: Path) -> None:
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(DATA / "ieee.sgy") as src:
        create_output(partial, src.file_header_bytes, src.layout)
    discard_output(partial)
    assert not partial.exists()
    discard_output(partial)
    assert list(tmp_path.iterdir()) == []


def test_not_enough_disk_space_is_an_output_error_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def nearly_full(path: object) -> types.SimpleNamespace:
        return types.SimpleNamespace(total=10**12, used=10**12 - 1000, free=1000)

    monkeypatch.setattr(writer_module.shutil, "disk_usage", nearly_full)
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(DATA / "ieee.sgy") as src, pytest.raises(OutputError) as info:
        create_output(partial, src.file_header_bytes, src.layout)
    assert str(partial) in str(info.value)
    assert "not enough disk space" in str(info.value)
    assert not partial.exists()


def test_an_output_in_a_missing_folder_is_an_output_error_naming_the_file(
        tmp_path: Path) -> None:
    partial = tmp_path / "no" / "such" / "folder" / "out.sgy"
    with open_segy(DATA / "ieee.sgy") as src, pytest.raises(OutputError) as info:
        create_output(partial, src.file_header_bytes, src.layout)
    assert str(partial) in str(info.value)
    assert "cannot create the output" in str(info.value)


def with_word(header: bytes, byte: int, value: int) -> bytes:
    """``header`` with the big-endian 2-byte word at 1-based ``byte`` set to ``value``."""
    out = bytearray(header)
    out[byte - 1 : byte + 1] = value.to_bytes(2, "big", signed=True)
    return bytes(out)


def one_card_too_many(header: bytes) -> bytes:
    return header[:3200] + b" " * 80 + header[3200:]


WRONG_FILE_HEADERS = {
    "textual-header-3280-bytes": (
        one_card_too_many,
        "the output's file headers are 3680 bytes and its traces would start at byte 3600; "
        "with 0 extended textual headers both must be 3600 (3200-byte textual, 400-byte "
        "binary, 3200 bytes per extended textual header): nothing was written"),
    "declared-extended-header-missing": (
        lambda header: with_word(header, 3505, 1),
        "the output's file headers are 3600 bytes and its traces would start at byte 3600; "
        "with 1 extended textual headers both must be 6800"),
    "binary-header-of-another-format": (
        lambda header: with_word(header, 3225, 1),
        "the output's binary header gives format code 1 and 50 samples per trace (bytes "
        "3225-3226, 3221-3222); its traces are format 5 with 50 samples: nothing was written"),
    "binary-header-of-another-sample-count": (
        lambda header: with_word(header, 3221, 49),
        "gives format code 5 and 49 samples per trace"),
}


@pytest.mark.parametrize("case", WRONG_FILE_HEADERS)
def test_file_headers_of_the_wrong_size_or_layout_are_refused_before_any_trace_is_written(
        tmp_path: Path, case: str) -> None:
    spoil, phrase = WRONG_FILE_HEADERS[case]
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(DATA / "ieee.sgy") as src, pytest.raises(OutputError) as info:
        create_output(partial, spoil(src.file_header_bytes), src.layout)
    assert str(info.value).startswith(f"{partial}: ")
    assert phrase in str(info.value)
    assert not partial.exists()


def test_headers_with_their_extended_textual_header_are_accepted(tmp_path: Path) -> None:
    partial = tmp_path / ".out.sgy.partial"
    with open_segy(DATA / "extended_text.sgy") as src:
        create_output(partial, output_file_header(src, PROVENANCE), output_layout(src.layout))
        assert partial.read_bytes()[3200:6800] == src.file_header_bytes[3200:6800]


@pytest.fixture
def whole_partial(tmp_path: Path) -> Path:
    """A complete output under its partial name: a copy of ``ieee.sgy``."""
    partial = tmp_path / ".out.sgy.job1.seisproc-partial"
    copy_in_chunks(DATA / "ieee.sgy", partial, SCATTERED_CHUNKS)
    return partial


def _refused_and_untouched(partial: Path, final: Path) -> None:
    final.write_bytes(b"someone else's file")
    with pytest.raises(OutputError) as info:
        commit_output(partial, final)
    assert str(info.value) == (
        f"{final}: a file appeared at the output's name while the job ran; it was left "
        "untouched and the job's output was not committed")
    assert final.read_bytes() == b"someone else's file"
    assert partial.read_bytes() == (DATA / "ieee.sgy").read_bytes()  # kept for the caller


def test_a_commit_never_replaces_a_file_that_appeared_at_the_output_name(
        tmp_path: Path, whole_partial: Path) -> None:
    _refused_and_untouched(whole_partial, tmp_path / "out.sgy")


def test_a_commit_with_overwrite_replaces_the_file_at_the_output_name(
        tmp_path: Path, whole_partial: Path) -> None:
    final = tmp_path / "out.sgy"
    final.write_bytes(b"an earlier run's output")
    commit_output(whole_partial, final, overwrite=True)
    assert final.read_bytes() == (DATA / "ieee.sgy").read_bytes()
    assert not whole_partial.exists()


def test_a_commit_leaves_one_name_and_one_link_to_the_output(
        tmp_path: Path, whole_partial: Path) -> None:
    final = tmp_path / "out.sgy"
    commit_output(whole_partial, final)
    assert not whole_partial.exists() and final.stat().st_nlink == 1
    assert final.read_bytes() == (DATA / "ieee.sgy").read_bytes()


def _no_hard_links(*args: object, **kwargs: object) -> None:
    raise OSError(errno.EPERM, "Operation not permitted")


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "placeholder"])
def test_without_hard_links_the_commit_renames_without_replacing(
        tmp_path: Path, whole_partial: Path, monkeypatch: pytest.MonkeyPatch,
        renameat2: bool) -> None:
    monkeypatch.setattr(writer_module.os, "link", _no_hard_links)
    if not renameat2:
        monkeypatch.setattr(writer_module, "_renameat2_no_replace", lambda *a: False)
    _refused_and_untouched(whole_partial, tmp_path / "out.sgy")
    (tmp_path / "out.sgy").unlink()
    commit_output(whole_partial, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == (DATA / "ieee.sgy").read_bytes()
    assert not whole_partial.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_renameat2_refuses_to_replace_on_this_file_system(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    source.write_bytes(b"a")
    target.write_bytes(b"b")
    with pytest.raises(FileExistsError):
        writer_module._renameat2_no_replace(source, target)
    target.unlink()
    assert writer_module._renameat2_no_replace(source, target)
    assert target.read_bytes() == b"a" and not source.exists()


def test_a_failed_data_sync_is_an_output_error_naming_the_file(
        tmp_path: Path, whole_partial: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(writer_module.os, "fdatasync", failing, raising=False)
    monkeypatch.setattr(writer_module.os, "fsync", failing)
    with open_segy(DATA / "ieee.sgy") as src:
        layout = src.layout
    with SegyWriter(whole_partial, layout) as writer, pytest.raises(OutputError) as info:
        writer.sync()
    assert str(info.value) == (f"{whole_partial}: cannot make the written traces durable: "
                               "Input/output error")


def test_a_link_reported_as_existing_that_is_our_own_file_commits(
        tmp_path: Path, whole_partial: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An NFS client that resent LINK after a lost reply hears "exists" for its own link."""
    real_link = os.link

    def resent(source: Path, target: Path) -> None:
        real_link(source, target)
        raise FileExistsError(errno.EEXIST, "File exists")

    monkeypatch.setattr(writer_module.os, "link", resent)
    commit_output(whole_partial, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == (DATA / "ieee.sgy").read_bytes()
    assert not whole_partial.exists()
