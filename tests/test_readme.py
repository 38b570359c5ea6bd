"""The README's command blocks, run exactly as written, so the front door cannot drift.

How a block says what it is: an HTML comment on the line right before its fence (invisible on
a rendered page). Every ``sh``/``bash``/``python`` block must have one:

    <!-- readme-test: run -->                       run it, in order, in one shell session
    <!-- readme-test: background until "TEXT" -->  a long-running command (``./scripts/serve``):
                                                    started as from another shell, and the next
                                                    block waits until its output shows TEXT
    <!-- readme-test: skip: REASON -->              not run (syntax, sample output, benchmarks,
                                                    the test command itself); REASON says why

The run: a scratch copy of the checkout's tracked files (no ``.venv``: ``./scripts/demo`` sets
it up as on a fresh machine), ``HOME`` inside it, a ``PATH`` without this venv, no ``OSS_*``
variables. ``run`` blocks are sourced one after another by one ``bash -e`` (so ``export``,
``source .venv/bin/activate`` and ``&`` jobs carry over, as in the reader's shell); ``python``
blocks are run with the ``python`` that shell finds. Every block must succeed; a few outputs
are checked. The blocks use fixed ports (9000, 9100, 9101) and the database
``ossutil_scaleout``: when any is taken already, the run is skipped saying which (on CI's fresh
machine none is). Slow: the demo builds its venv from scratch.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.support import postgres

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\S*)\n(.*?)^```$", re.S | re.M)
MARKER = re.compile(r"<!-- readme-test: (run|background until \"([^\"]+)\"|skip: (.+)) -->")
COMMAND_LANGUAGES = ("sh", "bash", "python")
PORTS = (9000, 9100, 9101)
DATABASE = "ossutil_scaleout"


class Block:
    def __init__(self, number: int, language: str, text: str, kind: str, until: str,
                 line: int) -> None:
        self.number = number
        self.language = language
        self.text = text
        self.kind = kind  # run | background | skip
        self.until = until
        self.line = line


def blocks(readme: str | None = None) -> list[Block]:
    """Every fenced block with a command language, with its marker (``kind`` "" if none)."""
    text = readme if readme is not None else (ROOT / "README.md").read_text()
    found = []
    for match in FENCE.finditer(text):
        language = match.group(1)
        if language not in COMMAND_LANGUAGES:
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(before)
        kind, until = "", ""
        if marker is not None:
            kind = marker.group(1).split(" ", 1)[0].rstrip(":")
            until = marker.group(2) or ""
        found.append(Block(len(found) + 1, language, match.group(2), kind, until, line))
    return found


def test_every_command_block_says_whether_it_runs() -> None:
    unmarked = [f"README.md:{block.line}" for block in blocks() if not block.kind]
    assert unmarked == [], "each sh/python block needs a <!-- readme-test: ... --> line"
    kinds = [block.kind for block in blocks()]
    assert kinds.count("run") >= 6 and kinds.count("background") == 1
    assert all(block.language == "sh" for block in blocks() if block.kind == "background")


def test_markers_are_read_as_documented() -> None:
    sample = ('<!-- readme-test: run -->\n```sh\necho hi\n```\n\n'
              '<!-- readme-test: background until "ready on 1" -->\n```sh\nserve\n```\n'
              '<!-- readme-test: skip: syntax -->\n```python\nx\n```\n```sh\nunmarked\n```\n'
              '```\nplain text, not a command block\n```\n')
    found = [(block.kind, block.until, block.text) for block in blocks(sample)]
    assert found == [("run", "", "echo hi\n"), ("background", "ready on 1", "serve\n"),
                     ("skip", "", "x\n"), ("", "", "unmarked\n")]


def _taken() -> str:
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return f"port {port} is in use (the README's commands listen on it)"
    reason = postgres.unavailable()
    if reason is not None:
        return f"the scale-out recipe needs PostgreSQL: {reason}"
    import psycopg

    with psycopg.connect(postgres.BASE_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                        (DATABASE,)).fetchone():
            return f"database {DATABASE} exists already (the recipe creates it; not ours to drop)"
    if shutil.which("createdb") is None:
        return "createdb (PostgreSQL's client programs) is not installed"
    return ""


def _scratch_copy(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():
            continue  # deleted in the working tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def _driver(scratch: Path, runnable: list[Block]) -> str:
    """One bash script: each block between two marker lines, background ones from a
    subshell (not this shell's jobs: the reader starts them in another terminal)."""
    folder = scratch / ".readme-blocks"
    folder.mkdir()
    lines = ["set -e"]
    for block in runnable:
        name = f"{block.number}.{'py' if block.language == 'python' else 'sh'}"
        (folder / name).write_text(block.text)
        lines.append(f"echo '::readme-block {block.number}::'")
        if block.kind == "background":
            log = f".readme-blocks/{block.number}.log"
            lines += [f"(setsid bash .readme-blocks/{name} > {log} 2>&1 & "
                      f"echo $! > .readme-blocks/{block.number}.pid)",
                      f"for _ in $(seq 1200); do grep -qF '{block.until}' {log} && break; "
                      "sleep 0.1; done",
                      f"grep -qF '{block.until}' {log} || {{ cat {log}; exit 1; }}"]
        elif block.language == "python":
            lines.append(f"python .readme-blocks/{name}")
        else:
            lines.append(f"source .readme-blocks/{name}")
    lines.append("echo '::readme-block end::'")
    return "\n".join(lines) + "\n"


def _outputs(text: str) -> dict[str, str]:
    parts = re.split(r"^::readme-block (\S+)::\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_readme_blocks_run_as_written(tmp_path: Path) -> None:
    reason = _taken()
    if reason:
        pytest.skip(reason)
    scratch = tmp_path / "checkout"
    scratch.mkdir()
    _scratch_copy(scratch)
    (scratch / "home").mkdir()
    all_blocks = blocks()
    runnable = [block for block in all_blocks if block.kind in ("run", "background")]
    (scratch / "readme-run.sh").write_text(_driver(scratch, runnable))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(scratch / "home"),
           "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    for name in ("PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT",
                 "PIP_DISABLE_PIP_VERSION_CHECK", "SSL_CERT_FILE"):
        if name in os.environ:
            env[name] = os.environ[name]
    log = tmp_path / "readme-run.log"
    with open(log, "w") as out:
        process = subprocess.Popen(["bash", "readme-run.sh"], cwd=scratch, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=1400)
        finally:
            _stop(process, scratch, runnable)
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                            "--force", DATABASE], capture_output=True, timeout=60)
    text = log.read_text()
    outputs = _outputs(text)
    last = list(outputs)[-1] if outputs else "none"
    assert process.returncode == 0, (
        f"README block {last} failed (exit {process.returncode}):\n{text[-6000:]}")
    assert "end" in outputs
    by_text = {block.number: block for block in runnable}

    def output_of(fragment: str) -> str:
        (number,) = [n for n, block in by_text.items() if fragment in block.text]
        return outputs[str(number)]

    assert "Hello from demo-bucket, served over HTTPS" in output_of("./scripts/demo")
    assert output_of("ossutil --version").startswith("ossutil version: v1.7.19\n"
                                                      "ossutil-server ")
    listed = output_of("ossutil ls oss://my-first-bucket")
    assert "oss://my-first-bucket/hello.txt\n" in listed
    assert output_of("import oss2") == "www.example.com Enabled\n"
    assert "<Domain>www.example.org</Domain>" in output_of("oss://shared-bucket")
    assert "<Status>Enabled</Status>" in output_of("oss://shared-bucket")


def _stop(process: subprocess.Popen[bytes], scratch: Path, runnable: list[Block]) -> None:
    """End everything the blocks started: the background blocks' sessions, then the driver's
    (its ``&`` jobs included). SIGTERM first: servers drain and exit."""
    groups = []
    for block in runnable:
        pid_file = scratch / ".readme-blocks" / f"{block.number}.pid"
        if pid_file.exists():
            groups.append(int(pid_file.read_text()))
    groups.append(process.pid)
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    for group in groups:
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if process.poll() is None:
        process.wait(timeout=30)
