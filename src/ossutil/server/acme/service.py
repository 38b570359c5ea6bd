"""AcmeService: automatic certificates for bound domains (``serve --acme-directory``).

The scheduler asks the store every ``POLL`` seconds (and at once after a binding change) which
names are due: enabled, not dangling, no uploaded certificate, and no automatic certificate yet
or its renewal time reached (``AcmeStore.acme_due``). Only names in the binding table are ever
ordered; the permission check is that table, in the process (no remote "ask" endpoint).

For each due name, one order at a time per process:

1. take the order lease (``take_acme_lease``): several processes on one PostgreSQL database
   race for it and exactly one wins, so a name gets one order;
2. check CAA (``caa.py``), with a clear report when the records forbid the CA;
3. order in a worker thread (``client.py``): the challenge is published through the store, so
   whichever process the CA reaches answers it;
4. seal the new ECDSA P-256 key (SecretBox, context = the certificate id, as uploaded keys) and
   store the certificate with its renewal time; the store records a binding change, so this
   process serves it at once (``on_issued``) and every other one within its 0.5 s poll.

Renewal: at two thirds of the lifetime minus up to 1/15 of it (jitter, so names issued together
do not renew together), or when the CA's ARI window says (when it offers ARI). A failure is
logged, kept in the state row (last attempt, error, failures, next attempt) and retried with
exponential back-off from ``--acme-retry-base`` (doubling, capped at 6 h and at a quarter of
the remaining lifetime so retries happen well before expiry), never before the CA's
``Retry-After``, at least an hour after a ``rateLimited`` error without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from ossutil.certcheck import describe_certificate
from ossutil.server.acme.caa import CaaCheck, CaaForbidden
from ossutil.server.acme.challenges import ALPN_POLL, ChallengeResponder
from ossutil.server.acme.client import TLS_ALPN_01, AcmeClient, AcmeFailure, Eab, new_key_pem
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import AcmeState, Certificate, CertificateType
from ossutil.server.settings import SHARED_STORES, Settings
from ossutil.server.storage.base import Store, StoreRunner
from ossutil.server.throttle import Throttled

log = logging.getLogger("ossutil.server.acme")

POLL = 1.0  # seconds between looks at the due list (a binding change wakes it at once)
BATCH = 64  # due names read per look
LEASE = timedelta(minutes=5)  # one order's lease; a crashed process's lease runs out
MAX_BACKOFF = 6 * 3600.0
RATE_LIMIT_BACKOFF = 3600.0
ACCOUNT_VALUE = "acme-account-key:"  # + directory URL: the sealed account key (server_values)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def renewal_time(not_before: datetime, not_after: datetime,
                 rng: random.Random | None = None) -> datetime:
    """Two thirds into the lifetime, minus up to 1/15 of it (jitter)."""
    life = not_after - not_before
    jitter = (rng or random).uniform(0, life.total_seconds() / 15)
    return not_before + life * 2 / 3 - timedelta(seconds=jitter)


def retry_delay(failures: int, base: float, remaining: timedelta | None) -> float:
    """Seconds before the next attempt after ``failures`` failures in a row (1 = the first)."""
    delay = min(base * 2.0 ** max(failures - 1, 0), MAX_BACKOFF)
    if remaining is not None and remaining.total_seconds() > 0:
        delay = min(delay, max(base, remaining.total_seconds() / 4))
    return delay * random.uniform(0.9, 1.1)


class AcmeService:
    def __init__(self, settings: Settings, runner: StoreRunner[Store], box: SecretBox, *,
                 on_issued: Callable[[str], Awaitable[None]],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._settings = settings
        self._runner = runner
        self._box = box
        self._on_issued = on_issued
        self._clock = clock
        self.responder = ChallengeResponder(runner, clock)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._caa = CaaCheck(settings.dns_servers or None)
        self._client: AcmeClient | None = None
        self._owner = ""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._working: asyncio.Task[bool] | None = None
        self._poll_failed = Throttled(log)
        self.orders = 0  # orders this process started (tests, metrics)
        # TLS-ALPN-01 with other processes (a shared store, --workers): they answer only once
        # their poll of the store built the challenge context, so the CA is told to validate
        # two polls after publishing. HTTP-01 reads the store per request: no wait.
        self._settle = 0.0
        if self.challenge == TLS_ALPN_01 and (settings.store in SHARED_STORES
                                              or settings.reuse_port):
            self._settle = 2 * ALPN_POLL

    @property
    def challenge(self) -> str:
        return self._settings.acme_challenge

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Open (or create, first process wins) the sealed account key; start scheduling.
        The CA is not contacted yet: an unreachable CA delays certificates, never start-up."""
        store = self._runner.store
        name = ACCOUNT_VALUE + self._settings.acme_directory
        record = await self._runner(store.get_server_value, name)
        if record is None:
            candidate = await asyncio.to_thread(self._box.encrypt, new_key_pem(),
                                                context=name.encode())
            record = await self._runner(store.put_server_value_if_absent, name, candidate)
        key_pem = await asyncio.to_thread(self._box.decrypt, record, context=name.encode())
        eab = None
        if self._settings.acme_eab_kid:
            eab = Eab(self._settings.acme_eab_kid, self._settings.acme_eab_hmac_key)
        self._client = AcmeClient(self._settings.acme_directory, key_pem,
                                  ca_bundle=self._settings.acme_ca_bundle,
                                  email=self._settings.acme_email, eab=eab)
        root = await self._runner(store.root_account)
        self._owner = root.owner_id if root is not None else ""
        if self.challenge == TLS_ALPN_01:
            self.responder.start_alpn_poll()
        self._task = asyncio.create_task(self._schedule())

    async def stop(self) -> None:
        tasks: tuple[asyncio.Task[Any] | None, ...] = (self._task, self._working)
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._working = None
        await self.responder.stop()

    def nudge(self, _domain: str = "") -> None:
        """A binding changed: look at the due list now."""
        self._wake.set()

    async def states(self, domains: list[str] | None = None) -> list[AcmeState]:
        """Every automatic certificate's state (domain health's read API, via the store)."""
        return await self._runner(self._runner.store.acme_states, domains)

    # --- scheduling -----------------------------------------------------------------------

    async def _schedule(self) -> None:
        store = self._runner.store
        while True:
            self._wake.clear()
            try:
                due = await self._runner(store.acme_due, self._clock(), BATCH)
            except Exception as exc:  # the store is down: keep serving, look again later
                self._poll_failed("ACME: reading the due list failed: %s", exc)
                due = []
            ordered = False
            for domain in due:
                working = self._working = asyncio.create_task(self._order(domain))
                with contextlib.suppress(Exception):
                    await working
                ordered = ordered or bool(working.done() and not working.cancelled()
                                          and working.exception() is None and working.result())
                self._working = None
            if not ordered:  # nothing to do, or every due name another process's: wait
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL)

    async def _order(self, domain: str) -> bool:
        """One order for ``domain`` when this process wins its lease (True: it ran)."""
        store = self._runner.store
        now = self._clock()
        if not await self._runner(store.take_acme_lease, domain, self.holder, now, now + LEASE):
            return False  # another process orders it, or it is no longer due
        self.orders += 1
        started = time.monotonic()
        assert self._client is not None
        client = self._client
        try:
            await asyncio.to_thread(client.prepare)  # directory (caaIdentities), account
            identities = self._settings.acme_caa_identities or client.caa_identities
            await self._caa.check(domain, identities)
            issued = await asyncio.to_thread(client.issue, domain, self.challenge,
                                             self.responder.publish, self.responder.withdraw,
                                             settle=self._settle)
            certificate = await asyncio.to_thread(self._certificate, issued.chain_pem,
                                                  issued.key_pem)
            renew_at = issued.renew_at or renewal_time(certificate.not_before,
                                                       certificate.not_after)
        except (AcmeFailure, CaaForbidden) as failure:
            await self._failed(domain, failure, now)
            return True
        except Exception as exc:
            log.exception("ACME: the order for %s failed unexpectedly", domain)
            await self._failed(domain, AcmeFailure(f"internal error: {exc}"), now)
            return True
        if await self._runner(store.put_acme_certificate, domain, self.holder, certificate,
                              renew_at):
            log.info("ACME: certificate for %s issued in %.1f s (SHA-1 %s, valid until %s, "
                     "renewal from %s)", domain, time.monotonic() - started,
                     certificate.fingerprint, certificate.not_after.isoformat(),
                     renew_at.isoformat(timespec="seconds"))
            await self._on_issued(domain)
        else:
            log.info("ACME: certificate for %s dropped: the binding was deleted meanwhile",
                     domain)
        return True

    def _certificate(self, chain_pem: str, key_pem: bytes) -> Certificate:
        """In a worker thread: the record to store, key sealed as uploaded keys are."""
        facts = describe_certificate(chain_pem)
        cert_id = f"acme-{secrets.token_hex(8)}"
        sealed = self._box.encrypt(key_pem, context=cert_id.encode())
        return Certificate(cert_id, self._owner, CertificateType.ACME, chain_pem, sealed,
                           facts.fingerprint, facts.not_before, facts.not_after,
                           self._clock())

    async def _failed(self, domain: str, failure: Exception, attempted: datetime) -> None:
        store = self._runner.store
        states = await self._runner(store.acme_states, [domain])
        state = states[0] if states else None
        failures = (state.failures if state is not None else 0) + 1
        remaining = None
        if state is not None and state.not_after is not None:
            remaining = state.not_after - self._clock()
        delay = retry_delay(failures, self._settings.acme_retry_base, remaining)
        retry_after = getattr(failure, "retry_after", None)
        if getattr(failure, "rate_limited", False) and retry_after is None:
            delay = max(delay, RATE_LIMIT_BACKOFF)
        next_attempt = self._clock() + timedelta(seconds=delay)
        if retry_after is not None and retry_after > next_attempt:
            next_attempt = retry_after
        text = str(failure)[:1000]
        await self._runner(store.record_acme_failure, domain, self.holder, attempted, text,
                           next_attempt)
        expiry = ""
        if remaining is not None:
            expiry = (f"; the current certificate expires in "
                      f"{max(remaining.total_seconds(), 0) / 86400:.1f} days")
        log.warning("ACME: order for %s failed (%d in a row): %s; next attempt at %s%s",
                    domain, failures, text, next_attempt.isoformat(timespec="seconds"), expiry)
