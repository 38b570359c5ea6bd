"""GatewayHooks: what ``server/runtime.py`` plugs into the server for issue 5.

- ``object_handlers``: the object operations (``http/handlers/object.py``), ready after ``start``;
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
callback is synchronous), so one that races a certificate change by less than that one store read
may still get the previous certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import (
    SHARED_DEFAULT_NAME,
    load_or_create_default_certificate,
    new_shared_default_record,
    open_shared_default_record,
)
from ossutil.server.gateway.domains import DomainTable
from ossutil.server.gateway.tls import SniContexts
from ossutil.server.http.handlers.multipart import MultipartHandlers
from ossutil.server.http.handlers.object import ObjectHandlers
from ossutil.server.models import Binding
from ossutil.server.objects.multipart import MultipartService
from ossutil.server.objects.service import ObjectService
from ossutil.server.polling import poll_forever
from ossutil.server.settings import SHARED_STORES, Settings, StartupError
from ossutil.server.storage.base import BindingFeed, Store, StoreRunner
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from ossutil.server.app import Services
    from ossutil.server.http.pipeline import Handler

log = logging.getLogger("ossutil.server.gateway")

POLL_INTERVAL = 0.5  # seconds: changes from other processes arrive within about this


def _snapshot(store: BindingFeed) -> tuple[int, list[Binding]]:
    """The change number to poll from, then every binding (one store-thread job: a change
    committed in between by another process is polled again, which is harmless)."""
    return store.versions()["bindings"], store.all_bindings()


def _changes(store: BindingFeed, version: int) -> tuple[int, list[tuple[str, Binding | None]]]:
    newest, domains = store.changes_since(version)
    return newest, [(domain, store.get_binding(domain)) for domain in domains]


def default_certificate(settings: Settings, box: SecretBox) -> tuple[str, bytes]:
    """``--tls-cert``/``--tls-key`` when given, else the generated one in the data dir."""
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise StartupError("--tls-cert and --tls-key must be given together")
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:  # the operator's own files: refuse unusable ones at start, in words
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(settings.tls_cert,
                                                                    settings.tls_key)
            return Path(settings.tls_cert).read_text(), Path(settings.tls_key).read_bytes()
        except (ssl.SSLError, UnicodeDecodeError) as exc:
            raise StartupError(f"--tls-cert {settings.tls_cert} / --tls-key "
                               f"{settings.tls_key}: not a PEM certificate chain and its "
                               f"unencrypted private key ({exc})") from None
    return load_or_create_default_certificate(settings.data_dir, box)


async def shared_default_certificate(services: Services) -> tuple[str, bytes]:
    """The generated default pair for processes sharing one store (PostgreSQL): kept in the
    store, key sealed, so every process presents the same certificate; the first process to
    start generates it and the database decides who was first."""
    store = services.runner.store
    record = await services.runner(store.get_server_value, SHARED_DEFAULT_NAME)
    if record is None:
        candidate = await asyncio.to_thread(new_shared_default_record, services.box)
        record = await services.runner(store.put_server_value_if_absent, SHARED_DEFAULT_NAME,
                                       candidate)
    return await asyncio.to_thread(open_shared_default_record, record, services.box)


class GatewayHooks:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.table = DomainTable()
        self.object_handlers: dict[str, Handler] = {}
        self.sni: SniContexts | None = None
        self._runner: StoreRunner[Store] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, Future[Binding | None]] = {}
        self._version = 0
        self._poller: asyncio.Task[None] | None = None

    async def start(self, services: Services) -> None:
        """Prepare the blob store (files or PostgreSQL, as composed), load every binding,
        build TLS, start polling."""
        self._loop = asyncio.get_running_loop()
        self._runner = services.runner
        await asyncio.to_thread(services.blobs.prepare)
        objects = ObjectService(services.runner, services.blobs, clock=services.clock)
        multipart = MultipartService(services.runner, services.blobs, clock=services.clock)
        self.object_handlers = {**ObjectHandlers(objects).table(),
                                **MultipartHandlers(multipart).table()}
        self._version, bindings = await services.runner(_snapshot, services.runner.store)
        self.table.load(bindings)
        if self._settings.https_port is not None:
            if self._settings.tls_cert is None and self._settings.store in SHARED_STORES:
                chain, key = await shared_default_certificate(services)
            else:
                chain, key = await asyncio.to_thread(default_certificate, self._settings,
                                                     services.box)
            self.sni = await asyncio.to_thread(SniContexts, chain, key, self.table,
                                               services.box)
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
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

    def on_change(self, domain: str) -> None:
        runner, loop = self._runner, self._loop
        if runner is None or loop is None:
            return
        try:
            future = runner.submit(runner.store.get_binding, domain)
        except RuntimeError:  # the store thread is shut down: the server is stopping
            return
        self._pending[domain] = future
        future.add_done_callback(lambda done: self._later(loop, self._refreshed, domain, done))

    @staticmethod
    def _later(loop: asyncio.AbstractEventLoop, fn: object, *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]

    def _refreshed(self, domain: str, future: Future[Binding | None]) -> None:
        if self._pending.get(domain) is future:
            del self._pending[domain]
        try:
            binding = future.result()
        except Exception:
            log.exception("re-reading the binding of %s failed", domain)
            return
        self._apply(domain, binding)

    def _apply(self, domain: str, binding: Binding | None) -> None:
        released = self.table.apply(domain, binding)
        if released and self.sni is not None:
            self.sni.forget(released)

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
