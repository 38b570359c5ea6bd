"""CnameService: the five CNAME operations as domain logic (reference §3-§7, §9).

No HTTP and no SQL: it takes plain values, returns records, raises ``OssError``. Store calls go
through the ``StoreRunner`` (worker thread); DNS through an async ``TxtLookup``; certificate
checks run in a worker process, key sealing in a thread. Nothing is written until every check has
passed, and the write itself is one store transaction.

Choices where OSS is silent (also in ARCHITECTURE.md):
- re-binding a domain already bound to the same bucket is idempotent and needs no new proof; a
  certificate change on a bound domain needs no new proof either (the owner proved it once);
- the token must be unexpired at PutCname time and belong to the same bucket;
- a domain bound elsewhere gives 409 CnameAlreadyExists (there is one account per server);
- more than 100 bindings on a bucket gives 400 TooManyCname.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ossutil.certcheck import (
    CheckedCertificate,
    certificate_covers,
    describe_certificate,
    describe_names,
)
from ossutil.server.cache import ReadCache
from ossutil.server.certs.isolated import check_certificate_isolated
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.dns.lookup import TxtLookup
from ossutil.server.dns.ownership import verify_ownership
from ossutil.server.models import (
    Binding,
    BindingChange,
    Bucket,
    CertAction,
    Certificate,
    CertificateType,
    CnameTokenRecord,
)
from ossutil.server.naming import DEFAULT_RESERVED, normalize_domain
from ossutil.server.storage.base import CnameStore, DomainTaken, StoreRunner
from ossutil.wire.cname_xml import CertificateConfiguration, CnameConfiguration
from ossutil.wire.errors import OssError

TOKEN_LIFETIME = timedelta(hours=72)
MAX_TOKENS_PER_BUCKET = 1000
MAX_BINDINGS_PER_BUCKET = 100
MAX_CERT_ID_BYTES = 63


@dataclass(frozen=True)
class CertificatePlan:
    action: CertAction
    cert_id: str | None = None
    new_certificate: Certificate | None = None


class CnameService:
    def __init__(self, runner: StoreRunner[CnameStore], cache: ReadCache,
                 lookup: TxtLookup | None,
                 box: SecretBox, *,
                 clock: Callable[[], datetime], region: str,
                 reserved_suffixes: Sequence[str] = DEFAULT_RESERVED,
                 on_change: Callable[[str], Awaitable[None] | None] | None = None) -> None:
        self._run = runner
        self._store = runner.store
        self._cache = cache
        self._lookup = lookup
        self._box = box
        self._clock = clock
        self._region = region
        self._reserved = tuple(reserved_suffixes)
        self._on_change = on_change

    def normalize(self, raw: str) -> str:
        return normalize_domain(raw, reserved_suffixes=self._reserved)

    # --- tokens ---------------------------------------------------------------------------

    async def create_token(self, bucket: Bucket, raw_domain: str) -> CnameTokenRecord:
        domain = self.normalize(raw_domain)
        binding = await self._run(self._store.get_binding, domain)
        if binding is not None and binding.bucket == bucket.name:
            raise OssError.from_code("NoNeedCreateCnameToken", Bucket=bucket.name, Cname=domain)
        now = self._clock().replace(microsecond=0)
        candidate = CnameTokenRecord(bucket.name, domain, secrets.token_hex(16), now,
                                     now + TOKEN_LIFETIME)
        issued = await self._run(self._store.issue_token, candidate, now, MAX_TOKENS_PER_BUCKET)
        if issued is None:
            raise OssError.from_code("TooManyCnameToken", Bucket=bucket.name)
        return issued

    async def get_token(self, bucket: Bucket, raw_domain: str) -> CnameTokenRecord:
        if not raw_domain:
            raise OssError.from_code("InvalidArgument", "The cname parameter is required.")
        domain = self.normalize(raw_domain)
        token = await self._run(self._store.get_token, bucket.name, domain)
        if token is None or token.expires_at <= self._clock():
            raise OssError.from_code("CnameTokenNotFound", Bucket=bucket.name, Cname=domain)
        return token

    # --- bindings -------------------------------------------------------------------------

    async def put_cname(self, bucket: Bucket, config: CnameConfiguration) -> Binding:
        if config.is_wildcard:
            raise OssError.from_code("InvalidArgument",
                                     "Wildcard domains are not supported for standard buckets.")
        domain = self.normalize(config.domain)
        existing = await self._run(self._store.get_binding, domain)
        if existing is not None and existing.bucket != bucket.name:
            raise self._taken(domain)
        if existing is None:
            await self._prove_ownership(bucket, domain)
        plan = await self._plan_certificate(bucket, domain, config.certificate, existing)
        change = BindingChange(domain, bucket.name, self._clock(), existing is None, plan.action,
                               plan.cert_id, plan.new_certificate)
        try:
            binding = await self._run(self._store.apply_binding, change)
        except DomainTaken as taken:
            if taken.bucket and taken.bucket != bucket.name:
                raise self._taken(domain) from None
            # Lost a race against the same bind on the same bucket: apply as an update.
            change = BindingChange(domain, bucket.name, change.now, False, plan.action,
                                   plan.cert_id, plan.new_certificate)
            binding = await self._run(self._store.apply_binding, change)
        await self._changed(bucket.name, domain)
        return binding

    async def list_cnames(self, bucket: Bucket) -> tuple[Binding, ...]:
        return await self._cache.bindings(bucket.name)

    async def delete_cname(self, bucket: Bucket, raw_domain: str) -> None:
        domain = self.normalize(raw_domain)
        if await self._run(self._store.delete_binding, bucket.name, domain):
            await self._changed(bucket.name, domain)

    # --- helpers --------------------------------------------------------------------------

    async def _changed(self, bucket: str, domain: str) -> None:
        self._cache.forget_bindings(bucket)
        if self._on_change is not None:
            settled = self._on_change(domain)  # the gateway: table and TLS context current
            if settled is not None:
                await settled

    @staticmethod
    def _taken(domain: str) -> OssError:
        return OssError.from_code("CnameAlreadyExists", Cname=domain, CnameType="CNAME_OSS")

    async def _prove_ownership(self, bucket: Bucket, domain: str) -> None:
        count = await self._run(self._store.count_bindings, bucket.name)
        if count >= MAX_BINDINGS_PER_BUCKET:
            raise OssError.from_code("TooManyCname", Bucket=bucket.name)
        if self._lookup is None:  # --no-dns-verify: test-double mode
            return
        token = await self._run(self._store.get_token, bucket.name, domain)
        if token is None or token.expires_at <= self._clock():
            raise OssError.from_code(
                "NeedVerifyDomainOwnership",
                "Please verify domain ownership by CreateCnameToken and try again. "
                f"No valid token exists for {domain} on bucket {bucket.name}.")
        await verify_ownership(self._lookup, domain, token.token)

    async def _plan_certificate(self, bucket: Bucket, domain: str,
                                cert: CertificateConfiguration | None,
                                existing: Binding | None) -> CertificatePlan:
        if cert is None:
            return CertificatePlan(CertAction.KEEP)
        if cert.delete_certificate:
            return CertificatePlan(CertAction.DETACH)
        current = existing.cert_id if existing else None
        if cert.private_key and not cert.certificate:
            raise OssError.from_code("InvalidArgument",
                                     "PrivateKey must be given together with Certificate.",
                                     ec="0018-00000210")
        if cert.certificate and not cert.private_key:
            raise OssError.from_code("InvalidArgument",
                                     "Certificate must be given together with PrivateKey.",
                                     ec="0018-00000210")
        if cert.cert_id is not None and len(cert.cert_id.encode()) > MAX_CERT_ID_BYTES:
            raise OssError.from_code("InvalidArgument", "CertId must be shorter than 64 bytes.",
                                     ec="0018-00000206")
        if not cert.certificate and not cert.cert_id:
            # e.g. only Force/PreviousCertId: nothing to change
            return CertificatePlan(CertAction.KEEP)
        if current is not None and not cert.force and cert.previous_cert_id != current:
            raise OssError.from_code(
                "InvalidArgument",
                f"The domain {domain} already has certificate {current}: give it as "
                "PreviousCertId or set Force to true to replace it.", ec="0018-00000209")
        owner = bucket.owner_id
        now = self._clock()
        if cert.certificate:
            assert cert.private_key is not None
            # In a worker process: an RSA key check holds the GIL for up to 0.3 s.
            checked = await check_certificate_isolated(cert.certificate, cert.private_key,
                                                       domain, now)
            return await self._uploaded(owner, domain, cert.cert_id, checked, now)
        assert cert.cert_id is not None
        stored = await self._run(self._store.get_certificate, cert.cert_id)
        if stored is None or stored.owner_id != owner:
            raise OssError.from_code("CertificateInvalidCasId")
        facts = await asyncio.to_thread(describe_certificate, stored.chain_pem)
        if not certificate_covers(facts.names, domain):
            raise OssError.from_code(
                "InvalidArgument", f"The certificate {stored.cert_id} does not cover the domain "
                f"{domain} (it covers: {describe_names(facts.names)}).")
        if stored.not_after <= now:
            raise OssError.from_code("InvalidArgument",
                                     f"The certificate {stored.cert_id} has expired.")
        return CertificatePlan(CertAction.ATTACH, stored.cert_id)

    async def _uploaded(self, owner: str, domain: str, wanted_id: str | None,
                        checked: CheckedCertificate, now: datetime) -> CertificatePlan:
        if wanted_id:
            stored = await self._run(self._store.get_certificate, wanted_id)
            if stored is not None:
                if stored.owner_id == owner and stored.fingerprint == checked.fingerprint:
                    return CertificatePlan(CertAction.ATTACH, stored.cert_id)
                raise OssError.from_code(
                    "InvalidArgument",
                    f"CertId {wanted_id} already names a different certificate.")
            cert_id = wanted_id
        else:
            cert_id = f"{secrets.randbelow(90_000_000) + 10_000_000}-{self._region}"
        sealed = await asyncio.to_thread(self._box.encrypt, checked.key_pem,
                                         context=cert_id.encode())
        certificate = Certificate(cert_id, owner, CertificateType.UPLOAD, checked.chain_pem,
                                  sealed, checked.fingerprint, checked.not_before,
                                  checked.not_after, now)
        return CertificatePlan(CertAction.ATTACH, cert_id, certificate)
