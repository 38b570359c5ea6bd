"""A real browser for tests: Debian's headless Chromium driven by Playwright, on loopback only.

    home = trusting_home(tmp / "home", ca.ca_pem())   # $HOME whose NSS db trusts the test CA
    with chromium(home, "site1.example.com") as browser:
        page = browser.new_context().new_page()
        traffic = Traffic(page)                     # every request's wire status
        page.goto("https://www.site1.example.com:PORT/index.html")

Two things make a real browser talk to a test server as it would to a real site:

- names: ``--host-resolver-rules`` maps ``*.<domain>`` to 127.0.0.1 and every other name to
  NOTFOUND (the literal 127.0.0.1 excepted: the server's own endpoint), so nothing leaves
  loopback and no hosts file or DNS server is touched;
- trust: the CA is added to an NSS database under the browser's ``$HOME``
  (``~/.pki/nssdb``, where Chromium on Linux reads locally trusted roots). The certificate is
  really verified (chain, name, dates): a certificate from any other CA fails with
  ``net::ERR_CERT_AUTHORITY_INVALID``. The database is written through ``libnss3`` itself
  (a Chromium dependency, so present wherever Chromium is) with ``ctypes``, in a child process,
  because ``certutil`` is in another package (libnss3-tools) that Chromium does not pull in.

Playwright is given the system Chromium as ``executable_path``: no browser is downloaded.
``chromium_or_skip`` skips with the reason when Chromium or Playwright is missing.
"""

from __future__ import annotations

import ctypes
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("OSSUTIL_TEST_CHROMIUM", "/usr/bin/chromium"))
SITE = Path(__file__).with_name("data") / "site"
_NSS_TRUSTED_CA = b"C,,"  # certutil's trust string: a CA trusted to issue server certificates


def chromium_or_skip() -> Path:
    """The Chromium executable, or a pytest skip saying what is missing and how to get it."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: scripts/test-tools installs Debian's "
                    "chromium (as root); OSSUTIL_TEST_CHROMIUM names another one")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    return CHROMIUM


def trusting_home(home: Path, ca_pem: str) -> Path:
    """Make ``home`` a ``$HOME`` whose NSS database (``.pki/nssdb``) trusts ``ca_pem``."""
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True, exist_ok=True)
    ca_file = home / "test-ca.pem"
    ca_file.write_text(ca_pem)
    subprocess.run([sys.executable, __file__, str(database), str(ca_file)], check=True,
                   capture_output=True, text=True, timeout=60)
    return home


@contextmanager
def chromium(home: Path, domain: str) -> Iterator[Browser]:
    """Headless Chromium with ``*.<domain>`` resolved to 127.0.0.1 (no other name resolves) and
    ``home``'s NSS database as its trust store. Closed (with Playwright) on exit."""
    from playwright.sync_api import sync_playwright

    rules = f"MAP *.{domain} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_or_skip(), headless=True,
            args=[f"--host-resolver-rules={rules}", "--disable-background-networking"],
            env={**os.environ, "HOME": str(home)})
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Exchange:
    """One request and the status line that came back for it over the network."""

    url: str
    method: str
    resource_type: str  # DevTools' type: Document, Stylesheet, Script, Image, Fetch ...
    status: int
    headers: dict[str, str]  # the response's headers as received, names lower-cased


class Traffic:
    """A page's requests and the statuses the server sent, as DevTools' network domain sees
    them on the wire (``Network.responseReceivedExtraInfo``). Playwright's ``Response.status``
    is the status the page was given: a document revalidated with 304 is reported as the
    cached 200; here it is 304. Served from the browser's cache without a request: absent."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self._sent: dict[str, tuple[str, str, str]] = {}
        self._status: dict[str, tuple[int, dict[str, str]]] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._on_sent)
        session.on("Network.responseReceivedExtraInfo", self._on_status)
        session.send("Network.enable")

    def _on_sent(self, event: dict[str, Any]) -> None:
        request = event["request"]
        self._sent.setdefault(event["requestId"], (request["url"], request["method"],
                                                   event.get("type", "")))

    def _on_status(self, event: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in event["headers"].items()}
        self._status.setdefault(event["requestId"], (int(event["statusCode"]), headers))

    def exchanges(self) -> list[Exchange]:
        """Every request answered so far, in the order sent."""
        return [Exchange(*sent, *self._status[request_id])
                for request_id, sent in self._sent.items() if request_id in self._status]

    def statuses(self, url: str, count: int = 1, timeout: float = 5.0) -> list[int]:
        """The wire statuses for exactly ``url``, oldest first, once at least ``count`` came
        (DevTools events may trail the Playwright call that caused them) or ``timeout``
        passed."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e.status for e in self.exchanges() if e.url == url]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            self._page.wait_for_timeout(20)  # lets Playwright deliver pending events


# --- the NSS database, written in a child process (NSS is process-global state) -------------

class _SecItem(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("data", ctypes.c_char_p), ("len", ctypes.c_uint)]


class _CertTrust(ctypes.Structure):
    _fields_ = [("ssl_flags", ctypes.c_uint), ("email_flags", ctypes.c_uint),
                ("object_signing_flags", ctypes.c_uint)]


def _add_trusted_ca(database: Path, ca_file: Path) -> None:
    """What ``certutil -N --empty-password`` then ``certutil -A -t C,, -i ca_file`` do."""
    nss = ctypes.CDLL(_libnss3())
    pointer = ctypes.c_void_p
    nss.NSS_InitReadWrite.argtypes = [ctypes.c_char_p]
    nss.PK11_GetInternalKeySlot.restype = pointer
    nss.PK11_NeedUserInit.argtypes = [pointer]
    nss.PK11_InitPin.argtypes = [pointer, ctypes.c_char_p, ctypes.c_char_p]
    nss.CERT_GetDefaultCertDB.restype = pointer
    nss.CERT_NewTempCertificate.restype = pointer
    nss.CERT_NewTempCertificate.argtypes = [pointer, ctypes.POINTER(_SecItem), ctypes.c_char_p,
                                            ctypes.c_int, ctypes.c_int]
    nss.PK11_ImportCert.argtypes = [pointer, pointer, ctypes.c_ulong, ctypes.c_char_p,
                                    ctypes.c_int]
    nss.CERT_DecodeTrustString.argtypes = [ctypes.POINTER(_CertTrust), ctypes.c_char_p]
    nss.CERT_ChangeCertTrust.argtypes = [pointer, pointer, ctypes.POINTER(_CertTrust)]
    nss.CERT_DestroyCertificate.argtypes = [pointer]
    nss.PK11_FreeSlot.argtypes = [pointer]

    def check(step: str, status: int) -> None:
        if status != 0:
            raise RuntimeError(f"NSS {step} failed (SECStatus {status}) for {database}")

    check("NSS_InitReadWrite", nss.NSS_InitReadWrite(b"sql:" + str(database).encode()))
    slot = nss.PK11_GetInternalKeySlot()
    if nss.PK11_NeedUserInit(slot):
        check("PK11_InitPin", nss.PK11_InitPin(slot, b"", b""))  # no password, as -N does
    der = ssl.PEM_cert_to_DER_cert(ca_file.read_text())
    item = _SecItem(0, der, len(der))
    cert = nss.CERT_NewTempCertificate(nss.CERT_GetDefaultCertDB(), ctypes.byref(item), None,
                                       0, 1)
    if not cert:
        raise RuntimeError(f"NSS could not decode {ca_file}")
    check("PK11_ImportCert", nss.PK11_ImportCert(slot, cert, 0, b"ossutil test CA", 0))
    trust = _CertTrust()
    check("CERT_DecodeTrustString", nss.CERT_DecodeTrustString(ctypes.byref(trust),
                                                               _NSS_TRUSTED_CA))
    check("CERT_ChangeCertTrust", nss.CERT_ChangeCertTrust(nss.CERT_GetDefaultCertDB(), cert,
                                                           ctypes.byref(trust)))
    nss.CERT_DestroyCertificate(cert)
    nss.PK11_FreeSlot(slot)
    check("NSS_Shutdown", nss.NSS_Shutdown())


def _libnss3() -> str:
    """libnss3's file name as the dynamic loader knows it (a Chromium dependency)."""
    import ctypes.util

    return ctypes.util.find_library("nss3") or "libnss3.so"


if __name__ == "__main__":
    _add_trusted_ca(Path(sys.argv[1]), Path(sys.argv[2]))
