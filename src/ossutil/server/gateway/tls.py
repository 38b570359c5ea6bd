"""SNI: which certificate a TLS connection gets, decided per handshake.

The listener's context serves the default certificate and carries ``sni_callback``. For a server
name whose binding has a certificate attached (exact name first, then a covering wildcard
binding; see ``DomainTable.certificate_for``), the callback switches the connection to that
certificate's own context.

The callback runs inside the handshake on the event loop, so it only looks up: two dict probes
for the entry, one for a ready context. Building a context (open the sealed key, load the PEM
through ``memfd`` files: about 2 ms, more than the cached handshake itself) happens in a worker
thread when the certificate becomes known: ``prepare`` for the start-up snapshot (awaited before
the listener opens) and ``update`` after each table change (awaited by PutCname in this process
through ``GatewayHooks.on_change``, so the certificate is ready when the client hears success;
another process's change arrives by poll and is ready a build later). A handshake that finds no
ready context (that window, or a context the bound evicted) gets the default certificate and
asks for a build.

Contexts are cached by (cert id, fingerprint), shared by every name using the certificate, at
most ``max_contexts`` of them (least recently used goes first; about 25 KiB each). The entry goes
as soon as no binding uses the certificate (``forget``), so attach, rotate and detach act on the
next connection. A certificate that fails to load is logged once and answered with the default
certificate.

Sessions resume across the switch: tickets are sealed with the listener context's keys (see
``certs.tls.server_context``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import OrderedDict
from collections.abc import Callable, Iterable

from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import server_context
from ossutil.server.gateway.domains import CertEntry, DomainTable

log = logging.getLogger("ossutil.server.gateway")


_ACME_ALPN = b"\x0aacme-tls/1"  # the protocol name as an ALPN list carries it (length byte)


def _note_acme_alpn(connection: object, direction: str, _version: object, content_type: int,
                    message_type: int, data: bytes) -> None:
    """The message callback: a ClientHello (handshake 22, type 1) offering ``acme-tls/1``
    marks its connection for the SNI callback (``answer_challenges``)."""
    if direction == "read" and content_type == 22 and message_type == 1 and _ACME_ALPN in data:
        connection._offers_acme_tls = True  # type: ignore[attr-defined]


MAX_CONTEXTS = 2048  # distinct certificates with a ready context (about 50 MiB at most)

CacheKey = tuple[str, str]


class SniContexts:
    """The listener's context (``default``) and one ready context per attached certificate.

    Written only from the event loop (the builds' results are applied there), read by the SNI
    callback on the same loop: no lock."""

    def __init__(self, default_chain_pem: str, default_key_pem: bytes, table: DomainTable,
                 box: SecretBox, *, max_contexts: int = MAX_CONTEXTS) -> None:
        self.default = server_context(default_chain_pem, default_key_pem)
        self.default.sni_callback = self._select
        self._table = table
        self._box = box
        self._max = max_contexts
        # cache key -> its context, or ``default`` for a certificate that failed to load
        self._cache: OrderedDict[CacheKey, ssl.SSLContext] = OrderedDict()
        self._building: dict[CacheKey, asyncio.Future[None]] = {}
        # domain -> the context it is served with while its new certificate's builds (update)
        self._interim: dict[str, CacheKey] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.built = 0  # contexts built so far (for tests and the benchmark)
        self.misses = 0  # handshakes for an attached certificate that found no ready context
        # the default certificate reloaded on SIGHUP (``replace_default``): the listener keeps
        # ``default`` (its session ticket keys), handshakes switch to this one
        self._fallback: ssl.SSLContext | None = None

    def replace_default(self, context: ssl.SSLContext) -> None:
        """From the next handshake on, names without a certificate of their own get
        ``context`` (built off the loop by the caller)."""
        self._fallback = context

    def _select(self, connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                _listener: ssl.SSLContext) -> None:
        context = self._bound(server_name) if server_name else None
        if context is None or context is self.default:
            context = self._fallback
        if context is not None:
            connection.context = context

    def _bound(self, server_name: str) -> ssl.SSLContext | None:
        entry = self._table.certificate_for(server_name.lower().rstrip("."))
        if entry is None:
            return None
        context = self._cache.get(entry.cache_key)
        if context is None:
            # Not built yet (a change polled a moment ago) or evicted: this handshake gets the
            # certificate the name had until the change when it is still there (a renewal or
            # a rotation is seamless), else the default one; the next one the right one.
            # Never built here, on the loop.
            self.misses += 1
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed: shutting down
                    self._loop.call_soon_threadsafe(self._start, entry)
            interim = self._interim.get(server_name.lower().rstrip("."))
            return self._cache.get(interim) if interim is not None else None
        self._cache.move_to_end(entry.cache_key)
        return context

    def answer_challenges(self, challenge: Callable[[str], ssl.SSLContext | None]) -> None:
        """TLS-ALPN-01 (RFC 8737): a handshake that offers ``acme-tls/1`` for a name with a
        pending challenge gets ``challenge(name)``'s context; every other handshake is
        ``_select``'s. The SNI callback cannot see the client's ALPN list, so the listener's
        message callback notes it from the ClientHello, which OpenSSL reports before SNI."""
        select = self._select

        def with_challenges(connection: ssl.SSLObject | ssl.SSLSocket,
                            server_name: str | None, listener: ssl.SSLContext) -> None:
            if server_name and getattr(connection, "_offers_acme_tls", False):
                context = challenge(server_name.lower().rstrip("."))
                if context is not None:
                    connection.context = context
                    return
            select(connection, server_name, listener)

        self.default._msg_callback = _note_acme_alpn  # type: ignore[attr-defined]
        self.default.sni_callback = with_challenges

    def ready(self, cache_key: CacheKey) -> bool:
        return cache_key in self._cache

    async def prepare(self, entries: Iterable[CertEntry]) -> None:
        """Build, in one worker thread, the contexts of ``entries`` not ready yet (at most
        ``max_contexts``); for the start-up snapshot, before the listener opens."""
        self._loop = asyncio.get_running_loop()
        wanted: dict[CacheKey, CertEntry] = {}
        for entry in entries:
            if entry.cache_key not in self._cache:
                wanted.setdefault(entry.cache_key, entry)
                if len(wanted) >= self._max:
                    break
        if wanted:
            built = await asyncio.to_thread(lambda: [self._build(e) for e in wanted.values()])
            for entry, context in zip(wanted.values(), built, strict=True):
                self._store(entry.cache_key, context)

    def update(self, domain: str, released: list[CacheKey],
               previous: CacheKey | None = None) -> asyncio.Future[None] | None:
        """After the table changed for ``domain``: drop the contexts no binding uses any more
        and start building the one ``domain`` now needs. Returns the build to await (None when
        nothing is to be built). On the event loop.

        While that build runs, ``domain`` keeps the context it had (``previous``), and the
        released contexts are dropped only once it is done: a handshake in between gets the
        old certificate, not the default one (an automatic renewal, a rotation polled from
        another process). A domain left with no certificate (unbound, detached without a
        fallback) drops them at once."""
        self._loop = asyncio.get_running_loop()
        entry = self._table.certificate_for(domain)
        if entry is None or entry.cache_key in self._cache:
            self._interim.pop(domain, None)
            self.forget(released)
            return None
        building = self._start(entry)
        if previous is not None and previous in self._cache:
            self._interim[domain] = previous
        building.add_done_callback(lambda _: self._settled(domain, released))
        return building

    def _settled(self, domain: str, released: list[CacheKey]) -> None:
        """``domain``'s new context is built (or its build was dropped): the interim one and
        the released contexts no binding took up again go."""
        self._interim.pop(domain, None)
        self.forget([key for key in released if not self._table.uses(key)])

    def _start(self, entry: CertEntry) -> asyncio.Future[None]:
        """The build of ``entry``'s context in a worker thread, one per key at a time."""
        running = self._building.get(entry.cache_key)
        if running is not None:
            return running
        if entry.cache_key in self._cache:  # a miss raced the build it asked for
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        task = asyncio.ensure_future(self._build_later(entry))
        self._building[entry.cache_key] = task
        return task

    async def _build_later(self, entry: CertEntry) -> None:
        context = await asyncio.to_thread(self._build, entry)
        if self._building.get(entry.cache_key) is asyncio.current_task():
            del self._building[entry.cache_key]
            self._store(entry.cache_key, context)
        # else: forgotten while building (detached or rotated again): the result is dropped

    def _build(self, entry: CertEntry) -> ssl.SSLContext:
        """In a worker thread: the certificate's context, or ``default`` if it cannot load."""
        try:
            key_pem = self._box.decrypt(entry.key_sealed, context=entry.cert_id.encode())
            context = server_context(entry.chain_pem, key_pem)
        except Exception:
            log.exception("certificate %s cannot be loaded; serving the default certificate",
                          entry.cert_id)
            return self.default
        return context

    def _store(self, cache_key: CacheKey, context: ssl.SSLContext) -> None:
        if context is not self.default:
            self.built += 1
        self._cache[cache_key] = context
        self._cache.move_to_end(cache_key)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)

    def forget(self, cache_keys: list[CacheKey]) -> None:
        for cache_key in cache_keys:
            self._cache.pop(cache_key, None)
            self._building.pop(cache_key, None)

    def __len__(self) -> int:
        return len(self._cache)
