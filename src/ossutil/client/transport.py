"""Send one HTTP request, get one response: the ``Transport`` protocol and its stdlib default.

``OssClient`` builds, signs and decodes; a ``Transport`` only moves bytes. The default,
``HttpClientTransport``, is our own small HTTP/1.1 client (``ossutil.client.http11``) on
``socket``, on purpose: no ``requests``/``httpx``/``urllib3``, not even ``http.client`` (which
loads ``email`` and ``ssl``), so the CLI starts fast; ``ssl`` is imported only for ``https``.
It honours a connect timeout, a read timeout (each socket read, including
the wait for the response headers), an HTTP proxy (absolute-form request line for ``http://``
targets, ``CONNECT`` for ``https://``) and TLS verification on/off. It sends the headers exactly
in the order given (``Host`` first when present) and adds nothing but ``Content-Length`` when the
caller left it out of a request with a body.

Object bodies stream both ways, so memory stays flat whatever the size:

- ``Request.body`` may be a ``FileBody`` (a file on disk, or an open binary file, and its length):
  it goes out in 256 KiB chunks after the headers, with ``Content-Length``, never whole.
- ``Request.sink`` (anything with ``write(bytes)``) receives the body of a 2xx response chunk by
  chunk; the ``Response`` then carries ``b""``. Error replies are still read into ``body``.

Every foreign exception (socket, ssl, ``http11.ProtocolError``) is mapped here, and only here,
to a ``TransportError`` whose text is Go's ``url.Error`` format, because ossutil 1.7 prints that::

    Post "http://127.0.0.1:1/b/?cname&comp=add": dial tcp 127.0.0.1:1: connect: connection refused

Example (an in-process fake, the way tests mock the network boundary)::

    from ossutil.client.transport import Request, Response

    class Canned:
        def send(self, request: Request) -> Response:
            return Response(200, "OK", [("x-oss-request-id", "5C1B...")], b"")

    OssClient("http://127.0.0.1:9000", creds, transport=Canned())

Hierarchy::

    Exception
     └── ClientError            (ossutil.client.errors; local failures, never a server reply)
          ├── TransportError    network failure; ``str()`` is Go's url.Error text
          └── LocalFileError    a streamed body's file failed to read or write (Go's PathError)
"""

from __future__ import annotations

import _socket
import errno
import os
import sys

from ossutil.client.errors import ClientError
from ossutil.client.http11 import (
    Connection,
    NoReplyError,
    ProtocolError,
    Reply,
    encode_head,
    read_reply,
    read_tunnel_reply,
)
from ossutil.client.http11 import dial as http11_dial
from ossutil.wire.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO, Protocol
else:
    Protocol = object

__all__ = ["Request", "Response", "Transport", "TransportError", "HttpClientTransport",
           "ProxyConfig", "FileBody", "Sink", "LocalFileError"]

CHUNK = 256 * 1024  # streamed bodies move in pieces of this size


class Sink(Protocol):
    """Where a streamed response body goes (an open file, a hash, ...)."""

    def write(self, data: bytes, /) -> object: ...


class LocalFileError(ClientError):
    """The local side of a streamed body failed (a file that cannot be read or written)."""


class FileBody:
    """A request body read from disk in ``CHUNK`` pieces, never held whole.

    ``source`` is a path or an open binary file (read from its current position); ``length`` is
    the byte count to send (default: to the end of the file). ``progress(sent)`` is called with
    the bytes sent so far in this attempt (a retried request starts again from 0).
    ``len()`` is ``length``, so it fills ``Content-Length`` like a ``bytes`` body would.
    """

    __slots__ = ("source", "length", "progress", "_start")

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, length: int | None = None,
                 progress: Callable[[int], object] | None = None) -> None:
        self.source = source
        self.progress = progress
        if isinstance(source, str | os.PathLike):
            self._start = 0
            size = os.stat(source).st_size
        else:
            self._start = source.tell()
            size = os.fstat(source.fileno()).st_size - self._start
        self.length = size if length is None else length

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def __repr__(self) -> str:
        return f"FileBody({self.source!r}, length={self.length})"

    def chunks(self) -> Iterator[bytes]:
        """The body from its start (again on every call); raises if the file got shorter."""
        name = self.source if isinstance(self.source, str | os.PathLike) \
            else getattr(self.source, "name", "")
        try:
            if isinstance(self.source, str | os.PathLike):
                handle: BinaryIO = open(self.source, "rb")  # noqa: SIM115 - closed below
                owned = True
            else:
                handle = self.source
                handle.seek(self._start)
                owned = False
        except OSError as exc:
            raise LocalFileError(_path_error("open", name, exc)) from exc
        try:
            remaining, sent = self.length, 0
            while remaining:
                try:
                    chunk = handle.read(min(CHUNK, remaining))
                except OSError as exc:
                    raise LocalFileError(_path_error("read", name, exc)) from exc
                if not chunk:
                    raise LocalFileError(f"read {os.fsdecode(name) if name else 'file'}: file "
                                         f"shrank while uploading ({remaining} bytes missing)")
                remaining -= len(chunk)
                sent += len(chunk)
                yield chunk
                if self.progress is not None:
                    self.progress(sent)
        finally:
            if owned:
                handle.close()


class Request(Record):
    """One request: ``url`` is absolute (``scheme://host[:port]/path?query``) as it goes out.

    ``headers`` is a list of (name, value) in wire order; ``body`` bytes or a ``FileBody``;
    ``sink``, when set, receives a 2xx response body instead of ``Response.body``.
    """

    __slots__ = ("method", "url", "headers", "body", "sink")
    _defaults = {"headers": (), "body": b"", "sink": None}
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | FileBody
    sink: Sink | None


class Response(Record):
    """One response; ``reason`` is the status text exactly as the server sent it."""

    __slots__ = ("status", "reason", "headers", "body")
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        """First value of header ``name`` (case-insensitive), "" when absent (Go's Header.Get)."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return ""

    @property
    def status_line(self) -> str:
        """``404 Not Found`` (Go's ``resp.Status``; ``600 `` when the reason is empty, as servers
        that write ``code reason`` send it)."""
        return f"{self.status} {self.reason}"


class Transport(Protocol):
    """Sends one request and returns the complete response (body read)."""

    def send(self, request: Request) -> Response: ...


class TransportError(ClientError):
    """A request that got no HTTP response. ``str()`` is Go's ``url.Error`` text.

    ``method``/``url``/``cause`` are the parts: ``<Method> "<url>": <cause>`` with the method in
    Go's capitalisation (``Get``, ``Post``). ``wrapped=False`` gives the bare cause, which is what
    Go prints for failures while reading a body after the headers arrived.
    """

    def __init__(self, method: str, url: str, cause: str, *, wrapped: bool = True) -> None:
        self.method = method
        self.url = url
        self.cause = cause
        self.wrapped = wrapped
        text = f'{method[:1].upper()}{method[1:].lower()} "{url}": {cause}' if wrapped else cause
        super().__init__(text)


class ProxyConfig(Record):
    """An HTTP proxy: ``url`` like ``http://host:port``; optional Basic credentials."""

    __slots__ = ("url", "user", "password")
    _defaults = {"user": "", "password": ""}
    _secret = ("password",)
    url: str
    user: str
    password: str

    def authorization(self) -> str | None:
        import base64
        from urllib.parse import unquote, urlsplit  # proxies only: not on the common path

        parts = urlsplit(self.url if "://" in self.url else "http://" + self.url)
        user = self.user or unquote(parts.username or "")
        password = self.password or unquote(parts.password or "")
        if not user and not password:
            return None
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class HttpClientTransport:
    """``Transport`` on our own HTTP/1.1 client (``http11``) over ``socket``; keeps one idle
    connection per target for reuse. ``ssl`` is imported only for an ``https`` target."""

    def __init__(self, *, connect_timeout: float = 120.0, read_timeout: float = 1200.0,
                 proxy: ProxyConfig | str | None = None, verify_tls: bool = True,
                 decode_gzip: bool = True) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.proxy = ProxyConfig(proxy) if isinstance(proxy, str) else proxy
        self.verify_tls = verify_tls
        self.decode_gzip = decode_gzip
        self._idle: dict[tuple[str, str, int], Connection] = {}
        self._ssl_context: ssl.SSLContext | None = None

    # --- public ----------------------------------------------------------------------------

    def send(self, request: Request) -> Response:
        scheme, netloc, target = split_url(request.url)
        host, port = split_host_port(netloc.rpartition("@")[2],
                                     443 if scheme == "https" else 80)
        if not 0 < port < 65536:
            raise TransportError(request.method, request.url,
                                 f"dial tcp: address {port}: invalid port")
        key = (scheme, host, port)
        reused = self._idle.pop(key, None)
        try:
            if reused is not None:
                try:
                    return self._exchange(reused, request, scheme, netloc, target, key)
                except _StaleConnection:
                    reused.close()
                except BaseException:
                    reused.close()
                    raise
            connection = self._connect(request, scheme, host, port)
            try:
                return self._exchange(connection, request, scheme, netloc, target, key)
            except _StaleConnection as stale:
                raise TransportError(request.method, request.url, "EOF") from stale.__cause__
            except BaseException:
                connection.close()
                raise
        except ClientError:  # TransportError, or a local file that failed to read or write
            raise
        except Exception as exc:  # noqa: BLE001 - every foreign failure becomes TransportError
            raise self._map(exc, request, None) from exc

    def close(self) -> None:
        """Close idle connections."""
        for connection in self._idle.values():
            connection.close()
        self._idle.clear()

    # --- connection set-up -----------------------------------------------------------------

    def _connect(self, request: Request, scheme: str, host: str, port: int) -> Connection:
        proxy = self.proxy
        auth: str | None = None
        if proxy is not None:
            from urllib.parse import urlsplit  # only with a proxy: its URL may carry userinfo

            proxy_parts = urlsplit(proxy.url if "://" in proxy.url else "http://" + proxy.url)
            proxy_scheme = proxy_parts.scheme.lower()
            if proxy_scheme not in ("http", "https"):
                raise TransportError(request.method, request.url,
                                     f"proxy scheme {proxy_scheme!r} is not supported "
                                     "(use an http:// or https:// proxy)")
            # As before the switch: the proxy itself is spoken to in plain HTTP (CONNECT for an
            # https target, absolute-form requests for an http one), whatever its scheme.
            dial = (proxy_parts.hostname or "", proxy_parts.port
                    or (443 if proxy_scheme == "https" else 80))
            auth = proxy.authorization()
        else:
            dial = (host, port)
        sock: _socket.socket | None = None
        try:
            if scheme == "https":
                import ssl  # noqa: F401 - it loads ``socket``, so the dial makes what ssl wraps
            sock = http11_dial(dial, self.connect_timeout)
            try:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError as exc:
                if exc.errno != errno.ENOPROTOOPT:
                    raise
            conn = Connection(sock)
            if proxy is not None and scheme == "https":
                _tunnel(conn, host, port, auth)
            if scheme == "https":
                sock = self._context().wrap_socket(
                    sock, server_hostname=host)  # type: ignore[arg-type]  # a socket.socket
                conn = Connection(sock)
        except Exception as exc:  # noqa: BLE001
            if sock is not None:
                sock.close()
            raise self._map(exc, request, dial, proxy=proxy is not None) from exc
        sock.settimeout(self.read_timeout)
        if proxy is not None and scheme == "http":
            conn.absolute_form = True
            conn.proxy_auth = auth
        return conn

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            import ssl

            context = ssl.create_default_context()
            if not self.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    # --- one exchange ----------------------------------------------------------------------

    def _exchange(self, conn: Connection, request: Request, scheme: str, netloc: str,
                  target: str, key: tuple[str, str, int]) -> Response:
        if conn.absolute_form:
            target = f"{scheme}://{netloc}{target}"
        headers = list(request.headers)
        names = {name.lower() for name, _ in headers}
        if "host" not in names:
            headers.insert(0, ("Host", netloc))
        if request.body and "content-length" not in names:
            headers.append(("Content-Length", str(len(request.body))))
        if conn.proxy_auth and conn.absolute_form:
            headers.append(("Proxy-Authorization", conn.proxy_auth))
        fresh = not conn.used
        body = request.body
        head = encode_head(request.method, target, headers)
        try:
            # A bytes body goes out with the head in one write (no Nagle/delayed-ACK stall).
            conn.send(head if isinstance(body, FileBody) else head + body)
        except (BrokenPipeError, ConnectionResetError) as exc:
            if not fresh:
                raise _StaleConnection() from exc
            raise
        conn.used = True
        if isinstance(body, FileBody):
            try:
                for chunk in body.chunks():
                    conn.send(chunk)
            except (BrokenPipeError, ConnectionResetError) as write_error:
                # The server may have answered (an error) without reading the whole body: take
                # its reply if one arrived, as Go's transport does; else report the write error.
                try:
                    reply = read_reply(conn, request.method)
                except Exception:  # noqa: BLE001 - no reply: the write error is the news
                    conn.close()
                    if not fresh:
                        raise _StaleConnection() from write_error
                    raise write_error from None
                return self._finish(conn, reply, request, key)
        try:
            reply = read_reply(conn, request.method)
        except NoReplyError as exc:
            if not fresh:
                raise _StaleConnection() from exc
            raise TransportError(request.method, request.url, "EOF") from exc
        except TimeoutError as exc:
            conn.close()
            raise TransportError(request.method, request.url,
                                 "net/http: timeout awaiting response headers") from exc
        return self._finish(conn, reply, request, key)

    def _finish(self, conn: Connection, reply: Reply, request: Request,
                key: tuple[str, str, int]) -> Response:
        """Read the body (into memory, or into ``request.sink`` for a 2xx reply)."""
        response_headers = reply.headers
        # Go's transport decodes (and drops Content-Encoding/-Length) only a reply that has a
        # body: not for HEAD, 1xx/204/304 or ``Content-Length: 0`` (``stat`` of a gzip object
        # shows both headers, as ossutil does)
        has_body = (request.method != "HEAD" and reply.status not in (204, 304)
                    and reply.status >= 200 and reply.header("Content-Length").strip() != "0")
        gzipped = (self.decode_gzip and has_body
                   and any(n.lower() == "accept-encoding" and "gzip" in v.lower()
                           for n, v in request.headers)
                   and reply.header("Content-Encoding").lower() == "gzip")
        sink = request.sink if 200 <= reply.status < 300 else None
        try:
            if sink is None:
                body = reply.read()
                if gzipped and body:
                    import gzip

                    body = gzip.decompress(body)
            else:
                body = b""
                _copy(reply, sink, gzipped)
        except LocalFileError:
            conn.close()
            raise
        except Exception as exc:  # noqa: BLE001 - a failure after the headers: Go's bare text
            conn.close()
            # Addresses are left out (``read tcp: i/o timeout``), as they were with http.client.
            mapped = self._map(exc, request, None)
            raise TransportError(request.method, request.url, mapped.cause,
                                 wrapped=False) from exc
        if gzipped:
            response_headers = [(n, v) for n, v in response_headers
                                if n.lower() not in ("content-encoding", "content-length")]
        if reply.will_close:
            conn.close()
        else:
            self._idle[key] = conn
        return Response(reply.status, reply.reason, response_headers, body)

    # --- error mapping ---------------------------------------------------------------------

    def _map(self, exc: BaseException, request: Request, dial: tuple[str, int] | None, *,
             proxy: bool = False, sock: _socket.socket | None = None) -> TransportError:
        return TransportError(request.method, request.url,
                              go_cause(exc, dial, proxy=proxy, sock=sock))


def _tunnel(conn: Connection, host: str, port: int, auth: str | None) -> None:
    """``CONNECT host:port`` through the proxy on ``conn``; raises unless it answers 200."""
    lines = [f"CONNECT {_addr(host, port)} HTTP/1.0\r\n".encode("ascii")]
    if auth:
        lines.append(f"Proxy-Authorization: {auth}\r\n".encode("latin-1"))
    conn.send(b"".join(lines) + b"\r\n")
    status, reason = read_tunnel_reply(conn)
    if status != 200:
        raise OSError(f"Tunnel connection failed: {status} {reason}")


def _sockets() -> Any:
    """The module to resolve and dial with: ``socket`` when something loaded it already (ssl
    does, and tests patch its ``getaddrinfo`` to keep custom domains on loopback), else
    ``_socket``, the C module under it, whose functions and exceptions are the same objects:
    importing socket.py costs a plain-http CLI call more than its request (it builds IntEnums
    and loads ``selectors``)."""
    return sys.modules.get("socket") or _socket


def _copy(reply: Reply, sink: Sink, gzipped: bool) -> None:
    """Stream a response body into ``sink`` in pieces of up to ``CHUNK`` (gunzipping)."""
    decoder = None
    if gzipped:
        import zlib

        decoder = zlib.decompressobj(wbits=31)
    for chunk in reply.chunks(CHUNK):
        if decoder is not None:
            chunk = decoder.decompress(chunk)
        if chunk:
            _write(sink, chunk)
    if decoder is not None:
        tail = decoder.flush()
        if tail:
            _write(sink, tail)


def _write(sink: Sink, data: bytes) -> None:
    try:
        sink.write(data)
    except OSError as exc:
        raise LocalFileError(_path_error("write", getattr(sink, "name", ""), exc)) from exc


def _path_error(op: str, path: str | os.PathLike[str], exc: OSError) -> str:
    """Go's ``*PathError`` text: ``write /tmp/x: no space left on device``."""
    reason = exc.strerror or str(exc)
    return f"{op} {os.fsdecode(path) if path else 'file'}: {reason[:1].lower()}{reason[1:]}"


class _StaleConnection(Exception):
    """A reused keep-alive connection the server had closed: retry once on a fresh one."""


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme in lower case, netloc, request target) of ``scheme://netloc/path?query#frag``.

    The target is the path (``/`` when empty) and ``?query`` when the query is not empty; the
    fragment is dropped. What ``urllib.parse.urlsplit`` gives for the URLs a client builds,
    without importing it (it pulls in ``ipaddress`` and ``re``).
    """
    url = url.split("#", 1)[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = len(rest)
    for stop in "/?":
        found = rest.find(stop)
        if 0 <= found < end:
            end = found
    path, _, query = rest[end:].partition("?")
    return scheme.lower(), rest[:end], (path or "/") + (f"?{query}" if query else "")


def split_host_port(netloc: str, default_port: int) -> tuple[str, int]:
    """Host and port of ``host[:port]`` / ``[v6][:port]``, split at the last colon as Go does."""
    if netloc.startswith("["):
        close = netloc.find("]")
        host, rest = netloc[1:close], netloc[close + 1:]
        port = rest[1:] if rest.startswith(":") else ""
    elif ":" in netloc:
        host, _, port = netloc.rpartition(":")
    else:
        host, port = netloc, ""
    return host, int(port) if port.isdigit() else default_port


def _addr(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _resolved(host: str, port: int) -> str:
    """The ``ip:port`` Go names in a dial error (first address of the host)."""
    try:
        infos = _sockets().getaddrinfo(host, port, type=_socket.SOCK_STREAM)
    except OSError:
        return _addr(host, port)
    return _addr(str(infos[0][4][0]), port) if infos else _addr(host, port)


def _nameserver() -> str | None:
    try:
        with open("/etc/resolv.conf", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    return fields[1]
    except OSError:
        return None
    return None


def go_cause(exc: BaseException, dial: tuple[str, int] | None, *, proxy: bool = False,
             sock: _socket.socket | None = None) -> str:
    """Go's wording for a network failure (the part after ``<Method> "<url>": ``)."""
    ssl = sys.modules.get("ssl")  # an ssl error needs ssl loaded: plain http never imports it
    dial_op = "proxyconnect tcp: dial tcp" if proxy else "dial tcp"
    if isinstance(exc, _socket.gaierror) and dial is not None:
        host = dial[0]
        server = _nameserver()
        queried = (not host.replace(".", "").isdigit()
                   and all(ch.isalnum() or ch in "-._" for ch in host))
        where = f" on {server}:53" if server and queried else ""
        return f"{dial_op}: lookup {host}{where}: no such host"
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code == 62 or "hostname" in str(exc.verify_message).lower():
            return f"x509: certificate is not valid for {dial[0] if dial else 'this host'}"
        if exc.verify_code == 10:
            return "x509: certificate has expired or is not yet valid"
        return "x509: certificate signed by unknown authority"
    if ssl is not None and isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason == "WRONG_VERSION_NUMBER":  # a plain-HTTP server answered the TLS hello
            return "http: server gave HTTP response to HTTPS client"
        for prefix in ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_"):
            if reason.startswith(prefix):
                return "remote error: tls: " + reason[len(prefix):].lower().replace("_", " ")
        return "tls: " + (reason.lower().replace("_", " ") or str(exc))
    if dial is not None:
        where = f"{dial_op} {_resolved(*dial)}"
        if isinstance(exc, TimeoutError):
            return f"{where}: i/o timeout"
        if isinstance(exc, OSError) and exc.errno is not None:
            return f"{where}: connect: {_errno_text(exc.errno, exc)}"
        return f"{where}: {exc}"
    local = remote = ""
    if sock is not None:
        try:
            local = _addr(*sock.getsockname()[:2])
            remote = _addr(*sock.getpeername()[:2])
        except OSError:
            pass
    rw = f"read tcp {local}->{remote}" if local else "read tcp"
    if isinstance(exc, TimeoutError):
        return f"{rw}: i/o timeout"
    if isinstance(exc, ConnectionResetError):
        return f"{rw}: read: connection reset by peer"
    if isinstance(exc, ProtocolError):
        return exc.go_text
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{rw}: {_errno_text(exc.errno, exc)}"
    return str(exc) or exc.__class__.__name__


def _errno_text(number: int, exc: OSError) -> str:
    """Go prints lower-case strerror texts (``connection refused``)."""
    known = {
        errno.ECONNREFUSED: "connection refused",
        errno.ENETUNREACH: "network is unreachable",
        errno.EHOSTUNREACH: "no route to host",
        errno.ECONNRESET: "connection reset by peer",
        errno.ETIMEDOUT: "connection timed out",
        errno.EADDRNOTAVAIL: "cannot assign requested address",
        errno.EACCES: "permission denied",
    }
    text = known.get(number) or (exc.strerror or str(exc))
    return text[:1].lower() + text[1:]
