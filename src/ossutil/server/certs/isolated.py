"""Certificate checks in worker processes, so their CPU time never holds the server's GIL.

Validating an RSA key holds the GIL (``checker.py``, "Cost"): in a thread, a 4096-bit check stops
every other request for 0.3 s. Here the whole of :func:`check_certificate` runs in a small
process pool (at most two workers, started on first use with ``spawn`` because the server has
threads, niced so they yield the CPU to serving). An ``OssError`` comes back as
``(code, message, ec)`` and is raised again here, unchanged. A worker that dies (the OOM killer)
is replaced once; a second failure is an internal error.

Kept apart from ``checker.py`` so the CLI, which checks ``--cert-file`` in-process, never
imports asyncio or multiprocessing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from ossutil.certcheck import CheckedCertificate, check_certificate
from ossutil.wire.errors import OssError

__all__ = ["check_certificate_isolated", "shutdown_workers"]

log = logging.getLogger("ossutil.server.certs")


async def check_certificate_isolated(
    certificate: str, private_key: str, domain: str, now: datetime
) -> CheckedCertificate:
    """:func:`check_certificate` in a worker process, so its CPU time never holds this
    process's GIL (``checker.py``, "Cost"). Same result, same ``OssError``s."""
    outcome = await _WORKERS.run(certificate, private_key, domain, now)
    if isinstance(outcome, CheckedCertificate):
        return outcome
    code, message, ec = outcome
    raise OssError.from_code(code, message, ec=ec)


def shutdown_workers() -> None:
    """Stop the worker processes (server shutdown); a later check starts new ones."""
    _WORKERS.shutdown()


def _check_in_worker(
    certificate: str, private_key: str, domain: str, now: datetime
) -> CheckedCertificate | tuple[str, str, str]:
    """Runs in a worker: an ``OssError`` comes back as ``(code, message, ec)`` (an exception's
    pickled form would lose its fields)."""
    try:
        return check_certificate(certificate, private_key, domain, now)
    except OssError as error:
        return error.code, error.message, error.ec


def _lower_priority() -> None:
    """Worker start-up: checks yield the CPU to the serving process when cores are scarce."""
    try:
        os.nice(10)
    except OSError:  # not permitted: run at normal priority
        pass


class _WorkerPool:
    """A process pool started on first use, rebuilt once if a worker dies (OOM killer)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: the server has threads (store, to_thread), which fork must not copy.
            self._pool = ProcessPoolExecutor(
                max_workers=min(2, os.cpu_count() or 1),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._pool

    async def run(
        self, certificate: str, private_key: str, domain: str, now: datetime
    ) -> CheckedCertificate | tuple[str, str, str]:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return await loop.run_in_executor(
                    pool, _check_in_worker, certificate, private_key, domain, now
                )
            except BrokenProcessPool:
                log.warning("a certificate check worker died; starting new workers")
                if self._pool is pool:
                    self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_WORKERS = _WorkerPool()
