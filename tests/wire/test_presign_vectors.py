"""Presigned-URL vectors: oss2 ``Bucket.sign_url`` (V1, ``AuthV4``) and alibabacloud-oss-v2
``presign`` (V1, V4), clocks frozen, against ``wire.signing``'s presign functions.

Each SDK URL is decoded into (method, bucket, key, query); our functions, given the same
inputs, must return the same query, signature byte for byte. The verifier's direction is
checked too: the string-to-sign functions, fed the URL's own query and Expires/x-oss-date,
recompute the SDK's signature. ``OssClient.presign`` must produce the same decoded query.
(The Go SDK's URLs are pinned by tests/cli: goldens and the differential test.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from ossutil.client import Credentials, OssClient
from ossutil.wire import signing

AK, SK, TOKEN = "LTAI5tVectorKey", "vector-secret", "STS.vector/token+="
ENDPOINT = "http://127.0.0.1:9"  # nothing is sent: presigning is local
BUCKET = "vector-bucket"
KEY = "dir/a b+é~.txt"
REGION = "cn-hangzhou"
NOW = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
EXPIRES = 600
V1_AUTH = {"Expires", "OSSAccessKeyId", "Signature", "security-token"}
V4_AUTH = {"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires",
           "x-oss-signature", "x-oss-security-token", "x-oss-additional-headers"}


class _FrozenDatetime(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _FrozenDatetime:  # type: ignore[override]
        moment = NOW if tz is None else NOW.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)

    @classmethod
    def utcnow(cls) -> _FrozenDatetime:  # type: ignore[override]
        return cls.fromtimestamp(NOW.timestamp(), dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture(autouse=True)
def frozen_sdk_clocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import alibabacloud_oss_v2.presigner
    import alibabacloud_oss_v2.signer.v1
    import alibabacloud_oss_v2.signer.v4
    import oss2.auth

    shim = SimpleNamespace(datetime=_FrozenDatetime, timezone=dt.timezone,
                           timedelta=dt.timedelta)
    for module in (alibabacloud_oss_v2.presigner, alibabacloud_oss_v2.signer.v1,
                   alibabacloud_oss_v2.signer.v4):
        monkeypatch.setattr(module, "datetime", shim)
    monkeypatch.setattr(oss2.auth, "time", SimpleNamespace(time=lambda: NOW.timestamp()))
    monkeypatch.setattr(oss2.auth, "datetime", _FrozenDatetime)
    yield


def _decode(url: str) -> tuple[str, str, dict[str, str]]:
    """(bucket, key, query) of a path-style presigned URL."""
    parts = urlsplit(url)
    _, bucket, key = unquote(parts.path).split("/", 2)
    query = parse_qsl(parts.query, keep_blank_values=True)
    assert len(query) == len(dict(query))
    return bucket, key, dict(query)


def _user_params(query: dict[str, str], auth: set[str]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in query.items() if name not in auth]


def _oss2_bucket(version: str, token: str | None = None):  # type: ignore[no-untyped-def]
    import oss2

    if version == "v4":
        auth = (oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(AK, SK, token))
                if token else oss2.AuthV4(AK, SK))
        return oss2.Bucket(auth, ENDPOINT, BUCKET, region=REGION)
    auth = oss2.StsAuth(AK, SK, token) if token else oss2.Auth(AK, SK)
    return oss2.Bucket(auth, ENDPOINT, BUCKET)


def _v2_client(version: str, token: str | None = None):  # type: ignore[no-untyped-def]
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK, token)
    cfg.region = REGION
    cfg.endpoint = ENDPOINT
    cfg.signature_version = version
    cfg.use_path_style = True
    return oss.Client(cfg)


def _ours(version: str, token: str | None = None) -> OssClient:
    return OssClient(ENDPOINT, Credentials(AK, SK, token), region=REGION, sign_version=version,
                     clock=lambda: NOW)  # type: ignore[arg-type]


# --- V1 ------------------------------------------------------------------------------------

V1_OSS2_CASES = {
    "get": ("GET", {}, {}),
    "get_subresources": ("GET", {}, {"versionId": "v 1/+", "response-content-type": "text/plain",
                                     "x-oss-process": "image/resize,w_100", "plain": "x y"}),
    "put_signed_headers": ("PUT", {"Content-Type": "text/plain",
                                   "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
                                   "x-oss-meta-owner": "me"}, {}),
    "head": ("HEAD", {}, {"versionId": "v1"}),
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["ak", "sts"])
@pytest.mark.parametrize("name", V1_OSS2_CASES)
def test_v1_matches_oss2_sign_url(name: str, token: str | None) -> None:
    method, headers, params = V1_OSS2_CASES[name]
    url = _oss2_bucket("v1", token).sign_url(method, KEY, EXPIRES, headers=dict(headers),
                                              params=dict(params))
    bucket, key, query = _decode(url)
    assert (bucket, key) == (BUCKET, KEY)
    expires = str(int(NOW.timestamp()) + EXPIRES)
    assert query["Expires"] == expires
    lowered = {k.lower(): v for k, v in headers.items()}
    request = signing.SigningRequest(method, bucket, key, _user_params(query, V1_AUTH), lowered)
    ours = signing.v1_presign_query(AK, SK, request, expires, security_token=token)
    assert dict(ours) == query
    # the verifier's direction: the URL's whole query and Expires text
    full = signing.SigningRequest(method, bucket, key, list(query.items()), lowered)
    assert signing.v1_signature(SK, signing.v1_presign_string_to_sign(full, expires)) == \
        query["Signature"]
    # the client API, same inputs
    client_url = _ours("v1", token).presign(method, BUCKET, KEY, EXPIRES,
                                            query=list(params.items()),
                                            headers=list(headers.items()))
    assert _decode(client_url) == (bucket, key, query)


@pytest.mark.parametrize("token", [None, TOKEN], ids=["ak", "sts"])
def test_v1_matches_oss_v2_presign(token: str | None) -> None:
    import alibabacloud_oss_v2 as oss

    result = _v2_client("v1", token).presign(
        oss.GetObjectRequest(bucket=BUCKET, key=KEY, version_id="v 1",
                             response_content_type="text/plain"),
        expiration=NOW + dt.timedelta(seconds=EXPIRES))
    bucket, key, query = _decode(result.url)
    expires = str(int(NOW.timestamp()) + EXPIRES)
    request = signing.SigningRequest("GET", bucket, key, _user_params(query, V1_AUTH), {})
    ours = signing.v1_presign_query(AK, SK, request, expires, security_token=token,
                                    subresources=signing.SUBRESOURCES_V2_BASE)
    assert dict(ours) == query


# --- V4 ------------------------------------------------------------------------------------

V4_OSS2_CASES = {
    "get": ("GET", {}, {}, ()),
    "get_params": ("GET", {}, {"versionId": "v 1/+", "response-content-type": "text/plain",
                               "x-oss-process": "image/resize,w_100", "bare": ""}, ()),
    "put_signed_headers": ("PUT", {"Content-Type": "text/plain", "x-oss-meta-owner": "me"}, {},
                           ()),
    "put_additional_headers": ("PUT", {"Content-Disposition": "attachment", "x-oss-meta-a": "1"},
                               {}, ("content-disposition",)),
    "multipart_initiate": ("POST", {}, {"uploads": ""}, ()),
    "multipart_upload_part": ("PUT", {}, {"partNumber": "1", "uploadId": "0004B9894A22E5B1"}, ()),
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["ak", "sts"])
@pytest.mark.parametrize("name", V4_OSS2_CASES)
def test_v4_matches_oss2_authv4_sign_url(name: str, token: str | None) -> None:
    method, headers, params, additional = V4_OSS2_CASES[name]
    url = _oss2_bucket("v4", token).sign_url(method, KEY, EXPIRES, headers=dict(headers),
                                              params=dict(params),
                                              additional_headers=list(additional) or None)
    bucket, key, query = _decode(url)
    timestamp = NOW.strftime("%Y%m%dT%H%M%SZ")
    assert query["x-oss-date"] == timestamp
    lowered = {k.lower(): v for k, v in headers.items()}
    request = signing.SigningRequest(method, bucket, key, _user_params(query, V4_AUTH), lowered)
    ours = signing.v4_presign_query(AK, SK, request, region=REGION, timestamp=timestamp,
                                    expires=EXPIRES, additional=additional,
                                    security_token=token)
    assert dict(ours) == query
    # the verifier's direction: the URL's query (x-oss-signature is skipped by the function)
    full = signing.SigningRequest(method, bucket, key, list(query.items()), lowered)
    string_to_sign = signing.v4_presign_string_to_sign(
        full, timestamp=timestamp, scope=signing.v4_scope(timestamp[:8], REGION),
        additional=additional)
    key_bytes = signing.v4_signing_key(SK, timestamp[:8], REGION)
    assert signing.v4_signature(key_bytes, string_to_sign) == query["x-oss-signature"]
    client_url = _ours("v4", token).presign(method, BUCKET, KEY, EXPIRES,
                                            query=list(params.items()),
                                            headers=list(headers.items()),
                                            additional_headers=additional)
    assert _decode(client_url) == (bucket, key, query)


@pytest.mark.parametrize("token", [None, TOKEN], ids=["ak", "sts"])
@pytest.mark.parametrize("kind", ["get", "put", "head", "initiate", "upload_part"])
def test_v4_matches_oss_v2_presign(kind: str, token: str | None) -> None:
    import alibabacloud_oss_v2 as oss

    requests = {
        "get": oss.GetObjectRequest(bucket=BUCKET, key=KEY, version_id="v 1",
                                    response_content_type="text/plain"),
        "put": oss.PutObjectRequest(bucket=BUCKET, key=KEY, content_type="text/plain",
                                    metadata={"owner": "me"}),
        "head": oss.HeadObjectRequest(bucket=BUCKET, key=KEY),
        "initiate": oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=KEY),
        "upload_part": oss.UploadPartRequest(bucket=BUCKET, key=KEY, part_number=3,
                                             upload_id="0004B9894A22E5B1"),
    }
    result = _v2_client("v4", token).presign(requests[kind],
                                             expiration=NOW + dt.timedelta(seconds=EXPIRES))
    bucket, key, query = _decode(result.url)
    timestamp = NOW.strftime("%Y%m%dT%H%M%SZ")
    headers = {k.lower(): v for k, v in result.signed_headers.items()}
    request = signing.SigningRequest(result.method, bucket, key, _user_params(query, V4_AUTH),
                                     headers)
    ours = signing.v4_presign_query(AK, SK, request, region=REGION, timestamp=timestamp,
                                    expires=EXPIRES, security_token=token)
    assert dict(ours) == query


def test_v4_presign_canonical_request_layout() -> None:
    """Spelled out once: the query without x-oss-signature, UNSIGNED-PAYLOAD last."""
    request = signing.SigningRequest("GET", "b", "a b/c", [
        ("x-oss-signature", "ignored"), ("x-oss-date", "20250304T050607Z"), ("k", "v w")], {})
    assert signing.v4_presign_canonical_request(request) == (
        "GET\n/b/a%20b/c\nk=v%20w&x-oss-date=20250304T050607Z\n\n\nUNSIGNED-PAYLOAD")


def test_v1_presign_string_to_sign_layout() -> None:
    request = signing.SigningRequest("get", "b", "a b", [("versionId", "1"), ("Expires", "9"),
                                                         ("plain", "x")],
                                     {"content-type": "text/plain", "x-oss-meta-a": "1"})
    assert signing.v1_presign_string_to_sign(request, "1735787105") == (
        "GET\n\ntext/plain\n1735787105\nx-oss-meta-a:1\n/b/a b?versionId=1")


def test_client_presign_wraps_expiry_as_go_int64() -> None:
    url = _ours("v1").presign("GET", BUCKET, "k", 2**63 - 1)
    assert _decode(url)[2]["Expires"] == str(int(NOW.timestamp()) + 2**63 - 1 - 2**64)
