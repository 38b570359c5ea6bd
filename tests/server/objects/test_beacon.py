"""The change beacon: one counter slot per process, so a process's own writes do not empty its
object cache while every other process's writes still do."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

from ossutil.server.models import ObjectMeta
from ossutil.server.objects.cache import Beacon, ObjectCache


def _meta(key: str, body: bytes) -> ObjectMeta:
    return ObjectMeta(bucket="b", key=key, size=len(body), etag='"e"',
                      last_modified=datetime(2026, 1, 1, tzinfo=timezone.utc),
                      content_type="text/plain", blob="x")


def _filled(cache: ObjectCache, *keys: str) -> None:
    for key in keys:
        cache.put(_meta(key, b"data"), b"data", cache.generation)


def test_processes_get_distinct_slots_and_a_closed_slot_is_free_again(tmp_path: Path) -> None:
    path = tmp_path / "changes.beacon"
    first, second = Beacon(path), Beacon(path)
    try:
        # record locks are per process: two Beacons of one process may share a slot, so
        # the distinctness across processes is checked from a child
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            assert pool.apply(_slot_of, (str(path),)) not in (first.slot, None)
    finally:
        first.close()
        second.close()


def _slot_of(path: str) -> int | None:
    beacon = Beacon(Path(path))
    try:
        return beacon.slot
    finally:
        beacon.close()


def test_own_write_forgets_only_its_key(tmp_path: Path) -> None:
    beacon = Beacon(tmp_path / "changes.beacon")
    cache = ObjectCache(beacon=beacon)
    _filled(cache, "a", "b")
    cache.forget("b", "a")
    assert cache.current() is True
    assert cache.get("b", "a") is None
    assert cache.get("b", "b") is not None
    cache.changed()  # a bucket or binding write of this process
    assert cache.current() is True and len(cache) == 1
    beacon.close()


def test_another_process_write_empties_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "changes.beacon"
    cache = ObjectCache(beacon=Beacon(path))
    _filled(cache, "a")
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        pool.apply(_bump, (str(path),))
    assert cache.current() is False
    assert len(cache) == 0
    assert cache.current() is True  # seen once: the next look is current again
    # this process's own bump after the other's does not hide a later foreign one
    cache.changed()
    with context.Pool(1) as pool:
        pool.apply(_bump, (str(path),))
    assert cache.current() is False


def _bump(path: str) -> None:
    beacon = Beacon(Path(path))
    try:
        beacon.bump()
    finally:
        beacon.close()
