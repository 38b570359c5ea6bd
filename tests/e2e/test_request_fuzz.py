"""Arbitrary requests against the real server (issue 8 §2): whatever the method, path, query,
headers and body, signed or not, the answer is a success or OSS's error XML with a request id,
never a 5xx (501 NotImplemented aside), and the server logs no traceback and no ERROR.

Requests are written byte by byte on a socket (http.client cannot send a repeated
Content-Length, a non-numeric one, a chunked body that breaks, invalid UTF-8 in a path) and the
reply is read with http.client's response parser. Signed requests (V1 and V4, root key) get past
authentication to the router, the handlers and the store; others are unsigned or carry a broken
signature. XML-bodied operations get XML-ish documents built from their own element names,
with character references, control characters and huge integers.

Header values are text sent as UTF-8, and sometimes raw bytes that are not UTF-8 (lone
surrogates here, written back as the bytes they stand for, as aiohttp reads them).

``OSSUTIL_FUZZ_EXAMPLES`` sets the example count (default 2,500, about 20 s; 20,000 found
nothing more when this was written).
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.support.raw import as_root
from tests.support.server import RunningServer

from ossutil.wire import dates, signing

EXAMPLES = int(os.environ.get("OSSUTIL_FUZZ_EXAMPLES", "2500"))
BUCKET = "fuzz-bucket"
REQUEST_ID = re.compile(r"^[0-9A-F]{24}$")
HUGE = "9" * 4400

SUBRESOURCES = sorted(signing.SUBRESOURCES) + [
    "list-type", "max-keys", "marker", "prefix", "delimiter", "encoding-type",
    "continuation-token", "start-after", "fetch-owner", "max-uploads", "key-marker",
    "upload-id-marker", "uploadId", "partNumber", "max-parts", "part-number-marker",
    "response-content-type", "x-oss-process", "OSSAccessKeyId", "Expires", "Signature",
    "x-oss-signature-version", "x-oss-expires", "x-oss-credential", "x-oss-date",
    "x-oss-signature"]
HEADERS = ["Content-Type", "Content-MD5", "Range", "If-Match", "If-None-Match",
           "If-Modified-Since", "If-Unmodified-Since", "x-oss-acl", "x-oss-object-acl",
           "x-oss-copy-source", "x-oss-metadata-directive", "x-oss-meta-a", "Cache-Control",
           "x-oss-storage-class", "x-oss-forbid-overwrite", "Expect",
           "x-oss-copy-source-if-match", "x-oss-copy-source-range", "Content-Encoding",
           "Transfer-Encoding", "Content-Length", "x-oss-content-sha256", "x-oss-complete-all",
           "x-oss-server-side-encryption", "x-oss-tagging", "x-oss-traffic-limit",
           "x-oss-range-behavior", "Date", "x-oss-date", "Authorization", "Host",
           "Content-Disposition", "x-oss-hash-crc64ecma", "Connection"]

small_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF,
                                            exclude_categories=("Cs",)), max_size=12)
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
integers = st.one_of(
    st.integers(min_value=-5, max_value=20_000).map(str),
    st.sampled_from(["99999999999999999999999", HUGE, "0" * 300 + "1", "+1", "1.5", "0x10",
                     "١", " 7", "", "-0", "18446744073709551616"]),
)
values = st.one_of(st.just(""), small_text, integers, any_text,
                   st.sampled_from(["url", "2", "true", "REPLACE", "COPY", "bytes=0-1",
                                    "bytes=-5", "bytes=5-", "gzip", "chunked", "yes"]))

# Mostly what a header can carry; sometimes controls and other characters aiohttp refuses.
header_values = st.one_of(
    st.just(""), integers,
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFFF,
                                   exclude_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(["url", "true", "REPLACE", "copy", "bytes=0-1", "bytes=-5", "bytes=5-",
                     "bytes=0-1,3-4", "gzip", "br", "deflate", "chunked", "identity",
                     "gzip, chunked", "100-continue", "yes", "/fuzz-bucket/k", "Archive",
                     "public-read", "\"ETAG\"", "Tue, 01 Dec 2026 00:00:00 GMT"]),
    any_text.filter(lambda t: "\r" not in t and "\n" not in t),
    st.binary(min_size=1, max_size=6).filter(lambda b: not set(b) & set(b"\r\n\x00"))
    .map(lambda b: b.decode("utf-8", "surrogateescape")))
header_pairs = st.tuples(st.sampled_from(HEADERS), header_values)

# Paths: encoded segments, percent-encoded random bytes (invalid UTF-8, NUL, surrogates), junk.
percent_bytes = st.binary(max_size=8).map(lambda b: "".join(f"%{c:02X}" for c in b))
segment = st.one_of(st.sampled_from([BUCKET, "k", "", "no-such-bucket-x", "a", "..", "%2F"]),
                    small_text.map(lambda t: quote(t, safe="")), percent_bytes,
                    st.sampled_from(["%ED%A0%80", "%00", "%EF%BF%BF", "%C0%AF", "%FF", "%",
                                     "%zz", "%E4%B8"]))
raw_paths = st.lists(segment, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))


def _xml_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["k", "1", "true", "\"ETAG\"", HUGE, "-1", "&#01;", "&#0;", "&#x1F;",
                         "&#xD800;", "&#99999999999;", "&amp;", "&bogus;", "<![CDATA[x]]>",
                         "\x01", "\uffff", "<!-- c -->", "&#10;"]),
        small_text.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
        integers)


ELEMENTS = ["Delete", "Quiet", "Object", "Key", "VersionId", "CompleteMultipartUpload", "Part",
            "PartNumber", "ETag", "BucketCnameConfiguration", "Cname", "Domain",
            "CertificateConfiguration", "CertId", "Certificate", "PrivateKey", "Force",
            "PreviousCertId", "DeleteCertificate", "CreateBucketConfiguration", "StorageClass",
            "AccessControlPolicy", "MaxKeys"]


@st.composite
def xml_documents(draw: Any, depth: int = 0) -> str:
    tag = draw(st.sampled_from(ELEMENTS))
    if depth >= 2 or draw(st.booleans()):
        inner = draw(_xml_text())
    else:
        inner = "".join(draw(st.lists(xml_documents(depth + 1), max_size=3)))
    return f"<{tag}>{inner}</{tag}>"


bodies = st.one_of(
    st.just(b""), st.binary(max_size=64),
    xml_documents().map(lambda d: d.encode("utf-8", "surrogatepass")),
    xml_documents().map(lambda d: b'<?xml version="1.0" encoding="UTF-8"?>\n' + d.encode()),
    st.sampled_from([b"<Delete><Object><Key>k</Key></Object></Delete>",
                     b"<Delete><Object><Key>a&#01;b</Key></Object></Delete>",
                     b"<BucketCnameConfiguration/>", b"<?xml version='1.0'?>",
                     b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
                     b"<CompleteMultipartUpload><Part><PartNumber>" + HUGE.encode()
                     + b"</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"]),
)

query_pairs = st.tuples(st.one_of(st.sampled_from(SUBRESOURCES), small_text, percent_bytes),
                        st.one_of(st.none(), values))

requests = st.fixed_dictionaries({
    "method": st.sampled_from(["GET"] * 4 + ["PUT"] * 4 + ["POST"] * 3 + ["DELETE"] * 2
                              + ["HEAD"] * 3 + ["OPTIONS", "PATCH", "TRACE", "get", "FOO"]),
    "path": st.one_of(
        st.tuples(st.sampled_from([BUCKET, ""]), st.sampled_from(["", "k", "x/y"]))
        .map(lambda bk: "/" + "/".join(p for p in bk if p) if bk[0] else "/"),
        raw_paths),
    "query": st.one_of(
        st.lists(query_pairs, max_size=4, unique_by=lambda pair: pair[0]),
        st.lists(query_pairs, max_size=4)),  # names may repeat
    "headers": st.one_of(
        st.lists(header_pairs, max_size=5, unique_by=lambda pair: pair[0].lower()),
        st.lists(header_pairs, max_size=5)),  # names may repeat
    "body": bodies,
    # How the body is framed: Content-Length of its size, chunked (right, or broken), or none.
    "framing": st.sampled_from(["length", "length", "chunked", "broken-chunked", "none"]),
    "auth": st.sampled_from(["v1", "v1", "v4", "none", "bad"]),
})


def _decoded_target(raw_path: str) -> tuple[str, str]:
    """(bucket, key) as the server reads a path-style request (router.Addressing)."""
    path = unquote(raw_path)
    stripped = path[1:] if path.startswith("/") else path
    bucket, _, key = stripped.partition("/")
    return bucket, key


def _query_text(pairs: list[tuple[str, str | None]]) -> tuple[str, list[tuple[str, str]]]:
    """The raw query and the decoded pairs the server will see (app.parse_query)."""
    parts = []
    for name, value in pairs:
        encoded = name if name.startswith("%") else quote(name, safe="")
        parts.append(encoded if value is None else f"{encoded}={quote(value, safe='')}")
    raw = "&".join(parts)
    decoded = []
    for part in raw.split("&"):
        if part:
            name, _, value = part.replace("+", " ").partition("=")
            decoded.append((unquote(name), unquote(value)))
    return raw, decoded


def build(request: dict[str, Any], server: RunningServer) -> tuple[bytes, bool]:
    """The request's bytes, and whether its framing is complete (else the server may wait
    for the rest and we close our side: no reply is then acceptable)."""
    method, raw_path, body = request["method"], request["path"], request["body"]
    raw_query, pairs = _query_text(request["query"])
    headers: list[tuple[str, str]] = [(n, v) for n, v in request["headers"]
                                      if n.lower() not in ("host", "connection")]
    framing = request["framing"]
    complete = True
    if any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers):
        complete = False  # the fuzzed framing headers decide; the reply may never come
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    elif framing == "broken-chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        body = b"3\r\nabc\r\nZZ\r\n" + body
        complete = False
    auth = request["auth"]
    if auth in ("v1", "v4"):
        bucket, key = _decoded_target(raw_path)
        now = datetime.now(timezone.utc)
        lower = {n.lower(): v for n, v in headers}
        if auth == "v1":
            lower.setdefault("date", dates.rfc1123(now))
        else:
            lower.setdefault("x-oss-date", dates.v4_timestamp(now))
            lower.setdefault("x-oss-content-sha256", signing.UNSIGNED_PAYLOAD)
        signing_request = signing.SigningRequest(method, bucket, key, pairs, lower)
        try:
            if auth == "v1":
                authorization = signing.v1_authorization(
                    server.access_key_id, server.access_key_secret, signing_request)
            else:
                authorization = signing.v4_authorization(
                    server.access_key_id, server.access_key_secret, signing_request,
                    region=server.region, date=now.strftime("%Y%m%d"))
        except (UnicodeError, ValueError):
            authorization = "OSS " + server.access_key_id + ":AAAA"
        names = {n.lower() for n, _ in headers}
        headers += [(n, v) for n, v in lower.items() if n not in names]
        headers.append(("Authorization", authorization))
    elif auth == "bad":
        headers += [("Authorization", "OSS " + server.access_key_id + ":AAAA"),
                    ("Date", "Tue, 01 Dec 2026 00:00:00 GMT")]
    target = raw_path + ("?" + raw_query if raw_query else "")
    head = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
            "Connection: close"] + [f"{n}: {v}" for n, v in headers]
    data = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body
    return data, complete


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def exchange(server: RunningServer, data: bytes, method: str, complete: bool) -> Answer | None:
    """Send, and read the reply. An incomplete request is followed by a half-close, so the
    server sees the end at once (aiohttp then drops the request: no reply)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        try:
            conn.sendall(data)
            if not complete:
                conn.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered (400) and closed before we finished sending
            pass
        response = http.client.HTTPResponse(conn, method=method.upper())
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        try:
            body = response.read()
        except http.client.IncompleteRead as partial:
            body = partial.partial
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def check(answer: Answer, method: str) -> str:
    """Assert the answer is OSS's; its error code ("" for a success)."""
    assert answer.status < 500 or answer.status == 501, (answer.status, answer.body[:400])
    request_id = answer.headers.get("x-oss-request-id", "")
    assert REQUEST_ID.match(request_id), answer.headers
    assert b"Traceback" not in answer.body
    if answer.status < 300 or answer.status == 304:
        return ""
    if method.upper() == "HEAD" and not answer.body:
        assert "x-oss-err" in answer.headers, (answer.status, answer.headers)
        document = base64.b64decode(answer.headers["x-oss-err"])
    else:
        document = answer.body
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>'), document[:400]
    root = ET.fromstring(document)  # well-formed, whatever it echoes
    assert root.findtext("Code"), document[:400]
    assert root.findtext("RequestId") == request_id
    return root.findtext("Code") or ""


@pytest.fixture(scope="module")
def fuzz_server(server: RunningServer) -> Iterator[RunningServer]:
    """The session server with the fuzz bucket, one object and one multipart upload; on the
    way out, nothing it logged while fuzzed is a traceback or an ERROR."""
    as_root(server, "PUT", BUCKET)
    as_root(server, "PUT", BUCKET, "k", body=b"value")
    since = len(server.errors)
    yield server
    time.sleep(0.3)
    _no_bad_log_lines(server, since)


def _no_bad_log_lines(server: RunningServer, since: int) -> None:
    logged = server.errors[since:]
    bad = [line for line in logged if "Traceback" in line or " ERROR " in line]
    assert not bad, "\n".join(logged[-60:])


@pytest.mark.timeout(max(120, EXAMPLES // 10))
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=requests)
def test_any_request_gets_an_oss_answer(fuzz_server: RunningServer,
                                        request: dict[str, Any]) -> None:
    since = len(fuzz_server.errors)
    data, complete = build(request, fuzz_server)
    answer = exchange(fuzz_server, data, request["method"], complete)
    if answer is None:
        assert not complete, "no reply to a complete request"
        event("no reply (incomplete request)")
    else:
        code = check(answer, request["method"])
        event(f"{answer.status} {code}")  # --hypothesis-show-statistics: what was reached
    _no_bad_log_lines(fuzz_server, since)
