"""``OssClient``: one method per OSS operation: build -> sign -> send -> decode.

    from ossutil.client import Credentials, OssClient

    client = OssClient("http://127.0.0.1:9000", Credentials("LTAI...", "secret"))
    client.create_bucket("examplebucket")
    token = client.create_cname_token("examplebucket", "www.example.com")
    print(f"publish TXT _dnsauth.www.example.com = {token.token} before {token.expire_time}")
    client.put_cname("examplebucket", CnameConfiguration("www.example.com"))
    for info in client.list_cname("examplebucket").cnames:
        print(info.domain, info.status)

Addressing follows the SDKs: an IP endpoint (and, by default, ``localhost``) is path style
(``/bucket/``); ``path_style=True`` forces it for names; ``cname=True`` means the endpoint already
is the bucket's custom domain; anything else is virtual-hosted (``bucket.endpoint``). Signatures
always cover ``/bucket/`` whatever the style (``wire.signing``).

Two request styles:

- ``wire_style="python"`` (default): ``Content-Type: application/xml`` on bodies, V4 with an
  ``x-oss-date`` header, any 2xx accepted.
- ``wire_style="go"``: byte-for-byte the Go SDK v3.0.2 that ossutil 1.7 is built on (reference
  ``ossutil-cli.md`` §9): ``Host, User-Agent, Content-Length`` then the other headers sorted by
  name, ``Accept-Encoding: gzip`` last; ``Content-Type`` sniffed from the body; V4 signs the
  ``Date`` text and sends no ``x-oss-date``; PutCname/DeleteCname/PutBucket require exactly 200;
  redirects with ``Location`` are followed (at most 10). The CLI uses this style.

Errors: a service error reply raises ``OssError`` (parsed by
``wire.error_xml.error_from_response``, raw reply in ``error.response``); local failures raise
``ClientError`` subclasses (see ``client.errors``).
"""

from __future__ import annotations

import os
import time

from ossutil.client.errors import ClientError, UnexpectedStatusError
from ossutil.client.gocompat import (
    Endpoint,
    detect_content_type,
    go_escape_text,
    go_query_escape,
    parse_endpoint,
)
from ossutil.client.plain import default_user_agent
from ossutil.client.transport import (
    FileBody,
    HttpClientTransport,
    ProxyConfig,
    Request,
    Response,
    Sink,
    Transport,
    TransportError,
)
from ossutil.wire import signing
from ossutil.wire.dates import rfc1123_fields, utc_fields, v4_timestamp, v4_timestamp_fields
from ossutil.wire.records import Record

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime
    from typing import BinaryIO, Literal

    from ossutil.wire.cname_xml import CnameConfiguration, CnameToken, ListCnameResult
    from ossutil.wire.cors_xml import CorsConfiguration
    from ossutil.wire.referer_xml import RefererConfiguration
    from ossutil.wire.website_xml import WebsiteConfiguration

    WireStyle = Literal["go", "python"]
    SignVersion = Literal["v1", "v2", "v4"]
    Query = Sequence[tuple[str, str | None]]  # None = a bare sub-resource name (``?cname``)

__all__ = ["Credentials", "OssClient", "BucketSummary", "BucketInfo", "ObjectInfo",
           "CorsPreflight", "default_user_agent", "cname_body"]

# ``default_user_agent`` lives in ``client.plain``: the CLI's light path sends the same
# User-Agent without importing this module.


class Credentials(Record):
    """An AccessKey pair and optional STS token. ``repr()`` never shows the secret or token.

    ``Credentials("LTAI...", "secret")``; ``Credentials(id, secret, security_token=token)``.
    """

    __slots__ = ("access_key_id", "access_key_secret", "security_token")
    _defaults = {"security_token": None}
    _secret = ("access_key_secret", "security_token")
    access_key_id: str
    access_key_secret: str
    security_token: str | None


class BucketSummary(Record):
    """One ``<Bucket>`` of ListBuckets; dates are OSS's text (``2025-01-02T03:04:05.000Z``)."""

    __slots__ = ("name", "location", "creation_date", "storage_class", "region",
                 "extranet_endpoint", "intranet_endpoint")
    _defaults = dict.fromkeys(__slots__[1:], "")
    name: str
    location: str
    creation_date: str
    storage_class: str
    region: str
    extranet_endpoint: str
    intranet_endpoint: str


class ObjectSummary(Record):
    """One ``<Contents>`` of ListObjects; ``etag`` without quotes, dates as OSS's text."""

    __slots__ = ("key", "last_modified", "size", "etag", "storage_class", "type")
    _defaults = {"last_modified": "", "size": 0, "etag": "", "storage_class": "", "type": ""}
    key: str
    last_modified: str
    size: int
    etag: str
    storage_class: str
    type: str


class ObjectPage(Record):
    """One page of ListObjects: objects, common prefixes, and where the next page starts
    (``next_marker`` is "" on the last page)."""

    __slots__ = ("objects", "prefixes", "next_marker")
    _defaults = {"prefixes": (), "next_marker": ""}
    objects: tuple[ObjectSummary, ...]
    prefixes: tuple[str, ...]
    next_marker: str


class UploadSummary(Record):
    """One ``<Upload>`` of ListMultipartUploads: a multipart upload in progress."""

    __slots__ = ("key", "upload_id", "initiated")
    key: str
    upload_id: str
    initiated: str


class UploadPage(Record):
    """One page of ListMultipartUploads; the next-markers are "" on the last page."""

    __slots__ = ("uploads", "prefixes", "next_key_marker", "next_upload_id_marker")
    _defaults = {"prefixes": (), "next_key_marker": "", "next_upload_id_marker": ""}
    uploads: tuple[UploadSummary, ...]
    prefixes: tuple[str, ...]
    next_key_marker: str
    next_upload_id_marker: str


class BucketInfo(Record):
    """GetBucketInfo's ``<Bucket>``."""

    __slots__ = ("name", "location", "creation_date", "storage_class", "acl", "owner_id",
                 "owner_display_name", "extranet_endpoint", "intranet_endpoint",
                 "redundancy_type", "transfer_acceleration", "cross_region_replication",
                 "access_monitor", "sse_algorithm", "kms_master_key_id", "kms_data_encryption")
    _defaults = dict.fromkeys(__slots__[1:], "")
    name: str
    location: str
    creation_date: str
    storage_class: str
    acl: str
    owner_id: str
    owner_display_name: str
    extranet_endpoint: str
    intranet_endpoint: str
    redundancy_type: str
    transfer_acceleration: str
    cross_region_replication: str
    access_monitor: str
    sse_algorithm: str
    kms_master_key_id: str
    kms_data_encryption: str


class ObjectAcl(Record):
    """GetObjectAcl: the grant (``default`` = the bucket's) and the owner's id."""

    __slots__ = ("acl", "owner_id")
    acl: str
    owner_id: str


class OssClient:
    """A client for the bucket and CNAME operations of OSS (and ``ossutil-server``).

    ``endpoint``: ``http(s)://host[:port]`` (no scheme means http, as in ossutil).
    ``region`` is required for ``sign_version="v4"``; ``cloudbox_id`` replaces it in the V4
    scope (product ``oss-cloudbox``). ``clock`` returns the request time (tests freeze it).
    """

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        region: str | None = None,
        sign_version: SignVersion = "v1",
        path_style: bool | None = None,
        cname: bool = False,
        connect_timeout: float = 120,
        read_timeout: float = 1200,
        proxy: str | ProxyConfig | None = None,
        verify_tls: bool = True,
        user_agent: str | None = None,
        transport: Transport | None = None,
        wire_style: WireStyle = "python",
        cloudbox_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if sign_version not in ("v1", "v2", "v4"):
            raise ClientError(f"Init client Error, invalid Auth version: {sign_version}")
        if sign_version == "v4" and not (region or cloudbox_id):
            raise ClientError("In the v4 signature scenario, please enter the region")
        self.endpoint: Endpoint = parse_endpoint(endpoint)
        self.credentials = credentials
        self.region = region or ""
        self.cloudbox_id = cloudbox_id or ""
        self.sign_version: SignVersion = sign_version
        self.cname = cname
        self.wire_style: WireStyle = wire_style
        if path_style is None:
            # oss2's rule: IP (always path style, see ``url``) or localhost -> path style. The
            # CLI passes ``path_style`` explicitly: ossutil treats localhost as any other name.
            path_style = self.endpoint.host.lower() == "localhost"
        self.path_style = path_style
        self.user_agent = user_agent or default_user_agent()
        self.transport: Transport = transport or HttpClientTransport(
            connect_timeout=connect_timeout, read_timeout=read_timeout, proxy=proxy,
            verify_tls=verify_tls)
        self._clock = clock

    def _request_time(self) -> time.struct_time:
        """The request's moment as UTC fields: ``time.gmtime()`` unless a clock was given, so a
        CLI call never imports ``datetime`` (~1.5 ms of its start-up)."""
        return time.gmtime() if self._clock is None else utc_fields(self._clock())

    def close(self) -> None:
        """Close idle keep-alive connections (also done by ``with OssClient(...) as client``)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> OssClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- CNAME operations ------------------------------------------------------------------

    def create_cname_token(self, bucket: str, domain: str) -> CnameToken:
        """CreateCnameToken: the token to publish as TXT ``_dnsauth.<domain>``."""
        from ossutil.wire.cname_xml import decode_cname_token

        return decode_cname_token(self.create_cname_token_raw(bucket, domain).body)

    def create_cname_token_raw(self, bucket: str, domain: str) -> Response:
        return self._send("POST", bucket, [("cname", None), ("comp", "token")],
                          self._domain_body(domain))

    def get_cname_token(self, bucket: str, domain: str) -> CnameToken:
        """GetCnameToken: the token created earlier (404 CnameTokenNotFound once expired)."""
        from ossutil.wire.cname_xml import decode_cname_token

        return decode_cname_token(self.get_cname_token_raw(bucket, domain).body)

    def get_cname_token_raw(self, bucket: str, domain: str) -> Response:
        return self._send("GET", bucket, [("cname", domain), ("comp", "token")])

    def put_cname(self, bucket: str, config: CnameConfiguration | bytes) -> None:
        """PutCname: bind a domain, and attach, rotate or detach its certificate.

        ``config`` is a ``CnameConfiguration`` or the bytes of a ``BucketCnameConfiguration``
        document, sent verbatim (ossutil's ``--item certificate`` file).
        """
        self.put_cname_raw(bucket, config)

    def put_cname_raw(self, bucket: str, config: CnameConfiguration | bytes) -> Response:
        if isinstance(config, bytes):
            body = config
        elif config.certificate is None and not config.is_wildcard:
            body = self._domain_body(config.domain)
        else:
            from ossutil.wire.cname_xml import encode_cname_configuration

            body = encode_cname_configuration(config)
        return self._send("POST", bucket, [("cname", None), ("comp", "add")], body,
                          expect_exactly=200)

    def list_cname(self, bucket: str) -> ListCnameResult:
        """ListCname: every domain bound to the bucket, with certificate summaries."""
        from ossutil.wire.cname_xml import decode_list_cname_result

        return decode_list_cname_result(self.list_cname_raw(bucket).body)

    def list_cname_raw(self, bucket: str) -> Response:
        """ListCname without decoding: the body exactly as the server sent it."""
        return self._send("GET", bucket, [("cname", None)])

    def delete_cname(self, bucket: str, domain: str) -> None:
        """DeleteCname: unbind ``domain`` (success even when it was not bound)."""
        self.delete_cname_raw(bucket, domain)

    def delete_cname_raw(self, bucket: str, domain: str) -> Response:
        return self._send("POST", bucket, [("cname", None), ("comp", "delete")],
                          self._domain_body(domain), expect_exactly=200)

    # --- bucket operations -----------------------------------------------------------------

    def create_bucket(self, bucket: str, acl: str | None = None, *,
                      storage_class: str = "Standard", redundancy_type: str | None = None) -> None:
        """PutBucket with ``<CreateBucketConfiguration>`` (as ossutil ``mb`` sends it)."""
        parts = f"<StorageClass>{go_escape_text(storage_class)}</StorageClass>"
        if redundancy_type:
            parts += f"<DataRedundancyType>{go_escape_text(redundancy_type)}</DataRedundancyType>"
        body = f"<CreateBucketConfiguration>{parts}</CreateBucketConfiguration>".encode()
        headers = [("X-Oss-Acl", acl)] if acl else []
        self._send("PUT", bucket, [], body, headers, expect_exactly=200)

    def delete_bucket(self, bucket: str) -> None:
        """DeleteBucket (the bucket must be empty)."""
        self._send("DELETE", bucket, [], expect_exactly=204)

    def list_buckets(self, prefix: str = "", marker: str = "",
                     max_keys: int | None = None) -> list[BucketSummary]:
        """ListBuckets, following ``NextMarker`` until the listing is complete."""
        from ossutil.wire.bucket_xml import decode_list_buckets

        result: list[BucketSummary] = []
        while True:
            page = decode_list_buckets(self.list_buckets_raw(prefix, marker, max_keys).body)
            result += (BucketSummary(
                name=entry.name, location=entry.location, creation_date=entry.creation_date,
                storage_class=entry.storage_class, region=entry.region,
                extranet_endpoint=entry.extranet_endpoint,
                intranet_endpoint=entry.intranet_endpoint) for entry in page.buckets)
            marker = page.next_marker or ""
            if not page.is_truncated or not marker or max_keys is not None:
                return result

    def list_buckets_raw(self, prefix: str = "", marker: str = "",
                         max_keys: int | None = None) -> Response:
        query: list[tuple[str, str | None]] = [("marker", marker or None),
                                               ("prefix", prefix or None)]
        if max_keys is not None:
            query.append(("max-keys", str(max_keys)))
        return self._send("GET", "", query)

    def list_objects_page(self, bucket: str, prefix: str = "", marker: str = "",
                          delimiter: str = "", max_keys: int = 1000) -> ObjectPage:
        """One page of ListObjects (V1), asked with ``encoding-type=url`` as ossutil does, so
        any key survives the XML; names come back decoded."""
        from ossutil.wire.object_xml import decode_list_bucket_result

        query: list[tuple[str, str | None]] = [
            ("delimiter", delimiter or None), ("encoding-type", "url"),
            ("marker", marker or None), ("max-keys", str(max_keys)), ("prefix", prefix or None)]
        page = decode_list_bucket_result(self._send("GET", bucket, query).body)
        objects = tuple(ObjectSummary(
            key=entry.key, last_modified=entry.last_modified, size=entry.size,
            etag=entry.etag.strip('"'), storage_class=entry.storage_class, type=entry.type)
            for entry in page.contents)
        next_marker = (page.next_marker or "") if page.is_truncated else ""
        return ObjectPage(objects=objects, prefixes=page.common_prefixes,
                          next_marker=next_marker)

    def object_pages(self, bucket: str, prefix: str = "", marker: str = "",
                     delimiter: str = "", max_keys: int = 1000) -> Iterator[ObjectPage]:
        """``list_objects_page`` after page, each read only when the caller asks for it."""
        while True:
            page = self.list_objects_page(bucket, prefix=prefix, marker=marker,
                                          delimiter=delimiter, max_keys=max_keys)
            yield page
            if not page.next_marker:
                return
            marker = page.next_marker

    def list_multipart_uploads_page(self, bucket: str, prefix: str = "", key_marker: str = "",
                                    upload_id_marker: str = "", delimiter: str = "",
                                    max_uploads: int = 1000) -> UploadPage:
        """One page of ListMultipartUploads (``GET /?uploads``), names decoded."""
        from ossutil.wire.multipart_xml import decode_list_uploads

        query: list[tuple[str, str | None]] = [
            ("delimiter", delimiter or None), ("encoding-type", "url"),
            ("key-marker", key_marker or None), ("max-uploads", str(max_uploads)),
            ("prefix", prefix or None), ("upload-id-marker", upload_id_marker or None),
            ("uploads", None)]
        page = decode_list_uploads(self._send("GET", bucket, query).body)
        uploads = tuple(UploadSummary(key=entry.key, upload_id=entry.upload_id,
                                      initiated=entry.initiated) for entry in page.uploads)
        if not page.is_truncated:
            return UploadPage(uploads=uploads, prefixes=page.common_prefixes)
        return UploadPage(uploads=uploads, prefixes=page.common_prefixes,
                          next_key_marker=page.next_key_marker,
                          next_upload_id_marker=page.next_upload_id_marker)

    def get_bucket_info(self, bucket: str) -> BucketInfo:
        """GetBucketInfo."""
        from ossutil.wire.bucket_xml import decode_bucket_info

        info = decode_bucket_info(self._send("GET", bucket, [("bucketInfo", None)]).body)
        entry, owner = info.entry, info.owner
        return BucketInfo(
            name=entry.name, location=entry.location, creation_date=entry.creation_date,
            storage_class=entry.storage_class, acl=info.acl,
            owner_id=owner.id if owner is not None else "",
            owner_display_name=owner.display_name if owner is not None else "",
            extranet_endpoint=entry.extranet_endpoint, intranet_endpoint=entry.intranet_endpoint,
            redundancy_type=info.data_redundancy_type,
            transfer_acceleration=info.transfer_acceleration,
            cross_region_replication=info.cross_region_replication,
            access_monitor=info.access_monitor, sse_algorithm=info.sse_algorithm,
            kms_master_key_id=info.kms_master_key_id or "",
            kms_data_encryption=info.kms_data_encryption or "")

    def get_object_acl(self, bucket: str, key: str) -> ObjectAcl:
        """GetObjectAcl (``GET /key?acl``)."""
        from ossutil.wire.bucket_xml import decode_access_control_policy

        policy = decode_access_control_policy(
            self._send("GET", bucket, [("acl", None)], key=key).body)
        return ObjectAcl(acl=policy.grant,
                         owner_id=policy.owner.id if policy.owner is not None else "")

    # --- bucket configurations: static website, CORS, Referer ------------------------------
    # ``*_raw`` send a body as it is and return the reply as it came (the CLI's commands need
    # both: ossutil 1.7 sends a website file unparsed and prints replies its own way). Puts
    # require exactly 200 and deletes exactly 204 in the Go wire style, as the Go SDK does.

    def put_bucket_website(self, bucket: str, config: WebsiteConfiguration | bytes) -> None:
        """PutBucketWebsite: index and error documents, routing rules (replaces the old ones).

        ``config`` is a ``WebsiteConfiguration`` or the bytes of a document, sent verbatim.
        """
        if not isinstance(config, bytes):
            from ossutil.wire.website_xml import encode_website_configuration

            config = encode_website_configuration(config)
        self.put_bucket_website_raw(bucket, config)

    def get_bucket_website(self, bucket: str) -> WebsiteConfiguration:
        """GetBucketWebsite (404 ``NoSuchWebsiteConfiguration`` when the bucket has none)."""
        from ossutil.wire.website_xml import decode_website_configuration

        return decode_website_configuration(self.get_bucket_website_raw(bucket).body)

    def put_bucket_website_raw(self, bucket: str, body: bytes) -> Response:
        return self._send("PUT", bucket, [("website", None)], body, expect_exactly=200)

    def get_bucket_website_raw(self, bucket: str) -> Response:
        return self._send("GET", bucket, [("website", None)])

    def delete_bucket_website(self, bucket: str) -> None:
        """DeleteBucketWebsite (204 also when the bucket had no website configuration)."""
        self.delete_bucket_website_raw(bucket)

    def delete_bucket_website_raw(self, bucket: str) -> Response:
        return self._send("DELETE", bucket, [("website", None)], expect_exactly=204)

    def put_bucket_cors(self, bucket: str, config: CorsConfiguration | bytes) -> None:
        """PutBucketCors: the bucket's CORS rules, replacing the old ones (bytes: verbatim)."""
        if not isinstance(config, bytes):
            from ossutil.wire.cors_xml import encode_cors_configuration

            config = encode_cors_configuration(config)
        self.put_bucket_cors_raw(bucket, config)

    def get_bucket_cors(self, bucket: str) -> CorsConfiguration:
        """GetBucketCors (404 ``NoSuchCORSConfiguration`` when the bucket has no rules)."""
        from ossutil.wire.cors_xml import decode_cors_configuration

        return decode_cors_configuration(self.get_bucket_cors_raw(bucket).body)

    def put_bucket_cors_raw(self, bucket: str, body: bytes) -> Response:
        return self._send("PUT", bucket, [("cors", None)], body, expect_exactly=200)

    def get_bucket_cors_raw(self, bucket: str) -> Response:
        return self._send("GET", bucket, [("cors", None)])

    def delete_bucket_cors(self, bucket: str) -> None:
        """DeleteBucketCors (204 also when the bucket had no CORS rules)."""
        self.delete_bucket_cors_raw(bucket)

    def delete_bucket_cors_raw(self, bucket: str) -> Response:
        return self._send("DELETE", bucket, [("cors", None)], expect_exactly=204)

    def put_bucket_referer(self, bucket: str, config: RefererConfiguration | bytes) -> None:
        """PutBucketReferer: the Referer whitelist and blacklist (bytes: verbatim). OSS has no
        DeleteBucketReferer: put ``RefererConfiguration()`` (empty lists, empty Referer
        allowed) to turn hotlink protection off."""
        if not isinstance(config, bytes):
            from ossutil.wire.referer_xml import encode_referer_configuration

            config = encode_referer_configuration(config)
        self.put_bucket_referer_raw(bucket, config)

    def get_bucket_referer(self, bucket: str) -> RefererConfiguration:
        """GetBucketReferer (a bucket never configured answers the allow-all default)."""
        from ossutil.wire.referer_xml import decode_referer_configuration

        return decode_referer_configuration(self.get_bucket_referer_raw(bucket).body)

    def put_bucket_referer_raw(self, bucket: str, body: bytes) -> Response:
        return self._send("PUT", bucket, [("referer", None)], body, expect_exactly=200)

    def get_bucket_referer_raw(self, bucket: str) -> Response:
        return self._send("GET", bucket, [("referer", None)])

    def options_object(self, bucket: str, key: str = "", *, origin: str,
                       request_method: str,
                       request_headers: str | None = None) -> CorsPreflight:
        """OptionObject, the preflight a browser sends: what the bucket's CORS rules allow
        ``origin`` to do with ``request_method`` (and ``request_headers``, comma-separated) on
        ``key``; 403 ``AccessForbidden`` when no rule matches."""
        return CorsPreflight.from_response(self.options_object_raw(
            bucket, key, origin=origin, request_method=request_method,
            request_headers=request_headers))

    def options_object_raw(self, bucket: str, key: str = "", *, origin: str | None = None,
                           request_method: str | None = None,
                           request_headers: str | None = None) -> Response:
        """A CORS preflight (``OPTIONS /key``), signed; ``Origin``,
        ``Access-Control-Request-Method`` and ``-Headers`` are sent when given."""
        headers = []
        if origin is not None:
            headers.append(("Origin", origin))
        if request_method is not None:
            headers.append(("Access-Control-Request-Method", request_method))
        if request_headers is not None:
            headers.append(("Access-Control-Request-Headers", request_headers))
        return self._send("OPTIONS", bucket, [], headers=headers, key=key)

    # --- plumbing: build -> sign -> send ---------------------------------------------------

    def url(self, bucket: str, query: Query = (), key: str = "") -> str:
        """The request URL for ``bucket`` (and object ``key``): the Go SDK's ``urlMaker``.

        The key is escaped as each SDK does: Go query-escapes it whole (``/`` too), oss2 keeps
        ``/``; servers decode either to the same name.
        """
        ep = self.endpoint
        if key:
            from urllib.parse import quote

            key = (go_query_escape(key) if self.wire_style == "go"
                   else quote(key.encode("utf-8", "surrogateescape"), safe="/-_.~"))
        if not bucket:
            host, path = ep.netloc, "/"
        elif ep.is_ip or (self.path_style and not self.cname):
            host, path = ep.netloc, f"/{bucket}/{key}"
        elif self.cname:
            host, path = ep.netloc, f"/{key}"
        else:
            host, path = f"{bucket}.{ep.netloc}", f"/{key}"
        text = f"{ep.scheme}://{host}{path}"
        params = self._query_string(query)
        return f"{text}?{params}" if params else text

    @staticmethod
    def _query_string(query: Query) -> str:
        """Sorted, ``url.QueryEscape``-d, bare names for empty values (Go SDK spelling)."""
        parts = []
        for name, value in sorted(query, key=lambda item: item[0]):
            parts.append(go_query_escape(name) + (f"={go_query_escape(value)}" if value else ""))
        return "&".join(parts)

    def presign(self, method: str, bucket: str, key: str, expires: int = 60, *,
                query: Sequence[tuple[str, str]] = (), headers: Sequence[tuple[str, str]] = (),
                additional_headers: Sequence[str] = (),
                subresources: frozenset[str] = signing.SUBRESOURCES,
                now: datetime | None = None) -> str:
        """A presigned URL: ``method`` on ``bucket``/``key`` for ``expires`` seconds from now,
        signed in the query with this client's ``sign_version`` and credentials.

        V1: ``Expires`` (absolute Unix time), ``OSSAccessKeyId``, ``Signature``; V4:
        ``x-oss-signature-version=OSS4-HMAC-SHA256``, ``x-oss-credential``, ``x-oss-date``,
        ``x-oss-expires`` (relative), ``x-oss-signature`` and, when ``additional_headers`` names
        any, ``x-oss-additional-headers``; V2 (the Go SDK's OSS2) its own names. An STS token
        travels as ``security-token`` (V1, V2) or ``x-oss-security-token`` (V4).

        ``query``: extra parameters (``versionId``, ``x-oss-traffic-limit``,
        ``response-content-type`` ...); a repeated name keeps its last value, and names the
        signature sets are replaced (the Go SDK's map). ``headers``: the ``Content-Type``,
        ``Content-MD5`` and ``x-oss-*`` headers the request will carry (they are signed; the
        caller of the URL must send them). ``subresources``: the V1 parameters signed (oss2's
        set; ``ossutil sign`` passes the Go SDK's). The URL is spelled as the Go SDK does:
        parameters sorted, ``url.QueryEscape``-d, ``%20`` for a space in values. Expiry is
        int64 arithmetic as in Go (a huge ``expires`` wraps), and V4's 7-day cap is the
        server's to enforce. ``now`` defaults to the client's clock. Nothing is sent.
        """
        if now is None:
            from datetime import datetime, timezone

            now = datetime.now(timezone.utc) if self._clock is None else self._clock()
        creds = self.credentials
        token = creds.security_token or None
        params = list(dict(query).items())  # the last value of a repeated name wins
        lowered = {name.lower(): value for name, value in headers}
        request = signing.SigningRequest(method.upper(), bucket, key, params, lowered)
        if self.sign_version == "v4":
            pairs = signing.v4_presign_query(
                creds.access_key_id, creds.access_key_secret, request,
                region=self.cloudbox_id or self.region, timestamp=v4_timestamp(now),
                expires=expires, product="oss-cloudbox" if self.cloudbox_id else "oss",
                additional=additional_headers, security_token=token)
        else:
            expiration = (int(now.timestamp()) + expires + 2**63) % 2**64 - 2**63  # Go's int64
            if self.sign_version == "v2":
                pairs = signing.v2_presign_query(creds.access_key_id, creds.access_key_secret,
                                                 request, str(expiration), security_token=token)
            else:
                pairs = signing.v1_presign_query(
                    creds.access_key_id, creds.access_key_secret, request, str(expiration),
                    security_token=token, subresources=subresources)
        return f"{self.url(bucket, (), key)}?{_presign_query_string(pairs)}"

    def build_request(self, method: str, bucket: str, query: Query = (),
                      body: bytes | FileBody = b"", headers: Sequence[tuple[str, str]] = (), *,
                      key: str = "", sink: Sink | None = None) -> Request:
        """The signed request, headers in wire order (public so tests can inspect it).

        ``key`` names an object; ``body`` may stream from a file (``FileBody``); ``sink``
        receives a 2xx response body (see ``transport``).
        """
        now = self._request_time()
        url = self.url(bucket, query, key)
        host = url.split("://", 1)[1].split("/", 1)[0]
        token = self.credentials.security_token
        if self.wire_style == "go":
            request = self._build_go(method, bucket, query, body, headers, url, host, now, token,
                                     key)
        else:
            request = self._build_python(method, bucket, query, body, headers, url, host, now,
                                         token, key)
        if sink is not None:
            request = Request(request.method, request.url, request.headers, request.body, sink)
        return request

    def _build_go(self, method: str, bucket: str, query: Query, body: bytes | FileBody,
                  headers: Sequence[tuple[str, str]], url: str, host: str, now: time.struct_time,
                  token: str | None, key: str = "") -> Request:
        extra: dict[str, str] = {_canonical(name): value for name, value in headers}
        extra["Date"] = rfc1123_fields(now)
        if body and "Content-Type" not in extra:
            extra["Content-Type"] = detect_content_type(body)  # type: ignore[arg-type]
        if self.sign_version == "v4":
            extra["X-Oss-Content-Sha256"] = signing.UNSIGNED_PAYLOAD
        if token:
            extra["X-Oss-Security-Token"] = token
        extra["Authorization"] = self._authorization(method, bucket, query, extra, now, key)
        wire = [("Host", host), ("User-Agent", self.user_agent)]
        if body or method in ("POST", "PUT"):
            wire.append(("Content-Length", str(len(body))))
        wire.extend(sorted(extra.items()))
        wire.append(("Accept-Encoding", "gzip"))
        return Request(method, url, wire, body)

    def _build_python(self, method: str, bucket: str, query: Query, body: bytes | FileBody,
                      headers: Sequence[tuple[str, str]], url: str, host: str,
                      now: time.struct_time, token: str | None, key: str = "") -> Request:
        extra: dict[str, str] = {name.lower(): value for name, value in headers}
        if body or method in ("POST", "PUT"):
            extra.setdefault("content-type", "application/xml")
        extra["date"] = rfc1123_fields(now)
        if self.sign_version == "v4":
            extra["x-oss-date"] = v4_timestamp_fields(now)
            extra["x-oss-content-sha256"] = signing.UNSIGNED_PAYLOAD
        if token:
            extra["x-oss-security-token"] = token
        authorization = self._authorization(method, bucket, query, extra, now, key)
        wire = [("Host", host), ("User-Agent", self.user_agent)]
        if body or method in ("POST", "PUT"):
            wire.append(("Content-Length", str(len(body))))
        wire.extend((_canonical(name), value) for name, value in extra.items())
        wire.append(("Authorization", authorization))
        return Request(method, url, wire, body)

    def _authorization(self, method: str, bucket: str, query: Query,
                       headers: dict[str, str], now: time.struct_time, key: str = "") -> str:
        creds = self.credentials
        lowered = {name.lower(): value for name, value in headers.items()}
        pairs = [(name, value or "") for name, value in query]
        request = signing.SigningRequest(method, bucket, key, pairs, lowered)
        if self.sign_version == "v4":
            product = "oss-cloudbox" if self.cloudbox_id else "oss"
            region = self.cloudbox_id or self.region
            return signing.v4_authorization(creds.access_key_id, creds.access_key_secret,
                                            request, region=region,
                                            date=time.strftime("%Y%m%d", now), product=product)
        if self.sign_version == "v2":
            return signing.v2_authorization(creds.access_key_id, creds.access_key_secret,
                                            request)
        return signing.v1_authorization(creds.access_key_id, creds.access_key_secret, request)

    @staticmethod
    def _domain_body(domain: str) -> bytes:
        return cname_body(domain)

    def _send(self, method: str, bucket: str, query: Query, body: bytes | FileBody = b"",
              headers: Sequence[tuple[str, str]] = (), *,
              expect_exactly: int | None = None, key: str = "",
              sink: Sink | None = None) -> Response:
        request = self.build_request(method, bucket, query, body, headers, key=key, sink=sink)
        response = self.send(request)
        if expect_exactly is not None and self.wire_style == "go" \
                and response.status != expect_exactly:
            raise UnexpectedStatusError(response.status, (expect_exactly,))
        return response

    def send(self, request: Request) -> Response:
        """Send a built request; non-2xx replies raise ``OssError`` (raw reply attached)."""
        response = self.transport.send(request)
        if self.wire_style == "go":
            response = self._follow_redirects(request, response)
        if 200 <= response.status < 300:
            return response
        from ossutil.wire.error_xml import error_from_response

        error = error_from_response(response.status, dict(response.headers), response.body)
        error.response = response  # type: ignore[attr-defined]
        raise error

    def _follow_redirects(self, request: Request, response: Response) -> Response:
        return follow_redirects(self.transport, request, response)

    # --- object operations (streamed: bodies never held whole) ---------------------------

    def put_object(self, bucket: str, key: str, source: str | os.PathLike[str] | BinaryIO, *,
                   content_type: str | None = None, headers: Sequence[tuple[str, str]] = (),
                   progress: Callable[[int], object] | None = None) -> ObjectInfo:
        """PutObject from a file path or an open binary file (from its current position).

        The body streams from disk with ``Content-Length``. ``Content-Type`` defaults as the Go
        SDK picks it: from the file's extension, else the key's, else
        ``application/octet-stream``. ``progress(sent)`` reports bytes sent so far.
        """
        body = FileBody(source, progress=progress)
        if content_type is None:
            name = source if isinstance(source, str | os.PathLike) \
                else getattr(source, "name", "")
            content_type = _content_type(os.fsdecode(name) if name else "", key)
        response = self._send("PUT", bucket, [], body,
                              [("Content-Type", content_type), *headers], key=key)
        return ObjectInfo.from_response(response, size=len(body))

    def get_object(self, bucket: str, key: str, dest_path: str | os.PathLike[str], *,
                   progress: Callable[[int], object] | None = None) -> ObjectInfo:
        """GetObject into ``dest_path``: streamed into a temporary file in the same directory,
        renamed into place only when complete (a failed download leaves ``dest_path`` as it
        was). ``progress(received)`` reports bytes written so far."""
        import secrets

        dest = os.fsdecode(dest_path)
        temp = f"{dest}.{secrets.token_hex(6)}.temp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o664)  # umask applies
        try:
            with os.fdopen(fd, "wb") as handle:
                sink = _CountingSink(handle, progress)
                response = self._send("GET", bucket, [], key=key, sink=sink)
                if response.body:  # a transport that does not stream (in-process fakes)
                    sink.write(response.body)
            os.replace(temp, dest)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        return ObjectInfo.from_response(response, size=sink.count)

    def copy_object(self, source_bucket: str, source_key: str, bucket: str, key: str) -> str:
        """CopyObject (metadata copied); returns the new object's ETag."""
        source = f"/{source_bucket}/{go_query_escape(source_key)}"
        response = self._send("PUT", bucket, [], headers=[("x-oss-copy-source", source)],
                               key=key, expect_exactly=200)
        return response.header("ETag")

    def delete_object(self, bucket: str, key: str) -> None:
        """DeleteObject (204 whether or not the object existed)."""
        self._send("DELETE", bucket, [], key=key)

    def delete_objects(self, bucket: str, keys: Sequence[str]) -> None:
        """DeleteMultipleObjects, quiet, for up to 1,000 keys (Content-MD5 as OSS requires)."""
        from ossutil.wire.object_xml import DeleteRequest, encode_delete
        from ossutil.wire.signing import content_md5

        body = encode_delete(DeleteRequest(quiet=True, keys=tuple(keys)))
        self._send("POST", bucket, [("delete", None)], body,
                   [("Content-MD5", content_md5(body))], expect_exactly=200)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """HeadObject: size, ETag, type and time of an object (404 ``NoSuchKey`` if absent)."""
        return ObjectInfo.from_response(self._send("HEAD", bucket, [], key=key))

    def get_object_meta(self, bucket: str, key: str) -> ObjectInfo:
        """GetObjectMeta (``HEAD ?objectMeta``): the light check ossutil's ``cp`` makes before
        it asks whether to overwrite an object."""
        return ObjectInfo.from_response(self._send("HEAD", bucket, [("objectMeta", None)],
                                                   key=key))


class ObjectInfo(Record):
    """What a reply says about an object; ``headers`` are all response headers as sent."""

    __slots__ = ("size", "etag", "content_type", "last_modified", "request_id", "headers")
    _defaults = {"headers": ()}
    size: int
    etag: str
    content_type: str
    last_modified: str
    request_id: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def from_response(cls, response: Response, size: int | None = None) -> ObjectInfo:
        length = response.header("Content-Length")
        if size is None:
            size = int(length) if length.isdigit() else 0
        return cls(size, response.header("ETag"), response.header("Content-Type"),
                   response.header("Last-Modified"), response.header("x-oss-request-id"),
                   tuple(response.headers))


class CorsPreflight(Record):
    """An OptionObject reply: the ``Access-Control-*`` headers it granted ("" when absent) and
    ``Vary``; ``headers`` are all response headers as sent."""

    __slots__ = ("allow_origin", "allow_methods", "allow_headers", "expose_headers", "max_age",
                 "vary", "headers")
    allow_origin: str
    allow_methods: str
    allow_headers: str
    expose_headers: str
    max_age: str
    vary: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def from_response(cls, response: Response) -> CorsPreflight:
        field = response.header
        return cls(field("Access-Control-Allow-Origin"), field("Access-Control-Allow-Methods"),
                   field("Access-Control-Allow-Headers"), field("Access-Control-Expose-Headers"),
                   field("Access-Control-Max-Age"), field("Vary"), tuple(response.headers))


class _CountingSink:
    """A file that counts what is written and reports it to ``progress``."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int], object] | None) -> None:
        self.handle = handle
        self.name = handle.name
        self.progress = progress
        self.count = 0

    def write(self, data: bytes) -> int:
        self.handle.write(data)
        self.count += len(data)
        if self.progress is not None:
            self.progress(self.count)
        return len(data)


def follow_redirects(transport: Transport, request: Request, response: Response) -> Response:
    """Go's http.Client: follow 301/302/303/307/308 with a Location, at most 10 times."""
    hops = 0
    while response.status in (301, 302, 303, 307, 308) and response.header("Location"):
        from urllib.parse import urljoin  # only when redirected

        if hops == 10:
            raise TransportError(request.method, request.url, "stopped after 10 redirects")
        hops += 1
        url = urljoin(request.url, response.header("Location"))
        method, body = request.method, request.body
        headers = list(request.headers)
        if response.status in (301, 302, 303) and method not in ("GET", "HEAD"):
            method, body = "GET", b""
            headers = [(n, v) for n, v in headers
                       if n.lower() not in ("content-length", "content-type")]
        new_host = url.split("://", 1)[1].split("/", 1)[0]
        headers = [("Host", new_host) if n.lower() == "host" else (n, v) for n, v in headers]
        request = Request(method, url, headers, body, request.sink)
        response = transport.send(request)
    return response


def _content_type(path: str, key: str) -> str:
    """The Go SDK's ``AddContentType(options, filePath, objectKey)``: by extension, first match."""
    import mimetypes

    for name in (path, key):
        if name:
            guessed = mimetypes.guess_type(name, strict=False)[0]
            if guessed:
                return guessed
    return "application/octet-stream"


def cname_body(domain: str) -> bytes:
    """``<BucketCnameConfiguration><Cname><Domain>…`` with Go's escaping, as the SDKs send it
    for CreateCnameToken, PutCname (no certificate) and DeleteCname."""
    text = go_escape_text(domain.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return ("<BucketCnameConfiguration><Cname><Domain>" + text
            + "</Domain></Cname></BucketCnameConfiguration>").encode()


def _canonical(name: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``: ``x-oss-acl`` -> ``X-Oss-Acl``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _presign_query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """The Go SDK's ``getURLParams``: sorted by name, names ``url.QueryEscape``-d (a space is
    ``+``), values too with ``%20`` for a space, a bare name when the value is empty."""
    parts = []
    for name, value in sorted(pairs, key=lambda item: item[0]):
        escaped = go_query_escape(name).replace("%20", "+")
        parts.append(escaped + (f"={go_query_escape(value)}" if value else ""))
    return "&".join(parts)
