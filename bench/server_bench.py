"""Signed ListCname requests per second and p99, ours beside uvicorn+starlette, in one run.

    python bench/server_bench.py [--seconds 5] [--connections 16]

Both servers run the same domain code (signature check, authorization, store read through the
worker thread, XML encoding) over the same SQLite data dir; only the HTTP stack differs: our
aiohttp low-level pipeline vs. a Starlette route on uvicorn (httptools). The load generator is a
small asyncio client with keep-alive connections, identical for both, sending a request signed
once (V1 signatures stay valid for 15 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AK, SK = "LTAIbenchbenchbench01", "bench-secret-bench-secret-0001"
BUCKET = "bench-bucket"


def signed_request(port: int) -> bytes:
    from ossutil.wire import dates, signing

    headers = {"date": dates.rfc1123(datetime.now(timezone.utc))}
    request = signing.SigningRequest("GET", BUCKET, "", [("cname", "")], headers)
    authorization = signing.v1_authorization(AK, SK, request)
    return (f"GET /{BUCKET}/?cname HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Date: {headers['date']}\r\nAuthorization: {authorization}\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return status


async def load(port: int, seconds: float, connections: int) -> tuple[int, list[float], int]:
    payload = signed_request(port)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(latencies), latencies, errors


def serve_starlette(data_dir: str, port: int) -> None:
    """Child process: the same services behind Starlette on uvicorn."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from ossutil.server.app import build_services, open_box, open_store
    from ossutil.server.auth.authorize import authorize
    from ossutil.server.http import router
    from ossutil.server.http.handlers.cname import cname_info
    from ossutil.server.http.pipeline import new_request_id, parse_query
    from ossutil.server.settings import Settings
    from ossutil.wire import signing
    from ossutil.wire.cname_xml import ListCnameResult, encode_list_cname_result
    from ossutil.wire.errors import OssError

    settings = Settings(data_dir=Path(data_dir), dns_verify=False)
    box = open_box(settings)
    services = build_services(settings, open_store(settings, box), box)

    async def handle(request: Request) -> Response:
        request_id = new_request_id()
        try:
            target = services.addressing.resolve(request.headers.get("host", ""),
                                                 request.url.path)
            pairs = parse_query(request.url.query)
            operation = router.route(request.method, target, dict(pairs))
            headers = {k.lower(): v for k, v in request.headers.items()}
            principal = services.verifier.authenticate(
                signing.SigningRequest(request.method, target.bucket, target.key, pairs,
                                       headers))
            bucket = await services.buckets.get(target.bucket)
            authorize(principal, operation, region=settings.region, bucket_name=bucket.name,
                      bucket=bucket, key="")
            bindings = await services.cnames.list_cnames(bucket)
            body = encode_list_cname_result(ListCnameResult(
                bucket.name, bucket.owner_id, tuple(cname_info(b) for b in bindings)))
            return Response(body, media_type="application/xml",
                            headers={"x-oss-request-id": request_id, "Server": "AliyunOSS"})
        except OssError as error:
            return Response(error.code, status_code=error.status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.keyring.refresh()
        yield

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["GET"])], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


def prepare(data_dir: str) -> None:
    """Create the bench bucket with a few bindings, through our own server once."""
    port = free_port()
    env = dict(os.environ, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
               OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK)
    proc = subprocess.Popen([sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir",
                             data_dir, "--port", str(port), "--no-dns-verify"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port)
        from tests.support.raw import signed

        endpoint = f"http://127.0.0.1:{port}"
        assert signed(endpoint, AK, SK, "PUT", BUCKET).status == 200
        for i in range(5):
            body = (f"<BucketCnameConfiguration><Cname><Domain>www{i}.bench.example"
                    "</Domain></Cname></BucketCnameConfiguration>").encode()
            assert signed(endpoint, AK, SK, "POST", BUCKET, query=[("cname", ""),
                          ("comp", "add")], body=body).status == 200
    finally:
        proc.terminate()
        proc.wait()


def _wrk_ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    unit = re.sub(r"^[0-9.]+", "", text)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, args: argparse.Namespace) -> str:
    """Run wrk (one thread) with the pre-signed headers; returns a result line."""
    head = signed_request(port).decode().split("\r\n")
    headers = [h for h in head[1:] if h and not h.lower().startswith("host")]
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds:.0f}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}/{BUCKET}/?cname"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"{rps:>9.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
            f"errors {non2xx.group(1) if non2xx else 0}   (wrk)")


def measure(label: str, command: list[str], port: int, args: argparse.Namespace,
            env: dict[str, str]) -> None:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    try:
        wait_port(port)
        asyncio.run(load(port, 1.0, args.connections))  # warm-up
        if shutil.which("wrk"):
            print(f"{label:<28} {wrk(port, args)}")
            return
        count, latencies, errors = asyncio.run(load(port, args.seconds, args.connections))
    finally:
        proc.terminate()
        proc.wait()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{label:<28} {count / args.seconds:>9.0f} req/s   p50 {p50:6.2f} ms   "
          f"p99 {p99:6.2f} ms   errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--serve-starlette", nargs=2, metavar=("DATA_DIR", "PORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_starlette:
        serve_starlette(args.serve_starlette[0], int(args.serve_starlette[1]))
        return
    import importlib.util

    missing = [name for name in ("uvicorn", "starlette")
               if importlib.util.find_spec(name) is None]
    if missing:
        parser.exit(2, f"the baseline needs {', '.join(missing)}: "
                       "pip install -e '.[bench]'\n")
    with tempfile.TemporaryDirectory() as data_dir:
        prepare(data_dir)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        print(f"signed ListCname (5 bindings), {args.connections} keep-alive connections, "
              f"{args.seconds:.0f} s each, one server process")
        port = free_port()
        measure("ossutil-server (aiohttp)",
                [sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir", data_dir,
                 "--port", str(port), "--no-dns-verify"], port, args, env)
        port = free_port()
        measure("uvicorn+starlette baseline",
                [sys.executable, __file__, "--serve-starlette", data_dir, str(port)], port,
                args, env)


if __name__ == "__main__":
    main()
