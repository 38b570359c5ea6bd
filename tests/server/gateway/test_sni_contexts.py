"""SniContexts' cache: what a handshake gets before a context is ready, sharing, the bound, and
builds that a change overtakes. Real handshakes (``served`` from test_sni.py's pattern)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from tests.support.certs import CertFactory

from ossutil.certcheck import check_certificate
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import generate_self_signed
from ossutil.server.gateway.domains import DomainTable
from ossutil.server.gateway.tls import SniContexts
from ossutil.server.models import Binding, BindingStatus, Certificate, CertificateType

NOW = datetime.now(UTC)


def served(context: ssl.SSLContext, server_name: str) -> bytes:
    """One handshake against ``context`` on loopback; the DER certificate the client got."""
    errors: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with conn, context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        with socket.create_connection(listener.getsockname(), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
            assert tls.recv(2) == b"ok"
        thread.join(10)
    if errors:
        raise errors[0]
    assert der is not None
    return der


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(os.urandom(32))


def certificate(box: SecretBox, pair: tuple[str, str], domain: str,
                cert_id: str) -> Certificate:
    checked = check_certificate(pair[0], pair[1], domain, NOW)
    sealed = box.encrypt(checked.key_pem, context=cert_id.encode())
    return Certificate(cert_id, "1", CertificateType.UPLOAD, checked.chain_pem, sealed,
                       checked.fingerprint, checked.not_before, checked.not_after, NOW)


def binding(domain: str, cert: Certificate) -> Binding:
    return Binding(domain, "bucket", BindingStatus.ENABLED, NOW, NOW, cert.cert_id, NOW, cert)


def contexts(box: SecretBox, table: DomainTable, **options: int) -> SniContexts:
    chain, key = generate_self_signed(["localhost"])
    return SniContexts(chain, key, table, box, **options)


def rsa4096_pair(ca: CertFactory, domain: str) -> tuple[str, str]:
    """A leaf with an RSA-4096 key, the largest certcheck accepts (CertFactory makes 2048)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ca_cert = x509.load_pem_x509_certificate(ca.ca.cert_pem.bytes())
    ca_key = serialization.load_pem_private_key(ca.ca.private_key_pem.bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


@pytest.mark.parametrize("key_type", ["ec", "rsa", "rsa4096"])
def test_ecdsa_and_rsa_certificates_are_served_from_a_prepared_context(
        box: SecretBox, ca: CertFactory, key_type: str) -> None:
    domain = f"{key_type}.example.com"
    pair = rsa4096_pair(ca, domain) if key_type == "rsa4096" else ca.leaf(domain,
                                                                          key_type=key_type)
    cert = certificate(box, pair, domain, "1-cn-hangzhou")
    table = DomainTable()
    table.apply(domain, binding(domain, cert))
    sni = contexts(box, table)
    asyncio.run(sni.prepare(table.certificates()))
    der = served(sni.default, domain)
    assert fingerprint(der) == cert.fingerprint
    public_key = x509.load_der_x509_certificate(der).public_key()
    expected = ec.EllipticCurvePublicKey if key_type == "ec" else rsa.RSAPublicKey
    assert isinstance(public_key, expected)
    assert (sni.built, sni.misses) == (1, 0)


def test_a_handshake_before_the_build_gets_the_default_and_asks_for_the_build(
        box: SecretBox, ca: CertFactory) -> None:
    cert = certificate(box, ca.leaf("late.example.com"), "late.example.com", "1-cn-hangzhou")
    table = DomainTable()
    default_chain, default_key = generate_self_signed(["localhost"])
    sni = SniContexts(default_chain, default_key, table, box)
    default = ssl.PEM_cert_to_DER_cert(default_chain)

    async def scenario() -> None:
        await sni.prepare([])  # the listener's loop, as at start-up
        # the table has the certificate, no context is built (a poll applied a moment ago)
        table.apply("late.example.com", binding("late.example.com", cert))
        assert await asyncio.to_thread(served, sni.default, "late.example.com") == default
        assert sni.misses == 1
        for _ in range(500):  # the build the miss asked for, in a worker thread
            if sni.ready((cert.cert_id, cert.fingerprint)):
                break
            await asyncio.sleep(0.01)
        der = await asyncio.to_thread(served, sni.default, "late.example.com")
        assert fingerprint(der) == cert.fingerprint

    asyncio.run(scenario())
    assert (sni.built, sni.misses, len(sni)) == (1, 1, 1)


def test_names_sharing_a_certificate_share_one_context(box: SecretBox, ca: CertFactory) -> None:
    cert = certificate(box, ca.leaf("*.example.com", "example.com"), "a.example.com",
                       "1-cn-hangzhou")
    table = DomainTable()
    for domain in ("*.example.com", "example.com", "www.example.com"):
        table.apply(domain, binding(domain, cert))
    sni = contexts(box, table)
    asyncio.run(sni.prepare(table.certificates()))
    for name in ("example.com", "www.example.com", "img.example.com"):  # img: by the wildcard
        assert fingerprint(served(sni.default, name)) == cert.fingerprint
    assert (sni.built, len(sni), sni.misses) == (1, 1, 0)

    async def unbind(domain: str) -> None:
        assert sni.update(domain, table.apply(domain, None)) is None

    asyncio.run(unbind("example.com"))
    asyncio.run(unbind("*.example.com"))
    assert len(sni) == 1  # www.example.com still uses it
    asyncio.run(unbind("www.example.com"))
    assert len(sni) == 0


def test_the_cache_keeps_the_most_recently_used_contexts(box: SecretBox,
                                                          ca: CertFactory) -> None:
    certs = {f"d{i}.example.com": certificate(box, ca.leaf(f"d{i}.example.com"),
                                              f"d{i}.example.com", f"{i}-cn-hangzhou")
             for i in range(3)}
    table = DomainTable()
    for domain, cert in certs.items():
        table.apply(domain, binding(domain, cert))
    sni = contexts(box, table, max_contexts=2)
    asyncio.run(sni.prepare(table.certificates()))  # stops at the bound
    keys = {domain: (cert.cert_id, cert.fingerprint) for domain, cert in certs.items()}
    assert [sni.ready(keys[d]) for d in certs] == [True, True, False]
    d0 = served(sni.default, "d0.example.com")  # d0 used last: d1 is the oldest
    assert fingerprint(d0) == certs["d0.example.com"].fingerprint

    async def rebind(domain: str) -> None:
        building = sni.update(domain, table.apply(domain, binding(domain, certs[domain])))
        assert building is not None
        await building

    asyncio.run(rebind("d2.example.com"))  # d1 was used least recently: it goes
    assert [sni.ready(keys[d]) for d in certs] == [True, False, True]
    assert (sni.built, len(sni)) == (3, 2)


def test_a_build_overtaken_by_a_detach_is_dropped(box: SecretBox, ca: CertFactory) -> None:
    cert = certificate(box, ca.leaf("gone.example.com"), "gone.example.com", "1-cn-hangzhou")
    table = DomainTable()
    sni = contexts(box, table)

    async def scenario() -> None:
        building = sni.update("gone.example.com",
                              table.apply("gone.example.com", binding("gone.example.com", cert)))
        assert building is not None
        assert sni.update("gone.example.com", table.apply("gone.example.com", None)) is None
        await building

    asyncio.run(scenario())
    assert (sni.built, len(sni)) == (0, 0)
