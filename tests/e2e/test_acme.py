"""Automatic HTTPS end to end (issue 11 item 1): the real server, Pebble as the ACME CA, the
test's own DNS server (the bound names' A records -> 127.0.0.1, their _dnsauth TXT proofs, CAA).

Pebble validates HTTP-01 on our HTTP listener and TLS-ALPN-01 on our HTTPS listener (its
``httpPort``/``tlsPort`` are our ports); every HTTPS check below verifies the served chain
against Pebble's root (from its management endpoint) with SNI = the bound name.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oss2
import pytest
from tests.support import pebble as pebble_support
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.pebble import Pebble
from tests.support.ports import free_port
from tests.support.sdk import OssV2Adapter
from tests.support.server import RunningServer, start_server

BODY = b"served over automatic HTTPS\n"
pytestmark = pytest.mark.slow  # Pebble orders: a few seconds each


@dataclass
class Acme:
    server: RunningServer
    ca: Pebble
    dns: DnsServer
    http_port: int
    https_port: int
    bucket: oss2.Bucket

    def bind(self, domain: str) -> None:
        self.dns.a(domain, "127.0.0.1")
        self.dns.txt(f"_dnsauth.{domain}", self.bucket.create_bucket_cname_token(domain).token)
        self.bucket.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))

    def log(self) -> str:
        """The server's and Pebble's output, for failure messages."""
        return ("\n--- server\n" + "\n".join(self.server.errors[-60:]) + "\n--- pebble\n"
                + "\n".join(self.ca.lines[-40:]))

    def listed(self, domain: str) -> Any:
        """ListCname's certificate block for ``domain`` (None without one)."""
        for cname in self.bucket.list_bucket_cname().cname:
            if cname.domain == domain:
                return cname.certificate
        raise AssertionError(f"{domain} is not listed")

    def https_get(self, domain: str, path: str = "/index.html") -> tuple[int, bytes, bytes]:
        """GET over TLS with SNI = ``domain``, verified against Pebble's root: (status, body,
        DER of the served leaf)."""
        context = self.ca.trusting()
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=domain) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n"
                        .encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body, der


def sha1_fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, ssl.SSLError, AssertionError) as exc:
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(0.1)
    more = getattr(check, "diagnostics", None)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})"
                         + (more() if more is not None else ""))


def verified(env: Acme, domain: str) -> Callable[[], tuple[int, bytes, bytes] | None]:
    def check() -> tuple[int, bytes, bytes] | None:
        check.diagnostics = env.log  # type: ignore[attr-defined]
        try:
            return env.https_get(domain)
        except ssl.SSLCertVerificationError:
            return None  # still the default (self-signed) certificate
    return check


def start(tmp_path: Path, dns: DnsServer, *, challenge: str = "http-01",
          validity: int | None = None, extra: tuple[str, ...] = (),
          ca_running: bool = True, eab_keys: dict[str, str] | None = None) -> Iterator[Acme]:
    pebble_support.require()
    http_port, https_port = free_port(), free_port()
    ca = Pebble(tmp_path / "pebble", dns.nameserver, http_port=http_port, tls_port=https_port,
                validity=validity, eab_keys=eab_keys)
    if ca_running:
        ca.start()
    try:
        server = start_server(tmp_path / "data", server_args(ca, dns, http_port, https_port,
                                                              challenge) + list(extra))
        try:
            bucket = site(server)
            yield Acme(server, ca, dns, http_port, https_port, bucket)
        finally:
            server.stop()
    finally:
        ca.stop()


def server_args(ca: Pebble, dns: DnsServer, http_port: int, https_port: int,
                challenge: str = "http-01") -> list[str]:
    return ["--port", str(http_port), "--https-port", str(https_port),
            "--dns-server", dns.nameserver, "--acme-directory", ca.directory,
            "--acme-ca-bundle", str(ca.ca_bundle), "--acme-challenge", challenge,
            "--acme-retry-base", "1", "--log-level", "info"]


def site(server: RunningServer, create: bool = True) -> oss2.Bucket:
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    bucket = oss2.Bucket(auth, server.endpoint, "acme-site", region=server.region)
    if create:
        bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
        bucket.put_object("index.html", BODY)
    return bucket


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def acme(tmp_path: Path, dns: DnsServer) -> Iterator[Acme]:
    yield from start(tmp_path, dns)


def test_http01_bind_then_https_verifies_against_the_ca_and_listcname_shows_it(
        acme: Acme) -> None:
    domain = "www.auto.example"
    bound_at = time.monotonic()
    acme.bind(domain)
    status, body, der = wait_for("a verified HTTPS answer", verified(acme, domain))
    elapsed = time.monotonic() - bound_at
    assert (status, body) == (200, BODY)
    listed = acme.listed(domain)
    assert listed is not None
    assert (listed.type, listed.status) == ("ACME", "Enabled")
    assert listed.cert_id.startswith("acme-")
    assert listed.fingerprint == sha1_fingerprint(der)
    assert re.fullmatch(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT",
                        listed.valid_end_date)
    assert len(acme.ca.orders()) == 1
    assert any(f"ACME: certificate for {domain} issued" in line
               for line in acme.server.errors), acme.server.errors
    # alibabacloud-oss-v2 reads the block too (Type is a free string in both SDKs)
    server = acme.server
    _, _, entries = OssV2Adapter(server.endpoint, server.access_key_id,
                                 server.access_key_secret, "acme-site", "v4",
                                 server.region).list_cname()
    [entry] = entries
    assert (entry.domain, entry.cert_type, entry.cert_id, entry.fingerprint,
            entry.valid_end) == (domain, "ACME", listed.cert_id, listed.fingerprint,
                                 listed.valid_end_date)
    # ListCname's exact XML for it, through the raw wire
    reply = list_cname_xml(acme)
    assert (f"    <Certificate>\n"
            f"      <Type>ACME</Type>\n"
            f"      <CertId>{listed.cert_id}</CertId>\n"
            f"      <Status>Enabled</Status>\n"
            f"      <CreationDate>{listed.creation_date}</CreationDate>\n"
            f"      <Fingerprint>{listed.fingerprint}</Fingerprint>\n"
            f"      <ValidStartDate>{listed.valid_start_date}</ValidStartDate>\n"
            f"      <ValidEndDate>{listed.valid_end_date}</ValidEndDate>\n"
            f"    </Certificate>\n") in reply, reply
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
                        listed.creation_date)
    print(f"PutCname -> first verified HTTPS response: {elapsed:.2f} s")


def list_cname_xml(env: Acme) -> str:
    """ListCname's body as sent (oss2 signs the request)."""
    result = env.bucket._do("GET", env.bucket.bucket_name, "", params={"cname": ""})
    return str(result.read().decode())


def served_by_default(env: Acme, domain: str) -> bool:
    """The handshake for ``domain`` does not verify against Pebble's root (the server's
    default, self-signed certificate)."""
    try:
        env.https_get(domain)
    except ssl.SSLCertVerificationError:
        return True
    return False


def test_an_uploaded_certificate_wins_detaching_falls_back_deletecname_drops_it(
        acme: Acme) -> None:
    domain = "shop.auto.example"
    acme.bind(domain)
    _, _, automatic = wait_for("the automatic certificate", verified(acme, domain))
    factory = CertFactory()
    chain, key = factory.leaf(domain)
    # no PreviousCertId/Force needed: the automatic certificate is not an attached one
    acme.bucket.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, oss2.models.CertInfo(
        certificate=chain, private_key=key)))
    listed = acme.listed(domain)
    assert listed.type == "Upload"
    with socket.create_connection(("127.0.0.1", acme.https_port), timeout=10) as raw, \
            ssl.create_default_context(cadata=factory.ca_pem()).wrap_socket(
                raw, server_hostname=domain) as tls:
        uploaded = tls.getpeercert(binary_form=True)
    assert uploaded is not None and sha1_fingerprint(uploaded) == listed.fingerprint
    assert served_by_default(acme, domain)  # Pebble's root does not vouch for it
    # detach: the automatic certificate is back at once, without a new order
    acme.bucket.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, oss2.models.CertInfo(
        delete_certificate=True)))
    status, body, der = acme.https_get(domain)
    assert (status, body, der) == (200, BODY, automatic)
    listed = acme.listed(domain)
    assert (listed.type, listed.fingerprint) == ("ACME", sha1_fingerprint(automatic))
    assert len(acme.ca.orders()) == 1
    # DeleteCname: the name is no longer served, its automatic certificate is gone
    acme.bucket.delete_bucket_cname(domain)
    assert served_by_default(acme, domain)
    assert all(c.domain != domain for c in acme.bucket.list_bucket_cname().cname)
    reply = raw_http(acme, domain, "/index.html")
    assert reply.startswith(b"HTTP/1.1 404 ") and b"<Code>NoSuchCnameInRecord</Code>" in reply
    acme.bind(domain)  # bound again: a new order, not the dropped certificate
    _, _, again = wait_for("a new automatic certificate", verified(acme, domain))
    assert again != automatic and len(acme.ca.orders()) == 2


def raw_http(env: Acme, domain: str, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", env.http_port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_http01_answers_only_tokens_issued_for_that_name(acme: Acme) -> None:
    domain = "token.auto.example"
    acme.bucket.put_object(".well-known/acme-challenge/not-a-token", b"an object")
    acme.bind(domain)
    wait_for("the automatic certificate", verified(acme, domain))
    # the CA fetched the token from our HTTP listener with the domain's Host
    fetched = [line for line in acme.server.errors if "/.well-known/acme-challenge/" in line
               and f"host={domain}" in line and "status=200" in line]
    assert fetched, acme.log()
    # no challenge pending: that path is the bucket's again; another name's Host is not ours
    reply = raw_http(acme, domain, "/.well-known/acme-challenge/not-a-token")
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"an object")
    reply = raw_http(acme, "unbound.auto.example", "/.well-known/acme-challenge/not-a-token")
    assert reply.startswith(b"HTTP/1.1 404 ") and b"<Code>NoSuchCnameInRecord</Code>" in reply


def test_caa_forbidding_the_ca_is_reported_and_nothing_is_ordered(tmp_path: Path,
                                                                   dns: DnsServer) -> None:
    gen = start(tmp_path, dns, extra=("--acme-caa-identity", "pebble.letsencrypt.org"))
    env = next(gen)
    try:
        dns.caa("caa.example", '0 issue "letsencrypt.org"')
        env.bind("www.caa.example")
        dns.caa("open.example", '0 issue "pebble.letsencrypt.org; validationmethods=http-01"')
        env.bind("www.open.example")
        wait_for("the allowed name's certificate", verified(env, "www.open.example"))
        wanted = ("ACME: order for www.caa.example failed (1 in a row): CAA at caa.example "
                  "allows only letsencrypt.org, not pebble.letsencrypt.org: no certificate is "
                  'ordered for www.caa.example; add "0 issue \\"pebble.letsencrypt.org\\"" '
                  "at caa.example; next attempt at ")
        wait_for("the CAA report", lambda: any(wanted in line for line in env.server.errors))
        assert env.listed("www.caa.example") is None
        assert len(env.ca.orders()) == 1  # www.open.example's only
        dns.caa("caa.example", '0 issue ";"')
        wait_for("the second report", lambda: any(
            'CAA at caa.example forbids every CA (issue ";"): no certificate is ordered for '
            "www.caa.example"
            in line for line in env.server.errors), timeout=10)
        assert len(env.ca.orders()) == 1
    finally:
        gen.close()


def test_ca_unreachable_retries_with_visible_state_then_issues(tmp_path: Path,
                                                               dns: DnsServer) -> None:
    gen = start(tmp_path, dns, ca_running=False)
    env = next(gen)
    try:
        domain = "later.auto.example"
        env.bind(domain)
        failed = f"ACME: order for {domain} failed (2 in a row): the ACME CA at " \
                 f"{env.ca.directory} could not be reached: "
        wait_for("two failed attempts", lambda: any(failed in line
                                                    for line in env.server.errors))
        assert env.server.process.poll() is None  # no crash; plain HTTP still serves
        assert raw_http(env, domain, "/index.html").endswith(BODY)
        assert env.listed(domain) is None
        env.ca.start()
        wait_for("the certificate once the CA is back", verified(env, domain), timeout=40)
        assert len(env.ca.orders()) == 1
    finally:
        gen.close()


def test_a_short_lived_certificate_is_renewed_without_a_failed_handshake(
        tmp_path: Path, dns: DnsServer) -> None:
    gen = start(tmp_path, dns, validity=24)
    env = next(gen)
    try:
        domain = "short.auto.example"
        env.bind(domain)
        _, _, first = wait_for("the first certificate", verified(env, domain))
        served: list[bytes] = []
        failures: list[BaseException] = []
        stop = threading.Event()
        context = env.ca.trusting()

        def loop() -> None:
            while not stop.is_set():
                try:
                    with socket.create_connection(("127.0.0.1", env.https_port),
                                                  timeout=10) as raw, \
                            context.wrap_socket(raw, server_hostname=domain) as tls:
                        der = tls.getpeercert(binary_form=True)
                        assert der is not None
                        served.append(der)
                except (OSError, ssl.SSLError, AssertionError) as exc:
                    failures.append(exc)
                time.sleep(0.02)

        clients = [threading.Thread(target=loop) for _ in range(2)]
        for thread in clients:
            thread.start()
        try:
            wait_for("a renewed certificate", lambda: served and served[-1] != first,
                     timeout=30)
            time.sleep(1)
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        renewed = {der for der in served if der != first}
        assert failures == [] and len(renewed) == 1, (failures[:3], env.log())
        assert len(served) > 50
        assert len(env.ca.orders()) == 2
        assert env.listed(domain).fingerprint == sha1_fingerprint(renewed.pop())
        print(f"handshakes during renewal: {len(served)}, failed: {len(failures)}")
    finally:
        gen.close()


def test_tls_alpn01_issues_through_the_https_listener(tmp_path: Path,
                                                      dns: DnsServer) -> None:
    gen = start(tmp_path, dns, challenge="tls-alpn-01")
    env = next(gen)
    try:
        domain = "alpn.auto.example"
        env.bind(domain)
        status, body, der = wait_for("a verified HTTPS answer", verified(env, domain))
        assert (status, body) == (200, BODY)
        assert env.listed(domain).fingerprint == sha1_fingerprint(der)
        # validated on the HTTPS listener: the CA never asked the HTTP one
        assert not any("/.well-known/acme-challenge/" in line for line in env.server.errors)
        assert len(env.ca.orders()) == 1
    finally:
        gen.close()


@pytest.mark.postgres
@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_three_processes_on_postgresql_make_one_order_and_all_serve_it(
        tmp_path: Path, dns: DnsServer, challenge: str) -> None:
    """Three servers share one database; Pebble validates on A's listeners only, whichever
    process won the order lease (the challenge response is in the store). Bound through B."""
    from tests.support import postgres

    pebble_support.require()
    ports = [(free_port(), free_port()) for _ in range(3)]
    ca = Pebble(tmp_path / "pebble", dns.nameserver, http_port=ports[0][0],
                tls_port=ports[0][1]).start()
    master = {"OSS_SERVER_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
    started: list[RunningServer] = []
    try:
        with postgres.fresh_database() as url:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(3) as pool:
                futures = [pool.submit(
                    start_server, tmp_path / f"data{i}",
                    [*server_args(ca, dns, http, https, challenge), "--store", "postgres",
                     "--database-url", url], env=master)
                    for i, (http, https) in enumerate(ports)]
                for future in futures:
                    if future.exception() is None:
                        started.append(future.result())
                for future in futures:
                    future.result()
            bucket = site(started[1])
            envs = [Acme(server, ca, dns, http, https, bucket)
                    for server, (http, https) in zip(started, ports, strict=True)]
            domain = "www.scale.example"
            envs[1].bind(domain)
            first = wait_for("a verified answer from any process", lambda: next(
                (i for i, env in enumerate(envs) if verified(env, domain)()), None) is not None
                or None)
            assert first
            served_at = time.monotonic()
            ders = {}
            for env in envs:
                ders[env.https_port] = wait_for("every process serving it",
                                                verified(env, domain), timeout=5)[2]
            spread = time.monotonic() - served_at
            assert len(set(ders.values())) == 1
            time.sleep(3)  # the losers' due lists have long been read: still one order
            assert len(ca.orders()) == 1
            issued = [line for env in envs for line in env.server.errors
                      if f"ACME: certificate for {domain} issued" in line]
            assert len(issued) == 1
            assert envs[0].listed(domain).fingerprint == sha1_fingerprint(ders[ports[0][1]])
            assert spread < 1.0, spread
            # a renewal all three find due in the same second: still one order
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("UPDATE acme_certificates SET next_attempt = 0")
            old = ders[ports[0][1]]
            for env in envs:
                wait_for("every process serving the renewed certificate", lambda env=env: (
                    found if (found := verified(env, domain)()) and found[2] != old else None),
                    timeout=10)
            time.sleep(2)
            issued = [line for env in envs for line in env.server.errors
                      if f"ACME: certificate for {domain} issued" in line]
            assert len(ca.orders()) == 2 and len(issued) == 2
            print(f"orders under a 3-process race: 1 (renewal: 1); every process "
                  f"serving within {spread:.2f} s")
            for server in started:
                server.stop()
    finally:
        for server in started:
            server.stop()
        ca.stop()


@pytest.mark.parametrize("fetch", ["curl", "python"])
def test_readme_acme_walkthrough(tmp_path: Path, fetch: str) -> None:
    """scripts/walkthrough-acme, the README's ACME variant: Pebble, the server with
    --acme-directory, bind, fetch over HTTPS with no certificate uploaded."""
    import os
    import shutil
    import subprocess
    import sys

    pebble_support.require()
    if shutil.which("pebble-challtestsrv") is None:
        pytest.skip("pebble-challtestsrv is not installed (Debian package 'pebble')")
    if fetch == "curl" and shutil.which("curl") is None:
        pytest.skip("no curl on this machine (the python fetch still runs)")
    root = Path(__file__).resolve().parents[2]
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "run"), DEMO_FETCH=fetch,
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([str(root / "scripts" / "walkthrough-acme")], capture_output=True,
                            text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("== done: the ACME walkthrough succeeded")
    assert "<Type>ACME</Type>" in out and "<Domain>www.example.com</Domain>" in out
    assert "Hello from demo-bucket, over automatic HTTPS as https://www.example.com/\n" in out
    assert "Error:" not in out


def test_a_dangling_domain_gets_no_renewal_until_it_points_here_again(acme: Acme) -> None:
    """Domain health marks a binding dangling in the store (``set_binding_health``); from
    then on its due renewal is not ordered. Marked here through a second store handle on the
    server's database, as another process would."""
    from datetime import datetime, timezone

    from ossutil.server.storage.sqlite import SqliteStore

    domain = "moved.auto.example"
    acme.bind(domain)
    _, _, first = wait_for("the first certificate", verified(acme, domain))
    store = SqliteStore(acme.server.data_dir / "ossutil.db")
    try:
        assert store.set_binding_health(domain, True)
        store.schedule_acme(domain, datetime.now(timezone.utc))  # renewal due now
        time.sleep(3)  # three looks at the due list
        assert len(acme.ca.orders()) == 1
        assert acme.https_get(domain)[2] == first  # still served meanwhile
        assert store.set_binding_health(domain, False)
        _, _, renewed = wait_for("the renewal once it points here again", lambda: (
            result if (result := verified(acme, domain)()) and result[2] != first else None))
        assert len(acme.ca.orders()) == 2 and renewed[2] != first
    finally:
        store.close()


def test_put_cname_to_first_verified_https_p50_of_10(acme: Acme) -> None:
    """The note's number: time from PutCname's reply to the first verified HTTPS answer."""
    import statistics

    elapsed = []
    for n in range(10):
        domain = f"n{n}.p50.example"
        started = time.monotonic()
        acme.bind(domain)
        wait_for("a verified HTTPS answer", verified(acme, domain))
        elapsed.append(time.monotonic() - started)
    assert len(acme.ca.orders()) == 10
    print(f"PutCname -> verified HTTPS: p50 {statistics.median(elapsed):.2f} s, "
          f"max {max(elapsed):.2f} s over 10")
    assert statistics.median(elapsed) < 10


EAB_KID = "kid-1"
EAB_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


@pytest.mark.parametrize("with_eab", [True, False])
def test_external_account_binding(tmp_path: Path, dns: DnsServer, with_eab: bool) -> None:
    """A CA that requires EAB: with --acme-eab-kid/--acme-eab-hmac-key the account is bound
    and the name issued; without, the CA's refusal is the state's error (and the key is in
    no log line either way)."""
    extra = ("--acme-eab-kid", EAB_KID, "--acme-eab-hmac-key", EAB_KEY) if with_eab else ()
    gen = start(tmp_path, dns, extra=extra, eab_keys={EAB_KID: EAB_KEY})
    env = next(gen)
    try:
        domain = "eab.auto.example"
        env.bind(domain)
        if with_eab:
            wait_for("a verified HTTPS answer", verified(env, domain))
            assert len(env.ca.orders()) == 1
        else:
            wait_for("the CA's refusal", lambda: any(
                f"ACME: order for {domain} failed (1 in a row): the ACME CA refused: " in line
                and "externalAccountRequired" in line for line in env.server.errors))
            assert env.ca.orders() == []
        assert not any(EAB_KEY in line for line in env.server.errors + env.server.output)
    finally:
        gen.close()


def test_a_private_bucket_gets_its_certificate_too(acme: Acme) -> None:
    """The challenge is answered before any authorization: the CA's anonymous GET on a
    private bucket's domain is not refused."""
    auth = oss2.AuthV4(acme.server.access_key_id, acme.server.access_key_secret)
    private = oss2.Bucket(auth, acme.server.endpoint, "acme-private", region=acme.server.region)
    private.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    domain = "private.auto.example"
    acme.dns.a(domain, "127.0.0.1")
    acme.dns.txt(f"_dnsauth.{domain}", private.create_bucket_cname_token(domain).token)
    private.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))
    context = acme.ca.trusting()

    def handshake() -> bytes | None:
        with socket.create_connection(("127.0.0.1", acme.https_port), timeout=10) as raw:
            try:
                with context.wrap_socket(raw, server_hostname=domain) as tls:
                    return tls.getpeercert(binary_form=True)
            except ssl.SSLCertVerificationError:
                return None

    der = wait_for("a verified handshake", handshake)
    [cname] = private.list_bucket_cname().cname
    assert cname.certificate.type == "ACME"
    assert cname.certificate.fingerprint == sha1_fingerprint(der)
    reply = raw_http(acme, domain, "/anything")
    assert reply.startswith(b"HTTP/1.1 403 ") and b"<Code>AccessDenied</Code>" in reply


def test_processes_sharing_the_account_key_share_the_account(tmp_path: Path,
                                                             dns: DnsServer) -> None:
    """A second client with the store's account key finds the existing account (the CA
    answers newAccount with it) and orders under it."""
    from ossutil.server.acme.client import AcmeClient, new_key_pem

    pebble_support.require()
    with Pebble(tmp_path / "pebble", dns.nameserver) as ca:
        key = new_key_pem()
        first = AcmeClient(ca.directory, key, ca_bundle=ca.ca_bundle)
        second = AcmeClient(ca.directory, key, ca_bundle=ca.ca_bundle)
        first.prepare()
        second.prepare()
        accounts = [line for line in ca.lines if "There are now 1 accounts in memory" in line]
        assert len(accounts) == 1
        assert not any("There are now 2 accounts" in line for line in ca.lines)


@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_workers_sharing_a_data_dir_make_one_order(tmp_path: Path, dns: DnsServer,
                                                   challenge: str) -> None:
    """``--workers 2`` on SQLite: both workers schedule, the SQLite lease lets one order,
    whichever worker the CA's connection lands on answers the challenge."""
    pebble_support.require()
    http_port, https_port = free_port(), free_port()
    with Pebble(tmp_path / "pebble", dns.nameserver, http_port=http_port,
                tls_port=https_port) as ca:
        server = start_server(tmp_path / "data", server_args(ca, dns, http_port, https_port,
                                                             challenge), workers=2)
        try:
            env = Acme(server, ca, dns, http_port, https_port, site(server))
            domain = "workers.auto.example"
            env.bind(domain)
            status, body, der = wait_for("a verified HTTPS answer", verified(env, domain))
            assert (status, body) == (200, BODY)
            time.sleep(1)  # the other worker polls the change within 0.5 s, then builds
            for _ in range(20):  # every worker serves it (connections land on either)
                assert env.https_get(domain)[2] == der
            time.sleep(1)
            assert len(ca.orders()) == 1
            assert env.listed(domain).fingerprint == sha1_fingerprint(der)
        finally:
            server.stop()
