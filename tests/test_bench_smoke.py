"""bench/dataplane.py still parses its options and its helper modules import; the bench itself
(wrk, nginx, minutes of load) runs in .ci/run, never in this suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_dataplane_help_lists_every_row() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "dataplane.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for option in ("--seconds", "--repeats", "--smoke", "--only", "--allow-missing"):
        assert option in text
    assert "1 1 KiB GET, bound domain, HTTP keep-alive;" in text
    assert "12 server start-up with 100,000 bindings" in text


def test_dataplane_refuses_an_unknown_row() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "dataplane.py"), "--only", "13"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no such row: 13" in done.stderr


def test_nginx_config_quotes_the_xml_reply(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import _bench_apps
    finally:
        sys.path.remove(str(BENCH))
    path = _bench_apps.nginx_config(tmp_path, http_port=8080, tls_ports={"ec": 8443},
                                    xml=b"<a x='1'>\\</a>")
    text = path.read_text()
    assert "return 200 '<a x=\\'1\\'>\\\\</a>';" in text
    assert "listen 127.0.0.1:8443 ssl;" in text
    assert f"ssl_certificate {tmp_path / 'ec.pem'};" in text
    assert "worker_processes 1;" in text
