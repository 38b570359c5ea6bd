"""``serve --workers N``: N processes on one port under a supervisor (server/workers.py).

Which worker served a connection is read from /proc, never from the server: the server side of
an established connection is a socket inode in /proc/net/tcp, and exactly one worker holds a
descriptor on it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.support.raw import Reply, as_root, send
from tests.support.server import RunningServer, start_server

from ossutil.wire import dates, signing

BODY = bytes(range(256)) * 4  # 1 KiB
DOMAIN = "workers.example.com"
WORKERS_LINE = re.compile(r"^ossutil-server: (\d+) workers \(pids ([\d, ]+)\)$")


# --- what /proc says about the processes -------------------------------------------------------

def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _tcp_sockets() -> list[tuple[int, int, str, int]]:
    """(local port, remote port, state hex, inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
        rows.append((int(local.split(":")[1], 16), int(remote.split(":")[1], 16), state, inode))
    return rows


def _holder(inode: int, pids: set[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"/proc/{pid}/fd/{name}") == target:
                    return pid
            except OSError:
                continue
    return None


def listeners(port: int, pids: set[int]) -> set[int]:
    """Which of ``pids`` hold a listening socket on ``port``."""
    holders = set()
    for local, _, state, inode in _tcp_sockets():
        if local == port and state == "0A":
            holder = _holder(inode, pids)
            if holder is not None:
                holders.add(holder)
    return holders


def serving_pid(server_port: int, client: socket.socket, pids: set[int]) -> int | None:
    """The worker holding the server side of ``client``'s connection."""
    client_port = client.getsockname()[1]
    for local, remote, state, inode in _tcp_sockets():
        if local == server_port and remote == client_port and state == "01":
            return _holder(inode, pids)
    return None


def announced_pids(server: RunningServer) -> set[int]:
    lines = [m for m in map(WORKERS_LINE.match, server.output) if m]
    assert len(lines) == 1, server.output
    return {int(pid) for pid in lines[0].group(2).split(", ")}


# --- requests on fresh connections -------------------------------------------------------------

def _read_reply(sock: socket.socket) -> Reply:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the reply's head: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return Reply(int(lines[0].split()[1]), headers, body[:length])


def fresh_get(server: RunningServer, path: str, headers: dict[str, str],
              pids: set[int]) -> tuple[int | None, Reply]:
    """GET on a new connection; (the worker that answered, the reply)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
        reply = _read_reply(sock)  # kept alive: the server's side is still there to look up
        return serving_pid(server.port, sock, pids), reply


def signed_headers(server: RunningServer, method: str, bucket: str, key: str = "",
                   query: list[tuple[str, str]] | None = None,
                   extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)), **(extra or {})}
    request = signing.SigningRequest(method, bucket, key, query or [], headers)
    headers["authorization"] = signing.v1_authorization(server.access_key_id,
                                                        server.access_key_secret, request)
    headers["host"] = f"127.0.0.1:{server.port}"
    return headers


def every_worker_answers(server: RunningServer, path: str,
                         make_headers: Callable[[], dict[str, str]],
                         pids: set[int], *, settle: float = 2.0,
                         deadline: float = 10.0) -> dict[int, Reply]:
    """Fresh connections until each worker has answered after ``settle`` seconds (the
    cache poll's allowance); the last reply of each. Any reply after ``settle`` is returned
    too, so a worker still answering wrongly then is seen by the caller."""
    start = time.monotonic()
    last: dict[int, Reply] = {}
    late: dict[int, list[Reply]] = {pid: [] for pid in pids}
    while time.monotonic() - start < deadline:
        pid, reply = fresh_get(server, path, make_headers(), pids)
        assert pid in pids, (pid, pids)
        last[pid] = reply
        if time.monotonic() - start >= settle:
            late[pid].append(reply)
            if all(late.values()):
                break
    assert all(late.values()), {pid: len(replies) for pid, replies in late.items()}
    for pid, replies in late.items():
        for reply in replies:
            assert (reply.status, reply.body) == (last[pid].status, last[pid].body)
    return last


# --- two workers -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("workers-2"), ["--no-dns-verify"],
                           workers=2)
    yield running
    assert running.stop() == 0


def test_two_workers_listen_on_the_one_port(pair: RunningServer) -> None:
    pids = announced_pids(pair)
    assert len(pids) == 2
    assert children(pair.process.pid) == pids
    assert listeners(pair.port, pids | {pair.process.pid}) == pids  # the supervisor: none
    assert [line for line in pair.output if line.startswith("ossutil-server listening")] == [
        f"ossutil-server listening on {pair.endpoint}"]


def test_fifty_connections_all_answered_by_both_workers(pair: RunningServer) -> None:
    bucket = "workers-fifty"
    assert as_root(pair, "PUT", bucket, headers={"x-oss-acl": "public-read"}).status == 200
    assert as_root(pair, "PUT", bucket, "small.txt", body=BODY).status == 200
    pids = announced_pids(pair)
    served: dict[int, int] = {}
    deadline = time.monotonic() + 5
    for _ in range(50):
        while True:  # the other worker may not have seen the bucket yet (0.5 s poll)
            pid, reply = fresh_get(pair, f"/{bucket}/small.txt",
                                   {"Host": f"127.0.0.1:{pair.port}"}, pids)
            if reply.status == 200 or time.monotonic() > deadline:
                break
        assert (reply.status, reply.body) == (200, BODY)
        assert pid in pids
        served[pid] = served.get(pid, 0) + 1
    assert set(served) == pids, served  # 50 hashed connections on one worker: 2**-49


def test_a_bucket_made_through_one_worker_is_seen_by_the_other(pair: RunningServer) -> None:
    bucket = "workers-read-after-write"
    pids = announced_pids(pair)
    # the miss is cached first by whichever workers are asked, so coherence is what is tested
    for _ in range(6):
        _, before = fresh_get(pair, f"/{bucket}/?acl",
                              signed_headers(pair, "GET", bucket, query=[("acl", "")]), pids)
        assert before.status == 404
    assert as_root(pair, "PUT", bucket).status == 200
    replies = every_worker_answers(
        pair, f"/{bucket}/?acl",
        lambda: signed_headers(pair, "GET", bucket, query=[("acl", "")]), pids)
    for reply in replies.values():
        assert reply.status == 200
        assert b"<Grant>private</Grant>" in reply.body


def test_a_bound_domain_serves_from_every_worker(pair: RunningServer) -> None:
    bucket = "workers-domain"
    pids = announced_pids(pair)
    for _ in range(6):  # every worker has looked the domain up (and cached the miss)
        _, before = fresh_get(pair, "/small.txt", {"Host": DOMAIN}, pids)
        assert before.status == 404
    assert as_root(pair, "PUT", bucket, headers={"x-oss-acl": "public-read"}).status == 200
    assert as_root(pair, "PUT", bucket, "small.txt", body=BODY).status == 200
    document = (f"<BucketCnameConfiguration><Cname><Domain>{DOMAIN}</Domain></Cname>"
                "</BucketCnameConfiguration>").encode()
    bound = as_root(pair, "POST", bucket, query=[("cname", ""), ("comp", "add")], body=document)
    assert bound.status == 200, bound.text
    replies = every_worker_answers(pair, "/small.txt", lambda: {"Host": DOMAIN}, pids)
    for reply in replies.values():
        assert (reply.status, reply.body) == (200, BODY)


def test_an_overwrite_through_one_worker_is_read_back_through_every_other_at_once(
        pair: RunningServer) -> None:
    """Read-after-write across workers: with both workers holding the object in memory (the
    HTTP front's cache), an overwrite that returned 200 is what every later GET returns, on
    any worker, with no poll interval in between (the data dir's change beacon)."""
    bucket, domain = "workers-overwrite", "overwrite.workers.example.com"
    pids = announced_pids(pair)
    assert as_root(pair, "PUT", bucket, headers={"x-oss-acl": "public-read"}).status == 200
    assert as_root(pair, "PUT", bucket, "page.html", body=b"version 1").status == 200
    document = (f"<BucketCnameConfiguration><Cname><Domain>{domain}</Domain></Cname>"
                "</BucketCnameConfiguration>").encode()
    bound = as_root(pair, "POST", bucket, query=[("cname", ""), ("comp", "add")], body=document)
    assert bound.status == 200, bound.text
    served: dict[int, int] = {pid: 0 for pid in pids}
    deadline = time.monotonic() + 10
    while min(served.values()) < 3 and time.monotonic() < deadline:  # each caches it
        pid, reply = fresh_get(pair, "/page.html", {"Host": domain}, pids)
        if reply.status == 200:
            assert reply.body == b"version 1"
            assert pid is not None
            served[pid] += 1
    assert min(served.values()) >= 3, served
    for version in (b"version 2", b"version 3"):
        assert as_root(pair, "PUT", bucket, "page.html", body=version).status == 200
        seen: dict[int, list[bytes]] = {pid: [] for pid in pids}
        for _ in range(20):  # at once: no sleep between the write and these reads
            pid, reply = fresh_get(pair, "/page.html", {"Host": domain}, pids)
            assert pid is not None
            seen[pid].append(reply.body)
        assert all(seen.values()), seen
        assert {body for bodies in seen.values() for body in bodies} == {version}


# --- restarts, shutdown, start-up --------------------------------------------------------------

@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", workers=2)
    try:
        first = announced_pids(server)
        outcomes: list[tuple[float, str]] = []
        running = threading.Event()
        running.set()

        def probe() -> None:
            while running.is_set():
                try:
                    reply = send(server.endpoint, "GET", "/-/health")
                    outcomes.append((time.monotonic(), str(reply.status)))
                except OSError as exc:
                    outcomes.append((time.monotonic(), type(exc).__name__))
                time.sleep(0.01)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        time.sleep(0.5)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        replacement: set[int] = set()
        while time.monotonic() - killed_at < 15 and not replacement:
            now = children(server.process.pid)
            if len(now) == 2 and victim not in now and listeners(server.port, now) == now:
                replacement = now - first
            time.sleep(0.05)
        time.sleep(1.0)
        running.clear()
        prober.join()
        assert len(replacement) == 1, children(server.process.pid)
        failures = [(at - killed_at, what) for at, what in outcomes if what != "200"]
        assert all(at < 1.0 for at, _ in failures), failures  # only at the instant of the kill
        after = [what for at, what in outcomes if at > killed_at + 1.0]
        assert after and set(after) == {"200"}
        line = f"worker {victim} was killed by SIGKILL; starting another in 1 s"
        assert sum(line in text for text in server.errors) == 1, server.errors
    finally:
        assert server.stop() == 0


@pytest.mark.slow
@pytest.mark.parametrize("count", [1, 2])
def test_sigterm_drains_a_slow_upload_then_every_process_exits(tmp_path: Path,
                                                               count: int) -> None:
    """aiohttp's shutdown dropped the bytes of a body still arriving (http/protocol.py lets
    them in), so a single server is held to it too."""
    server = start_server(tmp_path / "data", workers=count)
    workers = announced_pids(server) if count > 1 else {server.process.pid}
    bucket, key, body = "workers-drain", "slow.bin", b"0123456789" * 100
    assert as_root(server, "PUT", bucket).status == 200
    headers = signed_headers(server, "PUT", bucket, key)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n"
                     f"\r\n".encode() + body[:300])
        deadline = time.monotonic() + 5
        while serving_pid(server.port, sock, workers) is None:  # accepted by a worker
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert server.process.poll() is None  # still draining our request
        for start in range(300, len(body), 350):
            sock.sendall(body[start:start + 350])
            time.sleep(0.2)
        reply = _read_reply(sock)
    assert reply.status == 200, reply.body
    assert server.process.wait(timeout=20) == 0
    assert [pid for pid in workers if alive(pid)] == []
    server.stop()
    again = start_server(tmp_path / "data")
    try:
        stored = as_root(again, "GET", bucket, key)
        assert (stored.status, stored.body) == (200, body)
    finally:
        again.stop()


def test_three_workers_print_the_generated_root_secret_once(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", workers=3,
                          env={"OSS_SERVER_ROOT_ACCESS_KEY_ID": "",
                               "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": ""})
    try:
        assert len(announced_pids(server)) == 3
        saved = json.loads((tmp_path / "data" / "root-credentials.json").read_text())
        expected = (f"ossutil-server: created root account; AccessKeyId "
                    f"{saved['access_key_id']} AccessKeySecret {saved['access_key_secret']} "
                    f"(also saved to {tmp_path / 'data' / 'root-credentials.json'}, mode 0600)")
        assert [line for line in server.output if "root account" in line] == [expected]
        assert sum(saved["access_key_secret"] in line
                   for line in server.output + server.errors) == 1
        server.access_key_id = saved["access_key_id"]
        server.access_key_secret = saved["access_key_secret"]
        for _ in range(10):  # the key the supervisor made works on whichever worker answers
            assert as_root(server, "GET", "").status == 200
    finally:
        assert server.stop() == 0


def test_a_worker_count_out_of_range_is_one_line_and_status_2(tmp_path: Path) -> None:
    for value in ("0", "-1", "65", "two"):
        done = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve",
                               "--data-dir", str(tmp_path / "data"), "--port", "0",
                               "--workers", value], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (value, done.stderr)
        assert done.stderr == ("ossutil-server: --workers: not a number of processes from 1 "
                               f"to 64: {value!r}\n"), value
    assert not (tmp_path / "data").exists()  # refused before anything was created
