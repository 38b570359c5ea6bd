"""A failed start leaves nothing behind (``server/preflight.py``): no data dir, no ``master.key``,
no root account, no secret printed. Each case runs the real ``ossutil-server serve`` as a process
and expects one line on stderr, exit status 2, nothing on stdout, and the file system (and the
database) as they were; then the corrected command starts and creates its state as usual."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support import postgres
from tests.support.server import start_server

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
SECRET = "TheRootSecretThatMustNotBePrinted1"


def serve(data_dir: Path, *extra: str, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("OSS_SERVER_")}
    environment.update({"OSS_SERVER_ROOT_ACCESS_KEY_ID": "LTAIrootkeyforfailedstart",
                        "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": SECRET, **(env or {})})
    return subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir",
                           str(data_dir), *extra], capture_output=True, text=True, timeout=60,
                          env=environment, cwd=cwd)


def refused(done: subprocess.CompletedProcess[str], line: str) -> None:
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"ossutil-server: {line}\n")
    assert SECRET not in done.stderr


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_port_taken_creates_no_data_dir(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", str(taken_port))
    refused(done, f"--port {taken_port}: cannot listen on 127.0.0.1:{taken_port}: address "
                  "already in use")
    assert not data.exists()


def test_https_port_taken_creates_no_data_dir(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", "0", "--https-port", str(taken_port))
    refused(done, f"--https-port {taken_port}: cannot listen on 127.0.0.1:{taken_port}: "
                  "address already in use")
    assert not data.exists()


def test_port_taken_with_workers_creates_no_data_dir(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", str(taken_port), "--workers", "2")
    refused(done, f"--port {taken_port}: cannot listen on 127.0.0.1:{taken_port}: address "
                  "already in use")
    assert not data.exists()


def test_default_data_dir_is_not_created_in_the_working_directory(tmp_path: Path,
                                                                  taken_port: int) -> None:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("OSS_SERVER_")}
    done = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve", "--port",
                           str(taken_port)], capture_output=True, text=True, timeout=60,
                          env=environment, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert list(tmp_path.iterdir()) == []  # no ./ossutil-data


def test_bad_master_key_in_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", "0", env={"OSS_SERVER_MASTER_KEY": "not-a-key"})
    refused(done, "OSS_SERVER_MASTER_KEY must be base64 (standard or URL-safe) of exactly 32 "
                  "bytes; the value set is not (it is not shown here).")
    assert "not-a-key" not in done.stderr
    assert not data.exists()


def test_bad_master_key_file_adds_nothing_to_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    data.mkdir(mode=0o700)
    (data / "master.key").write_text("too short\n")
    done = serve(data, "--port", "0")
    refused(done, f"the master key file {data / 'master.key'} must hold base64 of exactly 32 "
                  "bytes")
    assert sorted(entry.name for entry in data.iterdir()) == ["master.key"]


def test_unusable_certificate_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    (tmp_path / "key.pem").write_text("not a key\n")
    done = serve(data, "--port", "0", "--https-port", "0", "--tls-cert",
                 str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"ossutil-server: --tls-cert {tmp_path / 'cert.pem'} / "
                                  f"--tls-key {tmp_path / 'key.pem'}: not a PEM certificate "
                                  "chain and its unencrypted private key (")
    assert done.stderr.count("\n") == 1
    assert not data.exists()


def test_missing_zone_file_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", "0", "--dns-zone-file", str(tmp_path / "dns.zone"))
    refused(done, f"--dns-zone-file {tmp_path / 'dns.zone'}: No such file or directory")
    assert not data.exists()


def test_unreachable_database_leaves_no_data_dir_or_key(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    done = serve(data, "--port", "0", "--store", "postgres", "--database-url",
                 "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("ossutil-server: cannot connect to PostgreSQL at ")
    assert not data.exists()


@pytest.mark.postgres
def test_another_master_key_on_a_shared_database_leaves_nothing(tmp_path: Path) -> None:
    with postgres.fresh_database() as url:
        first = start_server(tmp_path / "first", ["--store", "postgres", "--database-url", url,
                                                  "--no-dns-verify"],
                             env={"OSS_SERVER_MASTER_KEY": KEY_A})
        first.stop()
        # another key from the environment: refused, and no data dir is left
        data = tmp_path / "second"
        done = serve(data, "--port", "0", "--store", "postgres", "--database-url", url,
                     env={"OSS_SERVER_MASTER_KEY": KEY_B})
        assert (done.returncode, done.stdout) == (2, "")
        assert "was set up with another master key" in done.stderr
        assert done.stderr.count("\n") == 1 and KEY_B not in done.stderr
        assert not data.exists()
        # no key at all: the key file generated for this start is removed with its data dir
        done = serve(data, "--port", "0", "--store", "postgres", "--database-url", url)
        assert done.returncode == 2 and "another master key" in done.stderr
        assert not data.exists()
        # an existing data dir keeps what it had, and gets no master.key
        data.mkdir()
        (data / "notes.txt").write_text("mine\n")
        done = serve(data, "--port", "0", "--store", "postgres", "--database-url", url)
        assert done.returncode == 2
        assert sorted(entry.name for entry in data.iterdir()) == ["notes.txt"]
        # the right key starts
        again = start_server(data, ["--store", "postgres", "--database-url", url,
                                    "--no-dns-verify"], env={"OSS_SERVER_MASTER_KEY": KEY_A})
        again.stop()


def test_a_corrected_start_creates_its_state(tmp_path: Path, taken_port: int) -> None:
    data = tmp_path / "ossutil-data"
    refused(serve(data, "--port", str(taken_port)),
            f"--port {taken_port}: cannot listen on 127.0.0.1:{taken_port}: address already "
            "in use")
    server = start_server(data, ["--no-dns-verify"])
    try:
        assert (data / "master.key").exists() and (data / "ossutil.db").exists()
    finally:
        server.stop()
