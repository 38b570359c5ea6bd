"""SNI: which certificate a TLS connection gets, decided per handshake.

The listener's context serves the default certificate and carries ``sni_callback``. For a server
name whose binding has a certificate attached (exact name first, then a covering wildcard
binding; see ``DomainTable.certificate_for``), the callback switches the connection to that
certificate's own context. Contexts are built on first use and cached by (cert id,
fingerprint), so start-up does no per-certificate work; the cache entry goes as soon as no binding
uses the certificate (``forget``), so attach, rotate and detach act on the next connection.

The callback runs inside the handshake on the event loop: normally two dict probes. The first
handshake for a certificate also opens its sealed key (AES-GCM, microseconds) and loads the PEM
through ``memfd`` files into a new ``SSLContext`` (about a millisecond for EC P-256, a few for RSA
2048): a one-off cost per certificate accepted on the loop rather than a thread hop that the
synchronous callback cannot make. A certificate that fails to load is logged and answered with
the default certificate.
"""

from __future__ import annotations

import logging
import ssl

from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import server_context
from ossutil.server.gateway.domains import CertEntry, DomainTable

log = logging.getLogger("ossutil.server.gateway")


class SniContexts:
    def __init__(self, default_chain_pem: str, default_key_pem: bytes, table: DomainTable,
                 box: SecretBox) -> None:
        self.default = server_context(default_chain_pem, default_key_pem)
        self.default.sni_callback = self._select
        self._table = table
        self._box = box
        self._cache: dict[tuple[str, str], ssl.SSLContext] = {}
        self.built = 0  # contexts built so far (for tests and the benchmark)

    def _select(self, connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                _listener: ssl.SSLContext) -> None:
        if not server_name:
            return
        entry = self._table.certificate_for(server_name.lower().rstrip("."))
        if entry is None:
            return
        context = self._cache.get(entry.cache_key)
        if context is None:
            context = self._build(entry)
        if context is not self.default:
            connection.context = context

    def _build(self, entry: CertEntry) -> ssl.SSLContext:
        try:
            key_pem = self._box.decrypt(entry.key_sealed, context=entry.cert_id.encode())
            context = server_context(entry.chain_pem, key_pem)
            self.built += 1
        except Exception:
            log.exception("certificate %s cannot be loaded; serving the default certificate",
                          entry.cert_id)
            context = self.default
        self._cache[entry.cache_key] = context
        return context

    def forget(self, cache_keys: list[tuple[str, str]]) -> None:
        for cache_key in cache_keys:
            self._cache.pop(cache_key, None)

    def __len__(self) -> int:
        return len(self._cache)
