"""``--loglevel info|debug``: ossutil 1.7's ``ossutil.log`` and, at debug, each request and reply.

Shared by ``cli.main`` (1.7's commands) and ``cli.api_cmd`` (``ossutil api``), which differ only
in where the ``log file is <path>`` line goes (stdout for 1.7, stderr for ``api``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable

    from ossutil.cli.command import Output
    from ossutil.client.transport import Request, Response, Transport

    Log = Callable[[str, str], None]


def open_log(level: str, argv: list[str], out: Output) -> Log:
    """``--loglevel``: ``log file is <path>`` first on ``out``, lines appended to ossutil.log."""
    import os
    import platform
    from datetime import datetime

    from ossutil.cli.command import VERSION

    path = os.path.abspath("ossutil.log")
    out.write(f"log file is {path}\n")
    levels = {"info": 1, "debug": 2, "error": 0}

    def log(lvl: str, text: str) -> None:
        if levels.get(lvl, 2) > levels[level]:
            return
        stamp = datetime.now().strftime("%Y/%m/%d %H:%M:%S.%f")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o660)
            with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as handle:
                handle.write(f"{stamp} [{lvl}]{text}\n")
        except OSError:
            pass

    log("info", "ossutil run begin,cmd:" + " ".join(["ossutil", *argv]))
    log("info", f"ossutil version is {VERSION}")
    log("info", f"python version is {platform.python_version()}")
    log("info", f"runtime.NumCPU is {os.cpu_count()}")
    return log


class DebugTransport:
    """``--loglevel debug``: log each request (Authorization kept, secret never known) and reply."""

    def __init__(self, inner: Transport, log: Log) -> None:
        self.inner = inner
        self.log = log

    def send(self, request: Request) -> Response:
        headers = "".join(f"\t{name}:{value}" for name, value in request.headers)
        self.log("debug", f"[Req]Method:{request.method}\tURL:{request.url}\tHeader info:{headers}")
        response = self.inner.send(request)
        headers = "".join(f"\t{name}:{value}" for name, value in response.headers)
        self.log("debug", f"[Resp]StatusCode:{response.status}\tHeader info:{headers}")
        return response


class ClosingDebugTransport(DebugTransport):
    """``DebugTransport`` that passes ``close`` on, so ``ctx.close()`` reaches the real
    connections (``ossutil api``)."""

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
