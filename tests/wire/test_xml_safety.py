"""Decoders never do anything but return a value or raise ``OssError("MalformedXML")``.

No DTD, internal entity ("billion laughs"), external entity or external DTD is ever processed, and
no content of a referenced file reaches a value, an error or an error body (reference §2.4).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from ossutil.wire.error_xml import decode_error, encode_error
from ossutil.wire.errors import OssError

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
VECTORS = Path(__file__).parent / "vectors"

DECODERS: dict[str, Callable[[bytes], object]] = {
    "BucketCnameConfiguration": decode_cname_configuration,
    "CnameToken": decode_cname_token,
    "ListCnameResult": decode_list_cname_result,
    "Error": decode_error,
}


def decode_all_or_malformed(body: bytes) -> None:
    """Feed ``body`` to every decoder: a value or MalformedXML; any other exception escapes."""
    for decoder in DECODERS.values():
        try:
            decoder(body)
        except OssError as error:
            assert error.code == "MalformedXML", error
            assert error.status == 400


# --- fuzzing ------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(body: bytes) -> None:
    decode_all_or_malformed(body)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    decode_all_or_malformed(text.encode("utf-8"))


# Pieces that make random text look like XML often enough to reach the decoders' own checks.
XML_PIECES = st.sampled_from([
    "<", ">", "</", "/>", "=", '"', "'", "&", ";", "#", " ", "\n",
    '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="hex"?>', '<?xml version="1.0" encoding="utf-16"?>',
    "<!DOCTYPE a>", "<!DOCTYPE a [", "]>", '<!ENTITY e "x">', "&e;", "&amp;", "&#13;", "&#0;",
    "&#x110000;", "<![CDATA[", "]]>", "<!--", "-->", "<?pi x?>", 'xmlns="u"', 'xmlns:o="u"', "o:",
    "BucketCnameConfiguration", "Cname", "Domain", "CertificateConfiguration", "CertId", "Force",
    "DeleteCertificate", "IsWildCard", "true", "True", "false", "yes", "CnameToken", "Bucket",
    "Token", "ExpireTime", "ListCnameResult", "Owner", "Certificate", "IsPurgeCdnCache", "Error",
    "Code", "Message", "EC",
])
xml_soup = st.lists(XML_PIECES | st.text(max_size=3), max_size=40).map("".join)


@FUZZ
@given(xml_soup)
def test_xml_like_text(text: str) -> None:
    decode_all_or_malformed(text.encode("utf-8"))


@FUZZ
@given(st.sampled_from(sorted(DECODERS)), st.lists(XML_PIECES | st.text(max_size=3), max_size=12))
def test_xml_like_children_of_each_root(root: str, pieces: list[str]) -> None:
    decode_all_or_malformed(f"<{root}>{''.join(pieces)}</{root}>".encode())


# Valid documents of every kind, to be mutated.
short = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=8)
flags = st.booleans()
valid_documents = st.one_of(
    st.builds(CnameConfiguration, short.map(str.strip),
              st.none() | st.builds(CertificateConfiguration, st.none() | short.map(str.strip),
                                    st.none() | short, st.none() | short,
                                    st.none() | short.map(str.strip), flags, flags),
              flags).map(encode_cname_configuration),
    st.builds(CnameToken, short, short, short, short).map(encode_cname_token),
    st.builds(ListCnameResult, short, short, st.lists(
        st.builds(CnameInfo, short, short, short, flags,
                  st.none() | st.builds(CertificateSummary, short, short, short, short, short,
                                        short, short)),
        max_size=2).map(tuple)).map(encode_list_cname_result),
    st.builds(OssError, short, short, ec=short, request_id=short, host_id=short).map(encode_error),
    st.sampled_from(sorted({json.loads(p.read_text())["request"]["body"].encode()
                            for p in VECTORS.glob("*.json")} - {b""})),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(valid_documents))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if kind == "delete":
            del body[where:where + draw(st.integers(1, 16))]
        elif kind == "insert":
            body[where:where] = draw(st.binary(min_size=1, max_size=8)
                                     | XML_PIECES.map(str.encode))
        elif kind == "replace" and where < len(body):
            body[where] = draw(st.integers(0, 255))
        else:
            body[where:where] = body[where:where + draw(st.integers(1, 32))]
    return bytes(body)


@FUZZ
@given(mutated_documents())
def test_mutated_valid_documents(body: bytes) -> None:
    decode_all_or_malformed(body)


@pytest.mark.parametrize("encoding", [
    "hex", "base64", "rot13", "zlib", "no-such-codec", "utf-16", "utf-32", "utf-7", "big5",
    "idna", "undefined", "cp037", "", "x" * 300,
])
def test_declared_encodings_that_python_or_expat_cannot_use(encoding: str) -> None:
    body = (f'<?xml version="1.0" encoding="{encoding}"?><BucketCnameConfiguration><Cname>'
            "<Domain>www.example.com</Domain></Cname></BucketCnameConfiguration>").encode()
    decode_all_or_malformed(body)


@pytest.mark.parametrize("body", [
    b"<?xml version='1.0' encoding='ISO-8859-1'?><BucketCnameConfiguration><Cname>"
    b"<Domain>www.example.com</Domain></Cname></BucketCnameConfiguration>",
    b"\xef\xbb\xbf<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain></Cname>"
    b"</BucketCnameConfiguration>",
])
def test_declared_single_byte_encoding_and_bom_are_fine(body: bytes) -> None:
    assert decode_cname_configuration(body).domain == "www.example.com"


# --- DTDs and entities --------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE {root} [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
{document}"""

# A body for each root in which {value} lands in a field the decoder returns.
DOCUMENTS = {
    "BucketCnameConfiguration": "<BucketCnameConfiguration><Cname><Domain>{value}</Domain>"
                                "</Cname></BucketCnameConfiguration>",
    "CnameToken": "<CnameToken><Bucket>{value}</Bucket><Cname>c</Cname><Token>t</Token>"
                  "<ExpireTime>e</ExpireTime></CnameToken>",
    "ListCnameResult": "<ListCnameResult><Bucket>{value}</Bucket><Owner>o</Owner>"
                       "</ListCnameResult>",
    "Error": "<Error><Code>{value}</Code><Message>m</Message></Error>",
}
ROOTS = sorted(DOCUMENTS)


def _document(root: str, value: str) -> str:
    return DOCUMENTS[root].format(value=value)


def _malformed(root: str, body: str) -> OssError:
    with pytest.raises(OssError) as caught:
        DECODERS[root](body.encode())
    assert caught.value.code == "MalformedXML"
    assert caught.value.status == 400
    return caught.value


def _everything_said(error: OssError) -> str:
    """All text the error could leak: its fields, repr, wire body and its chained causes."""
    said = [str(error), repr(error), error.message, error.reason, str(error.details),
            encode_error(error).decode()]
    cause: BaseException | None = error
    while cause is not None:
        said += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(said)


@pytest.mark.parametrize("root", ROOTS)
def test_plain_doctype_is_refused(root: str) -> None:
    _malformed(root, f"<!DOCTYPE {root}>" + _document(root, "x"))


@pytest.mark.parametrize("root", ROOTS)
def test_internal_entity_is_refused(root: str) -> None:
    _malformed(root, f'<!DOCTYPE {root} [<!ENTITY e "www.example.com">]>'
                     + _document(root, "&e;"))


@pytest.mark.parametrize("root", ROOTS)
def test_billion_laughs_is_refused(root: str) -> None:
    error = _malformed(root, BILLION_LAUGHS.format(root=root,
                                                   document=_document(root, "&lol9;")))
    assert "lollol" not in _everything_said(error)


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[str, str]:
    """A local file with a unique marker: (file URI, marker)."""
    marker = "SECRET-MARKER-7f3a9c1e"
    path = tmp_path / "secret.txt"
    path.write_text(marker + "\n")
    return path.as_uri(), marker


def _passwd() -> tuple[str, str]:
    passwd = Path("/etc/passwd")
    if not passwd.is_file():
        pytest.skip("no /etc/passwd here")
    first = next((line for line in passwd.read_text().splitlines() if line.strip()), "")
    if not first:
        pytest.skip("/etc/passwd is empty")
    return "file:///etc/passwd", first


def _attacks(uri: str) -> dict[str, str]:
    return {
        "external-entity": f'<!DOCTYPE {{root}} [<!ENTITY xxe SYSTEM "{uri}">]>',
        "parameter-entity": f'<!DOCTYPE {{root}} [<!ENTITY % p SYSTEM "{uri}"> %p;]>',
        "external-dtd": f'<!DOCTYPE {{root}} SYSTEM "{uri}">',
        "public-dtd": f'<!DOCTYPE {{root}} PUBLIC "-//X//Y" "{uri}">',
    }


ATTACKS = sorted(_attacks("u"))


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("root", ROOTS)
def test_external_entities_are_refused_and_never_read(
    root: str, attack: str, secret_file: tuple[str, str]
) -> None:
    for uri, content in (secret_file, _passwd()):
        prolog = _attacks(uri)[attack].format(root=root)
        value = "&xxe;" if attack == "external-entity" else "x"
        error = _malformed(root, '<?xml version="1.0"?>\n' + prolog + _document(root, value))
        assert content not in _everything_said(error)


@pytest.mark.parametrize("root", ROOTS)
def test_undeclared_entity_is_malformed(root: str) -> None:
    _malformed(root, _document(root, "&xxe;"))


@pytest.mark.parametrize("root", ROOTS)
def test_xinclude_is_not_processed(root: str, secret_file: tuple[str, str]) -> None:
    uri, marker = secret_file
    include = (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{uri}" '
               'parse="text"/>')
    value = DECODERS[root](_document(root, include).encode())
    assert marker not in repr(value)


def test_predefined_and_character_references_still_work() -> None:
    config = decode_cname_configuration(
        _document("BucketCnameConfiguration", "a&amp;b&lt;&gt;&quot;&apos;&#65;&#x42;").encode())
    assert config.domain == "a&b<>\"'AB"
