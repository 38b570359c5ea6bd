"""A loopback HTTP recorder: keeps every request's raw bytes, answers from a script.

    with Recorder() as rec:
        rec.reply(200, b"<ListCnameResult/>", [("x-oss-request-id", "5C1B...")])
        ...                         # point a client at rec.endpoint
        rec.requests[0].request_line, rec.requests[0].headers, rec.requests[0].body

Headers are kept exactly as sent (order and case), which ``http.server`` would not guarantee.
It also answers absolute-form request lines (so it can stand in as an HTTP proxy) and records
``CONNECT`` lines. A reply may ``delay`` (read-timeout tests) or ``close`` without answering.
"""

from __future__ import annotations

import socket
import threading
import time


class Recorded:
    def __init__(self, request_line: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.request_line = request_line
        self.headers = headers
        self.body = body

    @property
    def method(self) -> str:
        return self.request_line.split(" ", 1)[0]

    @property
    def target(self) -> str:
        return self.request_line.split(" ")[1]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self) -> str:
        return f"Recorded({self.request_line!r}, {self.headers!r}, {self.body!r})"


class Reply:
    def __init__(self, status: int = 200, body: bytes = b"",
                 headers: list[tuple[str, str]] | None = None, *, reason: str = "OK",
                 delay: float = 0.0, close: bool = False, raw: bytes | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or []
        self.reason = reason
        self.delay = delay
        self.close = close
        self.raw = raw

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        head = f"HTTP/1.1 {self.status} {self.reason}\r\n"
        names = {name.lower() for name, _ in self.headers}
        lines = list(self.headers)
        if "content-length" not in names:
            lines.append(("Content-Length", str(len(self.body))))
        head += "".join(f"{name}: {value}\r\n" for name, value in lines) + "\r\n"
        return head.encode("latin-1") + self.body


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: list[Reply] = []
        self._default = Reply(200, b"")
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reply(self, status: int = 200, body: bytes = b"",
              headers: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        self._replies.append(Reply(status, body, headers, **kwargs))  # type: ignore[arg-type]

    def __enter__(self) -> Recorder:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                pairs = (line.partition(":") for line in lines[1:])
                headers = [(key, value.strip()) for key, _, value in pairs]
                length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                self.requests.append(Recorded(lines[0], headers, body))
                reply = self._replies.pop(0) if self._replies else self._default
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.close:
                    return
                conn.sendall(reply.encode())
        except OSError:
            return
        finally:
            conn.close()
