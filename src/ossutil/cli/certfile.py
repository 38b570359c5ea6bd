"""``bucket-cname --method put --item certificate oss://B DOMAIN --cert-file C --key-file K``.

Beyond ossutil 1.7, whose certificate usage sends a hand-written XML file unchecked. Here the
CLI writes the ``BucketCnameConfiguration`` itself from two PEM files and checks them locally
first, so a bad upload fails with a precise message and nothing is sent:

1. both files are readable UTF-8 text;
2. the certificate is PEM (a chain is allowed, leaf first) and the key is one unencrypted PEM
   key of a supported type (RSA 2048-4096, EC P-256/384/521, Ed25519, Ed448);
3. the key belongs to the leaf;
4. the leaf is valid now (after notBefore, before notAfter);
5. the leaf's DNS names cover DOMAIN (SAN, RFC 6125 §6.4 wildcards; CN only without a SAN).

Checks 2-5 are the server's own (``ossutil.certcheck``, pure functions over
``cryptography``; importing it starts nothing), so the CLI and ``ossutil-server`` cannot
disagree about what is valid. The server checks again on arrival, as OSS does.
``cryptography`` is imported only on this path (``tests/cli/test_light_imports.py``).
"""

from __future__ import annotations

from ossutil.cli.command import CliError


def read_pem(path: str, what: str) -> str:
    """A PEM file's text; Go-style ``open <path>: <reason>`` when it cannot be read."""
    import os

    if os.path.isdir(path):
        raise CliError(f"{path} is dir,not the expected file")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        reason = error.strerror or str(error)
        raise CliError(f"open {path}: {reason[:1].lower() + reason[1:]}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{what} {path} is not PEM text (not UTF-8); convert DER with "
                       "openssl first") from None
    if not text.strip():
        raise CliError(f"{path} is empty file")
    return text


def check_pair(certificate: str, private_key: str, domain: str) -> str:
    """Run the server's checks at the current time; returns the leaf's SHA-1 fingerprint.

    Raises ``CliError`` ``certificate check failed for DOMAIN, nothing was sent: <why>``.
    """
    from datetime import datetime, timezone

    from ossutil.certcheck import check_certificate
    from ossutil.wire.errors import OssError

    try:
        checked = check_certificate(certificate, private_key, domain, datetime.now(timezone.utc))
    except OssError as error:
        raise CliError(f"certificate check failed for {domain}, nothing was sent: "
                       f"{error.message}") from None
    return checked.fingerprint


def configuration_body(domain: str, certificate: str, private_key: str,
                       previous_cert_id: str, force: bool) -> bytes:
    """The PutCname body (compact, as the SDKs send it) with the PEM texts inline."""
    from ossutil.wire.cname_xml import (
        CertificateConfiguration,
        CnameConfiguration,
        encode_cname_configuration,
    )

    return encode_cname_configuration(CnameConfiguration(domain, CertificateConfiguration(
        certificate=certificate, private_key=private_key,
        previous_cert_id=previous_cert_id or None, force=force)))
