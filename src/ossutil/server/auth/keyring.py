"""In-memory AccessKeys and policies, refreshed from the store when they change.

The request path never touches the database: ``lookup`` is a dict read. A background task polls
the store's ``auth_version`` (a counter the ``ossutil-server user ...`` commands bump in the same
transaction as their change) every ``interval`` seconds and reloads everything when it moved, so
a user created, deleted or re-policied from the CLI takes effect within a second, no restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from ossutil.server.auth.policy import Policy, PolicyError, parse_policy
from ossutil.server.auth.sealing import Sealer
from ossutil.server.models import AccessKey
from ossutil.server.polling import poll_forever
from ossutil.server.storage.base import AuthStore, StoreRunner
from ossutil.wire import signing

log = logging.getLogger("ossutil.server.auth")


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``user`` None is the account's root identity (may do everything)."""

    access_key_id: str
    owner_id: str
    user: str | None
    policy: Policy | None

    @property
    def is_root(self) -> bool:
        return self.user is None

    @property
    def display_name(self) -> str:
        return self.user or self.owner_id


class KeyRing:
    def __init__(self, runner: StoreRunner[AuthStore], sealer: Sealer) -> None:
        self._runner = runner
        self._sealer = sealer
        self._version = -1
        self._keys: dict[str, tuple[Principal, str]] = {}

    @property
    def version(self) -> int:
        """The store's auth version these keys were loaded at (moves on every key change)."""
        return self._version

    def lookup(self, access_key_id: str) -> tuple[Principal, str] | None:
        """(principal, secret) for an enabled key, else None."""
        return self._keys.get(access_key_id)

    @staticmethod
    @lru_cache(maxsize=1024)
    def signing_key(secret: str, date: str, region: str) -> bytes:
        """V4 signing keys change once a day per key: cache them."""
        return signing.v4_signing_key(secret, date, region)

    async def refresh(self) -> bool:
        """Reload if the store's auth version moved; True when something was reloaded."""
        store = self._runner.store
        version = await self._runner(store.auth_version)
        if version == self._version:
            return False
        version, keys, policies = await self._runner(self._load, store)
        parsed: dict[str, Policy | None] = {}
        for name, document in policies.items():
            try:
                parsed[name] = parse_policy(document) if document else None
            except PolicyError as exc:
                log.warning("policy of user %s is invalid, treated as empty: %s", name, exc)
                parsed[name] = None
        self._keys = {
            key.access_key_id: (
                Principal(key.access_key_id, key.owner_id, key.user,
                          parsed.get(key.user) if key.user else None),
                key.secret)
            for key in keys if key.enabled
        }
        self._version = version
        return True

    def _load(self, store: AuthStore) -> tuple[int, list[AccessKey], dict[str, str | None]]:
        """The store's keys with their secrets opened, on the store's thread (as before the
        store kept ciphertext only: the AES-GCM work never runs on the event loop)."""
        version, sealed, policies = store.load_auth()
        return version, [self._sealer.open(key) for key in sealed], policies

    async def watch(self, interval: float = 0.5) -> None:
        """Poll for changes until cancelled; the last good keys serve while polls fail."""
        await poll_forever("reloading access keys", self.refresh, interval, log)
