"""website, cors, referer, cors-options: the Go behaviours their output rests on, pinned without
the Go binary (the differential tests compare with it when it is there; the golden files in
``cases.py`` pin every command form).

- ``goxml``'s struct decoding and marshalling, as Go's ``encoding/xml`` and ``strconv`` do them
  (each expectation was checked against ossutil 1.7.19's output for the same reply);
- ``cors-options``' header lines (``http.Header.WriteSubset``);
- ``--errors-to-stderr`` moves cors' doubled error line too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.clitools import run_ours

from ossutil.cli.cors import CORS_XML
from ossutil.cli.cors_options import canonical_key, header_lines
from ossutil.cli.goxml import GoXmlError, marshal_struct, parse_bool, parse_int, unmarshal_struct
from ossutil.cli.referer import REFERER_XML, referer_body


def _cors(body: bytes) -> str:
    return marshal_struct(CORS_XML, unmarshal_struct(body, CORS_XML), "  ", "    ")


def test_cors_reply_is_reordered_retyped_and_unknown_elements_dropped() -> None:
    body = (b"<?xml version='1.0'?><x:CORSConfiguration xmlns:x='u'><x:ResponseVary>T"
            b"</x:ResponseVary><CORSRule><MaxAgeSeconds>1</MaxAgeSeconds><Other>o</Other>"
            b"<ExposeHeader>e</ExposeHeader><AllowedOrigin>a<b>nested</b>c</AllowedOrigin>"
            b"<MaxAgeSeconds> -2 </MaxAgeSeconds></CORSRule></x:CORSConfiguration><trailing")
    assert _cors(body) == ("  <CORSConfiguration>\n"
                           "      <CORSRule>\n"
                           "          <AllowedOrigin>ac</AllowedOrigin>\n"
                           "          <ExposeHeader>e</ExposeHeader>\n"
                           "          <MaxAgeSeconds>-2</MaxAgeSeconds>\n"
                           "      </CORSRule>\n"
                           "      <ResponseVary>true</ResponseVary>\n"
                           "  </CORSConfiguration>")


def test_an_empty_configuration_is_one_line() -> None:
    assert _cors(b"<CORSConfiguration/>") == "  <CORSConfiguration></CORSConfiguration>"


@pytest.mark.parametrize("body, message", [
    (b"", "EOF"),
    (b"plain text", "EOF"),
    (b"<RefererConfiguration/>",
     "expected element type <CORSConfiguration> but have <RefererConfiguration>"),
    (b"<CORSConfiguration><CORSRule>", "XML syntax error on line 1: unexpected EOF"),
    (b"<CORSConfiguration><CORSRule><MaxAgeSeconds> </MaxAgeSeconds></CORSRule>"
     b"</CORSConfiguration>", 'strconv.ParseInt: parsing "": invalid syntax'),
    (b"<CORSConfiguration><CORSRule><MaxAgeSeconds>9223372036854775808</MaxAgeSeconds>"
     b"</CORSRule></CORSConfiguration>",
     'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
    (b'<CORSConfiguration><ResponseVary>"yes"\\</ResponseVary></CORSConfiguration>',
     'strconv.ParseBool: parsing "\\"yes\\"\\\\": invalid syntax'),
    # the first bad value is the error, even before a syntax error further on
    (b"<CORSConfiguration><ResponseVary>no</ResponseVary><", 'strconv.ParseBool: parsing "no": '
     "invalid syntax"),
])
def test_decoding_errors_are_gos(body: bytes, message: str) -> None:
    with pytest.raises(GoXmlError) as caught:
        unmarshal_struct(body, CORS_XML)
    assert str(caught.value) == message


@pytest.mark.parametrize("text, value", [("1", True), ("t", True), ("TRUE", True),
                                         ("True", True), (" false\n", False), ("F", False)])
def test_parse_bool_takes_strconvs_spellings(text: str, value: bool) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "tRUE", "2", ""])
def test_parse_bool_refuses_the_rest(text: str) -> None:
    with pytest.raises(GoXmlError):
        parse_bool(text)


@pytest.mark.parametrize("text, value", [("+007", 7), ("-0", 0), ("-9223372036854775808",
                                                                  -2**63)])
def test_parse_int_is_decimal_int64(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["1_000", "0x10", "١", "1e3", "+"])
def test_parse_int_refuses_what_go_refuses(text: str) -> None:
    with pytest.raises(GoXmlError):
        parse_int(text)


def test_referer_reply_keeps_the_sdk_fields_and_the_put_body_is_compact() -> None:
    body = (b"<RefererConfiguration><TruncatePath>true</TruncatePath><RefererList><Referer>a"
            b"</Referer></RefererList><RefererList><Referer>b</Referer></RefererList>"
            b"</RefererConfiguration>")
    assert marshal_struct(REFERER_XML, unmarshal_struct(body, REFERER_XML), "  ", "    ") == (
        "  <RefererConfiguration>\n"
        "      <AllowEmptyReferer>false</AllowEmptyReferer>\n"
        "      <RefererList>\n"
        "          <Referer>a</Referer>\n"
        "          <Referer>b</Referer>\n"
        "      </RefererList>\n"
        "  </RefererConfiguration>")
    assert referer_body(["x<y", ""], False) == (
        b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer><RefererList>"
        b"<Referer>x&lt;y</Referer><Referer></Referer></RefererList></RefererConfiguration>")


@pytest.mark.parametrize("name, canonical", [
    ("x-oss-meta-a", "X-Oss-Meta-A"), ("ETAG", "Etag"), ("vary", "Vary"),
    ("access-control-allow-origin", "Access-Control-Allow-Origin"),
    ("bad name", "bad name"), ("x_y", "X_y"),
])
def test_canonical_header_names(name: str, canonical: str) -> None:
    assert canonical_key(name) == canonical


def test_header_lines_sorted_trimmed_and_filtered() -> None:
    """As the 1.7.19 binary printed a raw reply with these headers: ossutil's six excluded,
    and what Go's client never hands over (framing, names that are not tokens)."""
    headers = [("vary", "Origin"), ("Date", "x"), ("Server", "AliyunOSS"),
               ("Content-Length", "0"), ("x-oss-request-id", "R"), ("X-Oss-Server-Time", "1"),
               ("Connection", "close"), ("Vary", " Access-Control-Request-Method "),
               ("access-control-allow-origin", "*"), ("Transfer-Encoding", "chunked"),
               ("Trailer", "X-T"), ("bad name", "v"), ("x(y", "v"), ("X-Fold", "one two")]
    assert header_lines(headers) == ("Access-Control-Allow-Origin: *\r\n"
                                     "Vary: Origin\r\n"
                                     "Vary: Access-Control-Request-Method\r\n"
                                     "X-Fold: one two\r\n")


def test_cors_error_lines_both_go_to_stderr_with_errors_to_stderr(tmp_path: Path) -> None:
    outcome = run_ours(["cors", "--method", "put", "oss://bucket", "missing.xml",
                        "--errors-to-stderr", "-e", "http://127.0.0.1:9", "-i", "a", "-k", "b",
                        "-c", str(tmp_path / "none.cfg")], cwd=tmp_path)
    assert (outcome.code, outcome.stdout) == (1, b"")
    assert outcome.stderr == (b"error:stat missing.xml: no such file or directory\n"
                              b"Error: stat missing.xml: no such file or directory\n")


@pytest.mark.parametrize("argv, reply", [
    (["website", "--method", "get", "oss://examplebucket"], b"<WebsiteConfiguration/>"),
    (["cors", "--method", "get", "oss://examplebucket"],
     b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"
     b"</CORSConfiguration>"),
    (["referer", "--method", "put", "oss://examplebucket", "https://www.example.com"], b""),
    (["cors-options", "oss://examplebucket/k", "--origin", "o", "--acr-method", "GET"], b""),
], ids=["website", "cors", "referer", "cors-options"])
def test_the_new_commands_load_no_xml_library_nor_dataclasses(argv: list[str], reply: bytes,
                                                              tmp_path: Path) -> None:
    """Go's encoding/xml is emulated by ``goxml`` (no import): like bucket-cname, these keep
    the XML libraries, the wire codecs (dataclasses, typing) and crypto off their path."""
    from tests.cli.fake_oss import FakeOss
    from tests.cli.test_light_imports import FORBIDDEN, START_UP_COST, _modules, _offending

    with FakeOss() as fake:
        fake.queue(200, reply, [("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")])
        code, modules = _modules([*argv, "-e", fake.endpoint, "-i", fake.access_key_id,
                                  "-k", fake.access_key_secret, "-c", "none.cfg"], tmp_path)
    assert code == 0
    assert "ossutil.client.http11" in modules  # the request really went out
    assert _offending(modules, (*FORBIDDEN, *START_UP_COST, "ossutil.wire.website_xml",
                                "ossutil.wire.cors_xml", "ossutil.wire.referer_xml")) == []


@pytest.mark.slow
def test_a_gzip_encoded_object_shows_its_headers_as_go_does(server, client, bucket: str,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path,
                                                           go_binary: Path) -> None:
    """HEAD and preflight replies carry Content-Encoding: gzip and a Content-Length that Go's
    transport leaves alone (it decodes only replies with a body)."""
    import gzip

    from tests.cli.clitools import run_process, server_options, shown

    from ossutil.wire.cors_xml import CorsConfiguration, CorsRule

    (tmp_path / "page.gz").write_bytes(gzip.compress(b"<p>" * 2000))
    client.put_object(bucket, "page.html", tmp_path / "page.gz", content_type="text/html",
                      headers=[("Content-Encoding", "gzip")])
    client.put_bucket_cors(bucket, CorsConfiguration((CorsRule(
        allowed_origins=("*",), allowed_methods=("GET",)),)))
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    for words in (["stat", f"oss://{bucket}/page.html"],
                  ["cors-options", f"oss://{bucket}/page.html", "--origin", "https://a.example",
                   "--acr-method", "GET"]):
        ours = run_ours([*words, *server_options(server, tmp_path)], cwd=tmp_path)
        go = run_process([go_binary, *words, *server_options(server, tmp_path)], cwd=tmp_path,
                         env=env)
        assert shown(ours, owner=True) == shown(go, owner=True), words
        assert ours.code == 0
    assert "Content-Encoding      : gzip\n" in run_ours(
        ["stat", f"oss://{bucket}/page.html", *server_options(server, tmp_path)],
        cwd=tmp_path).text
