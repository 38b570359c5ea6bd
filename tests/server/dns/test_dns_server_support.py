"""The loopback DNS server the DNS tests rely on (tests/support/dns_server.py)."""

from __future__ import annotations

import socket

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from tests.support.dns_server import DnsServer


def ask(server: DnsServer, name: str, rdtype: str = "TXT", *, tcp: bool = False
        ) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    host, port = server.address
    if tcp:
        return dns.query.tcp(query, host, port=port, timeout=2.0)
    return dns.query.udp(query, host, port=port, timeout=2.0)


def test_dns_server_listens_on_one_port_for_udp_and_tcp(dns_server: DnsServer) -> None:
    host, port = dns_server.address
    assert host == "127.0.0.1" and port > 0
    assert dns_server.nameserver == f"127.0.0.1:{port}"
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as other, pytest.raises(OSError):
            other.bind((host, port))
    dns_server.txt("a.example.com", "v")
    over_udp = ask(dns_server, "a.example.com")
    assert over_udp.answer == ask(dns_server, "a.example.com", tcp=True).answer
    assert dns_server.transports == ["udp", "tcp"]


def test_dns_server_names_are_case_insensitive_with_optional_dot(dns_server: DnsServer) -> None:
    dns_server.txt("A.Example.COM.", "v")
    response = ask(dns_server, "a.example.com")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert [rd.strings for rd in response.answer[0]] == [(b"v",)]
    assert dns_server.queries == [("a.example.com", "TXT")]


def test_dns_server_answers_nxdomain_with_an_soa(dns_server: DnsServer) -> None:
    response = ask(dns_server, "missing.example.com")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_dns_server_includes_the_cname_target_only_when_chasing(dns_server: DnsServer) -> None:
    dns_server.txt("target.example.net", "v")
    dns_server.cname("in.example.com", "target.example.net")
    dns_server.cname("out.example.com", "target.example.net", chase=False)
    assert [r.rdtype for r in ask(dns_server, "in.example.com").answer] == [
        dns.rdatatype.CNAME, dns.rdatatype.TXT
    ]
    assert [r.rdtype for r in ask(dns_server, "out.example.com").answer] == [dns.rdatatype.CNAME]


def test_dns_server_truncates_long_udp_answers(dns_server: DnsServer) -> None:
    dns_server.txt("long.example.com", "x" * 1000)
    truncated = ask(dns_server, "long.example.com")
    assert truncated.flags & dns.flags.TC and not truncated.answer
    assert len(ask(dns_server, "long.example.com", tcp=True).answer[0]) == 1


def test_dns_server_clear_and_remove_forget_records(dns_server: DnsServer) -> None:
    dns_server.txt("a.example.com", "v")
    dns_server.servfail("b.example.com")
    dns_server.remove("a.example.com")
    assert ask(dns_server, "a.example.com").rcode() == dns.rcode.NXDOMAIN
    assert ask(dns_server, "b.example.com").rcode() == dns.rcode.SERVFAIL
    dns_server.blackhole()
    dns_server.clear()
    assert ask(dns_server, "b.example.com").rcode() == dns.rcode.NXDOMAIN
    assert dns_server.queries == [("b.example.com", "TXT")]
