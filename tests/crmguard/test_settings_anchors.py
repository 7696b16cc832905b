"""Anchor settings: on by default beside the keys; TOML and CRMGUARD_ANCHOR_* override."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmguard.errors import SettingsError
from crmguard.settings import Settings


def test_defaults(tmp_path: Path) -> None:
    a = Settings.load(tmp_path, env={}).anchors
    assert a.file == tmp_path / "anchors" / "ledger-anchors.jsonl"
    assert (a.every, a.seconds, a.s3_bucket, a.syslog) == (1000, 60.0, None, None)


def test_toml_and_environment(tmp_path: Path) -> None:
    (tmp_path / "crmguard.toml").write_text(
        '[anchors]\nfile = "/mnt/other/a.jsonl"\nevery = 500\ns3_bucket = "locked"\n'
    )
    a = Settings.load(tmp_path, env={"CRMGUARD_ANCHOR_SECONDS": "5"}).anchors
    assert (a.file, a.every, a.seconds, a.s3_bucket) == (
        Path("/mnt/other/a.jsonl"),
        500,
        5.0,
        "locked",
    )
    env = {"CRMGUARD_ANCHOR_EVERY": "0"}
    with pytest.raises(SettingsError, match="anchors every must be positive"):
        Settings.load(tmp_path, env=env)
    with pytest.raises(SettingsError, match="must be a number"):
        Settings.load(tmp_path, env={"CRMGUARD_ANCHOR_SECONDS": "soon"})
