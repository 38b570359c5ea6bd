"""A small stateful OSS on loopback for the CLI's golden and differential tests.

Stands in for ``ossutil-server`` until the lead switches the tests to the real one; it exposes the
same attributes as the ``server`` fixture (``endpoint``, ``access_key_id``, ``access_key_secret``,
``region``) so that switch is one line in ``tests/cli/conftest.py``.

What it does (enough for every command form of the reference, not a real server):

- Verifies V1 and V4 signatures with ``ossutil.wire.signing`` (both the Go binary and our CLI must
  sign correctly); unknown key -> 403 InvalidAccessKeyId, bad signature -> 403
  SignatureDoesNotMatch. A second key pair (``denied_key_id``/``denied_key_secret``) is
  authenticated but denied everything -> 403 AccessDenied.
- Buckets: PutBucket, DeleteBucket, ListBuckets, GetBucketInfo.
- CNAME: CreateCnameToken / GetCnameToken / PutCname / ListCname / DeleteCname. Without DNS, a
  domain counts as "verified" once a token was created for it on that bucket (the real server
  checks the ``_dnsauth`` TXT record instead). ``PutCname`` for a domain without a token answers
  403 NeedVerifyDomainOwnership, as OSS does.
- Addressing: path style (``/bucket/``), virtual-hosted (``Host: bucket.<endpoint>``), absolute-form
  request lines (acting as an HTTP proxy) and CNAME hosts registered in ``cname_hosts``.
- ``queue(...)`` scripts the next reply(ies) verbatim (odd statuses, empty bodies, stalls).
- Every request is recorded (request line, headers in order, body) in ``requests``.

Run it alone for experiments: ``python tests/cli/fake_oss.py [port]``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from ossutil.wire import cname_xml, dates, error_xml, signing, xml
from ossutil.wire.errors import OssError

OWNER_ID = "1234567890123456"


@dataclass
class RecordedRequest:
    """One request as it arrived on the socket."""

    request_line: str
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class ScriptedReply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0
    reason: str | None = None


@dataclass
class Binding:
    domain: str
    last_modified: str
    certificate: cname_xml.CertificateSummary | None = None


@dataclass
class Bucket:
    name: str
    created: datetime
    acl: str = "private"
    storage_class: str = "Standard"
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # domain -> (token, expire)
    cnames: dict[str, Binding] = field(default_factory=dict)


class FakeOss:
    """The fake server; use as a context manager or call ``start``/``stop``."""

    def __init__(self, *, region: str = "cn-hangzhou", host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.region = region
        self.access_key_id = "LTAI5tFakeOssTestKey01"
        self.access_key_secret = "fake-oss-secret-0123456789abcdef"
        self.denied_key_id = "LTAI5tFakeOssDenied0001"
        self.denied_key_secret = "fake-oss-denied-secret-0123456789"
        self.requests: list[RecordedRequest] = []
        self.buckets: dict[str, Bucket] = {}
        self.cname_hosts: dict[str, str] = {}  # Host header -> bucket (custom-domain access)
        self._script: list[ScriptedReply] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self.host, self.port = self._httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> FakeOss:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOss:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget buckets, recordings, scripts and CNAME hosts."""
        with self._lock:
            self.requests.clear()
            self.buckets.clear()
            self.cname_hosts.clear()
            self._script.clear()

    # --- scripting -------------------------------------------------------------------------

    def queue(self, status: int, body: bytes | str = b"", headers: list[tuple[str, str]] | None
              = None, *, delay: float = 0.0, reason: str | None = None) -> None:
        """Answer the next request with exactly this (after ``delay`` seconds)."""
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._script.append(ScriptedReply(status, list(headers or []), body, delay, reason))

    def add_bucket(self, name: str) -> Bucket:
        bucket = Bucket(name, datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
        self.buckets[name] = bucket
        return bucket

    def bind(self, bucket: str, domain: str, *, cert_id: str | None = None) -> None:
        """Bind directly (test set-up), optionally with a certificate summary."""
        certificate = None
        if cert_id:
            certificate = _certificate_summary(cert_id)
        self.buckets[bucket].cnames[domain] = Binding(domain, "2025-01-02T03:04:05.000Z",
                                                      certificate)

    def take_script(self) -> ScriptedReply | None:
        with self._lock:
            return self._script.pop(0) if self._script else None

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    # --- the service -----------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        """Dispatch one request; returns status, extra headers and body."""
        host_header = request.header("Host") or ""
        target = request.target
        if target.startswith(("http://", "https://")):  # absolute form: we are the proxy
            parts = urlsplit(target)
            host_header = parts.netloc
            target = parts.path + (("?" + parts.query) if parts.query else "")
        path, _, raw_query = target.partition("?")
        query = parse_qsl(raw_query, keep_blank_values=True)
        bucket_name, key = self._bucket_of(host_header, unquote(path))
        headers = {name.lower(): value for name, value in request.headers}
        try:
            self._authenticate(request.method, bucket_name, key, query, headers)
            return self._operate(request.method, bucket_name, dict(query), request.body)
        except OssError as error:
            error.host_id = host_header
            return self._error(error)

    def _bucket_of(self, host: str, path: str) -> tuple[str, str]:
        if host in self.cname_hosts:
            return self.cname_hosts[host], path.lstrip("/")
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if hostname.replace(".", "").isdigit() or hostname.startswith("[") or hostname in (
                "localhost",):
            bucket, _, key = path.lstrip("/").partition("/")
            return bucket, key
        labels = hostname.split(".")
        if len(labels) > 2 and not labels[0].startswith("oss-"):
            return labels[0], path.lstrip("/")
        bucket, _, key = path.lstrip("/").partition("/")
        return bucket, key

    def _authenticate(self, method: str, bucket: str, key: str,
                      query: list[tuple[str, str]], headers: dict[str, str]) -> None:
        authorization = headers.get("authorization", "")
        request = signing.SigningRequest(method, bucket, key, query, headers)
        if authorization.startswith("OSS4-HMAC-SHA256 "):
            parsed = signing.parse_v4_authorization(authorization)
            secret = self._secret(parsed.access_key_id)
            expected = signing.v4_authorization(
                parsed.access_key_id, secret, request, region=parsed.region, date=parsed.date,
                product=parsed.product, additional=parsed.additional_headers)
            ok = signing.parse_v4_authorization(expected).signature == parsed.signature
            if parsed.region != self.region and parsed.product == "oss":
                raise OssError.from_code("SignatureDoesNotMatch",
                                         "Invalid signing region in Authorization header.")
            access_key_id = parsed.access_key_id
        elif authorization.startswith("OSS "):
            access_key_id, _ = signing.parse_v1_authorization(authorization)
            secret = self._secret(access_key_id)
            ok = signing.v1_authorization(access_key_id, secret, request) == authorization
        else:
            raise OssError.from_code("AccessDenied", "AccessDenied: Anonymous access is forbidden"
                                     " for this operation.")
        if not ok:
            raise OssError.from_code("SignatureDoesNotMatch", OssAccessKeyId=access_key_id)
        if access_key_id == self.denied_key_id:
            raise OssError.from_code("AccessDenied", "You have no right to access this object "
                                     "because of bucket acl.")

    def _secret(self, access_key_id: str) -> str:
        if access_key_id == self.access_key_id:
            return self.access_key_secret
        if access_key_id == self.denied_key_id:
            return self.denied_key_secret
        raise OssError.from_code("InvalidAccessKeyId", OSSAccessKeyId=access_key_id)

    def _operate(self, method: str, bucket_name: str, query: dict[str, str],
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        if not bucket_name:
            if method == "GET":
                return self._list_buckets()
            raise OssError.from_code("MethodNotAllowed")
        if method == "PUT" and not query:
            if bucket_name in self.buckets:
                raise OssError.from_code("BucketAlreadyExists", BucketName=bucket_name)
            self.buckets[bucket_name] = Bucket(bucket_name, datetime.now(timezone.utc))
            return 200, [], b""
        bucket = self.buckets.get(bucket_name)
        if bucket is None:
            raise OssError.from_code("NoSuchBucket", BucketName=bucket_name)
        if method == "DELETE" and not query:
            del self.buckets[bucket_name]
            return 204, [], b""
        if method == "GET" and "bucketInfo" in query:
            return self._bucket_info(bucket)
        if "cname" in query:
            return self._cname(method, bucket, query, body)
        raise OssError.from_code("NotImplemented")

    def _list_buckets(self) -> tuple[int, list[tuple[str, str]], bytes]:
        entries: list[xml.Node] = []
        for bucket in sorted(self.buckets.values(), key=lambda b: b.name):
            entries.append(("Bucket", [
                ("CreationDate", dates.iso8601_ms(bucket.created)),
                ("ExtranetEndpoint", f"oss-{self.region}.aliyuncs.com"),
                ("IntranetEndpoint", f"oss-{self.region}-internal.aliyuncs.com"),
                ("Location", f"oss-{self.region}"),
                ("Name", bucket.name),
                ("Region", self.region),
                ("StorageClass", bucket.storage_class),
            ]))
        body = xml.emit(("ListAllMyBucketsResult", [
            ("Owner", [("ID", OWNER_ID), ("DisplayName", OWNER_ID)]),
            ("Buckets", entries),
        ]))
        return 200, [("Content-Type", "application/xml")], body

    def _bucket_info(self, bucket: Bucket) -> tuple[int, list[tuple[str, str]], bytes]:
        body = xml.emit(("BucketInfo", [("Bucket", [
            ("CreationDate", dates.iso8601_ms(bucket.created)),
            ("ExtranetEndpoint", f"oss-{self.region}.aliyuncs.com"),
            ("IntranetEndpoint", f"oss-{self.region}-internal.aliyuncs.com"),
            ("Location", f"oss-{self.region}"),
            ("StorageClass", bucket.storage_class),
            ("Name", bucket.name),
            ("Owner", [("DisplayName", OWNER_ID), ("ID", OWNER_ID)]),
            ("AccessControlList", [("Grant", bucket.acl)]),
        ])]))
        return 200, [("Content-Type", "application/xml")], body

    def _cname(self, method: str, bucket: Bucket, query: dict[str, str],
               body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        comp = query.get("comp")
        xml_reply = [("Content-Type", "application/xml")]
        if method == "GET" and comp is None:
            result = cname_xml.ListCnameResult(bucket.name, OWNER_ID, tuple(
                cname_xml.CnameInfo(b.domain, b.last_modified, "Enabled", False, b.certificate)
                for b in bucket.cnames.values()))
            return 200, xml_reply, cname_xml.encode_list_cname_result(result)
        if method == "GET" and comp == "token":
            domain = query.get("cname", "")
            if domain not in bucket.tokens:
                raise OssError.from_code("CnameTokenNotFound", Bucket=bucket.name, Cname=domain)
            token, expire = bucket.tokens[domain]
            return 200, xml_reply, cname_xml.encode_cname_token(
                cname_xml.CnameToken(bucket.name, domain, token, expire))
        if method != "POST":
            raise OssError.from_code("MethodNotAllowed")
        config = cname_xml.decode_cname_configuration(body)
        domain = config.domain
        if comp == "token":
            if domain not in bucket.tokens:
                token = hashlib.md5(f"{bucket.name}/{domain}/{secrets.token_hex(4)}".encode())
                expire = dates.rfc1123(datetime.now(timezone.utc) + timedelta(hours=72))
                bucket.tokens[domain] = (token.hexdigest(), expire)
            token_text, expire = bucket.tokens[domain]
            return 200, xml_reply, cname_xml.encode_cname_token(
                cname_xml.CnameToken(bucket.name, domain, token_text, expire))
        if comp == "add":
            if domain not in bucket.tokens and domain not in bucket.cnames:
                raise OssError.from_code("NeedVerifyDomainOwnership")
            binding = bucket.cnames.get(domain) or Binding(
                domain, dates.iso8601_ms(datetime.now(timezone.utc)))
            cert = config.certificate
            if cert is not None:
                if cert.delete_certificate:
                    binding.certificate = None
                elif cert.certificate:
                    binding.certificate = _certificate_summary("upload-cert")
                elif cert.cert_id:
                    raise OssError.from_code("CertificateInvalidCasId")
            bucket.cnames[domain] = binding
            return 200, [], b""
        if comp == "delete":
            bucket.cnames.pop(domain, None)
            return 200, [], b""
        raise OssError.from_code("InvalidArgument")

    def _error(self, error: OssError) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [("Content-Type", "application/xml")]
        if error.ec:
            headers.append(("x-oss-ec", error.ec))
        return error.status, headers, error_xml.encode_error(error)


def _certificate_summary(cert_id: str) -> cname_xml.CertificateSummary:
    return cname_xml.CertificateSummary(
        type="CAS", cert_id=cert_id, status="Enabled",
        creation_date="Thu, 02 Jan 2025 03:04:05 GMT",
        fingerprint="4D:7F:E3:C1:45:64:EB:1B:20:CC:61:F8:CA:B7:B5:61:36:0C:A3:24",
        valid_start_date="Jan 10 00:00:00 2025 GMT", valid_end_date="Jan 10 00:00:00 2026 GMT")


def _request_id() -> str:
    return f"{int(time.time()):08X}{secrets.token_hex(8).upper()}"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client that hung up (timeouts under test) is not an error here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # answer garbage (a TLS hello) with a status line
    server_version = "AliyunOSS"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def _serve(self) -> None:
        fake: FakeOss = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(self.requestline, self.command, self.path,
                                  list(self.headers.items()), body)
        fake.record(request)
        if self.command == "CONNECT":
            self._reply(405, [], b"", None)
            return
        script = fake.take_script()
        if script is not None:
            if script.delay:
                time.sleep(script.delay)
            self._reply(script.status, script.headers, script.body, script.reason, raw=True)
            return
        status, headers, reply = fake.handle(request)
        self._reply(status, headers, reply, None)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes,
               reason: str | None, raw: bool = False) -> None:
        self.send_response_only(status, reason)
        names = {name.lower() for name, _ in headers}
        if not raw:  # scripted replies carry exactly the headers given (plus Content-Length)
            self.send_header("Server", "AliyunOSS")
            self.send_header("Date", dates.rfc1123(datetime.now(timezone.utc)))
            self.send_header("x-oss-request-id", _request_id())
        for name, value in headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_CONNECT = do_OPTIONS = _serve


if __name__ == "__main__":
    import sys

    fake = FakeOss(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.endpoint, fake.access_key_id, fake.access_key_secret, flush=True)
    fake.add_bucket("examplebucket")
    try:
        fake._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
