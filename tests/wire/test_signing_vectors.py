"""Every request captured from the real SDKs re-signs to the SDK's own signature, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from ossutil.wire import signing

VECTORS = Path(__file__).parent / "vectors"
FILES = sorted(VECTORS.glob("*.json"))


def _request(vector: dict) -> signing.SigningRequest:
    req = vector["request"]
    headers = {name.lower(): value for name, value in req["headers"]}
    if req["path"] == "/":
        bucket = headers["host"].split(".", 1)[0]
        key = ""
    else:
        bucket, _, key = req["path"].lstrip("/").partition("/")
    query = parse_qsl(req["query"], keep_blank_values=True)
    return signing.SigningRequest(req["method"], bucket, key, query, headers)


def test_vectors_are_present() -> None:
    assert len(FILES) == 50


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_signature_matches_sdk(path: Path) -> None:
    vector = json.loads(path.read_text())
    check = vector["signature_check"]
    request = _request(vector)
    authorization = dict((n.lower(), v) for n, v in vector["request"]["headers"])["authorization"]
    ak, secret = vector["inputs"]["access_key_id"], vector["inputs"]["access_key_secret"]
    if vector["signature_version"] == "v1":
        assert signing.v1_string_to_sign(request) == check["string_to_sign"]
        assert signing.v1_signature(secret, check["string_to_sign"]) == check["signature"]
        assert signing.v1_authorization(ak, secret, request) == authorization
        assert signing.parse_v1_authorization(authorization) == (ak, check["signature"])
    else:
        parsed = signing.parse_v4_authorization(authorization)
        assert parsed.access_key_id == ak
        assert parsed.scope == check["credential_scope"]
        canonical = signing.v4_canonical_request(request, parsed.additional_headers)
        assert canonical == check["canonical_request"]
        sts = signing.v4_string_to_sign(signing.v4_timestamp_of(request.headers), parsed.scope,
                                        canonical)
        assert sts == check["string_to_sign"]
        key = signing.v4_signing_key(secret, parsed.date, parsed.region)
        assert key.hex() == check["signing_key_hex"]
        assert signing.v4_signature(key, sts) == check["signature"]
        built = signing.v4_authorization(ak, secret, request, region=parsed.region,
                                         date=parsed.date)
        assert signing.parse_v4_authorization(built).signature == check["signature"]


def test_v4_parse_rejects_empty_additional_headers() -> None:
    from ossutil.wire.errors import OssError

    with pytest.raises(OssError) as info:
        signing.parse_v4_authorization(
            "OSS4-HMAC-SHA256 Credential=ak/20250102/cn-hangzhou/oss/aliyun_v4_request,"
            "AdditionalHeaders=,Signature=ab")
    assert (info.value.code, info.value.ec) == ("InvalidArgument", "0002-00000209")


@pytest.mark.parametrize("value", [
    "", "OSS", "OSS ak", "OSS :sig", "Bearer x",
    "OSS4-HMAC-SHA256 Signature=ab",
    "OSS4-HMAC-SHA256 Credential=ak/2025/cn/oss/aliyun_v4_request,Signature=ab",
    "OSS4-HMAC-SHA256 Credential=ak/20250102/cn/oss/other,Signature=ab",
])
def test_malformed_authorization_is_invalid_argument(value: str) -> None:
    from ossutil.wire.errors import OssError

    with pytest.raises(OssError) as info:
        if value.startswith("OSS4"):
            signing.parse_v4_authorization(value)
        else:
            signing.parse_v1_authorization(value)
    assert info.value.code == "InvalidArgument" and info.value.status == 400
