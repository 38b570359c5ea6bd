"""The HTTP front: every connection starts here; what it cannot answer from memory, aiohttp does.

A bound domain's hottest request is an anonymous ``GET /key`` of a small public object. Through
aiohttp and the pipeline it costs about ten times what nginx spends; most of that is machinery
(a task per request, request and response objects, header dicts built twice) rather than work.
This module is an ``asyncio.Protocol`` that reads each request head itself and answers, from
memory, exactly one kind of request:

    GET or HEAD, HTTP/1.1, no body, no query, a Host that is a bound custom domain whose
    binding is settled, the bucket in ``ReadCache``, the object in ``ObjectCache``, anonymous
    access allowed by the same ``authorize`` the pipeline calls, and only headers from
    ``_UNDERSTOOD`` (conditional GETs by If-None-Match / If-Modified-Since included: 304);
    a small object's bytes come from memory, a large one's from the cached open file with
    ``os.sendfile`` (plain TCP; under TLS the pipeline copies it); on a static website the
    key the site reads first, as the pipeline's ``SiteReader`` would: ``/`` and ``dir/``
    their index document, any other key itself, unless a routing rule matches or the key is
    missing (error document, redirects); hotlink protection checked as the pipeline checks
    it (a refusal is the pipeline's to render), a CORS configuration's ``Vary: Origin`` added
    (a request with ``Origin`` is the pipeline's);

and one signed API call, the one a deployment polls: ListCname (``GET /bucket/?cname`` on our
own hosts) whose bucket and bindings are cached, verified by the same ``SignatureVerifier``
(V1 and V4, header signatures) and ``authorize``, its XML rendered once per version of the
bindings (``handlers.cname.list_cname_document``).

A miss does not cost the connection: the front pauses reading, reads the object (or the
bucket and its bindings) into the caches through the same ``ObjectService`` (``fill``), and
looks at the request again. Answers are remembered per request head (``_Plan``,
``_ListPlan``) and replayed while what they were made from is the same objects; a signed
ListCname's replay also needs the same key version and a date still inside its window.

Anything else, and anything unusual about the bytes (a header given twice, a bare LF, a
non-ASCII byte, an unknown header, a head over ``MAX_HEAD`` bytes, a 412 to render), hands the
connection to aiohttp's ``RequestHandler`` with every byte not yet answered, and aiohttp owns
the connection until it is idle between two requests with nothing half-parsed, when the next
GET or HEAD brings it back (``OssRequestHandler.front``, ``FrontDoor.take_back``; once per
connection for a client whose reads the front leaves). The complete HTTP/1.1 server (bodies,
chunked uploads, ``Expect: 100-continue``, parse errors as OSS XML, smuggling refused) stays
the one that decides everything but the cached read. The answer the front gives is the answer
the pipeline would give: the same header function (``handlers.object.object_headers``), the
same precondition rules, the same request-id form and per-reply headers; a test compares the
two.

Timeouts mirror ``connections.py``: a connection must complete its first request head within
``header_timeout`` and each later one within ``keepalive_timeout`` of the previous reply; one
sweep a second closes the late ones (no timer per request). A client that does not read its
replies stops being read from (``pause_writing``), so pipelined requests cannot pile replies up
in memory.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import socket
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote

from ossutil.server.auth.authorize import authorize
from ossutil.server.buckets import cors, website
from ossutil.server.gateway.rules import check_served
from ossutil.server.http import router
from ossutil.server.http import web as webrules
from ossutil.server.http.handlers.cname import list_cname_document
from ossutil.server.http.handlers.object import (
    gzip_varies,
    not_modified_headers,
    object_headers,
)
from ossutil.server.http.pipeline import (
    ACME_CHALLENGE_PATH,
    DateCache,
    loggable_path,
    new_request_id,
    parse_query,
    single_values,
)
from ossutil.server.objects import preconditions
from ossutil.server.objects.cache import CachedObject
from ossutil.server.operations import GET_OBJECT, LIST_CNAME
from ossutil.wire import signing
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from ossutil.server.auth.keyring import Principal
    from ossutil.server.auth.signature import SignatureVerifier
    from ossutil.server.cache import ReadCache
    from ossutil.server.gateway.hooks import GatewayHooks
    from ossutil.server.http.protocol import OssRequestHandler
    from ossutil.server.models import Binding, Bucket

log = logging.getLogger("ossutil.server.access")
trouble = logging.getLogger("ossutil.server")

MAX_HEAD = 16 * 1024  # a longer head goes to aiohttp, which enforces its own limits
_MAX_LINE = 8190  # aiohttp's max_line_size and max_field_size: longer heads are its to judge
_SWEEP = 1.0  # seconds between two sweeps for late connections
_HEADS_KEPT = 1024  # parsed request heads remembered
_HEAD_MEMO_SIZE = 2048  # longer heads are parsed every time
# method, path, raw query (None: no "?"), the one header view
_Request = tuple[str, str, "str | None", dict[str, str]]  # never mutated: heads share it
_HOSTS_KEPT = 4096  # Host header -> custom domain classifications remembered
_PLANS_KEPT = 1024  # request head -> the cached read it was answered with
_UNCACHEABLE_KEPT = 4096  # objects a fill found missing, too large or unreadable
_FILLS_PER_HEAD = 2  # the bucket, then the object; a head still missing goes to aiohttp
_SEND_CHUNK = 256 * 1024  # a file reply's rest, where the loop cannot watch the socket
_GONE = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF})

# Request headers a cached read understands or that change nothing in its answer. Any other
# header (Range, If-Match, Authorization, x-oss-*, Content-Length, Transfer-Encoding, Expect,
# Origin, ...) sends the request to the full pipeline.
_UNDERSTOOD = frozenset({
    "host", "user-agent", "accept", "accept-encoding", "accept-language", "connection",
    "if-none-match", "if-modified-since", "cache-control", "pragma", "referer", "cookie",
    "dnt", "upgrade-insecure-requests", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site",
    "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "priority",
    "via", "x-forwarded-for", "x-forwarded-proto", "forwarded", "x-real-ip",
    # what a signed ListCname carries (signature, its date, V4's payload hash)
    "authorization", "date", "x-oss-date", "x-oss-content-sha256", "content-type",
})
_METHODS = frozenset({b"GET", b"HEAD"})
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"[\x20-\x7e\t]*")
_TARGET = re.compile(rb"/[!-~]*")

_STATUS_200 = b"HTTP/1.1 200 OK\r\n"
_STATUS_304 = b"HTTP/1.1 304 Not Modified\r\n"


class _Rendered:
    """An entry's response heads, rendered on its first cached read and kept on the entry."""

    __slots__ = ("ok", "not_modified")

    def __init__(self, entry: CachedObject, storage_class: str) -> None:
        meta = entry.meta
        lines = [f"{name}: {value}\r\n"
                 for name, value in object_headers(meta, storage_class, whole=True).items()]
        lines.append(f"Content-Length: {meta.size}\r\n")
        self.ok = _STATUS_200 + "".join(lines).encode()
        self.not_modified = _STATUS_304 + "".join(
            f"{name}: {value}\r\n" for name, value in not_modified_headers(meta).items()).encode()


class _Plan:
    """How one request head was answered from the cache, replayed while its inputs are the
    same objects: the binding (``settled_bucket``), the bucket record (an ACL change replaces
    it), the cache entry (a write replaces or drops it; held weakly, so a plan never keeps
    an evicted body alive). Everything else the answer depends on (the route, ``check_served``,
    anonymous ``authorize``, preconditions, the rendered head) is a pure function of those and
    of the head's bytes."""

    __slots__ = ("domain", "bucket_name", "bucket", "key", "entry", "reply", "with_body",
                 "file", "code", "close", "method", "host", "path")

    def __init__(self, domain: str, bucket_name: str, bucket: Bucket, key: str,
                 entry: CachedObject, reply: bytes, with_body: bool, file: bool, code: int,
                 close: bool, method: str, host: str, path: str) -> None:
        self.domain = domain
        self.bucket_name = bucket_name
        self.bucket = bucket
        self.key = key
        self.entry = weakref.ref(entry)
        self.reply = reply
        self.with_body = with_body
        self.file = file  # the body is the entry's file (sendfile; plain HTTP only)
        self.code = code
        self.close = close
        self.method = method
        self.host = host
        self.path = path


class _ListPlan:
    """A signed ListCname answered from the cache, replayed for the same head bytes while the
    keys are the same version (``SignatureVerifier.keys_version``), the signature's date is
    still within its window (``until``), and the bucket record and its bindings tuple are the
    same objects. Verifying the same bytes again could only give the same principal; what
    depends on the connection (``authorize``'s source address and transport) is checked
    again on every replay."""

    __slots__ = ("principal", "keys_version", "until", "bucket_name", "bucket", "bindings",
                 "reply", "body", "close", "host", "target")

    def __init__(self, principal: Principal | None, keys_version: int, until: float,
                 bucket_name: str, bucket: Bucket, bindings: tuple[Binding, ...], reply: bytes,
                 body: bytes, close: bool, host: str, target: str) -> None:
        self.principal = principal
        self.keys_version = keys_version
        self.until = until
        self.bucket_name = bucket_name
        self.bucket = bucket
        self.bindings = bindings
        self.reply = reply
        self.body = body
        self.close = close
        self.host = host
        self.target = target


class _Send:
    """A reply whose body is a cached large object's file: the head, then ``size`` bytes of
    ``fd`` (this reply's own duplicate of the entry's descriptor, closed when sent)."""

    __slots__ = ("head", "fd", "offset", "remaining", "close")

    def __init__(self, head: bytes, fd: int, size: int, close: bool) -> None:
        self.head = head
        self.fd = fd
        self.offset = 0
        self.remaining = size
        self.close = close


class _Fill:
    """A cached read that missed: the object (or its bucket) is to be read into the caches,
    then the request looked at again; ``key`` "": a ListCname's bucket and its bindings."""

    __slots__ = ("bucket", "key")

    def __init__(self, bucket: str, key: str) -> None:
        self.bucket = bucket
        self.key = key


class FrontDoor:
    """What every front connection shares: the lookups, the clock, the hand-off target."""

    def __init__(self, *, addressing: router.Addressing, gateway: GatewayHooks,
                 cache: ReadCache, region: str, header_timeout: float,
                 keepalive_timeout: float, slow: Callable[[], OssRequestHandler],
                 verifier: SignatureVerifier | None = None,
                 fill: Callable[[str, str], Awaitable[bool]] | None = None) -> None:
        self.addressing = addressing
        self.verifier = verifier
        self.gateway = gateway
        self.cache = cache
        self.region = region
        self.header_timeout = header_timeout
        self.keepalive_timeout = keepalive_timeout
        self.slow = slow  # a new aiohttp RequestHandler (web.Server.__call__)
        # reads bucket/key into the caches (True: now cached); None: misses go to aiohttp
        self.fill = fill if cache.objects.max_object > 0 else None
        self.filled = 0  # misses the front read into the cache itself
        self._plans: dict[bytes, _Plan | _ListPlan] = {}
        # (bucket, key) -> the object cache generation when a fill could not cache it
        self._uncacheable: dict[tuple[str, str], int] = {}
        self.dates = DateCache()
        self.connections: set[FrontProtocol] = set()
        self.now = 0.0
        self.answered = 0  # requests answered here (the rest went to aiohttp)
        self.handed_off = 0  # connections handed to aiohttp
        self.taken_back = 0  # connections aiohttp gave back between two requests
        self._hosts: dict[str, str | None] = {}
        # request head -> what _parse made of it: a pure function of the bytes, and clients
        # repeat their heads byte for byte (the same URL, the same headers); bounded, and
        # dropped whole when full, so heads a client varies cost only a parse each
        self._parsed: dict[bytes, _Request | None] = {}
        self._tail_date = ""
        self._tails = (b"", b"")
        self._sweeper: asyncio.Task[None] | None = None

    def protocol(self) -> FrontProtocol:
        return FrontProtocol(self)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.now = loop.time()
        self._sweeper = loop.create_task(self._sweep(loop))

    async def close(self) -> None:
        """Stop the sweeper and close every connection still with the front (they sit between
        requests: each request the front takes is answered before it reads the next)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
            self._sweeper = None
        for connection in list(self.connections):
            connection.close()

    async def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(_SWEEP)
            self.now = now = loop.time()
            for connection in list(self.connections):
                # deadlines count from ``now``, up to a sweep old when they were set
                if connection.deadline + _SWEEP < now:
                    connection.late()

    def counters(self) -> dict[str, float]:
        """What ``/-/metrics`` reports about the front and the object cache."""
        objects = self.cache.objects
        return {"front_answered_total": self.answered,
                "front_handed_off_total": self.handed_off,
                "front_taken_back_total": self.taken_back,
                "front_filled_total": self.filled,
                "front_connections": len(self.connections),
                "object_cache_entries": len(objects), "object_cache_bytes": objects.size,
                "object_cache_hits_total": objects.hits,
                "object_cache_misses_total": objects.misses}

    def wants(self, data: bytes) -> bool:
        """Whether bytes arriving on an idle handed-off connection may start a request the
        front answers (see ``OssRequestHandler``): a GET or HEAD, not signed (a signed read is
        the pipeline's, and taking it back would only hand it over again)."""
        return _may_be_cached_read(data) and b"uthorization:" not in data[:MAX_HEAD].lower()

    def take_back(self, transport: asyncio.Transport, data: bytes) -> None:
        """A handed-off connection between two requests, given back by aiohttp's handler
        with the first bytes of the next one."""
        self.taken_back += 1
        protocol = FrontProtocol(self, returned=True)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)

    def custom_domain(self, host: str) -> str | None:
        """The custom domain a Host header names (None: one of our own hosts), remembered."""
        try:
            return self._hosts[host]
        except KeyError:
            pass
        domain = self.addressing.resolve(host, "/").custom_domain or None
        if len(self._hosts) >= _HOSTS_KEPT:
            self._hosts.clear()
        self._hosts[host] = domain
        return domain

    def answer(self, head: bytes, secure: bool,
               peer: str) -> tuple[bytes, bool] | _Send | _Fill | None:
        """The reply to one request head and whether to close after it; a ``_Fill`` (a cached
        read that missed: fill, then ask again); or None: not a cached read (the pipeline
        answers it)."""
        plan = self._plans.get(head)
        if isinstance(plan, _ListPlan):
            replayed = self._replay_list(plan, secure, peer)
            if replayed is not None:
                return replayed
            del self._plans[head]
        elif plan is not None:
            if plan.file and secure:  # no sendfile under TLS: the pipeline copies
                return None
            if self.cache.current() and self._still(plan):
                entry = plan.entry()
                if entry is not None:
                    self.cache.objects.touch(plan.bucket_name, plan.key)
                    return self._reply(plan.reply, entry.body if plan.with_body else b"",
                                       plan.code, plan.close, plan.method, plan.host, plan.path,
                                       entry if plan.file else None)
            del self._plans[head]
        try:
            request = self._parsed[head]
        except KeyError:
            request = _parse(head)
            if len(head) <= _HEAD_MEMO_SIZE:
                if len(self._parsed) >= _HEADS_KEPT:
                    self._parsed.clear()
                self._parsed[head] = request
        if request is None:
            return None
        method, path, raw_query, headers = request
        close = False
        connection = headers.get("connection")
        if connection is not None:
            tokens = {t.strip().lower() for t in connection.split(",")} - {""}
            if not tokens <= {"close", "keep-alive"}:
                return None
            close = "close" in tokens
        host = headers.get("host")
        if not host:
            return None
        if not self.cache.current():  # another worker wrote: the pipeline reads afresh
            return None
        domain = self.custom_domain(host)
        target = path if raw_query is None else f"{path}?{raw_query}"
        try:
            if domain is None:
                if raw_query is None or method != "GET":
                    return None
                listed = self._list_cname(path, raw_query, headers, _context(peer, secure))
                if listed is None or isinstance(listed, _Fill):
                    return listed
                reply, body, bucket_name, principal, until, bucket, bindings = listed
                assert self.verifier is not None
                self._remember(head, _ListPlan(principal, self.verifier.keys_version, until,
                                               bucket_name, bucket, bindings, reply, body,
                                               close, host, target))
                return self._reply(reply, body, 200, close, method, host, target)
            # a signed read is verified even where anonymous reads are allowed: the
            # pipeline checks it (403 SignatureDoesNotMatch, a RAM Deny)
            if raw_query is not None or "authorization" in headers:
                return None
            found = self._object_read(method, path, headers, domain)
        except OssError:  # a refusal the pipeline renders (403, 412, ...)
            return None
        if found is None or isinstance(found, _Fill):
            return found
        head_bytes, body, code, (bucket_name, bucket, key, entry) = found
        file = entry.fd >= 0 and method == "GET" and code == 200
        if file and secure:  # no sendfile under TLS: the pipeline copies
            return None
        self._remember(head, _Plan(domain, bucket_name, bucket, key, entry, head_bytes,
                                   bool(body), file, code, close, method, host, target))
        return self._reply(head_bytes, body, code, close, method, host, target,
                           entry if file else None)

    def _replay_list(self, plan: _ListPlan, secure: bool,
                     peer: str) -> tuple[bytes, bool] | _Send | None:
        """``plan``'s reply if its inputs still hold (see ``_ListPlan``), else None."""
        verifier = self.verifier
        cache = self.cache
        if (verifier is None or not cache.current()
                or verifier.keys_version != plan.keys_version or verifier.now() > plan.until
                or cache.cached_bucket(plan.bucket_name) is not plan.bucket
                or cache.cached_bindings(plan.bucket_name) is not plan.bindings):
            return None
        try:
            authorize(plan.principal, LIST_CNAME, region=self.region,
                      bucket_name=plan.bucket_name, bucket=plan.bucket, key="",
                      context=_context(peer, secure))
        except OssError:
            return None
        return self._reply(plan.reply, plan.body, 200, plan.close, "GET", plan.host,
                           plan.target)

    def _remember(self, head: bytes, plan: _Plan | _ListPlan) -> None:
        """Keep ``plan`` for replays of ``head`` (bounded: dropped whole when full)."""
        if len(self._plans) >= _PLANS_KEPT:
            self._plans.clear()
        self._plans[head] = plan

    def _still(self, plan: _Plan) -> bool:
        """Whether a plan's inputs are the objects it was made from (see ``_Plan``)."""
        cache = self.cache
        return (self.gateway.settled_bucket(plan.domain) == plan.bucket_name
                and cache.cached_bucket(plan.bucket_name) is plan.bucket
                and cache.objects.peek(plan.bucket_name, plan.key) is plan.entry())

    def _reply(self, head_bytes: bytes, body: bytes, code: int, close: bool, method: str,
               host: str, target: str, file: CachedObject | None = None,
               ) -> tuple[bytes, bool] | _Send | None:
        request_id = new_request_id()
        tail = b"x-oss-request-id: " + request_id.encode() + self._tail(close)
        send = None
        if file is not None:  # before counting: out of descriptors, the pipeline answers
            try:
                fd = os.dup(file.fd)
            except OSError:
                return None
            send = _Send(head_bytes + tail, fd, file.meta.size, close)
        self.answered += 1
        if log.isEnabledFor(logging.INFO):
            size = len(body) if send is None else send.remaining
            log.info("%s", request_id,
                     extra={"front": (method, host, loggable_path(target), code, size)})
        if send is not None:
            return send
        return head_bytes + tail + body, close

    def uncacheable(self, bucket: str, key: str) -> None:
        """A fill found ``bucket``/``key`` missing or not cacheable: until the next write,
        its reads go to aiohttp without another fill first."""
        if len(self._uncacheable) >= _UNCACHEABLE_KEPT:
            self._uncacheable.clear()
        self._uncacheable[(bucket, key)] = self.cache.objects.generation

    def _tail(self, close: bool) -> bytes:
        """What follows the request id in every reply head: Date (the second's), Server,
        x-oss-server-time (0: answered within the millisecond), the blank line."""
        date = self.dates.now()
        if date != self._tail_date:
            rest = f"\r\nDate: {date}\r\nServer: AliyunOSS\r\nx-oss-server-time: 0\r\n"
            self._tails = ((rest + "\r\n").encode(), (rest + "Connection: close\r\n\r\n").encode())
            self._tail_date = date
        return self._tails[close]

    def _object_read(self, method: str, path: str, headers: dict[str, str], domain: str,
                     ) -> tuple[bytes, bytes, int, tuple[str, Bucket, str, CachedObject]] \
            | _Fill | None:
        """A bound domain's GET or HEAD of a cached object (304 when the client's copy is
        current), with what its plan needs; a ``_Fill`` when the bucket or the object is not
        cached yet (and may be)."""
        bucket_name = self.gateway.settled_bucket(domain)
        if bucket_name is None:
            return None
        key = unquote(path)[1:] if "%" in path else path[1:]
        if path.startswith(ACME_CHALLENGE_PATH):  # the pipeline answers those
            return None
        bucket = self.cache.cached_bucket(bucket_name)
        if bucket is None:  # the bucket first: its ACL decides before any object is read
            return self._miss(bucket_name, "")
        operation = router.route(method, router.Target(bucket_name, key, domain), {}, headers)
        check_served(operation)
        # hotlink protection: a refusal is an OssError, the pipeline renders it
        webrules.check_referer(bucket, operation, headers)
        if bucket.website is not None:
            # a site read (webrules.site: anonymous GET or HEAD): the key it reads first, read
            # as the pipeline's SiteReader reads it; a routing rule, or a key found missing
            # (the error document, a sub-directory's redirect), is the pipeline's to answer
            site = website.stored(bucket.website)
            if site.route(key, headers, missing=False) is not None:
                return None
            index = site.index_key(key)
            if index is not None:
                key = index
            operation = GET_OBJECT  # what SiteReader authorizes, for HEAD too
        elif not key:  # the bucket's listing
            return None
        # anonymous: the ACL decides, no policy condition reads the context (see _Plan)
        authorize(None, operation, region=self.region, bucket_name=bucket_name, bucket=bucket,
                  key=key)
        entry = self.cache.objects.get(bucket_name, key)
        if entry is None:
            return self._miss(bucket_name, key)
        if (method == "GET" and webrules.accepts_gzip(headers.get("accept-encoding"))
                and gzip_varies(entry.meta)):
            return None  # the pipeline compresses it
        status = (preconditions.evaluate(headers, entry.meta)
                  if "if-none-match" in headers or "if-modified-since" in headers else None)
        rendered = entry.rendered
        if not isinstance(rendered, _Rendered):
            rendered = entry.rendered = _Rendered(entry, bucket.storage_class)
        vary = b""
        if bucket.cors is not None and cors.stored(bucket.cors).response_vary:
            # what webrules.finish adds to a request without Origin (one with it is never
            # the front's: Origin is not _UNDERSTOOD); merging with the object's own Vary is
            # left to the pipeline
            if gzip_varies(entry.meta):
                return None
            vary = b"Vary: Origin\r\n"
        found = (bucket_name, bucket, key, entry)
        if status == preconditions.NOT_MODIFIED:
            return rendered.not_modified + vary, b"", 304, found
        return rendered.ok + vary, b"" if method == "HEAD" else entry.body, 200, found

    def _miss(self, bucket: str, key: str) -> _Fill | None:
        if self.fill is None:
            return None
        if self._uncacheable.get((bucket, key)) == self.cache.objects.generation:
            return None
        return _Fill(bucket, key)

    def _list_cname(self, path: str, raw_query: str, headers: dict[str, str],
                    context: dict[str, str],
                    ) -> tuple[bytes, bytes, str, Principal | None, float, Bucket,
                               tuple[Binding, ...]] | _Fill | None:
        """A signed ListCname whose bucket and bindings are cached: the signature checked by
        the same verifier, the XML rendered once per version of the bindings."""
        if self.verifier is None:
            return None
        target = self.addressing.resolve(headers["host"], path)
        if target.server_path is not None or not target.bucket or target.key:
            return None
        pairs = parse_query(raw_query)
        query = single_values(pairs)
        operation = router.route("GET", target, query, headers)
        if operation is not LIST_CNAME:
            return None
        bucket = self.cache.cached_bucket(target.bucket)
        bindings = self.cache.cached_bindings(target.bucket)
        if bucket is None or bindings is None:
            return self._miss(target.bucket, "")  # "": the bucket and its bindings
        principal, until = self.verifier.authenticate_until(signing.SigningRequest(
            "GET", target.bucket, "", pairs, headers))
        authorize(principal, operation, region=self.region, bucket_name=target.bucket,
                  bucket=bucket, key="", context=context)
        body = list_cname_document(bucket, bindings)
        reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n")
        return reply, body, target.bucket, principal, until, bucket, bindings


def _parse(head: bytes) -> _Request | None:
    """Method, path, raw query (None: no ``?``) and the one header view of a request head, or
    None for anything a cached read does not take (see ``_UNDERSTOOD``) or that is not plain
    HTTP/1.1 text."""
    if len(head) > _MAX_LINE:  # it may hold a line longer than aiohttp takes (400)
        return None
    line_end = head.find(b"\r\n")
    request_line = head if line_end < 0 else head[:line_end]
    parts = request_line.split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1" or parts[0] not in _METHODS:
        return None
    target = parts[1]
    if _TARGET.fullmatch(target) is None:
        return None
    headers: dict[str, str] = {}
    if line_end >= 0:
        for line in head[line_end + 2:].split(b"\r\n"):
            name, colon, value = line.partition(b":")
            if not colon or _TOKEN.fullmatch(name) is None:
                return None
            value = value.strip(b" \t")
            if _VALUE.fullmatch(value) is None:
                return None
            lower = name.decode().lower()
            if lower not in _UNDERSTOOD or lower in headers:
                return None
            headers[lower] = value.decode()
    path, question, query = target.decode().partition("?")
    return parts[0].decode(), path, query if question else None, headers


def _may_be_cached_read(pending: bytes) -> bool:
    """Whether an incomplete head can still become a GET or HEAD. Anything else (a PUT, a TLS
    ClientHello sent to the plain port, garbage) goes to aiohttp at once rather than waiting
    for a blank line that may never come."""
    if pending.count(b"\n") != pending.count(b"\r\n"):  # a bare LF: aiohttp refuses it now
        return False
    prefix = pending[:5]
    return b"GET ".startswith(prefix[:4]) or b"HEAD ".startswith(prefix)


def _context(peer: str, secure: bool) -> dict[str, str]:
    """What RAM policy conditions may read about the connection."""
    return {"acs:SourceIp": peer, "acs:SecureTransport": "true" if secure else "false"}


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FrontProtocol(asyncio.Protocol):
    """One connection while the front has it (see the module docstring)."""

    def __init__(self, door: FrontDoor, *, returned: bool = False) -> None:
        self._door = door
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._paused = False
        self._secure = False
        self._peer = ""
        self._replied = False  # a reply was sent: the keep-alive timeout applies, not headers'
        self.deadline = 0.0
        # a miss being read into the cache, or a file reply's rest being sent
        self._filling: asyncio.Task[None] | None = None
        self._refills = 0  # fills for the head at the buffer's start (bucket, then object)
        self._drained: asyncio.Future[None] | None = None  # resume_writing's signal
        self._fileno = -1  # the socket's descriptor (plain TCP only: sendfile)
        self._sock: socket.socket | None = None  # the socket itself, for TCP_CORK
        self._returned = returned  # given back by aiohttp (FrontDoor.take_back)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self._transport = transport = cast(asyncio.Transport, transport)
        self._secure = transport.get_extra_info("sslcontext") is not None
        sock = None if self._secure else transport.get_extra_info("socket")
        self._fileno = sock.fileno() if sock is not None else -1
        self._sock = sock if hasattr(socket, "TCP_CORK") else None
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        door = self._door
        self.deadline = door.now + (door.header_timeout if door.header_timeout > 0
                                    else float("inf"))
        door.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._filling is not None:
            self._filling.cancel()
            self._filling = None
        self._door.connections.discard(self)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._filling is not None:  # arrived before reading paused: kept for after
            self._buffer += data
            return
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        transport = self._transport
        if transport is None:
            return
        door = self._door
        start = 0
        while not self._paused:
            end = data.find(b"\r\n\r\n", start)
            if end < 0:
                break
            try:
                answer = door.answer(data[start:end], self._secure, self._peer)
            except Exception:  # never the client's fault: let the full pipeline answer it
                trouble.exception("the HTTP front failed on a request; aiohttp answers it")
                answer = None
            if isinstance(answer, _Fill):
                fill = door.fill
                if self._refills >= _FILLS_PER_HEAD or fill is None:  # filled, still a miss
                    answer = None
                else:
                    self._buffer = data[start:]
                    self._start_fill(fill, answer)
                    return
            if answer is None:
                self._hand_off(data[start:])
                return
            self._refills = 0
            start = end + 4
            self._replied = True
            if isinstance(answer, _Send):
                sock = self._sock if not transport.get_write_buffer_size() else None
                if sock is not None:  # the head leaves with the body's first bytes, not alone
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                transport.write(answer.head)
                sent = self._send_now(answer)
                if sock is not None and self._sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
                if sent is None:  # the socket failed: the connection is closed
                    return
                if not sent:  # the socket buffer is full: a task sends the rest
                    self._buffer = data[start:]
                    self._start_send(answer)
                    return
                close = answer.close
            else:
                reply, close = answer
                transport.write(reply)
            if close:
                transport.close()
                self._door.connections.discard(self)
                return
            timeout = door.keepalive_timeout
            self.deadline = door.now + (timeout if timeout > 0 else float("inf"))
        rest = data[start:]
        if not self._paused and (len(rest) > MAX_HEAD or not _may_be_cached_read(rest)):
            self._hand_off(rest)
            return
        self._buffer = rest

    def _send_now(self, send: _Send) -> bool | None:
        """``os.sendfile`` the body while the socket takes it and nothing is queued before it:
        True when all of it went (``send.fd`` closed), False when the rest must wait for room,
        None when the socket failed (the connection is closed)."""
        transport = self._transport
        assert transport is not None
        if transport.get_write_buffer_size() or self._fileno < 0:
            return False
        try:
            while send.remaining:
                sent = os.sendfile(self._fileno, send.fd, send.offset, send.remaining)
                if sent == 0:
                    raise OSError(f"blob ended {send.remaining} bytes early")
                send.offset += sent
                send.remaining -= sent
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:  # the client went away, or the blob is short (logged)
            os.close(send.fd)
            if exc.errno is None:
                trouble.error("the HTTP front could not send a cached file: %s", exc)
            self.close()
            return None
        os.close(send.fd)
        return True

    def _start_send(self, send: _Send) -> None:
        """Stop reading; a task copies the rest of ``send`` into the transport as it drains,
        then looks at the buffered requests again."""
        transport = self._transport
        assert transport is not None
        transport.pause_reading()
        self._progress()
        self._filling = asyncio.get_running_loop().create_task(self._send_rest(send))

    def _progress(self) -> None:
        """A file reply moved: the client has ``keepalive_timeout`` for its next read (the
        sweeper closes a reader that stops, and with it the reply's descriptors)."""
        timeout = self._door.keepalive_timeout
        self.deadline = self._door.now + (timeout if timeout > 0 else float("inf"))

    async def _send_rest(self, send: _Send) -> None:
        door = self._door
        try:
            if not await self._sendfile_rest(send):  # the loop cannot watch the socket
                await self._copy_rest(send)
        except OSError as exc:
            if exc.errno not in _GONE:  # a client that went away is no trouble of ours
                trouble.error("the HTTP front could not send a cached file: %s", exc)
            self._filling = None
            self.close()
            return
        finally:
            os.close(send.fd)
        self._filling = None
        if send.close:
            self.close()
            return
        transport = self._transport
        if transport is None:
            return
        timeout = door.keepalive_timeout
        self.deadline = door.now + (timeout if timeout > 0 else float("inf"))
        if not self._paused:
            transport.resume_reading()
            self.data_received(b"")

    async def _drain(self) -> bool:
        """Wait until the transport has sent everything queued (False: the connection went
        away): its write limits at 0 make ``pause_writing``/``resume_writing`` say so."""
        transport = self._transport
        if transport is None:
            return False
        if transport.get_write_buffer_size():
            transport.set_write_buffer_limits(high=0, low=0)
            try:
                while self._paused or transport.get_write_buffer_size():
                    self._drained = asyncio.get_running_loop().create_future()
                    await self._drained
                    self._progress()
            finally:
                transport.set_write_buffer_limits()
        return self._transport is not None

    async def _sendfile_rest(self, send: _Send) -> bool:
        """``os.sendfile`` the rest as the socket makes room (waiting on a duplicate of its
        descriptor: the transport's own stays registered as it was); False when the loop
        cannot watch a descriptor (``send`` then says what is still to go)."""
        loop = asyncio.get_running_loop()
        if not await self._drain():
            return True
        watched = os.dup(self._fileno)
        try:
            while send.remaining:
                try:
                    sent = os.sendfile(self._fileno, send.fd, send.offset, send.remaining)
                except (BlockingIOError, InterruptedError):
                    writable: asyncio.Future[None] = loop.create_future()
                    try:
                        loop.add_writer(watched, _wake, writable)
                    except (NotImplementedError, RuntimeError):
                        return False
                    try:
                        await writable
                    finally:
                        loop.remove_writer(watched)
                    self._progress()
                    if self._transport is None:
                        return True
                    continue
                if sent == 0:
                    raise OSError(f"blob ended {send.remaining} bytes early")
                send.offset += sent
                send.remaining -= sent
        finally:
            os.close(watched)
        return True

    async def _copy_rest(self, send: _Send) -> None:
        """The rest through the transport, 256 KiB at a time read in a worker thread, as the
        client drains it (for loops that cannot watch a descriptor)."""
        while send.remaining:
            while self._paused:  # the client's window is full: wait for resume_writing
                self._drained = asyncio.get_running_loop().create_future()
                await self._drained
                self._progress()
            if self._transport is None:
                return
            chunk = await asyncio.to_thread(os.pread, send.fd,
                                            min(_SEND_CHUNK, send.remaining), send.offset)
            if not chunk:
                raise OSError(f"blob ended {send.remaining} bytes early")
            if self._transport is None:
                return
            self._transport.write(chunk)
            send.offset += len(chunk)
            send.remaining -= len(chunk)

    def _start_fill(self, fill: Callable[[str, str], Awaitable[bool]], miss: _Fill) -> None:
        """Stop reading, read ``miss`` into the cache, then look at the buffered head again
        (answered from memory, or handed to aiohttp if it still misses)."""
        transport = self._transport
        assert transport is not None
        transport.pause_reading()
        self.deadline = float("inf")  # the head is complete: no timeout while the store reads
        self._filling = asyncio.get_running_loop().create_task(self._fill(fill, miss))

    async def _fill(self, fill: Callable[[str, str], Awaitable[bool]], miss: _Fill) -> None:
        door = self._door
        try:
            cached = await fill(miss.bucket, miss.key)
        except Exception:  # the pipeline will meet the same trouble and answer it
            trouble.exception("the HTTP front could not read %s/%s into the cache",
                              miss.bucket, miss.key)
            cached = False
        if cached:
            door.filled += 1
        else:
            door.uncacheable(miss.bucket, miss.key)
        self._filling = None
        transport = self._transport
        if transport is None:  # the client went away meanwhile
            return
        timeout = door.keepalive_timeout if self._replied else door.header_timeout
        self.deadline = door.now + (timeout if timeout > 0 else float("inf"))
        self._refills += 1
        if not self._paused:
            transport.resume_reading()
            self.data_received(b"")

    def eof_received(self) -> bool | None:
        self.close()
        return None

    def pause_writing(self) -> None:
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)
        if self._transport is not None and self._filling is None:
            self._transport.resume_reading()
            if self._buffer:
                self.data_received(b"")

    def late(self) -> None:
        """The sweeper found this connection past its deadline: close it, as aiohttp's own
        keep-alive and header timeouts would."""
        if self._transport is not None and not self._replied:
            trouble.info("closing a connection from %s: no complete request headers within "
                         "%g s", self._peer, self._door.header_timeout)
        self.close()

    def close(self) -> None:
        if self._filling is not None:
            self._filling.cancel()
            self._filling = None
        self._door.connections.discard(self)
        if self._transport is not None:
            self._transport.close()

    def _hand_off(self, pending: bytes) -> None:
        """From here on aiohttp serves this connection, starting with ``pending``."""
        transport = self._transport
        assert transport is not None
        door = self._door
        door.connections.discard(self)
        door.handed_off += 1
        handler = door.slow()
        if self._replied or not self._returned:
            # aiohttp gives it back between two requests (OssRequestHandler.front); one that
            # came back and was handed over again before any reply stays with aiohttp, so a
            # client that sends only what the front leaves does not bounce every request
            handler.front = door
        self._transport = None
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if pending:
            handler.data_received(pending)
