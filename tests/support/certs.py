"""Real certificates for tests: one trustme CA, leaves built with ``cryptography``.

    certs = CertFactory()
    chain_pem, key_pem = certs.leaf("www.example.com")           # valid now, EC key
    certs.leaf("a.example.com", key_type="rsa", not_after=...)  # any dates, rsa/ec/ed25519
    certs.expired("x.example.com"); certs.not_yet_valid(...); certs.mismatched_key(...)
    certs.ca_pem()                                               # trust anchor for clients
    reference_pair()       # shared/reference/vectors/test-{cert,key}.pem (www.example.com)

Leaves are built here rather than by ``trustme.issue_cert`` so dates and key type are ours to
choose. A leaf's chain PEM holds the leaf only: the CA signs it directly.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = timedelta(days=1)
DATA = Path(__file__).with_name("data")
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class CertFactory:
    """Leaf certificates signed by one ``trustme`` CA (``self.ca``)."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self._ca_cert = x509.load_pem_x509_certificate(self.ca.cert_pem.bytes())
        ca_key = serialization.load_pem_private_key(self.ca.private_key_pem.bytes(), None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        self._ca_key = ca_key

    def leaf(
        self,
        *names: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key_type: str = "ec",
    ) -> tuple[str, str]:
        """``(chain PEM, PKCS#8 key PEM)`` for ``names`` (IP literals become IP SANs).

        Valid from yesterday for a year unless dates are given; ``key_type`` is ``"ec"``
        (P-256), ``"rsa"`` (2048) or ``"ed25519"``.
        """
        if not names:
            raise ValueError("leaf() needs at least one name")
        now = datetime.now(UTC)
        key = _new_key(key_type)
        common_name = names[0] if len(names[0]) <= 64 else "test leaf"
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - DAY)
            .not_valid_after(not_after or now + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()

    def expired(self, name: str) -> tuple[str, str]:
        """A leaf that expired yesterday."""
        now = datetime.now(UTC)
        return self.leaf(name, not_before=now - 30 * DAY, not_after=now - DAY)

    def not_yet_valid(self, name: str) -> tuple[str, str]:
        """A leaf that becomes valid tomorrow."""
        now = datetime.now(UTC)
        return self.leaf(name, not_before=now + DAY, not_after=now + 30 * DAY)

    def mismatched_key(self, name: str) -> tuple[str, str]:
        """A leaf for ``name`` paired with the key of another leaf."""
        chain_pem, _ = self.leaf(name)
        _, other_key = self.leaf(name)
        return chain_pem, other_key

    def ca_pem(self) -> str:
        """The CA certificate PEM, for a client's ``cafile``/``cadata``."""
        return self.ca.cert_pem.bytes().decode()


def reference_pair() -> tuple[str, str]:
    """The reference vectors' self-signed EC pair for www.example.com, 2025-01-10 to 2026-01-10."""
    return (DATA / "test-cert.pem").read_text(), (DATA / "test-key.pem").read_text()


def _new_key(key_type: str) -> PrivateKey:
    """A fresh private key of the named type."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key_type {key_type!r} (ec, rsa, ed25519)")


def _san(name: str) -> x509.GeneralName:
    """IP SAN for an IP literal, DNS SAN otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@contextlib.contextmanager
def tls_listener(pair: tuple[str, str], tmp_path: Path,
                 address: tuple[str, int] = ("127.0.0.1", 0)) -> Iterator[int]:
    """A TLS listener at ``address`` serving ``pair`` (chain PEM, key PEM), as a stale proxy in
    front of a server would: each connection is handshaken and closed. Yields its port."""
    chain, key = tmp_path / "listener.pem", tmp_path / "listener.key"
    chain.write_text(pair[0])
    key.write_text(pair[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    listener = socket.create_server(address)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
