"""One health check of every binding: DNS, the served certificate, the automatic certificate.

For each binding:

- **DNS** (``dnsrules.pointing``): its A/AAAA look-up (CNAMEs followed) must reach the endpoint
  domain (``<bucket>.<endpoint-domain>`` or any name under it) or end on ``--public-address``
  addresses. No such name, or no address: **dangling**. Addresses that are not ``--public-address``
  ones: dangling when public addresses are configured; without them this server cannot tell
  whether they are its own, so the state is ``unknown`` and the report says to give them. A
  failed look-up is ``unknown`` too. Dangling bindings are marked in the store
  (``set_binding_health``), which stops automatic orders and renewals for them; a binding that
  points here again is unmarked. ``unknown`` changes nothing.
- **Served certificate**: a TLS handshake with SNI = the domain, to the first address DNS gave
  when the domain points here (what clients reach: a proxy in front of this server shows up),
  else to this server's own HTTPS listener; the leaf's SHA-1 fingerprint (ListCname's form) is
  compared with the held certificate's (uploaded, else automatic). A mismatch is retried once a
  second later (a certificate another process attached a moment ago may still be building).
- **Expiry**: fewer than ``EXPIRING_SOON_DAYS`` days left, or expired, is a problem.
- **Automatic certificate** (``acme_states``, the ACME store's read API): the last order or
  renewal failed, with its error and the next attempt.

Every problem is one sentence that ends with what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime

from ossutil.dnsrules.pointing import Pointing, decide
from ossutil.dnsrules.records import merge_addresses
from ossutil.server.health.lookup import RecordLookup
from ossutil.server.health.report import (
    EXPIRING_SOON_DAYS,
    DomainReport,
    days_left,
    held_certificate,
    iso,
)
from ossutil.server.models import AcmeState, Binding
from ossutil.server.storage.base import Store, StoreRunner

log = logging.getLogger("ossutil.server.health")

CONCURRENCY = 8  # bindings checked at once
TLS_TIMEOUT = 5.0  # seconds for one connection and handshake
RETRY_DELAY = 1.0  # seconds before the one retry of a differing certificate


def fingerprint(der: bytes) -> str:
    """ListCname's ``Fingerprint`` form of a DER certificate: SHA-1, upper-case hex pairs."""
    digest = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _not_after(der: bytes) -> datetime:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).not_valid_after_utc


async def automatic_states(runner: StoreRunner[Store]) -> dict[str, AcmeState]:
    """Every bound domain's automatic-certificate state (issued, not-after, last renewal
    result): the ACME store's read API, the one place health reads it."""
    states = await runner(runner.store.acme_states, None)
    return {state.domain: state for state in states}


async def mark_dangling(runner: StoreRunner[Store], domain: str, dangling: bool) -> None:
    """Record that ``domain`` no longer points here (no ACME orders for it), or again does."""
    await runner(runner.store.set_binding_health, domain, dangling)


class HealthChecker:
    """Checks bindings; ``tls_address`` (host, port) is this server's HTTPS listener, set by
    the runtime once it listens (None: no HTTPS, the served certificate is not checked)."""

    def __init__(self, runner: StoreRunner[Store], lookup: RecordLookup | None, *,
                 endpoint_domain: str, public_addresses: Sequence[str],
                 clock: Callable[[], datetime], concurrency: int = CONCURRENCY,
                 tls_timeout: float = TLS_TIMEOUT, retry_delay: float = RETRY_DELAY) -> None:
        self._runner = runner
        self._lookup = lookup
        self.endpoint_domain = endpoint_domain
        self.public_addresses = tuple(public_addresses)
        self._clock = clock
        self._concurrency = concurrency
        self._tls_timeout = tls_timeout
        self._retry_delay = retry_delay
        self.tls_address: tuple[str, int] | None = None
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # we compare, we do not trust
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE

    async def run_round(self) -> list[DomainReport]:
        """Check every binding; mark the ones found dangling (and unmark the ones back)."""
        runner = self._runner
        bindings = await runner(runner.store.all_bindings)
        states = await automatic_states(runner)
        gate = asyncio.Semaphore(self._concurrency)

        async def one(binding: Binding) -> DomainReport:
            async with gate:
                return await self.check(binding, states.get(binding.domain))

        reports = await asyncio.gather(*(one(binding) for binding in bindings))
        for binding, report in zip(bindings, reports, strict=True):
            if report.dns_state == "dangling" and not binding.dangling:
                log.warning("%s no longer points here (%s): marked dangling, no automatic "
                            "certificate orders for it", binding.domain, report.dns_detail)
                await mark_dangling(runner, binding.domain, True)
            elif report.dns_state == "ok" and binding.dangling:
                log.warning("%s points here again (%s)", binding.domain, report.dns_detail)
                await mark_dangling(runner, binding.domain, False)
        return list(reports)

    async def check(self, binding: Binding, acme: AcmeState | None) -> DomainReport:
        domain = binding.domain
        addresses: tuple[str, ...] = ()
        if self._lookup is None:
            pointing = Pointing("unknown", "not checked: this server answers DNS from "
                                           "--dns-zone-file")
        else:
            a, aaaa = await self._lookup.addresses(domain)
            addresses = merge_addresses((a, aaaa))
            outcome = (a.outcome if a.outcome != "nodata" or aaaa.outcome == "nodata"
                       else aaaa.outcome)
            chain = a.chain if len(a.chain) >= len(aaaa.chain) else aaaa.chain
            pointing = decide(domain, chain, addresses, outcome, a.detail or aaaa.detail,
                              service_names=(self.endpoint_domain,),
                              service_addresses=self.public_addresses)
        now = self._clock()
        problems: list[str] = []
        if pointing.state == "dangling":
            problems.append(
                f"DNS: {pointing.detail}. Point {domain} at {binding.bucket}."
                f"{self.endpoint_domain} (CNAME)"
                + (f" or {', '.join(self.public_addresses)} (A/AAAA)"
                   if self.public_addresses else "")
                + ", or DeleteCname it if it moved away for good; until then it gets no "
                  "new automatic certificate.")
        elif pointing.state == "unknown" and self._lookup is not None:
            problems.append(f"DNS: {pointing.detail}. "
                            + ("Start the server with --public-address ADDRESS for each "
                               "address it is reached at."
                               if addresses and not self.public_addresses else
                               "The next check tries again; if this persists, check the "
                               "server's --dns-server."))
        held = held_certificate(binding)
        served_state, served_fp, served_detail = await self._served(
            domain, addresses if pointing.state == "ok" else (), held.fingerprint
            if held is not None else None)
        if served_state == "differs" and held is not None:
            problems.append(f"TLS: {served_detail}. Clients get a certificate this server "
                            f"does not hold for {domain}: if a proxy or CDN is in front, "
                            "give it the certificate shown by ListCname; else see this "
                            "server's log for a certificate that cannot be loaded and upload "
                            "it again with PutCname.")
        elif served_state == "unreachable":
            problems.append(f"TLS: {served_detail}. Check that the HTTPS port is reachable "
                            "at that address.")
        if held is not None:
            left = days_left(held.not_after, now)
            automatic = binding.certificate is None
            renew = ("It is renewed automatically: see its renewal state (domains --json) "
                     "and the server's log." if automatic else
                     "Upload a renewed certificate with PutCname (bucket-cname --method put "
                     "--item certificate).")
            if left < 0:
                problems.append(f"certificate: {held.cert_id} expired on "
                                f"{iso(held.not_after)}. {renew}")
            elif left < EXPIRING_SOON_DAYS:
                problems.append(f"certificate: {held.cert_id} expires in {left} "
                                f"day{'' if left == 1 else 's'} ({iso(held.not_after)}). "
                                f"{renew}")
        renewal_state, renewal_detail = "", ""
        if binding.certificate is None and acme is not None:
            renewal_state, renewal_detail = _renewal(acme)
            if renewal_state == "failed":
                problems.append(f"automatic certificate: {renewal_detail}. Fix the cause "
                                "(DNS, CAA, the CA's reachability); retries continue with "
                                "back-off.")
        return DomainReport(domain, binding.bucket, now, pointing.state, pointing.detail,
                            served_state, served_fp, served_detail, renewal_state,
                            renewal_detail, tuple(problems))

    async def _served(self, domain: str, addresses: Sequence[str],
                      held: str | None) -> tuple[str, str, str]:
        """(state, fingerprint, detail) of the certificate served for ``domain``: at its first
        address, else (none, or that address cannot be reached from this host: no NAT
        hairpin, say) at this process's own listener."""
        if self.tls_address is None:
            return "not-checked", "", "no HTTPS listener (--https-port)"
        own_host, port = self.tls_address
        hosts = [addresses[0], own_host] if addresses and addresses[0] != own_host else [own_host]
        note = ""
        for host in hosts:
            where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
            try:
                der = await self._handshake(host, port, domain)
                if held is not None and fingerprint(der) != held:
                    # a certificate attached a moment ago may still be building: once more
                    await asyncio.sleep(self._retry_delay)
                    der = await self._handshake(host, port, domain)
            except (OSError, ssl.SSLError, TimeoutError) as exc:
                failure = (f"no TLS handshake with {where} for {domain}: "
                           f"{exc.__class__.__name__}: {exc}".rstrip(": "))
                if host == hosts[-1]:
                    return "unreachable", "", note + failure
                note = f"{failure}; instead "
                continue
            served = fingerprint(der)
            if held is None:
                return "default", served, (f"{note}{where} serves the server's default "
                                           f"certificate {served}: no certificate is held for "
                                           f"{domain}")
            if served == held:
                return "matches", served, f"{note}{where} serves the held certificate {served}"
            expires = await asyncio.to_thread(_not_after, der)
            return "differs", served, (f"{note}{where} serves {served} (expires "
                                       f"{iso(expires)}), not the held {held}")
        raise AssertionError("unreachable: hosts is never empty")

    async def _handshake(self, host: str, port: int, server_name: str) -> bytes:
        async with asyncio.timeout(self._tls_timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=self._tls,
                                                      server_hostname=server_name)
        try:
            tls = writer.get_extra_info("ssl_object")
            der = tls.getpeercert(binary_form=True) if tls is not None else None
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(self._tls_timeout):
                    await writer.wait_closed()
        if not der:
            raise ssl.SSLError("no certificate was served")
        return bytes(der)


def _renewal(acme: AcmeState) -> tuple[str, str]:
    """(state, detail) of a domain's automatic certificate."""
    following = f"; next attempt {iso(acme.next_attempt)}" if acme.next_attempt else ""
    if acme.last_error:
        failures = f" ({acme.failures} in a row)" if acme.failures > 1 else ""
        return "failed", (f"the last order or renewal failed at {iso(acme.last_attempt)}"
                          f"{failures}: {acme.last_error}{following}")
    if acme.certificate is not None:
        return "ok", f"issued {iso(acme.issued_at)}{following.replace('attempt', 'renewal')}"
    return "pending", f"no certificate issued yet{following}"
