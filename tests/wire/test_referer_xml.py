"""RefererConfiguration codec: OSS's exact bytes both ways, what the SDKs send, shape errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.wire.errors import OssError
from ossutil.wire.referer_xml import (
    DEFAULT,
    RefererConfiguration,
    decode_referer_configuration,
    encode_referer_configuration,
)


def test_response_layout_is_oss_s():
    config = RefererConfiguration(allow_empty_referer=False, allow_truncate_query_string=True,
                                  truncate_path=True,
                                  referer_list=("http://www.aliyun.com", "https://www.?.com"),
                                  referer_blacklist=("http://*.hack.com",))
    assert encode_referer_configuration(config, response=True) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<RefererConfiguration>\n"
        b"  <AllowEmptyReferer>false</AllowEmptyReferer>\n"
        b"  <AllowTruncateQueryString>true</AllowTruncateQueryString>\n"
        b"  <TruncatePath>true</TruncatePath>\n"
        b"  <RefererList>\n"
        b"    <Referer>http://www.aliyun.com</Referer>\n"
        b"    <Referer>https://www.?.com</Referer>\n"
        b"  </RefererList>\n"
        b"  <RefererBlacklist>\n"
        b"    <Referer>http://*.hack.com</Referer>\n"
        b"  </RefererBlacklist>\n"
        b"</RefererConfiguration>\n"
    )


def test_default_answer_allows_everything():
    assert encode_referer_configuration(DEFAULT, response=True) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<RefererConfiguration>\n"
        b"  <AllowEmptyReferer>true</AllowEmptyReferer>\n"
        b"  <AllowTruncateQueryString>true</AllowTruncateQueryString>\n"
        b"  <TruncatePath>false</TruncatePath>\n"
        b"  <RefererList></RefererList>\n"
        b"</RefererConfiguration>\n"
    )


def test_decodes_what_oss2_sends():
    # oss2.models.BucketReferer(False, ["http://a.com"]) via to_put_bucket_referer
    body = (b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer><RefererList>"
            b"<Referer>http://a.com</Referer></RefererList></RefererConfiguration>")
    assert decode_referer_configuration(body) == RefererConfiguration(
        allow_empty_referer=False, referer_list=("http://a.com",))
    # an empty <RefererList /> and a missing one read the same
    assert decode_referer_configuration(
        b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><RefererList />"
        b"</RefererConfiguration>") == RefererConfiguration()


@pytest.mark.parametrize("body", [
    b"<Referer/>",
    b"<RefererConfiguration><RefererList/></RefererConfiguration>",
    b"<RefererConfiguration><AllowEmptyReferer>no</AllowEmptyReferer></RefererConfiguration>",
    b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer>"
    b"<AllowEmptyReferer>true</AllowEmptyReferer></RefererConfiguration>",
    b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><RefererList>"
    b"<Referer><a/></Referer></RefererList></RefererConfiguration>",
])
def test_shape_errors_are_malformed_xml(body):
    with pytest.raises(OssError) as caught:
        decode_referer_configuration(body)
    assert (caught.value.code, caught.value.status) == ("MalformedXML", 400)


referers = st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                            min_size=1, max_size=20), max_size=3).map(tuple)
configs = st.builds(RefererConfiguration, allow_empty_referer=st.booleans(),
                    allow_truncate_query_string=st.none() | st.booleans(),
                    truncate_path=st.none() | st.booleans(), referer_list=referers,
                    referer_blacklist=st.none() | referers)


@settings(max_examples=100, deadline=None)
@given(configs)
def test_any_configuration_round_trips(config):
    assert decode_referer_configuration(encode_referer_configuration(config)) == config
    assert decode_referer_configuration(
        encode_referer_configuration(config, response=True)) == config
