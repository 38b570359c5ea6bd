"""The one place an ``OssError`` becomes an HTTP reply (status, XML body, headers).

Anything that is not an ``OssError`` is logged with the request id and answered as InternalError
without its message: no stack trace or internal text ever reaches the wire.

Errors echo what clients sent (keys, host names, a certificate's names, the string to sign), so
every field is bounded here, the one place they all pass: a message to ``MAX_MESSAGE``
characters, any other field to ``MAX_FIELD``, cut with a note of how much was left out. An SDK
that reads only the first KiB of an error body sees its code and the start of its message, and a
HEAD reply's ``x-oss-err`` header stays far below the 8 KiB header limits of HTTP clients (when
it would not, it carries the standard fields only).
"""

from __future__ import annotations

import base64

from aiohttp import web

from ossutil.wire.error_xml import encode_error
from ossutil.wire.errors import OssError

MAX_MESSAGE = 512
MAX_FIELD = 1024
MAX_HEAD_ERROR = 4096  # bytes of base64 in x-oss-err


def error_response(error: OssError, *, request_id: str, host_id: str,
                   head: bool = False) -> web.Response:
    """Render ``error``; HEAD replies carry the XML base64-encoded in ``x-oss-err`` instead."""
    error.request_id = request_id
    error.host_id = bounded(host_id, MAX_FIELD)
    error.message = bounded(error.message, MAX_MESSAGE)
    error.details = {name: bounded(value, MAX_FIELD) for name, value in error.details.items()}
    body = encode_error(error)
    headers = {"Content-Type": "application/xml"}
    if error.ec:
        headers["x-oss-ec"] = error.ec
    if head:
        encoded = base64.b64encode(body)
        if len(encoded) > MAX_HEAD_ERROR:
            short = OssError(error.code, error.message, status=error.status, ec=error.ec,
                             request_id=request_id, host_id=error.host_id)
            encoded = base64.b64encode(encode_error(short))
        headers["x-oss-err"] = encoded.decode()
        return web.Response(status=error.status, headers=headers)
    return web.Response(status=error.status, body=body, headers=headers)


def bounded(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters, else its start and how much was cut:
    ``"abc... (1234 more characters)"``."""
    if len(text) <= limit:
        return text
    keep = limit - 32
    return f"{text[:keep]}... ({len(text) - keep} more characters)"
