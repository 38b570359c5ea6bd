"""Bucket handlers: PutBucket, DeleteBucket, GetBucketInfo, GetBucketLocation, ACL, ListBuckets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ossutil.server.http.handlers.cname import xml_response
from ossutil.server.models import Bucket
from ossutil.wire import dates
from ossutil.wire import xml as wxml
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from ossutil.server.http.app import Call


def _owner(owner_id: str) -> wxml.Node:
    return ("Owner", [("ID", owner_id), ("DisplayName", owner_id)])


def _storage_class(body: bytes) -> str | None:
    if not body.strip():
        return None
    root = wxml.parse(body)
    if wxml.local_name(root.tag) != "CreateBucketConfiguration":
        raise OssError.from_code("MalformedXML")
    return wxml.text(root, "StorageClass")


async def put_bucket(call: Call) -> web.Response:
    principal = call.require_principal()
    await call.app.buckets.create(call.target.bucket, principal.owner_id,
                                  call.request.headers.get("x-oss-acl"), _storage_class(call.body))
    return web.Response()


async def delete_bucket(call: Call) -> web.Response:
    await call.app.buckets.delete(call.require_bucket())
    return web.Response(status=204)


def _endpoints(call: Call) -> tuple[str, str]:
    domain = call.app.settings.endpoint_domain
    return domain, domain.replace(f"oss-{call.app.settings.region}",
                                  f"oss-{call.app.settings.region}-internal", 1)


def _bucket_fields(call: Call, bucket: Bucket) -> list[wxml.Node]:
    extranet, intranet = _endpoints(call)
    return [
        ("CreationDate", dates.iso8601_ms(bucket.created_at)),
        ("ExtranetEndpoint", extranet),
        ("IntranetEndpoint", intranet),
        ("Location", f"oss-{bucket.region}"),
        ("Name", bucket.name),
        ("Region", bucket.region),
        ("StorageClass", bucket.storage_class),
    ]


async def get_bucket_info(call: Call) -> web.Response:
    bucket = call.require_bucket()
    fields = _bucket_fields(call, bucket) + [
        ("AccessMonitor", "Disabled"),
        ("CrossRegionReplication", "Disabled"),
        ("TransferAcceleration", "Disabled"),
        ("DataRedundancyType", "LRS"),
        _owner(bucket.owner_id),
        ("AccessControlList", [("Grant", bucket.acl)]),
    ]
    return xml_response(wxml.emit(("BucketInfo", [("Bucket", fields)])))


async def get_bucket_location(call: Call) -> web.Response:
    bucket = call.require_bucket()
    return xml_response(wxml.emit(("LocationConstraint", f"oss-{bucket.region}")))


async def get_bucket_acl(call: Call) -> web.Response:
    bucket = call.require_bucket()
    return xml_response(wxml.emit(("AccessControlPolicy", [
        _owner(bucket.owner_id), ("AccessControlList", [("Grant", bucket.acl)])])))


async def put_bucket_acl(call: Call) -> web.Response:
    acl = call.request.headers.get("x-oss-acl")
    if not acl:
        raise OssError.from_code("InvalidArgument", "The x-oss-acl header is required.")
    await call.app.buckets.set_acl(call.require_bucket(), acl)
    return web.Response()


async def list_buckets(call: Call) -> web.Response:
    principal = call.require_principal()
    prefix = call.query.get("prefix", "")
    buckets = [b for b in await call.app.buckets.list(principal.owner_id)
               if b.name.startswith(prefix)]
    entries: list[wxml.Node] = [("Bucket", _bucket_fields(call, b)) for b in buckets]
    parts: list[wxml.Node] = [_owner(principal.owner_id)]
    if prefix:
        parts.append(("Prefix", prefix))
    parts.append(("Buckets", entries))
    return xml_response(wxml.emit(("ListAllMyBucketsResult", parts)))
