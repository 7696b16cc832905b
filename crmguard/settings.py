"""Settings: one home directory, a TOML file inside it, and environment overrides.

Defaults come from one constructor (:meth:`Settings.load`) so that the CLI, the daemon,
tests and the demo all agree on where things live.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmguard.errors import SettingsError
from crmguard.settings_alerts import AlertSettings
from crmguard.settings_anchors import AnchorSettings
from crmguard.settings_api import ApiSettings
from crmguard.settings_backup import BackupSettings

SETTINGS_FILE = "crmguard.toml"
DEFAULT_HOME = Path.home() / ".crmguard"


@dataclass(frozen=True)
class Settings:
    """Everything the shell needs to know to compose the rooms."""

    home: Path
    database_url: str
    policy_dir: Path
    mac_key_file: Path
    signing_key_file: Path
    backup: BackupSettings
    anchors: AnchorSettings
    log_level: str = "warning"
    alerts: AlertSettings = field(default_factory=AlertSettings)
    api: ApiSettings = field(default_factory=ApiSettings)

    @property
    def settings_file(self) -> Path:
        return self.home / SETTINGS_FILE

    @property
    def embedded(self) -> bool:
        """True when the database is the embedded SQLite file in the home."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(cls, home: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Resolve the home (argument, ``CRMGUARD_HOME``, ``~/.crmguard``) and read settings."""
        env = os.environ if env is None else env
        home_path = Path(home or env.get("CRMGUARD_HOME") or DEFAULT_HOME).expanduser()
        home_path = home_path.absolute()
        data = _read_toml(home_path / SETTINGS_FILE)
        database = _section(data, "database")
        policies = _section(data, "policies")
        keys = _section(data, "keys")
        url = env.get("CRMGUARD_DATABASE_URL") or database.get("url")
        if not url:
            url = f"sqlite:///{home_path / 'crmguard.db'}"
        policy_dir = env.get("CRMGUARD_POLICY_DIR") or policies.get("dir")
        return cls(
            home=home_path,
            database_url=str(url),
            policy_dir=Path(policy_dir) if policy_dir else home_path / "policies",
            mac_key_file=Path(keys.get("ledger_mac", home_path / "keys" / "ledger.key")),
            signing_key_file=Path(keys.get("checkpoint", home_path / "keys" / "checkpoint.key")),
            backup=BackupSettings.from_sources(home_path, _section(data, "backup"), env),
            anchors=AnchorSettings.from_sources(home_path, _section(data, "anchors"), env),
            log_level=str(env.get("CRMGUARD_LOG_LEVEL") or data.get("log_level", "warning")),
            alerts=AlertSettings.from_section(_section(data, "alerts")),
            api=ApiSettings.from_sections(_section(data, "api"), _section(data, "auth")),
        )


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise SettingsError(f"[{name}] in {SETTINGS_FILE} must be a table")
    return value
