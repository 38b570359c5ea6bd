"""Where object content lives: the ``BlobStore`` protocol, and ``FileBlobStore``, blob files
under ``<data_dir>/blobs/<2 hex>/<32 hex>``, written so no reader ever sees half a blob.

    BlobStore (protocol)      what ObjectService needs; the store row names a blob
     ├── FileBlobStore        files in the data dir (the default, with SQLite)
     └── PostgresBlobStore    1 MiB chunks in PostgreSQL (``postgres_blobs.py``; --store postgres)

The life of a blob is the same everywhere: ``create`` a writer, ``write`` the body as it arrives
(MD5, and SHA-256 when asked, computed on the way), ``finish``, ``commit`` (the blob is now
complete and durable; only then does the store row that names it commit), and ``delete`` once no
row names it. A crash leaves either the previous object or the new one, never a torn one; at
worst an unreferenced blob remains, which ``prepare`` removes at the next start.

A new file blob is written to a private temporary file in ``blobs/tmp/`` while its MD5 is
computed, ``fsync``-ed, then renamed to its final name (and the directory ``fsync``-ed).

Blob names are random, never derived from keys: a key cannot reach outside the folder, and a
superseded blob can be deleted while a reader that already opened it keeps reading (POSIX).

All methods block on disk or network: the service calls them from worker threads.
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
from typing import BinaryIO, Protocol

log = logging.getLogger("ossutil.server.objects")

TEMP_DIR = "tmp"
_NAME = re.compile(r"[0-9a-f]{32}")
# Temporary files older than this at start-up belong to no live upload (another server process
# sharing the data dir may be writing younger ones).
STALE_TEMP_SECONDS = 24 * 3600


class BlobWriter(Protocol):
    """A blob being written. ``write``, ``finish`` and ``discard`` may run on different worker
    threads, one at a time (a discard may overlap a write: implementations lock)."""

    @property
    def size(self) -> int:
        """Bytes written so far."""
        ...

    def write(self, data: bytes | bytearray) -> None: ...

    def finish(self) -> tuple[bytes, str | None]:
        """Everything is written: (MD5 digest, hex SHA-256 or None). Not yet visible."""
        ...

    def discard(self) -> None:
        """Abandon the blob (at any point before ``commit``); nothing of it stays."""
        ...


class BlobStore(Protocol):
    """Object content, by blob name. Names are opaque strings the store rows keep."""

    @property
    def local(self) -> bool:
        """True when ``load`` only touches local disk (microseconds from the page cache): the
        service may then run it on the store thread right after the row read."""
        ...

    def prepare(self) -> int:
        """Start-up: create what is missing, remove leftovers no row names; returns how many."""
        ...

    def create(self, *, sha256: bool = False) -> BlobWriter: ...

    def commit(self, writer: BlobWriter) -> str:
        """Make a finished writer's blob complete and durable; returns its name."""
        ...

    def load(self, name: str, inline_limit: int) -> bytes | BinaryIO:
        """The content when at most ``inline_limit`` bytes, else an open, seekable binary
        stream (the caller closes it). It keeps reading the version it opened even if the blob
        is deleted meanwhile. FileNotFoundError when the blob is already gone."""
        ...

    def delete(self, name: str) -> None:
        """Remove a blob no row names any more (absent: fine). Failures are logged, not raised:
        the blob is then a leftover for ``prepare``."""
        ...

    def close(self) -> None: ...


class FileBlobWriter:
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

    local = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._temp = self.root / TEMP_DIR

    def close(self) -> None:
        pass

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

    def create(self, *, sha256: bool = False) -> FileBlobWriter:
        temp = self._temp / f"{uuid.uuid4().hex}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return FileBlobWriter(fd, temp, sha256=sha256)

    def commit(self, writer: BlobWriter) -> str:
        """Rename a finished writer's file to a new blob name; returns the name."""
        if not isinstance(writer, FileBlobWriter):
            raise TypeError("not a writer of this store")
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
