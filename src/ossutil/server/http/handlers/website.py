"""Website, CORS and Referer handlers: the three configurations (put, get, delete), the CORS
preflight (``OPTIONS``), and the static-website reads (``serve_site``).

A configuration is decoded (shape: MalformedXML), checked by its domain module (OSS's value
rules), and stored as the document GetBucket* answers, so what is read back is byte for byte
what OSS would send for it. Deletes answer 204 as OSS does; OSS has no DeleteBucketReferer
(a Referer configuration is turned off by putting an open one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from aiohttp import web

from ossutil.server.buckets import cors, referer, website
from ossutil.server.http.responses import xml_response
from ossutil.server.models import BucketConfig
from ossutil.server.operations import GET_OBJECT, HEAD_OBJECT
from ossutil.wire.cors_xml import (
    CorsConfiguration,
    decode_cors_configuration,
    encode_cors_configuration,
)
from ossutil.wire.errors import OssError
from ossutil.wire.referer_xml import (
    DEFAULT,
    RefererConfiguration,
    decode_referer_configuration,
    encode_referer_configuration,
)
from ossutil.wire.website_xml import (
    WebsiteConfiguration,
    decode_website_configuration,
    encode_website_configuration,
)
from ossutil.wire.xml import UnwritableXmlError

if TYPE_CHECKING:
    from ossutil.server.http.call import Call, Handler
    from ossutil.server.http.handlers.object import ObjectHandlers

T = TypeVar("T")


async def _store(call: Call, kind: BucketConfig, document: bytes | None) -> None:
    await call.services.buckets.set_config(
        call.require_bucket(), kind, None if document is None else document.decode("utf-8"))


def _stored(bucket_name: str, document: str | None, missing: str) -> web.StreamResponse:
    """GetBucket*'s answer: the stored document, or the ``missing`` error when none is."""
    if document is None:
        raise OssError.from_code(missing, BucketName=bucket_name)
    return xml_response(document.encode("utf-8"))


async def _put(call: Call, kind: BucketConfig, document: bytes) -> web.StreamResponse:
    await _store(call, kind, document)
    return web.Response()


async def _delete(call: Call, kind: BucketConfig) -> web.StreamResponse:
    await _store(call, kind, None)
    return web.Response(status=204)


def _document(encode: Callable[[T], bytes], config: T) -> bytes:
    """The document GetBucket* will answer; a value XML cannot carry (a control character
    sent as ``&#1;``) is 400 InvalidArgument, nothing stored (the answer could not hold it)."""
    try:
        return encode(config)
    except UnwritableXmlError:
        raise OssError.from_code("InvalidArgument", "A value of the configuration holds a "
                                 "character XML cannot carry.") from None


async def put_bucket_website(call: Call) -> web.StreamResponse:
    config = website.normalize(decode_website_configuration(call.body))
    return await _put(call, BucketConfig.WEBSITE, _document(_website_document, config))


async def get_bucket_website(call: Call) -> web.StreamResponse:
    bucket = call.require_bucket()
    return _stored(bucket.name, bucket.website, "NoSuchWebsiteConfiguration")


async def delete_bucket_website(call: Call) -> web.StreamResponse:
    return await _delete(call, BucketConfig.WEBSITE)


async def put_bucket_cors(call: Call) -> web.StreamResponse:
    config = cors.normalize(decode_cors_configuration(call.body))
    return await _put(call, BucketConfig.CORS, _document(_cors_document, config))


async def get_bucket_cors(call: Call) -> web.StreamResponse:
    bucket = call.require_bucket()
    return _stored(bucket.name, bucket.cors, "NoSuchCORSConfiguration")


async def delete_bucket_cors(call: Call) -> web.StreamResponse:
    return await _delete(call, BucketConfig.CORS)


async def put_bucket_referer(call: Call) -> web.StreamResponse:
    config = referer.normalize(decode_referer_configuration(call.body))
    return await _put(call, BucketConfig.REFERER, _document(_referer_document, config))


async def get_bucket_referer(call: Call) -> web.StreamResponse:
    bucket = call.require_bucket()
    if bucket.referer is None:  # never configured: every referer is allowed
        return xml_response(encode_referer_configuration(DEFAULT, response=True))
    return xml_response(bucket.referer.encode("utf-8"))


async def option_object(call: Call) -> web.StreamResponse:
    """The CORS preflight: 200 with the matched rule's Access-Control-* headers, else 403
    AccessForbidden (no rule matches, the bucket has no CORS configuration, or the request
    lacks ``Origin`` or ``Access-Control-Request-Method``)."""
    bucket = call.require_bucket()
    if bucket.cors is None:
        raise cors.forbidden(cors.NOT_ENABLED)
    origin = call.headers.get("origin")
    method = call.headers.get("access-control-request-method")
    if not origin or not method:
        raise cors.forbidden()
    requested = cors.request_headers(call.headers.get("access-control-request-headers"))
    rule = cors.match(cors.stored(bucket.cors), origin, method, requested)
    if rule is None:
        raise cors.forbidden()
    response = web.Response()
    for name, value in cors.grant(rule, origin, preflight_headers=requested, preflight=True):
        response.headers[name] = value
    return response


def _website_document(config: WebsiteConfiguration) -> bytes:
    return encode_website_configuration(config, response=True)


def _cors_document(config: CorsConfiguration) -> bytes:
    return encode_cors_configuration(config, response=True)


def _referer_document(config: RefererConfiguration) -> bytes:
    return encode_referer_configuration(config, response=True)


HANDLERS: dict[str, Handler] = {
    "PutBucketWebsite": put_bucket_website,
    "GetBucketWebsite": get_bucket_website,
    "DeleteBucketWebsite": delete_bucket_website,
    "PutBucketCors": put_bucket_cors,
    "GetBucketCors": get_bucket_cors,
    "DeleteBucketCors": delete_bucket_cors,
    "PutBucketReferer": put_bucket_referer,
    "GetBucketReferer": get_bucket_referer,
    "OptionObject": option_object,
}


SITE_HANDLER = "-site"  # the table entry of static-website reads (no operation's name)


class SiteReader:
    """Static-website reads (see ``buckets/website.py`` for the rules), served by the object
    handlers: each key read is authorized as an anonymous GetObject of that key."""

    def __init__(self, objects: ObjectHandlers) -> None:
        self.objects = objects

    async def handler(self, call: Call) -> web.StreamResponse:
        bucket = call.require_bucket()
        assert bucket.website is not None  # the pipeline sends site requests only
        return await self.serve(call, website.stored(bucket.website))

    async def serve(self, call: Call, site: website.Site) -> web.StreamResponse:
        key = call.target.key
        route = site.route(key, call.headers, missing=False)
        if route is not None:
            return await self._follow(call, site, route)
        index = site.index_key(key)
        found = await self._read(call, key if index is None else index)
        if found is not None:
            return found
        route = site.route(key, call.headers, missing=True)
        if route is not None:
            return await self._follow(call, site, route)
        sub = None if index is not None else site.sub_dir_key(key)
        if sub is not None:
            if site.type == 0:
                if await self._exists(call, sub):
                    return web.Response(status=302, headers={
                        "Location": quote(f"/{key}/", safe="/~")})
            else:  # type 2: the sub-directory's index document, read in place
                found = await self._read(call, sub)
                if found is not None:
                    return found
        return await self._error_document(call, site)

    async def _follow(self, call: Call, site: website.Site,
                      route: website.Route) -> web.StreamResponse:
        """A matched routing rule: the redirect, or the other key served in place (its
        absence: the error document)."""
        if route.external:
            protocol = route.protocol or ("https" if call.request.secure else "http")
            host = route.host or call.headers.get("host", "")
            location = f"{protocol}://{host}/{quote(route.key, safe='/~')}"
            query = call.request.raw_path.partition("?")[2]
            if route.pass_query and query:
                location += "?" + query
            return web.Response(status=route.code, headers={"Location": location})
        found = await self._read(call, route.key) if route.key else None
        if found is not None:
            return found
        return await self._error_document(call, site)

    def _call_for(self, call: Call, key: str, *, plain: bool = False) -> Call:
        headers = call.headers
        if plain:  # the error document: no conditions or ranges of the page asked for
            headers = {name: value for name, value in headers.items()
                       if name not in ("if-none-match", "if-modified-since", "if-match",
                                       "if-unmodified-since", "range")}
        operation = HEAD_OBJECT if call.request.method == "HEAD" else GET_OBJECT
        return replace(call, target=replace(call.target, key=key), operation=operation,
                       headers=headers)

    async def _read(self, call: Call, key: str, *,
                    plain: bool = False) -> web.StreamResponse | None:
        """The object's reply, or None when there is no such key."""
        sub_call = self._call_for(call, key, plain=plain)
        sub_call.authorize(GET_OBJECT, call.target.bucket, call.bucket, key)
        try:
            if sub_call.operation is HEAD_OBJECT:
                return await self.objects.head_object(sub_call)
            return await self.objects.get_object(sub_call)
        except OssError as error:
            if error.code == "NoSuchKey":
                return None
            raise

    async def _exists(self, call: Call, key: str) -> bool:
        call.authorize(GET_OBJECT, call.target.bucket, call.bucket, key)
        try:
            await self.objects.objects.head(call.require_bucket(), key)
        except OssError as error:
            if error.code == "NoSuchKey":
                return False
            raise
        return True

    async def _error_document(self, call: Call, site: website.Site) -> web.StreamResponse:
        missing = OssError.from_code("NoSuchKey", Key=call.target.key)
        if site.error_key is None:
            raise missing
        found = await self._read(call, site.error_key, plain=True)
        if found is None:
            raise missing
        found.set_status(site.error_status)
        return found
