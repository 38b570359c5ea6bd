"""Ports for servers that must be told their port before they start (Pebble's challenge ports,
a README recipe's ``--port 9000``).

Binding port 0 and closing hands back a port from the kernel's ephemeral range, the same range
every outgoing connection on the machine draws from: between the probe and the server's own
bind another test's client may take it (``address already in use``). So pick below that range,
where the kernel never hands ports out on its own, and probe that the port is free now."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> tuple[int, int]:
    try:
        low = int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return 20000, max(20001, min(low, 65536) - 1)


def free_port() -> int:
    """A loopback TCP port outside the ephemeral range that is free at this moment."""
    first, last = _below_ephemeral()
    for _ in range(200):
        port = random.randint(first, last)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {first}-{last}")
