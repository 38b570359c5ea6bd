"""``wire.xml`` never writes ill-formed XML, and reads the control-character references OSS
(and alibabacloud-oss-v2) use in keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from alibabacloud_oss_v2.utils import escape_xml_value
from hypothesis import given
from hypothesis import strategies as st

from ossutil.wire import xml
from ossutil.wire.error_xml import encode_error
from ossutil.wire.errors import OssError

anything = st.text(alphabet=st.characters(codec=None), max_size=40)  # surrogates included
XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff")


@given(anything)
def test_an_error_echoing_anything_is_well_formed(value: str) -> None:
    error = OssError.from_code("NoSuchKey", f"no {value}", Key=value)
    error.request_id = "R"
    root = ET.fromstring(encode_error(error))  # expat refuses anything ill-formed
    assert root.findtext("Key") == xml.writable(value)
    assert root.findtext("Code") == "NoSuchKey"


@given(anything)
def test_strict_emit_refuses_or_round_trips(value: str) -> None:
    try:
        body = xml.emit(("Key", value))
    except xml.UnwritableXmlError:
        assert xml.writable(value) != value
        return
    assert (ET.fromstring(body).text or "") == value


@given(st.text(alphabet=XML_CHARS, max_size=40))
def test_v2_escaped_keys_decode_to_themselves(key: str) -> None:
    """alibabacloud-oss-v2's ``escape_xml_value`` (``&#01;`` for controls) -> our parser."""
    body = f"<Delete><Object><Key>{escape_xml_value(key)}</Key></Object></Delete>".encode()
    root = xml.parse(body)
    item = xml.child(root, "Object")
    assert item is not None
    assert xml.text(item, "Key") == key


def test_references_keep_their_place_among_children() -> None:
    root = xml.parse(b"<a>x&#1;<b>&#2;</b>&#3;y<!-- &#4; --><c/><![CDATA[&#5;]]>&#6;</a>")
    assert root.text == "x\x01"
    assert [c.tag for c in root] == ["b", "c"]
    assert root[0].text == "\x02" and root[0].tail == "\x03y"
    assert root[1].tail == "&#5;\x06"


def test_a_clients_processing_instruction_is_still_dropped() -> None:
    root = xml.parse(b"<a>x<?ossutil-char-00 1?>&#1;<?other 2?>y</a>")
    assert root.text == "x\x01y"
    assert len(root) == 0


@pytest.mark.parametrize("body", [
    b"<a>&#xD800;</a>", b"<a>&#xFFFE;</a>", b"<a>&#99999999999;</a>", b'<a b="&#1;"/>',
    b"<a>&#1;", b"<a><!-- &#1;</a>", b"<a>&#1;<![CDATA[</a>", b"<!DOCTYPE a []><a>&#1;</a>",
])
def test_other_references_and_broken_documents_stay_malformed(body: bytes) -> None:
    with pytest.raises(OssError) as caught:
        xml.parse(body)
    assert caught.value.code == "MalformedXML"


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_are_malformed(body: bytes) -> None:
    try:
        xml.parse(b"<a>&#1;" + body)
    except OssError as error:
        assert error.code == "MalformedXML"
