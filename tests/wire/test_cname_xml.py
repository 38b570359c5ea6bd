"""CNAME codecs: round trips, OSS's exact bytes, and leniency on what real clients send.

Reference: ``shared/reference/oss-cname-api.md`` §2.4 (request leniency), §2.5 (response layout),
§3 (CnameToken), §6 (ListCnameResult), §10.1 (Error body).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossutil.wire import xml
from ossutil.wire.cname_xml import (
    CertificateConfiguration,
    CertificateSummary,
    CnameConfiguration,
    CnameInfo,
    CnameToken,
    ListCnameResult,
    decode_cname_configuration,
    decode_cname_token,
    decode_list_cname_result,
    encode_cname_configuration,
    encode_cname_token,
    encode_list_cname_result,
)
from ossutil.wire.error_xml import decode_error, encode_error, error_from_response
from ossutil.wire.errors import OssError

VECTORS = Path(__file__).parent / "vectors"
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------------

# Every character XML 1.0 can carry (§2.2 Char), with markup characters and whitespace made likely.
XML_CHAR = st.one_of(
    st.sampled_from(list("\t\n\r <>&'\"]")),
    st.characters(min_codepoint=0x20, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFD),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
xml_text = st.text(XML_CHAR, max_size=30)
# Domain, CertId and PreviousCertId are whitespace-stripped by the decoder (str.strip, so Unicode
# spaces such as U+00A0 too): a value with surrounding whitespace cannot survive a round trip by
# design, so these fields are generated already stripped.
stripped_text = xml_text.map(str.strip)

certificate_configurations = st.builds(
    CertificateConfiguration,
    cert_id=st.none() | stripped_text,
    certificate=st.none() | xml_text,
    private_key=st.none() | xml_text,
    previous_cert_id=st.none() | stripped_text,
    force=st.booleans(),
    delete_certificate=st.booleans(),
)
cname_configurations = st.builds(
    CnameConfiguration,
    domain=stripped_text,
    certificate=st.none() | certificate_configurations,
    is_wildcard=st.booleans(),
)
cname_tokens = st.builds(CnameToken, bucket=xml_text, cname=xml_text, token=xml_text,
                         expire_time=xml_text)
certificate_summaries = st.builds(
    CertificateSummary, type=xml_text, cert_id=xml_text, status=xml_text,
    creation_date=xml_text, fingerprint=xml_text, valid_start_date=xml_text,
    valid_end_date=xml_text,
)
cname_infos = st.builds(
    CnameInfo, domain=xml_text, last_modified=xml_text, status=xml_text,
    is_purge_cdn_cache=st.booleans(), certificate=st.none() | certificate_summaries,
)
list_cname_results = st.builds(
    ListCnameResult, bucket=xml_text, owner=xml_text,
    cnames=st.lists(cname_infos, max_size=4).map(tuple),
)

ERROR_FIELDS = {"Code", "Message", "RequestId", "HostId", "EC", "RecommendDoc"}
# Extra <Error> children: XML names (no prefix), never one of the standard children.
detail_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.-]{0,12}\Z").filter(
    lambda name: name not in ERROR_FIELDS and not name.lower().startswith("xml"))
oss_errors = st.builds(
    OssError,
    code=xml_text,
    message=st.none() | xml_text,
    status=st.none() | st.integers(400, 599),
    ec=st.none() | xml_text,
    request_id=xml_text,
    host_id=xml_text,
    details=st.dictionaries(detail_names, xml_text, max_size=4),
)


def expected_error_fields(error: OssError) -> dict[str, str]:
    fields = {"Code": error.code, "Message": error.message, "RequestId": error.request_id,
              "HostId": error.host_id, **error.details}
    if error.ec:
        fields["EC"] = error.ec
        fields["RecommendDoc"] = f"https://api.aliyun.com/troubleshoot?q={error.ec}"
    return fields


# --- round trips --------------------------------------------------------------------------


@PROPERTY
@given(cname_configurations)
def test_cname_configuration_round_trip(config: CnameConfiguration) -> None:
    assert decode_cname_configuration(encode_cname_configuration(config)) == config


@PROPERTY
@given(cname_tokens)
def test_cname_token_round_trip(token: CnameToken) -> None:
    assert decode_cname_token(encode_cname_token(token)) == token


@PROPERTY
@given(list_cname_results)
def test_list_cname_result_round_trip(result: ListCnameResult) -> None:
    assert decode_list_cname_result(encode_list_cname_result(result)) == result


@PROPERTY
@given(oss_errors)
def test_error_round_trip(error: OssError) -> None:
    decoded = decode_error(encode_error(error))
    expected = expected_error_fields(error)
    assert decoded == expected
    assert list(decoded) == list(expected)  # document order: Code ... details ... EC


@pytest.mark.parametrize("config", [
    CnameConfiguration("www.example.com"),
    CnameConfiguration("www.example.com", is_wildcard=True),
    CnameConfiguration("www.example.com", CertificateConfiguration()),
    CnameConfiguration("www.example.com", CertificateConfiguration(delete_certificate=True)),
    CnameConfiguration("www.example.com", CertificateConfiguration(
        cert_id="12345678-cn-hangzhou", previous_cert_id="87654321-cn-hangzhou", force=True)),
    CnameConfiguration("www.example.com", CertificateConfiguration(
        cert_id="", certificate="", private_key="", previous_cert_id="")),
    CnameConfiguration("www.example.com", CertificateConfiguration(
        certificate="-----BEGIN CERTIFICATE-----\r\nAB&<>]]>\r\n-----END CERTIFICATE-----\r\n",
        private_key="\n\t key \n", force=True, delete_certificate=True)),
], ids=["plain", "wildcard", "empty-cert-part", "delete", "cert-id", "empty-strings", "pem-crlf"])
def test_cname_configuration_round_trip_examples(config: CnameConfiguration) -> None:
    body = encode_cname_configuration(config)
    # compact, as the SDKs send it: no declaration, no whitespace between elements
    assert body.startswith(b"<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>")
    assert decode_cname_configuration(body) == config


def test_encoders_refuse_characters_xml_cannot_carry() -> None:
    for bad in ("\x00", "a\x1fb", "\ufffe", "\uffff", "\ud800"):
        with pytest.raises(ValueError):
            encode_cname_token(CnameToken("b", bad, "t", "e"))
        with pytest.raises(ValueError):
            encode_cname_configuration(CnameConfiguration("d", CertificateConfiguration(
                certificate=bad)))


# --- exact bytes (§3, §6, §10.1) ----------------------------------------------------------

LIST_SAMPLE = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<ListCnameResult>
  <Bucket>examplebucket</Bucket>
  <Owner>1234567890123456</Owner>
  <Cname>
    <Domain>www.example.com</Domain>
    <LastModified>2025-01-02T03:04:05.000Z</LastModified>
    <Status>Enabled</Status>
    <IsPurgeCdnCache>false</IsPurgeCdnCache>
    <Certificate>
      <Type>CAS</Type>
      <CertId>12345678-cn-hangzhou</CertId>
      <Status>Enabled</Status>
      <CreationDate>Thu, 02 Jan 2025 03:04:05 GMT</CreationDate>
      <Fingerprint>4D:7F:E3:C1:45:64:EB:1B:20:CC:61:F8:CA:B7:B5:61:36:0C:A3:24</Fingerprint>
      <ValidStartDate>Jan 10 00:00:00 2025 GMT</ValidStartDate>
      <ValidEndDate>Jan 10 00:00:00 2026 GMT</ValidEndDate>
    </Certificate>
  </Cname>
</ListCnameResult>
"""
LIST_VALUE = ListCnameResult(
    bucket="examplebucket",
    owner="1234567890123456",
    cnames=(CnameInfo(
        domain="www.example.com",
        last_modified="2025-01-02T03:04:05.000Z",
        status="Enabled",
        is_purge_cdn_cache=False,
        certificate=CertificateSummary(
            type="CAS",
            cert_id="12345678-cn-hangzhou",
            status="Enabled",
            creation_date="Thu, 02 Jan 2025 03:04:05 GMT",
            fingerprint="4D:7F:E3:C1:45:64:EB:1B:20:CC:61:F8:CA:B7:B5:61:36:0C:A3:24",
            valid_start_date="Jan 10 00:00:00 2025 GMT",
            valid_end_date="Jan 10 00:00:00 2026 GMT",
        ),
    ),),
)

TOKEN_SAMPLE = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<CnameToken>
  <Bucket>examplebucket</Bucket>
  <Cname>www.example.com</Cname>
  <Token>be1d49d863dea9ffeff3df7d64557a1c</Token>
  <ExpireTime>Sun, 05 Jan 2025 03:04:05 GMT</ExpireTime>
</CnameToken>
"""
TOKEN_VALUE = CnameToken("examplebucket", "www.example.com", "be1d49d863dea9ffeff3df7d64557a1c",
                         "Sun, 05 Jan 2025 03:04:05 GMT")

ERROR_SAMPLE = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NeedVerifyDomainOwnership</Code>
  <Message>Please verify domain ownership by CreateCnameToken and try again.</Message>
  <RequestId>6916EAF134D7B3313685FEE3</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0018-00000115</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0018-00000115</RecommendDoc>
</Error>
"""


def test_list_cname_result_exact_bytes() -> None:
    assert encode_list_cname_result(LIST_VALUE) == LIST_SAMPLE
    assert decode_list_cname_result(LIST_SAMPLE) == LIST_VALUE


def test_empty_list_cname_result_exact_bytes() -> None:
    assert encode_list_cname_result(ListCnameResult("examplebucket", "1234567890123456")) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<ListCnameResult>\n"
        b"  <Bucket>examplebucket</Bucket>\n"
        b"  <Owner>1234567890123456</Owner>\n"
        b"</ListCnameResult>\n"
    )


def test_cname_token_exact_bytes() -> None:
    assert encode_cname_token(TOKEN_VALUE) == TOKEN_SAMPLE
    assert decode_cname_token(TOKEN_SAMPLE) == TOKEN_VALUE


def test_error_exact_bytes() -> None:
    error = OssError.from_code("NeedVerifyDomainOwnership")
    error.request_id = "6916EAF134D7B3313685FEE3"
    error.host_id = "examplebucket.oss-cn-hangzhou.aliyuncs.com"
    assert encode_error(error) == ERROR_SAMPLE
    assert decode_error(ERROR_SAMPLE) == {
        "Code": "NeedVerifyDomainOwnership",
        "Message": "Please verify domain ownership by CreateCnameToken and try again.",
        "RequestId": "6916EAF134D7B3313685FEE3",
        "HostId": "examplebucket.oss-cn-hangzhou.aliyuncs.com",
        "EC": "0018-00000115",
        "RecommendDoc": "https://api.aliyun.com/troubleshoot?q=0018-00000115",
    }


def test_error_details_come_between_host_id_and_ec() -> None:
    error = OssError.from_code("CnameTokenNotFound", Bucket="examplebucket",
                               Cname="www.example.com")
    error.request_id = "6916EAF134D7B3313685FEE3"
    assert encode_error(error) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<Error>\n"
        b"  <Code>CnameTokenNotFound</Code>\n"
        b"  <Message>Cname token not found.</Message>\n"
        b"  <RequestId>6916EAF134D7B3313685FEE3</RequestId>\n"
        b"  <HostId></HostId>\n"
        b"  <Bucket>examplebucket</Bucket>\n"
        b"  <Cname>www.example.com</Cname>\n"
        b"  <EC>0018-00000301</EC>\n"
        b"  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0018-00000301</RecommendDoc>\n"
        b"</Error>\n"
    )


def test_error_without_ec_has_no_ec_or_recommend_doc() -> None:
    body = encode_error(OssError.from_code("MalformedXML"))
    assert b"<EC>" not in body and b"RecommendDoc" not in body
    assert decode_error(body)["Code"] == "MalformedXML"


def test_reencoding_a_parsed_error_writes_each_standard_child_once() -> None:
    error = OssError.from_code("CnameTokenNotFound", Bucket="examplebucket")
    error.request_id = "6916EAF134D7B3313685FEE3"
    body = encode_error(error)
    parsed = error_from_response(404, {"x-oss-request-id": error.request_id}, body)
    assert encode_error(parsed) == body


# --- the SDKs' own bodies (tests/wire/vectors) --------------------------------------------


def _vectors(*operations: str) -> list[dict]:
    loaded = [json.loads(path.read_text()) for path in sorted(VECTORS.glob("*.json"))]
    return [vector for vector in loaded if vector["operation"] in operations]


REQUEST_VECTORS = _vectors("CreateCnameToken", "PutCname", "DeleteCname")
REQUEST_IDS = [f"{v['sdk']}-{v['signature_version']}-{v['case']}" for v in REQUEST_VECTORS]

CERT_ID = CertificateConfiguration(cert_id="12345678-cn-hangzhou",
                                   previous_cert_id="87654321-cn-hangzhou", force=True)
EXPECTED_BY_CASE = {
    "create_cname_token": CnameConfiguration("www.example.com"),
    "delete_cname": CnameConfiguration("www.example.com"),
    "put_cname": CnameConfiguration("www.example.com"),
    "put_cname_cert_id": CnameConfiguration("www.example.com", CERT_ID),
    "put_cname_cert_id_vhost": CnameConfiguration("www.example.com", CERT_ID),
    "put_cname_delete_cert": CnameConfiguration(
        "www.example.com", CertificateConfiguration(delete_certificate=True)),
}
# test-cert.pem / test-key.pem (vectors README): SHA-1 fingerprint of the throw-away certificate.
TEST_CERT_FINGERPRINT = "4D:7F:E3:C1:45:64:EB:1B:20:CC:61:F8:CA:B7:B5:61:36:0C:A3:24"


def _reference_file(name: str) -> Path | None:
    """A file shipped next to the vectors: here, or in the shared reference checkout."""
    here = Path(__file__).resolve()
    candidates = [VECTORS / name]
    if len(here.parents) > 3:
        candidates.append(here.parents[3] / "shared" / "reference" / "vectors" / name)
    return next((path for path in candidates if path.is_file()), None)


def test_request_vectors_cover_every_request_case() -> None:
    cases = {vector["case"] for vector in REQUEST_VECTORS}
    assert cases == set(EXPECTED_BY_CASE) | {"put_cname_upload_cert"}
    assert len(REQUEST_VECTORS) == 34


@pytest.mark.parametrize("vector", REQUEST_VECTORS, ids=REQUEST_IDS)
def test_sdk_request_bodies_decode(vector: dict) -> None:
    body = vector["request"]["body"].encode("utf-8")
    config = decode_cname_configuration(body)
    assert config.domain == "www.example.com"
    assert not config.is_wildcard
    if vector["case"] != "put_cname_upload_cert":
        assert config == EXPECTED_BY_CASE[vector["case"]]
        return
    cert = config.certificate
    assert cert is not None
    assert cert.force and not cert.delete_certificate
    assert cert.cert_id is None and cert.previous_cert_id is None
    assert cert.certificate is not None and cert.private_key is not None
    assert cert.certificate.startswith("-----BEGIN CERTIFICATE-----\n")
    assert cert.private_key.startswith("-----BEGIN PRIVATE KEY-----\n")


UPLOAD_VECTORS = [v for v in REQUEST_VECTORS if v["case"] == "put_cname_upload_cert"]


@pytest.mark.parametrize("vector", UPLOAD_VECTORS,
                         ids=[f"{v['sdk']}-{v['signature_version']}" for v in UPLOAD_VECTORS])
def test_uploaded_pem_text_is_the_test_certificate(vector: dict) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cert = decode_cname_configuration(vector["request"]["body"].encode()).certificate
    assert cert is not None and cert.certificate is not None and cert.private_key is not None
    parsed = x509.load_pem_x509_certificate(cert.certificate.encode())
    der = parsed.public_bytes(Encoding.DER)
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())
    assert fingerprint == TEST_CERT_FINGERPRINT
    key = serialization.load_pem_private_key(cert.private_key.encode(), password=None)
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == parsed.public_key().public_bytes(*spki)

    for decoded, name in ((cert.certificate, "test-cert.pem"), (cert.private_key, "test-key.pem")):
        path = _reference_file(name)
        if path is None:
            pytest.skip(f"{name} not found next to the vectors")
        assert decoded.strip() == path.read_text().strip()


@pytest.mark.parametrize("case", ["create_cname_token", "list_cname"])
def test_mock_response_bodies_decode_and_reencode_byte_for_byte(case: str) -> None:
    vector = next(v for v in _vectors("CreateCnameToken", "ListCname") if v["case"] == case)
    body = vector["mock_response"]["body"].encode("utf-8")
    if case == "list_cname":
        result = decode_list_cname_result(body)
        assert [info.domain for info in result.cnames] == ["www.example.com",
                                                          "static.example.org"]
        assert result.cnames[1].certificate is None
        assert encode_list_cname_result(result) == body
    else:
        assert decode_cname_token(body) == TOKEN_VALUE
        assert encode_cname_token(decode_cname_token(body)) == body


# --- leniency of decode_cname_configuration (§2.4) ----------------------------------------

CERT_ID_BODY = (
    "<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>"
    "<CertificateConfiguration><CertId>12345678-cn-hangzhou</CertId>"
    "<PreviousCertId>87654321-cn-hangzhou</PreviousCertId><Force>True</Force>"
    "</CertificateConfiguration></Cname></BucketCnameConfiguration>"
)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
INDENTED_BODY = """\
<BucketCnameConfiguration>
  <Cname>
    <Domain>
      www.example.com
    </Domain>
    <CertificateConfiguration>
      <CertId>12345678-cn-hangzhou</CertId>
      <PreviousCertId> 87654321-cn-hangzhou </PreviousCertId>
      <Force>
        true
      </Force>
    </CertificateConfiguration>
  </Cname>
</BucketCnameConfiguration>
"""
SHUFFLED_BODY = (
    "<BucketCnameConfiguration><Cname><CertificateConfiguration><Force>TRUE</Force>"
    "<PreviousCertId>87654321-cn-hangzhou</PreviousCertId><CertId>12345678-cn-hangzhou</CertId>"
    "</CertificateConfiguration><Domain>www.example.com</Domain></Cname>"
    "</BucketCnameConfiguration>"
)
DEFAULT_NS_BODY = CERT_ID_BODY.replace(
    "<BucketCnameConfiguration>",
    '<BucketCnameConfiguration xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">', 1)
PREFIXED_NS_BODY = (
    '<o:BucketCnameConfiguration xmlns:o="http://doc.oss-cn-hangzhou.aliyuncs.com">'
    "<o:Cname><o:Domain>www.example.com</o:Domain><o:CertificateConfiguration>"
    "<o:CertId>12345678-cn-hangzhou</o:CertId>"
    "<o:PreviousCertId>87654321-cn-hangzhou</o:PreviousCertId><o:Force>true</o:Force>"
    "</o:CertificateConfiguration></o:Cname></o:BucketCnameConfiguration>"
)


@pytest.mark.parametrize("body", [
    CERT_ID_BODY,
    DECLARATION + CERT_ID_BODY,
    INDENTED_BODY,
    DECLARATION + INDENTED_BODY,
    SHUFFLED_BODY,
    DEFAULT_NS_BODY,
    DECLARATION + PREFIXED_NS_BODY,
    "\ufeff" + DECLARATION + CERT_ID_BODY,
    "<!-- from a user's file -->\n" + CERT_ID_BODY + "\n",
    CERT_ID_BODY.replace("<Force>True</Force>", "<Force><![CDATA[true]]></Force>"),
], ids=["sdk", "declaration", "indented", "declaration-indented", "shuffled", "default-ns",
        "prefixed-ns", "bom", "comment", "cdata"])
def test_lenient_layouts(body: str) -> None:
    assert decode_cname_configuration(body.encode("utf-8")) == CnameConfiguration(
        "www.example.com", CERT_ID)


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("True", True), ("TRUE", True), (" true\n", True),
    ("false", False), ("False", False), ("FALSE", False), ("", False), (None, False),
])
def test_booleans(text: str | None, expected: bool) -> None:
    def element(tag: str) -> str:
        return "" if text is None else f"<{tag}>{text}</{tag}>"

    body = ("<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>"
            f"<CertificateConfiguration>{element('Force')}{element('DeleteCertificate')}"
            f"</CertificateConfiguration>{element('IsWildCard')}</Cname>"
            "</BucketCnameConfiguration>")
    config = decode_cname_configuration(body.encode())
    assert config.certificate == CertificateConfiguration(force=expected,
                                                          delete_certificate=expected)
    assert config.is_wildcard is expected


def _assert_malformed(body: bytes) -> None:
    with pytest.raises(OssError) as caught:
        decode_cname_configuration(body)
    assert caught.value.code == "MalformedXML"
    assert caught.value.status == 400


@pytest.mark.parametrize("tag", ["Force", "DeleteCertificate"])
@pytest.mark.parametrize("value", ["yes", "1", "0", "on", "truee", "t"])
def test_bad_boolean_is_malformed(tag: str, value: str) -> None:
    _assert_malformed(
        ("<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>"
         f"<CertificateConfiguration><{tag}>{value}</{tag}></CertificateConfiguration>"
         "</Cname></BucketCnameConfiguration>").encode())


def test_bad_is_wildcard_is_malformed() -> None:
    _assert_malformed(b"<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>"
                      b"<IsWildCard>yes</IsWildCard></Cname></BucketCnameConfiguration>")


@pytest.mark.parametrize("body", [
    "<BucketCnameConfiguration><Cname></Cname></BucketCnameConfiguration>",
    "<BucketCnameConfiguration><Cname><CertificateConfiguration><Domain>www.example.com"
    "</Domain></CertificateConfiguration></Cname></BucketCnameConfiguration>",
    "<BucketCnameConfiguration><Domain>www.example.com</Domain></BucketCnameConfiguration>",
    "<BucketCnameConfiguration/>",
    "<BucketCnameConfiguration><Cname><Domain>a.example.com</Domain></Cname>"
    "<Cname><Domain>b.example.com</Domain></Cname></BucketCnameConfiguration>",
    "<Cname><Domain>www.example.com</Domain></Cname>",
    "<CnameConfiguration><Cname><Domain>www.example.com</Domain></Cname></CnameConfiguration>",
    "<ListCnameResult><Cname><Domain>www.example.com</Domain></Cname></ListCnameResult>",
    "",
    "   ",
    "www.example.com",
    "<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain></Cname>",
    "<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain></Cname>"
    "</BucketCnameConfiguration><Extra/>",
], ids=["no-domain", "domain-in-wrong-place", "no-cname", "empty-root", "two-cnames",
        "root-cname", "wrong-root", "list-root", "empty", "blank", "text", "unclosed",
        "two-roots"])
def test_structural_errors_are_malformed(body: str) -> None:
    _assert_malformed(body.encode())


@PROPERTY
@given(cname_configurations, st.data())
def test_any_lenient_rendering_decodes_to_the_same_value(
    config: CnameConfiguration, data: st.DataObject
) -> None:
    """Declaration, indentation, namespace, child order, boolean spelling and padding vary."""
    padding = st.sampled_from(["", " ", "\n  ", "\t", "\r\n"])
    true_word = st.sampled_from(["true", "True", "TRUE", " true "])
    false_word = st.sampled_from(["false", "False", "FALSE", ""])

    def flag(tag: str, value: bool) -> list[xml.Node]:
        if value:
            return [(tag, data.draw(true_word))]
        return data.draw(st.sampled_from([[], [(tag, data.draw(false_word))]]))

    def padded(tag: str, value: str | None) -> list[xml.Node]:
        if value is None:
            return []
        return [(tag, data.draw(padding) + value + data.draw(padding))]

    children: list[xml.Node] = padded("Domain", config.domain) + flag("IsWildCard",
                                                                      config.is_wildcard)
    cert = config.certificate
    if cert is not None:
        parts = (padded("CertId", cert.cert_id) + padded("PreviousCertId", cert.previous_cert_id)
                 + flag("Force", cert.force) + flag("DeleteCertificate", cert.delete_certificate))
        if cert.certificate is not None:
            parts.append(("Certificate", cert.certificate))
        if cert.private_key is not None:
            parts.append(("PrivateKey", cert.private_key))
        children.append(("CertificateConfiguration", data.draw(st.permutations(parts))))
    tree: xml.Node = ("BucketCnameConfiguration",
                      [("Cname", data.draw(st.permutations(children)))])
    if data.draw(st.booleans()):
        body = xml.emit_compact(tree)
    else:
        body = xml.emit(tree, declaration=data.draw(st.booleans()),
                        indent=data.draw(st.sampled_from(["", "  ", "\t"])))
    if data.draw(st.booleans()):
        body = body.replace(b"<BucketCnameConfiguration>",
                            b'<BucketCnameConfiguration xmlns="http://doc.oss.aliyuncs.com/">', 1)
    assert decode_cname_configuration(body) == config
