"""The shared DNS rules of domain health and ``ossutil doctor``: where a domain points
(``dnsrules.pointing``), what CAA allows (``dnsrules.caa``), and the CNAME chase of any record
type (``dnsrules.records``) against the real loopback DNS server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.support.dns_server import DnsServer

from ossutil.dnsrules import caa
from ossutil.dnsrules.pointing import Pointing, decide
from ossutil.dnsrules.records import Records, parents
from ossutil.server.health.lookup import RecordLookup

SERVICE = ("oss-cn-hangzhou.example.com",)


def test_a_cname_into_the_endpoint_domain_points_here() -> None:
    chain = ("www.a.test", "cdn.a.test", "photos.oss-cn-hangzhou.example.com")
    assert decide("www.a.test", chain, ("203.0.113.1",), "found", "", service_names=SERVICE,
                  service_addresses=()) == Pointing(
        "ok", "CNAME www.a.test -> cdn.a.test -> photos.oss-cn-hangzhou.example.com", "cname")


def test_addresses_point_here_only_when_all_are_the_services() -> None:
    assert decide("www.a.test", ("www.a.test",), ("2001:DB8::1",), "found", "",
                  service_names=SERVICE, service_addresses=("2001:db8::1",)) == Pointing(
        "ok", "resolves to 2001:db8::1", "address")
    assert decide("www.a.test", ("www.a.test",), ("192.0.2.1", "192.0.2.2"), "found", "",
                  service_names=SERVICE, service_addresses=("192.0.2.1",)) == Pointing(
        "dangling", "resolves to 192.0.2.1, 192.0.2.2; not this service's: 192.0.2.2 (its "
                    "addresses: 192.0.2.1)")


def test_no_name_or_no_address_is_dangling_and_a_failure_is_unknown() -> None:
    assert decide("www.a.test", ("www.a.test",), (), "nxdomain", "", service_names=SERVICE,
                  service_addresses=()).state == "dangling"
    assert decide("www.a.test", ("www.a.test", "gone.b.test"), (), "nxdomain", "",
                  service_names=SERVICE, service_addresses=()) == Pointing(
        "dangling", "CNAME www.a.test -> gone.b.test, which does not exist")
    assert decide("www.a.test", ("www.a.test",), (), "nodata", "", service_names=SERVICE,
                  service_addresses=()) == Pointing(
        "dangling", "www.a.test has no CNAME and no address record")
    assert decide("www.a.test", ("www.a.test",), (), "failure", "timed out",
                  service_names=SERVICE, service_addresses=("192.0.2.1",)) == Pointing(
        "unknown", "DNS look-up failed: timed out")
    assert decide("www.a.test", ("www.a.test",), ("192.0.2.9",), "found", "",
                  service_names=SERVICE, service_addresses=()).state == "unknown"


def test_caa_rules_of_rfc_8659() -> None:
    def policy(*records: str, ca: str = "", wildcard: bool = False) -> caa.CaaPolicy:
        return caa.evaluate("a.test", [caa.parse(r) for r in records], ca, wildcard=wildcard)

    assert caa.evaluate("", [], "ca.test").verdict == "allowed"
    assert policy('0 iodef "mailto:x@a.test"', ca="ca.test").detail == (
        "CAA at a.test does not restrict issuance")
    assert policy('0 issue "CA.test; account=1"', ca="ca.test").verdict == "allowed"
    assert policy('0 issue "other.test"', ca="ca.test").detail == (
        "CAA at a.test allows only other.test, not ca.test")
    assert policy('0 issue ";"').detail == 'CAA at a.test forbids every CA (issue ";")'
    assert policy('128 tbs "x"', '0 issue "ca.test"', ca="ca.test").detail == (
        "CAA at a.test has an unknown critical property 'tbs': no CA may issue")
    assert policy('0 issue "ca.test"', '0 issuewild ";"', ca="ca.test",
                  wildcard=True).verdict == "forbidden"
    assert policy('0 issue "ca.test"', '0 issuewild ";"', ca="ca.test").verdict == "allowed"
    assert policy('0 issue "b.test"', '0 issue "c.test"').detail == (
        "CAA at a.test allows only: b.test, c.test")
    assert parents("www.Sub.a.test.") == ["www.sub.a.test", "sub.a.test", "a.test", "test"]


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


def lookup(dns: DnsServer, name: str, rdtype: str) -> Records:
    return asyncio.run(RecordLookup([dns.address]).records(name, rdtype))


def test_the_chase_follows_cnames_inside_and_across_answers(dns: DnsServer) -> None:
    dns.cname("www.a.test", "edge.b.test", chase=False)
    dns.cname("edge.b.test", "origin.c.test")
    dns.a("origin.c.test", "192.0.2.5")
    assert lookup(dns, "WWW.a.test.", "A") == Records(
        "www.a.test", "A", "found", ("www.a.test", "edge.b.test", "origin.c.test"),
        ("192.0.2.5",))
    dns.caa("origin.c.test", '0 issue "ca.test"')
    assert lookup(dns, "www.a.test", "CAA").values == ('0 issue "ca.test"',)
    assert lookup(dns, "origin.c.test", "AAAA").outcome == "nodata"
    assert lookup(dns, "nothing.a.test", "A") == Records(
        "nothing.a.test", "A", "nxdomain", ("nothing.a.test",))


def test_the_chase_refuses_loops_and_reports_failures(dns: DnsServer) -> None:
    dns.cname("x.a.test", "y.a.test", chase=False)
    dns.cname("y.a.test", "x.a.test", chase=False)
    answer = lookup(dns, "x.a.test", "A")
    assert (answer.outcome, answer.detail) == ("failure",
                                               "CNAME loop: x.a.test -> y.a.test -> x.a.test")
    dns.servfail("bad.a.test")
    answer = lookup(dns, "bad.a.test", "A")
    assert (answer.outcome, answer.detail) == ("failure", f"SERVFAIL from {dns.nameserver}")
    dns.blackhole()
    answer = asyncio.run(RecordLookup([dns.address], timeout=0.2, lifetime=0.5).records(
        "www.a.test", "A"))
    assert answer.outcome == "failure"
    assert answer.detail.startswith("timed out after 0.")
    assert answer.detail.endswith(f" s asking {dns.nameserver}")
