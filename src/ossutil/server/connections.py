"""Connection hygiene: how long a connection may take to send headers or sit idle, and what
happens when the process runs out of file descriptors.

- ``--header-timeout`` (default 60 s): a connection whose first request's headers have not all
  arrived by then is closed (slowloris). aiohttp has no such timeout: each connection gets one
  timer at ``connection_made``; when it fires it closes the connection unless a request was
  parsed. Nothing runs per request or per read.
- ``--keepalive-timeout`` (default 75 s, as nginx): aiohttp's own idle timer. It also bounds a
  later request on a kept-alive connection whose headers stall: it runs from the previous
  response and closes a connection still waiting for a whole request.
- ``raise_open_file_limit``: the soft ``RLIMIT_NOFILE`` raised to the hard limit at start, so a
  busy server is not refused descriptors at the default 1024.
- ``AcceptErrors``: when ``accept()`` fails with EMFILE/ENFILE, asyncio stops accepting on that
  listener for a second and reports it through the loop's exception handler (with a traceback,
  every second). This handler logs one clear line per ``interval`` instead, with how many
  refusals it folded in, and passes every other report on unchanged. uvloop (libuv) reports
  nothing: it accepts and drops connections while out of descriptors. So once a second the
  handler opens and closes one descriptor itself (two system calls, whatever the number of
  connections); EMFILE/ENFILE there feeds the same throttled line on either loop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
from typing import Any

from ossutil.server.http.protocol import OssRequestHandler, OssServer
from ossutil.server.throttle import Throttled

log = logging.getLogger("ossutil.server")

_ACCEPT_FAILED = "socket.accept() out of system resource"
_NO_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


class TimedRequestHandler(OssRequestHandler):
    """``OssRequestHandler`` that closes a connection whose first request's headers are late."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._header_timeout > 0:
            self._header_timer = self._loop.call_later(self._header_timeout,
                                                       self._headers_late)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._request_count == 0 and self.transport is not None:
            log.info("closing a connection from %s: no complete request headers within %g s",
                     _peer(self.transport), self._header_timeout)
            self.force_close()


class TimedServer(OssServer):
    """``OssServer`` whose connections are ``TimedRequestHandler``s."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout

    def __call__(self) -> TimedRequestHandler:
        kwargs: dict[str, Any] = self._kwargs
        return TimedRequestHandler(self, loop=self._loop, header_timeout=self.header_timeout,
                                   **kwargs)


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; returns ``(soft, hard)`` after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # e.g. an unlimited hard limit on macOS
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, hard, exc)
    return soft, hard


class AcceptErrors:
    """The loop's exception handler: one log line per ``interval`` for descriptor exhaustion."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 10.0) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        self._report = Throttled(log, logging.ERROR, interval)
        self._watch: asyncio.Task[None] | None = None

    def install(self) -> None:
        self._loop.set_exception_handler(self)
        self._watch = self._loop.create_task(self._watch_descriptors())

    def _out_of_descriptors(self, code: int) -> None:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        self._report("not accepting connections: out of file descriptors (%s, open-file "
                     "limit %d); retrying every second", errno.errorcode[code], soft)

    async def _watch_descriptors(self, every: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:  # one descriptor more: refused exactly when accept() would be
                os.close(os.open(os.devnull, os.O_RDONLY))
            except OSError as exc:
                if exc.errno in _NO_DESCRIPTORS:
                    self._out_of_descriptors(exc.errno)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if context.get("message") == _ACCEPT_FAILED and isinstance(exc, OSError) \
                and exc.errno in _NO_DESCRIPTORS:
            self._out_of_descriptors(exc.errno)
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)
