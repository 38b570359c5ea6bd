"""``serve --acme-*`` options that cannot work are refused at start, in one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(("options", "message"), [
    (["--acme-challenge", "tls-alpn-01"], "--acme-challenge tls-alpn-01 needs --https-port"),
    (["--acme-eab-kid", "kid"], "--acme-eab-kid and --acme-eab-hmac-key go together"),
    (["--acme-ca-bundle", "/nonexistent/ca.pem"],
     "--acme-ca-bundle /nonexistent/ca.pem: no such file"),
])
def test_unusable_acme_options_are_refused(tmp_path: Path, options: list[str],
                                           message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir", str(tmp_path),
         "--port", "0", "--acme-directory", "https://127.0.0.1:1/dir", *options],
        capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"ossutil-server: {message}\n")


def test_an_unknown_challenge_type_is_an_argparse_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ossutil.server.main", "serve", "--data-dir", str(tmp_path),
         "--acme-directory", "https://127.0.0.1:1/dir", "--acme-challenge", "dns-01"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "argument --acme-challenge: invalid choice: 'dns-01'" in done.stderr
