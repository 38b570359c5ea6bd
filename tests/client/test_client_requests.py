"""``OssClient`` puts exactly the expected bytes on the wire (loopback recorder).

Go style is checked against the Go SDK captures in ``tests/wire/vectors/go-*.json``: same inputs
and the same ``Date`` give the same request line, headers (order, names, values), body and
``Authorization``. Python style is checked by re-verifying each signature with ``wire.signing``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.client.recorder import Recorder

from ossutil.client import Credentials, OssClient, OssError
from ossutil.client.errors import UnexpectedStatusError
from ossutil.wire import signing
from ossutil.wire.cname_xml import CertificateConfiguration, CnameConfiguration

VECTORS = Path(__file__).parents[1] / "wire" / "vectors"
GO_VECTORS = sorted(VECTORS.glob("go-*.json"))
TOKEN = "be1d49d863dea9ffeff3df7d64557a1c"
TOKEN_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<CnameToken>\n  <Bucket>examplebucket'
             b"</Bucket>\n  <Cname>www.example.com</Cname>\n  <Token>" + TOKEN.encode()
             + b"</Token>\n  <ExpireTime>Sun, 05 Jan 2025 03:04:05 GMT</ExpireTime>\n"
             b"</CnameToken>\n")
FROZEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _call(client: OssClient, case: str) -> None:
    bucket, domain = "examplebucket", "www.example.com"
    if case == "create_cname_token":
        client.create_cname_token_raw(bucket, domain)
    elif case == "get_cname_token":
        client.get_cname_token_raw(bucket, domain)
    elif case == "list_cname":
        client.list_cname_raw(bucket)
    elif case == "delete_cname":
        client.delete_cname(bucket, domain)
    elif case == "put_cname_cert_id":
        client.put_cname(bucket, CnameConfiguration(domain, CertificateConfiguration(
            cert_id="12345678-cn-hangzhou", previous_cert_id="87654321-cn-hangzhou",
            force=True)))
    else:  # pragma: no cover - a new vector needs a line here
        raise AssertionError(case)


@pytest.mark.parametrize("path", GO_VECTORS, ids=[p.stem for p in GO_VECTORS])
def test_go_style_request_equals_the_go_sdk_capture(path: Path) -> None:
    vector = json.loads(path.read_text())
    inputs, expected = vector["inputs"], vector["request"]
    sent_date = dict(expected["headers"])["Date"]
    with Recorder() as rec:
        rec.reply(200, b"", [("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")])
        client = OssClient(rec.endpoint, Credentials(inputs["access_key_id"],
                                                     inputs["access_key_secret"]),
                           region=inputs["region"], sign_version=vector["signature_version"],
                           wire_style="go", clock=lambda: parsedate_to_datetime(sent_date))
        with client:
            _call(client, vector["case"])
        (got,) = rec.requests
    assert got.request_line == expected["request_line"]
    assert got.body.decode() == expected["body"]
    want = [(n, v.replace("{PORT}", str(rec.port))) for n, v in expected["headers"]]
    assert [name for name, _ in got.headers] == [name for name, _ in want]
    for (name, value), (_, wanted) in zip(got.headers, want, strict=True):
        if name != "User-Agent":
            assert value == wanted, name
    assert got.header("User-Agent").startswith("ossutil-py/")
    assert got.header("User-Agent").endswith("/ossutil-v1.7.19")


def _verify(recorded: object, secret: str, bucket: str = "examplebucket") -> None:
    """Recompute the signature of a recorded request with wire.signing."""
    line = recorded.request_line  # type: ignore[attr-defined]
    target = urlsplit(line.split(" ")[1])
    headers = {n.lower(): v for n, v in recorded.headers}  # type: ignore[attr-defined]
    query = parse_qsl(target.query, keep_blank_values=True)
    request = signing.SigningRequest(line.split(" ")[0], bucket, "", query, headers)
    authorization = headers["authorization"]
    if authorization.startswith("OSS4"):
        parsed = signing.parse_v4_authorization(authorization)
        rebuilt = signing.v4_authorization(parsed.access_key_id, secret, request,
                                           region=parsed.region, date=parsed.date)
        assert rebuilt == authorization
    else:
        ak, _ = signing.parse_v1_authorization(authorization)
        assert signing.v1_authorization(ak, secret, request) == authorization


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_python_style_headers_and_signatures(version: str) -> None:
    with Recorder() as rec:
        rec.reply(200, TOKEN_XML, [("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")])
        rec.reply(200, TOKEN_XML)
        rec.reply(200)
        with OssClient(rec.endpoint, Credentials("ak", "sk", "sts"), region="cn-hangzhou",
                       sign_version=version, clock=lambda: FROZEN) as client:
            token = client.create_cname_token("examplebucket", "www.example.com")
            client.get_cname_token("examplebucket", "a b+c&d=e/é.com")
            client.delete_cname("examplebucket", "www.example.com")
    assert token.token == TOKEN
    create, get, delete = rec.requests
    assert create.request_line == "POST /examplebucket/?cname&comp=token HTTP/1.1"
    assert get.request_line == ("GET /examplebucket/?cname=a%20b%2Bc%26d%3De%2F%C3%A9.com"
                                "&comp=token HTTP/1.1")
    assert create.header("Content-Type") == "application/xml"
    assert create.header("Date") == "Thu, 02 Jan 2025 03:04:05 GMT"
    assert create.header("X-Oss-Security-Token") == "sts"
    if version == "v4":
        assert create.header("X-Oss-Date") == "20250102T030405Z"
        assert create.header("X-Oss-Content-Sha256") == "UNSIGNED-PAYLOAD"
    else:
        assert create.header("X-Oss-Date") is None
    for recorded in (create, get, delete):
        _verify(recorded, "sk")


def test_go_style_sniffs_content_type_and_signs_the_date_for_v4() -> None:
    with Recorder() as rec:
        rec.reply(200)
        with OssClient(rec.endpoint, Credentials("ak", "sk"), region="cn-hangzhou",
                       sign_version="v4", wire_style="go", clock=lambda: FROZEN) as client:
            client.put_cname("examplebucket", b'  <?xml version="1.0"?><BucketCnameConfiguration/>')
    (put,) = rec.requests
    assert put.header("Content-Type") == "text/xml; charset=utf-8"
    assert put.header("X-Oss-Date") is None
    assert put.header("Accept-Encoding") == "gzip"
    assert put.headers[-1] == ("Accept-Encoding", "gzip")
    _verify(put, "sk")


@pytest.mark.parametrize(("endpoint", "kwargs", "url"), [
    ("http://127.0.0.1:9000", {}, "http://127.0.0.1:9000/b-1/?cname"),
    ("127.0.0.1:9000/ignored", {}, "http://127.0.0.1:9000/b-1/?cname"),
    ("https://[::1]:9000", {}, "https://[::1]:9000/b-1/?cname"),
    ("http://localhost:9000", {}, "http://localhost:9000/b-1/?cname"),
    ("http://localhost:9000", {"path_style": False}, "http://b-1.localhost:9000/?cname"),
    ("oss-cn-hangzhou.aliyuncs.com", {}, "http://b-1.oss-cn-hangzhou.aliyuncs.com/?cname"),
    ("https://oss.example.net", {"path_style": True}, "https://oss.example.net/b-1/?cname"),
    ("https://static.example.com", {"cname": True}, "https://static.example.com/?cname"),
    ("https://127.0.0.1", {"cname": True}, "https://127.0.0.1/b-1/?cname"),
])
def test_addressing_styles(endpoint: str, kwargs: dict[str, object], url: str) -> None:
    client = OssClient(endpoint, Credentials("ak", "sk"), **kwargs)  # type: ignore[arg-type]
    assert client.url("b-1", [("cname", None)]) == url


def test_error_reply_raises_oss_error_with_the_raw_reply() -> None:
    body = (b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>gone</Message>"
            b"<RequestId>BODY</RequestId><BucketName>b-1</BucketName></Error>")
    with Recorder() as rec:
        rec.reply(404, body, [("x-oss-request-id", "HEADERID"), ("x-oss-ec", "0015-00000101")],
                  reason="Not Found")
        with OssClient(rec.endpoint, Credentials("ak", "sk")) as client:
            with pytest.raises(OssError) as info:
                client.list_cname("b-1")
    error = info.value
    assert (error.code, error.status, error.request_id, error.ec) == (
        "NoSuchBucket", 404, "HEADERID", "0015-00000101")
    assert error.response.status_line == "404 Not Found"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("style", "raises"), [("go", True), ("python", False)])
def test_put_requires_exactly_200_only_in_go_style(style: str, raises: bool) -> None:
    with Recorder() as rec:
        rec.reply(204, reason="No Content")
        with OssClient(rec.endpoint, Credentials("ak", "sk"),
                       wire_style=style) as client:  # type: ignore[arg-type]
            if raises:
                with pytest.raises(UnexpectedStatusError) as info:
                    client.put_cname("b-1", CnameConfiguration("www.example.com"))
                assert str(info.value) == ("oss: status code from service response is "
                                           "204 No Content; was expecting 200 OK")
            else:
                client.put_cname("b-1", CnameConfiguration("www.example.com"))


def test_go_style_follows_redirects() -> None:
    with Recorder() as rec:
        rec.reply(307, headers=[("Location", "/other/?cname")], reason="Temporary Redirect")
        rec.reply(200, b"<ListCnameResult/>")
        with OssClient(rec.endpoint, Credentials("ak", "sk"), wire_style="go") as client:
            assert client.list_cname_raw("b-1").body == b"<ListCnameResult/>"
    assert [r.request_line for r in rec.requests] == ["GET /b-1/?cname HTTP/1.1",
                                                      "GET /other/?cname HTTP/1.1"]


def test_keep_alive_connection_is_reused_and_closed() -> None:
    with Recorder() as rec:
        with OssClient(rec.endpoint, Credentials("ak", "sk")) as client:
            client.list_cname_raw("b-1")
            client.list_cname_raw("b-1")
    assert len(rec.requests) == 2
    assert len(rec._conns) == 1


def test_list_buckets_and_bucket_info_decode() -> None:
    listing = (b"<ListAllMyBucketsResult><Buckets><Bucket><CreationDate>2025-01-02T03:04:05.000Z"
               b"</CreationDate><Location>oss-cn-hangzhou</Location><Name>b-1</Name>"
               b"<StorageClass>IA</StorageClass></Bucket></Buckets></ListAllMyBucketsResult>")
    info = (b"<BucketInfo><Bucket><Name>b-1</Name><Owner><ID>42</ID></Owner>"
            b"<AccessControlList><Grant>private</Grant></AccessControlList></Bucket></BucketInfo>")
    with Recorder() as rec:
        rec.reply(200, listing)
        rec.reply(200, info)
        with OssClient(rec.endpoint, Credentials("ak", "sk")) as client:
            (bucket,) = client.list_buckets()
            details = client.get_bucket_info("b-1")
    assert (bucket.name, bucket.storage_class, bucket.location) == ("b-1", "IA", "oss-cn-hangzhou")
    assert (details.owner_id, details.acl) == ("42", "private")
    assert rec.requests[0].request_line == "GET /?marker&prefix HTTP/1.1"
    assert rec.requests[1].request_line == "GET /b-1/?bucketInfo HTTP/1.1"


def test_create_bucket_sends_acl_and_storage_class_like_ossutil_mb() -> None:
    with Recorder() as rec:
        with OssClient(rec.endpoint, Credentials("ak", "sk"), wire_style="go") as client:
            client.create_bucket("b-1", "public-read", storage_class="IA")
    (put,) = rec.requests
    assert put.request_line == "PUT /b-1/ HTTP/1.1"
    assert put.body == (b"<CreateBucketConfiguration><StorageClass>IA</StorageClass>"
                        b"</CreateBucketConfiguration>")
    assert put.header("X-Oss-Acl") == "public-read"


def test_credentials_repr_hides_the_secret_and_token() -> None:
    text = repr(Credentials("LTAIid", "topsecret", "tok"))
    assert "topsecret" not in text and "tok'" not in text
    assert text == ("Credentials(access_key_id='LTAIid', access_key_secret='****', "
                    "security_token='****')")
    assert Credentials("a", "b") == Credentials("a", "b", None)


def test_v4_needs_a_region_and_bad_versions_are_refused() -> None:
    from ossutil.client.errors import ClientError

    with pytest.raises(ClientError, match="please enter the region"):
        OssClient("http://127.0.0.1", Credentials("a", "b"), sign_version="v4")
    with pytest.raises(ClientError, match="invalid Auth version: v3"):
        OssClient("http://127.0.0.1", Credentials("a", "b"), sign_version="v3")  # type: ignore
