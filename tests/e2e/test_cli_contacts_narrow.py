"""``contacts list`` and ``contacts export`` narrow with the same --filter and --search."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli import run


def _users(demo_users: dict[str, dict[str, object]], role: str) -> list[str]:
    return [n for n, u in demo_users.items() if role in u["roles"] and u["active"]]  # type: ignore[operator]


def test_filter_and_search_narrow_list_and_export_alike(
    demo_home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    head = _users(demo_users, "head_of_sales")[-1]
    first = run(demo_home, "contacts", "list", "--as", head, "--json", "--page-size", "1")
    assert first.returncode == 0, first.stderr
    city = json.loads(first.stdout)["items"][0]["city"]
    listed = run(
        demo_home,
        "contacts",
        "list",
        "--as",
        head,
        "--json",
        "--filter",
        f"city={city}",
        "--page-size",
        "500",
    )
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert page["items"] and {r["city"] for r in page["items"]} == {city}
    exported = run(
        demo_home,
        "contacts",
        "export",
        "--as",
        head,
        "--format",
        "jsonl",
        "--filter",
        f"city={city}",
    )
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {r["id"] for r in rows} >= {r["id"] for r in page["items"]}
    assert {r["city"] for r in rows} == {city} and len(rows) == page["total"]
    owner = str(rows[0]["owner_id"])
    both = run(
        demo_home,
        "contacts",
        "export",
        "--as",
        head,
        "--format",
        "jsonl",
        "--filter",
        f"city={city}",
        "--filter",
        f"owner_id={owner}",
        "--search",
        rows[0]["last_name"],
    )
    assert both.returncode == 0, both.stderr
    narrowed = [json.loads(line) for line in both.stdout.splitlines()]
    assert rows[0]["id"] in {r["id"] for r in narrowed}
    assert all(str(r["owner_id"]) == owner and r["city"] == city for r in narrowed)
    searched = run(
        demo_home, "contacts", "list", "--as", head, "--json", "--search", rows[0]["last_name"]
    )
    assert rows[0]["id"] in {r["id"] for r in json.loads(searched.stdout)["items"]}


def test_masked_filter_bad_filter_and_oversized_page(
    demo_home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    support = _users(demo_users, "support")[0]
    masked = run(demo_home, "contacts", "list", "--as", support, "--filter", "phone=+44")
    assert masked.returncode == 1
    assert "phone is masked for this user and cannot be filtered or sorted on" in masked.stderr
    for bad, message in (
        ("nosuch=1", "contact has no field 'nosuch' to filter on"),
        ("owner_id=abc", "owner_id takes a whole number"),
        ("city", "is not FIELD=VALUE"),
    ):
        result = run(demo_home, "contacts", "list", "--as", support, "--filter", bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    big = run(demo_home, "contacts", "list", "--as", support, "--page-size", "20000")
    assert big.returncode == 2
    assert "page size 20000 is above the limit of 500 rows" in big.stderr
