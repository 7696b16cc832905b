"""``crmguard contacts history``: old and new values, masked where view masks, recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmguard.app import open_app
from crmguard.service import RequestContext
from crmguard.settings import Settings
from tests.e2e.cli import run


@pytest.fixture(scope="module")
def changed_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A small demo home where the departing manager overwrote a client's phone."""
    home = tmp_path_factory.mktemp("history")
    result = run(home, "init", "--demo", "--seed", "7", "--days", "1", "--contacts", "100")
    assert result.returncode == 0, result.stderr
    app = open_app(Settings.load(home, env={}))
    try:
        manager = app.crm.principal("kjell.sorensen")
        ctx = RequestContext(principal=manager, channel="cli")
        contact = app.crm.list(ctx, "contact", page_size=1).items[0]
        app.crm.update(ctx, "contact", contact["id"], {"phone": "+47 11 111 111", "city": "Bergen"})
    finally:
        app.close()
    return home, contact


def test_history_json_for_someone_who_may_see_everything(
    changed_home: tuple[Path, dict[str, object]],
) -> None:
    home, before = changed_home
    result = run(home, "contacts", "history", str(before["id"]), "--as", "henrik.hansen", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["exists"] is True and data["masked_fields"] == []
    change = data["entries"][-1]
    assert change["actor"] == "kjell.sorensen" and change["action"] == "update"
    assert change["changes"]["phone"] == {"old": before["phone"], "new": "+47 11 111 111"}


def test_history_masks_phone_for_support_and_hides_from_other_teams(
    changed_home: tuple[Path, dict[str, object]],
) -> None:
    home, before = changed_home
    cid = str(before["id"])
    result = run(home, "contacts", "history", cid, "--as", "ximena.ferreira", "--json")
    assert result.returncode == 0, result.stderr
    change = json.loads(result.stdout)["entries"][-1]["changes"]
    assert change["phone"] == {"old": "[masked]", "new": "[masked]"}
    assert change["city"]["new"] == "Bergen"
    assert str(before["phone"]) not in result.stdout
    table = run(home, "contacts", "history", cid, "--as", "ximena.ferreira")
    assert table.returncode == 0 and "[masked]" in table.stdout  # printed as text, not markup

    outsider = run(home, "contacts", "history", cid, "--as", "hassan.hamdan")
    assert outsider.returncode == 2 and f"contact {cid} not found" in outsider.stderr
    log = run(home, "audit", "log", "--record", f"contact:{cid}", "--json")
    assert log.returncode == 0, log.stderr
    events = [json.loads(line) for line in log.stdout.splitlines()]
    reads = [e for e in events if e["action"] == "view"]
    assert {(e["actor"], e["outcome"]) for e in reads} >= {
        ("ximena.ferreira", "allowed"),
        ("hassan.hamdan", "denied"),
    }


def test_activity_per_day_within_the_readers_scope(
    changed_home: tuple[Path, dict[str, object]],
) -> None:
    """``audit activity``: the manager's day of views and the update, counted; a reader
    with their own scope sees none of another user's days."""
    home, _ = changed_home
    result = run(home, "audit", "activity", "kjell.sorensen", "--json")
    assert result.returncode == 0, result.stderr
    days = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"update", "list"} <= {d["action"] for d in days}
    assert all(d["events"] >= 1 and d["day"][:2] == "20" for d in days)
    table = run(home, "audit", "activity", "kjell.sorensen", "--since", "2000-01-01")
    assert table.returncode == 0 and "update" in table.stdout
    own = run(home, "audit", "activity", "kjell.sorensen", "--as", "ximena.ferreira", "--json")
    assert own.returncode == 0 and own.stdout == ""
    assert "no events of kjell.sorensen in your ledger scope" in own.stderr
    bad = run(home, "audit", "activity", "kjell.sorensen", "--since", "yesterday")
    assert bad.returncode == 2 and "--since 'yesterday' is not a time" in bad.stderr
