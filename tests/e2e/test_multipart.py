"""Multipart upload against the real server: raw signed requests (exact XML, status and error
codes, V1 and V4), both SDKs' multipart calls and resumable uploaders, and (slow) Go ossutil's
``cp`` of a big file and a 100 MiB upload in parts without the server's memory growing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.support.memory import pattern, vm_kib
from tests.support.raw import Reply, error_code, signed
from tests.support.raw import as_root as call
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer, create_user

KIB = 1024
MIB = 1024 * KIB
PART = 100 * KIB  # OSS's smallest part but the last
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
UPLOAD_ID = re.compile(r"^[0-9A-F]{32}$")
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest().upper()


def multipart_etag(*parts: bytes) -> str:
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f"{hashlib.md5(joined).hexdigest().upper()}-{len(parts)}"


def complete_body(*parts: tuple[int, str]) -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
                    for n, e in parts)
    return f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()


def data_of(size: int, seed: int) -> bytes:
    block = hashlib.sha256(bytes([seed])).digest()
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> str:
    assert call(server, "PUT", bucket_name).status == 200
    return bucket_name


def initiate(server: RunningServer, bucket: str, key: str, version: str = "v1",
             headers: dict[str, str] | None = None) -> str:
    reply = call(server, "POST", bucket, key, query=[("uploads", "")], headers=headers,
                 version=version)
    assert reply.status == 200, reply.text
    match = re.search(r"<UploadId>([^<]*)</UploadId>", reply.text)
    assert match is not None
    return match.group(1)


def upload_part(server: RunningServer, bucket: str, key: str, upload_id: str, number: int,
                data: bytes, version: str = "v1") -> Reply:
    return call(server, "PUT", bucket, key,
                query=[("partNumber", str(number)), ("uploadId", upload_id)], body=data,
                version=version)


# --- raw requests: the whole flow, exact bytes --------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v4"])
def test_initiate_upload_list_complete_read(server: RunningServer, bucket: str,
                                            version: str) -> None:
    key = "dir/movie file.bin"
    reply = call(server, "POST", bucket, key, query=[("uploads", "")], version=version,
                 headers={"Content-Type": "video/x-test", "x-oss-meta-Color": "blue",
                          "Cache-Control": "no-cache"})
    upload_id = re.search(r"<UploadId>([^<]*)</UploadId>", reply.text)
    assert reply.status == 200 and upload_id is not None
    upload_id_text = upload_id.group(1)
    assert UPLOAD_ID.match(upload_id_text)
    assert reply.headers["content-type"] == "application/xml"
    assert reply.text == (
        f"{DECL}<InitiateMultipartUploadResult>\n  <Bucket>{bucket}</Bucket>\n"
        f"  <Key>{key}</Key>\n  <UploadId>{upload_id_text}</UploadId>\n"
        "</InitiateMultipartUploadResult>\n")

    one, two, three = data_of(PART, 1), data_of(PART + 5, 2), data_of(777, 3)
    for number, data in ((3, three), (1, data_of(PART, 9)), (2, two), (1, one)):
        part = upload_part(server, bucket, key, upload_id_text, number, data, version)
        assert part.status == 200, part.text
        assert part.headers["etag"] == f'"{md5_hex(data)}"'
        assert part.headers["content-md5"] == base64.b64encode(
            hashlib.md5(data).digest()).decode()
        assert part.body == b""

    listed = call(server, "GET", bucket, key, query=[("uploadId", upload_id_text)],
                  version=version)
    stamps = re.findall(r"<LastModified>([^<]*)</LastModified>", listed.text)
    assert listed.status == 200 and len(stamps) == 3
    assert all(re.fullmatch(ISO_MS, s) for s in stamps)
    entries = "".join(
        f"  <Part>\n    <PartNumber>{n}</PartNumber>\n    <LastModified>{s}</LastModified>\n"
        f'    <ETag>"{md5_hex(d)}"</ETag>\n    <Size>{len(d)}</Size>\n  </Part>\n'
        for n, s, d in zip((1, 2, 3), stamps, (one, two, three), strict=True))
    assert listed.text == (
        f"{DECL}<ListPartsResult>\n  <Bucket>{bucket}</Bucket>\n  <Key>{key}</Key>\n"
        f"  <UploadId>{upload_id_text}</UploadId>\n  <StorageClass>Standard</StorageClass>\n"
        "  <PartNumberMarker>0</PartNumberMarker>\n"
        "  <NextPartNumberMarker>3</NextPartNumberMarker>\n  <MaxParts>1000</MaxParts>\n"
        f"  <IsTruncated>false</IsTruncated>\n{entries}</ListPartsResult>\n")

    body = complete_body((1, f'"{md5_hex(one)}"'), (2, f'"{md5_hex(two)}"'),
                         (3, md5_hex(three).lower()))  # quotes and case do not matter
    done = call(server, "POST", bucket, key, query=[("uploadId", upload_id_text)], body=body,
                version=version)
    expected_etag = f'"{multipart_etag(one, two, three)}"'
    host = server.endpoint.split("://", 1)[1]
    assert (done.status, done.text) == (200, (
        f"{DECL}<CompleteMultipartUploadResult>\n"
        f"  <Location>http://{host}/{bucket}/dir/movie%20file.bin</Location>\n"
        f"  <Bucket>{bucket}</Bucket>\n  <Key>{key}</Key>\n  <ETag>{expected_etag}</ETag>\n"
        "</CompleteMultipartUploadResult>\n"))
    assert done.headers["etag"] == expected_etag

    whole = one + two + three
    got = call(server, "GET", bucket, key, version=version)
    assert (got.status, got.body) == (200, whole)
    assert (got.headers["etag"], got.headers["x-oss-object-type"]) == (expected_etag,
                                                                       "Multipart")
    assert "content-md5" not in got.headers  # the ETag is not the content's MD5
    assert (got.headers["content-type"], got.headers["x-oss-meta-color"],
            got.headers["cache-control"]) == ("video/x-test", "blue", "no-cache")
    # a Range across the part boundaries
    span = f"{PART - 3}-{2 * PART + 8}"
    ranged = call(server, "GET", bucket, key, headers={"Range": f"bytes={span}"})
    assert ranged.status == 206
    assert ranged.body == whole[PART - 3:2 * PART + 9]
    assert ranged.headers["content-range"] == f"bytes {span}/{len(whole)}"
    listing = call(server, "GET", bucket, query=[("prefix", "dir/")]).text
    assert "<Type>Multipart</Type>" in listing and f"<ETag>{expected_etag}</ETag>" in listing

    # the upload is over
    for method, query in (("GET", []), ("DELETE", []),
                          ("POST", []), ("PUT", [("partNumber", "4")])):
        reply = call(server, method, bucket, key, query=[("uploadId", upload_id_text), *query],
                     body=body if method == "POST" else b"x" if method == "PUT" else b"")
        assert error_code(reply) == (404, "NoSuchUpload"), method
        assert f"<UploadId>{upload_id_text}</UploadId>" in reply.text
    assert call(server, "GET", bucket, key).body == whole


def test_encoding_type_url(server: RunningServer, bucket: str) -> None:
    key = "a b/ü&.bin"
    reply = call(server, "POST", bucket, key, query=[("uploads", ""), ("encoding-type", "url")])
    upload_id = re.search(r"<UploadId>([^<]*)</UploadId>", reply.text)
    assert upload_id is not None
    assert reply.text == (
        f"{DECL}<InitiateMultipartUploadResult>\n  <Bucket>{bucket}</Bucket>\n"
        f"  <Key>a%20b%2F%C3%BC%26.bin</Key>\n  <UploadId>{upload_id[1]}</UploadId>\n"
        "  <EncodingType>url</EncodingType>\n</InitiateMultipartUploadResult>\n")
    data = b"only part"
    upload_part(server, bucket, key, upload_id[1], 1, data)
    listed = call(server, "GET", bucket, key, query=[("uploadId", upload_id[1]),
                                                     ("encoding-type", "url")])
    assert "<EncodingType>url</EncodingType>\n  <Key>a%20b%2F%C3%BC%26.bin</Key>" in listed.text
    done = call(server, "POST", bucket, key, query=[("uploadId", upload_id[1]),
                                                    ("encoding-type", "url")],
                body=complete_body((1, md5_hex(data))))
    assert done.status == 200
    assert done.text.startswith(f"{DECL}<CompleteMultipartUploadResult>\n"
                                "  <EncodingType>url</EncodingType>\n  <Location>")
    assert "<Key>a%20b%2F%C3%BC%26.bin</Key>" in done.text
    assert call(server, "GET", bucket, key).body == data


def test_upload_part_refusals(server: RunningServer, bucket: str) -> None:
    upload_id = initiate(server, bucket, "k")
    for number in ("0", "10001", "x", ""):
        reply = call(server, "PUT", bucket, "k",
                     query=[("partNumber", number), ("uploadId", upload_id)], body=b"x")
        assert error_code(reply) == (400, "InvalidArgument"), number
    assert upload_part(server, bucket, "k", upload_id, 10000, b"x").status == 200
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    reply = call(server, "PUT", bucket, "k", query=[("partNumber", "2"), ("uploadId", upload_id)],
                 body=b"data", headers={"Content-MD5": wrong_md5})
    assert error_code(reply) == (400, "InvalidDigest")
    assert error_code(upload_part(server, bucket, "k", "0" * 32, 1, b"x")) == (
        404, "NoSuchUpload")
    assert error_code(upload_part(server, bucket, "other-key", upload_id, 1, b"x")) == (
        404, "NoSuchUpload")  # an upload id belongs to its key
    reply = call(server, "PUT", bucket, "k", query=[("uploadId", upload_id)], body=b"x")
    assert error_code(reply) == (400, "InvalidArgument")
    reply = call(server, "GET", bucket, "k", query=[("uploadId", upload_id)])
    assert re.findall(r"<PartNumber>(\d+)</PartNumber>", reply.text) == ["10000"]
    assert error_code(call(server, "POST", "no-such-bucket-mp", "k",
                           query=[("uploads", "")])) == (404, "NoSuchBucket")


def test_complete_refusals_leave_the_upload(server: RunningServer, bucket: str) -> None:
    upload_id = initiate(server, bucket, "k")
    small, big, last = b"s" * (PART - 1), data_of(PART, 4), b"tail"
    for number, data in ((1, small), (2, big), (3, last)):
        assert upload_part(server, bucket, "k", upload_id, number, data).status == 200
    e1, e2, e3 = (f'"{md5_hex(d)}"' for d in (small, big, last))
    cases = [
        (complete_body((2, e2), (1, e1)), (400, "InvalidPartOrder")),
        (complete_body((2, e2), (2, e2)), (400, "InvalidPartOrder")),
        (complete_body((2, e2), (4, e3)), (400, "InvalidPart")),
        (complete_body((2, e2), (3, e2)), (400, "InvalidPart")),
        (complete_body((1, e1), (2, e2)), (400, "EntityTooSmall")),
        (complete_body((0, e1)), (400, "InvalidPart")),
        (b"<CompleteMultipartUpload></CompleteMultipartUpload>", (400, "MalformedXML")),
        (b"<Complete><Part><PartNumber>1</PartNumber></Part></Complete>", (400, "MalformedXML")),
        (b"not xml", (400, "MalformedXML")),
    ]
    for body, expected in cases:
        reply = call(server, "POST", bucket, "k", query=[("uploadId", upload_id)], body=body)
        assert error_code(reply) == expected, body
    assert call(server, "GET", bucket, "k").status == 404  # nothing half-made
    # the smallest part may be the last one; part 1 (unnamed) is discarded
    reply = call(server, "POST", bucket, "k", query=[("uploadId", upload_id)],
                 body=complete_body((2, e2), (3, e3)))
    assert reply.status == 200, reply.text
    assert call(server, "GET", bucket, "k").body == big + last
    assert f"<ETag>\"{multipart_etag(big, last)}\"</ETag>" in reply.text


def test_complete_all_and_part_replacement(server: RunningServer, bucket: str) -> None:
    upload_id = initiate(server, bucket, "all")
    first, second = data_of(PART, 5), data_of(10, 6)
    upload_part(server, bucket, "all", upload_id, 2, b"replaced soon")
    upload_part(server, bucket, "all", upload_id, 2, second)
    upload_part(server, bucket, "all", upload_id, 1, first)
    reply = call(server, "POST", bucket, "all", query=[("uploadId", upload_id)],
                 headers={"x-oss-complete-all": "no"})
    assert error_code(reply) == (400, "InvalidArgument")
    reply = call(server, "POST", bucket, "all", query=[("uploadId", upload_id)],
                 headers={"x-oss-complete-all": "yes"}, body=complete_body((1, "x")))
    assert error_code(reply) == (400, "InvalidArgument")
    reply = call(server, "POST", bucket, "all", query=[("uploadId", upload_id)],
                 headers={"x-oss-complete-all": "yes"})
    assert reply.status == 200, reply.text
    assert reply.headers["etag"] == f'"{multipart_etag(first, second)}"'
    assert call(server, "GET", bucket, "all").body == first + second


def test_abort_and_list_parts_paging(server: RunningServer, bucket: str) -> None:
    upload_id = initiate(server, bucket, "k")
    for number in range(1, 6):
        upload_part(server, bucket, "k", upload_id, number, bytes([number]))

    def page(marker: str, limit: str) -> tuple[list[str], str, str]:
        reply = call(server, "GET", bucket, "k", query=[
            ("uploadId", upload_id), ("part-number-marker", marker), ("max-parts", limit)])
        assert reply.status == 200, reply.text
        numbers = re.findall(r"<PartNumber>(\d+)</PartNumber>", reply.text)
        truncated = re.search(r"<IsTruncated>(\w+)</IsTruncated>", reply.text)
        following = re.search(r"<NextPartNumberMarker>(\d+)</NextPartNumberMarker>", reply.text)
        assert truncated is not None and following is not None
        assert f"<PartNumberMarker>{marker}</PartNumberMarker>" in reply.text
        assert f"<MaxParts>{limit}</MaxParts>" in reply.text
        return numbers, truncated[1], following[1]

    assert page("0", "2") == (["1", "2"], "true", "2")
    assert page("2", "2") == (["3", "4"], "true", "4")
    assert page("4", "2") == (["5"], "false", "5")
    assert page("5", "2") == ([], "false", "5")
    for name, value in (("max-parts", "0"), ("max-parts", "1001"), ("part-number-marker", "x")):
        reply = call(server, "GET", bucket, "k", query=[("uploadId", upload_id), (name, value)])
        assert error_code(reply) == (400, "InvalidArgument"), name

    reply = call(server, "DELETE", bucket, "k", query=[("uploadId", upload_id)])
    assert (reply.status, reply.body) == (204, b"")
    reply = call(server, "DELETE", bucket, "k", query=[("uploadId", upload_id)])
    assert error_code(reply) == (404, "NoSuchUpload")
    assert error_code(call(server, "GET", bucket, "k", query=[("uploadId", upload_id)])) == (
        404, "NoSuchUpload")
    assert call(server, "GET", bucket, "k").status == 404


def test_list_multipart_uploads(server: RunningServer, bucket: str) -> None:
    made: dict[str, list[str]] = {}
    for key in ("a/1", "a/2", "b", "b", "c d", "a/1"):
        made.setdefault(key, []).append(initiate(server, bucket, key))
        time.sleep(0.002)  # ids of one key sort in initiation order
    ids = {key: sorted(values) for key, values in made.items()}
    assert ids == made

    def listing(*query: tuple[str, str]) -> str:
        reply = call(server, "GET", bucket, query=[("uploads", ""), *query])
        assert reply.status == 200, reply.text
        return reply.text

    text = listing()
    stamps = re.findall(r"<Initiated>([^<]*)</Initiated>", text)
    assert len(stamps) == 6 and all(re.fullmatch(ISO_MS, s) for s in stamps)
    order = [("a/1", ids["a/1"][0]), ("a/1", ids["a/1"][1]), ("a/2", ids["a/2"][0]),
             ("b", ids["b"][0]), ("b", ids["b"][1]), ("c d", ids["c d"][0])]
    uploads = "".join(
        f"  <Upload>\n    <Key>{k}</Key>\n    <UploadId>{u}</UploadId>\n"
        f"    <Initiated>{s}</Initiated>\n  </Upload>\n"
        for (k, u), s in zip(order, stamps, strict=True))
    assert text == (
        f"{DECL}<ListMultipartUploadsResult>\n  <Bucket>{bucket}</Bucket>\n"
        "  <KeyMarker></KeyMarker>\n  <UploadIdMarker></UploadIdMarker>\n"
        f"  <NextKeyMarker>c d</NextKeyMarker>\n"
        f"  <NextUploadIdMarker>{ids['c d'][0]}</NextUploadIdMarker>\n"
        "  <Delimiter></Delimiter>\n  <Prefix></Prefix>\n  <MaxUploads>1000</MaxUploads>\n"
        f"  <IsTruncated>false</IsTruncated>\n{uploads}</ListMultipartUploadsResult>\n")

    def entries(text: str) -> list[tuple[str, str]]:
        return re.findall(r"<Key>([^<]*)</Key>\n    <UploadId>([^<]*)</UploadId>", text)

    page = listing(("max-uploads", "2"))
    assert entries(page) == order[:2] and "<IsTruncated>true</IsTruncated>" in page
    assert "<NextKeyMarker>a/1</NextKeyMarker>" in page
    assert f"<NextUploadIdMarker>{ids['a/1'][1]}</NextUploadIdMarker>" in page
    page = listing(("max-uploads", "2"), ("key-marker", "a/1"),
                   ("upload-id-marker", ids["a/1"][1]))
    assert entries(page) == order[2:4]
    assert entries(listing(("key-marker", "a/2"))) == order[3:]  # after every upload of a/2
    assert entries(listing(("prefix", "a/"))) == order[:3]
    page = listing(("delimiter", "/"))
    assert entries(page) == order[3:]
    assert "<CommonPrefixes>\n    <Prefix>a/</Prefix>\n  </CommonPrefixes>" in page
    page = listing(("delimiter", "/"), ("max-uploads", "1"))
    assert "<Prefix>a/</Prefix>" in page and entries(page) == []
    assert "<NextKeyMarker>a/</NextKeyMarker>" in page
    page = listing(("delimiter", "/"), ("key-marker", "a/"))  # resumes past the prefix
    assert entries(page) == order[3:] and "<CommonPrefixes>" not in page
    page = listing(("prefix", "c "), ("encoding-type", "url"))
    assert "<Key>c%20d</Key>" in page and "<Prefix>c%20</Prefix>" in page
    assert error_code(call(server, "GET", bucket, query=[("uploads", ""),
                                                         ("max-uploads", "1001")])) == (
        400, "InvalidArgument")


def test_delete_bucket_refused_while_uploads_are_in_progress(server: RunningServer,
                                                              bucket: str) -> None:
    upload_id = initiate(server, bucket, "pending")
    reply = call(server, "DELETE", bucket)
    assert error_code(reply) == (409, "BucketNotEmpty")
    assert "multipart uploads in progress" in reply.text
    assert call(server, "DELETE", bucket, "pending", query=[("uploadId", upload_id)]).status \
        == 204
    assert call(server, "DELETE", bucket).status == 204


def test_ram_actions_of_multipart_operations(server: RunningServer, bucket: str,
                                             tmp_path: Path) -> None:
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:PutObject"],
         "Resource": f"acs:oss:*:*:{bucket}/up/*"}]}
    user = create_user(server, f"uploader-{bucket}", policy, tmp_path)

    def as_user(method: str, key: str, query: list[tuple[str, str]], body: bytes = b"",
                version: str = "v1") -> Reply:
        return signed(server.endpoint, user["access_key_id"], user["access_key_secret"],
                      method, bucket, key=key, query=query, body=body, version=version)

    deadline = time.monotonic() + 3
    while (reply := as_user("POST", "up/a", [("uploads", "")])).status != 200:
        assert time.monotonic() < deadline, reply.text  # the key ring reloads within a second
        time.sleep(0.05)
    upload_id = re.search(r"<UploadId>([^<]*)</UploadId>", reply.text)
    assert upload_id is not None
    uid = upload_id[1]
    assert as_user("PUT", "up/a", [("partNumber", "1"), ("uploadId", uid)], b"abc",
                   version="v4").status == 200
    for method, key, query, action in (
            ("GET", "up/a", [("uploadId", uid)], "oss:ListParts"),
            ("DELETE", "up/a", [("uploadId", uid)], "oss:AbortMultipartUpload"),
            ("GET", "", [("uploads", "")], "oss:ListMultipartUploads"),
            ("POST", "elsewhere/a", [("uploads", "")], "oss:PutObject")):
        reply = as_user(method, key, query)
        assert error_code(reply) == (403, "AccessDenied"), (method, query)
        assert f"<AuthAction>{action}</AuthAction>" in reply.text
    done = as_user("POST", "up/a", [("uploadId", uid)], complete_body((1, md5_hex(b"abc"))))
    assert done.status == 200, done.text
    assert call(server, "GET", bucket, "up/a").body == b"abc"


# --- through the SDKs ---------------------------------------------------------------------

@contextmanager
def oss2_bucket(server: RunningServer, bucket: str, sign: str) -> Iterator[Any]:
    """An ``oss2.Bucket`` whose connection pool is closed at the end (left to the garbage
    collector, a pooled socket would surface as an unraisable ResourceWarning later)."""
    import oss2

    ak, sk = server.access_key_id, server.access_key_secret
    auth = oss2.AuthV4(ak, sk) if sign == "v4" else oss2.Auth(ak, sk)
    sdk = oss2.Bucket(auth, server.endpoint, bucket, region=server.region,
                      session=oss2.Session())
    try:
        yield sdk
    finally:
        sdk.session.session.close()


def v2_client(server: RunningServer, sign: str) -> Any:
    return oss_v2_client(server.endpoint, server.access_key_id, server.access_key_secret, sign,
                         server.region)


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(data_of(MIB + 12345, 7))
    return path


@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss2_multipart_calls(server: RunningServer, bucket: str, sign: str) -> None:
    with oss2_bucket(server, bucket, sign) as sdk:
        oss2_calls(sdk)


def oss2_calls(sdk: Any) -> None:
    from oss2.models import PartInfo

    key = "oss2 dir/ü.bin"
    upload_id = sdk.init_multipart_upload(key, headers={"x-oss-meta-k": "v"}).upload_id
    one, two = data_of(PART + 1, 8), data_of(99, 9)
    e1 = sdk.upload_part(key, upload_id, 1, one).etag
    e2 = sdk.upload_part(key, upload_id, 2, two).etag
    assert (e1, e2) == (md5_hex(one), md5_hex(two))
    listed = sdk.list_parts(key, upload_id)
    assert [(p.part_number, p.etag, p.size) for p in listed.parts] == [
        (1, e1, len(one)), (2, e2, len(two))]
    assert [(u.key, u.upload_id) for u in sdk.list_multipart_uploads(prefix="oss2").upload_list
            ] == [(key, upload_id)]
    result = sdk.complete_multipart_upload(key, upload_id, [PartInfo(1, e1), PartInfo(2, e2)])
    assert result.etag == multipart_etag(one, two)
    with sdk.get_object(key) as got:
        assert (got.read(), got.headers["x-oss-meta-k"]) == (one + two, "v")
    assert sdk.head_object(key).object_type == "Multipart"

    other = sdk.init_multipart_upload("aborted").upload_id
    sdk.upload_part("aborted", other, 1, b"x")
    sdk.abort_multipart_upload("aborted", other)
    # (NoSuchUpload itself is checked with raw requests above: an oss2 exception keeps its
    # unreleased response, and so a socket, in a reference cycle the test would leak)
    assert sdk.list_multipart_uploads(prefix="aborted").upload_list == []


@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss2_resumable_upload(server: RunningServer, bucket: str, sign: str,
                               source_file: Path, tmp_path: Path) -> None:
    import oss2

    with oss2_bucket(server, bucket, sign) as sdk:
        oss2.resumable_upload(sdk, "resumed.bin", str(source_file), multipart_threshold=PART,
                              part_size=PART * 2, num_threads=3,
                              store=oss2.ResumableStore(root=str(tmp_path)))
        data = source_file.read_bytes()
        with sdk.get_object("resumed.bin") as got:
            assert got.read() == data
        parts = [data[i:i + 2 * PART] for i in range(0, len(data), 2 * PART)]
        assert sdk.head_object("resumed.bin").etag == multipart_etag(*parts)
        assert sdk.list_multipart_uploads().upload_list == []


@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss_v2_multipart_calls(server: RunningServer, bucket: str, sign: str) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2_client(server, sign)
    key = "v2 dir/ü.bin"
    init = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=bucket, key=key, metadata={"k": "v"}))
    assert (init.bucket, init.key) == (bucket, key)
    upload_id = init.upload_id
    one, two = data_of(PART, 10), data_of(5, 11)
    etags = []
    for number, data in ((1, one), (2, two)):
        result = client.upload_part(oss.UploadPartRequest(
            bucket=bucket, key=key, upload_id=upload_id, part_number=number, body=data))
        etags.append(result.etag)
    assert etags == [f'"{md5_hex(one)}"', f'"{md5_hex(two)}"']
    parts = client.list_parts(oss.ListPartsRequest(bucket=bucket, key=key,
                                                   upload_id=upload_id))
    assert parts.key == key
    assert [(p.part_number, p.size) for p in parts.parts] == [(1, len(one)), (2, len(two))]
    uploads = client.list_multipart_uploads(oss.ListMultipartUploadsRequest(
        bucket=bucket, prefix="v2"))
    assert [(u.key, u.upload_id) for u in uploads.uploads] == [(key, upload_id)]
    done = client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=bucket, key=key, upload_id=upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=[
            oss.UploadPart(part_number=n, etag=e) for n, e in enumerate(etags, start=1)])))
    assert (done.key, done.etag) == (key, f'"{multipart_etag(one, two)}"')
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key))
    assert got.body.read() == one + two
    assert got.metadata == {"k": "v"} and got.object_type == "Multipart"

    other = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=bucket, key="aborted")).upload_id
    client.abort_multipart_upload(oss.AbortMultipartUploadRequest(
        bucket=bucket, key="aborted", upload_id=other))
    failure = None
    try:  # not pytest.raises: its traceback would keep the failed response alive
        client.list_parts(oss.ListPartsRequest(bucket=bucket, key="aborted", upload_id=other))
    except oss.exceptions.OperationError as exc:
        inner: Any = exc.unwrap()
        failure = (inner.status_code, inner.code)
    assert failure == (404, "NoSuchUpload")


@pytest.mark.parametrize("sign", ["v1", "v4"])
def test_oss_v2_uploader(server: RunningServer, bucket: str, sign: str,
                         source_file: Path) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2_client(server, sign)
    uploader = client.uploader(part_size=PART, parallel_num=3)
    result = uploader.upload_file(oss.PutObjectRequest(bucket=bucket, key="uploaded.bin"),
                                  filepath=str(source_file))
    data = source_file.read_bytes()
    parts = [data[i:i + PART] for i in range(0, len(data), PART)]
    assert result.etag == f'"{multipart_etag(*parts)}"'
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="uploaded.bin"))
    assert got.body.read() == data


# --- Go ossutil and a large upload (slow) -------------------------------------------------

GO_BINARY = Path("/work/shared/reference/ossutil-1.7.19/ossutil")


@pytest.fixture
def go_ossutil(tmp_path: Path) -> Path:
    if not GO_BINARY.exists():
        pytest.skip("Go ossutil 1.7.19 reference binary not available")
    target = tmp_path / "go" / "ossutil"
    target.parent.mkdir()
    target.write_bytes(GO_BINARY.read_bytes())
    target.chmod(0o755)
    return target


@pytest.mark.slow
def test_go_ossutil_cp_of_a_big_file_uses_multipart(server: RunningServer, bucket: str,
                                                    go_ossutil: Path, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = data_of(3 * MIB + 4321, 12)
    source.write_bytes(data)
    common = ["-e", server.endpoint, "-i", server.access_key_id, "-k",
              server.access_key_secret, "-c", str(tmp_path / "none.cfg")]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(go_ossutil), "cp", str(source), f"oss://{bucket}/go/big.bin",
         "--bigfile-threshold=1048576", "--part-size=1048576", *common],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    got = call(server, "GET", bucket, "go/big.bin")
    assert got.body == data
    assert got.headers["x-oss-object-type"] == "Multipart"
    parts = [data[i:i + MIB] for i in range(0, len(data), MIB)]
    assert got.headers["etag"] == f'"{multipart_etag(*parts)}"'
    assert "<Upload>" not in call(server, "GET", bucket, query=[("uploads", "")]).text


@pytest.mark.slow
def test_large_multipart_upload_streams_without_growing_memory(
        fresh_server: RunningServer, bucket_name: str, tmp_path: Path) -> None:
    import oss2

    server = fresh_server
    size = 100 * MIB + 7
    source = tmp_path / "big.bin"
    digest = hashlib.md5()
    with source.open("wb") as handle:
        for piece in pattern(size, b"multipart"):
            handle.write(piece)
            digest.update(piece)
    with oss2_bucket(server, bucket_name, "v4") as sdk:
        sdk.create_bucket()
        sdk.put_object("warm-up", b"x" * 1024)
        before = vm_kib(server.process.pid, "VmHWM")
        started = time.perf_counter()
        oss2.resumable_upload(sdk, "big.bin", str(source), multipart_threshold=MIB,
                              part_size=8 * MIB, num_threads=4,
                              store=oss2.ResumableStore(root=str(tmp_path)))
        elapsed = time.perf_counter() - started
        download = hashlib.md5()
        with sdk.get_object("big.bin") as stream:
            for piece in iter(lambda: stream.read(MIB), b""):
                download.update(piece)
        assert download.hexdigest() == digest.hexdigest()
    grown_mib = (vm_kib(server.process.pid, "VmHWM") - before) / 1024
    print(f"100 MiB multipart upload: {elapsed:.2f} s, server peak memory +{grown_mib:.0f} MiB")
    assert grown_mib < 60, f"server peak memory grew by {grown_mib:.0f} MiB"
    blobs = [p for p in (server.data_dir / "blobs").glob("??/*") if p.is_file()]
    assert len(blobs) == 2  # the object and warm-up: every part blob was deleted
    assert os.listdir(server.data_dir / "blobs" / "tmp") == []
