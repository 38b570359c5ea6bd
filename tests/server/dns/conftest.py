"""Fixtures for the DNS tests: a real loopback DNS server and lookups pointed at it only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.dns_server import DnsServer

from ossutil.server.dns.lookup import DnspythonTxtLookup

#: Short bounds so the time-out tests stay quick; every lookup here asks 127.0.0.1 only.
TIMEOUT = 0.3
LIFETIME = 1.0


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """A fresh DNS server on 127.0.0.1 (UDP and TCP, one port)."""
    with DnsServer() as server:
        yield server


@pytest.fixture
def lookup(dns_server: DnsServer) -> DnspythonTxtLookup:
    """A lookup that asks ``dns_server`` and nothing else."""
    return DnspythonTxtLookup([dns_server.address], timeout=TIMEOUT, lifetime=LIFETIME)
