"""The leak-alert rules: ``policies/alerts.toml``, validated, with the last good rules kept.

The file is data reviewed like code. Every key has a default (the shipped file spells
them out with comments), so a company changes only what it disagrees with. A malformed
file is refused whole, with the file and line named: TOML syntax errors carry tomllib's
line; a wrong value is traced back to the line of its key. :class:`RulesHolder` keeps the
rules in force when a reload fails, so an edit in progress never switches detection off.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from alerts.errors import RulesError
from alerts.model import RESPONSES, SEVERITIES, Response, Severity
from policies import DEFAULT_DIR

#: The shipped rules (also the defaults when no file is given).
DEFAULT_RULES_FILE = DEFAULT_DIR / "alerts.toml"

_DETECTION: dict[str, Any] = {
    "resources": ["contact", "company", "deal", "activity", "task"],
    "learning_days": 7,
    "history_days": 28,
    "realert_after_hours": 24.0,
    "escalate_at": [3.0, 10.0],
    "sample_ids": 10,
}

_BASELINE: dict[str, float] = {
    "k": 4.0,
    "min_spread": 0.35,
    "quantile": 0.9,
    "margin": 3.0,
    "surge_min_users": 5,
    "surge_cap": 4.0,
    "false_positive_factor": 2.0,
}

#: Parameters an earlier release shipped, read under their new name so that a home's
#: alerts.toml written by that release keeps loading after an upgrade (rule -> old -> new).
_RENAMED: dict[str, dict[str, str]] = {"drip": {"k": "read_spreads"}}

#: rule name -> (default severity, default response, numeric parameters with defaults)
_RULES: dict[str, tuple[Severity, Response | None, dict[str, float]]] = {
    "burst": (
        "high",
        None,
        {
            "window_seconds": 60,
            "floor": 50,
            "export_floor": 500,
            "export_window_seconds": 300,
            "export_requests": 3,
        },
    ),
    "volume": ("medium", None, {"window_minutes": 60}),
    "baseline_hour": ("medium", None, {"floor": 400}),
    "baseline_day": ("medium", None, {"floor": 1000}),
    "scraping": (
        "high",
        None,
        {"window_minutes": 10, "distinct_floor": 60, "sequential_run": 25},
    ),
    "unusual_export": (
        "medium",
        None,
        {"min_signals": 2, "rare_share": 0.02, "min_records": 50, "size_spreads": 3.0},
    ),
    "probing": ("medium", None, {"window_minutes": 10, "denied": 8}),
    "drip": (
        "medium",
        None,
        {"days": 3, "floor": 500, "read_spreads": 2.5, "alpha": 0.0001},
    ),
    "departing": (
        "high",
        None,
        {"threshold_factor": 0.5, "lookback_days": 30, "size_spreads": 1.5},
    ),
    "departing_lookback": ("high", None, {}),
    "backup_failed": ("high", None, {}),
    "backup_overdue": ("medium", None, {}),
    "policy_rejected": ("medium", None, {}),
}

_VOLUME_LIMITS: dict[str, float] = {
    "export": 5000,
    "print": 500,
    "list": 20000,
    "search": 20000,
    "view": 1000,
}

#: Parameters that must be whole numbers.
_INTEGERS = frozenset(
    {"window_seconds", "window_minutes", "floor", "distinct_floor", "sequential_run",
     "min_signals", "min_records", "denied", "days", "lookback_days", "surge_min_users",
     "export_floor", "export_window_seconds", "export_requests"}
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One rule: whether it runs, how loud it is, what it does, and its thresholds."""

    name: str
    severity: Severity
    enabled: bool = True
    response: Response | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    limits: Mapping[str, float] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.params[key]


@dataclass(frozen=True)
class Rules:
    """The whole rule set; ``source`` names the file it came from."""

    source: str
    resources: frozenset[str]
    learning_days: int
    history_days: int
    realert_after: timedelta
    escalate_at: tuple[float, float]
    sample_ids: int
    baseline: Mapping[str, float]
    rules: Mapping[str, Rule]

    def rule(self, name: str) -> Rule:
        return self.rules[name]

    def enabled(self, name: str) -> bool:
        return self.rules[name].enabled


def load_rules(path: Path | None) -> Rules:
    """Read and validate ``path`` (``None``: the shipped defaults); raise RulesError."""
    source = DEFAULT_RULES_FILE if path is None else Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is None:
            return _build({}, "", "<defaults>")
        raise RulesError(source, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(source, f"cannot read the file ({exc.__class__.__name__})") from None
    return parse_rules(text, str(source))


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    """Validate rules given as TOML text (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise RulesError(source, f"not valid TOML: {message}", line) from None
    return _build(data, text, source)


class RulesHolder:
    """The rules in force; a failed reload raises and keeps the last good rules."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._rules = load_rules(path)

    @property
    def rules(self) -> Rules:
        return self._rules

    def reload(self) -> Rules:
        """Load the file again; on error raise RulesError and keep what was in force."""
        self._rules = load_rules(self.path)
        return self._rules


# -- validation --------------------------------------------------------------------------


class _Checker:
    """Validates one parsed file and finds the line of a key for the message."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def error(self, table: str, key: str | None, message: str) -> RulesError:
        return RulesError(self.source, message, self.line_of(table, key))

    def line_of(self, table: str, key: str | None) -> int | None:
        """The line where ``key`` is set inside ``[table]`` (or the header's line)."""
        current, header_line = "", None
        for number, raw in enumerate(self.lines, start=1):
            line = raw.split("#", 1)[0].strip()
            if line.startswith("["):
                current = line.strip("[] ").replace(" ", "")
                if current == table:
                    header_line = number
                sub = f"{table}.{key}" if table else str(key)
                if key is not None and (current == sub or current.startswith(sub + ".")):
                    return number
                continue
            if key is None:
                continue
            if current == table and re.match(rf"{re.escape(key)}\s*=", line):
                return number
            dotted = f"{table}.{key}" if table else key
            if current == "" and re.match(rf"{re.escape(dotted)}\s*=", line.replace('"', "")):
                return number
        return header_line

    def table(self, data: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(path.rsplit(".", 1)[0] if "." in path else "", name,
                             f"{path} must be a table")  # fmt: skip
        return value

    def number(self, table: str, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(table, key, f"{key} must be a number, not {value!r}")
        if value < 0:
            raise self.error(table, key, f"{key} must not be negative (got {value})")
        if key in _INTEGERS and value != int(value):
            raise self.error(table, key, f"{key} must be a whole number (got {value})")
        return float(value)

    def unknown(self, table: str, given: Mapping[str, Any], known: set[str]) -> None:
        for key in given:
            if key not in known:
                names = ", ".join(sorted(known))
                raise self.error(table, key, f"unknown key {key!r} in [{table}] (known: {names})")


def _build(data: Mapping[str, Any], text: str, source: str) -> Rules:
    c = _Checker(text, source)
    c.unknown("", data, {"detection", "baseline", "rules"})
    det = c.table(data, "detection", "detection")
    c.unknown("detection", det, set(_DETECTION))
    merged = {**_DETECTION, **det}
    resources = merged["resources"]
    if (
        not isinstance(resources, list)
        or not resources
        or not all(isinstance(r, str) and r for r in resources)
    ):
        raise c.error("detection", "resources", "resources must be a non-empty list of names")
    nums = {
        k: c.number("detection", k, merged[k])
        for k in ("learning_days", "history_days", "realert_after_hours", "sample_ids")
    }
    for k in ("learning_days", "history_days", "sample_ids"):
        if nums[k] != int(nums[k]) or nums[k] < 1:
            raise c.error("detection", k, f"{k} must be a whole number of at least 1")
    if nums["history_days"] < nums["learning_days"]:
        raise c.error("detection", "history_days", "history_days must be >= learning_days")
    esc = merged["escalate_at"]
    if (
        not isinstance(esc, list)
        or len(esc) != 2
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in esc)
        or not 1 <= esc[0] <= esc[1]
    ):
        raise c.error(
            "detection", "escalate_at", "escalate_at must be two scores [a, b] with 1 <= a <= b"
        )
    base = c.table(data, "baseline", "baseline")
    c.unknown("baseline", base, set(_BASELINE))
    baseline = {k: c.number("baseline", k, base.get(k, v)) for k, v in _BASELINE.items()}
    if not 0 < baseline["quantile"] < 1:
        raise c.error("baseline", "quantile", "quantile must be between 0 and 1")
    for k in ("margin", "surge_cap", "false_positive_factor"):
        if baseline[k] < 1:
            raise c.error("baseline", k, f"{k} must be at least 1")
    return Rules(
        source=source,
        resources=frozenset(resources),
        learning_days=int(nums["learning_days"]),
        history_days=int(nums["history_days"]),
        realert_after=timedelta(hours=nums["realert_after_hours"]),
        escalate_at=(float(esc[0]), float(esc[1])),
        sample_ids=int(nums["sample_ids"]),
        baseline=baseline,
        rules=_build_rules(c, c.table(data, "rules", "rules")),
    )


def _build_rules(c: _Checker, given: Mapping[str, Any]) -> dict[str, Rule]:
    c.unknown("rules", given, set(_RULES))
    out: dict[str, Rule] = {}
    for name, (severity, response, params) in _RULES.items():
        table = f"rules.{name}"
        spec = c.table(given, name, table)
        renamed = _RENAMED.get(name, {})
        if any(old in spec for old in renamed):
            spec = dict(spec)
            for old, new in renamed.items():
                if old in spec:
                    value = spec.pop(old)
                    spec.setdefault(new, value)
        known = {"enabled", "severity", "response", *params}
        if name == "volume":
            known.add("limits")
        c.unknown(table, spec, known)
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise c.error(table, "enabled", "enabled must be true or false")
        sev = spec.get("severity", severity)
        if sev not in SEVERITIES:
            raise c.error(
                table, "severity", f"severity must be one of {', '.join(SEVERITIES)} (got {sev!r})"
            )
        resp = spec.get("response", response)
        if resp is not None and resp not in RESPONSES:
            raise c.error(
                table, "response", f"response must be one of {', '.join(RESPONSES)} (got {resp!r})"
            )
        values = {k: c.number(table, k, spec.get(k, v)) for k, v in params.items()}
        for k in ("window_seconds", "window_minutes", "days", "sequential_run", "denied"):
            if k in values and values[k] < 1:
                raise c.error(table, k, f"{k} must be at least 1")
        if "alpha" in values and not 0 < values["alpha"] < 1:
            raise c.error(table, "alpha", "alpha must be between 0 and 1")
        if "threshold_factor" in values and not 0 < values["threshold_factor"] <= 1:
            raise c.error(table, "threshold_factor", "threshold_factor must be in (0, 1]")
        limits: dict[str, float] = {}
        if name == "volume":
            raw = spec.get("limits", {})
            if not isinstance(raw, dict):
                raise c.error(table, "limits", "limits must be a table of action = records")
            limits = {k: c.number(f"{table}.limits", k, v) for k, v in raw.items()} or {}
            limits = {**_VOLUME_LIMITS, **limits}
        out[name] = Rule(name, sev, enabled, resp, values, limits)
    return out
