"""The small Go ``encoding/xml`` stand-in: decoding rules and Go's error texts."""

from __future__ import annotations

import pytest

from ossutil.cli.goxml import GoXmlError, marshal_indent, unmarshal

FIELDS = ("Bucket", "Cname", "Token", "ExpireTime")


@pytest.mark.parametrize(("body", "record"), [
    (b"<CnameToken><Bucket>b</Bucket></CnameToken>", {"Bucket": "b"}),
    (b'<?xml version="1.0" encoding="utf-8"?>\n<!-- c --><!DOCTYPE x><CnameToken>'
     b"<Token>a&amp;b&#65;&#x42;</Token></CnameToken>", {"Token": "a&bAB"}),
    (b"<x:CnameToken xmlns:x='u'><x:Cname>c</x:Cname><Cname>d</Cname></x:CnameToken>",
     {"Cname": "d"}),  # namespaces ignored, the last element wins
    (b"<CnameToken><Token>t<b>nested</b>u</Token></CnameToken>", {"Token": "tu"}),
    (b"<CnameToken><Token><![CDATA[<raw>]]></Token></CnameToken>tail<", {"Token": "<raw>"}),
    (b"<CnameToken><Token>a\r\nb\rc</Token><Bucket/></CnameToken>", {"Token": "a\nb\nc"}),
    (b"junk before <CnameToken/>", {}),
])
def test_unmarshal(body: bytes, record: dict[str, str]) -> None:
    expected = dict.fromkeys(FIELDS, "")
    expected.update(record)
    assert unmarshal(body, "CnameToken", FIELDS) == expected


@pytest.mark.parametrize(("body", "message"), [
    (b"", "EOF"),
    (b"  \n", "EOF"),
    (b'<?xml version="1.0"?>', "EOF"),
    (b"<Error><Code>x</Code></Error>", "expected element type <CnameToken> but have <Error>"),
    (b"<CnameToken>\n<Bucket>b", "XML syntax error on line 2: unexpected EOF"),
    (b"<CnameToken><a></b></CnameToken>", "XML syntax error on line 1: element <a> closed by </b>"),
    (b"</CnameToken>", "XML syntax error on line 1: unexpected end element </CnameToken>"),
    (b"<CnameToken>&nbsp;</CnameToken>", "XML syntax error on line 1: invalid character entity "
     "&nbsp;"),
    (b"<CnameToken>&amp</CnameToken>", "XML syntax error on line 1: invalid character entity "
     "&amp (no semicolon)"),
    (b"<CnameToken>\x01</CnameToken>", "XML syntax error on line 1: illegal character code "
     "U+0001"),
    (b"<CnameToken a=b></CnameToken>", "XML syntax error on line 1: unquoted or missing attribute"
     " value in element"),
    (b'<?xml version="1.0" encoding="GBK"?><CnameToken/>', 'xml: encoding "GBK" declared but '
     "Decoder.CharsetReader is nil"),
    (b"<CnameToken>&#0;</CnameToken>", "XML syntax error on line 1: illegal character code "
     "U+0000"),
    (b"<CnameToken>&#x;</CnameToken>", "XML syntax error on line 1: invalid character entity "
     "&#x;"),
    (b"<CnameToken><1a/></CnameToken>", "XML syntax error on line 1: invalid XML name: 1a"),
    (b"<CnameToken><!-- a -- b --></CnameToken>", 'XML syntax error on line 1: invalid sequence '
     '"--" not allowed in comments'),
])
def test_unmarshal_errors(body: bytes, message: str) -> None:
    with pytest.raises(GoXmlError) as info:
        unmarshal(body, "CnameToken", FIELDS)
    assert str(info.value) == message


def test_marshal_indent_omits_empty_fields_and_escapes_like_go() -> None:
    assert marshal_indent("CnameToken", [("Bucket", ""), ("Token", "a<b")]) == (
        "<CnameToken>\n <Token>a&lt;b</Token>\n</CnameToken>")
    assert marshal_indent("CnameToken", [("Bucket", "")]) == "<CnameToken></CnameToken>"
