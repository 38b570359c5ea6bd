"""The Go standard-library behaviours the Go SDK shows on the wire, reproduced."""

from __future__ import annotations

import pytest

from ossutil.client.errors import ClientError
from ossutil.client.gocompat import (
    detect_content_type,
    go_escape_text,
    go_query_escape,
    is_ip,
    parse_endpoint,
)


@pytest.mark.parametrize(("body", "mime"), [
    (b"<BucketCnameConfiguration/>", "text/plain; charset=utf-8"),
    (b'\n  <?xml version="1.0"?><a/>', "text/xml; charset=utf-8"),
    (b"\xef\xbb\xbf<?xml version='1.0'?>", "text/plain; charset=utf-8"),  # BOM wins over xml
    (b"<!-- c --><a/>", "text/html; charset=utf-8"),
    (b"<b>bold</b>", "text/html; charset=utf-8"),
    (b"<bucket>", "text/plain; charset=utf-8"),
    (b"\x00\x01binary", "application/octet-stream"),
    (b"%PDF-1.4", "application/pdf"),
    (b"", "text/plain; charset=utf-8"),
])
def test_detect_content_type(body: bytes, mime: str) -> None:
    assert detect_content_type(body) == mime


def test_escape_text_and_query_escape() -> None:
    assert go_escape_text("a&<>\"'\t\n\r\x01é") == "a&amp;&lt;&gt;&#34;&#39;&#x9;&#xA;&#xD;\ufffdé"
    assert go_query_escape("a b+c&d=e/é.com") == "a%20b%2Bc%26d%3De%2F%C3%A9.com"


@pytest.mark.parametrize(("endpoint", "scheme", "netloc", "ip"), [
    ("127.0.0.1:9000", "http", "127.0.0.1:9000", True),
    ("https://oss-cn-hangzhou.aliyuncs.com", "https", "oss-cn-hangzhou.aliyuncs.com", False),
    ("http://user:pw@10.0.0.1:80/path?q#f", "http", "10.0.0.1:80", True),
    ("HTTP://127.0.0.1:1", "http", "HTTP:", False),  # the prefix is case-sensitive in Go
    ("[::1]:9000", "http", "[::1]:9000", True),
    ("::1", "http", "::1", True),
    ("https://", "https", "", False),
    ("localhost:9000", "http", "localhost:9000", False),
])
def test_parse_endpoint(endpoint: str, scheme: str, netloc: str, ip: bool) -> None:
    parsed = parse_endpoint(endpoint)
    assert (parsed.scheme, parsed.netloc, parsed.is_ip) == (scheme, netloc, ip)


@pytest.mark.parametrize(("endpoint", "message"), [
    ("127.0.0.1:abc", 'parse "http://127.0.0.1:abc": invalid port ":abc" after host'),
    ("a b", 'parse "http://a b": invalid character " " in host name'),
    ("127.0.0.1:1 # note", 'parse "http://127.0.0.1:1 ": invalid port ":1 " after host'),
    ("a\x01b", 'parse "http://a\x01b": net/url: invalid control character in URL'),
])
def test_parse_endpoint_errors(endpoint: str, message: str) -> None:
    with pytest.raises(ClientError) as info:
        parse_endpoint(endpoint)
    assert str(info.value) == message


@pytest.mark.parametrize(("host", "ip"), [
    ("1.2.3.4", True), ("01.2.3.4", False), ("256.1.1.1", False), ("1.2.3", False),
    ("::1", True), ("fe80::1%eth0", False), ("example.com", False), ("", False),
])
def test_is_ip_is_gos_parse_ip(host: str, ip: bool) -> None:
    assert is_ip(host) is ip
