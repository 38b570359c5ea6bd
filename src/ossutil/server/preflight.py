"""A failed start leaves nothing behind: check what can be checked before any state exists.

``serve`` creates state on its first start: the data dir, ``master.key``, the store (SQLite file
or PostgreSQL schema), the root account and its printed secret, ``root-credentials.json``. A
start that then fails (the port is taken, the master key is unusable, the certificate files are
not a pair) must not have created any of it, or the next, corrected start would find a root
account whose secret scrolled away with the error. Two parts:

- ``check(settings)``, before ``assemble``: the master key (``OSS_SERVER_MASTER_KEY``'s form, an
  existing ``master.key``'s form), ``--tls-cert``/``--tls-key`` (a chain and its key), the
  ``--dns-zone-file`` (a readable file), and every listening port (bound once, then released).
  Each failure is a ``StartupError`` (one line, exit 2; secrets never shown).
- ``FirstStart``, around the start itself: what can only fail while the store opens (a database
  that does not answer, one set up with another master key) is found after the data dir and
  ``master.key`` exist; if this start created them and opening the store failed, they are
  removed again (only when nothing else was created; any later failure removes nothing).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from ossutil.server.certs.keystore import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE,
    SecretBox,
    SecretBoxError,
)
from ossutil.server.settings import Settings, StartupError


def check(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Every start-up condition that can be checked without creating anything."""
    environ = os.environ if env is None else env
    master_key(settings, environ)
    tls_files(settings)
    zone_file(settings)
    ports(settings)


def master_key(settings: Settings, env: Mapping[str, str]) -> None:
    """``OSS_SERVER_MASTER_KEY`` (when set) or an existing ``master.key`` must be base64 of 32
    bytes; a missing file is fine (the first start creates it)."""
    try:
        if MASTER_KEY_ENV in env:
            SecretBox.from_data_dir(settings.data_dir, env)  # reads only the variable
        elif (Path(settings.data_dir) / MASTER_KEY_FILE).exists():
            SecretBox.from_data_dir(settings.data_dir, {})
    except SecretBoxError as exc:
        raise StartupError(str(exc)) from None


def tls_files(settings: Settings) -> None:
    """``--tls-cert``/``--tls-key``: a PEM chain and its unencrypted private key."""
    if settings.tls_cert is None or settings.tls_key is None:
        return
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(settings.tls_cert,
                                                                settings.tls_key)
    except FileNotFoundError as exc:
        raise StartupError(f"--tls-cert/--tls-key: {exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise StartupError(f"--tls-cert {settings.tls_cert} / --tls-key {settings.tls_key}: "
                           "not a PEM certificate chain and its unencrypted private key "
                           f"({exc})") from None


def zone_file(settings: Settings) -> None:
    path = settings.dns_zone_file
    if path is None or not settings.dns_verify:
        return
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StartupError(f"--dns-zone-file {path}: {reason}") from None


def ports(settings: Settings) -> None:
    """Each listening port is free: bound once as the server will bind it, then released.
    Port 0 (the system picks one) always is."""
    wanted = [("--port", settings.port)]
    if settings.https_port is not None:
        wanted.append(("--https-port", settings.https_port))
    if settings.https_port is not None and settings.https_port == settings.port != 0:
        raise StartupError(f"--port and --https-port are both {settings.port}")
    for option, port in wanted:
        if port == 0:
            continue
        try:
            infos = socket.getaddrinfo(settings.host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise StartupError(f"--host {settings.host}: {exc.strerror}") from None
        for family, kind, proto, _, address in infos:
            probe = socket.socket(family, kind, proto)
            try:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if settings.reuse_port and hasattr(socket, "SO_REUSEPORT"):
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                probe.bind(address)
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise StartupError(f"{option} {port}: cannot listen on "
                                   f"{_shown(address)}: {reason}") from None
            finally:
                probe.close()


def _shown(address: tuple[object, ...]) -> str:
    host, port = str(address[0]), address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class FirstStart:
    """Removes the data dir (or ``master.key``) this start created when opening the store
    failed (a ``StoreError``/``SecretBoxError`` raised inside ``app.open_box``/``open_store``:
    a database that does not answer, one sealed with another master key), and nothing else was
    created. Any other failure, and any failure once the store is open, removes nothing.

        with FirstStart(settings):
            ...assemble, listen, serve...
    """

    OPENING = frozenset({"open_box", "open_store"})  # server/app.py

    def __init__(self, settings: Settings) -> None:
        self.data_dir = Path(settings.data_dir)
        self.before = self._entries()

    def _entries(self) -> frozenset[str] | None:
        """The data dir's entries, None when it does not exist."""
        try:
            return frozenset(entry.name for entry in self.data_dir.iterdir())
        except FileNotFoundError:
            return None
        except OSError:
            return frozenset({"?"})  # unreadable: never undone

    def __enter__(self) -> FirstStart:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        from ossutil.server.storage.base import StoreError

        if isinstance(error, StoreError | SecretBoxError) and _raised_in(trace, self.OPENING):
            self.undo()

    def undo(self) -> None:
        """Remove what this start created, if it is only the data dir and ``master.key``."""
        after = self._entries()
        if after is None:
            return
        created = after - (self.before or frozenset())
        if not created <= {MASTER_KEY_FILE}:
            return
        if MASTER_KEY_FILE in created:
            (self.data_dir / MASTER_KEY_FILE).unlink()
        if self.before is None:
            self.data_dir.rmdir()


def _raised_in(trace: TracebackType | None, names: frozenset[str]) -> bool:
    """Whether the failure passed through one of the functions ``names`` of ``server/app.py``."""
    app_file = str(Path(__file__).with_name("app.py"))
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_name in names and code.co_filename == app_file:
            return True
        trace = trace.tb_next
    return False

