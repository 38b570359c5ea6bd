"""Credentials from the environment, ``--profile`` and ``$HOME`` (beyond 1.7), against the real
server: the chain is command line > OSS_* variables > config file > default; with none of the
variables set, a 1.7 command line prints what it printed (the golden files pin that too)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.server import RunningServer

from ossutil.client.config import load_config, resolve


def env_for(home: Path, **variables: str) -> dict[str, str]:
    return {"LANG": "C", "PATH": "/usr/bin:/bin", "HOME": str(home), **variables}


def credentials(server: RunningServer) -> dict[str, str]:
    return {"OSS_ENDPOINT": server.endpoint, "OSS_ACCESS_KEY_ID": server.access_key_id,
            "OSS_ACCESS_KEY_SECRET": server.access_key_secret}


def list_cname(bucket: str, tmp_path: Path, env: dict[str, str], *extra: str) -> Outcome:
    return run_ours(["bucket-cname", "--method", "get", f"oss://{bucket}", *extra],
                    cwd=tmp_path, env=env)


def listed(outcome: Outcome, bucket: str) -> bool:
    return outcome.code == 0 and f"<Bucket>{bucket}</Bucket>" in outcome.text


def write_config(path: Path, endpoint: str, key_id: str, secret: str, extra: str = "") -> Path:
    path.write_text(f"[Credentials]\nlanguage=EN\nendpoint={endpoint}\naccessKeyID={key_id}\n"
                    f"accessKeySecret={secret}\n{extra}")
    return path


def test_environment_alone_needs_no_config_file(server: RunningServer, bucket: str,
                                                tmp_path: Path) -> None:
    outcome = list_cname(bucket, tmp_path, env_for(tmp_path, **credentials(server)))
    assert listed(outcome, bucket), outcome
    assert outcome.stderr == b""


def test_region_from_the_environment_signs_v4(server: RunningServer, bucket: str,
                                              tmp_path: Path) -> None:
    env = env_for(tmp_path, **credentials(server), OSS_REGION=server.region)
    assert listed(list_cname(bucket, tmp_path, env, "--sign-version", "v4"), bucket)
    missing = list_cname(bucket, tmp_path, env_for(tmp_path, **credentials(server)),
                         "--sign-version", "v4")
    assert (missing.code, missing.text) == \
        (1, "Error: In the v4 signature scenario, please enter the region\n")


def test_flags_win_over_the_environment(server: RunningServer, bucket: str,
                                        tmp_path: Path) -> None:
    env = env_for(tmp_path, **{**credentials(server), "OSS_ACCESS_KEY_SECRET": "wrong-secret"})
    refused = list_cname(bucket, tmp_path, env)
    assert refused.code == 1 and "ErrorCode=SignatureDoesNotMatch" in refused.text
    assert listed(list_cname(bucket, tmp_path, env, "-k", server.access_key_secret), bucket)


def test_environment_wins_over_the_config_file(server: RunningServer, bucket: str,
                                               tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", "http://127.0.0.1:1", "nobody", "nothing",
                          f"[Bucket-Endpoint]\n{bucket}=http://127.0.0.1:1\n")
    env = env_for(tmp_path, **credentials(server))
    assert listed(list_cname(bucket, tmp_path, env, "-c", str(config)), bucket)
    # without the variables the file's (unreachable) endpoint is used, as 1.7 does
    plain = list_cname(bucket, tmp_path, env_for(tmp_path), "-c", str(config))
    assert (plain.code, plain.text) == (1, (
        f'Error: Get "http://127.0.0.1:1/{bucket}/?cname": dial tcp 127.0.0.1:1: connect: '
        "connection refused\n"))


def test_session_token_and_every_variable_reach_the_settings(tmp_path: Path) -> None:
    environ = {"OSS_ACCESS_KEY_ID": "id", "OSS_ACCESS_KEY_SECRET": "secret",
               "OSS_SESSION_TOKEN": "token", "OSS_REGION": "cn-shanghai",
               "OSS_ENDPOINT": "http://env:9000"}
    config = load_config(str(write_config(tmp_path / "cfg", "http://file:1", "fid", "fsecret",
                                          "region=cn-beijing\n[Bucket-Cname]\nb=cdn.example\n")))
    settings = resolve({"accessKeyID": "flag-id", "endpoint": ""}, config, environ)
    assert settings.values == {"accessKeyID": "flag-id", "accessKeySecret": "secret",
                               "stsToken": "token", "region": "cn-shanghai",
                               "endpoint": "http://env:9000", "language": "EN"}
    assert settings.endpoint_for("b") == ("http://env:9000", False)  # as -e: per-bucket dropped
    # empty variables count as unset
    unset = resolve({}, config, {name: "" for name in environ})
    assert unset.get("endpoint") == "http://file:1" and unset.get("region") == "cn-beijing"
    assert unset.endpoint_for("b") == ("cdn.example", True)


def test_home_locates_the_default_config_file(server: RunningServer, bucket: str,
                                              tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home / ".ossutilconfig", server.endpoint, server.access_key_id,
                 server.access_key_secret)
    assert listed(list_cname(bucket, tmp_path, env_for(home)), bucket)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = list_cname(bucket, tmp_path, env_for(empty))
    assert (missing.code, missing.text) == (1, (
        f"Error: Read config file error: open {empty}/.ossutilconfig: no such file or "
        'directory, please try "help config" to set configuration or use "--config-file" '
        "option\n"))


def test_profile_selects_a_section(server: RunningServer, bucket: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", "http://127.0.0.1:1", "nobody", "nothing", (
        f"[profile local]\nendpoint={server.endpoint}\naccessKeyID={server.access_key_id}\n"
        f"accessKeySecret={server.access_key_secret}\n"))
    env = env_for(tmp_path)
    assert listed(list_cname(bucket, tmp_path, env, "-c", str(config), "--profile", "local"),
                  bucket)
    assert list_cname(bucket, tmp_path, env, "-c", str(config)).code == 1  # [Credentials]
    missing = list_cname(bucket, tmp_path, env, "-c", str(config), "--profile", "other")
    assert (missing.code, missing.text) == (1, (
        "Error: Read config file error: Unable to find profile other, please try \"help "
        'config" to set configuration or use "--config-file" option\n'))


@pytest.mark.parametrize("command", ["ls", "stat", "mb"])
def test_profile_is_accepted_by_every_command(server: RunningServer, tmp_path: Path,
                                              command: str) -> None:
    config = write_config(tmp_path / "cfg", "http://127.0.0.1:1", "nobody", "nothing", (
        f"[profile p]\nendpoint={server.endpoint}\naccessKeyID={server.access_key_id}\n"
        f"accessKeySecret={server.access_key_secret}\n"))
    argv = {"ls": ["ls"], "stat": ["stat", "oss://no-such-bucket-xyz"],
            "mb": ["mb", "oss://profile-made-bucket"]}[command]
    outcome = run_ours([*argv, "-c", str(config), "--profile", "p"], cwd=tmp_path,
                       env=env_for(tmp_path))
    assert "does not support option" not in outcome.text
    assert "127.0.0.1:1" not in outcome.text  # the profile's endpoint was used
