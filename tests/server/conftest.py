"""Fixtures the server's unit tests share: ``open_store`` (every store contract, on SQLite
and on PostgreSQL) from tests/support/stores.py."""

from tests.support.stores import open_store  # noqa: F401  (a fixture, registered by import)
