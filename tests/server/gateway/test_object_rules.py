"""The object rules below the HTTP layer: listing pages (against a brute-force reference, on a
real SQLite store), Range parsing, conditional reads, blob files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossutil.server.models import Bucket, ObjectMeta
from ossutil.server.objects import listing, preconditions
from ossutil.server.objects.ranges import parse_range
from ossutil.server.storage.files import FileBlobStore
from ossutil.server.storage.sqlite import SqliteStore
from ossutil.wire.errors import OssError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

# An alphabet that stresses the edges: the delimiter, multi-byte UTF-8, the largest code point.
KEYS = st.text(alphabet="ab/é\U0010FFFF", min_size=1, max_size=5).filter(
    lambda k: k[0] not in "/\\")


def reference(keys: set[str], prefix: str, delimiter: str) -> list[str]:
    out: list[str] = []
    for key in sorted(keys):  # code point order = UTF-8 byte order
        if not key.startswith(prefix):
            continue
        common = listing.common_prefix(key, prefix, delimiter)
        entry = common if common is not None else key
        if not out or out[-1] != entry:
            out.append(entry)
    return out


@settings(max_examples=150, deadline=None)
@given(keys=st.sets(KEYS, max_size=25), prefix=st.sampled_from(["", "a", "a/", "é", "b\U0010FFFF"]),
       delimiter=st.sampled_from(["", "/", "ab", "\U0010FFFF"]),
       max_keys=st.integers(min_value=1, max_value=4))
def test_paging_lists_every_entry_once_in_order(keys: set[str], prefix: str, delimiter: str,
                                                max_keys: int) -> None:
    store = SqliteStore(Path(":memory:"))
    store.create_bucket(Bucket("b", "1", "cn-hangzhou", "private", "Standard", NOW))
    for key in keys:
        store.put_object(ObjectMeta("b", key, 1, '"X"', "text/plain", NOW, "0" * 32))

    def fetch(p: str, after: str, limit: int) -> list[ObjectMeta]:
        return store.list_objects("b", p, after, limit)

    seen: list[str] = []
    after = ""
    for _ in range(100):
        page = listing.list_page(fetch, listing.ListQuery(prefix, delimiter, after, max_keys))
        entries = sorted([m.key for m in page.objects] + list(page.prefixes))
        assert len(entries) <= max_keys
        seen += entries
        if not page.truncated:
            break
        assert page.last == entries[-1]
        after = page.last  # V1 NextMarker; V2 round-trips it through the token
        assert listing.decode_token(listing.encode_token(after)) == after
    else:
        raise AssertionError("paging did not end")
    assert seen == reference(keys, prefix, delimiter)
    store.close()


def test_list_arguments() -> None:
    assert listing.parse_max_keys(None) == 100
    assert listing.parse_max_keys("1000") == 1000
    for bad in ("0", "1001", "-1", "1e3", "", " 5", "٣"):
        if bad == "":
            continue
        with pytest.raises(OssError) as info:
            listing.parse_max_keys(bad)
        assert info.value.code == "InvalidArgument"
    with pytest.raises(OssError):
        listing.decode_token("not base64!")
    with pytest.raises(OssError):
        listing.check_prefix("prefix", "x" * 1024)


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-0", 10, (0, 0)),
    ("bytes=0-", 10, (0, 9)),
    ("bytes=3-99", 10, (3, 9)),
    ("bytes=-4", 10, (6, 9)),
    ("bytes=-40", 10, (0, 9)),
    (" bytes = 1 - 2 ", 10, (1, 2)),
    (None, 10, None),
    ("", 10, None),
    ("bytes=5-4", 10, None),
    ("bytes=1-2,4-5", 10, None),
    ("bytes=-", 10, None),
    ("pages=1-2", 10, None),
    ("bytes=١-٢", 10, None),  # non-ASCII digits are not digits here
])
def test_range_parsing(header: str | None, size: int,
                       expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=10-12", 10),
                                              ("bytes=-0", 10), ("bytes=0-", 0),
                                              ("bytes=-1", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(OssError) as info:
        parse_range(header, size)
    assert (info.value.status, info.value.code) == (416, "InvalidRange")
    assert info.value.details["ActualObjectSize"] == str(size)


@given(size=st.integers(0, 50), first=st.integers(0, 60), last=st.integers(0, 60))
def test_satisfiable_ranges_stay_inside_the_object(size: int, first: int, last: int) -> None:
    for header in (f"bytes={first}-{last}", f"bytes={first}-", f"bytes=-{last}"):
        try:
            span = parse_range(header, size)
        except OssError:
            continue
        if span is not None:
            assert 0 <= span[0] <= span[1] < size


def test_conditional_reads() -> None:
    meta = ObjectMeta("b", "k", 1, '"ABC"', "text/plain", NOW, "0" * 32)
    same = "Sun, 01 Mar 2026 12:00:00 GMT"
    before = "Sun, 01 Mar 2026 11:59:59 GMT"
    assert preconditions.evaluate({}, meta) is None
    assert preconditions.evaluate({"if-none-match": '"abc"'}, meta) == 304
    assert preconditions.evaluate({"if-none-match": '"x", W/"ABC"'}, meta) == 304
    assert preconditions.evaluate({"if-none-match": "*"}, meta) == 304
    assert preconditions.evaluate({"if-none-match": '"x"', "if-modified-since": same},
                                  meta) is None  # If-None-Match wins
    assert preconditions.evaluate({"if-modified-since": same}, meta) == 304
    assert preconditions.evaluate({"if-modified-since": before}, meta) is None
    assert preconditions.evaluate({"if-modified-since": "garbage"}, meta) is None
    assert preconditions.evaluate({"if-match": '"ABC"', "if-unmodified-since": before},
                                  meta) is None  # If-Match wins
    for headers in ({"if-match": '"x"'}, {"if-unmodified-since": before}):
        with pytest.raises(OssError) as info:
            preconditions.evaluate(headers, meta)
        assert (info.value.status, info.value.code) == (412, "PreconditionFailed")


def test_blob_files(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path / "blobs")
    holder = FileBlobStore(tmp_path / "blobs")  # another process owning the data dir
    assert holder.prepare() == 0
    stale = tmp_path / "blobs" / "tmp" / "old.part"
    stale.write_bytes(b"x")
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    young = stale.with_name("young.part")
    young.write_bytes(b"y")
    # without the data dir's lock only day-old upload files go
    assert blobs.prepare() == 1
    assert not stale.exists() and young.exists()
    holder.close()
    # the owner of the data dir removes every upload file, whatever its age
    assert blobs.prepare() == 1
    assert not young.exists()

    writer = blobs.create()
    writer.write(b"hello ")
    writer.write(bytearray(b"world"))
    md5, sha = writer.finish()
    assert (writer.size, sha) == (11, None)
    name = blobs.commit(writer)
    assert not writer.temp.exists()
    with blobs.open(name) as handle:
        assert handle.read() == b"hello world"
    blobs.delete(name)
    blobs.delete(name)  # already gone: fine
    with pytest.raises(FileNotFoundError):
        blobs.open(name)
    with pytest.raises(ValueError):
        blobs.path("../../etc/passwd")

    abandoned = blobs.create(sha256=True)
    abandoned.write(b"partial")
    abandoned.discard()
    assert not abandoned.temp.exists()
    with pytest.raises(ValueError):
        abandoned.write(b"more")
