"""``--errors-to-stderr`` (beyond 1.7, any command): the ``Error: ...`` line goes to stderr,
stdout keeps only what a success would print, the exit status stays 1. Without the flag the
line stays on stdout, as ossutil 1.7 prints it (the golden files pin that)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.server import RunningServer

FLAG = "--errors-to-stderr"


def ours(server: RunningServer, tmp_path: Path, *argv: str) -> Outcome:
    return run_ours([*argv, "-e", server.endpoint, "-i", server.access_key_id, "-k",
                     server.access_key_secret, "-c", str(tmp_path / "none.cfg")], cwd=tmp_path)


def masked(data: bytes) -> str:
    return re.sub(r"RequestId=[0-9A-F]{24}", "RequestId=R", data.decode())


def test_service_error_moves_to_stderr(server: RunningServer, tmp_path: Path,
                                       bucket_name: str) -> None:
    argv = ("bucket-cname", "--method", "get", f"oss://{bucket_name}")
    plain = ours(server, tmp_path, *argv)
    moved = ours(server, tmp_path, *argv, FLAG)
    line = ('Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchBucket, '
            'ErrorMessage="The specified bucket does not exist.", RequestId=R, '
            'Ec=0015-00000101\n')
    assert (plain.code, masked(plain.stdout), plain.stderr) == (1, line, b"")
    assert (moved.code, moved.stdout, masked(moved.stderr)) == (1, b"", line)


@pytest.mark.parametrize("argv", [
    ("bucket-cname", "--method", "get", "bucket"),          # local check: not a cloud url
    ("mb", "oss://x"),                                        # bucket name too short
    ("cp", "missing.txt", "oss://some-bucket/k"),             # local file missing
    ("bucket-cname", "--method", "get", "oss://b", "--retry-times", "3"),  # unsupported option
])
def test_local_errors_move_to_stderr(server: RunningServer, tmp_path: Path,
                                     argv: tuple[str, ...]) -> None:
    plain = ours(server, tmp_path, *argv)
    moved = ours(server, tmp_path, FLAG, *argv)  # position is free, as for any option
    assert plain.code == moved.code == 1
    assert plain.stdout.startswith(b"Error: ") and plain.stderr == b""
    assert (moved.stdout, moved.stderr) == (b"", plain.stdout)


def test_success_is_unchanged(server: RunningServer, tmp_path: Path, bucket: str) -> None:
    argv = ("bucket-cname", "--method", "get", f"oss://{bucket}")
    plain = ours(server, tmp_path, *argv)
    moved = ours(server, tmp_path, *argv, FLAG)
    elapsed = re.compile(rb"\n\d+\.\d{6}\(s\) elapsed\n$")
    assert plain.code == moved.code == 0 and moved.stderr == b""
    assert elapsed.sub(b"", moved.stdout) == elapsed.sub(b"", plain.stdout)
    assert f"<Bucket>{bucket}</Bucket>".encode() in moved.stdout


def test_only_the_full_spelling_is_an_option(server: RunningServer, tmp_path: Path) -> None:
    # beyond options take no prefixes, so no 1.7 prefix changes meaning
    prefix = ours(server, tmp_path, "bucket-cname", "--method", "get", "oss://b",
                  "--errors-to")
    unknown = ours(server, tmp_path, "bucket-cname", "--method", "get", "oss://b",
                   "--no-such-option")
    assert prefix.code == unknown.code != 0
    assert prefix.stdout.replace(b"--errors-to", b"WORD") == \
        unknown.stdout.replace(b"--no-such-option", b"WORD")
    assert b"--errors-to" in prefix.stdout
