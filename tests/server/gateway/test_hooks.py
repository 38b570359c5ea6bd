"""GatewayHooks over a real SQLite store: read-your-writes after PutCname/DeleteCname, changes
committed through another connection (another process) arriving by the poller, and start-up
that does no per-certificate work."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.certs import CertFactory

from ossutil.certcheck import check_certificate
from ossutil.server.app import Services, build_services, default_pair
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.gateway.hooks import GatewayHooks
from ossutil.server.models import BindingChange, Bucket, Certificate
from ossutil.server.settings import Settings
from ossutil.server.storage.sqlite import SqliteStore
from ossutil.wire.cname_xml import CnameConfiguration
from ossutil.wire.errors import OssError

NOW = datetime.now(UTC)
BUCKET = Bucket("gw-bucket", "1", "cn-hangzhou", "private", "Standard", NOW)


@asynccontextmanager
async def running(data_dir: Path, box: SecretBox, *, https: bool = False
                  ) -> AsyncIterator[tuple[GatewayHooks, Services]]:
    settings = Settings(data_dir=data_dir, dns_verify=False, https_port=0 if https else None)
    hooks = GatewayHooks(settings)
    services = build_services(settings, SqliteStore(data_dir / "ossutil.db"), box,
                              on_binding_change=hooks.on_change)
    await hooks.start(services.runner, box, await default_pair(settings, services))
    try:
        yield hooks, services
    finally:
        await hooks.stop()
        services.runner.close()


async def bucket_of(hooks: GatewayHooks, domain: str) -> str | None:
    try:
        return await hooks.resolve(domain)
    except OssError as error:
        assert (error.status, error.code) == (404, "NoSuchCnameInRecord")
        return None


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(os.urandom(32))


@pytest.fixture
def data_dir(tmp_path: Path, box: SecretBox) -> Path:
    store = SqliteStore(tmp_path / "ossutil.db")
    store.create_bucket(BUCKET)
    store.close()
    return tmp_path


def test_a_binding_change_is_visible_to_the_very_next_request(data_dir: Path,
                                                              box: SecretBox) -> None:
    async def scenario() -> None:
        async with running(data_dir, box) as (hooks, services):
            for round_ in range(20):
                domain = f"r{round_}.example.com"
                await services.cnames.put_cname(BUCKET, CnameConfiguration(domain))
                assert await bucket_of(hooks, domain) == BUCKET.name
                await services.cnames.delete_cname(BUCKET, domain)
                assert await bucket_of(hooks, domain) is None

    run(scenario)


def test_changes_committed_elsewhere_arrive_by_polling(data_dir: Path, box: SecretBox) -> None:
    other = SqliteStore(data_dir / "ossutil.db")  # another process's connection

    async def scenario() -> None:
        async with running(data_dir, box) as (hooks, _services):
            other.apply_binding(BindingChange("far.example.com", BUCKET.name, NOW, True, "keep"))
            assert await bucket_of(hooks, "far.example.com") is None  # not polled yet
            await hooks.poll_once()
            assert await bucket_of(hooks, "far.example.com") == BUCKET.name
            other.delete_binding(BUCKET.name, "far.example.com")
            await asyncio.sleep(0.8)  # the poller's own interval (0.5 s)
            assert await bucket_of(hooks, "far.example.com") is None

    try:
        run(scenario)
    finally:
        other.close()


def test_interleaved_refreshes_and_polls_converge_on_the_store(data_dir: Path,
                                                               box: SecretBox) -> None:
    other = SqliteStore(data_dir / "ossutil.db")

    async def scenario() -> None:
        async with running(data_dir, box) as (hooks, services):
            domains = [f"x{i}.example.com" for i in range(8)]
            for step in range(60):
                domain = domains[step % len(domains)]
                if step % 3 == 0:  # a change by this process (on_change) ...
                    if await bucket_of(hooks, domain):
                        await services.cnames.delete_cname(BUCKET, domain)
                    else:
                        await services.cnames.put_cname(BUCKET, CnameConfiguration(domain))
                elif step % 3 == 1:  # ... one by another process ...
                    if other.get_binding(domain) is None:
                        other.apply_binding(BindingChange(domain, BUCKET.name, NOW, True,
                                                          "keep"))
                    else:
                        other.delete_binding(BUCKET.name, domain)
                else:  # ... and polls racing them
                    poll = asyncio.ensure_future(hooks.poll_once())
                    await services.cnames.put_cname(BUCKET, CnameConfiguration(domain))
                    await poll
            await hooks.poll_once()
            for domain in domains:
                expected = BUCKET.name if other.get_binding(domain) else None
                assert await bucket_of(hooks, domain) == expected, domain

    try:
        run(scenario)
    finally:
        other.close()


def test_start_up_builds_each_certificates_tls_context_before_serving(
        data_dir: Path, box: SecretBox, ca: CertFactory) -> None:
    store = SqliteStore(data_dir / "ossutil.db")
    chain, key = ca.leaf("*.example.com")
    checked = check_certificate(chain, key, "a.example.com", NOW)
    for i in range(300):
        cert_id = f"{i}-cn-hangzhou"
        cert = Certificate(cert_id, "1", "Upload", checked.chain_pem,
                           box.encrypt(checked.key_pem, context=cert_id.encode()),
                           checked.fingerprint, checked.not_before, checked.not_after, NOW)
        store.apply_binding(BindingChange(f"d{i}.example.com", BUCKET.name, NOW, True, "attach",
                                          cert_id, cert))
    store.close()

    async def scenario() -> None:
        async with running(data_dir, box, https=True) as (hooks, _services):
            assert len(hooks.table) == 300
            # one context per attached certificate (300 ids), none left for a handshake
            assert hooks.sni is not None
            assert (hooks.sni.built, len(hooks.sni), hooks.sni.misses) == (300, 300, 0)
            assert await hooks.resolve("d299.example.com") == BUCKET.name
            assert hooks.ssl_context() is hooks.sni.default
            assert (data_dir / "tls-default.crt").exists()

    run(scenario)
