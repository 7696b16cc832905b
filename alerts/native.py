"""Which of the room's modules run compiled, and the guard that keeps a stale build out.

Every ledger event, in a replay and in the daemon's live loop, goes through the modules
in :data:`NATIVE`. Where the install had a C compiler, ``setup.py`` compiles them with
mypyc (the same typed sources: mypy strict is what makes them compilable), which makes a
replay about 1.7 times faster (docs/PERFORMANCE.md). Without a compiler the package
installs as pure Python and behaves the same, only slower.

A compiled module sits beside its source, and Python prefers it. An editable install
whose sources then change (an edit, a ``git pull``) would silently run the old build, so
the build records a digest of the sources it compiled (:data:`MANIFEST`); when the
sources no longer match it, or ``CRMGUARD_PURE_PYTHON`` is set, :func:`guard` makes the
package import the sources instead, and :func:`status` says why (``crmguard alerts
status`` shows it). The check reads the
sources once per process (about a millisecond), before any of them is imported.

Kept free of third-party imports: ``setup.py`` reads :data:`NATIVE` from this file
before anything is installed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

#: The hot path, compiled together (calls between them become C calls).
NATIVE: tuple[str, ...] = (
    "alerts.model",
    "alerts.rules",
    "alerts.statistics",
    "alerts.timestamps",
    "alerts.windows",
    "alerts.user_state",
    "alerts.request_rates",
    "alerts.surge",
    "alerts.baseline",
    "alerts.read_path",
    "alerts.engine",
    "alerts.replay",
    "alerts.detectors.interface",
    "alerts.detectors.burst",
    "alerts.detectors.volume",
    "alerts.detectors.usual",
    "alerts.detectors.scraping",
    "alerts.detectors.unusual",
    "alerts.detectors.drip",
    "alerts.detectors.probing",
    "alerts.detectors.departing",
    "alerts.detectors.system",
)

#: Written by the build beside this file: the digest of the sources it compiled.
MANIFEST = "_native.json"
#: Set (to anything but "" or "0") to import the sources even where a build exists.
PURE_ENV = "CRMGUARD_PURE_PYTHON"

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NativeStatus:
    """Whether the hot path runs compiled in this process, and if not, why."""

    compiled: bool
    reason: str

    def describe(self) -> str:
        return "compiled (mypyc)" if self.compiled else f"pure Python ({self.reason})"


def source_of(module: str, root: Path = _ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def digest(modules: Iterable[str], root: Path = _ROOT) -> str:
    """One SHA-256 over the modules' names and sources, in order."""
    h = hashlib.sha256()
    for module in modules:
        h.update(module.encode() + b"\0" + source_of(module, root).read_bytes() + b"\0")
    return h.hexdigest()


def write_manifest(package_dir: Path, root: Path = _ROOT) -> None:
    """Record what was compiled (the build calls it after a successful build)."""
    body = {"modules": list(NATIVE), "sha256": digest(NATIVE, root)}
    (package_dir / MANIFEST).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def _built(root: Path) -> bool:
    """Is there a compiled module beside the sources (any of the extension suffixes)?"""
    first = source_of(NATIVE[0], root)
    return any(
        first.with_name(first.stem + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def _decide(root: Path, environ: Mapping[str, str]) -> str | None:
    """None when the build may be used; else why the sources are imported instead."""
    if not _built(root):
        return "no compiled build: installed without a C compiler or with " + PURE_ENV
    if environ.get(PURE_ENV, "") not in ("", "0"):
        return f"{PURE_ENV} is set"
    try:
        body = json.loads((root / "alerts" / MANIFEST).read_text(encoding="utf-8"))
        same = body["modules"] == list(NATIVE) and body["sha256"] == digest(NATIVE, root)
    except (OSError, ValueError, KeyError, TypeError):
        return "the build's record of its sources is missing or unreadable; reinstall"
    if not same:
        return "the sources changed since the build; reinstall to compile them again"
    return None


class _Sources(importlib.abc.MetaPathFinder):
    """Finds the listed modules as their ``.py`` sources, ahead of any compiled build."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._names = frozenset(NATIVE)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names:
            return None
        return importlib.util.spec_from_file_location(fullname, source_of(fullname, self._root))


_reason: str | None = None
_decided = False


def guard() -> None:
    """Decide once per process, before any listed module is imported (the package's
    ``__init__`` calls it): use the build, or put the sources first."""
    global _reason, _decided
    if _decided:
        return
    _decided = True
    _reason = _decide(_ROOT, os.environ)
    if _reason is not None and _built(_ROOT):
        sys.meta_path.insert(0, _Sources(_ROOT))


def status() -> NativeStatus:
    """What :func:`guard` decided for this process."""
    guard()
    return NativeStatus(_reason is None, _reason or "")
