"""Helpers shared by the CLI tests: run our CLI (in-process or as a process), mask, golden text.

Kept out of ``conftest.py`` so test modules can import them by a unique module name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class Outcome:
    """stdout, stderr and exit status of one run."""

    def __init__(self, stdout: bytes, stderr: bytes, code: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.code = code

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    def __repr__(self) -> str:
        return f"Outcome(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_ours(argv: Sequence[str], stdin: bytes = b"", cwd: Path | None = None,
             env: dict[str, str] | None = None) -> Outcome:
    """Our CLI in-process (fast): ``cli.main.run`` with byte streams."""
    import io

    from ossutil.cli.main import run

    out, err = io.BytesIO(), io.BytesIO()
    old_cwd = os.getcwd()
    old_env = dict(os.environ)
    old_stderr = sys.stderr
    wrapper = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        sys.stderr = wrapper
        code = run(list(argv), stdout=out, stdin=io.BytesIO(stdin))
    finally:
        sys.stderr = old_stderr
        wrapper.detach()
        os.chdir(old_cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(old_env)
    return Outcome(out.getvalue(), err.getvalue(), code)


def run_process(command: Sequence[str | os.PathLike[str]], stdin: bytes = b"",
                cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 30) -> Outcome:
    done = subprocess.run([os.fspath(c) for c in command], input=stdin, capture_output=True,
                          cwd=cwd, env=env, timeout=timeout)
    return Outcome(done.stdout, done.stderr, done.returncode)


def our_command() -> list[str]:
    """Our CLI as a process (the console script of this venv)."""
    script = Path(sys.executable).with_name("ossutil")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ossutil.cli.main"]


# --- masking and golden files ------------------------------------------------------------------

def mask(text: str, replacements: Sequence[tuple[str, str]] = ()) -> str:
    """Hide what varies between runs: elapsed time, request ids, tokens, times, ports, owner."""
    for old, new in replacements:
        if old:
            text = text.replace(old, new)
    text = re.sub(r"\n\d+\.\d{6}\(s\) elapsed\n", "\n0.000000(s) elapsed\n", text)
    text = re.sub(r"^log file is .*$", "log file is <path>/ossutil.log", text, flags=re.M)
    text = re.sub(r"RequestId( ?= ?)[0-9A-F]{24}", r"RequestId\1<request-id>", text)
    text = re.sub(r"<Token>[0-9a-f]{32}</Token>", "<Token><token></Token>", text)
    text = re.sub(r"<ExpireTime>[^<]*</ExpireTime>", "<ExpireTime><time></ExpireTime>", text)
    text = re.sub(r"<LastModified>[^<]*</LastModified>", "<LastModified><time></LastModified>",
                  text)
    text = re.sub(r"<Owner>\d+</Owner>", "<Owner><owner></Owner>", text)  # per data dir
    for tag in ("CertId", "CreationDate", "Fingerprint", "ValidStartDate", "ValidEndDate"):
        text = re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}><{tag.lower()}></{tag}>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \w+",
                  "<creation-time>", text)
    return text


def _encode(text: str) -> str:
    body = text.replace("\\", "\\\\").replace("\r", "\\r")
    return "\n".join("|" + line for line in body.split("\n"))


def golden_text(command: str, outcome: Outcome, replacements: Sequence[tuple[str, str]]) -> str:
    return (f"command: ossutil {command}\n"
            f"exit: {outcome.code}\n"
            f"stdout:\n{_encode(mask(outcome.text, replacements))}\n"
            f"stderr:\n{_encode(mask(outcome.stderr.decode('utf-8', 'replace'), replacements))}"
            "\n")


def server_options(server: object, work: Path) -> list[str]:
    """``-e -i -k -c`` for a real server (``RunningServer``), with a config file that does not
    exist, as the Go binary's README advises for a fair comparison."""
    return ["-e", server.endpoint, "-i", server.access_key_id,  # type: ignore[attr-defined]
            "-k", server.access_key_secret, "-c", str(work / "none.cfg")]  # type: ignore[attr-defined]


def shown(outcome: Outcome, *, owner: bool = False) -> str:
    """stdout with elapsed time, request ids, Go-style times (and owner ids) masked, then the
    exit status: what a listing test compares, ours against an expectation or Go's."""
    text = re.sub(r"\n\d+\.\d{6}\(s\) elapsed\n", "\nT elapsed\n", outcome.text)
    text = re.sub(r"RequestId=[0-9A-F]{24}", "RequestId=R", text)
    if owner:
        text = re.sub(r": \d{10,}\n", ": <owner>\n", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+", "<time>", text)
    return text + f"exit {outcome.code}"
