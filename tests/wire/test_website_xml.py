"""WebsiteConfiguration codec: OSS's exact bytes both ways, what the SDKs send, shape errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.wire.errors import OssError
from ossutil.wire.website_xml import (
    ErrorDocument,
    IncludeHeader,
    IndexDocument,
    RoutingRule,
    RoutingRuleCondition,
    RoutingRuleRedirect,
    WebsiteConfiguration,
    decode_website_configuration,
    encode_website_configuration,
)

FULL = WebsiteConfiguration(
    index_document=IndexDocument(suffix="index.html", support_sub_dir=True, type=0),
    error_document=ErrorDocument(key="error.html", http_status=404),
)


def test_response_layout_is_oss_s():
    assert encode_website_configuration(FULL, response=True) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<WebsiteConfiguration>\n"
        b"  <IndexDocument>\n"
        b"    <Suffix>index.html</Suffix>\n"
        b"    <SupportSubDir>true</SupportSubDir>\n"
        b"    <Type>0</Type>\n"
        b"  </IndexDocument>\n"
        b"  <ErrorDocument>\n"
        b"    <Key>error.html</Key>\n"
        b"    <HttpStatus>404</HttpStatus>\n"
        b"  </ErrorDocument>\n"
        b"</WebsiteConfiguration>\n"
    )


def test_request_is_compact_and_writes_only_given_elements():
    config = WebsiteConfiguration(index_document=IndexDocument(suffix="index.html"))
    assert encode_website_configuration(config) == (
        b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
        b"</WebsiteConfiguration>"
    )


def test_decodes_what_oss2_sends():
    # oss2.models.BucketWebsite("index.html", "error.html") through xml_utils.to_put_bucket_website
    body = (b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
            b"<ErrorDocument><Key>error.html</Key></ErrorDocument></WebsiteConfiguration>")
    assert decode_website_configuration(body) == WebsiteConfiguration(
        index_document=IndexDocument(suffix="index.html"),
        error_document=ErrorDocument(key="error.html"),
    )


def test_routing_rules_round_trip_and_unknown_redirect_elements_are_named():
    rule = RoutingRule(
        rule_number=1,
        condition=RoutingRuleCondition(key_prefix_equals="docs/",
                                       http_error_code_returned_equals=404,
                                       include_headers=(IncludeHeader("x-test", "1"),)),
        redirect=RoutingRuleRedirect(redirect_type="External", protocol="https",
                                     host_name="example.com", http_redirect_code=301,
                                     pass_query_string=False),
    )
    config = WebsiteConfiguration(index_document=IndexDocument(suffix="index.html"),
                                  routing_rules=(rule,))
    assert decode_website_configuration(encode_website_configuration(config)) == config
    assert decode_website_configuration(encode_website_configuration(config,
                                                                     response=True)) == config
    mirror = (b"<WebsiteConfiguration><RoutingRules><RoutingRule><RuleNumber>1</RuleNumber>"
              b"<Redirect><RedirectType>Mirror</RedirectType><MirrorURL>http://a/</MirrorURL>"
              b"</Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>")
    decoded = decode_website_configuration(mirror)
    assert decoded.routing_rules is not None
    assert decoded.routing_rules[0].redirect == RoutingRuleRedirect(redirect_type="Mirror",
                                                                    other=("MirrorURL",))


@pytest.mark.parametrize("body", [
    b"<Website/>",
    b"<WebsiteConfiguration><IndexDocument><Type>zero</Type></IndexDocument>"
    b"</WebsiteConfiguration>",
    b"<WebsiteConfiguration><IndexDocument><SupportSubDir>yes</SupportSubDir></IndexDocument>"
    b"</WebsiteConfiguration>",
    b"<WebsiteConfiguration><IndexDocument/><IndexDocument/></WebsiteConfiguration>",
    b"<WebsiteConfiguration><ErrorDocument><HttpStatus>99999999999</HttpStatus>"
    b"</ErrorDocument></WebsiteConfiguration>",
    b"<WebsiteConfiguration><IndexDocument><Suffix><a/></Suffix></IndexDocument>"
    b"</WebsiteConfiguration>",
    b"not xml",
])
def test_shape_errors_are_malformed_xml(body):
    with pytest.raises(OssError) as caught:
        decode_website_configuration(body)
    assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)


text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xD7FF), max_size=20)
configs = st.builds(
    WebsiteConfiguration,
    index_document=st.none() | st.builds(IndexDocument, suffix=st.none() | text,
                                         support_sub_dir=st.none() | st.booleans(),
                                         type=st.none() | st.integers(0, 2)),
    error_document=st.none() | st.builds(ErrorDocument, key=st.none() | text,
                                         http_status=st.none() | st.sampled_from([200, 404])),
)


@settings(max_examples=100, deadline=None)
@given(configs)
def test_any_configuration_round_trips(config):
    assert decode_website_configuration(encode_website_configuration(config)) == config
    assert decode_website_configuration(
        encode_website_configuration(config, response=True)) == config
