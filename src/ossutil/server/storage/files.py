"""``FileBlobStore``: object content as blob files under ``<data_dir>/blobs/<2 hex>/<32 hex>``,
written so no reader ever sees half a blob (the default, with SQLite; the ``BlobStore`` protocol
and a blob's life are in ``storage/blobs.py``).

Start-up sweep (``FileBlobStore.prepare``): one process owns a data dir (it holds an exclusive
``flock`` on ``blobs/.lock`` while it runs), so at its start nothing can be in flight: every
temporary file is removed, whatever its age (a ``kill -9`` mid-upload leaves one), and so is every
blob file that no object or part row names (killed between the rename and the row's commit).
A second process that finds the lock taken sweeps nothing but day-old temporary files.

A full disk or quota (ENOSPC, EDQUOT, EFBIG) fails the write with OSS's 507
``InsufficientStorage``; the temporary file is then discarded, and the next upload works once
space frees. Folders are 0700 and files 0600: object content is private to the server's user.

A new file blob is written to a private temporary file in ``blobs/tmp/`` while its MD5 is
computed, ``fsync``-ed, then renamed to its final name (and the directory ``fsync``-ed).

Blob names are random, never derived from keys: a key cannot reach outside the folder, and a
superseded blob can be deleted while a reader that already opened it keeps reading (POSIX).

All methods block on disk or network: the service calls them from worker threads.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ossutil.server.storage.blobs import BlobWriter
from ossutil.server.throttle import Throttled
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.objects")
_full = Throttled(log)  # one line per 10 s while the disk stays full

TEMP_DIR = "tmp"
LOCK_FILE = ".lock"
_NAME = re.compile(r"[0-9a-f]{32}")
# Without the data dir's lock (another process holds it), only temporary files older than this
# are removed at start-up: the other process may be writing younger ones.
STALE_TEMP_SECONDS = 24 * 3600
_SWEEP_BATCH = 500  # blob names per "which of these does a row name?" question
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# Which of these blob names does a store row name? (``Store.referenced_blobs``, on its thread)
Referenced = Callable[[list[str]], set[str]]


@contextmanager
def full_disk_is_oss_error(what: str) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT/EFBIG from a write into OSS's InsufficientStorage; the one place
    disk writes of object content are mapped (not per handler)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        _full("storage full while %s: %s", what, os.strerror(exc.errno or 0))
        raise OssError.from_code("InsufficientStorage") from None


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
            with full_disk_is_oss_error("writing a blob"):
                while view:
                    view = view[os.write(self._fd, view):]
            self.size += len(data)

    def finish(self) -> tuple[bytes, str | None]:
        """Flush to disk and close; returns (MD5 digest, hex SHA-256 or None)."""
        with self._lock:
            if self._fd is None:
                raise ValueError("the blob writer is closed")
            try:
                with full_disk_is_oss_error("flushing a blob"):
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
    """Blob files under ``root`` (``<data_dir>/blobs``). ``referenced`` answers the start-up
    sweep's question; without it, unreferenced blob files are left alone."""

    local = True

    def __init__(self, root: Path, referenced: Referenced | None = None) -> None:
        self.root = Path(root)
        self._temp = self.root / TEMP_DIR
        self._referenced = referenced
        self._lock_fd: int | None = None

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def prepare(self, now: float | None = None) -> int:
        """Create the folders (0700), take the data dir's lock, remove leftovers of a crash:
        every temporary file and every blob file no row names (with the lock), else only
        day-old temporary files. Returns how many files were removed."""
        _private_dir(self.root)
        _private_dir(self._temp)
        for index in range(256):
            _private_dir(self.root / f"{index:02x}")
        _fsync_dir(self.root)
        owner = self._take_lock()
        cutoff = (float("inf") if owner
                  else (time.time() if now is None else now) - STALE_TEMP_SECONDS)
        removed = freed = 0
        for entry in os.scandir(self._temp):
            try:
                info = entry.stat(follow_symlinks=False)
                if info.st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
                    freed += info.st_size
            except FileNotFoundError:
                pass
        if removed:
            log.warning("removed %d abandoned upload file(s) (%d bytes) from %s", removed,
                        freed, self._temp)
        if owner and self._referenced is not None:
            removed += self._sweep_unreferenced()
        elif not owner:
            log.warning("%s is locked by another process: only day-old upload files removed",
                        self.root)
        return removed

    def _take_lock(self) -> bool:
        if self._lock_fd is not None:
            return True
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _sweep_unreferenced(self) -> int:
        """Delete blob files no row names (a crash between a blob's rename and its row)."""
        assert self._referenced is not None
        removed = freed = 0
        for index in range(256):
            folder = self.root / f"{index:02x}"
            names = [entry.name for entry in os.scandir(folder) if _NAME.fullmatch(entry.name)]
            for start in range(0, len(names), _SWEEP_BATCH):
                batch = names[start:start + _SWEEP_BATCH]
                kept = self._referenced(batch)
                for name in batch:
                    if name in kept:
                        continue
                    path = folder / name
                    try:
                        size = path.stat().st_size
                        path.unlink()
                    except FileNotFoundError:
                        continue
                    removed += 1
                    freed += size
        if removed:
            log.warning("removed %d blob file(s) (%d bytes) that no object or part names",
                        removed, freed)
        return removed

    def create(self, *, sha256: bool = False) -> FileBlobWriter:
        temp = self._temp / f"{uuid.uuid4().hex}.part"
        with full_disk_is_oss_error("creating a blob"):  # no inode left
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return FileBlobWriter(fd, temp, sha256=sha256)

    def commit(self, writer: BlobWriter) -> str:
        """Rename a finished writer's file to a new blob name; returns the name."""
        if not isinstance(writer, FileBlobWriter):
            raise TypeError("not a writer of this store")
        name = uuid.uuid4().hex
        final = self.path(name)
        with full_disk_is_oss_error("committing a blob"):  # a directory block to grow
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


def _private_dir(path: Path) -> None:
    """``path`` exists as a folder only the server's user can enter (0700, whatever the
    umask; an existing folder is tightened)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
