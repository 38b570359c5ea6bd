"""V2 (OSS2) header signatures: ``wire.signing.v2_*`` against oss2's ``AuthV2``.

The vectors below were computed by oss2 2.x ``AuthV2._sign_request`` (its ``http_date``
frozen at ``DATE``); the test recomputes them with oss2 too, so a vector that drifts from the
SDK fails. Requests with and without an object key: the resource is ``/bucket/key`` escaped
whole (``%2Fvector-bucket%2Fdir%2Fa%20b%2B%C3%A9~.txt``), every query parameter signed.
``OssClient(sign_version="v2")`` must put the same ``Authorization`` on the wire.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ossutil.client import Credentials, OssClient
from ossutil.wire import signing

AK, SK = "LTAI5tVectorKey", "vector-secret"
BUCKET = "vector-bucket"
KEY = "dir/a b+é~.txt"
DATE = "Tue, 04 Mar 2025 05:06:07 GMT"
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)

# name: (method, bucket, key, query, headers, string to sign, signature)
VECTORS: dict[str, tuple[str, str, str, dict[str, str], dict[str, str], str, str]] = {
    "bucket_subresource": (
        "GET", BUCKET, "", {"cname": ""}, {},
        f"GET\n\n\n{DATE}\n\n%2Fvector-bucket%2F?cname",
        "c2iRoFgo/A4/R3IhLjYvxZnagqaIZDdrhIlPzp0X7H8=",
    ),
    "object_put_signed_headers": (
        "PUT", BUCKET, KEY, {},
        {"Content-Type": "text/plain", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
         "x-oss-meta-owner": "me"},
        f"PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain\n{DATE}\nx-oss-meta-owner:me\n\n"
        "%2Fvector-bucket%2Fdir%2Fa%20b%2B%C3%A9~.txt",
        "G8SSa1DDWorGv0hd6Rt6MMURnfJpraJFWDDa9AZ+sUw=",
    ),
    "object_every_parameter_signed": (
        "GET", BUCKET, KEY,
        {"versionId": "v 1/+", "x-oss-process": "image/resize,w_100", "acl": ""}, {},
        f"GET\n\n\n{DATE}\n\n%2Fvector-bucket%2Fdir%2Fa%20b%2B%C3%A9~.txt"
        "?acl&versionId=v%201%2F%2B&x-oss-process=image%2Fresize%2Cw_100",
        "nTx+KkQ1i6hGPKCc265Gm1BNKkQaxN6VKAKx12oUgF4=",
    ),
    "service": (
        "GET", "", "", {}, {},
        f"GET\n\n\n{DATE}\n\n%2F",
        "jWODqHZrRfOxaueExNpy6H/LxwHbAqpK4binra179Cs=",
    ),
}


def _request(name: str) -> signing.SigningRequest:
    method, bucket, key, query, headers, _, _ = VECTORS[name]
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["date"] = DATE
    return signing.SigningRequest(method, bucket, key, list(query.items()), lowered)


@pytest.mark.parametrize("name", VECTORS)
def test_v2_string_to_sign_and_authorization_match_the_vector(name: str) -> None:
    *_, string_to_sign, signature = VECTORS[name]
    request = _request(name)
    assert signing.v2_string_to_sign(request) == string_to_sign
    assert signing.v2_signature(SK, string_to_sign) == signature
    assert signing.v2_authorization(AK, SK, request) == \
        f"OSS2 AccessKeyId:{AK},Signature:{signature}"


@pytest.mark.parametrize("name", VECTORS)
def test_vectors_are_what_oss2_auth_v2_signs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import oss2
    import oss2.auth
    import oss2.http

    monkeypatch.setattr(oss2.auth.utils, "http_date", lambda *args: DATE)
    method, bucket, key, query, headers, _, signature = VECTORS[name]
    request = oss2.http.Request(method, "http://127.0.0.1:9/", params=dict(query),
                                headers=dict(headers))
    oss2.AuthV2(AK, SK)._sign_request(request, bucket, key)
    assert request.headers["authorization"] == f"OSS2 AccessKeyId:{AK},Signature:{signature}"


@pytest.mark.parametrize("style", ["python", "go"])
@pytest.mark.parametrize("name", ["bucket_subresource", "object_every_parameter_signed"])
def test_client_signs_v2_with_the_object_key(name: str, style: str) -> None:
    method, bucket, key, query, _, _, signature = VECTORS[name]
    client = OssClient("http://127.0.0.1:9", Credentials(AK, SK), sign_version="v2",
                       wire_style="go" if style == "go" else "python", clock=lambda: NOW)
    request = client.build_request(method, bucket, [(k, v or None) for k, v in query.items()],
                                   key=key)
    headers = dict(request.headers)
    assert headers["Date"] == DATE
    assert headers["Authorization"] == f"OSS2 AccessKeyId:{AK},Signature:{signature}"
