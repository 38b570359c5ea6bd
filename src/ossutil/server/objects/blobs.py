"""Object content as files: ``<data_dir>/blobs/<2 hex>/<32 hex>``, written so no reader ever
sees half a blob.

A new blob is written to a private temporary file in ``blobs/tmp/`` while its MD5 is computed,
``fsync``-ed, then renamed to its final name (and the directory ``fsync``-ed). Only then does the
store row that names it commit, so a crash leaves either the previous object or the new one,
never a torn one; at worst an unreferenced blob file remains (see ``FileBlobStore.prepare``).

Blob names are random, never derived from keys: a key cannot reach outside the folder, and a
superseded blob can be deleted while a reader that already opened it keeps reading (POSIX).

All methods block on disk: the service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("ossutil.server.objects")

TEMP_DIR = "tmp"
_NAME = re.compile(r"[0-9a-f]{32}")
# Temporary files older than this at start-up belong to no live upload (another server process
# sharing the data dir may be writing younger ones).
STALE_TEMP_SECONDS = 24 * 3600


class BlobWriter:
    """A blob being written: a private temporary file plus its running digests.

    ``write``, ``finish`` and ``discard`` may run on different worker threads; a lock keeps a
    discard from closing the descriptor under a write still in progress (a reused descriptor
    number would otherwise receive the rest of that write).
    """

    def __init__(self, fd: int, temp: Path, *, sha256: bool) -> None:
        self._fd: int | None = fd
        self.temp = temp
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256() if sha256 else None
        self.size = 0
        self._lock = threading.Lock()

    def write(self, data: bytes | bytearray) -> None:
        with self._lock:
            if self._fd is None:
                raise ValueError("the blob writer is closed")
            self._md5.update(data)
            if self._sha256 is not None:
                self._sha256.update(data)
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            self.size += len(data)

    def finish(self) -> tuple[bytes, str | None]:
        """Flush to disk and close; returns (MD5 digest, hex SHA-256 or None)."""
        with self._lock:
            if self._fd is None:
                raise ValueError("the blob writer is closed")
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        return self._md5.digest(), self._sha256.hexdigest() if self._sha256 else None

    def discard(self) -> None:
        """Close (if still open) and remove the temporary file."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        self.temp.unlink(missing_ok=True)


class FileBlobStore:
    """Blob files under ``root`` (``<data_dir>/blobs``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._temp = self.root / TEMP_DIR

    def prepare(self, now: float | None = None) -> int:
        """Create the folders; delete temporary files older than a day. Returns how many."""
        self._temp.mkdir(parents=True, exist_ok=True)
        for index in range(256):
            (self.root / f"{index:02x}").mkdir(exist_ok=True)
        _fsync_dir(self.root)
        cutoff = (time.time() if now is None else now) - STALE_TEMP_SECONDS
        removed = 0
        for entry in os.scandir(self._temp):
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
        if removed:
            log.warning("removed %d abandoned upload file(s) from %s", removed, self._temp)
        return removed

    def create(self, *, sha256: bool = False) -> BlobWriter:
        temp = self._temp / f"{uuid.uuid4().hex}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return BlobWriter(fd, temp, sha256=sha256)

    def commit(self, writer: BlobWriter) -> str:
        """Rename a finished writer's file to a new blob name; returns the name."""
        name = uuid.uuid4().hex
        final = self.path(name)
        os.rename(writer.temp, final)
        _fsync_dir(final.parent)
        return name

    def path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a blob name: {name!r}")
        return self.root / name[:2] / name

    def open(self, name: str) -> BinaryIO:
        """Open for reading; FileNotFoundError when the blob was superseded and deleted."""
        return open(self.path(name), "rb")  # noqa: SIM115 - handed to the response, closed there

    def load(self, name: str, inline_limit: int) -> bytes | BinaryIO:
        """The whole content when it is at most ``inline_limit`` bytes (one read, file closed:
        cheaper to send than a file for small objects), else the open file."""
        handle = self.open(name)
        try:
            if os.fstat(handle.fileno()).st_size <= inline_limit:
                with handle:
                    return handle.read()
        except BaseException:
            handle.close()
            raise
        return handle

    def delete(self, name: str) -> None:
        try:
            self.path(name).unlink(missing_ok=True)
        except OSError:
            log.exception("could not delete blob %s", name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
