"""MultipartService: InitiateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads. Domain logic: no HTTP, no SQL.

Rules (OSS's):
- part numbers 1..10000; re-uploading a part number replaces that part;
- CompleteMultipartUpload names parts in ascending order (InvalidPartOrder), each one uploaded
  with that ETag (InvalidPart), every one but the last at least 100 KiB (EntityTooSmall);
  parts not named are discarded; ``x-oss-complete-all: yes`` names every uploaded part;
- the object's ETag is the uppercase hex MD5 of the parts' binary MD5s joined, then
  ``-<part count>``, in double quotes; its type is ``Multipart``;
- completing or aborting ends the upload (NoSuchUpload afterwards).

Storage. Each part is a blob of its own (streamed exactly as a PutObject body, Content-MD5
checked), committed before the part row that names it. CompleteMultipartUpload streams the named
parts, in order, into one new blob (1 MiB at a time: never the object in memory), commits it, and
only then, in one store transaction, writes the object row and removes the upload and its part
rows; the part blobs are deleted after that commit. A crash before it leaves the upload as it
was (plus an unreferenced blob the blob store sweeps); after it, the whole object. Why one new
blob rather than an object made of its part blobs: every read path (sendfile, Range, the
gateway, CopyObject, overwrite and delete bookkeeping, the PostgreSQL sweep) keeps working on
one blob per object unchanged; the price is one extra copy of the data at completion.

Blob work runs in worker threads, store calls on the store thread; the finishing steps of an
upload part and of a completion run shielded from cancellation (a client that hangs up still
leaves a consistent state and no orphaned blob).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from ossutil.server.models import Bucket, MultipartUpload, ObjectMeta, ObjectType, PartRecord
from ossutil.server.objects.cache import ObjectCache
from ossutil.server.objects.listing import TOP, roll_up
from ossutil.server.objects.service import (
    WRITE_CHUNK,
    Upload,
    etag_of,
    file_exists_error,
    receive_blob,
)
from ossutil.server.storage.base import (
    BucketMissing,
    MultipartStore,
    ObjectExists,
    StoreRunner,
    UploadMissing,
)
from ossutil.server.storage.blobs import BlobStore, BlobWriter
from ossutil.wire import crc64, numbers
from ossutil.wire.errors import OssError

log = logging.getLogger("ossutil.server.objects")

MAX_PART_NUMBER = 10000
MIN_PART_SIZE = 100 * 1024  # every part but the last (OSS: 100 KB)
MAX_LISTED = 1000  # max-parts and max-uploads


@dataclass(frozen=True)
class PartChoice:
    """One ``<Part>`` of a CompleteMultipartUpload body."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class PartsPage:
    parts: tuple[PartRecord, ...]
    truncated: bool


@dataclass(frozen=True)
class UploadsQuery:
    prefix: str = ""
    delimiter: str = ""
    key_marker: str = ""
    upload_id_marker: str = ""
    max_uploads: int = MAX_LISTED


@dataclass(frozen=True)
class UploadsPage:
    uploads: tuple[MultipartUpload, ...]
    prefixes: tuple[str, ...]
    truncated: bool
    next_key_marker: str
    next_upload_id_marker: str


def new_upload_id(now: float | None = None) -> str:
    """32 uppercase hex: 12 of milliseconds since the epoch, then 80 random bits."""
    millis = int((time.time() if now is None else now) * 1000) & 0xFFFFFFFFFFFF
    return f"{millis:012X}{os.urandom(10).hex().upper()}"


def multipart_etag(md5s: list[bytes]) -> str:
    """OSS's ETag of a multipart object: MD5 of the parts' MD5s joined, ``-<count>``, quoted."""
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest().upper()}-{len(md5s)}"'


def parse_part_number(text: str | None) -> int:
    return numbers.parse_int(text, "partNumber", 1, MAX_PART_NUMBER,
                             message=f"Part number must be an integer between 1 and "
                             f"{MAX_PART_NUMBER}, inclusive.")


def _md5_of(etag: str) -> bytes:
    return bytes.fromhex(etag.strip('"'))


def _same_etag(given: str, stored: str) -> bool:
    return given.strip().strip('"').upper() == stored.strip('"')


class MultipartService:
    def __init__(self, runner: StoreRunner[MultipartStore], blobs: BlobStore, *,
                 clock: Callable[[], datetime], cache: ObjectCache | None = None) -> None:
        self._run = runner
        self._store = runner.store
        self._blobs = blobs
        self._clock = clock
        self._cache = cache if cache is not None else ObjectCache(max_bytes=0)

    def _now(self) -> datetime:
        return self._clock().replace(microsecond=0)

    async def initiate(self, bucket: Bucket, key: str, content_type: str,
                       user_meta: tuple[tuple[str, str], ...],
                       headers: tuple[tuple[str, str], ...]) -> MultipartUpload:
        upload = MultipartUpload(new_upload_id(), bucket.name, key, self._now(), content_type,
                                 user_meta, headers)
        try:
            await self._run(self._store.create_upload, upload)
        except BucketMissing:
            raise OssError.from_code("NoSuchBucket", BucketName=bucket.name) from None
        return upload

    async def find(self, bucket: Bucket, key: str, upload_id: str) -> MultipartUpload:
        upload = await self._run(self._store.get_upload, bucket.name, key, upload_id)
        if upload is None:
            raise OssError.from_code("NoSuchUpload", UploadId=upload_id)
        return upload

    # --- parts ----------------------------------------------------------------------------

    async def upload_part(self, upload: MultipartUpload, part_number: int, body: Upload,
                          read: Callable[[], Awaitable[bytes]]) -> PartRecord:
        """Stream one part of ``upload`` (``find`` gave it) into a blob, as PutObject does,
        and record it, replacing any part of that number."""
        writer, md5, crc = await receive_blob(self._blobs, body, read)
        part = PartRecord(upload.upload_id, part_number, writer.size, etag_of(md5),
                          self._now(), "", crc)
        return await asyncio.shield(self._commit_part(writer, part))

    async def _commit_part(self, writer: BlobWriter, part: PartRecord) -> PartRecord:
        name = await asyncio.to_thread(self._blobs.commit, writer)
        part = PartRecord(part.upload_id, part.part_number, part.size, part.etag,
                          part.last_modified, name, part.crc64)
        try:
            replaced = await self._run(self._store.put_part, part)
        except BaseException as exc:
            await asyncio.to_thread(self._blobs.delete, name)
            if isinstance(exc, UploadMissing):  # completed or aborted while the part arrived
                raise OssError.from_code("NoSuchUpload", UploadId=part.upload_id) from None
            raise
        if replaced:
            await asyncio.to_thread(self._blobs.delete, replaced)
        return part

    async def list_parts(self, bucket: Bucket, key: str, upload_id: str, after: int,
                         limit: int) -> tuple[MultipartUpload, PartsPage]:
        upload = await self.find(bucket, key, upload_id)
        parts = await self._run(self._store.list_parts, upload_id, after, limit + 1)
        return upload, PartsPage(tuple(parts[:limit]), len(parts) > limit)

    # --- completion and abort -------------------------------------------------------------

    async def refuse_existing(self, bucket: Bucket, key: str) -> None:
        """FileAlreadyExists when ``key`` names an object (x-oss-forbid-overwrite)."""
        if await self._run(self._store.get_object, bucket.name, key) is not None:
            raise file_exists_error(key)

    async def complete(self, bucket: Bucket, key: str, upload_id: str,
                       chosen: list[PartChoice] | None, *,
                       forbid_overwrite: bool = False) -> ObjectMeta:
        """Build the object from the parts ``chosen`` (None: every uploaded part). With
        ``forbid_overwrite`` an existing object is refused (409) and the upload is kept."""
        upload = await self.find(bucket, key, upload_id)
        if forbid_overwrite:
            await self.refuse_existing(bucket, key)
        try:
            uploaded = await self._run(self._store.list_parts, upload_id, 0, MAX_PART_NUMBER)
            parts = _select(uploaded, chosen)
            for part in parts[:-1]:
                if part.size < MIN_PART_SIZE:
                    raise OssError.from_code(
                        "EntityTooSmall", PartNumber=str(part.part_number),
                        PartSize=str(part.size), MinSizeAllowed=str(MIN_PART_SIZE))
            etag = multipart_etag([_md5_of(part.etag) for part in parts])
            return await asyncio.shield(self._assemble(upload, parts, etag, forbid_overwrite))
        except OssError as exc:
            # a part row or blob gone missing because the upload was aborted meanwhile
            if exc.code == "InvalidPart" and await self._run(
                    self._store.get_upload, bucket.name, key, upload_id) is None:
                raise OssError.from_code("NoSuchUpload", UploadId=upload_id) from None
            raise

    async def _assemble(self, upload: MultipartUpload, parts: list[PartRecord],
                        etag: str, forbid_overwrite: bool = False) -> ObjectMeta:
        writer = await asyncio.to_thread(self._blobs.create)
        try:
            for part in parts:
                await asyncio.to_thread(self._copy_part, part, writer)
            await asyncio.to_thread(writer.finish)
        except BaseException:
            await asyncio.to_thread(writer.discard)
            raise
        name = await asyncio.to_thread(self._blobs.commit, writer)
        crc = await asyncio.to_thread(combined_crc, parts)
        meta = ObjectMeta(upload.bucket, upload.key, writer.size, etag, upload.content_type,
                          self._now(), name, upload.user_meta, upload.headers,
                          ObjectType.MULTIPART, crc)
        try:
            replaced, part_blobs = await self._run(
                self._store.complete_upload, upload.bucket, upload.key, upload.upload_id, meta,
                if_absent=forbid_overwrite)
        except BaseException as exc:
            await asyncio.to_thread(self._blobs.delete, name)
            if isinstance(exc, ObjectExists):  # written by another request meanwhile
                raise file_exists_error(upload.key) from None
            if isinstance(exc, UploadMissing):  # aborted or completed by another request
                raise OssError.from_code("NoSuchUpload", UploadId=upload.upload_id) from None
            if isinstance(exc, BucketMissing):
                raise OssError.from_code("NoSuchBucket", BucketName=upload.bucket) from None
            raise
        self._cache.forget(upload.bucket, upload.key)
        await asyncio.to_thread(self._delete_blobs, [replaced, *part_blobs])
        return meta

    def _copy_part(self, part: PartRecord, writer: BlobWriter) -> None:
        """Append one part's content to ``writer`` (blocking: a worker thread runs it)."""
        try:
            content = self._blobs.load(part.blob, WRITE_CHUNK)
        except FileNotFoundError:  # replaced by a new upload of that part number meanwhile
            raise OssError.from_code("InvalidPart", PartNumber=str(part.part_number)) from None
        if isinstance(content, bytes):
            copied = len(content)
            if content:
                writer.write(content)
        else:
            copied = _pump(content, writer)
        if copied != part.size:
            log.error("upload %s part %d: blob %s has %d bytes, not %d", part.upload_id,
                      part.part_number, part.blob, copied, part.size)
            raise OssError.from_code("InternalError")

    def _delete_blobs(self, names: list[str | None]) -> None:
        for name in names:
            if name:
                self._blobs.delete(name)

    async def abort(self, bucket: Bucket, key: str, upload_id: str) -> None:
        await asyncio.shield(self._abort(bucket.name, key, upload_id))

    async def _abort(self, bucket: str, key: str, upload_id: str) -> None:
        blobs = await self._run(self._store.abort_upload, bucket, key, upload_id)
        if blobs is None:
            raise OssError.from_code("NoSuchUpload", UploadId=upload_id)
        await asyncio.to_thread(self._delete_blobs, list(blobs))

    # --- listing uploads ------------------------------------------------------------------

    async def list_uploads(self, bucket: Bucket, query: UploadsQuery) -> UploadsPage:
        def fetch(prefix: str, key: str, upload_id: str, limit: int) -> list[MultipartUpload]:
            return self._store.list_uploads(bucket.name, prefix, key, upload_id, limit)
        return await self._run(uploads_page, fetch, query)


def combined_crc(parts: list[PartRecord]) -> int | None:
    """The object's CRC-64 from its parts' (no byte read again); None when a part has none
    (uploaded before CRCs were kept): the object then goes without, as OSS omits it."""
    value = 0
    for part in parts:
        if part.crc64 is None:
            return None
        value = crc64.combine(value, part.crc64, part.size)
    return value


def _pump(content: BinaryIO, writer: BlobWriter) -> int:
    copied = 0
    with content:
        while chunk := content.read(WRITE_CHUNK):
            writer.write(chunk)
            copied += len(chunk)
    return copied


def _select(uploaded: list[PartRecord], chosen: list[PartChoice] | None) -> list[PartRecord]:
    """The parts a CompleteMultipartUpload names, checked against what was uploaded."""
    if chosen is None:
        if not uploaded:
            raise OssError.from_code("InvalidPart", "The upload has no part to complete with.")
        return uploaded
    by_number = {part.part_number: part for part in uploaded}
    previous = 0
    for choice in chosen:
        if choice.part_number <= previous:
            raise OssError.from_code("InvalidPartOrder")
        previous = choice.part_number
    selected = []
    for choice in chosen:
        part = by_number.get(choice.part_number)
        if part is None or not _same_etag(choice.etag, part.etag):
            raise OssError.from_code("InvalidPart", PartNumber=str(choice.part_number),
                                     ETag=choice.etag)
        selected.append(part)
    return selected


UploadsFetch = Callable[[str, str, str, int], list[MultipartUpload]]


def uploads_page(fetch: UploadsFetch, query: UploadsQuery) -> UploadsPage:
    """One ListMultipartUploads page: uploads in (key, upload id) order after the markers,
    keys holding the delimiter after the prefix rolled up into common prefixes
    (``listing.roll_up``, as for objects). Without ``upload-id-marker`` the listing starts
    after every upload of ``key-marker``. The next markers name the last entry listed."""
    key = query.key_marker
    start = (key, query.upload_id_marker if key and query.upload_id_marker else TOP)
    page = roll_up(lambda after, n: fetch(query.prefix, after[0], after[1], n),
                   _upload_key, _upload_position, query.prefix, query.delimiter,
                   query.max_uploads, start)
    return UploadsPage(page.items, page.prefixes, page.truncated, *page.last)


def _upload_key(upload: MultipartUpload) -> str:
    return upload.key


def _upload_position(upload: MultipartUpload) -> tuple[str, str]:
    return upload.key, upload.upload_id
