"""Fixtures for the CLI tests: an OSS on loopback, the Go binary, a golden-file checker.

``oss_server`` is what golden and differential tests talk to: a real ``ossutil-server`` of its
own (``ls`` lists every bucket, so it shares no state with other tests), verifying ownership
against the loopback ``dns`` fixture, with a RAM user whose policy denies everything (for the
access-denied path). ``fake_oss`` stays a fake on
purpose: the ``fake_only`` cases script raw replies (odd statuses, empty bodies, stalls) that a
real server never sends. ``OSSUTIL_TEST_SERVER=fake`` runs every case against the fake.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, golden_text
from tests.cli.fake_oss import FakeOss
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer, create_user, start_server

from ossutil.client import Credentials, OssClient

GOLDEN = Path(__file__).parent / "golden"
GO_BINARY = Path(__file__).resolve().parents[3] / "shared/reference/ossutil-1.7.19/ossutil"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/cli/golden/*.txt from the current output")


@pytest.fixture(scope="session")
def fake_oss() -> Iterator[FakeOss]:
    with FakeOss() as fake:
        yield fake


class RealOss:
    """The session's real server as the CLI cases see it.

    ``reset`` empties the buckets the cases use (bindings, then the bucket, which drops its
    tokens; the cases store no objects), so each case starts from the state its ``setup``
    builds, as on the fake.
    """

    BUCKETS = ("cli-golden", "cli-second", "cli-newbucket", "cli-nosuch", "b")

    def __init__(self, server: RunningServer, dns: DnsServer, denied: tuple[str, str]) -> None:
        self.endpoint = server.endpoint
        self.access_key_id = server.access_key_id
        self.access_key_secret = server.access_key_secret
        self.region = server.region
        self.denied_key_id, self.denied_key_secret = denied
        self._dns = dns

    def publish_txt(self, name: str, value: str) -> None:
        self._dns.txt(name, value)

    def reset(self) -> None:
        from ossutil.client import Credentials, OssClient
        from ossutil.wire.errors import OssError

        with OssClient(self.endpoint,
                       Credentials(self.access_key_id, self.access_key_secret)) as client:
            for bucket in self.BUCKETS:
                try:
                    for info in client.list_cname(bucket).cnames:
                        client.delete_cname(bucket, info.domain)
                    client.delete_bucket(bucket)
                except OssError as error:
                    if error.code != "NoSuchBucket":
                        raise


def _denied_user(server: RunningServer, tmp: Path) -> tuple[str, str]:
    created = create_user(server, "cli-denied", {"Version": "1", "Statement": [
        {"Effect": "Deny", "Action": ["oss:*"], "Resource": ["acs:oss:*:*:*"]}]}, tmp)
    return created["access_key_id"], created["access_key_secret"]


@pytest.fixture(scope="session")
def oss_server(request: pytest.FixtureRequest, fake_oss: FakeOss,
               tmp_path_factory: pytest.TempPathFactory) -> object:
    """The server golden/differential tests use (see the module docstring)."""
    if os.environ.get("OSSUTIL_TEST_SERVER") == "fake":
        return fake_oss
    dns = request.getfixturevalue("dns")
    server = start_server(tmp_path_factory.mktemp("cli-server-data"),
                          ["--dns-server", dns.nameserver])
    request.addfinalizer(server.stop)
    real = RealOss(server, dns, _denied_user(server, tmp_path_factory.mktemp("cli-users")))
    real.reset()
    return real


@pytest.fixture
def client(server: RunningServer) -> Iterator[OssClient]:
    """Our client on the session's real server, with its root key."""
    with OssClient(server.endpoint,
                   Credentials(server.access_key_id, server.access_key_secret)) as oss:
        yield oss


@pytest.fixture
def bucket(client: OssClient, bucket_name: str) -> str:
    """A fresh bucket on the session's real server."""
    client.create_bucket(bucket_name)
    return bucket_name


@pytest.fixture()
def clean_fake(fake_oss: FakeOss) -> Iterator[FakeOss]:
    fake_oss.reset()
    yield fake_oss
    fake_oss.reset()


@pytest.fixture(scope="session")
def go_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference binary, copied as ``ossutil`` (goopt prints argv[0]'s base name)."""
    if not GO_BINARY.exists():
        pytest.skip("Go ossutil 1.7.19 reference binary not available")
    target = tmp_path_factory.mktemp("go") / "ossutil"
    target.write_bytes(GO_BINARY.read_bytes())
    target.chmod(0o755)
    return target


@pytest.fixture()
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``golden(case, command, outcome, replacements)``: compare with or rewrite the file."""
    update = request.config.getoption("--update-golden", default=False)

    def check(case: str, command: str, outcome: Outcome,
              replacements: Sequence[tuple[str, str]] = ()) -> None:
        path = GOLDEN / f"{case}.txt"
        actual = golden_text(command, outcome, replacements)
        if update or not path.exists():
            GOLDEN.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not update:
                pytest.fail(f"golden file {path.name} was missing and has been written")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from golden/{path.name}"

    return check
