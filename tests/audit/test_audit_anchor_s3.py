"""Anchors in S3 (moto's server over HTTP): one object per anchor, under Object Lock
where the bucket has it; an unreachable endpoint or missing bucket holds the anchor
back until it is there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_helpers import KEY
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit import Anchorer, AnchorError, AnchorUnavailable, AuditEvent, Ledger, S3Anchors
from audit.anchor_s3 import make_client, parse_url
from audit.anchors import sign

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_one_object_per_anchor_with_object_lock(s3_endpoint: str) -> None:
    client = make_client(s3_endpoint)
    bucket = f"a-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    key = Ed25519PrivateKey.generate()
    store = S3Anchors(client, bucket, "ledger/", key.public_key(), retention_days=30)
    a1, a2 = sign(key, 1000, "a" * 64, NOW), sign(key, 2000, "b" * 64, NOW)
    store.publish(a1)
    store.publish(a2)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 2 and all(k.startswith("ledger/") for k in keys)
    head = client.head_object(Bucket=bucket, Key=keys[0])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
    versions = client.list_object_versions(Bucket=bucket, Prefix=keys[0])["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=keys[0], VersionId=versions[0]["VersionId"])
    assert S3Anchors(client, bucket, "ledger/").load(key.public_key()) == [a1, a2]
    with pytest.raises(AnchorError, match=f"s3://{bucket}/ledger/.*another ledger"):
        S3Anchors(client, bucket, "ledger/").load(Ed25519PrivateKey.generate().public_key())


def test_unreachable_then_back(s3_endpoint: str, engine: Engine, tmp_path: Path) -> None:
    client = make_client(s3_endpoint)
    bucket = f"a-{uuid.uuid4().hex[:12]}"  # not made yet: the store is not there
    key = Ed25519PrivateKey.generate()
    store = S3Anchors(client, bucket, "x/", key.public_key())
    anchorer = Anchorer(engine, key, [store], every=1000, seconds=3600)
    ledger = Ledger(engine, KEY, anchorer=anchorer)
    for i in range(5):
        ledger.append(AuditEvent("alice", "view", "contact", (i,)))
    anchorer.anchor_now()
    assert store.describe() in anchorer.pending()
    client.create_bucket(Bucket=bucket)
    ledger.close()  # the shutdown anchor also flushes what was held back
    assert anchorer.pending() == {}
    assert [a.seq for a in store.load(key.public_key())] == [5]


def test_a_closed_endpoint_is_unavailable_not_a_crash(closed_endpoint: str) -> None:
    key = Ed25519PrivateKey.generate()
    store = S3Anchors(make_client(closed_endpoint), "b", "x/", key.public_key())
    with pytest.raises(AnchorUnavailable, match="cannot write to s3://b/x/"):
        store.publish(sign(key, 1, "a" * 64, NOW))


def test_parse_url() -> None:
    assert parse_url("s3://bucket/some/prefix") == ("bucket", "some/prefix/")
    assert parse_url("s3://bucket") == ("bucket", "")
    with pytest.raises(AnchorError, match="names no bucket"):
        parse_url("s3:///x")
