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
from tests.support.pebble import Pebble, free_port
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
          ca_env: dict[str, str] | None = None) -> Iterator[Acme]:
    pebble_support.require()
    http_port, https_port = free_port(), free_port()
    ca = Pebble(tmp_path / "pebble", dns.nameserver, http_port=http_port, tls_port=https_port,
                validity=validity, env=ca_env).start()
    try:
        server = start_server(tmp_path / "data", [
            "--port", str(http_port), "--https-port", str(https_port),
            "--dns-server", dns.nameserver, "--acme-directory", ca.directory,
            "--acme-ca-bundle", str(ca.ca_bundle), "--acme-challenge", challenge,
            "--acme-retry-base", "1", "--log-level", "info", *extra])
        try:
            auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
            bucket = oss2.Bucket(auth, server.endpoint, "acme-site", region=server.region)
            bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
            bucket.put_object("index.html", BODY)
            yield Acme(server, ca, dns, http_port, https_port, bucket)
        finally:
            server.stop()
    finally:
        ca.stop()


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
    print(f"PutCname -> first verified HTTPS response: {elapsed:.2f} s")
