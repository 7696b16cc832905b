"""Reload and the file watcher: edits take effect; malformed edits keep the last good policy."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from access_helpers import principal, write_policy

from access import AccessControl, PolicyError, watch_policies

V1 = "p, rep, contact, view, own, allow\n"
V2 = "p, rep, contact, view, team, allow\n"
BROKEN = "p, rep, contact, veiw, own, allow\n"


def wait_for(predicate: object, deadline: float = 10.0) -> bool:
    """Poll until ``predicate()`` holds or the deadline passes (no timing assertion)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_reload_applies_edit(policy_dir: Path) -> None:
    write_policy(policy_dir, V1)
    control = AccessControl.from_dir(policy_dir)
    assert control.decide(principal("rep"), "view", "contact").scope == "own"
    write_policy(policy_dir, V2)
    control.reload()
    assert control.decide(principal("rep"), "view", "contact").scope == "team"
    assert control.version == 2


def test_malformed_reload_raises_and_keeps_last_good(policy_dir: Path) -> None:
    write_policy(policy_dir, V1)
    control = AccessControl.from_dir(policy_dir)
    path = write_policy(policy_dir, "# edited\n" + BROKEN)
    with pytest.raises(PolicyError, match=rf"{path} line 2: unknown action 'veiw'"):
        control.reload()
    d = control.decide(principal("rep"), "view", "contact")
    assert (d.allowed, d.scope) == (True, "own")
    assert control.version == 1
    (policy_dir / "model.conf").write_text("garbage")
    with pytest.raises(PolicyError):
        control.reload()
    assert control.decide(principal("rep"), "view", "contact").scope == "own"


def test_no_good_policy_ever_means_no_access_control(policy_dir: Path) -> None:
    write_policy(policy_dir, BROKEN)
    with pytest.raises(PolicyError):
        AccessControl.from_dir(policy_dir)


def test_watcher_picks_up_edit_and_reports_bad_one(policy_dir: Path) -> None:
    write_policy(policy_dir, V1)
    control = AccessControl.from_dir(policy_dir)
    errors: list[Exception] = []
    reported = threading.Event()

    def on_error(exc: Exception) -> None:
        errors.append(exc)
        reported.set()

    rep = principal("rep")
    with watch_policies(control, on_error=on_error, debounce=0.05):
        write_policy(policy_dir, V2)
        assert wait_for(lambda: control.decide(rep, "view", "contact").scope == "team")
        write_policy(policy_dir, BROKEN)
        assert reported.wait(10)
        assert isinstance(errors[0], PolicyError) and "veiw" in str(errors[0])
        assert control.decide(rep, "view", "contact").scope == "team"  # last good stays
        # an editor's save-via-rename is seen too
        tmp = policy_dir / ".policy.csv.swp"
        tmp.write_text("p, rep, contact, view, all, allow\n")
        tmp.replace(policy_dir / "policy.csv")
        assert wait_for(lambda: control.decide(rep, "view", "contact").scope == "all")
    version = control.version
    write_policy(policy_dir, V1)
    time.sleep(0.3)  # after stop, edits are no longer picked up
    assert control.version == version
    assert control.decide(rep, "view", "contact").scope == "all"
