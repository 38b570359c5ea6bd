"""BucketService: create, inspect, list and delete buckets (domain logic, no HTTP, no SQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ossutil.server.cache import ReadCache
from ossutil.server.models import Bucket, BucketAcl, BucketConfig, BucketContent
from ossutil.server.naming import validate_bucket_name
from ossutil.server.storage.base import BucketStore, StoreRunner
from ossutil.wire.errors import OssError

ACLS = tuple(acl.value for acl in BucketAcl)  # private, public-read, public-read-write
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")


def check_acl(acl: str) -> BucketAcl:
    """An ACL named in any case (OSS's enumerations are case-insensitive): its canonical form."""
    if acl.lower() not in ACLS:
        raise OssError.from_code("InvalidArgument",
                                 f"The ACL {acl!r} is not one of {', '.join(ACLS)}.")
    return BucketAcl(acl.lower())


class BucketService:
    def __init__(self, runner: StoreRunner[BucketStore], cache: ReadCache, *, region: str,
                 clock: Callable[[], datetime]) -> None:
        self._run = runner
        self._cache = cache
        self._store = runner.store
        self._region = region
        self._clock = clock

    async def get(self, name: str) -> Bucket:
        bucket = await self._cache.bucket(name)
        if bucket is None:
            raise OssError.from_code("NoSuchBucket", BucketName=name)
        return bucket

    async def find(self, name: str) -> Bucket | None:
        return await self._cache.bucket(name)

    async def create(self, name: str, owner_id: str, acl: str | None,
                     storage_class: str | None) -> Bucket:
        validate_bucket_name(name)
        storage_class = storage_class or "Standard"
        if storage_class not in STORAGE_CLASSES:
            raise OssError.from_code("InvalidArgument",
                                     f"The storage class {storage_class!r} is not supported.")
        candidate = Bucket(name, owner_id, self._region,
                           check_acl(acl) if acl else BucketAcl.PRIVATE, storage_class,
                           self._clock().replace(microsecond=0))
        stored = await self._run(self._store.create_bucket, candidate)
        self._cache.forget_bucket(name)
        if stored.owner_id != owner_id:
            raise OssError.from_code("BucketAlreadyExists", BucketName=name)
        if acl and stored.acl != check_acl(acl):  # PutBucket on an own bucket may change it
            await self.set_acl(stored, acl)
        return stored

    async def set_acl(self, bucket: Bucket, acl: str) -> None:
        await self._run(self._store.set_bucket_acl, bucket.name, check_acl(acl))
        self._cache.forget_bucket(bucket.name)

    async def set_config(self, bucket: Bucket, kind: BucketConfig,
                         document: str | None) -> Bucket:
        """Store (None: remove) the bucket's website, CORS or Referer document; the bucket as
        it now is, which replaces the cached record (a new object: plans made from the old
        one lapse)."""
        updated = await self._run(self._store.set_bucket_config, bucket.name, kind, document)
        if updated is None:
            self._cache.forget_bucket(bucket.name)
            raise OssError.from_code("NoSuchBucket", BucketName=bucket.name)
        self._cache.replace_bucket(updated)
        return updated

    async def delete(self, bucket: Bucket) -> None:
        reason = await self._run(self._store.delete_bucket, bucket.name)
        self._cache.forget_bucket(bucket.name)
        if reason is BucketContent.OBJECTS:
            raise OssError.from_code("BucketNotEmpty", BucketName=bucket.name)
        if reason is BucketContent.BINDINGS:
            raise OssError.from_code(
                "BucketNotEmpty", "The bucket you tried to delete still has custom domains "
                "bound; delete them with DeleteCname first.", BucketName=bucket.name)
        if reason is BucketContent.UPLOADS:
            raise OssError.from_code(
                "BucketNotEmpty", "The bucket you tried to delete still has multipart uploads "
                "in progress; complete or abort them first.", BucketName=bucket.name)

    async def list(self, owner_id: str) -> list[Bucket]:
        return await self._run(self._store.list_buckets, owner_id)
