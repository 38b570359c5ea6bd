"""What the load benchmarks share: a real ``ossutil-server`` started as a subprocess (banner
read, start-up timed), signed requests built with ``wire.signing``, the bench bucket, and wrk.

Nothing here asserts a timing; callers print figures beside a baseline from the same run.
"""

from __future__ import annotations

import os
import queue
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.raw import Reply, send  # noqa: E402  (after the path set-up)

from ossutil.wire import dates, signing  # noqa: E402

AK, SK = "LTAIbenchDataplane00001", "bench-dataplane-secret-0123456789"
REGION = "cn-hangzhou"
BUCKET = "dataplane-bench"
DOMAIN = "bench.example.com"          # bound with an ECDSA P-256 certificate
RSA_DOMAIN = "bench-rsa.example.com"  # bound with an RSA-2048 certificate, same bucket
SMALL = bytes(range(256)) * 4         # the 1 KiB object, ``small.txt``
BIG = bytes(range(256)) * 4096        # the 1 MiB object, ``big.bin``
_LISTENING = re.compile(r"^ossutil-server listening on (https?)://(\S+):(\d+)$")


_CORES = len(os.sched_getaffinity(0))  # read at import, before a caller pins itself


def cores() -> int:
    return _CORES


def pin(core_list: str | None) -> list[str]:
    """``taskset -c`` prefix when the machine has two cores or more (else nothing to split)."""
    if core_list is None or cores() < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", core_list]


@dataclass
class Server:
    """A live ``ossutil-server``; ``started`` is process start to its last banner line (s)."""

    process: subprocess.Popen[str]
    http_port: int
    https_port: int | None
    started: float
    errors: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def rss_mib(self) -> float:
        """Resident memory of the server process (not its worker children), MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, extra: Sequence[str] = (), *, https: bool = False,
                 core_list: str | None = "0", port: int = 0, dns_verify: bool = False,
                 timeout: float = 120.0) -> Server:
    """Start ``ossutil-server serve`` on loopback; returns once every banner line is out.
    Without ``dns_verify`` domains bind with no DNS proof (``--no-dns-verify``)."""
    command = [*pin(core_list), sys.executable, "-m", "ossutil.server.main", "serve",
               "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port),
               "--region", REGION, *extra]
    if https:
        command += ["--https-port", "0"]
    if not dns_verify:
        command.append("--no-dns-verify")
    env = dict(os.environ, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
               OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK, PYTHONUNBUFFERED="1")
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout is not None and process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    errors: list[str] = []

    def pump_out(stream: IO[str]) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    def pump_err(stream: IO[str]) -> None:
        for line in stream:
            errors.append(line.rstrip("\n"))

    threading.Thread(target=pump_out, args=(process.stdout,), daemon=True).start()
    threading.Thread(target=pump_err, args=(process.stderr,), daemon=True).start()
    ports: dict[str, int] = {}
    wanted = {"http", "https"} if https else {"http"}
    deadline = time.monotonic() + timeout
    while not wanted <= ports.keys():
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            process.wait()
            raise SystemExit("ossutil-server did not start:\n" + "\n".join(errors[-20:])) from None
        match = _LISTENING.match(line)
        if match:
            ports[match.group(1)] = int(match.group(3))
    return Server(process, ports["http"], ports.get("https"), time.perf_counter() - began,
                  errors)


def signed_headers(method: str, bucket: str, key: str = "",
                   query: list[tuple[str, str]] | None = None,
                   extra: dict[str, str] | None = None, version: str = "v1") -> dict[str, str]:
    """Headers (with ``authorization``) for a path-style request, V1 or V4 as the SDKs sign."""
    moment = datetime.now(timezone.utc)
    headers = {k.lower(): v for k, v in (extra or {}).items()}
    if version == "v1":
        headers["date"] = dates.rfc1123(moment)
    else:
        headers["x-oss-date"] = dates.v4_timestamp(moment)
        headers["x-oss-content-sha256"] = signing.UNSIGNED_PAYLOAD
    request = signing.SigningRequest(method, bucket, key, query or [], headers)
    if version == "v1":
        headers["authorization"] = signing.v1_authorization(AK, SK, request)
    else:
        headers["authorization"] = signing.v4_authorization(
            AK, SK, request, region=REGION, date=moment.strftime("%Y%m%d"))
    return headers


def call(endpoint: str, method: str, bucket: str, key: str = "",
         query: list[tuple[str, str]] | None = None, body: bytes = b"",
         extra: dict[str, str] | None = None, version: str = "v1") -> Reply:
    """One signed path-style request."""
    pairs = query or []
    text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" if v else quote(k, safe='')
                    for k, v in pairs)
    return send(endpoint, method, f"/{quote(bucket)}/{quote(key)}", query=text, body=body,
                headers=signed_headers(method, bucket, key, pairs, extra, version))


def ok(reply: Reply, what: str, status: int = 200) -> Reply:
    if reply.status != status:
        raise SystemExit(f"{what}: HTTP {reply.status} {reply.text[:400]}")
    return reply


def cname_body(domain: str, chain: str = "", key: str = "") -> bytes:
    from ossutil.wire.cname_xml import (
        CertificateConfiguration,
        CnameConfiguration,
        encode_cname_configuration,
    )

    certificate = (CertificateConfiguration(certificate=chain, private_key=key) if chain
                   else None)
    return encode_cname_configuration(CnameConfiguration(domain, certificate))


def bind(endpoint: str, bucket: str, domain: str, chain: str = "", key: str = "") -> None:
    ok(call(endpoint, "POST", bucket, query=[("cname", ""), ("comp", "add")],
            body=cname_body(domain, chain, key)), f"PutCname {domain}")


def prepare_bucket(endpoint: str, certificates: dict[str, tuple[str, str]] | None = None,
                   bucket: str = BUCKET) -> None:
    """A public-read bucket holding ``small.txt`` (1 KiB) and ``big.bin`` (1 MiB), bound to
    each domain of ``certificates`` (domain -> (chain PEM, key PEM); "" for none)."""
    ok(call(endpoint, "PUT", bucket, extra={"x-oss-acl": "public-read"}), "PutBucket")
    ok(call(endpoint, "PUT", bucket, "small.txt", body=SMALL), "PutObject small.txt")
    ok(call(endpoint, "PUT", bucket, "big.bin", body=BIG), "PutObject big.bin")
    for domain, (chain, key) in (certificates or {DOMAIN: ("", "")}).items():
        bind(endpoint, bucket, domain, chain, key)


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    bad: int          # responses neither 2xx nor 3xx, plus socket errors
    output: str
    cpu_seconds: float  # wrk's own user + system CPU over the run


def wrk(url: str, headers: dict[str, str], seconds: float, *, connections: int = 64,
        script: Path | None = None, env: dict[str, str] | None = None,
        core_list: str | None = "1") -> WrkResult:
    """One ``wrk -t1`` run (pinned to ``core_list``); its req/s and its failures."""
    command = [*pin(core_list), "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([*command, url], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = done.stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk {url}: exit {done.returncode}\n{out}{done.stderr}")
    bad = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        bad += int(non2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return WrkResult(float(match.group(1)), bad, out, cpu)
