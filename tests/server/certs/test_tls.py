"""server_context with real TLS handshakes on loopback; the default self-signed certificate."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.certs import CertFactory

from ossutil.certcheck import check_certificate
from ossutil.server.certs.keystore import SecretBox, SecretBoxError
from ossutil.server.certs.tls import (
    generate_self_signed,
    load_or_create_default_certificate,
    server_context,
)


def handshake(context: ssl.SSLContext, cafile: Path, server_hostname: str) -> bytes:
    """Serve one TLS connection on 127.0.0.1 in a thread; return the server's DER certificate.

    The client verifies against ``cafile`` and checks ``server_hostname``; a client-side failure
    is raised as it is, a server-side failure after a good client handshake is re-raised here.
    """
    errors: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(10)
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.sendall(b"ok")
            except BaseException as exc:  # reported to the test thread below
                errors.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client = ssl.create_default_context(cafile=str(cafile))
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                client.wrap_socket(raw, server_hostname=server_hostname) as tls,
            ):
                der = tls.getpeercert(binary_form=True)
                assert tls.recv(2) == b"ok"
        finally:
            thread.join(10)
    if errors:
        raise errors[0]
    assert der is not None
    return der


def sha1_colons(der: bytes) -> str:
    """Fingerprint in the reference's format, computed independently of the checker."""
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


def open_fds() -> set[str]:
    """This process's open file descriptors."""
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def cafile(certs: CertFactory, tmp_path: Path) -> Path:
    """The session CA as a file for ``ssl.create_default_context(cafile=...)``."""
    path = tmp_path / "ca.pem"
    path.write_text(certs.ca_pem())
    return path


@pytest.mark.parametrize("key_type", ["ec", "rsa", "ed25519"])
def test_server_context_serves_the_checked_chain(
    certs: CertFactory, cafile: Path, key_type: str
) -> None:
    chain, key = certs.leaf("gw.example.com", key_type=key_type)
    checked = check_certificate(chain, key, "gw.example.com", datetime.now(UTC))
    context = server_context(checked.chain_pem, checked.key_pem)
    der = handshake(context, cafile, "gw.example.com")
    assert sha1_colons(der) == checked.fingerprint


def test_wildcard_leaf_is_accepted_for_a_subdomain(certs: CertFactory, cafile: Path) -> None:
    chain, key = certs.leaf("*.example.com")
    checked = check_certificate(chain, key, "img.example.com", datetime.now(UTC))
    der = handshake(server_context(checked.chain_pem, checked.key_pem), cafile, "img.example.com")
    assert sha1_colons(der) == checked.fingerprint


def test_client_rejects_a_name_the_certificate_does_not_cover(
    certs: CertFactory, cafile: Path
) -> None:
    chain, key = certs.leaf("gw.example.com")
    context = server_context(chain, key.encode())
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(context, cafile, "other.example.com")


def test_server_context_leaves_no_descriptor_open(certs: CertFactory) -> None:
    chain, key = certs.leaf("gw.example.com")
    before = open_fds()
    for _ in range(5):
        server_context(chain, key.encode())
    assert open_fds() == before


def test_server_context_refuses_a_key_that_does_not_match(certs: CertFactory) -> None:
    chain, key = certs.mismatched_key("gw.example.com")
    with pytest.raises(ssl.SSLError):
        server_context(chain, key.encode())


def test_server_context_refuses_an_encrypted_key_instead_of_prompting(
    certs: CertFactory,
) -> None:
    chain, key = certs.leaf("gw.example.com")
    encrypted = serialization.load_pem_private_key(key.encode(), None).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    with pytest.raises(ValueError, match="unencrypted") as caught:
        server_context(chain, encrypted)
    assert encrypted.decode().splitlines()[1] not in str(caught.value)


def test_generate_self_signed_names_dns_and_ip_entries() -> None:
    cert_pem, key_pem = generate_self_signed(["example.test", "192.0.2.7", "::1"], days=30)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["example.test"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.7", "::1"]
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=30) < lifetime <= timedelta(days=30, minutes=6)
    with pytest.raises(ValueError):
        generate_self_signed([])


def test_self_signed_certificate_completes_a_handshake(tmp_path: Path) -> None:
    cert_pem, key_pem = generate_self_signed(["localhost", "127.0.0.1"])
    cafile = tmp_path / "self.pem"
    cafile.write_text(cert_pem)
    context = server_context(cert_pem, key_pem)
    for hostname in ("localhost", "127.0.0.1"):
        der = handshake(context, cafile, hostname)
        assert der == x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(
            serialization.Encoding.DER
        )


def test_default_certificate_is_created_once_with_the_key_sealed(tmp_path: Path) -> None:
    box = SecretBox(bytes(32))
    cert_pem, key_pem = load_or_create_default_certificate(tmp_path, box)
    key_file = tmp_path / "tls-default.key.enc"
    assert (tmp_path / "tls-default.crt").read_text() == cert_pem
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in key_file.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tls-default.crt", "tls-default.key.enc"]
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert load_or_create_default_certificate(tmp_path, box) == (cert_pem, key_pem)
    server_context(cert_pem, key_pem)


def test_default_certificate_needs_the_same_master_key(tmp_path: Path) -> None:
    load_or_create_default_certificate(tmp_path, SecretBox(bytes(32)))
    with pytest.raises(SecretBoxError):
        load_or_create_default_certificate(tmp_path, SecretBox(b"\x01" * 32))


def test_default_certificate_files_that_do_not_belong_together(tmp_path: Path) -> None:
    box = SecretBox(bytes(32))
    load_or_create_default_certificate(tmp_path, box)
    other_cert, _ = generate_self_signed(["localhost"])
    (tmp_path / "tls-default.crt").write_text(other_cert)
    with pytest.raises(RuntimeError, match="do not belong together"):
        load_or_create_default_certificate(tmp_path, box)


def test_default_certificate_is_regenerated_when_a_file_is_missing(tmp_path: Path) -> None:
    box = SecretBox(bytes(32))
    first, _ = load_or_create_default_certificate(tmp_path, box)
    (tmp_path / "tls-default.crt").unlink()
    second, key = load_or_create_default_certificate(tmp_path, box)
    assert second != first
    assert load_or_create_default_certificate(tmp_path, box) == (second, key)
