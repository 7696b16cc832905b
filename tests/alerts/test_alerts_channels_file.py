"""alerts/channels/file.py: JSON lines, appended, mode 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from alerts.channels import ChannelError, FileChannel


def test_lines_are_appended_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "alerts.jsonl"
    channel = FileChannel("file", path)
    channel.send({"alert_id": 1, "summary": "a"})
    channel.send({"alert_id": 2, "summary": "b\nc"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [json.loads(x)["alert_id"] for x in lines] == [1, 2]


def test_a_loose_existing_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    FileChannel("file", path).send({"alert_id": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unwritable_place_is_a_channel_error(tmp_path: Path) -> None:
    target = tmp_path / "dir-not-file"
    target.mkdir()
    with pytest.raises(ChannelError, match=r"cannot write .*dir-not-file"):
        FileChannel("file", target).send({"alert_id": 1})
