"""XML request bodies are read whole, however the client's TCP writes split them, up to a limit
per operation (ARCHITECTURE.md, "Limits").

The requests are written on raw sockets, a few hundred bytes at a time with pauses between, so
the server sees the body arrive in many pieces (one ``read()`` used to keep only the first).
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import time
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import pytest
from tests.support.raw import as_root, error_code
from tests.support.server import RunningServer

from ossutil.wire import dates, signing


def _signed_head(server: RunningServer, method: str, bucket: str, query: str, body: bytes,
                 chunked: bool = False) -> bytes:
    """``query``: ``name`` or ``name&name=value`` (every pair is signed)."""
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    headers = {"content-md5": md5, "content-type": "application/xml",
               "date": dates.rfc1123(datetime.now(timezone.utc))}
    pairs = [(name, value) for name, _, value in (part.partition("=")
                                                  for part in query.split("&"))]
    request = signing.SigningRequest(method, bucket, "", pairs, headers)
    headers["authorization"] = signing.v1_authorization(server.access_key_id,
                                                        server.access_key_secret, request)
    lines = [f"{method} /{bucket}/?{query} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _trickle(server: RunningServer, head: bytes, body: bytes, piece: int = 700,
             chunked: bool = False) -> tuple[int, str]:
    """Send ``head`` then ``body`` in ``piece``-byte writes with pauses; (status, body text)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.sendall(head)
        for number, start in enumerate(range(0, len(body), piece)):
            data = body[start:start + piece]
            raw.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if number % 200 == 0:
                time.sleep(0.01)
        if chunked:
            raw.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += raw.recv(65536)
        head_text, _, rest = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head_text).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            rest += raw.recv(65536)
    return int(head_text.split()[1]), rest.decode()


def _delete_document(keys: list[str]) -> bytes:
    objects = "".join(f"<Object><Key>{escape(key)}</Key></Object>" for key in keys)
    return f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_1000_key_batch_delete_with_long_keys_arrives_whole(server: RunningServer,
                                                              bucket_name: str,
                                                              chunked: bool) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    keys = [f"{i:04d}/" + "k" * 1018 for i in range(1000)]  # 1023 bytes: OSS's longest key
    for key in keys[:3]:
        assert as_root(server, "PUT", bucket_name, key, body=b"x").status == 200
    body = _delete_document(keys)
    assert len(body) > 1 << 20  # larger than the default XML limit: this operation has its own
    status, text = _trickle(server, _signed_head(server, "POST", bucket_name, "delete", body,
                                                 chunked), body, chunked=chunked)
    assert status == 200, text
    assert "<DeleteResult>" in text
    listing = as_root(server, "GET", bucket_name)
    assert "<Contents>" not in listing.text


@pytest.mark.parametrize("distinct", [True, False])
def test_a_1001_key_batch_delete_is_refused(server: RunningServer, bucket_name: str,
                                            distinct: bool) -> None:
    """OSS counts Object elements: 1001 of them are refused even when they repeat a key."""
    assert as_root(server, "PUT", bucket_name).status == 200
    body = _delete_document([f"k{i}" if distinct else "k" for i in range(1001)])
    status, text = _trickle(server, _signed_head(server, "POST", bucket_name, "delete", body),
                            body)
    assert status == 400
    assert "<Code>MalformedXML</Code>" in text
    assert "<EC>0016-00000609</EC>" in text


def test_a_body_over_the_limit_is_refused(server: RunningServer, bucket_name: str) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    body = _delete_document([f"{i:05d}" + "k" * 1000 for i in range(8200)])  # > 8 MiB
    assert len(body) > 8 << 20
    status, text = _trickle(server, _signed_head(server, "POST", bucket_name, "delete", body),
                            body, piece=65536)
    assert status == 400
    assert "<Code>EntityTooLarge</Code>" in text
    assert f"<Message>The request body exceeds {8 << 20} bytes.</Message>" in text


def test_a_chunked_body_over_the_limit_is_refused(server: RunningServer,
                                                  bucket_name: str) -> None:
    """Without Content-Length the limit is applied while reading."""
    assert as_root(server, "PUT", bucket_name).status == 200
    body = b"<CreateBucketConfiguration>" + b" " * (1 << 20) + b"</CreateBucketConfiguration>"
    head = _signed_head(server, "PUT", bucket_name, "acl", body, chunked=True)
    status, text = _trickle(server, head, body, piece=65536, chunked=True)
    assert (status, re.search(r"<Code>(\w+)</Code>", text).group(1)) == (  # type: ignore[union-attr]
        400, "EntityTooLarge")


def test_a_large_certificate_chain_split_in_pieces(server: RunningServer, bucket_name: str,
                                                   ca: object) -> None:
    """A PutCname body of several hundred KiB (a long chain) is parsed whole: its XML is
    well formed, so the answer is about the domain's proof (no token was created), never
    MalformedXML."""
    assert as_root(server, "PUT", bucket_name).status == 200
    pem = "-----BEGIN CERTIFICATE-----\n" + ("A" * 64 + "\n") * 6000 + \
        "-----END CERTIFICATE-----\n"
    body = (f"<BucketCnameConfiguration><Cname><Domain>chain.example.com</Domain>"
            f"<CertificateConfiguration><Certificate>{pem}</Certificate>"
            f"<PrivateKey>x</PrivateKey></CertificateConfiguration></Cname>"
            f"</BucketCnameConfiguration>").encode()
    assert len(body) > 300_000
    status, text = _trickle(server, _signed_head(server, "POST", bucket_name, "cname&comp=add",
                                                 body), body)
    assert status == 403, text
    assert "<Code>NeedVerifyDomainOwnership</Code>" in text


def test_limits_do_not_apply_to_object_bodies(server: RunningServer, bucket_name: str) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    data = bytes(range(256)) * 8192  # 2 MiB
    assert as_root(server, "PUT", bucket_name, "big.bin", body=data).status == 200
    assert as_root(server, "GET", bucket_name, "big.bin").body == data
    assert error_code(as_root(server, "GET", bucket_name, "none")) == (404, "NoSuchKey")
