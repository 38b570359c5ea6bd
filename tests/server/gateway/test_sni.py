"""SniContexts with real TLS handshakes: contexts built ahead of the handshake, the default
fallback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import ssl
import threading
from datetime import UTC, datetime

import pytest
from tests.support.certs import CertFactory

from ossutil.certcheck import check_certificate
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import generate_self_signed
from ossutil.server.gateway.domains import DomainTable
from ossutil.server.gateway.tls import SniContexts
from ossutil.server.models import Binding, BindingStatus, Certificate, CertificateType

NOW = datetime.now(UTC)


def served(context: ssl.SSLContext, server_name: str | None) -> bytes:
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


def bound(box: SecretBox, ca: CertFactory, domain: str, cert_id: str) -> tuple[Binding, str]:
    chain, key = ca.leaf(domain)
    checked = check_certificate(chain, key, domain, NOW)
    sealed = box.encrypt(checked.key_pem, context=cert_id.encode())
    cert = Certificate(cert_id, "1", CertificateType.UPLOAD, checked.chain_pem, sealed,
                       checked.fingerprint, checked.not_before, checked.not_after, NOW)
    return Binding(domain, "bucket", BindingStatus.ENABLED, NOW, NOW, cert_id, NOW, cert), \
        checked.fingerprint


def test_contexts_are_built_when_the_certificate_becomes_known(box: SecretBox,
                                                               ca: CertFactory) -> None:
    table = DomainTable()
    prints = {}
    for i in range(20):
        binding, printed = bound(box, ca, f"d{i}.example.com", f"{i}-cn-hangzhou")
        table.apply(binding.domain, binding)
        prints[binding.domain] = printed
    default_chain, default_key = generate_self_signed(["localhost"])
    sni = SniContexts(default_chain, default_key, table, box)
    assert sni.built == 0 and len(sni) == 0
    asyncio.run(sni.prepare(table.certificates()))  # the start-up snapshot
    assert sni.built == 20 and len(sni) == 20

    assert fingerprint(served(sni.default, "d3.example.com")) == prints["d3.example.com"]
    assert fingerprint(served(sni.default, "D3.Example.Com.")) == prints["d3.example.com"]
    default = ssl.PEM_cert_to_DER_cert(default_chain)
    assert served(sni.default, "unbound.example.com") == default
    assert served(sni.default, None) == default
    assert (sni.built, sni.misses) == (20, 0)  # handshakes only look up

    rotated, printed = bound(box, ca, "d3.example.com", "new-cn-hangzhou")

    async def rotate() -> None:
        building = sni.update("d3.example.com", table.apply("d3.example.com", rotated))
        assert building is not None
        await building

    asyncio.run(rotate())
    assert fingerprint(served(sni.default, "d3.example.com")) == printed
    assert sni.built == 21 and len(sni) == 20  # the old context was dropped

    async def detach() -> None:
        assert sni.update("d3.example.com", table.apply("d3.example.com", None)) is None

    asyncio.run(detach())
    assert served(sni.default, "d3.example.com") == default
    assert len(sni) == 19 and sni.misses == 0


def test_a_certificate_that_cannot_load_falls_back_to_the_default(
        box: SecretBox, ca: CertFactory, caplog: pytest.LogCaptureFixture) -> None:
    table = DomainTable()
    binding, _ = bound(SecretBox(os.urandom(32)), ca, "bad.example.com", "1-cn-hangzhou")
    table.apply(binding.domain, binding)  # sealed with another master key
    default_chain, default_key = generate_self_signed(["localhost"])
    sni = SniContexts(default_chain, default_key, table, box)
    with caplog.at_level(logging.ERROR, logger="ossutil.server.gateway"):
        asyncio.run(sni.prepare(table.certificates()))
        der = served(sni.default, "bad.example.com")
    assert der == ssl.PEM_cert_to_DER_cert(default_chain)
    assert caplog.text.count("certificate 1-cn-hangzhou cannot be loaded") == 1
    assert "PRIVATE KEY" not in caplog.text
    # remembered as unloadable: neither a handshake nor another prepare tries again
    with caplog.at_level(logging.ERROR, logger="ossutil.server.gateway"):
        asyncio.run(sni.prepare(table.certificates()))
        assert served(sni.default, "bad.example.com") == der
    assert caplog.text.count("certificate 1-cn-hangzhou cannot be loaded") == 1
    assert (sni.built, len(sni), sni.misses) == (0, 1, 0)
