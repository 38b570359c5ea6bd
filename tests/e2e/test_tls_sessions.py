"""The HTTPS listener as clients meet it: sessions resume (TLS 1.2 and 1.3, for the default
certificate and for one the SNI callback switches to), an attached certificate is served as soon
as PutCname returns, and the protocol/suite floor."""

from __future__ import annotations

import hashlib
import socket
import ssl
import warnings
from collections.abc import Iterator

import oss2
import pytest
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

BODY = b"resumed\n"


@pytest.fixture
def bound(server: RunningServer, dns: DnsServer, bucket_name: str,
          domain: str) -> Iterator[oss2.Bucket]:
    """A public-read bucket with ``index.html``, bound to ``domain`` (no certificate yet)."""
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    client = oss2.Bucket(auth, server.endpoint, bucket_name, region=server.region)
    client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    client.put_object("index.html", BODY)
    dns.txt(f"_dnsauth.{domain}", client.create_bucket_cname_token(domain).token)
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))
    yield client
    client.delete_bucket_cname(domain)


def attach(client: oss2.Bucket, domain: str, pair: tuple[str, str]) -> str:
    """Attach ``pair`` (replacing any certificate); the fingerprint ListCname reports."""
    previous = None
    for cname in client.list_bucket_cname().cname:
        if cname.domain == domain and cname.certificate is not None:
            previous = cname.certificate.cert_id
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, oss2.models.CertInfo(
        certificate=pair[0], private_key=pair[1], previous_cert_id=previous)))
    for cname in client.list_bucket_cname().cname:
        if cname.domain == domain and cname.certificate is not None:
            return str(cname.certificate.fingerprint)
    raise AssertionError(f"no certificate listed for {domain}")


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())


def client_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    return context


def get(port: int, context: ssl.SSLContext, server_name: str, host: str,
        session: ssl.SSLSession | None = None) -> tuple[bytes, bool, ssl.SSLSession, str]:
    """One connection, one GET /index.html read whole (so TLS 1.3's tickets have arrived):
    (served certificate DER, whether the session was resumed, the session, the body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=server_name, session=session) as tls:
        tls.sendall(f"GET /index.html HTTP/1.1\r\nHost: {host}\r\n"
                    "Connection: close\r\n\r\n".encode())
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
        der = tls.getpeercert(binary_form=True)
        assert der is not None and tls.session is not None
        return der, tls.session_reused, tls.session, reply.partition(b"\r\n\r\n")[2].decode()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2],
                         ids=["tls1.3", "tls1.2"])
def test_sessions_resume_for_the_default_and_an_attached_certificate(
        server: RunningServer, bound: oss2.Bucket, ca: CertFactory, domain: str,
        version: ssl.TLSVersion) -> None:
    attached = attach(bound, domain, ca.leaf(domain))
    default = ssl.PEM_cert_to_DER_cert((server.data_dir / "tls-default.crt").read_text())
    context = client_context(version)
    for server_name, expected in (("localhost", fingerprint(default)), (domain, attached)):
        der, reused, session, body = get(server.https_port, context, server_name, domain)
        assert (fingerprint(der), reused, body) == (expected, False, BODY.decode())
        for _ in range(2):  # each resumed connection hands out a session to resume again
            der, reused, session, body = get(server.https_port, context, server_name, domain,
                                             session)
            assert (fingerprint(der), reused, body) == (expected, True, BODY.decode())


def test_an_attached_certificate_is_served_as_soon_as_put_cname_returns(
        server: RunningServer, bound: oss2.Bucket, ca: CertFactory, domain: str) -> None:
    context = client_context(ssl.TLSVersion.TLSv1_3)
    for key_type in ("ec", "rsa", "ec", "rsa", "ec"):  # attach, then rotate four times
        expected = attach(bound, domain, ca.leaf(domain, key_type=key_type))
        der, _, _, body = get(server.https_port, context, domain, domain)
        assert (fingerprint(der), body) == (expected, BODY.decode())


def test_tls_below_1_2_and_suites_without_ecdhe_and_aead_are_refused(
        server: RunningServer) -> None:
    tls12 = client_context(ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", server.https_port), timeout=10) as raw, \
            tls12.wrap_socket(raw, server_hostname="localhost") as tls:
        # the server's first choice (the generated default certificate is ECDSA P-256)
        assert tls.cipher() == ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", 128)
    # refused: asyncio's TLS transport closes the connection without sending the alert
    refused = [("ECDHE-ECDSA-AES128-SHA256", ssl.TLSVersion.TLSv1_2,
                "UNEXPECTED_EOF_WHILE_READING"),  # CBC
               ("AES128-GCM-SHA256", ssl.TLSVersion.TLSv1_2,
                "UNEXPECTED_EOF_WHILE_READING")]  # RSA key exchange
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.1 is deprecated
        refused.append(("DEFAULT:@SECLEVEL=0", ssl.TLSVersion.TLSv1_1,
                        "UNEXPECTED_EOF_WHILE_READING"))
        for ciphers, version, reason in refused:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers(ciphers)
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = version
            with socket.create_connection(("127.0.0.1", server.https_port), timeout=10) as raw, \
                    pytest.raises(ssl.SSLError) as error:
                context.wrap_socket(raw, server_hostname="localhost")
            assert error.value.reason == reason, ciphers
