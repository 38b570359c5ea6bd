"""The composition root: the one place the server is put together.

``assemble`` opens the data dir, the store and the blob store, creates the root account on a
first start, builds every service, the one handler table the pipeline dispatches on, the
gateway's domain table and the default TLS certificate. Nothing else constructs a service or
picks a backend.

Backends are chosen by name from small tables of import strings (``settings.STORES``,
``settings.BLOB_STORES``) and imported only when chosen (uvicorn's ``HTTP_PROTOCOLS`` habit), so
the SQLite default never imports a PostgreSQL driver.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import secrets
import ssl
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ossutil.server.auth.keyring import KeyRing
from ossutil.server.auth.sealing import Sealer
from ossutil.server.auth.signature import SignatureVerifier
from ossutil.server.buckets.service import BucketService
from ossutil.server.cache import ReadCache
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import (
    SHARED_DEFAULT_NAME,
    load_or_create_default_certificate,
    new_shared_default_record,
    open_shared_default_record,
)
from ossutil.server.cname.service import CnameService
from ossutil.server.dns.lookup import DnspythonTxtLookup, TxtLookup
from ossutil.server.gateway.hooks import GatewayHooks
from ossutil.server.health.checker import HealthChecker
from ossutil.server.health.lookup import RecordLookup
from ossutil.server.health.task import HealthTask
from ossutil.server.http.call import Handler
from ossutil.server.http.handlers import bucket as bucket_handlers
from ossutil.server.http.handlers import cname as cname_handlers
from ossutil.server.http.handlers.multipart import MultipartHandlers
from ossutil.server.http.handlers.object import ObjectHandlers
from ossutil.server.http.handlers.website import HANDLERS as WEBSITE_HANDLERS
from ossutil.server.http.handlers.website import SITE_HANDLER, SiteReader
from ossutil.server.http.router import Addressing
from ossutil.server.models import AccessKey, Account
from ossutil.server.naming import DEFAULT_RESERVED
from ossutil.server.objects.cache import Beacon, ObjectCache
from ossutil.server.objects.multipart import MultipartService
from ossutil.server.objects.service import ObjectService
from ossutil.server.settings import BLOB_STORES, SHARED_STORES, STORES, Settings, StartupError
from ossutil.server.storage.base import (
    AuthStore,
    BlobReferences,
    Store,
    StoreError,
    StoreRunner,
)
from ossutil.server.storage.blobs import BlobStore
from ossutil.wire.errors import OssError

if TYPE_CHECKING:  # imported only with --acme-directory (certbot's acme, requests)
    from ossutil.server.acme.service import AcmeService

ROOT_CREDENTIALS_FILE = "root-credentials.json"
CHANGE_BEACON_FILE = "changes.beacon"  # processes sharing the data dir see each other's writes


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
    if (Path(settings.data_dir) / "master.key.new").exists():  # server/rotation.py's
        raise StartupError(f"a master key rotation in {settings.data_dir} did not finish: run "
                           "`ossutil-server rotate-master-key` again before starting")
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


def health_task(settings: Settings, services: Services) -> HealthTask:
    """Domain health (``server/health``): the checker, asking the ownership check's DNS
    servers, and the periodic round (``runtime.run`` starts it and gives it the HTTPS
    listener's address)."""
    # offline mode (--dns-zone-file) asks no DNS server: the DNS part is not checked
    lookup = None if settings.dns_zone_file is not None else RecordLookup(
        settings.dns_servers or None)
    checker = HealthChecker(services.runner, lookup,
                            endpoint_domain=settings.endpoint_domain,
                            public_addresses=settings.public_addresses, clock=services.clock)
    return HealthTask(checker, services.runner, interval=settings.health_interval,
                      clock=services.clock)


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
    # HTTP-01: the key authorization for (domain, token), None when not ours (server/acme/)
    acme_http01: Callable[[str, str], Awaitable[str | None]] | None = None


def build_services(settings: Settings, store: Store, box: SecretBox, *,
                   clock: Callable[[], datetime] = utcnow,
                   on_binding_change: Callable[[str], Awaitable[None] | None] | None = None,
                   blobs: BlobStore | None = None) -> Services:
    runner = StoreRunner(store)
    keyring = KeyRing(runner, Sealer(box))
    cache = ReadCache(runner, ObjectCache(settings.object_cache_bytes,
                                          settings.object_cache_max_object,
                                          Beacon(settings.data_dir / CHANGE_BEACON_FILE)),
                      poll_objects=settings.store in SHARED_STORES)
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


BUCKET_HANDLERS: dict[str, Handler] = {
    "ListBuckets": bucket_handlers.list_buckets,
    "PutBucket": bucket_handlers.put_bucket,
    "DeleteBucket": bucket_handlers.delete_bucket,
    "GetBucketInfo": bucket_handlers.get_bucket_info,
    "GetBucketLocation": bucket_handlers.get_bucket_location,
    "GetBucketAcl": bucket_handlers.get_bucket_acl,
    "PutBucketAcl": bucket_handlers.put_bucket_acl,
    "CreateCnameToken": cname_handlers.create_cname_token,
    "GetCnameToken": cname_handlers.get_cname_token,
    "PutCname": cname_handlers.put_cname,
    "ListCname": cname_handlers.list_cname,
    "DeleteCname": cname_handlers.delete_cname,
}


def handler_table(services: Services, objects: ObjectService) -> dict[str, Handler]:
    """Operation name -> handler, for every operation the router can name: the bucket and
    CNAME handlers, and the object and multipart ones bound to their services."""
    cached = services.cache.objects
    multipart = MultipartService(services.runner, services.blobs, clock=services.clock,
                                 cache=cached)
    object_handlers = ObjectHandlers(objects)
    return {**BUCKET_HANDLERS, **WEBSITE_HANDLERS, **object_handlers.table(),
            **MultipartHandlers(multipart).table(),
            SITE_HANDLER: SiteReader(object_handlers).handler}


def object_filler(cache: ReadCache,
                  objects: ObjectService) -> Callable[[str, str], Awaitable[bool]]:
    """For the HTTP front's misses: read ``bucket``/``key`` as a GetObject does (the same
    ``ObjectService``), which fills the object cache (True: cached now; False: no such bucket
    or object, not cacheable, or a write raced the read). ``key`` "" (a ListCname): the
    bucket and its bindings into ``cache``."""

    async def fill(bucket_name: str, key: str) -> bool:
        bucket = await cache.bucket(bucket_name)
        if bucket is None:
            return False
        if not key:
            await cache.bindings(bucket_name)
            return cache.cached_bindings(bucket_name) is not None
        try:
            _, content = await objects.open(bucket, key)
        except OssError:
            return False
        if not isinstance(content, bytes):  # a large object: cached as an open file
            content.close()
        return cache.objects.holds(bucket_name, key)

    return fill


def default_certificate(settings: Settings, box: SecretBox) -> tuple[str, bytes]:
    """``--tls-cert``/``--tls-key`` when given, else the generated one in the data dir."""
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise StartupError("--tls-cert and --tls-key must be given together")
    if settings.tls_cert is not None and settings.tls_key is not None:
        try:  # the operator's own files: refuse unusable ones at start, in words
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(settings.tls_cert,
                                                                    settings.tls_key)
            return Path(settings.tls_cert).read_text(), Path(settings.tls_key).read_bytes()
        except (ssl.SSLError, UnicodeDecodeError) as exc:
            raise StartupError(f"--tls-cert {settings.tls_cert} / --tls-key "
                               f"{settings.tls_key}: not a PEM certificate chain and its "
                               f"unencrypted private key ({exc})") from None
    return load_or_create_default_certificate(settings.data_dir, box)


async def shared_default_certificate(services: Services) -> tuple[str, bytes]:
    """The generated default pair for processes sharing one store (PostgreSQL): kept in the
    store, key sealed, so every process presents the same certificate; the first process to
    start generates it and the database decides who was first."""
    store = services.runner.store
    record = await services.runner(store.get_server_value, SHARED_DEFAULT_NAME)
    if record is None:
        candidate = await asyncio.to_thread(new_shared_default_record, services.box)
        record = await services.runner(store.put_server_value_if_absent, SHARED_DEFAULT_NAME,
                                       candidate)
    return await asyncio.to_thread(open_shared_default_record, record, services.box)


async def default_pair(settings: Settings, services: Services) -> tuple[str, bytes] | None:
    """The HTTPS listener's default certificate and key; None without ``--https-port``."""
    if settings.https_port is None:
        return None
    if settings.tls_cert is None and settings.store in SHARED_STORES:
        return await shared_default_certificate(services)
    return await asyncio.to_thread(default_certificate, settings, services.box)


def build_acme(settings: Settings, services: Services,
               gateway: GatewayHooks) -> AcmeService | None:
    """With ``--acme-directory``: the ACME service, started by the gateway once its TLS
    contexts exist (and stopped with it). Its HTTP-01 answers go to the pipeline
    (``Services.acme_http01``), TLS-ALPN-01 to the SNI callback; what it issues is served at
    once (the gateway re-reads the binding, ListCname's cache forgets it)."""
    if not settings.acme_directory:
        return None
    from ossutil.server.acme.service import AcmeService

    runner = services.runner

    async def issued(domain: str) -> None:
        binding = await runner(runner.store.get_binding, domain)
        if binding is not None:
            services.cache.forget_bindings(binding.bucket)
        settled = gateway.on_change(domain)
        if settled is not None:
            await settled

    acme = AcmeService(settings, runner, services.box, on_issued=issued, clock=services.clock)
    services.acme_http01 = acme.responder.http01

    async def start() -> None:
        if gateway.sni is not None and acme.challenge == "tls-alpn-01":
            gateway.sni.answer_challenges(acme.responder.tls_alpn01)
        await acme.start()

    gateway.run_with(start, acme.stop)
    return acme


@dataclass
class Assembly:
    """A server ready to listen: what ``runtime.start`` serves and later closes."""

    services: Services
    gateway: GatewayHooks
    handlers: dict[str, Handler]
    root_key: tuple[AccessKey, bool] | None  # created on this start (and whether generated)
    fill: Callable[[str, str], Awaitable[bool]]  # the HTTP front's cache misses
    default_pair: tuple[str, bytes] | None = None  # the HTTPS default certificate and key


async def assemble(settings: Settings) -> Assembly:
    """Put the server together (see the module docstring); before any listener opens, so the
    first steps (data dir, store, root account) may block."""
    box = open_box(settings)
    store = open_store(settings, box)
    created = bootstrap_root(store, box, settings.data_dir, os.environ)
    gateway = GatewayHooks(settings)
    nudges: list[Callable[[str], None]] = []  # the ACME scheduler's, when on

    def binding_changed(domain: str) -> Awaitable[None] | None:
        for nudge in nudges:
            nudge(domain)
        return gateway.on_change(domain)

    services = build_services(settings, store, box, on_binding_change=binding_changed)
    acme = build_acme(settings, services, gateway)
    if acme is not None:
        nudges.append(acme.nudge)
    await services.keyring.refresh()
    await asyncio.to_thread(services.blobs.prepare)
    objects = ObjectService(services.runner, services.blobs, clock=services.clock,
                            cache=services.cache.objects)
    handlers = handler_table(services, objects)
    pair = await default_pair(settings, services)
    await gateway.start(services.runner, box, pair)
    return Assembly(services, gateway, handlers, created, object_filler(services.cache, objects),
                    pair)


async def prepare_shared_state(
        settings: Settings) -> tuple[Services, tuple[AccessKey, bool] | None]:
    """``assemble``'s steps that create state, without the server, for the supervisor of
    ``serve --workers N`` (``server/workers.py``) before any worker starts: the data dir, the
    master key, the store's schema, the root account, the blob folders and their start-up sweep,
    the default certificate. Workers then ``assemble`` over state that exists, so none of them
    creates, or races another to create, any of it (two workers generating the default pair at
    once could leave one's certificate beside the other's key).

    The returned services keep the blob store's data-dir lock while the supervisor runs: a
    worker restarted after a crash then never takes it, so it never sweeps the temporary files
    and not-yet-committed blobs its siblings are writing. The caller closes ``blobs`` and
    ``runner``. Also returns the root key when created now (and whether generated)."""
    box = open_box(settings)
    store = open_store(settings, box)
    created = bootstrap_root(store, box, settings.data_dir, os.environ)
    services = build_services(settings, store, box)
    await asyncio.to_thread(services.blobs.prepare)
    await default_pair(settings, services)
    return services, created
