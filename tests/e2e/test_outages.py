"""The server's own resources failing: a full disk, PostgreSQL frozen or gone, and who may read
the data dir. Always an OSS error with a clear message (507 InsufficientStorage, 503
ServiceUnavailable), never a 500 or a hang, nothing half-written, and recovery without a restart.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support import postgres
from tests.support.raw import as_root, error_code
from tests.support.server import RunningServer, start_server
from tests.support.tcp_proxy import TcpProxy

BUCKET = "outage-bucket"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- private data -----------------------------------------------------------------------------

def test_data_dir_files_are_private_to_the_server_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # an existing, too open data dir is tightened
    old_umask = os.umask(0o022)  # the usual umask: files would otherwise be 0644
    try:
        server = start_server(data, ["--no-dns-verify"],
                              env={"OSS_SERVER_ROOT_ACCESS_KEY_ID": ""})
    finally:
        os.umask(old_umask)
    try:
        generated = json.loads((data / "root-credentials.json").read_text())
        server.access_key_id = generated["access_key_id"]
        server.access_key_secret = generated["access_key_secret"]
        assert as_root(server, "PUT", BUCKET).status == 200
        assert as_root(server, "PUT", BUCKET, "k", body=b"secret bytes").status == 200
        assert mode(data) == 0o700
        files = [path for path in data.rglob("*") if path.is_file()]
        names = {path.name for path in files}
        assert {"ossutil.db", "ossutil.db-wal", "ossutil.db-shm",
                "root-credentials.json"} <= names
        for path in data.rglob("*"):
            if path.is_dir():
                assert mode(path) == 0o700, path
        private = [path for path in files if path.suffix != ".pem" or "key" in path.name]
        blob_files = [path for path in files if path.parent.parent.name == "blobs"]
        assert blob_files
        for path in private:
            assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    finally:
        server.stop()


# --- full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 12 MiB filesystem (tmpfs; needs root), unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path, leave: int) -> int:
    """Write ``path`` until at most ``leave`` bytes stay free; returns the bytes written."""
    written = 0
    with open(path, "wb") as handle:
        while True:
            free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(256 * 1024, free - leave))
                handle.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
            written += min(256 * 1024, free - leave)
    return written


def temp_files(data: Path) -> list[Path]:
    return list((data / "blobs" / "tmp").iterdir())


@pytest.mark.slow
def test_full_disk_answers_insufficient_storage_and_recovers(small_disk: Path) -> None:
    data = small_disk / "data"
    server = start_server(data, ["--no-dns-verify"])
    try:
        assert as_root(server, "PUT", BUCKET).status == 200
        kept = os.urandom(1024 * 1024)
        assert as_root(server, "PUT", BUCKET, "kept", body=kept).status == 200
        filler = small_disk / "filler"
        fill(filler, leave=512 * 1024)
        used_before = sum(p.stat().st_size for p in (data / "blobs").rglob("*") if p.is_file())

        body = os.urandom(2 * 1024 * 1024)
        reply = as_root(server, "PUT", BUCKET, "big", body=body)
        assert error_code(reply) == (507, "InsufficientStorage")
        assert "storage is full" in reply.text
        assert temp_files(data) == []  # nothing half-written stays
        assert sum(p.stat().st_size for p in (data / "blobs").rglob("*")
                   if p.is_file()) == used_before
        assert as_root(server, "GET", BUCKET, "big").status == 404

        # the database itself: nothing left at all
        fill(small_disk / "filler2", leave=0)
        codes = set()
        for number in range(200):
            reply = as_root(server, "PUT", f"{BUCKET}-{number}")
            codes.add(error_code(reply) if reply.status != 200 else (200, ""))
            if reply.status != 200:
                break
        assert codes <= {(200, ""), (507, "InsufficientStorage")}, codes
        assert (507, "InsufficientStorage") in codes

        filler.unlink()  # space frees: the same server takes the upload
        (small_disk / "filler2").unlink()
        assert as_root(server, "PUT", BUCKET, "big", body=body).status == 200
        got = as_root(server, "GET", BUCKET, "big")
        assert hashlib.md5(got.body).digest() == hashlib.md5(body).digest()
        assert as_root(server, "GET", BUCKET, "kept").body == kept
        assert as_root(server, "PUT", f"{BUCKET}-after").status == 200
        assert not any("Traceback" in line for line in server.errors), "\n".join(server.errors)
    finally:
        server.stop()


# --- PostgreSQL frozen or gone -----------------------------------------------------------------

@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[tuple[RunningServer, TcpProxy, str]]:
    """A server whose PostgreSQL connections all go through a proxy the test can freeze."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with postgres.fresh_database() as url:
        params = conninfo_to_dict(url)
        proxy = TcpProxy((str(params.get("host") or "127.0.0.1"),
                          int(params.get("port") or 5432)))
        proxied = make_conninfo(url, host="127.0.0.1", port=str(proxy.port))
        server = start_server(tmp_path / "data", ["--no-dns-verify", "--store", "postgres",
                                                  "--database-url", proxied])
        try:
            yield server, proxy, url
        finally:
            server.stop()
            proxy.stop()


def timed(server: RunningServer, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.monotonic()
    reply = as_root(server, *args, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - started, reply


@pytest.mark.slow
@pytest.mark.postgres
def test_frozen_postgres_answers_service_unavailable_in_bounded_time(
        proxied_server: tuple[RunningServer, TcpProxy, str]) -> None:
    server, proxy, _ = proxied_server
    assert as_root(server, "PUT", BUCKET).status == 200
    assert as_root(server, "PUT", BUCKET, "k", body=b"v" * 100_000).status == 200

    proxy.freeze()  # bytes stop flowing; TCP still acknowledges (a hung database)
    for request in (("GET", BUCKET, "k"), ("PUT", BUCKET, "k2")):
        method, bucket, key = request
        body = b"x" * 10 if method == "PUT" else b""
        elapsed, reply = timed(server, method, bucket, key, body=body)
        assert error_code(reply) == (503, "ServiceUnavailable"), reply  # type: ignore[arg-type]
        assert "database is unavailable" in reply.text  # type: ignore[attr-defined]
        assert elapsed < 16.0, elapsed
        print(f"frozen PostgreSQL: {method} answered 503 after {elapsed:.2f} s")

    proxy.thaw()
    proxy.close_all()  # and the connections the freeze cut off are gone
    deadline = time.monotonic() + 10
    while True:
        reply = as_root(server, "GET", BUCKET, "k")
        if reply.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert reply.status == 200 and reply.body == b"v" * 100_000
    assert as_root(server, "PUT", BUCKET, "k2", body=b"after").status == 200
    assert as_root(server, "GET", BUCKET, "k2").body == b"after"
    # no request failed unexplained (the background pollers log their retries, not requests)
    assert not any(" failed" in line and "request " in line for line in server.errors)
    assert not any("InternalError" in line for line in server.errors)
    # each background poller reports the outage once and its end once: no traceback per poll
    assert not any("Traceback" in line for line in server.errors), "\n".join(server.errors)
    for poller in ("reloading access keys", "polling the store's change counters",
                   "polling binding changes"):
        failed = [line for line in server.errors if f"{poller} failed" in line]
        assert len(failed) <= 1, failed


@pytest.mark.slow
@pytest.mark.postgres
def test_locked_table_and_unreachable_postgres_answer_service_unavailable(
        proxied_server: tuple[RunningServer, TcpProxy, str]) -> None:
    import psycopg

    server, proxy, url = proxied_server
    assert as_root(server, "PUT", BUCKET).status == 200
    assert as_root(server, "PUT", BUCKET, "k", body=b"v").status == 200

    with psycopg.connect(url) as locker:  # another session holds the table
        locker.execute("LOCK TABLE objects IN ACCESS EXCLUSIVE MODE")
        elapsed, reply = timed(server, "GET", BUCKET, "k")
        assert error_code(reply) == (503, "ServiceUnavailable")  # type: ignore[arg-type]
        assert elapsed < 10.0, elapsed
        print(f"locked table: 503 after {elapsed:.2f} s")
        locker.rollback()
    assert as_root(server, "GET", BUCKET, "k").body == b"v"

    proxy.stop()  # the database's address refuses connections
    elapsed, reply = timed(server, "GET", BUCKET, "k")
    assert error_code(reply) == (503, "ServiceUnavailable")  # type: ignore[arg-type]
    assert elapsed < 10.0, elapsed
    print(f"unreachable PostgreSQL: 503 after {elapsed:.2f} s")
