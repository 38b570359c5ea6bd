"""The domain-health part of the Store contract, on SQLite and PostgreSQL: rounds claimed by
exactly one of several processes, on schedule or on request; reports replaced whole."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from tests.support.stores import OpenStore

from ossutil.server.storage.base import Store

T0 = datetime(2026, 12, 2, 10, 0, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
STALE = timedelta(minutes=10)




def claim(store: Store, now: datetime) -> bool:
    return store.claim_health_round(now, now - HOUR, now - STALE)


def test_first_round_is_due_then_not_until_the_interval_passes(open_store: OpenStore) -> None:
    store = open_store()
    assert store.health_marks() == (None, None, None)
    assert claim(store, T0)
    assert not claim(store, T0 + timedelta(seconds=1))  # running
    store.finish_health_round([("a.example.com", "b1", T0, '{"x": 1}')], T0 + timedelta(seconds=2))
    assert store.health_marks() == (None, T0, T0 + timedelta(seconds=2))
    assert not claim(store, T0 + timedelta(minutes=59))
    assert claim(store, T0 + timedelta(minutes=61))


def test_a_request_makes_a_round_due_at_once(open_store: OpenStore) -> None:
    store = open_store()
    assert claim(store, T0)
    store.finish_health_round([], T0 + timedelta(seconds=1))
    store.request_health_round(T0 + timedelta(seconds=5))
    assert store.health_marks()[0] == T0 + timedelta(seconds=5)
    assert claim(store, T0 + timedelta(seconds=6))
    store.finish_health_round([], T0 + timedelta(seconds=7))
    assert not claim(store, T0 + timedelta(seconds=8))  # the request was served


def test_a_round_that_never_finished_is_taken_over_once_stale(open_store: OpenStore) -> None:
    store = open_store()
    assert claim(store, T0)
    assert not claim(store, T0 + timedelta(minutes=9))
    assert claim(store, T0 + timedelta(minutes=11))


def test_reports_are_replaced_whole(open_store: OpenStore) -> None:
    store = open_store()
    store.finish_health_round([("a.example.com", "b1", T0, "{}"),
                               ("b.example.com", "b2", T0, '{"k": "v"}')], T0)
    assert store.health_rows() == [("a.example.com", "b1", T0, "{}"),
                                   ("b.example.com", "b2", T0, '{"k": "v"}')]
    later = T0 + HOUR
    store.finish_health_round([("b.example.com", "b2", later, "[]")], later)
    assert store.health_rows() == [("b.example.com", "b2", later, "[]")]
    assert open_store().health_rows() == [("b.example.com", "b2", later, "[]")]


def test_racing_processes_claim_a_round_exactly_once(open_store: OpenStore) -> None:
    stores = [open_store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    won: list[bool] = []

    def race(store: Store) -> None:
        barrier.wait()
        won.append(claim(store, T0))

    threads = [threading.Thread(target=race, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]
