"""Build hook: the leak detectors' hot path compiled with mypyc where the machine can.

Everything else about the package is in pyproject.toml. The modules listed in
``alerts/native.py`` are compiled into C extensions beside their sources (an editable
install too), with a record of the sources they were built from. Where that fails (no C
compiler, no Python headers) or ``CRMGUARD_PURE_PYTHON`` is set, the package installs
as pure Python, with a warning, and behaves the same, only slower.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _native() -> Any:
    """alerts/native.py, loaded by path: the package's own __init__ is not run here."""
    spec = importlib.util.spec_from_file_location("_crmguard_native", ROOT / "alerts" / "native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclass looks itself up there)
    spec.loader.exec_module(module)
    return module


def _warn(why: str) -> None:
    print(f"crmguard: leak detectors installed as pure Python ({why})", file=sys.stderr)


def _extensions() -> list[Any]:
    native = _native()
    if os.environ.get(native.PURE_ENV, "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not available")
        return []
    files = [str(native.source_of(m, Path("."))) for m in native.NATIVE]
    # the build environment has none of the runtime dependencies: their types are Any
    flags = ["--ignore-missing-imports", "--follow-imports=silent"]
    try:
        modules: list[Any] = mypycify(flags + files, group_name="alerts._native")
        return modules
    except (Exception, SystemExit) as exc:  # any failure: install as pure Python
        _warn(f"mypyc could not compile them: {exc}")
        return []


class OptionalBuildExt(build_ext):
    """Builds the extensions, or leaves the pure-Python package whole when it cannot;
    writes the record of the compiled sources (alerts/_native.json) on success."""

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as exc:  # e.g. no C compiler: pure Python
            _warn(f"the C build failed: {exc}")
            return
        native = _native()
        targets = {Path(self.build_lib) / "alerts"}
        if self.inplace or getattr(self, "editable_mode", False):
            targets.add(ROOT / "alerts")
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            native.write_manifest(target, ROOT)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
