"""Anchors in an S3 bucket: one object per anchor, under Object Lock where the bucket has it.

With a bucket in compliance-mode Object Lock not even the bucket's owner can delete or
overwrite an anchor before its retention ends, which is what makes this the anchor to
use when the database and the machine share one administrator. boto3 is imported here,
when a bucket is configured, never at start-up.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.anchors import Anchor, AnchorStore, check_header, dumps, header, parse_anchor
from audit.errors import AnchorError, AnchorUnavailable

DEFAULT_RETENTION_DAYS = 3650


def make_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 S3 client with bounded retries and timeouts (an outage must not hang appends)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=3,
        read_timeout=10,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
    )


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix ending in ``/`` or empty)."""
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise AnchorError(f"{url!r} names no bucket; expected s3://BUCKET/PREFIX")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


class S3Anchors(AnchorStore):
    """Anchors as objects ``PREFIX/0000000000000001000-<sig>.json`` in ``bucket``."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "crmguard-anchors/",
        public: Ed25519PublicKey | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._public = public
        self.retention_days = retention_days
        self._locks: bool | None = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def _bucket_locks(self) -> bool:
        if self._locks is None:
            from botocore.exceptions import ClientError

            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
                state = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._locks = state == "Enabled"
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in ("NoSuchBucket",):
                    raise
                self._locks = False
        return self._locks

    def publish(self, anchor: Anchor) -> None:
        if self._public is None:
            raise AnchorError("S3 anchors need the signer's public key to be written")
        body = dumps({**header(self._public), "anchor": anchor.to_json()}).encode()
        key = f"{self.prefix}{anchor.seq:020d}-{anchor.signature[:16]}.json"
        try:
            extra: dict[str, Any] = {}
            if self._bucket_locks():
                extra = {
                    "ChecksumAlgorithm": "SHA256",
                    "ObjectLockMode": "COMPLIANCE",
                    "ObjectLockRetainUntilDate": datetime.now(UTC)
                    + timedelta(days=self.retention_days),
                }
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", **extra
            )
        except self._errors() as exc:
            raise AnchorUnavailable(
                f"cannot write to {self.describe()}: {str(exc).splitlines()[0]}"
            ) from None

    def load(self, trusted: Ed25519PublicKey) -> list[Anchor]:
        anchors: list[Anchor] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
            for key in sorted(keys):
                where = f"s3://{self.bucket}/{key}"
                raw = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                try:
                    doc = json.loads(raw)
                except ValueError:
                    raise AnchorError(f"{where} is corrupt: not JSON") from None
                check_header(doc, trusted, where)
                anchors.append(parse_anchor(json.dumps(doc.get("anchor")), trusted, where))
        except self._errors() as exc:
            raise AnchorError(
                f"cannot read {self.describe()}: {str(exc).splitlines()[0]}"
            ) from None
        return anchors
