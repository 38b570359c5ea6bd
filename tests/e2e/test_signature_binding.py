"""Every signed byte is the byte used.

A captured signed request must not be bent into another one: a repeated header cannot swap the
body or defeat a signed safety header, a V1 signature over one operation does not verify for
another, and a presigned URL works only as signed, only until it expires, and is never served
as anonymous. Hostile requests are written by hand (``tests/support/raw.py``); the presigned
URLs come from the real SDKs (``oss2.Bucket.sign_url``, ``alibabacloud_oss_v2`` ``presign``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import oss2
import pytest
from tests.support.dns_server import DnsServer
from tests.support.raw import Reply, as_root, error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

from ossutil.wire import dates, signing

# Headers aiohttp's HTTP parser itself refuses to see twice (its own plain-text 400, before any
# handler: such a request is not valid HTTP/1.1).
HTTP_SINGLETONS = frozenset({"content-type", "content-length", "host", "transfer-encoding"})
BODY = b"the bytes the owner signed\n"
SWAPPED = b"bytes an attacker wants stored\n"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def signed_headers(server: RunningServer, method: str, bucket: str, key: str,
                   headers: dict[str, str], version: str,
                   query: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """The headers of a request signed as the SDKs sign it (lower-case names)."""
    moment = datetime.now(timezone.utc)
    hdrs = {k.lower(): v for k, v in headers.items()}
    if version == "v1":
        hdrs.setdefault("date", dates.rfc1123(moment))
    else:
        hdrs.setdefault("x-oss-date", dates.v4_timestamp(moment))
        hdrs.setdefault("x-oss-content-sha256", signing.UNSIGNED_PAYLOAD)
    request = signing.SigningRequest(method, bucket, key, query or [], hdrs)
    if version == "v1":
        hdrs["authorization"] = signing.v1_authorization(server.access_key_id,
                                                         server.access_key_secret, request)
    else:
        hdrs["authorization"] = signing.v4_authorization(
            server.access_key_id, server.access_key_secret, request, region=server.region,
            date=moment.strftime("%Y%m%d"))
    return hdrs


def signing_date(version: str) -> str:
    return "date" if version == "v1" else "x-oss-date"


def xml_field(reply: Reply, name: str) -> str:
    match = re.search(rf"<{name}>([^<]*)</{name}>", reply.text)
    return match.group(1) if match else ""


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> Iterator[str]:
    assert as_root(server, "PUT", bucket_name).status == 200
    yield bucket_name


# --- repeated headers ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_a_second_digest_header_cannot_swap_the_body(server: RunningServer, bucket: str,
                                                     version: str) -> None:
    """The owner signed a PUT of BODY; the attacker replays it with SWAPPED and a second digest
    header that matches SWAPPED, placed where the handler used to look first."""
    if version == "v1":
        digest_name, real, forged = "Content-MD5", md5_b64(BODY), md5_b64(SWAPPED)
    else:
        digest_name = "x-oss-content-sha256"
        real, forged = hashlib.sha256(BODY).hexdigest(), hashlib.sha256(SWAPPED).hexdigest()
    headers = signed_headers(server, "PUT", bucket, "doc.txt", {digest_name: real}, version)
    assert send(server.endpoint, "PUT", f"/{bucket}/doc.txt", body=BODY,
                headers=headers).status == 200
    replay = [(digest_name, forged)] + list(headers.items())
    reply = send(server.endpoint, "PUT", f"/{bucket}/doc.txt", body=SWAPPED, headers=replay)
    assert error_code(reply) == (400, "InvalidArgument")
    assert xml_field(reply, "ArgumentName") == digest_name.lower()
    assert xml_field(reply, "Message") == (f"The header {digest_name.lower()} is given more "
                                           "than once.")
    assert as_root(server, "GET", bucket, "doc.txt").body == BODY


def test_a_signed_forbid_overwrite_cannot_be_defeated(server: RunningServer,
                                                      bucket: str) -> None:
    assert as_root(server, "PUT", bucket, "keep.txt", body=BODY).status == 200
    headers = signed_headers(server, "PUT", bucket, "keep.txt",
                             {"x-oss-forbid-overwrite": "true"}, "v1")
    refused = send(server.endpoint, "PUT", f"/{bucket}/keep.txt", body=SWAPPED, headers=headers)
    assert error_code(refused) == (409, "FileAlreadyExists")
    replay = [("x-oss-forbid-overwrite", "false")] + list(headers.items())
    reply = send(server.endpoint, "PUT", f"/{bucket}/keep.txt", body=SWAPPED, headers=replay)
    assert error_code(reply) == (400, "InvalidArgument")
    assert as_root(server, "GET", bucket, "keep.txt").body == BODY


@pytest.mark.parametrize("name", ["Authorization", "Date", "x-oss-date", "Content-Type",
                                  "Content-MD5", "x-oss-content-sha256", "x-oss-meta-owner",
                                  "x-oss-acl", "Range", "If-None-Match", "x-oss-copy-source"])
@pytest.mark.parametrize("version", ["v1", "v4"])
def test_every_header_read_is_refused_when_repeated(server: RunningServer, bucket: str,
                                                    name: str, version: str) -> None:
    """Whichever copy comes first, a repeated header is a 400 in OSS's XML, before the
    signature is checked or anything is read or stored."""
    values = {"Content-MD5": md5_b64(BODY), "x-oss-content-sha256": signing.UNSIGNED_PAYLOAD,
              "Range": "bytes=0-1", "x-oss-copy-source": f"/{bucket}/none"}
    value = values.get(name, "text/plain" if name == "Content-Type" else "x")
    if name in ("Date", "x-oss-date"):  # both schemes read both (V1: x-oss-date wins)
        value = dates.rfc1123(datetime.now(timezone.utc))
    extra = {} if name.lower() in ("authorization", signing_date(version)) else {name: value}
    headers = signed_headers(server, "PUT", bucket, "twice.txt", extra, version)
    first = headers[name.lower()]
    for duplicate in ([(name, first)] + list(headers.items()),
                      list(headers.items()) + [(name.upper(), first)]):
        reply = send(server.endpoint, "PUT", f"/{bucket}/twice.txt", body=BODY,
                     headers=duplicate)
        if name.lower() in HTTP_SINGLETONS:  # refused by the HTTP parser (http/protocol.py)
            assert error_code(reply) == (400, "InvalidArgument")
            assert xml_field(reply, "Message").lower() == (
                f"the request is not valid http/1.1: duplicate '{name.lower()}' header found.")
            continue
        assert error_code(reply) == (400, "InvalidArgument"), reply.text
        assert xml_field(reply, "ArgumentName") == name.lower()
        assert re.fullmatch(r"[0-9A-F]{24}", reply.headers["x-oss-request-id"])
    assert error_code(as_root(server, "GET", bucket, "twice.txt")) == (404, "NoSuchKey")


def test_a_repeated_host_is_refused(server: RunningServer, bucket: str) -> None:
    """aiohttp's parser refuses a second Host before any handler runs; http/protocol.py
    answers it in OSS's XML (the request is not HTTP/1.1 any more)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(f"GET /{bucket}/x HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n"
                    "\r\n".encode())
        answer = b""
        while chunk := raw.recv(65536):  # the server closes after a parse failure
            answer += chunk
    assert answer.split(b" ", 2)[1] == b"400", answer
    assert b"<Code>InvalidArgument</Code>" in answer, answer
    assert b"evil.example" not in answer  # the offending bytes are never echoed


def test_a_repeated_query_parameter_is_refused(server: RunningServer, bucket: str) -> None:
    reply = send(server.endpoint, "GET", f"/{bucket}/", query="acl&acl")
    assert error_code(reply) == (400, "InvalidArgument")
    assert xml_field(reply, "ArgumentName") == "acl"


# --- V1 sub-resources ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["cname", "cname=www.example.com&comp=token", "acl",
                                   "bucketInfo", "uploads"])
def test_a_v1_listing_signature_does_not_verify_for_another_operation(
        server: RunningServer, bucket: str, query: str) -> None:
    headers = signed_headers(server, "GET", bucket, "", {}, "v1")
    assert send(server.endpoint, "GET", f"/{bucket}/", headers=headers).status == 200
    reply = send(server.endpoint, "GET", f"/{bucket}/", query=query, headers=headers)
    assert error_code(reply) == (403, "SignatureDoesNotMatch")
    # the string the server signed names the operation's sub-resources
    signed = html.unescape(xml_field(reply, "StringToSign"))
    assert signed.endswith(f"\n/{bucket}/?{query}")


def test_v1_signs_operation_sub_resources_in_both_sdk_conventions() -> None:
    """oss2 and the Go SDK sign their long list; oss-v2 signs a shorter one plus the
    operation's own. The verifier tries both, but each contains every operation-selecting
    parameter present, so they differ only in plain parameters."""
    query = [("cname", ""), ("comp", "token"), ("x-oss-traffic-limit", "100")]
    sets = signing.v1_candidate_sets(query)
    assert len(sets) == 2
    for subresources in sets:
        assert {"cname", "comp"} <= subresources
    assert signing.v1_candidate_sets([("cname", "")]) == [signing.SUBRESOURCES]


# --- presigned URLs --------------------------------------------------------------------------


def fetch(url: str, method: str = "GET", body: bytes = b"",
          headers: dict[str, str] | None = None) -> Reply:
    """Send the URL exactly as given (Host from the URL, as a browser does) to loopback."""
    parts = urlsplit(url)
    assert parts.port is not None
    return send(f"http://127.0.0.1:{parts.port}", method, parts.path, query=parts.query,
                body=body, headers={"Host": parts.netloc, **(headers or {})})


def oss2_bucket(server: RunningServer, bucket: str, version: str) -> oss2.Bucket:
    ak, sk = server.access_key_id, server.access_key_secret
    auth = oss2.AuthV4(ak, sk) if version == "v4" else oss2.Auth(ak, sk)
    return oss2.Bucket(auth, server.endpoint, bucket, region=server.region)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss2_sign_url_get_head_put(server: RunningServer, bucket: str, version: str) -> None:
    client = oss2_bucket(server, bucket, version)
    put_url = client.sign_url("PUT", "shared/put.txt", 60, headers={"Content-Type": "text/x"})
    stored = fetch(put_url, "PUT", BODY, {"Content-Type": "text/x"})
    assert stored.status == 200, stored.text
    assert client.get_object("shared/put.txt").read() == BODY
    get_url = client.sign_url("GET", "shared/put.txt", 60)
    got = fetch(get_url)
    assert (got.status, got.body, got.headers["content-type"]) == (200, BODY, "text/x")
    head = fetch(client.sign_url("HEAD", "shared/put.txt", 60), "HEAD")
    assert (head.status, head.headers["content-length"]) == (200, str(len(BODY)))
    # the signed Content-Type is part of the signature
    wrong_type = fetch(put_url, "PUT", SWAPPED, {"Content-Type": "text/html"})
    assert error_code(wrong_type) == (403, "SignatureDoesNotMatch")
    # the method is signed too
    assert error_code(fetch(get_url, "DELETE")) == (403, "SignatureDoesNotMatch")
    assert client.get_object("shared/put.txt").read() == BODY


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss2_sign_url_multipart(server: RunningServer, bucket: str, version: str) -> None:
    client = oss2_bucket(server, bucket, version)
    initiated = fetch(client.sign_url("POST", "mp.bin", 60, params={"uploads": ""}), "POST",
                      b"")
    assert initiated.status == 200, initiated.text
    upload_id = xml_field(initiated, "UploadId")
    part = b"p" * 1000
    uploaded = fetch(client.sign_url("PUT", "mp.bin", 60, params={
        "uploadId": upload_id, "partNumber": "1"}), "PUT", part)
    assert uploaded.status == 200, uploaded.text
    etag = uploaded.headers["etag"]
    listed = fetch(client.sign_url("GET", "mp.bin", 60, params={"uploadId": upload_id}))
    assert xml_field(listed, "PartNumber") == "1"
    document = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag>"
                "</Part></CompleteMultipartUpload>").encode()
    completed = fetch(client.sign_url("POST", "mp.bin", 60, params={"uploadId": upload_id}),
                      "POST", document)
    assert completed.status == 200, completed.text
    assert client.get_object("mp.bin").read() == part
    second = xml_field(fetch(client.sign_url("POST", "mp2.bin", 60, params={"uploads": ""}),
                             "POST", b""), "UploadId")
    aborted = fetch(client.sign_url("DELETE", "mp2.bin", 60, params={"uploadId": second}),
                    "DELETE")
    assert aborted.status == 204


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss_v2_presign(server: RunningServer, bucket: str, version: str) -> None:
    import alibabacloud_oss_v2 as oss

    client = oss_v2_client(server.endpoint, server.access_key_id, server.access_key_secret,
                           version, server.region)
    put = client.presign(oss.PutObjectRequest(bucket=bucket, key="v2/a b+c.txt"))
    assert fetch(put.url, "PUT", BODY, dict(put.signed_headers or {})).status == 200
    got = fetch(client.presign(oss.GetObjectRequest(bucket=bucket, key="v2/a b+c.txt")).url)
    assert (got.status, got.body) == (200, BODY)
    head = client.presign(oss.HeadObjectRequest(bucket=bucket, key="v2/a b+c.txt"))
    assert fetch(head.url, "HEAD").status == 200
    init = client.presign(oss.InitiateMultipartUploadRequest(bucket=bucket, key="v2/mp"))
    assert xml_field(fetch(init.url, "POST", b""), "UploadId")


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_expired_urls_are_refused(server: RunningServer, bucket: str, version: str) -> None:
    client = oss2_bucket(server, bucket, version)
    client.put_object("old.txt", BODY)
    url = client.sign_url("GET", "old.txt", 1)
    assert fetch(url).status == 200
    time.sleep(2.2)
    reply = fetch(url)
    assert error_code(reply) == (403, "AccessDenied")
    assert xml_field(reply, "Message") == "Request has expired."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", xml_field(reply, "Expires"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        xml_field(reply, "ServerTime"))
    assert xml_field(reply, "Expires") < xml_field(reply, "ServerTime")


def _tamper(url: str, old: str, new: str) -> str:
    assert old in url, (old, url)
    return url.replace(old, new, 1)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_altered_urls_do_not_verify(server: RunningServer, bucket: str, version: str) -> None:
    client = oss2_bucket(server, bucket, version)
    client.put_object("a.txt", BODY)
    client.put_object("b.txt", SWAPPED)
    url = client.sign_url("GET", "a.txt", 60)
    assert fetch(url).body == BODY
    altered = [_tamper(url, "/a.txt", "/b.txt"), url + "&acl",
               url + "&response-content-type=text%2Fhtml"]
    if version == "v1":
        expires = re.search(r"Expires=(\d+)", url)
        assert expires is not None
        altered.append(_tamper(url, expires.group(0), f"Expires={int(expires.group(1)) + 60}"))
        sig = re.search(r"Signature=([^&]+)", url)
        assert sig is not None
        altered.append(_tamper(url, sig.group(0), "Signature=" + quote(
            base64.b64encode(b"x" * 20).decode(), safe="")))
    else:
        altered.append(_tamper(url, "x-oss-expires=60", "x-oss-expires=120"))
        altered.append(re.sub(r"x-oss-signature=[0-9a-f]+", "x-oss-signature=" + "0" * 64, url))
    for changed in altered:
        reply = fetch(changed)
        assert error_code(reply)[0] == 403, (changed, reply.text)
        assert error_code(reply)[1] in ("SignatureDoesNotMatch", "AccessDenied"), reply.text
        assert SWAPPED not in reply.body
    assert error_code(fetch(altered[0])) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_query_signatures_are_never_anonymous(server: RunningServer, bucket: str,
                                              version: str) -> None:
    """On a public-read bucket the object reads without any signature, but a URL that carries
    a forged, expired or incomplete signature is refused."""
    client = oss2_bucket(server, bucket, version)
    client.put_object("public.txt", BODY)
    client.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    plain = f"{server.endpoint}/{bucket}/public.txt"
    assert fetch(plain).body == BODY
    url = client.sign_url("GET", "public.txt", 60)
    forged = re.sub(r"(Signature|x-oss-signature)=[^&]+", r"\1=AAAA", url)
    assert error_code(fetch(forged)) == (403, "SignatureDoesNotMatch")
    if version == "v1":
        incomplete = plain + "?OSSAccessKeyId=" + server.access_key_id
        unknown = _tamper(url, f"OSSAccessKeyId={server.access_key_id}", "OSSAccessKeyId=LTAIx")
        past = re.sub(r"Expires=\d+", "Expires=1000", url)
    else:
        incomplete = plain + "?x-oss-signature-version=OSS4-HMAC-SHA256"
        unknown = _tamper(url, f"x-oss-credential={server.access_key_id}", "x-oss-credential=LTAIx")
        day = datetime.now(timezone.utc) - timedelta(days=2)
        past = re.sub(r"x-oss-date=\d{8}T\d{6}Z", f"x-oss-date={dates.v4_timestamp(day)}", url)
    assert error_code(fetch(incomplete)) == (403, "AccessDenied")
    assert error_code(fetch(unknown)) == (403, "InvalidAccessKeyId")
    assert error_code(fetch(past)) == (403, "AccessDenied")
    both = send(server.endpoint, "GET", url.split(server.endpoint, 1)[1].split("?")[0],
                query=url.split("?", 1)[1],
                headers=signed_headers(server, "GET", bucket, "public.txt", {}, "v1"))
    assert error_code(both) == (400, "InvalidArgument")


def test_v4_expiry_bounds(server: RunningServer, bucket: str) -> None:
    client = oss2_bucket(server, bucket, "v4")
    client.put_object("b.txt", BODY)
    too_long = client.sign_url("GET", "b.txt", 7 * 24 * 3600 + 1)
    assert error_code(fetch(too_long)) == (400, "InvalidArgument")
    huge = re.sub(r"x-oss-expires=\d+", "x-oss-expires=" + "9" * 400,
                  client.sign_url("GET", "b.txt", 60))
    assert error_code(fetch(huge)) == (403, "AccessDenied")
    assert fetch(client.sign_url("GET", "b.txt", 7 * 24 * 3600)).body == BODY


def test_v2_query_signatures_are_refused(server: RunningServer, bucket: str) -> None:
    auth = oss2.AuthV2(server.access_key_id, server.access_key_secret)
    url = oss2.Bucket(auth, server.endpoint, bucket).sign_url("GET", "x.txt", 60)
    assert error_code(fetch(url)) == (400, "InvalidArgument")


# --- through a bound domain ------------------------------------------------------------------


@pytest.fixture
def loopback_domains(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Names that resolve to 127.0.0.1 for this test (no traffic leaves loopback)."""
    names: set[str] = set()
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host in names else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return names


def _bind(client: oss2.Bucket, dns: DnsServer, domain: str) -> None:
    dns.txt(f"_dnsauth.{domain}", client.create_bucket_cname_token(domain).token)
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_presigned_urls_through_a_bound_domain(server: RunningServer, dns: DnsServer,
                                               bucket: str, bucket_name: str, domain: str,
                                               loopback_domains: set[str],
                                               version: str) -> None:
    owner = oss2_bucket(server, bucket, version)
    _bind(owner, dns, domain)
    other_bucket = bucket_name + "-other"
    other = oss2_bucket(server, other_bucket, version)
    other.create_bucket()
    other_domain = "other-" + domain
    _bind(other, dns, other_domain)
    owner.put_object("site.txt", BODY)
    other.put_object("site.txt", SWAPPED)
    loopback_domains.update({domain, other_domain})
    ak, sk = server.access_key_id, server.access_key_secret
    auth = oss2.AuthV4(ak, sk) if version == "v4" else oss2.Auth(ak, sk)
    via_domain = oss2.Bucket(auth, f"http://{domain}:{server.port}", bucket, is_cname=True,
                             region=server.region)
    url = via_domain.sign_url("GET", "site.txt", 60)
    assert url.startswith(f"http://{domain}:{server.port}/site.txt?")
    assert fetch(url).body == BODY
    put = via_domain.sign_url("PUT", "up.txt", 60)
    assert fetch(put, "PUT", SWAPPED).status == 200
    assert owner.get_object("up.txt").read() == SWAPPED
    # the same URL sent to another bound domain names another bucket: it does not verify
    moved = url.replace(f"//{domain}:", f"//{other_domain}:")
    assert error_code(fetch(moved)) == (403, "SignatureDoesNotMatch")
    owner.delete_bucket_cname(domain)
    other.delete_bucket_cname(other_domain)
