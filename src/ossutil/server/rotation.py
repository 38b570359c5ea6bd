"""``ossutil-server rotate-master-key``: every secret re-sealed with a new master key.

What the master key seals: AccessKey secrets (context: the AccessKeyId), uploaded and automatic
certificate keys (the cert id), server values (ACME account keys: their name; the shared
default TLS pair: a JSON record whose key is sealed), PostgreSQL's master-key check, and the
data dir's generated default TLS key (``tls-default.key.enc``).

The steps, each safe to repeat (run the command again after a crash; it resumes):

1. the new key: from ``OSS_SERVER_NEW_MASTER_KEY`` when the current one comes from
   ``OSS_SERVER_MASTER_KEY`` (the operator then swaps the variables), else from
   ``<data-dir>/master.key.new`` when an earlier run left one, else 32 new random bytes written
   there (0600, fsync) before anything is re-sealed;
2. every sealed value in the store, in one transaction: opened with the current key and sealed
   with the new one (a value that already opens with the new key, from an interrupted run, is
   kept); a value that opens with neither rolls everything back and changes nothing;
3. the data dir's default TLS key, the same way (written atomically);
4. ``master.key.new`` renamed over ``master.key``: from then on the old key opens nothing here.

The server must be stopped: a running process holds the old key in memory. With SQLite the data
dir's lock says whether one runs, with PostgreSQL the other ``ossutil-server`` sessions in
``pg_stat_activity``; either way the command is refused before anything changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

from ossutil.server.app import open_store, private_data_dir
from ossutil.server.auth.sealing import CHECK_CONTEXT
from ossutil.server.certs.keystore import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE,
    SecretBox,
    SecretBoxError,
    _decode_key,
    write_temp_file,
)
from ossutil.server.certs.tls import (
    SHARED_DEFAULT_NAME,
    reseal_default_key,
    reseal_shared_default_record,
)
from ossutil.server.settings import Settings, StartupError
from ossutil.server.storage.base import SecretStore
from ossutil.server.storage.files import LOCK_FILE, _fsync_dir

NEW_MASTER_KEY_ENV = "OSS_SERVER_NEW_MASTER_KEY"
NEW_KEY_FILE = MASTER_KEY_FILE + ".new"


class RotationError(Exception):
    """A secret opens with neither key, or the server is running: nothing was changed."""


def rotate_master_key(settings: Settings, env: Mapping[str, str] | None = None) -> int:
    """The command: re-seal everything, say what was done; exit status 0, or 2 with one line."""
    env = os.environ if env is None else env
    try:
        count, where = rotate(settings, env)
    except (RotationError, SecretBoxError, StartupError) as exc:
        print(f"ossutil-server: rotate-master-key: {exc}", file=sys.stderr)
        return 2
    noun = "secret" if count == 1 else "secrets"
    print(f"ossutil-server: re-sealed {count} {noun} with the new master key; {where}")
    return 0


def rotate(settings: Settings, env: Mapping[str, str]) -> tuple[int, str]:
    data_dir = Path(settings.data_dir)
    key_file = data_dir / MASTER_KEY_FILE
    from_env = env.get(MASTER_KEY_ENV) is not None
    if not from_env and not key_file.exists():
        raise RotationError(f"no master key to rotate: neither ${MASTER_KEY_ENV} nor {key_file}")
    private_data_dir(data_dir)
    old = SecretBox.from_data_dir(data_dir, env)
    new = _new_box(data_dir, env, from_env)
    lock = _data_dir_lock(settings)
    try:
        store = open_store(settings, old)
        try:
            count = cast(SecretStore, store).reseal(_rewriter(old, new))
        finally:
            store.close()
        if reseal_default_key(data_dir, _resealer(old, new, "the default TLS key")):
            count += 1
    finally:
        if lock is not None:
            os.close(lock)
    if from_env:
        return count, (f"set {MASTER_KEY_ENV} to the value of {NEW_MASTER_KEY_ENV} before "
                       "the next start (the old key opens nothing any more)")
    new_file = data_dir / NEW_KEY_FILE
    os.replace(new_file, key_file)
    _fsync_dir(data_dir)
    return count, f"{key_file} replaced (the old key opens nothing any more)"


def _new_box(data_dir: Path, env: Mapping[str, str], from_env: bool) -> SecretBox:
    if from_env:
        value = env.get(NEW_MASTER_KEY_ENV)
        if value is None:
            raise RotationError(f"the master key comes from ${MASTER_KEY_ENV}: give the new "
                                f"one in ${NEW_MASTER_KEY_ENV} (base64 of 32 bytes)")
        key = _decode_key(value)
        if key is None:
            raise RotationError(f"${NEW_MASTER_KEY_ENV} must be base64 of exactly 32 bytes "
                                "(the value set is not shown)")
        return SecretBox(key, source=f"env:{NEW_MASTER_KEY_ENV}")
    path = data_dir / NEW_KEY_FILE
    if not path.exists():  # else: an interrupted run's key, which some values may use already
        import base64
        import secrets

        temp = write_temp_file(path, base64.b64encode(secrets.token_bytes(32)) + b"\n", 0o600)
        os.replace(temp, path)
        _fsync_dir(data_dir)
    key = _decode_key(path.read_text(encoding="ascii"))
    if key is None:
        raise RotationError(f"{path} must hold base64 of exactly 32 bytes")
    return SecretBox(key, source=f"file:{path}")


def _resealer(old: SecretBox, new: SecretBox, what: str) -> Callable[[bytes, bytes], bytes]:
    def reseal(sealed: bytes, context: bytes) -> bytes:
        try:
            plain = old.decrypt(sealed, context=context)
        except SecretBoxError:
            try:  # re-sealed by an interrupted run already
                new.decrypt(sealed, context=context)
            except SecretBoxError:
                raise RotationError(f"{what} opens with neither the current nor the new "
                                    "master key; nothing was changed") from None
            return sealed
        return new.encrypt(plain, context=context)
    return reseal


def _rewriter(old: SecretBox, new: SecretBox) -> Callable[[str, str, bytes], bytes]:
    def rewrite(kind: str, name: str, sealed: bytes) -> bytes:
        what = f"{kind.replace('_', ' ')} {name}".strip()
        reseal = _resealer(old, new, what)
        if kind == "check":
            return reseal(sealed, CHECK_CONTEXT)
        if kind == "server_value" and name == SHARED_DEFAULT_NAME:
            return reseal_shared_default_record(sealed, reseal)
        return reseal(sealed, name.encode())
    return rewrite


def _data_dir_lock(settings: Settings) -> int | None:
    """SQLite: the data dir's lock (``blobs/.lock``), held while re-sealing; a running server
    holds it, and then nothing is done."""
    if settings.store != "sqlite":
        return None
    import fcntl

    blobs = Path(settings.data_dir) / "blobs"
    blobs.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(blobs / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RotationError(f"a server is running on {settings.data_dir} (its lock is taken): "
                            "stop it first") from None
    return fd


__all__ = ["NEW_MASTER_KEY_ENV", "RotationError", "rotate", "rotate_master_key"]
