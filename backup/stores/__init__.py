"""Backup stores: a local folder and S3 (or any S3-compatible service)."""

from typing import TYPE_CHECKING, Any

from backup.stores.local import LocalStore

if TYPE_CHECKING:
    from backup.stores.s3 import S3Store, make_s3_client


def __getattr__(name: str) -> Any:
    """The S3 store loads boto3 (a fifth of a second): only for those who use it."""
    if name in {"S3Store", "make_s3_client"}:
        import importlib

        return getattr(importlib.import_module("backup.stores.s3"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LocalStore", "S3Store", "make_s3_client"]
