"""Composition root: the only place concrete stores and resolvers are picked.

Backends are chosen by name from small tables of import strings and imported only when chosen
(uvicorn's ``HTTP_PROTOCOLS`` habit), so the SQLite default never imports a PostgreSQL driver.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ossutil.server.auth.keyring import KeyRing
from ossutil.server.auth.sealing import Sealer
from ossutil.server.auth.signature import SignatureVerifier
from ossutil.server.buckets.service import BucketService
from ossutil.server.cache import ReadCache
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.cname.service import CnameService
from ossutil.server.dns.lookup import DnspythonTxtLookup, TxtLookup
from ossutil.server.http.router import Addressing
from ossutil.server.models import AccessKey, Account
from ossutil.server.naming import DEFAULT_RESERVED
from ossutil.server.settings import BLOB_STORES, STORES, Settings
from ossutil.server.storage.base import (
    AuthStore,
    BlobReferences,
    Store,
    StoreError,
    StoreRunner,
)
from ossutil.server.storage.blobs import BlobStore

ROOT_CREDENTIALS_FILE = "root-credentials.json"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _import(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def open_store(settings: Settings, box: SecretBox) -> Store:
    """Open the configured store. ``StoreError`` (one line, no secrets) when it cannot be:
    no database URL for ``postgres``, its driver missing, the database unreachable."""
    private_data_dir(settings.data_dir)
    if settings.store == "sqlite":
        factory = _import(STORES["sqlite"])
        return factory(settings.data_dir / "ossutil.db")  # type: ignore[no-any-return]
    if not settings.database_url:
        raise StoreError(f"--store {settings.store} needs --database-url or "
                         "OSS_SERVER_DATABASE_URL (e.g. postgresql://user@host:5432/dbname)")
    try:
        factory = _import(STORES[settings.store])
    except ImportError as exc:  # the optional driver: pip install 'ossutil-py[postgres]'
        if (exc.name or "").startswith("ossutil"):
            raise
        raise StoreError(f"--store {settings.store} needs a driver that is not installed "
                         f"({exc.name}); install the '{settings.store}' extra") from None
    # a shared store checks that every process has the master key it was set up with
    return factory(settings.database_url, Sealer(box))  # type: ignore[no-any-return]


def open_blobs(settings: Settings,
               runner: StoreRunner[BlobReferences] | None = None) -> BlobStore:
    """The blob store that goes with the configured store (opens nothing yet: ``prepare``
    does). Files in the data dir for SQLite, whose start-up sweep asks ``runner``'s store which
    blob files rows name; the same database for PostgreSQL."""
    factory = _import(BLOB_STORES[settings.store])
    if settings.store == "sqlite":
        referenced = None
        if runner is not None:
            def referenced(names: list[str]) -> set[str]:  # from a worker thread
                return runner.submit(runner.store.referenced_blobs, names).result()
        return factory(settings.data_dir / "blobs", referenced)  # type: ignore[no-any-return]
    return factory(settings.database_url)  # type: ignore[no-any-return]


def private_data_dir(path: Path) -> None:
    """The data dir exists and only the server's user may enter it (0700; an existing one is
    tightened): it holds the master key, tokens and object content. Files in it are created
    0600 by whoever writes them (SQLite store, blob store, SecretBox, credentials)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def open_box(settings: Settings, env: Mapping[str, str] | None = None) -> SecretBox:
    private_data_dir(settings.data_dir)
    return SecretBox.from_data_dir(settings.data_dir, os.environ if env is None else env)


def new_access_key_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "LTAI" + "".join(secrets.choice(alphabet) for _ in range(20))


def new_access_key_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(30))


def bootstrap_root(store: AuthStore, box: SecretBox, data_dir: Path, env: Mapping[str, str],
                   clock: Callable[[], datetime] = utcnow) -> tuple[AccessKey, bool] | None:
    """Create the root account on the first start of an empty data dir (its secret sealed with
    ``box`` before the store sees it).

    Returns (key, generated) when created now, None when an account already existed. A generated
    key pair is written to ``root-credentials.json`` (mode 0600) in the data dir.
    """
    if store.root_account() is not None:
        return None
    owner_id = str(secrets.randbelow(9 * 10**15) + 10**15)
    ak = env.get("OSS_SERVER_ROOT_ACCESS_KEY_ID", "")
    sk = env.get("OSS_SERVER_ROOT_ACCESS_KEY_SECRET", "")
    generated = not (ak and sk)
    if generated:
        ak, sk = new_access_key_id(), new_access_key_secret()
    key = AccessKey(ak, sk, owner_id, None)
    if not store.bootstrap_root(Account(owner_id, clock()), Sealer(box).seal(key)):
        return None
    if generated:
        path = data_dir / ROOT_CREDENTIALS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"access_key_id": ak, "access_key_secret": sk, "owner_id": owner_id},
                      handle)
            handle.write("\n")
        os.chmod(path, 0o600)
    return key, generated


def build_lookup(settings: Settings) -> TxtLookup | None:
    if not settings.dns_verify:
        return None
    if settings.dns_zone_file is not None:
        from ossutil.server.dns.zonefile import ZoneFileTxtLookup

        return ZoneFileTxtLookup(settings.dns_zone_file)
    return DnspythonTxtLookup(settings.dns_servers or None)


@dataclass
class Services:
    """Everything a request handler may use."""

    settings: Settings
    runner: StoreRunner[Store]
    box: SecretBox
    keyring: KeyRing
    verifier: SignatureVerifier
    addressing: Addressing
    cache: ReadCache
    buckets: BucketService
    cnames: CnameService
    clock: Callable[[], datetime]
    blobs: BlobStore


def build_services(settings: Settings, store: Store, box: SecretBox, *,
                   clock: Callable[[], datetime] = utcnow,
                   on_binding_change: Callable[[str], None] | None = None,
                   blobs: BlobStore | None = None) -> Services:
    runner = StoreRunner(store)
    keyring = KeyRing(runner, Sealer(box))
    cache = ReadCache(runner)
    own_hosts = (settings.host,)
    reserved = tuple(DEFAULT_RESERVED) + (settings.endpoint_domain,)
    return Services(
        settings=settings,
        runner=runner,
        box=box,
        keyring=keyring,
        verifier=SignatureVerifier(keyring, settings.region, clock),
        addressing=Addressing(settings.endpoint_domain, own_hosts),
        cache=cache,
        buckets=BucketService(runner, cache, region=settings.region, clock=clock),
        cnames=CnameService(runner, cache, build_lookup(settings), box, clock=clock,
                            region=settings.region, reserved_suffixes=reserved,
                            on_change=on_binding_change),
        clock=clock,
        blobs=open_blobs(settings, runner) if blobs is None else blobs,
    )
