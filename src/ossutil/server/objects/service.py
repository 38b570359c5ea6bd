"""ObjectService: PutObject, reads, DeleteObject, listing. Domain logic: no HTTP, no SQL.

PutObject streams the body into a new blob (``BlobStore``: files, or PostgreSQL chunks; never the
whole body in memory: at most two 1 MiB buffers per upload), computing MD5 as it goes; checks
Content-MD5 and a hex ``x-oss-content-sha256``; commits the blob (complete and durable); then
writes the metadata row in one store transaction. The blob the row replaced (or DeleteObject
removed) is deleted only after that commit. Concurrent uploads to one key each write their own
blob, so the last commit wins and no reader ever sees a mix. The finishing steps run shielded
from cancellation (a client hanging up after its body arrived still gets a consistent object and
no orphaned blob).

Blob work runs in ``asyncio.to_thread``; store calls on the store thread. With a ``local`` blob
store (files), GetObject is one job on the store thread: the row read, the open of its blob and,
for objects up to ``INLINE_LIMIT``, the read itself (microseconds from the page cache). One thread
hop instead of two is most of the difference for small-object throughput; larger objects stream
from the open file afterwards. A blob store across the network (PostgreSQL) is read in a worker
thread after the row read instead, so the store thread never waits on it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from ossutil.server.models import Bucket, ObjectMeta
from ossutil.server.objects import listing
from ossutil.server.objects.cache import ObjectCache
from ossutil.server.storage.base import BucketMissing, ObjectExists, ObjectStore, StoreRunner
from ossutil.server.storage.blobs import BlobStore, BlobWriter
from ossutil.wire.crc64 import Crc64
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.objects")

MAX_OBJECT_SIZE = 5 * 1024**3  # PutObject's limit on OSS
MAX_USER_META_BYTES = 8 * 1024  # OSS: all x-oss-meta-* names and values together
WRITE_CHUNK = 1 << 20
INLINE_LIMIT = 64 * 1024  # reads up to this size are served from memory, larger ones from the file
# Standard headers PutObject stores and reads replay.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
                "expires")
_OPEN_ATTEMPTS = 3


@dataclass(frozen=True)
class Upload:
    """What a PutObject request says about its body (header values as sent)."""

    content_type: str
    length: int | None  # None: chunked transfer encoding
    content_md5: str | None = None
    content_sha256: str | None = None  # hex digest to verify; None or UNSIGNED-PAYLOAD: none
    user_meta: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    forbid_overwrite: bool = False  # x-oss-forbid-overwrite: true


def file_exists_error(key: str) -> OssError:
    """409 FileAlreadyExists: x-oss-forbid-overwrite and the key names an object already."""
    return OssError.from_code("FileAlreadyExists", Key=key)


def etag_of(md5: bytes) -> str:
    """OSS's ETag for a PutObject object: the MD5 in uppercase hex, in double quotes."""
    return f'"{md5.hex().upper()}"'


def _expected_md5(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise OssError.from_code("InvalidDigest", ec="0017-00000502")
    return digest


def _expected_sha256(value: str | None) -> str | None:
    if value is None or value == "UNSIGNED-PAYLOAD":
        return None
    return value.lower()


def check_upload(upload: Upload) -> None:
    """Refuse before reading a byte: oversize length, malformed Content-MD5, too much metadata."""
    if upload.length is not None and upload.length > MAX_OBJECT_SIZE:
        raise OssError.from_code("EntityTooLarge")
    _expected_md5(upload.content_md5)
    meta_bytes = sum(len(k.encode()) + len(v.encode()) for k, v in upload.user_meta)
    if meta_bytes > MAX_USER_META_BYTES:
        raise OssError.from_code("InvalidArgument",
                                 f"User metadata exceeds {MAX_USER_META_BYTES} bytes.")


class ObjectService:
    def __init__(self, runner: StoreRunner[ObjectStore], blobs: BlobStore, *,
                 clock: Callable[[], datetime], cache: ObjectCache | None = None) -> None:
        self._run = runner
        self._store = runner.store
        self._blobs = blobs
        self._clock = clock
        self._cache = cache if cache is not None else ObjectCache(max_bytes=0)

    # --- writes ---------------------------------------------------------------------------

    async def put(self, bucket: Bucket, key: str, upload: Upload,
                  read: Callable[[], Awaitable[bytes]]) -> ObjectMeta:
        """Store the body ``read`` yields (b"" = end) as ``key``; return the new metadata.
        With ``upload.forbid_overwrite`` an existing key is refused before the body is read
        and again, atomically, when the new version commits."""
        if upload.forbid_overwrite and await self._run(self._store.get_object, bucket.name,
                                                       key) is not None:
            raise file_exists_error(key)
        writer, md5, crc = await receive_blob(self._blobs, upload, read)
        try:
            meta = ObjectMeta(bucket.name, key, writer.size, etag_of(md5), upload.content_type,
                              self._clock().replace(microsecond=0), "", upload.user_meta,
                              upload.headers, crc64=crc)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(writer.discard))
            raise
        return await asyncio.shield(self._commit(writer, meta, upload.forbid_overwrite))

    async def _commit(self, writer: BlobWriter, meta: ObjectMeta,
                      if_absent: bool = False) -> ObjectMeta:
        name = await asyncio.to_thread(self._blobs.commit, writer)
        meta = replace(meta, blob=name)
        try:
            replaced = await self._run(self._store.put_object, meta, if_absent=if_absent)
        except BaseException as exc:
            await asyncio.to_thread(self._blobs.delete, name)
            if isinstance(exc, BucketMissing):  # the bucket was deleted while the body arrived
                raise OssError.from_code("NoSuchBucket", BucketName=meta.bucket) from None
            if isinstance(exc, ObjectExists):  # written by another request meanwhile
                raise file_exists_error(meta.key) from None
            raise
        self._cache.forget(meta.bucket, meta.key)
        if replaced:
            await asyncio.to_thread(self._blobs.delete, replaced)
        return meta

    async def delete(self, bucket: Bucket, key: str) -> None:
        """Remove ``key`` if present (DeleteObject is idempotent)."""
        await asyncio.shield(self._delete(bucket.name, key))

    async def _delete(self, bucket: str, key: str) -> None:
        blob = await self._run(self._store.delete_object, bucket, key)
        self._cache.forget(bucket, key)
        if blob:
            await asyncio.to_thread(self._blobs.delete, blob)

    # --- reads ----------------------------------------------------------------------------

    async def head(self, bucket: Bucket, key: str) -> ObjectMeta:
        meta = await self._run(self._store.get_object, bucket.name, key)
        if meta is None:
            raise OssError.from_code("NoSuchKey", Key=key)
        return meta

    async def open(self, bucket: Bucket, key: str) -> tuple[ObjectMeta, bytes | BinaryIO]:
        """The metadata and the content of the same version: the bytes for an object of at
        most ``INLINE_LIMIT`` bytes, else an open file (the caller closes it).

        A blob superseded between the row read and the open is already deleted: read the row
        again (the newer version is complete by then). Once open, a reader keeps its version.
        A small object read whole goes into the object cache (unless a write raced the read).
        """
        generation = self._cache.generation
        if self._blobs.local:
            found = await self._run(self._read, bucket.name, key)
        else:
            found = await self._read_remote(bucket.name, key)
        if found is None:
            raise OssError.from_code("NoSuchKey", Key=key)
        meta, content = found
        if isinstance(content, bytes):
            self._cache.put(meta, content, generation)
        elif self._blobs.local:
            self._cache.put_file(meta, content.fileno(), generation)
        return found

    def _inline(self) -> int:
        """Objects up to this size are read whole: ``INLINE_LIMIT``, or less when the object
        cache keeps bytes only for smaller ones (then an object between the two is an open
        file, which the cache can keep)."""
        cap = self._cache.max_object
        return min(INLINE_LIMIT, cap) if cap > 0 else INLINE_LIMIT

    async def _read_remote(self, bucket: str,
                           key: str) -> tuple[ObjectMeta, bytes | BinaryIO] | None:
        """``_read`` for a blob store across the network: the row on the store thread, the
        blob in a worker thread."""
        blob = ""
        for _ in range(_OPEN_ATTEMPTS):
            meta = await self._run(self._store.get_object, bucket, key)
            if meta is None:
                return None
            blob = meta.blob
            try:
                return meta, await asyncio.to_thread(self._blobs.load, blob, self._inline())
            except FileNotFoundError:
                continue
        log.error("object %s/%s: blob %s is missing", bucket, key, blob)
        raise OssError.from_code("InternalError")

    def _read(self, bucket: str, key: str) -> tuple[ObjectMeta, bytes | BinaryIO] | None:
        """One job on the store thread (a single hop for the whole lookup: the open, and the
        read of a small blob, take microseconds from the page cache)."""
        blob = ""
        for _ in range(_OPEN_ATTEMPTS):
            meta = self._store.get_object(bucket, key)
            if meta is None:
                return None
            blob = meta.blob
            try:
                return meta, self._blobs.load(blob, self._inline())
            except FileNotFoundError:
                continue
        log.error("object %s/%s: blob %s is missing", bucket, key, blob)
        raise OssError.from_code("InternalError")

    async def list(self, bucket: Bucket, query: listing.ListQuery) -> listing.ListPage:
        fetch = functools.partial(self._store.list_objects, bucket.name)
        return await self._run(listing.list_page, fetch, query)


async def receive_blob(blobs: BlobStore, upload: Upload,
                       read: Callable[[], Awaitable[bytes]]) -> tuple[BlobWriter, bytes, int]:
    """Stream the body ``read`` yields (b"" = end) into a new blob and check it against
    Content-Length, Content-MD5 and a hex x-oss-content-sha256. Returns the finished, not yet
    committed writer, the body's MD5 and its CRC-64 (x-oss-hash-crc64ecma, computed on the
    way like the MD5); on any failure the blob is discarded."""
    check_upload(upload)
    md5_wanted = _expected_md5(upload.content_md5)
    sha_wanted = _expected_sha256(upload.content_sha256)
    writer = await asyncio.to_thread(blobs.create, sha256=sha_wanted is not None)
    crc = Crc64()
    try:
        await _receive(writer, crc, read)
        md5, sha256 = await asyncio.to_thread(writer.finish)
        if upload.length is not None and writer.size != upload.length:
            raise OssError.from_code(
                "InvalidArgument", f"The body has {writer.size} bytes; Content-Length "
                f"said {upload.length}.")
        if md5_wanted is not None and md5 != md5_wanted:
            raise OssError.from_code(
                "InvalidDigest", "The Content-MD5 you specified did not match what we "
                "received.", ec="0017-00000503")
        if sha_wanted is not None and sha256 != sha_wanted:
            raise OssError.from_code(
                "InvalidDigest", "The x-oss-content-sha256 you specified did not match "
                "what we received.")
    except BaseException:
        await asyncio.shield(asyncio.to_thread(writer.discard))
        raise
    return writer, md5, crc.value


def _write(writer: BlobWriter, crc: Crc64, data: bytearray) -> None:
    """One buffer: into the CRC, then the blob (a worker thread; the CRC releases the GIL)."""
    crc.update(data)
    writer.write(data)


async def _receive(writer: BlobWriter, crc: Crc64, read: Callable[[], Awaitable[bytes]]) -> None:
    """Copy the body into ``writer``, updating ``crc``: one 1 MiB buffer fills while the
    previous one is written (writes, hence CRC updates, stay in order)."""
    buffer = bytearray()
    received = 0
    pending: asyncio.Future[None] | None = None
    try:
        while data := await read():
            received += len(data)
            if received > MAX_OBJECT_SIZE:
                raise OssError.from_code("EntityTooLarge")
            buffer += data
            if len(buffer) >= WRITE_CHUNK:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(_write, writer, crc, buffer))
                buffer = bytearray()
        if pending is not None:
            await pending
            pending = None
        if buffer:
            await asyncio.to_thread(_write, writer, crc, buffer)
    finally:
        if pending is not None:  # a failure above: let the write in flight end first
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)
