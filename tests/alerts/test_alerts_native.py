"""alerts/native.py and setup.py: the hot path runs compiled where the install built it,
prints exactly what the sources print, and a build older than its sources is never run."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alerts import native
from alerts.evaluation.generator import generate
from alerts.replay import _dumps

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *, pure: bool) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(native.PURE_ENV, None)
    if pure:
        env[native.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _compiled_here() -> bool:
    return native.status().compiled


def test_ci_runs_the_compiled_hot_path() -> None:
    """The README's install compiles the detectors on a machine with a C compiler (CI's
    has one), and the tests then exercise the build that ships, not only the sources."""
    if not os.environ.get("CI") and not _compiled_here():
        pytest.skip(f"not compiled here: {native.status().reason}")
    assert native.status() == native.NativeStatus(True, "")
    import alerts.engine
    import alerts.read_path

    for module in (alerts.engine, alerts.read_path):
        assert module.__file__ is not None
        assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_compiled_and_pure_python_replays_print_the_same(tmp_path: Path) -> None:
    """Same input, same output, whichever build runs: a company with every injected leak,
    replayed by the build and by the sources (CRMGUARD_PURE_PYTHON), down to each
    finding's evidence (a count compiled as a float would read "51.0 records")."""
    if not _compiled_here():
        pytest.skip(f"not compiled here: {native.status().reason}")
    company = generate(seed=3, users=24, days=28)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(_dumps(e) + "\n" for e in company.events), encoding="utf-8")
    code = (
        "import sys; from pathlib import Path\n"
        "from alerts import native; from alerts.rules import load_rules\n"
        "from alerts.replay import _dumps, event_from_json, replay, run\n"
        "import alerts.engine as e, orjson\n"
        "print(native.status().compiled, e.__file__.endswith('.py'))\n"
        f"path = Path({str(events)!r})\n"
        "replay(path, load_rules(None), sys.stdout)\n"
        "lines = path.read_bytes().splitlines()\n"
        "def emit(f):  # the whole finding: what the store and the channels get\n"
        "    print(_dumps({**f.to_contract(), 'evidence': f.evidence, 'first': str(f.first_ts),\n"
        "        'last': str(f.last_ts), 'response': f.response, 'up': f.escalation}))\n"
        "run((event_from_json(orjson.loads(x)) for x in lines), load_rules(None), emit)\n"
    )
    compiled, pure = _python(code, pure=False), _python(code, pure=True)
    head_c, _, lines_c = compiled.partition("\n")
    head_p, _, lines_p = pure.partition("\n")
    assert (head_c, head_p) == ("True False", "False True")
    found = [json.loads(x) for x in lines_c.splitlines() if '"evidence"' not in x]
    assert len(found) >= 5 and {f["rule"] for f in found} >= {"burst", "scraping", "probing"}
    assert lines_c == lines_p


def _fake_tree(root: Path, built: bool) -> None:
    """The listed modules' sources under ``root`` and, when ``built``, an extension
    beside the first, as an install leaves them."""
    for module in native.NATIVE:
        path = native.source_of(module, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"NAME = {module!r}\n", encoding="utf-8")
    if built:
        first = native.source_of(native.NATIVE[0], root)
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        first.with_name(first.stem + suffix).write_bytes(b"\x7fELF")


def test_a_build_is_used_only_while_it_is_the_build_of_the_sources(tmp_path: Path) -> None:
    _fake_tree(tmp_path, built=False)
    assert "no compiled build" in (native._decide(tmp_path, {}) or "")
    _fake_tree(tmp_path, built=True)
    assert "missing or unreadable" in (native._decide(tmp_path, {}) or "")
    native.write_manifest(tmp_path / "alerts", tmp_path)
    assert native._decide(tmp_path, {}) is None
    assert native._decide(tmp_path, {native.PURE_ENV: "0"}) is None
    assert native._decide(tmp_path, {native.PURE_ENV: "1"}) == f"{native.PURE_ENV} is set"
    # an edit (or a git pull) after the build: the sources run until the next install
    edited = native.source_of("alerts.read_path", tmp_path)
    edited.write_text(edited.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    assert "sources changed" in (native._decide(tmp_path, {}) or "")
    (tmp_path / "alerts" / native.MANIFEST).write_text("{not json", encoding="utf-8")
    assert "missing or unreadable" in (native._decide(tmp_path, {}) or "")


def test_the_sources_finder_finds_the_listed_modules_as_sources(tmp_path: Path) -> None:
    _fake_tree(tmp_path, built=True)
    finder = native._Sources(tmp_path)
    spec = finder.find_spec("alerts.engine", None)
    assert spec is not None and spec.origin == str(native.source_of("alerts.engine", tmp_path))
    assert finder.find_spec("alerts.store", None) is None  # not listed: the normal import
    assert finder.find_spec("json", None) is None
