"""The ACME part of the Store contract, against SqliteStore and PostgresStore: automatic
certificate rows, the order lease (exactly one of several racing store instances wins), shared
challenge responses, the dangling flag, and that DeleteCname drops them all."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from tests.support.stores import OpenStore

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import (
    BindingChange,
    Bucket,
    BucketAcl,
    CertAction,
    Certificate,
    CertificateType,
)
from ossutil.server.storage.base import Store

T0 = datetime(2026, 2, 1, 3, 4, 5, tzinfo=timezone.utc)
OWNER = "1234567890123456"
SEALER = Sealer(SecretBox(bytes(range(32))))


def bound(store: Store, domain: str = "www.example.com") -> Store:
    store.create_bucket(Bucket("b1", OWNER, "cn-hangzhou", BucketAcl.PRIVATE, "Standard", T0))
    store.apply_binding(BindingChange(domain, "b1", T0, True, CertAction.KEEP))
    return store


def auto_certificate(cert_id: str = "acme-1") -> Certificate:
    return Certificate(cert_id, OWNER, CertificateType.ACME, "CHAIN", b"sealed-key", "AB:CD",
                       T0, T0 + timedelta(days=90), T0 + timedelta(minutes=1))


def uploaded_certificate() -> Certificate:
    return Certificate("123-cn-hangzhou", OWNER, CertificateType.UPLOAD, "UPLOADED",
                       b"sealed", "EF:01", T0, T0 + timedelta(days=30), T0)


def test_a_new_binding_is_due_and_one_lease_holder_stores_the_certificate(
        open_store: OpenStore) -> None:
    store = bound(open_store())
    assert store.acme_due(T0, 10) == ["www.example.com"]
    assert store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    assert not store.take_acme_lease("www.example.com", "p2", T0, T0 + timedelta(minutes=2))
    assert store.acme_due(T0, 10) == []  # leased
    before = store.changes_since(0)[0]
    renew_at = T0 + timedelta(days=60)
    assert not store.put_acme_certificate("www.example.com", "p2", auto_certificate(), renew_at)
    assert store.put_acme_certificate("www.example.com", "p1", auto_certificate(), renew_at)
    assert store.changes_since(before) == (before + 1, ["www.example.com"])  # processes re-read
    binding = store.get_binding("www.example.com")
    assert binding is not None and binding.certificate is None
    assert binding.auto_certificate == auto_certificate()
    assert binding.served_certificate == auto_certificate()
    [state] = store.acme_states()
    assert (state.domain, state.issued_at, state.not_after, state.last_error, state.next_attempt,
            state.failures) == ("www.example.com", T0 + timedelta(minutes=1),
                                T0 + timedelta(days=90), None, renew_at, 0)
    # not due before two thirds of its life; due (and leasable again) after
    assert store.acme_due(T0 + timedelta(days=59), 10) == []
    assert not store.take_acme_lease("www.example.com", "p2", T0 + timedelta(days=59),
                                     T0 + timedelta(days=59, minutes=2))
    assert store.acme_due(renew_at, 10) == ["www.example.com"]
    routes: list[tuple[object, ...]] = []
    store.binding_routes(lambda rows: routes.extend(tuple(r) for r in rows))
    assert routes == [("www.example.com", "b1", "acme-1", "AB:CD", "CHAIN", b"sealed-key")]


def test_failures_are_recorded_and_release_the_lease(open_store: OpenStore) -> None:
    store = bound(open_store())
    assert store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    later = T0 + timedelta(seconds=30)
    store.record_acme_failure("www.example.com", "p1", T0, "CA unreachable", later)
    store.record_acme_failure("www.example.com", "p2", T0, "not my lease", later)  # ignored
    [state] = store.acme_states(["www.example.com"])
    assert (state.certificate, state.last_attempt, state.last_error, state.next_attempt,
            state.failures) == (None, T0, "CA unreachable", later, 1)
    assert store.acme_due(T0, 10) == []
    assert store.acme_due(later, 10) == ["www.example.com"]
    assert store.take_acme_lease("www.example.com", "p2", later, later + timedelta(minutes=2))
    store.schedule_acme("www.example.com", T0)
    assert store.acme_states(["nothing.example.com"]) == []


def test_an_expired_lease_can_be_taken_over(open_store: OpenStore) -> None:
    store = bound(open_store())
    assert store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    assert not store.take_acme_lease("www.example.com", "p2", T0 + timedelta(minutes=1),
                                     T0 + timedelta(minutes=3))
    assert store.take_acme_lease("www.example.com", "p2", T0 + timedelta(minutes=2),
                                 T0 + timedelta(minutes=4))


def test_racing_store_instances_get_exactly_one_lease(open_store: OpenStore) -> None:
    bound(open_store())
    stores = [open_store() for _ in range(4)]
    won: list[str] = []
    start = threading.Barrier(len(stores))

    def race(index: int, store: Store) -> None:
        start.wait()
        if store.take_acme_lease("www.example.com", f"p{index}", T0, T0 + timedelta(minutes=2)):
            won.append(f"p{index}")

    threads = [threading.Thread(target=race, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_uploaded_certificates_and_dangling_bindings_get_no_orders(
        open_store: OpenStore) -> None:
    store = bound(open_store())
    store.apply_binding(BindingChange("www.example.com", "b1", T0, False, CertAction.ATTACH,
                                      "123-cn-hangzhou", uploaded_certificate()))
    assert store.acme_due(T0, 10) == []
    assert not store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    store.apply_binding(BindingChange("www.example.com", "b1", T0, False, CertAction.DETACH))
    assert store.acme_due(T0, 10) == ["www.example.com"]
    assert store.set_binding_health("www.example.com", True)
    binding = store.get_binding("www.example.com")
    assert binding is not None and binding.dangling
    assert store.acme_due(T0, 10) == []
    assert not store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    assert store.set_binding_health("www.example.com", False)
    assert store.acme_due(T0, 10) == ["www.example.com"]
    assert not store.set_binding_health("other.example.com", True)


def test_an_uploaded_certificate_wins_over_the_automatic_one(open_store: OpenStore) -> None:
    store = bound(open_store())
    assert store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    assert store.put_acme_certificate("www.example.com", "p1", auto_certificate(),
                                      T0 + timedelta(days=60))
    store.apply_binding(BindingChange("www.example.com", "b1", T0, False, CertAction.ATTACH,
                                      "123-cn-hangzhou", uploaded_certificate()))
    binding = store.get_binding("www.example.com")
    assert binding is not None and binding.served_certificate == uploaded_certificate()
    routes: list[tuple[object, ...]] = []
    store.binding_routes(lambda rows: routes.extend(tuple(r) for r in rows))
    assert routes == [("www.example.com", "b1", "123-cn-hangzhou", "EF:01", "UPLOADED",
                       b"sealed")]


def test_challenges_are_shared_and_go_with_the_binding(open_store: OpenStore) -> None:
    store = bound(open_store())
    other = open_store()  # another process on the same database
    store.put_acme_challenge("www.example.com", "tok1", "http-01", "tok1.thumb",
                             T0 + timedelta(minutes=5))
    store.put_acme_challenge("www.example.com", "alpn", "tls-alpn-01", "alpn.thumb",
                             T0 + timedelta(minutes=5))
    assert other.get_acme_challenge("www.example.com", "tok1", T0) == "tok1.thumb"
    assert other.get_acme_challenge("other.example.com", "tok1", T0) is None
    assert other.get_acme_challenge("www.example.com", "alpn", T0) is None  # not HTTP-01
    assert other.get_acme_challenge("www.example.com", "tok1", T0 + timedelta(minutes=5)) is None
    assert other.acme_challenges("tls-alpn-01", T0) == [("www.example.com", "alpn.thumb")]
    other.delete_acme_challenge("www.example.com", "tok1")
    assert store.get_acme_challenge("www.example.com", "tok1", T0) is None
    assert store.take_acme_lease("www.example.com", "p1", T0, T0 + timedelta(minutes=2))
    assert store.put_acme_certificate("www.example.com", "p1", auto_certificate(),
                                      T0 + timedelta(days=60))
    assert store.delete_binding("b1", "www.example.com")
    assert store.acme_states() == []
    assert store.acme_challenges("tls-alpn-01", T0) == []
    # a certificate issued after DeleteCname is not stored
    assert not store.put_acme_certificate("www.example.com", "p1", auto_certificate(),
                                          T0 + timedelta(days=60))
