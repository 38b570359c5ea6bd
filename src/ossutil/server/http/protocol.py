"""aiohttp's HTTP/1.1 connection handler, answering what never reaches the pipeline as OSS does.

A request aiohttp cannot parse (a header line over 8190 bytes, a 5,000-digit Content-Length, a
NUL in a header value, a broken chunked body, a bad request line) is answered by aiohttp itself
with a plain-text 400 that quotes the offending bytes (an ``Authorization`` header included),
and logged at ERROR with a traceback. Here it becomes OSS's error XML (400 ``InvalidArgument``,
with ``x-oss-request-id``, ``Date``, ``Server`` and, since the method may be unknown, the
XML also in ``x-oss-err`` as HEAD errors carry it), the connection is closed as aiohttp does, and
one INFO line is logged without the request's bytes: client input is no server error.

A body that turns out malformed while its handler reads it (``Transfer-Encoding: chunked`` with
a bad chunk size after the first chunks) is worse: aiohttp's C parser drops the body's stream
without failing it, so the handler waits for the rest forever (a hung connection) and the 400
waits behind it. ``data_received`` fails that stream with the OSS error instead, so whoever reads
the body (PutObject, UploadPart, an XML body) answers 400 ``InvalidArgument``, and the
connection closes after that reply.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from ossutil.server.http.errors import error_response
from ossutil.server.http.pipeline import new_request_id
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.access")


class OssRequestHandler(RequestHandler):
    """One connection; ``handle_error`` and a body failing mid-read differ from aiohttp's."""

    def data_received(self, data: bytes) -> None:
        if (self._close or self._force_close) and self._current_request is not None:
            # A graceful shutdown (SIGTERM) sets these flags and then waits for the request
            # being handled, but aiohttp drops every byte that arrives once they are set: an
            # upload whose body was still arriving could only time out. Its body is let in.
            flags = self._close, self._force_close
            self._close = self._force_close = False
            try:
                self.data_received(data)
            finally:
                self._close = self._close or flags[0]
                self._force_close = self._force_close or flags[1]
            return
        queued = len(self._messages)
        super().data_received(data)
        messages = self._messages
        if len(messages) <= queued or not isinstance(messages[-1][0], _ErrInfo):
            return
        # The bytes that failed belong to the body of the message before the error (queued, or
        # the one being handled): fail that body's reads rather than leave them waiting.
        if len(messages) >= 2:
            payload = messages[-2][1]
        elif self._current_request is not None:
            payload = self._current_request.content
        else:
            return
        if payload.is_eof():
            return
        error_info = messages.pop()[0]
        assert isinstance(error_info, _ErrInfo)
        reason = _reason(error_info.exc, error_info.message)
        log.info("a request body from %s is not valid HTTP/1.1 (%s)",
                 self.transport.get_extra_info("peername") if self.transport else None,
                 reason)
        payload.set_exception(OssError.from_code(
            "InvalidArgument", f"The request body is not valid HTTP/1.1: {reason}."))
        payload.feed_eof()
        self.close()  # after the reply to this request

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        request_id = new_request_id()
        if status >= 500:
            log.error("request %s failed in the HTTP layer", request_id, exc_info=exc)
            error = OssError.from_code("InternalError")
        else:
            reason = _reason(exc, message)
            log.info("request %s from %s: not valid HTTP/1.1 (%s)", request_id, request.remote,
                     reason)
            error = OssError.from_code("InvalidArgument",
                                       f"The request is not valid HTTP/1.1: {reason}.")
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response "
                                  "with the error message")
        response = error_response(error, request_id=request_id, host_id="")
        # The method of a request that did not parse is unknown: a HEAD's client reads the
        # error from x-oss-err (as on every HEAD error), others from the body; the connection
        # closes after it, so the body cannot be mistaken for the next reply.
        assert isinstance(response.body, bytes)
        response.headers["x-oss-err"] = base64.b64encode(response.body).decode()
        response.headers["x-oss-request-id"] = request_id
        response.headers["Server"] = "AliyunOSS"
        response.force_close()
        return response


def _reason(exc: BaseException | None, message: str | None) -> str:
    """aiohttp's description without the bytes it quotes: ``Content-Length overflow``,
    ``Invalid header value char``, ``Got more than 8190 bytes when reading``, ``Duplicate
    'content-type' header found`` (a header name is kept; a request line is not)."""
    text = message or (str(exc) if exc is not None else "") or "malformed request"
    text = text.removeprefix("400, message=")
    for stop in (":", "\n", " b'", ' b"', " '" if text.startswith("Bad status line") else ":"):
        text = text.split(stop, 1)[0]
    text = text.strip().rstrip(".")
    return text[:80] or (type(exc).__name__ if exc is not None else "malformed request")


class OssServer(web.Server):
    """``web.Server`` whose connections are ``OssRequestHandler``s."""

    def __call__(self) -> RequestHandler:
        kwargs: dict[str, Any] = self._kwargs
        return OssRequestHandler(self, loop=self._loop, **kwargs)
