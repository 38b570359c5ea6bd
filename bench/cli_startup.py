"""Wall time of one ``ossutil bucket-cname --method get``: ours, an oss2 script, ``python -c pass``.

    python bench/cli_startup.py [--runs 30]

One run measures, interleaved so machine noise hits all of them alike, N executions each of:

- ``python -c pass``                     the interpreter's own floor;
- ``ossutil bucket-cname --method get``  this package's console script (as installed);
- the same ListCname through ``oss2``    a three-line script, the usual Python alternative;
- Go ``ossutil`` 1.7.19                  when ``../shared/reference`` has it (reference point).

All of them talk to one local ``ossutil-server serve --port 0`` (a temp data dir, one bucket);
when the server cannot be started, a small stdlib recorder answering the ListCname XML stands in
and the output says so. Bytecode is cached in a temp ``PYTHONPYCACHEPREFIX`` and warmed up first,
as it would be for an installed package (``PYTHONDONTWRITEBYTECODE`` is dropped for the runs).
Prints median, p10 and p90 in milliseconds, each median as a multiple of ``python -c pass``'s
(measured in the same run), and ends with our CLI's ratio against the start-up budget: at most
1.5x ``python -c pass``, 1.2x the goal.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GO_BINARY = ROOT.parent / "shared/reference/ossutil-1.7.19/ossutil"
AK, SK = "LTAI5tBenchStartup00001", "bench-startup-secret-0123456789ab"
BUCKET = "bench-startup"
LIST_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ListCnameResult>\n  <Bucket>' +
            BUCKET.encode() + b"</Bucket>\n  <Owner>1234567890123456</Owner>\n"
            b"</ListCnameResult>\n")
OSS2_SCRIPT = """
import sys, oss2
bucket = oss2.Bucket(oss2.Auth(sys.argv[2], sys.argv[3]), sys.argv[1], sys.argv[4])
result = bucket.list_bucket_cname()
print(result.bucket, len(result.cname))
"""


class _Recorder(BaseHTTPRequestHandler):
    """Stand-in server: every request gets the ListCname XML (or an empty 200 for PUT)."""

    protocol_version = "HTTP/1.1"

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = LIST_XML if self.command == "GET" else b""
        self.send_response(200)
        self.send_header("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = _reply

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def start_server(data_dir: Path) -> tuple[str, object, str]:
    """(endpoint, handle to stop, description): ossutil-server if possible, else the recorder."""
    server = shutil.which("ossutil-server", path=str(Path(sys.executable).parent))
    if server:
        env = dict(os.environ, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
                   OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK, PYTHONUNBUFFERED="1")
        process = subprocess.Popen([server, "serve", "--port", "0", "--data-dir", str(data_dir),
                                    "--no-dns-verify"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.match(r"ossutil-server listening on (http://\S+:\d+)$", line.strip())
            if match:
                threading.Thread(target=process.stdout.read, daemon=True).start()
                return match.group(1), process, "ossutil-server serve --port 0"
        process.kill()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return (f"http://127.0.0.1:{httpd.server_address[1]}", httpd,
            "stdlib recorder (ossutil-server unavailable)")


def stop_server(handle: object) -> None:
    if isinstance(handle, subprocess.Popen):
        handle.terminate()
        handle.wait(timeout=10)
    else:
        handle.shutdown()  # type: ignore[attr-defined]


def measure(commands: dict[str, list[str]], runs: int, env: dict[str, str],
            cwd: Path) -> dict[str, list[float]]:
    for name, command in commands.items():  # warm-up: bytecode, page cache; and a sanity check
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed: {done.stdout.decode()} {done.stderr.decode()}")
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    ossutil = Path(sys.executable).with_name("ossutil")
    if not ossutil.exists():
        raise SystemExit("install the package first: pip install -e .")
    work = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    endpoint, handle, description = start_server(work / "data")
    try:
        from ossutil.client import Credentials, OssClient

        with OssClient(endpoint, Credentials(AK, SK)) as client:
            client.create_bucket(BUCKET)
        env = {key: value for key, value in os.environ.items()
               if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        cli_args = ["bucket-cname", "--method", "get", f"oss://{BUCKET}", "-e", endpoint,
                    "-i", AK, "-k", SK, "-c", str(work / "none.cfg")]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "ossutil (this package)": [str(ossutil), *cli_args],
            "oss2 script": [sys.executable, "-c", OSS2_SCRIPT, endpoint, AK, SK, BUCKET],
        }
        if GO_BINARY.exists():
            commands["Go ossutil 1.7.19"] = [str(GO_BINARY), *cli_args]
        times = measure(commands, args.runs, env, work)
    finally:
        stop_server(handle)
        shutil.rmtree(work, ignore_errors=True)
    print(f"server: {description}; {args.runs} runs each, interleaved; "
          f"python {sys.version.split()[0]}")
    floor = statistics.median(times["python -c pass"])
    print(f"{'':26}{'median':>9}{'p10':>9}{'p90':>9}{'x pass':>9}   (ms)")
    for name, values in times.items():
        print(f"{name:26}{statistics.median(values) * 1000:9.1f}"
              f"{percentile(values, 0.1) * 1000:9.1f}{percentile(values, 0.9) * 1000:9.1f}"
              f"{statistics.median(values) / floor:8.2f}x")
    ratio = statistics.median(times["ossutil (this package)"]) / floor
    verdict = "within the goal" if ratio <= 1.2 else "within the limit" if ratio <= 1.5 else \
        "OVER the limit"
    print(f"ossutil bucket-cname --method get: {ratio:.2f}x python -c pass "
          f"(limit 1.5x, goal 1.2x): {verdict}")


if __name__ == "__main__":
    main()
