"""What an installed ``ossutil`` command adds to the interpreter's own start-up.

The command runs as a user runs it (its file, through its ``#!`` line) with
``PYTHONPROFILEIMPORTTIME=1``, so every module imported from the first byte on is named on stderr,
the console script's own imports included (``-c`` probes cannot see those: they import ``json``,
which loads ``re``). The same interpreter running ``-c pass`` gives the baseline, so what a
``.pth`` file or ``site`` loads anyway is not counted against us.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")
ELAPSED = re.compile(rb"\n\d+\.\d{6}\(s\) elapsed\n")


class Run:
    """One run of the command: exit status, stdout (elapsed time masked), the rest of stderr and
    the modules it imported beyond ``python -c pass``."""

    def __init__(self, code: int, stdout: bytes, stderr: str, added: set[str]) -> None:
        self.code = code
        self.stdout = ELAPSED.sub(b"\n0.000000(s) elapsed\n", stdout)
        self.stderr = stderr
        self.added = added


def interpreter_of(script: Path) -> str:
    """The interpreter named on the script's ``#!`` line (what the installer wrote there)."""
    first = script.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("#!"), first
    return first[2:].strip()


def _split(stderr: str) -> tuple[set[str], str]:
    modules: set[str] = set()
    other: list[str] = []
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            modules.add(match.group(1))
        elif not line.startswith("import time: self [us]"):
            other.append(line)
    return modules, "\n".join(other)


def environment(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(home),
            "PYTHONPROFILEIMPORTTIME": "1"}


def run_installed(script: Path, argv: list[str], cwd: Path) -> Run:
    """Run ``script argv...`` directly (``execve`` reads its ``#!``) and compare its imports
    with its interpreter's ``-c pass``."""
    env = environment(cwd)
    base = subprocess.run([interpreter_of(script), "-c", "pass"], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    baseline, _ = _split(base.stderr)
    done = subprocess.run([os.path.abspath(script), *argv], env=env, cwd=cwd,
                          capture_output=True, timeout=60)
    modules, other = _split(done.stderr.decode("utf-8", "replace"))
    return Run(done.returncode, done.stdout, other, modules - baseline)


def offending(modules: set[str], families: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in families))
