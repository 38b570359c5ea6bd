"""CORSConfiguration codec: OSS's exact bytes both ways, what the SDKs send, shape errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.wire.cors_xml import (
    CorsConfiguration,
    CorsRule,
    decode_cors_configuration,
    encode_cors_configuration,
)
from ossutil.wire.errors import OssError

RULE = CorsRule(allowed_origins=("https://www.example.com",), allowed_methods=("GET", "PUT"),
                allowed_headers=("*",), expose_headers=("ETag", "x-oss-request-id"),
                max_age_seconds=600)


def test_response_layout_is_oss_s():
    config = CorsConfiguration(rules=(RULE,), response_vary=False)
    assert encode_cors_configuration(config, response=True) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<CORSConfiguration>\n"
        b"  <CORSRule>\n"
        b"    <AllowedOrigin>https://www.example.com</AllowedOrigin>\n"
        b"    <AllowedMethod>GET</AllowedMethod>\n"
        b"    <AllowedMethod>PUT</AllowedMethod>\n"
        b"    <AllowedHeader>*</AllowedHeader>\n"
        b"    <ExposeHeader>ETag</ExposeHeader>\n"
        b"    <ExposeHeader>x-oss-request-id</ExposeHeader>\n"
        b"    <MaxAgeSeconds>600</MaxAgeSeconds>\n"
        b"  </CORSRule>\n"
        b"  <ResponseVary>false</ResponseVary>\n"
        b"</CORSConfiguration>\n"
    )


def test_decodes_what_oss2_sends():
    # oss2.models.BucketCors([CorsRule(...)], response_vary=True) via to_put_bucket_cors
    body = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>10</MaxAgeSeconds></CORSRule>"
            b"<ResponseVary>true</ResponseVary></CORSConfiguration>")
    assert decode_cors_configuration(body) == CorsConfiguration(
        rules=(CorsRule(allowed_origins=("*",), allowed_methods=("GET",), max_age_seconds=10),),
        response_vary=True)


def test_request_is_compact():
    assert encode_cors_configuration(CorsConfiguration(rules=(CorsRule(("*",), ("GET",)),))) \
        == (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")


@pytest.mark.parametrize("body", [
    b"<CORS/>",
    b"<CORSConfiguration><CORSRule><MaxAgeSeconds>ten</MaxAgeSeconds></CORSRule>"
    b"</CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule>"
    b"</CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><MaxAgeSeconds>1</MaxAgeSeconds>"
    b"<MaxAgeSeconds>2</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><ResponseVary>maybe</ResponseVary></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin><x/></AllowedOrigin></CORSRule>"
    b"</CORSConfiguration>",
])
def test_shape_errors_are_malformed_xml(body):
    with pytest.raises(OssError) as caught:
        decode_cors_configuration(body)
    assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)


values = st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12),
                  max_size=3).map(tuple)
configs = st.builds(
    CorsConfiguration,
    rules=st.lists(st.builds(CorsRule, allowed_origins=values, allowed_methods=values,
                             allowed_headers=values, expose_headers=values,
                             max_age_seconds=st.none() | st.integers(0, 2**31 - 1)),
                   max_size=3).map(tuple),
    response_vary=st.none() | st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(configs)
def test_any_configuration_round_trips(config):
    assert decode_cors_configuration(encode_cors_configuration(config)) == config
    assert decode_cors_configuration(encode_cors_configuration(config, response=True)) == config
