"""Client input never reaches a 500 (issue 8 §2): Content-Encoding is metadata, integers of any
length, characters XML cannot carry, odd AccessKeyIds, control-character references in XML
bodies. Through the real server; raw sockets where http.client cannot send the bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import socket
import time
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from typing import Any

import pytest
from tests.support.raw import Reply, as_root, error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

from ossutil.wire import dates, signing

HUGE = "9" * 4400  # past int()'s 4,300-digit limit (and two fit in a header line)
LONG = "99999999999999999999999"  # past int64


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> str:
    assert as_root(server, "PUT", bucket_name).status == 200
    return bucket_name


def no_server_errors(server: RunningServer, since: int) -> None:
    time.sleep(0.05)  # let the pump thread read what the request logged
    logged = "\n".join(server.errors[since:])
    assert "Traceback" not in logged and " ERROR " not in logged, logged


def well_formed_error(reply: Reply) -> ET.Element:
    root = ET.fromstring(reply.body)  # expat: raises on anything ill-formed
    assert root.tag == "Error"
    assert root.findtext("RequestId") == reply.headers["x-oss-request-id"]
    return root


def signed_headers(server: RunningServer, method: str, bucket: str, key: str,
                   headers: dict[str, str], query: list[tuple[str, str]] | None = None
                   ) -> dict[str, str]:
    """V1 headers for a request sent by hand (raw socket)."""
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs["date"] = dates.rfc1123(datetime.now(timezone.utc))
    request = signing.SigningRequest(method, bucket, key, query or [], hdrs)
    hdrs["authorization"] = signing.v1_authorization(server.access_key_id,
                                                     server.access_key_secret, request)
    return hdrs


def raw_exchange(server: RunningServer, pieces: list[bytes], *, timeout: float = 10.0,
                 pause: float = 0.2) -> bytes:
    """Send ``pieces`` (pausing between them), read until the server closes or ``timeout``."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as conn:
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(pause)
            conn.sendall(piece)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                return out
            out += chunk
        raise AssertionError(f"connection still open after {timeout} s: {out[:300]!r}")


def head_of(request_line: str, headers: dict[str, str]) -> bytes:
    lines = [request_line, "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def status_of(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# --- Content-Encoding is metadata ------------------------------------------------------------

PAYLOAD = b"the same bytes, again and again. " * 40
ENCODED = [
    ("gzip", gzip.compress(PAYLOAD)),
    ("gzip", b"this claims gzip and is not"),
    ("br", os.urandom(200)),
    ("deflate", zlib.compress(PAYLOAD)),
    ("deflate", b"\x00\x01 not deflate"),
    ("gzip, deflate", b"two codings, neither applied"),
    ("x-unknown", b"whatever"),
]


@pytest.mark.parametrize(("coding", "body"), ENCODED, ids=[f"{c}-{i}" for i, (c, _) in
                                                          enumerate(ENCODED)])
def test_content_encoding_is_stored_not_applied(server: RunningServer, bucket: str,
                                                coding: str, body: bytes) -> None:
    since = len(server.errors)
    put = as_root(server, "PUT", bucket, "encoded", body=body,
                  headers={"Content-Encoding": coding,
                           "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
    assert put.status == 200, put.body
    assert put.headers["etag"] == f'"{hashlib.md5(body).hexdigest().upper()}"'
    got = as_root(server, "GET", bucket, "encoded")
    assert (got.status, got.body) == (200, body)
    assert got.headers["content-encoding"] == coding
    head = as_root(server, "HEAD", bucket, "encoded")
    assert head.status == 200
    assert head.headers["content-encoding"] == coding
    assert head.headers["content-length"] == str(len(body))
    no_server_errors(server, since)


def test_chunked_upload_with_content_encoding_keeps_the_bytes(server: RunningServer,
                                                             bucket: str) -> None:
    body = gzip.compress(PAYLOAD)
    headers = signed_headers(server, "PUT", bucket, "chunked-gz",
                             {"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    headers["Transfer-Encoding"] = "chunked"
    headers["Connection"] = "close"
    half = len(body) // 2
    chunks = [f"{half:x}\r\n".encode() + body[:half] + b"\r\n",
              f"{len(body) - half:x}\r\n".encode() + body[half:] + b"\r\n0\r\n\r\n"]
    response = raw_exchange(server, [head_of(f"PUT /{bucket}/chunked-gz HTTP/1.1", headers),
                                     *chunks])
    assert status_of(response)[0] == 200, response
    got = as_root(server, "GET", bucket, "chunked-gz")
    assert got.body == body
    assert got.headers["content-encoding"] == "gzip"


def test_upload_part_with_content_encoding_keeps_the_bytes(server: RunningServer,
                                                          bucket: str) -> None:
    init = as_root(server, "POST", bucket, "mp-gz", query=[("uploads", "")],
                   headers={"Content-Encoding": "gzip"})
    assert init.status == 200
    upload_id = ET.fromstring(init.body).findtext("UploadId") or ""
    body = gzip.compress(PAYLOAD)
    part = as_root(server, "PUT", bucket, "mp-gz",
                   query=[("partNumber", "1"), ("uploadId", upload_id)], body=body,
                   headers={"Content-Encoding": "gzip"})
    assert part.status == 200
    assert part.headers["etag"] == f'"{hashlib.md5(body).hexdigest().upper()}"'
    complete = as_root(server, "POST", bucket, "mp-gz", query=[("uploadId", upload_id)],
                       body=(f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                             f"<ETag>{part.headers['etag']}</ETag></Part>"
                             f"</CompleteMultipartUpload>").encode())
    assert complete.status == 200, complete.body
    got = as_root(server, "GET", bucket, "mp-gz")
    assert got.body == body
    assert got.headers["content-encoding"] == "gzip"


def test_an_encoded_xml_body_is_not_decompressed(server: RunningServer, bucket: str) -> None:
    document = gzip.compress(b"<Delete><Object><Key>k</Key></Object></Delete>")
    reply = as_root(server, "POST", bucket, query=[("delete", "")], body=document,
                    headers={"Content-Encoding": "gzip",
                             "Content-MD5": base64.b64encode(
                                 hashlib.md5(document).digest()).decode()})
    assert error_code(reply) == (400, "MalformedXML")


def test_a_chunked_body_that_breaks_midway_is_answered_not_hung(server: RunningServer,
                                                               bucket: str) -> None:
    """aiohttp's parser drops a body's stream on a bad chunk size without failing it: the
    handler then waited for ever. Now the read fails with OSS's error and the connection
    closes."""
    since = len(server.errors)
    headers = signed_headers(server, "PUT", bucket, "broken", {"Content-Encoding": "gzip"})
    headers["Transfer-Encoding"] = "chunked"
    response = raw_exchange(server, [head_of(f"PUT /{bucket}/broken HTTP/1.1", headers),
                                     b"5\r\nhello\r\n", b"ZZ\r\n"], timeout=10)
    status, body = status_of(response)
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body
    assert b"not valid HTTP/1.1: Invalid character in chunk size" in body
    assert as_root(server, "GET", bucket, "broken").status == 404  # nothing was stored
    no_server_errors(server, since)


def test_a_chunked_xml_body_that_breaks_midway_is_answered(server: RunningServer,
                                                          bucket: str) -> None:
    headers = signed_headers(server, "POST", bucket, "", {}, query=[("delete", "")])
    headers["Transfer-Encoding"] = "chunked"
    response = raw_exchange(server, [head_of(f"POST /{bucket}/?delete HTTP/1.1", headers),
                                     b"8\r\n<Delete>\r\n", b"ZZ\r\n"], timeout=10)
    status, body = status_of(response)
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body


# --- integers of any length ------------------------------------------------------------------

@pytest.mark.parametrize(("range_header", "status", "content_range"), [
    (f"bytes=0-{LONG}", 206, "bytes 0-9/10"),
    (f"bytes=0-{HUGE}", 206, "bytes 0-9/10"),
    (f"bytes=-{LONG}", 206, "bytes 0-9/10"),
    (f"bytes=-{HUGE}", 206, "bytes 0-9/10"),
    (f"bytes=3-{'0' * 5000}4", 206, "bytes 3-4/10"),
    (f"bytes={LONG}-", 416, None),
    (f"bytes={LONG}-{LONG}", 416, None),
    (f"bytes={LONG}8-{LONG}", 200, None),  # last < first: not a range, the whole object
    ("bytes=٣-٤", 200, None),  # non-ASCII digits: not a range
])
def test_range_positions_of_any_length(server: RunningServer, bucket: str, range_header: str,
                                       status: int, content_range: str | None) -> None:
    since = len(server.errors)
    as_root(server, "PUT", bucket, "ten", body=b"0123456789")
    reply = send(server.endpoint, "GET", f"/{bucket}/ten", headers={
        **signed_headers(server, "GET", bucket, "ten", {}),
        "Range": range_header.encode("utf-8").decode("latin-1")})
    assert reply.status == status
    assert reply.headers.get("content-range") == content_range
    if status == 416:
        assert error_code(reply) == (416, "InvalidRange")
    no_server_errors(server, since)


INTEGER_QUERIES = [
    # (what, key, query, status, code)
    ("max-keys", "", [("max-keys", HUGE)], 400, "InvalidArgument"),
    ("max-keys", "", [("max-keys", LONG)], 400, "InvalidArgument"),
    ("max-keys", "", [("max-keys", "+5")], 400, "InvalidArgument"),
    ("max-keys", "", [("max-keys", "٣")], 400, "InvalidArgument"),
    ("max-keys", "", [("max-keys", " 5")], 400, "InvalidArgument"),
    ("max-keys", "", [("max-keys", "0")], 400, "InvalidArgument"),
    ("max-keys-v2", "", [("list-type", "2"), ("max-keys", HUGE)], 400, "InvalidArgument"),
    ("max-uploads", "", [("uploads", ""), ("max-uploads", HUGE)], 400, "InvalidArgument"),
    ("max-uploads", "", [("uploads", ""), ("max-uploads", LONG)], 400, "InvalidArgument"),
]


@pytest.mark.parametrize(("what", "key", "query", "status", "code"), INTEGER_QUERIES,
                         ids=[f"{w}-{i}" for i, (w, *_) in enumerate(INTEGER_QUERIES)])
def test_integer_query_values_of_any_length(server: RunningServer, bucket: str, what: str,
                                            key: str, query: list[tuple[str, str]],
                                            status: int, code: str) -> None:
    since = len(server.errors)
    reply = as_root(server, "GET", bucket, key, query=query)
    assert error_code(reply) == (status, code)
    root = well_formed_error(reply)
    name = query[-1][0]
    assert root.findtext("ArgumentName") == name
    value = root.findtext("ArgumentValue") or ""
    assert len(value) <= 67  # quoted, but never a 5,000-digit wall
    no_server_errors(server, since)


def test_leading_zeros_are_a_number(server: RunningServer, bucket: str) -> None:
    reply = as_root(server, "GET", bucket, query=[("max-keys", "0" * 5000 + "7")])
    assert reply.status == 200
    assert ET.fromstring(reply.body).findtext("MaxKeys") == "7"


@pytest.fixture
def upload_id(server: RunningServer, bucket: str) -> str:
    init = as_root(server, "POST", bucket, "mp", query=[("uploads", "")])
    assert init.status == 200
    return ET.fromstring(init.body).findtext("UploadId") or ""


@pytest.mark.parametrize("value", [HUGE, LONG, "0", "10001", "-1", "1.0", "", "١"])
def test_part_numbers_of_any_length(server: RunningServer, bucket: str, upload_id: str,
                                    value: str) -> None:
    since = len(server.errors)
    part = as_root(server, "PUT", bucket, "mp", body=b"x",
                   query=[("partNumber", value), ("uploadId", upload_id)])
    assert error_code(part) == (400, "InvalidArgument")
    complete = as_root(server, "POST", bucket, "mp", query=[("uploadId", upload_id)],
                       body=(f"<CompleteMultipartUpload><Part><PartNumber>{value}</PartNumber>"
                             "<ETag>\"00\"</ETag></Part></CompleteMultipartUpload>")
                       .encode())
    assert error_code(complete) == (400, "InvalidPart")
    assert len(well_formed_error(complete).findtext("PartNumber") or "") <= 67
    no_server_errors(server, since)


@pytest.mark.parametrize("name", ["max-parts", "part-number-marker"])
@pytest.mark.parametrize("value", [HUGE, LONG, "-1", "x"])
def test_list_parts_integers_of_any_length(server: RunningServer, bucket: str, upload_id: str,
                                           name: str, value: str) -> None:
    since = len(server.errors)
    reply = as_root(server, "GET", bucket, "mp", query=[("uploadId", upload_id), (name, value)])
    assert error_code(reply) == (400, "InvalidArgument")
    assert well_formed_error(reply).findtext("ArgumentName") == name
    no_server_errors(server, since)


@pytest.mark.parametrize("length", [HUGE[:4000], LONG, "-1", "12a", "1, 2"])
def test_odd_content_length_is_oss_xml(server: RunningServer, bucket: str,
                                       length: str) -> None:
    since = len(server.errors)
    headers = signed_headers(server, "PUT", bucket, "cl", {})
    headers["Content-Length"] = length
    status, body = status_of(raw_exchange(
        server, [head_of(f"PUT /{bucket}/cl HTTP/1.1", headers) + b"x"]))
    assert status == 400
    root = ET.fromstring(body)
    assert root.findtext("Code") == "InvalidArgument"
    assert (root.findtext("Message") or "").startswith("The request is not valid HTTP/1.1")
    assert len(root.findtext("RequestId") or "") == 24
    assert length.encode()[:20] not in body  # the bytes are not quoted back
    no_server_errors(server, since)


def test_a_header_line_over_the_limit_is_oss_xml_and_not_echoed(server: RunningServer,
                                                               bucket: str) -> None:
    since = len(server.errors)
    secretish = "Signature-" + "s" * 9000
    status, body = status_of(raw_exchange(server, [head_of(
        f"GET /{bucket}/k HTTP/1.1", {"Authorization": f"OSS ak:{secretish}"})]))
    assert status == 400
    assert ET.fromstring(body).findtext("Code") == "InvalidArgument"
    assert b"Signature-" not in body
    logged = "\n".join(server.errors[since:])
    assert "Signature-" not in logged
    no_server_errors(server, since)


# --- characters XML cannot carry -------------------------------------------------------------

@pytest.mark.parametrize("key", ["a\x00b", "a\x01b", "a\uffffb", "a\ufffeb", "\x1f"])
def test_an_error_echoing_a_key_xml_cannot_carry_is_well_formed(server: RunningServer,
                                                               bucket: str, key: str) -> None:
    """The error writer replaces what XML 1.0 cannot carry with U+FFFD."""
    since = len(server.errors)
    reply = as_root(server, "GET", bucket, key)
    assert error_code(reply) == (404, "NoSuchKey")
    root = well_formed_error(reply)
    expected = "".join("\ufffd" if c in "\x00\x01\x1f\ufffe\uffff" else c for c in key)
    assert root.findtext("Key") == expected
    head = as_root(server, "HEAD", bucket, key)
    assert head.status == 404
    echoed = ET.fromstring(base64.b64decode(head.headers["x-oss-err"]))
    assert echoed.findtext("Code") == "NoSuchKey"
    no_server_errors(server, since)


def test_a_reply_that_could_not_carry_the_key_changes_nothing(server: RunningServer,
                                                              bucket: str) -> None:
    """Initiate/CompleteMultipartUpload and a verbose DeleteMultipleObjects name their keys in
    the reply: without encoding-type=url a key XML cannot carry is refused before anything is
    written or deleted (it used to be committed, then answered 400)."""
    key = "mp\x01key"
    refused = as_root(server, "POST", bucket, key, query=[("uploads", "")])
    assert error_code(refused) == (400, "InvalidArgument")
    assert "<ArgumentName>encoding-type</ArgumentName>" in refused.text
    listing = as_root(server, "GET", bucket, query=[("uploads", ""), ("encoding-type", "url")])
    assert "<Upload>" not in listing.text  # no upload was created
    started = as_root(server, "POST", bucket, key, query=[("uploads", ""),
                                                         ("encoding-type", "url")])
    assert started.status == 200
    upload_id = ET.fromstring(started.body).findtext("UploadId") or ""
    part = as_root(server, "PUT", bucket, key, query=[("partNumber", "1"),
                                                      ("uploadId", upload_id)], body=b"p")
    assert part.status == 200
    document = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                f"<ETag>{part.headers['etag']}</ETag></Part></CompleteMultipartUpload>").encode()
    plain = as_root(server, "POST", bucket, key, query=[("uploadId", upload_id)], body=document)
    assert error_code(plain) == (400, "InvalidArgument")
    assert error_code(as_root(server, "GET", bucket, key)) == (404, "NoSuchKey")
    done = as_root(server, "POST", bucket, key, query=[("uploadId", upload_id),
                                                       ("encoding-type", "url")], body=document)
    assert done.status == 200
    assert as_root(server, "GET", bucket, key).body == b"p"
    delete = (b"<Delete><Quiet>false</Quiet><Object><Key>mp&#1;key</Key></Object>"
              b"</Delete>")
    md5 = base64.b64encode(hashlib.md5(delete).digest()).decode()
    verbose = as_root(server, "POST", bucket, query=[("delete", "")], body=delete,
                      headers={"Content-MD5": md5})
    assert error_code(verbose) == (400, "InvalidArgument")
    assert as_root(server, "GET", bucket, key).body == b"p"  # still there
    deleted = as_root(server, "POST", bucket, query=[("delete", ""), ("encoding-type", "url")],
                      body=delete, headers={"Content-MD5": md5})
    assert deleted.status == 200
    assert error_code(as_root(server, "GET", bucket, key)) == (404, "NoSuchKey")


@pytest.mark.parametrize("path", ["/%ED%A0%80", "/%ED%A0%80/key", "/b%00b/", "/%FF%FE/k",
                                  "/%C0%AF/", "/bucket-ok/%ED%B0%80%00%EF%BF%BF"])
def test_paths_with_invalid_utf8_and_nul(server: RunningServer, path: str) -> None:
    since = len(server.errors)
    reply = send(server.endpoint, "GET", path)
    assert 400 <= reply.status < 500
    well_formed_error(reply)
    no_server_errors(server, since)


def test_a_header_value_xml_cannot_carry_is_echoed_well_formed(server: RunningServer,
                                                              bucket: str) -> None:
    as_root(server, "PUT", bucket, "src", body=b"x")
    directive = "\uffff\ufffe"
    headers = signed_headers(server, "PUT", bucket, "dst", {
        "x-oss-copy-source": f"/{bucket}/src", "x-oss-metadata-directive": directive})
    head = head_of(f"PUT /{bucket}/dst HTTP/1.1", {**headers, "Content-Length": "0",
                                                   "Connection": "close"})
    status, body = status_of(raw_exchange(server, [head]))
    assert status == 400
    root = ET.fromstring(body)
    assert root.findtext("Code") == "InvalidArgument", body
    assert root.findtext("ArgumentValue") == "\ufffd\ufffd", body


@pytest.mark.parametrize("version", ["v1", "v4"])
@pytest.mark.parametrize("name", ["x-oss-meta-a", "content-disposition", "x-oss-acl"])
def test_a_header_byte_that_is_not_utf8_is_refused(server: RunningServer, bucket: str,
                                                   version: str, name: str) -> None:
    """A header holding byte 0xFF (not UTF-8): refused by the one header view, whatever the
    client signed (the byte, or the text U+00FF), before a signature, a store or an error's
    XML sees it; nothing is stored."""
    from datetime import datetime, timezone

    from ossutil.wire import dates, signing

    moment = datetime.now(timezone.utc)
    for signed_value in ("\udcff", "\xff"):
        headers = {name: signed_value}
        if version == "v1":
            headers["date"] = dates.rfc1123(moment)
        else:
            headers["x-oss-date"] = dates.v4_timestamp(moment)
            headers["x-oss-content-sha256"] = signing.UNSIGNED_PAYLOAD
        request = signing.SigningRequest("PUT", bucket, "k", [], headers)
        if version == "v1":
            authorization = signing.v1_authorization(server.access_key_id,
                                                     server.access_key_secret, request)
        else:
            authorization = signing.v4_authorization(
                server.access_key_id, server.access_key_secret, request,
                region=server.region, date=moment.strftime("%Y%m%d"))
        sent = {**headers, name: "\xff", "authorization": authorization}
        reply = send(server.endpoint, "PUT", f"/{bucket}/k", body=b"v",
                     headers=sent)  # 0xFF on the wire
        assert error_code(reply) == (400, "InvalidArgument"), reply.text
        assert f"<ArgumentName>{name}</ArgumentName>" in reply.text
    assert error_code(as_root(server, "GET", bucket, "k")) == (404, "NoSuchKey")


AUTHORIZATIONS = [
    # (Authorization value (UTF-8 on the wire), status, code)
    ("OSS :c2lnbmF0dXJl", 400, "InvalidArgument"),  # OSS's EC 0002-00000001
    ("OSS " + "A" * 7000 + ":c2ln", 403, "InvalidAccessKeyId"),
    ("OSS ключ:c2ln", 403, "InvalidAccessKeyId"),
    ("OSS a:b:c", 403, "InvalidAccessKeyId"),
    ("OSS \x01\x7f:c2ln", 400, "InvalidArgument"),  # aiohttp refuses control characters
    ("OSS4-HMAC-SHA256 Credential=,Signature=00", 400, "InvalidArgument"),
    ("OSS4-HMAC-SHA256 Credential=ключ/20260101/cn-hangzhou/oss/aliyun_v4_request,"
     "Signature=00", 403, "InvalidAccessKeyId"),
    ("OSS4-HMAC-SHA256 Credential=a:b/20260101/cn-hangzhou/oss/aliyun_v4_request,"
     "Signature=00", 403, "InvalidAccessKeyId"),
    ("OSS4-HMAC-SHA256 Credential=" + "A" * 7000, 400, "InvalidArgument"),
]


@pytest.mark.parametrize(("authorization", "status", "code"), AUTHORIZATIONS,
                         ids=[f"auth-{i}" for i in range(len(AUTHORIZATIONS))])
def test_odd_access_key_ids(server: RunningServer, bucket: str, authorization: str,
                            status: int, code: str) -> None:
    since = len(server.errors)
    headers = {"Authorization": authorization,
               "Date": dates.rfc1123(datetime.now(timezone.utc)),
               "x-oss-date": dates.v4_timestamp(datetime.now(timezone.utc)),
               "x-oss-content-sha256": "UNSIGNED-PAYLOAD", "Connection": "close"}
    response = raw_exchange(server, [head_of(f"GET /{bucket}/k HTTP/1.1", headers)])
    got_status, body = status_of(response)
    root = ET.fromstring(body)
    assert (got_status, root.findtext("Code")) == (status, code), body
    assert b"c2ln" not in body or code == "InvalidAccessKeyId"
    no_server_errors(server, since)


# --- control-character references in XML bodies ---------------------------------------------

def test_v2_sdk_deletes_a_key_holding_control_characters(server: RunningServer,
                                                         bucket: str) -> None:
    """alibabacloud-oss-v2 writes ``\\x01`` as ``&#01;`` in DeleteMultipleObjects; OSS (and
    now we) decode it; expat alone refuses it as XML 1.0."""
    import alibabacloud_oss_v2 as oss

    client: Any = oss_v2_client(server.endpoint, server.access_key_id,
                                server.access_key_secret, "v4", server.region)
    keys = ["ctl\x01key", "tab\tand\x1fus", "nul\x00key"]
    for key in keys:
        client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=b"x"))
    result = client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=bucket, objects=[oss.DeleteObject(key=key) for key in keys]))
    assert sorted(d.key for d in result.deleted_objects) == sorted(keys)
    for key in keys:
        assert as_root(server, "HEAD", bucket, key).status == 404


@pytest.mark.parametrize(("reference", "char"), [("&#01;", "\x01"), ("&#x1f;", "\x1f"),
                                                 ("&#0;", "\x00"), ("&#x0B;", "\x0b")])
def test_control_character_references_name_the_key(server: RunningServer, bucket: str,
                                                   reference: str, char: str) -> None:
    as_root(server, "PUT", bucket, f"r{char}k", body=b"x")
    document = f"<Delete><Object><Key>r{reference}k</Key></Object></Delete>".encode()
    reply = as_root(server, "POST", bucket, query=[("delete", ""), ("encoding-type", "url")],
                    body=document)
    assert reply.status == 200, reply.body
    assert as_root(server, "HEAD", bucket, f"r{char}k").status == 404


@pytest.mark.parametrize("document", [
    b"<Delete><Object><Key>&#xD800;</Key></Object></Delete>",
    b"<Delete><Object><Key>&#99999999999;</Key></Object></Delete>",
    b"<Delete><Object Key=\"&#1;\"><Key>k</Key></Object></Delete>",
    b"<Delete><Object><Key>&#1;</Key></Object>",
])
def test_other_bad_references_are_malformed_xml(server: RunningServer, bucket: str,
                                                document: bytes) -> None:
    reply = as_root(server, "POST", bucket, query=[("delete", "")], body=document)
    assert error_code(reply) == (400, "MalformedXML")


def test_a_listing_of_a_control_character_key_asks_for_url_encoding(server: RunningServer,
                                                                    bucket: str) -> None:
    as_root(server, "PUT", bucket, "list\x01me", body=b"x")
    plain = as_root(server, "GET", bucket)
    assert error_code(plain) == (400, "InvalidArgument")
    encoded = as_root(server, "GET", bucket, query=[("encoding-type", "url")])
    assert encoded.status == 200
    assert b"<Key>list%01me</Key>" in encoded.body
