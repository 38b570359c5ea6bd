"""The server as operators run it: health and readiness, metrics after real requests, the JSON
access log, SIGHUP (log level, default certificate), SIGTERM drain, rotate-master-key. Every
test starts its own real ``ossutil-server`` process."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import oss2
import pytest
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.raw import Reply, as_root, error_code, send, signed
from tests.support.server import ROOT_AK, ROOT_SK, RunningServer, start_server

from ossutil.server.certs.keystore import SecretBox, SecretBoxError
from ossutil.wire import dates, signing

_SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def scrape(server: RunningServer) -> tuple[dict[str, float], Reply]:
    """``/-/metrics`` as {'name{labels}': value}, and the reply itself."""
    reply = send(server.endpoint, "GET", "/-/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for line in reply.text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, line
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples, reply


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def json_lines(server: RunningServer) -> list[dict[str, object]]:
    return [json.loads(line) for line in list(server.errors) if line.startswith("{")]


def access_lines(server: RunningServer) -> list[dict[str, object]]:
    return [line for line in json_lines(server) if line["logger"] == "ossutil.server.access"]


@pytest.fixture
def running(tmp_path: Path, dns: DnsServer) -> Iterator[RunningServer]:
    server = start_server(tmp_path / "data", ["--dns-server", dns.nameserver], https=True)
    yield server
    server.stop()


# --- health --------------------------------------------------------------------------------

def test_liveness_and_readiness(running: RunningServer) -> None:
    for path in ("/-/health", "/-/live"):
        reply = send(running.endpoint, "GET", path)
        assert (reply.status, reply.body) == (200, b'{"status":"ok"}\n')
    wait_for(lambda: send(running.endpoint, "GET", "/-/ready").status == 200)
    ready = send(running.endpoint, "GET", "/-/ready")
    assert ready.headers["content-type"] == "application/json"
    assert json.loads(ready.body) == {"status": "ready", "listeners": "up", "caches": "loaded",
                                      "store": "ok"}
    assert error_code(send(running.endpoint, "PUT", "/-/ready")) == (405, "MethodNotAllowed")


def test_version() -> None:
    from ossutil import __version__

    done = subprocess.run([sys.executable, "-m", "ossutil.server.main", "--version"],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"ossutil-server {__version__}\n",
                                                           "")


# --- metrics -------------------------------------------------------------------------------

def test_metrics_count_requests_bytes_latency_and_ownership(
        running: RunningServer, dns: DnsServer, ca: CertFactory) -> None:
    before, first = scrape(running)
    replies = [as_root(running, "PUT", "ops-metrics"),
               as_root(running, "PUT", "ops-metrics", "k", body=b"hello"),
               as_root(running, "GET", "ops-metrics", "k"),
               as_root(running, "GET", "ops-metrics", "missing")]
    assert [r.status for r in replies] == [200, 200, 200, 404]
    after, _ = scrape(running)

    def moved(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert moved('ossutil_requests_total{operation="PutBucket",status="200"}') == 1
    assert moved('ossutil_requests_total{operation="PutObject",status="200"}') == 1
    assert moved('ossutil_requests_total{operation="GetObject",status="200"}') == 1
    assert moved('ossutil_requests_total{operation="GetObject",status="404"}') == 1
    assert moved('ossutil_requests_total{operation="server:metrics",status="200"}') == 1
    assert moved("ossutil_request_bytes_total") == 5
    # every reply body sent since the first scrape, that scrape's own included
    assert moved("ossutil_response_bytes_total") == len(first.body) + sum(
        len(r.body) for r in replies)
    assert after['ossutil_request_duration_seconds_count{operation="GetObject"}'] == 2
    assert after['ossutil_request_duration_seconds_bucket{operation="GetObject",le="+Inf"}'] == 2
    assert after['ossutil_request_duration_seconds_bucket{operation="GetObject",le="10"}'] == 2
    assert moved("ossutil_store_call_duration_seconds_count") >= 4
    assert after['ossutil_cache_requests_total{cache="buckets",result="hit"}'] >= 2
    assert after['ossutil_build_info{version="0.1.0"}'] == 1
    assert after['ossutil_certificates{source="default-generated"}'] == 1
    assert round(after['ossutil_certificate_expiry_days{source="default-generated"}']) == 825

    # ownership checks by outcome, bindings, an attached certificate's expiry
    client = oss2.Bucket(oss2.AuthV4(ROOT_AK, ROOT_SK), running.endpoint, "ops-metrics",
                         region=running.region)
    proved, other, missing = (f"ops{n}-{time.time_ns()}.example.com" for n in range(3))
    dns.txt(f"_dnsauth.{proved}", client.create_bucket_cname_token(proved).token)
    pair = ca.leaf(proved)
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(proved, oss2.models.CertInfo(
        certificate=pair[0], private_key=pair[1])))
    client.create_bucket_cname_token(other)
    dns.txt(f"_dnsauth.{other}", "not-the-token")
    client.create_bucket_cname_token(missing)
    for domain in (other, missing):
        with pytest.raises(oss2.exceptions.ServerError) as refused:
            client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))
        assert refused.value.code == "NeedVerifyDomainOwnership"
    final, _ = scrape(running)
    assert {outcome: final[f'ossutil_ownership_checks_total{{outcome="{outcome}"}}']
            for outcome in ("proved", "mismatch", "no_record", "lookup_failed")} == {
        "proved": 1, "mismatch": 1, "no_record": 1, "lookup_failed": 0}
    assert final["ossutil_bindings"] == 1
    assert final['ossutil_certificates{source="attached"}'] == 1
    assert round(final['ossutil_certificate_expiry_days{source="attached"}']) == 365


def _tls_hello(port: int) -> bytes:
    """One TLS connection to the default certificate; the served certificate (DER)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der


def test_metrics_count_tls_handshakes_and_failures(running: RunningServer) -> None:
    before, _ = scrape(running)
    _tls_hello(running.https_port)
    _tls_hello(running.https_port)
    with socket.create_connection(("127.0.0.1", running.https_port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to the TLS port
        while raw.recv(4096):
            pass

    def moved() -> dict[str, float]:
        after, _ = scrape(running)
        return {name: after[f"ossutil_tls_{name}_total"] - before[f"ossutil_tls_{name}_total"]
                for name in ("connections", "handshakes", "handshake_failures")}

    wait_for(lambda: moved()["handshake_failures"] == 1)
    assert moved() == {"connections": 3, "handshakes": 2, "handshake_failures": 1}


def test_metrics_have_help_and_type_for_every_family(running: RunningServer) -> None:
    _, reply = scrape(running)
    families = set()
    for line in reply.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            families.add(name)
    assert {"ossutil_requests_total", "ossutil_request_duration_seconds",
            "ossutil_request_bytes_total", "ossutil_response_bytes_total",
            "ossutil_connections_open", "ossutil_tls_handshakes_total",
            "ossutil_tls_handshake_failures_total", "ossutil_bindings",
            "ossutil_certificates", "ossutil_certificate_expiry_days",
            "ossutil_ownership_checks_total", "ossutil_store_call_duration_seconds",
            "ossutil_store_errors_total", "ossutil_cache_requests_total",
            "ossutil_front_answered_total", "ossutil_object_cache_hits_total"} <= families


# --- access log ----------------------------------------------------------------------------

def test_json_access_log_lines(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", ["--log-level", "info", "--log-format", "json"])
    try:
        created = as_root(server, "PUT", "ops-log")
        assert created.status == 200
        # a presigned-style URL whose signature must not reach the log
        forged = send(server.endpoint, "GET", "/ops-log/k", query=(
            f"OSSAccessKeyId={ROOT_AK}&Expires=4102444800&Signature=c2VjcmV0c2lnbmF0dXJl"),
            headers={"User-Agent": "ops-test/1.0"})
        assert error_code(forged) == (403, "SignatureDoesNotMatch")
        wait_for(lambda: len(access_lines(server)) >= 2)
    finally:
        assert server.stop() == 0
    lines = access_lines(server)
    put, get = lines[0], lines[1]
    for line, reply in ((put, created), (get, forged)):
        assert line["request_id"] == reply.headers["x-oss-request-id"]
        assert isinstance(line["latency_ms"], float) and 0 <= line["latency_ms"] < 5000
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["time"]))
    assert {k: v for k, v in put.items() if k not in ("time", "request_id", "latency_ms")} == {
        "level": "info", "logger": "ossutil.server.access", "message": "PUT /ops-log/ 200",
        "remote": "127.0.0.1", "method": "PUT", "host": server.endpoint.split("://")[1],
        "path": "/ops-log/", "operation": "PutBucket", "status": 200, "error_code": "-",
        "bytes_in": 0, "bytes_out": 0, "access_key_id": ROOT_AK,
        "user_agent": "-", "via": "pipeline"}
    masked = f"/ops-log/k?OSSAccessKeyId={ROOT_AK}&Expires=4102444800&Signature=***"
    assert {k: v for k, v in get.items() if k not in ("time", "request_id", "latency_ms")} == {
        "level": "info", "logger": "ossutil.server.access", "message": f"GET {masked} 403",
        "remote": "127.0.0.1", "method": "GET", "host": server.endpoint.split("://")[1],
        "path": masked, "operation": "GetObject", "status": 403,
        "error_code": "SignatureDoesNotMatch", "bytes_in": 0, "bytes_out": len(forged.body),
        "access_key_id": "-", "user_agent": "ops-test/1.0", "via": "pipeline"}
    everything = "\n".join(server.errors)
    assert "c2VjcmV0c2lnbmF0dXJl" not in everything and ROOT_SK not in everything
    events = {str(line.get("event")): line for line in json_lines(server) if "event" in line}
    assert set(events) == {"start", "stopping", "shutdown"}
    settings = events["start"]["settings"]
    assert isinstance(settings, dict)
    assert (settings["version"], settings["store"], settings["log_format"],
            settings["log_level"], settings["database"]) == ("0.1.0", "sqlite", "json", "info",
                                                             None)
    assert events["stopping"]["settings"] == {"requests_in_flight": 0, "drain_timeout": 30.0}


def test_text_access_log_line(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", ["--log-level", "info"])
    try:
        reply = send(server.endpoint, "GET", "/-/health", headers={"User-Agent": "a b"})
        request_id = reply.headers["x-oss-request-id"]
        wait_for(lambda: any(request_id in line for line in server.errors))
    finally:
        server.stop()
    line = next(line for line in server.errors if request_id in line)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ossutil\.server\.access: "
        rf"request_id={request_id} remote=127\.0\.0\.1 method=GET host=127\.0\.0\.1:\d+ "
        r"path=/-/health operation=server:health status=200 error_code=- bytes_in=0 "
        r'bytes_out=16 latency_ms=[\d.]+ access_key_id=- user_agent="a b" via=pipeline', line)


# --- SIGHUP --------------------------------------------------------------------------------

def _sha(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def test_sighup_reloads_the_log_level_and_the_default_certificate(
        tmp_path: Path, ca: CertFactory) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    first = ca.leaf("localhost", "127.0.0.1")
    cert.write_text(first[0])
    key.write_text(first[1])
    data = tmp_path / "data"
    server = start_server(data, ["--log-format", "json", "--tls-cert", str(cert),
                                 "--tls-key", str(key)], https=True)
    try:
        served = _tls_hello(server.https_port)
        assert served == ssl.PEM_cert_to_DER_cert(first[0])
        send(server.endpoint, "GET", "/-/health")
        assert access_lines(server) == []  # --log-level warning: no access lines
        (data / "log-level").write_text("info\n")
        second = ca.leaf("localhost", "127.0.0.1")
        cert.write_text(second[0])
        key.write_text(second[1])
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: any("default TLS certificate reloaded" in line
                             for line in server.errors))
        assert any(f"SIGHUP: log level info (from {data / 'log-level'})" in line
                   for line in server.errors)
        reply = send(server.endpoint, "GET", "/-/health")
        wait_for(lambda: [line["request_id"] for line in access_lines(server)]
                 == [reply.headers["x-oss-request-id"]])
        assert _tls_hello(server.https_port) == ssl.PEM_cert_to_DER_cert(second[0])
        # a pair that does not belong together is refused; the loaded one stays
        key.write_text(first[1])
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: any("was not reloaded, the old one is kept" in line
                             for line in server.errors))
        assert _tls_hello(server.https_port) == ssl.PEM_cert_to_DER_cert(second[0])
        # back to --log-level once the file is gone
        (data / "log-level").unlink()
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: any("SIGHUP: log level warning (from --log-level)" in line
                             for line in server.errors))
        count = len(access_lines(server))
        send(server.endpoint, "GET", "/-/health")
        time.sleep(0.3)
        assert len(access_lines(server)) == count
    finally:
        assert server.stop() == 0


# --- SIGTERM -------------------------------------------------------------------------------

def _partial_put(server: RunningServer, bucket: str, key: str, body: bytes,
                 sent: int) -> socket.socket:
    """A signed PutObject whose head and first ``sent`` body bytes are on the wire."""
    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)),
               "content-length": str(len(body))}
    request = signing.SigningRequest("PUT", bucket, key, [], headers)
    headers["authorization"] = signing.v1_authorization(ROOT_AK, ROOT_SK, request)
    head = f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    sock.sendall(head.encode() + body[:sent])
    return sock


def _read_all(sock: socket.socket) -> bytes:
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except ConnectionResetError:
        pass
    return reply


def test_sigterm_stops_accepting_and_drains_the_request_in_flight(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", ["--log-format", "json", "--log-level", "info"])
    assert as_root(server, "PUT", "ops-drain").status == 200
    sock = _partial_put(server, "ops-drain", "k", b"0123456789", 5)
    time.sleep(0.5)  # the handler is reading the body
    server.process.send_signal(signal.SIGTERM)

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False

    wait_for(refused, timeout=5)
    assert server.process.poll() is None  # still draining
    sock.sendall(b"56789")
    reply = _read_all(sock)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert server.process.wait(timeout=15) == 0
    server.stop()
    events = {line.get("event"): line for line in json_lines(server) if "event" in line}
    assert events["stopping"]["settings"] == {"requests_in_flight": 1, "drain_timeout": 30.0}
    assert "shutdown" in events
    put = [line for line in access_lines(server) if line["operation"] == "PutObject"]
    assert [(line["status"], line["bytes_in"]) for line in put] == [(200, 10)]
    # the object is whole
    again = start_server(tmp_path / "data")
    try:
        assert as_root(again, "GET", "ops-drain", "k").body == b"0123456789"
    finally:
        again.stop()


def test_sigterm_cuts_what_is_still_running_at_the_drain_deadline(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", ["--drain-timeout", "1"])
    assert as_root(server, "PUT", "ops-deadline").status == 200
    sock = _partial_put(server, "ops-deadline", "k", b"0123456789", 5)
    time.sleep(0.5)
    began = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=10) == 0
    assert 0.9 < time.monotonic() - began < 5
    assert not _read_all(sock).startswith(b"HTTP/1.1 200")
    sock.close()
    server.stop()


def test_workers_pass_sighup_and_sigterm_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, ["--log-format", "json"], workers=2)
    try:
        (data / "log-level").write_text("info")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: sum("SIGHUP: log level info" in line for line in server.errors) == 3)
    finally:
        assert server.stop() == 0
    assert sum('"event": "shutdown"' in line for line in server.errors) == 2


# --- rotate-master-key ---------------------------------------------------------------------

def _sealed_values(data: Path) -> list[tuple[str, bytes, bytes]]:
    """(what, context, sealed) of every sealed value in a SQLite data dir."""
    db = sqlite3.connect(data / "ossutil.db")
    try:
        values = [(f"key {k}", k.encode(), bytes(v)) for k, v in
                  db.execute("SELECT access_key_id, secret_sealed FROM access_keys")]
        values += [(f"cert {c}", c.encode(), bytes(v)) for c, v in
                   db.execute("SELECT cert_id, key_sealed FROM certificates")]
    finally:
        db.close()
    values.append(("default key", b"tls-default.key", (data / "tls-default.key.enc").read_bytes()))
    return values


def _rotate(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ossutil.server.main", "rotate-master-key",
                           "--data-dir", str(data)], capture_output=True, text=True, timeout=60)


def test_rotate_master_key_reseals_every_secret(tmp_path: Path, ca: CertFactory) -> None:
    from tests.support.server import create_user

    data = tmp_path / "data"
    server = start_server(data, ["--no-dns-verify"], https=True)
    domain = "rotate.example.com"
    try:
        client = oss2.Bucket(oss2.AuthV4(ROOT_AK, ROOT_SK), server.endpoint, "ops-rotate",
                             region=server.region)
        client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
        client.put_object("index.html", b"rotated\n")
        pair = ca.leaf(domain)
        client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, oss2.models.CertInfo(
            certificate=pair[0], private_key=pair[1])))
        user = create_user(server, "ops-user", None, tmp_path)
        busy = _rotate(data)  # refused while the server runs: nothing changes
        assert (busy.returncode, busy.stdout) == (2, "")
        assert busy.stderr == (f"ossutil-server: rotate-master-key: a server is running on "
                               f"{data} (its lock is taken): stop it first\n")
    finally:
        assert server.stop() == 0
    old_key = (data / "master.key").read_text()
    old = SecretBox.from_data_dir(data, {})
    sealed = _sealed_values(data)
    assert len(sealed) == 4  # root key, the user's key, the certificate, the default key
    for _, context, value in sealed:
        old.decrypt(value, context=context)

    done = _rotate(data)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (f"ossutil-server: re-sealed 4 secrets with the new master key; "
                           f"{data / 'master.key'} replaced (the old key opens nothing any "
                           "more)\n")
    assert (data / "master.key").read_text() != old_key
    assert not (data / "master.key.new").exists()
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600
    new = SecretBox.from_data_dir(data, {})
    for what, context, value in _sealed_values(data):
        with pytest.raises(SecretBoxError):
            old.decrypt(value, context=context)
        assert new.decrypt(value, context=context), what

    # every secret still works: both AccessKeys sign, the certificate serves its domain
    again = start_server(data, ["--no-dns-verify"], https=True)
    try:
        assert as_root(again, "GET", "ops-rotate", "index.html").body == b"rotated\n"
        as_user = signed(again.endpoint, user["access_key_id"], user["access_key_secret"],
                         "GET", "")
        assert as_user.status in (200, 403)  # signature verified: no SignatureDoesNotMatch
        assert error_code(as_user)[1] != "SignatureDoesNotMatch"
        context = ssl.create_default_context(cadata=ca.ca_pem())
        with socket.create_connection(("127.0.0.1", again.https_port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=domain) as tls:
            tls.sendall(f"GET /index.html HTTP/1.1\r\nHost: {domain}\r\n"
                        "Connection: close\r\n\r\n".encode())
            assert _read_all(tls).endswith(b"\r\n\r\nrotated\n")
    finally:
        assert again.stop() == 0


def test_an_interrupted_rotation_blocks_start_and_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start_server(data).stop()
    old_key = (data / "master.key").read_text()
    assert _rotate(data).returncode == 0
    new_key = (data / "master.key").read_text()
    # as if the run had stopped after the store's transaction, before the rename
    (data / "master.key.new").write_text(new_key)
    (data / "master.key").write_text(old_key)
    refused = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve",
                              "--data-dir", str(data), "--port", "0"],
                             capture_output=True, text=True, timeout=30)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (f"ossutil-server: a master key rotation in {data} did not "
                              "finish: run `ossutil-server rotate-master-key` again before "
                              "starting\n")
    resumed = _rotate(data)
    assert (resumed.returncode, resumed.stderr) == (0, "")
    assert resumed.stdout.startswith("ossutil-server: re-sealed 1 secret with the new master")
    assert (data / "master.key").read_text() == new_key
    again = start_server(data)
    try:
        assert as_root(again, "PUT", "ops-resumed").status == 200
    finally:
        again.stop()


@pytest.mark.postgres
def test_rotate_master_key_on_postgresql_with_the_key_in_the_environment(
        tmp_path: Path) -> None:
    import base64

    import psycopg
    from tests.support import postgres

    old = base64.b64encode(bytes(range(32))).decode()
    new = base64.b64encode(bytes(range(32, 64))).decode()
    with postgres.fresh_database() as url:
        store = ["--store", "postgres", "--database-url", url]
        start_server(tmp_path / "a", store, env={"OSS_SERVER_MASTER_KEY": old},
                     https=True).stop()
        command = [sys.executable, "-m", "ossutil.server.main", "rotate-master-key",
                   "--data-dir", str(tmp_path / "a"), *store]
        base_env = {k: v for k, v in __import__("os").environ.items()
                    if not k.startswith("OSS_SERVER_")}
        running = start_server(tmp_path / "b", store, env={"OSS_SERVER_MASTER_KEY": old})
        try:
            busy = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                  env={**base_env, "OSS_SERVER_MASTER_KEY": old,
                                       "OSS_SERVER_NEW_MASTER_KEY": new})
        finally:
            running.stop()
        assert (busy.returncode, busy.stdout) == (2, "")
        assert re.fullmatch(r"ossutil-server: [1-9]\d* other ossutil-server sessions are "
                            r"connected to the database: stop every server process first\n",
                            busy.stderr), busy.stderr
        missing = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                 env={**base_env, "OSS_SERVER_MASTER_KEY": old})
        assert (missing.returncode, missing.stderr) == (2, (
            "ossutil-server: rotate-master-key: the master key comes from "
            "$OSS_SERVER_MASTER_KEY: give the new one in $OSS_SERVER_NEW_MASTER_KEY (base64 of "
            "32 bytes)\n"))
        done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env={**base_env, "OSS_SERVER_MASTER_KEY": old,
                                   "OSS_SERVER_NEW_MASTER_KEY": new})
        # the root key, the master-key check, the shared default certificate's key
        assert (done.returncode, done.stderr, done.stdout) == (0, "", (
            "ossutil-server: re-sealed 3 secrets with the new master key; set "
            "OSS_SERVER_MASTER_KEY to the value of OSS_SERVER_NEW_MASTER_KEY before the next "
            "start (the old key opens nothing any more)\n"))
        with psycopg.connect(url) as conn:
            sealed = [bytes(r[0]) for r in conn.execute("SELECT secret_sealed FROM access_keys")]
        old_box = SecretBox(base64.b64decode(old))
        with pytest.raises(SecretBoxError):
            old_box.decrypt(sealed[0], context=ROOT_AK.encode())
        stale = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve",
                                "--data-dir", str(tmp_path / "b"), "--port", "0", *store],
                               capture_output=True, text=True, timeout=30,
                               env={**base_env, "OSS_SERVER_MASTER_KEY": old})
        assert stale.returncode == 2
        server = start_server(tmp_path / "c", store, env={"OSS_SERVER_MASTER_KEY": new},
                              https=True)
        try:
            assert as_root(server, "PUT", "ops-pg-rotated").status == 200
            _tls_hello(server.https_port)
        finally:
            server.stop()


def test_the_fronts_answers_have_access_lines(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", ["--no-dns-verify", "--log-level", "info",
                                              "--log-format", "json"])
    domain = "front-log.example.com"
    try:
        client = oss2.Bucket(oss2.AuthV4(ROOT_AK, ROOT_SK), server.endpoint, "ops-front",
                             region=server.region)
        client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
        client.put_object("index.html", b"from memory\n")
        client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))
        before, _ = scrape(server)
        replies = [send(server.endpoint, "GET", "/index.html", headers={"Host": domain})
                   for _ in range(2)]
        assert [(r.status, r.body) for r in replies] == [(200, b"from memory\n")] * 2
        after, _ = scrape(server)
        assert after["ossutil_front_answered_total"] - before["ossutil_front_answered_total"] \
            == 2
        ids = [r.headers["x-oss-request-id"] for r in replies]
        wait_for(lambda: all(any(line["request_id"] == i for line in access_lines(server))
                             for i in ids))
    finally:
        server.stop()
    lines = [line for line in access_lines(server) if line["request_id"] in ids]
    assert [{k: v for k, v in line.items() if k not in ("time", "request_id")}
            for line in lines] == [{
                "level": "info", "logger": "ossutil.server.access",
                "message": "GET /index.html 200", "remote": "-", "method": "GET", "host": domain,
                "path": "/index.html", "operation": "-", "status": 200, "error_code": "-",
                "bytes_in": 0, "bytes_out": 12, "latency_ms": 0, "access_key_id": "-",
                "user_agent": "-", "via": "front"}] * 2


def test_the_systemd_unit_runs_a_command_line_serve_accepts() -> None:
    import shlex

    from ossutil.server.main import _parser

    unit = (Path(__file__).parents[2] / "contrib" / "ossutil-server.service").read_text()
    service = dict(line.split("=", 1) for line in unit.replace("\\\n", " ").splitlines()
                   if "=" in line and not line.startswith("#"))
    words = shlex.split(service["ExecStart"])
    assert words[0].endswith("/ossutil-server") and words[1] == "serve"
    args = _parser().parse_args(words[1:])
    assert (args.log_format, args.drain_timeout, args.https_port) == ("json", 30.0, 443)
    assert float(service["TimeoutStopSec"]) > args.drain_timeout + 5
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"


@pytest.mark.slow
@pytest.mark.postgres
def test_readiness_follows_the_database(tmp_path: Path) -> None:
    """Frozen: 503 within the probe's 2 s (not the store's 8 s bound); back: 200; gone: 503
    naming the store error. Liveness stays 200 throughout."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from tests.support import postgres
    from tests.support.tcp_proxy import TcpProxy

    def ready() -> tuple[int, dict[str, str]]:
        reply = send(server.endpoint, "GET", "/-/ready")
        return reply.status, json.loads(reply.body)

    with postgres.fresh_database() as url:
        params = conninfo_to_dict(url)
        proxy = TcpProxy((str(params.get("host") or "127.0.0.1"),
                          int(params.get("port") or 5432)))
        proxied = make_conninfo(url, host="127.0.0.1", port=str(proxy.port))
        server = start_server(tmp_path / "data", ["--store", "postgres", "--database-url",
                                                  proxied])
        try:
            wait_for(lambda: ready()[0] == 200)  # the caches' first poll follows the banner
            assert ready() == (200, {"status": "ready", "listeners": "up", "caches": "loaded",
                                     "store": "ok"})
            proxy.freeze()
            began = time.monotonic()
            assert ready() == (503, {"status": "not ready", "listeners": "up",
                                     "caches": "loaded",
                                     "store": "unavailable (no answer within 2 s)"})
            assert time.monotonic() - began < 4
            assert send(server.endpoint, "GET", "/-/health").status == 200
            proxy.thaw()
            proxy.close_all()
            wait_for(lambda: ready()[0] == 200, timeout=20)
            proxy.stop()  # the database's address refuses connections
            wait_for(lambda: ready()[0] == 503, timeout=20)
            assert ready() == (503, {"status": "not ready", "listeners": "up",
                                     "caches": "loaded",
                                     "store": "unavailable (ServiceUnavailable)"})
            assert send(server.endpoint, "GET", "/-/health").status == 200
            samples, _ = scrape(server)
            assert samples['ossutil_store_errors_total{code="ServiceUnavailable"}'] >= 1
        finally:
            server.stop()
            proxy.stop()
