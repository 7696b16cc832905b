"""The anchor file: one JSON line per anchor, appended and synced, never rewritten.

It lives beside the home's keys by default and belongs on another disk or mount (its
path is a setting), so that whoever can replace the database file cannot also rewrite
what the file remembers. The first line names the format and the public key that signs
every later line; a last line cut short by a crash is ignored, never repaired in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.anchors import Anchor, AnchorStore, check_header, dumps, header, parse_anchor
from audit.errors import AnchorError, AnchorUnavailable


class FileAnchors(AnchorStore):
    """An append-only anchor file at ``path`` (created 0600, its folder 0700)."""

    def __init__(self, path: Path | str, public: Ed25519PublicKey | None = None) -> None:
        self.path = Path(path)
        self._public = public

    def describe(self) -> str:
        return f"anchor file {self.path}"

    def create(self) -> None:
        """Start the file with its header line if it does not exist yet.

        Made at ``init``, so that a missing anchor file later means it was removed.
        """
        if self.path.exists():
            return
        if self._public is None:
            raise AnchorError("an anchor file needs the signer's public key to be written")
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(mode=0o700, parents=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise AnchorError(f"cannot create {self.describe()}: {exc.strerror}") from None
        try:
            os.write(fd, (dumps(header(self._public)) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def publish(self, anchor: Anchor) -> None:
        if self._public is None:
            raise AnchorError("an anchor file needs the signer's public key to be written")
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(mode=0o700, parents=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AnchorUnavailable(f"cannot open {self.describe()}: {exc.strerror}") from None
        try:
            size = os.fstat(fd).st_size
            chunks = []
            if size == 0:
                chunks.append(dumps(header(self._public)) + "\n")
            elif not self._ends_with_newline(size):
                chunks.append("\n")  # seal off a line a crash cut short
            chunks.append(dumps(anchor.to_json()) + "\n")
            os.write(fd, "".join(chunks).encode())
            os.fsync(fd)
        except OSError as exc:
            raise AnchorUnavailable(f"cannot write {self.describe()}: {exc.strerror}") from None
        finally:
            os.close(fd)

    def _ends_with_newline(self, size: int) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) == b"\n"

    def last_anchor(self) -> Anchor | None:
        """The newest complete anchor line (read from the file's tail), or None."""
        try:
            with self.path.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - 8192))
                tail = fh.read()
        except OSError:
            return None
        for raw in reversed(tail.split(b"\n")[:-1]):
            try:
                return Anchor.from_json(json.loads(raw))
            except ValueError:
                continue
        return None

    def load(self, trusted: Ed25519PublicKey) -> list[Anchor]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise AnchorError(
                f"{self.describe()} does not exist (it is made at init: was it removed "
                "or moved? set [anchors] file to where it lives)"
            ) from None
        except OSError as exc:
            raise AnchorError(f"cannot read {self.describe()}: {exc.strerror}") from None
        lines = data.split(b"\n")
        complete = lines[:-1]  # the part after the last newline is empty or a torn write
        if not complete:
            raise AnchorError(f"{self.describe()} is empty or corrupt (no header line)")
        try:
            first = json.loads(complete[0])
        except ValueError:
            first = None
        check_header(first, trusted, str(self.path))
        return [
            parse_anchor(raw, trusted, f"{self.path} line {number}")
            for number, raw in enumerate(complete[1:], start=2)
            if raw.strip()
        ]
