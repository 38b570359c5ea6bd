"""Beyond ossutil 1.7: ``bucket-cname --method put --item certificate oss://B DOMAIN --cert-file``.

Real server (``server``), real DNS proof (``dns``), real certificates (``ca``). Local check
failures must print one exact ``Error:`` line and send nothing; successes must show up in
ListCname with the certificate's SHA-1 fingerprint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from tests.cli.clitools import Outcome, run_ours
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

from ossutil.client import OssClient
from ossutil.wire.cname_xml import CnameConfiguration

ELAPSED = re.compile(rb"^\n\d+\.\d{6}\(s\) elapsed\n$")


@pytest.fixture
def bound_domain(client: OssClient, dns: DnsServer, bucket: str, domain: str) -> str:
    """``domain`` bound to ``bucket`` through the real ownership proof."""
    token = client.create_cname_token(bucket, domain)
    dns.txt(f"_dnsauth.{domain}", token.token)
    client.put_cname(bucket, CnameConfiguration(domain))
    return domain


def cli(server: RunningServer, words: Sequence[str], tmp_path: Path) -> Outcome:
    return run_ours([*words, "-e", server.endpoint, "-i", server.access_key_id,
                     "-k", server.access_key_secret, "-c", "none.cfg"], cwd=tmp_path)


def attach(server: RunningServer, bucket: str, domain: str, pair: tuple[str, str],
           tmp_path: Path, *extra: str) -> Outcome:
    (tmp_path / "cert.pem").write_text(pair[0])
    (tmp_path / "key.pem").write_text(pair[1])
    return cli(server, ["bucket-cname", "--method", "put", "--item", "certificate",
                        f"oss://{bucket}", domain, "--cert-file", "cert.pem",
                        "--key-file", "key.pem", *extra], tmp_path)


def fingerprint(chain_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(chain_pem.encode())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA1()))


def iso(moment: object) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[attr-defined]


def certificate_of(client: OssClient, bucket: str, domain: str):  # type: ignore[no-untyped-def]
    [info] = [c for c in client.list_cname(bucket).cnames if c.domain == domain]
    return info.certificate


def refused(domain: str, why: str) -> str:
    return f"Error: certificate check failed for {domain}, nothing was sent: {why}\n"


# --- local checks: one exact line, nothing sent -------------------------------------------------


def test_key_that_does_not_match_is_refused(server, ca, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                            tmp_path) -> None:
    outcome = attach(server, bucket, bound_domain, ca.mismatched_key(bound_domain), tmp_path)
    assert (outcome.code, outcome.stderr) == (1, b"")
    assert outcome.text == refused(bound_domain,
                                   "The private key does not match the certificate.")
    assert certificate_of(client, bucket, bound_domain) is None


def test_certificate_for_another_domain_is_refused(server, ca, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                                   tmp_path) -> None:
    outcome = attach(server, bucket, bound_domain, ca.leaf("other.example.org"), tmp_path)
    assert outcome.code == 1
    assert outcome.text == refused(bound_domain, f"The certificate does not cover the domain "
                                   f"{bound_domain} (it covers: other.example.org).")
    assert certificate_of(client, bucket, bound_domain) is None


def test_wildcard_does_not_cover_two_labels(server, ca, bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    outcome = attach(server, bucket, "a.b.example.com", ca.leaf("*.example.com"), tmp_path)
    assert outcome.text == refused("a.b.example.com", "The certificate does not cover the "
                                   "domain a.b.example.com (it covers: *.example.com).")


def test_expired_certificate_is_refused(server, ca: CertFactory, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                        tmp_path) -> None:
    pair = ca.expired(bound_domain)
    not_after = x509.load_pem_x509_certificate(pair[0].encode()).not_valid_after_utc
    outcome = attach(server, bucket, bound_domain, pair, tmp_path)
    assert outcome.code == 1
    assert outcome.text == refused(bound_domain, f"The certificate expired at {iso(not_after)}.")


def test_not_yet_valid_certificate_is_refused(server, ca: CertFactory, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                              tmp_path) -> None:
    pair = ca.not_yet_valid(bound_domain)
    not_before = x509.load_pem_x509_certificate(pair[0].encode()).not_valid_before_utc
    outcome = attach(server, bucket, bound_domain, pair, tmp_path)
    assert outcome.code == 1
    assert outcome.text == refused(bound_domain,
                                   f"The certificate is not valid until {iso(not_before)}.")


def test_malformed_pem_is_refused(server, ca, bucket, bound_domain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, key = ca.leaf(bound_domain)
    outcome = attach(server, bucket, bound_domain, ("-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                                    "-----END CERTIFICATE-----\n", key), tmp_path)
    assert outcome.code == 1
    assert outcome.text == refused(bound_domain, "The certificate is not valid PEM.")
    outcome = attach(server, bucket, bound_domain, (ca.leaf(bound_domain)[0], "hello"), tmp_path)
    assert outcome.text == refused(bound_domain, "The private key is not valid PEM.")


@pytest.mark.parametrize(("words", "message"), [
    (["--cert-file", "cert.pem"], "--cert-file needs --key-file (the certificate's private key)"),
    (["--cert-file", "missing.pem", "--key-file", "key.pem"],
     "open missing.pem: no such file or directory"),
    (["--cert-file", ".", "--key-file", "key.pem"], ". is dir,not the expected file"),
    (["--cert-file", "empty.pem", "--key-file", "key.pem"], "empty.pem is empty file"),
])
def test_file_problems_are_reported(server, bucket, tmp_path, words, message) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "key.pem").write_text("x")
    (tmp_path / "empty.pem").write_text("")
    outcome = cli(server, ["bucket-cname", "--method", "put", "--item", "certificate",
                           f"oss://{bucket}", "www.example.com", *words], tmp_path)
    assert (outcome.code, outcome.text) == (1, f"Error: {message}\n")


def test_cert_file_needs_the_domain(server, bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    outcome = cli(server, ["bucket-cname", "--method", "put", "--item", "certificate",
                           f"oss://{bucket}", "--cert-file", "c.pem", "--key-file", "k.pem"],
                  tmp_path)
    assert outcome.text == ("Error: --cert-file needs the domain: --method put --item "
                            "certificate oss://bucket domain --cert-file cert.pem --key-file "
                            "key.pem\n")


@pytest.mark.parametrize(("words", "message"), [
    (["--method", "get", "--cert-file", "c.pem"],
     "--cert-file only applies to --method put --item certificate"),
    (["--method", "put", "--key-file", "k.pem"],
     "--key-file and --previous-cert-id only apply with --cert-file"),
    (["--method", "put", "--item", "certificate", "--previous-cert-id", "1-x"],
     "--key-file and --previous-cert-id only apply with --cert-file"),
])
def test_cert_options_are_refused_elsewhere(server, bucket, tmp_path, words, message) -> None:  # type: ignore[no-untyped-def]
    outcome = cli(server, ["bucket-cname", *words, f"oss://{bucket}", "x.xml"], tmp_path)
    assert (outcome.code, outcome.text) == (1, f"Error: {message}\n")


def test_force_without_cert_file_keeps_the_1_7_refusal(server, bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "c.xml").write_text("<x/>")
    for flag in ("-f", "--force"):
        outcome = cli(server, ["bucket-cname", "--method", "put", "--item", "certificate",
                               f"oss://{bucket}", "c.xml", flag], tmp_path)
        assert outcome.text == ('Error: invalid usage of "bucket-cname" command, reason: the '
                                'command does not support option: "force", please try "help '
                                'bucket-cname" for more information\n')


# --- against the server: attach, rotate, force --------------------------------------------------


def test_attach_then_list_shows_the_certificate(server, ca, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                                tmp_path) -> None:
    pair = ca.leaf(bound_domain, key_type="rsa")
    outcome = attach(server, bucket, bound_domain, pair, tmp_path)
    assert (outcome.code, outcome.stderr) == (0, b""), outcome
    assert ELAPSED.match(outcome.stdout)  # like 1.7's certificate usage: only the elapsed line
    cert = certificate_of(client, bucket, bound_domain)
    assert cert.type == "Upload" and cert.fingerprint == fingerprint(pair[0])
    assert re.fullmatch(r"\d+-[a-z0-9-]+", cert.cert_id)
    listing = cli(server, ["bucket-cname", "--method", "get", f"oss://{bucket}"], tmp_path)
    assert f"<CertId>{cert.cert_id}</CertId>" in listing.text
    assert f"<Fingerprint>{fingerprint(pair[0])}</Fingerprint>" in listing.text


def test_wildcard_certificate_covers_the_domain(server, ca, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                                tmp_path) -> None:
    parent = bound_domain.split(".", 1)[1]
    pair = ca.leaf(f"*.{parent}")
    outcome = attach(server, bucket, bound_domain, pair, tmp_path)
    assert outcome.code == 0, outcome
    assert certificate_of(client, bucket, bound_domain).fingerprint == fingerprint(pair[0])


def test_rotate_needs_previous_cert_id_or_force(server, ca, client, bucket, bound_domain,  # type: ignore[no-untyped-def]
                                                tmp_path) -> None:
    first = ca.leaf(bound_domain)
    assert attach(server, bucket, bound_domain, first, tmp_path).code == 0
    first_id = certificate_of(client, bucket, bound_domain).cert_id

    second = ca.leaf(bound_domain)
    outcome = attach(server, bucket, bound_domain, second, tmp_path)  # no PreviousCertId
    assert outcome.code == 1
    assert re.fullmatch(
        r"Error: oss: service returned error: StatusCode=400, ErrorCode=InvalidArgument, "
        rf"ErrorMessage=\"The domain {re.escape(bound_domain)} already has certificate "
        rf"{re.escape(first_id)}: give it as PreviousCertId or set Force to true to replace "
        r"it.\", RequestId=[0-9A-F]{24}, Ec=0018-00000209\n", outcome.text), outcome.text

    outcome = attach(server, bucket, bound_domain, second, tmp_path,
                     "--previous-cert-id", first_id)
    assert outcome.code == 0, outcome
    rotated = certificate_of(client, bucket, bound_domain)
    assert rotated.fingerprint == fingerprint(second[0]) and rotated.cert_id != first_id

    third = ca.leaf(bound_domain)
    outcome = attach(server, bucket, bound_domain, third, tmp_path, "--previous-cert-id",
                     "1-wrong")
    assert outcome.code == 1 and "Ec=0018-00000209" in outcome.text
    for flag in ("--force", "-f"):
        outcome = attach(server, bucket, bound_domain, third, tmp_path, flag)
        assert outcome.code == 0, outcome
    assert certificate_of(client, bucket, bound_domain).fingerprint == fingerprint(third[0])


def test_cert_file_with_check_dns_on_an_unbound_domain(server, ca, dns, client, bucket,  # type: ignore[no-untyped-def]
                                                       domain, tmp_path) -> None:
    token = client.create_cname_token(bucket, domain)
    pair = ca.leaf(domain)
    outcome = attach(server, bucket, domain, pair, tmp_path, "--check-dns", "--dns-server",
                     dns.nameserver)
    assert outcome.text == (f"Error: --check-dns: no TXT record at _dnsauth.{domain}, "
                            "PutCname not sent\n")
    dns.txt(f"_dnsauth.{domain}", token.token)
    outcome = attach(server, bucket, domain, pair, tmp_path, "--check-dns", "--dns-server",
                     dns.nameserver)
    assert outcome.code == 0, outcome
    assert certificate_of(client, bucket, domain).fingerprint == fingerprint(pair[0])
