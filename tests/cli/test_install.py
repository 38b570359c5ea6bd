"""Both ways the package gets installed give the light ``ossutil`` command.

A copy of the project is built twice, as pip would build it (``pip wheel --no-build-isolation``;
setuptools' PEP 660 ``build_editable`` for ``pip install -e``), and each wheel goes into a fresh
venv of its own (``--without-pip``, no system site-packages) with this venv's pip, offline
(``--no-index``). The installed ``ossutil`` must be bin/ossutil itself (only its ``#!`` line
rewritten), answer ``-v`` and a real ListCname, and import nothing beyond
``test_light_imports``'s list. Slow: two builds, two installs (~10 s).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_light_imports import check_installed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUILD_EDITABLE = """
import sys
import setuptools.build_meta as backend
print(backend.build_editable(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the sdist would hold, copied: builds write into the tree (egg-info, build/)."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("bin", "src"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    return copy


def _run(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _fresh_venv(path: Path) -> Path:
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    assert "include-system-site-packages = false" in (path / "pyvenv.cfg").read_text()
    return path / "bin" / "python"


def _install(wheel: Path, venv: Path) -> Path:
    python = _fresh_venv(venv)
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--no-index", str(wheel)])
    return venv / "bin" / "ossutil"


def _check_script(script: Path, venv: Path, tmp_path: Path) -> None:
    lines = script.read_text().split("\n")
    assert lines[0] == f"#!{venv / 'bin' / 'python'}"
    assert lines[1:] == (ROOT / "bin" / "ossutil").read_text().split("\n")[1:]
    check_installed(script, tmp_path)


def test_built_wheel_installs_the_light_ossutil(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(out), str(project)])
    (wheel,) = out.glob("ossutil_py-*.whl")
    venv = tmp_path / "venv"
    _check_script(_install(wheel, venv), venv, tmp_path)


def test_editable_install_gives_the_light_ossutil(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    name = _run([sys.executable, "-c", BUILD_EDITABLE, str(out)], cwd=project).split()[-1]
    assert name.endswith(".editable-py3-none-any.whl")
    venv = tmp_path / "venv"
    script = _install(out / name, venv)
    _check_script(script, venv, tmp_path)
    # editable: the venv runs the copy's sources, so an edit there shows without reinstalling
    python = venv / "bin" / "python"
    where = _run([str(python), "-c", "import ossutil; print(ossutil.__file__)"]).strip()
    assert where == str(project / "src" / "ossutil" / "__init__.py")
