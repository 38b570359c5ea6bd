"""The one loop behind every poller of the shared store (keys, read cache, bindings).

Each poller asks the store what changed since its last look, every ``interval`` seconds. While
the store is down (PostgreSQL unreachable, a full disk) every poll fails the same way, so the
loop reports a failure once, with a traceback only when it is not a known store outage, stays
quiet while it lasts, and says once when polling works again. The last good state keeps serving
in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ossutil.server.storage.base import StoreError
from ossutil.wire.errors import OssError


async def poll_forever(what: str, poll: Callable[[], Awaitable[object]], interval: float,
                       log: logging.Logger, *, first_delay: float | None = None) -> None:
    """Run ``poll`` every ``interval`` seconds until cancelled (or until the store's thread is
    shut down: the server is stopping). ``what`` names the poll in log lines."""
    failing = False
    await asyncio.sleep(interval if first_delay is None else first_delay)
    while True:
        try:
            await poll()
        except RuntimeError as exc:
            if "shutdown" in str(exc):  # "cannot schedule new futures after shutdown"
                return
            failing = _report(log, what, exc, failing)
        except (StoreError, OssError) as exc:  # a known outage (503/507): one line, no trace
            failing = _report(log, what, exc, failing, traceback=False)
        except Exception as exc:  # keep serving with the last good state
            failing = _report(log, what, exc, failing)
        else:
            if failing:
                log.warning("%s works again", what)
                failing = False
        await asyncio.sleep(interval)


def _report(log: logging.Logger, what: str, exc: BaseException, failing: bool, *,
            traceback: bool = True) -> bool:
    if not failing:
        log.warning("%s failed (%s); retrying every poll, quietly until it works again", what,
                    exc, exc_info=exc if traceback else None)
    return True
