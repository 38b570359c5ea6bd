"""The README's main job: the whole custom-domain walkthrough with the ossutil CLI (scripts/demo):
bind a domain, attach a certificate, upload with ``ossutil cp``, fetch the object over HTTPS
through the domain (curl, or Python's stdlib without curl), download it back, detach, unbind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = "Hello from demo-bucket, served over HTTPS as https://www.example.com/\n"


@pytest.mark.parametrize("fetch", ["curl", "python"])
def test_walkthrough_runs_end_to_end(tmp_path: Path, fetch: str) -> None:
    if fetch == "curl" and shutil.which("curl") is None:
        pytest.skip("no curl on this machine (the python fetch still runs)")
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "run"), DEMO_FETCH=fetch,
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([str(ROOT / "scripts" / "walkthrough")], capture_output=True,
                            text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("== done: the walkthrough succeeded")
    assert re.search(r"<CnameToken>\n <Bucket>demo-bucket</Bucket>\n <Cname>www.example.com"
                     r"</Cname>\n <Token>[0-9a-f]{32}</Token>", out)
    assert "<Type>Upload</Type>" in out and "<Domain>www.example.com</Domain>" in out
    assert out.count("(s) elapsed") == 11
    assert "Error:" not in out

    # (text mode reads the "\r" that starts ossutil's report lines as a newline)
    upload = out.index("$ ossutil cp ")
    fetched = out.index("https://www.example.com:", upload)
    download = out.index("$ ossutil cp oss://demo-bucket/hello.txt ", fetched)
    detach = out.index("detach.xml", download)
    assert "Succeed: Total num: 1, size: 70. OK num: 1(upload 1 files).\n" in out[upload:]
    # the object's content, printed by the HTTPS fetch through the custom domain (which runs
    # while the certificate is attached, before the detach step)
    fetch_output = out[fetched:download]
    assert fetch_output.split("\n", 1)[1] == CONTENT + "\n", fetch_output
    assert ("Succeed: Total num: 1, size: 70. OK num: 1(download 1 objects).\n"
            in out[download:detach])
    assert (tmp_path / "run" / "downloads" / "hello.txt").read_text() == CONTENT
