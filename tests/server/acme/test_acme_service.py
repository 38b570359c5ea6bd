"""AcmeService's failure bookkeeping on a real SQLite store: back-off, the CA's Retry-After,
rate limits, and the log line a failing renewal leaves (no CA needed: the failures are given)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from ossutil.server.acme.client import AcmeFailure, _retry_after
from ossutil.server.acme.service import RATE_LIMIT_BACKOFF, AcmeService
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import (
    AcmeState,
    BindingChange,
    Bucket,
    BucketAcl,
    CertAction,
    Certificate,
    CertificateType,
)
from ossutil.server.settings import Settings
from ossutil.server.storage.base import Store, StoreRunner
from ossutil.server.storage.sqlite import SqliteStore

DOMAIN = "www.example.com"


def test_retry_after_seconds_and_dates() -> None:
    now = datetime.now(timezone.utc)
    in_two_minutes = _retry_after("120")
    assert in_two_minutes is not None
    assert abs((in_two_minutes - now).total_seconds() - 120) < 5
    moment = (now + timedelta(hours=3)).replace(microsecond=0)
    assert _retry_after(format_datetime(moment, usegmt=True)) == moment
    assert _retry_after("soon") is None and _retry_after(None) is None
    capped = _retry_after("999999999")
    assert capped is not None and capped - now <= timedelta(days=7, seconds=5)


async def fail_once(tmp_path: Path, failure: Exception,
                    certificate: Certificate | None = None) -> AcmeState:
    store: Store = SqliteStore(tmp_path / "ossutil.db")
    runner = StoreRunner(store)
    try:
        now = datetime.now(timezone.utc)
        store.create_bucket(Bucket("b1", "1", "cn-hangzhou", BucketAcl.PRIVATE, "Standard", now))
        store.apply_binding(BindingChange(DOMAIN, "b1", now, True, CertAction.KEEP))
        settings = Settings(data_dir=tmp_path, acme_directory="https://ca.invalid/dir",
                            acme_retry_base=10.0)

        async def issued(_: str) -> None:
            raise AssertionError("nothing is issued here")

        service = AcmeService(settings, runner, SecretBox(bytes(32)), on_issued=issued)
        if certificate is not None:
            assert store.take_acme_lease(DOMAIN, "other", now, now + timedelta(minutes=1))
            assert store.put_acme_certificate(DOMAIN, "other", certificate, now)
        assert store.take_acme_lease(DOMAIN, service.holder, now, now + timedelta(minutes=5))
        await service._failed(DOMAIN, failure, now)
        [state] = store.acme_states()
        assert not store.take_acme_lease(DOMAIN, "p2", now, now)  # not due: backed off
        return state
    finally:
        runner.close()


def test_a_failure_backs_off_from_the_base(tmp_path: Path) -> None:
    before = datetime.now(timezone.utc)
    state = asyncio.run(fail_once(tmp_path, AcmeFailure("the ACME CA could not be reached")))
    assert (state.failures, state.last_error) == (1, "the ACME CA could not be reached")
    assert state.next_attempt is not None and state.last_attempt is not None
    assert timedelta(seconds=8) < state.next_attempt - before < timedelta(seconds=12)


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    state = asyncio.run(fail_once(tmp_path, AcmeFailure("busy", retry_after=later)))
    assert state.next_attempt is not None and abs(state.next_attempt - later) < timedelta(
        milliseconds=1)


def test_a_rate_limit_without_retry_after_waits_an_hour(tmp_path: Path) -> None:
    before = datetime.now(timezone.utc)
    state = asyncio.run(fail_once(tmp_path, AcmeFailure(
        "the ACME CA refused: too many certificates (rateLimited)", rate_limited=True)))
    assert state.next_attempt is not None
    assert state.next_attempt - before >= timedelta(seconds=RATE_LIMIT_BACKOFF)


def test_a_failing_renewal_says_when_the_certificate_expires(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(timezone.utc)
    current = Certificate("acme-1", "1", CertificateType.ACME, "CHAIN", b"sealed", "AB",
                          now - timedelta(days=80), now + timedelta(days=10), now)
    with caplog.at_level(logging.WARNING, "ossutil.server.acme"):
        state = asyncio.run(fail_once(tmp_path, AcmeFailure("the CA said no"), current))
    assert state.certificate is not None and state.last_error == "the CA said no"
    [line] = [r.getMessage() for r in caplog.records if "order for" in r.getMessage()]
    assert line.startswith(f"ACME: order for {DOMAIN} failed (1 in a row): the CA said no; "
                           "next attempt at ")
    assert line.endswith("; the current certificate expires in 10.0 days")
