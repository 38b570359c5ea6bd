"""``HttpClientTransport``: timeouts, proxies, TLS on/off, and Go's wording for failures."""

from __future__ import annotations

import gzip
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.client.recorder import Recorder

from ossutil.client.transport import (
    HttpClientTransport,
    ProxyConfig,
    Request,
    TransportError,
    split_host_port,
)


def _get(url: str, **headers: str) -> Request:
    host = url.split("://", 1)[1].split("/", 1)[0]
    return Request("GET", url, [("Host", host), *headers.items()])


def test_connection_refused_reads_like_go() -> None:
    transport = HttpClientTransport(connect_timeout=5)
    with pytest.raises(TransportError) as info:
        transport.send(Request("POST", "http://127.0.0.1:1/b/?cname&comp=add",
                               [("Host", "127.0.0.1:1")], b"x"))
    assert str(info.value) == ('Post "http://127.0.0.1:1/b/?cname&comp=add": dial tcp '
                               "127.0.0.1:1: connect: connection refused")


def test_unknown_host_reads_like_go() -> None:
    with pytest.raises(TransportError) as info:
        HttpClientTransport(connect_timeout=5).send(_get("http://nonexistent.invalid/"))
    text = str(info.value)
    assert text.startswith('Get "http://nonexistent.invalid/": dial tcp: lookup '
                           "nonexistent.invalid")
    assert text.endswith(": no such host")


def test_read_timeout_while_waiting_for_headers() -> None:
    with Recorder() as rec:
        rec.reply(200, b"late", delay=1.0)
        transport = HttpClientTransport(read_timeout=0.3)
        with pytest.raises(TransportError) as info:
            transport.send(_get(rec.endpoint + "/b/?cname"))
    assert str(info.value) == (f'Get "{rec.endpoint}/b/?cname": net/http: timeout awaiting '
                               "response headers")


def test_server_closing_without_a_reply_is_eof() -> None:
    with Recorder() as rec:
        rec.reply(close=True)
        with pytest.raises(TransportError) as info:
            HttpClientTransport().send(_get(rec.endpoint + "/"))
    assert str(info.value) == f'Get "{rec.endpoint}/": EOF'


def test_invalid_port_reads_like_go() -> None:
    with pytest.raises(TransportError) as info:
        HttpClientTransport().send(_get("http://127.0.0.1:99999/"))
    assert str(info.value) == 'Get "http://127.0.0.1:99999/": dial tcp: address 99999: invalid port'


def test_gzip_replies_are_decoded_when_gzip_was_asked_for() -> None:
    packed = gzip.compress(b"hello")
    with Recorder() as rec:
        rec.reply(200, packed, [("Content-Encoding", "gzip")])
        rec.reply(200, packed, [("Content-Encoding", "gzip")])
        transport = HttpClientTransport()
        asked = transport.send(_get(rec.endpoint + "/", **{"Accept-Encoding": "gzip"}))
        not_asked = transport.send(_get(rec.endpoint + "/"))
        transport.close()
    assert asked.body == b"hello"
    assert not_asked.body == packed


def test_gzip_headers_stay_on_replies_without_a_body() -> None:
    """As Go's transport: HEAD and empty replies keep Content-Encoding and Content-Length
    (the 1.7.19 binary's ``stat`` and ``cors-options`` print them)."""
    gzip_headers = [("Content-Encoding", "gzip"), ("Content-Length", "100")]
    with Recorder() as rec:
        rec.reply(200, b"", gzip_headers)
        rec.reply(200, b"", [("Content-Encoding", "gzip")])
        transport = HttpClientTransport()
        head = transport.send(Request("HEAD", rec.endpoint + "/k", [
            ("Host", rec.hostport), ("Accept-Encoding", "gzip")]))
        empty = transport.send(_get(rec.endpoint + "/", **{"Accept-Encoding": "gzip"}))
        transport.close()
    assert [(n, v) for n, v in head.headers if n in ("Content-Encoding", "Content-Length")] \
        == gzip_headers
    assert [(n, v) for n, v in empty.headers if n in ("Content-Encoding", "Content-Length")] \
        == [("Content-Encoding", "gzip"), ("Content-Length", "0")]


def test_http_proxy_gets_absolute_form_and_basic_auth() -> None:
    with Recorder() as proxy:
        transport = HttpClientTransport(proxy=ProxyConfig(proxy.endpoint, "user", "pa:ss"))
        transport.send(_get("http://bucket.oss-cn-hangzhou.aliyuncs.com/?cname"))
        transport.close()
    (seen,) = proxy.requests
    assert seen.request_line == "GET http://bucket.oss-cn-hangzhou.aliyuncs.com/?cname HTTP/1.1"
    assert seen.header("Host") == "bucket.oss-cn-hangzhou.aliyuncs.com"
    assert seen.header("Proxy-Authorization") == "Basic dXNlcjpwYTpzcw=="


def test_https_through_a_proxy_uses_connect() -> None:
    with Recorder() as proxy:
        proxy.reply(403, reason="Forbidden")
        transport = HttpClientTransport(proxy=f"http://u:p@{proxy.hostport}")
        with pytest.raises(TransportError):
            transport.send(_get("https://bucket.example.com/?cname"))
    (seen,) = proxy.requests
    assert seen.request_line == "CONNECT bucket.example.com:443 HTTP/1.0"
    assert seen.header("Proxy-Authorization") == "Basic dTpw"


def test_socks_proxies_are_refused_clearly() -> None:
    with pytest.raises(TransportError, match="proxy scheme 'socks5' is not supported"):
        HttpClientTransport(proxy="socks5://127.0.0.1:1080").send(_get("http://h/"))


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture()
def tls_server():  # type: ignore[no-untyped-def]
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_tls_is_verified_unless_told_not_to(tls_server: str) -> None:
    with pytest.raises(TransportError) as info:
        HttpClientTransport().send(_get(tls_server + "/"))
    assert str(info.value).endswith(": x509: certificate signed by unknown authority")
    transport = HttpClientTransport(verify_tls=False)
    assert transport.send(_get(tls_server + "/")).body == b"ok"
    transport.close()


@pytest.mark.parametrize(("netloc", "expected"), [
    ("h", ("h", 80)), ("h:8080", ("h", 8080)), ("[::1]:9", ("::1", 9)), ("[::1]", ("::1", 80)),
    ("a:b:1", ("a:b", 1)),
])
def test_split_host_port(netloc: str, expected: tuple[str, int]) -> None:
    assert split_host_port(netloc, 80) == expected
