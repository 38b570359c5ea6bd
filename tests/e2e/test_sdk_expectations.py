"""What Alibaba's SDKs expect of the operations the server supports (issue 8, section 5), through
the real server with ``oss2`` and ``alibabacloud-oss-v2``: x-oss-hash-crc64ecma on every write
and read (each SDK's own CRC check on, and the value compared with an independent computation),
GetBucketInfo's full document, storage classes on objects, ListBuckets paging, GetObject's
``response-*`` overrides, case-insensitive enumerations, and 501 for what is not implemented.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import crcmod  # the SDKs' own CRC implementation: independent of the server's (fastcrc)
import pytest
from tests.support.raw import as_root as call
from tests.support.raw import error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

KIB = 1024
PART = 100 * KIB
_crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def crc(data: bytes) -> str:
    """OSS's x-oss-hash-crc64ecma of ``data``, as crcmod computes it for both SDKs."""
    return str(_crc64(data))


def test_crc_matches_the_reference_check_value() -> None:
    assert crc(b"123456789") == "11051210869376104954"  # CRC-64/XZ's catalogue check value


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> str:
    assert call(server, "PUT", bucket_name).status == 200
    return bucket_name


def oss2_bucket(server: RunningServer, bucket: str, sign: str = "v1") -> Any:
    import oss2

    auth = (oss2.AuthV4 if sign == "v4" else oss2.Auth)(server.access_key_id,
                                                       server.access_key_secret)
    return oss2.Bucket(auth, server.endpoint, bucket, region=server.region)  # enable_crc=True


def v2(server: RunningServer, sign: str = "v4") -> Any:
    return oss_v2_client(server.endpoint, server.access_key_id, server.access_key_secret,
                         sign, server.region)


# --- x-oss-hash-crc64ecma ---------------------------------------------------------------------

@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss2_crc_on_put_get_head_and_multipart(server: RunningServer, bucket: str,
                                                sign: str) -> None:
    import oss2

    client = oss2_bucket(server, bucket, sign)
    data = os.urandom(3 * KIB + 7)
    put = client.put_object("crc.bin", data)  # oss2 compares its CRC with the header
    assert put.crc == int(crc(data))
    assert put.headers["x-oss-hash-crc64ecma"] == crc(data)
    got = client.get_object("crc.bin")
    assert got.read() == data  # oss2 checks the CRC at the end of the read
    assert got.server_crc == int(crc(data))
    ranged = client.get_object("crc.bin", byte_range=(1, 10))
    assert ranged.read() == data[1:11]
    assert ranged.headers["x-oss-hash-crc64ecma"] == crc(data)  # the whole object's, as OSS
    assert client.head_object("crc.bin").server_crc == int(crc(data))

    pieces = [os.urandom(PART), os.urandom(PART), os.urandom(999)]
    upload_id = client.init_multipart_upload("parts.bin").upload_id
    infos = []
    for number, piece in enumerate(pieces, start=1):
        result = client.upload_part("parts.bin", upload_id, number, piece)
        assert result.crc == int(crc(piece))
        assert result.headers["x-oss-hash-crc64ecma"] == crc(piece)
        infos.append(oss2.models.PartInfo(number, result.etag, size=len(piece),
                                          part_crc=result.crc))
    # with part CRCs given, oss2 combines them and checks the header against the result
    done = client.complete_multipart_upload("parts.bin", upload_id, infos)
    whole = b"".join(pieces)
    assert done.headers["x-oss-hash-crc64ecma"] == crc(whole)
    got = client.get_object("parts.bin")
    assert got.read() == whole
    assert got.server_crc == int(crc(whole))



@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss_v2_crc_on_put_get_head_and_multipart(server: RunningServer, bucket: str,
                                                  sign: str, tmp_path: Any) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2(server, sign)  # upload and download CRC checks on (the default)
    data = os.urandom(5 * KIB + 3)
    put = client.put_object(oss.PutObjectRequest(bucket=bucket, key="crc.bin", body=data))
    assert put.hash_crc64 == crc(data)
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="crc.bin"))
    assert (got.body.read(), got.hash_crc64) == (data, crc(data))
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key="crc.bin"))
    assert head.hash_crc64 == crc(data)
    target = tmp_path / "down.bin"
    client.get_object_to_file(oss.GetObjectRequest(bucket=bucket, key="crc.bin"), str(target))
    assert target.read_bytes() == data  # get_object_to_file checks the CRC itself

    pieces = [os.urandom(PART), os.urandom(17)]
    upload_id = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=bucket, key="parts.bin")).upload_id
    parts = []
    for number, piece in enumerate(pieces, start=1):
        result = client.upload_part(oss.UploadPartRequest(
            bucket=bucket, key="parts.bin", upload_id=upload_id, part_number=number,
            body=piece))
        assert result.hash_crc64 == crc(piece)
        parts.append(oss.UploadPart(part_number=number, etag=result.etag))
    done = client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=bucket, key="parts.bin", upload_id=upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))
    assert done.hash_crc64 == crc(b"".join(pieces))

    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * PART + 5))
    # the uploader combines the parts' CRCs and compares them with Complete's header
    uploader = client.uploader(part_size=PART, parallel_num=2)
    uploaded = uploader.upload_file(oss.PutObjectRequest(bucket=bucket, key="up.bin"),
                                    filepath=str(source))
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key="up.bin"))
    assert head.hash_crc64 == crc(source.read_bytes())
    assert uploaded.etag == head.etag


def test_copy_object_and_complete_all_carry_the_crc(server: RunningServer, bucket: str) -> None:
    data = os.urandom(2000)
    assert call(server, "PUT", bucket, "src", body=data).status == 200
    copied = call(server, "PUT", bucket, "dst",
                  headers={"x-oss-copy-source": f"/{bucket}/src"})
    assert copied.status == 200
    assert copied.headers["x-oss-hash-crc64ecma"] == crc(data)
    assert call(server, "HEAD", bucket, "dst").headers["x-oss-hash-crc64ecma"] == crc(data)


def test_object_without_a_stored_crc_omits_the_header(server: RunningServer,
                                                      bucket: str) -> None:
    """A row written before CRCs were kept (NULL column) is served without the header, and the
    SDKs' checks, which run only when the header is present, pass."""
    import alibabacloud_oss_v2 as oss

    data = os.urandom(500)
    assert call(server, "PUT", bucket, "old", body=data).status == 200
    with sqlite3.connect(server.data_dir / "ossutil.db") as db:
        db.execute("UPDATE objects SET crc64 = NULL WHERE bucket = ? AND key = ?",
                   (bucket, "old"))
    reply = call(server, "GET", bucket, "old")
    assert (reply.status, reply.body) == (200, data)
    assert "x-oss-hash-crc64ecma" not in reply.headers
    assert oss2_bucket(server, bucket).get_object("old").read() == data
    got = v2(server).get_object(oss.GetObjectRequest(bucket=bucket, key="old"))
    assert (got.body.read(), got.hash_crc64) == (data, None)


# --- GetBucketInfo, storage class ------------------------------------------------------------

def test_get_bucket_info_has_every_element_and_objects_report_the_class(
        server: RunningServer, bucket_name: str) -> None:
    import alibabacloud_oss_v2 as oss

    body = (b"<CreateBucketConfiguration><StorageClass>ia</StorageClass>"
            b"</CreateBucketConfiguration>")
    assert call(server, "PUT", bucket_name, body=body).status == 200
    info = oss2_bucket(server, bucket_name).get_bucket_info()
    assert (info.storage_class, info.data_redundancy_type, info.access_monitor) == (
        "IA", "LRS", "Disabled")
    assert (info.transfer_acceleration, info.cross_region_replication) == (
        "Disabled", "Disabled")
    assert info.bucket_encryption_rule.sse_algorithm is None  # <SSEAlgorithm>None</...>
    v2_info = v2(server).get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket_name))
    bucket = v2_info.bucket_info
    assert bucket.block_public_access is False
    assert bucket.sse_rule.sse_algorithm == "None"
    assert (bucket.bucket_policy.log_bucket, bucket.bucket_policy.log_prefix) in (
        (None, None), ("", ""))
    raw = call(server, "GET", bucket_name, query=[("bucketInfo", "")]).text
    for element in ("<Comment></Comment>", "<ResourceGroupId></ResourceGroupId>",
                    "<BlockPublicAccess>false</BlockPublicAccess>",
                    "<ServerSideEncryptionRule>\n      <SSEAlgorithm>None</SSEAlgorithm>",
                    "<BucketPolicy>\n      <LogBucket></LogBucket>\n      <LogPrefix>"):
        assert element in raw
    assert "<Versioning>" not in raw

    assert call(server, "PUT", bucket_name, "k", body=b"x").status == 200
    assert call(server, "HEAD", bucket_name, "k").headers["x-oss-storage-class"] == "IA"
    listed = call(server, "GET", bucket_name).text
    assert "<StorageClass>IA</StorageClass>" in listed


# --- ListBuckets paging -----------------------------------------------------------------------

def test_list_buckets_pages_with_both_sdks(fresh_server: RunningServer) -> None:
    import alibabacloud_oss_v2 as oss
    import oss2

    names = [f"page-{i:02d}" for i in range(5)] + ["other-1"]
    for name in names:
        assert call(fresh_server, "PUT", name).status == 200
    auth = oss2.Auth(fresh_server.access_key_id, fresh_server.access_key_secret)
    service = oss2.Service(auth, fresh_server.endpoint, region=fresh_server.region)
    first = service.list_buckets(prefix="page-", max_keys=2)
    assert ([b.name for b in first.buckets], first.is_truncated, first.next_marker) == (
        ["page-00", "page-01"], True, "page-01")
    assert [b.name for b in oss2.BucketIterator(service, prefix="page-", max_keys=2)] == \
        names[:5]
    paginator = v2(fresh_server).list_buckets_paginator(limit=2)
    pages = list(paginator.iter_page(oss.ListBucketsRequest(prefix="page-")))
    assert [[b.name for b in p.buckets] for p in pages] == [
        ["page-00", "page-01"], ["page-02", "page-03"], ["page-04"]]
    reply = call(fresh_server, "GET", "", query=[("prefix", "page-"), ("marker", "page-03"),
                                                 ("max-keys", "1")])
    assert "<Prefix>page-</Prefix>\n  <Marker>page-03</Marker>\n  <MaxKeys>1</MaxKeys>\n" \
        in reply.text
    assert "<IsTruncated>" not in reply.text and "<Name>page-04</Name>" in reply.text
    for bad in ("0", "1001", "x", "9" * 40):
        reply = call(fresh_server, "GET", "", query=[("max-keys", bad)])
        assert error_code(reply) == (400, "InvalidArgument")


# --- response-* overrides, enumerations, 501 --------------------------------------------------

def test_get_object_response_overrides(server: RunningServer, bucket: str) -> None:
    import alibabacloud_oss_v2 as oss

    assert call(server, "PUT", bucket, "o", body=b"data").status == 200
    wanted = {"response-content-type": "text/x-test", "response-content-language": "fr",
              "response-expires": "Thu, 01 Jan 2037 00:00:00 GMT",
              "response-cache-control": "no-store",
              "response-content-disposition": 'attachment; filename="a.txt"',
              "response-content-encoding": "identity"}
    got = oss2_bucket(server, bucket).get_object("o", params=wanted)
    assert got.read() == b"data"
    for name, value in wanted.items():
        assert got.headers[name.removeprefix("response-")] == value
    result = v2(server).get_object(oss.GetObjectRequest(
        bucket=bucket, key="o", response_content_disposition="inline",
        response_content_type="image/png"))
    assert (result.content_disposition, result.content_type) == ("inline", "image/png")
    call(server, "PUT", bucket, query=[("acl", "")], headers={"x-oss-acl": "public-read"})
    anonymous = send(server.endpoint, "GET", f"/{bucket}/o",
                     query="response-content-type=text%2Fplain")
    assert (anonymous.status, anonymous.headers["content-type"]) == (200, "text/plain")
    refused = send(server.endpoint, "GET", f"/{bucket}/o",
                   query="response-content-disposition=attachment")
    assert error_code(refused) == (403, "AccessDenied")


def test_enumerations_are_case_insensitive(server: RunningServer, bucket: str) -> None:
    assert call(server, "PUT", bucket, "s", body=b"x",
                headers={"x-oss-meta-a": "1"}).status == 200
    for directive in ("copy", "Copy", "COPY"):
        reply = call(server, "PUT", bucket, "d", headers={
            "x-oss-copy-source": f"/{bucket}/s", "x-oss-metadata-directive": directive})
        assert reply.status == 200
    reply = call(server, "PUT", bucket, "d", headers={
        "x-oss-copy-source": f"/{bucket}/s", "x-oss-metadata-directive": "replace",
        "x-oss-meta-b": "2"})
    assert reply.status == 200
    head = call(server, "HEAD", bucket, "d").headers
    assert ("x-oss-meta-a" in head, head["x-oss-meta-b"]) == (False, "2")
    assert call(server, "PUT", bucket, "sc", body=b"x",
                headers={"x-oss-storage-class": "standard"}).status == 200
    assert call(server, "PUT", bucket, query=[("acl", "")],
                headers={"x-oss-acl": "Public-Read"}).status == 200
    assert "<Grant>public-read</Grant>" in call(server, "GET", bucket, query=[("acl", "")]).text


@pytest.mark.parametrize(("method", "key", "query", "headers"), [
    ("GET", "", [("regions", "")], {}),
    ("GET", "", [("tag-key", "k")], {}),
    ("GET", "", [("tag-value", "v")], {}),
    ("GET", "", [("tag", "")], {}),
    ("GET", "", [], {"x-oss-resource-group-id": "rg-1"}),
    ("PUT", "obj", [], {"x-oss-tagging": "a=b"}),
    ("PUT", "obj", [], {"x-oss-storage-class": "Archive"}),
    ("PUT", "obj", [], {"x-oss-storage-class": "ColdArchive"}),
    ("PUT", "obj", [], {"x-oss-storage-class": "DeepColdArchive"}),
    ("PUT", "obj", [], {"x-oss-server-side-encryption": "AES256"}),
    ("PUT", "obj", [], {"x-oss-server-side-data-encryption": "SM4"}),
    ("PUT", "obj", [], {"x-oss-server-side-encryption-key-id": "k"}),
    ("PUT", "obj", [], {"x-oss-callback": "e30="}),
    ("PUT", "obj", [("callback", "e30=")], {}),
    ("POST", "obj", [("uploads", "")], {"x-oss-tagging": "a=b"}),
    ("POST", "obj", [("uploads", "")], {"x-oss-storage-class": "Archive"}),
])
def test_unimplemented_features_are_501(server: RunningServer, bucket: str, method: str,
                                        key: str, query: list[tuple[str, str]],
                                        headers: dict[str, str]) -> None:
    target = bucket if key else ""
    reply = call(server, method, target, key, query=query, headers=headers,
                 body=b"x" if method == "PUT" else b"")
    assert error_code(reply) == (501, "NotImplemented")
    assert call(server, "HEAD", bucket, "obj").status == 404  # nothing was written


@pytest.mark.parametrize("headers", [
    {"x-oss-server-side-encryption": "AES256"}, {"x-oss-resource-group-id": "rg-1"}])
def test_put_bucket_refuses_unimplemented_headers(server: RunningServer, bucket_name: str,
                                                  headers: dict[str, str]) -> None:
    assert error_code(call(server, "PUT", bucket_name, headers=headers)) == (
        501, "NotImplemented")
    body = (b"<CreateBucketConfiguration><StorageClass>Archive</StorageClass>"
            b"</CreateBucketConfiguration>")
    assert error_code(call(server, "PUT", bucket_name, body=body)) == (501, "NotImplemented")
    assert error_code(call(server, "GET", bucket_name, query=[("bucketInfo", "")])) == (
        404, "NoSuchBucket")
