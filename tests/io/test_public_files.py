"""SEG-Y files other tools wrote: the public test files ObsPy ships (field records of
several contractors and agencies, each cut to its first trace, with the samples ObsPy
reads from them). seisproc reads every one as ObsPy does, two of them where segyio
refuses; one-byte edits of their headers give a clear refusal or a reading, never a
traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import obspy
import pytest

from seisproc.errors import SeisprocError
from seisproc.io import open_segy

DATA = Path(obspy.__file__).parent / "io" / "segy" / "tests" / "data"
PUBLIC = sorted(p.with_suffix("") for p in DATA.glob("*.npy")
                if p.with_suffix("").exists() and ".su" not in p.name)


def read_all(path: Path) -> np.ndarray:
    with open_segy(path) as segy:
        samples, _ = segy.read(np.arange(segy.layout.n_traces))
    return samples


def test_the_public_files_are_there() -> None:
    assert len(PUBLIC) >= 7, sorted(DATA.iterdir())


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_each_public_file_reads_as_obspy_reads_it(path: Path) -> None:
    expected = np.load(path.with_name(path.name + ".npy")).astype(np.float32)
    samples = read_all(path)
    np.testing.assert_array_equal(samples, expected.reshape(samples.shape))


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_one_byte_edits_of_the_headers_are_read_or_refused_naming_the_file(
        path: Path, tmp_path: Path) -> None:
    original = path.read_bytes()
    edited = tmp_path / path.name
    # the binary header's defined words, then the whole first trace header
    offsets = [*range(3200, 3262), *range(3500, 3532), *range(3600, min(3840, len(original)))]
    for offset in offsets:
        for value in (0x00, 0xFF):
            if original[offset] == value:
                continue
            edited.write_bytes(original[:offset] + bytes([value]) + original[offset + 1:])
            try:
                read_all(edited)
            except SeisprocError as exc:
                assert str(edited) in str(exc) or edited.name in str(exc), (offset, str(exc))
            except Exception as exc:  # anything else is a traceback for the user
                pytest.fail(f"byte {offset} = {value:#04x}: {type(exc).__name__}: {exc}")
