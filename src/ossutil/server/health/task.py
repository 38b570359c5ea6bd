"""The periodic domain-health round, run by every server process, claimed by one.

Every ``TICK`` seconds the task reads the rounds' marks from the store. A round is due when
one was asked for (``ossutil-server domains --check``) since the last one started, or when the
last one finished ``interval`` seconds ago (or never did, once this process has been up for
``warm_up`` seconds: a restart does not check at once what the last run checked). The store's
``claim_health_round`` lets exactly one process sharing the store run it; the reports replace
the previous round's in one transaction. Store or DNS trouble never stops the task
(``polling.poll_forever``: one log line while it lasts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from ossutil.server.health.checker import HealthChecker
from ossutil.server.polling import poll_forever
from ossutil.server.storage.base import HealthMarks, HealthRow, Store, StoreRunner

log = logging.getLogger("ossutil.server.health")

TICK = 1.0  # seconds between looks at the schedule (an on-demand round starts within this)
STALE = timedelta(minutes=15)  # a round started this long ago and never finished is dead
WARM_UP = 30.0  # seconds after start before a scheduled (not asked-for) round


def due(marks: HealthMarks, now: datetime, interval: timedelta, scheduled: bool) -> bool:
    """Whether a round should start now (the store decides who runs it)."""
    requested, started, finished = marks
    if requested is not None and (started is None or requested > started):
        return True
    if not scheduled:
        return False
    return finished is None or finished < now - interval


class HealthTask:
    def __init__(self, checker: HealthChecker, runner: StoreRunner[Store], *,
                 interval: float, clock: Callable[[], datetime], tick: float = TICK,
                 warm_up: float | None = None) -> None:
        self.checker = checker
        self._runner = runner
        self._interval = timedelta(seconds=interval)
        self._clock = clock
        self._tick = tick
        self._warm_up = min(WARM_UP, interval) if warm_up is None else warm_up
        self._started = time.monotonic()
        self.rounds = 0  # rounds this process ran

    async def run(self) -> None:
        await poll_forever("domain health", self.poll_once, self._tick, log, first_delay=0)

    async def poll_once(self) -> None:
        runner = self._runner
        now = self._clock()
        marks = await runner(runner.store.health_marks)
        scheduled = time.monotonic() - self._started >= self._warm_up
        if not due(marks, now, self._interval, scheduled):
            return
        if not await runner(runner.store.claim_health_round, now, now - self._interval,
                            now - STALE):
            return
        reports = await self.checker.run_round()
        rows: list[HealthRow] = [(r.domain, r.bucket, r.checked_at, r.to_json())
                                 for r in reports]
        await runner(runner.store.finish_health_round, rows, self._clock())
        self.rounds += 1
        troubled = sum(1 for r in reports if r.problems)
        if troubled:
            log.warning("domain health: %d of %d bound domains have problems "
                        "(ossutil-server domains shows them)", troubled, len(reports))
