"""One error hierarchy for both doors: every project error knows its exit code (the CLI)
and its HTTP status (the API), in every room, including errors added later."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import access.errors
import alerts.errors
import audit.errors
import backup.errors
import crm_models.errors
import crmguard.errors
from crmguard.cli.common import exit_code_of, is_project_error

BASES: tuple[type[Exception], ...] = (
    crmguard.errors.CrmguardError,
    access.errors.AccessError,
    audit.errors.AuditError,
    backup.errors.BackupError,
    crm_models.errors.CRMError,
    alerts.errors.AlertsError,
)


def _load_every_module() -> None:
    """Import every module of the rooms so that every error class is defined."""
    for package in ("crm_models", "access", "audit", "alerts", "backup", "crmguard"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _subclasses(base: type) -> list[type]:
    found = [base]
    for sub in base.__subclasses__():
        found += _subclasses(sub)
    return found


def test_every_project_error_has_an_exit_code_and_an_http_status() -> None:
    _load_every_module()
    classes = {cls for base in BASES for cls in _subclasses(base)}
    assert len(classes) > 30  # the walk found the rooms' errors, not just the bases
    for cls in classes:
        assert cls.exit_code in (1, 2), cls  # type: ignore[attr-defined]
        status = cls.http_status  # type: ignore[attr-defined]
        assert isinstance(status, int) and 400 <= status <= 599, cls


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (crm_models.errors.RecordNotFound("contact", 3), 404, 2),
        (crmguard.errors.UnknownUser("ghost"), 404, 2),
        (access.errors.RestrictionNotFound(9), 404, 2),
        (backup.errors.BackupNotFound("b1"), 404, 2),
        (alerts.errors.AlertNotFound(4), 404, 2),
        (backup.errors.BackupCorrupt("bad chunk"), 500, 1),
        (backup.errors.StoreUnavailable("bucket down"), 503, 2),
        (crmguard.errors.HomeExists("here"), 409, 2),
        (alerts.errors.AlertStateError("already resolved"), 409, 2),
        (crmguard.errors.DatabaseUnavailable("down"), 503, 2),
        (audit.errors.LedgerWriteError("disk full"), 503, 2),
        (access.errors.UnknownAction("fly", ["view"]), 400, 2),
        (crm_models.errors.UnknownField("contact", "salary"), 400, 2),
    ],
)
def test_statuses_say_what_happened(error: Exception, status: int, code: int) -> None:
    assert error.http_status == status  # type: ignore[attr-defined]
    assert exit_code_of(error) == code
    assert is_project_error(error)


def test_the_service_errors_answer_as_the_api_needs() -> None:
    from crmguard.service import AccessDenied, ExportLimitExceeded, InvalidInput, PageTooLarge
    from crmguard.service.errors import MaskedFieldQuery, ReadBudgetExceeded

    denied = AccessDenied("rep", "view", "contact", "not in scope")
    assert (denied.http_status, exit_code_of(denied)) == (403, 1)
    assert ExportLimitExceeded("rep", "contact", 100).http_status == 403
    assert MaskedFieldQuery("rep", "list", "contact", ("phone",)).http_status == 403
    budget = ReadBudgetExceeded(
        "rep", "list", "contact", budget=10, used=10, requested=5, until=None
    )
    assert (budget.http_status, exit_code_of(budget)) == (429, 1)
    assert InvalidInput("no field 'x'").http_status == 422
    assert PageTooLarge(1000, 500).http_status == 400


def test_other_errors_are_not_taken_for_ours() -> None:
    class Lookalike(Exception):
        exit_code = 0
        http_status = 200

    assert not is_project_error(Lookalike())
    assert exit_code_of(Lookalike()) == 2
    assert not is_project_error(KeyError("contact_id"))
