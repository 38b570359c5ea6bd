"""The scale-out store: one PostgreSQL database shared by several ``ossutil-server`` processes.

Same contract as ``SqliteStore`` (every public method is one transaction, same return values,
same exceptions), so the domain cannot tell them apart. What differs is how that is achieved:

- Concurrency. SQLite serialises every writer (``BEGIN IMMEDIATE``), so its check-then-write
  methods are trivially correct. Here transactions run at READ COMMITTED and each
  check-then-write method first takes a transaction-scoped advisory lock on what it guards;
  every later statement then sees the latest committed state, as if the writers were serial:

      lock                     taken by
      auth                     bootstrap_root, create_user, set_user_policy, delete_user
      bucket:<name>            create_bucket, delete_bucket, issue_token
      bindings                 apply_binding, delete_binding (so binding ``seq`` and change
                               numbers grow in commit order: ``changes_since`` never skips one)
      object:<bucket>/<key>    put_object, delete_object, complete_upload
      upload:<id>              put_part, complete_upload, abort_upload (before the object's)

  The one-domain-one-bucket rule stays a database constraint (``bindings.domain`` primary key,
  ``INSERT ... ON CONFLICT DO NOTHING``): whoever inserts second gets ``DomainTaken``.
- Timestamps are ``timestamptz`` (SQLite: ISO text) and read back as UTC-aware datetimes, equal
  to the UTC-aware datetimes the domain writes; expiry comparisons are done on instants.
- Ordered text columns (user, bucket and object names) use ``COLLATE "C"``: byte order, which
  for UTF-8 is code point order, like SQLite's default BINARY collation.
- Secrets: as in SQLite, they arrive sealed and are stored as given (no crypto here). Every
  process sharing a database must use the same master key (``OSS_SERVER_MASTER_KEY``): a sealed
  check value (from the ``KeyCheck`` the store is opened with, ``auth/sealing.py``) is written
  with the root account, and a process whose check does not open it fails at start-up with
  ``MasterKeyMismatch`` instead of later.
- Object content: the schema also holds ``blobs`` and ``blob_chunks``, which
  ``storage/postgres_blobs.py`` (PostgresBlobStore, on connections of its own made by
  ``connect`` below) writes and reads; ``objects.blob`` names a ``blobs.id``.
- The connection: one per store, autocommit off, used only from the StoreRunner's thread. When
  it breaks (server restart, network), the next call reconnects; a transaction that failed
  before COMMIT is retried once on the new connection (nothing was written). A failure during
  COMMIT has an unknown outcome and is reported, never retried.

    StoreError (base.py)
     ├── StoreUnavailable     cannot connect, or the connection broke (message has no password)
     └── MasterKeyMismatch    sealed data in this database does not open with our master key
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, RowFactory, dict_row, tuple_row

from ossutil.server.models import (
    Account,
    AcmeState,
    Binding,
    BindingChange,
    BindingStatus,
    Bucket,
    BucketAcl,
    BucketConfig,
    BucketContent,
    CertAction,
    Certificate,
    CertificateType,
    CnameTokenRecord,
    MultipartUpload,
    ObjectMeta,
    PartRecord,
    Route,
    SealedAccessKey,
    User,
    Versions,
)
from ossutil.server.storage.base import (
    SEALED_COLUMNS,
    BucketMissing,
    DomainTaken,
    HealthMarks,
    HealthRow,
    KeyCheck,
    NoSuchUser,
    ObjectExists,
    Reseal,
    StorageFull,
    StoreError,
    StoreUnavailable,
    UploadMissing,
    UserExists,
)
from ossutil.server.storage.rows import (
    bucket_row,
    crc_from_text,
    crc_text,
    epoch_utc,
    headers_json,
    health_claim_sql,
    key_range,
    object_json,
    opt_epoch_utc,
    routes_sql,
    stored_headers,
    stored_object_headers,
)

T = TypeVar("T")
log = logging.getLogger("ossutil.server.storage")
R = TypeVar("R")
Cursor = psycopg.Cursor[DictRow]

CONNECT_TIMEOUT = 5  # seconds, unless the URL sets connect_timeout
# Bounds on one call (issue 8): PostgreSQL cancels a statement after STATEMENT_TIMEOUT and a lock
# wait after LOCK_TIMEOUT (a table locked by someone else, a stuck advisory lock); a database
# that stops answering altogether (frozen, or the network gone quiet: the server-side timers
# never reach us) is cut off by the Watchdog after CALL_SECONDS. Each fails as StoreUnavailable.
STATEMENT_TIMEOUT = "5s"
LOCK_TIMEOUT = "3s"
CALL_SECONDS = 8.0
SCHEMA_SECONDS = 130.0  # creating or migrating the schema at start-up
# After a failed connect, calls fail at once for this long instead of each waiting for its own
# connect timeout: an outage answers 503 quickly, and the first call after it reconnects.
RECONNECT_PAUSE = 1.0
_ATTEMPTS = 3  # a broken connection, a deadlock or a serialization failure is retried

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS sealing_check (
    id INTEGER PRIMARY KEY CHECK (id = 1), sealed BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    owner_id TEXT PRIMARY KEY, is_root BOOLEAN NOT NULL, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT COLLATE "C" PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES accounts(owner_id),
    policy TEXT, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY, secret_sealed BYTEA NOT NULL,
    owner_id TEXT NOT NULL REFERENCES accounts(owner_id),
    user_name TEXT COLLATE "C" REFERENCES users(name) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT COLLATE "C" PRIMARY KEY, owner_id TEXT NOT NULL, region TEXT NOT NULL,
    acl TEXT NOT NULL, storage_class TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS cname_tokens (
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    domain TEXT NOT NULL, token TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (bucket, domain));
CREATE TABLE IF NOT EXISTS certificates (
    cert_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, type TEXT NOT NULL,
    chain_pem TEXT NOT NULL, key_sealed BYTEA NOT NULL, fingerprint TEXT NOT NULL,
    not_before TIMESTAMPTZ NOT NULL, not_after TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (
    domain TEXT PRIMARY KEY, bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets(name),
    seq BIGINT NOT NULL, status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    last_modified TIMESTAMPTZ NOT NULL, cert_id TEXT REFERENCES certificates(cert_id),
    cert_attached_at TIMESTAMPTZ);
CREATE INDEX IF NOT EXISTS bindings_by_bucket ON bindings (bucket, seq);
CREATE TABLE IF NOT EXISTS binding_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, domain TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets(name), key TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL,
    last_modified TIMESTAMPTZ NOT NULL, blob TEXT NOT NULL, user_meta TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (bucket, key));
CREATE TABLE IF NOT EXISTS blobs (
    id TEXT PRIMARY KEY, size BIGINT NOT NULL, chunk_size INTEGER NOT NULL,
    committed_at TIMESTAMPTZ, owner INTEGER);
CREATE TABLE IF NOT EXISTS blob_chunks (
    blob_id TEXT NOT NULL REFERENCES blobs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    data BYTEA NOT NULL, PRIMARY KEY (blob_id, seq));
CREATE TABLE IF NOT EXISTS multipart_uploads (
    upload_id TEXT COLLATE "C" PRIMARY KEY,
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets(name), key TEXT COLLATE "C" NOT NULL,
    initiated TIMESTAMPTZ NOT NULL, content_type TEXT NOT NULL,
    user_meta TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS multipart_uploads_by_key ON multipart_uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS multipart_parts (
    upload_id TEXT COLLATE "C" NOT NULL
        REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL, size BIGINT NOT NULL, etag TEXT NOT NULL,
    last_modified TIMESTAMPTZ NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (upload_id, part_number));
DO $$ BEGIN
    -- chunks are stored as sent: no compression attempt on (mostly compressed) object data.
    -- Only when not yet so: SET STORAGE would wait for every open reader of the table.
    IF (SELECT attstorage FROM pg_attribute WHERE attrelid = 'blob_chunks'::regclass
        AND attname = 'data') <> 'e' THEN
        ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    END IF;
    -- the writing process's lease (see storage/postgres_blobs.py); checked first for the same
    -- reason: ALTER TABLE would wait for every upload in progress
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'blobs'::regclass
        AND attname = 'owner' AND NOT attisdropped) THEN
        ALTER TABLE blobs ADD COLUMN owner INTEGER;
    END IF;
    -- x-oss-hash-crc64ecma (unsigned decimal text, as in SQLite); NULL on rows from before
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'objects'::regclass
        AND attname = 'crc64' AND NOT attisdropped) THEN
        ALTER TABLE objects ADD COLUMN crc64 TEXT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'multipart_parts'::regclass
        AND attname = 'crc64' AND NOT attisdropped) THEN
        ALTER TABLE multipart_parts ADD COLUMN crc64 TEXT;
    END IF;
    -- the start-up sweep asks "does any row name this blob?"
    IF to_regclass('objects_by_blob') IS NULL THEN
        CREATE INDEX objects_by_blob ON objects (blob);
    END IF;
    IF to_regclass('multipart_parts_by_blob') IS NULL THEN
        CREATE INDEX multipart_parts_by_blob ON multipart_parts (blob);
    END IF;
    -- a new binding's seq is MAX(seq) + 1: the index's last entry, not a walk of
    -- bindings_by_bucket (which grew with every binding)
    IF to_regclass('bindings_by_seq') IS NULL THEN
        CREATE INDEX bindings_by_seq ON bindings (seq);
    END IF;
END $$;
-- versions()["objects"]: advanced after each object write commits (see _object_changed)
CREATE SEQUENCE IF NOT EXISTS object_changes;
CREATE TABLE IF NOT EXISTS server_values (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
-- automatic (ACME) certificates, their order/renewal state and order lease (times: epoch
-- seconds, as in SQLite), and challenge responses whichever process the CA reaches answers
CREATE TABLE IF NOT EXISTS acme_certificates (
    domain TEXT PRIMARY KEY, cert_id TEXT, owner_id TEXT, chain_pem TEXT, key_sealed BYTEA,
    fingerprint TEXT, not_before DOUBLE PRECISION, not_after DOUBLE PRECISION,
    issued_at DOUBLE PRECISION, last_attempt DOUBLE PRECISION, last_error TEXT,
    next_attempt DOUBLE PRECISION, failures INTEGER NOT NULL DEFAULT 0, lease_holder TEXT,
    lease_until DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS acme_challenges (
    domain TEXT NOT NULL, token TEXT NOT NULL, kind TEXT NOT NULL, response TEXT NOT NULL,
    expires DOUBLE PRECISION NOT NULL, PRIMARY KEY (domain, token));
DO $$ BEGIN
    -- set by domain health: the domain no longer points here (no ACME orders for it)
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'bindings'::regclass
        AND attname = 'dangling' AND NOT attisdropped) THEN
        ALTER TABLE bindings ADD COLUMN dangling BOOLEAN NOT NULL DEFAULT FALSE;
    END IF;
    -- GetBucketWebsite's, -Cors's, -Referer's documents (NULL: not configured)
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'buckets'::regclass
        AND attname = 'website' AND NOT attisdropped) THEN
        ALTER TABLE buckets ADD COLUMN website TEXT, ADD COLUMN cors TEXT,
            ADD COLUMN referer TEXT;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS domain_health (
    domain TEXT PRIMARY KEY, bucket TEXT NOT NULL, checked_at DOUBLE PRECISION NOT NULL,
    report TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health_rounds (
    id INTEGER PRIMARY KEY CHECK (id = 1), requested DOUBLE PRECISION,
    started DOUBLE PRECISION, finished DOUBLE PRECISION);
INSERT INTO health_rounds (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
INSERT INTO meta (key, value) VALUES ('auth_version', 0), ('bucket_version', 0),
    ('schema_version', 1) ON CONFLICT (key) DO NOTHING;
"""


class MasterKeyMismatch(StoreError):
    """This database's sealed secrets do not open with this process's master key."""


def _acme_certificate(row: DictRow, prefix: str = "") -> Certificate | None:
    """The automatic certificate of an ``acme_certificates`` row (None before the first)."""
    if not row[prefix + "cert_id"]:
        return None
    return Certificate(row[prefix + "cert_id"], row[prefix + "owner_id"] or "",
                       CertificateType.ACME, row[prefix + "chain_pem"],
                       bytes(row[prefix + "key_sealed"]), row[prefix + "fingerprint"],
                       epoch_utc(row[prefix + "not_before"]), epoch_utc(row[prefix + "not_after"]),
                       epoch_utc(row[prefix + "issued_at"]))


def _acme_state(row: DictRow) -> AcmeState:
    return AcmeState(row["domain"], _acme_certificate(row), opt_epoch_utc(row["issued_at"]),
                     opt_epoch_utc(row["last_attempt"]), row["last_error"],
                     opt_epoch_utc(row["next_attempt"]), int(row["failures"]))


def _lock_id(name: str) -> int:
    """A stable signed 64-bit advisory lock number for ``name`` (a collision only serialises)."""
    digest = hashlib.blake2b(b"ossutil-server:" + name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _utc(moment: datetime) -> datetime:
    # timestamptz comes back in the session time zone; the domain works in timezone.utc
    return moment.astimezone(timezone.utc)


def _opt_utc(moment: datetime | None) -> datetime | None:
    return _utc(moment) if moment is not None else None


def _describe(url: str) -> str:
    """Where a URL points, for messages: ``host:port/dbname``, never the user or password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "the configured database"
    host = str(params.get("host") or "localhost")
    port = str(params.get("port") or "5432")
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


class Watchdog:
    """Cuts off connections whose guarded call outlives its deadline: their socket is shut
    down, so the blocked read returns at once and psycopg raises OperationalError (the
    connection is then broken and replaced). One daemon thread per process, started on first use.
    """

    class Guard:
        __slots__ = ("deadline", "conn", "active", "fired")

        def __init__(self, deadline: float, conn: psycopg.Connection[Any]) -> None:
            self.deadline = deadline
            self.conn = conn
            self.active = True
            self.fired = False

        def __lt__(self, other: Watchdog.Guard) -> bool:
            return self.deadline < other.deadline

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[Watchdog.Guard] = []
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, conn: psycopg.Connection[Any], seconds: float) -> Iterator[Watchdog.Guard]:
        entry = Watchdog.Guard(time.monotonic() + seconds, conn)
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pg-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            yield entry
        finally:
            with self._cond:  # never sever a connection its call has already given back
                entry.active = False

    def sever(self, entry: Watchdog.Guard) -> None:
        """Cut ``entry``'s connection now (if its call is still running)."""
        with self._cond:
            self._sever(entry)

    def _sever(self, entry: Watchdog.Guard) -> None:
        if not entry.active or entry.fired:
            return
        entry.fired = True
        try:
            fd = entry.conn.fileno()
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, psycopg.Error):
            pass  # already closed: the call fails on its own

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0].deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                self._sever(heapq.heappop(self._heap))


WATCHDOG = Watchdog()


def connect(url: str, row_factory: RowFactory[R]) -> psycopg.Connection[R]:
    """A new connection (autocommit off, session time zone UTC, named ``ossutil-server`` in
    ``pg_stat_activity``); ``StoreUnavailable`` with a one-line message that never shows the
    password when it cannot be made. Shared with ``postgres_blobs.py``."""
    where = _describe(url)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        # libpq's parse errors may quote any part of the URL, the password included
        raise StoreUnavailable("the database URL is not a valid PostgreSQL connection "
                               "string or URI (not shown: it may hold a password)") from None
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in params:  # names our sessions in pg_stat_activity
        extra["application_name"] = "ossutil-server"
    try:
        conn = psycopg.connect(url, autocommit=False, row_factory=row_factory, **extra)
    except psycopg.Error as exc:
        raise StoreUnavailable(f"cannot connect to PostgreSQL at {where}: "
                               f"{_first_line(exc)}") from None
    try:
        with WATCHDOG.guard(conn, CALL_SECONDS):
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            conn.commit()
    except psycopg.Error as exc:
        conn.close()
        raise StoreUnavailable(f"PostgreSQL at {where}: {_first_line(exc)}") from None
    return conn


class PostgresStore:
    """``Store`` on PostgreSQL (psycopg 3, synchronous). Safe to use from one thread at a time."""

    def __init__(self, database_url: str, check: KeyCheck) -> None:
        self._url = database_url
        self._check = check
        self._where = _describe(database_url)
        self._conn: psycopg.Connection[DictRow] | None = None
        self._guard: Watchdog.Guard | None = None  # the call in progress (for ``interrupt``)
        self._retry_at = 0.0  # monotonic time before which a reconnect is not tried
        self._down = ""
        try:
            self._transaction(self._create_schema, seconds=SCHEMA_SECONDS)
        except BaseException:
            self.close()
            raise

    # --- connection and transactions ------------------------------------------------------

    def _connect(self) -> psycopg.Connection[DictRow]:
        return connect(self._url, dict_row)

    def _connection(self) -> psycopg.Connection[DictRow]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
                self._conn = None
            if time.monotonic() < self._retry_at:
                raise StoreUnavailable(self._down)
            try:
                self._conn = conn = self._connect()
            except StoreUnavailable as exc:
                self._retry_at = time.monotonic() + RECONNECT_PAUSE
                self._down = str(exc)
                raise
        return conn

    def interrupt(self) -> None:
        """Cut off the call in progress now (any thread; never blocks): StoreRunner's request
        deadline passed. The call fails with StoreUnavailable and is not retried."""
        guard = self._guard
        if guard is not None:
            WATCHDOG.sever(guard)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _transaction(self, work: Callable[[Cursor], T], *, snapshot: bool = False,
                     seconds: float = CALL_SECONDS) -> T:
        """Run ``work`` in one transaction and commit it; ``snapshot``: one consistent
        read-only view for all its statements (REPEATABLE READ), as SQLite's transactions give.

        Retried (up to ``_ATTEMPTS`` in all) only when nothing can have been written: the
        connection broke before COMMIT, or PostgreSQL rolled back a deadlock victim. Never
        retried once the watchdog cut the call off (the database stopped answering).
        """
        for attempt in range(1, _ATTEMPTS + 1):
            conn = self._connection()
            with WATCHDOG.guard(conn, seconds) as guard:
                self._guard = guard
                try:
                    try:
                        with conn.cursor() as cur:
                            if snapshot:
                                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
                                            "READ ONLY")
                            result = work(cur)
                    except psycopg.OperationalError as exc:
                        self._rollback(conn)
                        if isinstance(exc, errors.DiskFull):
                            raise StorageFull(self._failure(exc, guard)) from None
                        if (attempt < _ATTEMPTS and not guard.fired
                                and (conn.broken or _retryable(exc))):
                            time.sleep(0.01 * attempt)
                            continue
                        raise StoreUnavailable(self._failure(exc, guard)) from None
                    except BaseException:
                        self._rollback(conn)
                        raise
                    try:
                        conn.commit()
                    except psycopg.OperationalError as exc:
                        if attempt < _ATTEMPTS and not conn.broken and _retryable(exc):
                            continue  # the server refused the commit and rolled back
                        raise StoreUnavailable("commit failed (outcome unknown): "
                                               + self._failure(exc, guard)) from None
                    return result
                finally:
                    self._guard = None
        raise AssertionError("unreachable")  # pragma: no cover

    def _failure(self, exc: psycopg.Error, guard: Watchdog.Guard) -> str:
        if guard.fired:
            return f"PostgreSQL at {self._where} stopped answering (call cut off)"
        return f"PostgreSQL at {self._where}: {_first_line(exc)}"

    @staticmethod
    def _rollback(conn: psycopg.Connection[DictRow]) -> None:
        if not conn.closed and not conn.broken:
            try:
                conn.rollback()
            except psycopg.Error:
                conn.close()  # reconnect next time

    @staticmethod
    def _lock(cur: Cursor, name: str) -> None:
        """Serialise with every other transaction locking ``name``, until this one ends."""
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_id(name),))

    def _create_schema(self, cur: Cursor) -> None:
        # Several processes may start at once on an empty database: CREATE TABLE IF NOT EXISTS
        # is not safe against itself (catalog unique violations), so creators take turns.
        # a one-time migration may wait for other processes' transactions: longer than a call
        cur.execute("SET LOCAL lock_timeout = '60s'")
        cur.execute("SET LOCAL statement_timeout = '120s'")
        self._lock(cur, "schema")
        cur.execute(SCHEMA)
        row = cur.execute("SELECT sealed FROM sealing_check WHERE id = 1").fetchone()
        if row is not None:
            self._check_key(bytes(row["sealed"]))

    def _check_key(self, sealed: bytes) -> None:
        if not self._check.opens_check(sealed):
            raise MasterKeyMismatch(
                f"the database at {self._where} was set up with another master key; every "
                "process sharing it needs the same OSS_SERVER_MASTER_KEY") from None

    def _one(self, sql: str, *args: Any) -> DictRow | None:
        return self._transaction(lambda cur: cur.execute(sql, args).fetchone())

    def _all(self, sql: str, *args: Any) -> list[DictRow]:
        return self._transaction(lambda cur: cur.execute(sql, args).fetchall())

    def referenced_blobs(self, names: list[str]) -> set[str]:
        """Which of ``names`` an object or part row names (the start-up sweep's question)."""
        rows = self._all("SELECT blob FROM objects WHERE blob = ANY(%s) "
                         "UNION SELECT blob FROM multipart_parts WHERE blob = ANY(%s)",
                         names, names)
        return {str(row["blob"]) for row in rows}

    # --- accounts, users, keys ------------------------------------------------------------

    @staticmethod
    def _bump(cur: Cursor, counter: str) -> None:
        # meta.value is BIGINT here (SQLite keeps TEXT and casts): same numbers either way
        cur.execute("UPDATE meta SET value = value + 1 WHERE key = %s", (counter,))

    def versions(self) -> Versions:
        """Change counters other processes' caches poll: auth, buckets, bindings, objects.

        Each is one probe whatever the table sizes: meta rows by key, the newest binding
        change from the end of ``binding_changes``' primary key, the object counter from its
        sequence (``pg_sequence_last_value``: NULL before the first ``nextval``).
        """
        row = self._one(
            "SELECT (SELECT value FROM meta WHERE key = 'auth_version') AS auth, "
            "(SELECT value FROM meta WHERE key = 'bucket_version') AS buckets, "
            "(SELECT seq FROM binding_changes ORDER BY seq DESC LIMIT 1) AS bindings, "
            "pg_sequence_last_value('object_changes') AS objects")
        assert row is not None
        return Versions(auth=int(row["auth"] or 0), buckets=int(row["buckets"] or 0),
                        bindings=int(row["bindings"] or 0), objects=int(row["objects"] or 0))

    def _object_changed(self) -> None:
        """Advance the object counter, after the write it announces has committed.

        Not in the write's transaction on purpose: a counter row there would serialise every
        object write of every process on one row lock. A sequence never blocks, and calling
        it after COMMIT means a poller that sees the new number also sees the row. (A process
        that dies between the two leaves the counter unmoved for that write; the next write
        anywhere moves it.) A failure here is logged, not raised: the write has committed,
        and its caller must still get the blob names it returns to delete.
        """
        try:
            self._transaction(lambda cur: cur.execute("SELECT nextval('object_changes')"))
        except StoreError as exc:
            log.warning("object change counter not advanced: %s", exc)

    @staticmethod
    def _insert_key(cur: Cursor, key: SealedAccessKey) -> None:
        cur.execute("INSERT INTO access_keys (access_key_id, secret_sealed, owner_id, user_name, "
                    "enabled) VALUES (%s, %s, %s, %s, %s)",
                    (key.access_key_id, key.secret_sealed, key.owner_id, key.user,
                     key.enabled))

    def bootstrap_root(self, account: Account, key: SealedAccessKey) -> bool:
        """Create the root account and its key unless an account exists; True if created."""
        def work(cur: Cursor) -> bool:
            self._lock(cur, "auth")
            if cur.execute("SELECT 1 FROM accounts WHERE is_root").fetchone():
                return False
            cur.execute("INSERT INTO accounts (owner_id, is_root, created_at) "
                        "VALUES (%s, TRUE, %s)", (account.owner_id, account.created_at))
            self._insert_key(cur, key)
            self._bump(cur, "auth_version")
            cur.execute("INSERT INTO sealing_check (id, sealed) VALUES (1, %s) "
                        "ON CONFLICT (id) DO NOTHING",
                        (self._check.new_check(),))
            return True
        return self._transaction(work)

    def root_account(self) -> Account | None:
        row = self._one("SELECT * FROM accounts WHERE is_root")
        return Account(row["owner_id"], _utc(row["created_at"])) if row else None

    def create_user(self, user: User, key: SealedAccessKey) -> None:
        def work(cur: Cursor) -> None:
            self._lock(cur, "auth")
            if cur.execute("SELECT 1 FROM users WHERE name = %s", (user.name,)).fetchone():
                raise UserExists(user.name)
            cur.execute("INSERT INTO users (name, owner_id, policy, created_at) "
                        "VALUES (%s, %s, %s, %s)",
                        (user.name, user.owner_id, user.policy, user.created_at))
            self._insert_key(cur, key)
            self._bump(cur, "auth_version")
        self._transaction(work)

    def set_user_policy(self, name: str, policy: str | None) -> None:
        def work(cur: Cursor) -> None:
            self._lock(cur, "auth")
            if cur.execute("UPDATE users SET policy = %s WHERE name = %s",
                           (policy, name)).rowcount == 0:
                raise NoSuchUser(name)
            self._bump(cur, "auth_version")
        self._transaction(work)

    def delete_user(self, name: str) -> None:
        def work(cur: Cursor) -> None:
            self._lock(cur, "auth")
            cur.execute("DELETE FROM access_keys WHERE user_name = %s", (name,))
            if cur.execute("DELETE FROM users WHERE name = %s", (name,)).rowcount == 0:
                raise NoSuchUser(name)
            self._bump(cur, "auth_version")
        self._transaction(work)

    def list_users(self) -> list[User]:
        rows = self._all("SELECT * FROM users ORDER BY name")
        return [User(r["name"], r["owner_id"], r["policy"], _utc(r["created_at"]))
                for r in rows]

    def user_access_key_ids(self, name: str) -> list[str]:
        rows = self._all("SELECT access_key_id FROM access_keys WHERE user_name = %s", name)
        return [r["access_key_id"] for r in rows]

    def auth_version(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key = 'auth_version'")
        return int(row["value"]) if row else 0

    def load_auth(self) -> tuple[int, list[SealedAccessKey], dict[str, str | None]]:
        """Everything authentication needs, read from one snapshot."""
        def work(cur: Cursor) -> tuple[int, list[SealedAccessKey], dict[str, str | None]]:
            row = cur.execute("SELECT value FROM meta WHERE key = 'auth_version'").fetchone()
            version = int(row["value"]) if row else 0
            keys = []
            for r in cur.execute("SELECT * FROM access_keys").fetchall():
                keys.append(SealedAccessKey(r["access_key_id"], bytes(r["secret_sealed"]),
                                            r["owner_id"], r["user_name"], bool(r["enabled"])))
            policies = {r["name"]: r["policy"]
                        for r in cur.execute("SELECT name, policy FROM users").fetchall()}
            return version, keys, policies
        return self._transaction(work, snapshot=True)

    # --- buckets --------------------------------------------------------------------------

    @staticmethod
    def _bucket(row: DictRow) -> Bucket:
        return bucket_row(row, _utc(row["created_at"]))

    def create_bucket(self, bucket: Bucket) -> Bucket:
        """Insert unless the name exists; return the stored bucket either way."""
        def work(cur: Cursor) -> Bucket:
            self._lock(cur, f"bucket:{bucket.name}")
            row = cur.execute("SELECT * FROM buckets WHERE name = %s", (bucket.name,)).fetchone()
            if row:
                return self._bucket(row)
            cur.execute("INSERT INTO buckets (name, owner_id, region, acl, storage_class, "
                        "created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                        (bucket.name, bucket.owner_id, bucket.region, bucket.acl,
                         bucket.storage_class, bucket.created_at))
            self._bump(cur, "bucket_version")
            return bucket
        return self._transaction(work)

    def get_bucket(self, name: str) -> Bucket | None:
        row = self._one("SELECT * FROM buckets WHERE name = %s", name)
        return self._bucket(row) if row else None

    def list_buckets(self, owner_id: str) -> list[Bucket]:
        rows = self._all("SELECT * FROM buckets WHERE owner_id = %s ORDER BY name", owner_id)
        return [self._bucket(r) for r in rows]

    def set_bucket_acl(self, name: str, acl: BucketAcl) -> None:
        def work(cur: Cursor) -> None:
            cur.execute("UPDATE buckets SET acl = %s WHERE name = %s", (acl, name))
            self._bump(cur, "bucket_version")
        self._transaction(work)

    def set_bucket_config(self, name: str, kind: BucketConfig,
                          document: str | None) -> Bucket | None:
        column = BucketConfig(kind).value  # one of three fixed names
        def work(cur: Cursor) -> Bucket | None:
            row = cur.execute(f"UPDATE buckets SET {column} = %s WHERE name = %s RETURNING *",
                              (document, name)).fetchone()
            if row is None:
                return None
            self._bump(cur, "bucket_version")
            return self._bucket(row)
        return self._transaction(work)

    def delete_bucket(self, name: str) -> BucketContent | None:
        """Delete an empty bucket; when it is not empty, say what it still holds."""
        def work(cur: Cursor) -> BucketContent | None:
            self._lock(cur, f"bucket:{name}")
            # FOR UPDATE waits for uncommitted object/binding rows that reference the bucket
            # (their foreign-key check holds a KEY SHARE lock on it) and blocks new ones, so
            # the emptiness checks below cannot miss a row that commits in between.
            cur.execute("SELECT 1 FROM buckets WHERE name = %s FOR UPDATE", (name,))
            if cur.execute("SELECT 1 FROM objects WHERE bucket = %s LIMIT 1",
                           (name,)).fetchone():
                return BucketContent.OBJECTS
            if cur.execute("SELECT 1 FROM bindings WHERE bucket = %s LIMIT 1",
                           (name,)).fetchone():
                return BucketContent.BINDINGS
            if cur.execute("SELECT 1 FROM multipart_uploads WHERE bucket = %s LIMIT 1",
                           (name,)).fetchone():
                return BucketContent.UPLOADS
            cur.execute("DELETE FROM cname_tokens WHERE bucket = %s", (name,))
            cur.execute("DELETE FROM buckets WHERE name = %s", (name,))
            self._bump(cur, "bucket_version")
            return None
        return self._transaction(work)

    # --- tokens ---------------------------------------------------------------------------

    @staticmethod
    def _token(row: DictRow) -> CnameTokenRecord:
        return CnameTokenRecord(row["bucket"], row["domain"], row["token"],
                                _utc(row["created_at"]), _utc(row["expires_at"]))

    def issue_token(self, candidate: CnameTokenRecord, now: datetime,
                    limit: int) -> CnameTokenRecord | None:
        """Return the valid token for (bucket, domain), else store ``candidate``.

        None when the bucket already holds ``limit`` valid tokens.
        """
        def work(cur: Cursor) -> CnameTokenRecord | None:
            self._lock(cur, f"bucket:{candidate.bucket}")  # the count below is per bucket
            row = cur.execute("SELECT * FROM cname_tokens WHERE bucket = %s AND domain = %s",
                              (candidate.bucket, candidate.domain)).fetchone()
            if row and _utc(row["expires_at"]) > now:
                return self._token(row)
            cur.execute("DELETE FROM cname_tokens WHERE bucket = %s AND expires_at <= %s",
                        (candidate.bucket, now))
            count = cur.execute("SELECT COUNT(*) AS n FROM cname_tokens WHERE bucket = %s",
                                (candidate.bucket,)).fetchone()
            if count is not None and count["n"] >= limit:
                return None
            # SQLite: INSERT OR REPLACE
            cur.execute("INSERT INTO cname_tokens (bucket, domain, token, created_at, expires_at) "
                        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (bucket, domain) DO UPDATE SET "
                        "token = EXCLUDED.token, created_at = EXCLUDED.created_at, "
                        "expires_at = EXCLUDED.expires_at",
                        (candidate.bucket, candidate.domain, candidate.token,
                         candidate.created_at, candidate.expires_at))
            return candidate
        return self._transaction(work)

    def get_token(self, bucket: str, domain: str) -> CnameTokenRecord | None:
        row = self._one("SELECT * FROM cname_tokens WHERE bucket = %s AND domain = %s",
                        bucket, domain)
        return self._token(row) if row else None

    # --- certificates and bindings --------------------------------------------------------

    @staticmethod
    def _certificate(row: DictRow, prefix: str = "") -> Certificate:
        return Certificate(
            row[prefix + "cert_id"], row[prefix + "owner_id"],
            CertificateType(row[prefix + "type"]),
            row[prefix + "chain_pem"], bytes(row[prefix + "key_sealed"]),
            row[prefix + "fingerprint"], _utc(row[prefix + "not_before"]),
            _utc(row[prefix + "not_after"]), _utc(row[prefix + "created_at"]))

    _BINDING_SELECT = """
        SELECT b.*, c.cert_id AS c_cert_id, c.owner_id AS c_owner_id, c.type AS c_type,
               c.chain_pem AS c_chain_pem, c.key_sealed AS c_key_sealed,
               c.fingerprint AS c_fingerprint, c.not_before AS c_not_before,
               c.not_after AS c_not_after, c.created_at AS c_created_at,
               a.cert_id AS a_cert_id, a.owner_id AS a_owner_id, a.chain_pem AS a_chain_pem,
               a.key_sealed AS a_key_sealed, a.fingerprint AS a_fingerprint,
               a.not_before AS a_not_before, a.not_after AS a_not_after,
               a.issued_at AS a_issued_at
        FROM bindings b LEFT JOIN certificates c ON c.cert_id = b.cert_id
        LEFT JOIN acme_certificates a ON a.domain = b.domain
    """

    def _binding(self, row: DictRow) -> Binding:
        certificate = self._certificate(row, "c_") if row["c_cert_id"] else None
        return Binding(row["domain"], row["bucket"], BindingStatus(row["status"]),
                       _utc(row["created_at"]),
                       _utc(row["last_modified"]), row["cert_id"],
                       _opt_utc(row["cert_attached_at"]), certificate,
                       _acme_certificate(row, "a_"), bool(row["dangling"]))

    def get_binding(self, domain: str) -> Binding | None:
        row = self._one(self._BINDING_SELECT + " WHERE b.domain = %s", domain)
        return self._binding(row) if row else None

    def list_bindings(self, bucket: str) -> list[Binding]:
        rows = self._all(self._BINDING_SELECT + " WHERE b.bucket = %s ORDER BY b.seq", bucket)
        return [self._binding(r) for r in rows]

    def all_bindings(self) -> list[Binding]:
        rows = self._all(self._BINDING_SELECT + " ORDER BY b.seq")
        return [self._binding(r) for r in rows]

    def binding_routes(self, load: Callable[[Iterable[Route]], None]) -> int:
        """Hand every enabled binding to ``load`` as the gateway's table keeps it, and return
        the change number of that same snapshot. A server-side cursor streams the six columns
        as tuples, 10,000 rows a round trip, so neither libpq nor Python ever holds every row
        (``SqliteStore.binding_routes``). A retried transaction calls ``load`` again, from
        the start of its new snapshot."""
        def work(cur: Cursor) -> int:
            row = cur.execute("SELECT seq FROM binding_changes ORDER BY seq DESC "
                              "LIMIT 1").fetchone()
            seq = int(row["seq"]) if row else 0
            with cur.connection.cursor("binding_routes", row_factory=tuple_row) as rows:
                rows.itersize = 10_000
                load(rows.execute(routes_sql("%s"), (BindingStatus.ENABLED,)))
            return seq
        return self._transaction(work, snapshot=True, seconds=SCHEMA_SECONDS)

    def count_bindings(self, bucket: str) -> int:
        row = self._one("SELECT COUNT(*) AS n FROM bindings WHERE bucket = %s", bucket)
        return int(row["n"]) if row else 0

    def get_certificate(self, cert_id: str) -> Certificate | None:
        row = self._one("SELECT * FROM certificates WHERE cert_id = %s", cert_id)
        return self._certificate(row) if row else None

    def apply_binding(self, change: BindingChange) -> Binding:
        """Write a PutCname outcome atomically; DomainTaken if another bucket holds the domain."""
        now = change.now

        def work(cur: Cursor) -> Binding:
            self._lock(cur, "bindings")
            cert = change.new_certificate
            if cert is not None:
                # SQLite: INSERT OR IGNORE
                cur.execute(
                    "INSERT INTO certificates (cert_id, owner_id, type, chain_pem, key_sealed, "
                    "fingerprint, not_before, not_after, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (cert_id) DO NOTHING",
                    (cert.cert_id, cert.owner_id, cert.type, cert.chain_pem, cert.key_sealed,
                     cert.fingerprint, cert.not_before, cert.not_after, cert.created_at))
            if change.is_new:
                # bindings_by_seq: the maximum is the index's last entry, not a scan
                seq = cur.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM bindings").fetchone()
                assert seq is not None
                try:
                    inserted = cur.execute(
                        "INSERT INTO bindings (domain, bucket, seq, status, created_at, "
                        "last_modified, cert_id, cert_attached_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, NULL, NULL) "
                        "ON CONFLICT (domain) DO NOTHING",
                        (change.domain, change.bucket, seq["seq"], BindingStatus.ENABLED, now,
                         now)).rowcount
                except errors.ForeignKeyViolation:
                    # the bucket is gone; SQLite reports this IntegrityError the same way
                    raise DomainTaken(change.domain, "") from None
                if not inserted:
                    row = cur.execute("SELECT bucket FROM bindings WHERE domain = %s",
                                      (change.domain,)).fetchone()
                    raise DomainTaken(change.domain, row["bucket"] if row else "")
            else:
                row = cur.execute("SELECT bucket FROM bindings WHERE domain = %s",
                                  (change.domain,)).fetchone()
                if row is None or row["bucket"] != change.bucket:
                    raise DomainTaken(change.domain, row["bucket"] if row else "")
            if change.cert_action == CertAction.ATTACH:
                cur.execute("UPDATE bindings SET cert_id = %s, cert_attached_at = %s, "
                            "last_modified = %s WHERE domain = %s",
                            (change.cert_id, now, now, change.domain))
            elif change.cert_action == CertAction.DETACH:
                cur.execute("UPDATE bindings SET cert_id = NULL, cert_attached_at = NULL, "
                            "last_modified = %s WHERE domain = %s", (now, change.domain))
            if change.is_new or change.cert_action != CertAction.KEEP:
                cur.execute("INSERT INTO binding_changes (domain) VALUES (%s)", (change.domain,))
            row = cur.execute(self._BINDING_SELECT + " WHERE b.domain = %s",
                              (change.domain,)).fetchone()
            assert row is not None
            return self._binding(row)
        return self._transaction(work)

    def delete_binding(self, bucket: str, domain: str) -> bool:
        def work(cur: Cursor) -> bool:
            self._lock(cur, "bindings")
            gone = cur.execute("DELETE FROM bindings WHERE bucket = %s AND domain = %s",
                               (bucket, domain)).rowcount > 0
            if gone:
                cur.execute("INSERT INTO binding_changes (domain) VALUES (%s)", (domain,))
                # its automatic certificate and pending challenges go with it
                cur.execute("DELETE FROM acme_certificates WHERE domain = %s", (domain,))
                cur.execute("DELETE FROM acme_challenges WHERE domain = %s", (domain,))
            return gone
        return self._transaction(work)

    def set_binding_health(self, domain: str, dangling: bool) -> bool:
        return self._transaction(lambda cur: cur.execute(
            "UPDATE bindings SET dangling = %s WHERE domain = %s",
            (dangling, domain)).rowcount > 0)

    # --- automatic (ACME) certificates (see SqliteStore: the same statements) -------------

    def acme_states(self, domains: list[str] | None = None) -> list[AcmeState]:
        if domains is None:
            rows = self._all("SELECT * FROM acme_certificates ORDER BY domain")
        else:
            rows = self._all("SELECT * FROM acme_certificates WHERE domain = ANY(%s) "
                             "ORDER BY domain", domains)
        return [_acme_state(row) for row in rows]

    def acme_due(self, now: datetime, limit: int) -> list[str]:
        rows = self._all(
            "SELECT b.domain FROM bindings b LEFT JOIN acme_certificates a "
            "ON a.domain = b.domain WHERE b.status = %s AND NOT b.dangling "
            "AND b.cert_id IS NULL AND (a.next_attempt IS NULL OR a.next_attempt <= %s) "
            "AND (a.lease_until IS NULL OR a.lease_until <= %s) ORDER BY b.seq LIMIT %s",
            BindingStatus.ENABLED, now.timestamp(), now.timestamp(), limit)
        return [str(row["domain"]) for row in rows]

    def take_acme_lease(self, domain: str, holder: str, now: datetime,
                        until: datetime) -> bool:
        def work(cur: Cursor) -> bool:
            # one statement: the row lock taken by the upsert makes racing processes take
            # turns, and the loser sees the winner's lease in its WHERE
            if not cur.execute("SELECT 1 FROM bindings WHERE domain = %s AND status = %s AND "
                               "NOT dangling AND cert_id IS NULL",
                               (domain, BindingStatus.ENABLED)).fetchone():
                return False
            row = cur.execute(
                "INSERT INTO acme_certificates AS a (domain, lease_holder, lease_until) "
                "VALUES (%s, %s, %s) ON CONFLICT (domain) DO UPDATE SET "
                "lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until "
                "WHERE (a.next_attempt IS NULL OR a.next_attempt <= %s) AND "
                "(a.lease_until IS NULL OR a.lease_until <= %s OR a.lease_holder = %s) "
                "RETURNING a.domain",
                (domain, holder, until.timestamp(), now.timestamp(), now.timestamp(),
                 holder)).fetchone()
            return row is not None
        return self._transaction(work)

    def put_acme_certificate(self, domain: str, holder: str, certificate: Certificate,
                             next_attempt: datetime) -> bool:
        def work(cur: Cursor) -> bool:
            self._lock(cur, "bindings")  # as delete_binding: the binding cannot go meanwhile
            if not cur.execute("SELECT 1 FROM bindings WHERE domain = %s",
                               (domain,)).fetchone():
                return False
            stored = cur.execute(
                "UPDATE acme_certificates SET cert_id = %s, owner_id = %s, chain_pem = %s, "
                "key_sealed = %s, fingerprint = %s, not_before = %s, not_after = %s, "
                "issued_at = %s, last_attempt = %s, last_error = NULL, next_attempt = %s, "
                "failures = 0, lease_holder = NULL, lease_until = NULL "
                "WHERE domain = %s AND lease_holder = %s",
                (certificate.cert_id, certificate.owner_id, certificate.chain_pem,
                 certificate.key_sealed, certificate.fingerprint,
                 certificate.not_before.timestamp(), certificate.not_after.timestamp(),
                 certificate.created_at.timestamp(), certificate.created_at.timestamp(),
                 next_attempt.timestamp(), domain, holder)).rowcount > 0
            if stored:
                cur.execute("INSERT INTO binding_changes (domain) VALUES (%s)", (domain,))
            return stored
        return self._transaction(work)

    def record_acme_failure(self, domain: str, holder: str, attempted: datetime, error: str,
                            next_attempt: datetime) -> None:
        self._transaction(lambda cur: cur.execute(
            "UPDATE acme_certificates SET last_attempt = %s, last_error = %s, "
            "failures = failures + 1, next_attempt = %s, lease_holder = NULL, "
            "lease_until = NULL WHERE domain = %s AND lease_holder = %s",
            (attempted.timestamp(), error, next_attempt.timestamp(), domain, holder)))

    def schedule_acme(self, domain: str, next_attempt: datetime) -> None:
        self._transaction(lambda cur: cur.execute(
            "UPDATE acme_certificates SET next_attempt = %s WHERE domain = %s",
            (next_attempt.timestamp(), domain)))

    def put_acme_challenge(self, domain: str, token: str, kind: str, response: str,
                           expires: datetime) -> None:
        def work(cur: Cursor) -> None:
            cur.execute("DELETE FROM acme_challenges WHERE expires <= %s",
                        (expires.timestamp() - 86400,))
            cur.execute("INSERT INTO acme_challenges (domain, token, kind, response, expires) "
                        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (domain, token) DO UPDATE SET "
                        "kind = EXCLUDED.kind, response = EXCLUDED.response, "
                        "expires = EXCLUDED.expires",
                        (domain, token, kind, response, expires.timestamp()))
        self._transaction(work)

    def get_acme_challenge(self, domain: str, token: str, now: datetime) -> str | None:
        row = self._one("SELECT response FROM acme_challenges WHERE domain = %s AND "
                        "token = %s AND kind = 'http-01' AND expires > %s",
                        domain, token, now.timestamp())
        return str(row["response"]) if row else None

    def acme_challenges(self, kind: str, now: datetime) -> list[tuple[str, str]]:
        rows = self._all("SELECT domain, response FROM acme_challenges WHERE kind = %s "
                         "AND expires > %s", kind, now.timestamp())
        return [(str(r["domain"]), str(r["response"])) for r in rows]

    def delete_acme_challenge(self, domain: str, token: str) -> None:
        self._transaction(lambda cur: cur.execute(
            "DELETE FROM acme_challenges WHERE domain = %s AND token = %s", (domain, token)))

    def changes_since(self, version: int) -> tuple[int, list[str]]:
        """Domains whose binding changed after change number ``version``, and the newest number."""
        rows = self._all("SELECT seq, domain FROM binding_changes WHERE seq > %s ORDER BY seq",
                         version)
        if not rows:
            return version, []
        return int(rows[-1]["seq"]), sorted({r["domain"] for r in rows})

    # --- objects --------------------------------------------------------------------------
    # ``user_meta`` holds the same JSON text as in SQLite (kept TEXT, not JSONB, so it is
    # byte-identical): {"meta": [[name, value], ...], "headers": [[name, value], ...]}.

    @staticmethod
    def _object(row: DictRow) -> ObjectMeta:
        meta, headers, object_type = stored_object_headers(row["user_meta"])
        return ObjectMeta(row["bucket"], row["key"], row["size"], row["etag"],
                          row["content_type"], _utc(row["last_modified"]), row["blob"],
                          meta, headers, object_type, crc_from_text(row["crc64"]))

    # --- domain health (server/health) ---------------------------------------------------

    def health_rows(self) -> list[HealthRow]:
        rows = self._all("SELECT domain, bucket, checked_at, report FROM domain_health "
                         "ORDER BY domain")
        return [(r["domain"], r["bucket"], epoch_utc(r["checked_at"]), r["report"])
                for r in rows]

    def health_marks(self) -> HealthMarks:
        row = self._one("SELECT requested, started, finished FROM health_rounds WHERE id = 1")
        if row is None:
            return None, None, None
        return (opt_epoch_utc(row["requested"]), opt_epoch_utc(row["started"]),
                opt_epoch_utc(row["finished"]))

    def request_health_round(self, now: datetime) -> None:
        self._transaction(lambda cur: cur.execute(
            "UPDATE health_rounds SET requested = %s WHERE id = 1", (now.timestamp(),)))

    def claim_health_round(self, now: datetime, due_before: datetime,
                           stale_before: datetime) -> bool:
        def work(cur: Cursor) -> bool:
            cur.execute(health_claim_sql("%s"), (
                now.timestamp(), stale_before.timestamp(), due_before.timestamp()))
            return cur.rowcount == 1
        return self._transaction(work)

    def finish_health_round(self, rows: list[HealthRow], finished: datetime) -> None:
        def work(cur: Cursor) -> None:
            cur.execute("DELETE FROM domain_health")
            cur.executemany("INSERT INTO domain_health (domain, bucket, checked_at, report) "
                            "VALUES (%s, %s, %s, %s)",
                            [(d, b, at.timestamp(), report) for d, b, at, report in rows])
            cur.execute("UPDATE health_rounds SET finished = %s WHERE id = 1",
                        (finished.timestamp(),))
        self._transaction(work)

    def get_server_value(self, name: str) -> bytes | None:
        row = self._one("SELECT value FROM server_values WHERE name = %s", name)
        return bytes(row["value"]) if row else None

    def reseal(self, rewrite: Reseal) -> int:
        def work(cur: Cursor) -> int:
            others = cur.execute(  # a running server holds the old key in memory
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'ossutil-server' AND pid <> pg_backend_pid()").fetchone()
            if others is not None and others["n"]:
                raise StoreError(f"{others['n']} other ossutil-server sessions are connected to "
                                 "the database: stop every server process first")
            count = 0
            for kind, table, key, name, column in SEALED_COLUMNS:
                rows = cur.execute(f"SELECT {key} AS k, {name} AS n, {column} AS v FROM {table} "
                                   f"WHERE {column} IS NOT NULL FOR UPDATE").fetchall()
                for row in rows:
                    cur.execute(f"UPDATE {table} SET {column} = %s WHERE {key} = %s",
                                (rewrite(kind, row["n"] or "", bytes(row["v"])), row["k"]))
                    count += 1
            check = cur.execute("SELECT sealed FROM sealing_check WHERE id = 1 FOR UPDATE"
                                ).fetchone()
            if check is not None:
                cur.execute("UPDATE sealing_check SET sealed = %s WHERE id = 1",
                            (rewrite("check", "", bytes(check["sealed"])),))
                count += 1
            return count
        return self._transaction(work)

    def put_server_value_if_absent(self, name: str, value: bytes) -> bytes:
        def work(cur: Cursor) -> bytes:
            cur.execute("INSERT INTO server_values (name, value) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO NOTHING", (name, value))
            row = cur.execute("SELECT value FROM server_values WHERE name = %s",
                              (name,)).fetchone()
            assert row is not None  # inserted above, or already there
            return bytes(row["value"])
        return self._transaction(work)

    def put_object(self, meta: ObjectMeta, *, if_absent: bool = False) -> str | None:
        """Insert or replace; returns the blob name the new version replaced (to delete).

        Concurrent puts of one key serialise on that key's advisory lock: the last commit wins
        and each replaced blob name is returned to exactly one caller.
        """
        replaced = self._transaction(lambda cur: self._put_object(cur, meta, if_absent))
        self._object_changed()
        return replaced

    def _put_object(self, cur: Cursor, meta: ObjectMeta, if_absent: bool = False) -> str | None:
        self._lock(cur, f"object:{meta.bucket}/{meta.key}")
        row = cur.execute("SELECT blob FROM objects WHERE bucket = %s AND key = %s",
                          (meta.bucket, meta.key)).fetchone()
        if if_absent and row:
            raise ObjectExists(meta.key)
        try:
            # SQLite: INSERT OR REPLACE
            cur.execute(
                "INSERT INTO objects (bucket, key, size, etag, content_type, last_modified, "
                "blob, user_meta, crc64) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (bucket, key) DO UPDATE SET size = EXCLUDED.size, "
                "etag = EXCLUDED.etag, content_type = EXCLUDED.content_type, "
                "last_modified = EXCLUDED.last_modified, blob = EXCLUDED.blob, "
                "user_meta = EXCLUDED.user_meta, crc64 = EXCLUDED.crc64",
                (meta.bucket, meta.key, meta.size, meta.etag, meta.content_type,
                 meta.last_modified, meta.blob, object_json(meta),
                 crc_text(meta.crc64)))
        except errors.ForeignKeyViolation:  # the buckets foreign key
            raise BucketMissing(meta.bucket) from None
        return str(row["blob"]) if row else None

    def get_object(self, bucket: str, key: str) -> ObjectMeta | None:
        row = self._one("SELECT * FROM objects WHERE bucket = %s AND key = %s", bucket, key)
        return self._object(row) if row else None

    def delete_object(self, bucket: str, key: str) -> str | None:
        def work(cur: Cursor) -> str | None:
            self._lock(cur, f"object:{bucket}/{key}")
            row = cur.execute("DELETE FROM objects WHERE bucket = %s AND key = %s RETURNING blob",
                              (bucket, key)).fetchone()
            return str(row["blob"]) if row else None
        gone = self._transaction(work)
        if gone is not None:
            self._object_changed()
        return gone

    def list_objects(self, bucket: str, prefix: str, after: str,
                     limit: int) -> list[ObjectMeta]:
        """Keys > ``after`` starting with ``prefix``, in byte order, at most ``limit``.

        As in SQLite the prefix becomes a key range on the primary key; ``key`` is
        ``COLLATE "C"``, so comparisons and ORDER BY are bytewise (UTF-8: code point order).
        """
        sql = "SELECT * FROM objects WHERE bucket = %s AND key > %s"
        args: list[Any] = [bucket, after]
        within, bounds = key_range(prefix, "%s")
        sql += within
        args += bounds
        rows = self._all(sql + " ORDER BY key LIMIT %s", *args, limit)
        return [self._object(r) for r in rows]

    # --- multipart uploads ----------------------------------------------------------------
    # Writers of one upload (put_part, complete_upload, abort_upload) serialise on the
    # advisory lock ``upload:<id>``; complete_upload then takes the object's lock as put_object
    # does (always in that order, so no two transactions wait on each other in a cycle).

    @staticmethod
    def _upload(row: DictRow) -> MultipartUpload:
        meta, headers = stored_headers(row["user_meta"])
        return MultipartUpload(row["upload_id"], row["bucket"], row["key"],
                               _utc(row["initiated"]), row["content_type"], meta, headers)

    @staticmethod
    def _part(row: DictRow) -> PartRecord:
        return PartRecord(row["upload_id"], row["part_number"], row["size"], row["etag"],
                          _utc(row["last_modified"]), row["blob"], crc_from_text(row["crc64"]))

    def create_upload(self, upload: MultipartUpload) -> None:
        def work(cur: Cursor) -> None:
            try:
                cur.execute("INSERT INTO multipart_uploads (upload_id, bucket, key, initiated, "
                            "content_type, user_meta) VALUES (%s, %s, %s, %s, %s, %s)",
                            (upload.upload_id, upload.bucket, upload.key, upload.initiated,
                             upload.content_type,
                             headers_json(upload.user_meta, upload.headers)))
            except errors.ForeignKeyViolation:  # the buckets foreign key
                raise BucketMissing(upload.bucket) from None
        self._transaction(work)

    def get_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload | None:
        row = self._one("SELECT * FROM multipart_uploads WHERE upload_id = %s AND bucket = %s "
                        "AND key = %s", upload_id, bucket, key)
        return self._upload(row) if row else None

    def put_part(self, part: PartRecord) -> str | None:
        def work(cur: Cursor) -> str | None:
            self._lock(cur, f"upload:{part.upload_id}")
            if not cur.execute("SELECT 1 FROM multipart_uploads WHERE upload_id = %s",
                               (part.upload_id,)).fetchone():
                raise UploadMissing(part.upload_id)
            row = cur.execute("SELECT blob FROM multipart_parts WHERE upload_id = %s AND "
                              "part_number = %s", (part.upload_id, part.part_number)).fetchone()
            # SQLite: INSERT OR REPLACE
            cur.execute("INSERT INTO multipart_parts (upload_id, part_number, size, etag, "
                        "last_modified, blob, crc64) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (upload_id, part_number) DO UPDATE SET "
                        "size = EXCLUDED.size, etag = EXCLUDED.etag, "
                        "last_modified = EXCLUDED.last_modified, blob = EXCLUDED.blob, "
                        "crc64 = EXCLUDED.crc64",
                        (part.upload_id, part.part_number, part.size, part.etag,
                         part.last_modified, part.blob,
                         crc_text(part.crc64)))
            return str(row["blob"]) if row else None
        return self._transaction(work)

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[PartRecord]:
        rows = self._all("SELECT * FROM multipart_parts WHERE upload_id = %s AND "
                         "part_number > %s ORDER BY part_number LIMIT %s",
                         upload_id, after, limit)
        return [self._part(r) for r in rows]

    def _remove_upload(self, cur: Cursor, bucket: str, key: str,
                       upload_id: str) -> list[str] | None:
        self._lock(cur, f"upload:{upload_id}")
        if not cur.execute("SELECT 1 FROM multipart_uploads WHERE upload_id = %s AND "
                           "bucket = %s AND key = %s", (upload_id, bucket, key)).fetchone():
            return None
        blobs = [str(r["blob"]) for r in cur.execute(
            "SELECT blob FROM multipart_parts WHERE upload_id = %s ORDER BY part_number",
            (upload_id,)).fetchall()]
        cur.execute("DELETE FROM multipart_uploads WHERE upload_id = %s", (upload_id,))
        return blobs  # the parts went with it (ON DELETE CASCADE)

    def complete_upload(self, bucket: str, key: str, upload_id: str, meta: ObjectMeta, *,
                        if_absent: bool = False) -> tuple[str | None, list[str]]:
        def work(cur: Cursor) -> tuple[str | None, list[str]]:
            parts = self._remove_upload(cur, bucket, key, upload_id)
            if parts is None:
                raise UploadMissing(upload_id)
            return self._put_object(cur, meta, if_absent), parts
        outcome = self._transaction(work)
        self._object_changed()
        return outcome

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> list[str] | None:
        return self._transaction(lambda cur: self._remove_upload(cur, bucket, key, upload_id))

    def list_uploads(self, bucket: str, prefix: str, key_marker: str, upload_id_marker: str,
                     limit: int) -> list[MultipartUpload]:
        sql = ("SELECT * FROM multipart_uploads WHERE bucket = %s AND "
               "(key > %s OR (key = %s AND upload_id > %s))")
        args: list[Any] = [bucket, key_marker, key_marker, upload_id_marker]
        within, bounds = key_range(prefix, "%s")
        sql += within
        args += bounds
        rows = self._all(sql + " ORDER BY key, upload_id LIMIT %s", *args, limit)
        return [self._upload(r) for r in rows]


def _retryable(exc: psycopg.OperationalError) -> bool:
    """Errors after which PostgreSQL has rolled the whole transaction back."""
    return isinstance(exc, errors.SerializationFailure | errors.DeadlockDetected)
