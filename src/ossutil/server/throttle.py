"""Log lines that a failing dependency would otherwise repeat for every request.

While the database is down or the disk is full, every store call fails the same way; while
descriptors run out, every accept does. ``Throttled`` logs the first occurrence at once, then at
most one line per ``interval`` seconds, saying how many it folded in since the last line.
"""

from __future__ import annotations

import logging
import threading
import time


class Throttled:
    """``throttled(message, *args)``: ``logger.log(level, ...)`` at most once per interval."""

    def __init__(self, logger: logging.Logger, level: int = logging.WARNING,
                 interval: float = 10.0) -> None:
        self._logger = logger
        self._level = level
        self._interval = interval
        self._next = 0.0
        self._folded = 0
        self._lock = threading.Lock()  # store and blob calls report from worker threads

    def __call__(self, message: str, *args: object) -> bool:
        """Log now, or fold into the next line; True when a line was written."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._folded += 1
                return False
            folded, self._folded = self._folded, 0
            self._next = now + self._interval
        if folded:
            message += f" ({folded} more like it in the last {self._interval:g} s)"
        self._logger.log(self._level, message, *args)
        return True
