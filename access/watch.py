"""Hot reload: watch the policy directory and reload after an edit settles.

Editors save in bursts (truncate, write, rename a temp file), so reloads are debounced:
the reload runs once, a moment after the last event. A failed reload keeps the last
good policy and reports the error; it never leaves the process without a policy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
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


class PolicyWatcher(FileSystemEventHandler):
    """The stop handle returned by :func:`watch_policies`; also a context manager."""

    def __init__(
        self,
        control: AccessControl,
        on_error: Callable[[Exception], None] | None,
        debounce: float,
    ) -> None:
        self._control = control
        self._on_error = on_error
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
        try:
            self._control.reload()
        except Exception as exc:  # report every failure; the old policy stays in force
            log.warning("access.policy_watch_error", error=str(exc))
            if self._on_error is not None:
                self._on_error(exc)

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
) -> PolicyWatcher:
    """Start watching ``control.policy_dir``; call ``.stop()`` on the result to end."""
    return PolicyWatcher(control, on_error, debounce).start()
