"""alerts/rules.py: the shipped rules, validation with file and line, keep-last-good."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.errors import RulesError
from alerts.rules import DEFAULT_RULES_FILE, RulesHolder, load_rules, parse_rules


def test_shipped_file_spells_out_the_built_in_defaults() -> None:
    shipped = load_rules(None)
    built_in = parse_rules("", "<empty>")
    assert DEFAULT_RULES_FILE.exists()
    assert shipped.rules == built_in.rules
    assert shipped.baseline == built_in.baseline
    assert (shipped.learning_days, shipped.history_days) == (7, 28)
    assert shipped.rule("burst")["floor"] == 50
    assert shipped.rule("burst")["window_seconds"] == 60
    assert shipped.rule("departing")["lookback_days"] == 30
    assert shipped.rule("volume").limits["export"] == 5000


def test_values_override_defaults_per_rule(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[rules.burst]\nseverity = "critical"\nfloor = 80\nresponse = "freeze_exports"\n'
        "[rules.volume.limits]\nexport = 100\n"
        "[rules.drip]\nenabled = false\n"
    )
    rules = load_rules(path)
    burst = rules.rule("burst")
    assert (burst.severity, burst["floor"], burst.response) == ("critical", 80, "freeze_exports")
    assert burst["window_seconds"] == 60  # untouched keys keep their default
    assert rules.rule("volume").limits["export"] == 100
    assert rules.rule("volume").limits["view"] == 1000
    assert not rules.enabled("drip")
    assert rules.source == str(path)


def _error(text: str) -> RulesError:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "alerts.toml")
    return info.value


def test_toml_syntax_error_names_file_and_line() -> None:
    err = _error("[detection]\nlearning_days = 7\n\n[rules.burst\nfloor = 3\n")
    assert err.line == 4
    assert str(err).startswith("alerts.toml line 4: not valid TOML")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[rules.burst]\n# comment\nseverity = "loud"\n', 3, "severity must be one of"),
        ("[rules.probing]\nwindow_minutes = 10\ndenied = -1\n", 3, "must not be negative"),
        ('[rules.scraping]\nsequential_run = "many"\n', 2, "must be a number"),
        ("[rules.scraping]\nsequential_run = 2.5\n", 2, "whole number"),
        ('[rules.departing]\n\nresponse = "shout"\n', 3, "response must be one of"),
        ("[rules.burst]\nfloor = 50\nflor = 5\n", 3, "unknown key 'flor'"),
        ("[rules.bursts]\nfloor = 5\n", 1, "unknown key 'bursts'"),
        ("[detection]\nlearning_days = 30\nhistory_days = 14\n", 3, "history_days must be >="),
        ("[detection]\nescalate_at = [5, 2]\n", 2, "escalate_at"),
        ("[baseline]\nk = 4\nquantile = 1.5\n", 3, "quantile must be between"),
        ("[rules.departing]\nthreshold_factor = 2\n", 2, "threshold_factor"),
        ("[rules.volume.limits]\nexport = 10\nview = true\n", 3, "must be a number"),
        ("[rules]\nburst = 5\n", 2, "must be a table"),
    ],
)
def test_semantic_errors_name_the_line_of_the_key(text: str, line: int, words: str) -> None:
    err = _error(text)
    assert err.line == line, str(err)
    assert words in str(err)
    assert str(err).startswith(f"alerts.toml line {line}: ")


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"nope\.toml: file not found"):
        load_rules(tmp_path / "nope.toml")


def test_holder_keeps_the_last_good_rules_when_a_reload_fails(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text("[rules.burst]\nfloor = 80\n")
    holder = RulesHolder(path)
    assert holder.rules.rule("burst")["floor"] == 80
    path.write_text("[rules.burst]\nfloor = 120\n")
    assert holder.reload().rule("burst")["floor"] == 120
    path.write_text("[rules.burst]\nfloor = 120\nseverity = 3\n")
    with pytest.raises(RulesError, match="line 3"):
        holder.reload()
    assert holder.rules.rule("burst")["floor"] == 120  # still the last good rules
    path.write_text("[rules.burst]\nfloor = 200\n")
    assert holder.reload().rule("burst")["floor"] == 200


def test_a_home_file_from_the_previous_release_still_loads() -> None:
    """The drip rule's ``k`` became ``read_spreads``: an upgraded home's file keeps its value."""
    old = parse_rules('[rules.drip]\nseverity = "medium"\ndays = 3\nfloor = 1500\nk = 3.5\n')
    assert old.rule("drip")["read_spreads"] == 3.5
    both = parse_rules("[rules.drip]\nk = 3.5\nread_spreads = 2.0\n")
    assert both.rule("drip")["read_spreads"] == 2.0  # the new name wins
