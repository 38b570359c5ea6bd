"""``kill -9`` mid-upload, then a restart: what the crash left is gone, what was committed stays.

The real server, killed for real while a raw-socket PutObject streams its body or while a
CompleteMultipartUpload streams the parts into the object's blob; and leftovers of the window
between a blob's commit and its row's (an orphan blob file, orphan PostgreSQL chunk rows), placed
by hand because that window is microseconds wide.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.support import postgres
from tests.support.raw import as_root
from tests.support.server import RunningServer, start_server

from ossutil.wire import dates, signing

pytestmark = pytest.mark.slow
BUCKET = "crash-bucket"


def kill(server: RunningServer) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    server.stop()


def blob_bytes(data_dir: Path) -> tuple[int, list[Path]]:
    """(bytes in blob files, temporary files) under the data dir's ``blobs/``."""
    root = data_dir / "blobs"
    total = sum(path.stat().st_size for path in root.glob("[0-9a-f][0-9a-f]/*"))
    return total, sorted((root / "tmp").iterdir())


def put(server: RunningServer, key: str, body: bytes) -> None:
    assert as_root(server, "PUT", BUCKET, key, body=body).status == 200


def read_back(server: RunningServer, committed: dict[str, bytes]) -> None:
    for key, body in committed.items():
        reply = as_root(server, "GET", BUCKET, key)
        assert reply.status == 200
        assert hashlib.md5(reply.body).digest() == hashlib.md5(body).digest(), key


def start_streamed_put(server: RunningServer, key: str, declared: int,
                       sent: bytes) -> socket.socket:
    """A signed PutObject declaring ``declared`` bytes, of which only ``sent`` go out."""
    moment = datetime.now(timezone.utc)
    headers = {"date": dates.rfc1123(moment), "content-type": "application/octet-stream"}
    request = signing.SigningRequest("PUT", BUCKET, key, [], headers)
    headers["authorization"] = signing.v1_authorization(server.access_key_id,
                                                        server.access_key_secret, request)
    head = (f"PUT /{BUCKET}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Length: {declared}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head.encode() + sent)
    return sock


def wait_for(condition: object, timeout: float = 10.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[list[RunningServer]]:
    """A list holding the current server (tests replace it after a restart)."""
    holder = [start_server(tmp_path / "data", ["--no-dns-verify"])]
    assert as_root(holder[0], "PUT", BUCKET).status == 200
    try:
        yield holder
    finally:
        holder[-1].stop()


def test_kill_during_put_object_leaves_only_committed_blobs(
        sqlite_server: list[RunningServer]) -> None:
    server = sqlite_server[0]
    committed = {"small": b"s" * 10, "medium": os.urandom(300_000),
                 "large": os.urandom(3 * 1024 * 1024)}
    for key, body in committed.items():
        put(server, key, body)
    put(server, "large", committed["large"][::-1])  # an overwrite: its old blob is gone too
    committed["large"] = committed["large"][::-1]
    expected = sum(len(body) for body in committed.values())
    assert blob_bytes(server.data_dir) == (expected, [])

    sock = start_streamed_put(server, "big", 160 * 1024 * 1024, os.urandom(24 * 1024 * 1024))

    def partial() -> bool:
        temps = blob_bytes(server.data_dir)[1]
        return bool(temps) and temps[0].stat().st_size >= 16 * 1024 * 1024
    wait_for(partial)
    kill(server)
    sock.close()
    left = blob_bytes(server.data_dir)[1]
    assert len(left) == 1 and left[0].name.endswith(".part")  # what the crash left behind
    assert left[0].stat().st_size >= 16 * 1024 * 1024

    # killed between a blob's rename and its row's commit: a blob file no row names
    orphan = server.data_dir / "blobs" / "ab" / ("ab" + uuid.uuid4().hex[2:])
    orphan.write_bytes(os.urandom(1024 * 1024))

    server = sqlite_server[0] = start_server(server.data_dir, ["--no-dns-verify"])
    assert blob_bytes(server.data_dir) == (expected, [])
    assert not orphan.exists()
    read_back(server, committed)
    assert as_root(server, "GET", BUCKET, "big").status == 404
    assert any("abandoned upload file" in line for line in server.errors)


def _upload_parts(server: RunningServer, key: str, parts: list[bytes]) -> tuple[str, bytes]:
    reply = as_root(server, "POST", BUCKET, key, query=[("uploads", "")])
    assert reply.status == 200
    upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", reply.text).group(1)  # type: ignore[union-attr]
    listed = []
    for number, body in enumerate(parts, 1):
        reply = as_root(server, "PUT", BUCKET, key, body=body,
                        query=[("partNumber", str(number)), ("uploadId", upload_id)])
        assert reply.status == 200
        listed.append(f"<Part><PartNumber>{number}</PartNumber>"
                      f"<ETag>{reply.headers['etag']}</ETag></Part>")
    xml = ("<CompleteMultipartUpload>" + "".join(listed)
           + "</CompleteMultipartUpload>").encode()
    return upload_id, xml


def test_kill_during_complete_multipart_upload_keeps_the_upload(
        sqlite_server: list[RunningServer]) -> None:
    server = sqlite_server[0]
    committed = {"kept": os.urandom(200_000)}
    put(server, "kept", committed["kept"])
    parts = [os.urandom(48 * 1024 * 1024), os.urandom(48 * 1024 * 1024)]
    upload_id, xml = _upload_parts(server, "assembled", parts)
    parts_bytes = sum(len(part) for part in parts)
    expected = len(committed["kept"]) + parts_bytes
    assert blob_bytes(server.data_dir) == (expected, [])

    completing = threading.Thread(
        target=lambda: _ignore_errors(lambda: as_root(server, "POST", BUCKET, "assembled",
                                                      query=[("uploadId", upload_id)],
                                                      body=xml)), daemon=True)
    completing.start()
    wait_for(lambda: bool(blob_bytes(server.data_dir)[1]), step=0.0005)
    kill(server)
    completing.join(timeout=10)
    total, left = blob_bytes(server.data_dir)
    assert left, "the kill came after Complete had streamed the parts"
    assert sum(path.stat().st_size for path in left) < parts_bytes  # cut off mid-copy

    server = sqlite_server[0] = start_server(server.data_dir, ["--no-dns-verify"])
    assert blob_bytes(server.data_dir) == (expected, [])
    read_back(server, committed)
    # the upload survived the crash whole: completing it now gives the right object
    reply = as_root(server, "POST", BUCKET, "assembled", query=[("uploadId", upload_id)],
                    body=xml)
    assert reply.status == 200
    read_back(server, {"assembled": b"".join(parts)})
    assert blob_bytes(server.data_dir) == (len(committed["kept"]) + parts_bytes, [])


def _ignore_errors(work: object) -> None:
    try:
        work()  # type: ignore[operator]
    except OSError:
        pass  # the server died under it


# --- PostgreSQL: chunks in the database --------------------------------------------------------

LEASE_NAMESPACE = 0x6F737362  # storage/postgres_blobs.py


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres.fresh_database() as url:
        yield url


def _chunk_totals(conn: object) -> tuple[int, int, int]:
    """(blobs rows, chunk rows, chunk bytes)."""
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT (SELECT count(*) FROM blobs), count(*), coalesce(sum(octet_length(data)), 0) "
        "FROM blob_chunks").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _orphan(conn: object, owner: int, size: int) -> str:
    name = uuid.uuid4().hex
    conn.execute("INSERT INTO blobs (id, size, chunk_size, committed_at, owner) "  # type: ignore[attr-defined]
                 "VALUES (%s, %s, %s, now(), %s)", (name, size, 1 << 20, owner))
    conn.execute("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (%s, 0, %s)",  # type: ignore[attr-defined]
                 (name, os.urandom(size)))
    return name


@pytest.mark.postgres
def test_postgres_restart_removes_chunks_of_dead_writers_only(tmp_path: Path,
                                                               database_url: str) -> None:
    import psycopg

    extra = ["--no-dns-verify", "--store", "postgres", "--database-url", database_url]
    server = start_server(tmp_path / "data", extra)
    try:
        assert as_root(server, "PUT", BUCKET).status == 200
        committed = {"one": os.urandom(2 * 1024 * 1024 + 5), "two": b"tiny"}
        for key, body in committed.items():
            put(server, key, body)
        with psycopg.connect(database_url, autocommit=True) as conn:
            baseline = _chunk_totals(conn)
        assert baseline[2] == sum(len(body) for body in committed.values())

        sock = start_streamed_put(server, "big", 64 * 1024 * 1024, os.urandom(8 * 1024 * 1024))
        time.sleep(1.0)  # several chunk rows are written, in a transaction not yet committed
        kill(server)
        sock.close()

        with psycopg.connect(database_url, autocommit=True) as conn, \
                psycopg.connect(database_url, autocommit=True) as other_process:
            # another live server's blob between its commit and its row's: its lease is held
            other_process.execute("SELECT pg_advisory_lock(%s, %s)", (LEASE_NAMESPACE, 4242))
            live = _orphan(conn, 4242, 1000)
            dead = _orphan(conn, 4343, 1024 * 1024)  # a killed server's: nobody holds 4343
            server = start_server(tmp_path / "data", extra)
            names = {row[0] for row in conn.execute("SELECT id FROM blobs")}
            assert live in names and dead not in names
            assert _chunk_totals(conn) == (baseline[0] + 1, baseline[1] + 1,
                                           baseline[2] + 1000)
            conn.execute("DELETE FROM blobs WHERE id = %s", (live,))
        read_back(server, committed)
        assert as_root(server, "GET", BUCKET, "big").status == 404
    finally:
        server.stop()
