"""The pollers' loop: one line when polling starts failing, one when it works again; and
throttled log lines for failures every call would repeat."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from ossutil.server.polling import poll_forever
from ossutil.server.storage.base import StoreUnavailable


def _run(outcomes: list[BaseException | None], caplog: pytest.LogCaptureFixture) -> list[str]:
    log = logging.getLogger("test.polling")
    calls = iter(outcomes)

    async def poll() -> None:
        outcome = next(calls, RuntimeError("cannot schedule new futures after shutdown"))
        if outcome is not None:
            raise outcome

    with caplog.at_level(logging.WARNING, logger="test.polling"):
        asyncio.run(asyncio.wait_for(poll_forever("polling x", poll, 0, log), timeout=5))
    return [record.getMessage() for record in caplog.records]


def test_an_outage_is_reported_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    down = StoreUnavailable("127.0.0.1:5432/db: connection refused")
    lines = _run([None, down, down, down, None, None], caplog)
    assert lines == [
        "polling x failed (127.0.0.1:5432/db: connection refused); retrying every poll, "
        "quietly until it works again",
        "polling x works again"]
    assert caplog.records[0].exc_info is None  # a known outage: no traceback


def test_an_unexpected_failure_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    lines = _run([ValueError("bad row"), ValueError("bad row")], caplog)
    assert lines == ["polling x failed (bad row); retrying every poll, quietly until it "
                     "works again"]
    assert caplog.records[0].exc_info is not None


def test_the_loop_ends_when_the_store_thread_is_shut_down(
        caplog: pytest.LogCaptureFixture) -> None:
    assert _run([], caplog) == []


def test_throttled_folds_repeats_into_the_next_line(caplog: pytest.LogCaptureFixture) -> None:
    from ossutil.server.throttle import Throttled

    log = logging.getLogger("test.throttle")
    throttled = Throttled(log, interval=0.2)
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        written = [throttled("store unavailable: %s", "db down") for _ in range(50)]
        time.sleep(0.25)
        written.append(throttled("store unavailable: %s", "db down"))
    assert written == [True] + [False] * 49 + [True]
    assert [record.getMessage() for record in caplog.records] == [
        "store unavailable: db down",
        "store unavailable: db down (49 more like it in the last 0.2 s)"]
