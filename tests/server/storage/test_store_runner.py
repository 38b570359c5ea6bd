"""StoreRunner: store failures become OSS errors once, and no request waits unboundedly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ossutil.server.storage.base import StorageFull, StoreRunner, StoreUnavailable
from ossutil.server.storage.sqlite import SqliteStore
from ossutil.wire.errors import OssError


def _raise(exc: Exception) -> None:
    raise exc


@pytest.fixture
def runner(tmp_path: Path) -> StoreRunner:
    return StoreRunner(SqliteStore(tmp_path / "ossutil.db"), wait_seconds=0.3)


def test_store_failures_become_oss_errors(runner: StoreRunner) -> None:
    async def run() -> None:
        with pytest.raises(OssError) as unavailable:
            await runner(_raise, StoreUnavailable("PostgreSQL at h:5432/db: gone"))
        assert (unavailable.value.status, unavailable.value.code) == (503, "ServiceUnavailable")
        assert "h:5432" not in unavailable.value.message  # details go to the log only
        with pytest.raises(OssError) as full:
            await runner(_raise, StorageFull("SQLite: database or disk is full"))
        assert (full.value.status, full.value.code) == (507, "InsufficientStorage")
        assert await runner(runner.store.auth_version) == 0
    try:
        asyncio.run(run())
    finally:
        runner.close()


def test_a_call_queued_behind_a_hung_one_fails_at_its_deadline(runner: StoreRunner) -> None:
    async def run() -> tuple[object, float]:
        hung = asyncio.ensure_future(runner(time.sleep, 1.0))
        await asyncio.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(OssError) as queued:
            await runner(runner.store.auth_version)
        elapsed = time.monotonic() - started
        assert queued.value.code == "ServiceUnavailable"
        return await hung, elapsed  # the running one still reports its own outcome
    try:
        result, elapsed = asyncio.run(run())
    finally:
        runner.close()
    assert result is None
    assert 0.25 < elapsed < 0.9
