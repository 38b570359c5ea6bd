"""What a browser-facing bucket adds to every request and reply (issue 12): hotlink
protection before the handler, the static-website decision, and on the way out CORS headers,
the endpoint's forced download of HTML, and gzip.

The pipeline calls ``check_referer`` and ``is_site_request`` once it knows the bucket and the
principal, notes the bucket on the request (``note``), and hands every reply, errors included,
to ``finish``. The rules themselves are the domain's (``buckets/cors.py``, ``referer.py``,
``website.py``); this module applies them to aiohttp's request and response.

Gzip (OSS's rule for GetObject with ``Accept-Encoding: gzip``): a 200 whole-object reply of at
least 1 KiB whose type is text (``text/*``, JSON, JavaScript, XML, SVG ...) and which has no
stored ``Content-Encoding`` goes out gzip-compressed, chunked (no Content-Length; OSS sends
none either), without ``Content-MD5`` (it is the stored bytes' digest); ETag, Last-Modified
and ``x-oss-hash-crc64ecma`` still describe the stored object, whose bytes are unchanged.
Compression runs in worker threads (the event loop never compresses more than 8 KiB).
"""

from __future__ import annotations

import asyncio
import zlib
from typing import TYPE_CHECKING, BinaryIO

from aiohttp import web

from ossutil.server.buckets import cors, referer, website
from ossutil.server.operations import (
    GET_OBJECT,
    HEAD_OBJECT,
    LIST_OBJECTS,
    LIST_OBJECTS_V2,
    OPTION_OBJECT,
    Operation,
)

if TYPE_CHECKING:
    from aiohttp.abc import AbstractStreamWriter

    from ossutil.server.auth.keyring import Principal
    from ossutil.server.models import Bucket

NOTE = "ossutil.web"  # (bucket, operation, custom domain) in aiohttp's request mapping
GZIP_MIN = 1024
_INLINE_GZIP = 8 * 1024
_GZIP_CHUNK = 256 * 1024
_COMPRESSIBLE = frozenset({
    "application/javascript", "application/x-javascript", "application/json",
    "application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
    "application/manifest+json", "application/ld+json", "image/svg+xml",
})
_SITE_OPERATIONS = frozenset({GET_OBJECT.name, HEAD_OBJECT.name, LIST_OBJECTS.name,
                              LIST_OBJECTS_V2.name})


def note(request: web.BaseRequest, bucket: Bucket | None, operation: Operation,
         custom_domain: str) -> None:
    request[NOTE] = (bucket, operation, custom_domain)


def check_referer(bucket: Bucket, operation: Operation, headers: dict[str, str]) -> None:
    """403 AccessDenied when the bucket's hotlink protection refuses this request: only
    anonymous and presigned requests (no ``Authorization`` header) are checked, as OSS."""
    if bucket.referer is None or operation is OPTION_OBJECT or "authorization" in headers:
        return
    referer.stored(bucket.referer).check(headers.get("referer"))


def site(bucket: Bucket | None, operation: Operation, principal: Principal | None,
         method: str) -> website.Site | None:
    """The bucket's site when this request is a site request: an anonymous GET or HEAD of an
    object or of the bucket's root, on a bucket with a website configuration."""
    if (bucket is None or bucket.website is None or principal is not None
            or method not in ("GET", "HEAD") or operation.name not in _SITE_OPERATIONS):
        return None
    return website.stored(bucket.website)


async def finish(request: web.BaseRequest, response: web.StreamResponse) -> web.StreamResponse:
    """The reply with what the bucket's configuration adds (see the module docstring)."""
    noted = request.get(NOTE)
    if noted is None:
        return response
    bucket, operation, custom_domain = noted
    if bucket is None:
        return response
    if bucket.cors is not None:
        _cors(request, response, bucket.cors, operation)
    if operation.name == GET_OBJECT.name and 200 <= response.status < 300:
        if not custom_domain and "Authorization" not in request.headers:
            _force_download(response)
        if response.status == 200 and _wants_gzip(request) and _compressible(response):
            return await _gzip(response)
    return response


def _cors(request: web.BaseRequest, response: web.StreamResponse, document: str,
          operation: Operation) -> None:
    config = cors.stored(document)
    if config.response_vary:
        _vary(response, "Origin")
    if operation is OPTION_OBJECT:
        return  # the preflight handler wrote its own
    origin = request.headers.get("Origin")
    if not origin:
        return
    rule = cors.match(config, origin, request.method)
    if rule is None:
        return
    for name, value in cors.grant(rule, origin):
        response.headers[name] = value


def _vary(response: web.StreamResponse, name: str) -> None:
    present = response.headers.get("Vary")
    if present is None:
        response.headers["Vary"] = name
    elif name.lower() not in (v.strip().lower() for v in present.split(",")):
        response.headers["Vary"] = f"{present}, {name}"


def _force_download(response: web.StreamResponse) -> None:
    """OSS's rule for its default domain: an HTML object opened in a browser there is
    downloaded (``Content-Disposition: attachment``, ``x-oss-force-download: true``); a site
    renders on a bound domain."""
    content_type = media_type(response.headers.get("Content-Type", ""))
    if content_type not in ("text/html", "application/xhtml+xml"):
        return
    response.headers["x-oss-force-download"] = "true"
    disposition = response.headers.get("Content-Disposition", "")
    if not disposition.lower().startswith("attachment"):
        response.headers["Content-Disposition"] = "attachment"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def compressible(content_type: str, size: int, content_encoding: str | None) -> bool:
    """OSS's gzip rule for one object: text types, at least 1 KiB, not already encoded."""
    if size < GZIP_MIN or (content_encoding and content_encoding.lower() != "identity"):
        return False
    kind = media_type(content_type)
    return kind.startswith("text/") or kind in _COMPRESSIBLE


def accepts_gzip(accept_encoding: str | None) -> bool:
    """``Accept-Encoding`` names gzip (or ``*``) with a non-zero weight."""
    if not accept_encoding:
        return False
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        weight = params.strip().lower()
        if weight.startswith("q="):
            try:
                if float(weight[2:]) <= 0:
                    continue
            except ValueError:
                continue
        return True
    return False


def _wants_gzip(request: web.BaseRequest) -> bool:
    # HTTP/1.0 has no chunked encoding: such a client gets the bytes as stored
    return request.version >= (1, 1) and accepts_gzip(request.headers.get("Accept-Encoding"))


def _compressible(response: web.StreamResponse) -> bool:
    size = _size(response)
    return size is not None and compressible(response.headers.get("Content-Type", ""), size,
                                             response.headers.get("Content-Encoding"))


def _size(response: web.StreamResponse) -> int | None:
    if isinstance(response, web.Response):
        body = response.body
        return len(body) if isinstance(body, bytes) else None
    source = getattr(response, "source", None)
    if source is None:
        return None
    _, _, count = source()
    return int(count)


def _gzip_bytes(body: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip container
    return compressor.compress(body) + compressor.flush()


def _encoded_headers(response: web.StreamResponse) -> dict[str, str]:
    headers = {name: value for name, value in response.headers.items()
               if name.lower() not in ("content-length", "content-md5")}
    headers["Content-Encoding"] = "gzip"
    return headers


async def _gzip(response: web.StreamResponse) -> web.StreamResponse:
    headers = _encoded_headers(response)
    out: web.StreamResponse
    if isinstance(response, web.Response):
        body = response.body
        assert isinstance(body, bytes)
        packed = (_gzip_bytes(body) if len(body) <= _INLINE_GZIP
                  else await asyncio.to_thread(_gzip_bytes, body))
        out = GzipBytesResponse(packed, status=response.status, headers=headers)
    else:
        handle, offset, count = response.source()  # type: ignore[attr-defined]
        out = GzipBlobResponse(handle, offset, count, status=response.status, headers=headers)
    _vary(out, "Accept-Encoding")
    return out


class GzipBytesResponse(web.StreamResponse):
    """Compressed bytes sent chunked (OSS sends a gzip reply without Content-Length)."""

    def __init__(self, body: bytes, *, status: int, headers: dict[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self._body_bytes = body
        self.enable_chunked_encoding()

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        if writer is not None and request.method != "HEAD":
            await writer.write(self._body_bytes)
            await super().write_eof()
        return writer


class GzipBlobResponse(web.StreamResponse):
    """A blob's bytes compressed as they are read (256 KiB reads, each read and compressed in
    a worker thread), sent chunked; the blob is closed when done."""

    def __init__(self, handle: BinaryIO, offset: int, count: int, *, status: int,
                 headers: dict[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self._handle = handle
        self._offset = offset
        self._count = count
        self.enable_chunked_encoding()

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        try:
            writer = await super().prepare(request)
            if writer is None:
                return writer
            compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
            offset, remaining = self._offset, self._count
            while remaining:
                size = min(_GZIP_CHUNK, remaining)
                packed, got = await asyncio.to_thread(self._read_packed, compressor, offset,
                                                      size)
                if not got:
                    raise OSError(f"blob ended {remaining} bytes early")
                if packed:
                    await writer.write(packed)
                offset += got
                remaining -= got
            await writer.write(compressor.flush())
            await super().write_eof()
            return writer
        finally:
            self._handle.close()

    def _read_packed(self, compressor: zlib._Compress, offset: int,
                     size: int) -> tuple[bytes, int]:
        self._handle.seek(offset)
        chunk = self._handle.read(size)
        return compressor.compress(chunk), len(chunk)
