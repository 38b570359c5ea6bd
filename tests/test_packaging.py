"""The wheel as users get it: built from a copy of the project, installed into fresh venvs with
pip (dependencies from the package index the machine is configured with), then run.

- ``pip install ossutil-py``: the CLI and its two small dependencies, none of the server's; the
  ``ossutil`` it installs talks to a real server; ``ossutil-server`` says which extra to install
  (one line, exit 2) and ``--cert-file`` says which package it needs.
- ``pip install "ossutil-py[server]"``: ``ossutil-server serve`` starts from it and answers.
- The metadata: the SPDX license and its file, classifiers, URLs, the extras.

Slow: one build and two installs with dependencies (about a minute with a warm pip cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.server import ROOT_AK, ROOT_SK, RunningServer, start_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SERVER_ONLY = ("aiohttp", "cryptography", "fastcrc", "acme")


def _run(command: list[str], cwd: Path | None = None, timeout: float = 600,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def _ok(command: list[str], cwd: Path | None = None) -> str:
    done = _run(command, cwd)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from what an sdist holds (a copy: builds write into the tree)."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("bin", "src"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    _ok([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(copy)])
    (built,) = out.glob("ossutil_py-*.whl")
    return built


def _venv(path: Path) -> Path:
    _ok([sys.executable, "-m", "venv", "--without-pip", str(path)])
    return path / "bin"


def _install(bin_dir: Path, requirement: str) -> set[str]:
    """pip (this venv's) installs ``requirement`` into the venv; the names installed there."""
    python = str(bin_dir / "python")
    _ok([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", requirement])
    listed = json.loads(_ok([sys.executable, "-m", "pip", "--python", python, "list",
                             "--format", "json"]))
    return {entry["name"].lower() for entry in listed}


def _metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name).decode()


def test_metadata_has_license_classifiers_urls_and_extras(wheel: Path) -> None:
    metadata = _metadata(wheel)
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nLicense-File: LICENSE\n" in metadata
    with zipfile.ZipFile(wheel) as archive:
        licenses = [n for n in archive.namelist() if n.endswith("licenses/LICENSE")]
        assert licenses and archive.read(licenses[0]).startswith(b"MIT License\n")
    assert "\nClassifier: Programming Language :: Python :: 3.11\n" in metadata
    assert "\nClassifier: Environment :: Console\n" in metadata
    assert "\nProject-URL: ossutil 1.7 (reference CLI), https://github.com/aliyun/ossutil\n" \
        in metadata
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.M)
    plain = sorted(r for r in requires if "extra ==" not in r)
    assert plain == ["defusedxml>=0.7", "dnspython>=2.6"]
    for name in SERVER_ONLY:
        (line,) = [r for r in requires if r.startswith(name)]
        assert line.endswith('; extra == "server"')
    assert {"server", "postgres", "test", "bench"} <= set(
        re.findall(r"^Provides-Extra: (.*)$", metadata, re.M))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("data"), ["--no-dns-verify"])
    try:
        yield running
    finally:
        running.stop()


def test_cli_only_install_runs_the_cli_without_the_servers_dependencies(
        wheel: Path, tmp_path: Path, server: RunningServer) -> None:
    bin_dir = _venv(tmp_path / "cli")
    installed = _install(bin_dir, str(wheel))
    assert {"ossutil-py", "defusedxml", "dnspython"} <= installed
    assert installed.isdisjoint(SERVER_ONLY), installed & set(SERVER_ONLY)
    ossutil = str(bin_dir / "ossutil")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C"}
    version = _run([ossutil, "-v"], env=env)
    assert (version.returncode, version.stdout) == (0, "ossutil version: v1.7.19\n")
    common = ["-e", server.endpoint, "-i", ROOT_AK, "-k", ROOT_SK]
    made = _run([ossutil, "mb", "oss://packaged-cli-bucket", *common], env=env)
    assert made.returncode == 0, made
    listed = _run([ossutil, "ls", *common], env=env)  # XML parsed with defusedxml
    assert listed.returncode == 0 and "oss://packaged-cli-bucket\n" in listed.stdout, listed
    # the server's entry point is installed too, and says what is missing
    serve = _run([str(bin_dir / "ossutil-server"), "serve", "--data-dir",
                  str(tmp_path / "data")], env=env)
    assert (serve.returncode, serve.stdout, serve.stderr) == (2, "", (
        "ossutil-server: the server's dependencies are not installed (missing: aiohttp, "
        "cryptography, fastcrc, acme); install them with: pip install 'ossutil-py[server]'\n"))
    assert not (tmp_path / "data").exists()
    # a command that needs an optional package names it
    (tmp_path / "c.pem").write_text("x")
    (tmp_path / "k.pem").write_text("x")
    cert = _run([ossutil, "bucket-cname", "--method", "put", "--item", "certificate",
                 "oss://packaged-cli-bucket", "www.example.com", "--cert-file",
                 str(tmp_path / "c.pem"), "--key-file", str(tmp_path / "k.pem"), *common],
                env=env)
    assert (cert.returncode, cert.stdout) == (1, (
        "Error: this command needs the Python package cryptography, which is not installed: "
        "pip install cryptography (or pip install 'ossutil-py[server]', which includes it)\n"))


def test_server_extra_runs_the_server(wheel: Path, tmp_path: Path) -> None:
    bin_dir = _venv(tmp_path / "server")
    installed = _install(bin_dir, f"ossutil-py[server] @ {wheel.as_uri()}")
    assert set(SERVER_ONLY) <= installed
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C",
                   "OSS_SERVER_ROOT_ACCESS_KEY_ID": ROOT_AK,
                   "OSS_SERVER_ROOT_ACCESS_KEY_SECRET": ROOT_SK, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([str(bin_dir / "ossutil-server"), "serve", "--data-dir",
                                str(tmp_path / "data"), "--port", "0", "--no-dns-verify"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment, cwd=tmp_path)
    try:
        assert process.stdout is not None
        endpoint = ""
        for line in process.stdout:
            if line.startswith("ossutil-server listening on http://"):
                endpoint = line.split()[-1]
                break
        assert endpoint, process.stderr.read() if process.stderr else ""
        common = ["-e", endpoint, "-i", ROOT_AK, "-k", ROOT_SK]
        ossutil = str(bin_dir / "ossutil")
        env = {key: environment[key] for key in ("PATH", "HOME", "LANG")}
        assert _run([ossutil, "mb", "oss://packaged-server-bucket", *common],
                    env=env).returncode == 0
        listed = _run([ossutil, "ls", *common], env=env)
        assert "oss://packaged-server-bucket\n" in listed.stdout, listed
    finally:
        process.terminate()
        process.communicate(timeout=30)  # also closes both pipes
    assert process.returncode == 0
    assert os.path.exists(tmp_path / "data" / "ossutil.db")
