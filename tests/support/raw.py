"""Hand-built HTTP requests for tests that must control every byte (bad input, exact XML).

Signing uses ``wire.signing``, whose output is pinned to the real SDKs by the vector tests.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from ossutil.wire import dates, signing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tests.support.server import RunningServer


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def send(endpoint: str, method: str, path: str, *, query: str = "", body: bytes = b"",
         headers: dict[str, str] | list[tuple[str, str]] | None = None) -> Reply:
    """Send one request exactly as given (path already encoded); ``headers`` as a list of
    pairs may repeat a name."""
    host_port = endpoint.split("://", 1)[1]
    connection = http.client.HTTPConnection(host_port, timeout=10)
    try:
        target = path + ("?" + query if query else "")
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        has_host = any(name.lower() == "host" for name, _ in items)
        connection.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
        for name, value in items:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def signed(endpoint: str, ak: str, sk: str, method: str, bucket: str, *, key: str = "",
           query: list[tuple[str, str]] | None = None, body: bytes = b"",
           headers: dict[str, str] | None = None, when: datetime | None = None,
           version: str = "v1", region: str = "cn-hangzhou") -> Reply:
    """Sign (V1 or V4, as oss2 does) and send a path-style request."""
    pairs = query or []
    moment = when or datetime.now(timezone.utc)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if version == "v1":
        hdrs.setdefault("date", dates.rfc1123(moment))
    else:
        hdrs.setdefault("x-oss-date", dates.v4_timestamp(moment))
        hdrs.setdefault("x-oss-content-sha256", signing.UNSIGNED_PAYLOAD)
    request = signing.SigningRequest(method, bucket, key, pairs, hdrs)
    if version == "v1":
        hdrs["authorization"] = signing.v1_authorization(ak, sk, request)
    else:
        hdrs["authorization"] = signing.v4_authorization(
            ak, sk, request, region=region, date=moment.strftime("%Y%m%d"))
    path = "/" + quote(bucket) + "/" + quote(key) if bucket else "/"
    query_text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" if v else quote(k, safe='')
                          for k, v in pairs)
    return send(endpoint, method, path, query=query_text, body=body, headers=hdrs)


def as_root(server: RunningServer, method: str, bucket: str, key: str = "",
            query: list[tuple[str, str]] | None = None, body: bytes = b"",
            headers: dict[str, str] | None = None, version: str = "v1") -> Reply:
    """``signed`` with the server's root key, path style."""
    return signed(server.endpoint, server.access_key_id, server.access_key_secret, method,
                  bucket, key=key, query=query or [], body=body, headers=headers,
                  version=version)


def error_code(reply: Reply) -> tuple[int, str]:
    """(HTTP status, ``<Code>`` of the error body or "")."""
    import re

    match = re.search(r"<Code>([^<]*)</Code>", reply.text)
    return reply.status, match.group(1) if match else ""


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes ``sock`` (recv sees EOF or a reset) within its timeout."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
