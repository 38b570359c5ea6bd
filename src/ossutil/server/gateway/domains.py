"""The in-memory table the request path reads: bound domain -> bucket, and -> certificate.

Two plain dicts, so a Host lookup is one dict probe (no store, no DNS) and memory stays near
100 bytes per binding: ``bucket_for`` maps every enabled binding; ``_certs`` only those with an
attached certificate. Bucket name strings are shared between bindings, and so is one
``CertEntry`` (with its PEM text) between the bindings a certificate is attached to. Start-up
fills the table from ``load_routes``: plain tuples straight from the store (no ``Binding``).

The table is written only from the event loop (``GatewayHooks`` applies store reads in the order
the store thread made them), so it needs no lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ossutil.server.models import Binding, BindingStatus, Route


@dataclass(frozen=True, slots=True)
class CertEntry:
    """An attached certificate as the SNI callback needs it; the key stays sealed until used."""

    cert_id: str
    fingerprint: str
    chain_pem: str
    key_sealed: bytes

    @property
    def cache_key(self) -> tuple[str, str]:
        return self.cert_id, self.fingerprint


class DomainTable:
    def __init__(self) -> None:
        self._buckets: dict[str, str] = {}
        self._certs: dict[str, CertEntry] = {}
        self._names: dict[str, str] = {}
        self._cert_users: Counter[tuple[str, str]] = Counter()
        self._entries: dict[tuple[str, str], CertEntry] = {}  # one per attached certificate

    def __len__(self) -> int:
        return len(self._buckets)

    def bucket_for(self, host: str) -> str | None:
        """The bucket serving ``host`` (already lower-case, no port, no trailing dot)."""
        return self._buckets.get(host)

    def certificate_for(self, server_name: str) -> CertEntry | None:
        """The certificate for a TLS server name: the exact binding's, else the one attached to
        a wildcard binding covering it (``*.example.com`` covers ``a.example.com``, one label
        only), else None (the default certificate)."""
        entry = self._certs.get(server_name)
        if entry is None:
            dot = server_name.find(".")
            if dot > 0:
                entry = self._certs.get("*" + server_name[dot:])
        return entry

    def uses(self, cache_key: tuple[str, str]) -> bool:
        """Whether some binding still has this certificate."""
        return cache_key in self._entries

    def certificates(self) -> list[CertEntry]:
        """Every attached certificate, once each (the TLS contexts to build at start-up)."""
        return list(self._entries.values())

    def load(self, bindings: Iterable[Binding]) -> None:
        for binding in bindings:
            self.apply(binding.domain, binding)

    def load_routes(self, routes: Iterable[Route]) -> None:
        """Make the table hold exactly ``routes`` (the store's ``binding_routes``: enabled
        bindings only). It starts from empty, so a store that retries its read after a broken
        connection may call it again."""
        self._buckets.clear()
        self._certs.clear()
        self._cert_users.clear()
        self._entries.clear()
        buckets, names, certs = self._buckets, self._names, self._certs
        for domain, bucket, cert_id, fingerprint, chain_pem, key_sealed in routes:
            buckets[domain] = names.setdefault(bucket, bucket)
            if cert_id is not None:
                assert fingerprint is not None and chain_pem is not None
                assert key_sealed is not None
                certs[domain] = self._entry(cert_id, fingerprint, chain_pem, bytes(key_sealed))

    def _entry(self, cert_id: str, fingerprint: str, chain_pem: str,
               key_sealed: bytes) -> CertEntry:
        """The shared entry for this certificate, counted as used once more."""
        key = (cert_id, fingerprint)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = CertEntry(cert_id, fingerprint, chain_pem, key_sealed)
        self._cert_users[key] += 1
        return entry

    def apply(self, domain: str, binding: Binding | None) -> list[tuple[str, str]]:
        """Make ``domain`` match ``binding`` (None: unbound). Returns the certificate cache keys
        no binding uses any more, for the TLS context cache to drop."""
        released: list[tuple[str, str]] = []
        old = self._certs.pop(domain, None)
        if binding is None or binding.status is not BindingStatus.ENABLED:
            self._buckets.pop(domain, None)
            new = None
        else:
            bucket = self._names.setdefault(binding.bucket, binding.bucket)
            self._buckets[domain] = bucket
            cert = binding.served_certificate  # uploaded, else the automatic one
            new = None if cert is None else self._entry(cert.cert_id, cert.fingerprint,
                                                        cert.chain_pem, cert.key_sealed)
        if new is not None:
            self._certs[domain] = new
        if old is not None:
            self._cert_users[old.cache_key] -= 1
            if self._cert_users[old.cache_key] <= 0:
                del self._cert_users[old.cache_key]
                del self._entries[old.cache_key]
                released.append(old.cache_key)
        return released
