"""The OSS error catalog and ``OssError`` (reference §10)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossutil.wire.error_xml import encode_error, error_from_response
from ossutil.wire.errors import CATALOG, MALFORMED_XML_MESSAGE, SIGNATURE_MESSAGE, OssError

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ROW_IDS = sorted(CATALOG)


# --- the catalog --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ROW_IDS)
def test_catalog_row_is_well_formed(code: str) -> None:
    spec = CATALOG[code]
    assert re.fullmatch(r"[A-Z][A-Za-z]+", code)
    assert 100 <= spec.status <= 599
    assert len(str(spec.status)) == 3
    assert spec.message and spec.message == spec.message.strip()
    assert spec.ec == "" or re.fullmatch(r"\d{4}-\d{8}", spec.ec)


# Rows the reference marks [C] (§3, §4, §5, §10.2): code -> (status, EC, message or None).
PUBLISHED = {
    "NeedVerifyDomainOwnership": (
        403, "0018-00000115", "Please verify domain ownership by CreateCnameToken and try again."),
    "CnameAlreadyExists": (409, "", None),
    "CnameDenied": (403, "", None),
    "CertificateInvalidCasId": (
        400, "0018-00000204",
        "The CAS ID is invalid: not exist or not belong to the owner of the bucket"),
    "TooManyCnameToken": (
        400, "", "You have attempted to create more cname token than allowed."),
    "CnameTokenNotFound": (404, "0018-00000301", "Cname token not found."),
    "NoSuchCname": (404, "", None),
    "InvalidArgument": (400, "", None),
    "MalformedXML": (400, "", MALFORMED_XML_MESSAGE),
    "NoSuchBucket": (404, "0015-00000101", "The specified bucket does not exist."),
    "AccessDenied": (403, "0003-00000201", None),
    "InvalidAccessKeyId": (403, "", None),
    "SignatureDoesNotMatch": (403, "0002-00000040", SIGNATURE_MESSAGE),
    "RequestTimeTooSkewed": (403, "0002-00000504", None),
    "NoSuchCnameInRecord": (404, "", None),
}


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_catalog_matches_published_rows(code: str) -> None:
    status, ec, message = PUBLISHED[code]
    spec = CATALOG[code]
    assert (spec.status, spec.ec) == (status, ec)
    if message is not None:
        assert spec.message == message


def test_published_message_texts() -> None:
    assert MALFORMED_XML_MESSAGE == ("The XML you provided was not well-formed or did not "
                                     "validate against our published schema.")
    assert SIGNATURE_MESSAGE == ("The request signature we calculated does not match the "
                                 "signature you provided. Check your key and signing method.")


# --- from_code ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ROW_IDS)
def test_from_code_takes_the_row(code: str) -> None:
    error = OssError.from_code(code)
    spec = CATALOG[code]
    assert isinstance(error, Exception)
    assert (error.code, error.status, error.message, error.ec) == (
        code, spec.status, spec.message, spec.ec)
    assert (error.request_id, error.host_id, error.details, error.reason) == ("", "", {}, "")
    assert code in str(error) and spec.message in str(error)


def test_from_code_overrides_and_details() -> None:
    error = OssError.from_code("InvalidArgument", "Entire hostname must be longer than 3 ASCII "
                               "characters.", ec="0017-00000249", Cname="w.c", Bucket="b")
    assert error.status == 400
    assert error.message == "Entire hostname must be longer than 3 ASCII characters."
    assert error.ec == "0017-00000249"
    assert error.details == {"Cname": "w.c", "Bucket": "b"}
    assert list(error.details) == ["Cname", "Bucket"]


def test_from_code_can_clear_the_ec() -> None:
    assert OssError.from_code("NoSuchBucket", ec="").ec == ""


@pytest.mark.parametrize("code", ["NoSuchThing", "", "malformedxml", "CnameIsRisk "])
def test_from_code_with_unknown_code_raises_key_error(code: str) -> None:
    with pytest.raises(KeyError):
        OssError.from_code(code)


def test_constructor_accepts_codes_outside_the_catalog() -> None:
    error = OssError("CnameIsRisk")
    assert (error.status, error.message, error.ec) == (500, "", "")
    error = OssError("CnameIsRisk", "risky", status=403, ec="0018-00000999")
    assert (error.status, error.message, error.ec) == (403, "risky", "0018-00000999")


def test_repr_names_code_and_status() -> None:
    assert repr(OssError.from_code("NoSuchBucket")) == (
        "OssError(code='NoSuchBucket', status=404, "
        "message='The specified bucket does not exist.')")


# --- from_response ------------------------------------------------------------------------

BODY = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>CnameTokenNotFound</Code>
  <Message>Cname token not found.</Message>
  <RequestId>BODYBODYBODYBODYBODYBODY</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Bucket>examplebucket</Bucket>
  <Cname>www.example.com</Cname>
  <EC>0018-00000301</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0018-00000301</RecommendDoc>
</Error>
"""
HEADER_ID = "6916EAF134D7B3313685FEE3"


def test_from_response_reads_the_body() -> None:
    error = error_from_response(404, {"x-oss-request-id": HEADER_ID}, BODY)
    assert error.status == 404
    assert error.code == "CnameTokenNotFound"
    assert error.message == "Cname token not found."
    assert error.host_id == "examplebucket.oss-cn-hangzhou.aliyuncs.com"
    assert error.ec == "0018-00000301"
    assert error.details == {
        "Bucket": "examplebucket",
        "Cname": "www.example.com",
        "RecommendDoc": "https://api.aliyun.com/troubleshoot?q=0018-00000301",
    }


@pytest.mark.parametrize("name", ["x-oss-request-id", "X-Oss-Request-Id", "X-OSS-REQUEST-ID"])
def test_from_response_request_id_comes_from_the_header_not_the_body(name: str) -> None:
    assert error_from_response(404, {name: HEADER_ID}, BODY).request_id == HEADER_ID


def test_from_response_without_the_header_has_no_request_id() -> None:
    # oss2 reads it only from the header (§2.5); the body's RequestId is not used.
    assert error_from_response(404, {}, BODY).request_id == ""


def test_from_response_ec_from_body_wins_over_header() -> None:
    error = error_from_response(404, {"x-oss-ec": "0000-00000000"}, BODY)
    assert error.ec == "0018-00000301"


@pytest.mark.parametrize("name", ["x-oss-ec", "X-Oss-Ec"])
def test_from_response_ec_falls_back_to_the_header(name: str) -> None:
    body = BODY.replace(b"  <EC>0018-00000301</EC>\n", b"")
    assert error_from_response(404, {name: "0018-00000301"}, body).ec == "0018-00000301"
    empty_ec = BODY.replace(b"<EC>0018-00000301</EC>", b"<EC></EC>")
    assert error_from_response(404, {name: "0018-00000301"}, empty_ec).ec == "0018-00000301"


def test_from_response_status_comes_from_the_reply_not_the_catalog() -> None:
    body = b"<Error><Code>MalformedXML</Code><Message>m</Message></Error>"
    error = error_from_response(403, {}, body)
    assert (error.status, error.code, error.message) == (403, "MalformedXML", "m")


@pytest.mark.parametrize("body", [
    b"",
    b"not xml at all",
    b"<html><body>502 Bad Gateway</body></html>",
    b"<Error><Code>Unclosed",
    b"\xff\xfe\x00<",
    b'<!DOCTYPE Error [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error><Code>&x;</Code></Error>',
    b"<ListCnameResult><Bucket>b</Bucket><Owner>o</Owner></ListCnameResult>",
], ids=["empty", "text", "html", "truncated", "binary", "xxe", "wrong-root"])
def test_from_response_tolerates_bodies_that_are_no_error_document(body: bytes) -> None:
    error = error_from_response(502, {"x-oss-request-id": HEADER_ID,
                                         "x-oss-ec": "0001-00000001"}, body)
    assert (error.status, error.request_id, error.ec) == (502, HEADER_ID, "0001-00000001")
    assert (error.code, error.message, error.host_id, error.details) == ("", "", "", {})


def test_from_response_skips_nested_children() -> None:
    body = (b"<Error><Code>AccessDenied</Code><Message>Access denied by bucket policy.</Message>"
            b"<AccessDeniedDetail><AuthAction>oss:PutCname</AuthAction></AccessDeniedDetail>"
            b"<EC>0003-00000201</EC></Error>")
    error = error_from_response(403, {}, body)
    assert (error.code, error.ec) == ("AccessDenied", "0003-00000201")
    assert error.details == {}


@PROPERTY
@given(st.integers(100, 599), st.dictionaries(st.sampled_from(
    ["x-oss-request-id", "X-Oss-Ec", "Content-Type", "x-oss-err"]), st.text(max_size=30)),
    st.binary(max_size=200))
def test_from_response_never_raises(status: int, headers: dict[str, str], body: bytes) -> None:
    error = error_from_response(status, headers, body)
    assert error.status == status
    assert error.request_id == {k.lower(): v for k, v in headers.items()}.get(
        "x-oss-request-id", "")


code_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), max_size=20)


@PROPERTY
@given(
    code=st.sampled_from(ROW_IDS) | code_text,
    message=code_text,
    ec=code_text,
    request_id=st.from_regex(r"\A[0-9A-F]{24}\Z"),
    host_id=code_text,
    details=st.dictionaries(st.sampled_from(["Bucket", "Cname", "CnameType", "StringToSign"]),
                            code_text, max_size=3),
)
def test_encode_error_then_from_response(code: str, message: str, ec: str, request_id: str,
                                         host_id: str, details: dict[str, str]) -> None:
    sent = OssError(code, message, status=403, ec=ec, request_id=request_id, host_id=host_id,
                    details=details)
    body = encode_error(sent)
    got = error_from_response(403, {"x-oss-request-id": request_id, "x-oss-ec": ec}, body)
    assert (got.code, got.message, got.status, got.ec, got.request_id, got.host_id) == (
        code, message, 403, ec, request_id, host_id)
    recommend = {"RecommendDoc": f"https://api.aliyun.com/troubleshoot?q={ec}"} if ec else {}
    assert got.details == {**details, **recommend}
    assert encode_error(got) == body
