"""Every CNAME body as a dataclass, with encode (-> bytes) and decode (bytes ->) for each.

Decoders are lenient where OSS is (reference §2.4): declaration optional, any child order,
namespaces ignored, booleans ``true``/``True``/``false``/``False`` (absent = false). Anything else
wrong with a document is ``OssError("MalformedXML")``; nothing else escapes a decoder.

Dates travel as the exact text OSS writes (``wire.dates`` formats them); clients treat them as
opaque strings, as the SDKs do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ossutil.wire import xml
from ossutil.wire.codec import malformed as _malformed
from ossutil.wire.codec import root as _root

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def parse_bool(value: str | None, what: str) -> bool:
    """OSS booleans: case-insensitive ``true``/``false``; absent or empty means false."""
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("", "false"):
        return False
    if lowered == "true":
        return True
    raise _malformed(f"{what} must be true or false")


def _required(parent: Element, name: str) -> str:
    value = xml.text(parent, name)
    if value is None:
        raise _malformed(f"missing element {name}")
    return value


# --- BucketCnameConfiguration (request body of CreateCnameToken, PutCname, DeleteCname) -----


@dataclass(frozen=True)
class CertificateConfiguration:
    """``<CertificateConfiguration>`` of PutCname: attach, rotate or detach a certificate."""

    cert_id: str | None = None
    certificate: str | None = None
    private_key: str | None = field(default=None, repr=False)
    previous_cert_id: str | None = None
    force: bool = False
    delete_certificate: bool = False


@dataclass(frozen=True)
class CnameConfiguration:
    """``<BucketCnameConfiguration><Cname>``: one domain, optionally a certificate part."""

    domain: str
    certificate: CertificateConfiguration | None = None
    is_wildcard: bool = False


def encode_cname_configuration(config: CnameConfiguration) -> bytes:
    """Compact form, as the SDKs send it (no declaration, no whitespace)."""
    cname: list[xml.Node] = [("Domain", config.domain)]
    cert = config.certificate
    if cert is not None:
        parts: list[xml.Node] = []
        for tag, value in (("CertId", cert.cert_id), ("Certificate", cert.certificate),
                           ("PrivateKey", cert.private_key),
                           ("PreviousCertId", cert.previous_cert_id)):
            if value is not None:
                parts.append((tag, value))
        if cert.force:
            parts.append(("Force", "true"))
        if cert.delete_certificate:
            parts.append(("DeleteCertificate", "true"))
        cname.append(("CertificateConfiguration", parts))
    if config.is_wildcard:
        cname.append(("IsWildCard", "true"))
    return xml.emit_compact(("BucketCnameConfiguration", [("Cname", cname)]))


def decode_cname_configuration(body: bytes) -> CnameConfiguration:
    """Parse a request body; exactly one ``Cname`` with a ``Domain`` is required."""
    root = _root(body, "BucketCnameConfiguration")
    cnames = xml.children(root, "Cname")
    if len(cnames) != 1:
        raise _malformed("exactly one Cname element is required")
    cname = cnames[0]
    domain = _required(cname, "Domain").strip()
    cert_element = xml.child(cname, "CertificateConfiguration")
    certificate = None
    if cert_element is not None:

        def opt(name: str) -> str | None:
            value = xml.text(cert_element, name)
            return value.strip() if value is not None else None

        certificate = CertificateConfiguration(
            cert_id=opt("CertId"),
            certificate=xml.text(cert_element, "Certificate"),
            private_key=xml.text(cert_element, "PrivateKey"),
            previous_cert_id=opt("PreviousCertId"),
            force=parse_bool(xml.text(cert_element, "Force"), "Force"),
            delete_certificate=parse_bool(xml.text(cert_element, "DeleteCertificate"),
                                          "DeleteCertificate"),
        )
    return CnameConfiguration(
        domain=domain,
        certificate=certificate,
        is_wildcard=parse_bool(xml.text(cname, "IsWildCard"), "IsWildCard"),
    )


# --- CnameToken (response of CreateCnameToken and GetCnameToken) --------------------------


@dataclass(frozen=True)
class CnameToken:
    """``<CnameToken>``; ``expire_time`` is RFC 1123 text."""

    bucket: str
    cname: str
    token: str
    expire_time: str


def encode_cname_token(token: CnameToken) -> bytes:
    return xml.emit(("CnameToken", [
        ("Bucket", token.bucket),
        ("Cname", token.cname),
        ("Token", token.token),
        ("ExpireTime", token.expire_time),
    ]))


def decode_cname_token(body: bytes) -> CnameToken:
    root = _root(body, "CnameToken")
    return CnameToken(
        bucket=_required(root, "Bucket"),
        cname=_required(root, "Cname"),
        token=_required(root, "Token"),
        expire_time=_required(root, "ExpireTime"),
    )


# --- ListCnameResult ----------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateSummary:
    """``<Certificate>`` inside a ListCname entry (no key material, ever)."""

    type: str
    cert_id: str
    status: str
    creation_date: str
    fingerprint: str
    valid_start_date: str
    valid_end_date: str


@dataclass(frozen=True)
class CnameInfo:
    """One ``<Cname>`` entry of ListCname."""

    domain: str
    last_modified: str
    status: str
    is_purge_cdn_cache: bool = False
    certificate: CertificateSummary | None = None


@dataclass(frozen=True)
class ListCnameResult:
    bucket: str
    owner: str
    cnames: tuple[CnameInfo, ...] = ()


_CERT_FIELDS = (
    ("Type", "type"), ("CertId", "cert_id"), ("Status", "status"),
    ("CreationDate", "creation_date"), ("Fingerprint", "fingerprint"),
    ("ValidStartDate", "valid_start_date"), ("ValidEndDate", "valid_end_date"),
)


def encode_list_cname_result(result: ListCnameResult) -> bytes:
    entries: list[xml.Node] = [("Bucket", result.bucket), ("Owner", result.owner)]
    for info in result.cnames:
        parts: list[xml.Node] = [
            ("Domain", info.domain),
            ("LastModified", info.last_modified),
            ("Status", info.status),
            ("IsPurgeCdnCache", "true" if info.is_purge_cdn_cache else "false"),
        ]
        if info.certificate is not None:
            cert = info.certificate
            parts.append(("Certificate",
                          [(tag, getattr(cert, attr)) for tag, attr in _CERT_FIELDS]))
        entries.append(("Cname", parts))
    return xml.emit(("ListCnameResult", entries))


def decode_list_cname_result(body: bytes) -> ListCnameResult:
    root = _root(body, "ListCnameResult")
    cnames = []
    for entry in xml.children(root, "Cname"):
        cert_element = xml.child(entry, "Certificate")
        certificate = None
        if cert_element is not None:
            certificate = CertificateSummary(
                **{attr: xml.text(cert_element, tag) or "" for tag, attr in _CERT_FIELDS}
            )
        cnames.append(CnameInfo(
            domain=_required(entry, "Domain"),
            last_modified=xml.text(entry, "LastModified") or "",
            status=xml.text(entry, "Status") or "",
            is_purge_cdn_cache=parse_bool(xml.text(entry, "IsPurgeCdnCache"), "IsPurgeCdnCache"),
            certificate=certificate,
        ))
    return ListCnameResult(bucket=_required(root, "Bucket"), owner=_required(root, "Owner"),
                           cnames=tuple(cnames))
