"""The last line of a run with skips names how many tests skipped and why (tests/conftest.py's
``pytest_terminal_summary``): a clone without ``../shared/`` beside it skips the Go-binary
suites, and the run says so at its end. Checked with a real pytest run of a small suite that
uses the hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_last_lines_group_skips_by_reason(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_some.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_go(n):\n    pytest.skip('Go ossutil 1.7.19 reference binary not available')\n\n"
        "@pytest.mark.skipif(True, reason='zsh is not installed')\n"
        "def test_zsh():\n    pass\n\n"
        "def test_runs():\n    assert True\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p",
                           "no:cacheprovider", "-o", "addopts=", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED [1] test_some.py:7: zsh is not installed\n" in done.stdout  # -ra's list ...
    lines = done.stdout.splitlines()  # ... and then this line, just above the counts
    assert lines[-2] == ("skipped 3: 2 x Go ossutil 1.7.19 reference binary not available; "
                         "1 x zsh is not installed")
    assert lines[-1].startswith("1 passed, 3 skipped in ")


def test_nothing_skipped_prints_no_line(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_some.py").write_text("def test_runs():\n    assert True\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0
    assert not any(line.startswith("skipped ") for line in done.stdout.splitlines())
