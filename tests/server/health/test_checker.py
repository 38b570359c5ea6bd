"""HealthChecker over a real SQLite store and a real loopback DNS server: the automatic
certificate's state as the ACME store reports it (renewed, failing, pending), expiry, and the
dangling mark that keeps a name out of ACME orders (and is lifted when DNS points back)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.support.dns_server import DnsServer

from ossutil.server.health.checker import HealthChecker
from ossutil.server.health.lookup import RecordLookup
from ossutil.server.health.report import DomainReport
from ossutil.server.health.task import HealthTask, due
from ossutil.server.models import (
    BindingChange,
    Bucket,
    BucketAcl,
    CertAction,
    Certificate,
    CertificateType,
)
from ossutil.server.storage.base import Store, StoreRunner
from ossutil.server.storage.sqlite import SqliteStore

T0 = datetime(2026, 2, 1, 3, 4, 5, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=80)
OWNER = "1234567890123456"
ENDPOINT = "oss-cn-hangzhou.example.com"


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = SqliteStore(tmp_path / "ossutil.db")
    opened.create_bucket(Bucket("b1", OWNER, "cn-hangzhou", BucketAcl.PRIVATE, "Standard", T0))
    yield opened
    opened.close()


def bind(store: Store, dns: DnsServer, domain: str) -> None:
    store.apply_binding(BindingChange(domain, "b1", T0, True, CertAction.KEEP))
    dns.cname(domain, f"b1.{ENDPOINT}")


def automatic(cert_id: str) -> Certificate:
    return Certificate(cert_id, OWNER, CertificateType.ACME, "CHAIN", b"sealed", "AB:CD", T0,
                       T0 + timedelta(days=90), T0 + timedelta(minutes=1))


def checker(store: Store, dns: DnsServer, *public: str) -> tuple[HealthChecker,
                                                                 StoreRunner[Store]]:
    runner = StoreRunner(store)
    return HealthChecker(runner, RecordLookup([dns.address]), endpoint_domain=ENDPOINT,
                         public_addresses=public, clock=lambda: NOW), runner


def test_automatic_certificates_report_their_renewal_state(store: Store,
                                                           dns: DnsServer) -> None:
    for domain in ("renewed.a.test", "failing.a.test", "pending.a.test"):
        bind(store, dns, domain)
    for domain in ("renewed.a.test", "failing.a.test"):
        assert store.take_acme_lease(domain, "p1", T0, T0 + timedelta(minutes=2))
        assert store.put_acme_certificate(domain, "p1", automatic(f"acme-{domain}"),
                                          T0 + timedelta(days=60))
    renewal = T0 + timedelta(days=60, hours=1)
    assert store.take_acme_lease("failing.a.test", "p1", renewal, renewal + timedelta(minutes=2))
    store.record_acme_failure("failing.a.test", "p1", renewal, "CAA forbids the CA",
                              renewal + timedelta(minutes=10))
    assert store.take_acme_lease("pending.a.test", "p1", T0, T0 + timedelta(minutes=2))
    health, runner = checker(store, dns)
    try:
        reports = {r.domain: r for r in asyncio.run(health.run_round())}
    finally:
        runner._executor.shutdown(wait=True)
    expiring = ("certificate: acme-{} expires in 10 days (2026-05-02T03:04:05Z). It is "
                "renewed automatically: see its renewal state (domains --json) and the "
                "server's log.")
    assert reports["renewed.a.test"] == DomainReport(
        "renewed.a.test", "b1", NOW, "ok", f"CNAME renewed.a.test -> b1.{ENDPOINT}",
        "not-checked", "", "no HTTPS listener (--https-port)", "ok",
        "issued 2026-02-01T03:05:05Z; next renewal 2026-04-02T03:04:05Z",
        (expiring.format("renewed.a.test"),))
    failed = ("the last order or renewal failed at 2026-04-02T04:04:05Z: CAA forbids the CA; "
              "next attempt 2026-04-02T04:14:05Z")
    assert reports["failing.a.test"] == DomainReport(
        "failing.a.test", "b1", NOW, "ok", f"CNAME failing.a.test -> b1.{ENDPOINT}",
        "not-checked", "", "no HTTPS listener (--https-port)", "failed", failed,
        (expiring.format("failing.a.test"),
         f"automatic certificate: {failed}. Fix the cause (DNS, CAA, the CA's reachability); "
         "retries continue with back-off."))
    assert (reports["pending.a.test"].renewal_state,
            reports["pending.a.test"].renewal_detail) == ("pending", "no certificate issued yet")
    assert DomainReport.from_json(reports["failing.a.test"].to_json()) == \
        reports["failing.a.test"]


def test_a_dangling_domain_gets_no_orders_until_it_points_back(store: Store,
                                                             dns: DnsServer) -> None:
    bind(store, dns, "www.a.test")
    dns.cname("www.a.test", "elsewhere.b.test")
    dns.a("elsewhere.b.test", "192.0.2.44")
    assert store.acme_due(NOW, 10) == ["www.a.test"]
    health, runner = checker(store, dns, "198.51.100.1")
    try:
        [report] = asyncio.run(health.run_round())
        assert report.dns_state == "dangling"
        binding = store.get_binding("www.a.test")
        assert binding is not None and binding.dangling
        assert store.acme_due(NOW, 10) == []  # no orders for a name that is not ours
        assert not store.take_acme_lease("www.a.test", "p1", NOW, NOW + timedelta(minutes=2))
        dns.cname("www.a.test", f"b1.{ENDPOINT}")
        [report] = asyncio.run(health.run_round())
        assert report.dns_state == "ok"
        assert store.acme_due(NOW, 10) == ["www.a.test"]
    finally:
        runner._executor.shutdown(wait=True)


def test_a_round_is_due_on_request_on_schedule_or_never_run() -> None:
    hour = timedelta(hours=1)
    assert due((None, None, None), NOW, hour, scheduled=True)
    assert not due((None, None, None), NOW, hour, scheduled=False)  # warming up
    assert due((NOW, None, None), NOW, hour, scheduled=False)  # asked for
    ran = (NOW - 2 * hour, NOW - 2 * hour, NOW - 2 * hour + timedelta(seconds=3))
    assert due(ran, NOW, hour, scheduled=True)
    recent = (None, NOW - timedelta(minutes=5), NOW - timedelta(minutes=4))
    assert not due(recent, NOW, hour, scheduled=True)
    asked_since = (NOW - timedelta(minutes=1), NOW - timedelta(minutes=5),
                   NOW - timedelta(minutes=4))
    assert due(asked_since, NOW, hour, scheduled=False)


def test_the_task_runs_a_requested_round_and_writes_its_reports(store: Store,
                                                               dns: DnsServer) -> None:
    bind(store, dns, "www.a.test")
    health, runner = checker(store, dns)
    task = HealthTask(health, runner, interval=3600, clock=lambda: NOW, warm_up=3600)

    async def twice() -> None:
        await task.poll_once()  # warming up, nothing asked: no round
        assert store.health_rows() == []
        store.request_health_round(NOW - timedelta(seconds=1))
        await task.poll_once()

    try:
        asyncio.run(twice())
    finally:
        runner._executor.shutdown(wait=True)
    [(domain, bucket, checked, text)] = store.health_rows()
    assert (domain, bucket, checked, task.rounds) == ("www.a.test", "b1", NOW, 1)
    assert DomainReport.from_json(text).dns_state == "ok"


def test_offline_mode_checks_no_dns_and_marks_nothing(store: Store, dns: DnsServer) -> None:
    bind(store, dns, "www.a.test")
    runner = StoreRunner(store)
    health = HealthChecker(runner, None, endpoint_domain=ENDPOINT, public_addresses=(),
                           clock=lambda: NOW)
    try:
        [report] = asyncio.run(health.run_round())
    finally:
        runner._executor.shutdown(wait=True)
    assert (report.dns_state, report.dns_detail, report.problems) == (
        "unknown", "not checked: this server answers DNS from --dns-zone-file", ())
    assert dns.queries == []
    binding = store.get_binding("www.a.test")
    assert binding is not None and not binding.dangling
