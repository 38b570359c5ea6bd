"""Start the listeners, print the banner, serve until told to stop, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable

from aiohttp import web

from ossutil.server.app import ROOT_CREDENTIALS_FILE, Services, assemble
from ossutil.server.certs.isolated import shutdown_workers
from ossutil.server.connections import AcceptErrors, TimedServer, raise_open_file_limit
from ossutil.server.gateway.hooks import GatewayHooks
from ossutil.server.http import endpoints
from ossutil.server.http.front import FrontDoor
from ossutil.server.http.pipeline import Pipeline
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


class Running:
    """What ``start`` opened, for ``run`` to watch and then close in reverse order."""

    def __init__(self, services: Services, gateway: GatewayHooks, runner: web.ServerRunner,
                 front: FrontDoor, listeners: list[asyncio.Server], urls: list[str]) -> None:
        self.services = services
        self.gateway = gateway
        self.runner = runner
        self.front = front
        self.listeners = listeners
        self.urls = urls

    async def close(self) -> None:
        for listener in self.listeners:  # stop accepting
            listener.close()
        await self.front.close()  # connections between cached reads
        await self.runner.cleanup()  # aiohttp's: finish in-flight requests
        await self.gateway.stop()
        await asyncio.to_thread(shutdown_workers)  # certificate check processes, if started
        await asyncio.to_thread(self.services.blobs.close)
        self.services.runner.close()


async def start(settings: Settings) -> Running:
    """Open the data dir, build the services, start listening on HTTP (and HTTPS)."""
    raise_open_file_limit()
    AcceptErrors(asyncio.get_running_loop()).install()
    assembly = await assemble(settings)
    services, gateway = assembly.services, assembly.gateway
    line = root_key_line(settings, assembly.root_key)
    if line is not None:
        _say(line)
    pipeline = Pipeline(services, assembly.handlers, gateway=gateway.resolve)
    # auto_decompress=False: Content-Encoding is object metadata; bodies are the bytes sent.
    # Timeouts: connections.py (idle keep-alive, and headers that never finish: slowloris).
    server = TimedServer(pipeline, access_log=None, handler_cancellation=True,
                         auto_decompress=False, keepalive_timeout=settings.keepalive_timeout,
                         header_timeout=settings.header_timeout)
    runner = web.ServerRunner(server, shutdown_timeout=5.0)
    await runner.setup()
    # Every connection starts with the HTTP front (http/front.py: cached reads from memory),
    # which hands whatever else it sees to aiohttp's handler for ``server``.
    front = FrontDoor(addressing=services.addressing, gateway=gateway, cache=services.cache,
                      region=settings.region, header_timeout=settings.header_timeout,
                      keepalive_timeout=settings.keepalive_timeout, slow=server,
                      verifier=services.verifier, fill=assembly.fill)
    front.start()
    pipeline.endpoints["metrics"] = endpoints.metrics(front.counters)
    loop = asyncio.get_running_loop()
    reuse_port = settings.reuse_port or None
    listeners = [await loop.create_server(front.protocol, settings.host, settings.port,
                                          reuse_address=True, reuse_port=reuse_port,
                                          backlog=LISTEN_BACKLOG)]
    urls = [_url("http", listeners[0])]
    if settings.https_port is not None:
        listeners.append(await loop.create_server(
            front.protocol, settings.host, settings.https_port, ssl=gateway.ssl_context(),
            reuse_address=True, reuse_port=reuse_port, backlog=LISTEN_BACKLOG))
        urls.append(_url("https", listeners[1]))
    return Running(services, gateway, runner, front, listeners, urls)


async def _health(running: Running) -> None:
    """Domain health's periodic round, until cancelled; it checks the served certificate
    against this process's HTTPS listener (when there is one)."""
    from ossutil.server.app import health_task

    task = health_task(running.services.settings, running.services)
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


async def run(settings: Settings, install_signals: Callable[[asyncio.Event], None]) -> int:
    stop = asyncio.Event()
    install_signals(stop)
    running = await start(settings)
    services = running.services
    if not settings.dns_verify:
        print("ossutil-server: WARNING: --no-dns-verify is on: domains are bound without "
              "DNS ownership proof (test-double mode)", file=sys.stderr, flush=True)
    for url in running.urls:
        _say(f"ossutil-server listening on {url}")
    watchers = [asyncio.create_task(services.keyring.watch(settings.auth_poll_interval)),
                asyncio.create_task(services.cache.watch(settings.auth_poll_interval))]
    watchers.append(asyncio.create_task(_health(running)))
    try:
        await stop.wait()
    finally:
        for watcher in watchers:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await running.close()
    return 0
