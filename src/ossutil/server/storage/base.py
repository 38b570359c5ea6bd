"""The store protocol: everything persistent, each method one transaction.

The domain (``server/cname``, ``server/buckets``) talks to a ``Store`` and never sees SQL. Store
methods are synchronous and may block on disk; the server calls them through ``StoreRunner``,
which runs them on the store's own worker thread so the event loop never waits on the database.

Secrets reach a store sealed (``SealedAccessKey``, ``Certificate.key_sealed``) and leave it
sealed: sealing and opening is the auth side's (``auth/sealing.py``) and the CNAME service's, so
storage holds no crypto.

Outages reach clients as OSS errors, mapped once here in ``StoreRunner`` (not per handler):
``StoreUnavailable`` (the database cannot be reached, or a call outlived ``STORE_WAIT_SECONDS``)
becomes 503 ServiceUnavailable, ``StorageFull`` (the disk or quota is full) 507
InsufficientStorage. A request never waits on the store longer than ``STORE_WAIT_SECONDS``: a job
still queued then is cancelled; one already running is interrupted (``Store.interrupt``, when the
store has it: PostgreSQL's connection is shut down under it) and reported once it returns.

    StoreError
     ├── StoreUnavailable     the database cannot be reached or stopped answering
     ├── StorageFull          no space left (ENOSPC, EDQUOT, SQLite's "database or disk is full")
     └── DomainTaken, BucketMissing, ObjectExists, UploadMissing, UserExists, NoSuchUser
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from ossutil.server.metrics import Histogram
from ossutil.server.models import (
    Account,
    AcmeState,
    Binding,
    BindingChange,
    Bucket,
    BucketAcl,
    BucketConfig,
    BucketContent,
    Certificate,
    CnameTokenRecord,
    MultipartUpload,
    ObjectMeta,
    PartRecord,
    Route,
    SealedAccessKey,
    User,
    Versions,
)
from ossutil.server.throttle import Throttled
from ossutil.wire.errors import OssError

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger("ossutil.server.storage")
# one line per outage and per 10 s, not one per failed call
_failure_logs: dict[tuple[str, str], Throttled] = {}


@contextmanager
def as_oss_error(what: str) -> Iterator[None]:
    """The one mapping of store failures to OSS errors, for the store runner and the blob
    stores alike: ``StoreUnavailable`` -> 503 ServiceUnavailable, ``StorageFull`` -> 507
    InsufficientStorage (never a 500), each logged as "<what> unavailable/full: ..." at most
    once per 10 s per kind."""
    try:
        yield
    except StoreUnavailable as exc:
        _failure_log(what, "unavailable")(f"{what} unavailable: %s", exc)
        raise OssError.from_code("ServiceUnavailable") from None
    except StorageFull as exc:
        _failure_log(what, "full")(f"{what} full: %s", exc)
        raise OssError.from_code("InsufficientStorage") from None


def _failure_log(what: str, kind: str) -> Throttled:
    found = _failure_logs.get((what, kind))
    if found is None:
        found = _failure_logs.setdefault((what, kind), Throttled(log))
    return found

# The longest a request waits for one store call (queueing included). Above the PostgreSQL
# store's own bounds (lock and statement timeouts, its watchdog), so those fire first.
STORE_WAIT_SECONDS = 15.0


class StoreError(Exception):
    """Base of the store's own failures (not OSS errors: the domain maps them)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, or the connection broke or froze mid-call. The message
    says where (host:port/dbname), never a password."""


class StorageFull(StoreError):
    """No space left for the write (disk full, quota exceeded, file too large)."""


class DomainTaken(StoreError):
    """The domain is already bound (the unique constraint fired); ``bucket`` holds it."""

    def __init__(self, domain: str, bucket: str) -> None:
        super().__init__(f"{domain} is bound to {bucket}")
        self.domain = domain
        self.bucket = bucket


class BucketMissing(StoreError):
    """An object row names a bucket that does not exist (deleted while the upload ran)."""


class ObjectExists(StoreError):
    """``if_absent`` was asked and the key already names an object (x-oss-forbid-overwrite)."""


class UploadMissing(StoreError):
    """The multipart upload does not exist (never did, or was completed or aborted)."""


class UserExists(StoreError):
    pass


class NoSuchUser(StoreError):
    pass


class KeyCheck(Protocol):
    """Tells whether this process's master key is the one a shared store was set up with
    (``auth/sealing.Sealer``). The store keeps the sealed value; it never holds the key."""

    def new_check(self) -> bytes: ...
    def opens_check(self, sealed: bytes) -> bool: ...


# The store, split by who uses it: each service is given a runner typed with the narrow
# protocol it needs (``StoreRunner[BucketStore]`` ...), so what a service may ask of the store is
# written in its signature. ``Store`` is their union; SqliteStore and PostgresStore implement it.


class AuthStore(Protocol):
    """Accounts, RAM users and AccessKeys: the KeyRing, ``bootstrap_root`` and the ``user``
    commands. Secrets come and go sealed (``auth/sealing.py``); the store never opens them."""

    def bootstrap_root(self, account: Account, key: SealedAccessKey) -> bool: ...
    def root_account(self) -> Account | None: ...
    def create_user(self, user: User, key: SealedAccessKey) -> None: ...
    def set_user_policy(self, name: str, policy: str | None) -> None: ...
    def delete_user(self, name: str) -> None: ...
    def list_users(self) -> list[User]: ...
    def auth_version(self) -> int: ...
    def load_auth(self) -> tuple[int, list[SealedAccessKey], dict[str, str | None]]: ...


class BucketStore(Protocol):
    """Bucket rows: BucketService."""

    def create_bucket(self, bucket: Bucket) -> Bucket: ...
    def list_buckets(self, owner_id: str) -> list[Bucket]: ...
    def set_bucket_acl(self, name: str, acl: BucketAcl) -> None: ...

    def set_bucket_config(self, name: str, kind: BucketConfig,
                          document: str | None) -> Bucket | None:
        """Store (``document`` None: remove) one of the bucket's configuration documents;
        the bucket as it now is, or None when there is no such bucket."""
        ...

    def delete_bucket(self, name: str) -> BucketContent | None:
        """Delete an empty bucket (and its tokens); else what it still holds."""
        ...


class CacheStore(Protocol):
    """What ReadCache reads, and the change counters it polls to stay coherent."""

    def get_bucket(self, name: str) -> Bucket | None: ...
    def list_bindings(self, bucket: str) -> list[Binding]: ...
    def versions(self) -> Versions: ...


class CnameStore(Protocol):
    """CNAME tokens, bindings and certificates: CnameService."""

    def issue_token(self, candidate: CnameTokenRecord, now: datetime,
                    limit: int) -> CnameTokenRecord | None: ...
    def get_token(self, bucket: str, domain: str) -> CnameTokenRecord | None: ...
    def get_binding(self, domain: str) -> Binding | None: ...
    def count_bindings(self, bucket: str) -> int: ...
    def apply_binding(self, change: BindingChange) -> Binding: ...
    def delete_binding(self, bucket: str, domain: str) -> bool: ...
    def get_certificate(self, cert_id: str) -> Certificate | None: ...

    def set_binding_health(self, domain: str, dangling: bool) -> bool:
        """Mark ``domain``'s binding dangling (its DNS no longer points here) or healthy again;
        False when no such binding. A dangling binding gets no ACME orders or renewals."""
        ...


# One binding's last health report, as domain health (``server/health``) wrote it: (domain,
# bucket, checked at, the report as JSON text, which the store keeps as given).
HealthRow = tuple[str, str, datetime, str]
# (requested, started, finished) of the health rounds: the last on-demand request
# (``ossutil-server domains --check``), the start of the last round, its end; None: never.
HealthMarks = tuple[datetime | None, datetime | None, datetime | None]


class HealthStore(Protocol):
    """Domain health: the last round's reports and the rounds' schedule, shared by every
    process on the store so that one of them runs each round (``claim_health_round``)."""

    def health_rows(self) -> list[HealthRow]: ...
    def health_marks(self) -> HealthMarks: ...

    def request_health_round(self, now: datetime) -> None:
        """Ask for a round now (whichever process claims next runs it)."""
        ...

    def claim_health_round(self, now: datetime, due_before: datetime,
                           stale_before: datetime) -> bool:
        """Start a round at ``now`` when one is due (none finished since ``due_before``, or one
        was requested after the last start) and none runs (a round started before
        ``stale_before`` and never finished counts as dead): True for exactly one of several
        racing processes."""
        ...

    def finish_health_round(self, rows: list[HealthRow], finished: datetime) -> None:
        """Replace every report with ``rows`` and mark the round finished at ``finished``."""
        ...


# Every sealed value a store keeps, for ``SecretStore.reseal``: (kind, table, row key column,
# the column naming the value's sealing context, the sealed column). PostgreSQL's master-key
# check (``sealing_check``) is kind ``check`` besides these.
SEALED_COLUMNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("access_key", "access_keys", "access_key_id", "access_key_id", "secret_sealed"),
    ("certificate", "certificates", "cert_id", "cert_id", "key_sealed"),
    ("acme_certificate", "acme_certificates", "domain", "cert_id", "key_sealed"),
    ("server_value", "server_values", "name", "name", "value"),
)
# (kind, context name, sealed value) -> the value to keep instead
Reseal = Callable[[str, str, bytes], bytes]


class SecretStore(Protocol):
    """``ossutil-server rotate-master-key``: every sealed value rewritten at once."""

    def reseal(self, rewrite: Reseal) -> int:
        """Replace each sealed value (``SEALED_COLUMNS``, and kind ``check``) with
        ``rewrite(kind, name, sealed)``, all in one transaction (an exception from ``rewrite``
        rolls every change back); the number of values rewritten. The store opens nothing."""
        ...


class AcmeStore(Protocol):
    """Automatic (ACME) certificates and their state, one row per bound domain; challenge
    responses every process can answer; the order lease that makes one process order a name.
    Times are UTC; the row goes with its binding (``delete_binding``)."""

    def acme_states(self, domains: list[str] | None = None) -> list[AcmeState]:
        """The state of every domain that has one (or of ``domains``): issued-at, not-after,
        last attempt, last error, next attempt. Domain health's read API."""
        ...

    def acme_due(self, now: datetime, limit: int) -> list[str]:
        """Enabled, not dangling bindings without an uploaded certificate whose automatic
        certificate is missing or due (``next_attempt`` reached) and not leased."""
        ...

    def take_acme_lease(self, domain: str, holder: str, now: datetime,
                        until: datetime) -> bool:
        """Take the order lease on ``domain`` until ``until`` when it is still due, bound, not
        dangling, without an uploaded certificate, and no other holder's lease runs: True for
        exactly one of several racing processes."""
        ...

    def put_acme_certificate(self, domain: str, holder: str, certificate: Certificate,
                             next_attempt: datetime) -> bool:
        """Store an issued certificate (key sealed), clear the error and the lease, and record
        a binding change (every process re-reads the binding). False when the binding is gone
        or the lease is no longer ``holder``'s (nothing written)."""
        ...

    def record_acme_failure(self, domain: str, holder: str, attempted: datetime, error: str,
                            next_attempt: datetime) -> None:
        """A failed order: the error text, one more failure, when to try again; the lease is
        released."""
        ...

    def schedule_acme(self, domain: str, next_attempt: datetime) -> None:
        """Move ``domain``'s next attempt (a renewal forced now, or after an uploaded
        certificate is detached)."""
        ...

    def put_acme_challenge(self, domain: str, token: str, kind: str, response: str,
                           expires: datetime) -> None: ...

    def get_acme_challenge(self, domain: str, token: str, now: datetime) -> str | None:
        """The HTTP-01 key authorization for ``token`` on ``domain``, when one is pending."""
        ...

    def acme_challenges(self, kind: str, now: datetime) -> list[tuple[str, str]]:
        """(domain, response) of every pending challenge of ``kind`` (TLS-ALPN-01)."""
        ...

    def delete_acme_challenge(self, domain: str, token: str) -> None: ...


class BindingFeed(Protocol):
    """Every binding and the changes to them: the gateway's DomainTable and its poller."""

    def versions(self) -> Versions: ...
    def all_bindings(self) -> list[Binding]: ...

    def binding_routes(self, load: Callable[[Iterable[Route]], None]) -> int:
        """Stream every enabled binding, as the DomainTable keeps it, to ``load``; return the
        newest change number of the same snapshot (the gateway's start-up read, which must
        stay cheap at a million bindings)."""
        ...

    def get_binding(self, domain: str) -> Binding | None: ...

    def changes_since(self, version: int) -> tuple[int, list[str]]:
        """Domains whose binding changed after change number ``version``, and the newest."""
        ...


class ServerValues(Protocol):
    """Values every server process sharing the store must agree on (the default certificate)."""

    def get_server_value(self, name: str) -> bytes | None: ...

    def put_server_value_if_absent(self, name: str, value: bytes) -> bytes:
        """Store ``value`` unless ``name`` has one; return the stored one (first writer wins)."""
        ...


class ObjectStore(Protocol):
    """Object rows (content lives in blobs; these rows name them): ObjectService."""

    def put_object(self, meta: ObjectMeta, *, if_absent: bool = False) -> str | None:
        """Insert or replace the row; return the blob name it replaced (the caller deletes it).
        ``if_absent``: ObjectExists instead of replacing, decided in the same transaction."""
        ...

    def get_object(self, bucket: str, key: str) -> ObjectMeta | None: ...

    def delete_object(self, bucket: str, key: str) -> str | None:
        """Delete the row; return its blob name (None when there was no such object)."""
        ...

    def list_objects(self, bucket: str, prefix: str, after: str,
                     limit: int) -> list[ObjectMeta]:
        """Up to ``limit`` objects whose key starts with ``prefix`` and sorts after ``after``,
        in UTF-8 byte order (= code point order)."""
        ...


class UploadStore(Protocol):
    """Multipart uploads (each part's content is a blob; the part rows name them)."""

    def create_upload(self, upload: MultipartUpload) -> None:
        """Record a new upload; BucketMissing when the bucket is gone."""
        ...

    def get_upload(self, bucket: str, key: str, upload_id: str) -> MultipartUpload | None: ...

    def put_part(self, part: PartRecord) -> str | None:
        """Insert or replace the part; return the blob it replaced (the caller deletes it).
        UploadMissing when the upload was completed or aborted meanwhile."""
        ...

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[PartRecord]:
        """Up to ``limit`` parts numbered above ``after``, ascending."""
        ...

    def complete_upload(self, bucket: str, key: str, upload_id: str, meta: ObjectMeta, *,
                        if_absent: bool = False) -> tuple[str | None, list[str]]:
        """Write the object row and remove the upload with its parts, in one transaction.
        Returns (blob of the object replaced, blobs of every part): the caller deletes them.
        UploadMissing when the upload is gone (aborted or completed by another request)."""
        ...

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> list[str] | None:
        """Remove the upload and its parts; their blobs (to delete), None if no such upload."""
        ...

    def list_uploads(self, bucket: str, prefix: str, key_marker: str, upload_id_marker: str,
                     limit: int) -> list[MultipartUpload]:
        """Uploads whose key starts with ``prefix`` and whose (key, upload id) sorts after
        (``key_marker``, ``upload_id_marker``), in that order (keys in UTF-8 byte order)."""
        ...


class MultipartStore(ObjectStore, UploadStore, Protocol):
    """MultipartService: uploads, and the object row CompleteMultipartUpload writes."""


class BlobReferences(Protocol):
    """The file blob store's start-up sweep: which blob names rows still hold."""

    def referenced_blobs(self, names: list[str]) -> set[str]:
        """Which of ``names`` an object or part row names."""
        ...


class Store(AuthStore, BucketStore, CacheStore, CnameStore, BindingFeed, ServerValues,
            MultipartStore, BlobReferences, AcmeStore, HealthStore, Protocol):
    """Persistent state, every method one transaction: ``SqliteStore`` (embedded default),
    ``PostgresStore`` (scale-out)."""

    def close(self) -> None: ...


S = TypeVar("S", covariant=True)


class StoreRunner(Generic[S]):
    """Runs store calls on one dedicated worker thread, awaitable from the event loop.

    Typed by what its holder may call: a ``StoreRunner[Store]`` is a ``StoreRunner[BucketStore]``
    too (covariant), so the composition root hands one runner to every service.

    ``__call__`` is where store failures become OSS errors (see the module docstring) and where
    a request's wait for the store is bounded by ``wait_seconds``.
    """

    def __init__(self, store: S, *, wait_seconds: float = STORE_WAIT_SECONDS) -> None:
        self._store = store
        self.wait_seconds = wait_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.latency = Histogram()  # seconds per awaited call, queueing included (/-/metrics)
        self.errors: dict[str, int] = {}  # OSS error code (503, 507) -> failed calls

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        job = self._executor.submit(fn, *args, **kwargs)
        waiter = asyncio.wrap_future(job)
        overdue: list[bool] = []  # set by the deadline timer: one handle per call, no extra task
        deadline = asyncio.get_running_loop().call_later(self.wait_seconds, self._overdue,
                                                         job, overdue)
        try:
            with as_oss_error("store"):
                try:
                    return await waiter
                except asyncio.CancelledError:
                    if overdue and job.cancelled():  # still queued behind a call that hangs
                        raise StoreUnavailable(
                            f"no store call finished within {self.wait_seconds:g} s") from None
                    job.cancel()  # the request went away: a queued call need not run
                    raise
                finally:
                    deadline.cancel()
        except OssError as error:
            self.errors[error.code] = self.errors.get(error.code, 0) + 1
            raise
        finally:
            self.latency.observe(time.perf_counter() - started)

    def _overdue(self, job: Future[Any], overdue: list[bool]) -> None:
        """The wait is over: a call still queued never runs (its waiter fails); one already
        running is interrupted (``Store.interrupt``, when the store has it) and its outcome,
        an error or a write that committed meanwhile, is reported when it returns."""
        overdue.append(True)
        if job.cancel():
            return
        interrupt = getattr(self.store, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn`` on the store thread at once, without yielding to the event loop.

        For callers that need their read ordered right after a write that just committed (the
        gateway's refresh of a changed binding); jobs run strictly in submission order.
        """
        return self._executor.submit(fn, *args, **kwargs)

    @property
    def store(self) -> S:
        """The store; call its methods through the runner, never directly on the loop."""
        return self._store

    def close(self: StoreRunner[Store]) -> None:
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)
