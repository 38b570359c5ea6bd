"""The config file's parsing quirks and the precedence chain, as tables (reference §7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ossutil.client.config import (
    ConfigError,
    config_path,
    home_directory,
    load_config,
    parse_config,
    parse_int64,
    read_config_file,
    resolve,
)

# (file text, internal option -> expected value; None = absent)
PARSING = [
    ("[Credentials]\nendpoint=e\naccessKeyID=i\naccessKeySecret=k\n",
     {"endpoint": "e", "accessKeyID": "i", "accessKeySecret": "k"}),
    ("[Credentials]\r\nhost = e \r\n", {"endpoint": "e"}),  # CRLF, spaces, alias
    ("[Credentials]\n\tACCESS_KEY_ID\t=\ti\n", {"accessKeyID": "i"}),  # case, tabs
    ("[Credentials]\naccess-key = sec=ret\n", {"accessKeySecret": "sec=ret"}),  # first '='
    ("[Credentials]\nendpoint: e\n", {"endpoint": "e"}),  # ':' separator
    ("[Credentials]\nendpoint=e # note\n", {"endpoint": "e # note"}),  # no comments
    ("[Credentials]\n# endpoint=x\n", {"endpoint": None, "# endpoint": "x"}),  # junk key
    ("[Credentials]\nendpoint=a\nendpoint=b\n", {"endpoint": "b"}),  # same key: last wins
    ("[Credentials]\nendpoint=a\n[Credentials]\nendpoint=b\n", {"endpoint": "a"}),  # 1st section
    ("endpoint=x\n[Credentials]\n", {"endpoint": None}),  # before any section: ignored
    ("[ Credentials ]\nendpoint=e\n", {"endpoint": "e"}),  # brackets and spaces trimmed
    ("[Credentials]\n  [Default]\nendpoint=e\n", {"endpoint": "e"}),  # indented: not a section
    ("[Credentials]\nregion=cn-x\nsignVersion=v4\n", {"region": "cn-x", "signVersion": "v4"}),
    ("[Credentials]\nRegion=cn-x\n", {"region": None, "Region": "cn-x"}),  # exact name only
    ("[Credentials]\n[Default]\nUser-Agent=ua\nproxy_host=p\n",
     {"userAgent": "ua", "proxyHost": "p"}),
    ("[Credentials]\n[Default]\nloglevel=debug\n", {"loglevel": "debug"}),
    ("[Credentials]\n[Default]\nLogLevel=debug\n", {"loglevel": None}),  # exact case
    ("[Credentials]\nloglevel=info\n[Default]\nloglevel=debug\n", {"loglevel": "info"}),
]


@pytest.mark.parametrize(("text", "expected"), PARSING, ids=[repr(t[0]) for t in PARSING])
def test_config_file_parsing(text: str, expected: dict[str, str | None]) -> None:
    options = parse_config(text).options()
    for name, value in expected.items():
        assert options.get(name) == value, name


def test_sections_are_case_sensitive(tmp_path: Path) -> None:
    path = tmp_path / "c"
    path.write_text("[credentials]\nendpoint=e\n")
    with pytest.raises(ConfigError, match="^Unable to find Credentials$"):
        read_config_file(str(path))


@pytest.mark.parametrize(("content", "message"), [
    (None, "open {p}: no such file or directory"),
    ("dir", "read {p}: is a directory"),
    ("[Credentials]\nconnectTimeOut=x\n", 'error value of option "connectTimeOut", the value is: '
     "x in config file, which needs int64 type"),
    ("[Credentials]\n[Default]\nretry-times=1.5\n", 'error value of option "retryTimes", the value'
     " is: 1.5 in config file, which needs int64 type"),
    ("[Credentials]\nlanguage=fr\n", 'error value of option "language", the value is: fr in '
     "config file, which is not anyone of CH/EN"),
])
def test_config_errors_use_ossutils_words(tmp_path: Path, content: str | None,
                                          message: str) -> None:
    path = tmp_path / "c"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert str(info.value) == message.format(p=path)


def test_tilde_expands_from_the_user_database_only_at_the_start() -> None:
    assert config_path(None) == home_directory() + "/.ossutilconfig"
    assert config_path("~/x") == home_directory() + "/x"
    assert config_path("a/~/x") == "a/~/x"
    assert config_path("~x") == "~x"


CONFIG = parse_config(
    "[Credentials]\nendpoint=file-endpoint\naccessKeyID=file-id\naccessKeySecret=file-secret\n"
    "region=file-region\n[Default]\nconnect-timeout=30\n"
    "[Bucket-Endpoint]\nb1=b1-endpoint\nb2=b2-endpoint\n[Bucket-Cname]\nb2=static.example.com\n")

# (command line, config?, bucket, expected endpoint, is_cname, other expectations)
PRECEDENCE = [
    ({}, True, "other", "file-endpoint", False, {"accessKeyID": "file-id"}),
    ({"endpoint": "cli"}, True, "other", "cli", False, {}),
    ({}, True, "b1", "b1-endpoint", False, {}),  # Bucket-Endpoint over endpoint
    ({}, True, "b2", "static.example.com", True, {}),  # Bucket-Cname over Bucket-Endpoint
    ({"endpoint": "cli"}, True, "b2", "cli", False, {}),  # -e drops both sections
    ({"endpoint": ""}, True, "b1", "b1-endpoint", False, {}),  # empty = absent
    ({"accessKeyID": "cli-id"}, True, "x", "file-endpoint", False,
     {"accessKeyID": "cli-id", "accessKeySecret": "file-secret"}),
    ({"region": ""}, True, "x", "file-endpoint", False, {"region": "file-region"}),
    ({}, False, "x", "", False, {"accessKeyID": ""}),  # no file: nothing but defaults
]


@pytest.mark.parametrize(("cli", "with_file", "bucket", "endpoint", "is_cname", "more"),
                         PRECEDENCE)
def test_precedence_chain(cli: dict[str, str], with_file: bool, bucket: str, endpoint: str,
                          is_cname: bool, more: dict[str, str]) -> None:
    settings = resolve(cli, CONFIG if with_file else None)
    assert settings.endpoint_for(bucket) == (endpoint, is_cname)
    for name, value in more.items():
        assert settings.get(name) == value


def test_timeouts_default_to_ossutils_and_come_from_file_or_flag() -> None:
    assert resolve({}, None).int_value("connectTimeOut") == 120
    assert resolve({}, None).int_value("readTimeOut") == 1200
    assert resolve({}, CONFIG).int_value("connectTimeOut") == 30
    assert resolve({"connectTimeOut": "5"}, CONFIG).int_value("connectTimeOut") == 5


def test_flags_never_come_from_the_file() -> None:
    config = parse_config("[Credentials]\nforcePathStyle=true\nskipVerifyCert=true\n")
    settings = resolve({"forcePathStyle": False}, config)
    assert settings.flag("forcePathStyle") is False
    assert settings.flag("skipVerifyCert") is False


def test_environment_is_read_for_the_oss_variables_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond 1.7 (issue 13): the five OSS_* variables sit between the command line and the
    file; proxies and other clouds' variables are still not read."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                 "OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_ENDPOINT", "OSS_REGION"):
        monkeypatch.setenv(name, "from-env")
    settings = resolve({"region": "from-flag"}, None)
    assert settings.values == {"accessKeyID": "from-env", "accessKeySecret": "from-env",
                               "endpoint": "from-env", "region": "from-flag"}
    for name in ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_ENDPOINT", "OSS_REGION"):
        monkeypatch.delenv(name)
    assert resolve({}, None).values == {}


def test_settings_repr_masks_secrets() -> None:
    text = repr(resolve({"accessKeySecret": "topsecret", "stsToken": "tok"}, None))
    assert "topsecret" not in text and "tok'" not in text


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("-5", -5), ("+7", 7), ("9223372036854775807", 2**63 - 1),
    ("9223372036854775808", None), ("1.5", None), ("", None), (" 1", None), ("١", None),
])
def test_parse_int64_is_gos_parse_int(text: str, value: int | None) -> None:
    assert parse_int64(text) == value
