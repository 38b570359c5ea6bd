"""The bind path and start-up at scale, and GETs while binds run; two source trees in one run.

    git worktree add --detach /tmp/before <commit>
    python bench/bindings_scale.py --before /tmp/before/src [--after src] [--bindings 100000]
    python bench/bindings_scale.py --before /tmp/before/src --only startup --bindings 1000000

For each tree (``PYTHONPATH=<tree>``) and each binding count (0 and ``--bindings``):

- ``startup``: a fresh data dir is made by that tree's server (schema, root account, the
  ``bench`` bucket), stopped, then N bindings are inserted with sqlite3 in one transaction
  (the bindings and binding_changes rows the stores write, on a ``bulk`` bucket). The server is
  started again: seconds from exec to its ``ossutil-server listening on`` banner, and its VmRSS
  then (``--no-dns-verify``);
- ``putcname``: on that server, the median wall time of a PutCname of a new domain (each
  followed by its DeleteCname, so the bench bucket stays under 100 bindings) over HTTP;
- ``contention`` (``--zone`` and ``--dns``): GET req/s of a 1 KiB object through a bound domain
  (``wrk -t1 -c64``) idle, then while a thread does CreateCnameToken + PutCname + DeleteCname
  on other domains whose proofs are in a zone file (``--dns-zone-file``, 1,000 other records
  in it) or on a loopback DNS server (tests/support/dns_server.py), as the ratio busy/idle.

Timings are printed, never asserted; ratios are between figures of this one run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.dns_server import DnsServer  # noqa: E402  (after the path set-up)
from tests.support.raw import send  # noqa: E402

from ossutil.wire import dates, signing  # noqa: E402

AK, SK = "LTAIbenchBindingScale001", "bench-binding-scale-secret-0123456789"
BUCKET, DOMAIN = "bench", "bench.example.com"
BANNER = re.compile(rb"ossutil-server listening on (http://\S+)")


def signed(method: str, bucket: str, key: str = "", query: list[tuple[str, str]] | None = None,
           extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)), **(extra or {})}
    request = signing.SigningRequest(method, bucket, key, query or [], headers)
    headers["authorization"] = signing.v1_authorization(AK, SK, request)
    return headers


class Server:
    """One ``ossutil-server serve`` process of one tree, started and timed to its banner."""

    def __init__(self, src: str, data_dir: Path, *extra: str) -> None:
        env = dict(os.environ, PYTHONPATH=src, OSS_SERVER_ROOT_ACCESS_KEY_ID=AK,
                   OSS_SERVER_ROOT_ACCESS_KEY_SECRET=SK)
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ossutil.server.main", "serve", "--port", "0",
             "--data-dir", str(data_dir), "--log-level", "warning", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.startup = time.monotonic() - started
        match = BANNER.search(line)
        if match is None:
            self.proc.kill()
            raise SystemExit(f"the server from {src} did not start: {line!r}")
        self.endpoint = match.group(1).decode()
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self.rss_mib = rss_mib(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextmanager
def serving(src: str, data_dir: Path, *extra: str) -> Iterator[Server]:
    server = Server(src, data_dir, *extra)
    try:
        yield server
    finally:
        server.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ok(endpoint: str, method: str, path: str, headers: dict[str, str], query: str = "",
       body: bytes = b"") -> bytes:
    reply = send(endpoint, method, path, query=query, body=body, headers=headers)
    if reply.status != 200:
        raise SystemExit(f"{method} {path}?{query}: {reply.status} {reply.text}")
    return reply.body


def cname_document(domain: str) -> bytes:
    return (f"<BucketCnameConfiguration><Cname><Domain>{domain}</Domain></Cname>"
            "</BucketCnameConfiguration>").encode()


def put_cname(endpoint: str, domain: str) -> None:
    pairs = [("cname", ""), ("comp", "add")]
    ok(endpoint, "POST", f"/{BUCKET}/", signed("POST", BUCKET, query=pairs),
       query="cname&comp=add", body=cname_document(domain))


def delete_cname(endpoint: str, domain: str) -> None:
    pairs = [("cname", ""), ("comp", "delete")]
    ok(endpoint, "POST", f"/{BUCKET}/", signed("POST", BUCKET, query=pairs),
       query="cname&comp=delete", body=cname_document(domain))


def create_token(endpoint: str, domain: str) -> str:
    pairs = [("cname", ""), ("comp", "token")]
    body = ok(endpoint, "POST", f"/{BUCKET}/", signed("POST", BUCKET, query=pairs),
              query="cname&comp=token", body=cname_document(domain))
    match = re.search(rb"<Token>([^<]+)</Token>", body)
    assert match is not None, body
    return match.group(1).decode()


def prepare(endpoint: str) -> None:
    """The bench bucket, public-read, with a 1 KiB object."""
    ok(endpoint, "PUT", f"/{BUCKET}/", signed("PUT", BUCKET))
    ok(endpoint, "PUT", f"/{BUCKET}/", signed("PUT", BUCKET, query=[("acl", "")],
                                              extra={"x-oss-acl": "public-read"}), query="acl")
    ok(endpoint, "PUT", f"/{BUCKET}/small.txt", signed("PUT", BUCKET, "small.txt"),
       body=bytes(range(256)) * 4)


def bulk_insert(db_path: Path, count: int) -> None:
    """N bindings (and their change rows) on a ``bulk`` bucket, as the stores write them."""
    db = sqlite3.connect(db_path)
    try:
        owner = db.execute("SELECT owner_id FROM accounts WHERE is_root = 1").fetchone()[0]
        now = datetime.now(timezone.utc).isoformat()
        db.execute("BEGIN")
        db.execute("INSERT INTO buckets (name, owner_id, region, acl, storage_class, created_at)"
                   " VALUES ('bulk', ?, 'cn-hangzhou', 'private', 'Standard', ?)", (owner, now))
        start = db.execute("SELECT COALESCE(MAX(seq), 0) FROM bindings").fetchone()[0]
        db.executemany(
            "INSERT INTO bindings (domain, bucket, seq, status, created_at, last_modified) "
            "VALUES (?, 'bulk', ?, 'Enabled', ?, ?)",
            ((f"d{i}.bulk.example.net", start + i, now, now) for i in range(1, count + 1)))
        db.executemany("INSERT INTO binding_changes (domain) VALUES (?)",
                       ((f"d{i}.bulk.example.net",) for i in range(1, count + 1)))
        db.execute("COMMIT")
    finally:
        db.close()


def scale_data_dir(src: str, scratch: Path, count: int) -> Path:
    data_dir = scratch / f"scale-{count}"
    with serving(src, data_dir, "--no-dns-verify") as server:
        prepare(server.endpoint)
    bulk_insert(data_dir / "ossutil.db", count)
    return data_dir


def put_cname_ms(endpoint: str, rounds: int) -> float:
    times = []
    for i in range(rounds):
        domain = f"p{i}.putcname.example.org"
        started = time.perf_counter()
        put_cname(endpoint, domain)
        times.append(time.perf_counter() - started)
        delete_cname(endpoint, domain)
    return statistics.median(times) * 1000


def wrk_rate(port: int, seconds: float) -> float:
    out = subprocess.run(["wrk", "-t1", "-c64", f"-d{seconds:g}s", "-H", f"Host: {DOMAIN}",
                          f"http://127.0.0.1:{port}/small.txt"],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None or "Non-2xx" in out:
        raise SystemExit(f"wrk: unexpected output\n{out}")
    return float(match.group(1))


def contention(src: str, scratch: Path, mode: str, seconds: float) -> tuple[float, float, int]:
    """(idle GET req/s, GET req/s while binds run, binds done) in ``mode`` zone or dns."""
    data_dir = scratch / f"contention-{mode}"
    domains = [DOMAIN] + [f"b{i}.bind.example.org" for i in range(40)]
    zone = scratch / f"{mode}.zone"
    filler = "".join(f"_dnsauth.f{i}.filler.example.com. 300 IN TXT \"filler-{i}\"\n"
                     for i in range(1000))
    zone.write_text(filler)
    dns = DnsServer().start() if mode == "dns" else None
    extra = (["--dns-zone-file", str(zone)] if dns is None
             else ["--dns-server", dns.nameserver])
    try:
        with serving(src, data_dir, *extra) as server:
            prepare(server.endpoint)
            tokens = {d: create_token(server.endpoint, d) for d in domains}
            if dns is None:  # published once: the file does not change while binds run
                zone.write_text(filler + "".join(
                    f"_dnsauth.{d}. 300 IN TXT \"{t}\"\n" for d, t in tokens.items()))
            else:
                for d, t in tokens.items():
                    dns.txt(f"_dnsauth.{d}", t)
            put_cname(server.endpoint, DOMAIN)
            wrk_rate(server.port, 1)  # warm-up
            idle = wrk_rate(server.port, seconds)
            stop = threading.Event()
            done = [0]

            def binder() -> None:
                while not stop.is_set():
                    for d in domains[1:]:
                        if stop.is_set():
                            break
                        create_token(server.endpoint, d)
                        put_cname(server.endpoint, d)
                        delete_cname(server.endpoint, d)
                        done[0] += 1

            thread = threading.Thread(target=binder)
            thread.start()
            try:
                busy = wrk_rate(server.port, seconds)
            finally:
                stop.set()
                thread.join()
            return idle, busy, done[0]
    finally:
        if dns is not None:
            dns.stop()


def row(label: str, before: float, after: float, fmt: str = ".0f") -> None:
    ratio = after / before if before else float("nan")
    print(f"{label:<52} {before:>10{fmt}} {after:>10{fmt}} {ratio:>9.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the baseline tree's src/ directory")
    parser.add_argument("--after", default=str(ROOT / "src"), help="default: this checkout")
    parser.add_argument("--bindings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60, help="PutCnames timed per server")
    parser.add_argument("--seconds", type=float, default=5.0, help="per wrk run")
    parser.add_argument("--only", choices=["startup", "contention"], default=None)
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        print(f"{'measure':<52} {'before':>10} {'after':>10} {'after/bef':>9}")
        if args.only in (None, "startup"):
            figures: dict[str, dict[str, float]] = {name: {} for name in trees}
            for name, src in trees.items():
                for count in (0, args.bindings):
                    data_dir = scale_data_dir(src, scratch / name, count)
                    with serving(src, data_dir, "--no-dns-verify") as server:
                        figures[name][f"start{count}"] = server.startup
                        figures[name][f"rss{count}"] = server.rss_mib
                        if args.only is None:
                            figures[name][f"put{count}"] = put_cname_ms(server.endpoint,
                                                                        args.rounds)
                    shutil.rmtree(data_dir)
            b, a = figures["before"], figures["after"]
            n = args.bindings
            for count in (0, n):
                row(f"start-up to banner, {count:,} bindings, s", b[f"start{count}"],
                    a[f"start{count}"], ".2f")
                row(f"VmRSS after banner, {count:,} bindings, MiB", b[f"rss{count}"],
                    a[f"rss{count}"], ".1f")
            if args.only is None:
                for count in (0, n):
                    row(f"PutCname median, {count:,} bindings, ms", b[f"put{count}"],
                        a[f"put{count}"], ".2f")
                row(f"PutCname {n:,} / 0 bindings (x)", b[f"put{n}"] / b["put0"],
                    a[f"put{n}"] / a["put0"], ".2f")
        if args.only in (None, "contention"):
            if shutil.which("wrk") is None:
                raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
            for mode in ("zone", "dns"):
                results = {name: contention(src, scratch / name, mode, args.seconds)
                           for name, src in trees.items()}
                (bi, bb, bn), (ai, ab, an) = results["before"], results["after"]
                row(f"{mode}: GET req/s idle", bi, ai)
                row(f"{mode}: GET req/s while binding ({bn} / {an} binds)", bb, ab)
                row(f"{mode}: GET busy / idle (x)", bb / bi, ab / ai, ".2f")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
