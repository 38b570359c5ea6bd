"""Object documents: ListBucketResult (ListObjects V1 and V2), CopyObjectResult, the Delete
request of DeleteMultipleObjects and its DeleteResult.

``encoding_type`` is the document's ``<EncodingType>`` ("" when absent): with ``url``, the
names (keys, prefixes, markers, delimiter, start-after) are URL-encoded on the wire and the
values here are always the plain names; encode writes and decode undoes the encoding.
``Record``s, not dataclasses: the CLI's ``ls`` and ``rm`` load this module. Response decoders
are lenient (``wire.codec``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ossutil.wire import codec, xml
from ossutil.wire.bucket_xml import Owner, decode_owner, owner_node
from ossutil.wire.errors import OssError
from ossutil.wire.records import Record

if TYPE_CHECKING:
    from collections.abc import Callable
    from xml.etree.ElementTree import Element


class ObjectEntry(Record):
    """One ``<Contents>`` of a listing; ``owner`` None: not written (V2 without
    ``fetch-owner``)."""

    __slots__ = ("key", "last_modified", "etag", "type", "size", "storage_class", "owner")
    _defaults = {"owner": None}
    key: str
    last_modified: str
    etag: str
    type: str
    size: int
    storage_class: str
    owner: Owner | None


def _contents(entry: ObjectEntry, name: Callable[[str], str]) -> xml.Node:
    fields: list[xml.Node] = [
        ("Key", name(entry.key)),
        ("LastModified", entry.last_modified),
        ("ETag", entry.etag),
        ("Type", entry.type),
        ("Size", str(entry.size)),
        ("StorageClass", entry.storage_class),
    ]
    if entry.owner is not None:
        fields.append(owner_node(entry.owner))
    return ("Contents", fields)


def _decode_contents(root: Element, name: Callable[[str], str]) -> tuple[ObjectEntry, ...]:
    return tuple(ObjectEntry(
        key=name(codec.leaf(entry, "Key")),
        last_modified=codec.leaf(entry, "LastModified"),
        etag=codec.leaf(entry, "ETag"),
        type=codec.leaf(entry, "Type"),
        size=codec.number(codec.leaf(entry, "Size"), "Size"),
        storage_class=codec.leaf(entry, "StorageClass"),
        owner=decode_owner(entry)) for entry in xml.children(root, "Contents"))


def _prefixes(prefixes: tuple[str, ...], name: Callable[[str], str]) -> list[xml.Node]:
    return [("CommonPrefixes", [("Prefix", name(prefix))]) for prefix in prefixes]


def _decode_prefixes(root: Element, name: Callable[[str], str]) -> tuple[str, ...]:
    return tuple(name(codec.leaf(entry, "Prefix"))
                 for entry in xml.children(root, "CommonPrefixes"))


def _optional_name(root: Element, tag: str, name: Callable[[str], str]) -> str | None:
    value = codec.optional(root, tag)
    return None if value is None else name(value)


# --- ListBucketResult, V1 (ListObjects) ------------------------------------------------------


class ListBucketResult(Record):
    """ListObjects (V1). ``next_marker`` None: not written (OSS writes it on truncated pages)."""

    __slots__ = ("name", "prefix", "marker", "max_keys", "delimiter", "encoding_type",
                 "is_truncated", "next_marker", "contents", "common_prefixes")
    _defaults = {"encoding_type": "", "is_truncated": False, "next_marker": None,
                 "contents": (), "common_prefixes": ()}
    name: str
    prefix: str
    marker: str
    max_keys: int
    delimiter: str
    encoding_type: str
    is_truncated: bool
    next_marker: str | None
    contents: tuple[ObjectEntry, ...]
    common_prefixes: tuple[str, ...]


def encode_list_bucket_result(result: ListBucketResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    parts: list[xml.Node] = [
        ("Name", result.name),
        ("Prefix", name(result.prefix)),
        ("Marker", name(result.marker)),
        ("MaxKeys", str(result.max_keys)),
        ("Delimiter", name(result.delimiter)),
        *codec.encoding_type_node(result.encoding_type),
        ("IsTruncated", codec.boolean(result.is_truncated)),
    ]
    if result.next_marker is not None:
        parts.append(("NextMarker", name(result.next_marker)))
    parts += [_contents(entry, name) for entry in result.contents]
    parts += _prefixes(result.common_prefixes, name)
    return xml.emit(("ListBucketResult", parts))


def decode_list_bucket_result(body: bytes) -> ListBucketResult:
    root = codec.root(body)
    encoding_type = codec.leaf(root, "EncodingType")
    name = codec.name_decoder(encoding_type)
    return ListBucketResult(
        name=codec.leaf(root, "Name"),
        prefix=name(codec.leaf(root, "Prefix")),
        marker=name(codec.leaf(root, "Marker")),
        max_keys=codec.number(codec.leaf(root, "MaxKeys"), "MaxKeys"),
        delimiter=name(codec.leaf(root, "Delimiter")),
        encoding_type=encoding_type,
        is_truncated=codec.flag(codec.optional(root, "IsTruncated")),
        next_marker=_optional_name(root, "NextMarker", name),
        contents=_decode_contents(root, name),
        common_prefixes=_decode_prefixes(root, name))


# --- ListBucketResult, V2 (ListObjectsV2) ----------------------------------------------------


class ListBucketV2Result(Record):
    """ListObjectsV2. ``start_after`` and ``continuation_token`` are echoed when the request
    gave them, ``next_continuation_token`` is written on truncated pages (None: not written);
    tokens are opaque and never URL-encoded."""

    __slots__ = ("name", "prefix", "start_after", "continuation_token", "max_keys",
                 "delimiter", "encoding_type", "is_truncated", "next_continuation_token",
                 "contents", "common_prefixes", "key_count")
    _defaults = {"start_after": None, "continuation_token": None, "encoding_type": "",
                 "is_truncated": False, "next_continuation_token": None, "contents": (),
                 "common_prefixes": (), "key_count": 0}
    name: str
    prefix: str
    start_after: str | None
    continuation_token: str | None
    max_keys: int
    delimiter: str
    encoding_type: str
    is_truncated: bool
    next_continuation_token: str | None
    contents: tuple[ObjectEntry, ...]
    common_prefixes: tuple[str, ...]
    key_count: int


def encode_list_bucket_v2_result(result: ListBucketV2Result) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    parts: list[xml.Node] = [("Name", result.name), ("Prefix", name(result.prefix))]
    if result.start_after is not None:
        parts.append(("StartAfter", name(result.start_after)))
    if result.continuation_token is not None:
        parts.append(("ContinuationToken", result.continuation_token))
    parts += [("MaxKeys", str(result.max_keys)), ("Delimiter", name(result.delimiter)),
              *codec.encoding_type_node(result.encoding_type),
              ("IsTruncated", codec.boolean(result.is_truncated))]
    if result.next_continuation_token is not None:
        parts.append(("NextContinuationToken", result.next_continuation_token))
    parts += [_contents(entry, name) for entry in result.contents]
    parts += _prefixes(result.common_prefixes, name)
    parts.append(("KeyCount", str(result.key_count)))
    return xml.emit(("ListBucketResult", parts))


def decode_list_bucket_v2_result(body: bytes) -> ListBucketV2Result:
    root = codec.root(body)
    encoding_type = codec.leaf(root, "EncodingType")
    name = codec.name_decoder(encoding_type)
    return ListBucketV2Result(
        name=codec.leaf(root, "Name"),
        prefix=name(codec.leaf(root, "Prefix")),
        start_after=_optional_name(root, "StartAfter", name),
        continuation_token=codec.optional(root, "ContinuationToken"),
        max_keys=codec.number(codec.leaf(root, "MaxKeys"), "MaxKeys"),
        delimiter=name(codec.leaf(root, "Delimiter")),
        encoding_type=encoding_type,
        is_truncated=codec.flag(codec.optional(root, "IsTruncated")),
        next_continuation_token=codec.optional(root, "NextContinuationToken"),
        contents=_decode_contents(root, name),
        common_prefixes=_decode_prefixes(root, name),
        key_count=codec.number(codec.leaf(root, "KeyCount"), "KeyCount"))


# --- CopyObjectResult -------------------------------------------------------------------------


class CopyObjectResult(Record):
    __slots__ = ("etag", "last_modified")
    etag: str
    last_modified: str


def encode_copy_object_result(result: CopyObjectResult) -> bytes:
    return xml.emit(("CopyObjectResult", [("ETag", result.etag),
                                          ("LastModified", result.last_modified)]))


def decode_copy_object_result(body: bytes) -> CopyObjectResult:
    root = codec.root(body)
    return CopyObjectResult(codec.leaf(root, "ETag"), codec.leaf(root, "LastModified"))


# --- Delete (DeleteMultipleObjects' request) and DeleteResult --------------------------------

MAX_DELETE_KEYS = 1000  # Object elements per request, as OSS counts them (before de-duplication)


class DeleteRequest(Record):
    """``<Delete><Quiet/><Object><Key/></Object>...``; ``keys`` in document order, each once."""

    __slots__ = ("quiet", "keys")
    quiet: bool
    keys: tuple[str, ...]


def encode_delete(request: DeleteRequest) -> bytes:
    """Compact, as the SDKs send it."""
    return xml.emit_compact(("Delete", [("Quiet", codec.boolean(request.quiet))] + [
        ("Object", [("Key", key)]) for key in request.keys]))


def decode_delete(body: bytes, check_key: Callable[[str], None] | None = None) -> DeleteRequest:
    """The request's keys, ``check_key`` (the server's key rules) run on each in document
    order. MalformedXML for another root, a Quiet that is not true/false, an Object without a
    Key, no Object, or more than 1000 (EC 0016-00000609); NotImplemented for a VersionId (no
    versions here). A key named twice is kept once."""
    root = codec.root(body, "Delete")
    quiet = (xml.text(root, "Quiet") or "false").strip().lower()
    if quiet not in ("true", "false"):
        raise codec.malformed("bad Quiet", "Quiet must be true or false.")
    keys: list[str] = []
    for item in xml.children(root, "Object"):
        if xml.child(item, "VersionId") is not None:
            raise OssError.from_code("NotImplemented", "Deleting object versions is not "
                                     "supported.")
        key = xml.text(item, "Key")
        if not key:
            raise codec.malformed("Object without Key", "Every Object needs a Key.")
        if check_key is not None:
            check_key(key)
        keys.append(key)
    if not keys:
        raise codec.malformed("no Object", "The Delete element names no Object.")
    if len(keys) > MAX_DELETE_KEYS:
        raise codec.malformed("too many Objects", f"At most {MAX_DELETE_KEYS} objects may be "
                              "deleted in one request.", ec="0016-00000609")
    return DeleteRequest(quiet == "true", tuple(dict.fromkeys(keys)))


class DeleteResult(Record):
    """``deleted`` is empty for a quiet request."""

    __slots__ = ("encoding_type", "deleted")
    _defaults = {"encoding_type": "", "deleted": ()}
    encoding_type: str
    deleted: tuple[str, ...]


def encode_delete_result(result: DeleteResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    parts = codec.encoding_type_node(result.encoding_type)
    parts += [("Deleted", [("Key", name(key))]) for key in result.deleted]
    return xml.emit(("DeleteResult", parts))


def decode_delete_result(body: bytes) -> DeleteResult:
    root = codec.root(body)
    encoding_type = codec.leaf(root, "EncodingType")
    name = codec.name_decoder(encoding_type)
    return DeleteResult(encoding_type, tuple(name(codec.leaf(entry, "Key"))
                                             for entry in xml.children(root, "Deleted")))
