"""TLS server contexts built from PEM in memory, and the server's default self-signed pair.

``ssl.SSLContext.load_cert_chain`` reads only from file paths. Private keys must never land on
disk unencrypted, so :func:`server_context` writes the PEM into anonymous in-memory files
(``memfd_create``, Linux) and hands OpenSSL their ``/proc/self/fd/<n>`` paths. There is no
fallback through a temporary file: without ``memfd_create`` the call fails.

The default certificate answers TLS connections whose SNI names no bound domain (and local
testing). It is stored as ``<data_dir>/tls-default.crt`` (PEM) and
``<data_dir>/tls-default.key.enc`` (the key sealed with the master key, context
``b"tls-default.key"``, mode 0600).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ossutil.server.certs.keystore import SecretBox, write_temp_file

__all__ = [
    "DEFAULT_CERT_FILE",
    "DEFAULT_KEY_FILE",
    "generate_self_signed",
    "load_or_create_default_certificate",
    "server_context",
]

DEFAULT_CERT_FILE = "tls-default.crt"
DEFAULT_KEY_FILE = "tls-default.key.enc"
_DEFAULT_KEY_CONTEXT = b"tls-default.key"
_DEFAULT_NAMES = ("localhost", "127.0.0.1")
# Backdate new certificates a little so a client whose clock runs behind still accepts them.
_CLOCK_SKEW = timedelta(minutes=5)
# TLS 1.2 suites: ECDHE only (forward secrecy; the key exchange uses X25519 or P-256, OpenSSL's
# first groups), AEAD only, AES-128 first (as fast as AES-256 with AES-NI, fewer rounds), ChaCha20
# for clients without AES instructions. Every client the suite runs (oss2 and oss-v2 through
# OpenSSL, Go's crypto/tls, Chromium) offers these; TLS 1.3 suites are OpenSSL's defaults.
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
# Tickets sent after a TLS 1.3 handshake (OpenSSL's default): one for the next connection, one
# for a client that opens two at once.
_TLS13_TICKETS = 2


def server_context(chain_pem: str, key_pem: bytes) -> ssl.SSLContext:
    """A ``PROTOCOL_TLS_SERVER`` context (TLS 1.2+) serving ``chain_pem`` with ``key_pem``.

    The PEM goes through ``memfd_create`` files only, closed before returning. Raises
    ``RuntimeError`` where ``memfd_create`` or ``/proc/self/fd`` is missing, ``ValueError`` if
    the key is encrypted, and ``ssl.SSLError`` if the key does not match the leaf.
    """
    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        raise RuntimeError(
            "server_context needs os.memfd_create and /proc/self/fd (Linux) to hand PEM to "
            "OpenSSL without writing the private key to a file"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    # Resumption skips the certificate signature, the costly half of a full handshake: TLS 1.3
    # tickets and TLS 1.2 tickets/session ids, both on by default; said here so that no later
    # option turns them off unnoticed. Tickets are sealed with the keys of the context the
    # handshake started on (the listener's), so they resume after the SNI callback switched
    # the connection to a per-domain context too.
    context.options &= ~ssl.OP_NO_TICKET
    context.num_tickets = _TLS13_TICKETS
    # A client-started TLS 1.2 renegotiation is a full handshake the client can ask for again
    # and again on one connection; no client of ours needs it.
    context.options |= ssl.OP_NO_RENEGOTIATION
    with (
        _memory_file("tls-chain", chain_pem.encode("ascii")) as chain_path,
        _memory_file("tls-key", key_pem) as key_path,
    ):
        context.load_cert_chain(chain_path, key_path, password=_refuse_password)
    return context


def generate_self_signed(names: Sequence[str], *, days: int = 825) -> tuple[str, bytes]:
    """A new self-signed EC P-256 certificate for ``names``: ``(cert PEM, PKCS#8 key PEM)``.

    Each name becomes a SAN entry: an IP address entry when it parses as one, else a DNS name.
    The first name is also the subject CN. Valid from five minutes ago for ``days`` days.
    """
    if not names:
        raise ValueError("generate_self_signed needs at least one name")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    common_name = names[0] if len(names[0]) <= 64 else "ossutil-server"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


def load_or_create_default_certificate(data_dir: Path, box: SecretBox) -> tuple[str, bytes]:
    """The server's default ``(cert PEM, key PEM)``, generated and stored on first call.

    New pairs name ``localhost`` and the IP ``127.0.0.1``. Raises ``SecretBoxError`` when the
    stored key does not open with ``box`` (the master key changed), ``RuntimeError`` when the
    two stored files do not belong together.
    """
    data_dir = Path(data_dir)
    cert_path = data_dir / DEFAULT_CERT_FILE
    key_path = data_dir / DEFAULT_KEY_FILE
    if cert_path.exists() and key_path.exists():
        cert_pem = cert_path.read_text(encoding="ascii")
        key_pem = box.decrypt(key_path.read_bytes(), context=_DEFAULT_KEY_CONTEXT)
        if not _pair_matches(cert_pem, key_pem):
            raise RuntimeError(
                f"{cert_path} and {key_path} do not belong together; delete both to have a "
                "new default certificate generated"
            )
        return cert_pem, key_pem
    cert_pem, key_pem = generate_self_signed(_DEFAULT_NAMES)
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(key_path, box.encrypt(key_pem, context=_DEFAULT_KEY_CONTEXT), 0o600)
    _write_atomically(cert_path, cert_pem.encode("ascii"), 0o644)
    return cert_pem, key_pem


SHARED_DEFAULT_NAME = "tls-default"


def new_shared_default_record(box: SecretBox) -> bytes:
    """A freshly generated default pair as the store keeps it: JSON with the certificate PEM
    and the private key sealed by the master key (never in the clear)."""
    import base64
    import json

    cert_pem, key_pem = generate_self_signed(_DEFAULT_NAMES)
    sealed = box.encrypt(key_pem, context=_DEFAULT_KEY_CONTEXT)
    return json.dumps({"certificate": cert_pem,
                       "sealed_key": base64.b64encode(sealed).decode("ascii")}).encode()


def open_shared_default_record(record: bytes, box: SecretBox) -> tuple[str, bytes]:
    """``(cert PEM, key PEM)`` of a record from ``new_shared_default_record``."""
    import base64
    import json

    stored = json.loads(record)
    cert_pem = str(stored["certificate"])
    key_pem = box.decrypt(base64.b64decode(stored["sealed_key"]), context=_DEFAULT_KEY_CONTEXT)
    if not _pair_matches(cert_pem, key_pem):
        raise RuntimeError("the stored default certificate and key do not belong together")
    return cert_pem, key_pem


@contextmanager
def _memory_file(name: str, data: bytes) -> Iterator[str]:
    """An anonymous in-memory file holding ``data``, as a path OpenSSL can open."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def _refuse_password() -> bytes:
    """Password callback: fail instead of letting OpenSSL prompt on the terminal."""
    raise ValueError("server_context needs an unencrypted private key")


def _general_name(name: str) -> x509.GeneralName:
    """An IP address SAN entry for an IP literal, a DNS name entry otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pair_matches(cert_pem: str, key_pem: bytes) -> bool:
    """Whether the key's public half is the certificate's public key."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    key = serialization.load_pem_private_key(key_pem, password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a new temporary file with ``mode``, then rename it over ``path``."""
    temp = write_temp_file(path, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def reseal_default_key(data_dir: Path, reseal: Callable[[bytes, bytes], bytes]) -> bool:
    """``rotate-master-key``: the data dir's sealed default key rewritten with
    ``reseal(sealed, context)`` (atomically); False when there is none."""
    key_path = Path(data_dir) / DEFAULT_KEY_FILE
    if not key_path.exists():
        return False
    _write_atomically(key_path, reseal(key_path.read_bytes(), _DEFAULT_KEY_CONTEXT), 0o600)
    return True


def reseal_shared_default_record(record: bytes, reseal: Callable[[bytes, bytes], bytes]) -> bytes:
    """``rotate-master-key``: a ``new_shared_default_record`` record with its key resealed."""
    import base64
    import json

    stored = json.loads(record)
    sealed = reseal(base64.b64decode(stored["sealed_key"]), _DEFAULT_KEY_CONTEXT)
    stored["sealed_key"] = base64.b64encode(sealed).decode("ascii")
    return json.dumps(stored).encode()
