"""server/acme's pieces without a CA: renewal times and back-off, the CAA check against a real
loopback DNS server, the TLS-ALPN-01 certificate, key authorizations, and the SNI switch to a
challenge context (a real TLS handshake on loopback) that only ``acme-tls/1`` clients get."""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import josepy as jose
import pytest
from acme import challenges
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.support.dns_server import DnsServer

from ossutil.server.acme.caa import CaaCheck, CaaForbidden
from ossutil.server.acme.challenges import (
    ACME_TLS_ALPN,
    ID_PE_ACME_IDENTIFIER,
    alpn_certificate,
    alpn_context,
)
from ossutil.server.acme.client import key_authorization, new_key_pem
from ossutil.server.acme.service import MAX_BACKOFF, renewal_time, retry_delay
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import generate_self_signed
from ossutil.server.gateway.domains import DomainTable
from ossutil.server.gateway.tls import SniContexts

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_renewal_is_at_two_thirds_of_the_lifetime_minus_jitter() -> None:
    rng = random.Random(7)
    times = [renewal_time(T0, T0 + timedelta(days=90), rng) for _ in range(500)]
    assert all(T0 + timedelta(days=54) <= t <= T0 + timedelta(days=60) for t in times)
    assert max(times) - min(times) > timedelta(days=5)  # spread: names renew apart
    short = renewal_time(T0, T0 + timedelta(seconds=30), rng)
    assert T0 + timedelta(seconds=18) <= short <= T0 + timedelta(seconds=20)


def test_back_off_doubles_and_is_capped() -> None:
    random.seed(1)
    delays = [retry_delay(n, 10.0, None) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        assert 0.9 * 10 * 2 ** (n - 1) <= delay <= 1.1 * 10 * 2 ** (n - 1)
    assert retry_delay(40, 10.0, None) <= 1.1 * MAX_BACKOFF
    # with a certificate expiring in 2 days: at most half a day between attempts
    assert retry_delay(40, 10.0, timedelta(days=2)) <= 1.1 * 12 * 3600
    # expired or about to: never below the base
    assert retry_delay(40, 10.0, timedelta(seconds=1)) >= 9.0


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


def caa_verdict(dns: DnsServer, domain: str, identities: tuple[str, ...]) -> str:
    async def run() -> str:
        try:
            await CaaCheck([dns.address], timeout=0.5, lifetime=1.0).check(domain, identities)
        except CaaForbidden as refused:
            return str(refused)
        return "allowed"
    return asyncio.run(run())


def test_caa_no_records_or_no_issue_property_allows(dns: DnsServer) -> None:
    dns.a("www.example.com", "127.0.0.1")
    assert caa_verdict(dns, "www.example.com", ("ca.example",)) == "allowed"
    dns.caa("example.com", '0 iodef "mailto:ops@example.com"')
    assert caa_verdict(dns, "www.example.com", ("ca.example",)) == "allowed"


def test_caa_the_closest_record_set_decides(dns: DnsServer) -> None:
    dns.caa("example.com", '0 issue "other.example"')
    dns.caa("www.example.com", '0 issue "ca.example; validationmethods=http-01"')
    assert caa_verdict(dns, "www.example.com", ("ca.example",)) == "allowed"
    assert caa_verdict(dns, "api.example.com", ("ca.example",)) == (
        "CAA at example.com allows only other.example, not ca.example: no certificate is "
        'ordered for api.example.com; add "0 issue \\"ca.example\\"" at example.com')
    # one of the CA's identities is enough
    assert caa_verdict(dns, "api.example.com", ("ca.example", "other.example")) == "allowed"


def test_caa_forbidding_every_ca_or_a_critical_unknown_tag(dns: DnsServer) -> None:
    dns.caa("example.com", '0 issue ";"')
    assert caa_verdict(dns, "www.example.com", ()) == (
        'CAA at example.com forbids every CA (issue ";"): no certificate is ordered for '
        "www.example.com")
    dns.caa("example.com", '128 future "x"')
    assert caa_verdict(dns, "www.example.com", ("ca.example",)) == (
        "CAA at example.com has an unknown critical property 'future': no CA may issue: no "
        "certificate is ordered for www.example.com")
    # an unknown CA identity cannot be checked against issue records: not refused here
    dns.caa("example.com", '0 issue "other.example"')
    assert caa_verdict(dns, "www.example.com", ()) == "allowed"


def test_caa_that_cannot_be_read_refuses_for_now(dns: DnsServer) -> None:
    dns.servfail("www.example.com")
    assert caa_verdict(dns, "www.example.com", ("ca.example",)) == (
        "CAA at www.example.com could not be read (NoNameservers); a CA does not issue then")


def test_key_authorization_matches_the_acme_library() -> None:
    key = jose.JWKEC(key=serialization.load_pem_private_key(new_key_pem(), None))
    token = b"\x01" * 32
    expected = challenges.HTTP01(token=token).key_authorization(key)
    assert key_authorization(jose.b64encode(token).decode(), key) == expected


def test_the_tls_alpn01_certificate_carries_the_critical_acme_identifier() -> None:
    chain, key_pem = alpn_certificate("www.example.com", "tok.thumb")
    cert = x509.load_pem_x509_certificate(chain.encode())
    extension = cert.extensions.get_extension_for_oid(ID_PE_ACME_IDENTIFIER)
    assert extension.critical
    assert extension.value.value == b"\x04\x20" + hashlib.sha256(b"tok.thumb").digest()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com"]
    assert serialization.load_pem_private_key(key_pem, None).public_key().public_numbers() \
        == cert.public_key().public_numbers()  # type: ignore[union-attr]


def handshake(port: int, name: str, alpn: list[str]) -> tuple[bytes, str | None]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der, tls.selected_alpn_protocol()


def test_only_acme_tls_clients_get_the_challenge_certificate() -> None:
    default_chain, default_key = generate_self_signed(["default.example"])
    pending = {"www.example.com": alpn_context("www.example.com", "tok.thumb")}

    async def serve(results: list[object]) -> None:
        sni = SniContexts(default_chain, default_key, DomainTable(), SecretBox(bytes(32)))
        sni.answer_challenges(pending.get)
        server = await asyncio.get_running_loop().create_server(
            asyncio.Protocol, "127.0.0.1", 0, ssl=sni.default)
        port = server.sockets[0].getsockname()[1]
        try:
            for name, alpn in (("www.example.com", [ACME_TLS_ALPN]),
                               ("www.example.com", ["http/1.1"]),
                               ("www.example.com", []),
                               ("other.example.com", [ACME_TLS_ALPN])):
                results.append(await asyncio.to_thread(handshake, port, name, alpn))
        finally:
            server.close()

    results: list[tuple[bytes, str | None]] = []
    thread = threading.Thread(target=lambda: asyncio.run(serve(results)))  # type: ignore[arg-type]
    thread.start()
    thread.join(30)
    default_der = x509.load_pem_x509_certificate(default_chain.encode()).public_bytes(
        serialization.Encoding.DER)
    challenge, plain, bare, other = results
    cert = x509.load_der_x509_certificate(challenge[0])
    assert cert.extensions.get_extension_for_oid(ID_PE_ACME_IDENTIFIER).critical
    assert challenge[1] == ACME_TLS_ALPN
    assert plain == (default_der, None) and bare == (default_der, None)
    assert other == (default_der, None)  # no challenge pending for that name
