"""statdash.regular: only regular files are opened, and opening never waits on a FIFO."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from statdash.regular import NotRegularFile, open_regular


@pytest.mark.parametrize("flags", [os.O_RDONLY, os.O_WRONLY | os.O_APPEND | os.O_CREAT])
def test_a_fifo_swapped_in_after_the_look_is_refused_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: int
) -> None:
    """For reading and for writing, a FIFO that the look before the open missed (the look
    is made to pass) is refused by the open itself, at once, never waited on."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    monkeypatch.setattr("statdash.regular.require_regular", lambda _path: None)
    with pytest.raises(NotRegularFile) as caught:
        open_regular(fifo, flags)
    assert caught.value.kind == "a FIFO (named pipe)"


def test_a_regular_file_opens_in_blocking_mode(tmp_path: Path) -> None:
    """The descriptor handed back is an ordinary blocking one, created when asked to."""
    path = tmp_path / "log.jsonl"
    descriptor = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        assert os.get_blocking(descriptor)
        os.write(descriptor, b"x\n")
    finally:
        os.close(descriptor)
    assert path.read_bytes() == b"x\n"
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing", os.O_RDONLY)
