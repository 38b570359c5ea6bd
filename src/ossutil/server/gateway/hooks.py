"""GatewayHooks: the custom-domain state ``server/app.py`` plugs into the pipeline and listeners.

- ``resolve(domain)``: the bucket a custom-domain Host is served from, from the in-memory
  ``DomainTable`` (no store or DNS read on the request path), or 404 ``NoSuchCnameInRecord``;
- ``ssl_context()``: the HTTPS listener's context (default certificate + SNI callback);
- ``on_change(domain)``: called by CnameService right after a binding or certificate change
  commits; re-reads that domain;
- a poller of ``store.changes_since`` brings in changes other server processes commit on a
  shared store, within ``POLL_INTERVAL``.

Ordering. Every store read that feeds the table (start-up snapshot, ``on_change`` re-reads, poll
batches) is queued on the store's single thread and applied from its completion callback via
``call_soon_threadsafe``, so reads reach the table in the order the store thread made them and an
older read never overwrites a newer one. ``on_change`` queues its read before CnameService even
returns, and a request for a domain with a re-read in flight waits for it: a client that saw its
PutCname or DeleteCname succeed never gets the old routing. A TLS handshake cannot wait (the SNI
callback is synchronous), so CnameService awaits what ``on_change`` returns: the re-read applied
and the certificate's TLS context built (in a worker thread, ``SniContexts.update``). A change
polled from another process is served with the default certificate for the one context build
that follows the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from concurrent.futures import Future

from ossutil.server.certs.keystore import SecretBox
from ossutil.server.gateway.domains import DomainTable
from ossutil.server.gateway.tls import SniContexts
from ossutil.server.models import Binding
from ossutil.server.polling import poll_forever
from ossutil.server.settings import Settings
from ossutil.server.storage.base import BindingFeed, Store, StoreRunner
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.gateway")

POLL_INTERVAL = 0.5  # seconds: changes from other processes arrive within about this


def _snapshot(store: BindingFeed, table: DomainTable) -> int:
    """Fill ``table`` with every enabled binding and return the change number to poll from
    (one read transaction: a change committed after it is polled). It runs on the store
    thread, streaming rows into the table, before any listener or poller can read the table."""
    return store.binding_routes(table.load_routes)


def _changes(store: BindingFeed, version: int) -> tuple[int, list[tuple[str, Binding | None]]]:
    newest, domains = store.changes_since(version)
    return newest, [(domain, store.get_binding(domain)) for domain in domains]


def _settle(settled: asyncio.Future[None]) -> None:
    if not settled.done():
        settled.set_result(None)


class GatewayHooks:
    """The custom-domain side of one server process: the Host -> bucket table, the TLS
    certificate per SNI name, and the poller that keeps both current. Built by the composition
    root (``server/app.py``), which hands it the store runner and the default certificate."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.table = DomainTable()
        self.sni: SniContexts | None = None
        self._runner: StoreRunner[Store] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, Future[Binding | None]] = {}
        self._version = 0
        self._poller: asyncio.Task[None] | None = None
        # services that live with the gateway (the ACME scheduler): started once the TLS
        # contexts exist, stopped first
        self._companions: list[tuple[Callable[[], Awaitable[None]],
                                     Callable[[], Awaitable[None]]]] = []

    def run_with(self, start: Callable[[], Awaitable[None]],
                 stop: Callable[[], Awaitable[None]]) -> None:
        """Start ``start`` at the end of ``start()``, ``stop`` at the beginning of ``stop()``."""
        self._companions.append((start, stop))

    async def start(self, runner: StoreRunner[Store], box: SecretBox,
                    default_pair: tuple[str, bytes] | None) -> None:
        """Load every binding, build TLS around ``default_pair`` (None: no HTTPS listener),
        start polling."""
        self._loop = asyncio.get_running_loop()
        self._runner = runner
        self._version = await runner(_snapshot, runner.store, self.table)
        if default_pair is not None:
            chain, key = default_pair
            self.sni = await asyncio.to_thread(SniContexts, chain, key, self.table, box)
            await self.sni.prepare(self.table.certificates())
        self._poller = asyncio.create_task(self._poll())
        for start, _ in self._companions:
            await start()

    async def stop(self) -> None:
        for _, stop in self._companions:
            await stop()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    def ssl_context(self) -> ssl.SSLContext:
        if self.sni is None:
            raise RuntimeError("the gateway was started without --https-port")
        return self.sni.default

    # --- the request path -----------------------------------------------------------------

    def settled_bucket(self, domain: str) -> str | None:
        """The bucket bound to ``domain`` when no re-read of it is in flight, else None (the
        HTTP front's synchronous path; ``resolve`` waits for the re-read instead)."""
        if domain in self._pending:
            return None
        return self.table.bucket_for(domain)

    async def resolve(self, domain: str) -> str:
        """The bucket bound to ``domain``; 404 NoSuchCnameInRecord, never a guess."""
        while (pending := self._pending.get(domain)) is not None:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(pending)
        bucket = self.table.bucket_for(domain)
        if bucket is None:
            raise OssError.from_code("NoSuchCnameInRecord", Cname=domain)
        return bucket

    # --- keeping the table current --------------------------------------------------------

    def on_change(self, domain: str) -> asyncio.Future[None] | None:
        """Queue the re-read of ``domain``; the returned future is done once the table has it
        and its certificate's TLS context is built (CnameService awaits it before answering)."""
        runner, loop = self._runner, self._loop
        if runner is None or loop is None:
            return None
        try:
            future = runner.submit(runner.store.get_binding, domain)
        except RuntimeError:  # the store thread is shut down: the server is stopping
            return None
        self._pending[domain] = future
        settled: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(
            lambda done: self._later(loop, self._refreshed, domain, done, settled))
        return asyncio.shield(settled)  # a cancelled PutCname does not cancel the re-read

    @staticmethod
    def _later(loop: asyncio.AbstractEventLoop, fn: object, *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]

    def _refreshed(self, domain: str, future: Future[Binding | None],
                   settled: asyncio.Future[None]) -> None:
        if self._pending.get(domain) is future:
            del self._pending[domain]
        building = None
        try:
            building = self._apply(domain, future.result())
        except Exception:
            log.exception("re-reading the binding of %s failed", domain)
        if building is None:
            _settle(settled)
        else:
            building.add_done_callback(lambda _: _settle(settled))

    def _apply(self, domain: str, binding: Binding | None) -> asyncio.Future[None] | None:
        """Apply one binding read; returns the TLS context build it started, if any."""
        previous = self.table.certificate_for(domain)  # served until the new one is built
        released = self.table.apply(domain, binding)
        if self.sni is None:
            return None
        return self.sni.update(domain, released,
                               previous.cache_key if previous is not None else None)

    async def _poll(self) -> None:
        """Poll until cancelled, or until the store thread is shut down (server stopping)."""
        await poll_forever("polling binding changes", self.poll_once, POLL_INTERVAL, log)

    async def poll_once(self) -> None:
        """Apply the changes committed since the last poll (by any process)."""
        runner, loop = self._runner, self._loop
        assert runner is not None and loop is not None
        done: asyncio.Future[None] = loop.create_future()
        future = runner.submit(_changes, runner.store, self._version)
        future.add_done_callback(lambda f: self._later(loop, self._polled, f, done))
        await done

    def _polled(self, future: Future[tuple[int, list[tuple[str, Binding | None]]]],
                done: asyncio.Future[None]) -> None:
        try:
            version, changed = future.result()
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
            return
        self._version = max(self._version, version)
        for domain, binding in changed:
            self._apply(domain, binding)
        if not done.done():
            done.set_result(None)
