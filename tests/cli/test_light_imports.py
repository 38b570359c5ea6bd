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

import pytest
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
