"""The README's quickstart works as printed: the oss2 snippet against a zone-file server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import start_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "quickstart_oss2.py"


def test_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    body = EXAMPLE.read_text().split('"""', 2)[2].lstrip("\n")
    assert body in readme


def test_quickstart_runs_against_a_zone_file_server(tmp_path: Path) -> None:
    data = tmp_path / "ossutil-data"
    zone = tmp_path / "dns.zone"
    zone.write_text("")
    running = start_server(data, ["--dns-zone-file", str(zone)],
                           env={"OSS_SERVER_ROOT_ACCESS_KEY_ID": "",
                                "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": ""})
    try:
        env = dict(os.environ, OSSUTIL_DATA_DIR=str(data), OSSUTIL_ZONE_FILE=str(zone),
                   OSSUTIL_ENDPOINT=running.endpoint)
        result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                                env=env, cwd=tmp_path, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "www.example.com Enabled\n"
        assert '_dnsauth.www.example.com. 60 IN TXT "' in zone.read_text()
    finally:
        running.stop()
