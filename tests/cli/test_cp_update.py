"""``cp -u`` (1.7's --update: overwrite only an older target, never ask) and, beyond 1.7, the
stderr line a non-interactive ``cp`` prints when its overwrite prompt went unanswered. Against
the real server; the -u sequence is compared with the Go binary's output when it is present."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, our_command, run_process
from tests.cli.test_cp import cp, done, report
from tests.support.server import RunningServer

from ossutil.client.client import OssClient


def unanswered(name: str, reason: str = "stdin is not a terminal and gave no answer") -> str:
    return (f'cp: "{name}" exists and was not overwritten: {reason}; nothing was copied to it. '
            "Use -f (--force) to overwrite without asking, or -u (--update) to copy only when "
            "the source is newer.\n")


def body(client: OssClient, bucket: str, key: str, tmp_path: Path) -> bytes:
    target = tmp_path / "fetched.bin"
    client.get_object(bucket, key, target)
    return target.read_bytes()


def set_age(path: Path, seconds_ago: float) -> None:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


def test_update_skips_a_newer_object_and_replaces_an_older_one(
        server: RunningServer, client: OssClient, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_bytes(b"hello world\n")
    set_age(local, 3600)  # older than the object about to be written
    assert report(cp(server, str(local), f"oss://{bucket}/f.txt", cwd=tmp_path)) == \
        done("upload 1 files")
    local.write_bytes(b"HELLO WORLD\n")
    set_age(local, 3600)
    # the object is newer: kept, no prompt, nothing on stderr
    kept = cp(server, str(local), f"oss://{bucket}/f.txt", "-u", cwd=tmp_path)
    assert (report(kept), kept.stderr) == (done("skip 1 files", skip=", Skip size: 12"), b"")
    assert body(client, bucket, "f.txt", tmp_path) == b"hello world\n"
    set_age(local, -3600)  # now the file is newer
    replaced = cp(server, str(local), f"oss://{bucket}/f.txt", "-u", cwd=tmp_path)
    assert (report(replaced), replaced.stderr) == (done("upload 1 files"), b"")
    assert body(client, bucket, "f.txt", tmp_path) == b"HELLO WORLD\n"
    # download: the local file (an hour ahead) is newer than the object: kept
    kept_file = cp(server, f"oss://{bucket}/f.txt", str(local), "-u", cwd=tmp_path)
    assert report(kept_file) == done("skip 1 objects", skip=", Skip size: 12")
    set_age(local, 7200)
    fetched = cp(server, f"oss://{bucket}/f.txt", str(local), "-u", cwd=tmp_path)
    assert report(fetched) == done("download 1 objects")
    # copy: a target that does not exist is copied, then (same second or older source) kept
    assert report(cp(server, f"oss://{bucket}/f.txt", f"oss://{bucket}/g.txt", "-u",
                     cwd=tmp_path)) == done("copy 1 objects")
    assert report(cp(server, f"oss://{bucket}/f.txt", f"oss://{bucket}/g.txt", "-u",
                     cwd=tmp_path)) == done("skip 1 objects", skip=", Skip size: 12")


def test_unanswered_prompt_says_nothing_was_copied(server: RunningServer, client: OssClient,
                                                   bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_bytes(b"hello world\n")
    assert cp(server, str(local), f"oss://{bucket}/f.txt", cwd=tmp_path).code == 0
    local.write_bytes(b"changed one\n")
    outcome = cp(server, str(local), f"oss://{bucket}/f.txt", cwd=tmp_path)
    prompt = f'\rcp: overwrite "oss://{bucket}/f.txt"(y or N)? '
    assert report(outcome) == prompt + done("skip 1 files", skip=", Skip size: 12")
    assert outcome.stderr.decode() == unanswered(f"oss://{bucket}/f.txt")
    assert body(client, bucket, "f.txt", tmp_path) == b"hello world\n"
    answered = cp(server, str(local), f"oss://{bucket}/f.txt", cwd=tmp_path, stdin=b"no\n")
    assert answered.stderr.decode() == unanswered(
        f"oss://{bucket}/f.txt", "the answer read from stdin was 'no'")
    # a yes from the pipe overwrites, and stderr stays empty
    yes = cp(server, str(local), f"oss://{bucket}/f.txt", cwd=tmp_path, stdin=b"y\n")
    assert (report(yes), yes.stderr) == (prompt + done("upload 1 files"), b"")
    # download over an existing file
    back = cp(server, f"oss://{bucket}/f.txt", str(local), cwd=tmp_path)
    assert back.stderr.decode() == unanswered(str(local))


@pytest.mark.slow
def test_update_matches_the_go_binary(server: RunningServer, bucket: str, tmp_path: Path,
                                      go_binary: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp_path)}
    common = ["-e", server.endpoint, "-i", server.access_key_id, "-k",
              server.access_key_secret, "-c", str(tmp_path / "none.cfg")]

    def sequence(command: list[str], name: str) -> list[str]:
        work = tmp_path / name
        (work / "dir").mkdir(parents=True)
        (work / "dir" / "a").write_bytes(b"a\n")
        local = work / "f.txt"
        local.write_bytes(b"one\n")
        set_age(local, 3600)

        def run(*argv: str) -> str:
            outcome: Outcome = run_process([*command, "cp", *argv, *common], cwd=work, env=env)
            return report(outcome)

        key = f"oss://{bucket}/{name}"
        steps = [run("f.txt", f"{key}/f.txt"), run("f.txt", f"{key}/f.txt", "-u")]
        set_age(local, -3600)
        steps += [run("f.txt", f"{key}/f.txt", "-u"), run(f"{key}/f.txt", "f.txt", "-u")]
        set_age(local, 7200)
        steps += [run(f"{key}/f.txt", "f.txt", "-u"),
                  run(f"{key}/f.txt", f"{key}/g.txt", "-u"),
                  run(f"{key}/f.txt", f"{key}/g.txt", "-u"),
                  run("dir", f"{key}/dir/", "-r", "-u"), run("dir", f"{key}/dir/", "-r", "-u")]
        set_age(work / "dir" / "a", -3600)  # newer than its object: kept
        steps.append(run(f"{key}/dir/", "dir", "-r", "-u"))
        set_age(work / "dir" / "a", 3600)  # older: downloaded
        steps.append(run(f"{key}/dir/", "dir", "-r", "-u"))
        return [re.sub(r"average speed \d+", "average speed N", step) for step in steps]

    assert sequence(our_command(), "ours") == sequence([str(go_binary)], "go")
