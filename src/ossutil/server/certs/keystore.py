"""Private keys encrypted at rest with one server master key.

Uploaded certificate keys (and the default TLS key) are stored only as ``SecretBox`` blobs:

    blob = version (1 byte, 0x01) || nonce (12 random bytes) || AES-256-GCM ciphertext + tag

``context`` is GCM associated data: a blob sealed for one purpose (say ``b"cert:<domain>"``)
does not open for another. The master key comes from the first source that has one:

1. ``OSS_SERVER_MASTER_KEY`` in the environment: base64 (standard or URL-safe) of 32 bytes;
2. ``<data_dir>/master.key``: created on first use with 32 random bytes, mode 0600.

No message or repr ever shows the key or the environment value.

    Exception
     └── SecretBoxError      bad master key source, wrong key, tampered or malformed blob
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MASTER_KEY_ENV", "MASTER_KEY_FILE", "SecretBox", "SecretBoxError", "write_temp_file"]

MASTER_KEY_ENV = "OSS_SERVER_MASTER_KEY"
MASTER_KEY_FILE = "master.key"

_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16
_KEY_SIZE = 32
_STANDARD_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class SecretBoxError(Exception):
    """The master key cannot be loaded, or a blob does not decrypt with it."""


class SecretBox:
    """AES-256-GCM sealing with the server's master key (see the module docstring)."""

    def __init__(self, key: bytes, *, source: str = "memory") -> None:
        """Use ``key`` (exactly 32 bytes); ``source`` only says where it came from, for repr."""
        if len(key) != _KEY_SIZE:
            raise SecretBoxError(f"the master key must be {_KEY_SIZE} bytes")
        self._aead = AESGCM(key)
        self.source = source

    @classmethod
    def from_data_dir(cls, data_dir: Path, env: Mapping[str, str]) -> SecretBox:
        """Load the master key: ``OSS_SERVER_MASTER_KEY`` wins, else ``data_dir/master.key``.

        The file is created when missing (32 random bytes, base64, mode 0600, never replacing a
        file another process created at the same moment) and tightened to 0600 when it exists
        with looser permissions.
        """
        value = env.get(MASTER_KEY_ENV)
        if value is not None:
            key = _decode_key(value)
            if key is None:
                raise SecretBoxError(
                    f"{MASTER_KEY_ENV} must be base64 (standard or URL-safe) of exactly "
                    f"{_KEY_SIZE} bytes; the value set is not (it is not shown here)."
                )
            return cls(key, source=f"env:{MASTER_KEY_ENV}")
        path = Path(data_dir) / MASTER_KEY_FILE
        if not path.exists():
            _create_key_file(path)
        _tighten(path)
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretBoxError(
                f"cannot read the master key file {path}: {type(exc).__name__}"
            ) from None
        key = _decode_key(text)
        if key is None:
            raise SecretBoxError(
                f"the master key file {path} must hold base64 of exactly {_KEY_SIZE} bytes"
            )
        return cls(key, source=f"file:{path}")

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Seal ``plaintext``; ``context`` must be given again, unchanged, to open it."""
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> bytes:
        """Open a blob from :meth:`encrypt`; ``SecretBoxError`` on any mismatch or damage."""
        if len(blob) < 1 + _NONCE_SIZE + _TAG_SIZE:
            raise SecretBoxError("the sealed data is too short to be a SecretBox blob")
        if blob[:1] != _VERSION:
            raise SecretBoxError(f"unknown SecretBox blob version {blob[0]}")
        nonce = blob[1 : 1 + _NONCE_SIZE]
        try:
            return self._aead.decrypt(nonce, blob[1 + _NONCE_SIZE :], context)
        except InvalidTag:
            raise SecretBoxError(
                "the sealed data does not open: wrong master key, wrong context or tampered data"
            ) from None

    def __repr__(self) -> str:
        """Say where the key came from, never the key."""
        return f"SecretBox(source={self.source!r})"


def _decode_key(text: str) -> bytes | None:
    """Base64 (standard or URL-safe, padding optional) of exactly 32 bytes, else ``None``."""
    compact = text.strip()
    if _STANDARD_B64.fullmatch(compact):
        altchars = None
    elif _URLSAFE_B64.fullmatch(compact):
        altchars = b"-_"
    else:
        return None
    padded = compact.rstrip("=") + "=" * (-len(compact.rstrip("=")) % 4)
    try:
        key = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == _KEY_SIZE else None


def write_temp_file(path: Path, data: bytes, mode: int) -> Path:
    """A new temporary file beside ``path`` holding ``data``, ``fsync``-ed, with ``mode``; the
    caller links or renames it into place. Created ``O_EXCL`` with 0600, so no other user can
    read it before ``mode`` applies (``fchmod``: the umask never narrows it); removed again if
    writing fails."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _create_key_file(path: Path) -> None:
    """Write a new random key without ever exposing a partial file or a loose mode.

    The key goes into a private temporary file (``O_CREAT | O_EXCL``, 0600) that is then
    hard-linked to its name: the link fails if another process got there first, and that
    process's key is kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(_KEY_SIZE)) + b"\n"
    temp = write_temp_file(path, encoded, 0o600)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def _tighten(path: Path) -> None:
    """Make the key file 0600 if group or others can read or write it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
    except OSError as exc:
        raise SecretBoxError(
            f"cannot restrict the master key file {path} to mode 0600: {exc.strerror}"
        ) from None
