"""The README's scale-out recipe, offline, end to end: its two command blocks run in bash as
written except for the database name and the two ports (made unique here, so the default
suite can run beside anything) and its ``pip install`` line (this venv has the driver);
tests/test_readme.py runs them verbatim. Two ``ossutil-server``
processes on the local PostgreSQL share one zone file; a token made through one is read
through the other, the bind goes through the second and the first lists it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tests.support import postgres
from tests.support.ports import free_port

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- readme-test: run -->\n```sh\n(.*?)```", re.S)


def recipe() -> str:
    """The scale-out blocks of the README: the one that starts the servers and the next."""
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    (first,) = [i for i, block in enumerate(blocks) if "createdb" in block]
    return blocks[first] + blocks[first + 1]


def test_scale_out_recipe_binds_through_one_process_and_lists_through_the_other(
        tmp_path: Path) -> None:
    postgres.require()
    text = recipe()
    assert "--dns-zone-file scale.zone" in text and text.count("ossutil-server serve") == 2
    database = f"ossutil_test_recipe_{uuid.uuid4().hex[:12]}"
    ports = {"9100": str(free_port()), "9101": str(free_port())}
    script = re.sub(r"^pip install .*$", ":", text, flags=re.M).replace("ossutil_scaleout",
                                                                         database)
    for old, new in ports.items():
        script = script.replace(old, new)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "HOME": str(tmp_path)}
    for name in list(env):
        if name.startswith(("OSS_", "PG")):
            del env[name]
    process = subprocess.Popen(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.communicate()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                        "--force", database], capture_output=True, timeout=60)
    assert process.returncode == 0, out + err
    listing = out[out.rindex("<?xml"):]
    assert re.search(r"<ListCnameResult>\n  <Bucket>shared-bucket</Bucket>\n  <Owner>\d+</Owner>"
                     r"\n  <Cname>\n    <Domain>www\.example\.org</Domain>\n    <LastModified>"
                     r"[^<]+</LastModified>\n    <Status>Enabled</Status>", listing), listing
    assert f"ossutil-server listening on http://127.0.0.1:{ports['9100']}" in out
    assert f"ossutil-server listening on http://127.0.0.1:{ports['9101']}" in out
    assert '_dnsauth.www.example.org. 60 IN TXT "' in (tmp_path / "scale.zone").read_text()
    deadline = time.monotonic() + 30
    for port in ports.values():  # `kill %1 %2` stopped both (SIGTERM: they drain, then exit)
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", int(port))) != 0:
                    break
            assert time.monotonic() < deadline, f"port {port} still served"
            time.sleep(0.1)
    # the state is in the database: neither data dir holds a store
    assert not (tmp_path / "node-a" / "ossutil.db").exists()
