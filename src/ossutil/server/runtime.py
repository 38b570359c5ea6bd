"""Start the listeners, print the banner, serve until told to stop, shut down cleanly.

Signals (``run``):

- SIGTERM, SIGINT: ``/-/ready`` says ``draining``, the listeners close (no new connection is
  accepted), idle keep-alive connections close, requests in flight finish for up to
  ``--drain-timeout`` seconds (then they are cut), and the process exits 0;
- SIGHUP: the log level is read again (``<data-dir>/log-level``, else ``--log-level``) and the
  default TLS certificate (``--tls-cert``/``--tls-key``) is loaded again from its files; a
  pair that does not load is logged and the old one kept. Nothing else changes.

Under ``--workers N`` the supervisor passes both on to every worker (``workers.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ossutil import __version__
from ossutil.server import accesslog
from ossutil.server.app import ROOT_CREDENTIALS_FILE, Services, assemble, default_certificate
from ossutil.server.certs.isolated import shutdown_workers
from ossutil.server.certs.tls import server_context
from ossutil.server.connections import AcceptErrors, TimedServer, raise_open_file_limit
from ossutil.server.dns.ownership import OUTCOMES
from ossutil.server.gateway.hooks import GatewayHooks
from ossutil.server.http import endpoints
from ossutil.server.http.front import FrontDoor, FrontProtocol
from ossutil.server.http.pipeline import Pipeline
from ossutil.server.metrics import RequestMetrics, ServerFigures, TlsMetrics
from ossutil.server.models import AccessKey
from ossutil.server.settings import Settings

log = logging.getLogger("ossutil.server")

LISTEN_BACKLOG = 1024  # pending connections per listener (aiohttp's default is 128)


def _say(line: str) -> None:
    print(line, flush=True)


def root_key_line(settings: Settings, root_key: tuple[AccessKey, bool] | None) -> str | None:
    """The one-time line naming a generated root key (None when none was generated), for the
    supervisor of ``--workers`` (workers.py), which creates the account before any worker.
    The same words as ``start`` prints."""
    if root_key is None or not root_key[1]:
        return None
    key = root_key[0]
    return (f"ossutil-server: created root account; AccessKeyId {key.access_key_id} "
            f"AccessKeySecret {key.secret} (also saved to "
            f"{settings.data_dir / ROOT_CREDENTIALS_FILE}, mode 0600)")


class _TlsFrontProtocol(FrontProtocol):
    """The front's protocol on the HTTPS listener: asyncio calls ``connection_made`` only once
    the handshake completed, so counting there (once per connection) counts handshakes."""

    def __init__(self, door: FrontDoor, tls: TlsMetrics,
                 pending: weakref.WeakSet[FrontProtocol]) -> None:
        super().__init__(door)
        self._tls = tls
        self._pending = pending

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._tls.completed += 1
        self._pending.discard(self)
        super().connection_made(transport)


def _tls_protocols(front: FrontDoor, tls: TlsMetrics) -> Callable[[], FrontProtocol]:
    """The HTTPS listener's protocol factory: one per accepted connection (counted); those
    still in their handshake are ``tls.pending`` (a weak set: a failed one is dropped)."""
    pending: weakref.WeakSet[FrontProtocol] = weakref.WeakSet()
    tls.pending = pending

    def protocol() -> FrontProtocol:
        tls.accepted += 1
        made = _TlsFrontProtocol(front, tls, pending)
        pending.add(made)
        return made

    return protocol


class Running:
    """What ``start`` opened, for ``run`` to watch and then close in reverse order."""

    def __init__(self, services: Services, gateway: GatewayHooks, runner: web.ServerRunner,
                 front: FrontDoor, listeners: list[asyncio.Server], urls: list[str],
                 readiness: endpoints.Readiness | None = None,
                 default_chain: str | None = None) -> None:
        self.services = services
        self.gateway = gateway
        self.runner = runner
        self.front = front
        self.listeners = listeners
        self.urls = urls
        self.readiness = readiness
        self.default_chain = default_chain  # the default certificate served now (metrics)

    async def reload(self, default_level: str) -> None:
        """SIGHUP: the log level, and the default TLS certificate from its files."""
        settings = self.services.settings
        level, source = await asyncio.to_thread(accesslog.level_from_file, settings.data_dir,
                                                default_level)
        accesslog.set_level(level)
        log.warning("SIGHUP: log level %s (from %s)", level, source)
        sni = self.gateway.sni
        if sni is None or settings.tls_cert is None:
            return
        try:
            chain, context = await asyncio.to_thread(_load_default, settings,
                                                     self.services.box)
        except Exception as exc:  # StartupError (unreadable, not a pair), ssl.SSLError ...
            log.error("SIGHUP: the default TLS certificate was not reloaded, the old one is "
                      "kept: %s", exc)
            return
        sni.replace_default(context)
        self.default_chain = chain
        log.warning("SIGHUP: default TLS certificate reloaded from %s", settings.tls_cert)

    async def close(self) -> None:
        if self.readiness is not None:
            self.readiness.draining = True
        for listener in self.listeners:  # stop accepting
            listener.close()
        await self.front.close()  # connections between cached reads
        await self.runner.cleanup()  # aiohttp's: finish in-flight requests
        await self.gateway.stop()
        await asyncio.to_thread(shutdown_workers)  # certificate check processes, if started
        await asyncio.to_thread(self.services.blobs.close)
        self.services.runner.close()


def _load_default(settings: Settings, box: Any) -> tuple[str, ssl.SSLContext]:
    """In a worker thread: the ``--tls-cert``/``--tls-key`` pair read again and its context."""
    chain, key = default_certificate(settings, box)
    return chain, server_context(chain, key)


async def start(settings: Settings) -> Running:
    """Open the data dir, build the services, start listening on HTTP (and HTTPS)."""
    started = time.time()
    raise_open_file_limit()
    AcceptErrors(asyncio.get_running_loop()).install()
    assembly = await assemble(settings)
    services, gateway = assembly.services, assembly.gateway
    line = root_key_line(settings, assembly.root_key)
    if line is not None:
        _say(line)
    pipeline = Pipeline(services, assembly.handlers, gateway=gateway.resolve)
    requests = RequestMetrics()
    # after each reply's last byte: the access line and the request metrics
    access_logger = type("AccessLogger", (accesslog.AccessLogger,), {"metrics": requests})
    # auto_decompress=False: Content-Encoding is object metadata; bodies are the bytes sent.
    # Timeouts: connections.py (idle keep-alive, and headers that never finish: slowloris).
    server = TimedServer(pipeline, access_log=accesslog.log, access_log_class=access_logger,
                         handler_cancellation=True,
                         auto_decompress=False, keepalive_timeout=settings.keepalive_timeout,
                         header_timeout=settings.header_timeout)
    runner = web.ServerRunner(server, shutdown_timeout=settings.drain_timeout)
    await runner.setup()
    # Every connection starts with the HTTP front (http/front.py: cached reads from memory),
    # which hands whatever else it sees to aiohttp's handler for ``server``.
    front = FrontDoor(addressing=services.addressing, gateway=gateway, cache=services.cache,
                      region=settings.region, header_timeout=settings.header_timeout,
                      keepalive_timeout=settings.keepalive_timeout, slow=server,
                      verifier=services.verifier, fill=assembly.fill)
    front.start()
    tls = TlsMetrics()
    default = assembly.default_pair
    running = Running(services, gateway, runner, front, [], [],
                      default_chain=default[0] if default else None)
    figures = ServerFigures(
        version=__version__, requests=requests, tls=tls, front=front,
        http_connections=lambda: len(server.connections), read_cache=services.cache,
        store=services.runner, bindings=lambda: len(gateway.table),
        certificates=lambda: _certificates(running), ownership=OUTCOMES, started=started)
    store = services.runner.store
    readiness = endpoints.Readiness(lambda: services.runner(store.versions),
                                    lambda: services.cache.loaded)
    running.readiness = readiness
    pipeline.endpoints["metrics"] = endpoints.metrics(figures.render)
    pipeline.endpoints["ready"] = readiness.serve
    loop = asyncio.get_running_loop()
    reuse_port = settings.reuse_port or None
    listeners = running.listeners
    listeners.append(await loop.create_server(front.protocol, settings.host, settings.port,
                                              reuse_address=True, reuse_port=reuse_port,
                                              backlog=LISTEN_BACKLOG))
    running.urls.append(_url("http", listeners[0]))
    if settings.https_port is not None:
        listeners.append(await loop.create_server(
            _tls_protocols(front, tls), settings.host, settings.https_port,
            ssl=gateway.ssl_context(), reuse_address=True, reuse_port=reuse_port,
            backlog=LISTEN_BACKLOG))
        running.urls.append(_url("https", listeners[1]))
    readiness.listening = True
    return running


def _certificates(running: Running) -> list[tuple[str, str]]:
    """(source, chain PEM) of every certificate this process serves: the default one and
    those attached to bindings."""
    found = [("attached", entry.chain_pem) for entry in running.gateway.table.certificates()]
    if running.default_chain is not None:
        source = "default-file" if running.services.settings.tls_cert else "default-generated"
        found.append((source, running.default_chain))
    return found


async def _health(running: Running) -> None:
    """Domain health's periodic round, until cancelled; it checks the served certificate
    against this process's HTTPS listener (when there is one)."""
    from ossutil.server.app import health_task

    # in a thread: the system resolver's configuration (resolv.conf) is read from disk
    task = await asyncio.to_thread(health_task, running.services.settings, running.services)
    if len(running.listeners) > 1:
        host, port = running.listeners[1].sockets[0].getsockname()[:2]
        task.checker.tls_address = ({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)
    await task.run()


def _url(scheme: str, listener: asyncio.Server) -> str:
    sockets = listener.sockets
    host, port = sockets[0].getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


async def run(settings: Settings, install_signals: Callable[[asyncio.Event], None],
              *, log_level: str = "warning", log_format: str = "text") -> int:
    """Serve until ``stop`` is set (SIGTERM/SIGINT); SIGHUP reloads (module docstring).
    ``log_level`` is ``--log-level``, what SIGHUP falls back to without a level file."""
    stop = asyncio.Event()
    install_signals(stop)
    loop = asyncio.get_running_loop()
    # until the reload below can run: a SIGHUP during start-up (systemctl reload) is no kill
    loop.add_signal_handler(signal.SIGHUP, lambda: log.warning("SIGHUP while starting: "
                                                               "nothing to reload yet"))
    running = await start(settings)
    services = running.services
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = loop.create_task(running.reload(log_level))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    if not settings.dns_verify:
        print("ossutil-server: WARNING: --no-dns-verify is on: domains are bound without "
              "DNS ownership proof (test-double mode)", file=sys.stderr, flush=True)
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    accesslog.lifecycle("start", f"ossutil-server {__version__} started",
                        accesslog.describe_settings(settings, version=__version__,
                                                    log_level=level, log_format=log_format,
                                                    listening=" ".join(running.urls)))
    for url in running.urls:
        _say(f"ossutil-server listening on {url}")
    watchers = [asyncio.create_task(services.keyring.watch(settings.auth_poll_interval)),
                asyncio.create_task(services.cache.watch(settings.auth_poll_interval))]
    watchers.append(asyncio.create_task(_health(running)))
    try:
        await stop.wait()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        began = time.monotonic()
        in_flight = sum(1 for c in running.runner.server.connections
                        if getattr(c, "_request_in_progress", False)) \
            if running.runner.server is not None else 0
        accesslog.lifecycle("stopping", "ossutil-server stopping: draining", {
            "requests_in_flight": in_flight, "drain_timeout": settings.drain_timeout})
        for watcher in watchers:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await running.close()
        accesslog.lifecycle("shutdown", "ossutil-server stopped", {
            "drained_seconds": round(time.monotonic() - began, 3)})
    return 0
