"""The store protocol: everything persistent, each method one transaction.

The domain (``server/cname``, ``server/buckets``) talks to a ``Store`` and never sees SQL. Store
methods are synchronous and may block on disk; the server calls them through ``StoreRunner``,
which runs them on the store's own worker thread so the event loop never waits on the database.

Secrets in records are plain text in memory; a store seals them (``SecretBox``) at rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Protocol, TypeVar

from ossutil.server.models import (
    AccessKey,
    Account,
    Binding,
    BindingChange,
    Bucket,
    Certificate,
    CnameTokenRecord,
    MultipartUpload,
    ObjectMeta,
    PartRecord,
    User,
)

T = TypeVar("T")


class StoreError(Exception):
    """Base of the store's own failures (not OSS errors: the domain maps them)."""


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


class Store(Protocol):
    """Persistent state. Implementations: ``SqliteStore`` (embedded default)."""

    def close(self) -> None: ...

    # accounts, users and keys
    def bootstrap_root(self, account: Account, key: AccessKey) -> bool: ...
    def root_account(self) -> Account | None: ...
    def create_user(self, user: User, key: AccessKey) -> None: ...
    def set_user_policy(self, name: str, policy: str | None) -> None: ...
    def delete_user(self, name: str) -> None: ...
    def list_users(self) -> list[User]: ...
    def auth_version(self) -> int: ...
    def versions(self) -> dict[str, int]: ...
    def load_auth(self) -> tuple[int, list[AccessKey], dict[str, str | None]]: ...

    # buckets
    def create_bucket(self, bucket: Bucket) -> Bucket: ...
    def get_bucket(self, name: str) -> Bucket | None: ...
    def list_buckets(self, owner_id: str) -> list[Bucket]: ...
    def set_bucket_acl(self, name: str, acl: str) -> None: ...
    def delete_bucket(self, name: str) -> str | None: ...

    # CNAME tokens
    def issue_token(self, candidate: CnameTokenRecord, now: datetime,
                    limit: int) -> CnameTokenRecord | None: ...
    def get_token(self, bucket: str, domain: str) -> CnameTokenRecord | None: ...

    # bindings and certificates
    def get_binding(self, domain: str) -> Binding | None: ...
    def list_bindings(self, bucket: str) -> list[Binding]: ...
    def all_bindings(self) -> list[Binding]: ...
    def count_bindings(self, bucket: str) -> int: ...
    def apply_binding(self, change: BindingChange) -> Binding: ...
    def delete_binding(self, bucket: str, domain: str) -> bool: ...
    def get_certificate(self, cert_id: str) -> Certificate | None: ...
    def changes_since(self, version: int) -> tuple[int, list[str]]: ...

    # values every server process sharing the store must agree on (the default certificate)
    def get_server_value(self, name: str) -> bytes | None: ...

    def put_server_value_if_absent(self, name: str, value: bytes) -> bytes:
        """Store ``value`` unless ``name`` has one; return the stored one (first writer wins)."""
        ...

    # objects (content lives in blob files; these rows name them)
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

    # multipart uploads (each part's content is a blob; the part rows name them)
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


class StoreRunner:
    """Runs store calls on one dedicated worker thread, awaitable from the event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        """Queue ``fn`` on the store thread at once, without yielding to the event loop.

        For callers that need their read ordered right after a write that just committed (the
        gateway's refresh of a changed binding); jobs run strictly in submission order.
        """
        return self._executor.submit(fn, *args)

    def close(self) -> None:
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)
