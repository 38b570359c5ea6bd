"""Bucket documents: ListAllMyBucketsResult, BucketInfo, LocationConstraint,
AccessControlPolicy (bucket and object ACL) and CreateBucketConfiguration.

The server encodes them, the client decodes them (``OssClient.list_buckets``,
``get_bucket_info``, ``get_object_acl``); the types are ``Record``s, not dataclasses, because
the CLI's ``ls`` and ``stat`` load this module (start-up cost). Element order is OSS's.
Response decoders are lenient (``wire.codec``); CreateBucketConfiguration, a request, must have
its root name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ossutil.wire import codec, xml
from ossutil.wire.records import Record

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


class Owner(Record):
    """``<Owner><ID/><DisplayName/></Owner>``."""

    __slots__ = ("id", "display_name")
    id: str
    display_name: str


def owner_node(owner: Owner) -> xml.Node:
    return ("Owner", [("ID", owner.id), ("DisplayName", owner.display_name)])


def decode_owner(parent: Element | None) -> Owner | None:
    element = None if parent is None else xml.child(parent, "Owner")
    if element is None:
        return None
    return Owner(codec.leaf(element, "ID"), codec.leaf(element, "DisplayName"))


# --- ListAllMyBucketsResult (ListBuckets) ---------------------------------------------------


class BucketEntry(Record):
    """One ``<Bucket>`` of ListBuckets (and the first fields of GetBucketInfo's)."""

    __slots__ = ("creation_date", "extranet_endpoint", "intranet_endpoint", "location", "name",
                 "region", "storage_class")
    creation_date: str
    extranet_endpoint: str
    intranet_endpoint: str
    location: str
    name: str
    region: str
    storage_class: str


_ENTRY_FIELDS = (("CreationDate", "creation_date"), ("ExtranetEndpoint", "extranet_endpoint"),
                 ("IntranetEndpoint", "intranet_endpoint"), ("Location", "location"),
                 ("Name", "name"), ("Region", "region"), ("StorageClass", "storage_class"))


def _entry_nodes(entry: BucketEntry) -> list[xml.Node]:
    return [(tag, getattr(entry, attr)) for tag, attr in _ENTRY_FIELDS]


def _decode_entry(element: Element) -> BucketEntry:
    return BucketEntry(**{attr: codec.leaf(element, tag) for tag, attr in _ENTRY_FIELDS})


class ListAllMyBucketsResult(Record):
    """ListBuckets. ``prefix``, ``marker`` and ``max_keys`` are echoed when the request gave
    them (None: not written); ``IsTruncated`` and ``NextMarker`` are written only for a
    truncated page, as OSS does."""

    __slots__ = ("owner", "buckets", "prefix", "marker", "max_keys", "is_truncated",
                 "next_marker")
    _defaults = {"owner": None, "buckets": (), "prefix": None, "marker": None,
                 "max_keys": None, "is_truncated": False, "next_marker": None}
    owner: Owner | None
    buckets: tuple[BucketEntry, ...]
    prefix: str | None
    marker: str | None
    max_keys: int | None
    is_truncated: bool
    next_marker: str | None


def encode_list_buckets(result: ListAllMyBucketsResult) -> bytes:
    parts: list[xml.Node] = []
    if result.prefix is not None:
        parts.append(("Prefix", result.prefix))
    if result.marker is not None:
        parts.append(("Marker", result.marker))
    if result.max_keys is not None:
        parts.append(("MaxKeys", str(result.max_keys)))
    if result.is_truncated:
        parts.append(("IsTruncated", "true"))
    if result.next_marker is not None:
        parts.append(("NextMarker", result.next_marker))
    if result.owner is not None:
        parts.append(owner_node(result.owner))
    parts.append(("Buckets", [("Bucket", _entry_nodes(entry)) for entry in result.buckets]))
    return xml.emit(("ListAllMyBucketsResult", parts))


def decode_list_buckets(body: bytes) -> ListAllMyBucketsResult:
    root = codec.root(body)
    buckets = xml.child(root, "Buckets")
    max_keys = codec.optional(root, "MaxKeys")
    return ListAllMyBucketsResult(
        owner=decode_owner(root),
        buckets=tuple(_decode_entry(entry) for entry in (
            xml.children(buckets, "Bucket") if buckets is not None else ())),
        prefix=codec.optional(root, "Prefix"),
        marker=codec.optional(root, "Marker"),
        max_keys=None if max_keys is None else codec.number(max_keys, "MaxKeys"),
        is_truncated=codec.flag(codec.optional(root, "IsTruncated")),
        next_marker=codec.optional(root, "NextMarker"))


# --- BucketInfo (GetBucketInfo) -------------------------------------------------------------


class BucketInfo(Record):
    """GetBucketInfo's ``<Bucket>``: every element OSS sends. ``kms_master_key_id`` and
    ``kms_data_encryption`` (None: not written) are read from OSS; this server has none."""

    __slots__ = ("entry", "access_monitor", "cross_region_replication",
                 "transfer_acceleration", "data_redundancy_type", "resource_group_id",
                 "comment", "block_public_access", "owner", "acl", "sse_algorithm",
                 "kms_master_key_id", "kms_data_encryption", "log_bucket", "log_prefix")
    _defaults = {"access_monitor": "", "cross_region_replication": "",
                 "transfer_acceleration": "", "data_redundancy_type": "",
                 "resource_group_id": "", "comment": "", "block_public_access": "",
                 "owner": None, "acl": "", "sse_algorithm": "", "kms_master_key_id": None,
                 "kms_data_encryption": None, "log_bucket": "", "log_prefix": ""}
    entry: BucketEntry
    access_monitor: str
    cross_region_replication: str
    transfer_acceleration: str
    data_redundancy_type: str
    resource_group_id: str
    comment: str
    block_public_access: str
    owner: Owner | None
    acl: str
    sse_algorithm: str
    kms_master_key_id: str | None
    kms_data_encryption: str | None
    log_bucket: str
    log_prefix: str


_INFO_FIELDS = (("AccessMonitor", "access_monitor"),
                ("CrossRegionReplication", "cross_region_replication"),
                ("TransferAcceleration", "transfer_acceleration"),
                ("DataRedundancyType", "data_redundancy_type"),
                ("ResourceGroupId", "resource_group_id"), ("Comment", "comment"),
                ("BlockPublicAccess", "block_public_access"))


def encode_bucket_info(info: BucketInfo) -> bytes:
    fields = _entry_nodes(info.entry)
    fields += [(tag, getattr(info, attr)) for tag, attr in _INFO_FIELDS]
    if info.owner is not None:
        fields.append(owner_node(info.owner))
    fields.append(("AccessControlList", [("Grant", info.acl)]))
    sse: list[xml.Node] = [("SSEAlgorithm", info.sse_algorithm)]
    if info.kms_master_key_id is not None:
        sse.append(("KMSMasterKeyID", info.kms_master_key_id))
    if info.kms_data_encryption is not None:
        sse.append(("KMSDataEncryption", info.kms_data_encryption))
    fields.append(("ServerSideEncryptionRule", sse))
    fields.append(("BucketPolicy", [("LogBucket", info.log_bucket),
                                    ("LogPrefix", info.log_prefix)]))
    return xml.emit(("BucketInfo", [("Bucket", fields)]))


def decode_bucket_info(body: bytes) -> BucketInfo:
    """MalformedXML when there is no ``<Bucket>``."""
    entry = xml.child(codec.root(body), "Bucket")
    if entry is None:
        raise codec.malformed("BucketInfo has no Bucket element")
    acl = xml.child(entry, "AccessControlList")
    sse = xml.child(entry, "ServerSideEncryptionRule")
    policy = xml.child(entry, "BucketPolicy")
    return BucketInfo(
        entry=_decode_entry(entry),
        owner=decode_owner(entry),
        acl=codec.leaf(acl, "Grant"),
        sse_algorithm=codec.leaf(sse, "SSEAlgorithm"),
        kms_master_key_id=None if sse is None else codec.optional(sse, "KMSMasterKeyID"),
        kms_data_encryption=None if sse is None else codec.optional(sse, "KMSDataEncryption"),
        log_bucket=codec.leaf(policy, "LogBucket"),
        log_prefix=codec.leaf(policy, "LogPrefix"),
        **{attr: codec.leaf(entry, tag) for tag, attr in _INFO_FIELDS})


# --- LocationConstraint (GetBucketLocation) -------------------------------------------------


def encode_location(location: str) -> bytes:
    return xml.emit(("LocationConstraint", location))


def decode_location(body: bytes) -> str:
    return codec.root(body).text or ""


# --- AccessControlPolicy (GetBucketAcl, GetObjectAcl) ---------------------------------------


class AccessControlPolicy(Record):
    """``grant``: ``private``, ``public-read``, ``public-read-write`` (``default`` for an
    object: the bucket's)."""

    __slots__ = ("owner", "grant")
    owner: Owner | None
    grant: str


def encode_access_control_policy(policy: AccessControlPolicy) -> bytes:
    parts = [] if policy.owner is None else [owner_node(policy.owner)]
    parts.append(("AccessControlList", [("Grant", policy.grant)]))
    return xml.emit(("AccessControlPolicy", parts))


def decode_access_control_policy(body: bytes) -> AccessControlPolicy:
    root = codec.root(body)
    return AccessControlPolicy(decode_owner(root),
                               codec.leaf(xml.child(root, "AccessControlList"), "Grant"))


# --- CreateBucketConfiguration (PutBucket's request body) -----------------------------------


class CreateBucketConfiguration(Record):
    """PutBucket's body; an empty body is this with both fields None."""

    __slots__ = ("storage_class", "data_redundancy_type")
    _defaults = {"storage_class": None, "data_redundancy_type": None}
    storage_class: str | None
    data_redundancy_type: str | None


def encode_create_bucket_configuration(config: CreateBucketConfiguration) -> bytes:
    """Compact, as the SDKs send it (the CLI writes Go's escaping itself, as ossutil does)."""
    parts: list[xml.Node] = []
    if config.storage_class is not None:
        parts.append(("StorageClass", config.storage_class))
    if config.data_redundancy_type is not None:
        parts.append(("DataRedundancyType", config.data_redundancy_type))
    return xml.emit_compact(("CreateBucketConfiguration", parts))


def decode_create_bucket_configuration(body: bytes) -> CreateBucketConfiguration:
    """A body of only whitespace is no configuration; otherwise the root must be
    CreateBucketConfiguration."""
    if not body.strip():
        return CreateBucketConfiguration()
    root = codec.root(body, "CreateBucketConfiguration")
    return CreateBucketConfiguration(codec.optional(root, "StorageClass"),
                                     codec.optional(root, "DataRedundancyType"))
