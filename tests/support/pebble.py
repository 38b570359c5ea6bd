"""Pebble (Let's Encrypt's test ACME CA, Debian's ``pebble`` package) on loopback, for tests.

    with Pebble(tmp_path, dns_server.nameserver, http_port=server.port) as ca:
        ... serve --acme-directory ca.directory --acme-ca-bundle ca.ca_bundle ...
        ca.root_pem()          # the issuing root, from the management endpoint /roots/0
        ca.orders()            # orders Pebble has accepted so far (counted from its log)

Pebble validates HTTP-01 on ``http_port`` and TLS-ALPN-01 on ``tls_port`` of the address the
test's DNS server gives the domain (127.0.0.1), with no sleeps (``PEBBLE_VA_NOSLEEP=1``) and
no nonce rejections. Its own directory is served over TLS with a certificate from a trustme
CA of the fixture's (``ca_bundle``: what ``--acme-ca-bundle`` trusts). ``validity`` sets the
lifetime of the certificates it issues (seconds), for renewal tests; ``eab_keys`` makes it
require external account binding with those keys.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType

import pytest
import trustme
from tests.support.ports import free_port

PEBBLE = shutil.which("pebble")
_ORDER = re.compile(r"Added order \"?([^\s\"]+)")


def require() -> None:
    """Skip (with the reason) where Pebble is not installed; scripts/test-tools installs it."""
    if PEBBLE is None:
        pytest.skip("pebble is not installed (Debian package 'pebble'; scripts/test-tools "
                    "installs it)")


class Pebble:
    def __init__(self, workdir: Path, nameserver: str, *, http_port: int = 5002,
                 tls_port: int = 5001, validity: int | None = None,
                 env: dict[str, str] | None = None,
                 eab_keys: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.nameserver = nameserver
        self.http_port = http_port
        self.tls_port = tls_port
        self.validity = validity
        self.env = env or {}
        self.eab_keys = eab_keys  # kid -> base64url HMAC key: external account binding required
        self.lines: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._authority = trustme.CA()
        self.port, self.management_port = free_port(), free_port()
        # written now: a server may be started (trusting it) before Pebble is
        self.ca_bundle = workdir / "pebble-listener-ca.pem"
        workdir.mkdir(parents=True, exist_ok=True)
        self._authority.cert_pem.write_to_path(str(self.ca_bundle))

    @property
    def directory(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def start(self) -> Pebble:
        require()
        assert PEBBLE is not None
        leaf = self._authority.issue_cert("127.0.0.1", "localhost")
        cert, key = self.workdir / "pebble-cert.pem", self.workdir / "pebble-key.pem"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        config: dict[str, object] = {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(cert), "privateKey": str(key),
            "httpPort": self.http_port, "tlsPort": self.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": bool(self.eab_keys),
        }
        if self.eab_keys:
            config["externalAccountMACKeys"] = self.eab_keys
        if self.validity is not None:
            config["certificateValidityPeriod"] = self.validity
        path = self.workdir / "pebble-config.json"
        path.write_text(json.dumps({"pebble": config}))
        environment = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
                       "PEBBLE_AUTHZREUSE": "0", **self.env}
        self._process = subprocess.Popen(
            [PEBBLE, "-config", str(path), "-dnsserver", self.nameserver],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
        ready: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = ready.get(timeout=0.5)
            except queue.Empty:
                if self._process.poll() is not None:
                    break
                continue
            if "ACME directory available" in line or "Listening on" in line:
                self._wait_listening(deadline)
                return self
        self.stop()
        raise RuntimeError("pebble did not start:\n" + "\n".join(self.lines))

    def _wait_listening(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                socket.create_connection(("127.0.0.1", self.management_port),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)

    def _pump(self, ready: queue.Queue[str]) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))
            ready.put(line)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Pebble:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- what tests read -----------------------------------------------------------------

    def _management(self, path: str) -> str:
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        url = f"https://127.0.0.1:{self.management_port}{path}"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return str(response.read().decode())

    def root_pem(self) -> str:
        """The root every issued chain ends at (the management endpoint's /roots/0)."""
        return self._management("/roots/0")

    def trusting(self) -> ssl.SSLContext:
        """A client context that trusts exactly what Pebble issues."""
        return ssl.create_default_context(cadata=self.root_pem())

    def orders(self) -> list[str]:
        """The ids of every order Pebble accepted so far (from its log)."""
        return [m.group(1) for line in list(self.lines) if (m := _ORDER.search(line))]
