"""Start-up stays light: the CLI's common paths import nothing heavy (STYLE §5).

A subprocess runs the real console entry and dumps ``sys.modules`` at exit; the test asserts
the forbidden families are absent. ``--help``/``-v`` must not even load networking or signing,
and a ``bucket-cname --method get`` (the list body is printed verbatim) must not load any XML
library, crypto, DNS, asyncio or server code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli import startup_probe
from tests.cli.fake_oss import FakeOss

FORBIDDEN = ("cryptography", "dns", "asyncio", "aiohttp", "ossutil.server", "xml", "defusedxml",
             "pyexpat", "_elementtree", "requests", "urllib3", "httpx", "oss2")
# Not heavy in the brief's sense, but on the CLI path they cost more than the signing itself
# (``dataclasses`` pulls in ``inspect``); ossutil.client, cli and wire.signing avoid them.
START_UP_COST = ("dataclasses", "typing", "inspect")
NOT_FOR_HELP = ("http.client", "ssl", "socket", "hashlib", "ossutil.client.client",
                "ossutil.client.http11", "ossutil.wire.signing", "email", "urllib.parse")
# The transport is our own HTTP/1.1 client on ``socket``: ``http.client`` alone cost more than
# the rest of a call (it loads ``email``), and ``ssl`` is only for https endpoints.
NOT_FOR_PLAIN_HTTP = ("http.client", "email", "ssl", "_ssl", "urllib.parse", "base64",
                      "hashlib", "_hashlib", "hmac")

PROBE = """
import atexit, json, os, sys
def dump():
    with open(os.environ["MODULES_OUT"], "w") as handle:
        json.dump(sorted(sys.modules), handle)
atexit.register(dump)
sys.argv = ["ossutil", *json.loads(os.environ["ARGV"])]
from ossutil.cli.main import main
main()
"""


def _modules(argv: list[str], tmp_path) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    out = tmp_path / "modules.json"
    env = {"MODULES_OUT": str(out), "ARGV": json.dumps(argv), "PATH": "/usr/bin:/bin",
           "LANG": "C"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          cwd=tmp_path, timeout=60)
    return done.returncode, json.loads(out.read_text())


def _offending(modules: list[str], families: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == f or m.startswith(f + ".") for f in families)]


@pytest.mark.parametrize("argv", [["--help"], ["-v"], ["help", "bucket-cname"], []])
def test_help_and_version_load_no_networking(argv: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, modules = _modules(argv, tmp_path)
    assert code == 0
    assert _offending(modules, FORBIDDEN + NOT_FOR_HELP + START_UP_COST) == []


def test_bucket_cname_get_loads_nothing_heavy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeOss() as fake:
        fake.add_bucket("examplebucket")
        code, modules = _modules(["bucket-cname", "--method", "get", "oss://examplebucket",
                                  "-e", fake.endpoint, "-i", fake.access_key_id,
                                  "-k", fake.access_key_secret, "-c", "none.cfg"], tmp_path)
    assert code == 0
    assert "ossutil.client.http11" in modules  # the request really went out
    assert _offending(modules, FORBIDDEN) == []
    assert _offending(modules, NOT_FOR_PLAIN_HTTP) == []
    assert _offending(modules, START_UP_COST) == [], (
        "keep dataclasses/typing off the CLI path (see ossutil.wire.records)")


# What the installed command may add to ``python -c pass`` besides our own modules, exactly: the
# socket's and SHA-1's C modules, and ``__future__`` (cli.main's ``from __future__`` imports it).
# ``re`` is what installers' generated wrappers import; ``socket`` (its IntEnums), ``enum``,
# ``datetime``, ``collections``, ``importlib`` and ``warnings`` are what our own path used to load;
# ``binascii`` (base64 of the signature) and ``errno`` what the general client loads.
PLAIN_GET_STDLIB = {"__future__", "_sha1", "_socket"}
# Our own, exactly: the light path of ``bucket-cname --method get`` (cli.main -> client.plain);
# goopt, the option tables, Command.Init, OssClient, the transport and wire.signing are not loaded
# (each module costs a few hundred microseconds cold).
PLAIN_GET_OURS = {"ossutil", "ossutil.cli", "ossutil.cli.main", "ossutil.client",
                  "ossutil.client.http11", "ossutil.client.plain"}
VERSION_STDLIB = {"__future__"}  # no -c: ~ is $HOME (set), so no passwd look-up (pwd)
LIST_BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ListCnameResult>\n'
             b"  <Bucket>examplebucket</Bucket>\n  <Owner>1234567890123456</Owner>\n"
             b"</ListCnameResult>\n\n\n\n0.000000(s) elapsed\n")


def installed_get(script: Path, cwd: Path) -> startup_probe.Run:
    """``bucket-cname --method get`` through an installed ``ossutil`` (shared with test_install)."""
    with FakeOss() as fake:
        fake.add_bucket("examplebucket")
        return startup_probe.run_installed(
            script, ["bucket-cname", "--method", "get", "oss://examplebucket", "-e",
                     fake.endpoint, "-i", fake.access_key_id, "-k", fake.access_key_secret,
                     "-c", "none.cfg"], cwd)


def check_installed(script: Path, cwd: Path) -> None:
    """An installed ``ossutil`` answers ``-v`` and a real ListCname with the light start-up."""
    version = startup_probe.run_installed(script, ["-v"], cwd)
    assert (version.code, version.stdout, version.stderr) == (0, b"ossutil version: v1.7.19\n",
                                                               "")
    assert {m for m in version.added if not m.startswith("ossutil")} == VERSION_STDLIB
    listed = installed_get(script, cwd)
    assert (listed.code, listed.stdout, listed.stderr) == (0, LIST_BODY, "")
    assert "ossutil.client.http11" in listed.added  # the request really went out
    assert {m for m in listed.added if not m.startswith("ossutil")} == PLAIN_GET_STDLIB
    assert {m for m in listed.added if m.startswith("ossutil")} == PLAIN_GET_OURS
    assert startup_probe.offending(listed.added, ("ossutil.dnsrules", "ossutil.cli.debuglog",
                                                  "ossutil.wire.errors")) == []


def test_this_venvs_console_script_keeps_the_light_start_up(tmp_path: Path) -> None:
    """The ``ossutil`` next to this interpreter (bin/ossutil as installed, not a generated
    wrapper), run through its own ``#!`` line: nothing but the modules above."""
    check_installed(Path(sys.executable).with_name("ossutil"), tmp_path)


def _fake_run(argv: list[str], tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    with FakeOss() as fake:
        fake.add_bucket("examplebucket")
        _, modules = _modules([*argv, "-e", fake.endpoint, "-i", fake.access_key_id,
                               "-k", fake.access_key_secret, "-c", "none.cfg"], tmp_path)
    return modules


@pytest.mark.parametrize("argv", [
    ["bucket-cname", "--method", "get", "oss://examplebucket"],
    ["bucket-cname", "--method", "put", "oss://examplebucket", "www.example.com"],
    ["bucket-cname", "--method", "put", "--item", "certificate", "oss://examplebucket",
     "cert.xml"],
], ids=["list", "bind", "certificate-xml-file"])
def test_1_7_command_lines_load_neither_cryptography_nor_dnspython(argv: list[str],  # type: ignore[no-untyped-def]
                                                                   tmp_path) -> None:
    """The beyond-1.7 options (--check-dns, --cert-file) pay for their libraries; 1.7 never."""
    (tmp_path / "cert.xml").write_text("<BucketCnameConfiguration/>")
    modules = _fake_run(argv, tmp_path)
    assert "ossutil.client.http11" in modules
    assert _offending(modules, ("cryptography", "dns", "ossutil.server",
                                "ossutil.cli.dnscheck", "ossutil.cli.certfile")) == []
    assert _offending(modules, NOT_FOR_PLAIN_HTTP) == []


def test_cert_file_loads_cryptography_but_not_dnspython(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "c.pem").write_text("not pem")
    modules = _fake_run(["bucket-cname", "--method", "put", "--item", "certificate",
                         "oss://examplebucket", "www.example.com", "--cert-file", "c.pem",
                         "--key-file", "c.pem"], tmp_path)
    assert "cryptography" in modules
    assert _offending(modules, ("dns", "asyncio")) == []


def test_check_dns_loads_dnspython_but_not_cryptography(tmp_path) -> None:  # type: ignore[no-untyped-def]
    modules = _fake_run(["bucket-cname", "--method", "put", "oss://examplebucket",
                         "www.example.com", "--check-dns", "--dns-server", "127.0.0.1:9"],
                        tmp_path)
    assert "dns.resolver" in modules
    assert _offending(modules, ("cryptography", "ossutil.server")) == []


def test_dialing_on_the_c_socket_module_words_failures_as_through_socket(tmp_path: Path) -> None:
    """The installed command dials on ``_socket`` (``socket`` is not loaded); in-process, where
    pytest loaded ``socket``, the transport dials through it. Same refusal, same bytes."""
    from tests.cli.clitools import run_ours

    argv = ["bucket-cname", "--method", "get", "oss://examplebucket", "-e", "127.0.0.1:1",
            "-i", "id", "-k", "secret", "-c", "none.cfg"]
    expected = ('Error: Get "http://127.0.0.1:1/examplebucket/?cname": dial tcp 127.0.0.1:1: '
                "connect: connection refused\n")
    cold = startup_probe.run_installed(Path(sys.executable).with_name("ossutil"), argv, tmp_path)
    assert (cold.code, cold.stdout.decode(), cold.stderr) == (1, expected, "")
    assert "socket" not in cold.added and "_socket" in cold.added
    assert "socket" in sys.modules
    warm = run_ours(argv, cwd=tmp_path)
    assert (warm.code, warm.text) == (1, expected)


# --- the light path (cli.main._plain_get -> client.plain) sends what the general client sends ---


def test_light_base64_and_hmac_equal_binascii_and_hmac() -> None:
    import binascii
    import hmac
    import random

    from ossutil.client.plain import b64encode, hmac_sha1

    rng = random.Random(7)
    for size in range(0, 70):
        data = rng.randbytes(size)
        assert b64encode(data) == binascii.b2a_base64(data, newline=False).decode()
        key = rng.randbytes(rng.choice((0, 1, 20, 63, 64, 65, 200)))
        assert hmac_sha1(key, data) == hmac.new(key, data, "sha1").digest()


@pytest.mark.parametrize(("endpoint", "token", "agent"), [
    ("127.0.0.1:9000", None, None), ("http://10.1.2.3", "sts-token", "extra"),
    ("oss-cn-hangzhou.example.com:8080", None, None), ("localhost:80", "t", None),
])
def test_light_request_headers_equal_the_general_clients(endpoint: str, token: str | None,
                                                         agent: str | None) -> None:
    from datetime import datetime, timezone

    from ossutil.cli.main import _plain_get
    from ossutil.client.client import Credentials, OssClient, default_user_agent
    from ossutil.wire import signing

    argv = ["bucket-cname", "--method", "get", "oss://examplebucket", "-e", endpoint,
            "-i", "LTAI5tId", "-k", "secret/+=", "-c", "/nonexistent/none.cfg"]
    if token:
        argv += ["-t", token]
    plain = _plain_get(argv)
    assert plain is not None
    if agent:  # the config file's userAgent; set directly here
        plain.user_agent = default_user_agent(agent)
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    client = OssClient(endpoint, Credentials("LTAI5tId", "secret/+=", token), wire_style="go",
                       path_style=False, user_agent=default_user_agent(agent),
                       clock=lambda: moment)
    general = client.build_request("GET", "examplebucket", [("cname", None)])
    assert plain.headers(moment.timetuple()) == general.headers
    assert plain.url == general.url
    to_sign = signing.v1_string_to_sign(signing.SigningRequest(
        "GET", "examplebucket", "", [("cname", "")],
        {n.lower(): v for n, v in general.headers}))
    assert dict(general.headers)["Authorization"].endswith(
        ":" + signing.v1_signature("secret/+=", to_sign))


@pytest.mark.parametrize("extra", [
    ["--meth", "get"], ["--method", "put"], ["--method", "get", "--item", "token"],
    ["--method", "get", "-ei", "x"], ["--method", "get", "--loglevel", "info"],
    ["--method", "get", "--endpoint=https://127.0.0.1:1"], ["--method", "get", "api"],
    ["--method", "get", "out.xml"], ["--method", "get", "--endpoint", "http://[::1]:9"],
    ["--method", "get", "--endpoint", "127.0.0.1:99999"], ["--method", "get", "-p"],
    ["--method", "get", "--sign-version", "v4"], ["--method", "get", "--", "x"],
])
def test_other_command_lines_take_the_general_path(extra: list[str]) -> None:
    from ossutil.cli.main import _plain_get

    argv = ["bucket-cname", "oss://examplebucket", "-i", "id", "-k", "key", "-c", "none.cfg",
            "-e", "127.0.0.1:1", *extra]
    assert _plain_get(argv) is None
    assert _plain_get(["bucket-cname", "oss://Bad_Bucket", "--method", "get", "-i", "id", "-k",
                       "key", "-c", "none.cfg", "-e", "127.0.0.1:1"]) is None


@pytest.mark.parametrize(("config", "light"), [
    ("[Credentials]\nendpoint={endpoint}\naccessKeyID={ak}\naccessKeySecret={sk}\n", True),
    ("[Credentials]\nendpoint={endpoint}\naccessKeyID={ak}\naccessKeySecret={sk}\n"
     "loglevel=info\n", False),
    ("[Credentials]\nendpoint={endpoint}\naccessKeyID={ak}\naccessKeySecret={sk}\n"
     "signVersion=v4\nregion=cn-hangzhou\n", False),
    ("[Credentials]\nendpoint={endpoint}\naccessKeyID={ak}\naccessKeySecret={sk}\n"
     "[Bucket-Endpoint]\nexamplebucket={endpoint}\n", False),
])
def test_a_config_file_is_read_as_the_general_path_reads_it(config: str, light: bool,
                                                             tmp_path: Path) -> None:
    """Same output either way; the light path only where the file asks nothing it lacks."""
    from tests.cli.clitools import run_ours

    from ossutil.cli.main import _plain_get

    with FakeOss() as fake:
        fake.add_bucket("examplebucket")
        path = tmp_path / "ossutil.cfg"
        path.write_text(config.format(endpoint=fake.endpoint, ak=fake.access_key_id,
                                      sk=fake.access_key_secret))
        argv = ["bucket-cname", "--method", "get", "oss://examplebucket", "-c", str(path)]
        assert (_plain_get(argv) is not None) == light
        done = run_ours(argv, cwd=tmp_path)
        general = run_ours(["bucket-cname", "--meth", "get", "oss://examplebucket", "-c",
                            str(path)], cwd=tmp_path)
    assert done.code == general.code == 0
    assert done.stdout.rsplit(b"\n\n", 1)[0] == general.stdout.rsplit(b"\n\n", 1)[0]
    assert done.stdout.rsplit(b"\n\n", 1)[0].endswith(LIST_BODY.rsplit(b"\n\n", 1)[0])
    assert len(fake.requests) == 2
    first, second = fake.requests
    assert [n for n, _ in first.headers] == [n for n, _ in second.headers]
    assert first.request_line == second.request_line
