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
