"""Picking a store: SQLite by default without loading a PostgreSQL driver; clean refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ossutil.server.app import open_store
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.main import main
from ossutil.server.settings import Settings
from ossutil.server.storage.base import StoreError


def test_the_sqlite_default_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import ossutil.server.runtime\n"
        "from ossutil.server.app import open_store, open_box\n"
        "from ossutil.server.settings import Settings\n"
        f"settings = Settings(data_dir=Path({str(tmp_path)!r}))\n"
        "open_store(settings, open_box(settings)).close()\n"
        "assert not [m for m in sys.modules if m.startswith('psycopg')], 'psycopg imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_postgres_without_a_url_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store="postgres", database_url="")
    with pytest.raises(StoreError, match="--database-url or OSS_SERVER_DATABASE_URL"):
        open_store(settings, SecretBox(bytes(32)))


def test_settings_repr_hides_the_database_url() -> None:
    settings = Settings(store="postgres", database_url="postgresql://u:hunter2@db/x")
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize("command", [["user", "list"], ["user", "delete", "alice"]])
def test_user_commands_take_the_store_options(tmp_path: Path, command: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status = main([*command, "--data-dir", str(tmp_path), "--store", "postgres",
                   "--database-url", ""])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("ossutil-server: --store postgres needs") and err.count("\n") == 1


def test_serve_without_a_reachable_database_exits_2_in_one_line(tmp_path: Path) -> None:
    for url in ("", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"):
        result = subprocess.run(
            [sys.executable, "-m", "ossutil.server.main", "serve", "--port", "0",
             "--data-dir", str(tmp_path / "data"), "--store", "postgres", "--database-url", url],
            capture_output=True, text=True, timeout=30,
            env={**_clean_env(), "OSS_SERVER_DATABASE_URL": ""})
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("ossutil-server: ")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "OSS_SERVER_DATABASE_URL"}
