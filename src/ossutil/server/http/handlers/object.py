"""Object handlers: PutObject, GetObject, HeadObject, DeleteObject, ListObjects, ListObjectsV2.

Decode headers and query, call ``ObjectService``, encode OSS's headers and XML. Object bodies
never pass through memory whole: uploads stream to a blob; downloads of objects up to 64 KiB
are sent from memory, larger ones with ``sendfile`` (plain TCP) or 256 KiB worker-thread reads
(TLS, or a blob that is not a file) from the blob opened with the metadata read (so a concurrent
overwrite cannot swap it).

Response headers of reads: Content-Type, Content-Length, ETag, Last-Modified, Accept-Ranges,
x-oss-object-type, x-oss-storage-class (the bucket's), x-oss-hash-crc64ecma (of the whole
object, also on 206 as OSS; absent for objects stored before CRCs were kept), Content-MD5
(whole-object replies), Content-Range (206), the stored content headers and x-oss-meta-*; a
GetObject's ``response-*`` parameters override the content headers (anonymous requests only
``response-content-type``, as OSS: the others need a signed request).
"""

from __future__ import annotations

import asyncio
import base64
import errno
import mimetypes
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from multidict import CIMultiDict

from ossutil.server.http.responses import listing_response, require_writable, xml_response
from ossutil.server.http.web import compressible
from ossutil.server.models import Bucket, ObjectMeta, ObjectType
from ossutil.server.naming import validate_object_key
from ossutil.server.objects import listing, preconditions
from ossutil.server.objects.ranges import parse_range
from ossutil.server.objects.service import STORED_HEADERS, ObjectService, Upload, check_upload
from ossutil.server.operations import DELETE_OBJECT, GET_OBJECT
from ossutil.wire import codec, dates
from ossutil.wire.bucket_xml import AccessControlPolicy, Owner, encode_access_control_policy
from ossutil.wire.errors import OssError
from ossutil.wire.object_xml import (
    CopyObjectResult,
    DeleteResult,
    ListBucketResult,
    ListBucketV2Result,
    ObjectEntry,
    decode_delete,
    encode_copy_object_result,
    encode_delete_result,
    encode_list_bucket_result,
    encode_list_bucket_v2_result,
)

if TYPE_CHECKING:
    from ossutil.server.http.call import Call, Handler

READ_CHUNK = 256 * 1024
_META_PREFIX = "x-oss-meta-"
_COPY_SOURCE = "x-oss-copy-source"
_COPY_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_COPY_CHUNK = 1024 * 1024


class BlobResponse(web.StreamResponse):
    """Bytes ``offset .. offset+count-1`` of an open blob file; closes the file when done.

    Plain TCP uses ``loop.sendfile`` (zero-copy, no blocking read on the loop); under TLS asyncio
    has no native sendfile, so 256 KiB ``os.pread`` calls run in worker threads, each written
    (with back-pressure) before the next: memory stays flat whatever the object size.
    """

    def __init__(self, handle: BinaryIO, offset: int, count: int, *, status: int,
                 headers: CIMultiDict[str]) -> None:
        super().__init__(status=status, headers=headers)
        self.content_length = count
        self._handle = handle
        self._offset = offset
        self._count = count

    def source(self) -> tuple[BinaryIO, int, int]:
        """The blob, first byte and count this reply sends (``http/web.py`` takes them over to
        send the bytes gzip-compressed instead)."""
        return self._handle, self._offset, self._count

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        try:
            writer = await super().prepare(request)
            if writer is None or self._count == 0:
                return writer
            transport = request.transport
            if transport is None:
                raise ConnectionResetError("connection lost")
            if transport.get_extra_info("sslcontext") is not None or not _is_file(self._handle):
                await self._copy(writer, self._offset, self._count)  # no sendfile under TLS
            else:
                await self._sendfile(transport, writer)
            await super().write_eof()
            return writer
        finally:
            self._handle.close()

    async def _sendfile(self, transport: asyncio.Transport,
                        writer: AbstractStreamWriter) -> None:
        """``os.sendfile`` straight to the socket while nothing is queued before it (the headers
        have left): a body the socket buffer takes whole (1 MiB on loopback, typically) costs one
        system call and no event-loop round trip. ``loop.sendfile`` alone pauses reading,
        waits for an empty buffer, sends, then waits a loop iteration for the socket to turn
        writable again before it reports the count, re-registering the socket three times.
        Whatever the socket does not take at once (a slow reader) goes through
        ``loop.sendfile``, which waits for room: back-pressure as before."""
        offset, remaining = self._offset, self._count
        sock = transport.get_extra_info("socket")
        if (sock is not None and not transport.is_closing()
                and not transport.get_write_buffer_size()):
            try:
                sent = os.sendfile(sock.fileno(), self._handle.fileno(), offset, remaining)
            except (BlockingIOError, InterruptedError):
                sent = -1  # the socket buffer is full: loop.sendfile waits for room
            except OSError as exc:
                if exc.errno not in _NO_SENDFILE:
                    raise
                sent = -1  # not for this file or socket: loop.sendfile decides, or copies
            if sent == 0:
                raise OSError(f"blob ended {remaining} bytes early")
            if sent > 0:
                offset += sent
                remaining -= sent
                if not remaining:
                    return
        try:
            sent = await asyncio.get_running_loop().sendfile(
                transport, self._handle, offset, remaining, fallback=False)
        except (asyncio.SendfileNotAvailableError, NotImplementedError,
                AttributeError):  # uvloop has no loop.sendfile
            await self._copy(writer, offset, remaining)
            return
        if sent < remaining:  # loop.sendfile stops at the end of the file, silently
            raise OSError(f"blob ended {remaining - sent} bytes early")

    async def _copy(self, writer: AbstractStreamWriter, offset: int, remaining: int) -> None:
        while remaining:
            chunk = await asyncio.to_thread(_read_at, self._handle, offset,
                                            min(READ_CHUNK, remaining))
            if not chunk:
                raise OSError(f"blob ended {remaining} bytes early")
            await writer.write(chunk)
            offset += len(chunk)
            remaining -= len(chunk)


# os.sendfile errors that mean "not for this descriptor" rather than a failed connection.
_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP,
                          errno.ENOTSUP})


def _is_file(handle: BinaryIO) -> bool:
    try:
        handle.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation: a blob in PostgreSQL
        return False
    return True


def _read_at(handle: BinaryIO, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (blocking: a worker thread runs it)."""
    if _is_file(handle):
        return os.pread(handle.fileno(), size, offset)
    handle.seek(offset)
    return handle.read(size)


CRC64_HEADER = "x-oss-hash-crc64ecma"
# GetObject's header overrides (query parameter -> response header), OSS's six.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
_ANONYMOUS_OVERRIDES = frozenset({"response-content-type"})


def crc_headers(crc64: int | None) -> dict[str, str]:
    """``x-oss-hash-crc64ecma`` (unsigned decimal) when the CRC is known, else nothing: both
    SDKs check it when present, so an unknown CRC is never guessed."""
    return {} if crc64 is None else {CRC64_HEADER: str(crc64)}


def object_headers(meta: ObjectMeta, storage_class: str, *, whole: bool) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = meta.content_type
    headers["ETag"] = meta.etag
    headers["Last-Modified"] = dates.rfc1123(meta.last_modified)
    headers["Accept-Ranges"] = "bytes"
    headers["x-oss-object-type"] = meta.object_type
    headers["x-oss-storage-class"] = storage_class
    headers.update(crc_headers(meta.crc64))
    if whole and meta.object_type is ObjectType.NORMAL:  # a multipart ETag is no MD5 of the content
        headers["Content-MD5"] = base64.b64encode(bytes.fromhex(meta.etag.strip('"'))).decode()
    for name, value in meta.headers:
        headers[name.title()] = value
    for name, value in meta.user_meta:
        headers[name] = value
    if gzip_varies(meta):
        headers["Vary"] = "Accept-Encoding"
    return headers


def gzip_varies(meta: ObjectMeta) -> bool:
    """Whether the object goes out gzip-compressed to clients that ask (``http/web.py``): its
    replies, compressed or not, 304s included, then say ``Vary: Accept-Encoding``, so a cache
    never hands one client's encoding to another."""
    return compressible(meta.content_type, meta.size, dict(meta.headers).get("content-encoding"))


def _overrides(call: Call) -> dict[str, str]:
    """The response headers GetObject's ``response-*`` parameters ask for. OSS lets anonymous
    requests override Content-Type only: any other override needs a signature (403)."""
    given = {name: value for name, value in call.query.items() if name in RESPONSE_OVERRIDES}
    if call.principal is None:
        refused = sorted(set(given) - _ANONYMOUS_OVERRIDES)
        if refused:
            raise OssError.from_code(
                "AccessDenied", f"Anonymous requests may override only Content-Type; "
                f"{refused[0]} needs a signed request.")
    return {RESPONSE_OVERRIDES[name]: value for name, value in given.items()}


def _close(content: bytes | BinaryIO) -> None:
    if not isinstance(content, bytes):
        content.close()


def not_modified_headers(meta: ObjectMeta) -> dict[str, str]:
    """A 304's headers: the validators, and the stored Cache-Control and Expires the 200
    carries (RFC 9110 15.4.5: a 304 sends what would have updated the cached response)."""
    headers = {"ETag": meta.etag, "Last-Modified": dates.rfc1123(meta.last_modified)}
    for name, value in meta.headers:
        if name.lower() in _REFRESHED_BY_304:
            headers[name.title()] = value
    if gzip_varies(meta):
        headers["Vary"] = "Accept-Encoding"
    return headers


_REFRESHED_BY_304 = frozenset({"cache-control", "expires"})


def _not_modified(meta: ObjectMeta) -> web.Response:
    return web.Response(status=304, headers=not_modified_headers(meta))


def object_metadata(call: Call) -> Upload:
    """What a PutObject or InitiateMultipartUpload request says about the object to be: its
    Content-Type (else guessed from the key), x-oss-meta-* and the stored content headers.
    Refuses what this server cannot honour. ``length`` is 0: the caller sets the body's."""
    headers = call.headers
    if headers.get("x-oss-object-acl", "default").lower() != "default":  # any case, as OSS
        raise OssError.from_code("NotImplemented", "Object ACLs are not supported; use the "
                                 "bucket ACL.", Header="x-oss-object-acl")
    key = call.target.key
    content_type = (headers.get("content-type") or mimetypes.guess_type(key)[0]
                    or "application/octet-stream")
    return Upload(
        content_type=content_type,
        length=0,
        user_meta=tuple((n, v) for n, v in headers.items() if n.startswith(_META_PREFIX)),
        headers=tuple((n, v) for n, v in headers.items() if n in STORED_HEADERS),
        forbid_overwrite=forbid_overwrite(call),
    )


def forbid_overwrite(call: Call) -> bool:
    """``x-oss-forbid-overwrite: true`` (any case); absent or anything else: overwrite."""
    return call.headers.get("x-oss-forbid-overwrite", "").strip().lower() == "true"


def body_upload(call: Call, described: Upload) -> Upload:
    """``described`` with the request body's length and digests (PutObject, UploadPart)."""
    headers = call.headers
    length = call.request.content_length
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if length is None and not chunked:
        raise OssError.from_code("MissingContentLength")
    return replace(described, length=length, content_md5=headers.get("content-md5"),
                   content_sha256=headers.get("x-oss-content-sha256"))


def _upload(call: Call) -> Upload:
    return body_upload(call, object_metadata(call))


def _copy_source(value: str) -> tuple[str, str]:
    """``/bucket/key`` (URL-encoded, as the SDKs send it) of ``x-oss-copy-source``."""
    from urllib.parse import unquote

    path, _, query = value.partition("?")
    if query:
        raise OssError.from_code("NotImplemented", "Copying a source version is not "
                                 "supported.", Header=_COPY_SOURCE)
    bucket, _, key = unquote(path).removeprefix("/").partition("/")
    if not bucket or not key:
        raise OssError.from_code("InvalidArgument", "x-oss-copy-source must name the source "
                                 "bucket and key: /bucket/key.", ArgumentName=_COPY_SOURCE,
                                 ArgumentValue=value)
    validate_object_key(key)
    return bucket, key


def _reader(content: bytes | BinaryIO) -> Callable[[], Awaitable[bytes]]:
    """The source's content as the chunk reader ``ObjectService.put`` takes (b"" at the end);
    file reads run in worker threads."""
    if isinstance(content, bytes):
        chunks = [content] if content else []

        async def read_bytes() -> bytes:
            return chunks.pop() if chunks else b""
        return read_bytes

    async def read_file() -> bytes:
        return await asyncio.to_thread(content.read, _COPY_CHUNK)
    return read_file


async def send_continue(request: web.BaseRequest) -> None:
    """Answer ``Expect: 100-continue`` once the request is known to be acceptable."""
    if request.version >= (1, 1) and \
            request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0


# --- listings -------------------------------------------------------------------------------

def _owner(bucket: Bucket) -> Owner:
    return Owner(bucket.owner_id, bucket.owner_id)


def _entry(meta: ObjectMeta, owner: Owner | None, storage_class: str) -> ObjectEntry:
    return ObjectEntry(key=meta.key, last_modified=dates.iso8601_ms(meta.last_modified),
                       etag=meta.etag, type=meta.object_type, size=meta.size,
                       storage_class=storage_class, owner=owner)


def encoding_type(call: Call) -> str:
    """``encoding-type``: absent (""), or ``url`` (names in the reply URL-encoded); else 400."""
    encoding = call.query.get("encoding-type", "")
    if encoding not in ("", codec.URL):
        raise OssError.from_code("InvalidArgument", "encoding-type must be url.",
                                 ArgumentName="encoding-type", ArgumentValue=encoding)
    return encoding


def _listing_query(call: Call, after: str) -> tuple[listing.ListQuery, str]:
    query = call.query
    encode = encoding_type(call)
    return listing.ListQuery(
        prefix=listing.check_prefix("prefix", query.get("prefix", "")),
        delimiter=listing.check_prefix("delimiter", query.get("delimiter", "")),
        after=listing.check_prefix("marker", after),
        max_keys=listing.parse_max_keys(query.get("max-keys")),
    ), encode


class ObjectHandlers:
    """The object operations, bound to one ``ObjectService``."""

    def __init__(self, objects: ObjectService) -> None:
        self.objects = objects

    def table(self) -> dict[str, Handler]:
        return {
            "PutObject": self.put_object,
            "GetObject": self.get_object,
            "HeadObject": self.head_object,
            "GetObjectMeta": self.get_object_meta,
            "GetObjectAcl": self.get_object_acl,
            "DeleteObject": self.delete_object,
            "ListObjects": self.list_objects,
            "ListObjectsV2": self.list_objects_v2,
            "DeleteMultipleObjects": self.delete_multiple_objects,
        }

    async def put_object(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        validate_object_key(call.target.key)
        if _COPY_SOURCE in call.headers:
            return await self.copy_object(call, bucket)
        upload = _upload(call)
        check_upload(upload)
        await send_continue(call.request)
        meta = await self.objects.put(bucket, call.target.key, upload,
                                      call.request.content.readany)
        md5 = base64.b64encode(bytes.fromhex(meta.etag.strip('"'))).decode()
        return web.Response(headers={"ETag": meta.etag, "Content-MD5": md5,
                                     **crc_headers(meta.crc64)})

    async def copy_object(self, call: Call, bucket: Bucket) -> web.StreamResponse:
        """CopyObject (PutObject with ``x-oss-copy-source: /bucket/key``): the caller needs
        PutObject on the target (checked by the pipeline) and GetObject on the source."""
        headers = call.headers
        source_bucket_name, source_key = _copy_source(headers[_COPY_SOURCE])
        directive = headers.get("x-oss-metadata-directive", "COPY")
        if directive.upper() not in ("COPY", "REPLACE"):  # any case, as OSS
            raise OssError.from_code("InvalidArgument", "x-oss-metadata-directive must be COPY "
                                     "or REPLACE.", ArgumentName="x-oss-metadata-directive",
                                     ArgumentValue=directive)
        source_bucket = (bucket if source_bucket_name == bucket.name
                         else await call.services.buckets.find(source_bucket_name))
        call.authorize(GET_OBJECT, source_bucket_name, source_bucket, source_key)
        if source_bucket is None:
            raise OssError.from_code("NoSuchBucket", BucketName=source_bucket_name)
        meta, content = await self.objects.open(source_bucket, source_key)
        try:
            conditions = {name: headers[f"x-oss-copy-source-{name}"] for name in _COPY_CONDITIONS
                          if f"x-oss-copy-source-{name}" in headers}
            if preconditions.evaluate(conditions, meta) == preconditions.NOT_MODIFIED:
                _close(content)
                return _not_modified(meta)
            if directive.upper() == "REPLACE":
                replaced = _upload(call)
                upload = Upload(content_type=replaced.content_type, length=meta.size,
                                user_meta=replaced.user_meta, headers=replaced.headers,
                                forbid_overwrite=replaced.forbid_overwrite)
            else:
                upload = Upload(content_type=meta.content_type, length=meta.size,
                                user_meta=meta.user_meta, headers=meta.headers,
                                forbid_overwrite=forbid_overwrite(call))
        except BaseException:
            _close(content)
            raise
        try:
            copied = await self.objects.put(bucket, call.target.key, upload, _reader(content))
        finally:
            _close(content)
        response = xml_response(encode_copy_object_result(
            CopyObjectResult(copied.etag, dates.iso8601_ms(copied.last_modified))))
        response.headers["ETag"] = copied.etag  # oss2 reads the header, oss-v2 the body
        response.headers.update(crc_headers(copied.crc64))
        return response

    async def get_object(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        overrides = _overrides(call)
        meta, content = await self.objects.open(bucket, call.target.key)
        try:
            if preconditions.evaluate(call.headers, meta) == preconditions.NOT_MODIFIED:
                _close(content)
                return _not_modified(meta)
            span = parse_range(call.headers.get("range"), meta.size)
        except BaseException:
            _close(content)
            raise
        if span is None:
            first, last, status = 0, meta.size - 1, 200
            response_headers = object_headers(meta, bucket.storage_class, whole=True)
        else:
            (first, last), status = span, 206
            response_headers = object_headers(meta, bucket.storage_class, whole=False)
            response_headers["Content-Range"] = f"bytes {first}-{last}/{meta.size}"
        for name, value in overrides.items():
            response_headers[name] = value
        if isinstance(content, bytes):
            return web.Response(status=status, body=content[first:last + 1],
                                headers=response_headers)
        return BlobResponse(content, first, last - first + 1, status=status,
                            headers=response_headers)

    async def head_object(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        meta = await self.objects.head(bucket, call.target.key)
        if preconditions.evaluate(call.headers, meta) == preconditions.NOT_MODIFIED:
            return _not_modified(meta)
        response = web.StreamResponse(headers=object_headers(meta, bucket.storage_class,
                                                              whole=True))
        response.content_length = meta.size
        return response

    async def get_object_meta(self, call: Call) -> web.StreamResponse:
        """``HEAD ?objectMeta``: OSS's light HeadObject (ETag, size, Last-Modified only)."""
        meta = await self.objects.head(call.require_bucket(), call.target.key)
        response = web.StreamResponse(headers={
            "ETag": meta.etag, "Last-Modified": dates.rfc1123(meta.last_modified)})
        response.content_length = meta.size
        return response

    async def get_object_acl(self, call: Call) -> web.StreamResponse:
        """Objects carry no ACL of their own here: ``default`` (the bucket's) is the answer."""
        bucket = call.require_bucket()
        await self.objects.head(bucket, call.target.key)  # NoSuchKey for a missing object
        return xml_response(encode_access_control_policy(
            AccessControlPolicy(_owner(bucket), "default")))

    async def delete_object(self, call: Call) -> web.StreamResponse:
        await self.objects.delete(call.require_bucket(), call.target.key)
        return web.Response(status=204)

    async def delete_multiple_objects(self, call: Call) -> web.StreamResponse:
        """DeleteMultipleObjects (``POST /?delete``): up to 1,000 keys, each needing
        ``oss:DeleteObject``; every key is authorized before any is deleted."""
        bucket = call.require_bucket()
        encoding = encoding_type(call)
        request = decode_delete(call.body, validate_object_key)
        if not request.quiet:
            require_writable(request.keys, encoding)
        for key in request.keys:
            call.authorize(DELETE_OBJECT, bucket.name, bucket, key)
        for key in request.keys:
            await self.objects.delete(bucket, key)
        return listing_response(encode_delete_result, DeleteResult(
            encoding, () if request.quiet else request.keys))

    async def list_objects(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        marker = call.query.get("marker", "")
        query, encoding = _listing_query(call, marker)
        page = await self.objects.list(bucket, query)
        owner = _owner(bucket)
        return listing_response(encode_list_bucket_result, ListBucketResult(
            name=bucket.name, prefix=query.prefix, marker=marker, max_keys=query.max_keys,
            delimiter=query.delimiter, encoding_type=encoding, is_truncated=page.truncated,
            next_marker=page.last if page.truncated else None,
            contents=tuple(_entry(meta, owner, bucket.storage_class) for meta in page.objects),
            common_prefixes=tuple(page.prefixes)))

    async def list_objects_v2(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        token = call.query.get("continuation-token", "")
        start_after = call.query.get("start-after", "")
        after = listing.decode_token(token) if token else start_after
        query, encoding = _listing_query(call, after)
        page = await self.objects.list(bucket, query)
        owner = _owner(bucket) if call.query.get("fetch-owner") == "true" else None
        return listing_response(encode_list_bucket_v2_result, ListBucketV2Result(
            name=bucket.name, prefix=query.prefix, start_after=start_after or None,
            continuation_token=token or None, max_keys=query.max_keys,
            delimiter=query.delimiter, encoding_type=encoding, is_truncated=page.truncated,
            next_continuation_token=listing.encode_token(page.last) if page.truncated else None,
            contents=tuple(_entry(meta, owner, bucket.storage_class) for meta in page.objects),
            common_prefixes=tuple(page.prefixes),
            key_count=len(page.objects) + len(page.prefixes)))
