"""HTTP/1.1 on a socket, client side: just what ``HttpClientTransport`` needs (RFC 9112).

``http.client`` would do, but importing it costs more than the rest of a CLI call (it loads
``email.parser``, ``ssl``, ...). This module imports nothing (``_socket`` for types only) and
owns the wire format only; connecting, TLS, proxies, retries and error wording stay in
``transport``.

- ``encode_head`` writes the request line and the headers exactly as given.
- ``Connection`` is one socket with a read buffer; ``read_reply`` parses a status line and
  headers from it (interim ``1xx`` replies are skipped) and returns a ``Reply`` whose body is
  framed by ``Transfer-Encoding: chunked``, ``Content-Length`` or the close of the connection
  (none for ``HEAD``, ``1xx``, ``204`` and ``304``: RFC 9112 §6.3).

Framing faults raise ``ProtocolError``; its ``kind`` and text are those ``http.client`` used
(``BadStatusLine``, ``LineTooLong``, ``IncompleteRead`` ...), so the messages users see did not
change with the switch::

    Exception
     └── ProtocolError          a reply that breaks HTTP/1.x framing (``go_text``: how we print it)
          └── NoReplyError      the peer closed before sending a status line (stale keep-alive)

Example (any connected socket)::

    conn = Connection(sock)
    conn.send(encode_head("GET", "/", [("Host", "h")]))
    reply = read_reply(conn, "GET")
    body = reply.read()          # or: for piece in reply.chunks(65536): ...
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import _socket
    from collections.abc import Iterator

__all__ = ["Connection", "Reply", "ProtocolError", "NoReplyError", "encode_head", "read_reply",
           "read_tunnel_reply", "dial"]

MAX_LINE = 65536  # a status, header, chunk-size or trailer line longer than this is refused
MAX_HEADERS = 100
RECV = 65536  # bytes asked of the socket per read while parsing


class ProtocolError(Exception):
    """A reply that breaks HTTP/1.x framing. ``kind`` names the fault, ``str()`` details it."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind

    @property
    def go_text(self) -> str:
        """The cause as the CLI prints it: a short body is Go's ``unexpected EOF``."""
        if self.kind == "IncompleteRead":
            return "unexpected EOF"
        return f"net/http: {self.kind}: {self}"


class NoReplyError(ProtocolError):
    """The connection closed before a status line arrived (a stale keep-alive connection)."""

    def __init__(self) -> None:
        super().__init__("RemoteDisconnected", "Remote end closed connection without response")


def _incomplete(got: int, missing: int | None) -> ProtocolError:
    more = f", {missing} more expected" if missing is not None else ""
    return ProtocolError("IncompleteRead", f"IncompleteRead({got} bytes read{more})")


def _too_long(what: str) -> ProtocolError:
    return ProtocolError("LineTooLong", f"got more than {MAX_LINE} bytes when reading {what}")


# --- writing a request ----------------------------------------------------------------------


def _first_control(text: str) -> str | None:
    """The first character in ``\\x00-\\x20`` or ``\\x7f`` (not allowed in a method or target)."""
    for ch in text:
        if ch <= " " or ch == "\x7f":
            return ch
    return None


def _legal_name(name: bytes) -> bool:
    """A field name: not empty, no leading whitespace or colon, no colon, CR or LF after."""
    return (bool(name) and name[:1] not in b" \t\n\r\x0b\x0c:"
            and b":" not in name and b"\r" not in name and b"\n" not in name)


def _illegal_value(value: bytes) -> bool:
    """A CR or LF not starting an obs-fold (``\\r\\n`` + SP/HT) would split the header."""
    for index, byte in enumerate(value):
        if byte == 0x0A and value[index + 1:index + 2] not in (b" ", b"\t"):
            return True
        if byte == 0x0D and value[index + 1:index + 2] not in (b" ", b"\t", b"\n"):
            return True
    return False


def encode_head(method: str, target: str, headers: list[tuple[str, str]]) -> bytes:
    """``METHOD target HTTP/1.1`` + the headers in the order given + the blank line.

    Raises ``ValueError`` for a control character in the method or a header that would break
    the message, ``ProtocolError("InvalidURL")`` for one in the target; ``UnicodeEncodeError``
    for a non-ASCII method/target/name or a value outside Latin-1.
    """
    bad = _first_control(method)
    if bad is not None:
        raise ValueError(f"method can't contain control characters. {method!r} "
                         f"(found at least {bad!r})")
    bad = _first_control(target)
    if bad is not None:
        raise ProtocolError("InvalidURL", f"URL can't contain control characters. {target!r} "
                                          f"(found at least {bad!r})")
    lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
    for name, value in headers:
        raw_name = name.encode("ascii")
        if not _legal_name(raw_name):
            raise ValueError(f"Invalid header name {raw_name!r}")
        raw_value = value.encode("latin-1")
        if _illegal_value(raw_value):
            raise ValueError(f"Invalid header value {raw_value!r}")
        lines.append(raw_name + b": " + raw_value)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


# --- the connection and its read buffer ------------------------------------------------------


class Connection:
    """One connected socket (plain or TLS) and the bytes read from it but not yet consumed.

    ``used`` is set once a request went out on it (a reused connection may be stale);
    ``absolute_form`` and ``proxy_auth`` say how requests go through an HTTP proxy.
    """

    __slots__ = ("sock", "used", "absolute_form", "proxy_auth", "_buffer")

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.used = False
        self.absolute_form = False
        self.proxy_auth: str | None = None
        self._buffer = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()
        self._buffer.clear()

    def _fill(self) -> bool:
        """Read once more from the socket into the buffer; False at end of stream."""
        data = self.sock.recv(RECV)
        if not data:
            return False
        self._buffer += data
        return True

    def readline(self, what: str) -> bytes:
        """One line with its ``\\n`` (or what is left at end of stream, maybe ``b""``)."""
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end >= 0:
                if end >= MAX_LINE:
                    raise _too_long(what)
                line = bytes(self._buffer[:end + 1])
                del self._buffer[:end + 1]
                return line
            if len(self._buffer) > MAX_LINE:
                raise _too_long(what)
            start = len(self._buffer)
            if not self._fill():
                line = bytes(self._buffer)
                self._buffer.clear()
                return line

    def read_some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes: what is buffered, else one socket read; ``b""`` at the end."""
        if self._buffer:
            data = bytes(self._buffer[:limit])
            del self._buffer[:limit]
            return data
        return self.sock.recv(limit)

    def read_exact(self, count: int) -> bytes:
        """Exactly ``count`` bytes, else ``ProtocolError("IncompleteRead")``."""
        pieces: list[bytes] = []
        got = 0
        while got < count:
            piece = self.read_some(min(count - got, 1 << 20))
            if not piece:
                raise _incomplete(got, count - got)
            pieces.append(piece)
            got += len(piece)
        return b"".join(pieces)


# --- reading a reply -------------------------------------------------------------------------


def _status_line(conn: Connection) -> tuple[int, int, str]:
    """(version 10/11, status, reason) from ``HTTP/1.x NNN reason``."""
    raw = conn.readline("status line")
    if not raw:
        raise NoReplyError()
    line = raw.decode("iso-8859-1")
    fields = line.split(None, 2)
    version = fields[0] if fields else ""
    code = fields[1] if len(fields) > 1 else ""
    reason = fields[2].strip() if len(fields) > 2 else ""
    if not version.startswith("HTTP/") or not (code.isascii() and code.isdigit()) \
            or not 100 <= int(code) <= 999:
        raise ProtocolError("BadStatusLine", line)
    if version == "HTTP/1.0":
        return 10, int(code), reason
    if version.startswith("HTTP/1."):
        return 11, int(code), reason
    raise ProtocolError("UnknownProtocol", version)


def _header_block(conn: Connection) -> list[tuple[str, str]]:
    """Field lines up to the blank line (or end of stream); names keep their case."""
    headers: list[tuple[str, str]] = []
    while True:
        raw = conn.readline("header line")
        if raw in (b"\r\n", b"\n", b""):
            return headers
        if len(headers) >= MAX_HEADERS:
            raise ProtocolError("HTTPException", f"got more than {MAX_HEADERS} headers")
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if line[:1] in (" ", "\t") and headers:  # obs-fold: part of the previous value
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip(" \t"))
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError("HTTP/1.x transport connection broken",
                                f"malformed MIME header line: {line}")
        headers.append((name, value.lstrip(" \t")))


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class Reply:
    """A status line and headers read; the body is still on the connection.

    Read the body once, whole (``read``) or in pieces (``chunks``). ``will_close``: the
    connection cannot carry another request after this reply.
    """

    __slots__ = ("status", "reason", "headers", "will_close", "_conn", "_mode", "_length")

    def __init__(self, conn: Connection, method: str, version: int, status: int, reason: str,
                 headers: list[tuple[str, str]]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._conn = conn
        connection = (_first(headers, "connection") or "").lower()
        if version == 11:
            self.will_close = "close" in connection
        else:  # HTTP/1.0 keeps the connection only when the server says so
            self.will_close = not ("keep-alive" in connection
                                   or _first(headers, "keep-alive") is not None)
        self._length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._mode = "length"
            self._length = 0
        elif (_first(headers, "transfer-encoding") or "").strip().lower() == "chunked":
            self._mode = "chunked"
        else:
            declared = (_first(headers, "content-length") or "").strip()
            if declared.isascii() and declared.isdigit():
                self._mode = "length"
                self._length = int(declared)
            else:  # absent or unusable: the body runs to the close of the connection
                self._mode = "close"
                self.will_close = True

    def header(self, name: str) -> str:
        """First value of ``name`` (case-insensitive), ``""`` when absent."""
        return _first(self.headers, name.lower()) or ""

    def read(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks(1 << 20))

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body in pieces of at most ``size`` bytes, as they arrive."""
        conn = self._conn
        if self._mode == "length":
            remaining = self._length or 0
            while remaining:
                piece = conn.read_some(min(size, remaining))
                if not piece:
                    raise _incomplete((self._length or 0) - remaining, remaining)
                remaining -= len(piece)
                yield piece
        elif self._mode == "chunked":
            yield from self._chunked(size)
        else:
            while True:
                piece = conn.read_some(size)
                if not piece:
                    return
                yield piece

    def _chunked(self, size: int) -> Iterator[bytes]:
        """RFC 9112 §7.1: ``hex-size[;ext] CRLF data CRLF`` ... ``0 CRLF trailers CRLF``."""
        conn = self._conn
        got = 0
        while True:
            line = conn.readline("chunk size")
            digits = line.split(b";", 1)[0].strip()
            if not digits or digits.strip(b"0123456789abcdefABCDEF"):
                raise _incomplete(got, None)
            remaining = int(digits, 16)
            if remaining == 0:
                break
            while remaining:
                piece = conn.read_some(min(size, remaining))
                if not piece:
                    raise _incomplete(got, remaining)
                remaining -= len(piece)
                got += len(piece)
                yield piece
            if conn.read_exact(2) != b"\r\n":
                raise _incomplete(got, None)
        while conn.readline("trailer line") not in (b"\r\n", b"\n", b""):
            pass  # trailers are read and dropped


def read_reply(conn: Connection, method: str) -> Reply:
    """The final reply to a request sent on ``conn`` (interim 1xx replies but 101 skipped)."""
    while True:
        version, status, reason = _status_line(conn)
        headers = _header_block(conn)
        if not 100 <= status < 200 or status == 101:
            return Reply(conn, method, version, status, reason, headers)


def read_tunnel_reply(conn: Connection) -> tuple[int, str]:
    """A proxy's answer to ``CONNECT``: (status, reason), headers read and dropped."""
    _, status, reason = _status_line(conn)
    if status == 200:
        while conn.readline("header line") not in (b"\r\n", b"\n", b""):
            pass
    return status, reason


def dial(address: tuple[str, int], timeout: float | None = None) -> _socket.socket:
    """``socket.create_connection``, step for step (every address in turn, the last error
    raised), with an ASCII host passed as bytes (a str host makes ``getaddrinfo`` load the
    ``idna`` codec and ``unicodedata``). It dials with ``socket`` when something loaded it
    already (ssl does, and tests patch its ``getaddrinfo`` to keep custom domains on
    loopback), else with ``_socket``, the C module under it: importing socket.py costs a
    plain-http CLI call more than its request."""
    import sys

    net = sys.modules.get("socket") or __import__("_socket")
    host, port = address
    error: OSError | None = None
    target = host.encode("ascii") if host.isascii() else host
    for family, kind, proto, _, where in net.getaddrinfo(target, port, 0, net.SOCK_STREAM):
        sock: _socket.socket | None = None
        try:
            sock = net.socket(family, kind, proto)
            sock.settimeout(timeout)
            sock.connect(where)
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error or OSError("getaddrinfo returns an empty list")
