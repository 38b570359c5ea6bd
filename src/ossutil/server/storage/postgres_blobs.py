"""Object content in PostgreSQL, so server processes sharing a database share objects too.

Tables (created with the rest of the schema by ``storage/postgres.py``)::

    blobs        (id, size, chunk_size, committed_at, owner)   one row per blob
    blob_chunks  (blob_id -> blobs ON DELETE CASCADE, seq, data bytea)   CHUNK_SIZE bytes each

Writing. A writer takes a connection of its own and opens one transaction: the ``blobs`` row,
then one ``blob_chunks`` row per CHUNK_SIZE bytes as the body arrives (never more than about one
chunk held here), then ``size``/``committed_at`` at ``finish``; ``commit`` is that transaction's
COMMIT. Until then no other session can see any of it, and a crash, a dropped connection or a
``discard`` rolls it all back: nothing to clean. Only after this COMMIT does the service commit
the ``objects`` row naming the blob (on the store's connection), so a reader never finds a row
whose blob is incomplete. Concurrent uploads to one key write different blobs; the ``objects``
row's advisory lock orders them: the last to commit wins, and the blob it replaced is deleted.

Reading. ``load`` opens a REPEATABLE READ, READ ONLY transaction; its first statement finds the
blob and, for small ones, the bytes. A larger blob comes back as a seekable stream that keeps the
transaction, and so its snapshot, until closed: it fetches only the chunks a read touches (a
Range read of one byte reads one chunk), one at a time, and keeps reading the version it opened
even when a newer PUT deletes that blob meanwhile (PostgreSQL's MVCC plays the part of POSIX's
unlink-while-open). Closing never waits on the network (see ``_Connections.give_back``).

Leftovers. An upload cut off mid-body (``kill -9``, a dropped connection) leaves nothing: its
transaction never committed. A blob whose COMMIT succeeded but whose ``objects`` (or
``multipart_parts``) row never did (the process died in between, or a ``delete`` failed) is
unreferenced; ``prepare`` deletes such blobs at every start, with care for scale-out: another
live process may be between those two commits. So each process holds a lease for its lifetime:
a session advisory lock ``(LEASE_NAMESPACE, owner)`` on a connection of its own, and every blob
it writes records ``owner``. The sweep deletes an unreferenced blob when its owner's lock is not
held by any session (the process is gone: PostgreSQL drops a dead client's locks with its
session) or when it was committed more than ``STALE_SECONDS`` ago (a failed delete of a live
process; rows from before the owner column). No age guess is needed after a crash, and a live
upload is never touched. If the lease connection itself breaks (database restart), the next
``create`` takes a new lease.
Deleted chunks' space is reclaimed by autovacuum.

Outages. Every statement is bounded (``storage/postgres.py``: statement and lock timeouts, the
Watchdog for a database that stops answering); a failure reaches the service as OSS's 503
``ServiceUnavailable`` (507 ``InsufficientStorage`` when PostgreSQL reports its disk full).

Connections. Each writer and each open large read holds one connection for its duration (a
transaction cannot be shared); small reads and deletes borrow one for a moment. ``_Connections``
keeps up to ``MAX_IDLE`` of them for reuse and allows ``MAX_OPEN`` at once, so one process never
takes more than that from PostgreSQL's ``max_connections`` (a caller waits up to ``WAIT_SECONDS``
for one, then fails with ``StoreUnavailable``). A dozen lines here instead of the psycopg_pool
dependency, which would add background threads and a second configuration surface.

Everything blocks: the service runs it in worker threads, never on the event loop.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import select
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, TypeVar

import psycopg
from psycopg import IsolationLevel, errors
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow, tuple_row

from ossutil.server.storage.base import (
    StorageFull,
    StoreError,
    StoreUnavailable,
    as_oss_error,
)
from ossutil.server.storage.blobs import BlobWriter
from ossutil.server.storage.postgres import CALL_SECONDS, WATCHDOG, connect

log = logging.getLogger("ossutil.server.objects")

CHUNK_SIZE = 1 << 20  # bytes per blob_chunks row: the service's write buffer, a few round trips
STALE_SECONDS = 24 * 3600
LEASE_NAMESPACE = 0x6F737362  # first key of the lease's advisory lock ("ossb"); second: owner
MAX_IDLE = 8
MAX_OPEN = 32
WAIT_SECONDS = 30.0
_READ_BUFFER = 8 * 1024  # io.BufferedReader's own buffer: large reads bypass it

T = TypeVar("T")
Connection = psycopg.Connection[TupleRow]


class _Connections:
    """At most ``MAX_OPEN`` connections, up to ``MAX_IDLE`` kept for reuse."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_OPEN)
        # ends the transactions of connections given back from the event loop
        self._janitor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-release")
        self._closed = False

    def take(self, *, snapshot: bool) -> Connection:
        """A connection outside any transaction, set so its next transaction is a read-only
        snapshot (``snapshot``) or a READ COMMITTED writer."""
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise StoreUnavailable(f"all {MAX_OPEN} blob connections stayed busy for "
                                   f"{WAIT_SECONDS:.0f} s")
        try:
            conn = self._reuse() or connect(self._url, tuple_row)
            conn.isolation_level = (IsolationLevel.REPEATABLE_READ if snapshot
                                    else IsolationLevel.READ_COMMITTED)
            conn.read_only = snapshot
            return conn
        except BaseException:
            self._slots.release()
            raise

    def _reuse(self) -> Connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn = self._idle.pop()
            if conn.closed or conn.broken:
                conn.close()
                continue
            if conn.info.transaction_status != TransactionStatus.IDLE:
                if not _end(conn, commit=False):
                    continue
            return conn

    def give_back(self, conn: Connection, *, rollback_later: bool = False) -> None:
        """Return a connection. ``rollback_later``: it may still be in a transaction, and the
        caller may be the event loop: the rollback runs on the janitor thread."""
        if rollback_later and not conn.closed and not conn.broken:
            try:
                self._janitor.submit(self._settle, conn)
                return
            except RuntimeError:  # shut down
                pass
        self._settle(conn)

    def _settle(self, conn: Connection) -> None:
        try:
            if conn.closed or conn.broken:
                conn.close()
                return
            if conn.info.transaction_status != TransactionStatus.IDLE:
                if not _end(conn, commit=False):
                    return
            with self._lock:
                if not self._closed and len(self._idle) < MAX_IDLE:
                    self._idle.append(conn)
                    return
            conn.close()
        finally:
            self._slots.release()

    def close(self) -> None:
        self._janitor.shutdown(wait=True)
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _end(conn: Connection, *, commit: bool) -> bool:
    """COMMIT or ROLLBACK; a connection that fails to is closed. True when it is reusable."""
    try:
        with WATCHDOG.guard(conn, CALL_SECONDS):
            if commit:
                conn.commit()
            else:
                conn.rollback()
        return True
    except psycopg.Error:
        conn.close()
        return False


def _unavailable(exc: psycopg.Error, what: str) -> StoreError:
    text = str(exc).strip()
    message = f"PostgreSQL blob {what}: {text.splitlines()[0] if text else type(exc).__name__}"
    if isinstance(exc, errors.DiskFull):
        return StorageFull(message)
    return StoreUnavailable(message)


def _as_oss_error() -> AbstractContextManager[None]:
    """What the service calls fails as an OSS error: 503 ServiceUnavailable, or 507
    InsufficientStorage when PostgreSQL's disk is full (never a 500)."""
    return as_oss_error("blob store")


class PostgresBlobWriter:
    """One upload's open transaction; see the module docstring."""

    def __init__(self, connections: _Connections, conn: Connection, name: str, *,
                 sha256: bool) -> None:
        self.name = name
        self.size = 0
        self._connections = connections
        self._conn: Connection | None = conn
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256() if sha256 else None
        self._pending = bytearray()
        self._seq = 0
        self._finished = False
        self._lock = threading.Lock()

    def _open(self) -> Connection:
        if self._conn is None:
            raise ValueError("the blob writer is closed")
        return self._conn

    def write(self, data: bytes | bytearray) -> None:
        with self._lock, _as_oss_error():
            conn = self._open()
            if self._finished:
                raise ValueError("the blob writer is finished")
            self._md5.update(data)
            if self._sha256 is not None:
                self._sha256.update(data)
            self.size += len(data)
            view = memoryview(data)
            if self._pending:
                take = CHUNK_SIZE - len(self._pending)
                self._pending += view[:take]
                view = view[take:]
                if len(self._pending) < CHUNK_SIZE:
                    return
                self._insert(conn, self._pending)
                self._pending = bytearray()
            while len(view) >= CHUNK_SIZE:
                self._insert(conn, view[:CHUNK_SIZE])
                view = view[CHUNK_SIZE:]
            self._pending += view

    def _insert(self, conn: Connection, data: bytearray | memoryview) -> None:
        try:
            with WATCHDOG.guard(conn, CALL_SECONDS):
                conn.execute("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (%s, %s, %b)",
                             (self.name, self._seq, data))
        except psycopg.Error as exc:
            raise _unavailable(exc, "write") from None
        self._seq += 1

    def finish(self) -> tuple[bytes, str | None]:
        with self._lock, _as_oss_error():
            conn = self._open()
            if self._pending:
                self._insert(conn, self._pending)
                self._pending = bytearray()
            try:
                with WATCHDOG.guard(conn, CALL_SECONDS):
                    conn.execute("UPDATE blobs SET size = %s WHERE id = %s",
                                 (self.size, self.name))
            except psycopg.Error as exc:
                raise _unavailable(exc, "write") from None
            self._finished = True
        return self._md5.digest(), self._sha256.hexdigest() if self._sha256 else None

    def commit(self) -> str:
        with self._lock:
            conn = self._open()
            if not self._finished:
                raise ValueError("the blob writer is not finished")
            try:
                with WATCHDOG.guard(conn, CALL_SECONDS):
                    conn.execute("UPDATE blobs SET committed_at = clock_timestamp() "
                                 "WHERE id = %s", (self.name,))
                    conn.commit()
            except psycopg.Error as exc:
                # a failed COMMIT has an unknown outcome: at worst an unreferenced blob that
                # ``prepare`` removes later
                conn.close()
                raise _unavailable(exc, "commit") from None
            finally:
                self._conn = None
                self._connections.give_back(conn)
        return self.name

    def discard(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._pending = bytearray()
        if conn is not None:
            self._connections.give_back(conn)  # rolls the whole blob back


class _ChunkReader(io.RawIOBase):
    """A seekable read-only stream over one blob's chunks, inside its own snapshot."""

    def __init__(self, connections: _Connections, conn: Connection, name: str, size: int,
                 chunk_size: int) -> None:
        super().__init__()
        self._connections = connections
        self._conn: Connection | None = conn
        self._name = name
        self._size = size
        self._chunk_size = chunk_size
        self._position = 0
        self._cached_seq = -1
        self._cached = memoryview(b"")
        self.chunks_fetched = 0  # how many chunk rows this reader has read (tests, debugging)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._conn is None:
            raise ValueError("read from a closed blob")
        if self._position >= self._size:
            return 0
        seq, start = divmod(self._position, self._chunk_size)
        if seq != self._cached_seq:
            self._cached = memoryview(b"")  # let the previous chunk go before the next arrives
            try:
                with WATCHDOG.guard(self._conn, CALL_SECONDS):
                    row = self._conn.execute(
                        "SELECT data FROM blob_chunks WHERE blob_id = %s AND seq = %s",
                        (self._name, seq), binary=True).fetchone()
            except psycopg.Error as exc:
                raise _unavailable(exc, "read") from None
            if row is None:
                raise OSError(f"blob {self._name} has no chunk {seq}")
            self._cached_seq, self._cached = seq, memoryview(row[0])
            self.chunks_fetched += 1
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._cached) - start, self._size - self._position)
        if count <= 0:
            raise OSError(f"blob {self._name} chunk {seq} is short")
        target[:count] = self._cached[start:start + count]
        self._position += count
        return count

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._cached = memoryview(b"")
        if conn is not None:
            # the handler closes on the event loop: the ROLLBACK happens on another thread
            self._connections.give_back(conn, rollback_later=True)
        super().close()


class PostgresBlobStore:
    """``BlobStore`` in the database ``database_url`` names (its schema: ``PostgresStore``)."""

    local = False

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._connections = _Connections(database_url)
        self._lease: Connection | None = None
        self._owner = 0
        self._lease_lock = threading.Lock()

    def close(self) -> None:
        self._connections.close()
        with self._lease_lock:
            if self._lease is not None:
                self._lease.close()  # ends the session: the lease is released
                self._lease = None

    def owner(self) -> int:
        """This process's lease number, taking a (new) lease when it has none or its
        connection died (the server closes it on a restart: the socket turns readable)."""
        with self._lease_lock:
            lease = self._lease
            if lease is not None and not lease.closed and not lease.broken:
                readable, _, _ = select.select([lease.fileno()], [], [], 0)
                if not readable:
                    return self._owner
            if lease is not None:
                lease.close()
                self._lease = None
            conn = connect(self._url, tuple_row)
            try:
                with WATCHDOG.guard(conn, CALL_SECONDS):
                    while True:
                        owner = 1 + secrets.randbelow(2**31 - 2)
                        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                           (LEASE_NAMESPACE, owner)).fetchone()
                        conn.commit()
                        if row is not None and row[0]:
                            break
            except psycopg.Error as exc:
                conn.close()
                raise _unavailable(exc, "lease") from None
            self._lease, self._owner = conn, owner
            return owner

    def _once(self, work: Callable[[Connection], T], *, snapshot: bool, what: str) -> T:
        """Run ``work`` in one transaction on a borrowed connection; retried once on a fresh
        connection when a kept one turns out broken (PostgreSQL restarted meanwhile)."""
        for attempt in (1, 2):
            conn = self._connections.take(snapshot=snapshot)
            try:
                with WATCHDOG.guard(conn, CALL_SECONDS) as guard:
                    result = work(conn)
                    conn.commit()
                return result
            except psycopg.OperationalError as exc:
                if attempt == 1 and conn.broken and not guard.fired:
                    continue
                raise _unavailable(exc, what) from None
            except psycopg.Error as exc:
                raise _unavailable(exc, what) from None
            finally:
                self._connections.give_back(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    def prepare(self) -> int:
        """Take this process's lease, then delete blobs that no ``objects`` or
        ``multipart_parts`` row names and whose writer is gone (its lease is free) or that
        were committed over a day ago. A part of an upload in progress is named by its row."""
        self.owner()

        def sweep(conn: Connection) -> int:
            return conn.execute(
                "DELETE FROM blobs b WHERE b.committed_at IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.blob = b.id) "
                "AND NOT EXISTS (SELECT 1 FROM multipart_parts p WHERE p.blob = b.id) "
                "AND (b.committed_at < now() - make_interval(secs => %s) "
                "     OR b.owner::bigint NOT IN ("
                "        SELECT l.objid::text::bigint FROM pg_locks l "
                "        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
                "        AND l.classid = %s::oid AND l.database = "
                "            (SELECT oid FROM pg_database WHERE datname = current_database())))",
                (STALE_SECONDS, LEASE_NAMESPACE)).rowcount
        removed = self._once(sweep, snapshot=False, what="cleanup")
        if removed:
            log.warning("removed %d unreferenced blob(s) from the database", removed)
        return removed

    def create(self, *, sha256: bool = False) -> PostgresBlobWriter:
        name = uuid.uuid4().hex
        with _as_oss_error():
            owner = self.owner()
            for attempt in (1, 2):
                conn = self._connections.take(snapshot=False)
                try:
                    with WATCHDOG.guard(conn, CALL_SECONDS) as guard:
                        conn.execute("INSERT INTO blobs (id, size, chunk_size, owner) "
                                     "VALUES (%s, 0, %s, %s)", (name, CHUNK_SIZE, owner))
                    return PostgresBlobWriter(self._connections, conn, name, sha256=sha256)
                except psycopg.Error as exc:
                    self._connections.give_back(conn)
                    if attempt == 1 and conn.broken and not guard.fired:
                        continue
                    raise _unavailable(exc, "write") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def commit(self, writer: BlobWriter) -> str:
        if not isinstance(writer, PostgresBlobWriter):
            raise TypeError("not a writer of this store")
        with _as_oss_error():
            return writer.commit()

    def load(self, name: str, inline_limit: int) -> bytes | BinaryIO:
        with _as_oss_error():
            return self._load(name, inline_limit)

    def _load(self, name: str, inline_limit: int) -> bytes | BinaryIO:
        for attempt in (1, 2):
            conn = self._connections.take(snapshot=True)
            try:
                # the first statement fixes the snapshot a large read then keeps
                with WATCHDOG.guard(conn, CALL_SECONDS) as guard:
                    rows = conn.execute(
                        "SELECT b.size, b.chunk_size, c.data FROM blobs b LEFT JOIN blob_chunks "
                        "c ON c.blob_id = b.id AND b.size <= %s WHERE b.id = %s ORDER BY c.seq",
                        (inline_limit, name), binary=True).fetchall()
            except psycopg.Error as exc:
                self._connections.give_back(conn)
                if attempt == 1 and conn.broken and not guard.fired:
                    continue
                raise _unavailable(exc, "read") from None
            if not rows:
                self._connections.give_back(conn)
                raise FileNotFoundError(f"blob {name} is gone")
            size, chunk_size = int(rows[0][0]), int(rows[0][1])
            if size <= inline_limit:
                self._connections.give_back(conn)
                return b"".join(bytes(row[2]) for row in rows if row[2] is not None)
            raw = _ChunkReader(self._connections, conn, name, size, chunk_size)
            return io.BufferedReader(raw, buffer_size=_READ_BUFFER)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, name: str) -> None:
        try:
            self._once(lambda conn: conn.execute("DELETE FROM blobs WHERE id = %s", (name,)),
                       snapshot=False, what="delete")
        except StoreError:
            log.exception("could not delete blob %s", name)
