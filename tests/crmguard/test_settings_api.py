"""The [api] and [auth] settings: safe defaults, and a wrong value named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmguard.errors import SettingsError
from crmguard.settings import Settings


def _load(tmp_path: Path, toml: str) -> Settings:
    (tmp_path / "crmguard.toml").write_text(toml)
    return Settings.load(tmp_path, env={})


def test_defaults(tmp_path: Path) -> None:
    api = Settings.load(tmp_path, env={}).api
    assert api.max_body_bytes == 1024 * 1024 and api.trusted_proxies == ()
    assert api.require_totp_for == frozenset()


def test_values_are_read(tmp_path: Path) -> None:
    s = _load(
        tmp_path,
        '[api]\ntrusted_proxies = ["10.0.0.0/8"]\nmax_body_bytes = 2048\n'
        '[auth]\nrequire_totp_for = ["owner", "admin"]\nmax_failures_per_user = 3\n',
    )
    assert s.api.trusted_proxies == ("10.0.0.0/8",) and s.api.max_body_bytes == 2048
    assert s.api.require_totp_for == {"owner", "admin"} and s.api.max_failures_per_user == 3


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ("[api]\nmax_body_bytes = -1\n", "max_body_bytes"),
        ("[api]\nmax_body_bytes = true\n", "max_body_bytes"),
        ('[api]\ntrusted_proxies = ["proxy.local"]\n', "trusted_proxies"),
        ('[auth]\nrequire_totp_for = ["sales_rep"]\n', "require_totp_for"),
        ('[auth]\nsession_idle_minutes = "30"\n', "session_idle_minutes"),
    ],
)
def test_wrong_values_name_their_key(tmp_path: Path, toml: str, names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        _load(tmp_path, toml)
