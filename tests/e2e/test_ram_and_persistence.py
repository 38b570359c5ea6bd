"""RAM users allowed and denied per action (via the SDKs), live user changes, restarts, races."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.dns_server import DnsServer
from tests.support.sdk import ADAPTERS, SdkError
from tests.support.server import RunningServer, start_server

ACTIONS = ["CreateCnameToken", "GetCnameToken", "PutCname", "ListCname", "DeleteCname"]


def admin(data_dir: Path, *args: str, policy: dict[str, Any] | None = None,
          tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ossutil.server.main", "user", *args,
               "--data-dir", str(data_dir)]
    if policy is not None:
        assert tmp is not None
        path = tmp / f"policy-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(policy))
        command += ["--policy-file", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def create_user(server: RunningServer, name: str, policy: dict[str, Any] | None,
                tmp: Path) -> tuple[str, str]:
    result = admin(server.data_dir, "create", name, policy=policy, tmp=tmp)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["user"] == name
    return created["access_key_id"], created["access_key_secret"]


def eventually(check: Any, timeout: float = 2.0) -> Any:
    """Retry ``check`` until it stops raising (live changes must land within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, SdkError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def run_action(client: Any, action: str, domain: str) -> None:
    if action == "CreateCnameToken":
        client.create_token(domain)
    elif action == "GetCnameToken":
        client.get_token(domain)
    elif action == "PutCname":
        client.put_cname(domain)
    elif action == "ListCname":
        client.list_cname()
    else:
        client.delete_cname(domain)


def allow_only(action: str, bucket: str) -> dict[str, Any]:
    return {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": f"oss:{action}", "Resource": f"acs:oss:*:*:{bucket}"}]}


@pytest.mark.parametrize("kind", ["oss2", "oss-v2"])
@pytest.mark.parametrize("action", ACTIONS)
def test_ram_user_allowed_and_denied_per_action(server: RunningServer, dns: DnsServer,
                                                tmp_path: Path, kind: str, action: str,
                                                bucket_name: str, domain: str) -> None:
    root = ADAPTERS[kind](server.endpoint, server.access_key_id, server.access_key_secret,
                          bucket_name, "v4", server.region)
    root.create_bucket()
    dns.txt(f"_dnsauth.{domain}", root.create_token(domain).token)
    ak, sk = create_user(server, f"u-{bucket_name}", allow_only(action, bucket_name), tmp_path)
    user = ADAPTERS[kind](server.endpoint, ak, sk, bucket_name, "v4", server.region)
    eventually(lambda: run_action(user, action, domain))
    for other in ACTIONS:
        if other == action:
            continue
        with pytest.raises(SdkError) as denied:
            run_action(user, other, domain)
        assert (denied.value.status, denied.value.code) == (403, "AccessDenied"), other
    root.delete_cname(domain)


def test_explicit_deny_wins_and_live_policy_changes(server: RunningServer, tmp_path: Path,
                                                    bucket_name: str, domain: str) -> None:
    root = ADAPTERS["oss2"](server.endpoint, server.access_key_id, server.access_key_secret,
                            bucket_name, "v1", server.region)
    root.create_bucket()
    name = f"deny-{bucket_name}"
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "oss:*", "Resource": "acs:oss:*:*:*"},
        {"Effect": "Deny", "Action": "oss:ListCname", "Resource": f"acs:oss:*:*:{bucket_name}"},
    ]}
    ak, sk = create_user(server, name, policy, tmp_path)
    user = ADAPTERS["oss2"](server.endpoint, ak, sk, bucket_name, "v1", server.region)
    eventually(lambda: user.create_token(domain))
    with pytest.raises(SdkError) as denied:
        user.list_cname()
    assert (denied.value.status, denied.value.code, denied.value.ec) == (
        403, "AccessDenied", "0003-00000201")

    path = tmp_path / "allow-all.json"
    path.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "oss:*", "Resource": "*"}]}))
    changed = admin(server.data_dir, "policy", name, "--policy-file", str(path))
    assert changed.returncode == 0, changed.stderr
    started = time.monotonic()
    eventually(lambda: user.list_cname())
    assert time.monotonic() - started < 1.5

    listed = admin(server.data_dir, "list")
    assert any(json.loads(line)["user"] == name for line in listed.stdout.splitlines())
    assert sk not in listed.stdout

    assert admin(server.data_dir, "delete", name).returncode == 0

    def gone() -> None:
        try:
            user.list_cname()
        except SdkError as exc:
            assert exc.code == "InvalidAccessKeyId"
        else:
            raise AssertionError("the deleted user's key still works")

    eventually(gone)


def test_user_commands_report_errors(server: RunningServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2", "Statement": []}')
    result = admin(server.data_dir, "create", "bad-policy-user", "--policy-file", str(bad))
    assert result.returncode != 0 and "invalid policy" in result.stderr
    missing = admin(server.data_dir, "delete", "nobody-at-all")
    assert missing.returncode != 0 and "no such user: nobody-at-all" in missing.stderr


def test_restart_keeps_everything(tmp_path: Path, dns: DnsServer, bucket_name: str,
                                  domain: str) -> None:
    data = tmp_path / "data"
    first = start_server(data, ["--dns-server", dns.nameserver])
    try:
        client = ADAPTERS["oss2"](first.endpoint, first.access_key_id, first.access_key_secret,
                                  bucket_name, "v1", first.region)
        client.create_bucket()
        token = client.create_token(domain)
        dns.txt(f"_dnsauth.{domain}", token.token)
        client.put_cname(domain)
        before = client.list_cname()
    finally:
        assert first.stop() == 0  # clean shutdown on SIGTERM
    second = start_server(data, ["--dns-server", dns.nameserver])
    try:
        client = ADAPTERS["oss-v2"](second.endpoint, second.access_key_id,
                                    second.access_key_secret, bucket_name, "v4", second.region)
        assert client.list_cname() == before
        assert client.get_token(domain) == token
    finally:
        second.stop()


def test_generated_root_key_is_saved_with_mode_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = start_server(data, ["--no-dns-verify"],
                           env={"OSS_SERVER_ROOT_ACCESS_KEY_ID": "",
                                "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": ""})
    try:
        saved = json.loads((data / "root-credentials.json").read_text())
        assert (data / "root-credentials.json").stat().st_mode & 0o777 == 0o600
        assert (data / "master.key").stat().st_mode & 0o777 == 0o600
        assert any(saved["access_key_secret"] in line for line in running.output)
        deadline = time.monotonic() + 5  # stderr is read by its own thread: give it a moment
        while not any("--no-dns-verify" in line for line in running.errors):
            assert time.monotonic() < deadline, running.errors
            time.sleep(0.02)
        client = ADAPTERS["oss2"](running.endpoint, saved["access_key_id"],
                                  saved["access_key_secret"], "generated-key", "v1",
                                  running.region)
        client.create_bucket()
        assert client.list_bucket_names() == ["generated-key"]
    finally:
        running.stop()
    again = start_server(data, ["--no-dns-verify"])
    try:  # printed once: a restart does not print the secret again
        assert not any(saved["access_key_secret"] in line for line in again.output)
    finally:
        again.stop()


def test_racing_binds_from_two_buckets_leave_one_owner(unverified_server: RunningServer,
                                                       bucket_name: str) -> None:
    """The one-domain-one-bucket rule holds under concurrency (a database constraint)."""
    server = unverified_server
    domains = [f"race{i}-{bucket_name}.example.net" for i in range(6)]
    clients = []
    for suffix in ("a", "b", "c"):
        client = ADAPTERS["oss2"](server.endpoint, server.access_key_id,
                                  server.access_key_secret, f"{bucket_name}-{suffix}", "v1",
                                  server.region)
        client.create_bucket()
        clients.append(client)
    # No DNS proof on this server, so the race is purely between the writes.
    outcomes: dict[tuple[str, int], str] = {}

    def bind(index: int, client: Any, name: str) -> None:
        try:
            client.put_cname(name)
            outcomes[(name, index)] = "ok"
        except SdkError as exc:
            outcomes[(name, index)] = exc.code

    threads = [threading.Thread(target=bind, args=(i, c, d))
               for d in domains for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in domains:
        results = sorted(outcomes[(name, i)] for i in range(3))
        assert results == ["CnameAlreadyExists", "CnameAlreadyExists", "ok"], (name, results)
        owners = [c for c in clients if any(e.domain == name for e in c.list_cname()[2])]
        assert len(owners) == 1


def test_start_up_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """What an operator gets wrong at start is said in one line on stderr, exit status 2,
    never a traceback."""
    import socket

    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = [
            (["--port", str(port)], "address already in use"),
            (["--dns-server", "not-an-ip"], "ossutil-server: --dns-server: "),
            (["--data-dir", "/proc/no-such-dir/data"], "No such file or directory"),
            (["--tls-cert", str(tmp_path / "garbage.pem")],
             "--tls-cert and --tls-key go together"),
            (["--tls-cert", "a", "--tls-key", "b"], "--tls-cert/--tls-key need --https-port"),
            (["--https-port", "0", "--tls-cert", str(tmp_path / "garbage.pem"), "--tls-key",
              str(tmp_path / "garbage.pem")], "not a PEM certificate chain and its unencrypted"),
            (["--store", "postgres", "--database-url", "postgresql://u@127.0.0.1:1/x"],
             "cannot connect to PostgreSQL"),
        ]
        for extra, message in cases:
            argv = ["serve", "--data-dir", str(tmp_path / "data"), "--port", "0", *extra]
            done = subprocess.run([sys.executable, "-m", "ossutil.server.main", *argv],
                                  capture_output=True, text=True, timeout=30)
            assert done.returncode == 2, (extra, done.stderr)
            assert message in done.stderr, (extra, done.stderr)
            assert "Traceback" not in done.stderr, (extra, done.stderr)
            assert done.stderr.count("\n") == 1, (extra, done.stderr)
