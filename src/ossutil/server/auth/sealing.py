"""AccessKey secrets at rest: sealed here, on the auth side; the stores keep ciphertext only.

A secret is sealed with the server's ``SecretBox`` (AES-256-GCM, ``certs/keystore.py``) with the
AccessKeyId as associated data, so a sealed secret copied onto another key's row does not open.
This is the format both stores have always held in ``access_keys.secret_sealed``.

The PostgreSQL store also keeps one sealed check value, written with the root account, so a
process started with another master key is refused at open (``MasterKeyMismatch``) instead of
failing every signature later: ``Sealer`` is the ``KeyCheck`` it is given.
"""

from __future__ import annotations

from ossutil.server.certs.keystore import SecretBox, SecretBoxError
from ossutil.server.models import AccessKey, SealedAccessKey

CHECK_CONTEXT = b"ossutil-server:store-check"
_CHECK_VALUE = b"ok"


class Sealer:
    """Seals and opens AccessKey secrets (and the store's master-key check) with ``box``."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, key: AccessKey) -> SealedAccessKey:
        sealed = self._box.encrypt(key.secret.encode(), context=key.access_key_id.encode())
        return SealedAccessKey(key.access_key_id, sealed, key.owner_id, key.user, key.enabled)

    def open(self, key: SealedAccessKey) -> AccessKey:
        """The plain key; ``SecretBoxError`` when the secret does not open with this box."""
        secret = self._box.decrypt(key.secret_sealed, context=key.access_key_id.encode())
        return AccessKey(key.access_key_id, secret.decode(), key.owner_id, key.user, key.enabled)

    def new_check(self) -> bytes:
        """A sealed value for the store to keep: ``opens_check`` tells a later process whether
        its master key is the one that wrote it."""
        return self._box.encrypt(_CHECK_VALUE, context=CHECK_CONTEXT)

    def opens_check(self, sealed: bytes) -> bool:
        try:
            self._box.decrypt(sealed, context=CHECK_CONTEXT)
        except SecretBoxError:
            return False
        return True
