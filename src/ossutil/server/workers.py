"""``serve --workers N``: one supervisor and N worker processes serving one port.

One event loop uses one core; N processes use N. Each worker is the ordinary server
(``runtime.run``) with ``Settings.reuse_port``, so all of them listen on the same port with
SO_REUSEPORT and the kernel spreads new connections over their listening sockets.

The supervisor (this module, the process the operator started):

1. does the start-up work that creates state (``app.prepare_shared_state``: data dir, master
   key, schema, root account, blob sweep, default certificate) and prints the one-time root
   key line, before any worker exists: workers only ever open existing state. It keeps the
   blob store's data-dir lock while it runs (why: ``prepare_shared_state``);
2. reserves the ports: one socket per port, bound with SO_REUSEPORT and never listening (the
   kernel hands connections only to listening sockets of the group, so none waits on it). For
   ``--port 0`` this is how the port is chosen; it also keeps the port ours while every worker
   is down, and a port in use is one line from the supervisor rather than N failing workers;
3. starts the workers as new interpreters (``subprocess``: never a fork of a process with an
   event loop and a store thread) running the same command line with the reserved ports and
   ``--as-worker``. A worker's banner lines on its stdout are its readiness report; its other
   stdout lines are passed on, its stderr is the supervisor's;
4. prints ``N workers (pids ...)`` and the banner once every worker is listening;
5. restarts a worker that exits (one log line with its pid and status). A worker that dies
   before it was up for ``HEALTHY_SECONDS`` waits 1 s, 2 s, 4 s ... up to 30 s first, so a
   broken configuration does not spin;
6. on SIGTERM/SIGINT stops restarting, sends SIGTERM to every worker (each drains: aiohttp
   finishes in-flight requests for up to ``--drain-timeout``), SIGKILLs those still alive
   ``STOP_GRACE`` seconds after that and exits 0;
7. on SIGHUP reads its own log level again and sends SIGHUP to every worker (each reloads its
   log level and default certificate: ``runtime.py``).

A worker's stdin is a pipe from the supervisor that is never written: end of file means the
supervisor is gone, even by SIGKILL, and the worker shuts down instead of living on as an
orphan holding the port (``watch_supervisor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence

from ossutil.server.app import prepare_shared_state
from ossutil.server.runtime import root_key_line
from ossutil.server.settings import Settings, StartupError

log = logging.getLogger("ossutil.server.workers")

MAX_WORKERS = 64
WORKER_FLAG = "--as-worker"  # main.py's hidden option: run one worker under a supervisor
BANNER = "ossutil-server listening on "
HEALTHY_SECONDS = 10.0  # a worker up this long restarts at once when it dies
MAX_BACKOFF = 30.0
STOP_GRACE = 5.0  # after SIGTERM, SIGKILL once a worker's drain timeout and this have passed


def worker_count(text: str) -> int:
    """``--workers``: a whole number from 1 to MAX_WORKERS (StartupError: one line, exit 2)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_WORKERS:
        raise StartupError(f"--workers: not a number of processes from 1 to {MAX_WORKERS}: "
                           f"{text!r}")
    return int(text)


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening: see the module
    docstring (step 2). Its port is the one the workers bind."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise StartupError(f"--host {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        # asyncio's wording, as a single server reports a port in use
        raise OSError(exc.errno, f"error while attempting to bind on address {address!r}: "
                                 f"{(exc.strerror or '').lower()}") from None
    return sock


def worker_command(argv: Sequence[str], port: int, https_port: int | None) -> list[str]:
    """The operator's ``serve`` command line with the reserved ports and the worker flag (later
    options win in argparse)."""
    command = [sys.executable, "-m", "ossutil.server.main", *argv, "--port", str(port)]
    if https_port is not None:
        command += ["--https-port", str(https_port)]
    return command + ["--workers", "1", WORKER_FLAG]


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    """N slots, each running one worker at a time (see the module docstring)."""

    def __init__(self, command: list[str], count: int, banner_lines: int,
                 stop_timeout: float = 30.0 + STOP_GRACE) -> None:
        self.command = command
        self.count = count
        self.banner_lines = banner_lines
        self.stop_timeout = stop_timeout
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self.stopping = asyncio.Event()
        self.failed = asyncio.Event()  # a first-generation worker died before it listened
        self.ready = [asyncio.Event() for _ in range(count)]
        self.banner: list[str] = []

    async def run(self, stop: asyncio.Event) -> int:
        slots = [asyncio.create_task(self._slot(index)) for index in range(self.count)]
        waits = {asyncio.create_task(self._all_ready()), asyncio.create_task(stop.wait()),
                 asyncio.create_task(self.failed.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                return 0
            if self.failed.is_set():
                return 2  # the worker said why on stderr
            pids = ", ".join(str(p.pid) for p in self.processes if p is not None)
            print(f"ossutil-server: {self.count} workers (pids {pids})", flush=True)
            for line in self.banner:
                print(line, flush=True)
            await stop.wait()
            return 0
        finally:
            for task in waits:
                task.cancel()
            await self._stop(slots)

    async def _all_ready(self) -> None:
        for event in self.ready:
            await event.wait()

    async def _slot(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self.stopping.is_set():
            process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            self.processes[index] = process
            if self.stopping.is_set():  # asked to stop while it was being started
                process.terminate()
            started = loop.time()
            listening = asyncio.Event()
            reader = asyncio.create_task(self._read(process, listening, index))
            returncode = await process.wait()
            up = loop.time() - started
            if self.stopping.is_set():
                reader.cancel()
                return
            if not self.ready[index].is_set():  # never listened during the first start
                self.failed.set()
                return
            if listening.is_set() and up >= HEALTHY_SECONDS:
                failures = 0
                delay = 0.0
            else:
                delay = min(MAX_BACKOFF, 2.0 ** failures)
                failures += 1
            after = f" in {delay:g} s" if delay else ""
            log.warning("worker %d %s; starting another%s", process.pid, describe(returncode),
                        after)
            if delay:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)

    async def _read(self, process: asyncio.subprocess.Process, listening: asyncio.Event,
                    index: int) -> None:
        """Count the worker's banner lines (its readiness); pass its other lines on."""
        assert process.stdout is not None
        seen: list[str] = []
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(BANNER) and not listening.is_set():
                seen.append(line)
                if len(seen) == self.banner_lines:
                    if not self.banner:
                        self.banner = seen
                    listening.set()
                    self.ready[index].set()
                continue
            print(line, flush=True)

    async def _stop(self, slots: list[asyncio.Task[None]]) -> None:
        self.stopping.set()
        for process in self.processes:
            if process is not None and process.returncode is None:
                process.terminate()
        _, pending = await asyncio.wait(slots, timeout=self.stop_timeout)
        if pending:
            for process in self.processes:
                if process is not None and process.returncode is None:
                    log.warning("worker %d still running %g s after SIGTERM: killing it",
                                process.pid, self.stop_timeout)
                    process.kill()
            await asyncio.wait(pending)


async def supervise(settings: Settings, argv: Sequence[str], count: int,
                    log_level: str = "warning") -> int:
    """Run ``count`` workers of ``serve argv`` until SIGTERM/SIGINT; the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    supervisor: Supervisor | None = None
    loop.add_signal_handler(signal.SIGHUP, lambda: _hangup(settings, log_level, supervisor))
    services, created = await prepare_shared_state(settings)
    reserved: list[socket.socket] = []
    try:
        line = root_key_line(settings, created)
        if line is not None:
            print(line, flush=True)
        reserved.append(reserve_port(settings.host, settings.port))
        if settings.https_port is not None:
            reserved.append(reserve_port(settings.host, settings.https_port))
        ports = [int(sock.getsockname()[1]) for sock in reserved]
        command = worker_command(argv, ports[0], ports[1] if len(ports) > 1 else None)
        supervisor = Supervisor(command, count, len(ports),
                                stop_timeout=settings.drain_timeout + STOP_GRACE)
        return await supervisor.run(stop)
    finally:
        for sock in reserved:
            sock.close()
        await asyncio.to_thread(services.blobs.close)
        services.runner.close()


def _hangup(settings: Settings, log_level: str, supervisor: Supervisor | None) -> None:
    """SIGHUP: this process's log level again (``<data-dir>/log-level``, else ``log_level``,
    the command line's ``--log-level``), and every worker told to reload (module docstring,
    step 7)."""
    from ossutil.server import accesslog

    level, source = accesslog.level_from_file(settings.data_dir, log_level)
    accesslog.set_level(level)
    log.warning("SIGHUP: log level %s (from %s); passed on to the workers", level, source)
    for process in supervisor.processes if supervisor is not None else ():
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGHUP)


def watch_supervisor(stop: asyncio.Event) -> None:
    """In a worker: set ``stop`` when stdin (the supervisor's pipe) reaches end of file."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                return
            data = b""
        if not data:
            loop.remove_reader(fd)
            log.warning("the supervisor is gone: shutting down")
            stop.set()

    loop.add_reader(fd, readable)
