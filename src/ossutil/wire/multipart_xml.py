"""Multipart documents: InitiateMultipartUploadResult, the CompleteMultipartUpload request and
its result, ListPartsResult, ListMultipartUploadsResult.

``encoding_type`` as in ``wire.object_xml``: with ``url`` the keys, prefixes, key markers and
delimiter are URL-encoded on the wire (upload ids and part numbers never); the values here
are the plain names. Element order follows OSS's API reference; where it shows no
EncodingType, that element comes right after the first one (Bucket). ``Record``s, not
dataclasses: the CLI's ``ls -m`` loads this module. Response decoders are lenient
(``wire.codec``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ossutil.wire import codec, numbers, xml
from ossutil.wire.errors import OssError
from ossutil.wire.records import Record

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_PART_NUMBER = 10_000  # OSS: part numbers 1..10000


def _encoding(root: Element) -> str:
    return codec.leaf(root, "EncodingType")


# --- InitiateMultipartUploadResult ----------------------------------------------------------


class InitiateMultipartUploadResult(Record):
    __slots__ = ("bucket", "key", "upload_id", "encoding_type")
    _defaults = {"encoding_type": ""}
    bucket: str
    key: str
    upload_id: str
    encoding_type: str


def encode_initiate_result(result: InitiateMultipartUploadResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    return xml.emit(("InitiateMultipartUploadResult", [
        ("Bucket", result.bucket), ("Key", name(result.key)), ("UploadId", result.upload_id),
        *codec.encoding_type_node(result.encoding_type)]))


def decode_initiate_result(body: bytes) -> InitiateMultipartUploadResult:
    root = codec.root(body)
    encoding = _encoding(root)
    return InitiateMultipartUploadResult(
        codec.leaf(root, "Bucket"), codec.name_decoder(encoding)(codec.leaf(root, "Key")),
        codec.leaf(root, "UploadId"), encoding)


# --- CompleteMultipartUpload (request) and its result ---------------------------------------


class CompletePart(Record):
    """One ``<Part>`` the client chose: its number and the ETag UploadPart returned."""

    __slots__ = ("part_number", "etag")
    part_number: int
    etag: str


def encode_complete(parts: tuple[CompletePart, ...]) -> bytes:
    """Compact, as the SDKs send it."""
    return xml.emit_compact(("CompleteMultipartUpload", [
        ("Part", [("PartNumber", str(part.part_number)), ("ETag", part.etag)])
        for part in parts]))


def decode_complete(body: bytes) -> tuple[CompletePart, ...]:
    """The parts in document order. MalformedXML for another root, a Part without an ETag, or
    no Part; InvalidPart for a part number outside 1..10000 or more than 10000 parts."""
    root = codec.root(body, "CompleteMultipartUpload")
    choices = []
    for item in xml.children(root, "Part"):
        number = (xml.text(item, "PartNumber") or "").strip()
        etag = xml.text(item, "ETag")
        if not etag:
            raise codec.malformed("Part without ETag",
                                  "Every Part needs a PartNumber and an ETag.")
        part_number = numbers.parse_int(
            number, "PartNumber", 1, MAX_PART_NUMBER, code="InvalidPart",
            message=f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, "
            "inclusive.", PartNumber=numbers.echo(number))
        choices.append(CompletePart(part_number, etag))
    if not choices:
        raise codec.malformed("no Part", "CompleteMultipartUpload names no Part.")
    if len(choices) > MAX_PART_NUMBER:
        raise OssError.from_code("InvalidPart", f"At most {MAX_PART_NUMBER} parts.")
    return tuple(choices)


class CompleteMultipartUploadResult(Record):
    __slots__ = ("location", "bucket", "key", "etag", "encoding_type")
    _defaults = {"encoding_type": ""}
    location: str
    bucket: str
    key: str
    etag: str
    encoding_type: str


def encode_complete_result(result: CompleteMultipartUploadResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    return xml.emit(("CompleteMultipartUploadResult", [
        *codec.encoding_type_node(result.encoding_type), ("Location", result.location),
        ("Bucket", result.bucket), ("Key", name(result.key)), ("ETag", result.etag)]))


def decode_complete_result(body: bytes) -> CompleteMultipartUploadResult:
    root = codec.root(body)
    encoding = _encoding(root)
    return CompleteMultipartUploadResult(
        codec.leaf(root, "Location"), codec.leaf(root, "Bucket"),
        codec.name_decoder(encoding)(codec.leaf(root, "Key")), codec.leaf(root, "ETag"),
        encoding)


# --- ListPartsResult ---------------------------------------------------------------------------


class PartEntry(Record):
    """One ``<Part>`` of ListParts."""

    __slots__ = ("part_number", "last_modified", "etag", "size")
    part_number: int
    last_modified: str
    etag: str
    size: int


class ListPartsResult(Record):
    __slots__ = ("bucket", "key", "upload_id", "storage_class", "part_number_marker",
                 "next_part_number_marker", "max_parts", "is_truncated", "parts",
                 "encoding_type")
    _defaults = {"is_truncated": False, "parts": (), "encoding_type": ""}
    bucket: str
    key: str
    upload_id: str
    storage_class: str
    part_number_marker: int
    next_part_number_marker: int
    max_parts: int
    is_truncated: bool
    parts: tuple[PartEntry, ...]
    encoding_type: str


def encode_list_parts(result: ListPartsResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    parts: list[xml.Node] = [
        ("Bucket", result.bucket),
        *codec.encoding_type_node(result.encoding_type),
        ("Key", name(result.key)),
        ("UploadId", result.upload_id),
        ("StorageClass", result.storage_class),
        ("PartNumberMarker", str(result.part_number_marker)),
        ("NextPartNumberMarker", str(result.next_part_number_marker)),
        ("MaxParts", str(result.max_parts)),
        ("IsTruncated", codec.boolean(result.is_truncated)),
    ]
    parts += [("Part", [("PartNumber", str(part.part_number)),
                        ("LastModified", part.last_modified),
                        ("ETag", part.etag), ("Size", str(part.size))])
              for part in result.parts]
    return xml.emit(("ListPartsResult", parts))


def decode_list_parts(body: bytes) -> ListPartsResult:
    root = codec.root(body)
    encoding = _encoding(root)
    return ListPartsResult(
        bucket=codec.leaf(root, "Bucket"),
        key=codec.name_decoder(encoding)(codec.leaf(root, "Key")),
        upload_id=codec.leaf(root, "UploadId"),
        storage_class=codec.leaf(root, "StorageClass"),
        part_number_marker=codec.number(codec.leaf(root, "PartNumberMarker"),
                                        "PartNumberMarker"),
        next_part_number_marker=codec.number(codec.leaf(root, "NextPartNumberMarker"),
                                             "NextPartNumberMarker"),
        max_parts=codec.number(codec.leaf(root, "MaxParts"), "MaxParts"),
        is_truncated=codec.flag(codec.optional(root, "IsTruncated")),
        parts=tuple(PartEntry(codec.number(codec.leaf(part, "PartNumber"), "PartNumber"),
                              codec.leaf(part, "LastModified"), codec.leaf(part, "ETag"),
                              codec.number(codec.leaf(part, "Size"), "Size"))
                    for part in xml.children(root, "Part")),
        encoding_type=encoding)


# --- ListMultipartUploadsResult ------------------------------------------------------------------


class UploadEntry(Record):
    """One ``<Upload>``: a multipart upload in progress."""

    __slots__ = ("key", "upload_id", "initiated")
    key: str
    upload_id: str
    initiated: str


class ListMultipartUploadsResult(Record):
    __slots__ = ("bucket", "key_marker", "upload_id_marker", "next_key_marker",
                 "next_upload_id_marker", "delimiter", "prefix", "max_uploads", "is_truncated",
                 "uploads", "common_prefixes", "encoding_type")
    _defaults = {"is_truncated": False, "uploads": (), "common_prefixes": (),
                 "encoding_type": ""}
    bucket: str
    key_marker: str
    upload_id_marker: str
    next_key_marker: str
    next_upload_id_marker: str
    delimiter: str
    prefix: str
    max_uploads: int
    is_truncated: bool
    uploads: tuple[UploadEntry, ...]
    common_prefixes: tuple[str, ...]
    encoding_type: str


def encode_list_uploads(result: ListMultipartUploadsResult) -> bytes:
    name = codec.name_encoder(result.encoding_type)
    parts: list[xml.Node] = [
        ("Bucket", result.bucket),
        *codec.encoding_type_node(result.encoding_type),
        ("KeyMarker", name(result.key_marker)),
        ("UploadIdMarker", result.upload_id_marker),
        ("NextKeyMarker", name(result.next_key_marker)),
        ("NextUploadIdMarker", result.next_upload_id_marker),
        ("Delimiter", name(result.delimiter)),
        ("Prefix", name(result.prefix)),
        ("MaxUploads", str(result.max_uploads)),
        ("IsTruncated", codec.boolean(result.is_truncated)),
    ]
    parts += [("Upload", [("Key", name(upload.key)), ("UploadId", upload.upload_id),
                          ("Initiated", upload.initiated)])
              for upload in result.uploads]
    parts += [("CommonPrefixes", [("Prefix", name(prefix))])
              for prefix in result.common_prefixes]
    return xml.emit(("ListMultipartUploadsResult", parts))


def decode_list_uploads(body: bytes) -> ListMultipartUploadsResult:
    root = codec.root(body)
    encoding = _encoding(root)
    name = codec.name_decoder(encoding)
    return ListMultipartUploadsResult(
        bucket=codec.leaf(root, "Bucket"),
        key_marker=name(codec.leaf(root, "KeyMarker")),
        upload_id_marker=codec.leaf(root, "UploadIdMarker"),
        next_key_marker=name(codec.leaf(root, "NextKeyMarker")),
        next_upload_id_marker=codec.leaf(root, "NextUploadIdMarker"),
        delimiter=name(codec.leaf(root, "Delimiter")),
        prefix=name(codec.leaf(root, "Prefix")),
        max_uploads=codec.number(codec.leaf(root, "MaxUploads"), "MaxUploads"),
        is_truncated=codec.flag(codec.optional(root, "IsTruncated")),
        uploads=tuple(UploadEntry(name(codec.leaf(entry, "Key")),
                                  codec.leaf(entry, "UploadId"),
                                  codec.leaf(entry, "Initiated"))
                      for entry in xml.children(root, "Upload")),
        common_prefixes=tuple(name(codec.leaf(entry, "Prefix"))
                              for entry in xml.children(root, "CommonPrefixes")),
        encoding_type=encoding)
