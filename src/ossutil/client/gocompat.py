"""The few Go standard-library behaviours the Go SDK (and so ossutil 1.7) shows on the wire.

``OssClient(wire_style="go")`` uses these so its requests match the Go SDK's, and the CLI uses
them so its output matches ossutil's. Each function names the Go function it reproduces.

    >>> go_escape_text('a&b<"c">')
    'a&amp;b&lt;&#34;c&#34;&gt;'
    >>> detect_content_type(b'  <?xml version="1.0"?><a/>')
    'text/xml; charset=utf-8'
    >>> parse_endpoint("127.0.0.1:9000/").netloc
    '127.0.0.1:9000'
"""

from __future__ import annotations

import _socket  # socket.py's inet_pton is this one; importing socket.py costs ~3 ms

from ossutil.client.errors import ClientError
from ossutil.wire.records import Record

# --- encoding/xml.EscapeText -------------------------------------------------------------------

_XML_ESCAPES = {
    '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;",
}


def _in_xml_range(code: int) -> bool:
    return (code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def go_escape_text(text: str) -> str:
    """``xml.EscapeText``: the five entities plus tab/LF/CR; invalid characters become U+FFFD."""
    out: list[str] = []
    for ch in text:
        escaped = _XML_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif not _in_xml_range(ord(ch)):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_ESCAPED = tuple(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in range(256))


def go_query_escape(value: str) -> str:
    """``url.QueryEscape`` with ``+`` turned into ``%20`` (the Go SDK's query spelling).

    RFC 3986 unreserved characters stay, every other UTF-8 byte is ``%XX`` (upper-case hex):
    ``urllib.parse.quote(..., safe="-_.~")`` without importing ``urllib.parse``.
    """
    return "".join(map(_ESCAPED.__getitem__, value.encode("utf-8", "surrogateescape")))


# --- net/http.DetectContentType -----------------------------------------------------------------

_HTML_SIGS = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV",
              b"<FONT", b"<TABLE", b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P",
              b"<!--")
_MAGIC = (
    (b"%PDF-", "application/pdf"), (b"%!PS-Adobe-", "application/postscript"),
    (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"), (b"BM", "image/bmp"), (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b\x08", "application/x-gzip"), (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
    (b"Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"), (b"\x00asm", "application/wasm"),
    (b"OggS\x00", "application/ogg"), (b"ID3", "audio/mpeg"), (b"\x1aE\xdf\xa3", "video/webm"),
    (b"wOFF", "font/woff"), (b"wOF2", "font/woff2"),
)
_WS = b"\t\n\x0c\r "


def _is_binary(byte: int) -> bool:
    return byte <= 0x08 or byte == 0x0B or 0x0E <= byte <= 0x1A or 0x1C <= byte <= 0x1F


def detect_content_type(data: bytes) -> str:
    """``http.DetectContentType`` for the cases an XML/text body can hit (first 512 bytes)."""
    data = data[:512]
    stripped = data.lstrip(_WS)
    for sig in _HTML_SIGS:
        head = stripped[:len(sig)]
        if (len(stripped) > len(sig) and head.upper() == sig
                and stripped[len(sig)] in b" >"):
            return "text/html; charset=utf-8"
    if stripped.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    if data.startswith(b"\xfe\xff"):
        return "text/plain; charset=utf-16be"
    if data.startswith(b"\xff\xfe"):
        return "text/plain; charset=utf-16le"
    if data.startswith(b"\xef\xbb\xbf"):
        return "text/plain; charset=utf-8"
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if any(_is_binary(byte) for byte in data):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


# --- the SDK's urlMaker.InitExt (endpoint -> scheme + host) ------------------------------------


class Endpoint(Record):
    """An endpoint as the Go SDK reads it: ``scheme``, ``netloc`` (host[:port]), IP or not."""

    __slots__ = ("scheme", "netloc", "host", "is_ip")
    scheme: str
    netloc: str
    host: str
    is_ip: bool


_HOST_OK = set("!$&'()*+,;=:[]<>\"-_.~")


def parse_endpoint(endpoint: str) -> Endpoint:
    """``http://``/``https://`` prefix (case-sensitive) else ``http``; host via Go's url.Parse.

    Raises ``ClientError`` with Go's text (``parse "http://a b": invalid character " " in host
    name``) where ``url.Parse`` fails.
    """
    if endpoint.startswith("http://"):
        scheme, rest = "http", endpoint[len("http://"):]
    elif endpoint.startswith("https://"):
        scheme, rest = "https", endpoint[len("https://"):]
    else:
        scheme, rest = "http", endpoint
    rest = rest.split("#", 1)[0]  # url.Parse drops the fragment before anything else
    full = f"{scheme}://{rest}"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in full):
        raise ClientError(f'parse "{full}": net/url: invalid control character in URL')
    authority = rest
    for sep in "/?":
        authority = authority.split(sep, 1)[0]
    netloc = authority.rpartition("@")[2]
    _check_host(full, netloc)
    host = _split_host(netloc)
    return Endpoint(scheme, netloc, host, is_ip(host))


def _check_host(full: str, netloc: str) -> None:
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            raise ClientError(f"parse \"{full}\": missing ']' in host")
        port = netloc[close + 1:]
        if port and not (port.startswith(":") and port[1:].isdigit() or port == ":"):
            raise ClientError(f'parse "{full}": invalid port "{port}" after host')
        return
    colon = netloc.rfind(":")
    if colon >= 0:
        port = netloc[colon:]
        if not all(ch in "0123456789" for ch in port[1:]):
            raise ClientError(f'parse "{full}": invalid port "{port}" after host')
    for ch in netloc:
        if ord(ch) < 0x80 and not ch.isalnum() and ch not in _HOST_OK:
            raise ClientError(f'parse "{full}": invalid character "{ch}" in host name')


def _split_host(netloc: str) -> str:
    """``net.SplitHostPort``'s host, else the netloc without brackets."""
    if netloc.startswith("["):
        close = netloc.find("]")
        if close > 0 and (netloc[close + 1:] == "" or netloc[close + 1:].startswith(":")):
            if netloc[close + 1:].startswith(":"):
                return netloc[1:close]
        return netloc[1:-1] if netloc.endswith("]") else netloc
    if netloc.count(":") == 1:
        return netloc.split(":", 1)[0]
    return netloc


def is_ip(host: str) -> bool:
    """``net.ParseIP(host) != nil``: dotted IPv4 (no leading zeros) or IPv6 (no zone)."""
    if not host:
        return False
    if "." in host and ":" not in host:
        parts = host.split(".")
        return len(parts) == 4 and all(
            p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255
            and (p == "0" or not p.startswith("0")) for p in parts)
    if ":" in host and "%" not in host:
        try:
            _socket.inet_pton(_socket.AF_INET6, host)
        except (OSError, ValueError):
            return False
        return True
    return False
