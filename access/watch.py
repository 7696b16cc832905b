"""Hot reload: watch the policy directory and reload after an edit settles.

Editors save in bursts (truncate, write, rename a temp file), so reloads are debounced:
the reload runs once, a moment after the last event. A failed reload keeps the last
good policy and reports the error; it never leaves the process without a policy.

Every reload, taken or rejected, is handed to ``on_reload`` as a :class:`PolicyReload`
(the files' hash, the version in force, the error): the shell writes it to the audit
ledger, which this room does not know, so a change of who may do what is as visible
as any use of that power.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from access.control import AccessControl
from access.policy_files import MODEL_FILE, POLICY_FILE

log = structlog.get_logger()

_WATCHED = frozenset({MODEL_FILE, POLICY_FILE})
#: Reading the files for a reload makes "opened"/"closed_no_write" events; reacting to
#: them would reload forever.
_IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})


@dataclass(frozen=True)
class PolicyReload:
    """One reload of the policy files: taken (``ok``) or rejected, with what was read.

    ``version`` is the version in force afterwards (unchanged after a rejected edit).
    """

    ok: bool
    version: int
    file_hash: str
    error: str | None = None

    def details(self) -> dict[str, object]:
        """The ledger event's details: ``file_hash``, ``version`` and, if rejected, ``error``."""
        out: dict[str, object] = {"file_hash": self.file_hash, "version": self.version}
        if self.error is not None:
            out["error"] = self.error
        return out


def policy_hash(policy_dir: Path) -> str:
    """SHA-256 over both policy files (name and content), as read now; "" parts if missing."""
    digest = hashlib.sha256()
    for name in sorted(_WATCHED):
        try:
            data = (Path(policy_dir) / name).read_bytes()
        except OSError:
            data = b""
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


class PolicyWatcher(FileSystemEventHandler):
    """The stop handle returned by :func:`watch_policies`; also a context manager."""

    def __init__(
        self,
        control: AccessControl,
        on_error: Callable[[Exception], None] | None,
        debounce: float,
        on_reload: Callable[[PolicyReload], None] | None = None,
    ) -> None:
        self._control = control
        self._on_error = on_error
        self._on_reload = on_reload
        self._debounce = debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._observer = Observer()
        self._observer.schedule(self, str(control.policy_dir), recursive=False)
        self._stopped = False

    def start(self) -> PolicyWatcher:
        self._observer.start()
        return self

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS or event.is_directory:
            return
        paths = {os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")}
        if not any(os.path.basename(p) in _WATCHED for p in paths if p):
            return
        with self._lock:
            if self._stopped:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._debounce, self._reload)
            self._timer.daemon = True
            self._timer.start()

    def _reload(self) -> None:
        file_hash = policy_hash(self._control.policy_dir)
        try:
            self._control.reload()
        except Exception as exc:  # report every failure; the old policy stays in force
            log.warning("access.policy_watch_error", error=str(exc))
            self._report(PolicyReload(False, self._control.version, file_hash, str(exc)))
            if self._on_error is not None:
                self._on_error(exc)
            return
        self._report(PolicyReload(True, self._control.version, file_hash))

    def _report(self, reload: PolicyReload) -> None:
        if self._on_reload is None:
            return
        try:
            self._on_reload(reload)
        except Exception as exc:  # a failing reporter must not stop the watching
            log.error("access.policy_reload_report_failed", error=str(exc))

    def stop(self) -> None:
        """Stop watching; a pending debounced reload is cancelled."""
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)

    def __enter__(self) -> PolicyWatcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def watch_policies(
    control: AccessControl,
    on_error: Callable[[Exception], None] | None = None,
    debounce: float = 0.2,
    on_reload: Callable[[PolicyReload], None] | None = None,
) -> PolicyWatcher:
    """Start watching ``control.policy_dir``; call ``.stop()`` on the result to end.

    ``on_reload`` hears of every reload, taken or rejected; ``on_error`` of rejected ones.
    """
    return PolicyWatcher(control, on_error, debounce, on_reload).start()
