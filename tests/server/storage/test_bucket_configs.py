"""The buckets' website, cors and referer columns (issue 12): stored, replaced and removed by
``set_bucket_config`` in both stores, each change counted in ``bucket_version`` (other
processes' caches poll it), and added to a database made before they existed."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.support.stores import OpenStore

from ossutil.server.models import Bucket, BucketAcl, BucketConfig
from ossutil.server.storage.base import Store

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
DOC = '<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration>\n</CORSConfiguration>\n'


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()


def test_configs_are_stored_replaced_and_removed(store: Store) -> None:
    bucket = Bucket("b", "1", "cn-hangzhou", BucketAcl.PUBLIC_READ, "Standard", T0)
    store.create_bucket(bucket)
    assert store.get_bucket("b") == bucket  # none configured
    before = store.versions()["buckets"]
    updated = store.set_bucket_config("b", BucketConfig.CORS, DOC)
    assert updated == Bucket("b", "1", "cn-hangzhou", BucketAcl.PUBLIC_READ, "Standard", T0,
                             cors=DOC)
    assert store.versions()["buckets"] > before
    store.set_bucket_config("b", BucketConfig.WEBSITE, "<w/>")
    store.set_bucket_config("b", BucketConfig.REFERER, "<r/>")
    assert store.get_bucket("b") == Bucket("b", "1", "cn-hangzhou", BucketAcl.PUBLIC_READ,
                                           "Standard", T0, website="<w/>", cors=DOC,
                                           referer="<r/>")
    assert store.list_buckets("1")[0].referer == "<r/>"
    assert store.set_bucket_config("b", BucketConfig.CORS, None) == Bucket(
        "b", "1", "cn-hangzhou", BucketAcl.PUBLIC_READ, "Standard", T0, website="<w/>",
        referer="<r/>")
    assert store.set_bucket_config("missing", BucketConfig.CORS, DOC) is None
    # a deleted and re-created bucket starts without any
    assert store.delete_bucket("b") is None
    store.create_bucket(bucket)
    assert store.get_bucket("b") == bucket


def test_sqlite_database_from_before_the_columns_is_migrated(tmp_path: Path) -> None:
    from ossutil.server.storage.sqlite import SqliteStore

    path = tmp_path / "ossutil.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE buckets (
                name TEXT PRIMARY KEY, owner_id TEXT NOT NULL, region TEXT NOT NULL,
                acl TEXT NOT NULL, storage_class TEXT NOT NULL, created_at TEXT NOT NULL);
            INSERT INTO buckets VALUES ('b', '1', 'cn-hangzhou', 'private', 'Standard',
                '2025-01-02T03:04:05+00:00');""")
    store = SqliteStore(path)
    try:
        old = store.get_bucket("b")
        assert old is not None and (old.website, old.cors, old.referer) == (None, None, None)
        assert store.set_bucket_config("b", BucketConfig.WEBSITE, "<w/>") is not None
        assert store.get_bucket("b").website == "<w/>"  # type: ignore[union-attr]
    finally:
        store.close()
