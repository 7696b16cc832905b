"""The one function behind every ``--out``: private files, no clobbering, no replaced
devices, FIFOs or links."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmguard.errors import OutputFileError
from crmguard.outfiles import output_file


@pytest.fixture(params=[0o022, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_new_file_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "export.csv"
    with output_file(out) as fh:
        fh.write("id\n1\n")
    assert out.read_text() == "id\n1\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_existing_file_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    out.write_text("keep me")
    os.chmod(out, 0o644)
    with pytest.raises(OutputFileError, match="already exists; pass --force"):
        with output_file(out) as fh:
            fh.write("new")
    assert out.read_text() == "keep me"
    with output_file(out, force=True) as fh:
        fh.write("new")
    assert out.read_text() == "new"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # replaced by a private file
    assert leftovers(tmp_path) == []


def test_a_failed_export_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    with pytest.raises(RuntimeError), output_file(out) as fh:
        fh.write("half")
        raise RuntimeError("cap exceeded")
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    with pytest.raises(OutputFileError, match="appeared while writing"):
        with output_file(out) as fh:
            fh.write("mine")
            out.write_text("someone else's")
    assert out.read_text() == "someone else's"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_is_refused_even_with_force(tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    with pytest.raises(OutputFileError, match="symbolic link"):
        with output_file(link, force=force) as fh:
            fh.write("export")
    assert link.is_symlink() and victim.read_text() == "precious"


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputFileError, match="symbolic link"):
        with output_file(link, force=True) as fh:
            fh.write("export")
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="a directory"):
        with output_file(tmp_path, force=True) as fh:
            fh.write("x")


def test_a_device_is_written_through_never_replaced(tmp_path: Path) -> None:
    full = Path("/dev/full")
    with pytest.raises(OutputFileError, match="already exists"):
        with output_file(full) as fh:
            fh.write("x")
    with pytest.raises(OutputFileError, match="no space"):
        with output_file(full, force=True) as fh:
            fh.write("x" * 100_000)
    assert stat.S_ISCHR(full.lstat().st_mode)
    with output_file(Path("/dev/null"), force=True) as fh:
        fh.write("gone")
    assert stat.S_ISCHR(Path("/dev/null").lstat().st_mode)


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    with output_file(fifo, force=True) as fh:
        fh.write("a,b\n")
    reader.join(timeout=10)
    assert got == ["a,b\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="does not exist"):
        with output_file(tmp_path / "no" / "x.csv") as fh:
            fh.write("x")


def test_a_link_to_a_stream_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    with pytest.raises(OutputFileError, match="already exists"):
        with output_file(link) as fh:
            fh.write("x")
    with output_file(link, force=True) as fh:
        fh.write("x")
    assert link.is_symlink() and stat.S_ISCHR(Path("/dev/null").lstat().st_mode)
