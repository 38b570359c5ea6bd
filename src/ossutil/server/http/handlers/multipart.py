"""Multipart upload handlers: InitiateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads.

Decode query, headers and the CompleteMultipartUpload body, call ``MultipartService``, encode
OSS's XML with ``wire.multipart_xml`` (``encoding-type=url`` URL-encodes the keys, prefixes,
markers and delimiter in the reply, as for object listings).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from ossutil.server.http import router
from ossutil.server.http.handlers.object import (
    body_upload,
    crc_headers,
    encoding_type,
    forbid_overwrite,
    object_metadata,
    send_continue,
)
from ossutil.server.http.responses import listing_response, require_writable
from ossutil.server.models import Bucket
from ossutil.server.naming import validate_object_key
from ossutil.server.objects import listing
from ossutil.server.objects.multipart import (
    MAX_LISTED,
    MAX_PART_NUMBER,
    MultipartService,
    PartChoice,
    UploadsQuery,
    parse_part_number,
)
from ossutil.server.objects.service import check_upload
from ossutil.wire import dates, numbers
from ossutil.wire.errors import OssError
from ossutil.wire.multipart_xml import (
    CompleteMultipartUploadResult,
    InitiateMultipartUploadResult,
    ListMultipartUploadsResult,
    ListPartsResult,
    PartEntry,
    UploadEntry,
    decode_complete,
    encode_complete_result,
    encode_initiate_result,
    encode_list_parts,
    encode_list_uploads,
)

if TYPE_CHECKING:
    from ossutil.server.http.call import Call, Handler

_COMPLETE_ALL = "x-oss-complete-all"


def _count(call: Call, name: str, low: int, high: int, default: int) -> int:
    return numbers.parse_int(call.query.get(name), name, low, high, default=default)


def _upload_id(call: Call) -> str:
    upload_id = call.query.get("uploadId", "")
    if not upload_id:
        raise OssError.from_code("NoSuchUpload", UploadId=upload_id)
    return upload_id


def _complete_request(body: bytes) -> list[PartChoice]:
    return [PartChoice(part.part_number, part.etag) for part in decode_complete(body)]


def _location(call: Call, bucket: Bucket) -> str:
    """The object's URL on the host the request came to (virtual-hosted or path style)."""
    host = call.headers.get("host", "")
    scheme = "https" if call.request.secure else "http"
    path = quote(call.target.key, safe="/")
    if router.host_name(host).lower().startswith(f"{bucket.name}."):
        return f"{scheme}://{host}/{path}"
    return f"{scheme}://{host}/{bucket.name}/{path}"


class MultipartHandlers:
    """The multipart operations, bound to one ``MultipartService``."""

    def __init__(self, multipart: MultipartService) -> None:
        self.multipart = multipart

    def table(self) -> dict[str, Handler]:
        return {
            "InitiateMultipartUpload": self.initiate,
            "UploadPart": self.upload_part,
            "CompleteMultipartUpload": self.complete,
            "AbortMultipartUpload": self.abort,
            "ListParts": self.list_parts,
            "ListMultipartUploads": self.list_uploads,
        }

    async def initiate(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        key = call.target.key
        validate_object_key(key)
        encoding = encoding_type(call)
        require_writable((key,), encoding)
        described = object_metadata(call)
        check_upload(described)  # the x-oss-meta-* size limit
        if described.forbid_overwrite:
            await self.multipart.refuse_existing(bucket, key)
        upload = await self.multipart.initiate(bucket, key, described.content_type,
                                               described.user_meta, described.headers)
        return listing_response(encode_initiate_result, InitiateMultipartUploadResult(
            bucket.name, key, upload.upload_id, encoding))

    async def upload_part(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        validate_object_key(call.target.key)
        if "x-oss-copy-source" in call.headers:
            raise OssError.from_code("NotImplemented", "UploadPartCopy is not supported.",
                                     Header="x-oss-copy-source")
        number = parse_part_number(call.query.get("partNumber"))
        upload_id = _upload_id(call)
        body = body_upload(call, object_metadata(call))
        check_upload(body)
        upload = await self.multipart.find(bucket, call.target.key, upload_id)
        await send_continue(call.request)  # the upload exists: let the body come
        part = await self.multipart.upload_part(upload, number, body,
                                                call.request.content.readany)
        md5 = base64.b64encode(bytes.fromhex(part.etag.strip('"'))).decode()
        return web.Response(headers={"ETag": part.etag, "Content-MD5": md5,
                                     **crc_headers(part.crc64)})

    async def complete(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        encoding = encoding_type(call)
        require_writable((call.target.key,), encoding)
        upload_id = _upload_id(call)
        complete_all = call.headers.get(_COMPLETE_ALL)
        if complete_all is not None:
            if complete_all.lower() != "yes":
                raise OssError.from_code("InvalidArgument", f"{_COMPLETE_ALL} must be yes.",
                                         ArgumentName=_COMPLETE_ALL, ArgumentValue=complete_all)
            if call.body.strip():
                raise OssError.from_code("InvalidArgument", f"With {_COMPLETE_ALL}: yes the "
                                         "request must have no body.",
                                         ArgumentName=_COMPLETE_ALL)
            chosen = None
        else:
            chosen = _complete_request(call.body)
        meta = await self.multipart.complete(bucket, call.target.key, upload_id, chosen,
                                             forbid_overwrite=forbid_overwrite(call))
        response = listing_response(encode_complete_result, CompleteMultipartUploadResult(
            _location(call, bucket), bucket.name, meta.key, meta.etag, encoding))
        response.headers["ETag"] = meta.etag  # oss2 reads the header, oss-v2 the body
        response.headers.update(crc_headers(meta.crc64))  # combined from the parts' CRCs
        return response

    async def abort(self, call: Call) -> web.StreamResponse:
        await self.multipart.abort(call.require_bucket(), call.target.key, _upload_id(call))
        return web.Response(status=204)

    async def list_parts(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        encoding = encoding_type(call)
        upload_id = _upload_id(call)
        limit = _count(call, "max-parts", 1, MAX_LISTED, MAX_LISTED)
        marker = _count(call, "part-number-marker", 0, MAX_PART_NUMBER, 0)
        upload, page = await self.multipart.list_parts(bucket, call.target.key, upload_id,
                                                       marker, limit)
        last = page.parts[-1].part_number if page.parts else marker
        return listing_response(encode_list_parts, ListPartsResult(
            bucket=bucket.name, key=upload.key, upload_id=upload.upload_id,
            storage_class=bucket.storage_class, part_number_marker=marker,
            next_part_number_marker=last, max_parts=limit, is_truncated=page.truncated,
            parts=tuple(PartEntry(part.part_number, dates.iso8601_ms(part.last_modified),
                                  part.etag, part.size) for part in page.parts),
            encoding_type=encoding))

    async def list_uploads(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        encoding = encoding_type(call)
        query = call.query
        uploads_query = UploadsQuery(
            prefix=listing.check_prefix("prefix", query.get("prefix", "")),
            delimiter=listing.check_prefix("delimiter", query.get("delimiter", "")),
            key_marker=listing.check_prefix("key-marker", query.get("key-marker", "")),
            upload_id_marker=query.get("upload-id-marker", ""),
            max_uploads=_count(call, "max-uploads", 1, MAX_LISTED, MAX_LISTED))
        page = await self.multipart.list_uploads(bucket, uploads_query)
        return listing_response(encode_list_uploads, ListMultipartUploadsResult(
            bucket=bucket.name, key_marker=uploads_query.key_marker,
            upload_id_marker=uploads_query.upload_id_marker,
            next_key_marker=page.next_key_marker,
            next_upload_id_marker=page.next_upload_id_marker,
            delimiter=uploads_query.delimiter, prefix=uploads_query.prefix,
            max_uploads=uploads_query.max_uploads, is_truncated=page.truncated,
            uploads=tuple(UploadEntry(upload.key, upload.upload_id,
                                      dates.iso8601_ms(upload.initiated))
                          for upload in page.uploads),
            common_prefixes=tuple(page.prefixes), encoding_type=encoding))
