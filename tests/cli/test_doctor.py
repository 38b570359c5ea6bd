"""Beyond ossutil 1.7: ``ossutil doctor DOMAIN [--bucket B] [--json]``.

Against the real ``ossutil-server`` (the session ``server``, HTTPS on), the session loopback DNS
server (``--dns-server``) and real certificates: every check's exact line and next step for a
domain set up right, a missing or wrong ``_dnsauth`` token, a CNAME pointing elsewhere, a CAA
record that forbids the CA, a served certificate that differs from ListCname's, one expiring
soon; ``--json``; the bucket found without ``--bucket``.
"""

from __future__ import annotations

import itertools
import json
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.certs import CertFactory, tls_listener
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

from ossutil.client import OssClient
from ossutil.wire.cname_xml import CertificateConfiguration, CnameConfiguration

ENDPOINT_DOMAIN = "oss-cn-hangzhou.localhost"
DAY = timedelta(days=1)
_names = itertools.count(1)


@pytest.fixture
def name() -> str:
    """A domain of its own zone (no other test's CAA or records above it)."""
    return f"www.z{next(_names):03d}.doctor.test"


def doctor(server: RunningServer, dns: DnsServer, *words: str) -> Outcome:
    return run_ours(["doctor", *words, "--dns-server", dns.nameserver, "-e", server.endpoint,
                     "-i", server.access_key_id, "-k", server.access_key_secret,
                     "-c", "none.cfg"])


def leaf(ca: CertFactory, domain: str, days: float) -> tuple[str, str]:
    """Valid ``days`` more days and half a day (whole days left do not depend on the clock)."""
    now = datetime.now(UTC)
    return ca.leaf(domain, not_before=now - DAY, not_after=now + timedelta(days=days + 0.5))


def bind(client: OssClient, dns: DnsServer, bucket: str, domain: str,
         pair: tuple[str, str] | None = None) -> str:
    """Bind ``domain`` the right way (token, CNAME to the bucket's name); return the listed
    fingerprint ("" without a certificate)."""
    token = client.create_cname_token(bucket, domain).token
    dns.txt(f"_dnsauth.{domain}", token)
    dns.cname(domain, f"{bucket}.{ENDPOINT_DOMAIN}")
    dns.a(f"{bucket}.{ENDPOINT_DOMAIN}", "127.0.0.1")
    certificate = None
    if pair is not None:
        certificate = CertificateConfiguration(certificate=pair[0], private_key=pair[1])
    client.put_cname(bucket, CnameConfiguration(domain=domain, certificate=certificate))
    return listed(client, bucket, domain)[0]


def listed(client: OssClient, bucket: str, domain: str) -> tuple[str, str]:
    """(Fingerprint, ValidEndDate) ListCname shows for ``domain``."""
    for info in client.list_cname(bucket).cnames:
        if info.domain == domain and info.certificate is not None:
            return info.certificate.fingerprint, " ".join(info.certificate.valid_end_date.split())
    return "", ""


def expiry(pair: tuple[str, str]) -> str:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pair[0].encode())
    return cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(pair: tuple[str, str]) -> str:
    import hashlib

    digest = hashlib.sha1(ssl.PEM_cert_to_DER_cert(pair[0])).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, 40, 2))


def served(server: RunningServer) -> str:
    return f"127.0.0.1:{server.https_port}"


def test_a_domain_set_up_right_passes_every_check(server, dns, client, bucket, name,  # type: ignore[no-untyped-def]
                                                  ca) -> None:
    pair = leaf(ca, name, 200)
    fp = bind(client, dns, bucket, name, pair)
    done = doctor(server, dns, name, "--bucket", bucket, "--https-port", str(server.https_port))
    assert (done.code, done.stderr) == (0, b"")
    assert done.text == (
        f"doctor {name} (bucket {bucket})\n"
        f"  ok    cname        CNAME {name} -> {bucket}.{ENDPOINT_DOMAIN}\n"
        f"  ok    ownership    _dnsauth.{name} holds the bucket's CnameToken\n"
        "  ok    caa          no CAA record: any CA may issue\n"
        f"  ok    binding      {name} is bound to {bucket}\n"
        f"  ok    certificate  {served(server)} serves {fp} (expires {expiry(pair)}), the one "
        "ListCname shows (200 days left)\n"
        "all 5 checks passed\n")


def test_without_bucket_the_bound_bucket_is_found_and_json_says_the_same(  # type: ignore[no-untyped-def]
        server, dns, client, bucket, name, ca) -> None:
    pair = leaf(ca, name, 90)
    fp = bind(client, dns, bucket, name, pair)
    done = doctor(server, dns, name, "--json", "--https-port", str(server.https_port))
    assert (done.code, done.stderr) == (0, b"")
    assert json.loads(done.stdout) == {
        "domain": name, "bucket": bucket, "passed": True,
        "checks": [
            {"check": "cname", "status": "ok", "next_step": None,
             "detail": f"CNAME {name} -> {bucket}.{ENDPOINT_DOMAIN}"},
            {"check": "ownership", "status": "ok", "next_step": None,
             "detail": f"_dnsauth.{name} holds the bucket's CnameToken"},
            {"check": "caa", "status": "ok", "next_step": None,
             "detail": "no CAA record: any CA may issue"},
            {"check": "binding", "status": "ok", "next_step": None,
             "detail": f"{name} is bound to {bucket}"},
            {"check": "certificate", "status": "ok", "next_step": None,
             "detail": f"{served(server)} serves {fp} (expires {expiry(pair)}), the one "
                       "ListCname shows (90 days left)"}]}


def test_a_missing_token_record_before_binding(server, dns, client, bucket, name) -> None:  # type: ignore[no-untyped-def]
    token = client.create_cname_token(bucket, name).token
    dns.cname(name, f"{bucket}.{ENDPOINT_DOMAIN}")
    dns.a(f"{bucket}.{ENDPOINT_DOMAIN}", "127.0.0.1")
    done = doctor(server, dns, name, "--bucket", bucket, "--https-port", str(server.https_port))
    assert (done.code, done.stderr) == (1, b"")
    default = fingerprint((_default_pem(server, name), ""))
    assert done.text == (
        f"doctor {name} (bucket {bucket})\n"
        f"  ok    cname        CNAME {name} -> {bucket}.{ENDPOINT_DOMAIN}\n"
        f"  FAIL  ownership    _dnsauth.{name} does not exist\n"
        f'                     next step: add the TXT record _dnsauth.{name} with the value '
        f'"{token}"\n'
        "  ok    caa          no CAA record: any CA may issue\n"
        f"  FAIL  binding      {name} is not bound to {bucket}\n"
        f"                     next step: bind it: ossutil bucket-cname --method put "
        f"oss://{bucket} {name}\n"
        f"  warn  certificate  {served(server)} serves {default} (expires "
        f"{expiry((_default_pem(server, name), ''))}), and ListCname shows no certificate for "
        f"{name}\n"
        f"                     next step: attach one: ossutil bucket-cname --method put --item "
        f"certificate oss://{bucket} {name} --cert-file C --key-file K\n"
        "2 of 5 checks failed\n")


def test_a_mismatched_token_and_no_token_at_all(server, dns, client, bucket, name) -> None:  # type: ignore[no-untyped-def]
    token = client.create_cname_token(bucket, name).token
    dns.txt(f"_dnsauth.{name}", "stale-token-from-another-bucket")
    done = doctor(server, dns, name, "--bucket", bucket, "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert done.code == 1
    assert checks["ownership"] == {
        "check": "ownership", "status": "fail",
        "detail": f'_dnsauth.{name} holds "stale-token-from-another-bucket", not the '
                  f'bucket\'s CnameToken "{token}"',
        "next_step": f'set the TXT record _dnsauth.{name} to "{token}"'}
    other = f"other.{name}"
    done = doctor(server, dns, other, "--bucket", bucket, "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["ownership"] == {
        "check": "ownership", "status": "fail",
        "detail": f"the bucket {bucket} has no CnameToken for {other} (CnameTokenNotFound)",
        "next_step": f"create one: ossutil bucket-cname --method put --item token "
                     f"oss://{bucket} {other}, then publish it as the TXT record "
                     f"_dnsauth.{other}"}
    assert checks["cname"] == {
        "check": "cname", "status": "fail", "detail": f"{other} does not exist in DNS (NXDOMAIN)",
        "next_step": f"add the DNS record: {other} CNAME {bucket}.{ENDPOINT_DOMAIN}"}
    assert checks["certificate"] == {
        "check": "certificate", "status": "skip",
        "detail": f"{other} has no address to connect to",
        "next_step": "fix the cname check first"}


def test_a_cname_pointing_elsewhere_is_dangling(server, dns, client, bucket, name) -> None:  # type: ignore[no-untyped-def]
    bind(client, dns, bucket, name)
    dns.cname(name, "old-cdn.example.net")
    dns.a("old-cdn.example.net", "192.0.2.9")
    done = doctor(server, dns, name, "--bucket", bucket, "--https-port", "9")
    assert done.code == 1
    lines = done.text.splitlines()
    assert lines[1:3] == [
        f"  FAIL  cname        CNAME {name} -> old-cdn.example.net, resolves to 192.0.2.9; not "
        "this service's: 192.0.2.9 (its addresses: 127.0.0.1)",
        f"                     next step: change the CNAME record of {name} from "
        f"old-cdn.example.net to {bucket}.{ENDPOINT_DOMAIN}"]
    assert lines[5] == f"  ok    binding      {name} is bound to {bucket}"


def test_a_caa_record_that_forbids_the_ca(server, dns, client, bucket, name) -> None:  # type: ignore[no-untyped-def]
    bind(client, dns, bucket, name)
    zone = name.split(".", 1)[1]
    dns.caa(zone, '0 issue "other-ca.example"', '0 iodef "mailto:security@example.com"')
    done = doctor(server, dns, name, "--bucket", bucket, "--ca", "letsencrypt.org", "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert done.code == 1
    assert checks["caa"] == {
        "check": "caa", "status": "fail",
        "detail": f"CAA at {zone} allows only other-ca.example, not letsencrypt.org",
        "next_step": f'add the record {zone} CAA 0 issue "letsencrypt.org" beside the others'}
    dns.caa(zone, '0 issue ";"')
    done = doctor(server, dns, name, "--bucket", bucket)
    assert f'  FAIL  caa          CAA at {zone} forbids every CA (issue ";")\n' \
           f'                     next step: replace the CAA record at {zone} with {zone} CAA 0 ' \
           f'issue "<your CA>", or remove it\n' in done.text
    dns.caa(zone, '0 issue "letsencrypt.org; validationmethods=http-01"')
    done = doctor(server, dns, name, "--bucket", bucket, "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["caa"] == {
        "check": "caa", "status": "ok", "detail": f"CAA at {zone} allows only: letsencrypt.org",
        "next_step": "make sure the certificate for this domain comes from one of them (--ca "
                     "IDENTIFIER checks one)"}


def test_a_served_certificate_that_differs_from_listcname(server, dns, client, bucket, name,  # type: ignore[no-untyped-def]
                                                          ca, tmp_path) -> None:
    pair = leaf(ca, name, 120)
    fp = bind(client, dns, bucket, name, pair)
    valid_end = listed(client, bucket, name)[1]
    stale = leaf(ca, name, 5)
    with tls_listener(stale, tmp_path) as port:
        done = doctor(server, dns, name, "--bucket", bucket, "--https-port", str(port))
    assert done.code == 1
    assert done.text.splitlines()[5:7] == [
        f"  FAIL  certificate  127.0.0.1:{port} serves {fingerprint(stale)} (expires "
        f"{expiry(stale)}), not the certificate ListCname shows ({fp}, valid until "
        f"{valid_end})",
        "                     next step: if a proxy or CDN terminates TLS in front of the "
        "server, give it the certificate ListCname shows; else attach that certificate again "
        "(the server did not load it)"]


def test_a_certificate_expiring_soon_warns(server, dns, client, bucket, name, ca) -> None:  # type: ignore[no-untyped-def]
    pair = leaf(ca, name, 6)
    fp = bind(client, dns, bucket, name, pair)
    done = doctor(server, dns, name, "--bucket", bucket, "--https-port", str(server.https_port))
    assert (done.code, done.stderr) == (0, b"")
    assert done.text.splitlines()[5:] == [
        f"  warn  certificate  {served(server)} serves {fp} (expires {expiry(pair)}), the one "
        "ListCname shows; it expires in 6 days",
        f"                     next step: attach a renewed certificate: ossutil bucket-cname "
        f"--method put --item certificate oss://{bucket} {name} --cert-file C --key-file K",
        "no check failed; 1 of 5 with a warning"]


def test_bad_input_is_one_error_line(server, dns, bucket) -> None:  # type: ignore[no-untyped-def]
    done = doctor(server, dns)
    assert (done.code, done.stdout) == (1, b"")
    assert done.stderr == (b'Error: "ossutil doctor" needs the domain: ossutil doctor DOMAIN '
                           b"[--bucket B]\n")
    done = doctor(server, dns, "www.example.com", "--https-port", "70000")
    assert done.stderr == b'Error: invalid --https-port "70000": a number in 1-65535\n'
    done = doctor(server, dns, "www.example.com", "--bucket", "no-such-bucket-here")
    assert done.stderr == (b"Error: NoSuchBucket (HTTP 404): The specified bucket does not "
                           b"exist.\n")


def _default_pem(server: RunningServer, name: str) -> str:
    """The server's default certificate, as served to ``name`` (no certificate attached)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.https_port)) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return ssl.DER_cert_to_PEM_cert(der)


@pytest.mark.parametrize("argv", [["help", "doctor"], ["doctor", "--help"]])
def test_doctor_help_loads_no_dns_tls_or_crypto(argv: list[str], tmp_path: Path) -> None:
    from tests.cli.test_light_imports import _modules, _offending

    code, modules = _modules(argv, tmp_path)
    assert code == 0
    assert _offending(modules, ("dns", "ssl", "_ssl", "cryptography", "ossutil.server",
                                "ossutil.dnsrules", "ossutil.certcheck", "asyncio")) == []
