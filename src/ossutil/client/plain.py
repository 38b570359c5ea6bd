"""One V1-signed ``GET`` of a bucket sub-resource over plain http, as ``OssClient(wire_style="go")``
sends it, without loading ``OssClient``, ``transport``, ``wire.signing`` or ``wire.dates``.

The CLI's commonest call (``bucket-cname --method get``: ListCname, body printed verbatim) needs
only this; importing the general client for it cost more than the request (each module is a few
hundred microseconds cold). The bytes on the wire are the general client's, header for header
(tests/client/test_plain.py compares them with ``OssClient.build_request`` and the signature
with ``wire.signing``); failures take the general code: ``transport.go_cause`` words a network
error, ``wire.error_xml`` parses an error reply and ``client.follow_redirects`` follows a
redirect, each imported only then.

    reply = PlainGet("127.0.0.1:9000", True, "examplebucket", "cname", "LTAI...", "secret",
                     None, default_user_agent()).send()

No ``from __future__ import annotations``: on this path it would load ``__future__`` for nothing.
"""

import time

from ossutil.client.http11 import Connection, NoReplyError, encode_head, read_reply
from ossutil.client.http11 import dial as open_socket

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from ossutil.client.http11 import Reply
    from ossutil.client.transport import TransportError

VERSION = "0.1.0"
OSSUTIL_COMPAT_VERSION = "v1.7.19"
REDIRECTS = (301, 302, 303, 307, 308)


def default_user_agent(extra: "str | None" = None) -> str:
    """``ossutil-py/<v> (<os>/<release>/<machine>;python<x.y.z>)/ossutil-v1.7.19[/extra]``.

    Same layout as ossutil 1.7's ``aliyun-sdk-go/v3.0.2 (Linux/6.1.0/x86_64;go1.19.8)/
    ossutil-v1.7.19`` but naming this program honestly; ``--ua X`` appends ``/X`` as ossutil does.
    """
    import os
    import sys

    try:
        uname = os.uname()
        system, release, machine = uname.sysname, uname.release, uname.machine
    except AttributeError:  # Windows
        system, release, machine = "windows", "-", os.environ.get("PROCESSOR_ARCHITECTURE",
                                                                 "amd64").lower()
    python = "{}.{}.{}".format(*sys.version_info[:3])
    agent = (f"ossutil-py/{VERSION} ({system}/{release}/{machine};"
             f"python{python})/ossutil-{OSSUTIL_COMPAT_VERSION}")
    return f"{agent}/{extra}" if extra else agent


# --- V1 signing (reference §12), for a request with no body and no x-oss-* header but the token --

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def http_date(fields: time.struct_time) -> str:
    """``Thu, 02 Jan 2025 03:04:05 GMT`` of UTC fields (``wire.dates.rfc1123_fields``)."""
    return (f"{_DAYS[fields.tm_wday]}, {fields.tm_mday:02d} {_MONTHS[fields.tm_mon - 1]} "
            f"{fields.tm_year:04d} {fields.tm_hour:02d}:{fields.tm_min:02d}:"
            f"{fields.tm_sec:02d} GMT")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding: ``binascii.b2a_base64(data, newline=False)``, which would
    load the ``binascii`` extension module (more than the arithmetic costs for 20 bytes)."""
    pad = -len(data) % 3
    count = (len(data) + pad) // 3 * 4
    number = int.from_bytes(data + b"\0" * pad, "big")
    text = "".join([_B64[(number >> (6 * (count - 1 - i))) & 63] for i in range(count)])
    return text[:count - pad] + "=" * pad


def hmac_sha1(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA-1 (RFC 2104) on CPython's built-in SHA-1 (``hashlib`` would load OpenSSL)."""
    try:
        sha1: Any = __import__("_sha1").sha1
    except ImportError:  # a Python built without its own SHA-1
        from hashlib import sha1
    if len(key) > 64:
        key = sha1(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha1(key.translate(_IPAD))
    inner.update(message)
    outer = sha1(key.translate(_OPAD))
    outer.update(inner.digest())
    return bytes(outer.digest())


def v1_signature(secret: str, string_to_sign: str) -> str:
    """``wire.signing.v1_signature``."""
    return b64encode(hmac_sha1(secret.encode(), string_to_sign.encode("utf-8",
                                                                       "surrogateescape")))


# --- the request ----------------------------------------------------------------------------


class PlainGet:
    """``GET http://<netloc>/<bucket>/?<subresource>`` (path style, for an IP endpoint) or
    ``GET http://<bucket>.<netloc>/?<subresource>``, V1-signed, headers in the Go SDK's order.

    ``subresource`` must be one V1 signs (``cname``) and carry no value. The caller checks the
    values are printable ASCII (they go into headers as they are) and the port is valid.
    """

    __slots__ = ("netloc", "bucket", "subresource", "access_key_id", "secret", "token",
                 "user_agent", "connect_timeout", "read_timeout", "url", "host", "target")

    def __init__(self, netloc: str, is_ip: bool, bucket: str, subresource: str,
                 access_key_id: str, secret: str, token: "str | None", user_agent: str,
                 connect_timeout: float = 120, read_timeout: float = 1200) -> None:
        self.netloc = netloc
        self.bucket = bucket
        self.subresource = subresource
        self.access_key_id = access_key_id
        self.secret = secret
        self.token = token
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        if is_ip:
            self.host, self.target = netloc, f"/{bucket}/?{subresource}"
        else:
            self.host, self.target = f"{bucket}.{netloc}", f"/?{subresource}"
        self.url = f"http://{self.host}{self.target}"

    def headers(self, now: "time.struct_time | None" = None) -> "list[tuple[str, str]]":
        """The request headers in wire order, signed for ``now`` (default: ``time.gmtime()``)."""
        date = http_date(time.gmtime() if now is None else now)
        canonical = f"x-oss-security-token:{self.token}\n" if self.token else ""
        to_sign = f"GET\n\n\n{date}\n{canonical}/{self.bucket}/?{self.subresource}"
        signature = v1_signature(self.secret, to_sign)
        wire = [("Host", self.host), ("User-Agent", self.user_agent),
                ("Authorization", f"OSS {self.access_key_id}:{signature}"), ("Date", date)]
        if self.token:
            wire.append(("X-Oss-Security-Token", self.token))
        wire.append(("Accept-Encoding", "gzip"))
        return wire

    def send(self) -> bytes:
        """The body of a 2xx reply. Raises what ``OssClient.send`` raises: ``TransportError``
        (Go's text) without a reply, ``OssError`` (raw reply attached) for a non-2xx one."""
        headers = self.headers()
        dial = dial_address(self.host)
        sock = None
        try:
            sock = open_socket(dial, self.connect_timeout)
            try:
                sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (as transport sets it)
            except OSError as exc:
                import errno

                if exc.errno != errno.ENOPROTOOPT:
                    raise
        except Exception as exc:  # noqa: BLE001 - mapped as HttpClientTransport maps it
            if sock is not None:
                sock.close()
            raise self._failure(exc, dial) from exc
        sock.settimeout(self.read_timeout)
        conn = Connection(sock)
        try:
            try:
                conn.send(encode_head("GET", self.target, headers))
                conn.used = True
                try:
                    reply = read_reply(conn, "GET")
                except NoReplyError as exc:
                    raise self._failure(None, None, "EOF") from exc
                except TimeoutError as exc:
                    raise self._failure(None, None, "net/http: timeout awaiting response "
                                                    "headers") from exc
                status, body, reply_headers = self._finish(conn, reply)
            except BaseException:
                conn.close()
                raise
        except Exception as exc:  # noqa: BLE001
            from ossutil.client.errors import ClientError

            if isinstance(exc, ClientError):
                raise
            raise self._failure(exc, None) from exc
        if status in REDIRECTS or not 200 <= status < 300:
            return self._general(conn, reply, reply_headers, body, headers)
        conn.close()
        return body

    def _finish(self, conn: Connection,
                reply: "Reply") -> "tuple[int, bytes, list[tuple[str, str]]]":
        """``HttpClientTransport._finish`` without a sink: the body, gunzipped if it says so."""
        headers = reply.headers
        gzipped = reply.header("Content-Encoding").lower() == "gzip"
        try:
            body = reply.read()
            if gzipped and body:
                import gzip

                body = gzip.decompress(body)
        except Exception as exc:  # noqa: BLE001 - a failure after the headers: Go's bare text
            conn.close()
            from ossutil.client.transport import TransportError, go_cause

            raise TransportError("GET", self.url, go_cause(exc, None), wrapped=False) from exc
        if gzipped:
            headers = [(n, v) for n, v in headers
                       if n.lower() not in ("content-encoding", "content-length")]
        return reply.status, body, headers

    def _general(self, conn: Connection, reply: "Reply", headers: "list[tuple[str, str]]",
                 body: bytes, sent: "list[tuple[str, str]]") -> bytes:
        """A redirect or an error reply: what ``OssClient.send`` does with it."""
        from ossutil.client.transport import HttpClientTransport, Request, Response

        response = Response(reply.status, reply.reason, headers, body)
        if reply.status in REDIRECTS and response.header("Location"):
            from ossutil.client.client import follow_redirects

            transport = HttpClientTransport(connect_timeout=self.connect_timeout,
                                            read_timeout=self.read_timeout)
            if reply.will_close:
                conn.close()
            else:  # kept for the next request, as the general transport keeps it
                host, port = dial_address(self.host)
                transport._idle[("http", host, port)] = conn
            try:
                response = follow_redirects(transport, Request("GET", self.url, sent, b""),
                                            response)
            finally:
                transport.close()
            if 200 <= response.status < 300:
                return response.body
        else:
            conn.close()
        from ossutil.wire.error_xml import error_from_response

        error = error_from_response(response.status, dict(response.headers), response.body)
        error.response = response  # type: ignore[attr-defined]
        raise error

    def _failure(self, exc: "BaseException | None", dial: "tuple[str, int] | None",
                 cause: str = "") -> "TransportError":
        from ossutil.client.transport import TransportError, go_cause

        if exc is not None:
            cause = go_cause(exc, dial)
        return TransportError("GET", self.url, cause)


def dial_address(netloc: str) -> "tuple[str, int]":
    """Host and port of a ``host[:port]`` without brackets (``transport.split_host_port``)."""
    host, colon, port = netloc.rpartition(":")
    if not colon:
        return netloc, 80
    return host, int(port) if port.isdigit() else 80


