"""DomainTable.load_routes: the start-up fill from the store's plain tuples."""

from __future__ import annotations

from datetime import UTC, datetime

from ossutil.server.gateway.domains import DomainTable
from ossutil.server.models import Binding, BindingStatus, Route

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def route(domain: str, bucket: str = "bucket-a", cert_id: str | None = None) -> Route:
    if cert_id is None:
        return (domain, bucket, None, None, None, None)
    return (domain, bucket, cert_id, "AA", f"chain of {cert_id}", b"sealed")


def test_routes_fill_hosts_and_certificates() -> None:
    table = DomainTable()
    table.load_routes([route("www.example.com"), route("*.example.org", "bucket-b", "c1")])
    assert len(table) == 2
    assert table.bucket_for("www.example.com") == "bucket-a"
    assert table.bucket_for("*.example.org") == "bucket-b"
    assert table.certificate_for("www.example.com") is None
    entry = table.certificate_for("img.example.org")
    assert entry is not None
    assert (entry.cert_id, entry.fingerprint, entry.chain_pem, entry.key_sealed) == (
        "c1", "AA", "chain of c1", b"sealed")


def test_one_entry_per_certificate_and_bucket_name() -> None:
    table = DomainTable()
    table.load_routes([route(f"d{i}.example.com", "".join(["bucket", "-a"]), "c1")
                       for i in range(3)])
    assert len({id(table.certificate_for(f"d{i}.example.com")) for i in range(3)}) == 1
    assert len({id(table.bucket_for(f"d{i}.example.com")) for i in range(3)}) == 1


def test_a_certificate_is_released_when_its_last_route_goes() -> None:
    table = DomainTable()
    table.load_routes([route("a.example.com", cert_id="c1"), route("b.example.com",
                                                                   cert_id="c1")])
    assert table.apply("a.example.com", None) == []
    assert table.apply("b.example.com", Binding("b.example.com", "bucket-a",
                                                BindingStatus.ENABLED, NOW, NOW)) == [
        ("c1", "AA")]
    assert table.bucket_for("b.example.com") == "bucket-a"
    assert table.certificate_for("b.example.com") is None


def test_loading_again_replaces_what_was_loaded() -> None:
    table = DomainTable()
    table.load_routes([route("a.example.com", cert_id="c1"), route("b.example.com")])
    table.load_routes([route("a.example.com", cert_id="c1")])  # a retried store read
    assert len(table) == 1
    assert table.bucket_for("b.example.com") is None
    assert table.apply("a.example.com", None) == [("c1", "AA")]  # counted once, not twice
