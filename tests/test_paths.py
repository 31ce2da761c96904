"""seisproc's own files are private: the home ``0700``, files it creates ``0600``."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from seisproc.paths import create_private_file, open_private, private_dir, seisproc_home


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 000: what is private must be so by seisproc's doing, not the umask's."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_seisproc_home_is_created_0700(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEISPROC_HOME", str(tmp_path / "nested" / "home"))
    home = seisproc_home()
    assert home == tmp_path / "nested" / "home"
    assert mode_of(home) == 0o700 and mode_of(home.parent) == 0o700


def test_an_existing_home_others_can_read_is_tightened_to_0700(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    monkeypatch.setenv("SEISPROC_HOME", str(home))
    assert mode_of(seisproc_home()) == 0o700


@pytest.mark.usefixtures("permissive_umask")
def test_private_dir_leaves_an_existing_folder_as_it_is(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    assert private_dir(tmp_path) == tmp_path and mode_of(tmp_path) == 0o755
    assert mode_of(private_dir(tmp_path / "a" / "b")) == 0o700
    assert mode_of(tmp_path / "a") == 0o700


@pytest.mark.usefixtures("permissive_umask")
def test_private_files_are_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    assert mode_of(create_private_file(tmp_path / "history.db")) == 0o600
    with os.fdopen(open_private(tmp_path / "run.log", os.O_WRONLY | os.O_APPEND), "a") as out:
        out.write("started\n")
    assert mode_of(tmp_path / "run.log") == 0o600


def test_open_private_keeps_an_existing_file_and_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    path.write_text("first\n")
    os.chmod(path, 0o640)
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "a") as out:
        out.write("second\n")
    create_private_file(path)
    assert path.read_text() == "first\nsecond\n" and mode_of(path) == 0o640


def test_open_private_with_o_excl_refuses_an_existing_file(tmp_path: Path) -> None:
    create_private_file(tmp_path / "lock")
    with pytest.raises(FileExistsError):
        open_private(tmp_path / "lock", os.O_WRONLY | os.O_EXCL)
