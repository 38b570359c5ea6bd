"""DomainTable: Host and SNI lookups, wildcard fallback for certificates, cache release."""

from __future__ import annotations

from datetime import UTC, datetime

from ossutil.server.gateway.domains import DomainTable
from ossutil.server.models import Binding, BindingStatus, Certificate, CertificateType

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def certificate(cert_id: str, fingerprint: str = "AA") -> Certificate:
    return Certificate(cert_id, "1", CertificateType.UPLOAD, "chain", b"sealed", fingerprint,
                       NOW, NOW, NOW)


def binding(domain: str, bucket: str = "bucket-a", cert: Certificate | None = None,
            status: BindingStatus = BindingStatus.ENABLED) -> Binding:
    return Binding(domain, bucket, status, NOW, NOW, cert.cert_id if cert else None, None, cert)


def test_bound_enabled_domains_map_to_their_bucket_and_nothing_else() -> None:
    table = DomainTable()
    table.load([binding("www.example.com"), binding("img.example.com", "bucket-b"),
                binding("off.example.com", status=BindingStatus.DISABLED)])
    assert table.bucket_for("www.example.com") == "bucket-a"
    assert table.bucket_for("img.example.com") == "bucket-b"
    assert table.bucket_for("off.example.com") is None
    assert table.bucket_for("example.com") is None
    assert table.bucket_for("bucket-a") is None
    assert len(table) == 2
    table.apply("www.example.com", None)
    assert table.bucket_for("www.example.com") is None


def test_bucket_names_are_shared_between_bindings() -> None:
    table = DomainTable()
    table.load([binding(f"d{i}.example.com", "".join(["bucket", "-a"])) for i in range(3)])
    names = {id(table.bucket_for(f"d{i}.example.com")) for i in range(3)}
    assert len(names) == 1


def test_certificate_lookup_is_exact_first_then_a_covering_wildcard() -> None:
    table = DomainTable()
    table.load([binding("*.example.com", cert=certificate("wild")),
                binding("www.example.com", cert=certificate("exact")),
                binding("plain.example.com")])
    found = table.certificate_for("www.example.com")
    assert found is not None and found.cert_id == "exact"
    wild = table.certificate_for("plain.example.com")  # bound without one: the wildcard's
    assert wild is not None and wild.cert_id == "wild"
    assert table.certificate_for("a.b.example.com") is None  # one label only
    assert table.certificate_for("example.com") is None
    assert table.certificate_for("other.org") is None


def test_apply_reports_certificates_no_binding_uses_any_more() -> None:
    table = DomainTable()
    shared = certificate("shared", "F1")
    assert table.apply("a.example.com", binding("a.example.com", cert=shared)) == []
    assert table.apply("b.example.com", binding("b.example.com", cert=shared)) == []
    assert table.apply("a.example.com", binding("a.example.com")) == []  # b still uses it
    assert table.apply("b.example.com", binding("b.example.com", cert=shared)) == []  # same
    rotated = certificate("shared", "F2")  # same id, new content: a new cache entry
    assert table.apply("b.example.com", binding("b.example.com", cert=rotated)) == [
        ("shared", "F1")]
    assert table.apply("b.example.com", None) == [("shared", "F2")]
    assert table.certificate_for("b.example.com") is None
