"""BlobResponse over plain TCP: the direct ``os.sendfile`` fast path, the hand-over to
``loop.sendfile`` when the socket buffer fills (a slow reader), Range offsets, keep-alive after
a body, and a blob shorter than promised (the connection ends, never hangs)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from ossutil.server.http.handlers.object import BlobResponse

SIZE = 4 * 1024 * 1024


def _serve(blob: Path, test: Callable[[int], Awaitable[None]], *, count: int | None = None) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        first = int(request.query.get("first", "0"))
        length = int(request.query.get("length", str(SIZE - first)))
        return BlobResponse(blob.open("rb"), first, count if count is not None else length,
                            status=200, headers=CIMultiDict())

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/blob", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            await test(port)
        finally:
            await runner.cleanup()

    asyncio.run(main())


def _connect(port: int, *, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(10)
    return sock


def _read_response(sock: socket.socket, pace: float = 0.0) -> tuple[bytes, bytes]:
    """(head, body) of one response with a Content-Length; ``pace`` sleeps between reads."""
    import time

    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        if pace:
            time.sleep(pace)
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _blob(tmp_path: Path) -> tuple[Path, bytes]:
    content = os.urandom(SIZE)
    path = tmp_path / "blob"
    path.write_bytes(content)
    return path, content


def test_keep_alive_bodies_and_ranges(tmp_path: Path) -> None:
    blob, content = _blob(tmp_path)

    async def test(port: int) -> None:
        def client() -> None:
            with _connect(port) as sock:
                for target, expected in (("/blob", content),
                                         ("/blob?first=1000&length=70000",
                                          content[1000:71000]),
                                         ("/blob?first=4194303&length=1", content[-1:]),
                                         ("/blob", content)):
                    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    head, body = _read_response(sock)
                    assert head.startswith(b"HTTP/1.1 200"), head
                    assert body == expected
        await asyncio.to_thread(client)

    _serve(blob, test)


def test_slow_reader_gets_every_byte(tmp_path: Path) -> None:
    """A reader with a small receive buffer: the first sendfile cannot take the body whole, so
    the rest waits for room (loop.sendfile) rather than spinning or buffering it."""
    blob, content = _blob(tmp_path)

    async def test(port: int) -> None:
        def client() -> None:
            with _connect(port, rcvbuf=16384) as sock:
                for _ in range(2):
                    sock.sendall(b"GET /blob HTTP/1.1\r\nHost: x\r\n\r\n")
                    head, body = _read_response(sock, pace=0.001)
                    assert head.startswith(b"HTTP/1.1 200"), head
                    assert body == content
        await asyncio.to_thread(client)

    _serve(blob, test)


def test_blob_shorter_than_promised_ends_the_connection(tmp_path: Path) -> None:
    blob, content = _blob(tmp_path)

    async def test(port: int) -> None:
        def client() -> None:
            with _connect(port) as sock:
                sock.sendall(b"GET /blob HTTP/1.1\r\nHost: x\r\n\r\n")
                head, body = _read_response(sock)
                assert body == content  # all there is, then the connection closes
                assert sock.recv(65536) == b""
        await asyncio.to_thread(client)

    _serve(blob, test, count=SIZE + 10)
