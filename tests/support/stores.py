"""``open_store``: the store-contract fixture, once for SQLite and once for PostgreSQL (a fresh
schema), shared by the test modules that check a store protocol. It yields a function that
opens another store on the same database (for tests of two processes racing) and closes every
store it opened afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support import postgres

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.storage.base import Store

OpenStore = Callable[[], Store]
SEALER = Sealer(SecretBox(bytes(range(32))))  # the auth side: stores keep sealed secrets only


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    opened: list[Store] = []

    def opener(make: Callable[[], Store]) -> OpenStore:
        def open_one() -> Store:
            opened.append(make())
            return opened[-1]
        return open_one

    if request.param == "sqlite":
        from ossutil.server.storage.sqlite import SqliteStore

        yield opener(lambda: SqliteStore(tmp_path / "ossutil.db"))
    else:
        with postgres.fresh_schema() as url:
            from ossutil.server.storage.postgres import PostgresStore

            yield opener(lambda: PostgresStore(url, SEALER))
            for store in opened:
                store.close()
            opened.clear()
    for store in opened:
        store.close()
