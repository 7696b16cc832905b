"""The file channel: one JSON object per line, appended, in a file only its owner reads.

Created with mode 0600 (alerts name users and record ids) and tightened to 0600 if it
was found looser; each line is flushed and fsynced before ``send`` returns, so a message
marked delivered is on disk.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alerts.channels.interface import Channel, ChannelError, one_line
from alerts.model import Severity


class FileChannel(Channel):
    kind = "file"

    def __init__(self, name: str, path: Path, min_severity: Severity = "low") -> None:
        super().__init__(name, min_severity)
        self.path = path

    def send(self, message: Mapping[str, Any]) -> None:
        line = json.dumps(dict(message), ensure_ascii=False, sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
                    os.fchmod(fd, 0o600)
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            reason = exc.strerror or one_line(exc)
            raise ChannelError(f"cannot write {self.path}: {reason}") from None

    def describe(self) -> str:
        return f"file {self.path}"
