"""Challenge responses: what our listeners answer while the CA validates a name.

- HTTP-01 (RFC 8555 §8.3): ``GET /.well-known/acme-challenge/<token>`` with the Host of a bound
  domain, answered by the pipeline before any bucket routing with the key authorization, only
  for a token issued for that very name. Kept in memory by the ordering process and in the
  store (``acme_challenges``), so whichever process the CA reaches answers.
- TLS-ALPN-01 (RFC 8737): a handshake for that SNI name offering ``acme-tls/1`` gets a
  self-signed certificate for the name with the critical acmeIdentifier extension (SHA-256 of
  the key authorization), on a context that negotiates only ``acme-tls/1``. Contexts are built
  in a worker thread: by the ordering process when it publishes, by the others when their poll
  of the store (every ``ALPN_POLL`` s, only with ``--acme-challenge tls-alpn-01``) finds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ossutil.server.acme.client import HTTP_01, TLS_ALPN_01
from ossutil.server.certs.tls import server_context
from ossutil.server.storage.base import AcmeStore, StoreRunner

log = logging.getLogger("ossutil.server.acme")

ACME_TLS_ALPN = "acme-tls/1"
ID_PE_ACME_IDENTIFIER = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")  # RFC 8737 §6.1
CHALLENGE_LIFETIME = timedelta(minutes=10)  # a published response is kept at most this long
ALPN_POLL = 0.5  # seconds: another process's TLS-ALPN-01 challenge is answered within this


def alpn_certificate(domain: str, response: str) -> tuple[str, bytes]:
    """The TLS-ALPN-01 certificate for ``domain``: self-signed, SAN = the name, the critical
    acmeIdentifier extension holding the DER OCTET STRING of SHA-256(key authorization)."""
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(response.encode()).digest()
    now = datetime.now(timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .add_extension(x509.UnrecognizedExtension(ID_PE_ACME_IDENTIFIER,
                                                      b"\x04\x20" + digest), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def alpn_context(domain: str, response: str) -> ssl.SSLContext:
    """In a worker thread: the context a TLS-ALPN-01 validation handshake is switched to."""
    chain, key = alpn_certificate(domain, response)
    context = server_context(chain, key)
    context.set_alpn_protocols([ACME_TLS_ALPN])
    return context


class ChallengeResponder:
    """This process's view of the pending challenges. ``publish``/``withdraw`` are called from
    the order's worker thread; the answers are read on the event loop."""

    def __init__(self, runner: StoreRunner[AcmeStore],
                 clock: Callable[[], datetime]) -> None:
        self._runner = runner
        self._clock = clock
        self._http: dict[tuple[str, str], str] = {}
        self._alpn: dict[str, tuple[str, ssl.SSLContext]] = {}  # domain -> (response, context)
        self._own: set[str] = set()  # TLS-ALPN-01 challenges this process published
        self._poller: asyncio.Task[None] | None = None

    # --- from the order (a worker thread) -------------------------------------------------

    def publish(self, domain: str, token: str, kind: str, response: str) -> None:
        if kind == TLS_ALPN_01:
            self._own.add(domain)  # the poll leaves it alone
            self._alpn[domain] = (response, alpn_context(domain, response))
        else:
            self._http[(domain, token)] = response
        store = self._runner.store
        self._runner.submit(store.put_acme_challenge, domain, token, kind, response,
                            self._clock() + CHALLENGE_LIFETIME).result()

    def withdraw(self, domain: str, token: str) -> None:
        self._http.pop((domain, token), None)
        if domain in self._own:
            self._own.discard(domain)
            self._alpn.pop(domain, None)
        store = self._runner.store
        try:
            self._runner.submit(store.delete_acme_challenge, domain, token).result()
        except Exception as exc:  # it expires on its own
            log.warning("removing the ACME challenge for %s failed: %s", domain, exc)

    # --- answers (event loop) -------------------------------------------------------------

    async def http01(self, domain: str, token: str) -> str | None:
        """The key authorization for ``token`` on ``domain`` (None: not ours)."""
        found = self._http.get((domain, token))
        if found is not None:
            return found
        store = self._runner.store
        return await self._runner(store.get_acme_challenge, domain, token, self._clock())

    def tls_alpn01(self, server_name: str) -> ssl.SSLContext | None:
        """The SNI callback's question: the challenge context for this name, if pending."""
        found = self._alpn.get(server_name)
        return None if found is None else found[1]

    # --- other processes' TLS-ALPN-01 challenges ------------------------------------------

    def start_alpn_poll(self) -> None:
        from ossutil.server.polling import poll_forever

        self._poller = asyncio.create_task(poll_forever(
            "polling ACME TLS-ALPN-01 challenges", self._poll_alpn, ALPN_POLL, log))

    async def _poll_alpn(self) -> None:
        store = self._runner.store
        pending = dict(await self._runner(store.acme_challenges, TLS_ALPN_01, self._clock()))
        for domain in [d for d in self._alpn if d not in pending and d not in self._own]:
            self._alpn.pop(domain, None)
        for domain, response in pending.items():
            if domain in self._own:
                continue
            have = self._alpn.get(domain)
            if have is None or have[0] != response:
                context = await asyncio.to_thread(alpn_context, domain, response)
                self._alpn[domain] = (response, context)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None


__all__ = ["ACME_TLS_ALPN", "HTTP_01", "TLS_ALPN_01", "ChallengeResponder", "alpn_certificate",
           "alpn_context"]
