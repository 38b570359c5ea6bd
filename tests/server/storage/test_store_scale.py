"""Store behaviour the scale work relies on, for SqliteStore and PostgresStore alike.

- ``versions()["objects"]``: moved by every write or delete of an object row, seen from a second
  store instance on the same database (another process, in effect), never by a read;
- ``binding_routes``: the gateway's start-up read (enabled bindings, certificate columns, the
  change number of the same snapshot);
- the bind path's queries use an index whatever the number of bindings (query plans);
- databases made before these changes (no ``bindings_by_seq``, no object counter) open and work;
- two SQLite store instances on one file write at once without ``database is locked``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.server.storage.test_store_contract import (
    OWNER,
    SEALER,
    T0,
    OpenStore,
    bind,
    bucket,
    certificate,
    obj,
    part,
    root,
    upload,
)
from tests.support import postgres

from ossutil.server.models import Bucket, BucketAcl, Route
from ossutil.server.storage.base import ObjectExists, Store
from ossutil.server.storage.sqlite import SqliteStore


def objects_version(store: Store) -> int:
    return store.versions()["objects"]


def routes(store: Store) -> tuple[int, list[Route]]:
    loaded: list[Route] = []
    version = store.binding_routes(loaded.extend)
    return version, sorted(loaded)


# --- the object change counter ----------------------------------------------------------


def test_object_writes_move_the_counter_seen_by_another_instance(open_store: OpenStore) -> None:
    writer, reader = open_store(), open_store()
    bucket(writer, "b1")
    assert objects_version(reader) == 0
    steps: list[Callable[[], object]] = [
        lambda: writer.put_object(obj("k", "blob-1")),
        lambda: writer.put_object(obj("k", "blob-2")),  # a replacement
        lambda: writer.delete_object("b1", "k"),
    ]
    seen = []
    for step in steps:
        step()
        seen.append(objects_version(reader))
    assert len(set(seen)) == 3 and 0 not in seen


def test_complete_upload_moves_the_counter(open_store: OpenStore) -> None:
    writer, reader = open_store(), open_store()
    bucket(writer, "b1")
    writer.create_upload(upload("k", "u1"))
    writer.put_part(part("u1", 1, "p1"))
    before = objects_version(reader)  # the upload and its part are no object rows
    assert before == 0
    writer.complete_upload("b1", "k", "u1", obj("k", "blob-k"))
    assert objects_version(reader) != before


def test_reads_and_writes_that_change_no_object_leave_the_counter(
        open_store: OpenStore) -> None:
    writer, reader = open_store(), open_store()
    bucket(writer, "b1")
    writer.put_object(obj("k", "blob-1"))
    before = objects_version(reader)
    assert writer.get_object("b1", "k") is not None
    assert [o.key for o in writer.list_objects("b1", "", "", 10)] == ["k"]
    assert writer.delete_object("b1", "absent") is None
    with pytest.raises(ObjectExists):
        writer.put_object(obj("k", "blob-2"), if_absent=True)
    bind(writer, "www.example.com", "b1")  # other counters move, this one does not
    writer.set_bucket_acl("b1", BucketAcl.PUBLIC_READ)
    assert objects_version(reader) == before


# --- the gateway's start-up read ---------------------------------------------------------


def test_binding_routes_are_the_enabled_bindings_with_their_certificates(
        open_store: OpenStore) -> None:
    store = open_store()
    root(store)
    bucket(store, "b1")
    bucket(store, "b2")
    cert = certificate("cert-1")
    bind(store, "a.example.com", "b1")
    bind(store, "b.example.com", "b2", cert_action="attach", cert_id="cert-1",
         new_certificate=cert)
    version, loaded = routes(open_store())
    assert version == store.versions()["bindings"] == 2
    assert loaded == [
        ("a.example.com", "b1", None, None, None, None),
        ("b.example.com", "b2", "cert-1", "AB:CD", cert.chain_pem, cert.key_sealed),
    ]


def test_binding_routes_of_an_empty_store(open_store: OpenStore) -> None:
    assert routes(open_store()) == (0, [])


# --- query plans: the bind path does not grow with the number of bindings ----------------


def sqlite_plan(db: sqlite3.Connection, sql: str, *args: Any) -> list[str]:
    return [str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, args)]


def test_sqlite_bind_path_queries_search_an_index(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "ossutil.db").close()
    db = sqlite3.connect(tmp_path / "ossutil.db")
    try:
        assert sqlite_plan(db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM bindings") == [
            "SEARCH bindings USING COVERING INDEX bindings_by_seq"]
        assert sqlite_plan(db, "SELECT COALESCE(MAX(seq), 0) FROM binding_changes") == [
            "SEARCH binding_changes"]  # the rowid b-tree's last entry
        assert sqlite_plan(db, "SELECT COUNT(*) FROM bindings WHERE bucket = ?", "b") == [
            "SEARCH bindings USING COVERING INDEX bindings_by_bucket (bucket=?)"]
        assert sqlite_plan(db, "SELECT bucket FROM bindings WHERE domain = ?", "d") == [
            "SEARCH bindings USING INDEX sqlite_autoindex_bindings_1 (domain=?)"]
        assert sqlite_plan(db, "SELECT seq, domain FROM binding_changes WHERE seq > ? "
                           "ORDER BY seq", 1) == [
            "SEARCH binding_changes USING INTEGER PRIMARY KEY (rowid>?)"]
    finally:
        db.close()


@pytest.mark.postgres
def test_postgres_bind_path_queries_use_an_index() -> None:
    import psycopg

    from ossutil.server.storage.postgres import PostgresStore

    with postgres.fresh_schema() as url:
        PostgresStore(url, SEALER).close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")  # the plan an index allows, small or not

            def plan(sql: str) -> str:
                return "\n".join(str(r[0]) for r in conn.execute("EXPLAIN " + sql))

            assert "Index Only Scan Backward using bindings_by_seq" in plan(
                "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM bindings")
            assert "Index Only Scan Backward using binding_changes_pkey" in plan(
                "SELECT seq FROM binding_changes ORDER BY seq DESC LIMIT 1")


# --- databases made before these changes --------------------------------------------------


def test_an_older_sqlite_file_opens_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "ossutil.db"
    store = SqliteStore(path)
    bucket(store, "b1")
    store.put_object(obj("k", "blob-1"))
    bind(store, "a.example.com", "b1")
    store.close()
    db = sqlite3.connect(path)  # as the previous release left it
    db.execute("DROP INDEX bindings_by_seq")
    db.execute("DELETE FROM meta WHERE key = 'object_version'")
    db.commit()
    db.close()
    again = SqliteStore(path)
    assert again.versions() == {"auth": 0, "buckets": 1, "bindings": 1, "objects": 0}
    again.put_object(obj("k2", "blob-2"))
    bind(again, "b.example.com", "b1")
    assert again.versions() == {"auth": 0, "buckets": 1, "bindings": 2, "objects": 1}
    assert routes(again)[1] == [("a.example.com", "b1", None, None, None, None),
                                ("b.example.com", "b1", None, None, None, None)]
    again.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'bindings_by_seq'"
                      ).fetchall() == [("bindings_by_seq",)]
    db.close()


@pytest.mark.postgres
def test_an_older_postgres_database_opens_and_counts() -> None:
    import psycopg

    from ossutil.server.storage.postgres import PostgresStore

    with postgres.fresh_schema() as url:
        store = PostgresStore(url, SEALER)
        bucket(store, "b1")
        bind(store, "a.example.com", "b1")
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:  # as the previous release left it
            conn.execute("DROP INDEX bindings_by_seq")
            conn.execute("DROP SEQUENCE object_changes")
        again = PostgresStore(url, SEALER)
        try:
            assert again.versions() == {"auth": 0, "buckets": 1, "bindings": 1, "objects": 0}
            again.put_object(obj("k", "blob-1"))
            bind(again, "b.example.com", "b1")
            assert again.versions() == {"auth": 0, "buckets": 1, "bindings": 2, "objects": 1}
        finally:
            again.close()
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT to_regclass('bindings_by_seq') IS NOT NULL, "
                                "to_regclass('object_changes') IS NOT NULL").fetchone() == (
                                    True, True)


# --- several writers on one SQLite file ----------------------------------------------------


def test_sqlite_is_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ossutil.db")
    db = store._db  # the connection's own settings: nothing else shows them
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    store.close()


def test_two_sqlite_instances_write_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ossutil.db"
    first, second = SqliteStore(path), SqliteStore(path)  # two connections: two processes
    bucket(first, "b1")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(store: SqliteStore, name: str) -> None:
        barrier.wait()
        try:
            for i in range(150):
                store.put_object(obj(f"{name}-{i}", f"blob-{name}-{i}"))
                store.create_bucket(Bucket(f"{name}-{i}", OWNER, "cn-hangzhou", BucketAcl.PRIVATE,
                                           "Standard", T0))
                store.versions()
                store.delete_object("b1", f"{name}-{i // 2}")
        except BaseException as exc:  # a 'database is locked' would land here
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s, n))
               for s, n in ((first, "x"), (second, "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    keys = [o.key for o in first.list_objects("b1", "", "", 1000)]
    assert keys == sorted(f"{n}-{i}" for n in "xy" for i in range(75, 150))
    # every put, and each delete that found its object (keys 0..74, once each), counted
    assert objects_version(second) == 2 * (150 + 75)
    assert first.versions()["buckets"] == 1 + 2 * 150
    first.close()
    second.close()
