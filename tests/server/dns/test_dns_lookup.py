"""DnspythonTxtLookup against a real DNS server on 127.0.0.1 (no resolver patching)."""

from __future__ import annotations

import asyncio
import re
import time

import dns.asyncresolver
import dns.nameserver
import dns.resolver
import pytest
from tests.support.dns_server import DnsServer

from ossutil.server.dns.lookup import (
    MAX_CNAME_HOPS,
    DnspythonTxtLookup,
    TxtAnswer,
    TxtLookup,
    parse_nameserver,
)

NAME = "_dnsauth.www.example.com"


def lookup_txt(lookup: TxtLookup, name: str) -> TxtAnswer:
    return asyncio.run(lookup.lookup_txt(name))


def test_lookup_finds_a_single_txt_record(dns_server: DnsServer,
                                          lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "0123456789abcdef0123456789abcdef")
    assert lookup_txt(lookup, NAME) == TxtAnswer(
        NAME, "found", ("0123456789abcdef0123456789abcdef",)
    )


def test_lookup_reports_the_name_without_trailing_dot(dns_server: DnsServer,
                                                      lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "tok")
    answer = lookup_txt(lookup, NAME + ".")
    assert (answer.name, answer.outcome, answer.values) == (NAME, "found", ("tok",))


def test_lookup_is_case_insensitive(dns_server: DnsServer, lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "tok")
    assert lookup_txt(lookup, NAME.upper()).values == ("tok",)


def test_lookup_reports_nxdomain_for_a_missing_name(lookup: DnspythonTxtLookup) -> None:
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "nxdomain")


def test_lookup_reports_nodata_for_a_name_without_txt(dns_server: DnsServer,
                                                      lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "tok")
    # www.example.com exists (it has a child) but holds no TXT.
    assert lookup_txt(lookup, "www.example.com") == TxtAnswer("www.example.com", "nodata")


def test_lookup_joins_the_strings_of_a_multi_string_record(dns_server: DnsServer,
                                                           lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, ["abc", "def"])
    assert lookup_txt(lookup, NAME).values == ("abcdef",)


def test_lookup_returns_one_value_per_record(dns_server: DnsServer,
                                             lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "first", ["sec", "ond"], "third")
    answer = lookup_txt(lookup, NAME)
    assert answer.outcome == "found"
    assert sorted(answer.values) == ["first", "second", "third"]


def test_lookup_decodes_utf8_and_replaces_invalid_bytes(dns_server: DnsServer,
                                                        lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "jalapeño", b"bad\xff", [b"spl\xc3", b"\xb1it"])
    assert sorted(lookup_txt(lookup, NAME).values) == ["bad\ufffd", "jalapeño", "splñit"]


def test_lookup_follows_a_cname_chain_inside_one_answer(dns_server: DnsServer,
                                                        lookup: DnspythonTxtLookup) -> None:
    dns_server.cname(NAME, "hop1.example.net")
    dns_server.cname("hop1.example.net", "proof.example.org")
    dns_server.txt("proof.example.org", "tok")
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "found", ("tok",))
    assert dns_server.queries == [(NAME, "TXT")]


def test_lookup_follows_a_cname_whose_target_needs_its_own_query(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(NAME, "hop1.example.net", chase=False)
    dns_server.cname("hop1.example.net", "proof.example.org", chase=False)
    dns_server.txt("proof.example.org", "tok")
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "found", ("tok",))
    assert dns_server.queries == [
        (NAME, "TXT"),
        ("hop1.example.net", "TXT"),
        ("proof.example.org", "TXT"),
    ]


def test_lookup_through_a_cname_to_a_missing_name_is_nxdomain(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(NAME, "gone.example.org")
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "nxdomain")


def test_lookup_through_a_cname_to_a_name_without_txt_is_nodata(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(NAME, "example.org", chase=False)
    dns_server.txt("sub.example.org", "makes example.org exist")
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "nodata")


def test_lookup_ends_a_cname_loop_across_queries_as_failure(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(NAME, "a.example.net", chase=False)
    dns_server.cname("a.example.net", NAME, chase=False)
    answer = lookup_txt(lookup, NAME)
    assert answer.outcome == "failure"
    assert answer.detail == f"CNAME loop: {NAME} -> a.example.net -> {NAME}"


def test_lookup_ends_a_cname_loop_inside_one_answer_as_failure(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(NAME, "a.example.net")
    dns_server.cname("a.example.net", NAME)
    answer = lookup_txt(lookup, NAME)
    assert answer.outcome == "failure"
    assert answer.detail == (
        f"CNAME chain too long or looping in the answer from {dns_server.nameserver}"
    )


def test_lookup_gives_up_after_the_maximum_number_of_cname_hops(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    names = [f"h{i}.example.net" for i in range(MAX_CNAME_HOPS + 1)]
    dns_server.cname(NAME, names[0], chase=False)
    for here, there in zip(names, names[1:], strict=False):
        dns_server.cname(here, there, chase=False)
    dns_server.txt(names[-1], "tok")
    answer = lookup_txt(lookup, NAME)
    assert answer.outcome == "failure"
    assert answer.detail.startswith(f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {NAME} -> ")


def test_lookup_follows_exactly_the_maximum_number_of_cname_hops(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    names = [f"h{i}.example.net" for i in range(MAX_CNAME_HOPS)]
    dns_server.cname(NAME, names[0], chase=False)
    for here, there in zip(names, names[1:], strict=False):
        dns_server.cname(here, there, chase=False)
    dns_server.txt(names[-1], "tok")
    assert lookup_txt(lookup, NAME).values == ("tok",)


def test_lookup_falls_back_to_tcp_for_a_truncated_answer(dns_server: DnsServer,
                                                         lookup: DnspythonTxtLookup) -> None:
    long_value = "x" * 2000  # several 255-byte strings; far over a 512-byte UDP answer
    dns_server.txt(NAME, long_value)
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "found", (long_value,))
    assert dns_server.transports == ["udp", "tcp"]


def test_lookup_reports_servfail_as_failure(dns_server: DnsServer,
                                            lookup: DnspythonTxtLookup) -> None:
    dns_server.servfail(NAME)
    assert lookup_txt(lookup, NAME) == TxtAnswer(
        NAME, "failure", detail=f"SERVFAIL from {dns_server.nameserver}"
    )


def test_lookup_times_out_within_its_lifetime_on_a_silent_server(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.txt(NAME, "tok")
    dns_server.blackhole()
    started = time.monotonic()
    answer = lookup_txt(lookup, NAME)
    elapsed = time.monotonic() - started
    assert answer.outcome == "failure"
    assert elapsed < lookup.lifetime + 1.0
    assert re.fullmatch(
        rf"timed out after \d+\.\d s asking {re.escape(dns_server.nameserver)}", answer.detail
    )
    assert dns_server.queries and set(dns_server.queries) == {(NAME, "TXT")}


def test_lookup_keeps_the_event_loop_responsive_while_waiting(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.blackhole()

    async def scenario() -> tuple[TxtAnswer, list[float]]:
        ticks: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        task = asyncio.create_task(ticker())
        try:
            answer = await lookup.lookup_txt(NAME)
        finally:
            done.set()
            await task
        return answer, ticks

    answer, ticks = asyncio.run(scenario())
    assert answer.outcome == "failure"
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= 20  # ~1 s of lifetime at one tick per 20 ms
    assert max(gaps) < 0.25


def test_lookup_reports_a_server_that_is_gone_as_failure(dns_server: DnsServer) -> None:
    dns_server.stop()  # nothing listens on the port any more
    lookup = DnspythonTxtLookup([dns_server.address], timeout=0.3, lifetime=1.0)
    answer = lookup_txt(lookup, NAME)
    assert answer.outcome == "failure"
    assert dns_server.nameserver in answer.detail


def test_lookup_without_nameservers_is_a_failure() -> None:
    assert lookup_txt(DnspythonTxtLookup([]), NAME) == TxtAnswer(
        NAME, "failure", detail="no DNS servers configured"
    )


def test_lookup_of_an_invalid_name_is_a_failure(lookup: DnspythonTxtLookup) -> None:
    answer = lookup_txt(lookup, "a..b")
    assert answer.outcome == "failure"
    assert answer.detail.startswith("invalid name 'a..b': ")


# -- no caching (reference §15 item 11) ----------------------------------------------------


def test_lookup_sees_a_record_added_right_after_nxdomain(dns_server: DnsServer,
                                                         lookup: DnspythonTxtLookup) -> None:
    assert lookup_txt(lookup, NAME).outcome == "nxdomain"
    dns_server.txt(NAME, "tok")
    assert lookup_txt(lookup, NAME) == TxtAnswer(NAME, "found", ("tok",))
    assert dns_server.queries == [(NAME, "TXT"), (NAME, "TXT")]


def test_lookup_sees_a_record_added_right_after_nodata(dns_server: DnsServer,
                                                       lookup: DnspythonTxtLookup) -> None:
    dns_server.txt("x." + NAME, "child")
    assert lookup_txt(lookup, NAME).outcome == "nodata"
    dns_server.txt(NAME, "tok")
    assert lookup_txt(lookup, NAME).values == ("tok",)
    assert dns_server.queries == [(NAME, "TXT"), (NAME, "TXT")]


def test_lookup_sees_a_changed_value_at_once(dns_server: DnsServer,
                                             lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(NAME, "old")
    assert lookup_txt(lookup, NAME).values == ("old",)
    dns_server.txt(NAME, "new")
    assert lookup_txt(lookup, NAME).values == ("new",)


def test_a_caching_resolver_would_have_kept_the_nxdomain(dns_server: DnsServer) -> None:
    """Control for the tests above: the server's NXDOMAIN is cacheable (it carries an SOA)."""
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(*dns_server.address)]
    resolver.cache = dns.resolver.Cache()

    async def twice() -> None:
        for _ in range(2):
            with pytest.raises(dns.resolver.NXDOMAIN):
                await resolver.resolve(NAME, "TXT", lifetime=2.0)
            dns_server.txt(NAME, "tok")

    asyncio.run(twice())
    assert dns_server.queries == [(NAME, "TXT")]


# -- parse_nameserver --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        (" 10.0.0.2:53 ", ("10.0.0.2", 53)),
        ("[::1]:53", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("::1", ("::1", 53)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        ("[2001:db8::1]:5300", ("2001:db8::1", 5300)),
    ],
)
def test_parse_nameserver_accepts_ip_and_optional_port(text: str,
                                                       expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("dns.example.com", "is not an IPv4 or IPv6 address"),
        ("dns.example.com:53", "is not an IPv4 or IPv6 address"),
        ("127.0.0.1:", "empty port"),
        ("127.0.0.1:0", "not a number in 1-65535"),
        ("127.0.0.1:65536", "not a number in 1-65535"),
        ("127.0.0.1:x", "not a number in 1-65535"),
        ("[::1", "missing ']'"),
        ("[::1]53", "expected ':PORT'"),
        ("[127.0.0.1]:53", "brackets are only for IPv6"),
        ("300.1.1.1", "is not an IPv4 or IPv6 address"),
    ],
)
def test_parse_nameserver_rejects_anything_else_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_nameserver(text)
