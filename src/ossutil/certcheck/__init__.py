"""Check a certificate chain and its private key before a binding stores them (the server) or
before they are sent (the CLI's ``--cert-file``): pure, shared by both; imports only ``wire``.

PutCname may carry ``Certificate`` + ``PrivateKey`` (reference §5 rule 4). OSS publishes no error
codes for a bad upload, so every failure here is ``400 InvalidArgument`` with a message that says
exactly what is wrong (reference §5 rule 4, §16 question 2). The checks run in a fixed order and
the first failure wins:

1. the certificate text is PEM holding CERTIFICATE blocks, each a valid X.509 certificate;
2. the private key is one unencrypted PEM key of a supported type (RSA, EC, Ed25519, Ed448);
3. the key belongs to the leaf (the first certificate);
4. the leaf is valid at ``now`` (not before ``notBefore``, not after ``notAfter``);
5. the leaf's names cover the domain (RFC 6125 §6.4).

Messages never contain any part of the private key text, and stay short whatever the upload
holds: a certificate's names are listed as the first few and a count (:func:`describe_names`).

Cost. Validating an RSA key (the primality checks on p and q) holds the GIL: 45 ms for 2048 bits,
310 ms for 4096, 4.5 s for 8192, during which no other request in the process runs, and a thread
does not help. The server therefore runs the whole check in a separate process
(``certs/isolated.py``, a small pool started on first use), and keys above RSA-4096 are refused
before any expensive work, as Let's Encrypt does (RSA 2048-4096): an RSA-8192 check would still
cost a pool worker 4.5 s per upload, and every TLS handshake with it a 50 ms signature on the
event loop (3 ms for RSA-4096). EC keys are cheap; P-256, P-384 and P-521 are accepted.

PEM arrives in two shapes: with real newlines, or with every newline replaced by one space (the
samples in Alibaba's documentation). Both parse, because whitespace inside a base64 body is
dropped before decoding.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from ossutil.wire.errors import OssError

__all__ = [
    "CertificateFacts",
    "CheckedCertificate",
    "certificate_covers",
    "check_certificate",
    "describe_certificate",
    "describe_names",
    "fingerprint_sha1",
    "parse_certificate_chain",
]

# One PEM block: the label between the dashes, then the body up to the matching END line.
# A BEGIN line's label; each block's END is then found with str.find, so parsing stays linear
# in the input (a single regex with a back-reference is quadratic on unterminated blocks).
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9][A-Z0-9 ]{0,62})-----")
_WHITESPACE = re.compile(r"\s+")
_CERTIFICATE_LABEL = "CERTIFICATE"
# Labels load_pem_private_key reads without a passphrase: PKCS#8, PKCS#1 (RSA), SEC1 (EC), DSA.
_KEY_LABELS = frozenset({"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"})
# Blocks that may sit next to a key in a combined file and are skipped in the key field.
_SKIPPED_IN_KEY = frozenset({"EC PARAMETERS", _CERTIFICATE_LABEL})
_PrivateKey: TypeAlias = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
_SUPPORTED_KEYS = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)

# TLS with Python's default security level refuses RSA below 2048 bits; above 4096 bits (Let's
# Encrypt's limit) the key check and every handshake get slow enough to be a denial of service.
_RSA_MIN_BITS = 2048
_RSA_MAX_BITS = 4096
# How many of a certificate's names an error message lists before "and N more".
_NAMES_SHOWN = 3
# The curves TLS clients actually offer for certificates.
_EC_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_USE_KEYS = "use RSA, EC, Ed25519 or Ed448"

_CERT_NOT_PEM = "The certificate is not valid PEM."
_KEY_NOT_PEM = "The private key is not valid PEM."
_KEY_ENCRYPTED = "The private key is encrypted; upload it without a passphrase."
_KEY_INCONSISTENT = "The private key is damaged: its RSA parameters do not agree."
_KEY_SEVERAL = "The private key field holds more than one private key."
_KEY_MISMATCH = "The private key does not match the certificate."


@dataclass(frozen=True)
class CertificateFacts:
    """What ListCname and the gateway need to know about a stored leaf certificate."""

    fingerprint: str
    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class CheckedCertificate:
    """A certificate chain and key that passed every check, normalised for storage.

    ``chain_pem`` is the leaf then any chain certificates, each re-encoded from DER, ending in a
    newline. ``key_pem`` is unencrypted PKCS#8 PEM; the caller encrypts it before it reaches disk.
    """

    chain_pem: str
    key_pem: bytes
    fingerprint: str
    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]

    @property
    def facts(self) -> CertificateFacts:
        """The key-free facts about the leaf, as :func:`describe_certificate` gives them."""
        return CertificateFacts(self.fingerprint, self.not_before, self.not_after, self.names)

    def __repr__(self) -> str:
        """Show the leaf's identity and dates, never the key."""
        return (
            f"CheckedCertificate(fingerprint={self.fingerprint!r}, names={self.names!r}, "
            f"not_before={_iso(self.not_before)!r}, not_after={_iso(self.not_after)!r}, "
            f"chain_length={self.chain_pem.count('-----BEGIN CERTIFICATE-----')})"
        )


def check_certificate(
    certificate: str, private_key: str, domain: str, now: datetime
) -> CheckedCertificate:
    """Validate an uploaded chain and key for ``domain`` at ``now``; see the module docstring.

    ``now`` must be timezone-aware. Raises ``OssError`` ``InvalidArgument`` on the first failed
    check, ``ValueError`` if ``now`` is naive (a programming error, not a user error).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("check_certificate needs a timezone-aware 'now'")
    chain = parse_certificate_chain(certificate)
    leaf = chain[0]
    key = _load_private_key(private_key)
    _check_key_matches(chain, key)
    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    if now < not_before:
        raise _invalid(f"The certificate is not valid until {_iso(not_before)}.")
    if now > not_after:
        raise _invalid(f"The certificate expired at {_iso(not_after)}.")
    names = _dns_names(leaf)
    if not certificate_covers(names, domain):
        raise _invalid(
            f"The certificate does not cover the domain {domain} "
            f"(it covers: {describe_names(names)})."
        )
    return CheckedCertificate(
        chain_pem=_chain_to_pem(chain),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        fingerprint=fingerprint_sha1(leaf),
        not_before=not_before,
        not_after=not_after,
        names=names,
    )


def describe_names(names: tuple[str, ...]) -> str:
    """A certificate's names for a message: ``a.example, b.example, c.example and 4997 more``
    (each name cut at 80 characters), ``no DNS names`` when there are none."""
    if not names:
        return "no DNS names"
    shown = ", ".join(name if len(name) <= 80 else name[:77] + "..."
                      for name in names[:_NAMES_SHOWN])
    rest = len(names) - _NAMES_SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def certificate_covers(names: Iterable[str], domain: str) -> bool:
    """Whether any presented DNS name matches ``domain`` (RFC 6125 §6.4).

    Comparison is ASCII case-insensitive with one trailing dot ignored (§6.4.1); ``domain`` is
    already ASCII (IDNA A-labels). A wildcard matches only as the whole left-most label and
    stands for exactly one non-empty label (§6.4.3): ``*.example.com`` covers ``a.example.com``
    but neither ``example.com`` nor ``a.b.example.com``. Partial-label wildcards (``f*.x.com``)
    never match, and a wildcard needs at least two labels after it (``*.com`` covers nothing).
    """
    wanted = _normalise_name(domain)
    if not wanted or not wanted.isascii():
        return False
    wanted_labels = wanted.split(".")
    for name in names:
        presented = _normalise_name(name)
        if not presented.isascii():
            continue
        if "*" not in presented:
            if presented == wanted:
                return True
            continue
        labels = presented.split(".")
        if labels[0] != "*" or "*" in ".".join(labels[1:]) or len(labels) < 3:
            continue
        if (
            len(wanted_labels) == len(labels)
            and wanted_labels[0]
            and wanted_labels[1:] == labels[1:]
        ):
            return True
    return False


def parse_certificate_chain(certificate: str) -> list[x509.Certificate]:
    """Parse PEM text into certificates, leaf first, in the order given.

    Text outside PEM blocks (``openssl`` "Bag Attributes", comments) is ignored; any block that
    is not CERTIFICATE is refused. Raises ``OssError`` ``InvalidArgument``.
    """
    blocks = _pem_blocks(certificate)
    if blocks is None or not blocks:
        raise _invalid(_CERT_NOT_PEM)
    chain: list[x509.Certificate] = []
    for position, (label, der) in enumerate(blocks, start=1):
        if label != _CERTIFICATE_LABEL:
            raise _invalid(f"The certificate must hold only CERTIFICATE blocks (found {label}).")
        if der is None:
            raise _invalid(_CERT_NOT_PEM)
        try:
            cert = x509.load_der_x509_certificate(der)
            # Decode extensions now so a malformed one fails here, not later on use.
            _ = cert.extensions
        except ValueError:
            raise _invalid(
                f"The certificate at position {position} in the chain is not a valid "
                "X.509 certificate."
            ) from None
        chain.append(cert)
    return chain


def fingerprint_sha1(cert: x509.Certificate) -> str:
    """SHA-1 of the DER certificate as uppercase hex pairs joined by ':' (reference §8)."""
    return ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA1()))


def describe_certificate(chain_pem: str) -> CertificateFacts:
    """Facts about the leaf of a chain already stored (no key needed, no checks on dates)."""
    leaf = parse_certificate_chain(chain_pem)[0]
    return CertificateFacts(
        fingerprint=fingerprint_sha1(leaf),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        names=_dns_names(leaf),
    )


def _pem_blocks(text: str) -> list[tuple[str, bytes | None]] | None:
    """Split PEM text into ``(label, DER)`` pairs; ``None`` if the BEGIN/END lines do not pair.

    DER is ``None`` for a block whose body is not plain base64 (empty, PEM headers, bad
    characters or padding); the caller decides what that means for its field.
    """
    blocks: list[tuple[str, bytes | None]] = []
    position = 0
    while (begin := _BEGIN.search(text, position)) is not None:
        label = begin.group(1)
        end_line = f"-----END {label}-----"
        end = text.find(end_line, begin.end())
        if end < 0:
            return None
        body = text[begin.end() : end]
        if "-----" in body:  # another BEGIN or END inside: the lines do not pair
            return None
        blocks.append((label, _decode_body(body)))
        position = end + len(end_line)
    if text.count("-----BEGIN ") != len(blocks) or text.count("-----END ") != len(blocks):
        return None
    return blocks


def _decode_body(body: str) -> bytes | None:
    """Decode a base64 PEM body after dropping all whitespace (newlines or single spaces)."""
    compact = _WHITESPACE.sub("", body)
    if not compact:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _load_private_key(text: str) -> _PrivateKey:
    """Load the one private key in ``text``; messages never quote the text."""
    blocks = _pem_blocks(text)
    if blocks is None:
        raise _invalid(_KEY_NOT_PEM)
    keys = [(label, der) for label, der in blocks if label not in _SKIPPED_IN_KEY]
    if not keys:
        raise _invalid(_KEY_NOT_PEM)
    if len(keys) > 1:
        raise _invalid(_KEY_SEVERAL)
    label, der = keys[0]
    if label == "ENCRYPTED PRIVATE KEY" or (label in _KEY_LABELS and "Proc-Type:" in text):
        # PKCS#8 EncryptedPrivateKeyInfo, or the legacy OpenSSL "Proc-Type: 4,ENCRYPTED" header.
        raise _invalid(_KEY_ENCRYPTED)
    if label not in _KEY_LABELS:
        raise _invalid(f"The private key format {label} is not supported.")
    if der is None:
        raise _invalid(_KEY_NOT_PEM)
    pem = _to_pem(label, der)
    # First without RSA validation, which costs seconds for very large keys: the size is
    # checked before any expensive work.
    key = _parse_key(pem, validate=False)
    if isinstance(key, rsa.RSAPrivateKey):
        if not _RSA_MIN_BITS <= key.key_size <= _RSA_MAX_BITS:
            raise _invalid(
                f"The private key is RSA with {key.key_size} bits; "
                f"use {_RSA_MIN_BITS} to {_RSA_MAX_BITS} bits."
            )
        key = _parse_key(pem, validate=True)  # now check that p, q, d and the CRT values agree
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in _EC_CURVES:
        raise _invalid(
            f"The private key's EC curve {key.curve.name} is not supported "
            "(use P-256, P-384 or P-521)."
        )
    if not isinstance(key, _SUPPORTED_KEYS):
        kind = type(key).__name__.removesuffix("PrivateKey").lstrip("_") or "this"
        raise _invalid(f"The private key type {kind} is not supported ({_USE_KEYS}).")
    return key


def _parse_key(pem: bytes, *, validate: bool) -> PrivateKeyTypes:
    """``load_pem_private_key`` with its exceptions turned into InvalidArgument messages."""
    try:
        return serialization.load_pem_private_key(
            pem, password=None, unsafe_skip_rsa_key_validation=not validate
        )
    except TypeError:
        raise _invalid(_KEY_ENCRYPTED) from None
    except UnsupportedAlgorithm:
        raise _invalid(f"The private key type is not supported ({_USE_KEYS}).") from None
    except ValueError:
        # With validation on, the structure already parsed once: the RSA numbers disagree.
        raise _invalid(_KEY_INCONSISTENT if validate else _KEY_NOT_PEM) from None


def _check_key_matches(chain: list[x509.Certificate], key: _PrivateKey) -> None:
    """Compare SubjectPublicKeyInfo bytes of the key and the leaf (works for every key type)."""
    wanted = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    spkis = [_spki(cert) for cert in chain]
    if spkis[0] == wanted:
        return
    if wanted in spkis[1:]:
        position = spkis.index(wanted) + 1
        raise _invalid(
            f"The private key matches certificate {position} of the chain, not the first; "
            "put the leaf certificate first."
        )
    raise _invalid(_KEY_MISMATCH)


def _spki(cert: x509.Certificate) -> bytes | None:
    """The certificate's SubjectPublicKeyInfo DER, or ``None`` for a key type we cannot read."""
    try:
        return cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (UnsupportedAlgorithm, ValueError):
        return None


def _dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    """Lowercased DNS names from SAN; the subject CN only when there is no SAN extension.

    RFC 6125 §6.4.4: a certificate with a SAN extension is never matched on its CN.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        raw = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        raw = [
            value
            for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if isinstance(value := attribute.value, str)
        ]
    names: dict[str, None] = {}
    for name in raw:
        names[_ascii_lower(name)] = None
    return tuple(names)


def _normalise_name(name: str) -> str:
    """ASCII-lowercase and drop one trailing dot (absolute and relative names compare equal)."""
    return _ascii_lower(name.removesuffix("."))


def _ascii_lower(text: str) -> str:
    """Lowercase A-Z only; non-ASCII characters stay as they are (they never match)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _chain_to_pem(chain: list[x509.Certificate]) -> str:
    """Re-encode each certificate from DER; the result ends in a newline."""
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in chain)


def _to_pem(label: str, der: bytes) -> bytes:
    """Canonical PEM: 64-column base64 lines between BEGIN and END."""
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join(
        [f"-----BEGIN {label}-----".encode(), *lines, f"-----END {label}-----".encode(), b""]
    )


def _iso(moment: datetime) -> str:
    """``2030-01-01T00:00:00Z`` (seconds; X.509 times have no finer resolution we keep)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(message: str) -> OssError:
    """The one error every check raises."""
    return OssError.from_code("InvalidArgument", message)
