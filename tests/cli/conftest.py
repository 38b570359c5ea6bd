"""Fixtures for the CLI tests: an OSS on loopback, the Go binary, a golden-file checker.

``oss_server`` is what golden and differential tests talk to. It is ``FakeOss`` for now; it has
the attributes of the project-wide ``server`` fixture (``endpoint``, ``access_key_id``,
``access_key_secret``, ``region``), so switching to the real ``ossutil-server`` is the one marked
line below. ``fake_oss`` stays the fake on purpose: those tests script raw replies (odd statuses,
empty bodies, stalls) that a real server never sends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, golden_text
from tests.cli.fake_oss import FakeOss

GOLDEN = Path(__file__).parent / "golden"
GO_BINARY = Path(__file__).resolve().parents[3] / "shared/reference/ossutil-1.7.19/ossutil"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/cli/golden/*.txt from the current output")


@pytest.fixture(scope="session")
def fake_oss() -> Iterator[FakeOss]:
    with FakeOss() as fake:
        yield fake


@pytest.fixture(scope="session")
def oss_server(request: pytest.FixtureRequest, fake_oss: FakeOss) -> object:
    """The server golden/differential tests use: the fake, or with OSSUTIL_TEST_SERVER=real
    the project's ``server`` fixture, its DNS fixture publishing the ``_dnsauth`` records.

    To switch for good, return the real branch unconditionally."""
    if os.environ.get("OSSUTIL_TEST_SERVER") == "real":
        server = request.getfixturevalue("server")
        dns = request.getfixturevalue("dns")
        server.publish_txt = lambda name, value: dns.txt(name, value)
        return server
    return fake_oss


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
