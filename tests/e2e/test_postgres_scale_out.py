"""Scale-out: two ``ossutil-server serve --store postgres`` processes on one fresh database.

What one server writes, the other serves (buckets, tokens, bindings, RAM users created from the
CLI, objects and their content), and the database, not either process, decides who wins a race
for a domain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.support import postgres
from tests.support.dns_server import DnsServer
from tests.support.sdk import Oss2Adapter, SdkError
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.postgres
T = TypeVar("T")
# every process sharing a database must seal and open secrets with the same master key
MASTER_KEY = base64.b64encode(bytes(range(100, 132))).decode()


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture
def servers(tmp_path: Path, dns: DnsServer,
            database_url: str) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Servers A and B, started at the same moment (both create the schema, both bootstrap)."""
    extra = ["--dns-server", dns.nameserver, "--store", "postgres",
             "--database-url", database_url]
    env = {"OSS_SERVER_MASTER_KEY": MASTER_KEY}
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(start_server, tmp_path / name, extra, env=env)
                   for name in ("a", "b")]
    started = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            future.result()  # re-raise a start-up failure
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def client(server: RunningServer, bucket: str, ak: str = "", sk: str = "") -> Oss2Adapter:
    return Oss2Adapter(server.endpoint, ak or server.access_key_id,
                       sk or server.access_key_secret, bucket, "v4", server.region)


def eventually(check: Callable[[], T], timeout: float = 3.0) -> T:
    """Other processes' writes reach the caches within a poll interval (0.5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, SdkError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def admin(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "OSS_SERVER_MASTER_KEY": MASTER_KEY}
    return subprocess.run([sys.executable, "-m", "ossutil.server.main", "user", *args,
                           "--store", "postgres", "--database-url", database_url,
                           "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=30, env=env)


def test_a_bucket_and_binding_made_through_a_are_served_by_b(
        servers: tuple[RunningServer, RunningServer], dns: DnsServer) -> None:
    a, b = servers
    client(a, "scale-one").create_bucket()
    token = client(a, "scale-one").create_token("www.scale-one.example.com")
    dns.txt("_dnsauth.www.scale-one.example.com", token.token)
    # the token A issued is in the shared database: B checks it and binds
    assert client(b, "scale-one").put_cname("www.scale-one.example.com") == 200
    assert "scale-one" in client(b, "scale-one").list_bucket_names()

    def listed_by(server: RunningServer) -> list[str]:
        return [e.domain for e in client(server, "scale-one").list_cname()[2]]

    assert eventually(lambda: listed_by(a)) == ["www.scale-one.example.com"]
    assert listed_by(b) == ["www.scale-one.example.com"]


def test_a_user_created_from_the_cli_works_on_both(
        servers: tuple[RunningServer, RunningServer], database_url: str,
        tmp_path: Path) -> None:
    a, b = servers
    client(a, "scale-two").create_bucket()
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "oss:ListCname", "Resource": "acs:oss:*:*:scale-two"}]}))
    created = admin(database_url, tmp_path / "admin", "create", "alice",
                    "--policy-file", str(policy))
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    listed = admin(database_url, tmp_path / "admin", "list")
    assert listed.returncode == 0 and json.loads(listed.stdout)["user"] == "alice"

    for server in (a, b):
        alice = client(server, "scale-two", keys["access_key_id"], keys["access_key_secret"])
        assert eventually(alice.list_cname)[0] == "scale-two"
        with pytest.raises(SdkError) as denied:
            alice.create_token("www.scale-two.example.com")
        assert (denied.value.status, denied.value.code) == (403, "AccessDenied")


def test_racing_put_cname_through_a_and_b_gives_one_owner(
        servers: tuple[RunningServer, RunningServer], dns: DnsServer) -> None:
    a, b = servers
    left, right = client(a, "race-left"), client(b, "race-right")
    left.create_bucket()
    right.create_bucket()
    for n in range(5):
        domain = f"race{n}.scale.example.com"
        dns.txt(f"_dnsauth.{domain}", left.create_token(domain).token,
                right.create_token(domain).token)

        def put(side: Oss2Adapter, domain: str = domain) -> Any:
            try:
                return side.put_cname(domain)
            except SdkError as exc:
                return exc

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(put, (left, right)))
        assert sorted(r if isinstance(r, int) else r.status for r in results) == [200, 409]
        loser = next(r for r in results if isinstance(r, SdkError))
        assert loser.code == "CnameAlreadyExists"
        owner = left if results[0] == 200 else right
        other = right if owner is left else left
        assert [e.domain for e in eventually(owner.list_cname)[2]][-1] == domain
        assert domain not in [e.domain for e in other.list_cname()[2]]


def oss2_bucket(server: RunningServer, bucket: str) -> Any:
    import oss2

    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    return oss2.Bucket(auth, server.endpoint, bucket, region=server.region)


def test_an_object_put_through_a_is_read_through_b_and_deleted_through_b(
        servers: tuple[RunningServer, RunningServer]) -> None:
    import oss2

    a, b = servers
    on_a, on_b = oss2_bucket(a, "scale-objects"), oss2_bucket(b, "scale-objects")
    on_a.create_bucket()
    block = hashlib.sha256(b"scale-out").digest()
    data = (block * (3 * 1024 * 1024 // len(block) + 1))[: 3 * 1024 * 1024 + 5]  # 4 chunks
    small = b"small object through A"
    put = on_a.put_object("dir/big.bin", data)
    on_a.put_object("small.txt", small)

    got = on_b.get_object("dir/big.bin")
    assert (got.etag, got.read()) == (put.etag, data)
    assert on_b.get_object("small.txt").read() == small
    first, last = 1024 * 1024 - 10, 2 * 1024 * 1024 + 9  # crosses a chunk boundary
    ranged = on_b.get_object("dir/big.bin", byte_range=(first, last))
    assert ranged.status == 206 and ranged.read() == data[first:last + 1]
    assert on_b.get_object("dir/big.bin", byte_range=(len(data) - 3, None)).read() == data[-3:]
    assert on_b.head_object("dir/big.bin").content_length == len(data)

    on_b.put_object("small.txt", b"overwritten through B")
    assert on_a.get_object("small.txt").read() == b"overwritten through B"
    on_b.delete_object("dir/big.bin")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        on_a.get_object("dir/big.bin")
    assert not on_a.object_exists("dir/big.bin")
    # object content lives in the database, not in either data dir
    for server in (a, b):
        assert not [p for p in (server.data_dir / "blobs").glob("??/*") if p.is_file()]


def test_processes_share_one_default_certificate(tmp_path: Path, database_url: str) -> None:
    """Without --tls-cert, the generated default certificate lives in the database (key sealed
    by the shared master key): every process presents the same one, started at once or later."""
    import ssl

    extra = ["--no-dns-verify", "--store", "postgres", "--database-url", database_url]
    env = {"OSS_SERVER_MASTER_KEY": MASTER_KEY}
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(start_server, tmp_path / name, extra, env=env, https=True)
                   for name in ("a", "b")]
    started = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            future.result()
        late = start_server(tmp_path / "c", extra, env=env, https=True)
        started.append(late)

        def served(server: RunningServer) -> bytes:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            import socket

            with socket.create_connection(("127.0.0.1", server.https_port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="unbound.example.com") as tls:
                der = tls.getpeercert(binary_form=True)
            assert der is not None
            return der

        certificates = {served(server) for server in started}
        assert len(certificates) == 1
        for name in ("a", "b", "c"):  # nothing of it in the data dirs
            assert not (tmp_path / name / "tls-default.key").exists()
    finally:
        for server in started:
            server.stop()
