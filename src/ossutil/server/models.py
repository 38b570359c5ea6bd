"""Plain records the server's domain and stores exchange. No HTTP, no SQL, no XML.

Times are timezone-aware UTC datetimes; secrets are kept out of ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypedDict


@dataclass(frozen=True)
class Account:
    """A tenant: owns buckets; its numeric id is the ``Owner`` OSS shows."""

    owner_id: str
    created_at: datetime


@dataclass(frozen=True)
class User:
    """A RAM user of an account; ``policy`` is the policy document text (None = no rights)."""

    name: str
    owner_id: str
    policy: str | None
    created_at: datetime


@dataclass(frozen=True)
class AccessKey:
    """An AccessKey pair. ``user`` None means the account's root key."""

    access_key_id: str
    secret: str = field(repr=False)
    owner_id: str
    user: str | None
    enabled: bool = True


@dataclass(frozen=True)
class SealedAccessKey:
    """An AccessKey as the stores keep it: the secret sealed by ``auth/sealing.py`` (stores
    never see or open plain secrets)."""

    access_key_id: str
    secret_sealed: bytes = field(repr=False)
    owner_id: str
    user: str | None
    enabled: bool = True


class BucketAcl(StrEnum):
    """A bucket's canned ACL; the value is the ``acl`` column, ``x-oss-acl`` and ``<Grant>``."""

    PRIVATE = "private"
    PUBLIC_READ = "public-read"
    PUBLIC_READ_WRITE = "public-read-write"


@dataclass(frozen=True)
class Bucket:
    name: str
    owner_id: str
    region: str
    acl: BucketAcl
    storage_class: str
    created_at: datetime
    # the bucket's website, CORS and Referer configurations: GetBucketWebsite's, -Cors's and
    # -Referer's documents as stored (None: not configured); see BucketConfig
    website: str | None = None
    cors: str | None = None
    referer: str | None = None


class BucketConfig(StrEnum):
    """A bucket configuration kept as one document; the value is its ``buckets`` column and
    its ``Bucket`` field."""

    WEBSITE = "website"
    CORS = "cors"
    REFERER = "referer"


@dataclass(frozen=True)
class CnameTokenRecord:
    bucket: str
    domain: str
    token: str
    created_at: datetime
    expires_at: datetime


class CertificateType(StrEnum):
    """Where a stored certificate came from; the value is the ``type`` column and OSS's
    ``<Certificate><Type>``."""

    UPLOAD = "Upload"  # inline PEM given to PutCname
    CAS = "CAS"  # referenced by id (Certificate Management Service)
    # issued by the ACME CA of ``serve --acme-directory`` (server/acme/); never in the
    # ``certificates`` table, never attachable by CertId. oss2 and alibabacloud-oss-v2 read
    # ``<Type>`` as a plain string (checked in their ListCname parsers), so this value parses.
    ACME = "ACME"


@dataclass(frozen=True)
class Certificate:
    """A stored certificate; ``key_sealed`` is the private key encrypted by the SecretBox."""

    cert_id: str
    owner_id: str
    type: CertificateType
    chain_pem: str
    key_sealed: bytes = field(repr=False)
    fingerprint: str
    not_before: datetime
    not_after: datetime
    created_at: datetime


class BindingStatus(StrEnum):
    """A binding's state; the value is the ``status`` column and OSS's ``<Status>``."""

    ENABLED = "Enabled"  # the only state the stores write
    DISABLED = "Disabled"  # never written today; the gateway serves only ENABLED bindings


@dataclass(frozen=True)
class Binding:
    """A domain bound to a bucket, with the certificate attached to it, if any."""

    domain: str
    bucket: str
    status: BindingStatus
    created_at: datetime
    last_modified: datetime
    cert_id: str | None = None
    cert_attached_at: datetime | None = None
    certificate: Certificate | None = None
    # the automatic (ACME) certificate, served when none is attached (``served_certificate``)
    auto_certificate: Certificate | None = None
    dangling: bool = False  # domain health found the domain no longer points here

    @property
    def served_certificate(self) -> Certificate | None:
        """What TLS serves and ListCname shows: the uploaded one wins, else the automatic."""
        return self.certificate if self.certificate is not None else self.auto_certificate


@dataclass(frozen=True)
class AcmeState:
    """One bound domain's automatic certificate and its order/renewal state (``AcmeStore``):
    what domain health reports. ``certificate`` is None until the first issuance; times are
    UTC; ``last_error`` is the last failed attempt's text (None after a success)."""

    domain: str
    certificate: Certificate | None
    issued_at: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    next_attempt: datetime | None
    failures: int  # attempts failed in a row

    @property
    def not_after(self) -> datetime | None:
        return None if self.certificate is None else self.certificate.not_after


class CertAction(StrEnum):
    """What a PutCname does to the binding's certificate."""

    KEEP = "keep"  # leave it as it is (none, or the one attached)
    ATTACH = "attach"  # attach ``cert_id`` (replacing any other)
    DETACH = "detach"  # remove it (DeleteCertificate)


@dataclass(frozen=True)
class BindingChange:
    """One atomic PutCname write: the binding row and, when uploaded, a new certificate."""

    domain: str
    bucket: str
    now: datetime
    is_new: bool
    cert_action: CertAction
    cert_id: str | None = None
    new_certificate: Certificate | None = None


class ObjectType(StrEnum):
    """An object's kind; the value is ``x-oss-object-type`` and ListObjects' ``<Type>``."""

    NORMAL = "Normal"  # PutObject, CopyObject
    MULTIPART = "Multipart"  # made by CompleteMultipartUpload


@dataclass(frozen=True)
class ObjectMeta:
    """One object's row. The content is the blob file ``blob`` (see ``server/storage/blobs.py``).

    ``etag`` is in wire form: the uppercase hex MD5 in double quotes.
    ``user_meta`` holds the ``x-oss-meta-*`` headers (lower-case names), ``headers`` the standard
    content headers given at upload and replayed on reads (Cache-Control, Content-Disposition,
    Content-Encoding, Content-Language, Expires).
    """

    bucket: str
    key: str
    size: int
    etag: str
    content_type: str
    last_modified: datetime
    blob: str  # file name of the content inside the data dir's blob folder
    user_meta: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    object_type: ObjectType = ObjectType.NORMAL
    crc64: int | None = None  # x-oss-hash-crc64ecma; None: stored before CRCs were kept


@dataclass(frozen=True)
class MultipartUpload:
    """A multipart upload in progress: what InitiateMultipartUpload said about the object to be.

    ``upload_id`` is 32 uppercase hex characters; the first 12 are the initiation time in
    milliseconds, so ids of one key sort in initiation order.
    """

    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    content_type: str
    user_meta: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PartRecord:
    """One uploaded part: its content is the blob ``blob``; ``etag`` is in wire form."""

    upload_id: str
    part_number: int
    size: int
    etag: str
    last_modified: datetime
    blob: str
    crc64: int | None = None  # None for a part uploaded before CRCs were kept


class BucketContent(StrEnum):
    """What keeps a bucket from being deleted (``delete_bucket``'s answer; None: deleted)."""

    OBJECTS = "objects"
    BINDINGS = "bindings"  # custom domains still bound
    UPLOADS = "uploads"  # multipart uploads in progress


# One enabled binding as the gateway's DomainTable keeps it, read at start-up for every binding:
# (domain, bucket, then the attached certificate's cert_id, fingerprint, chain_pem and
# key_sealed, all four None without one). A plain tuple: no timestamps, no per-row object.
Route = tuple[str, str, str | None, str | None, str | None, bytes | None]


class Versions(TypedDict):
    """The store's change counters that other processes' caches poll."""

    auth: int  # users, keys, policies (the KeyRing reloads)
    buckets: int  # bucket rows (ReadCache drops its buckets)
    bindings: int  # the newest binding change number (ReadCache drops its bindings)
    # moves whenever an object row is written or deleted, by any process (an object cache
    # drops what it holds); only ever compared for equality
    objects: int
