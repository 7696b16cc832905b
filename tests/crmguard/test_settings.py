"""Settings: defaults, the settings file, environment overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from backup import DEFAULT_ZSTD_LEVEL
from crmguard.errors import SettingsError
from crmguard.settings import SETTINGS_FILE, Settings


def test_defaults_are_the_embedded_ones(tmp_path: Path) -> None:
    s = Settings.load(tmp_path, env={})
    assert s.embedded
    assert s.backup.zstd_level == DEFAULT_ZSTD_LEVEL
    assert s.backup.s3_bucket is None


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('[backup]\nzstd_level = 5\ns3_bucket = "from-file"\n')
    s = Settings.load(tmp_path, env={"CRMGUARD_BACKUP_ZSTD_LEVEL": "7"})
    assert s.backup.zstd_level == 7
    assert s.backup.s3_bucket == "from-file"


@pytest.mark.parametrize("level", ["23", "-8", "fast"])
def test_bad_zstd_level_is_named(tmp_path: Path, level: str) -> None:
    with pytest.raises(SettingsError, match=level):
        Settings.load(tmp_path, env={"CRMGUARD_BACKUP_ZSTD_LEVEL": level})


def test_malformed_settings_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text("[backup\nzstd_level = 5\n")
    with pytest.raises(SettingsError, match=SETTINGS_FILE):
        Settings.load(tmp_path, env={})
