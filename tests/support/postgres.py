"""Throwaway PostgreSQL schemas and databases for tests, or a skip when none answers.

The server comes from ``OSS_TEST_POSTGRES_URL`` (default: the local one as ``postgres``). Every
test gets its own uniquely named schema or database, dropped afterwards; existing data is never
touched.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

BASE_URL = os.environ.get("OSS_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")


@functools.cache
def unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here (None: they can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(BASE_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {BASE_URL}: {str(exc).strip().splitlines()[0]}"
    return None


def require() -> None:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)


def _name(kind: str) -> str:
    return f"ossutil_test_{kind}_{uuid.uuid4().hex[:16]}"


def _with(**params: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(BASE_URL, **params)


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A connection string whose search_path is a new, empty schema (dropped on exit)."""
    import psycopg

    require()
    schema = _name("schema")
    with psycopg.connect(BASE_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with(options=f"-csearch_path={schema}")
    finally:
        with psycopg.connect(BASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def fresh_database() -> Iterator[str]:
    """A connection string for a new, empty database (dropped on exit, sessions or not)."""
    import psycopg

    require()
    name = _name("db")
    with psycopg.connect(BASE_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with(dbname=name)
    finally:
        with psycopg.connect(BASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
