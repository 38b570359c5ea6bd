"""The object contract through ObjectService (and multipart uploads through MultipartService),
against both blob stores on real storage: SQLite + blob files, and PostgreSQL + blob chunks
(skipped only when no PostgreSQL answers).

``open_objects()`` opens another store and blob store on the same data (another server process,
in effect), so the race tests write through two of them at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from tests.support import postgres

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import AccessKey, Account, Bucket, ObjectMeta
from ossutil.server.objects.multipart import MultipartService, PartChoice
from ossutil.server.objects.service import INLINE_LIMIT, ObjectService, Upload
from ossutil.server.storage.base import Store, StoreRunner
from ossutil.server.storage.blobs import BlobStore
from ossutil.server.storage.files import FileBlobStore
from ossutil.wire.errors import OssError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
BOX = SecretBox(bytes(range(32)))
OWNER = "1234567890123456"
BUCKET = Bucket("objects", OWNER, "cn-hangzhou", "private", "Standard", NOW)
MIB = 1 << 20


@dataclass
class Backend:
    """How to open another (store, blob store) pair on the same data, and count blobs."""

    kind: str
    open_pair: Callable[[], tuple[Store, BlobStore]]
    count_blobs: Callable[[], int]
    url: str = ""  # PostgreSQL only


@contextmanager
def postgres_backend() -> Iterator[Backend]:
    with postgres.fresh_schema() as url:
        import psycopg

        from ossutil.server.storage.postgres import PostgresStore
        from ossutil.server.storage.postgres_blobs import PostgresBlobStore

        def open_database() -> tuple[Store, BlobStore]:
            return PostgresStore(url, Sealer(BOX)), PostgresBlobStore(url)

        def count_rows() -> int:  # blobs, and chunks of no blob (there should be none)
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT (SELECT count(*) FROM blobs) + "
                                   "(SELECT count(*) FROM blob_chunks c WHERE NOT EXISTS "
                                   "(SELECT 1 FROM blobs b WHERE b.id = c.blob_id))").fetchone()
            assert row is not None
            return int(row[0])

        yield Backend("postgres", open_database, count_rows, url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "postgres":
        with postgres_backend() as pg:
            yield pg
        return
    from ossutil.server.storage.sqlite import SqliteStore

    def open_files() -> tuple[Store, BlobStore]:
        return SqliteStore(tmp_path / "ossutil.db"), FileBlobStore(tmp_path / "blobs")

    def count_files() -> int:  # blob files and upload temporaries
        return sum(1 for p in (tmp_path / "blobs").glob("??/*") if p.is_file()) + sum(
            1 for _ in (tmp_path / "blobs" / "tmp").iterdir())

    yield Backend("sqlite", open_files, count_files)


@asynccontextmanager
async def objects_on(backend: Backend) -> AsyncIterator[tuple[ObjectService, BlobStore]]:
    store, blobs = backend.open_pair()
    runner = StoreRunner(store)
    try:
        await asyncio.to_thread(blobs.prepare)
        yield ObjectService(runner, blobs, clock=lambda: NOW), blobs
    finally:
        await asyncio.to_thread(blobs.close)
        runner.close()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


async def setup_bucket(backend: Backend) -> None:
    store, blobs = backend.open_pair()
    try:
        if store.root_account() is None:
            store.bootstrap_root(Account(OWNER, NOW),
                                Sealer(BOX).seal(AccessKey("LTAIroot", "s", OWNER, None)))
        if store.get_bucket(BUCKET.name) is None:
            store.create_bucket(BUCKET)
    finally:
        store.close()
        blobs.close()


def body_of(data: bytes, piece: int = 64 * 1024) -> Callable[[], Awaitable[bytes]]:
    """A request body as the HTTP layer hands it over: ``piece`` bytes at a time, b"" at the end."""
    view = memoryview(data)
    offset = 0

    async def read() -> bytes:
        nonlocal offset
        chunk = bytes(view[offset:offset + piece])
        offset += len(chunk)
        return chunk
    return read


async def put(objects: ObjectService, key: str, data: bytes, **upload: str) -> ObjectMeta:
    return await objects.put(BUCKET, key, Upload("application/octet-stream", len(data), **upload),
                             body_of(data))


async def read_all(objects: ObjectService, key: str) -> tuple[ObjectMeta, bytes]:
    meta, content = await objects.open(BUCKET, key)
    if isinstance(content, bytes):
        return meta, content
    with content:
        return meta, await asyncio.to_thread(content.read)


def read_at(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest().upper()}"'


def pattern(size: int, seed: int = 0) -> bytes:
    block = hashlib.sha256(bytes([seed])).digest()
    return (block * (size // len(block) + 1))[:size]


# --- the contract ---------------------------------------------------------------------------

def test_put_get_head_and_range_reads(backend: Backend) -> None:
    small, large = b"hello world", pattern(2 * MIB + 12345)

    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            meta = await put(objects, "small", small)
            assert (meta.size, meta.etag) == (len(small), etag(small))
            got, content = await objects.open(BUCKET, "small")
            assert content == small and got.etag == meta.etag
            head = await objects.head(BUCKET, "small")
            assert (head.size, head.etag, head.content_type) == (
                11, etag(small), "application/octet-stream")

            await put(objects, "large", large)
            meta, handle = await objects.open(BUCKET, "large")
            assert not isinstance(handle, bytes) and meta.size == len(large)
            with handle:
                for offset, size in ((0, 1), (len(large) - 1, 1), (MIB - 3, 7),
                                     (MIB + 5, 256 * 1024), (0, len(large))):
                    assert await asyncio.to_thread(read_at, handle, offset, size) == \
                        large[offset:offset + size]
            assert (await read_all(objects, "large"))[1] == large
            empty = await put(objects, "empty", b"")
            assert empty.size == 0 and (await read_all(objects, "empty"))[1] == b""
            with pytest.raises(OssError) as missing:
                await objects.open(BUCKET, "absent")
            assert missing.value.code == "NoSuchKey"
    run(test)


def test_inline_limit_separates_bytes_from_streams(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            await put(objects, "at-limit", pattern(INLINE_LIMIT))
            await put(objects, "over-limit", pattern(INLINE_LIMIT + 1))
            assert isinstance((await objects.open(BUCKET, "at-limit"))[1], bytes)
            _, handle = await objects.open(BUCKET, "over-limit")
            assert not isinstance(handle, bytes)
            handle.close()
    run(test)


def test_overwrite_and_delete_remove_the_old_blobs(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            await put(objects, "k", pattern(3 * MIB, 1))
            await put(objects, "k", b"second")
            assert (await read_all(objects, "k"))[1] == b"second"
            assert backend.count_blobs() == 1
            await objects.delete(BUCKET, "k")
            await objects.delete(BUCKET, "k")  # idempotent
            assert backend.count_blobs() == 0
            with pytest.raises(OssError):
                await objects.head(BUCKET, "k")
    run(test)


def test_a_reader_keeps_the_version_it_opened(backend: Backend) -> None:
    first = pattern(3 * MIB, 2)

    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            await put(objects, "k", first)
            _, handle = await objects.open(BUCKET, "k")
            assert not isinstance(handle, bytes)
            with handle:
                head = await asyncio.to_thread(read_at, handle, 0, 10)
                await put(objects, "k", pattern(3 * MIB, 3))  # supersedes and deletes it
                await objects.delete(BUCKET, "k")
                rest = await asyncio.to_thread(read_at, handle, 10, len(first))
            assert head + rest == first
            assert backend.count_blobs() == 0
    run(test)


def test_failed_uploads_leave_nothing(backend: Backend) -> None:
    data = pattern(2 * MIB + 1)
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()

    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            with pytest.raises(OssError) as bad:
                await put(objects, "k", data, content_md5=wrong_md5)
            assert bad.value.code == "InvalidDigest"

            async def broken() -> bytes:
                raise ConnectionResetError("client went away")
            with pytest.raises(ConnectionResetError):
                await objects.put(BUCKET, "k", Upload("text/plain", 10), broken)
            with pytest.raises(OssError):
                await objects.head(BUCKET, "k")
            assert backend.count_blobs() == 0
    run(test)


def test_concurrent_writers_of_one_key_from_two_instances(backend: Backend) -> None:
    versions = [pattern(MIB + 1000 * n, n) for n in range(6)]
    tags = {etag(v): v for v in versions}

    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (left, _), objects_on(backend) as (right, _):
            seen: list[tuple[str, bytes]] = []
            done = asyncio.Event()

            async def reader() -> None:
                while not done.is_set():
                    try:
                        meta, data = await read_all(left, "hot")
                    except OssError:
                        await asyncio.sleep(0)
                        continue
                    seen.append((meta.etag, data))

            readers = [asyncio.create_task(reader()) for _ in range(2)]
            writes = [put(left if n % 2 else right, "hot", v)
                      for _ in range(2) for n, v in enumerate(versions)]
            await asyncio.gather(*writes)
            done.set()
            await asyncio.gather(*readers)
            assert seen
            for tag, data in seen:  # every read is one whole version, with its own ETag
                assert tags[tag] == data
            meta, data = await read_all(right, "hot")
            assert tags[meta.etag] == data
            assert backend.count_blobs() == 1  # every superseded blob was deleted
    run(test)


@pytest.mark.slow
def test_a_large_streamed_object_never_sits_in_memory(backend: Backend) -> None:
    size = 64 * MIB + 7

    async def test() -> None:
        await setup_bucket(backend)
        async with objects_on(backend) as (objects, _):
            digest = hashlib.md5()
            piece = pattern(256 * 1024, 9)
            sent = 0

            async def read() -> bytes:
                nonlocal sent
                chunk = piece[: min(len(piece), size - sent)]
                sent += len(chunk)
                digest.update(chunk)
                return chunk

            tracemalloc.start()
            try:
                meta = await objects.put(BUCKET, "big", Upload("x/y", size), read)
                upload_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
                _, handle = await objects.open(BUCKET, "big")
                assert not isinstance(handle, bytes)
                check = hashlib.md5()
                with handle:
                    while data := await asyncio.to_thread(handle.read, 256 * 1024):
                        check.update(data)
                read_peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert meta.etag == f'"{digest.hexdigest().upper()}"'
            assert check.digest() == digest.digest()
            assert upload_peak < 12 * MIB, upload_peak
            assert read_peak < 8 * MIB, read_peak
    run(test)


# --- what only the PostgreSQL blob store has ------------------------------------------------

pg_only = pytest.mark.postgres


@pytest.fixture
def pg_backend() -> Iterator[Backend]:
    with postgres_backend() as pg:
        yield pg


@pg_only
def test_range_reads_fetch_only_the_chunks_they_need(pg_backend: Backend) -> None:
    data = pattern(5 * MIB + 3)

    async def test() -> None:
        await setup_bucket(pg_backend)
        async with objects_on(pg_backend) as (objects, _):
            await put(objects, "k", data)
            _, handle = await objects.open(BUCKET, "k")
            assert isinstance(handle, io.BufferedReader)
            with handle:
                got = await asyncio.to_thread(read_at, handle, 3 * MIB + 100, 10)
                assert got == data[3 * MIB + 100:3 * MIB + 110]
                assert handle.raw.chunks_fetched == 1  # type: ignore[attr-defined]
                got = await asyncio.to_thread(read_at, handle, 4 * MIB - 5, 10)  # straddles
                assert got == data[4 * MIB - 5:4 * MIB + 5]
                assert handle.raw.chunks_fetched == 2  # type: ignore[attr-defined]
    run(test)


@pg_only
def test_an_upload_in_progress_is_invisible_and_rolls_back(pg_backend: Backend) -> None:
    store, blobs = pg_backend.open_pair()
    store.close()
    try:
        writer = blobs.create()
        writer.write(pattern(3 * MIB))
        assert pg_backend.count_blobs() == 0  # other sessions see none of it yet
        writer.discard()
        writer = blobs.create()
        writer.write(b"complete")
        writer.finish()
        name = blobs.commit(writer)
        assert pg_backend.count_blobs() == 1
        assert blobs.load(name, INLINE_LIMIT) == b"complete"
        blobs.delete(name)
        with pytest.raises(FileNotFoundError):
            blobs.load(name, INLINE_LIMIT)
    finally:
        blobs.close()


@pg_only
def test_prepare_removes_old_unreferenced_blobs_only(pg_backend: Backend) -> None:
    import psycopg

    from ossutil.server.storage.postgres_blobs import STALE_SECONDS

    async def test() -> None:
        await setup_bucket(pg_backend)
        async with objects_on(pg_backend) as (objects, blobs):
            await put(objects, "kept", pattern(2 * MIB))  # old but referenced
            orphans = []
            for _ in range(2):  # committed, but no row names them (a crash in between)
                writer = blobs.create()
                writer.write(pattern(MIB + 1))
                writer.finish()
                orphans.append(blobs.commit(writer))
            with psycopg.connect(pg_backend.url) as conn:  # age all but one
                conn.execute("UPDATE blobs SET committed_at = now() - make_interval(secs => %s) "
                             "WHERE id <> %s", (STALE_SECONDS + 60, orphans[1]))
            assert await asyncio.to_thread(blobs.prepare) == 1  # the young orphan stays
            assert pg_backend.count_blobs() == 2
            assert (await read_all(objects, "kept"))[1] == pattern(2 * MIB)
    run(test)



# --- multipart uploads: the object built from the parts, the part blobs cleaned up ----------

KIB = 1024


@asynccontextmanager
async def services_on(backend: Backend) -> AsyncIterator[tuple[MultipartService, ObjectService]]:
    store, blobs = backend.open_pair()
    runner = StoreRunner(store)
    try:
        await asyncio.to_thread(blobs.prepare)
        yield (MultipartService(runner, blobs, clock=lambda: NOW),
               ObjectService(runner, blobs, clock=lambda: NOW))
    finally:
        await asyncio.to_thread(blobs.close)
        runner.close()


def data_of(size: int, seed: int) -> bytes:
    block = hashlib.sha256(bytes([seed])).digest()
    return (block * (size // len(block) + 1))[:size]


async def send_part(multipart: MultipartService, key: str, upload_id: str, number: int,
                    data: bytes) -> str:
    upload = await multipart.find(BUCKET, key, upload_id)
    part = await multipart.upload_part(upload, number, Upload("x/y", len(data)), body_of(data))
    return part.etag


def test_complete_builds_the_object_and_removes_the_parts(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with services_on(backend) as (multipart, objects):
            upload = await multipart.initiate(BUCKET, "k", "video/mp4",
                                              (("x-oss-meta-a", "1"),), ())
            one, two = data_of(1536 * KIB, 1), data_of(100 * KIB, 2)  # one spans chunks
            await send_part(multipart, "k", upload.upload_id, 1, b"replaced")
            e1 = await send_part(multipart, "k", upload.upload_id, 1, one)
            e2 = await send_part(multipart, "k", upload.upload_id, 2, two)
            assert backend.count_blobs() == 2  # the replaced part's blob is gone
            meta = await multipart.complete(BUCKET, "k", upload.upload_id,
                                            [PartChoice(1, e1), PartChoice(2, e2)])
            joined = hashlib.md5(hashlib.md5(one).digest() + hashlib.md5(two).digest())
            assert meta.etag == f'"{joined.hexdigest().upper()}-2"'
            stored, content = await read_all(objects, "k")
            assert content == one + two
            assert (stored.object_type, stored.content_type, stored.user_meta, stored.size) == (
                "Multipart", "video/mp4", (("x-oss-meta-a", "1"),), len(one) + len(two))
            assert backend.count_blobs() == 1  # only the object's
            with pytest.raises(OssError) as caught:
                await multipart.find(BUCKET, "k", upload.upload_id)
            assert caught.value.code == "NoSuchUpload"
    run(test)


def test_abort_removes_the_part_blobs(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with services_on(backend) as (multipart, _):
            upload = await multipart.initiate(BUCKET, "k", "x/y", (), ())
            for number in (1, 2, 3):
                await send_part(multipart, "k", upload.upload_id, number, b"part")
            assert backend.count_blobs() == 3
            await multipart.abort(BUCKET, "k", upload.upload_id)
            assert backend.count_blobs() == 0
            with pytest.raises(OssError) as caught:
                await multipart.abort(BUCKET, "k", upload.upload_id)
            assert caught.value.code == "NoSuchUpload"
    run(test)


def test_abort_racing_a_completion_leaves_the_upload_or_the_object(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with services_on(backend) as (multipart, objects):
            upload = await multipart.initiate(BUCKET, "k", "x/y", (), ())
            parts = [data_of(2 * MIB, n) for n in range(1, 4)]
            etags = [await send_part(multipart, "k", upload.upload_id, n, data)
                     for n, data in enumerate(parts, start=1)]
            chosen = [PartChoice(n, e) for n, e in enumerate(etags, start=1)]
            done, aborted = await asyncio.gather(
                multipart.complete(BUCKET, "k", upload.upload_id, chosen),
                multipart.abort(BUCKET, "k", upload.upload_id), return_exceptions=True)
            if isinstance(done, OssError):  # the abort came first: no object, no blob
                assert done.code == "NoSuchUpload" and aborted is None
                with pytest.raises(OssError):
                    await objects.head(BUCKET, "k")
                assert backend.count_blobs() == 0
            else:  # the completion came first: the whole object, the abort found nothing
                assert isinstance(aborted, OssError) and aborted.code == "NoSuchUpload"
                assert (await read_all(objects, "k"))[1] == b"".join(parts)
                assert backend.count_blobs() == 1
    run(test)


def test_complete_streams_without_holding_the_object(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with services_on(backend) as (multipart, objects):
            upload = await multipart.initiate(BUCKET, "big", "x/y", (), ())
            chosen = []
            for number in range(1, 5):
                data = data_of(6 * MIB, number)
                chosen.append(PartChoice(number, await send_part(
                    multipart, "big", upload.upload_id, number, data)))
            tracemalloc.start()
            try:
                meta = await multipart.complete(BUCKET, "big", upload.upload_id, chosen)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert meta.size == 24 * MIB
            assert peak < 8 * MIB, peak
    run(test)


def test_complete_checks_order_etags_and_sizes(backend: Backend) -> None:
    async def test() -> None:
        await setup_bucket(backend)
        async with services_on(backend) as (multipart, _):
            upload = await multipart.initiate(BUCKET, "k", "x/y", (), ())
            small = await send_part(multipart, "k", upload.upload_id, 1, b"small")
            last = await send_part(multipart, "k", upload.upload_id, 2, b"last")
            cases = [([PartChoice(2, last), PartChoice(1, small)], "InvalidPartOrder"),
                     ([PartChoice(1, last)], "InvalidPart"),
                     ([PartChoice(3, last)], "InvalidPart"),
                     ([PartChoice(1, small), PartChoice(2, last)], "EntityTooSmall")]
            for chosen, code in cases:
                with pytest.raises(OssError) as caught:
                    await multipart.complete(BUCKET, "k", upload.upload_id, chosen)
                assert caught.value.code == code
            assert backend.count_blobs() == 2  # nothing built, nothing lost
            with pytest.raises(OssError) as caught:  # every part: the small one is not last
                await multipart.complete(BUCKET, "k", upload.upload_id, None)
            assert caught.value.code == "EntityTooSmall"
            meta = await multipart.complete(BUCKET, "k", upload.upload_id,
                                            [PartChoice(2, last)])
            assert (meta.size, meta.etag[-3:]) == (4, '-1"')
            assert backend.count_blobs() == 1  # the unnamed part is discarded
    run(test)
