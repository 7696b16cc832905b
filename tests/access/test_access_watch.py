"""The watcher reports every reload, taken or rejected, with the files' hash and version."""

from __future__ import annotations

import threading
from pathlib import Path

from access_helpers import write_policy

from access import AccessControl, PolicyReload, policy_hash, watch_policies

GOOD = "p, rep, contact, view, team, allow\n"
BROKEN = "p, rep, contact, veiw, own, allow\n"


def test_every_reload_is_reported_with_hash_and_version(policy_dir: Path) -> None:
    write_policy(policy_dir, "p, rep, contact, view, own, allow\n")
    control = AccessControl.from_dir(policy_dir)
    reloads: list[PolicyReload] = []
    heard = threading.Event()

    def on_reload(reload: PolicyReload) -> None:
        reloads.append(reload)
        heard.set()

    with watch_policies(control, debounce=0.05, on_reload=on_reload):
        write_policy(policy_dir, BROKEN)
        assert heard.wait(10)
        broken_hash = policy_hash(policy_dir)
        heard.clear()
        write_policy(policy_dir, GOOD)
        assert heard.wait(10)
    rejected, taken = reloads[0], reloads[-1]
    assert not rejected.ok and rejected.version == 1 and "veiw" in (rejected.error or "")
    assert rejected.file_hash == broken_hash
    assert rejected.details() == {
        "file_hash": broken_hash,
        "version": 1,
        "error": rejected.error,
    }
    assert taken.ok and taken.version == control.version >= 2 and taken.error is None
    assert taken.file_hash == policy_hash(policy_dir) != broken_hash
    assert set(taken.details()) == {"file_hash", "version"}


def test_a_failing_reporter_does_not_stop_the_watch(policy_dir: Path) -> None:
    control = AccessControl.from_dir(policy_dir)
    calls: list[PolicyReload] = []
    second = threading.Event()

    def on_reload(reload: PolicyReload) -> None:
        calls.append(reload)
        if len(calls) > 1:
            second.set()
        raise RuntimeError("ledger unavailable")

    with watch_policies(control, debounce=0.05, on_reload=on_reload):
        write_policy(policy_dir, GOOD)
        # wait for the first report before the next edit, so the two are not debounced into one
        for _ in range(500):
            if calls:
                break
            second.wait(0.02)
        write_policy(policy_dir, "p, rep, contact, view, all, allow\n")
        assert second.wait(10)
    assert all(r.ok for r in calls)


def test_hash_changes_with_either_file(policy_dir: Path) -> None:
    before = policy_hash(policy_dir)
    (policy_dir / "model.conf").write_text((policy_dir / "model.conf").read_text() + "\n")
    assert policy_hash(policy_dir) != before
