"""Start the real ``ossutil-server`` as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT_AK = "LTAI5tRootTestKey0000001"
ROOT_SK = "root-test-secret-0123456789abcdef"
REGION = "cn-hangzhou"
_LISTENING = re.compile(r"^ossutil-server listening on (https?)://(\S+):(\d+)$")


@dataclass
class RunningServer:
    """A live server: ``endpoint`` is ``http://127.0.0.1:PORT``."""

    process: subprocess.Popen[str]
    data_dir: Path
    endpoint: str
    https_endpoint: str = ""
    access_key_id: str = ROOT_AK
    access_key_secret: str = ROOT_SK
    region: str = REGION
    output: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def https_port(self) -> int:
        return int(self.https_endpoint.rsplit(":", 1)[1])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _close(self.process)
        return self.process.returncode


def _close(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _pump(stream: IO[str], sink: list[str], lines: queue.Queue[str] | None) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        if lines is not None:
            lines.put(line.rstrip("\n"))


def start_server(data_dir: Path, extra: Sequence[str] = (), *, https: bool = False,
                 env: dict[str, str] | None = None, timeout: float = 20.0,
                 workers: int = 1) -> RunningServer:
    args = [sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir", str(data_dir),
            "--port", "0", "--region", REGION, *extra]
    if workers != 1:
        args += ["--workers", str(workers)]
    if https:
        args += ["--https-port", "0"]
    environment = dict(os.environ)
    environment.update({"OSS_SERVER_ROOT_ACCESS_KEY_ID": ROOT_AK,
                        "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": ROOT_SK,
                        "PYTHONUNBUFFERED": "1"})
    environment.update(env or {})
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment)
    assert process.stdout is not None and process.stderr is not None
    output: list[str] = []
    errors: list[str] = []
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, output, lines), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, errors, None), daemon=True).start()
    urls: dict[str, str] = {}
    wanted = 2 if https else 1
    while len(urls) < wanted:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            process.kill()
            process.wait()
            _close(process)
            raise RuntimeError("server did not start: " + "\n".join(output + errors)) from None
        match = _LISTENING.match(line)
        if match:
            urls[match.group(1)] = f"{match.group(1)}://{match.group(2)}:{match.group(3)}"
    return RunningServer(process, data_dir, urls["http"], urls.get("https", ""),
                         output=output, errors=errors)


def create_user(server: RunningServer, name: str, policy: dict[str, object] | None,
                tmp: Path) -> dict[str, str]:
    """``ossutil-server user create`` run as an operator would, against the server's data dir;
    the JSON it prints (``user``, ``access_key_id``, ``access_key_secret``). A running server
    picks the user up within a second."""
    import json

    command = [sys.executable, "-m", "ossutil.server.main", "user", "create", name,
               "--data-dir", str(server.data_dir)]
    if policy is not None:
        policy_file = tmp / f"{name}-policy.json"
        policy_file.write_text(json.dumps(policy))
        command += ["--policy-file", str(policy_file)]
    created = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return dict(json.loads(created.stdout))
