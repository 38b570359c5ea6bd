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
from ossutil.server.http.pipeline import Pipeline
from ossutil.server.models import AccessKey
from ossutil.server.settings import Settings

log = logging.getLogger("ossutil.server")


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
                 urls: list[str]) -> None:
        self.services = services
        self.gateway = gateway
        self.runner = runner
        self.urls = urls

    async def close(self) -> None:
        await self.runner.cleanup()  # stop accepting, finish in-flight requests
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
    if assembly.root_key is not None:
        key, generated = assembly.root_key
        if generated:
            _say(f"ossutil-server: created root account; AccessKeyId {key.access_key_id} "
                 f"AccessKeySecret {key.secret} (also saved to "
                 f"{settings.data_dir / ROOT_CREDENTIALS_FILE}, mode 0600)")
    pipeline = Pipeline(services, assembly.handlers, gateway=gateway.resolve)
    # auto_decompress=False: Content-Encoding is object metadata; bodies are the bytes sent.
    # Timeouts: connections.py (idle keep-alive, and headers that never finish: slowloris).
    server = TimedServer(pipeline, access_log=None, handler_cancellation=True,
                         auto_decompress=False, keepalive_timeout=settings.keepalive_timeout,
                         header_timeout=settings.header_timeout)
    runner = web.ServerRunner(server, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True,
                       reuse_port=settings.reuse_port or None)
    await site.start()
    urls = [_url("http", site)]
    if settings.https_port is not None:
        tls_site = web.TCPSite(runner, settings.host, settings.https_port,
                               ssl_context=gateway.ssl_context(), reuse_address=True,
                               reuse_port=settings.reuse_port or None)
        await tls_site.start()
        urls.append(_url("https", tls_site))
    return Running(services, gateway, runner, urls)


def _url(scheme: str, site: web.TCPSite) -> str:
    server = site._server  # the asyncio server: the only way to learn a port-0 choice
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
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
    try:
        await stop.wait()
    finally:
        for watcher in watchers:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await running.close()
    return 0
