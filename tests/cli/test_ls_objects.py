"""``ossutil ls oss://bucket[/prefix]``: objects as ossutil 1.7.19 lists them, against the real
server; the same command lines through the Go binary give the same stdout and exit status
(slow, skipped without the binary)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from tests.cli.clitools import run_ours, run_process, server_options, shown
from tests.support.raw import signed
from tests.support.server import RunningServer

from ossutil.client import OssClient

KEYS = ("a/b.txt", "a/c d.txt", "a/sub/x", "k", "z")
HEADER = ("LastModifiedTime                   Size(B)  StorageClass   ETAG"
          "                                  ObjectName\n")


@pytest.fixture
def filled(client: OssClient, bucket: str, tmp_path: Path) -> str:
    for key in KEYS:
        (tmp_path / "body").write_bytes(key.encode())
        client.put_object(bucket, key, tmp_path / "body")
    return bucket


def line(bucket: str, key: str) -> str:
    etag = hashlib.md5(key.encode()).hexdigest().upper()
    return f"<time> {len(key):>12}      Standard   {etag}      oss://{bucket}/{key}\n"


def test_long_format(server: RunningServer, filled: str, tmp_path: Path) -> None:
    outcome = run_ours(["ls", f"oss://{filled}", *server_options(server, tmp_path)], cwd=tmp_path)
    assert shown(outcome) == (HEADER + "".join(line(filled, k) for k in KEYS)
                               + "Object Number is: 5\n\nT elapsed\nexit 0")
    outcome = run_ours(["ls", f"oss://{filled}/a", *server_options(server, tmp_path),
                        "--limited-num", "2"], cwd=tmp_path)
    assert shown(outcome) == (HEADER + line(filled, "a/b.txt") + line(filled, "a/c d.txt")
                               + "Object Number is: 2\n\nT elapsed\nexit 0")


def test_short_and_directory_formats(server: RunningServer, filled: str,
                                     tmp_path: Path) -> None:
    def ls(*argv: str) -> str:
        return shown(run_ours(["ls", *argv, *server_options(server, tmp_path)], cwd=tmp_path))

    assert ls(f"oss://{filled}/a/", "-s") == (
        f"oss://{filled}/a/b.txt\noss://{filled}/a/c d.txt\noss://{filled}/a/sub/x\n"
        "Object Number is: 3\n\nT elapsed\nexit 0")
    assert ls(f"oss://{filled}", "-d") == (
        f"oss://{filled}/k\noss://{filled}/z\noss://{filled}/a/\n"
        "Object and Directory Number is: 3\n\nT elapsed\nexit 0")
    assert ls(f"oss://{filled}/nothing") == "Object Number is: 0\n\nT elapsed\nexit 0"
    assert ls(f"oss://{filled}", "--marker", "a/sub/x", "-s") == (
        f"oss://{filled}/k\noss://{filled}/z\nObject Number is: 2\n\nT elapsed\nexit 0")


def test_errors(server: RunningServer, bucket_name: str, filled: str, tmp_path: Path) -> None:
    def ls(*argv: str) -> str:
        return shown(run_ours(["ls", *argv, *server_options(server, tmp_path)], cwd=tmp_path))

    assert ls(f"oss://{bucket_name}-none/p") == (
        "Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchBucket, "
        'ErrorMessage="The specified bucket does not exist.", RequestId=R, Ec=0015-00000101, '
        f"Bucket={bucket_name}-none, Object=p\nexit 1")
    assert ls(f"oss://{filled}", "--include", "*.txt") == (
        "Error: --include is not supported by this ossutil's ls\nexit 1")
    assert ls("oss://AB") == ("Error: bucket name AB len is between [3-63],now is 2\nexit 1")


def start_uploads(server: RunningServer, bucket: str, *keys: str) -> list[str]:
    """InitiateMultipartUpload for each key (raw signed requests); the upload ids."""
    ids = []
    for key in keys:
        reply = signed(server.endpoint, server.access_key_id, server.access_key_secret, "POST",
                       bucket, key=key, query=[("uploads", "")])
        found = re.search(r"<UploadId>([0-9A-F]+)</UploadId>", reply.text)
        assert reply.status == 200 and found, reply.text
        ids.append(found[1])
    return ids


def test_multipart_uploads(server: RunningServer, filled: str, tmp_path: Path) -> None:
    one, two, other = start_uploads(server, filled, "mp/one", "mp/two", "other")

    def ls(*argv: str) -> str:
        return shown(run_ours(["ls", *argv, *server_options(server, tmp_path)], cwd=tmp_path))

    assert ls(f"oss://{filled}/mp", "-m") == (
        "InitiatedTime                     UploadID                            ObjectName\n"
        f"<time>     {one}    oss://{filled}/mp/one\n"
        f"<time>     {two}    oss://{filled}/mp/two\n"
        "UploadID Number is: 2\n\nT elapsed\nexit 0")
    assert ls(f"oss://{filled}", "-a", "-s", "--limited-num", "6") == (
        "".join(f"oss://{filled}/{key}\n" for key in KEYS)
        + "Object Number is: 5\n"
        + "UploadID                            ObjectName\n"
        + f"{one}    oss://{filled}/mp/one\n"
        + "UploadID Number is: 1\n\nT elapsed\nexit 0")
    assert ls(f"oss://{filled}", "-m", "-d") == (
        "UploadID                            ObjectName\n"
        f"{other}    oss://{filled}/other\n"
        "UploadID Number is: 1\n\nT elapsed\nexit 0")


ARGVS = [["{b}"], ["{b}/a"], ["{b}/a/", "-s"], ["{b}", "-d"], ["{b}/a/", "-d"],
         ["{b}/nothing"], ["{b}/nothing", "-d"], ["{b}", "--limited-num", "2"],
         ["{b}", "-d", "--limited-num", "1"], ["{b}", "--limited-num", "0"],
         ["{b}", "--marker", "a/sub/x"], ["{b}-none"], ["oss://AB"],
         ["{b}", "-m"], ["{b}/mp", "-a"], ["{b}", "-m", "-s"], ["{b}/mp", "-m", "-d"],
         ["{b}", "-a", "--limited-num", "6"], ["{b}", "-a", "-d"],
         ["{b}", "-m", "--marker", "mp/one"], ["{b}/zz", "-a"]]


@pytest.mark.slow
def test_same_as_go(server: RunningServer, filled: str, tmp_path: Path,
                    go_binary: Path) -> None:
    start_uploads(server, filled, "mp/one", "mp/two", "mp/one", "other")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    for argv in ARGVS:
        words = [w.format(b=f"oss://{filled}") for w in argv]
        ours = run_ours(["ls", *words, *server_options(server, tmp_path)], cwd=tmp_path)
        go = run_process([go_binary, "ls", *words, *server_options(server, tmp_path)], cwd=tmp_path,
                         env=env)
        assert shown(ours) == shown(go), words


@pytest.mark.slow
def test_pages_past_1000_objects_as_go_does(server: RunningServer, client: OssClient,
                                           bucket: str, tmp_path: Path,
                                           go_binary: Path) -> None:
    (tmp_path / "body").write_bytes(b"x")
    for i in range(1003):
        client.put_object(bucket, f"p/{i:05d}", tmp_path / "body")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    for argv in (["-s"], ["--limited-num", "1001"], ["-d"]):
        ours = run_ours(["ls", f"oss://{bucket}/p/", *argv, *server_options(server, tmp_path)],
                        cwd=tmp_path)
        go = run_process([go_binary, "ls", f"oss://{bucket}/p/", *argv,
                          *server_options(server, tmp_path)], cwd=tmp_path, env=env)
        assert shown(ours) == shown(go), argv
    assert "Object Number is: 1003\n" in run_ours(
        ["ls", f"oss://{bucket}", "-s", *server_options(server, tmp_path)], cwd=tmp_path).text
