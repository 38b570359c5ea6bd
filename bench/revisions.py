"""The same server load against two source trees, interleaved in one run: is a change within
noise of what came before?

    git worktree add /tmp/before <commit>
    python bench/revisions.py --before /tmp/before/src [--after src] [--seconds 5] [--rounds 3]

For each tree a real ``ossutil-server`` is started (``PYTHONPATH=<tree>``, ``--no-dns-verify``)
and given a public-read bucket with a 1 KiB object bound to ``bench.example.com``. ``wrk``
(Debian's package) then measures, one server at a time, alternating the trees each round:

- ``GET /small.txt`` with ``Host: bench.example.com`` (the gateway's hot path, anonymous);
- a V1-signed ``GET /<bucket>/?cname`` (ListCname: signature check, authorization, the store,
  XML), one signature reused (valid 15 minutes).

It prints the median req/s of each and the ratio after/before. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.raw import send  # noqa: E402  (after the path set-up)

from ossutil.wire import dates, signing  # noqa: E402

AK, SK = "LTAIbenchRevisions00001", "bench-revisions-secret-0123456789"
BUCKET, DOMAIN = "revisions-bench", "bench.example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_headers(method: str, bucket: str, key: str = "",
                   query: list[tuple[str, str]] | None = None,
                   extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)), **(extra or {})}
    request = signing.SigningRequest(method, bucket, key, query or [], headers)
    headers["authorization"] = signing.v1_authorization(AK, SK, request)
    return headers


def start(src: str, data_dir: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=src, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
               OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK)
    proc = subprocess.Popen([sys.executable, "-m", "ossutil.server.main", "serve", "--port",
                             str(port), "--data-dir", data_dir, "--no-dns-verify",
                             "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server from {src} did not start")


def prepare(endpoint: str) -> None:
    def ok(method: str, path: str, headers: dict[str, str], query: str = "",
           body: bytes = b"") -> None:
        reply = send(endpoint, method, path, query=query, body=body, headers=headers)
        if reply.status != 200:
            raise SystemExit(f"{method} {path}?{query}: {reply.status} {reply.text}")

    ok("PUT", f"/{BUCKET}/", signed_headers("PUT", BUCKET))
    ok("PUT", f"/{BUCKET}/", signed_headers("PUT", BUCKET, query=[("acl", "")],
                                            extra={"x-oss-acl": "public-read"}), query="acl")
    ok("PUT", f"/{BUCKET}/small.txt", signed_headers("PUT", BUCKET, "small.txt"),
       body=bytes(range(256)) * 4)
    document = (f"<BucketCnameConfiguration><Cname><Domain>{DOMAIN}</Domain></Cname>"
                "</BucketCnameConfiguration>").encode()
    pairs = [("cname", ""), ("comp", "add")]
    ok("POST", f"/{BUCKET}/", signed_headers("POST", BUCKET, query=pairs), query="cname&comp=add",
       body=document)


def wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or non2xx is not None:
        raise SystemExit(f"wrk: unexpected output\n{out}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the baseline tree's src/ directory")
    parser.add_argument("--after", default=str(ROOT / "src"), help="default: this checkout")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    trees = {"before": args.before, "after": args.after}
    results: dict[str, dict[str, list[float]]] = {t: {"gateway": [], "listcname": []}
                                                  for t in trees}
    with tempfile.TemporaryDirectory() as scratch:
        servers = {}
        for name, src in trees.items():
            proc, port = start(src, str(Path(scratch) / name))
            prepare(f"http://127.0.0.1:{port}")
            servers[name] = (proc, port)
        try:
            for _ in range(args.rounds):
                for name, (_, port) in servers.items():
                    base = f"http://127.0.0.1:{port}"
                    results[name]["gateway"].append(wrk(
                        f"{base}/small.txt", {"Host": f"{DOMAIN}:{port}"}, args.seconds,
                        args.connections))
                    results[name]["listcname"].append(wrk(
                        f"{base}/{BUCKET}/?cname", signed_headers("GET", BUCKET,
                                                                  query=[("cname", "")]),
                        args.seconds, args.connections))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
    print(f"{'measure':<44} {'before':>10} {'after':>10} {'after/before':>13}")
    for measure, label in (("gateway", "1 KiB GET via a bound domain, req/s"),
                           ("listcname", "signed ListCname (V1), req/s")):
        before = statistics.median(results["before"][measure])
        after = statistics.median(results["after"][measure])
        print(f"{label:<44} {before:>10.0f} {after:>10.0f} {after / before:>13.2f}")
    print(f"(medians of {args.rounds} interleaved rounds of {args.seconds:g} s, "
          f"{args.connections} connections, wrk -t1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
