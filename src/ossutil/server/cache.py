"""In-memory copies of the hottest reads: buckets by name and each bucket's bindings.

Every request needs its bucket (authorization) and ListCname needs the bindings; a trip to the
store's worker thread costs far more than the query itself, so both are cached here.

Coherence: this process's own writes invalidate the entries they touch at once (the services
call ``forget_*`` right after the store commits). Writes by other processes (the CLI today, other
server processes on a shared database later) are noticed by ``watch``, which polls the store's
change counters and drops what changed, so they show within one poll interval.

A read that raced with an invalidation is not cached: each entry is stored only if no
invalidation happened while it was being fetched (a generation counter).
"""

from __future__ import annotations

import asyncio
import logging

from ossutil.server.models import Binding, Bucket
from ossutil.server.storage.base import StoreRunner

log = logging.getLogger("ossutil.server.cache")


class ReadCache:
    def __init__(self, runner: StoreRunner) -> None:
        self._run = runner
        self._store = runner.store
        self._buckets: dict[str, Bucket | None] = {}
        self._bindings: dict[str, tuple[Binding, ...]] = {}
        self._generation = 0
        self._versions: dict[str, int] | None = None

    async def bucket(self, name: str) -> Bucket | None:
        if name in self._buckets:
            return self._buckets[name]
        generation = self._generation
        bucket = await self._run(self._store.get_bucket, name)
        if generation == self._generation:
            self._buckets[name] = bucket
        return bucket

    async def bindings(self, bucket: str) -> tuple[Binding, ...]:
        cached = self._bindings.get(bucket)
        if cached is not None:
            return cached
        generation = self._generation
        bindings = tuple(await self._run(self._store.list_bindings, bucket))
        if generation == self._generation:
            self._bindings[bucket] = bindings
        return bindings

    def forget_bucket(self, name: str) -> None:
        self._generation += 1
        self._buckets.pop(name, None)
        self._bindings.pop(name, None)

    def forget_bindings(self, bucket: str) -> None:
        self._generation += 1
        self._bindings.pop(bucket, None)

    async def poll(self) -> None:
        """Drop whatever another process changed since the last poll."""
        versions = await self._run(self._store.versions)
        previous, self._versions = self._versions, versions
        if previous is None:
            return
        if versions["buckets"] != previous["buckets"]:
            self._generation += 1
            self._buckets.clear()
        if versions["bindings"] != previous["bindings"]:
            self._generation += 1
            self._bindings.clear()

    async def watch(self, interval: float = 0.5) -> None:
        """Poll until cancelled."""
        while True:
            try:
                await self.poll()
            except Exception:  # keep serving; the next poll retries
                log.exception("polling the store's change counters failed")
            await asyncio.sleep(interval)
