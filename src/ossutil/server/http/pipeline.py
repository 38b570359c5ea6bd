"""The request pipeline: address -> route -> authenticate -> authorize -> handler -> reply.

Every reply, success or error, carries ``x-oss-request-id`` (24 uppercase hex, the first 8 the
arrival time in seconds, reference §2.5), ``Date``, ``Server: AliyunOSS`` and
``x-oss-server-time``. OSS errors are rendered by ``http/errors.py``; any other exception is
logged with the request id and answered as InternalError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from ossutil.server.auth.authorize import authorize
from ossutil.server.gateway.rules import check_served
from ossutil.server.http import endpoints, router
from ossutil.server.http import web as webrules
from ossutil.server.http.call import Call, Handler, request_context
from ossutil.server.http.errors import error_response
from ossutil.server.http.handlers.website import SITE_HANDLER
from ossutil.server.operations import GET_OBJECT, HEAD_OBJECT, OPTION_OBJECT, PUT_BUCKET, Level
from ossutil.wire import signing
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from ossutil.server.app import Services

log = logging.getLogger("ossutil.server.access")


# Headers that may legitimately repeat and that no signature, body check or decision reads
# (proxies append them). Every other header given twice is refused: the signature, the body
# digest checks and the handlers must all read the same, single value.
_REPEATABLE_HEADERS = frozenset({"via", "forwarded", "x-forwarded-for", "cookie", "accept",
                                 "accept-language", "cache-control-extension", "te", "warning"})

# Bodies of the operations whose documents OSS lets grow past the default limit: 1000 keys of
# up to 1023 bytes each, every byte possibly written as a 6-byte character reference; 10,000
# parts of about 100 bytes each.
_BODY_LIMITS = {"DeleteMultipleObjects": 8 << 20, "CompleteMultipartUpload": 4 << 20}

# Query parameters whose values must not reach a log line.
_SECRET_PARAMS = frozenset({"Signature", "x-oss-signature", "security-token",
                            "x-oss-security-token"})


_ids = random.Random(os.urandom(16))

ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/"  # HTTP-01 (RFC 8555 §8.3)

NOTE_KEY = "ossutil.note"  # the request's RequestNote in aiohttp's request mapping


class RequestNote:
    """What the pipeline learns about a request that its reply does not say, for the access
    log and the metrics (server/accesslog.py reads it once the reply is sent)."""

    __slots__ = ("request_id", "operation", "error_code", "access_key_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.operation = "-"
        self.error_code = "-"
        self.access_key_id = "-"


_id_second = [-1, ""]  # the second the prefix is for, and the prefix
_id_counter = itertools.count(_ids.getrandbits(32))


def new_request_id() -> str:
    """24 uppercase hex: arrival second, 32 random bits drawn once per second, a counter
    (ids must be unique, not secret; this is one format per request where two formats and
    64 fresh random bits cost the front's cached read 5% of its time)."""
    second = int(time.time())
    if second != _id_second[0]:
        _id_second[:] = [second, f"{second & 0xFFFFFFFF:08X}{_ids.getrandbits(32):08X}"]
    return f"{_id_second[1]}{next(_id_counter) & 0xFFFFFFFF:08X}"


def header_view(request: web.BaseRequest) -> dict[str, str]:
    """The request's headers as the signature and the handlers both see them: lower-case names,
    one value each, UTF-8 text. A header given more than once is refused (400 InvalidArgument)
    unless it is one of the few that proxies repeat and nothing here reads; so is a value that
    is not UTF-8."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in headers and lower not in _REPEATABLE_HEADERS:
            raise OssError.from_code("InvalidArgument",
                                     f"The header {lower} is given more than once.",
                                     ArgumentName=lower)
        if not value.isascii():
            _check_utf8(lower, value)
        headers[lower] = value
    return headers


def _check_utf8(name: str, value: str) -> None:
    """A header value is UTF-8 text: bytes that are not (which aiohttp hands over as lone
    surrogates) are refused here, once, rather than reaching a signature, a stored object's
    metadata or an error's XML as something none of them can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise OssError.from_code("InvalidArgument", f"The value of header {name} is not "
                                 "valid UTF-8.", ArgumentName=name) from None


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Decode ``a=b&c&d=`` into pairs, ``+`` as a space: oss2 form-encodes query values
    (``prefix=a+b``), the Go SDK and oss-v2 send ``%20``; every SDK sends a literal plus as
    ``%2B``. (V4 signs the decoded values, so ``+`` read as ``+`` fails oss2's signatures.)"""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.replace("+", " ").partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def single_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Query pairs as a mapping; a parameter given twice is refused (the router, the handlers
    and V1's signed sub-resources would otherwise each pick their own copy)."""
    query: dict[str, str] = {}
    for name, value in pairs:
        if name in query:
            raise OssError.from_code("InvalidArgument",
                                     f"The query parameter {name} is given more than once.",
                                     ArgumentName=name)
        query[name] = value
    return query


class DateCache:
    """The ``Date`` header text, recomputed at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(second))
        return self._text


class Pipeline:
    """The aiohttp low-level handler; ``services`` holds the domain objects."""

    def __init__(self, services: Services, handlers: Mapping[str, Handler],
                 gateway: Callable[[str], Awaitable[str]] | None = None,
                 endpoints: Mapping[str, endpoints.Endpoint] = endpoints.DEFAULT_ENDPOINTS,
                 ) -> None:
        self.services = services
        self.gateway = gateway
        self.handlers = dict(handlers)  # operation name -> handler (server/app.py builds it)
        self.endpoints = dict(endpoints)  # /-/<name> -> the server's own endpoint
        self._dates = DateCache()

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = new_request_id()
        request[NOTE_KEY] = note = RequestNote(request_id)
        host = request.headers.get("Host", "")
        head = request.method == "HEAD"
        host_id = router.host_name(host)
        try:
            response = await self._dispatch(request, request_id, note)
        except OssError as error:
            note.error_code = error.code
            try:
                response = error_response(error, request_id=request_id, host_id=host_id,
                                          head=head)
            except Exception:
                log.exception("request %s: rendering %s failed", request_id, error.code)
                response = error_response(OssError.from_code("InternalError"),
                                          request_id=request_id, host_id=host_id, head=head)
        except Exception:
            log.exception("request %s failed", request_id)
            note.error_code = "InternalError"
            response = error_response(OssError.from_code("InternalError"),
                                      request_id=request_id, host_id=host_id, head=head)
        response = await webrules.finish(request, response)  # CORS, gzip: the bucket's
        headers = response.headers
        headers["x-oss-request-id"] = request_id
        headers["Date"] = self._dates.now()
        headers["Server"] = "AliyunOSS"
        headers["x-oss-server-time"] = str(int((time.perf_counter() - started) * 1000))
        return response  # its access line: server/accesslog.py, once it is sent

    async def _dispatch(self, request: web.BaseRequest, request_id: str,
                        note: RequestNote) -> web.StreamResponse:
        services = self.services
        headers = header_view(request)
        path, _, raw_query = request.raw_path.partition("?")
        target = services.addressing.resolve(headers.get("host", ""), path)
        if target.server_path is not None:
            note.operation = "server:" + target.server_path[:32]
            return await endpoints.serve(self.endpoints, target.server_path, request)
        pairs = parse_query(raw_query)
        query = single_values(pairs)
        if (target.custom_domain and services.acme_http01 is not None
                and path.startswith(ACME_CHALLENGE_PATH) and request.method == "GET"):
            # HTTP-01 (server/acme/): before any bucket routing, for tokens issued for this
            # name only; any other path there is the bucket's as usual
            answer = await services.acme_http01(target.custom_domain,
                                                path[len(ACME_CHALLENGE_PATH):])
            if answer is not None:
                return web.Response(body=answer.encode(),
                                    content_type="application/octet-stream")
        if target.custom_domain:
            # A custom domain serves the bucket bound to it (never a guessed one); from here on
            # the request is that bucket's, signed over /<bucket>/<key> as the SDKs do.
            if self.gateway is None:
                raise OssError.from_code("NoSuchCnameInRecord", Cname=target.custom_domain)
            bucket_name = await self.gateway(target.custom_domain)
            target = router.Target(bucket_name, target.key, target.custom_domain)
        operation = router.route(request.method, target, query, headers)
        note.operation = operation.name
        if target.custom_domain:
            check_served(operation)
        # The bucket before the signature, as OSS: a request for a bucket that does not exist
        # is NoSuchBucket whatever its credentials (SDKs' bucket_exists relies on it).
        bucket = await services.buckets.find(target.bucket) if target.bucket else None
        if bucket is None and operation.level is not Level.SERVICE and operation is not PUT_BUCKET:
            raise OssError.from_code("NoSuchBucket", BucketName=target.bucket)
        webrules.note(request, bucket, operation, target.custom_domain)
        signing_request = signing.SigningRequest(request.method, target.bucket, target.key,
                                                 pairs, headers)
        principal = services.verifier.authenticate(signing_request)
        if principal is not None:
            note.access_key_id = principal.access_key_id
        if bucket is not None:  # hotlink protection, then a static website's reads
            webrules.check_referer(bucket, operation, headers)
            if webrules.site(bucket, operation, principal, request.method) is not None:
                read = HEAD_OBJECT if request.method == "HEAD" else GET_OBJECT
                webrules.note(request, bucket, read, target.custom_domain)
                return await self.handlers[SITE_HANDLER](Call(
                    services, request, target, query, read, principal, bucket,
                    headers=headers, request_id=request_id))
        # else the handler authorizes each key it is given; a CORS preflight is anyone's
        if not operation.per_key and operation is not OPTION_OBJECT:
            authorize(principal, operation, region=services.settings.region,
                      bucket_name=target.bucket, bucket=bucket, key=target.key,
                      context=request_context(request))
        call = Call(services, request, target, query, operation, principal, bucket,
                    headers=headers, request_id=request_id)
        if operation.level is not Level.OBJECT or operation.body:
            limit = _BODY_LIMITS.get(operation.name, services.settings.max_xml_body)
            call.body = await read_body(request, headers, limit)
        return await self.handlers[operation.name](call)


def loggable_path(raw_path: str) -> str:
    path, sep, query = raw_path.partition("?")
    if not sep:
        return path
    pairs = []
    for part in query.split("&"):
        name = unquote(part.partition("=")[0])
        pairs.append(f"{name}=***" if name in _SECRET_PARAMS else part)
    return path + "?" + "&".join(pairs)


async def read_body(request: web.BaseRequest, headers: dict[str, str],
                    limit: int) -> bytes:
    """Read a whole (XML) body, in however many pieces it arrives, refusing one over ``limit``
    bytes (before reading, when Content-Length says so); check Content-MD5 and a hex SHA-256."""
    length = request.content_length
    if length is not None and length > limit:
        raise OssError.from_code("EntityTooLarge",
                                 f"The request body exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await request.content.read(limit + 1 - size)
        except web.RequestPayloadError as exc:  # broken framing (chunk sizes, a short body)
            raise OssError.from_code(
                "InvalidArgument", f"The request body is not valid HTTP/1.1: {exc}.") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise OssError.from_code("EntityTooLarge",
                                     f"The request body exceeds {limit} bytes.")
    body = b"".join(chunks)
    check_digests(body, headers)
    return body


def check_digests(body: bytes, headers: dict[str, str]) -> None:
    """Content-MD5 when present (reference §2.3); a hex x-oss-content-sha256 (§13 step 5)."""
    md5 = headers.get("content-md5")
    if md5 is not None:
        try:
            digest = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            raise OssError.from_code("InvalidDigest", ec="0017-00000502")
        if digest != hashlib.md5(body).digest():
            raise OssError.from_code("InvalidDigest",
                                     "The Content-MD5 you specified did not match what we "
                                     "received.", ec="0017-00000503")
    sha = headers.get("x-oss-content-sha256")
    if sha and sha != signing.UNSIGNED_PAYLOAD:
        if hashlib.sha256(body).hexdigest() != sha.lower():
            raise OssError.from_code("InvalidDigest",
                                     "The x-oss-content-sha256 you specified did not match "
                                     "what we received.")
