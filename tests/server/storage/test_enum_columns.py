"""The enum-valued fields (Bucket.acl, Certificate.type, Binding.status, ObjectMeta.object_type)
are stored as the strings the stores always wrote, and rows holding those strings (a database
made before the enums) read back as the enum members."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.support import postgres

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import (
    BindingChange,
    BindingStatus,
    Bucket,
    BucketAcl,
    CertAction,
    Certificate,
    CertificateType,
    ObjectMeta,
    ObjectType,
)
from ossutil.server.storage.base import Store

BOX = SecretBox(bytes(range(32)))
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Any]]:
    """(store, query): ``query(sql)`` returns the rows as tuples, straight from the database."""
    if request.param == "sqlite":
        from ossutil.server.storage.sqlite import SqliteStore

        store: Store = SqliteStore(tmp_path / "ossutil.db")

        def query_sqlite(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(tmp_path / "ossutil.db") as db:
                return [tuple(row) for row in db.execute(sql)]

        yield store, query_sqlite
        store.close()
    else:
        import psycopg

        with postgres.fresh_schema() as url:
            from ossutil.server.storage.postgres import PostgresStore

            store = PostgresStore(url, Sealer(BOX))

            def query_postgres(sql: str) -> list[tuple[Any, ...]]:
                with psycopg.connect(url) as conn:
                    return [tuple(row) for row in conn.execute(sql)]

            yield store, query_postgres
            store.close()


def test_stored_as_the_old_strings_and_read_back_as_members(
        opened: tuple[Store, Any]) -> None:
    store, query = opened
    store.create_bucket(Bucket("b", "1", "cn-hangzhou", BucketAcl.PRIVATE, "Standard", T0))
    store.create_bucket(Bucket("p", "1", "cn-hangzhou", BucketAcl.PRIVATE, "Standard", T0))
    store.set_bucket_acl("p", BucketAcl.PUBLIC_READ_WRITE)
    cert = Certificate("c-1", "1", CertificateType.UPLOAD, "chain", b"sealed", "AB", T0,
                       T0 + timedelta(days=1), T0)
    store.apply_binding(BindingChange("www.example.com", "b", T0, True, CertAction.ATTACH,
                                      "c-1", cert))
    store.put_object(ObjectMeta("b", "plain", 1, '"E"', "text/plain", T0, "0" * 32))
    store.put_object(ObjectMeta("b", "multi", 1, '"E-2"', "text/plain", T0, "1" * 32,
                                object_type=ObjectType.MULTIPART))

    assert sorted(query("SELECT name, acl FROM buckets")) == [("b", "private"),
                                                            ("p", "public-read-write")]
    assert query("SELECT type FROM certificates") == [("Upload",)]
    assert query("SELECT status FROM bindings") == [("Enabled",)]
    columns = dict(query("SELECT key, user_meta FROM objects"))
    assert columns["plain"] == '{"meta":[],"headers":[]}'  # no "type" for Normal, as before
    assert json.loads(columns["multi"]) == {"meta": [], "headers": [], "type": "Multipart"}
    assert columns["multi"] == '{"meta":[],"headers":[],"type":"Multipart"}'

    private, public = store.get_bucket("b"), store.get_bucket("p")
    assert private is not None and private.acl is BucketAcl.PRIVATE
    assert public is not None and public.acl is BucketAcl.PUBLIC_READ_WRITE
    binding = store.get_binding("www.example.com")
    assert binding is not None and binding.certificate is not None
    assert binding.status is BindingStatus.ENABLED
    assert binding.certificate.type is CertificateType.UPLOAD
    plain, multi = store.get_object("b", "plain"), store.get_object("b", "multi")
    assert plain is not None and plain.object_type is ObjectType.NORMAL
    assert multi is not None and multi.object_type is ObjectType.MULTIPART
