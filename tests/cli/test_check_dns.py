"""Beyond ossutil 1.7: ``bucket-cname --method put --check-dns`` and the ownership hint.

Everything runs against the real ``ossutil-server`` (``server``) and real loopback DNS servers:
the session ``dns`` that the server itself asks, and, where the CLI must see something other
than the server sees, a private ``DnsServer`` given to the CLI with ``--dns-server``. That is
how "PutCname was not sent" is proven: the server would have accepted the bind, yet the domain
stays unbound.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

from ossutil.client import OssClient
from ossutil.wire.cname_xml import CnameToken

ELAPSED = re.compile(rb"^\n\d+\.\d{6}\(s\) elapsed\n$")


@pytest.fixture
def other_dns() -> Iterator[DnsServer]:
    """A DNS server only the CLI asks (the ossutil-server keeps asking ``dns``)."""
    with DnsServer() as private:
        yield private


def cli(server: RunningServer, words: Sequence[str], tmp_path: Path) -> Outcome:
    return run_ours([*words, "-e", server.endpoint, "-i", server.access_key_id,
                     "-k", server.access_key_secret, "-c", "none.cfg"], cwd=tmp_path)


class _Terminal(io.TextIOWrapper):
    """stderr as a terminal shows it (the hint after a plain bind is for humans only)."""

    def isatty(self) -> bool:
        return True


def cli_at_terminal(server: RunningServer, words: Sequence[str], tmp_path: Path) -> Outcome:
    from ossutil.cli.main import run

    out, err = io.BytesIO(), io.BytesIO()
    terminal = _Terminal(err, encoding="utf-8", write_through=True)
    old = sys.stderr
    sys.stderr = terminal
    try:
        code = run([*words, "-e", server.endpoint, "-i", server.access_key_id,
                    "-k", server.access_key_secret, "-c", str(tmp_path / "none.cfg")],
                   stdout=out, stdin=io.BytesIO())
    finally:
        sys.stderr = old
        terminal.detach()
    return Outcome(out.getvalue(), err.getvalue(), code)


def record_hint(domain: str, token: CnameToken) -> str:
    return (f"Hint: to prove you own {domain}, publish this DNS record, then run the command "
            f"again:\n    _dnsauth.{domain}  TXT  \"{token.token}\"\n"
            f"The token expires at {token.expire_time}.\n")


def no_token_hint(bucket: str, domain: str) -> str:
    return (f"Hint: there is no ownership token for {domain} on bucket {bucket}. Create one, "
            f"publish it as the TXT record _dnsauth.{domain}, then bind:\n"
            f"    ossutil bucket-cname --method put --item token oss://{bucket} {domain}\n")


def asked(nameservers: str, domain: str, outcome: str) -> str:
    """The stderr line naming the resolver --check-dns asked and what it answered."""
    return (f"--check-dns: asked {nameservers} (--dns-server) for TXT _dnsauth.{domain}: "
            f"{outcome}\n")


def bound(client: OssClient, bucket: str) -> list[str]:
    return [info.domain for info in client.list_cname(bucket).cnames]


def put_words(bucket: str, domain: str, *extra: str) -> list[str]:
    return ["bucket-cname", "--method", "put", f"oss://{bucket}", domain, "--check-dns", *extra]


# --- --check-dns --------------------------------------------------------------------------------


def test_check_dns_refuses_when_the_record_is_missing(server, dns, client, bucket, domain,  # type: ignore[no-untyped-def]
                                                      tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    outcome = cli(server, put_words(bucket, domain, "--dns-server", dns.nameserver), tmp_path)
    assert outcome.code == 1
    assert outcome.text == (f"Error: --check-dns: no TXT record at _dnsauth.{domain}, "
                            "PutCname not sent\n")
    assert outcome.stderr.decode() == asked(dns.nameserver, domain, "no record") + \
        record_hint(domain, token)
    assert bound(client, bucket) == []


def test_check_dns_refuses_a_wrong_record_without_sending_put_cname(  # type: ignore[no-untyped-def]
        server, dns, other_dns, client, bucket, domain, tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    dns.txt(f"_dnsauth.{domain}", token.token)  # the server would accept the bind ...
    other_dns.txt(f"_dnsauth.{domain}", "stale-token", "google-site-verification=x")  # ... CLI not
    outcome = cli(server, put_words(bucket, domain, "--dns-server", other_dns.nameserver),
                  tmp_path)
    assert outcome.code == 1
    assert outcome.text == (f"Error: --check-dns: the TXT record at _dnsauth.{domain} does not "
                            f"hold the token of bucket {bucket} (found "
                            '"google-site-verification=x", "stale-token"), PutCname not sent\n')
    assert outcome.stderr.decode() == asked(other_dns.nameserver, domain,
                                            "does not hold the token") + record_hint(domain, token)
    assert bound(client, bucket) == []  # PutCname was never sent
    assert other_dns.queries == [(f"_dnsauth.{domain}", "TXT")]


def test_check_dns_binds_when_the_record_holds_the_token(server, dns, client, bucket, domain,  # type: ignore[no-untyped-def]
                                                         tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    dns.txt(f"_dnsauth.{domain}", "unrelated", token.token)  # any of several records may match
    outcome = cli(server, put_words(bucket, domain, "--dns-server", dns.nameserver), tmp_path)
    assert (outcome.code, outcome.stderr.decode()) == \
        (0, asked(dns.nameserver, domain, "holds the token"))
    assert ELAPSED.match(outcome.stdout)
    assert bound(client, bucket) == [domain]


def test_check_dns_joins_strings_and_follows_cnames(server, dns, other_dns, client, bucket,  # type: ignore[no-untyped-def]
                                                    domain, tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    dns.txt(f"_dnsauth.{domain}", token.token)
    # The CLI's server answers with a bare CNAME (target "in another zone"): it must ask again,
    # and the record it finds splits the token over two character-strings.
    other_dns.cname(f"_dnsauth.{domain}", "proofs.dns-host.test", chase=False)
    other_dns.txt("proofs.dns-host.test", [token.token[:10], token.token[10:]])
    outcome = cli(server, put_words(bucket, domain, f"--dns-server={other_dns.nameserver}"),
                  tmp_path)
    assert (outcome.code, outcome.stderr.decode()) == \
        (0, asked(other_dns.nameserver, domain, "holds the token")), outcome
    assert other_dns.queries == [(f"_dnsauth.{domain}", "TXT"), ("proofs.dns-host.test", "TXT")]
    assert bound(client, bucket) == [domain]


def test_check_dns_reports_a_dns_timeout(server, other_dns, client, bucket, domain,  # type: ignore[no-untyped-def]
                                         tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    other_dns.blackhole()
    outcome = cli(server, put_words(bucket, domain, "--dns-server", other_dns.nameserver),
                  tmp_path)
    assert outcome.code == 1
    assert outcome.text == (f"Error: --check-dns: DNS lookup of TXT _dnsauth.{domain} failed: "
                            f"no answer within 4 s from {other_dns.nameserver}, "
                            "PutCname not sent\n")
    assert outcome.stderr.decode() == asked(other_dns.nameserver, domain, "no answer") + \
        record_hint(domain, token)
    assert bound(client, bucket) == []


def test_check_dns_without_a_token_says_how_to_create_one(server, dns, client, bucket, domain,  # type: ignore[no-untyped-def]
                                                          tmp_path) -> None:
    outcome = cli(server, put_words(bucket, domain, "--dns-server", dns.nameserver), tmp_path)
    assert outcome.code == 1
    assert outcome.text == (f"Error: --check-dns: no ownership token for {domain} on bucket "
                            f"{bucket}, PutCname not sent\n")
    assert outcome.stderr.decode() == no_token_hint(bucket, domain)
    assert dns.queries.count((f"_dnsauth.{domain}", "TXT")) == 0  # no token: DNS not asked


def test_check_dns_takes_several_servers(server, dns, other_dns, client, bucket, domain,  # type: ignore[no-untyped-def]
                                         tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    dns.txt(f"_dnsauth.{domain}", token.token)
    outcome = cli(server, put_words(bucket, domain, "--dns-server",
                                    f"{dns.nameserver},{other_dns.nameserver}"), tmp_path)
    assert (outcome.code, outcome.stderr.decode()) == (0, asked(
        f"{dns.nameserver}, {other_dns.nameserver}", domain, "holds the token")), outcome


# --- the hint after a plain bind refused with NeedVerifyDomainOwnership -------------------------


def test_plain_bind_output_is_unchanged_when_stderr_is_captured(server, client, bucket, domain,  # type: ignore[no-untyped-def]
                                                                tmp_path) -> None:
    client.create_cname_token(bucket, domain)
    outcome = cli(server, ["bucket-cname", "--method", "put", f"oss://{bucket}", domain],
                  tmp_path)
    assert outcome.code == 1
    assert re.fullmatch(r"Error: oss: service returned error: StatusCode=403, "
                        r"ErrorCode=NeedVerifyDomainOwnership, ErrorMessage=\"[^\"]+\", "
                        r"RequestId=[0-9A-F]{24}, Ec=0018-00000115\n", outcome.text)
    assert outcome.stderr == b""  # byte parity with ossutil 1.7 (golden bind_unverified)


def test_plain_bind_at_a_terminal_adds_the_txt_hint_on_stderr(server, client, bucket, domain,  # type: ignore[no-untyped-def]
                                                              tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    words = ["bucket-cname", "--method", "put", f"oss://{bucket}", domain]
    captured = cli(server, words, tmp_path)
    outcome = cli_at_terminal(server, words, tmp_path)
    assert outcome.code == 1
    same_line = re.compile(r"RequestId=[0-9A-F]{24}")
    assert same_line.sub("", outcome.text) == same_line.sub("", captured.text)  # stdout as now
    assert outcome.text.startswith("Error: oss: service returned error: StatusCode=403, "
                                   "ErrorCode=NeedVerifyDomainOwnership")
    assert outcome.stderr.decode() == record_hint(domain, token)


def test_plain_bind_at_a_terminal_without_a_token_says_create_one(server, client, bucket,  # type: ignore[no-untyped-def]
                                                                  domain, tmp_path) -> None:
    outcome = cli_at_terminal(server, ["bucket-cname", "--method", "put", f"oss://{bucket}",
                                       domain], tmp_path)
    assert outcome.code == 1
    assert "ErrorCode=NeedVerifyDomainOwnership" in outcome.text
    assert outcome.text.count("\n") == 1
    assert outcome.stderr.decode() == no_token_hint(bucket, domain)


def test_check_dns_passed_but_server_refused_still_gets_the_hint(  # type: ignore[no-untyped-def]
        server, dns, other_dns, client, bucket, domain, tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    other_dns.txt(f"_dnsauth.{domain}", token.token)  # the CLI sees it, the server does not
    outcome = cli(server, put_words(bucket, domain, "--dns-server", other_dns.nameserver),
                  tmp_path)
    assert outcome.code == 1
    assert "ErrorCode=NeedVerifyDomainOwnership" in outcome.text
    assert outcome.stderr.decode() == asked(other_dns.nameserver, domain, "holds the token") + \
        record_hint(domain, token)


# --- option rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "message"), [
    (["--method", "get", "--check-dns"],
     "--check-dns only applies to --method put oss://bucket domain (with or without --item "
     "certificate --cert-file)"),
    (["--method", "put", "--item", "token", "--check-dns"],
     "--check-dns only applies to --method put oss://bucket domain (with or without --item "
     "certificate --cert-file)"),
    (["--method", "put", "--dns-server", "127.0.0.1"],
     "--dns-server only applies with --check-dns"),
    (["--method", "put", "--check-dns", "--dns-server", "dns.example.com"],
     'invalid --dns-server "dns.example.com": expected IP or IP:PORT ([IPv6]:PORT for IPv6)'),
    (["--method", "put", "--check-dns", "--dns-server", "127.0.0.1:99999"],
     'invalid --dns-server "127.0.0.1:99999": the port must be a number in 1-65535'),
    # the server's --dns-server rule (dnsrules.parse_server): brackets are for IPv6 only
    (["--method", "put", "--check-dns", "--dns-server", "[127.0.0.1]:53"],
     'invalid --dns-server "[127.0.0.1]:53": expected IP or IP:PORT ([IPv6]:PORT for IPv6)'),
])
def test_beyond_options_are_refused_where_they_mean_nothing(server, bucket, tmp_path,  # type: ignore[no-untyped-def]
                                                             extra, message) -> None:
    outcome = cli(server, ["bucket-cname", *extra, f"oss://{bucket}", "www.example.com"],
                  tmp_path)
    assert (outcome.code, outcome.text, outcome.stderr) == (1, f"Error: {message}\n", b"")


def test_1_7_prefixes_keep_their_meaning(server, bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # --che is still --checkpoint-dir (unique among 1.7's names); --check-dns needs its full name.
    outcome = cli(server, ["bucket-cname", "--method", "get", f"oss://{bucket}", "--che", "x"],
                  tmp_path)
    assert outcome.text == ('Error: invalid usage of "bucket-cname" command, reason: the command '
                            'does not support option: "checkpointDir", please try "help '
                            'bucket-cname" for more information\n')
    outcome = cli(server, ["bucket-cname", "--method", "put", f"oss://{bucket}", "d.example.com",
                           "--check-dn"], tmp_path)
    assert outcome.code == 1 and outcome.text.endswith("\nBad flag: --check-dn\n")
    assert "--check-dns" not in outcome.text  # the usage dump stays 1.7's


def test_resolver_label_names_what_is_asked() -> None:
    import dns.resolver

    from ossutil.cli.dnscheck import resolver_label

    assert resolver_label([("127.0.0.1", 5353)]) == "127.0.0.1:5353 (--dns-server)"
    assert resolver_label([("::1", 53), ("10.0.0.1", 53)]) == \
        "[::1]:53, 10.0.0.1:53 (--dns-server)"
    try:
        system = dns.resolver.Resolver(configure=True)
    except dns.exception.DNSException:
        assert resolver_label(None) == "the system resolver (none configured)"
    else:
        shown = ", ".join(f"{ns}:53" if ":" not in ns else f"[{ns}]:53"
                          for ns in system.nameservers)  # type: ignore[str-bytes-safe]
        assert resolver_label(None) == \
            f"the system resolver ({shown or 'no server'}, from /etc/resolv.conf)"
