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

import asyncio
import base64
import logging
from typing import Any, Protocol

from aiohttp import web
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from ossutil.server.http.errors import error_response
from ossutil.server.http.pipeline import new_request_id
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.access")

_LOOKS = 8  # loop turns a handler waits for its last reply's task before parsing on


class Front(Protocol):
    """Where a connection handed to aiohttp by the HTTP front may go back (``http/front.py``)."""

    def wants(self, data: bytes) -> bool: ...

    def take_back(self, transport: asyncio.Transport, data: bytes) -> None: ...


class OssRequestHandler(RequestHandler):
    """One connection; ``handle_error`` and a body failing mid-read differ from aiohttp's.

    A connection the front handed over goes back to it (``front``) when bytes arrive while
    this handler is idle between requests, the parser holds nothing (the last bytes ended the
    head of a request without a body) and the front ``wants`` them: a browser's one 404 or
    redirect does not send the rest of its page's reads through aiohttp."""

    front: Front | None = None
    _clean = False  # the bytes so far ended exactly at the end of a body-less request
    _held: bytes | None = None  # bytes kept while ``start`` finishes the last reply

    def data_received(self, data: bytes) -> None:
        if self._held is not None:  # a look is due: these follow the held bytes
            self._held += data
            return
        front = self.front
        if front is not None and self._clean and data and self._idle() and front.wants(data):
            if self._waiting():
                self._give_back(front, data)
                return
            # the last reply is out but its task is finishing (``start`` has not looped back
            # to wait for the next request): look again once it has
            self._held = data
            self._loop.call_soon(self._look_again, _LOOKS)
            return
        self._clean = False
        self._parse(data)

    def _look_again(self, looks: int) -> None:
        data, self._held = self._held, None
        if data is None or self.transport is None:  # closed meanwhile (the reply said so)
            return
        if self._idle() and self._waiting() and self.front is not None:
            self._give_back(self.front, data)
        elif looks > 1 and self._idle():
            self._held = data
            self._loop.call_soon(self._look_again, looks - 1)
        else:
            self._clean = False
            self._parse(data)

    def _give_back(self, front: Front, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        self.transport = None  # aiohttp's teardown below must not close it
        self.connection_lost(None)  # its manager, keep-alive timer and waiting task
        front.take_back(transport, data)

    def _idle(self) -> bool:
        """No request queued or being read, the last reply keeps the connection, nothing
        paused or upgraded."""
        return (self._current_request is None and not self._messages and self._keepalive
                and not self._close and not self._force_close and self._payload_parser is None
                and not self._upgraded and not self._buffer_paused and not self._paused
                and self.transport is not None)

    def _waiting(self) -> bool:
        """``start`` waits for the next request."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _parse(self, data: bytes) -> None:
        if (self._close or self._force_close) and self._current_request is not None:
            # A graceful shutdown (SIGTERM) sets these flags and then waits for the request
            # being handled, but aiohttp drops every byte that arrives once they are set: an
            # upload whose body was still arriving could only time out. Its body is let in.
            flags = self._close, self._force_close
            self._close = self._force_close = False
            try:
                self._parse(data)
            finally:
                self._close = self._close or flags[0]
                self._force_close = self._force_close or flags[1]
            return
        queued = len(self._messages)
        super().data_received(data)
        messages = self._messages
        if len(messages) > queued:
            message, payload = messages[-1]
            self._clean = (payload is EMPTY_PAYLOAD and not isinstance(message, _ErrInfo)
                           and not self._upgraded and data.endswith(b"\r\n\r\n"))
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

    def __call__(self) -> OssRequestHandler:
        kwargs: dict[str, Any] = self._kwargs
        return OssRequestHandler(self, loop=self._loop, **kwargs)
