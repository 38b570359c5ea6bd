"""In-memory copies of the hottest reads: buckets by name and each bucket's bindings.

Every request needs its bucket (authorization) and ListCname needs the bindings; a trip to the
store's worker thread costs far more than the query itself, so both are cached here.

Coherence: this process's own writes invalidate the entries they touch at once (the services
call ``forget_*`` right after the store commits). Writes by other processes (the CLI today, other
server processes on a shared database later) are noticed by ``watch``, which polls the store's
change counters and drops what changed, so they show within one poll interval.

A read that raced with an invalidation is not cached: each entry is stored only if no
invalidation happened while it was being fetched (a generation counter).

Clients choose the names they ask for, so nothing here grows with them: a name that is not a
valid bucket name never reaches the store or the cache (it cannot exist: PutBucket validates), and
both maps are LRUs of bounded size (``MAX_BUCKETS``, ``MAX_BINDINGS``). Unknown valid names are
cached too (``None``, so a client probing one bucket costs one store read), in their own small
LRU (``MAX_MISSES``), so random names evict only other misses, never a real bucket.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Generic, TypeVar

from ossutil.server.models import Binding, Bucket, Versions
from ossutil.server.naming import validate_bucket_name
from ossutil.server.objects.cache import ObjectCache
from ossutil.server.polling import poll_forever
from ossutil.server.storage.base import CacheStore, StoreRunner
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.cache")

MAX_BUCKETS = 10_000  # existing buckets kept (one account's buckets fit many times over)
MAX_MISSES = 1_024  # names looked up and not found
MAX_BINDINGS = 1_024  # buckets whose binding list is kept

_V = TypeVar("_V")


class _Lru(Generic[_V]):
    """A dict of at most ``size`` entries; the least recently read or written goes first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, _V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> _V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: _V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


def _valid_bucket_name(name: str) -> bool:
    try:
        validate_bucket_name(name)
    except OssError:
        return False
    return True


class ReadCache:
    def __init__(self, runner: StoreRunner[CacheStore],
                 objects: ObjectCache | None = None, *, poll_objects: bool = True) -> None:
        self._run = runner
        self._store = runner.store
        self.objects = objects if objects is not None else ObjectCache(max_bytes=0)
        # whether the store's objects counter is how this process learns of other writers'
        # objects (a store shared across hosts); else the beacon already tells of every
        # writer (all on this data dir), and the counter, which moves for this process's own
        # writes too, would empty the object cache within a poll of each of them
        self._poll_objects = poll_objects or self.objects.beacon is None
        self._buckets: _Lru[Bucket] = _Lru(MAX_BUCKETS)
        self._misses: _Lru[bool] = _Lru(MAX_MISSES)
        self._bindings: _Lru[tuple[Binding, ...]] = _Lru(MAX_BINDINGS)
        self._generation = 0
        self._versions: Versions | None = None
        self.hits = 0  # bucket and binding reads answered from memory (/-/metrics)
        self.misses = 0  # ... that went to the store

    @property
    def loaded(self) -> bool:
        """Whether the first poll of the store's change counters is done (``/-/ready``)."""
        return self._versions is not None

    def cached_bucket(self, name: str) -> Bucket | None:
        """The bucket if it is cached (no store read): the HTTP front's synchronous path."""
        return self._buckets.get(name)

    def cached_bindings(self, bucket: str) -> tuple[Binding, ...] | None:
        """The bucket's bindings if they are cached (no store read), the same tuple until
        they change."""
        return self._bindings.get(bucket)

    async def bucket(self, name: str) -> Bucket | None:
        cached = self._buckets.get(name)
        if cached is not None:
            self.hits += 1
            return cached
        if name in self._misses or not _valid_bucket_name(name):
            self.hits += 1
            return None
        self.misses += 1
        generation = self._generation
        bucket = await self._run(self._store.get_bucket, name)
        if generation == self._generation:
            if bucket is None:
                self._misses.put(name, True)
            else:
                self._buckets.put(name, bucket)
        return bucket

    async def bindings(self, bucket: str) -> tuple[Binding, ...]:
        cached = self._bindings.get(bucket)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        generation = self._generation
        bindings = tuple(await self._run(self._store.list_bindings, bucket))
        if generation == self._generation:
            self._bindings.put(bucket, bindings)
        return bindings

    def forget_bucket(self, name: str) -> None:
        self._generation += 1
        self._buckets.pop(name)
        self._misses.pop(name)
        self._bindings.pop(name)
        self.objects.changed()

    def replace_bucket(self, bucket: Bucket) -> None:
        """A configuration change this process committed: ``bucket`` (a new object) replaces
        the cached record at once, so the HTTP front's plans made from the old one lapse."""
        self._generation += 1
        self._misses.pop(bucket.name)
        self._buckets.put(bucket.name, bucket)
        self.objects.changed()

    def forget_bindings(self, bucket: str) -> None:
        self._generation += 1
        self._bindings.pop(bucket)
        self.objects.changed()

    def current(self) -> bool:
        """Whether no process sharing the data dir changed anything since the last look (the
        object cache's beacon); else drop every cached bucket, binding list and object, and
        say False. The HTTP front asks before each answer it gives from memory."""
        if self.objects.current():
            return True
        self._generation += 1
        self._buckets.clear()
        self._misses.clear()
        self._bindings.clear()
        return False

    async def poll(self) -> None:
        """Drop whatever another process changed since the last poll."""
        versions = await self._run(self._store.versions)
        previous, self._versions = self._versions, versions
        if previous is None:
            return
        if versions["buckets"] != previous["buckets"]:
            self._generation += 1
            self._buckets.clear()
            self._misses.clear()
        if versions["bindings"] != previous["bindings"]:
            self._generation += 1
            self._bindings.clear()
        # Object rows: any change clears the object cache (this process's own writes have
        # already dropped their entries; the counter cannot tell whose a change was).
        if self._poll_objects and dict(versions).get("objects") != dict(previous).get("objects"):
            self.objects.clear()

    async def watch(self, interval: float = 0.5) -> None:
        """Poll until cancelled (the first poll at once: it records the counters)."""
        await poll_forever("polling the store's change counters", self.poll, interval, log,
                           first_delay=0)
