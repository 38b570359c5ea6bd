"""Small objects kept in memory: metadata and bytes, for reads that never reach the store.

A GET of a cached object costs a dict probe instead of a hop to the store thread, a row read and
a file open. What goes in: objects of at most ``max_object`` bytes, read whole by a GetObject
(``ObjectService.open`` fills the cache). What bounds it: ``max_bytes`` of bodies in total and
``MAX_ENTRIES`` entries, least recently read evicted first; clients cannot grow it past that,
whatever keys they ask for (only objects that exist and were read get in).

Coherence, the rule every entry obeys: a reader never gets a version older than the last write
this process committed, and never one older than another process's write by more than one
poll of the store's change counter.

- This process: every write (PutObject, CopyObject, DeleteObject, CompleteMultipartUpload)
  calls ``forget`` right after its store transaction commits.
- A fill that raced with a write is dropped: ``generation`` is read before the store read that
  produced the entry, and ``put`` refuses it when any ``forget`` happened in between (a read
  that began before the write may return the old row after the write's ``forget``).
- Other processes on this machine (``--workers N``, or any servers sharing the data dir): a
  ``Beacon``, one write counter per process in a shared memory-mapped file of the data dir,
  which every write bumps right after its commit (before the writer replies). The HTTP front
  reads it before each cached answer (a memory read, no system call) and drops every cached
  entry when another process's counter moved (its own writes forget only their keys), so a
  client that saw its write succeed through one worker reads it back through any other:
  read-after-write holds across workers.
- Processes elsewhere (several hosts on one PostgreSQL): the store's ``objects`` change
  counter, polled with the other counters (``ReadCache.poll``), clears everything when it
  moved: within one poll interval (0.5 s).

Memory: a cached object costs its bytes plus about 1.4 KiB (measured: RSS grew 2,415 bytes
per 1 KiB object over 3,000 of them: the metadata record, the key twice, the two response
heads the HTTP front renders once and keeps on the entry, its replay plan); ``ENTRY_OVERHEAD``
counts that against ``max_bytes``.

Larger objects (a local blob store's files) are kept as metadata and an open descriptor of
the version read (``put_file``): the HTTP front ``sendfile``s them with no store round trip.
At most ``MAX_FILES`` descriptors are held (least recently read dropped first); dropping an
entry closes its descriptor, and a reply in progress holds its own duplicate, so a write or
an eviction mid-send neither cuts the reply short nor lets it read another version (a
superseded blob's inode lives until the last descriptor closes).
"""

from __future__ import annotations

import fcntl
import mmap
import os
from collections import OrderedDict
from pathlib import Path

from ossutil.server.models import ObjectMeta

DEFAULT_MAX_BYTES = 64 << 20  # 64 MiB of object bodies
DEFAULT_MAX_OBJECT = 64 << 10  # objects up to 64 KiB (ObjectService.INLINE_LIMIT)
MAX_ENTRIES = 100_000
ENTRY_OVERHEAD = 1400  # bytes counted per entry besides its body (measured, see above)
MAX_FILES = 256  # open descriptors kept for large objects (put_file)


class Beacon:
    """Change counters shared by the processes of one data dir, one eight-byte slot each.

    A process claims a free slot at start (a POSIX record lock on its bytes, released by the
    kernel when the process ends, however it ends) and ``bump`` counts its writes there;
    readers compare every slot at once (``read``). Only the owner writes a slot, so no two
    writers race and no change is lost; a process leaves its own slot out of what it waits
    for (``ObjectCache.changed`` patches what it saw), so its own writes, which it forgets key
    by key, do not empty its caches. A torn read only looks like a change (a needless refill,
    never a stale answer). With every slot taken, a process writes random bytes into the
    first one and treats its own bumps like anyone's (correct, only slower)."""

    SLOTS = 64
    SIZE = 8 * SLOTS

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)
            self._map = mmap.mmap(fd, self.SIZE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd  # kept open: closing it would release the slot's lock
        self.slot: int | None = None
        for slot in range(self.SLOTS):
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, slot * 8)
            except OSError:
                continue
            self.slot = slot
            break
        self._count = int.from_bytes(self._own(self._map[:self.SIZE]), "little") \
            if self.slot is not None else 0

    def _own(self, seen: bytes) -> bytes:
        start = 8 * (self.slot or 0)
        return seen[start:start + 8]

    def bump(self) -> None:
        if self.slot is None:
            self._map[:8] = os.urandom(8)
            return
        self._count = (self._count + 1) & 0xFFFFFFFFFFFFFFFF
        start = 8 * self.slot
        self._map[start:start + 8] = self._count.to_bytes(8, "little")

    def read(self) -> bytes:
        return self._map[:self.SIZE]

    def mine(self, seen: bytes) -> bytes:
        """``seen`` with this process's own slot as it is now (unchanged without a slot)."""
        if self.slot is None:
            return seen
        start = 8 * self.slot
        return seen[:start] + self._count.to_bytes(8, "little") + seen[start + 8:]

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class CachedObject:
    """One cached version: its metadata, its bytes (or, ``fd`` >= 0, an open descriptor of
    its file and no bytes), and what the HTTP front renders from them (``rendered``: opaque
    to this module, dropped with the entry)."""

    __slots__ = ("meta", "body", "fd", "rendered", "__weakref__")

    def __init__(self, meta: ObjectMeta, body: bytes, fd: int = -1) -> None:
        self.meta = meta
        self.body = body
        self.fd = fd
        self.rendered: object = None


class ObjectCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_object: int = DEFAULT_MAX_OBJECT, beacon: Beacon | None = None) -> None:
        self.beacon = beacon
        self._seen = beacon.read() if beacon is not None else b""
        self.max_bytes = max_bytes
        self.max_object = min(max_object, max_bytes)
        self._items: OrderedDict[tuple[str, str], CachedObject] = OrderedDict()
        self._bytes = 0
        self.files = 0  # entries holding a descriptor
        self.max_files = MAX_FILES if max_bytes > 0 else 0
        self.generation = 0  # moves on every forget/clear; fills compare it
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """Bytes held (bodies plus the per-entry overhead)."""
        return self._bytes

    def current(self) -> bool:
        """Whether nothing changed elsewhere since the last look (else every entry is dropped
        and False returned): called before a cached answer is given."""
        beacon = self.beacon
        if beacon is None:
            return True
        seen = beacon.read()
        if seen == self._seen:
            return True
        self._seen = seen
        self.clear()
        return False

    def get(self, bucket: str, key: str) -> CachedObject | None:
        entry = self._items.get((bucket, key))
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end((bucket, key))
        return entry

    def peek(self, bucket: str, key: str) -> CachedObject | None:
        """The entry if cached, not counted as a read (``touch`` counts it)."""
        return self._items.get((bucket, key))

    def touch(self, bucket: str, key: str) -> None:
        """Count a read of an entry ``peek`` found: a hit, and the most recently read."""
        self.hits += 1
        self._items.move_to_end((bucket, key))

    def holds(self, bucket: str, key: str) -> bool:
        """Whether ``bucket``/``key`` is cached (not counted as a hit or a miss)."""
        return (bucket, key) in self._items

    def put(self, meta: ObjectMeta, body: bytes, generation: int) -> None:
        """Keep ``meta``/``body`` unless a write happened since ``generation`` was read, or the
        object is over the per-object cap."""
        if generation != self.generation or len(body) > self.max_object \
                or len(body) != meta.size or len(body) + ENTRY_OVERHEAD > self.max_bytes:
            return
        item = (meta.bucket, meta.key)
        self._drop(item)
        self._items[item] = CachedObject(meta, body)
        self._bytes += len(body) + ENTRY_OVERHEAD
        while self._bytes > self.max_bytes or len(self._items) > MAX_ENTRIES:
            oldest = next(iter(self._items))
            self._drop(oldest)

    def put_file(self, meta: ObjectMeta, fd: int, generation: int) -> None:
        """Keep ``meta`` with a duplicate of ``fd`` (an open file of that version, which the
        caller keeps and closes) unless a write happened since ``generation`` was read."""
        if generation != self.generation or self.max_files <= 0 \
                or ENTRY_OVERHEAD > self.max_bytes:
            return
        item = (meta.bucket, meta.key)
        self._drop(item)
        if self.files >= self.max_files:  # the least recently read file entry goes
            for oldest, entry in self._items.items():
                if entry.fd >= 0:
                    self._drop(oldest)
                    break
        self._items[item] = CachedObject(meta, b"", os.dup(fd))
        self.files += 1
        self._bytes += ENTRY_OVERHEAD
        while self._bytes > self.max_bytes or len(self._items) > MAX_ENTRIES:
            self._drop(next(iter(self._items)))

    def forget(self, bucket: str, key: str) -> None:
        """After a write of ``bucket``/``key`` committed: drop it here, tell the others."""
        self.generation += 1
        self._drop((bucket, key))
        self.changed()

    def changed(self) -> None:
        """Something other processes' caches hold changed (an object, a bucket, bindings):
        count it in this process's beacon slot, and take only that slot's new value as seen
        (another process's bump made a moment before still shows in the next look)."""
        if self.beacon is not None:
            self.beacon.bump()
            self._seen = self.beacon.mine(self._seen)

    def clear(self) -> None:
        self.generation += 1
        for entry in self._items.values():
            if entry.fd >= 0:
                os.close(entry.fd)
                entry.fd = -1
        self._items.clear()
        self._bytes = 0
        self.files = 0

    def _drop(self, item: tuple[str, str]) -> None:
        entry = self._items.pop(item, None)
        if entry is not None:
            self._bytes -= len(entry.body) + ENTRY_OVERHEAD
            if entry.fd >= 0:
                os.close(entry.fd)
                entry.fd = -1
                self.files -= 1
