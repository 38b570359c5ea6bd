"""(method, bucket, key, query) -> Operation. Pure and table-driven.

Addressing (which bucket and key a request names) is decided first by ``Addressing.resolve``
from the Host header and path (reference §2.1); then ``route`` picks the operation from the method
and the sub-resources present (reference §2.2). Unknown combinations are OSS errors, never 500s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import unquote

from ossutil.server.operations import (
    ABORT_MULTIPART_UPLOAD,
    COMPLETE_MULTIPART_UPLOAD,
    CREATE_CNAME_TOKEN,
    DELETE_BUCKET,
    DELETE_BUCKET_CORS,
    DELETE_BUCKET_WEBSITE,
    DELETE_CNAME,
    DELETE_MULTIPLE_OBJECTS,
    DELETE_OBJECT,
    GET_BUCKET_ACL,
    GET_BUCKET_CORS,
    GET_BUCKET_INFO,
    GET_BUCKET_LOCATION,
    GET_BUCKET_REFERER,
    GET_BUCKET_WEBSITE,
    GET_CNAME_TOKEN,
    GET_OBJECT,
    GET_OBJECT_ACL,
    GET_OBJECT_META,
    HEAD_OBJECT,
    INITIATE_MULTIPART_UPLOAD,
    LIST_BUCKETS,
    LIST_CNAME,
    LIST_MULTIPART_UPLOADS,
    LIST_OBJECTS,
    LIST_OBJECTS_V2,
    LIST_PARTS,
    OPTION_OBJECT,
    PUT_BUCKET,
    PUT_BUCKET_ACL,
    PUT_BUCKET_CORS,
    PUT_BUCKET_REFERER,
    PUT_BUCKET_WEBSITE,
    PUT_CNAME,
    PUT_OBJECT,
    UPLOAD_PART,
    Operation,
)
from ossutil.wire import signing
from ossutil.wire.errors import OssError

# The server's own endpoints (health now; metrics and the like later) live under this first
# path segment on our own hosts (the endpoint domain, localhost, IP addresses): ``-`` is not a
# legal bucket name (names start with a letter or a digit), so no bucket can ever be shadowed.
# Bound domains keep the whole path space for their bucket's keys, except the ACME challenge
# path ``/.well-known/acme-challenge/`` (RFC 8555 §8.3), which HTTP-01 needs on the domain.
SERVER_PATH_SEGMENT = "-"


@dataclass(frozen=True)
class Target:
    """What a request addresses. ``custom_domain`` is set when Host is not ours (gateway);
    ``server_path`` when the path names one of the server's own endpoints (``/-/<name>``)."""

    bucket: str
    key: str
    custom_domain: str = ""
    server_path: str | None = None


_HOSTS_REMEMBERED = 4096


class Addressing:
    """Virtual-hosted ``<bucket>.<endpoint-domain>``, path style on our own hosts."""

    def __init__(self, endpoint_domain: str, own_hosts: tuple[str, ...] = ()) -> None:
        self.endpoint_domain = endpoint_domain.lower().rstrip(".")
        self._suffix = "." + self.endpoint_domain
        self._own = {h.lower() for h in own_hosts} | {self.endpoint_domain, "localhost"}
        self._seen: dict[str, bool] = {}  # host -> is an IP address (bounded, see below)

    def is_own_host(self, host: str) -> bool:
        if host in self._own:
            return True
        known = self._seen.get(host)
        if known is None:
            # ``ipaddress`` raising ValueError for every custom domain cost more than the rest
            # of addressing; hosts repeat, so each is parsed once (clients choose hosts: the
            # memo is dropped whole when it fills)
            try:
                ipaddress.ip_address(host.strip("[]"))
                known = True
            except ValueError:
                known = False
            if len(self._seen) >= _HOSTS_REMEMBERED:
                self._seen.clear()
            self._seen[host] = known
        return known

    def resolve(self, host_header: str, raw_path: str) -> Target:
        host = host_name(host_header).lower().rstrip(".")
        path = unquote(raw_path)
        if host.endswith(self._suffix):
            bucket = host[: -len(self._suffix)]
            return Target(bucket, path[1:] if path.startswith("/") else path)
        if not host or self.is_own_host(host):
            stripped = path[1:] if path.startswith("/") else path
            bucket, _, key = stripped.partition("/")
            if bucket == SERVER_PATH_SEGMENT:
                return Target("", "", server_path=key)
            return Target(bucket, key)
        return Target("", path[1:] if path.startswith("/") else path, custom_domain=host)


def host_name(host: str) -> str:
    """The Host header without its port: ``[::1]:9000`` -> ``[::1]``, ``a.b:80`` -> ``a.b``; a
    bare IPv6 address (more than one colon, no brackets) is kept whole. The one rule for every
    reader of Host (addressing, the HostId of errors)."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end >= 0 else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host



_CNAME_POST = {"token": CREATE_CNAME_TOKEN, "add": PUT_CNAME, "delete": DELETE_CNAME}
# Sub-resources that select a bucket operation; anything else in the query is a plain parameter.
_BUCKET_SUBRESOURCES = frozenset({"cname", "comp", "acl", "bucketInfo", "location", "uploads",
                                  "delete", "website", "cors", "referer"})
# OSS's sub-resources (the ones V1 signs) other than plain parameters. One this server does not
# implement is refused with 501 NotImplemented, never ignored: ignoring it would answer, say,
# ``GET /key?acl`` with the object's bytes, ``PUT /key?tagging`` by overwriting the object, or
# ``GET /?lifecycle`` with an object listing.
# (wire.signing owns the list: a V1 signature must cover every operation-selecting one.)
_SUBRESOURCES = signing.OPERATION_SUBRESOURCES


# Headers and plain parameters of supported operations that ask for a feature this server does
# not have. Ignoring one would give the caller less than it asked for (an untagged, unencrypted
# object; a callback never made; an unfiltered bucket list), so each is 501 NotImplemented.
# One table, consulted by ``refuse_unimplemented`` for every request.
_ENCRYPTION = ("x-oss-server-side-encryption", "x-oss-server-side-data-encryption",
               "x-oss-server-side-encryption-key-id")
_CALLBACK = ("x-oss-callback", "x-oss-callback-var")
_OBJECT_WRITE_HEADERS = ("x-oss-tagging", *_ENCRYPTION, *_CALLBACK)
UNIMPLEMENTED_HEADERS: dict[str, tuple[str, ...]] = {
    "PutObject": _OBJECT_WRITE_HEADERS,
    "InitiateMultipartUpload": _OBJECT_WRITE_HEADERS,
    "CompleteMultipartUpload": _CALLBACK,
    "PutBucket": (*_ENCRYPTION, "x-oss-resource-group-id", "x-oss-bucket-tagging"),
    "ListBuckets": ("x-oss-resource-group-id",),
}
UNIMPLEMENTED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "PutObject": ("callback", "callback-var"),
    "CompleteMultipartUpload": ("callback", "callback-var"),
    "ListBuckets": ("tag-key", "tag-value", "tag", "resource-group-id", "regions"),
}
# Storage classes kept as a label (objects read as Standard ones: IA needs no restore); the
# archive classes need RestoreObject semantics this server does not have.
STORAGE_CLASSES = {"standard": "Standard", "ia": "IA"}
ARCHIVE_CLASSES = frozenset({"archive", "coldarchive", "deepcoldarchive"})
_STORAGE_CLASS_OPERATIONS = frozenset({"PutObject", "InitiateMultipartUpload", "PutBucket"})


def storage_class(value: str) -> str:
    """A storage class named in any case (OSS accepts ``ia``): its canonical spelling; the
    archive classes 501; anything else 400 InvalidArgument."""
    lower = value.strip().lower()
    if lower in STORAGE_CLASSES:
        return STORAGE_CLASSES[lower]
    if lower in ARCHIVE_CLASSES:
        raise OssError.from_code("NotImplemented", f"The storage class {value} is not "
                                 "implemented by this server (Standard and IA are).",
                                 StorageClass=value[:64])
    raise OssError.from_code("InvalidArgument", "The storage class is not one of Standard, IA, "
                             "Archive, ColdArchive, DeepColdArchive.",
                             ArgumentName="x-oss-storage-class", ArgumentValue=value[:64])


def refuse_unimplemented(operation: Operation, query: Mapping[str, str],
                         headers: Mapping[str, str] | None = None) -> None:
    """501 NotImplemented when the request asks ``operation`` for a feature this server lacks
    (``headers``: the request's one header view, lower-case names); ``route`` calls it."""
    for name in UNIMPLEMENTED_PARAMETERS.get(operation.name, ()):
        if name in query:
            raise OssError.from_code("NotImplemented", f"The parameter {name} of "
                                     f"{operation.name} is not implemented by this server.",
                                     Parameter=name)
    if headers is None:
        return
    for name in UNIMPLEMENTED_HEADERS.get(operation.name, ()):
        if name in headers:
            raise OssError.from_code("NotImplemented", f"The header {name} of "
                                     f"{operation.name} is not implemented by this server.",
                                     Header=name)
    if operation.name in _STORAGE_CLASS_OPERATIONS and "x-oss-storage-class" in headers:
        storage_class(headers["x-oss-storage-class"])


def _not_implemented(method: str, present: AbstractSet[str], where: str) -> OssError:
    return OssError.from_code(
        "NotImplemented", f"The operation {method} ?{'&'.join(sorted(present))} on {where} is "
        "not implemented by this server.")


def _unsupported(method: str, what: str) -> OssError:
    return OssError.from_code("MethodNotAllowed",
                              f"The operation {method} {what} is not supported.")


def route(method: str, target: Target, query: Mapping[str, str],
          headers: Mapping[str, str] | None = None) -> Operation:
    """Pick the operation; ``query`` maps each parameter name to its (decoded) value,
    ``headers`` is the request's one header view. A parameter or header asking the operation
    for something this server lacks is 501 here, for every request alike."""
    operation = _route(method, target, query)
    refuse_unimplemented(operation, query, headers)
    return operation


def _route(method: str, target: Target, query: Mapping[str, str]) -> Operation:
    if method == "OPTIONS" and target.bucket:  # a CORS preflight, for an object or the bucket
        return OPTION_OBJECT
    if not target.bucket:
        if method in ("GET", "HEAD"):
            return LIST_BUCKETS
        raise _unsupported(method, "/")
    if target.key:
        return _object_operation(method, _SUBRESOURCES & query.keys())
    present = _SUBRESOURCES & query.keys()
    if "cname" in present or "comp" in present:
        return _cname_operation(method, query, present)
    if not present <= _BUCKET_SUBRESOURCES:
        raise _not_implemented(method, present, "a bucket")
    if len(present) > 1:
        raise OssError.from_code("InvalidArgument", "Only one sub-resource may be given: "
                                 + ", ".join(sorted(present)) + ".")
    sub = next(iter(present), "")
    table: dict[tuple[str, str], Operation] = {
        ("PUT", ""): PUT_BUCKET, ("DELETE", ""): DELETE_BUCKET,
        ("GET", ""): LIST_OBJECTS_V2 if query.get("list-type") == "2" else LIST_OBJECTS,
        # a HEAD of the root: a site's index document (anonymous), else the listing's head
        ("HEAD", ""): LIST_OBJECTS,
        ("GET", "bucketInfo"): GET_BUCKET_INFO, ("GET", "location"): GET_BUCKET_LOCATION,
        ("GET", "acl"): GET_BUCKET_ACL, ("PUT", "acl"): PUT_BUCKET_ACL,
        ("GET", "uploads"): LIST_MULTIPART_UPLOADS,
        ("POST", "delete"): DELETE_MULTIPLE_OBJECTS,
        ("PUT", "website"): PUT_BUCKET_WEBSITE, ("GET", "website"): GET_BUCKET_WEBSITE,
        ("DELETE", "website"): DELETE_BUCKET_WEBSITE,
        ("PUT", "cors"): PUT_BUCKET_CORS, ("GET", "cors"): GET_BUCKET_CORS,
        ("DELETE", "cors"): DELETE_BUCKET_CORS,
        ("PUT", "referer"): PUT_BUCKET_REFERER, ("GET", "referer"): GET_BUCKET_REFERER,
    }
    operation = table.get((method, sub))
    if operation is None:
        raise _unsupported(method, f"?{sub}" if sub else "on a bucket")
    return operation


def _cname_operation(method: str, query: Mapping[str, str],
                     present: AbstractSet[str]) -> Operation:
    extra = present - {"cname", "comp"}
    if extra:
        raise OssError.from_code("InvalidArgument", "Unexpected sub-resource with cname: "
                                 + ", ".join(sorted(extra)) + ".")
    if "cname" not in query:
        raise OssError.from_code("InvalidArgument", "The cname sub-resource is required.")
    comp = query.get("comp")
    if method == "GET":
        if comp is None:
            return LIST_CNAME
        if comp == "token":
            return GET_CNAME_TOKEN
        raise OssError.from_code("InvalidArgument", f"Unsupported comp value {comp!r} for GET.")
    if method == "POST":
        if comp is None:
            raise OssError.from_code("InvalidArgument", "The comp parameter is required.")
        operation = _CNAME_POST.get(comp)
        if operation is None:
            raise OssError.from_code("InvalidArgument",
                                     f"Unsupported comp value {comp!r} for POST.")
        if query.get("cname"):
            raise OssError.from_code("InvalidArgument",
                                     "The cname sub-resource takes no value here.")
        return operation
    raise _unsupported(method, "?cname")


def _object_operation(method: str, present: AbstractSet[str]) -> Operation:
    if not present:
        operation = {"PUT": PUT_OBJECT, "GET": GET_OBJECT, "HEAD": HEAD_OBJECT,
                     "DELETE": DELETE_OBJECT}.get(method)
        if operation is None:
            raise _unsupported(method, "on an object")
        return operation
    if present == {"objectMeta"} and method == "HEAD":
        return GET_OBJECT_META
    if present == {"acl"} and method == "GET":
        return GET_OBJECT_ACL
    if present & {"uploads", "uploadId", "partNumber"}:
        return _multipart_operation(method, present)
    raise _not_implemented(method, present, "an object")


_MULTIPART: dict[tuple[str, frozenset[str]], Operation] = {
    ("POST", frozenset({"uploads"})): INITIATE_MULTIPART_UPLOAD,
    ("PUT", frozenset({"uploadId", "partNumber"})): UPLOAD_PART,
    ("POST", frozenset({"uploadId"})): COMPLETE_MULTIPART_UPLOAD,
    ("DELETE", frozenset({"uploadId"})): ABORT_MULTIPART_UPLOAD,
    ("GET", frozenset({"uploadId"})): LIST_PARTS,
}


def _multipart_operation(method: str, present: AbstractSet[str]) -> Operation:
    operation = _MULTIPART.get((method, frozenset(present)))
    if operation is not None:
        return operation
    if method == "PUT" and present in ({"uploadId"}, {"partNumber"}):
        missing = "partNumber" if "uploadId" in present else "uploadId"
        raise OssError.from_code("InvalidArgument", f"UploadPart needs both uploadId and "
                                 f"partNumber; {missing} is missing.", ArgumentName=missing)
    raise _not_implemented(method, present, "an object")
