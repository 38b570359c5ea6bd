"""The ACME protocol driver (RFC 8555) over certbot's ``acme`` library: synchronous, so the
service runs every call in a worker thread (``asyncio.to_thread``); the event loop never waits
on the CA.

One ``AcmeClient`` per process and directory: the account key is the store's (every process
sharing it uses one account; the CA answers ``newAccount`` with the existing account for a key
it knows), the directory and account are looked up once and again after a failure.

``issue`` runs one order for one name: new order, the chosen challenge published through the
caller's ``publish`` (our HTTP or HTTPS listener answers it, in every process), answered, polled,
finalized with a fresh ECDSA P-256 key's CSR, the chain downloaded. Failures become
``AcmeFailure`` with a one-line reason and the CA's ``Retry-After``, when it gave one.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from acme import challenges, client, errors, messages
from acme import crypto_util as acme_crypto
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from josepy import jwa, jwk

log = logging.getLogger("ossutil.server.acme")

HTTP_01 = "http-01"
TLS_ALPN_01 = "tls-alpn-01"
CHALLENGE_TYPES = (HTTP_01, TLS_ALPN_01)
ORDER_SECONDS = 90  # the longest one order may take (validation, finalization)
NETWORK_TIMEOUT = 15  # seconds per request to the CA

# publish(domain, token, kind, response) / withdraw(domain, token): the service's responders
Publish = Callable[[str, str, str, str], None]
R = TypeVar("R")
Withdraw = Callable[[str, str], None]


class AcmeFailure(Exception):
    """An order that did not produce a certificate: ``str()`` is one line for the log and the
    state row; ``retry_after`` the CA's Retry-After (UTC), when it sent one; ``rate_limited``
    when the CA said so (RFC 8555 ``rateLimited``)."""

    def __init__(self, message: str, retry_after: datetime | None = None,
                 rate_limited: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


@dataclass(frozen=True)
class Issued:
    chain_pem: str
    key_pem: bytes  # unencrypted PKCS#8: the caller seals it at once
    renew_at: datetime | None  # the CA's ARI suggestion, when it offers ARI


def new_key_pem() -> bytes:
    """A fresh ECDSA P-256 private key (certificates and the account alike)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def key_authorization(token: str, account_key: jwk.JWK) -> str:
    """RFC 8555 §8.1: token + "." + base64url(SHA-256 JWK thumbprint of the account key)."""
    thumbprint = base64.urlsafe_b64encode(account_key.thumbprint(hashes.SHA256)).rstrip(b"=")
    return f"{token}.{thumbprint.decode()}"


class _Network(client.ClientNetwork):
    """The library's network layer, remembering the last response's Retry-After (its errors
    do not carry it) and trusting ``--acme-ca-bundle``."""

    def __init__(self, key: jwk.JWK, verify: str | bool) -> None:
        super().__init__(key, alg=jwa.ES256, verify_ssl=verify,  # type: ignore[arg-type]
                         user_agent="ossutil-server-acme", timeout=NETWORK_TIMEOUT)
        self.retry_after: datetime | None = None

    def _send_request(self, method: str, url: str, *args: Any,
                      **kwargs: Any) -> requests.Response:
        response = super()._send_request(method, url, *args, **kwargs)
        self.retry_after = _retry_after(response.headers.get("Retry-After"))
        return response


def _retry_after(value: str | None) -> datetime | None:
    if not value:
        return None
    now = datetime.now(timezone.utc)
    if value.strip().isdigit():
        return now + timedelta(seconds=min(int(value.strip()), 86400 * 7))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Eab:
    """External account binding (RFC 8555 §7.3.4): the CA's key id and base64url HMAC key."""

    kid: str
    hmac_key: str = ""

    def __repr__(self) -> str:
        return f"Eab(kid={self.kid!r}, hmac_key=***)"


class AcmeClient:
    """One directory, one account key; ``issue`` from worker threads (one order at a time per
    client: the library's nonce pool is not shared across threads)."""

    def __init__(self, directory: str, account_key_pem: bytes, *, ca_bundle: Path | None = None,
                 email: str = "", eab: Eab | None = None) -> None:
        self.directory_url = directory
        private = serialization.load_pem_private_key(account_key_pem, password=None)
        self.account_key = jwk.JWKEC(key=private)
        self._verify: str | bool = str(ca_bundle) if ca_bundle is not None else True
        self._email = email
        self._eab = eab
        self._client: client.ClientV2 | None = None
        self._lock = threading.Lock()

    # --- account --------------------------------------------------------------------------

    def _connect(self) -> client.ClientV2:
        """The directory and the account (registered now, or found by its key)."""
        if self._client is not None:
            return self._client
        net = _Network(self.account_key, self._verify)
        directory = client.ClientV2.get_directory(self.directory_url, net)
        acme = client.ClientV2(directory, net)
        eab = None
        if self._eab is not None:
            eab = messages.ExternalAccountBinding.from_data(
                account_public_key=self.account_key.public_key(), kid=self._eab.kid,
                hmac_key=self._eab.hmac_key, directory=directory)
        registration = messages.NewRegistration.from_data(
            email=self._email or None, terms_of_service_agreed=True,
            external_account_binding=eab)
        try:
            account = acme.new_account(registration)
        except errors.ConflictError as known:  # this key's account exists: use it
            account = messages.RegistrationResource(uri=known.location,
                                                    body=messages.Registration())
        net.account = account
        self._client = acme
        return acme

    @property
    def caa_identities(self) -> tuple[str, ...]:
        """The CA's CAA issuer domains from its directory's meta (empty when it names none)."""
        acme = self._client
        if acme is None:
            return ()
        meta = acme.directory.meta
        return tuple(getattr(meta, "caa_identities", None) or ())

    def prepare(self) -> None:
        """Reach the directory and the account now (raises ``AcmeFailure``)."""
        with self._lock:
            self._guard(self._connect)

    # --- one order ------------------------------------------------------------------------

    def issue(self, domain: str, kind: str, publish: Publish, withdraw: Withdraw, *,
              settle: float = 0.0) -> Issued:
        """One order; ``settle``: seconds between publishing the challenge and telling the CA
        to validate (time for the other processes to pick up a TLS-ALPN-01 response)."""
        with self._lock:
            return self._guard(lambda: self._issue(domain, kind, publish, withdraw, settle))

    def _guard(self, work: Callable[[], R]) -> R:
        try:
            return work()
        except AcmeFailure:
            raise
        except messages.Error as problem:
            self._client = None  # look the directory and account up again next time
            net_retry = self._last_retry_after()
            raise AcmeFailure(_describe_problem(problem), net_retry,
                              problem.code == "rateLimited") from None
        except errors.ValidationError as failed:
            raise AcmeFailure(_describe_validation(failed)) from None
        except errors.TimeoutError:
            raise AcmeFailure(f"the CA did not finish the order within {ORDER_SECONDS} s") \
                from None
        except (requests.RequestException, errors.ClientError, errors.Error, ValueError,
                OSError) as exc:
            self._client = None
            raise AcmeFailure(f"the ACME CA at {self.directory_url} could not be reached: "
                              f"{_first_line(exc)}", self._last_retry_after()) from None

    def _last_retry_after(self) -> datetime | None:
        acme = self._client
        net = acme.net if acme is not None else None
        return net.retry_after if isinstance(net, _Network) else None

    def _issue(self, domain: str, kind: str, publish: Publish, withdraw: Withdraw,
               settle: float) -> Issued:
        acme = self._connect()
        key_pem = new_key_pem()
        csr = acme_crypto.make_csr(key_pem, [domain])
        order = acme.new_order(csr)
        published: list[str] = []
        try:
            for authz in order.authorizations:
                if authz.body.status == messages.STATUS_VALID:
                    continue
                challenge = _pick(authz, kind, domain)
                token = _token(challenge)
                response = key_authorization(token, self.account_key)
                publish(domain, token, kind, response)
                published.append(token)
                if settle > 0:
                    time.sleep(settle)
                acme.answer_challenge(challenge, challenges.HTTP01Response(
                    key_authorization=response))  # the body sent is {} for every type
            deadline = time.monotonic() + ORDER_SECONDS
            _wait_authorized(acme, order, deadline)
            done = _finalize(acme, order, deadline)
        finally:
            for token in published:
                withdraw(domain, token)
        chain = done.fullchain_pem
        renew_at = None
        renewal_time = getattr(acme, "renewal_time", None)  # ARI, in newer acme releases
        if renewal_time is not None and _offers_ari(acme.directory):
            try:
                suggested, _ = renewal_time(chain.encode())
                renew_at = suggested.astimezone(timezone.utc) if suggested else None
            except errors.Error as exc:  # ARI is advice: fall back to two thirds of the life
                log.info("ACME renewal info for %s unavailable: %s", domain, _first_line(exc))
        return Issued(chain, key_pem, renew_at)


# Polling: the library's own loops sleep a whole second before every look (poll_finalization
# even before the first); a fresh validation is usually done in milliseconds. These look after
# 50 ms, doubling to 2 s, never sooner than the CA's Retry-After.
FIRST_POLL = 0.05
LONGEST_POLL = 2.0


def _pause(delay: float, response: requests.Response, deadline: float) -> float:
    wait = delay
    asked = _retry_after(response.headers.get("Retry-After"))
    if asked is not None:
        wait = max(wait, (asked - datetime.now(timezone.utc)).total_seconds())
    if time.monotonic() + wait > deadline:
        raise errors.TimeoutError()
    time.sleep(wait)
    return min(delay * 2, LONGEST_POLL)


def _wait_authorized(acme: client.ClientV2, order: messages.OrderResource,
                     deadline: float) -> None:
    for authz in order.authorizations:
        delay = FIRST_POLL
        while True:
            authz, response = acme.poll(authz)
            if authz.body.status == messages.STATUS_VALID:
                break
            if authz.body.status != messages.STATUS_PENDING:
                raise errors.ValidationError([authz])
            delay = _pause(delay, response, deadline)


def _finalize(acme: client.ClientV2, order: messages.OrderResource,
              deadline: float) -> messages.OrderResource:
    """Send the CSR, wait for the order to become valid, download the chain."""
    acme.begin_finalization(order)
    new_nonce = acme.directory["newNonce"]
    delay = FIRST_POLL
    while True:
        response = acme.net.post(order.uri, None, new_nonce_url=new_nonce)  # POST-as-GET
        body = messages.Order.from_json(response.json())
        if body.status == messages.STATUS_VALID and body.certificate is not None:
            chain = acme.net.post(body.certificate, None, new_nonce_url=new_nonce)
            done: messages.OrderResource = order.update(body=body, fullchain_pem=chain.text)
            return done
        if body.status == messages.STATUS_READY:  # the CSR was not taken yet: send it again
            acme.begin_finalization(order)
        if body.status == messages.STATUS_INVALID:
            if body.error is not None:
                raise body.error
            raise AcmeFailure("the CA marked the order invalid without saying why")
        delay = _pause(delay, response, deadline)


def _offers_ari(directory: messages.Directory) -> bool:
    try:
        directory["renewalInfo"]
    except KeyError:
        return False
    return True


def _pick(authz: messages.AuthorizationResource, kind: str,
          domain: str) -> messages.ChallengeBody:
    for challenge in authz.body.challenges:
        if _type(challenge) == kind:
            return challenge
    offered = ", ".join(_type(c) for c in authz.body.challenges) or "none"
    raise AcmeFailure(f"the CA offers no {kind} challenge for {domain} (offered: {offered})")


def _type(challenge: messages.ChallengeBody) -> str:
    """The challenge's type; from the raw JSON for one the library does not model
    (``tls-alpn-01`` since acme 3.0: an ``UnrecognizedChallenge``)."""
    typ = challenge.chall.typ
    if isinstance(typ, str):
        return typ
    raw = getattr(challenge.chall, "jobj", {}).get("type")
    return raw if isinstance(raw, str) else "unknown"


def _token(challenge: messages.ChallengeBody) -> str:
    chall = challenge.chall
    token = getattr(chall, "token", None)
    if isinstance(token, bytes):
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode()
    # a type the library does not model (tls-alpn-01 since acme 3): the raw JSON
    raw = getattr(chall, "jobj", {}).get("token")
    if not isinstance(raw, str) or not raw:
        raise AcmeFailure(f"the CA's {_type(challenge)} challenge carries no token")
    return raw


def _describe_problem(problem: messages.Error) -> str:
    detail = problem.detail or problem.title or problem.typ or "error"
    return f"the ACME CA refused: {detail} ({problem.code or problem.typ})"


def _describe_validation(failed: errors.ValidationError) -> str:
    reasons = []
    for authz in failed.failed_authzrs:
        for challenge in authz.body.challenges:
            if challenge.error is not None:
                reasons.append(f"{_type(challenge)}: "
                               f"{challenge.error.detail or challenge.error.typ}")
    return "the CA could not validate the challenge: " + ("; ".join(reasons) or "unknown")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]

