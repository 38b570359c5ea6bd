"""One small adapter per real SDK, so the same conformance tests run through each, unchanged.

Each adapter calls the SDK exactly as a user would and turns its exception into ``SdkError`` with
the fields both SDKs expose (status, code, message, ec, request id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class SdkError(Exception):
    status: int
    code: str
    message: str
    ec: str
    request_id: str


@dataclass
class Token:
    bucket: str
    cname: str
    token: str
    expire_time: str


@dataclass
class Cert:
    cert_id: str | None = None
    certificate: str | None = None
    private_key: str | None = None
    previous_cert_id: str | None = None
    force: bool | None = None
    delete_certificate: bool | None = None


@dataclass
class Entry:
    domain: str
    status: str
    last_modified: str
    cert_type: str | None
    cert_id: str | None
    fingerprint: str | None
    valid_start: str | None
    valid_end: str | None
    creation_date: str | None


class Oss2Adapter:
    name = "oss2"

    def __init__(self, endpoint: str, ak: str, sk: str, bucket: str, sign: str,
                 region: str) -> None:
        import oss2

        auth = oss2.AuthV4(ak, sk) if sign == "v4" else oss2.Auth(ak, sk)
        self._bucket = oss2.Bucket(auth, endpoint, bucket, region=region)
        self._service = oss2.Service(auth, endpoint, region=region)

    def _call(self, fn: Callable[[], T]) -> T:
        import oss2

        try:
            return fn()
        except oss2.exceptions.OssError as exc:
            raise SdkError(exc.status, exc.code, exc.message, exc.ec or "",
                           exc.request_id) from None

    def create_bucket(self) -> None:
        self._call(lambda: self._bucket.create_bucket())

    def delete_bucket(self) -> None:
        self._call(lambda: self._bucket.delete_bucket())

    def list_bucket_names(self) -> list[str]:
        import oss2  # every page: ListBuckets answers at most max-keys (default 100) names

        return self._call(lambda: [b.name for b in oss2.BucketIterator(self._service)])

    def create_token(self, domain: str) -> Token:
        r = self._call(lambda: self._bucket.create_bucket_cname_token(domain))
        return Token(r.bucket, r.cname, r.token, r.expire_time)

    def get_token(self, domain: str) -> Token:
        r = self._call(lambda: self._bucket.get_bucket_cname_token(domain))
        return Token(r.bucket, r.cname, r.token, r.expire_time)

    def put_cname(self, domain: str, cert: Cert | None = None) -> int:
        import oss2.models as m

        info = None
        if cert is not None:
            info = m.CertInfo(cert_id=cert.cert_id, certificate=cert.certificate,
                              private_key=cert.private_key,
                              previous_cert_id=cert.previous_cert_id, force=cert.force,
                              delete_certificate=cert.delete_certificate)
        request = m.PutBucketCnameRequest(domain, info)
        result = self._call(lambda: self._bucket.put_bucket_cname(request))
        return int(result.status)

    def list_cname(self) -> tuple[str, str, list[Entry]]:
        r = self._call(lambda: self._bucket.list_bucket_cname())
        entries = []
        for c in r.cname:
            cert = c.certificate
            entries.append(Entry(
                c.domain, c.status, c.last_modified,
                cert.type if cert else None, cert.cert_id if cert else None,
                cert.fingerprint if cert else None, cert.valid_start_date if cert else None,
                cert.valid_end_date if cert else None, cert.creation_date if cert else None))
        return r.bucket, r.owner, entries

    def delete_cname(self, domain: str) -> int:
        return int(self._call(lambda: self._bucket.delete_bucket_cname(domain)).status)


def oss_v2_client(endpoint: str, ak: str, sk: str, sign: str, region: str) -> Any:
    """alibabacloud-oss-v2's client for our server: static keys, path style (the SDK needs it
    for IP and ``localhost`` endpoints)."""
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk)
    cfg.region = region
    cfg.endpoint = endpoint
    cfg.signature_version = sign
    cfg.use_path_style = True
    return oss.Client(cfg)


class OssV2Adapter:
    name = "alibabacloud-oss-v2"

    def __init__(self, endpoint: str, ak: str, sk: str, bucket: str, sign: str,
                 region: str) -> None:
        import alibabacloud_oss_v2 as oss

        self._oss = oss
        self._client = oss_v2_client(endpoint, ak, sk, sign, region)
        self._bucket = bucket

    def _call(self, fn: Callable[[], T]) -> T:
        oss = self._oss
        try:
            return fn()
        except oss.exceptions.OperationError as exc:
            inner: Any = exc.unwrap()
            if isinstance(inner, oss.exceptions.ServiceError):
                raise SdkError(inner.status_code, inner.code, inner.message, inner.ec or "",
                               inner.request_id) from None
            raise

    def _conf(self, domain: str, cert: Cert | None = None) -> Any:
        oss = self._oss
        cc = None
        if cert is not None:
            cc = oss.CertificateConfiguration(
                cert_id=cert.cert_id, certificate=cert.certificate,
                private_key=cert.private_key, previous_cert_id=cert.previous_cert_id,
                force=cert.force, delete_certificate=cert.delete_certificate)
        return oss.BucketCnameConfiguration(
            cname=oss.Cname(domain=domain, certificate_configuration=cc))

    def create_bucket(self) -> None:
        self._call(lambda: self._client.put_bucket(
            self._oss.PutBucketRequest(bucket=self._bucket)))

    def delete_bucket(self) -> None:
        self._call(lambda: self._client.delete_bucket(
            self._oss.DeleteBucketRequest(bucket=self._bucket)))

    def list_bucket_names(self) -> list[str]:
        pages = self._client.list_buckets_paginator().iter_page(self._oss.ListBucketsRequest())
        return self._call(lambda: [b.name for page in pages for b in page.buckets or []])

    def create_token(self, domain: str) -> Token:
        r = self._call(lambda: self._client.create_cname_token(self._oss.CreateCnameTokenRequest(
            bucket=self._bucket, bucket_cname_configuration=self._conf(domain))))
        t = r.cname_token
        return Token(t.bucket, t.cname, t.token, t.expire_time)

    def get_token(self, domain: str) -> Token:
        r = self._call(lambda: self._client.get_cname_token(
            self._oss.GetCnameTokenRequest(bucket=self._bucket, cname=domain)))
        t = r.cname_token
        return Token(t.bucket, t.cname, t.token, t.expire_time)

    def put_cname(self, domain: str, cert: Cert | None = None) -> int:
        r = self._call(lambda: self._client.put_cname(self._oss.PutCnameRequest(
            bucket=self._bucket, bucket_cname_configuration=self._conf(domain, cert))))
        return int(r.status_code)

    def list_cname(self) -> tuple[str, str, list[Entry]]:
        r = self._call(lambda: self._client.list_cname(
            self._oss.ListCnameRequest(bucket=self._bucket)))
        entries = []
        for c in r.cnames or []:
            cert = c.certificate
            entries.append(Entry(
                c.domain, c.status, c.last_modified,
                cert.type if cert else None, cert.cert_id if cert else None,
                cert.fingerprint if cert else None, cert.valid_start_date if cert else None,
                cert.valid_end_date if cert else None, cert.creation_date if cert else None))
        return r.bucket, r.owner, entries

    def delete_cname(self, domain: str) -> int:
        r = self._call(lambda: self._client.delete_cname(self._oss.DeleteCnameRequest(
            bucket=self._bucket, bucket_cname_configuration=self._conf(domain))))
        return int(r.status_code)


ADAPTERS = {"oss2": Oss2Adapter, "oss-v2": OssV2Adapter}
