"""Bucket handlers: PutBucket, DeleteBucket, GetBucketInfo, GetBucketLocation, ACL, ListBuckets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ossutil.server.http import router
from ossutil.server.http.responses import xml_response
from ossutil.server.models import Bucket
from ossutil.wire import dates
from ossutil.wire.bucket_xml import (
    AccessControlPolicy,
    BucketEntry,
    BucketInfo,
    ListAllMyBucketsResult,
    Owner,
    decode_create_bucket_configuration,
    encode_access_control_policy,
    encode_bucket_info,
    encode_list_buckets,
    encode_location,
)
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from ossutil.server.http.call import Call


def _owner(owner_id: str) -> Owner:
    return Owner(owner_id, owner_id)


def _storage_class(body: bytes) -> str | None:
    text = decode_create_bucket_configuration(body).storage_class
    return None if text is None else router.storage_class(text)  # any case; archive: 501


async def put_bucket(call: Call) -> web.Response:
    principal = call.require_principal()
    await call.services.buckets.create(call.target.bucket, principal.owner_id,
                                  call.headers.get("x-oss-acl"), _storage_class(call.body))
    return web.Response()


async def delete_bucket(call: Call) -> web.Response:
    await call.services.buckets.delete(call.require_bucket())
    return web.Response(status=204)


def _endpoints(call: Call) -> tuple[str, str]:
    domain = call.services.settings.endpoint_domain
    return domain, domain.replace(f"oss-{call.services.settings.region}",
                                  f"oss-{call.services.settings.region}-internal", 1)


def _bucket_entry(call: Call, bucket: Bucket) -> BucketEntry:
    extranet, intranet = _endpoints(call)
    return BucketEntry(creation_date=dates.iso8601_ms(bucket.created_at),
                       extranet_endpoint=extranet, intranet_endpoint=intranet,
                       location=f"oss-{bucket.region}", name=bucket.name, region=bucket.region,
                       storage_class=bucket.storage_class)


async def get_bucket_info(call: Call) -> web.Response:
    bucket = call.require_bucket()
    # Every element OSS sends (both SDKs' models parse them), with what this server has: no
    # resource groups, comment, logging, encryption or public-access block; Versioning is
    # omitted, as OSS does for a bucket whose versioning was never configured.
    return xml_response(encode_bucket_info(BucketInfo(
        entry=_bucket_entry(call, bucket), access_monitor="Disabled",
        cross_region_replication="Disabled", transfer_acceleration="Disabled",
        data_redundancy_type="LRS", block_public_access="false",
        owner=_owner(bucket.owner_id), acl=bucket.acl, sse_algorithm="None")))


async def get_bucket_location(call: Call) -> web.Response:
    bucket = call.require_bucket()
    return xml_response(encode_location(f"oss-{bucket.region}"))


async def get_bucket_acl(call: Call) -> web.Response:
    bucket = call.require_bucket()
    return xml_response(encode_access_control_policy(
        AccessControlPolicy(_owner(bucket.owner_id), bucket.acl)))


async def put_bucket_acl(call: Call) -> web.Response:
    acl = call.headers.get("x-oss-acl")
    if not acl:
        raise OssError.from_code("InvalidArgument", "The x-oss-acl header is required.")
    await call.services.buckets.set_acl(call.require_bucket(), acl)
    return web.Response()


MAX_LISTED_BUCKETS = 1000  # ListBuckets' max-keys: 1..1000, default 100 (OSS)


def _max_keys(text: str | None) -> int:
    if text is None:
        return 100
    if not (text.isascii() and text.isdigit() and len(text) <= 4
            and 1 <= int(text) <= MAX_LISTED_BUCKETS):
        raise OssError.from_code("InvalidArgument", f"max-keys must be an integer from 1 to "
                                 f"{MAX_LISTED_BUCKETS}.", ArgumentName="max-keys",
                                 ArgumentValue=text[:64])
    return int(text)


async def list_buckets(call: Call) -> web.Response:
    """ListBuckets: names after ``marker`` starting with ``prefix``, at most ``max-keys``, in
    name order. Prefix, Marker and MaxKeys are echoed when given; IsTruncated and NextMarker
    (the last name listed) when more follow, as OSS."""
    principal = call.require_principal()
    query = call.query
    prefix, marker = query.get("prefix", ""), query.get("marker", "")
    limit = _max_keys(query.get("max-keys"))
    buckets = sorted((b for b in await call.services.buckets.list(principal.owner_id)
                      if b.name.startswith(prefix) and b.name > marker), key=lambda b: b.name)
    page, truncated = buckets[:limit], len(buckets) > limit
    return xml_response(encode_list_buckets(ListAllMyBucketsResult(
        owner=_owner(principal.owner_id),
        buckets=tuple(_bucket_entry(call, b) for b in page),
        prefix=query.get("prefix"), marker=query.get("marker"),
        max_keys=limit if "max-keys" in query else None,
        is_truncated=truncated, next_marker=page[-1].name if truncated else None)))
