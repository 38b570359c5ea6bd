"""The crc64 columns of objects and parts: stored and read back by both stores, and added to a
database made before they existed (rows from then read as None: no header is sent for them)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.support.stores import OpenStore

from ossutil.server.models import Bucket, MultipartUpload, ObjectMeta, PartRecord
from ossutil.server.storage.base import Store

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
TOP = 2**64 - 1  # does not fit a signed 64-bit integer column


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()


def test_object_and_part_crcs_round_trip(store: Store) -> None:
    store.create_bucket(Bucket("b", "1", "cn-hangzhou", "private", "Standard", T0))
    meta = ObjectMeta("b", "k", 3, '"E"', "text/plain", T0, "0" * 32, crc64=TOP)
    store.put_object(meta)
    assert store.get_object("b", "k") == meta
    store.put_object(ObjectMeta("b", "none", 0, '"E"', "text/plain", T0, "1" * 32))
    assert store.get_object("b", "none").crc64 is None  # type: ignore[union-attr]
    store.create_upload(MultipartUpload("U" * 32, "b", "m", T0, "text/plain"))
    part = PartRecord("U" * 32, 1, 5, '"P"', T0, "2" * 32, 12345)
    store.put_part(part)
    assert store.list_parts("U" * 32, 0, 10) == [part]


OLD_SCHEMA = """
CREATE TABLE buckets (
    name TEXT PRIMARY KEY, owner_id TEXT NOT NULL, region TEXT NOT NULL, acl TEXT NOT NULL,
    storage_class TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE objects (
    bucket TEXT NOT NULL REFERENCES buckets(name), key TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, content_type TEXT NOT NULL, last_modified TEXT NOT NULL,
    blob TEXT NOT NULL, user_meta TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (bucket, key));
CREATE TABLE multipart_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL, initiated TEXT NOT NULL, content_type TEXT NOT NULL,
    user_meta TEXT NOT NULL DEFAULT '');
CREATE TABLE multipart_parts (
    upload_id TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (upload_id, part_number));
INSERT INTO buckets VALUES ('b', '1', 'cn-hangzhou', 'private', 'Standard',
    '2025-01-02T03:04:05+00:00');
INSERT INTO objects VALUES ('b', 'old', 3, '"E"', 'text/plain', '2025-01-02T03:04:05+00:00',
    '00000000000000000000000000000000', '');
INSERT INTO multipart_uploads VALUES ('UP', 'b', 'm', '2025-01-02T03:04:05+00:00', 'x', '');
INSERT INTO multipart_parts VALUES ('UP', 1, 5, '"P"', '2025-01-02T03:04:05+00:00',
    '11111111111111111111111111111111');
"""


def test_sqlite_database_from_before_the_crc_columns_is_migrated(tmp_path: Path) -> None:
    from ossutil.server.storage.sqlite import SqliteStore

    path = tmp_path / "ossutil.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = SqliteStore(path)
    try:
        old = store.get_object("b", "old")
        assert old is not None and old.crc64 is None
        assert [p.crc64 for p in store.list_parts("UP", 0, 10)] == [None]
        store.put_object(ObjectMeta("b", "new", 1, '"E"', "x", T0, "2" * 32, crc64=TOP))
        assert store.get_object("b", "new").crc64 == TOP  # type: ignore[union-attr]
    finally:
        store.close()
    SqliteStore(path).close()  # a second start finds the columns and adds nothing
