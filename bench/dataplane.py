"""The data-plane benchmark: every row of the table in one run, interleaved, against baselines
measured in the same run.

    scripts/bench-tools                                  # nginx-light, wrk, .[bench]
    .venv/bin/python bench/dataplane.py                  # 5 s per measurement, 3 repeats
    .venv/bin/python bench/dataplane.py --smoke          # ~1 s, one repeat (CI)
    .venv/bin/python bench/dataplane.py --only 1,5 --seconds 10

Every subject is a real process on loopback: ``ossutil-server serve`` as shipped (whatever it
does today: fast paths, TLS, workers), nginx with one worker, a bare aiohttp app,
uvicorn+Starlette. With two cores or more the servers run on core 0 (``taskset -c 0``) and
``wrk -t1 -c64`` (and this script) on core 1. Each repeat runs every row's subjects one after
the other, so drift in the machine hits all of them alike; the table shows the median of the
repeats and ours / baseline. Timings are printed, never asserted: "must reach" is the goal
written in ``GOALS`` below, for a reader to compare.

TLS and SNI: wrk sends the URL's host as SNI and resolves it too, so the URL says
``https://bench.example.com:PORT/`` and a three-line wrk script replaces wrk's resolver with
127.0.0.1: the server sees SNI and Host = bench.example.com and picks the bound certificate.
wrk resumes TLS 1.3 sessions on its own (it keeps the session across ``SSL_clear``); for the
full-handshake rows a tiny LD_PRELOAD shim, built with gcc at start, drops the session before
each reconnect.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import os
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import _bench_apps as apps  # noqa: E402  (after the path set-up)
import _common as common  # noqa: E402
from _common import BUCKET, DOMAIN, RSA_DOMAIN, SMALL, Server  # noqa: E402

#: Row -> what it should reach (ours / baseline). Printed beside the figure, never asserted.
GOALS = {  # the "must reach" column of issue 10's table
    "1": "≥ 0.7× nginx",
    "2": "≥ 0.5× nginx",
    "3": "≥ 0.8× nginx",
    "4": "≥ 1.0× nginx",
    "5": "≥ 3.0× uvicorn",
    "6": "≥ 1.7× 1 worker",
    "7": "≥ 1.0× plain GET",
    "8": "≤ 1.5× python",
    "9": "≥ 0.8× SQLite",
    "10": "≥ 0.9× idle",
    "11": "≤ 1.5× at 0",
    "12": "≤ 1 s",
}
ROW_TITLES = {
    "1": "1 KiB GET, bound domain, HTTP keep-alive",
    "2": "1 KiB GET, bound domain, TLS 1.3 keep-alive",
    "3": "new TLS 1.3 connections (handshake + one GET)",
    "4": "1 MiB GET, HTTP keep-alive",
    "5": "signed ListCname",
    "6": "--workers 2 vs --workers 1",
    "7": "conditional GET (If-None-Match) -> 304",
    "8": "ossutil bucket-cname --method get start-up",
    "9": "1 KiB GET --store postgres",
    "10": "GET while binds run",
    "11": "PutCname latency at 100,000 bindings",
    "12": "server start-up with 100,000 bindings",
}
#: Tools each row cannot do without (``workers`` is not a tool: its absence is "not available").
NEEDS = {"1": {"wrk", "nginx"}, "2": {"wrk", "nginx"}, "3": {"wrk", "nginx", "gcc"},
         "4": {"wrk", "nginx"}, "5": {"wrk", "nginx", "uvicorn"}, "6": {"wrk"},
         "7": {"wrk"}, "8": set(), "9": {"wrk", "postgres"}, "10": {"wrk"}, "11": set(),
         "12": set()}
RESOLVE_LUA = """-- point every connection at loopback whatever the URL's host (which wrk then
-- sends as SNI and Host)
wrk.resolve = function(host, service)
    wrk.addrs = wrk.lookup("127.0.0.1", service)
end
"""
NO_RESUME_C = r"""
/* LD_PRELOAD for wrk: forget the TLS session when a connection is recycled, so every new
   connection is a full handshake (wrk keeps it across SSL_clear and resumes otherwise). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
int SSL_set_session(SSL *s, SSL_SESSION *session);
int SSL_clear(SSL *s) {
    static int (*real)(SSL *) = NULL;
    if (real == NULL) real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    int ok = real(s);
    SSL_set_session(s, NULL);
    return ok;
}
"""
PG_BASE = "postgresql://postgres@127.0.0.1:5432"


@dataclass
class Line:
    """One line of the table: ``ours`` / ``base`` name measurements (``base`` None: none)."""

    row: str
    label: str
    ours: str
    base: str | None
    unit: str
    lower_is_better: bool = False
    goal: str | None = None  # None: the row's GOALS entry


@dataclass
class Bench:
    args: argparse.Namespace
    scratch: Path
    stack: contextlib.ExitStack
    values: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    servers: dict[str, Server] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    lua: Path = Path()
    shim: Path | None = None

    def record(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def wrk(self, name: str, url: str, headers: dict[str, str], *, tls_sni: bool = False,
            full_handshake: bool = False, core_list: str | None = "1",
            seconds: float | None = None) -> float:
        return self.wrk_result(name, url, headers, tls_sni=tls_sni,
                               full_handshake=full_handshake, core_list=core_list,
                               seconds=seconds).requests_per_second

    def wrk_result(self, name: str, url: str, headers: dict[str, str], *,
                   tls_sni: bool = False, full_handshake: bool = False,
                   core_list: str | None = "1",
                   seconds: float | None = None) -> common.WrkResult:
        env = {"LD_PRELOAD": str(self.shim)} if full_handshake and self.shim else None
        result = common.wrk(url, headers, seconds or self.args.seconds,
                            script=self.lua if tls_sni else None, env=env,
                            core_list=core_list)
        if result.bad:
            self.problems.append(f"{name}: {result.bad} failed requests or socket errors "
                                 f"({url})\n{result.output}")
        return result


# --- set-up ---------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on port {port}")


def postgres_reason() -> str | None:
    """Why the PostgreSQL row cannot run (None: it can)."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    import psycopg

    try:
        with psycopg.connect(f"{PG_BASE}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at 127.0.0.1:5432: {str(exc).strip().splitlines()[0]}"
    return None


def missing_tools() -> dict[str, str]:
    """Tool -> why it is missing, for the tools some row needs."""
    missing = {}
    for tool in ("wrk", "nginx", "gcc"):
        if shutil.which(tool) is None:
            missing[tool] = f"{tool} is not installed (scripts/bench-tools installs it)"
    for module in ("uvicorn", "starlette"):
        if importlib.util.find_spec(module) is None:
            missing["uvicorn"] = f"{module} is not installed (scripts/bench-tools: .[bench])"
    reason = postgres_reason()
    if reason:
        missing["postgres"] = reason
    return missing


def has_workers_option() -> bool:
    done = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve", "--help"],
                          capture_output=True, text=True)
    return "--workers" in done.stdout


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every live descendant (a supervisor and its
    workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


def own(bench: Bench, name: str, server: Server) -> Server:
    bench.servers[name] = server
    bench.stack.callback(server.stop)
    return server


def popen(bench: Bench, command: list[str], env: dict[str, str] | None = None,
          ) -> subprocess.Popen[bytes]:
    log = open(bench.scratch / f"{Path(command[-1]).name}-{len(bench.ports)}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, **(env or {})))

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

    bench.stack.callback(stop)
    return process


def build_shim(bench: Bench) -> None:
    source = bench.scratch / "no_resume.c"
    source.write_text(NO_RESUME_C)
    target = bench.scratch / "no_resume.so"
    done = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(target), str(source),
                           "-ldl"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"building the no-resumption shim failed:\n{done.stderr}")
    bench.shim = target


def start_ours(bench: Bench, certs: dict[str, tuple[str, str]]) -> None:
    server = own(bench, "ours", common.start_server(bench.scratch / "ours", https=True))
    common.prepare_bucket(server.endpoint, certs)


def start_nginx(bench: Bench, certs: dict[str, tuple[str, str]], xml: bytes) -> None:
    directory = bench.scratch / "nginx"
    directory.mkdir(mode=0o755)
    bench.scratch.chmod(0o711)  # nginx's worker (nobody) must reach www/ under the temp dir
    for kind, domain in (("ec", DOMAIN), ("rsa", RSA_DOMAIN)):
        chain, key = certs[domain]
        (directory / f"{kind}.pem").write_text(chain)
        (directory / f"{kind}.key").write_text(key)
    www = directory / "www"
    www.mkdir(mode=0o755)
    for name, data in (("small.txt", SMALL), ("big.bin", common.BIG)):
        (www / name).write_bytes(data)
        (www / name).chmod(0o644)
    ports = {"http": free_port(), "ec": free_port(), "rsa": free_port()}
    config = apps.nginx_config(directory, http_port=ports["http"],
                               tls_ports={"ec": ports["ec"], "rsa": ports["rsa"]}, xml=xml)
    popen(bench, [*common.pin("0"), "nginx", "-p", str(directory), "-c", str(config)])
    for kind, port in ports.items():
        wait_port(port)
        bench.ports[f"nginx-{kind}"] = port


def start_aiohttp(bench: Bench) -> None:
    body = bench.scratch / "small.txt"
    body.write_bytes(SMALL)
    port = free_port()
    popen(bench, [*common.pin("0"), sys.executable, str(BENCH / "_bench_apps.py"), "aiohttp",
                  str(port), str(body)])
    wait_port(port)
    bench.ports["aiohttp"] = port


def start_uvicorn(bench: Bench, xml: bytes) -> None:
    body = bench.scratch / "listcname.xml"
    body.write_bytes(xml)
    port = free_port()
    http = ["--http", "httptools"] if importlib.util.find_spec("httptools") else []
    if not http:
        bench.notes.append("uvicorn runs its h11 parser: httptools is not installed")
    popen(bench, [*common.pin("0"), sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH),
                  "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                  "--no-access-log", "--log-level", "warning", *http,
                  "_bench_apps:starlette_app"], env={"BENCH_BODY_FILE": str(body)})
    wait_port(port)
    bench.ports["uvicorn"] = port


def tls_probe(port: int, name: str) -> str:
    """What a client sending SNI ``name`` gets: protocol version and certificate key type."""
    from cryptography import x509

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed: only what was chosen matters here
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
        version = tls.version()
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    key = type(cert.public_key()).__name__.replace("_", "").removesuffix("PublicKey")
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    names = ",".join(sans.value.get_values_for_type(x509.DNSName))
    return f"{version}, {key} certificate for {names}"


def etag_of(endpoint: str) -> str:
    from tests.support.raw import send

    reply = common.ok(send(endpoint, "GET", "/small.txt", headers={"Host": DOMAIN}),
                      "GET small.txt via the bound domain")
    etag = reply.headers["etag"]
    again = send(endpoint, "GET", "/small.txt", headers={"Host": DOMAIN,
                                                         "If-None-Match": etag})
    if again.status != 304:
        raise SystemExit(f"If-None-Match {etag} gave {again.status}, not 304")
    return etag


# --- DNS-proved binds (row 10) --------------------------------------------------------------

class Publisher:
    """Where a CnameToken is published: the loopback DNS server or the zone file."""

    def __init__(self, dns_server: object | None = None, zone: Path | None = None) -> None:
        self.dns_server = dns_server
        self.zone = zone
        self.records: dict[str, str] = {}
        self.lock = threading.Lock()

    def publish(self, domain: str, token: str) -> None:
        name = f"_dnsauth.{domain}"
        if self.dns_server is not None:
            self.dns_server.txt(name, token)  # type: ignore[attr-defined]
            return
        assert self.zone is not None
        with self.lock:
            self.records[name] = token
            text = "".join(f'{n}. 60 IN TXT "{t}"\n' for n, t in sorted(self.records.items()))
            temp = self.zone.with_suffix(".tmp")
            temp.write_text(text)
            os.replace(temp, self.zone)  # the server reads a whole file, never half of one


def proved_bind(endpoint: str, domain: str, publisher: Publisher) -> None:
    from ossutil.wire.cname_xml import decode_cname_token

    reply = common.ok(common.call(endpoint, "POST", BUCKET,
                                  query=[("cname", ""), ("comp", "token")],
                                  body=common.cname_body(domain)), f"CreateCnameToken {domain}")
    publisher.publish(domain, decode_cname_token(reply.body).token)
    common.bind(endpoint, BUCKET, domain)


def unbind(endpoint: str, domain: str) -> None:
    common.ok(common.call(endpoint, "POST", BUCKET, query=[("cname", ""), ("comp", "delete")],
                          body=common.cname_body(domain)), f"DeleteCname {domain}")


#: Row 10's bind loop: token + publish + bind + delete cycles per second. A fixed rate, well
#: above what a deployment sees, so that the row measures what binds do to reads (locks, cache
#: invalidation, the zone file's re-read) rather than how much of the two cores a flat-out
#: Python client and its DNS server take from wrk, which shares core 1 with them.
BIND_RATE = float(os.environ.get("BENCH_BIND_RATE", "10"))


@contextlib.contextmanager
def binds_running(endpoint: str, publisher: Publisher, counter: list[int]) -> Iterator[None]:
    """A background loop: token, publish, bind, delete, on 50 other domains in turn, at
    ``BIND_RATE`` cycles a second (flat out when 0)."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def loop() -> None:
        began = time.perf_counter()
        try:
            for i in itertools.cycle(range(50)):
                if stop.is_set():
                    return
                domain = f"churn{i}.binds.example.org"
                proved_bind(endpoint, domain, publisher)
                unbind(endpoint, domain)
                counter[0] += 1
                if BIND_RATE > 0:
                    ahead = began + counter[0] / BIND_RATE - time.perf_counter()
                    if ahead > 0:
                        stop.wait(ahead)
        except BaseException as exc:  # noqa: BLE001  (reported after the measurement)
            failure.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    if failure:
        raise SystemExit(f"the bind loop failed: {failure[0]}")


# --- bulk bindings (rows 11, 12) ------------------------------------------------------------

def bulk_data_dir(bench: Bench, template: Path, count: int) -> Path:
    """A copy of ``template`` with ``count`` more bindings (100 per bucket, OSS's limit),
    written with sqlite3 in one transaction as if PutCname had made them."""
    target = bench.scratch / f"bulk-{count}"
    shutil.copytree(template, target)
    if count == 0:
        return target
    db = sqlite3.connect(target / "ossutil.db")
    owner, region, acl, storage_class = db.execute(
        "SELECT owner_id, region, acl, storage_class FROM buckets WHERE name = ?",
        (BUCKET,)).fetchone()
    now = datetime.now(timezone.utc).isoformat()
    start = db.execute("SELECT COALESCE(MAX(seq), 0) FROM bindings").fetchone()[0]
    with db:
        db.executemany("INSERT INTO buckets (name, owner_id, region, acl, storage_class, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       ((f"bulk-{b:05d}", owner, region, acl, storage_class, now)
                        for b in range(count // 100)))
        db.executemany("INSERT INTO bindings (domain, bucket, seq, status, created_at, "
                       "last_modified, cert_id, cert_attached_at) "
                       "VALUES (?, ?, ?, 'Enabled', ?, ?, NULL, NULL)",
                       ((f"d{i % 100}.bulk-{i // 100:05d}.example.com", f"bulk-{i // 100:05d}",
                         start + 1 + i, now, now) for i in range(count)))
        db.executemany("INSERT INTO binding_changes (domain) VALUES (?)",
                       ((f"d{i % 100}.bulk-{i // 100:05d}.example.com",) for i in range(count)))
    db.close()
    return target


def put_cname_ms(endpoint: str, domain: str) -> float:
    began = time.perf_counter()
    common.bind(endpoint, BUCKET, domain)
    elapsed = (time.perf_counter() - began) * 1000
    unbind(endpoint, domain)
    return elapsed


# --- rows -----------------------------------------------------------------------------------

def lines() -> list[Line]:
    return [
        Line("1", "1 KiB GET, bound domain, HTTP keep-alive (req/s)", "r1.ours", "r1.nginx",
             "req/s"),
        Line("1", "↳ reference: bare aiohttp web.Application", "r1.ours", "r1.aiohttp",
             "req/s"),
        Line("2", "1 KiB GET, TLS 1.3 keep-alive, ECDSA P-256 (req/s)", "r2.ours.ec",
             "r2.nginx.ec", "req/s"),
        Line("2", "1 KiB GET, TLS 1.3 keep-alive, RSA-2048 (req/s)", "r2.ours.rsa",
             "r2.nginx.rsa", "req/s"),
        Line("3", "new TLS 1.3 conns, full handshake, ECDSA P-256 (conn/s)", "r3.ours.ec",
             "r3.nginx.ec", "conn/s"),
        Line("3", "new TLS 1.3 conns, full handshake, RSA-2048 (conn/s)", "r3.ours.rsa",
             "r3.nginx.rsa", "conn/s"),
        Line("3", "new TLS 1.3 conns, resumed (ticket), ECDSA (conn/s)", "r3.ours.resumed",
             "r3.nginx.resumed", "conn/s"),
        Line("4", "1 MiB GET, HTTP keep-alive (MiB/s)", "r4.ours", "r4.nginx", "MiB/s"),
        Line("5", "signed ListCname V1 (req/s) vs uvicorn+starlette", "r5.ours.v1",
             "r5.uvicorn", "req/s"),
        Line("5", "signed ListCname V4 (req/s) vs uvicorn+starlette", "r5.ours.v4",
             "r5.uvicorn", "req/s"),
        Line("5", "↳ reference: nginx return 200 '<xml>', vs V1", "r5.ours.v1", "r5.nginx",
             "req/s"),
        Line("6", "1 KiB GET, --workers 2 on 2 cores vs --workers 1 (req/s)", "r6.w2", "r6.w1",
             "req/s"),
        Line("6", "↳ server CPU per request, --workers 2 vs --workers 1 (µs)", "r6.w2.cpu",
             "r6.w1.cpu", "µs", lower_is_better=True,
             goal="(reference: ≈ 1× = no contention)"),
        Line("6", "↳ ceiling here: 2 cores / (server + wrk CPU per request), vs --workers 1",
             "r6.ceiling", "r6.w1", "req/s",
             goal="(the most --workers 2 can reach with wrk on the same 2 cores)"),
        Line("7", "If-None-Match -> 304 vs plain 1 KiB GET (req/s)", "r7.304", "r7.200",
             "req/s"),
        Line("8", "ossutil bucket-cname --method get vs python -c pass (ms)", "r8.ossutil",
             "r8.python", "ms", lower_is_better=True),
        Line("9", "1 KiB GET, --store postgres vs SQLite (req/s)", "r9.postgres", "r9.sqlite",
             "req/s"),
        Line("10", "GET while binds run vs idle, DNS server mode (req/s)", "r10.dns.busy",
             "r10.dns.idle", "req/s"),
        Line("10", "GET while binds run vs idle, zone-file mode (req/s)", "r10.zone.busy",
             "r10.zone.idle", "req/s"),
        Line("11", "PutCname at 100,000 bindings vs at 0 (ms, median)", "r11.100k", "r11.0",
             "ms", lower_is_better=True),
        Line("12", "start-up to banner, 100,000 bindings vs 0 (s)", "r12.100k", "r12.0", "s",
             lower_is_better=True),
        Line("12", "RSS after start-up, 100,000 bindings vs 0 (MiB)", "r12.rss.100k",
             "r12.rss.0", "MiB", lower_is_better=True, goal="(reported)"),
        Line("12", "start-up to banner, 1,000,000 bindings vs 0 (s)", "r12.1m", "r12.0", "s",
             lower_is_better=True, goal="≤ 3 s"),
        Line("12", "RSS after start-up, 1,000,000 bindings vs 0 (MiB)", "r12.rss.1m",
             "r12.rss.0", "MiB", lower_is_better=True, goal="(reported)"),
    ]


Measure = Callable[[], None]


def setup(bench: Bench, rows: set[str], workers: bool) -> dict[str, list[tuple[str, Measure]]]:
    """Start what the chosen rows need; return row -> its subjects' measurements, in order."""
    plan: dict[str, list[tuple[str, Measure]]] = {}
    bench.lua = bench.scratch / "resolve.lua"
    bench.lua.write_text(RESOLVE_LUA)
    needs_ours = rows & {"1", "2", "3", "4", "5", "7", "9"}
    certs = {DOMAIN: apps.certificate([DOMAIN], "ec"),
             RSA_DOMAIN: apps.certificate([RSA_DOMAIN], "rsa")}
    xml = b""
    if needs_ours:
        start_ours(bench, certs)
        xml = common.ok(common.call(bench.servers["ours"].endpoint, "GET", BUCKET,
                                    query=[("cname", "")]), "ListCname").body
    if rows & {"1", "2", "3", "4", "5"}:
        start_nginx(bench, certs, xml)
    if "1" in rows:
        start_aiohttp(bench)
    if "5" in rows:
        start_uvicorn(bench, xml)
    if "3" in rows:
        build_shim(bench)
    ours = bench.servers.get("ours")
    http = f"http://127.0.0.1:{ours.http_port}" if ours else ""
    host = {"Host": DOMAIN}

    def wrk_into(name: str, url: str, headers: dict[str, str] | None = None,
                 scale: float = 1.0, **kw: object) -> tuple[str, Measure]:
        def run() -> None:
            bench.record(name, scale * bench.wrk(name, url, headers or {}, **kw))  # type: ignore[arg-type]
        return name, run

    if ours is not None and rows & {"2", "3"}:
        assert ours.https_port is not None
        for kind, domain in (("ec", DOMAIN), ("rsa", RSA_DOMAIN)):
            bench.notes.append(f"SNI {domain}: ours {tls_probe(ours.https_port, domain)}; "
                               f"nginx {tls_probe(bench.ports['nginx-' + kind], domain)}")
    nginx = f"http://127.0.0.1:{bench.ports.get('nginx-http')}"

    def tls_url(port: int | None, domain: str) -> str:
        return f"https://{domain}:{port}/small.txt"

    if "1" in rows:
        plan["1"] = [wrk_into("r1.ours", f"{http}/small.txt", host),
                     wrk_into("r1.nginx", f"{nginx}/small.txt", host),
                     wrk_into("r1.aiohttp", f"http://127.0.0.1:{bench.ports['aiohttp']}/small.txt",
                              host)]
    if "2" in rows:
        assert ours is not None
        plan["2"] = [
            wrk_into("r2.ours.ec", tls_url(ours.https_port, DOMAIN), tls_sni=True),
            wrk_into("r2.nginx.ec", tls_url(bench.ports["nginx-ec"], DOMAIN), tls_sni=True),
            wrk_into("r2.ours.rsa", tls_url(ours.https_port, RSA_DOMAIN), tls_sni=True),
            wrk_into("r2.nginx.rsa", tls_url(bench.ports["nginx-rsa"], RSA_DOMAIN),
                     tls_sni=True)]
    if "3" in rows:
        assert ours is not None
        close = {"Connection": "close"}
        plan["3"] = [
            wrk_into("r3.ours.ec", tls_url(ours.https_port, DOMAIN), close, tls_sni=True,
                     full_handshake=True),
            wrk_into("r3.nginx.ec", tls_url(bench.ports["nginx-ec"], DOMAIN), close,
                     tls_sni=True, full_handshake=True),
            wrk_into("r3.ours.rsa", tls_url(ours.https_port, RSA_DOMAIN), close, tls_sni=True,
                     full_handshake=True),
            wrk_into("r3.nginx.rsa", tls_url(bench.ports["nginx-rsa"], RSA_DOMAIN), close,
                     tls_sni=True, full_handshake=True),
            wrk_into("r3.ours.resumed", tls_url(ours.https_port, DOMAIN), close, tls_sni=True),
            wrk_into("r3.nginx.resumed", tls_url(bench.ports["nginx-ec"], DOMAIN), close,
                     tls_sni=True)]
    if "4" in rows:
        mib = len(common.BIG) / 2**20
        plan["4"] = [wrk_into("r4.ours", f"{http}/big.bin", host, scale=mib),
                     wrk_into("r4.nginx", f"{nginx}/big.bin", host, scale=mib)]
    if "5" in rows:
        listing = f"{http}/{BUCKET}/?cname"

        def listcname(name: str, version: str) -> tuple[str, Measure]:
            def run() -> None:  # signed afresh each run: a signature is good for 15 minutes
                headers = common.signed_headers("GET", BUCKET, query=[("cname", "")],
                                                version=version)
                bench.record(name, bench.wrk(name, listing, headers))
            return name, run

        v1 = common.signed_headers("GET", BUCKET, query=[("cname", "")])
        plan["5"] = [listcname("r5.ours.v1", "v1"), listcname("r5.ours.v4", "v4"),
                     wrk_into("r5.uvicorn",
                              f"http://127.0.0.1:{bench.ports['uvicorn']}/{BUCKET}/?cname", v1),
                     wrk_into("r5.nginx", f"{nginx}/listcname", v1)]
    if "6" in rows and workers:
        w1 = own(bench, "w1", common.start_server(bench.scratch / "w1", ["--workers", "1"],
                                                  port=free_port()))
        w2 = own(bench, "w2", common.start_server(bench.scratch / "w2", ["--workers", "2"],
                                                  core_list="0,1", port=free_port()))
        for server in (w1, w2):
            common.prepare_bucket(server.endpoint)
        def per_worker(name: str, server: Server) -> tuple[str, Measure]:
            """wrk against ``server``, and its processes' CPU per request (µs), which says
            whether two workers contend (for a lock, the store) where two cores cannot."""
            def run() -> None:
                before = tree_cpu_seconds(server.process.pid)
                began = time.perf_counter()
                result = bench.wrk_result(name, f"{server.endpoint}/small.txt", host)
                used = tree_cpu_seconds(server.process.pid) - before
                rate = result.requests_per_second
                bench.record(name, rate)
                served = rate * (time.perf_counter() - began)
                if not served:
                    return
                bench.record(name + ".cpu", used / served * 1e6)
                if server is w2:  # two cores shared by both workers and wrk: their ceiling
                    bench.record("r6.ceiling", 2 / ((used + result.cpu_seconds) / served))
            return name, run

        plan["6"] = [per_worker("r6.w1", w1), per_worker("r6.w2", w2)]
        bench.notes.append("row 6: --workers 2 runs on cores 0-1 and shares core 1 with wrk; "
                           "--workers 1 runs on core 0")
    if "7" in rows:
        etag = etag_of(http)
        plan["7"] = [wrk_into("r7.304", f"{http}/small.txt", {**host, "If-None-Match": etag}),
                     wrk_into("r7.200", f"{http}/small.txt", host)]
    if "8" in rows:
        plan["8"] = [cli_startup_measure(bench)]
    if "9" in rows:
        database = f"ossutil_bench_{os.getpid()}"
        create_database(bench, database)
        pg = own(bench, "pg", common.start_server(
            bench.scratch / "pg", ["--store", "postgres", "--database-url",
                                   f"{PG_BASE}/{database}"]))
        common.prepare_bucket(pg.endpoint)
        plan["9"] = [wrk_into("r9.postgres", f"{pg.endpoint}/small.txt", host),
                     wrk_into("r9.sqlite", f"{http}/small.txt", host)]
    if "10" in rows:
        plan["10"] = dns_modes(bench, wrk_into)
    if rows & {"11", "12"}:
        plan["11"] = bulk_measure(bench, rows)
    return plan


def cli_startup_measure(bench: Bench) -> tuple[str, Measure]:
    """Row 8 through bench/cli_startup.py's own server and interleaved timing loop."""
    import cli_startup

    ossutil = Path(sys.executable).with_name("ossutil")
    if not ossutil.exists():
        raise SystemExit(f"{ossutil} is missing: pip install -e . into this venv")
    work = bench.scratch / "cli"
    work.mkdir()
    endpoint, handle, description = cli_startup.start_server(work / "data")
    bench.stack.callback(cli_startup.stop_server, handle)
    from tests.support.raw import signed

    common.ok(signed(endpoint, cli_startup.AK, cli_startup.SK, "PUT", cli_startup.BUCKET),
              "PutBucket for row 8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "ossutil": [str(ossutil), "bucket-cname", "--method", "get",
                    f"oss://{cli_startup.BUCKET}", "-e", endpoint, "-i", cli_startup.AK,
                    "-k", cli_startup.SK, "-c", str(work / "none.cfg")],
    }
    runs = 3 if bench.args.smoke else 10
    bench.notes.append(f"row 8: {runs} interleaved runs per repeat, server: {description}")

    def run() -> None:
        times = cli_startup.measure(commands, runs, env, work)
        for name, values in times.items():
            bench.record(f"r8.{name}", statistics.median(values) * 1000)

    return "r8", run


def create_database(bench: Bench, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    bench.stack.callback(drop)  # registered before the server's stop: runs after it


def dns_modes(bench: Bench, wrk_into: Callable[..., tuple[str, Measure]],
              ) -> list[tuple[str, Measure]]:
    """Row 10: one server checking ownership with a loopback DNS server, one with a zone file;
    each measured idle and with a bind loop running beside wrk."""
    from tests.support.dns_server import DnsServer

    dns_server = DnsServer().start()
    bench.stack.callback(dns_server.stop)
    zone = bench.scratch / "dns.zone"
    zone.write_text("")
    measures: list[tuple[str, Measure]] = []
    for mode, extra, publisher in (
            ("dns", ["--dns-server", dns_server.nameserver], Publisher(dns_server=dns_server)),
            ("zone", ["--dns-zone-file", str(zone)], Publisher(zone=zone))):
        server = own(bench, mode, common.start_server(bench.scratch / mode, extra,
                                                        dns_verify=True))
        endpoint = server.endpoint
        common.ok(common.call(endpoint, "PUT", BUCKET, extra={"x-oss-acl": "public-read"}),
                  "PutBucket")
        common.ok(common.call(endpoint, "PUT", BUCKET, "small.txt", body=SMALL), "PutObject")
        proved_bind(endpoint, DOMAIN, publisher)
        url = f"{endpoint}/small.txt"
        measures.append(wrk_into(f"r10.{mode}.idle", url, {"Host": DOMAIN}))

        def busy(mode: str = mode, endpoint: str = endpoint, url: str = url,
                 publisher: Publisher = publisher) -> None:
            counter = [0]
            began = time.perf_counter()
            with binds_running(endpoint, publisher, counter):
                value = bench.wrk(f"r10.{mode}.busy", url, {"Host": DOMAIN})
            bench.record(f"r10.{mode}.busy", value)
            bench.record(f"r10.{mode}.binds", counter[0] / (time.perf_counter() - began))

        measures.append((f"r10.{mode}.busy", busy))
    return measures


def bulk_measure(bench: Bench, rows: set[str]) -> list[tuple[str, Measure]]:
    """Rows 11 and 12: data dirs with 0 and 100,000 (full mode: also 1,000,000) bindings; each
    repeat starts them (start-up and RSS), then interleaves PutCname calls on both."""
    template = bench.scratch / "template"
    server = common.start_server(template, core_list="0")
    try:
        common.ok(common.call(server.endpoint, "PUT", BUCKET), "PutBucket")
    finally:
        server.stop()
    sizes = {"0": 0, "100k": 100_000}
    if not bench.args.smoke:
        sizes["1m"] = 1_000_000
    began = time.perf_counter()
    dirs = {label: bulk_data_dir(bench, template, count) for label, count in sizes.items()}
    bench.notes.append(f"rows 11-12: bindings written with sqlite3 in "
                       f"{time.perf_counter() - began:.1f} s ({', '.join(sizes)})")
    calls = 5 if bench.args.smoke else 30

    def run() -> None:
        servers: dict[str, Server] = {}
        try:
            for label, directory in dirs.items():
                server = servers[label] = common.start_server(directory, core_list="0")
                time.sleep(0.5)  # let start-up's allocations settle before reading RSS
                bench.record(f"r12.{label}", server.started)
                bench.record(f"r12.rss.{label}", server.rss_mib())
            if "11" in rows:
                timed = {label: servers[label] for label in ("0", "100k")}
                for server in timed.values():  # warm-up call, not recorded
                    put_cname_ms(server.endpoint, "warm.latency.example.net")
                latencies: dict[str, list[float]] = {label: [] for label in timed}
                for i in range(calls):  # alternate the servers call by call
                    for label, server in timed.items():
                        latencies[label].append(
                            put_cname_ms(server.endpoint, f"lat{i}.latency.example.net"))
                for label, values in latencies.items():
                    bench.record(f"r11.{label}", statistics.median(values))
        finally:
            for server in servers.values():
                server.stop()

    return [("r11-12", run)]


# --- report ---------------------------------------------------------------------------------

def fmt(value: float, unit: str) -> str:
    if unit in ("ms", "MiB/s", "MiB", "µs"):
        return f"{value:,.1f} {unit}" if value >= 10 else f"{value:.2f} {unit}"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f}"


def report(bench: Bench, rows: set[str], unavailable: dict[str, str]) -> None:
    args = bench.args
    print()
    print(f"## Data plane ({args.repeats} interleaved repeat(s), {args.seconds:g} s per "
          f"measurement, wrk -t1 -c64, {common.cores()} cores: "
          f"{'servers on core 0, wrk on core 1' if common.pin('0') else 'no pinning'})")
    print()
    print("| measure | ours | baseline | ratio | must reach |")
    print("|---|---:|---:|---:|---|")
    for line in lines():
        if line.row not in rows:
            continue
        label = f"{line.row}. {line.label}"
        goal = line.goal or (GOALS[line.row] if not line.label.startswith("↳")
                             else "(reference)")
        if line.row in unavailable:
            print(f"| {label} | {unavailable[line.row]} | | | {goal} |")
            continue
        ours = bench.values.get(line.ours)
        base = bench.values.get(line.base) if line.base else None
        if not ours or (line.base and not base):
            if line.ours == "r12.1m" or line.ours == "r12.rss.1m":
                print(f"| {label} | full mode only | | | {goal} |")
            else:
                print(f"| {label} | no figure | | | {goal} |")
            continue
        ours_m = statistics.median(ours)
        base_m = statistics.median(base) if base else None
        ratio = f"{ours_m / base_m:.2f}×" if base_m else ""
        print(f"| {label} | {fmt(ours_m, line.unit)} | "
              f"{fmt(base_m, line.unit) if base_m is not None else ''} | {ratio} | {goal} |")
    for mode in ("dns", "zone"):
        rates = bench.values.get(f"r10.{mode}.binds")
        if rates:
            bench.notes.append(f"row 10 ({mode}): the bind loop did "
                               f"{statistics.median(rates):.1f} token+bind+delete cycles/s")
    print()
    print("Notes:")
    print("- TLS rows: wrk gets URL https://<domain>:PORT/ and a Lua resolver that connects to "
          "127.0.0.1, so SNI and Host are the bound domain; full handshakes drop wrk's "
          "session before each reconnect (LD_PRELOAD shim); nginx: ssl_protocols TLSv1.3, "
          "one worker, access_log off, keepalive_requests unlimited")
    for note in bench.notes:
        print(f"- {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="rows: " + "; ".join(
                                         f"{k} {v}" for k, v in ROW_TITLES.items()))
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--smoke", action="store_true",
                        help="1 s per measurement, one repeat, no 1,000,000-binding start")
    parser.add_argument("--only", help="rows to run, e.g. 1,5,12")
    parser.add_argument("--allow-missing", action="store_true",
                        help="exit 0 even when a tool is missing (its rows are skipped)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.repeats = 1.0, 1
    rows = set(ROW_TITLES)
    if args.only:
        rows = {part.strip() for part in args.only.split(",") if part.strip()}
        unknown = rows - set(ROW_TITLES)
        if unknown:
            parser.error(f"no such row: {', '.join(sorted(unknown))}")
    missing = missing_tools()
    unavailable: dict[str, str] = {}
    missing_any = False
    for row in sorted(rows, key=int):
        lacking = sorted(NEEDS[row] & missing.keys())
        if lacking:
            unavailable[row] = "skipped: no " + ", ".join(lacking)
    for tool in sorted({t for row in rows for t in NEEDS[row]} & missing.keys()):
        print(f"MISSING {tool}: {missing[tool]}; skipping row(s) "
              f"{', '.join(r for r in sorted(rows, key=int) if tool in NEEDS[r])}",
              file=sys.stderr)
        missing_any = True
    workers = has_workers_option()
    if "6" in rows and not workers and "6" not in unavailable:
        unavailable["6"] = "not available (serve has no --workers)"
    if common.cores() >= 2:
        os.sched_setaffinity(0, {1})  # this script and wrk on core 1, servers on core 0
    with tempfile.TemporaryDirectory(prefix="dataplane-") as scratch, \
            contextlib.ExitStack() as stack:
        bench = Bench(args, Path(scratch), stack)
        started = time.perf_counter()
        plan = setup(bench, rows - unavailable.keys(), workers)
        print(f"set-up {time.perf_counter() - started:.1f} s; rows "
              f"{', '.join(sorted(plan, key=int))}", file=sys.stderr)
        if not args.smoke:  # warm-up: bytecode, caches, connection pools; not recorded
            warm = [(n, m) for row in ("1", "2", "4", "5", "6", "7", "9") for n, m in
                    plan.get(row, [])]
            saved, args.seconds = args.seconds, 1.0
            for _, measure in warm:
                measure()
            args.seconds = saved
            bench.values.clear()
        for repeat in range(args.repeats):
            for row in sorted(plan, key=int):
                for name, measure in plan[row]:
                    print(f"repeat {repeat + 1}/{args.repeats}: {name}", file=sys.stderr)
                    measure()
        print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        report(bench, rows, unavailable)
        if bench.problems:
            print("\nFAILED REQUESTS (figures above include them):", file=sys.stderr)
            for problem in bench.problems:
                print(problem, file=sys.stderr)
            return 1
    if missing_any and not args.allow_missing:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
