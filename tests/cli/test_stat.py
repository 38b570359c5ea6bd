"""``ossutil stat``: a bucket's or an object's meta information as ossutil 1.7.19 prints it,
against the real server; the same command lines through the Go binary give the same stdout and
exit status (slow, skipped without the binary). Every command has its help page."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.clitools import run_ours, run_process, server_options, shown
from tests.support.server import RunningServer

from ossutil.cli.main import COMMANDS
from ossutil.cli.stat import canonical_header
from ossutil.client import OssClient


@pytest.fixture
def obj(client: OssClient, bucket: str, tmp_path: Path) -> str:
    (tmp_path / "body").write_bytes(b"hello")
    client.put_object(bucket, "m", tmp_path / "body")
    return bucket


def test_bucket(server: RunningServer, obj: str, tmp_path: Path) -> None:
    outcome = run_ours(["stat", f"oss://{obj}", *server_options(server, tmp_path)], cwd=tmp_path)
    assert shown(outcome, owner=True) == (
        f"Name                  : {obj}\n"
        "Location              : oss-cn-hangzhou\n"
        "CreationDate          : <time>\n"
        "ExtranetEndpoint      : oss-cn-hangzhou.localhost\n"
        "IntranetEndpoint      : oss-cn-hangzhou-internal.localhost\n"
        "ACL                   : private\n"
        "Owner                 : <owner>\n"
        "StorageClass          : Standard\n"
        "RedundancyType        : LRS\n"
        "TransferAcceleration  : Disabled\n"
        "CrossRegionReplication: Disabled\n"
        "AccessMonitor         : Disabled\n"
        "\nT elapsed\nexit 0")


def test_object(server: RunningServer, obj: str, tmp_path: Path) -> None:
    outcome = run_ours(["stat", f"oss://{obj}/m", *server_options(server, tmp_path)], cwd=tmp_path)
    assert shown(outcome, owner=True) == (
        "ACL                   : default\n"
        "Accept-Ranges         : bytes\n"
        "Content-Length        : 5\n"
        "Content-Md5           : XUFAKrxLKna5cZ2REBfFkg==\n"
        "Content-Type          : application/octet-stream\n"
        "Etag                  : 5D41402ABC4B2A76B9719D911017C592\n"
        "Last-Modified         : <time>\n"
        "Owner                 : <owner>\n"
        "X-Oss-Hash-Crc64ecma  : <owner>\n"  # masked as any long number; checked below
        "X-Oss-Object-Type     : Normal\n"
        "X-Oss-Storage-Class   : Standard\n"
        "\nT elapsed\nexit 0")
    assert "X-Oss-Hash-Crc64ecma  : 11177612005948864433\n" in outcome.text  # of b"hello"


def test_errors(server: RunningServer, obj: str, tmp_path: Path) -> None:
    def stat(*argv: str) -> str:
        return shown(run_ours(["stat", *argv, *server_options(server, tmp_path)], cwd=tmp_path),
                     owner=True)

    assert stat(f"oss://{obj}/nokey") == (
        "Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchKey, "
        'ErrorMessage="The specified key does not exist.", RequestId=R, Ec=0026-00000001, '
        f"Bucket={obj}, Object=nokey\nexit 1")
    assert stat("oss://") == "Error: invalid cloud url: oss://, miss bucket\nexit 1"
    assert stat(f"oss://{obj}/m", "--version-id", "v1") == (
        "Error: --version-id is not supported by this ossutil's stat\nexit 1")


@pytest.mark.parametrize(("name", "canonical"), [
    ("x-oss-meta-a", "X-Oss-Meta-A"), ("ETAG", "Etag"), ("content-md5", "Content-Md5"),
    ("x oss", "x oss"), ("a--b", "A--B")])
def test_canonical_header(name: str, canonical: str) -> None:
    assert canonical_header(name) == canonical


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_a_help_page(command: str, tmp_path: Path) -> None:
    outcome = run_ours(["help", command], cwd=tmp_path)
    assert outcome.code == 0 and outcome.text.startswith("SYNOPSIS\n\n    "), outcome


@pytest.mark.slow
def test_same_as_go(server: RunningServer, client: OssClient, obj: str, tmp_path: Path,
                    go_binary: Path) -> None:
    (tmp_path / "body").write_bytes(b"with metadata")
    client.put_object(obj, "meta", tmp_path / "body", content_type="text/plain", headers=[
        ("x-oss-meta-averyveryverylongname-abcdefgh", "v1"), ("Cache-Control", "no-cache"),
        ("x-oss-meta-b", "2")])
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    for words in ([f"oss://{obj}"], [f"oss://{obj}/m"], [f"oss://{obj}/meta"],
                  [f"oss://{obj}/nokey"], [f"oss://{obj}-none"], [f"oss://{obj}-none/k"],
                  ["bkt"], ["oss://"], ["oss:///k"], ["oss://AB/k"],
                  [f"oss://{obj}/m", "--method", "get"], []):
        ours = run_ours(["stat", *words, *server_options(server, tmp_path)], cwd=tmp_path)
        go = run_process([go_binary, "stat", *words, *server_options(server, tmp_path)],
                         cwd=tmp_path, env=env)
        assert shown(ours, owner=True) == shown(go, owner=True), words
