"""The embedded store: one SQLite file in the data dir.

Every public method is one transaction (``with self._tx()``): a binding and its new certificate
are written together or not at all, and a crash mid-request leaves the previous state. The
one-domain-one-bucket rule is the ``bindings.domain`` primary key, so two racing binds cannot both
win. Secrets arrive sealed (AccessKey secrets by ``auth/sealing.py``, private keys by the CNAME
service) and are stored as given: this module holds no crypto.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

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
    NoSuchUser,
    ObjectExists,
    Reseal,
    StorageFull,
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    owner_id TEXT PRIMARY KEY, is_root INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES accounts(owner_id),
    policy TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY, secret_sealed BLOB NOT NULL,
    owner_id TEXT NOT NULL REFERENCES accounts(owner_id),
    user_name TEXT REFERENCES users(name) ON DELETE CASCADE, enabled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, owner_id TEXT NOT NULL, region TEXT NOT NULL, acl TEXT NOT NULL,
    storage_class TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cname_tokens (
    bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE, domain TEXT NOT NULL,
    token TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    PRIMARY KEY (bucket, domain));
CREATE TABLE IF NOT EXISTS certificates (
    cert_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, type TEXT NOT NULL,
    chain_pem TEXT NOT NULL, key_sealed BLOB NOT NULL, fingerprint TEXT NOT NULL,
    not_before TEXT NOT NULL, not_after TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (
    domain TEXT PRIMARY KEY, bucket TEXT NOT NULL REFERENCES buckets(name),
    seq INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    last_modified TEXT NOT NULL, cert_id TEXT REFERENCES certificates(cert_id),
    cert_attached_at TEXT);
CREATE INDEX IF NOT EXISTS bindings_by_bucket ON bindings (bucket, seq);
CREATE INDEX IF NOT EXISTS bindings_by_seq ON bindings (seq);
CREATE TABLE IF NOT EXISTS binding_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL REFERENCES buckets(name), key TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, content_type TEXT NOT NULL, last_modified TEXT NOT NULL,
    blob TEXT NOT NULL, user_meta TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (bucket, key));
CREATE TABLE IF NOT EXISTS multipart_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL, initiated TEXT NOT NULL, content_type TEXT NOT NULL,
    user_meta TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS multipart_uploads_by_key ON multipart_uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS multipart_parts (
    upload_id TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (upload_id, part_number));
CREATE TABLE IF NOT EXISTS server_values (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS acme_certificates (
    domain TEXT PRIMARY KEY, cert_id TEXT, owner_id TEXT, chain_pem TEXT, key_sealed BLOB,
    fingerprint TEXT, not_before REAL, not_after REAL, issued_at REAL, last_attempt REAL,
    last_error TEXT, next_attempt REAL, failures INTEGER NOT NULL DEFAULT 0,
    lease_holder TEXT, lease_until REAL);
CREATE TABLE IF NOT EXISTS acme_challenges (
    domain TEXT NOT NULL, token TEXT NOT NULL, kind TEXT NOT NULL, response TEXT NOT NULL,
    expires REAL NOT NULL, PRIMARY KEY (domain, token));
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob);
CREATE INDEX IF NOT EXISTS multipart_parts_by_blob ON multipart_parts (blob);
CREATE TABLE IF NOT EXISTS domain_health (
    domain TEXT PRIMARY KEY, bucket TEXT NOT NULL, checked_at REAL NOT NULL,
    report TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health_rounds (
    id INTEGER PRIMARY KEY CHECK (id = 1), requested REAL, started REAL, finished REAL);
INSERT OR IGNORE INTO health_rounds (id) VALUES (1);
INSERT OR IGNORE INTO meta (key, value) VALUES ('auth_version', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('bucket_version', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('object_version', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
"""


# Columns added after the first release: (table, column, type). Existing databases gain them
# at start-up (ALTER TABLE ADD COLUMN appends, so new and migrated tables keep one column
# order); rows written before read as NULL. crc64: x-oss-hash-crc64ecma as unsigned decimal
# text (SQLite's INTEGER is signed 64-bit).
ADDED_COLUMNS = (("objects", "crc64", "TEXT"), ("multipart_parts", "crc64", "TEXT"),
                 # set by domain health: the domain no longer points here (no ACME orders)
                 ("bindings", "dangling", "INTEGER NOT NULL DEFAULT 0"),
                 # GetBucketWebsite's, -Cors's, -Referer's documents (NULL: not configured)
                 ("buckets", "website", "TEXT"), ("buckets", "cors", "TEXT"),
                 ("buckets", "referer", "TEXT"))


def _add_columns(db: sqlite3.Connection) -> None:
    for table, column, kind in ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")  # names from above


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _req_dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _acme_certificate(row: sqlite3.Row, prefix: str = "") -> Certificate | None:
    """The automatic certificate of an ``acme_certificates`` row (None before the first)."""
    if not row[prefix + "cert_id"]:
        return None
    return Certificate(row[prefix + "cert_id"], row[prefix + "owner_id"] or "",
                       CertificateType.ACME, row[prefix + "chain_pem"],
                       bytes(row[prefix + "key_sealed"]), row[prefix + "fingerprint"],
                       epoch_utc(row[prefix + "not_before"]), epoch_utc(row[prefix + "not_after"]),
                       epoch_utc(row[prefix + "issued_at"]))


def _acme_state(row: sqlite3.Row) -> AcmeState:
    return AcmeState(row["domain"], _acme_certificate(row), opt_epoch_utc(row["issued_at"]),
                     opt_epoch_utc(row["last_attempt"]), row["last_error"],
                     opt_epoch_utc(row["next_attempt"]), int(row["failures"]))


class SqliteStore:
    """``Store`` on SQLite (WAL). Safe to use from one thread at a time."""

    def __init__(self, path: Path) -> None:
        # private to the server's user: it holds tokens and sealed secrets. SQLite gives its
        # -wal and -shm files the database file's mode, so creating this one 0600 covers them.
        if str(path) != ":memory:":
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
            os.chmod(path, 0o600)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=10.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        # One write transaction: several server processes may open one file at once
        # (``--workers``), and two of them must not both find a column missing and both add it.
        with self._tx() as db:
            for statement in SCHEMA.split(";"):  # no statement in SCHEMA holds a ';'
                if statement.strip():
                    db.execute(statement)
            _add_columns(db)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction (deferred: it takes no write lock, so the 0.5 s polls of every
        process never queue behind or in front of another process's writes)."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a full disk is ``StorageFull`` (rolled back, nothing kept)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (FULL)
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_FULL:
                raise
            if self._db.in_transaction:  # a failed COMMIT leaves the transaction open
                self._db.execute("ROLLBACK")
            raise StorageFull(f"SQLite: {exc}") from None

    def referenced_blobs(self, names: list[str]) -> set[str]:
        """Which of ``names`` an object or part row names (the start-up sweep's question)."""
        marks = ",".join("?" * len(names))
        rows = self._db.execute(
            f"SELECT blob FROM objects WHERE blob IN ({marks}) "  # only ? marks
            f"UNION SELECT blob FROM multipart_parts WHERE blob IN ({marks})",
            (*names, *names)).fetchall()
        return {str(row[0]) for row in rows}

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
        return row

    # --- accounts, users, keys ------------------------------------------------------------

    def _bump_auth(self, db: sqlite3.Connection) -> None:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='auth_version'")

    @staticmethod
    def _bump_buckets(db: sqlite3.Connection) -> None:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                   "WHERE key='bucket_version'")

    @staticmethod
    def _bump_objects(db: sqlite3.Connection) -> None:
        # in the write transaction of the object row it counts: a poller that sees the new
        # number sees the row too
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                   "WHERE key='object_version'")

    def versions(self) -> Versions:
        """Change counters other processes' caches poll: auth, buckets, bindings, objects.

        Each is one index probe, whatever the number of rows: the meta rows by key, the newest
        binding change as the rowid maximum of ``binding_changes`` (SQLite reads the last
        rowid of the table's b-tree).
        """
        with self._read() as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM binding_changes").fetchone()[0]
        return Versions(auth=int(meta.get("auth_version", 0)),
                        buckets=int(meta.get("bucket_version", 0)), bindings=int(seq),
                        objects=int(meta.get("object_version", 0)))

    @staticmethod
    def _insert_key(db: sqlite3.Connection, key: SealedAccessKey) -> None:
        db.execute("INSERT INTO access_keys (access_key_id, secret_sealed, owner_id, user_name, "
                   "enabled) VALUES (?, ?, ?, ?, ?)",
                   (key.access_key_id, key.secret_sealed, key.owner_id, key.user,
                    int(key.enabled)))

    def bootstrap_root(self, account: Account, key: SealedAccessKey) -> bool:
        """Create the root account and its key unless an account exists; True if created."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM accounts WHERE is_root = 1").fetchone():
                return False
            db.execute("INSERT INTO accounts (owner_id, is_root, created_at) VALUES (?, 1, ?)",
                       (account.owner_id, _ts(account.created_at)))
            self._insert_key(db, key)
            self._bump_auth(db)
            return True

    def root_account(self) -> Account | None:
        row = self._one("SELECT * FROM accounts WHERE is_root = 1")
        return Account(row["owner_id"], _req_dt(row["created_at"])) if row else None

    def create_user(self, user: User, key: SealedAccessKey) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (user.name,)).fetchone():
                raise UserExists(user.name)
            db.execute("INSERT INTO users (name, owner_id, policy, created_at) VALUES (?, ?, ?, ?)",
                       (user.name, user.owner_id, user.policy, _ts(user.created_at)))
            self._insert_key(db, key)
            self._bump_auth(db)

    def set_user_policy(self, name: str, policy: str | None) -> None:
        with self._tx() as db:
            if db.execute("UPDATE users SET policy = ? WHERE name = ?",
                          (policy, name)).rowcount == 0:
                raise NoSuchUser(name)
            self._bump_auth(db)

    def delete_user(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM access_keys WHERE user_name = ?", (name,))
            if db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise NoSuchUser(name)
            self._bump_auth(db)

    def list_users(self) -> list[User]:
        rows = self._db.execute("SELECT * FROM users ORDER BY name").fetchall()
        return [User(r["name"], r["owner_id"], r["policy"], _req_dt(r["created_at"]))
                for r in rows]

    def user_access_key_ids(self, name: str) -> list[str]:
        rows = self._db.execute("SELECT access_key_id FROM access_keys WHERE user_name = ?",
                                (name,)).fetchall()
        return [r[0] for r in rows]

    def auth_version(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key = 'auth_version'")
        return int(row[0]) if row else 0

    def load_auth(self) -> tuple[int, list[SealedAccessKey], dict[str, str | None]]:
        """Everything authentication needs, read in one transaction."""
        with self._tx() as db:
            version = int(db.execute(
                "SELECT value FROM meta WHERE key = 'auth_version'").fetchone()[0])
            keys = []
            for r in db.execute("SELECT * FROM access_keys").fetchall():
                keys.append(SealedAccessKey(r["access_key_id"], bytes(r["secret_sealed"]),
                                            r["owner_id"], r["user_name"], bool(r["enabled"])))
            policies = {r["name"]: r["policy"]
                        for r in db.execute("SELECT name, policy FROM users").fetchall()}
        return version, keys, policies

    # --- buckets --------------------------------------------------------------------------

    @staticmethod
    def _bucket(row: sqlite3.Row) -> Bucket:
        return bucket_row(row, _req_dt(row["created_at"]))

    def create_bucket(self, bucket: Bucket) -> Bucket:
        """Insert unless the name exists; return the stored bucket either way."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM buckets WHERE name = ?", (bucket.name,)).fetchone()
            if row:
                return self._bucket(row)
            db.execute("INSERT INTO buckets (name, owner_id, region, acl, storage_class, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (bucket.name, bucket.owner_id, bucket.region, bucket.acl,
                        bucket.storage_class, _ts(bucket.created_at)))
            self._bump_buckets(db)
            return bucket

    def get_bucket(self, name: str) -> Bucket | None:
        row = self._one("SELECT * FROM buckets WHERE name = ?", name)
        return self._bucket(row) if row else None

    def list_buckets(self, owner_id: str) -> list[Bucket]:
        rows = self._db.execute("SELECT * FROM buckets WHERE owner_id = ? ORDER BY name",
                                (owner_id,)).fetchall()
        return [self._bucket(r) for r in rows]

    def set_bucket_acl(self, name: str, acl: BucketAcl) -> None:
        with self._tx() as db:
            db.execute("UPDATE buckets SET acl = ? WHERE name = ?", (acl, name))
            self._bump_buckets(db)

    def set_bucket_config(self, name: str, kind: BucketConfig,
                          document: str | None) -> Bucket | None:
        column = BucketConfig(kind).value  # one of three fixed names
        with self._tx() as db:
            db.execute(f"UPDATE buckets SET {column} = ? WHERE name = ?", (document, name))
            row = db.execute("SELECT * FROM buckets WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            self._bump_buckets(db)
            return self._bucket(row)

    def delete_bucket(self, name: str) -> BucketContent | None:
        """Delete an empty bucket; when it is not empty, say what it still holds."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                return BucketContent.OBJECTS
            if db.execute("SELECT 1 FROM bindings WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                return BucketContent.BINDINGS
            if db.execute("SELECT 1 FROM multipart_uploads WHERE bucket = ? LIMIT 1",
                          (name,)).fetchone():
                return BucketContent.UPLOADS
            db.execute("DELETE FROM cname_tokens WHERE bucket = ?", (name,))
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
            self._bump_buckets(db)
            return None

    # --- tokens ---------------------------------------------------------------------------

    @staticmethod
    def _token(row: sqlite3.Row) -> CnameTokenRecord:
        return CnameTokenRecord(row["bucket"], row["domain"], row["token"],
                                _req_dt(row["created_at"]), _req_dt(row["expires_at"]))

    def issue_token(self, candidate: CnameTokenRecord, now: datetime,
                    limit: int) -> CnameTokenRecord | None:
        """Return the valid token for (bucket, domain), else store ``candidate``.

        None when the bucket already holds ``limit`` valid tokens.
        """
        with self._tx() as db:
            row = db.execute("SELECT * FROM cname_tokens WHERE bucket = ? AND domain = ?",
                             (candidate.bucket, candidate.domain)).fetchone()
            if row and _req_dt(row["expires_at"]) > now:
                return self._token(row)
            db.execute("DELETE FROM cname_tokens WHERE bucket = ? AND expires_at <= ?",
                       (candidate.bucket, _ts(now)))
            count = db.execute("SELECT COUNT(*) FROM cname_tokens WHERE bucket = ?",
                               (candidate.bucket,)).fetchone()[0]
            if count >= limit:
                return None
            db.execute("INSERT OR REPLACE INTO cname_tokens (bucket, domain, token, created_at, "
                       "expires_at) VALUES (?, ?, ?, ?, ?)",
                       (candidate.bucket, candidate.domain, candidate.token,
                        _ts(candidate.created_at), _ts(candidate.expires_at)))
            return candidate

    def get_token(self, bucket: str, domain: str) -> CnameTokenRecord | None:
        row = self._one("SELECT * FROM cname_tokens WHERE bucket = ? AND domain = ?",
                        bucket, domain)
        return self._token(row) if row else None

    # --- certificates and bindings --------------------------------------------------------

    @staticmethod
    def _certificate(row: sqlite3.Row, prefix: str = "") -> Certificate:
        return Certificate(
            row[prefix + "cert_id"], row[prefix + "owner_id"],
            CertificateType(row[prefix + "type"]),
            row[prefix + "chain_pem"], bytes(row[prefix + "key_sealed"]),
            row[prefix + "fingerprint"], _req_dt(row[prefix + "not_before"]),
            _req_dt(row[prefix + "not_after"]), _req_dt(row[prefix + "created_at"]))

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

    def _binding(self, row: sqlite3.Row) -> Binding:
        certificate = self._certificate(row, "c_") if row["c_cert_id"] else None
        return Binding(row["domain"], row["bucket"], BindingStatus(row["status"]),
                       _req_dt(row["created_at"]),
                       _req_dt(row["last_modified"]), row["cert_id"],
                       _dt(row["cert_attached_at"]), certificate,
                       _acme_certificate(row, "a_"), bool(row["dangling"]))

    def get_binding(self, domain: str) -> Binding | None:
        row = self._one(self._BINDING_SELECT + " WHERE b.domain = ?", domain)
        return self._binding(row) if row else None

    def list_bindings(self, bucket: str) -> list[Binding]:
        rows = self._db.execute(self._BINDING_SELECT + " WHERE b.bucket = ? ORDER BY b.seq",
                                (bucket,)).fetchall()
        return [self._binding(r) for r in rows]

    def all_bindings(self) -> list[Binding]:
        rows = self._db.execute(self._BINDING_SELECT + " ORDER BY b.seq").fetchall()
        return [self._binding(r) for r in rows]

    def binding_routes(self, load: Callable[[Iterable[Route]], None]) -> int:
        """Hand every enabled binding to ``load`` as the gateway's table keeps it, and return
        the change number of that same snapshot. The rows stream from the cursor as plain
        tuples (no ``Binding``, no timestamps parsed, no list of them all): at 100,000
        bindings this is the start-up's one big read, and only what the table keeps stays."""
        with self._read() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM binding_changes").fetchone()[0]
            cursor = db.cursor()
            cursor.row_factory = None  # tuples, not sqlite3.Row
            load(cursor.execute(routes_sql("?"), (BindingStatus.ENABLED,)))
        return int(seq)

    def count_bindings(self, bucket: str) -> int:
        row = self._one("SELECT COUNT(*) FROM bindings WHERE bucket = ?", bucket)
        return int(row[0]) if row else 0

    def get_certificate(self, cert_id: str) -> Certificate | None:
        row = self._one("SELECT * FROM certificates WHERE cert_id = ?", cert_id)
        return self._certificate(row) if row else None

    def apply_binding(self, change: BindingChange) -> Binding:
        """Write a PutCname outcome atomically; DomainTaken if another bucket holds the domain."""
        now = _ts(change.now)
        with self._tx() as db:
            cert = change.new_certificate
            if cert is not None:
                db.execute(
                    "INSERT OR IGNORE INTO certificates (cert_id, owner_id, type, chain_pem, "
                    "key_sealed, fingerprint, not_before, not_after, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cert.cert_id, cert.owner_id, cert.type, cert.chain_pem, cert.key_sealed,
                     cert.fingerprint, _ts(cert.not_before), _ts(cert.not_after),
                     _ts(cert.created_at)))
            if change.is_new:
                # bindings_by_seq: the maximum is the index's last entry, not a scan
                seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM bindings").fetchone()[0]
                try:
                    db.execute("INSERT INTO bindings (domain, bucket, seq, status, created_at, "
                               "last_modified, cert_id, cert_attached_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                               (change.domain, change.bucket, seq, BindingStatus.ENABLED, now, now))
                except sqlite3.IntegrityError:
                    row = db.execute("SELECT bucket FROM bindings WHERE domain = ?",
                                     (change.domain,)).fetchone()
                    raise DomainTaken(change.domain, row[0] if row else "") from None
            else:
                row = db.execute("SELECT bucket FROM bindings WHERE domain = ?",
                                 (change.domain,)).fetchone()
                if row is None or row[0] != change.bucket:
                    raise DomainTaken(change.domain, row[0] if row else "")
            if change.cert_action == CertAction.ATTACH:
                db.execute("UPDATE bindings SET cert_id = ?, cert_attached_at = ?, "
                           "last_modified = ? WHERE domain = ?",
                           (change.cert_id, now, now, change.domain))
            elif change.cert_action == CertAction.DETACH:
                db.execute("UPDATE bindings SET cert_id = NULL, cert_attached_at = NULL, "
                           "last_modified = ? WHERE domain = ?", (now, change.domain))
            if change.is_new or change.cert_action != CertAction.KEEP:
                db.execute("INSERT INTO binding_changes (domain) VALUES (?)", (change.domain,))
            row = db.execute(self._BINDING_SELECT + " WHERE b.domain = ?",
                             (change.domain,)).fetchone()
            return self._binding(row)

    def delete_binding(self, bucket: str, domain: str) -> bool:
        with self._tx() as db:
            gone = db.execute("DELETE FROM bindings WHERE bucket = ? AND domain = ?",
                              (bucket, domain)).rowcount > 0
            if gone:
                db.execute("INSERT INTO binding_changes (domain) VALUES (?)", (domain,))
                # its automatic certificate and pending challenges go with it
                db.execute("DELETE FROM acme_certificates WHERE domain = ?", (domain,))
                db.execute("DELETE FROM acme_challenges WHERE domain = ?", (domain,))
            return gone

    def set_binding_health(self, domain: str, dangling: bool) -> bool:
        with self._tx() as db:
            return db.execute("UPDATE bindings SET dangling = ? WHERE domain = ?",
                              (int(dangling), domain)).rowcount > 0

    # --- automatic (ACME) certificates ----------------------------------------------------
    # Times are epoch seconds (REAL), as in PostgreSQL's acme tables: compared, never shown.

    def acme_states(self, domains: list[str] | None = None) -> list[AcmeState]:
        sql = "SELECT * FROM acme_certificates"
        args: tuple[str, ...] = ()
        if domains is not None:
            sql += f" WHERE domain IN ({','.join('?' * len(domains))})"  # only ? marks
            args = tuple(domains)
        rows = self._db.execute(sql + " ORDER BY domain", args).fetchall()
        return [_acme_state(row) for row in rows]

    def acme_due(self, now: datetime, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT b.domain FROM bindings b LEFT JOIN acme_certificates a "
            "ON a.domain = b.domain WHERE b.status = ? AND b.dangling = 0 AND b.cert_id IS NULL "
            "AND (a.next_attempt IS NULL OR a.next_attempt <= ?) "
            "AND (a.lease_until IS NULL OR a.lease_until <= ?) ORDER BY b.seq LIMIT ?",
            (BindingStatus.ENABLED, now.timestamp(), now.timestamp(), limit)).fetchall()
        return [str(row[0]) for row in rows]

    def take_acme_lease(self, domain: str, holder: str, now: datetime,
                        until: datetime) -> bool:
        with self._tx() as db:  # BEGIN IMMEDIATE: racing processes take turns
            if not db.execute("SELECT 1 FROM bindings WHERE domain = ? AND status = ? AND "
                              "dangling = 0 AND cert_id IS NULL",
                              (domain, BindingStatus.ENABLED)).fetchone():
                return False
            db.execute("INSERT OR IGNORE INTO acme_certificates (domain) VALUES (?)", (domain,))
            return db.execute(
                "UPDATE acme_certificates SET lease_holder = ?, lease_until = ? "
                "WHERE domain = ? AND (next_attempt IS NULL OR next_attempt <= ?) "
                "AND (lease_until IS NULL OR lease_until <= ? OR lease_holder = ?)",
                (holder, until.timestamp(), domain, now.timestamp(), now.timestamp(),
                 holder)).rowcount > 0

    def put_acme_certificate(self, domain: str, holder: str, certificate: Certificate,
                             next_attempt: datetime) -> bool:
        with self._tx() as db:
            if not db.execute("SELECT 1 FROM bindings WHERE domain = ?", (domain,)).fetchone():
                return False
            stored = db.execute(
                "UPDATE acme_certificates SET cert_id = ?, owner_id = ?, chain_pem = ?, "
                "key_sealed = ?, fingerprint = ?, not_before = ?, not_after = ?, issued_at = ?, "
                "last_attempt = ?, last_error = NULL, next_attempt = ?, failures = 0, "
                "lease_holder = NULL, lease_until = NULL WHERE domain = ? AND lease_holder = ?",
                (certificate.cert_id, certificate.owner_id, certificate.chain_pem,
                 certificate.key_sealed, certificate.fingerprint,
                 certificate.not_before.timestamp(), certificate.not_after.timestamp(),
                 certificate.created_at.timestamp(), certificate.created_at.timestamp(),
                 next_attempt.timestamp(), domain, holder)).rowcount > 0
            if stored:
                db.execute("INSERT INTO binding_changes (domain) VALUES (?)", (domain,))
            return stored

    def record_acme_failure(self, domain: str, holder: str, attempted: datetime, error: str,
                            next_attempt: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE acme_certificates SET last_attempt = ?, last_error = ?, "
                       "failures = failures + 1, next_attempt = ?, lease_holder = NULL, "
                       "lease_until = NULL WHERE domain = ? AND lease_holder = ?",
                       (attempted.timestamp(), error, next_attempt.timestamp(), domain, holder))

    def schedule_acme(self, domain: str, next_attempt: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE acme_certificates SET next_attempt = ? WHERE domain = ?",
                       (next_attempt.timestamp(), domain))

    def put_acme_challenge(self, domain: str, token: str, kind: str, response: str,
                           expires: datetime) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM acme_challenges WHERE expires <= ?", (expires.timestamp()
                                                                          - 86400,))
            db.execute("INSERT OR REPLACE INTO acme_challenges (domain, token, kind, response, "
                       "expires) VALUES (?, ?, ?, ?, ?)",
                       (domain, token, kind, response, expires.timestamp()))

    def get_acme_challenge(self, domain: str, token: str, now: datetime) -> str | None:
        row = self._one("SELECT response FROM acme_challenges WHERE domain = ? AND token = ? "
                        "AND kind = 'http-01' AND expires > ?", domain, token, now.timestamp())
        return str(row[0]) if row else None

    def acme_challenges(self, kind: str, now: datetime) -> list[tuple[str, str]]:
        rows = self._db.execute("SELECT domain, response FROM acme_challenges WHERE kind = ? "
                                "AND expires > ?", (kind, now.timestamp())).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def delete_acme_challenge(self, domain: str, token: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM acme_challenges WHERE domain = ? AND token = ?",
                       (domain, token))

    def changes_since(self, version: int) -> tuple[int, list[str]]:
        """Domains whose binding changed after change number ``version``, and the newest number."""
        rows = self._db.execute("SELECT seq, domain FROM binding_changes WHERE seq > ? "
                                "ORDER BY seq", (version,)).fetchall()
        if not rows:
            return version, []
        return int(rows[-1][0]), sorted({r[1] for r in rows})

    # --- objects --------------------------------------------------------------------------
    # ``user_meta`` holds JSON: {"meta": [[name, value], ...], "headers": [[name, value], ...]}
    # (x-oss-meta-* and the standard content headers, in upload order).

    @staticmethod
    def _object(row: sqlite3.Row) -> ObjectMeta:
        meta, headers, object_type = stored_object_headers(row["user_meta"])
        return ObjectMeta(row["bucket"], row["key"], row["size"], row["etag"],
                          row["content_type"], _req_dt(row["last_modified"]), row["blob"],
                          meta, headers, object_type, crc_from_text(row["crc64"]))

    # --- domain health (server/health) ---------------------------------------------------

    def health_rows(self) -> list[HealthRow]:
        rows = self._db.execute("SELECT domain, bucket, checked_at, report FROM domain_health "
                                "ORDER BY domain").fetchall()
        return [(r[0], r[1], epoch_utc(r[2]), r[3]) for r in rows]

    def health_marks(self) -> HealthMarks:
        row = self._one("SELECT requested, started, finished FROM health_rounds WHERE id = 1")
        if row is None:
            return None, None, None
        return opt_epoch_utc(row[0]), opt_epoch_utc(row[1]), opt_epoch_utc(row[2])

    def request_health_round(self, now: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE health_rounds SET requested = ? WHERE id = 1", (now.timestamp(),))

    def claim_health_round(self, now: datetime, due_before: datetime,
                           stale_before: datetime) -> bool:
        with self._tx() as db:
            cursor = db.execute(health_claim_sql("?"), (
                now.timestamp(), stale_before.timestamp(), due_before.timestamp()))
            return cursor.rowcount == 1

    def finish_health_round(self, rows: list[HealthRow], finished: datetime) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM domain_health")
            db.executemany("INSERT INTO domain_health (domain, bucket, checked_at, report) "
                           "VALUES (?, ?, ?, ?)",
                           [(d, b, at.timestamp(), report) for d, b, at, report in rows])
            db.execute("UPDATE health_rounds SET finished = ? WHERE id = 1",
                       (finished.timestamp(),))

    def get_server_value(self, name: str) -> bytes | None:
        row = self._one("SELECT value FROM server_values WHERE name = ?", name)
        return bytes(row[0]) if row else None

    def reseal(self, rewrite: Reseal) -> int:
        count = 0
        with self._tx() as db:
            for kind, table, key, name, column in SEALED_COLUMNS:
                rows = db.execute(f"SELECT {key} AS k, {name} AS n, {column} AS v FROM {table} "
                                  f"WHERE {column} IS NOT NULL").fetchall()
                for row in rows:
                    db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                               (rewrite(kind, row["n"] or "", bytes(row["v"])), row["k"]))
                    count += 1
        return count

    def put_server_value_if_absent(self, name: str, value: bytes) -> bytes:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO server_values (name, value) VALUES (?, ?)",
                       (name, value))
            row = db.execute("SELECT value FROM server_values WHERE name = ?",
                             (name,)).fetchone()
        assert row is not None  # inserted above, or already there
        return bytes(row[0])

    def put_object(self, meta: ObjectMeta, *, if_absent: bool = False) -> str | None:
        """Insert or replace; returns the blob name the new version replaced (to delete).

        Concurrent puts of one key serialise on the write lock (BEGIN IMMEDIATE): the last
        commit wins and each replaced blob name is returned to exactly one caller.
        """
        with self._tx() as db:
            return self._put_object(db, meta, if_absent)

    @staticmethod
    def _put_object(db: sqlite3.Connection, meta: ObjectMeta,
                    if_absent: bool = False) -> str | None:
        row = db.execute("SELECT blob FROM objects WHERE bucket = ? AND key = ?",
                         (meta.bucket, meta.key)).fetchone()
        if if_absent and row:
            raise ObjectExists(meta.key)
        try:
            db.execute("INSERT OR REPLACE INTO objects (bucket, key, size, etag, content_type, "
                       "last_modified, blob, user_meta, crc64) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (meta.bucket, meta.key, meta.size, meta.etag, meta.content_type,
                        _ts(meta.last_modified), meta.blob, object_json(meta),
                        crc_text(meta.crc64)))
        except sqlite3.IntegrityError:  # the buckets foreign key
            raise BucketMissing(meta.bucket) from None
        SqliteStore._bump_objects(db)
        return str(row[0]) if row else None

    def get_object(self, bucket: str, key: str) -> ObjectMeta | None:
        row = self._one("SELECT * FROM objects WHERE bucket = ? AND key = ?", bucket, key)
        return self._object(row) if row else None

    def delete_object(self, bucket: str, key: str) -> str | None:
        with self._tx() as db:
            row = db.execute("SELECT blob FROM objects WHERE bucket = ? AND key = ?",
                             (bucket, key)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            self._bump_objects(db)
            return str(row[0])

    def list_objects(self, bucket: str, prefix: str, after: str,
                     limit: int) -> list[ObjectMeta]:
        """Keys > ``after`` starting with ``prefix``, in byte order, at most ``limit``.

        The prefix becomes a key range (``prefix <= key < successor(prefix)``) so the primary
        key index bounds the scan on both sides; SQLite compares TEXT bytewise (UTF-8), which
        orders like code points.
        """
        sql = "SELECT * FROM objects WHERE bucket = ? AND key > ?"
        args: list[Any] = [bucket, after]
        within, bounds = key_range(prefix, "?")
        sql += within
        args += bounds
        rows = self._db.execute(sql + " ORDER BY key LIMIT ?", (*args, limit)).fetchall()
        return [self._object(r) for r in rows]

    # --- multipart uploads ----------------------------------------------------------------
    # ``multipart_uploads.user_meta`` holds the same JSON as ``objects.user_meta``.

    @staticmethod
    def _upload(row: sqlite3.Row) -> MultipartUpload:
        meta, headers = stored_headers(row["user_meta"])
        return MultipartUpload(row["upload_id"], row["bucket"], row["key"],
                               _req_dt(row["initiated"]), row["content_type"], meta, headers)

    @staticmethod
    def _part(row: sqlite3.Row) -> PartRecord:
        return PartRecord(row["upload_id"], row["part_number"], row["size"], row["etag"],
                          _req_dt(row["last_modified"]), row["blob"], crc_from_text(row["crc64"]))

    def create_upload(self, upload: MultipartUpload) -> None:
        with self._tx() as db:
            try:
                db.execute("INSERT INTO multipart_uploads (upload_id, bucket, key, initiated, "
                           "content_type, user_meta) VALUES (?, ?, ?, ?, ?, ?)",
                           (upload.upload_id, upload.bucket, upload.key,
                            _ts(upload.initiated), upload.content_type,
                            headers_json(upload.user_meta, upload.headers)))
            except sqlite3.IntegrityError:  # the buckets foreign key
                raise BucketMissing(upload.bucket) from None

    def get_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload | None:
        row = self._one("SELECT * FROM multipart_uploads WHERE upload_id = ? AND bucket = ? "
                        "AND key = ?", upload_id, bucket, key)
        return self._upload(row) if row else None

    def put_part(self, part: PartRecord) -> str | None:
        with self._tx() as db:
            if not db.execute("SELECT 1 FROM multipart_uploads WHERE upload_id = ?",
                              (part.upload_id,)).fetchone():
                raise UploadMissing(part.upload_id)
            row = db.execute("SELECT blob FROM multipart_parts WHERE upload_id = ? AND "
                             "part_number = ?", (part.upload_id, part.part_number)).fetchone()
            db.execute("INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, size, "
                       "etag, last_modified, blob, crc64) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (part.upload_id, part.part_number, part.size, part.etag,
                        _ts(part.last_modified), part.blob, crc_text(part.crc64)))
            return str(row[0]) if row else None

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[PartRecord]:
        rows = self._db.execute("SELECT * FROM multipart_parts WHERE upload_id = ? AND "
                                "part_number > ? ORDER BY part_number LIMIT ?",
                                (upload_id, after, limit)).fetchall()
        return [self._part(r) for r in rows]

    @staticmethod
    def _remove_upload(db: sqlite3.Connection, bucket: str, key: str,
                       upload_id: str) -> list[str] | None:
        if not db.execute("SELECT 1 FROM multipart_uploads WHERE upload_id = ? AND bucket = ? "
                          "AND key = ?", (upload_id, bucket, key)).fetchone():
            return None
        blobs = [str(r[0]) for r in db.execute(
            "SELECT blob FROM multipart_parts WHERE upload_id = ? ORDER BY part_number",
            (upload_id,)).fetchall()]
        db.execute("DELETE FROM multipart_uploads WHERE upload_id = ?", (upload_id,))
        return blobs  # the parts went with it (ON DELETE CASCADE)

    def complete_upload(self, bucket: str, key: str, upload_id: str, meta: ObjectMeta, *,
                        if_absent: bool = False) -> tuple[str | None, list[str]]:
        with self._tx() as db:
            parts = self._remove_upload(db, bucket, key, upload_id)
            if parts is None:
                raise UploadMissing(upload_id)
            return self._put_object(db, meta, if_absent), parts

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> list[str] | None:
        with self._tx() as db:
            return self._remove_upload(db, bucket, key, upload_id)

    def list_uploads(self, bucket: str, prefix: str, key_marker: str, upload_id_marker: str,
                     limit: int) -> list[MultipartUpload]:
        sql = ("SELECT * FROM multipart_uploads WHERE bucket = ? AND "
               "(key > ? OR (key = ? AND upload_id > ?))")
        args: list[Any] = [bucket, key_marker, key_marker, upload_id_marker]
        within, bounds = key_range(prefix, "?")
        sql += within
        args += bounds
        rows = self._db.execute(sql + " ORDER BY key, upload_id LIMIT ?",
                                (*args, limit)).fetchall()
        return [self._upload(r) for r in rows]

