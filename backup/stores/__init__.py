"""Backup stores: a local folder and S3 (or any S3-compatible service)."""

from backup.stores.local import LocalStore
from backup.stores.s3 import S3Store, make_s3_client

__all__ = ["LocalStore", "S3Store", "make_s3_client"]
