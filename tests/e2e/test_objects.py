"""Objects against the real server: both SDKs (V1 and V4) unchanged, and exact bytes on the wire.

PutObject / GetObject (Range, conditions) / HeadObject / DeleteObject / ListObjects V1 and V2,
bucket ACL for anonymous reads, concurrent writers of one key, and (slow) a 100 MiB object
streamed through without the server's memory growing by its size.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import crcmod  # the SDKs' own CRC implementation, independent of the server's
import pytest
from tests.support.memory import pattern, vm_kib
from tests.support.raw import Reply, error_code, send, signed
from tests.support.raw import as_root as call
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer, create_user

from ossutil.wire import dates, signing

CLIENTS = [("oss2", "v1"), ("oss2", "v4"), ("oss-v2", "v1"), ("oss-v2", "v4")]
REQUEST_ID = re.compile(r"^[0-9A-F]{24}$")


def etag(data: bytes) -> str:
    return hashlib.md5(data).hexdigest().upper()


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> str:
    assert call(server, "PUT", bucket_name).status == 200
    return bucket_name


# --- one adapter per SDK: the calls a user would write -------------------------------------

class Failure(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(status, code)
        self.status, self.code = status, code


class Oss2Objects:
    def __init__(self, server: RunningServer, bucket: str, sign: str) -> None:
        import oss2

        self.oss2 = oss2
        ak, sk = server.access_key_id, server.access_key_secret
        auth = oss2.AuthV4(ak, sk) if sign == "v4" else oss2.Auth(ak, sk)
        self.bucket = oss2.Bucket(auth, server.endpoint, bucket, region=server.region)

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except self.oss2.exceptions.OssError as exc:
            raise Failure(exc.status, exc.code) from None

    def put(self, key: str, data: bytes, meta: dict[str, str] | None = None) -> str:
        headers = {f"x-oss-meta-{k}": v for k, v in (meta or {}).items()}
        return str(self._call(lambda: self.bucket.put_object(key, data, headers=headers)).etag)

    def get(self, key: str, first: int | None = None, last: int | None = None
            ) -> tuple[int, bytes, dict[str, str]]:
        byte_range = None if first is None else (first, last)
        result = self._call(lambda: self.bucket.get_object(key, byte_range=byte_range))
        return result.status, result.read(), dict(result.headers)

    def head(self, key: str) -> dict[str, str]:
        return dict(self._call(lambda: self.bucket.head_object(key)).headers)

    def delete(self, key: str) -> int:
        return int(self._call(lambda: self.bucket.delete_object(key)).status)

    def delete_many(self, keys: list[str]) -> list[str]:
        return list(self._call(lambda: self.bucket.batch_delete_objects(keys)).deleted_keys)

    def copy(self, source: str, target: str) -> str:
        bucket = self.bucket.bucket_name
        return str(self._call(lambda: self.bucket.copy_object(bucket, source, target)).etag)

    def list_v1(self, prefix: str = "", delimiter: str = "", marker: str = "",
                max_keys: int = 100) -> tuple[list[str], list[str], bool, str]:
        r = self._call(lambda: self.bucket.list_objects(prefix, delimiter, marker, max_keys))
        return [o.key for o in r.object_list], r.prefix_list, r.is_truncated, r.next_marker

    def list_v2(self, prefix: str = "", delimiter: str = "", token: str = "",
                max_keys: int = 100) -> tuple[list[str], list[str], bool, str]:
        r = self._call(lambda: self.bucket.list_objects_v2(
            prefix, delimiter, continuation_token=token, max_keys=max_keys))
        return ([o.key for o in r.object_list], r.prefix_list, r.is_truncated,
                r.next_continuation_token)


class V2Objects:
    def __init__(self, server: RunningServer, bucket: str, sign: str) -> None:
        import alibabacloud_oss_v2 as oss

        self.oss = oss
        self.client = oss_v2_client(server.endpoint, server.access_key_id,
                                    server.access_key_secret, sign, server.region)
        self.name = bucket

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except self.oss.exceptions.OperationError as exc:
            inner: Any = exc.unwrap()
            if isinstance(inner, self.oss.exceptions.ServiceError):
                raise Failure(inner.status_code, inner.code) from None
            raise

    def put(self, key: str, data: bytes, meta: dict[str, str] | None = None) -> str:
        request = self.oss.PutObjectRequest(bucket=self.name, key=key, body=data,
                                            metadata=meta or None)
        return str(self._call(lambda: self.client.put_object(request)).etag).strip('"')

    def get(self, key: str, first: int | None = None, last: int | None = None
            ) -> tuple[int, bytes, dict[str, str]]:
        header = None if first is None else f"bytes={first}-{'' if last is None else last}"
        result = self._call(lambda: self.client.get_object(self.oss.GetObjectRequest(
            bucket=self.name, key=key, range_header=header)))
        return result.status_code, result.body.read(), dict(result.headers)

    def head(self, key: str) -> dict[str, str]:
        return dict(self._call(lambda: self.client.head_object(self.oss.HeadObjectRequest(
            bucket=self.name, key=key))).headers)

    def delete(self, key: str) -> int:
        return int(self._call(lambda: self.client.delete_object(self.oss.DeleteObjectRequest(
            bucket=self.name, key=key))).status_code)

    def delete_many(self, keys: list[str]) -> list[str]:
        result = self._call(lambda: self.client.delete_multiple_objects(
            self.oss.DeleteMultipleObjectsRequest(
                bucket=self.name, objects=[self.oss.DeleteObject(key=k) for k in keys])))
        return [d.key for d in result.deleted_objects or []]

    def copy(self, source: str, target: str) -> str:
        return str(self._call(lambda: self.client.copy_object(self.oss.CopyObjectRequest(
            bucket=self.name, key=target, source_bucket=self.name, source_key=source))).etag
        ).strip('"')

    def list_v1(self, prefix: str = "", delimiter: str = "", marker: str = "",
                max_keys: int = 100) -> tuple[list[str], list[str], bool, str]:
        r = self._call(lambda: self.client.list_objects(self.oss.ListObjectsRequest(
            bucket=self.name, prefix=prefix, delimiter=delimiter or None, marker=marker or None,
            max_keys=max_keys)))
        return ([o.key for o in r.contents or []], [p.prefix for p in r.common_prefixes or []],
                bool(r.is_truncated), r.next_marker or "")

    def list_v2(self, prefix: str = "", delimiter: str = "", token: str = "",
                max_keys: int = 100) -> tuple[list[str], list[str], bool, str]:
        r = self._call(lambda: self.client.list_objects_v2(self.oss.ListObjectsV2Request(
            bucket=self.name, prefix=prefix, delimiter=delimiter or None,
            continuation_token=token or None, max_keys=max_keys)))
        return ([o.key for o in r.contents or []], [p.prefix for p in r.common_prefixes or []],
                bool(r.is_truncated), r.next_continuation_token or "")


def objects(server: RunningServer, kind: str, sign: str, bucket: str) -> Any:
    return (Oss2Objects if kind == "oss2" else V2Objects)(server, bucket, sign)


# --- through the SDKs -----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_put_get_head_delete_through_sdk(server: RunningServer, bucket: str, kind: str,
                                         sign: str) -> None:
    client = objects(server, kind, sign, bucket)
    key = "docs/a b+c=d&é.txt"
    data = os.urandom(1000) + b"end"
    assert client.put(key, data, {"color": "blue"}) == etag(data)

    status, body, headers = client.get(key)
    assert (status, body) == (200, data)
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["etag"] == f'"{etag(data)}"'
    assert lower["content-length"] == str(len(data))
    assert lower["content-type"] == "text/plain"  # both SDKs set it from the extension
    assert lower["content-md5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert lower["x-oss-meta-color"] == "blue"
    assert lower["x-oss-object-type"] == "Normal"
    assert lower["x-oss-hash-crc64ecma"] == str(crcmod.mkCrcFun(
        0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)(data))
    modified = parsedate_to_datetime(lower["last-modified"])
    assert abs(modified.timestamp() - time.time()) < 60

    status, body, headers = client.get(key, 1, 3)
    lower = {k.lower(): v for k, v in headers.items()}
    assert (status, body, lower["content-range"]) == (206, data[1:4], f"bytes 1-3/{len(data)}")
    assert "content-md5" not in lower

    head = {k.lower(): v for k, v in client.head(key).items()}
    assert (head["content-length"], head["etag"]) == (str(len(data)), f'"{etag(data)}"')

    assert client.delete(key) == 204
    assert client.delete(key) == 204  # idempotent, as OSS
    with pytest.raises(Failure) as missing:
        client.get(key)
    assert (missing.value.status, missing.value.code) == (404, "NoSuchKey")
    with pytest.raises(Failure) as missing_head:
        client.head(key)
    assert missing_head.value.status == 404


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_listing_pages_through_sdk(server: RunningServer, bucket: str, kind: str,
                                   sign: str) -> None:
    client = objects(server, kind, sign, bucket)
    keys = ["a/1", "a/2", "b/x/1", "c", "d", "sp ace/1", "ü/1", "ü2"]
    for key in keys:
        client.put(key, key.encode())

    listed_v1: list[str] = []
    marker, truncated = "", True
    while truncated:
        found, prefixes, truncated, marker = client.list_v1(delimiter="/", marker=marker,
                                                            max_keys=2)
        assert len(found) + len(prefixes) <= 2
        listed_v1 += sorted(found + prefixes)
    assert listed_v1 == ["a/", "b/", "c", "d", "sp ace/", "ü/", "ü2"]

    listed_v2: list[str] = []
    token, truncated = "", True
    while truncated:
        found, prefixes, truncated, token = client.list_v2(delimiter="/", token=token,
                                                           max_keys=3)
        listed_v2 += sorted(found + prefixes)
    assert listed_v2 == listed_v1

    assert client.list_v1(prefix="a/") == (["a/1", "a/2"], [], False, "")
    assert client.list_v2(prefix="b/", delimiter="/")[:2] == ([], ["b/x/"])
    assert client.list_v1()[0] == sorted(keys)
    for key in keys:
        client.delete(key)
    assert client.list_v2() == ([], [], False, "")


# --- exact bytes ----------------------------------------------------------------------------

def test_list_objects_xml_is_exact(server: RunningServer, bucket: str) -> None:
    assert call(server, "PUT", bucket, "photos/2024/a.jpg", body=b"abc").status == 200
    assert call(server, "PUT", bucket, "photos/b&c.jpg", body=b"").status == 200
    assert call(server, "PUT", bucket, "readme", body=b"hello").status == 200
    head = call(server, "HEAD", bucket, "readme")
    modified = parsedate_to_datetime(head.headers["last-modified"])
    iso = modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    owner = re.search(r"<ID>(\d+)</ID>", call(server, "GET", bucket, query=[("acl", "")]).text)
    assert owner
    reply = call(server, "GET", bucket, query=[("prefix", "photos/"), ("delimiter", "/"),
                                               ("max-keys", "1")])
    assert reply.status == 200 and reply.headers["content-type"] == "application/xml"
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n'
        f"  <Name>{bucket}</Name>\n  <Prefix>photos/</Prefix>\n  <Marker></Marker>\n"
        "  <MaxKeys>1</MaxKeys>\n  <Delimiter>/</Delimiter>\n  <IsTruncated>true</IsTruncated>\n"
        "  <NextMarker>photos/2024/</NextMarker>\n"
        "  <CommonPrefixes>\n    <Prefix>photos/2024/</Prefix>\n  </CommonPrefixes>\n"
        "</ListBucketResult>\n")
    reply = call(server, "GET", bucket, query=[("prefix", "photos/"), ("delimiter", "/"),
                                               ("marker", "photos/2024/"),
                                               ("encoding-type", "url")])
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n'
        f"  <Name>{bucket}</Name>\n  <Prefix>photos%2F</Prefix>\n"
        "  <Marker>photos%2F2024%2F</Marker>\n  <MaxKeys>100</MaxKeys>\n"
        "  <Delimiter>%2F</Delimiter>\n  <EncodingType>url</EncodingType>\n"
        "  <IsTruncated>false</IsTruncated>\n"
        "  <Contents>\n    <Key>photos%2Fb%26c.jpg</Key>\n"
        f"    <LastModified>{_iso_of(server, bucket, 'photos/b&c.jpg')}</LastModified>\n"
        f'    <ETag>"{etag(b"")}"</ETag>\n    <Type>Normal</Type>\n    <Size>0</Size>\n'
        "    <StorageClass>Standard</StorageClass>\n"
        f"    <Owner>\n      <ID>{owner.group(1)}</ID>\n"
        f"      <DisplayName>{owner.group(1)}</DisplayName>\n    </Owner>\n  </Contents>\n"
        "</ListBucketResult>\n")
    reply = call(server, "GET", bucket, query=[("list-type", "2"), ("start-after", "photos/b"),
                                               ("fetch-owner", "false")])
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n'
        f"  <Name>{bucket}</Name>\n  <Prefix></Prefix>\n  <StartAfter>photos/b</StartAfter>\n"
        "  <MaxKeys>100</MaxKeys>\n  <Delimiter></Delimiter>\n"
        "  <IsTruncated>false</IsTruncated>\n"
        "  <Contents>\n    <Key>photos/b&amp;c.jpg</Key>\n"
        f"    <LastModified>{_iso_of(server, bucket, 'photos/b&c.jpg')}</LastModified>\n"
        f'    <ETag>"{etag(b"")}"</ETag>\n    <Type>Normal</Type>\n    <Size>0</Size>\n'
        "    <StorageClass>Standard</StorageClass>\n  </Contents>\n"
        "  <Contents>\n    <Key>readme</Key>\n"
        f"    <LastModified>{iso}</LastModified>\n"
        f'    <ETag>"{etag(b"hello")}"</ETag>\n    <Type>Normal</Type>\n    <Size>5</Size>\n'
        "    <StorageClass>Standard</StorageClass>\n  </Contents>\n"
        "  <KeyCount>2</KeyCount>\n</ListBucketResult>\n")


def _iso_of(server: RunningServer, bucket: str, key: str) -> str:
    modified = parsedate_to_datetime(call(server, "HEAD", bucket, key).headers["last-modified"])
    return modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_list_v2_continuation_and_bad_arguments(server: RunningServer, bucket: str) -> None:
    for key in ("k1", "k2", "k3"):
        call(server, "PUT", bucket, key, body=key.encode())
    first = call(server, "GET", bucket, query=[("list-type", "2"), ("max-keys", "2")])
    token = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", first.text)
    assert token and "<KeyCount>2</KeyCount>" in first.text
    second = call(server, "GET", bucket, query=[("list-type", "2"),
                                                ("continuation-token", token.group(1))])
    assert re.findall(r"<Key>([^<]+)</Key>", second.text) == ["k3"]
    assert f"<ContinuationToken>{token.group(1)}</ContinuationToken>" in second.text
    for query in ([("max-keys", "0")], [("max-keys", "1001")], [("max-keys", "x")],
                  [("encoding-type", "base64")],
                  [("list-type", "2"), ("continuation-token", "@@@")]):
        assert error_code(call(server, "GET", bucket, query=query)) == (400, "InvalidArgument")


def test_range_requests(server: RunningServer, bucket: str) -> None:
    data = b"0123456789"
    assert call(server, "PUT", bucket, "digits", body=data).status == 200
    cases = {
        "bytes=0-0": (206, b"0", "bytes 0-0/10"),
        "bytes=2-4": (206, b"234", "bytes 2-4/10"),
        "bytes=-3": (206, b"789", "bytes 7-9/10"),
        "bytes=7-": (206, b"789", "bytes 7-9/10"),
        "bytes=5-100": (206, b"56789", "bytes 5-9/10"),
        "bytes=-20": (206, data, "bytes 0-9/10"),
        "bytes=9-9": (206, b"9", "bytes 9-9/10"),
        "bytes=4-2": (200, data, None),  # not a valid range: ignored
        "bytes=0-1,4-5": (200, data, None),  # several ranges: the whole object, as OSS
        "items=0-1": (200, data, None),
        "bytes=a-b": (200, data, None),
    }
    for header, (status, body, content_range) in cases.items():
        reply = call(server, "GET", bucket, "digits", headers={"Range": header})
        assert (reply.status, reply.body) == (status, body), header
        assert reply.headers.get("content-range") == content_range, header
        assert reply.headers["content-length"] == str(len(body))
        assert reply.headers["accept-ranges"] == "bytes"
    for header in ("bytes=10-", "bytes=10-20", "bytes=-0"):
        reply = call(server, "GET", bucket, "digits", headers={"Range": header})
        assert error_code(reply) == (416, "InvalidRange"), header
        assert "<ActualObjectSize>10</ActualObjectSize>" in reply.text
    call(server, "PUT", bucket, "empty", body=b"")
    assert error_code(call(server, "GET", bucket, "empty", headers={"Range": "bytes=0-"})) == (
        416, "InvalidRange")
    assert call(server, "GET", bucket, "empty").status == 200


def test_conditional_reads(server: RunningServer, bucket: str) -> None:
    call(server, "PUT", bucket, "cond", body=b"x")
    tag = f'"{etag(b"x")}"'
    modified = call(server, "HEAD", bucket, "cond").headers["last-modified"]
    not_modified = call(server, "GET", bucket, "cond", headers={"If-None-Match": tag})
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert not_modified.headers["etag"] == tag
    assert call(server, "GET", bucket, "cond", headers={"If-Modified-Since": modified}).status \
        == 304
    assert call(server, "GET", bucket, "cond", headers={"If-Match": tag}).body == b"x"
    assert error_code(call(server, "GET", bucket, "cond", headers={"If-Match": '"0"'})) == (
        412, "PreconditionFailed")
    assert error_code(call(server, "GET", bucket, "cond", headers={
        "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})) == (412, "PreconditionFailed")
    assert call(server, "GET", bucket, "cond", headers={"If-None-Match": '"0"'}).status == 200


def test_put_checks_content_md5_and_sha256(server: RunningServer, bucket: str) -> None:
    body = b"payload"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    reply = call(server, "PUT", bucket, "md5", body=body, headers={"Content-MD5": good})
    assert reply.status == 200 and reply.headers["etag"] == f'"{etag(body)}"'
    assert reply.headers["content-md5"] == good and reply.body == b""
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    reply = call(server, "PUT", bucket, "md5-bad", body=body, headers={"Content-MD5": wrong})
    assert error_code(reply) == (400, "InvalidDigest")
    assert reply.headers["x-oss-ec"] == "0017-00000503"
    reply = call(server, "PUT", bucket, "md5-bad", body=body, headers={"Content-MD5": "abc"})
    assert (error_code(reply), reply.headers["x-oss-ec"]) == ((400, "InvalidDigest"),
                                                              "0017-00000502")
    assert error_code(call(server, "GET", bucket, "md5-bad")) == (404, "NoSuchKey")
    sha = hashlib.sha256(body).hexdigest()
    assert call(server, "PUT", bucket, "sha", body=body, version="v4",
                headers={"x-oss-content-sha256": sha}).status == 200
    reply = call(server, "PUT", bucket, "sha-bad", body=body, version="v4",
                 headers={"x-oss-content-sha256": "0" * 64})
    assert error_code(reply) == (400, "InvalidDigest")
    assert error_code(call(server, "GET", bucket, "sha-bad")) == (404, "NoSuchKey")


def test_put_variants_and_refusals(server: RunningServer, bucket: str) -> None:
    # chunked transfer encoding (no Content-Length) streams like any other body
    host_port = server.endpoint.split("://", 1)[1]
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)),
               "content-type": "application/x-test"}
    request = signing.SigningRequest("PUT", bucket, "chunked", [], headers)
    headers["authorization"] = signing.v1_authorization(
        server.access_key_id, server.access_key_secret, request)
    connection = http.client.HTTPConnection(host_port, timeout=10)
    try:
        connection.request("PUT", f"/{bucket}/chunked", body=iter([b"ab", b"cd", b"ef"]),
                           headers=headers, encode_chunked=True)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
    got = call(server, "GET", bucket, "chunked")
    assert (got.body, got.headers["content-type"]) == (b"abcdef", "application/x-test")

    reply = call(server, "PUT", bucket, "x" * 1024, body=b"")
    assert error_code(reply) == (400, "InvalidObjectName")
    reply = call(server, "PUT", bucket, "acl", body=b"", headers={"x-oss-object-acl": "private"})
    assert error_code(reply) == (501, "NotImplemented")
    reply = call(server, "PUT", bucket, "sse", body=b"x",
                 headers={"x-oss-server-side-encryption": "AES256"})
    assert error_code(reply) == (501, "NotImplemented")
    assert error_code(call(server, "PUT", "no-such-bucket-9", "k", body=b"x")) == (
        404, "NoSuchBucket")
    head = call(server, "HEAD", bucket, "never-written")
    assert (head.status, head.body) == (404, b"")
    assert b"<Code>NoSuchKey</Code>" in base64.b64decode(head.headers["x-oss-err"])
    assert REQUEST_ID.match(head.headers["x-oss-request-id"])


def test_object_sub_resources(server: RunningServer, bucket: str) -> None:
    call(server, "PUT", bucket, "doc.txt", body=b"contents")
    reply = call(server, "GET", bucket, "doc.txt", query=[("acl", "")])
    owner = re.search(r"<ID>(\d+)</ID>", reply.text)
    assert reply.status == 200 and owner is not None
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy>\n'
        f"  <Owner>\n    <ID>{owner[1]}</ID>\n    <DisplayName>{owner[1]}</DisplayName>\n"
        "  </Owner>\n  <AccessControlList>\n    <Grant>default</Grant>\n"
        "  </AccessControlList>\n</AccessControlPolicy>\n")
    assert error_code(call(server, "GET", bucket, "gone", query=[("acl", "")])) == (
        404, "NoSuchKey")

    meta = call(server, "HEAD", bucket, "doc.txt", query=[("objectMeta", "")])
    assert (meta.status, meta.body) == (200, b"")
    assert meta.headers["etag"] == f'"{etag(b"contents")}"'
    assert meta.headers["content-length"] == "8"
    assert "x-oss-object-type" not in meta.headers  # the light answer: ETag, size, date

    # sub-resources this server does not implement are refused, never read as a plain
    # GetObject/PutObject (which would answer with the bytes or overwrite the object)
    for method, query in [("PUT", "acl"), ("GET", "tagging"), ("PUT", "tagging"),
                          ("GET", "uploads"), ("GET", "symlink"), ("POST", "append")]:
        reply = call(server, method, bucket, "doc.txt", query=[(query, "")])
        assert error_code(reply) == (501, "NotImplemented"), (method, query)
        assert f"The operation {method} ?{query} on an object is not implemented" in reply.text
    assert call(server, "GET", bucket, "doc.txt").body == b"contents"
    # ordinary query parameters still reach GetObject
    reply = call(server, "GET", bucket, "doc.txt",
                 query=[("response-content-type", "text/x-test")])
    assert (reply.status, reply.body) == (200, b"contents")


def test_bucket_sub_resources(server: RunningServer, bucket: str) -> None:
    reply = call(server, "GET", bucket, query=[("uploads", ""), ("prefix", "a b/"),
                                               ("encoding-type", "url"), ("max-uploads", "5")])
    assert (reply.status, reply.text) == (200, (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>\n'
        f"  <Bucket>{bucket}</Bucket>\n  <EncodingType>url</EncodingType>\n"
        "  <KeyMarker></KeyMarker>\n  <UploadIdMarker></UploadIdMarker>\n"
        "  <NextKeyMarker></NextKeyMarker>\n  <NextUploadIdMarker></NextUploadIdMarker>\n"
        "  <Delimiter></Delimiter>\n  <Prefix>a%20b%2F</Prefix>\n  <MaxUploads>5</MaxUploads>\n"
        "  <IsTruncated>false</IsTruncated>\n</ListMultipartUploadsResult>\n"))
    assert error_code(call(server, "GET", bucket, query=[("uploads", ""),
                                                         ("max-uploads", "0")])) == (
        400, "InvalidArgument")
    for method, query in [("GET", "lifecycle"), ("PUT", "logging"), ("GET", "versions"),
                          ("GET", "stat")]:
        reply = call(server, method, bucket, query=[(query, "")])
        assert error_code(reply) == (501, "NotImplemented"), (method, query)
        assert f"The operation {method} ?{query} on a bucket is not implemented" in reply.text


def test_oss2_object_acl_and_meta(server: RunningServer, bucket: str) -> None:
    import oss2

    sdk = oss2.Bucket(oss2.Auth(server.access_key_id, server.access_key_secret),
                      server.endpoint, bucket)
    sdk.put_object("k", b"twelve bytes")
    assert sdk.get_object_acl("k").acl == "default"
    meta = sdk.get_object_meta("k")
    assert (meta.status, meta.content_length, meta.etag) == (200, 12, etag(b"twelve bytes"))


def test_expect_100_continue_is_answered_before_the_body(server: RunningServer,
                                                         bucket: str) -> None:
    body = b"sent after 100 Continue"
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc))}
    request = signing.SigningRequest("PUT", bucket, "expect", [], headers)
    authorization = signing.v1_authorization(server.access_key_id, server.access_key_secret,
                                             request)
    head = (f"PUT /{bucket}/expect HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Date: {headers['date']}\r\nAuthorization: {authorization}\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert call(server, "GET", bucket, "expect").body == body


def test_stored_headers_are_replayed(server: RunningServer, bucket: str) -> None:
    sent = {"Cache-Control": "max-age=60", "Content-Disposition": 'attachment; filename="a"',
            "Content-Language": "en", "Expires": "Thu, 01 Dec 2033 16:00:00 GMT",
            "x-oss-meta-Owner": "Team A"}
    assert call(server, "PUT", bucket, "page.html", body=b"<p>", headers=sent).status == 200
    got = call(server, "GET", bucket, "page.html")
    assert got.headers["content-type"] == "text/html"  # from the extension when not sent
    for name, value in sent.items():
        assert got.headers[name.lower()] == value


def test_bucket_acl_governs_anonymous_access(server: RunningServer, bucket: str) -> None:
    call(server, "PUT", bucket, "pub", body=b"public data")
    path = f"/{bucket}/pub"
    assert error_code(send(server.endpoint, "GET", path)) == (403, "AccessDenied")
    assert call(server, "PUT", bucket, query=[("acl", "")],
                headers={"x-oss-acl": "public-read"}).status == 200
    assert "<Grant>public-read</Grant>" in call(server, "GET", bucket, query=[("acl", "")]).text
    reply = send(server.endpoint, "GET", path)
    assert (reply.status, reply.body) == (200, b"public data")
    assert send(server.endpoint, "HEAD", path).status == 200
    assert error_code(send(server.endpoint, "PUT", path, body=b"x")) == (403, "AccessDenied")
    assert error_code(send(server.endpoint, "DELETE", path)) == (403, "AccessDenied")
    assert error_code(send(server.endpoint, "GET", f"/{bucket}/")) == (403, "AccessDenied")


def test_bucket_created_public_read_serves_anonymous_get(server: RunningServer,
                                                         bucket_name: str) -> None:
    assert call(server, "PUT", bucket_name, headers={"x-oss-acl": "public-read"}).status == 200
    call(server, "PUT", bucket_name, "k", body=b"v")
    assert send(server.endpoint, "GET", f"/{bucket_name}/k").body == b"v"


def test_delete_bucket_refused_while_objects_exist(server: RunningServer, bucket: str) -> None:
    call(server, "PUT", bucket, "k", body=b"v")
    assert error_code(call(server, "DELETE", bucket)) == (409, "BucketNotEmpty")
    assert call(server, "DELETE", bucket, "k").status == 204
    assert call(server, "DELETE", bucket).status == 204


def blob_files(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return [p for p in root.glob("??/*") if p.is_file()]


def test_concurrent_uploads_to_one_key_never_tear(fresh_server: RunningServer,
                                                  bucket_name: str) -> None:
    import oss2

    server = fresh_server
    assert call(server, "PUT", bucket_name).status == 200
    versions = [bytes([i]) * (3 * 1024 * 1024 + i) for i in range(6)]
    tags = {etag(v): v for v in versions}
    errors: list[BaseException] = []
    seen: list[tuple[str, bytes]] = []
    stop = threading.Event()

    def bucket() -> oss2.Bucket:
        auth = oss2.Auth(server.access_key_id, server.access_key_secret)
        return oss2.Bucket(auth, server.endpoint, bucket_name, region=server.region)

    def writer(data: bytes) -> None:
        try:
            for _ in range(3):
                bucket().put_object("hot", data)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        client = bucket()
        while not stop.is_set():
            try:
                result = client.get_object("hot")
                seen.append((result.etag, result.read()))
            except oss2.exceptions.NoSuchKey:
                continue
            except BaseException as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(v,)) for v in versions]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors
    assert seen, "the readers saw no version"
    for tag, body in seen:  # every read is one whole version, and its ETag is its own
        assert tags[tag] == body
    final = bucket().get_object("hot")
    assert tags[final.etag] == final.read()
    assert len(blob_files(server.data_dir)) == 1  # every superseded blob was deleted
    assert list((server.data_dir / "blobs" / "tmp").iterdir()) == []


@pytest.mark.slow
def test_large_object_streams_without_growing_memory(fresh_server: RunningServer,
                                                     bucket_name: str,
                                                     tmp_path: Path) -> None:
    import oss2

    server = fresh_server
    size = 100 * 1024 * 1024 + 7
    source = tmp_path / "big.bin"
    digest = hashlib.md5()
    with source.open("wb") as handle:
        for piece in pattern(size, b"seed"):
            handle.write(piece)
            digest.update(piece)
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    bucket = oss2.Bucket(auth, server.endpoint, bucket_name, region=server.region)
    bucket.create_bucket()
    bucket.put_object("warm-up", b"x" * 1024)
    bucket.get_object("warm-up").read()
    before = vm_kib(server.process.pid, "VmHWM")

    with source.open("rb") as handle:
        result = bucket.put_object("big.bin", handle)
    assert result.etag == digest.hexdigest().upper()
    download = hashlib.md5()
    received = 0
    stream = bucket.get_object("big.bin")
    for piece in iter(lambda: stream.read(1 << 20), b""):
        download.update(piece)
        received += len(piece)
    assert (received, download.hexdigest()) == (size, digest.hexdigest())
    tail = bucket.get_object("big.bin", byte_range=(size - 10, None)).read()
    assert len(tail) == 10

    grown_mib = (vm_kib(server.process.pid, "VmHWM") - before) / 1024
    assert grown_mib < 40, f"server peak memory grew by {grown_mib:.0f} MiB"


def test_ram_user_gets_exactly_the_object_actions_its_policy_allows(
        server: RunningServer, bucket: str, tmp_path: Path) -> None:
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:GetObject"],
         "Resource": f"acs:oss:*:*:{bucket}/public/*"},
        {"Effect": "Allow", "Action": "oss:ListObjects", "Resource": f"acs:oss:*:*:{bucket}"}]}
    user = create_user(server, f"reader-{bucket}", policy, tmp_path)
    call(server, "PUT", bucket, "public/a", body=b"a")
    call(server, "PUT", bucket, "private/b", body=b"b")

    def as_user(method: str, key: str = "", body: bytes = b"",
                query: list[tuple[str, str]] | None = None) -> Reply:
        return signed(server.endpoint, user["access_key_id"], user["access_key_secret"], method,
                      bucket, key=key, body=body, query=query or [])

    deadline = time.monotonic() + 3
    while as_user("GET", "public/a").status != 200:  # the key ring reloads within a second
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert as_user("GET", "public/a").body == b"a"
    assert as_user("HEAD", "public/a").status == 200
    assert as_user("GET").status == 200
    assert as_user("GET", query=[("list-type", "2")]).status == 200
    for method, key, action in (("GET", "private/b", "oss:GetObject"),
                                ("PUT", "public/new", "oss:PutObject"),
                                ("DELETE", "public/a", "oss:DeleteObject")):
        reply = as_user(method, key, body=b"x" if method == "PUT" else b"")
        assert error_code(reply) == (403, "AccessDenied"), (method, key)
        assert f"<AuthAction>{action}</AuthAction>" in reply.text


# --- CopyObject --------------------------------------------------------------------------------

def test_copy_object_keeps_or_replaces_metadata(server: RunningServer, bucket: str) -> None:
    data = b"copied content"
    call(server, "PUT", bucket, "src dir/a.txt", body=data,
         headers={"Content-Type": "text/x-source", "x-oss-meta-color": "blue",
                  "Cache-Control": "no-cache"})
    reply = call(server, "PUT", bucket, "copy.txt",
                 headers={"x-oss-copy-source": f"/{bucket}/src%20dir/a.txt"})
    when = re.search(r"<LastModified>(.*)</LastModified>", reply.text)
    assert reply.status == 200 and when is not None
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult>\n'
        f'  <ETag>"{etag(data)}"</ETag>\n  <LastModified>{when[1]}</LastModified>\n'
        "</CopyObjectResult>\n")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", when[1])
    got = call(server, "GET", bucket, "copy.txt")
    assert (got.body, got.headers["content-type"], got.headers["x-oss-meta-color"],
            got.headers["cache-control"]) == (data, "text/x-source", "blue", "no-cache")

    reply = call(server, "PUT", bucket, "replaced.txt", headers={
        "x-oss-copy-source": f"/{bucket}/src%20dir/a.txt", "x-oss-metadata-directive": "REPLACE",
        "Content-Type": "text/plain", "x-oss-meta-shape": "round"})
    assert reply.status == 200
    got = call(server, "GET", bucket, "replaced.txt")
    assert (got.body, got.headers["content-type"], got.headers.get("x-oss-meta-shape"),
            "x-oss-meta-color" in got.headers) == (data, "text/plain", "round", False)

    # onto itself with REPLACE: the way to change an object's metadata
    reply = call(server, "PUT", bucket, "copy.txt", headers={
        "x-oss-copy-source": f"/{bucket}/copy.txt", "x-oss-metadata-directive": "REPLACE",
        "Content-Type": "application/x-new"})
    assert reply.status == 200
    got = call(server, "GET", bucket, "copy.txt")
    assert (got.body, got.headers["content-type"]) == (data, "application/x-new")


def test_copy_object_refusals_and_conditions(server: RunningServer, bucket: str,
                                             bucket_name: str) -> None:
    call(server, "PUT", bucket, "src", body=b"abc")
    source = f"/{bucket}/src"
    cases = [
        ({"x-oss-copy-source": f"/{bucket}/missing"}, (404, "NoSuchKey")),
        ({"x-oss-copy-source": "/no-such-bucket-77/src"}, (404, "NoSuchBucket")),
        ({"x-oss-copy-source": f"/{bucket}"}, (400, "InvalidArgument")),
        ({"x-oss-copy-source": f"{source}?versionId=v1"}, (501, "NotImplemented")),
        ({"x-oss-copy-source": source, "x-oss-metadata-directive": "MERGE"},
         (400, "InvalidArgument")),
        ({"x-oss-copy-source": source, "x-oss-copy-source-if-match": '"0000"'},
         (412, "PreconditionFailed")),
    ]
    for headers, expected in cases:
        assert error_code(call(server, "PUT", bucket, "dst", headers=headers)) == expected, \
            headers
    assert call(server, "GET", bucket, "dst").status == 404  # nothing half-made
    reply = call(server, "PUT", bucket, "dst", headers={
        "x-oss-copy-source": source, "x-oss-copy-source-if-none-match": f'"{etag(b"abc")}"'})
    assert (reply.status, call(server, "GET", bucket, "dst").status) == (304, 404)
    reply = call(server, "PUT", bucket, "dst", headers={
        "x-oss-copy-source": source, "x-oss-copy-source-if-match": f'"{etag(b"abc")}"'})
    assert reply.status == 200 and call(server, "GET", bucket, "dst").body == b"abc"

    # across buckets
    other = bucket_name + "-x"
    assert call(server, "PUT", other).status == 200
    assert call(server, "PUT", other, "k", headers={"x-oss-copy-source": source}).status == 200
    assert call(server, "GET", other, "k").body == b"abc"


def test_copy_object_needs_get_on_the_source(server: RunningServer, bucket: str,
                                             tmp_path: Path) -> None:
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:PutObject"],
         "Resource": f"acs:oss:*:*:{bucket}/dst/*"},
        {"Effect": "Allow", "Action": ["oss:GetObject"],
         "Resource": f"acs:oss:*:*:{bucket}/open/*"}]}
    user = create_user(server, f"copier-{bucket}", policy, tmp_path)
    call(server, "PUT", bucket, "open/a", body=b"a")
    call(server, "PUT", bucket, "closed/b", body=b"b")

    def copy(source: str, target: str) -> Reply:
        return signed(server.endpoint, user["access_key_id"], user["access_key_secret"], "PUT",
                      bucket, key=target, headers={"x-oss-copy-source": f"/{bucket}/{source}"})

    deadline = time.monotonic() + 3
    while copy("open/a", "dst/a").status != 200:  # the key ring reloads within a second
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert call(server, "GET", bucket, "dst/a").body == b"a"
    reply = copy("closed/b", "dst/b")
    assert error_code(reply) == (403, "AccessDenied")
    assert "<AuthAction>oss:GetObject</AuthAction>" in reply.text
    reply = copy("open/a", "elsewhere/a")
    assert error_code(reply) == (403, "AccessDenied")
    assert "<AuthAction>oss:PutObject</AuthAction>" in reply.text


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_copy_object_through_sdk(server: RunningServer, bucket: str, kind: str,
                                 sign: str) -> None:
    sdk = objects(server, kind, sign, bucket)
    sdk.put("from dir/ü.txt", b"sdk copy", meta={"k": "v"})
    assert sdk.copy("from dir/ü.txt", "to") == etag(b"sdk copy")
    status, body, headers = sdk.get("to")
    assert (status, body, headers["x-oss-meta-k"]) == (200, b"sdk copy", "v")


# --- DeleteMultipleObjects ---------------------------------------------------------------------

def delete_body(*keys: str, quiet: bool = False) -> bytes:
    objects_xml = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f"<Delete><Quiet>{str(quiet).lower()}</Quiet>{objects_xml}</Delete>".encode()


def md5_header(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def test_delete_multiple_objects(server: RunningServer, bucket: str) -> None:
    for key in ("a", "b c", "d&e", "keep"):
        call(server, "PUT", bucket, key, body=b"x")
    body = delete_body("a", "b c", "d&amp;e", "never-was", "a")
    reply = call(server, "POST", bucket, query=[("delete", ""), ("encoding-type", "url")],
                 body=body, headers=md5_header(body))
    assert (reply.status, reply.text) == (200, (
        '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>\n'
        "  <EncodingType>url</EncodingType>\n"
        "  <Deleted>\n    <Key>a</Key>\n  </Deleted>\n"
        "  <Deleted>\n    <Key>b%20c</Key>\n  </Deleted>\n"
        "  <Deleted>\n    <Key>d%26e</Key>\n  </Deleted>\n"
        "  <Deleted>\n    <Key>never-was</Key>\n  </Deleted>\n"
        "</DeleteResult>\n"))
    listing = call(server, "GET", bucket).text
    assert re.findall(r"<Key>([^<]*)</Key>", listing) == ["keep"]

    body = delete_body("keep", quiet=True)
    reply = call(server, "POST", bucket, query=[("delete", "")], body=body,
                 headers=md5_header(body))
    assert (reply.status, reply.text) == (
        200, '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>\n</DeleteResult>\n')
    assert call(server, "GET", bucket, "keep").status == 404


@pytest.mark.parametrize(("body", "expected"), [
    (b"<Delete><Quiet>false</Quiet></Delete>", (400, "MalformedXML")),
    (b"<Delete><Object><Key></Key></Object></Delete>", (400, "MalformedXML")),
    (b"<Remove><Object><Key>a</Key></Object></Remove>", (400, "MalformedXML")),
    (b"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
     (400, "MalformedXML")),
    (delete_body(*(f"k{i}" for i in range(1001))), (400, "MalformedXML")),
    (b"<Delete><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>",
     (501, "NotImplemented")),
])
def test_delete_multiple_objects_refusals(server: RunningServer, bucket: str, body: bytes,
                                          expected: tuple[int, str]) -> None:
    call(server, "PUT", bucket, "a", body=b"x")
    reply = call(server, "POST", bucket, query=[("delete", "")], body=body,
                 headers=md5_header(body))
    assert error_code(reply) == expected
    assert call(server, "GET", bucket, "a").status == 200  # nothing deleted


def test_delete_multiple_objects_checks_every_key_first(server: RunningServer, bucket: str,
                                                         tmp_path: Path) -> None:
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:DeleteObject"],
         "Resource": f"acs:oss:*:*:{bucket}/tmp/*"}]}
    user = create_user(server, f"deleter-{bucket}", policy, tmp_path)
    for key in ("tmp/1", "tmp/2", "data/3"):
        call(server, "PUT", bucket, key, body=b"x")

    def delete(*keys: str) -> Reply:
        body = delete_body(*keys)
        return signed(server.endpoint, user["access_key_id"], user["access_key_secret"],
                      "POST", bucket, query=[("delete", "")], body=body,
                      headers=md5_header(body))

    deadline = time.monotonic() + 3
    while (reply := delete("tmp/1", "data/3")).status != 403 or "oss:DeleteObject" not in \
            reply.text:  # the key ring reloads within a second
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert error_code(reply) == (403, "AccessDenied")
    assert call(server, "GET", bucket, "tmp/1").status == 200  # refused as a whole
    second = delete("tmp/1", "tmp/2")
    assert second.status == 200, second.text
    assert [call(server, "GET", bucket, k).status for k in ("tmp/1", "tmp/2", "data/3")] == [
        404, 404, 200]


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_delete_multiple_objects_through_sdk(server: RunningServer, bucket: str, kind: str,
                                             sign: str) -> None:
    sdk = objects(server, kind, sign, bucket)
    for key in ("x/1", "x/2 two", "x/3"):
        sdk.put(key, b"v")
    assert sorted(sdk.delete_many(["x/1", "x/2 two"])) == ["x/1", "x/2 two"]
    assert sdk.list_v2("x/")[0] == ["x/3"]


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_prefix_with_space_and_plus_through_sdk(server: RunningServer, bucket: str, kind: str,
                                                sign: str) -> None:
    """oss2 sends a space in a query value as ``+`` (form encoding), the Go SDK and oss-v2 as
    ``%20``; a literal plus always as ``%2B``. Both spellings of the space must list the same,
    and V4 signatures over such queries must verify."""
    sdk = objects(server, kind, sign, bucket)
    for key in ("a b/1", "a+b/2", "ab/3"):
        sdk.put(key, b"v")
    assert sdk.list_v1(prefix="a b/")[0] == ["a b/1"]
    assert sdk.list_v2(prefix="a+b/")[0] == ["a+b/2"]
    assert sdk.list_v1(prefix="a", delimiter=" ")[1] == ["a "]


# --- x-oss-forbid-overwrite --------------------------------------------------------------------

FORBID = {"x-oss-forbid-overwrite": "true"}


def test_forbid_overwrite_on_put_copy_and_multipart(server: RunningServer, bucket: str) -> None:
    assert call(server, "PUT", bucket, "k", body=b"first", headers=FORBID).status == 200
    reply = call(server, "PUT", bucket, "k", body=b"second", headers=FORBID)
    assert error_code(reply) == (409, "FileAlreadyExists")
    assert "<Message>The object you specified already exists and can not be overwritten." \
           "</Message>" in reply.text
    assert call(server, "GET", bucket, "k").body == b"first"  # untouched
    assert call(server, "PUT", bucket, "k", body=b"third",
                headers={"x-oss-forbid-overwrite": "false"}).status == 200
    assert call(server, "PUT", bucket, "k2", body=b"other").status == 200

    copy = dict(FORBID, **{"x-oss-copy-source": f"/{bucket}/k"})
    assert error_code(call(server, "PUT", bucket, "k2", headers=copy)) == (
        409, "FileAlreadyExists")
    assert call(server, "PUT", bucket, "k3", headers=copy).status == 200
    assert call(server, "GET", bucket, "k3").body == b"third"

    assert error_code(call(server, "POST", bucket, "k", query=[("uploads", "")],
                           headers=FORBID)) == (409, "FileAlreadyExists")
    started = call(server, "POST", bucket, "late", query=[("uploads", "")], headers=FORBID)
    upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", started.text)
    assert started.status == 200 and upload_id is not None
    part = call(server, "PUT", bucket, "late",
                query=[("partNumber", "1"), ("uploadId", upload_id[1])], body=b"part")
    assert part.status == 200
    # the key got an object meanwhile: completing with the header is refused, upload kept
    assert call(server, "PUT", bucket, "late", body=b"meanwhile").status == 200
    body = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
            f"{part.headers['etag']}</ETag></Part></CompleteMultipartUpload>").encode()
    query = [("uploadId", upload_id[1])]
    assert error_code(call(server, "POST", bucket, "late", query=query, body=body,
                           headers=FORBID)) == (409, "FileAlreadyExists")
    assert call(server, "GET", bucket, "late", query=query).status == 200  # ListParts: kept
    assert call(server, "POST", bucket, "late", query=query, body=body).status == 200
    assert call(server, "GET", bucket, "late").body == b"part"


def test_forbid_overwrite_is_decided_at_commit(server: RunningServer, bucket: str) -> None:
    """Racing PUTs with the header: exactly one wins, the others get 409 (store-level check)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(
            lambda i: call(server, "PUT", bucket, "race", body=b"%d" % i * 50000,
                           headers=FORBID), range(8)))
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] + [409] * 7, statuses
    winner = next(i for i, reply in enumerate(replies) if reply.status == 200)
    assert call(server, "GET", bucket, "race").body == b"%d" % winner * 50000
