"""Shared fixtures: a real DNS server, a real ossutil-server, a test CA. All on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer, start_server

_names = itertools.count(1)


@pytest.fixture(scope="session")
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture(scope="session")
def ca() -> CertFactory:
    return CertFactory()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, dns: DnsServer) -> Iterator[RunningServer]:
    """One server for the session, verifying DNS against the ``dns`` fixture; HTTP and HTTPS."""
    running = start_server(tmp_path_factory.mktemp("server-data"),
                           ["--dns-server", dns.nameserver], https=True)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def unverified_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server in test-double mode (``--no-dns-verify``): binds need no DNS proof."""
    running = start_server(tmp_path_factory.mktemp("unverified-data"), ["--no-dns-verify"])
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path: Path, dns: DnsServer) -> Iterator[RunningServer]:
    """A private server with its own data dir (restart and persistence tests)."""
    running = start_server(tmp_path / "data", ["--dns-server", dns.nameserver])
    yield running
    running.stop()


@pytest.fixture
def bucket_name() -> str:
    """A bucket name unique within the session."""
    return f"bucket-{next(_names):04d}"


@pytest.fixture
def domain() -> str:
    """A domain unique within the session (the DNS fixture answers for it)."""
    return f"www{next(_names):04d}.example.com"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """One line at the end of the run: how many tests skipped, grouped by why (most first), so
    a run that skipped most of a suite (no ``../shared/`` beside the clone: no Go reference
    binary) says so where it is seen: after ``-ra``'s per-test list (the terminal reporter's
    own wrapper prints that when the hook ends; this outer one writes after it), just above
    the final counts."""
    yield
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        reason = str(reason).removeprefix("Skipped: ") or "no reason given"
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    parts = [f"{count} x {reason}" for reason, count in
             sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]
    total = sum(reasons.values())
    terminalreporter.write_line(f"skipped {total}: " + "; ".join(parts))

