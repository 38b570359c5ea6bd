"""The README's main job: the whole bucket-cname walkthrough with the ossutil CLI (scripts/demo)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_walkthrough_runs_end_to_end(tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "run"),
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([str(ROOT / "scripts" / "walkthrough")], capture_output=True,
                            text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("== done: the walkthrough succeeded")
    assert re.search(r"<CnameToken>\n <Bucket>demo-bucket</Bucket>\n <Cname>www.example.com"
                     r"</Cname>\n <Token>[0-9a-f]{32}</Token>", out)
    assert "<Type>Upload</Type>" in out and "<Domain>www.example.com</Domain>" in out
    assert out.count("(s) elapsed") == 9
    assert "Error:" not in out
