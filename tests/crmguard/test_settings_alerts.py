"""crmguard/settings_alerts.py: the [alerts] section, checked when the settings load."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmguard.errors import SettingsError
from crmguard.settings import SETTINGS_FILE, Settings


def _load(tmp_path: Path, text: str) -> Settings:
    (tmp_path / SETTINGS_FILE).write_text(text)
    return Settings.load(tmp_path, env={})


def test_defaults_without_a_section(tmp_path: Path) -> None:
    a = Settings.load(tmp_path, env={}).alerts
    assert (a.poll_interval, a.retry_base_seconds, a.retry_max_seconds) == (0.1, 5.0, 3600.0)
    assert a.channels == {}


def test_channels_are_kept_as_written(tmp_path: Path) -> None:
    a = _load(
        tmp_path,
        '[alerts]\npoll_interval = 0.2\n[alerts.channels.f]\ntype = "file"\npath = "x"\n',
    ).alerts
    assert a.poll_interval == 0.2
    assert a.channels == {"f": {"type": "file", "path": "x"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[alerts]\npoll = 1\n", r"\[alerts\] poll: unknown setting"),
        ('[alerts]\npoll_interval = "1"\n', r"poll_interval must be a number of seconds"),
        ("[alerts]\npoll_interval = 0\n", r"poll_interval must be between 0.01 and 10"),
        ("[alerts]\nchannels = 3\n", r"\[alerts.channels\] must hold one table per channel"),
        ("[alerts.channels]\nmail = 1\n", r"must hold one table per channel"),
        ("alerts = 1\n", r"\[alerts\] in crmguard.toml must be a table"),
    ],
)
def test_malformed_sections_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        _load(tmp_path, text)
    assert "\n" not in str(info.value)
