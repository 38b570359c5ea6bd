"""Our HTTP/1.1 client (``ossutil.client.http11`` under ``HttpClientTransport``) on real sockets.

A tiny threaded loopback server plays a script per accepted connection: each step reads one
request and answers with raw bytes (``None``: close without answering; ``CLOSE``: close right
after the previous answer). So every framing case is exact bytes on a real socket.
"""

from __future__ import annotations

import gzip
import io
import socket
import threading

import pytest

from ossutil.client.http11 import encode_head
from ossutil.client.transport import (
    FileBody,
    HttpClientTransport,
    Request,
    Response,
    TransportError,
)

CLOSE = b"<close>"


class Scripted:
    """Loopback server: ``Scripted([[reply, reply], [reply, CLOSE]])`` (one list per connection)."""

    def __init__(self, *connections: list[bytes | None]) -> None:
        self.scripts = list(connections)
        self.requests: list[tuple[int, bytes, bytes]] = []  # (connection index, head, body)
        self.accepted = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(5)
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Scripted:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while self.scripts:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            index, script = self.accepted, self.scripts.pop(0)
            self.accepted += 1
            threading.Thread(target=self._play, args=(conn, index, script), daemon=True).start()

    def _play(self, conn: socket.socket, index: int, script: list[bytes | None]) -> None:
        conn.settimeout(5)
        buffer = b""
        with conn:
            for step in [*script, None]:
                if step == CLOSE:
                    return
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                self.requests.append((index, head, buffer[:length]))
                buffer = buffer[length:]
                if step is None:
                    return
                conn.sendall(step)


def _request(server: Scripted, method: str = "GET", path: str = "/b/?cname",
             body: bytes | FileBody = b"", sink: object = None) -> Request:
    return Request(method, server.endpoint + path, [("Host", server.endpoint[7:])], body,
                   sink)  # type: ignore[arg-type]


def _send_once(request: Request, **options: float) -> Response:
    transport = HttpClientTransport(**options)  # type: ignore[arg-type]
    try:
        return transport.send(request)
    finally:
        transport.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_content_length_bodies_and_keep_alive_reuse_one_connection() -> None:
    with Scripted([OK, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]) as server:
        transport = HttpClientTransport()
        first = transport.send(_request(server))
        second = transport.send(_request(server))
        transport.close()
    assert (first.body, second.body) == (b"ok", b"hello")
    assert server.accepted == 1
    assert [index for index, _, _ in server.requests] == [0, 0]


def test_request_head_is_written_as_given_and_bytes_body_follows() -> None:
    with Scripted([OK]) as server:
        transport = HttpClientTransport()
        transport.send(Request("PUT", server.endpoint + "/b/?cname&comp=add",
                               [("Host", "h"), ("x-oss-date", "d"), ("Content-Type", "a/b")],
                               b"<xml/>"))
        transport.close()
    (_, head, body) = server.requests[0]
    assert head == (b"PUT /b/?cname&comp=add HTTP/1.1\r\nHost: h\r\nx-oss-date: d\r\n"
                    b"Content-Type: a/b\r\nContent-Length: 6")
    assert body == b"<xml/>"


def test_chunked_body_with_extensions_and_trailers_then_reuse() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
    with Scripted([chunked, OK]) as server:
        transport = HttpClientTransport()
        first = transport.send(_request(server))
        second = transport.send(_request(server))
        transport.close()
    assert first.body == b"hello, world"
    assert second.body == b"ok"
    assert server.accepted == 1


def test_chunked_body_streams_into_a_sink() -> None:
    pieces = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (b"a" * 70000, b"b" * 3, b"c"))
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + pieces + b"0\r\n\r\n"
    sink = io.BytesIO()
    with Scripted([reply]) as server:
        transport = HttpClientTransport()
        response = transport.send(_request(server, sink=sink))
        transport.close()
    assert response.body == b""
    assert sink.getvalue() == b"a" * 70000 + b"bbbc"


def test_body_without_length_runs_to_close_and_the_connection_is_not_reused() -> None:
    with Scripted([b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", CLOSE],
                  [OK]) as server:
        transport = HttpClientTransport()
        first = transport.send(_request(server))
        second = transport.send(_request(server))
        transport.close()
    assert first.body == b"until the end"
    assert second.body == b"ok"
    assert server.accepted == 2


def test_head_204_and_304_have_no_body_even_with_a_content_length() -> None:
    with Scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"e\"\r\n\r\n",
                   b"HTTP/1.1 204 No Content\r\n\r\n",
                   b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", OK]) as server:
        transport = HttpClientTransport()
        head = transport.send(_request(server, "HEAD"))
        no_content = transport.send(_request(server, "DELETE"))
        not_modified = transport.send(_request(server))
        last = transport.send(_request(server))
        transport.close()
    assert (head.status, head.body, head.header("content-length")) == (200, b"", "1234")
    assert (no_content.status_line, no_content.body) == ("204 No Content", b"")
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert last.body == b"ok"
    assert server.accepted == 1


def test_interim_100_continue_is_skipped() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    with Scripted([reply]) as server:
        transport = HttpClientTransport()
        response = transport.send(_request(server, "PUT", body=b"x"))
        transport.close()
    assert (response.status, response.body) == (200, b"ok")


def test_headers_keep_case_order_and_repeats_and_lookup_is_case_insensitive() -> None:
    reply = (b"HTTP/1.1 404 Not  Found \r\nX-Oss-Request-Id: 5C1B\r\nSet-Cookie: a=1\r\n"
             b"set-cookie: b=2\r\nX-Empty:\r\nX-Spaced:   v  \r\nContent-Length: 0\r\n\r\n")
    with Scripted([reply]) as server:
        transport = HttpClientTransport()
        response = transport.send(_request(server))
        transport.close()
    assert response.status_line == "404 Not  Found"
    assert response.headers == [("X-Oss-Request-Id", "5C1B"), ("Set-Cookie", "a=1"),
                                ("set-cookie", "b=2"), ("X-Empty", ""), ("X-Spaced", "v  "),
                                ("Content-Length", "0")]
    assert response.header("x-oss-request-id") == "5C1B"
    assert response.header("SET-COOKIE") == "a=1"


def test_a_status_line_without_reason_keeps_the_trailing_space() -> None:
    with Scripted([b"HTTP/1.1 600\r\nContent-Length: 0\r\n\r\n"]) as server:
        response = _send_once(_request(server))
    assert response.status_line == "600 "


def test_http_1_0_reply_closes_unless_kept_alive() -> None:
    with Scripted([b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"],
                  [b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
                   OK]) as server:
        transport = HttpClientTransport()
        for _ in range(3):
            assert transport.send(_request(server)).body == b"ok"
        transport.close()
    assert server.accepted == 2


def test_gzip_streams_into_a_sink_decoded() -> None:
    packed = gzip.compress(b"z" * 100000)
    reply = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
             % len(packed)) + packed
    sink = io.BytesIO()
    with Scripted([reply]) as server:
        request = Request("GET", server.endpoint + "/k", [("Accept-Encoding", "gzip")], b"",
                          sink)
        response = _send_once(request)
    assert sink.getvalue() == b"z" * 100000
    assert response.header("Content-Encoding") == ""


def test_file_body_streams_after_the_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 4000
    (tmp_path / "f").write_bytes(data)
    with Scripted([OK]) as server:
        transport = HttpClientTransport()
        transport.send(_request(server, "PUT", "/b/k", FileBody(tmp_path / "f")))
        transport.close()
    (_, head, body) = server.requests[0]
    assert head.endswith(b"\r\nContent-Length: %d" % len(data))
    assert body == data


# --- stale keep-alive connections --------------------------------------------------------------


def test_a_stale_reused_connection_is_retried_once_on_a_fresh_one() -> None:
    with Scripted([OK, None], [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"]) as server:
        transport = HttpClientTransport()
        transport.send(_request(server))
        response = transport.send(_request(server, "POST", body=b"again"))
        transport.close()
    assert response.body == b"fresh"
    assert server.accepted == 2
    assert [(index, body) for index, _, body in server.requests] == [
        (0, b""), (0, b"again"), (1, b"again")]


def test_a_fresh_connection_closed_without_reply_is_eof_with_no_retry() -> None:
    with Scripted([OK, None], [None], [OK]) as server:
        transport = HttpClientTransport()
        transport.send(_request(server))
        with pytest.raises(TransportError) as info:
            transport.send(_request(server))
        transport.close()
    assert str(info.value) == f'Get "{server.endpoint}/b/?cname": EOF'
    assert server.accepted == 2


# --- malformed replies: the messages ossutil printed with http.client ----------------------------


@pytest.mark.parametrize(("reply", "cause"), [
    (b"garbage\r\n\r\n", "net/http: BadStatusLine: garbage\r\n"),
    (b"HTTP/1.1 abc OK\r\n\r\n", "net/http: BadStatusLine: HTTP/1.1 abc OK\r\n"),
    (b"HTTP/1.1 42 Small\r\n\r\n", "net/http: BadStatusLine: HTTP/1.1 42 Small\r\n"),
    (b"HTTP/2.0 200 OK\r\n\r\n", "net/http: UnknownProtocol: HTTP/2.0"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: " + b"v" * 70000 + b"\r\n\r\n",
     "net/http: LineTooLong: got more than 65536 bytes when reading header line"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: v\r\n" * 101 + b"\r\n",
     "net/http: HTTPException: got more than 100 headers"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
     "net/http: HTTP/1.x transport connection broken: malformed MIME header line: no colon here"),
])
def test_malformed_replies_are_refused(reply: bytes, cause: str) -> None:
    with Scripted([reply, CLOSE]) as server:
        with pytest.raises(TransportError) as info:
            _send_once(_request(server))
    assert str(info.value) == f'Get "{server.endpoint}/b/?cname": {cause}'


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
])
def test_a_body_cut_short_is_unexpected_eof(reply: bytes) -> None:
    with Scripted([reply, CLOSE]) as server:
        with pytest.raises(TransportError) as info:
            _send_once(_request(server))
    assert str(info.value) == "unexpected EOF"  # Go prints a body read failure bare


def test_a_streamed_download_cut_short_fails_instead_of_ending_early() -> None:
    sink = io.BytesIO()
    with Scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000,
                   CLOSE]) as server:
        with pytest.raises(TransportError, match="^unexpected EOF$"):
            _send_once(_request(server, sink=sink))


def test_read_timeout_inside_the_body_reads_like_go() -> None:
    with Scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nslow"]) as server:
        with pytest.raises(TransportError) as info:
            _send_once(_request(server), read_timeout=0.3)
    assert str(info.value) == "read tcp: i/o timeout"


# --- the request head ---------------------------------------------------------------------------


def test_encode_head_refuses_what_would_split_the_message() -> None:
    assert encode_head("GET", "/", [("Host", "h"), ("X", "a\r\n b")]) == (
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n")
    with pytest.raises(ValueError, match="Invalid header value b'a\\\\r\\\\nX: y'"):
        encode_head("GET", "/", [("X", "a\r\nX: y")])
    with pytest.raises(ValueError, match="Invalid header name b':x'"):
        encode_head("GET", "/", [(":x", "v")])
    with pytest.raises(ValueError, match="method can't contain control characters"):
        encode_head("GE T", "/", [])


def test_a_control_character_in_the_target_is_refused_before_sending() -> None:
    with Scripted([CLOSE]) as server, pytest.raises(TransportError) as info:
        _send_once(Request("GET", server.endpoint + "/a b", [("Host", "h")]))
    assert server.requests == []
    assert str(info.value).endswith(
        "net/http: InvalidURL: URL can't contain control characters. '/a b' (found at least ' ')")
