"""The custom-domain gateway end to end: upload with an SDK, bind a domain (real DNS proof), then
fetch through the domain with plain HTTP clients setting Host, and over TLS with SNI, verifying
the chain against the test CA and the served certificate against ListCname's fingerprint.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import oss2
import pytest
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.raw import Reply, send
from tests.support.server import RunningServer, start_server

from ossutil.wire import dates, signing

BODY = b"<h1>served through a custom domain</h1>\n"


def sdk(server: RunningServer, bucket: str) -> oss2.Bucket:
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    return oss2.Bucket(auth, server.endpoint, bucket, region=server.region)


def bind(client: oss2.Bucket, dns: DnsServer, domain: str) -> None:
    dns.txt(f"_dnsauth.{domain}", client.create_bucket_cname_token(domain).token)
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))


def attach(client: oss2.Bucket, domain: str, pair: tuple[str, str],
           previous: str | None = None) -> str:
    """Attach a certificate; return the fingerprint ListCname reports for it."""
    chain, key = pair
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, oss2.models.CertInfo(
        certificate=chain, private_key=key, previous_cert_id=previous)))
    return listed_certificate(client, domain)[1]


def listed_certificate(client: oss2.Bucket, domain: str) -> tuple[str, str]:
    for cname in client.list_bucket_cname().cname:
        if cname.domain == domain and cname.certificate is not None:
            return cname.certificate.cert_id, cname.certificate.fingerprint
    raise AssertionError(f"no certificate listed for {domain}")


def via(server: RunningServer, domain: str, method: str, path: str,
        headers: dict[str, str] | None = None) -> Reply:
    """A plain HTTP request to the server whose Host is ``domain``."""
    return send(server.endpoint, method, path, headers={"Host": f"{domain}:{server.port}",
                                                        **(headers or {})})


def signed_via(server: RunningServer, domain: str, bucket: str, method: str, key: str, *,
               query: list[tuple[str, str]] | None = None, body: bytes = b"",
               version: str = "v1") -> Reply:
    """Signed as the SDKs sign for a CNAME endpoint: the resource is still /<bucket>/<key>."""
    moment = datetime.now(timezone.utc)
    headers = {"host": f"{domain}:{server.port}"}
    if version == "v1":
        headers["date"] = dates.rfc1123(moment)
    else:
        headers["x-oss-date"] = dates.v4_timestamp(moment)
        headers["x-oss-content-sha256"] = signing.UNSIGNED_PAYLOAD
    pairs = query or []
    request = signing.SigningRequest(method, bucket, key, pairs, headers)
    if version == "v1":
        headers["authorization"] = signing.v1_authorization(
            server.access_key_id, server.access_key_secret, request)
    else:
        headers["authorization"] = signing.v4_authorization(
            server.access_key_id, server.access_key_secret, request, region=server.region,
            date=moment.strftime("%Y%m%d"))
    query_text = "&".join(f"{k}={quote(v, safe='')}" if v else k for k, v in pairs)
    return send(server.endpoint, method, "/" + quote(key), query=query_text, body=body,
                headers=headers)


def code(reply: Reply) -> tuple[int, str]:
    match = re.search(r"<Code>([^<]*)</Code>", reply.text)
    return reply.status, match.group(1) if match else ""


class DomainHTTPS(http.client.HTTPSConnection):
    """HTTPS to the loopback listener while SNI, the certificate check and Host say ``domain``."""

    def __init__(self, domain: str, port: int, context: ssl.SSLContext) -> None:
        super().__init__(domain, port, context=context, timeout=10)
        self._create_connection = (  # type: ignore[method-assign]
            lambda _address, *args: socket.create_connection(("127.0.0.1", port), *args))

    def served_certificate(self) -> bytes:
        if self.sock is None:
            self.connect()
        assert isinstance(self.sock, ssl.SSLSocket)
        der = self.sock.getpeercert(binary_form=True)
        assert der is not None
        return der

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        self.request("GET", path)
        response = self.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in
                                                  response.getheaders()}


def trusting(ca: CertFactory) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca.ca_pem())


def trusting_anything() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


def default_certificate(server: RunningServer) -> bytes:
    return ssl.PEM_cert_to_DER_cert((server.data_dir / "tls-default.crt").read_text())


@pytest.fixture
def public_bucket(server: RunningServer, bucket_name: str) -> Iterator[oss2.Bucket]:
    client = sdk(server, bucket_name)
    client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    client.put_object("index.html", BODY)
    yield client


# --- HTTP -----------------------------------------------------------------------------------

def test_bound_domain_serves_its_bucket_over_http(server: RunningServer, dns: DnsServer,
                                                  bucket_name: str, domain: str) -> None:
    client = sdk(server, bucket_name)
    client.create_bucket()
    client.put_object("dir/page.html", BODY, headers={"x-oss-meta-team": "web"})
    bind(client, dns, domain)

    # private bucket: anonymous is refused, a request signed for the bound bucket is served
    assert code(via(server, domain, "GET", "/dir/page.html")) == (403, "AccessDenied")
    for version in ("v1", "v4"):
        reply = signed_via(server, domain, bucket_name, "GET", "dir/page.html", version=version)
        assert (reply.status, reply.body) == (200, BODY), version
    forged = signed_via(server, domain, "some-other-bucket", "GET", "dir/page.html")
    assert code(forged) == (403, "SignatureDoesNotMatch")

    client.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    reply = via(server, domain, "GET", "/dir/page.html")
    assert (reply.status, reply.body) == (200, BODY)
    assert reply.headers["etag"] == f'"{hashlib.md5(BODY).hexdigest().upper()}"'
    assert reply.headers["content-type"] == "text/html"
    assert reply.headers["content-length"] == str(len(BODY))
    assert reply.headers["x-oss-meta-team"] == "web"
    assert reply.headers["server"] == "AliyunOSS"
    assert re.fullmatch(r"[0-9A-F]{24}", reply.headers["x-oss-request-id"])
    head = via(server, domain, "HEAD", "/dir/page.html")
    assert (head.status, head.body, head.headers["content-length"]) == (200, b"",
                                                                        str(len(BODY)))
    ranged = via(server, domain, "GET", "/dir/page.html", {"Range": "bytes=4-9"})
    assert (ranged.status, ranged.body) == (206, BODY[4:10])
    assert ranged.headers["content-range"] == f"bytes 4-9/{len(BODY)}"
    assert code(via(server, domain, "GET", "/dir/missing.html")) == (404, "NoSuchKey")

    # listing and writes need a signature; bucket administration stays on the endpoint
    assert code(via(server, domain, "GET", "/")) == (403, "AccessDenied")
    assert code(via(server, domain, "PUT", "/anon.txt")) == (403, "AccessDenied")
    listing = signed_via(server, domain, bucket_name, "GET", "", query=[("prefix", "dir/")])
    assert listing.status == 200
    assert f"<Name>{bucket_name}</Name>" in listing.text
    assert "<Key>dir/page.html</Key>" in listing.text
    put = signed_via(server, domain, bucket_name, "PUT", "uploaded.txt", body=b"via domain",
                     version="v4")
    assert put.status == 200
    assert client.get_object("uploaded.txt").read() == b"via domain"
    assert code(signed_via(server, domain, bucket_name, "GET", "", query=[("acl", "")])) == (
        405, "MethodNotAllowed")
    assert signed_via(server, domain, bucket_name, "DELETE", "uploaded.txt").status == 204

    client.delete_bucket_cname(domain)
    assert code(via(server, domain, "GET", "/dir/page.html")) == (404, "NoSuchCnameInRecord")


@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_sdk_with_the_domain_as_cname_endpoint(server: RunningServer, dns: DnsServer,
                                               bucket_name: str, domain: str, sign: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Any) -> None:
    """oss2 given the bound domain as a CNAME endpoint (``is_cname=True``) sends its whole
    object API there: put/get, multipart (resumable upload), copy, batch delete, object ACL,
    listing. Bucket administration through the domain is refused with 405."""
    owner = sdk(server, bucket_name)
    owner.create_bucket()
    bind(owner, dns, domain)
    real_getaddrinfo = socket.getaddrinfo

    def loopback_for_domain(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.1" if host == domain else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_for_domain)  # no traffic leaves loopback
    ak, sk = server.access_key_id, server.access_key_secret
    auth = oss2.AuthV4(ak, sk) if sign == "v4" else oss2.Auth(ak, sk)
    via_domain = oss2.Bucket(auth, f"http://{domain}:{server.port}", bucket_name,
                             is_cname=True, region=server.region)

    via_domain.put_object("small.txt", BODY)
    assert via_domain.get_object("small.txt").read() == BODY
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 1600)  # 400 KiB: four parts of 100 KiB
    oss2.resumable_upload(via_domain, "big.bin", str(big), multipart_threshold=100 * 1024,
                          part_size=100 * 1024, num_threads=2)
    assert owner.head_object("big.bin").headers["x-oss-object-type"] == "Multipart"
    assert owner.get_object("big.bin").read() == big.read_bytes()
    via_domain.copy_object(bucket_name, "small.txt", "copy.txt")
    assert via_domain.get_object_acl("copy.txt").acl == "default"
    assert sorted(o.key for o in oss2.ObjectIterator(via_domain)) == [
        "big.bin", "copy.txt", "small.txt"]
    assert sorted(via_domain.batch_delete_objects(["copy.txt", "small.txt"]).deleted_keys) == [
        "copy.txt", "small.txt"]
    assert [o.key for o in oss2.ObjectIterator(owner)] == ["big.bin"]
    # (raw request: an oss2 exception held by pytest.raises keeps its socket open until GC)
    assert code(signed_via(server, domain, bucket_name, "GET", "", query=[("acl", "")],
                           version=sign)) == (405, "MethodNotAllowed")
    via_domain.delete_object("big.bin")
    owner.delete_bucket_cname(domain)


def test_unbound_hosts_are_never_guessed(server: RunningServer, bucket_name: str) -> None:
    client = sdk(server, bucket_name)
    client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    client.put_object("k", b"v")
    # a Host that merely looks like the bucket gets no bucket
    for host in (f"{bucket_name}.example.com", bucket_name, f"{bucket_name}.com"):
        reply = via(server, host, "GET", "/k")
        assert reply.status == 404
        assert reply.headers["content-type"] == "application/xml"
        assert reply.text == (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
            "  <Code>NoSuchCnameInRecord</Code>\n"
            "  <Message>The requested domain is not bound to any bucket.</Message>\n"
            f"  <RequestId>{reply.headers['x-oss-request-id']}</RequestId>\n"
            f"  <HostId>{host}</HostId>\n  <Cname>{host}</Cname>\n</Error>\n")
    head = via(server, f"{bucket_name}.example.com", "HEAD", "/k")
    assert (head.status, head.body) == (404, b"")
    # our own hosts still address by path and virtual host
    assert send(server.endpoint, "GET", f"/{bucket_name}/k").body == b"v"
    own = send(server.endpoint, "GET", "/k",
               headers={"Host": f"{bucket_name}.oss-cn-hangzhou.localhost:{server.port}"})
    assert own.body == b"v"


# --- HTTPS and SNI --------------------------------------------------------------------------

def test_sni_follows_attach_rotate_detach_and_delete(server: RunningServer, dns: DnsServer,
                                                     ca: CertFactory, public_bucket: Any,
                                                     domain: str) -> None:
    client: oss2.Bucket = public_bucket
    port = server.https_port
    default = default_certificate(server)
    bind(client, dns, domain)

    plain = DomainHTTPS(domain, port, trusting_anything())
    assert plain.served_certificate() == default  # bound, no certificate: the default one
    assert plain.get("/index.html")[:2] == (200, BODY)
    plain.close()

    first = attach(client, domain, ca.leaf(domain))
    tls = DomainHTTPS(domain, port, trusting(ca))  # verifies chain and hostname
    assert fingerprint(tls.served_certificate()) == first
    status, body, headers = tls.get("/index.html")
    assert (status, body, headers["content-type"]) == (200, BODY, "text/html")

    cert_id, _ = listed_certificate(client, domain)
    second = attach(client, domain, ca.leaf(domain), previous=cert_id)
    assert second != first
    rotated = DomainHTTPS(domain, port, trusting(ca))
    assert fingerprint(rotated.served_certificate()) == second
    assert rotated.get("/index.html")[:2] == (200, BODY)
    # the connection opened before the rotation keeps its session, and still works
    assert fingerprint(tls.served_certificate()) == first
    assert tls.get("/index.html")[:2] == (200, BODY)
    tls.close()
    rotated.close()

    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(
        domain, oss2.models.CertInfo(delete_certificate=True)))
    detached = DomainHTTPS(domain, port, trusting_anything())
    assert detached.served_certificate() == default
    detached.close()
    with pytest.raises(ssl.SSLCertVerificationError):
        DomainHTTPS(domain, port, trusting(ca)).connect()

    client.delete_bucket_cname(domain)
    gone = DomainHTTPS(domain, port, trusting_anything())
    assert gone.served_certificate() == default
    status, body, _ = gone.get("/index.html")
    assert status == 404 and b"<Code>NoSuchCnameInRecord</Code>" in body
    gone.close()


def test_each_domain_gets_its_own_certificate(server: RunningServer, dns: DnsServer,
                                              ca: CertFactory, public_bucket: Any,
                                              domain: str) -> None:
    client: oss2.Bucket = public_bucket
    other = "img." + domain
    bind(client, dns, domain)
    bind(client, dns, other)
    prints = {name: attach(client, name, ca.leaf(name)) for name in (domain, other)}
    for name, expected in prints.items():
        connection = DomainHTTPS(name, server.https_port, trusting(ca))
        assert fingerprint(connection.served_certificate()) == expected
        assert connection.get("/index.html")[:2] == (200, BODY)
        connection.close()
    unbound = DomainHTTPS("unbound." + domain, server.https_port, trusting_anything())
    assert unbound.served_certificate() == default_certificate(server)
    unbound.close()
    for name in (domain, other):
        client.delete_bucket_cname(name)


def test_larger_object_over_tls_with_ranges(server: RunningServer, dns: DnsServer,
                                            ca: CertFactory, public_bucket: Any,
                                            domain: str) -> None:
    client: oss2.Bucket = public_bucket
    data = hashlib.sha256(b"x").digest() * (6 * 1024 * 1024 // 32 + 3)
    client.put_object("big.bin", data)
    bind(client, dns, domain)
    attach(client, domain, ca.leaf(domain))
    connection = DomainHTTPS(domain, server.https_port, trusting(ca))
    status, body, headers = connection.get("/big.bin")
    assert (status, len(body), body == data) == (200, len(data), True)
    connection.request("GET", "/big.bin", headers={"Range": "bytes=1000000-4000000"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (206, data[1000000:4000001])
    connection.close()
    client.delete_bucket_cname(domain)


# --- several server processes on one store --------------------------------------------------

def _wait_for(predicate: Any, timeout: float = 3.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
    return time.monotonic() - started


def test_changes_made_by_another_process_arrive_within_a_second(
        fresh_server: RunningServer, dns: DnsServer, ca: CertFactory, bucket_name: str,
        domain: str) -> None:
    writer = fresh_server
    reader = start_server(writer.data_dir, ["--dns-server", dns.nameserver], https=True)
    try:
        client = sdk(writer, bucket_name)
        client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
        client.put_object("index.html", BODY)
        assert code(via(reader, domain, "GET", "/index.html")) == (404, "NoSuchCnameInRecord")

        bind(client, dns, domain)
        assert _wait_for(lambda: via(reader, domain, "GET", "/index.html").status == 200) < 1.5
        assert via(reader, domain, "GET", "/index.html").body == BODY

        printed = attach(client, domain, ca.leaf(domain))

        def reader_serves_it() -> bool:
            connection = DomainHTTPS(domain, reader.https_port, trusting_anything())
            try:
                return fingerprint(connection.served_certificate()) == printed
            finally:
                connection.close()

        assert _wait_for(reader_serves_it) < 1.5

        client.delete_bucket_cname(domain)
        assert _wait_for(lambda: via(reader, domain, "GET", "/index.html").status == 404) < 1.5
    finally:
        reader.stop()


def test_the_servers_own_endpoints_live_under_a_path_no_bucket_can_take(
        server: RunningServer, dns: DnsServer, bucket_name: str, domain: str) -> None:
    """``/-/health`` on the server's own hosts; ``-`` is no legal bucket name, so no bucket is
    shadowed. On a bound domain ``/-/health`` is an object key of its bucket like any other."""
    health = send(server.endpoint, "GET", "/-/health")
    assert (health.status, health.body) == (200, b'{"status":"ok"}\n')
    assert health.headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9A-F]{24}", health.headers["x-oss-request-id"])
    assert send(server.endpoint, "HEAD", "/-/health").status == 200
    assert code(send(server.endpoint, "GET", "/-/nothing")) == (404, "NoSuchKey")
    assert code(send(server.endpoint, "GET", "/-/")) == (404, "NoSuchKey")
    assert code(send(server.endpoint, "PUT", "/-/health")) == (405, "MethodNotAllowed")
    assert code(send(server.endpoint, "PUT", "/-")) == (404, "NoSuchKey")
    owner = sdk(server, bucket_name)
    owner.create_bucket()
    bind(owner, dns, domain)
    owner.put_object("-/health", BODY)
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert via(server, domain, "GET", "/-/health").body == BODY
    owner.delete_bucket_cname(domain)
