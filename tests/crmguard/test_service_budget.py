"""Paging cannot walk past caps and freezes: bounded pages and a rolling read budget.

The budget is counted from the ledger (the caller's allowed list and search events of the
last 24 hours), so these tests move one clock shared by the service and the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from access import DEPARTING, EXPORTS_FROZEN, RESTRICTED_READ_BUDGET, add_restriction
from audit import Ledger, format_ts, load_key_file
from crmguard.service import GuardedCRM, PageTooLarge, ReadBudgetExceeded
from tests.crmguard.world import World


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crm(world: World, tmp_path: Path, clock: Clock) -> GuardedCRM:
    """The world's service with one clock for the service and the ledger."""
    ledger = Ledger(world.crm.engine, load_key_file(tmp_path / "keys" / "ledger.key"), clock)
    return GuardedCRM(world.crm.engine, world.crm.access, ledger, clock)


def _ctx(world: World, crm: GuardedCRM, username: str) -> object:
    from crmguard.service import RequestContext

    return RequestContext(principal=crm.principal(username), channel="api")


def test_page_size_is_bounded_and_the_refusal_recorded(world: World, crm: GuardedCRM) -> None:
    head = world.data.head_of_sales
    ctx = _ctx(world, crm, head)
    with pytest.raises(PageTooLarge, match="page size 20000 is above the limit of 500"):
        crm.list(ctx, "contact", page_size=20_000)  # type: ignore[arg-type]
    with pytest.raises(PageTooLarge):
        crm.search(ctx, "contact", "a", limit=501)  # type: ignore[arg-type]
    denied = list(crm.ledger.entries(actor=head, outcome="denied"))
    assert {e.action for e in denied} == {"list", "search"}
    assert all(e.details["reason"] == "page size above the limit" for e in denied)
    assert len(crm.list(ctx, "contact", page_size=500).items) == 500  # type: ignore[arg-type]


def test_list_and_search_stop_at_the_budget_until_rows_age_out(
    world: World, crm: GuardedCRM, clock: Clock
) -> None:
    support = world.data.support  # budget 2000 rows per 24 h in the shipped policy
    ctx = _ctx(world, crm, support)
    first = clock.now
    for n in range(4):
        assert len(crm.list(ctx, "contact", page_size=500).items) == 500  # type: ignore[arg-type]
        clock.now += timedelta(hours=1)
    # 2000 rows used: the next row is refused, by search as well as by list
    with pytest.raises(ReadBudgetExceeded) as info:
        crm.search(ctx, "contact", "a", limit=10)  # type: ignore[arg-type]
    frees = format_ts(first + timedelta(hours=24))
    message = str(info.value)
    assert "read budget of 2000 rows per 24 h reached (2000 used" in message
    assert f"more can be read from {frees}" in message
    with pytest.raises(ReadBudgetExceeded):
        crm.list(ctx, "contact", page_size=1)  # type: ignore[arg-type]
    denied = list(crm.ledger.entries(actor=support, outcome="denied"))
    assert len(denied) == 2
    assert denied[0].details["reason"] == "read budget exceeded"
    assert (denied[0].details["budget"], denied[0].details["used"]) == (2000, 2000)
    assert denied[0].details["until"] == frees and denied[0].count == 0
    # views are not lists: they still work
    some = crm.view(ctx, "contact", 1)  # type: ignore[arg-type]
    assert some["id"] == 1
    # a minute after the first page left the window, 500 rows are free again
    clock.now = first + timedelta(hours=24, minutes=1)
    assert len(crm.list(ctx, "contact", page_size=500).items) == 500  # type: ignore[arg-type]
    with pytest.raises(ReadBudgetExceeded):
        crm.list(ctx, "contact", page_size=1)  # type: ignore[arg-type]


def test_a_request_that_would_cross_the_budget_is_refused_whole(
    world: World, crm: GuardedCRM
) -> None:
    support = world.data.support
    ctx = _ctx(world, crm, support)
    for _ in range(3):
        crm.list(ctx, "contact", page_size=500)  # type: ignore[arg-type]
    crm.list(ctx, "contact", page_size=450)  # type: ignore[arg-type]  # 1950 used
    with pytest.raises(ReadBudgetExceeded, match=r"\(1950 used, this request returns 100\)"):
        crm.list(ctx, "contact", page_size=100)  # type: ignore[arg-type]
    assert len(crm.list(ctx, "contact", page_size=50).items) == 50  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [EXPORTS_FROZEN, DEPARTING])
def test_frozen_or_departing_users_get_a_small_budget(
    world: World, crm: GuardedCRM, clock: Clock, kind: str
) -> None:
    manager = world.data.departing
    with crm.engine.begin() as conn:
        add_restriction(conn, manager, kind, reason="test", created_by="sec", now=clock.now)
    ctx = _ctx(world, crm, manager)
    total = 0
    with pytest.raises(ReadBudgetExceeded, match=f"read budget of {RESTRICTED_READ_BUDGET} rows"):
        # paging on after the freeze hands out nothing more than the small budget
        for _ in range(100):
            total += len(crm.list(ctx, "contact", page_size=40).items)  # type: ignore[arg-type]
    assert RESTRICTED_READ_BUDGET - 40 < total <= RESTRICTED_READ_BUDGET
    denied = next(crm.ledger.entries(actor=manager, outcome="denied", newest_first=True))
    assert kind in denied.details["restrictions"]


def test_budget_counts_only_this_users_allowed_reads(world: World, crm: GuardedCRM) -> None:
    support, other = world.data.support, world.data.head_of_sales
    for _ in range(4):
        crm.list(_ctx(world, crm, other), "contact", page_size=500)  # type: ignore[arg-type]
    ctx = _ctx(world, crm, support)
    # another user's 2000 rows and a refused request do not count against support
    with pytest.raises(PageTooLarge):
        crm.list(ctx, "contact", page_size=5000)  # type: ignore[arg-type]
    assert len(crm.list(ctx, "contact", page_size=500).items) == 500  # type: ignore[arg-type]


def test_paging_a_whole_base_is_stopped(world: World, crm: GuardedCRM) -> None:
    """The old leak: a rep pages out everything a capped export would refuse."""
    rep = world.data.rep_same_team
    ctx = _ctx(world, crm, rep)
    step: Callable[[], int] = lambda: len(  # noqa: E731
        crm.list(ctx, "contact", page_size=500).items  # type: ignore[arg-type]
    )
    seen = step()
    assert seen > 0
    total = 0
    with pytest.raises(ReadBudgetExceeded):
        for _ in range(10_000):
            total += step()
    assert total <= 1000  # the sales_rep budget


def test_export_cap_message_names_the_options_that_narrow(world: World, tmp_path: Path) -> None:
    import io
    import shutil

    import policies
    from access import AccessControl
    from crmguard.service import ExportLimitExceeded

    target = tmp_path / "policies"
    shutil.copytree(policies.DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__*"))
    text = (
        (target / "policy.csv")
        .read_text()
        .replace("p3, head_of_sales, 5000, 5000", "p3, head_of_sales, 10, 5000")
        .replace("p3, sales_manager, 1000, 2000", "p3, sales_manager, 10, 2000")
    )
    (target / "policy.csv").write_text(text)
    world.crm.access = AccessControl.from_dir(target)
    ctx = world.ctx(world.data.head_of_sales)
    with pytest.raises(ExportLimitExceeded) as info:
        world.crm.export(ctx, "contact", io.StringIO())
    assert "narrow with --filter FIELD=VALUE or --search TEXT" in str(info.value)
    # and narrowing as the message says works: a filter and a search under the cap
    page = world.crm.list(ctx, "contact", page_size=1)
    one = page.items[0]
    out = io.StringIO()
    result = world.crm.export(
        ctx,
        "contact",
        out,
        fmt="jsonl",
        filters={"owner_id": one["owner_id"]},
        text=one["last_name"],
    )
    assert 1 <= result.count <= 10 and str(one["id"]) in out.getvalue()
    entry = next(world.crm.ledger.entries(action="export", outcome="allowed"))
    assert entry.details["filters"] == {"owner_id": one["owner_id"]}
    assert entry.details["text"] == one["last_name"]  # what was asked is evidence


def test_related_rows_a_view_includes_count_against_the_budget(
    world: World, crm: GuardedCRM, clock: Clock
) -> None:
    """Viewing company after company with --include contacts is paging in all but name."""
    head = world.data.head_of_sales
    with crm.engine.begin() as conn:
        add_restriction(conn, head, EXPORTS_FROZEN, reason="test", created_by="sec", now=clock.now)
    ctx = _ctx(world, crm, head)
    companies = [c["id"] for c in crm.list(ctx, "company", page_size=100).items]  # type: ignore[arg-type]
    shown = 0
    with pytest.raises(ReadBudgetExceeded):
        for company in companies:
            shown += len(crm.view(ctx, "company", company, ["contacts"]).get("contacts", []))  # type: ignore[arg-type]
    assert shown + 100 <= RESTRICTED_READ_BUDGET + 100  # the company list itself counted too
    assert shown <= RESTRICTED_READ_BUDGET
