"""verify_ownership: the _dnsauth TXT proof and its NeedVerifyDomainOwnership messages."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from tests.support.dns_server import DnsServer

from ossutil.server.dns.lookup import DnspythonTxtLookup, TxtAnswer
from ossutil.server.dns.ownership import DNSAUTH_PREFIX, dnsauth_name, verify_ownership
from ossutil.server.dns.zonefile import ZoneFileTxtLookup
from ossutil.wire.errors import OssError

DOMAIN = "www.example.com"
PROOF = "_dnsauth.www.example.com"
TOKEN = "0123456789abcdef0123456789abcdef"
DEFAULT = "Please verify domain ownership by CreateCnameToken and try again."


class FixedTxtLookup:
    """Always gives the same answer; for the message wording of failure details only."""

    def __init__(self, answer: TxtAnswer) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def lookup_txt(self, name: str) -> TxtAnswer:
        self.asked.append(name)
        return self.answer


def refusal(lookup: object, domain: str = DOMAIN, token: str = TOKEN) -> OssError:
    """Run verify_ownership, expecting NeedVerifyDomainOwnership; return the error."""
    with pytest.raises(OssError) as caught:
        asyncio.run(verify_ownership(lookup, domain, token))  # type: ignore[arg-type]
    error = caught.value
    assert (error.code, error.status, error.ec) == (
        "NeedVerifyDomainOwnership", 403, "0018-00000115"
    )
    return error


def test_dnsauth_name_prefixes_the_domain() -> None:
    assert DNSAUTH_PREFIX == "_dnsauth."
    assert dnsauth_name(DOMAIN) == PROOF
    assert dnsauth_name("example.com") == "_dnsauth.example.com"
    assert dnsauth_name("example.com.") == "_dnsauth.example.com"


def test_verify_ownership_accepts_the_token(dns_server: DnsServer,
                                            lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(PROOF, TOKEN)
    assert asyncio.run(verify_ownership(lookup, DOMAIN, TOKEN)) is None
    assert dns_server.queries == [(PROOF, "TXT")]


@pytest.mark.parametrize(
    "records",
    [
        (f"  {TOKEN}\t",),  # whitespace around the value is ignored
        ([TOKEN[:10], TOKEN[10:]],),  # character-strings are joined
        ("google-site-verification=abc", TOKEN, "another-bucket-token"),  # one of several
    ],
    ids=["surrounding-whitespace", "multi-string", "one-of-several"],
)
def test_verify_ownership_accepts_the_token_among_records(
    dns_server: DnsServer, lookup: DnspythonTxtLookup, records: tuple[str | list[str], ...]
) -> None:
    dns_server.txt(PROOF, *records)
    asyncio.run(verify_ownership(lookup, DOMAIN, TOKEN))


def test_verify_ownership_follows_a_cname_on_the_dnsauth_name(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.cname(PROOF, "proofs.dns-provider.example.net", chase=False)
    dns_server.txt("proofs.dns-provider.example.net", TOKEN)
    asyncio.run(verify_ownership(lookup, DOMAIN, TOKEN))


def test_verify_ownership_accepts_the_token_from_a_zone_file(tmp_path: Path) -> None:
    path = tmp_path / "proofs.zone"
    path.write_text(f"$TTL 60\n{PROOF}. IN TXT {TOKEN}\n", encoding="utf-8")
    asyncio.run(verify_ownership(ZoneFileTxtLookup(path), DOMAIN, TOKEN))


def test_verify_ownership_refuses_a_missing_record(lookup: DnspythonTxtLookup) -> None:
    assert refusal(lookup).message == f"{DEFAULT} No TXT record found at {PROOF}."


def test_verify_ownership_refuses_a_name_without_txt(dns_server: DnsServer,
                                                     lookup: DnspythonTxtLookup) -> None:
    dns_server.txt("deeper." + PROOF, TOKEN)  # the proof name exists, holding no TXT
    assert refusal(lookup).message == f"{DEFAULT} No TXT record found at {PROOF}."


def test_verify_ownership_refuses_other_values_without_showing_them(
    dns_server: DnsServer, lookup: DnspythonTxtLookup
) -> None:
    dns_server.txt(PROOF, "fedcba9876543210fedcba9876543210", TOKEN.upper())
    error = refusal(lookup)
    assert error.message == (
        f"{DEFAULT} The TXT record at {PROOF} does not contain the token of this bucket "
        "(found 2 other values)."
    )
    assert "fedcba" not in str(error) and TOKEN not in str(error)


def test_verify_ownership_refuses_a_single_other_value(dns_server: DnsServer,
                                                       lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(PROOF, TOKEN + "0")
    assert refusal(lookup).message == (
        f"{DEFAULT} The TXT record at {PROOF} does not contain the token of this bucket "
        "(found 1 other value)."
    )


def test_verify_ownership_compares_exactly(dns_server: DnsServer,
                                           lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(PROOF, f"token={TOKEN}", f'"{TOKEN}"', TOKEN[:-1])
    assert "(found 3 other values)." in refusal(lookup).message


def test_verify_ownership_never_accepts_an_empty_token(dns_server: DnsServer,
                                                       lookup: DnspythonTxtLookup) -> None:
    dns_server.txt(PROOF, "")
    assert "(found 1 other value)." in refusal(lookup, token="").message


def test_verify_ownership_refuses_on_servfail(dns_server: DnsServer,
                                              lookup: DnspythonTxtLookup) -> None:
    dns_server.servfail(PROOF)
    assert refusal(lookup).message == (
        f"{DEFAULT} DNS lookup of TXT {PROOF} failed: SERVFAIL from {dns_server.nameserver}."
    )


def test_verify_ownership_refuses_on_timeout(dns_server: DnsServer,
                                             lookup: DnspythonTxtLookup) -> None:
    dns_server.blackhole()
    message = refusal(lookup).message
    assert re.fullmatch(
        re.escape(f"{DEFAULT} DNS lookup of TXT {PROOF} failed: timed out after ")
        + r"\d+\.\d"
        + re.escape(f" s asking {dns_server.nameserver}."),
        message,
    )


@pytest.mark.parametrize(
    ("detail", "sentence"),
    [
        ("no DNS servers configured", "failed: no DNS servers configured."),
        ("ends with a dot.", "failed: ends with a dot."),
        ("", "failed: no answer."),
    ],
)
def test_verify_ownership_failure_sentence_ends_with_one_dot(detail: str, sentence: str) -> None:
    lookup = FixedTxtLookup(TxtAnswer(PROOF, "failure", detail=detail))
    assert refusal(lookup).message == f"{DEFAULT} DNS lookup of TXT {PROOF} {sentence}"
    assert lookup.asked == [PROOF]


def test_verify_ownership_refuses_on_a_broken_zone_file(tmp_path: Path) -> None:
    path = tmp_path / "proofs.zone"
    path.write_text(f'$TTL 60\n{PROOF}. IN TXT "{TOKEN}\n', encoding="utf-8")
    message = refusal(ZoneFileTxtLookup(path)).message
    assert message.startswith(
        f"{DEFAULT} DNS lookup of TXT {PROOF} failed: cannot parse zone file: {path}:"
    )


def test_verify_ownership_asks_again_every_time(dns_server: DnsServer,
                                                lookup: DnspythonTxtLookup) -> None:
    refusal(lookup)
    dns_server.txt(PROOF, TOKEN)
    asyncio.run(verify_ownership(lookup, DOMAIN, TOKEN))
    dns_server.remove(PROOF)
    refusal(lookup)
    assert dns_server.queries == [(PROOF, "TXT")] * 3
