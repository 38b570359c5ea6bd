"""The one place an ``OssError`` becomes an HTTP reply (status, XML body, headers).

Anything that is not an ``OssError`` is logged with the request id and answered as InternalError
without its message: no stack trace or internal text ever reaches the wire.
"""

from __future__ import annotations

import base64

from aiohttp import web

from ossutil.wire.cname_xml import encode_error
from ossutil.wire.errors import OssError


def error_response(error: OssError, *, request_id: str, host_id: str,
                   head: bool = False) -> web.Response:
    """Render ``error``; HEAD replies carry the XML base64-encoded in ``x-oss-err`` instead."""
    error.request_id = request_id
    error.host_id = host_id
    body = encode_error(error)
    headers = {"Content-Type": "application/xml"}
    if error.ec:
        headers["x-oss-ec"] = error.ec
    if head:
        headers["x-oss-err"] = base64.b64encode(body).decode()
        return web.Response(status=error.status, headers=headers)
    return web.Response(status=error.status, body=body, headers=headers)
