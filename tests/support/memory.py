"""What the memory tests share: a process's /proc figures and a large, repeatable body."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path


def vm_kib(pid: int, field: str) -> int:
    """``VmHWM``, ``VmRSS`` ... of process ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def pattern(size: int, seed: bytes, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``size`` bytes in ``chunk``-sized pieces, derived from ``seed`` (never all in memory)."""
    block = hashlib.sha256(seed).digest() * (chunk // 32)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece
