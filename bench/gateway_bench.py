"""Small-object GETs through a custom domain (HTTP and HTTPS, keep-alive), and the Host-lookup
cost with 1,000,000 bindings in memory.

    python bench/gateway_bench.py [--seconds 5] [--connections 16] [--bindings 1000000]

Part 1 starts one real ``ossutil-server`` (``--no-dns-verify``: no DNS server needed), creates a
public-read bucket with a 1 KiB object, binds ``bench.example.com`` with a certificate attached,
then loads ``GET /small.txt`` with ``Host: bench.example.com``: a small asyncio client with
keep-alive connections (over TLS with ``server_hostname=bench.example.com``, so SNI picks the
attached certificate), and ``wrk`` as well when it is installed (wrk sends no SNI for an IP URL,
so its HTTPS run gets the default certificate; after the handshake the work is the same).

Part 2 times, in this process, the lookup the request path does for a custom Host, with the
table holding N bindings: ``DomainTable.bucket_for`` and the whole ``GatewayHooks.resolve``
coroutine (driven without an event loop), beside a plain ``dict.get`` over the same keys.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOMAIN = "bench.example.com"
BUCKET = "gateway-bench"
PAYLOAD = bytes(range(256)) * 4  # 1 KiB


# --- part 1: requests through the custom domain ----------------------------------------------

def prepare(endpoint: str, ak: str, sk: str) -> None:
    from tests.support.raw import signed

    from ossutil.server.certs.tls import generate_self_signed
    from ossutil.wire.cname_xml import (
        CertificateConfiguration,
        CnameConfiguration,
        encode_cname_configuration,
    )

    assert signed(endpoint, ak, sk, "PUT", BUCKET, headers={"x-oss-acl": "public-read"}
                  ).status == 200
    assert signed(endpoint, ak, sk, "PUT", BUCKET, key="small.txt", body=PAYLOAD).status == 200
    chain, key = generate_self_signed([DOMAIN])
    body = encode_cname_configuration(CnameConfiguration(DOMAIN, CertificateConfiguration(
        certificate=chain, private_key=key.decode())))
    reply = signed(endpoint, ak, sk, "POST", BUCKET, query=[("cname", ""), ("comp", "add")],
                   body=body)
    assert reply.status == 200, reply.text


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return status


async def load(port: int, tls: bool, seconds: float,
               connections: int) -> tuple[int, list[float], int]:
    request = f"GET /small.txt HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n".encode()
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # self-signed; SNI still names the domain
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=DOMAIN if tls else None)
        if tls:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            assert DOMAIN.encode() in der, "SNI did not select the attached certificate"
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(latencies), latencies, errors


def _wrk_ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    unit = re.sub(r"^[0-9.]+", "", text)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, args: argparse.Namespace) -> str:
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds:.0f}s", "--latency",
               "-H", f"Host: {DOMAIN}", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"{rps:>9.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
            f"errors {non2xx.group(1) if non2xx else 0}")


def requests_part(args: argparse.Namespace) -> None:
    from tests.support.server import start_server

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data", ["--no-dns-verify"], https=True)
        try:
            prepare(server.endpoint, server.access_key_id, server.access_key_secret)
            print(f"GET of a 1 KiB public-read object via Host: {DOMAIN}, "
                  f"{args.connections} keep-alive connections, {args.seconds:.0f} s each, "
                  "one server process")
            for label, port, tls in (("HTTP ", server.port, False),
                                     ("HTTPS", server.https_port, True)):
                asyncio.run(load(port, tls, 1.0, args.connections))  # warm-up
                count, latencies, errors = asyncio.run(load(port, tls, args.seconds,
                                                            args.connections))
                latencies.sort()
                p50 = statistics.median(latencies) * 1000
                p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
                print(f"  {label} asyncio client  {count / args.seconds:>9.0f} req/s   "
                      f"p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   errors {errors}")
                if shutil.which("wrk"):
                    scheme = "https" if tls else "http"
                    url = f"{scheme}://127.0.0.1:{port}/small.txt"
                    print(f"  {label} wrk             {run_wrk(url, args)}")
        finally:
            server.stop()


# --- part 2: the Host lookup with N bindings -------------------------------------------------

def _per_call_ns(fn: Callable[[str], object], keys: list[str]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for key in keys:
            fn(key)
        best = min(best, (time.perf_counter_ns() - start) / len(keys))
    return best


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def lookup_part(args: argparse.Namespace) -> None:
    from ossutil.server.gateway.domains import DomainTable
    from ossutil.server.gateway.hooks import GatewayHooks
    from ossutil.server.models import Binding
    from ossutil.server.settings import Settings

    n = args.bindings
    now = datetime.now(timezone.utc)
    rss_before = _rss_mib()
    # The names as the store would hand them over (bucket names arrive as separate strings).
    domains = [f"www{i}.customer{i % 9973}.example.com" for i in range(n)]
    hooks = GatewayHooks(Settings(data_dir=Path(tempfile.gettempdir()) / "unused"))
    table: DomainTable = hooks.table
    started = time.perf_counter()
    for i, domain in enumerate(domains):
        table.apply(domain, Binding(domain, f"bucket-{i % 1000:04d}", "Enabled", now, now))
    load_seconds = time.perf_counter() - started
    table_mib = _rss_mib() - rss_before  # the table and its domain strings (+ 8 B/list slot)
    buckets = [f"bucket-{i:04d}" for i in range(1000)]
    baseline = {domain: buckets[i % 1000] for i, domain in enumerate(domains)}

    rng = random.Random(5)
    hits = rng.sample(domains, min(n, 200_000))
    misses = [f"nobody{i}.example.org" for i in range(len(hits))]

    def resolve(host: str) -> object:
        coroutine = hooks.resolve(host)
        try:
            coroutine.send(None)
        except StopIteration as done:
            return done.value
        except Exception:
            return None
        raise AssertionError("resolve suspended")

    print(f"\nHost lookup with {n:,} bindings in memory (table filled in {load_seconds:.1f} s, "
          f"~{table_mib:.0f} MiB RSS, {table_mib * 2**20 / n:.0f} B per binding)")
    rows = [
        ("dict.get (baseline)", baseline.get),
        ("DomainTable.bucket_for", table.bucket_for),
        ("GatewayHooks.resolve", resolve),
        ("SNI certificate_for *", table.certificate_for),
    ]
    for label, fn in rows:
        print(f"  {label:<24} hit {_per_call_ns(fn, hits):6.0f} ns   "
              f"miss {_per_call_ns(fn, misses):6.0f} ns")
    print("  (* bound names without a certificate: the exact probe, then the wildcard probe; "
          "resolve's miss includes raising the 404 error)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--bindings", type=int, default=1_000_000)
    parser.add_argument("--skip-requests", action="store_true")
    args = parser.parse_args()
    if not args.skip_requests:
        requests_part(args)
    lookup_part(args)


if __name__ == "__main__":
    main()
