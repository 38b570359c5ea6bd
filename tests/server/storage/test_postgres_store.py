"""What only PostgresStore has: reconnecting, clean start-up errors, a shared master key."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from tests.support import postgres

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import AccessKey, Account, Bucket, User
from ossutil.server.storage.base import Store

pytestmark = pytest.mark.postgres
pytest.importorskip("psycopg")

T0 = datetime(2025, 2, 1, 3, 4, 5, 678901, tzinfo=timezone.utc)
OWNER = "1234567890123456"
BOX = SecretBox(bytes(range(32)))
SEALER = Sealer(BOX)
ROOT = (Account(OWNER, T0), SEALER.seal(AccessKey("LTAIroot", "root-secret", OWNER, None)))


def root(store: Store) -> None:
    assert store.bootstrap_root(*ROOT)


def bucket(store: Store, name: str) -> None:
    store.create_bucket(Bucket(name, OWNER, "cn-hangzhou", "private", "Standard", T0))


@pytest.fixture
def url() -> Iterator[str]:
    with postgres.fresh_schema() as schema_url:
        yield schema_url


def test_reconnects_after_the_server_drops_the_connection(url: str) -> None:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from ossutil.server.storage.postgres import PostgresStore

    name = f"ossutil-test-{uuid.uuid4().hex[:8]}"
    store = PostgresStore(make_conninfo(url, application_name=name), SEALER)
    try:
        root(store)
        with psycopg.connect(postgres.BASE_URL, autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = %s", (name,)).fetchall()
        assert len(killed) == 1
        bucket(store, "b1")  # a write on a dead connection: reconnected, retried, done once
        assert [b.name for b in store.list_buckets(OWNER)] == ["b1"]
        assert store.versions()["buckets"] == 1
    finally:
        store.close()


def test_datetimes_come_back_as_utc(url: str) -> None:
    from ossutil.server.storage.postgres import PostgresStore

    store = PostgresStore(url, SEALER)
    try:
        root(store)
        account = store.root_account()
        assert account is not None
        assert account.created_at.tzinfo is timezone.utc
        assert account.created_at.isoformat() == T0.isoformat()
    finally:
        store.close()


def test_unreachable_database_is_a_one_line_error_without_the_password() -> None:
    from ossutil.server.storage.postgres import PostgresStore, StoreUnavailable

    with pytest.raises(StoreUnavailable) as failed:
        PostgresStore("postgresql://someone:hunter2@127.0.0.1:1/nowhere?connect_timeout=2",
                      SEALER)
    message = str(failed.value)
    assert "127.0.0.1:1/nowhere" in message and "hunter2" not in message
    assert "\n" not in message
    with pytest.raises(StoreUnavailable) as failed:
        PostgresStore("postgresql://someone:hun%zzter2@127.0.0.1:1/nowhere", SEALER)
    assert "hun" not in str(failed.value)


def test_another_master_key_is_refused_at_open(url: str) -> None:
    from ossutil.server.storage.postgres import MasterKeyMismatch, PostgresStore

    store = PostgresStore(url, SEALER)
    root(store)
    store.close()
    with pytest.raises(MasterKeyMismatch, match="OSS_SERVER_MASTER_KEY"):
        PostgresStore(url, Sealer(SecretBox(bytes(32))))
    PostgresStore(url, SEALER).close()  # the right key still opens


def test_many_processes_may_create_the_schema_at_once(url: str) -> None:
    from ossutil.server.storage.postgres import PostgresStore

    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_and_write(n: int) -> None:
        barrier.wait()
        try:
            store = PostgresStore(url, SEALER)
        except BaseException as exc:
            failures.append(exc)
            return
        try:
            store.bootstrap_root(*ROOT)
            store.create_user(User(f"user{n}", OWNER, None, T0),
                              SEALER.seal(AccessKey(f"LTAIuser{n}", "secret", OWNER, f"user{n}")))
        except BaseException as exc:
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    store = PostgresStore(url, SEALER)
    try:
        assert len(store.list_users()) == 6
        assert store.auth_version() == 7  # one root, six users
    finally:
        store.close()

