"""What hostile clients cost the real server: GET latency while the largest accepted key is
checked, and RSS growth over requests naming random buckets and hosts (issue 8, section 3).

    python bench/hostile_bench.py [--seconds 10] [--connections 4] [--requests 100000]

1. Loop lag in this process: the longest event-loop stall while ``check_certificate`` runs for
   an RSA key of 2048, 4096 and 8192 bits, in a thread (``asyncio.to_thread``: the GIL is held)
   and via ``check_certificate_isolated`` (worker process).
2. A server with a public-read bucket: ``--connections`` keep-alive clients GET a 1 KiB object
   for ``--seconds``, first alone, then while PutCname uploads with an RSA-4096 key (the
   largest accepted) are checked back to back; p50/p99/max of the GETs and the uploads done.
3. ``--requests`` pipelined requests naming random valid and invalid buckets, virtual-hosted
   buckets, custom domains and AccessKeyIds; the server's RSS before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AK, SK = "LTAIhostilebench0001", "hostile-bench-secret-0000000001"
BUCKET = "hostile-bench"


def rsa_pair(bits: int, domain: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(65537, bits)
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=9))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


# --- 1. loop lag --------------------------------------------------------------------------


async def _max_lag(job: asyncio.Future[object]) -> float:
    """Longest gap between 1 ms ticks of this loop while ``job`` runs."""
    worst = 0.0
    last = time.perf_counter()
    while not job.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
    await job
    return worst


async def loop_lag(pairs: dict[int, tuple[str, str]]) -> None:
    from ossutil.server.certs.isolated import check_certificate_isolated, shutdown_workers

    now = datetime.now(UTC)
    await check_certificate_isolated(*pairs[2048], "bench.example.com", now)  # spawn
    print("1. event-loop stall while one key is checked (this process)")
    for bits, (chain, key) in pairs.items():
        threaded = await _max_lag(asyncio.ensure_future(asyncio.to_thread(
            _quiet_check, chain, key, now)))
        isolated = await _max_lag(asyncio.ensure_future(_quiet_isolated(chain, key, now)))
        note = "  (refused on its size, before validation)" if bits > 4096 else ""
        print(f"   RSA-{bits}: asyncio.to_thread {threaded * 1000:7.1f} ms   "
              f"worker process {isolated * 1000:6.1f} ms{note}")
    shutdown_workers()


def _quiet_check(chain: str, key: str, now: datetime) -> None:
    from ossutil.certcheck import check_certificate
    from ossutil.wire.errors import OssError

    try:
        check_certificate(chain, key, "bench.example.com", now)
    except OssError:  # RSA-8192 is refused after its size is read: the stall is the parse only
        pass


async def _quiet_isolated(chain: str, key: str, now: datetime) -> None:
    from ossutil.server.certs.isolated import check_certificate_isolated
    from ossutil.wire.errors import OssError

    try:
        await check_certificate_isolated(chain, key, "bench.example.com", now)
    except OssError:
        pass


# --- the server -----------------------------------------------------------------------------


def start_server(data_dir: str) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
               OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK, PYTHONUNBUFFERED="1",
               PYTHONPATH=str(ROOT / "src"))
    process = subprocess.Popen(
        [sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir", data_dir,
         "--port", "0", "--no-dns-verify"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.match(r"ossutil-server listening on http://[\d.]+:(\d+)", line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, int(match.group(1))
    raise SystemExit("the server did not start")


def signed(port: int, method: str, path_bucket: str, key: str = "",
           query: list[tuple[str, str]] | None = None, body: bytes = b"",
           headers: dict[str, str] | None = None) -> bytes:
    from ossutil.wire import dates, signing

    pairs = query or []
    hdrs = {"date": dates.rfc1123(datetime.now(UTC)), **(headers or {})}
    request = signing.SigningRequest(method, path_bucket, key, pairs, hdrs)
    hdrs["authorization"] = signing.v1_authorization(AK, SK, request)
    query_text = "&".join(f"{k}={v}" if v else k for k, v in pairs)
    target = f"/{path_bucket}/{key}" + (f"?{query_text}" if query_text else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in hdrs.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    return int(head.split(b" ", 2)[1]), body


async def once(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await exchange(reader, writer, request)
    finally:
        writer.close()


# --- 2. GET latency beside key checks -------------------------------------------------------


async def get_load(port: int, seconds: float, connections: int) -> list[float]:
    request = f"GET /{BUCKET}/obj HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status, _ = await exchange(reader, writer, request)
            latencies.append(time.perf_counter() - start)
            assert status == 200, status
            await asyncio.sleep(0.002)  # a client that thinks between requests
        writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return latencies


async def uploads(port: int, pair: tuple[str, str], until: asyncio.Event) -> list[float]:
    chain, key = pair
    body = (f"<BucketCnameConfiguration><Cname><Domain>bench.example.com</Domain>"
            f"<CertificateConfiguration><Certificate>{chain}</Certificate>"
            f"<PrivateKey>{key}</PrivateKey><Force>true</Force></CertificateConfiguration>"
            "</Cname></BucketCnameConfiguration>").encode()
    took: list[float] = []
    while not until.is_set():
        start = time.perf_counter()
        status, text = await once(port, signed(port, "POST", BUCKET,
                                               query=[("cname", ""), ("comp", "add")],
                                               body=body))
        assert status == 200, text
        took.append(time.perf_counter() - start)
    return took


def figures(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return (f"{len(ordered)} GETs, p50 {statistics.median(ordered) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")


async def beside_checks(port: int, seconds: float, connections: int,
                        pair: tuple[str, str]) -> None:
    status, _ = await once(port, signed(port, "PUT", BUCKET, headers={"x-oss-acl": "public-read"}))
    assert status == 200
    status, _ = await once(port, signed(port, "PUT", BUCKET, "obj", body=b"x" * 1024))
    assert status == 200
    stop = asyncio.Event()
    warm = asyncio.ensure_future(uploads(port, pair, stop))  # the first check starts the pool
    await asyncio.sleep(0.1)
    stop.set()
    await warm
    print(f"2. GET latency, {connections} keep-alive clients, {seconds:g} s each")
    alone = await get_load(port, seconds, connections)
    print(f"   alone:                          {figures(alone)}")
    stop = asyncio.Event()
    checks = asyncio.ensure_future(uploads(port, pair, stop))
    during = await get_load(port, seconds, connections)
    stop.set()
    took = await checks
    print(f"   during RSA-4096 PutCname checks: {figures(during)}")
    print(f"   ({len(took)} PutCname with RSA-4096 done back to back, "
          f"median {statistics.median(took) * 1000:.0f} ms each)")


# --- 3. RSS over hostile requests -----------------------------------------------------------


def hostile(port: int) -> bytes:
    name = "b" + secrets.token_hex(12)
    return (f"GET /{name}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            f"GET /{name.upper()}-/k HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            f"HEAD /k HTTP/1.1\r\nHost: {name}.oss-cn-hangzhou.localhost:{port}\r\n\r\n"
            f"GET /k HTTP/1.1\r\nHost: {name}.example.net\r\n\r\n"
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: OSS "
            f"LTAI{secrets.token_hex(8)}:c2ln\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n"
            ).encode()


async def pipelined(port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    while done < count:
        writer.write(b"".join(hostile(port) for _ in range(40)))  # 200 requests
        for _ in range(200):
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)  # 0 for HEAD
            if match:
                await reader.readexactly(int(match.group(1)))
        done += 200
    writer.close()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def rss_growth(process: subprocess.Popen[str], port: int, requests: int) -> None:
    await pipelined(port, 5000)
    before = rss_kib(process.pid)
    start = time.perf_counter()
    await asyncio.gather(*(pipelined(port, requests // 4) for _ in range(4)))
    took = time.perf_counter() - start
    after = rss_kib(process.pid)
    print(f"3. {requests} hostile requests in {took:.1f} s: RSS {before / 1024:.1f} -> "
          f"{after / 1024:.1f} MiB ({(after - before) / 1024:+.1f} MiB)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    print("generating RSA keys (8192 bits takes a while) ...", flush=True)
    pairs = {bits: rsa_pair(bits, "bench.example.com") for bits in (2048, 4096, 8192)}
    await loop_lag(pairs)
    with tempfile.TemporaryDirectory() as data_dir:
        process, port = start_server(data_dir)
        try:
            await beside_checks(port, args.seconds, args.connections, pairs[4096])
            await rss_growth(process, port, args.requests)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
