"""S3 (or any S3-compatible service) as a store, through boto3.

Large objects go up as multipart uploads with retries; a run that dies midway leaves a
multipart upload behind, which :meth:`S3Store.cleanup_incomplete` aborts at the start
of the next run. Object Lock retention, server-side encryption and the storage class
are passed through when configured; a locked object is reported, never forced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from backup.errors import StoreError, StoreUnavailable
from backup.interface import ObjectInfo, Progress, Store, no_progress

PART_SIZE = 16 * 1024 * 1024


def make_s3_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    attempts: int = 4,
    connect_timeout: float = 5.0,
) -> Any:
    """A boto3 S3 client with standard retries and bounded timeouts."""
    config = Config(
        retries={"max_attempts": attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=60,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
    )


def _unavailable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError | HTTPClientError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class S3Store(Store):
    """Objects live under ``prefix`` in ``bucket``."""

    name = "s3"

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "crmguard/",
        sse: str | None = None,
        storage_class: str | None = None,
        lock_days: int | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.sse = sse
        self.storage_class = storage_class
        self.lock_days = lock_days
        self._bucket_locks: bool | None = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _fail(self, exc: BaseException, what: str) -> StoreError:
        if _unavailable(exc):
            return StoreUnavailable(f"S3 unreachable ({self.describe()}) while {what}")
        return StoreError(f"S3 refused {what} in {self.describe()}: {exc}")

    def bucket_locks(self) -> bool:
        """Whether the bucket has Object Lock on (asked once). Such a bucket may apply a
        default retention to every write, and S3 then refuses writes without a checksum
        header, even when crmguard sets no lock days of its own."""
        if self._bucket_locks is None:
            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
                state = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._bucket_locks = state == "Enabled"
            except ClientError as exc:
                # Not configured: no lock. Not allowed to ask: send the checksum anyway,
                # S3 accepts it on every write.
                code = exc.response.get("Error", {}).get("Code", "")
                self._bucket_locks = code in ("AccessDenied", "403")
            except BotoCoreError as exc:
                raise self._fail(exc, "reading the bucket's Object Lock setting") from None
        return self._bucket_locks

    def _extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.sse:
            extra["ServerSideEncryption"] = self.sse
        if self.storage_class:
            extra["StorageClass"] = self.storage_class
        if self.lock_days or self.bucket_locks():
            # S3 demands a checksum header on writes that carry a retention period.
            extra["ChecksumAlgorithm"] = "SHA256"
        if self.lock_days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self.lock_days)
        return extra

    def put_file(self, key: str, path: Path, progress: Progress = no_progress) -> None:
        config = TransferConfig(
            multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=4
        )
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                self.prefix + key,
                ExtraArgs=self._extra(),
                Config=config,
                Callback=progress,
            )
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            raise self._fail(exc, f"uploading {key}") from None

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, **self._extra()
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, f"writing {key}") from None

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        try:
            out = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, f"reading {key}") from None
        return cast(AbstractContextManager[BinaryIO], closing(out["Body"]))

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as body:
            try:
                return body.read()
            except BotoCoreError as exc:
                raise self._fail(exc, f"reading {key}") from None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for obj in page.get("Contents", []):
                    key = obj["Key"][len(self.prefix) :]
                    yield ObjectInfo(key=key, size=int(obj["Size"]))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, "listing backups") from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, f"deleting {key}") from None

    def locked_until(self, key: str) -> datetime | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, f"reading the retention of {key}") from None
        until = head.get("ObjectLockRetainUntilDate")
        if isinstance(until, datetime) and until > datetime.now(UTC):
            return until
        return None

    def cleanup_incomplete(self) -> int:
        try:
            out = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
            uploads = out.get("Uploads", [])
            for upload in uploads:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc, "aborting stale multipart uploads") from None
        return len(uploads)
