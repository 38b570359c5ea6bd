"""The HTTP front (http/front.py) end to end, against the real server: what it answers from
memory is byte for byte what the pipeline answers (but the per-reply headers), a write is seen
by the next read, and every request it does not take reaches aiohttp with all its bytes.

Which path answered is read from ``/-/metrics`` before and after each request (``Watch``): the
front counts ``front_answered_total`` and an object cache hit; a hand-off counts
``front_handed_off_total`` (once per connection: aiohttp keeps the connection from then on).

The object cache is emptied by every write (the write's own ``forget``, the change beacon at the
front's next look, the store poll within 0.5 s), so each test first lets its set-up writes
settle (``settle``) before it counts.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import oss2
import pytest
from tests.support.certs import CertFactory
from tests.support.raw import as_root, closed_by_server, send
from tests.support.server import RunningServer, create_user, start_server

from ossutil.wire import dates, signing

BODY = b"<p>served from memory</p>\n"
CITY = "Z\u00fcrich \u6771\u4eac"  # a non-ASCII UTF-8 metadata value
STORED = {"Content-Type": "text/html", "Cache-Control": "max-age=60",
          "Content-Disposition": 'attachment; filename="page.html"',
          "x-oss-meta-team": "web", "x-oss-meta-city": CITY}
VOLATILE = {"x-oss-request-id", "date", "x-oss-server-time"}  # differ reply to reply
REQUEST_ID = re.compile(r"[0-9A-F]{24}")
FRONT = {"answered": 1, "handed_off": 0, "hits": 1, "misses": 0, "entries": 0, "filled": 0,
         "taken_back": 0}
# a miss the front reads into the cache itself, then answers
FILLED = {"answered": 1, "handed_off": 0, "hits": 1, "misses": 1, "entries": 1, "filled": 1,
          "taken_back": 0}
HANDED_OFF = {"answered": 0, "handed_off": 1, "hits": 0, "misses": 0, "entries": 0,
              "filled": 0, "taken_back": 0}
# the pipeline's GetObject of a small object fills the cache too
PIPELINE_FILLED = {**HANDED_OFF, "entries": 1}
# a header the front does not take (not in its _UNDERSTOOD) and nothing reads: a request
# carrying it is answered by the pipeline, as it would be with no front at all
PIPELINE = ("X-Answer-By", "pipeline")
TIMEOUT = 5.0  # no socket here waits longer for a reply


# --- raw HTTP -------------------------------------------------------------------------------

@dataclass
class Raw:
    """One reply as the bytes said it: ``headers`` by lower-case name (each name once)."""

    status: int
    headers: dict[str, str]
    body: bytes
    version: str = "HTTP/1.1"

    def code(self) -> str:
        match = re.search(r"<Code>([^<]*)</Code>", self.body.decode())
        return match.group(1) if match else ""

    def element(self, name: str) -> str:
        match = re.search(f"<{name}>([^<]*)</{name}>", self.body.decode())
        assert match is not None, self.body
        return match.group(1)

    def same_as(self) -> dict[str, str]:
        """The headers that must match between two answers to the same request."""
        return {k: v for k, v in self.headers.items() if k not in VOLATILE}


def read_reply(sock: socket.socket, buffer: bytearray, *, head: bool = False) -> Raw:
    """One reply from ``sock``; bytes after it stay in ``buffer``."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a reply: {bytes(buffer)!r}")
        buffer += chunk
    lines = bytes(buffer[:end]).decode("utf-8").split("\r\n")
    del buffer[:end + 4]
    version, status, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon and name.lower() not in headers, lines
        headers[name.lower()] = value.strip()
    length = 0 if head or status in ("204", "304") else int(headers["content-length"])
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return Raw(int(status), headers, body, version)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def exchange(port: int, data: bytes, *, head: bool = False) -> Raw:
    """Send ``data`` on a new connection and read one reply."""
    with connect(port) as sock:
        sock.sendall(data)
        return read_reply(sock, bytearray(), head=head)


def head_bytes(method: str, path: str, host: str, headers: tuple[tuple[str, str], ...] = (),
               ) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- which path answered --------------------------------------------------------------------

_METRIC = re.compile(r"ossutil_(\w+) (\d+)")
_NAMES = {"front_answered_total": "answered", "front_handed_off_total": "handed_off",
          "object_cache_hits_total": "hits", "object_cache_misses_total": "misses",
          "object_cache_entries": "entries", "front_filled_total": "filled",
          "front_taken_back_total": "taken_back"}


def metrics(server: RunningServer) -> dict[str, int]:
    reply = exchange(server.port, head_bytes("GET", "/-/metrics", f"127.0.0.1:{server.port}",
                                             (("Connection", "close"),)))
    assert reply.status == 200, reply
    found = dict(_METRIC.findall(reply.body.decode()))
    return {short: int(found[name]) for name, short in _NAMES.items()}


class Watch:
    """The counters' moves since the last look, less the metrics request's own hand-off (it
    is no cached read: the front hands its connection to aiohttp, which answers it)."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.last = metrics(server)

    def moved(self) -> dict[str, int]:
        now = metrics(self.server)
        delta = {name: now[name] - self.last[name] for name in now}
        delta["handed_off"] -= 1
        self.last = now
        return delta


# --- a public-read bucket bound to a domain -------------------------------------------------

def sdk(server: RunningServer, bucket: str) -> oss2.Bucket:
    return oss2.Bucket(oss2.AuthV4(server.access_key_id, server.access_key_secret),
                       server.endpoint, bucket, region=server.region)


@dataclass
class Site:
    server: RunningServer
    client: oss2.Bucket
    bucket: str
    domain: str

    def request(self, method: str, path: str, *headers: tuple[str, str]) -> bytes:
        return head_bytes(method, path, self.domain, headers)

    def fetch(self, method: str, path: str, *headers: tuple[str, str]) -> Raw:
        return exchange(self.server.port, self.request(method, path, *headers),
                        head=method == "HEAD")

    def put(self, key: str, body: bytes, headers: dict[str, str]) -> str:
        """PutObject signed with V1, header values sent as UTF-8 (http.client would send
        Latin-1, which the server refuses for metadata); the ETag."""
        hdrs = {name.lower(): value for name, value in headers.items()}
        hdrs["date"] = dates.rfc1123(datetime.now(timezone.utc))
        hdrs["authorization"] = signing.v1_authorization(
            self.server.access_key_id, self.server.access_key_secret,
            signing.SigningRequest("PUT", self.bucket, key, [], hdrs))
        wire = {name: value.encode().decode("latin-1") for name, value in hdrs.items()}
        reply = send(self.server.endpoint, "PUT", f"/{self.bucket}/{quote(key)}", body=body,
                     headers=wire)
        assert reply.status == 200, reply
        return reply.headers["etag"]

    def settle(self) -> None:
        """Let the set-up writes' invalidations pass: the store poll (every 0.5 s) clears the
        object cache when the objects counter moved, and the front's first look after a write
        drops its caches (the beacon); a GET of a missing key takes that look."""
        time.sleep(1.1)
        assert self.fetch("GET", "/settle-probe").status == 404

    def cached(self, key: str) -> Raw:
        """GET ``key`` until the front serves it from memory (the first GET fills the cache):
        the front's reply."""
        watch = Watch(self.server)
        assert self.fetch("GET", "/" + quote(key)).status == 200
        assert watch.moved() == FILLED
        reply = self.fetch("GET", "/" + quote(key))
        assert watch.moved() == FRONT
        return reply


def make_site(server: RunningServer, bucket: str, domain: str) -> Site:
    client = sdk(server, bucket)
    client.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))
    return Site(server, client, bucket, domain)


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str) -> Site:
    """A public-read bucket bound to ``domain`` with ``page.html`` (metadata, stored headers,
    a non-ASCII value), its writes settled."""
    made = make_site(unverified_server, bucket_name, domain)
    made.put("page.html", BODY, STORED)
    made.settle()
    return made


# --- 1. the cached answer is the pipeline's ---------------------------------------------------

VARIANTS = {
    "get": ("GET", ()),
    "head": ("HEAD", ()),
    "if-none-match": ("GET", (("If-None-Match", "{etag}"),)),
    "if-modified-since": ("GET", (("If-Modified-Since", "{last_modified}"),)),
    "connection-close": ("GET", (("Connection", "close"),)),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_cached_answer_is_the_pipelines(site: Site, variant: str) -> None:
    meta = site.client.head_object("page.html")  # a HEAD fills nothing
    method, template = VARIANTS[variant]
    given = tuple((name, value.format(etag=f'"{meta.etag}"',
                                      last_modified=meta.headers["Last-Modified"]))
                  for name, value in template)
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        sock.sendall(site.request(method, "/page.html", *given, PIPELINE))
        piped = read_reply(sock, bytearray(), head=method == "HEAD")
        if variant == "connection-close":
            assert closed_by_server(sock)
    if method == "HEAD":  # the pipeline's HEAD reads no body, so nothing was cached
        assert watch.moved() == HANDED_OFF
        assert site.fetch("GET", "/page.html", PIPELINE).status == 200
    assert watch.moved() == PIPELINE_FILLED
    with connect(site.server.port) as sock:
        sock.sendall(site.request(method, "/page.html", *given))
        front = read_reply(sock, bytearray(), head=method == "HEAD")
        if variant == "connection-close":
            assert closed_by_server(sock)
    assert watch.moved() == FRONT

    assert (front.status, front.same_as(), front.body) == (piped.status, piped.same_as(),
                                                          piped.body)
    for reply in (piped, front):
        assert REQUEST_ID.fullmatch(reply.headers["x-oss-request-id"])
        assert reply.headers["server"] == "AliyunOSS"
        assert reply.headers["etag"] == f'"{meta.etag}"'
        assert reply.headers["last-modified"] == meta.headers["Last-Modified"]
    assert front.headers["x-oss-request-id"] != piped.headers["x-oss-request-id"]
    if variant.startswith("if-"):
        assert (front.status, front.body) == (304, b"")
        # RFC 9110 15.4.5: the stored Cache-Control the 200 carries comes with the 304 too
        assert set(front.same_as()) == {"etag", "last-modified", "cache-control", "server"}
        assert front.headers["cache-control"] == "max-age=60"
        return
    assert front.status == 200
    assert front.body == (b"" if method == "HEAD" else BODY)
    assert front.same_as() == {
        "content-type": "text/html", "etag": f'"{meta.etag}"',
        "last-modified": meta.headers["Last-Modified"], "accept-ranges": "bytes",
        "x-oss-object-type": "Normal", "x-oss-storage-class": "Standard",
        "x-oss-hash-crc64ecma": meta.headers["x-oss-hash-crc64ecma"],
        "content-md5": meta.headers["Content-MD5"], "cache-control": "max-age=60",
        "content-disposition": 'attachment; filename="page.html"',
        "x-oss-meta-team": "web", "x-oss-meta-city": CITY, "server": "AliyunOSS",
        "content-length": str(len(BODY)),
        **({"connection": "close"} if variant == "connection-close" else {})}


# --- 1b. a static website: the key a site read reads first, from memory ----------------------

WEBSITE = (b"<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix>"
           b"<SupportSubDir>true</SupportSubDir><Type>0</Type></IndexDocument>"
           b"<ErrorDocument><Key>error.html</Key><HttpStatus>404</HttpStatus></ErrorDocument>"
           b"<RoutingRules><RoutingRule><RuleNumber>1</RuleNumber><Condition>"
           b"<KeyPrefixEquals>moved/</KeyPrefixEquals></Condition><Redirect>"
           b"<RedirectType>External</RedirectType><Protocol>https</Protocol>"
           b"<HostName>new.example.com</HostName></Redirect></RoutingRule></RoutingRules>"
           b"</WebsiteConfiguration>")
SITE_PAGES = {"index.html": b"<h1>home</h1>", "docs/index.html": b"<h1>docs</h1>",
              "error.html": b"<h1>not here</h1>", "moved/page.html": b"<p>old</p>"}


@pytest.fixture
def website(unverified_server: RunningServer, bucket_name: str, domain: str) -> Site:
    """``site``'s bucket with a website configuration: index documents in sub-directories,
    an error document, a routing rule for ``moved/``."""
    made = make_site(unverified_server, bucket_name, domain)
    made.put("page.html", BODY, STORED)
    for key, body in SITE_PAGES.items():
        made.put(key, body, {"Content-Type": "text/html"})
    reply = as_root(unverified_server, "PUT", bucket_name, query=[("website", "")],
                    body=WEBSITE, headers={"Content-Type": "application/xml"})
    assert reply.status == 200, reply
    made.settle()
    return made


SITE_READS = {  # request -> the key the site reads first
    "root": ("GET", "/", (), "index.html"),
    "root-head": ("HEAD", "/", (), "index.html"),
    "sub-directory": ("GET", "/docs/", (), "docs/index.html"),
    "object": ("GET", "/page.html", (), "page.html"),
    "root-if-none-match": ("GET", "/", (("If-None-Match", "{etag}"),), "index.html"),
}


@pytest.mark.parametrize("case", list(SITE_READS))
def test_a_static_sites_reads_from_memory_are_the_pipelines(website: Site, case: str) -> None:
    method, path, template, key = SITE_READS[case]
    etag = website.client.head_object(key).etag
    given = tuple((name, value.format(etag=f'"{etag}"')) for name, value in template)
    watch = Watch(website.server)
    filled = website.fetch("GET", path, PIPELINE)
    assert filled.status == 200 and filled.headers["etag"] == f'"{etag}"'
    assert watch.moved() == PIPELINE_FILLED
    piped = website.fetch(method, path, *given, PIPELINE)
    watch.moved()
    front = website.fetch(method, path, *given)
    assert watch.moved() == FRONT
    assert (front.status, front.same_as(), front.body) == (piped.status, piped.same_as(),
                                                          piped.body)
    if given:
        assert (front.status, front.body) == (304, b"")
        return
    assert front.status == 200 and front.headers["etag"] == f'"{etag}"'
    assert front.body == (b"" if method == "HEAD" else filled.body)
    assert filled.body == (BODY if key == "page.html" else SITE_PAGES[key])


def test_a_static_sites_rules_and_missing_keys_stay_with_the_pipeline(website: Site) -> None:
    watch = Watch(website.server)
    # a routing rule decides before any key is read: no fill, the pipeline redirects
    moved = website.fetch("GET", "/moved/page.html")
    assert (moved.status, moved.headers["location"]) == (
        302, "https://new.example.com/moved/page.html")
    assert watch.moved() == HANDED_OFF
    # a missing key: one fill finds nothing, the pipeline serves the error document
    missing = website.fetch("GET", "/nothing-here.html")
    assert (missing.status, missing.body) == (404, SITE_PAGES["error.html"])
    assert watch.moved() == {**HANDED_OFF, "misses": 2}
    # a sub-directory without its index document: Type 0 redirects to dir/ when dir/index
    # exists (the pipeline's HEAD of docs/index.html)
    redirect = website.fetch("GET", "/docs")
    assert (redirect.status, redirect.headers["location"]) == (302, "/docs/")


def put_config(site: Site, kind: str, document: bytes) -> None:
    reply = as_root(site.server, "PUT", site.bucket, query=[(kind, "")], body=document,
                    headers={"Content-Type": "application/xml"})
    assert reply.status == 200, reply


CORS_VARY = (b"<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.net"
             b"</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
             b"<ResponseVary>true</ResponseVary></CORSConfiguration>")
HOTLINK = (b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer>"
           b"<RefererList><Referer>https://www.example.com/*</Referer></RefererList>"
           b"</RefererConfiguration>")
ALLOWED_REFERER = ("Referer", "https://www.example.com/gallery")


@pytest.fixture
def guarded(website: Site) -> Site:
    """``website`` with CORS (ResponseVary) and hotlink protection, its writes settled."""
    put_config(website, "cors", CORS_VARY)
    put_config(website, "referer", HOTLINK)
    # Site.settle, with a Referer the configuration lets through
    time.sleep(1.1)
    assert website.fetch("GET", "/settle-probe", ALLOWED_REFERER).status == 404
    return website


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("conditional", [False, True])
def test_cors_and_hotlink_buckets_reads_from_memory_are_the_pipelines(
        guarded: Site, method: str, conditional: bool) -> None:
    """CORS adds ``Vary: Origin`` (ResponseVary) to every reply, 304s included; hotlink
    protection lets an allowed Referer through: the front's answers carry exactly that."""
    website = guarded
    etag = website.client.head_object("index.html").etag
    given = (ALLOWED_REFERER, *((("If-None-Match", f'"{etag}"'),) if conditional else ()))
    watch = Watch(website.server)
    assert website.fetch("GET", "/", ALLOWED_REFERER, PIPELINE).status == 200
    assert watch.moved() == PIPELINE_FILLED
    piped = website.fetch(method, "/", *given, PIPELINE)
    watch.moved()
    front = website.fetch(method, "/", *given)
    assert watch.moved() == FRONT
    assert (front.status, front.same_as(), front.body) == (piped.status, piped.same_as(),
                                                          piped.body)
    assert front.status == (304 if conditional else 200)
    assert front.headers["vary"] == "Origin"


def test_what_cors_and_hotlink_rules_decide_stays_with_the_pipeline(guarded: Site) -> None:
    website = guarded
    assert website.fetch("GET", "/", ALLOWED_REFERER).status == 200  # filled, then cached
    watch = Watch(website.server)
    # no Referer, or one not listed: 403 rendered by the pipeline, nothing read
    for given in ((), (("Referer", "https://elsewhere.example/"),)):
        refused = website.fetch("GET", "/", *given)
        assert (refused.status, refused.code()) == (403, "AccessDenied")
        assert watch.moved() == HANDED_OFF
    # a request with Origin: the pipeline grants the rule's headers
    granted = website.fetch("GET", "/", ALLOWED_REFERER, ("Origin", "https://app.example.net"))
    assert granted.status == 200
    assert granted.headers["access-control-allow-origin"] == "https://app.example.net"
    assert watch.moved() == HANDED_OFF
    # an object that varies by encoding: the two Vary values are merged by the pipeline
    website.put("app.js", b"let x = 1;\n" * 200, {"Content-Type": "application/javascript"})
    plain = website.fetch("GET", "/app.js", ALLOWED_REFERER)
    assert (plain.status, plain.headers["vary"]) == (200, "Accept-Encoding, Origin")
    watch.moved()
    again = website.fetch("GET", "/app.js", ALLOWED_REFERER)
    assert again.headers["vary"] == "Accept-Encoding, Origin"
    assert watch.moved()["answered"] == 0


# --- 2-4. writes, ACL and bindings are seen by the next read ----------------------------------

def write_put(site: Site) -> tuple[bytes, str]:
    body = b"a newer version"
    return body, site.client.put_object("page.html", body).etag


def write_multipart(site: Site) -> tuple[bytes, str]:
    parts = [b"p" * (100 << 10), b"last part"]
    upload_id = site.client.init_multipart_upload("page.html").upload_id
    done = [oss2.models.PartInfo(number, site.client.upload_part(
        "page.html", upload_id, number, part).etag) for number, part in enumerate(parts, 1)]
    return b"".join(parts), site.client.complete_multipart_upload("page.html", upload_id,
                                                                 done).etag


def write_copy(site: Site) -> tuple[bytes, str]:
    body = b"the copy's source"
    site.client.put_object("source.txt", body)
    return body, site.client.copy_object(site.bucket, "source.txt", "page.html").etag


WRITES = {"PutObject": write_put, "CompleteMultipartUpload": write_multipart,
          "CopyObject": write_copy}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_over_a_cached_object_is_what_the_next_read_gets(site: Site,
                                                                 write: str) -> None:
    assert site.cached("page.html").body == BODY
    body, etag = WRITES[write](site)
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.body) == (200, body)
    assert reply.headers["etag"] == f'"{etag}"'
    assert "x-oss-meta-team" not in reply.headers
    site.settle()  # the store's change counters moved: this process's own writes drop nothing
    watch = Watch(site.server)
    again = site.fetch("GET", "/page.html")  # the read after the write filled the cache
    assert (again.status, again.body, again.headers["etag"]) == (200, body, f'"{etag}"')
    assert watch.moved() == FRONT  # over 64 KiB (multipart): its file, sendfile'd


def test_a_deleted_cached_object_is_no_such_key(site: Site) -> None:
    site.cached("page.html")
    site.client.delete_object("page.html")
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.code(), reply.element("Key")) == (404, "NoSuchKey", "page.html")
    head = site.fetch("HEAD", "/page.html")
    assert (head.status, head.body) == (404, b"")


def test_a_bucket_made_private_refuses_anonymous_reads_at_once(site: Site) -> None:
    site.cached("page.html")
    site.client.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    watch = Watch(site.server)
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.code()) == (403, "AccessDenied")
    assert BODY not in reply.body
    assert watch.moved()["answered"] == 0
    site.client.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.body) == (200, BODY)


def test_an_anonymous_read_of_a_private_bucket_reads_no_object(site: Site) -> None:
    """With nothing cached, the front reads the bucket first and lets its ACL decide: a
    refused request never costs an object read (nothing enters the object cache)."""
    site.client.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)  # drops the cached bucket
    watch = Watch(site.server)
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.code()) == (403, "AccessDenied")
    moved = watch.moved()
    assert (moved["answered"], moved["handed_off"], moved["entries"], moved["filled"]) \
        == (0, 1, 0, 1)


def test_a_deleted_binding_is_no_such_cname_in_record_at_once(site: Site) -> None:
    site.cached("page.html")
    site.client.delete_bucket_cname(site.domain)
    reply = site.fetch("GET", "/page.html")
    assert (reply.status, reply.code()) == (404, "NoSuchCnameInRecord")
    assert reply.element("Cname") == site.domain


# --- misses: the front reads them into the cache itself -------------------------------------

def test_a_miss_first_on_a_connection_is_filled_and_the_connection_stays_with_the_front(
        site: Site) -> None:
    site.put("other.txt", b"other", {"Content-Type": "text/plain"})
    site.settle()
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        buffer = bytearray()
        sock.sendall(site.request("GET", "/page.html"))
        first = read_reply(sock, buffer)
        assert (first.status, first.body) == (200, BODY)
        assert watch.moved() == FILLED
        # pipelined: a cached read, a miss, a cached read; answered in order
        sock.sendall(site.request("GET", "/page.html") + site.request("GET", "/other.txt")
                     + site.request("GET", "/page.html"))
        replies = [read_reply(sock, buffer) for _ in range(3)]
        assert [(r.status, r.body) for r in replies] == [(200, BODY), (200, b"other"),
                                                          (200, BODY)]
        assert watch.moved() == {"answered": 3, "handed_off": 0, "hits": 3, "misses": 1,
                                 "entries": 1, "filled": 1, "taken_back": 0}


def test_a_connection_handed_to_aiohttp_comes_back_between_two_requests(site: Site) -> None:
    """A browser's 404 (or any request the pipeline answers) on a kept-alive connection: the
    next GET on it is the front's again, and so are pipelined ones."""
    assert site.fetch("GET", "/page.html").status == 200  # cached
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        buffer = bytearray()
        sock.sendall(site.request("GET", "/favicon.ico"))
        missing = read_reply(sock, buffer)
        assert (missing.status, missing.code()) == (404, "NoSuchKey")
        assert watch.moved() == {**HANDED_OFF, "misses": 2}
        for _ in range(2):
            sock.sendall(site.request("GET", "/page.html"))
            again = read_reply(sock, buffer)
            assert (again.status, again.body) == (200, BODY)
        assert watch.moved() == {**FRONT, "answered": 2, "hits": 2, "taken_back": 1}
        # after another 404, a head split in two: its first half brings the connection back
        sock.sendall(site.request("GET", "/favicon.ico"))
        assert read_reply(sock, buffer).status == 404
        head = site.request("GET", "/page.html")
        sock.sendall(head[:20])
        time.sleep(0.05)
        sock.sendall(head[20:])
        split = read_reply(sock, buffer)
        assert (split.status, split.body) == (200, BODY)
        # (the 404 again: one miss, no second store read until a write)
        assert watch.moved() == {**HANDED_OFF, "misses": 1, "answered": 1, "hits": 1,
                                 "taken_back": 1}
        # the pipeline's again (a header the front leaves), then two pipelined cached reads
        sock.sendall(site.request("GET", "/page.html", PIPELINE))
        piped = read_reply(sock, buffer)
        assert (piped.status, piped.body) == (200, BODY)
        sock.sendall(site.request("GET", "/page.html") + site.request("HEAD", "/page.html"))
        replies = [read_reply(sock, buffer), read_reply(sock, buffer, head=True)]
        assert [(r.status, r.body) for r in replies] == [(200, BODY), (200, b"")]
        assert watch.moved() == {**FRONT, "answered": 2, "hits": 2, "handed_off": 1,
                                 "taken_back": 1}


def test_a_connection_the_front_gave_straight_back_stays_with_aiohttp(site: Site) -> None:
    """A client whose every request is the pipeline's (here: a header the front leaves) goes
    back to the front once, is handed over again before any reply, and then stays: no bounce
    per request."""
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        buffer = bytearray()
        for _ in range(4):
            sock.sendall(site.request("GET", "/page.html", PIPELINE))
            reply = read_reply(sock, buffer)
            assert (reply.status, reply.body) == (200, BODY)
        moved = watch.moved()
        assert (moved["handed_off"], moved["taken_back"], moved["answered"]) == (2, 1, 0)
        sock.sendall(site.request("GET", "/page.html"))
        assert read_reply(sock, buffer).status == 200
        assert watch.moved()["answered"] == 0  # stays with aiohttp


def test_a_request_with_a_body_keeps_the_connection_with_aiohttp(site: Site) -> None:
    """After a body, what the parser holds is not known: the connection stays with aiohttp,
    and pipelined requests after an upload are answered in order all the same."""
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        buffer = bytearray()
        sock.sendall(signed_put_bytes(site, "up.txt", b"uploaded"))
        assert read_reply(sock, buffer).status == 200
        sock.sendall(site.request("GET", "/page.html"))
        assert read_reply(sock, buffer).status == 200
        assert watch.moved()["taken_back"] == 0


def test_a_missing_key_is_read_once_then_goes_to_the_pipeline_until_a_write(
        site: Site) -> None:
    watch = Watch(site.server)
    missing = site.fetch("GET", "/nothing-here.txt")
    assert (missing.status, missing.code()) == (404, "NoSuchKey")
    # missed, a fill found nothing, missed again on the second look: the pipeline answers
    assert watch.moved() == {**HANDED_OFF, "misses": 2}
    again = site.fetch("GET", "/nothing-here.txt")
    assert (again.status, again.code()) == (404, "NoSuchKey")
    assert watch.moved() == {**HANDED_OFF, "misses": 1}  # no second store read first
    site.put("nothing-here.txt", b"now here", {"Content-Type": "text/plain"})
    site.settle()
    watch = Watch(site.server)
    created = site.fetch("GET", "/nothing-here.txt")
    assert (created.status, created.body) == (200, b"now here")
    assert watch.moved() == FILLED


def test_this_process_writes_leave_its_other_cached_objects_cached(site: Site) -> None:
    assert site.cached("page.html").body == BODY
    site.put("unrelated.txt", b"x", {"Content-Type": "text/plain"})
    site.client.put_bucket_cname(oss2.models.PutBucketCnameRequest("more." + site.domain))
    watch = Watch(site.server)
    assert site.fetch("GET", "/page.html").body == BODY
    assert watch.moved() == FRONT  # no refill: only another process's writes empty it


# --- 5. what the front does not take keeps every behaviour -----------------------------------

def signed_get(site: Site, key: str) -> tuple[str, str]:
    """The Date and Authorization a V1 GET of ``key`` through the domain carries."""
    date = dates.rfc1123(datetime.now(timezone.utc))
    authorization = signing.v1_authorization(
        site.server.access_key_id, site.server.access_key_secret,
        signing.SigningRequest("GET", site.bucket, key, [], {"date": date}))
    return date, authorization


def test_requests_the_front_does_not_take_get_the_pipelines_answer(site: Site) -> None:
    site.cached("page.html")
    etag = site.client.head_object("page.html").etag
    watch = Watch(site.server)

    ranged = site.fetch("GET", "/page.html", ("Range", "bytes=0-3"))
    assert (ranged.status, ranged.body) == (206, BODY[:4])
    assert ranged.headers["content-range"] == f"bytes 0-3/{len(BODY)}"
    assert ranged.headers["content-length"] == "4"
    assert watch.moved() == HANDED_OFF

    twice = site.fetch("GET", "/page.html", ("If-None-Match", f'"{etag}"'),
                       ("If-None-Match", '"other"'))
    assert (twice.status, twice.code()) == (400, "InvalidArgument")
    assert twice.element("ArgumentName").lower() == "if-none-match"
    assert watch.moved() == HANDED_OFF

    overridden = site.fetch("GET", "/page.html?response-content-type=text%2Fplain")
    assert (overridden.status, overridden.body) == (200, BODY)
    assert overridden.headers["content-type"] == "text/plain"
    assert watch.moved() == HANDED_OFF

    # a signature is checked even where anonymous reads are allowed (as OSS does)
    date, authorization = signed_get(site, "page.html")
    forged = site.fetch("GET", "/page.html", ("Date", date),
                        ("Authorization", authorization[:-5] + "AAAA="))
    assert (forged.status, forged.code()) == (403, "SignatureDoesNotMatch")
    assert BODY not in forged.body
    assert watch.moved() == HANDED_OFF
    signed = site.fetch("GET", "/page.html", ("Date", date), ("Authorization", authorization))
    assert (signed.status, signed.body) == (200, BODY)
    assert watch.moved() == HANDED_OFF

    for extra in (("Origin", "https://app.example.org"), ("X-Unknown", "1")):
        reply = site.fetch("GET", "/page.html", extra)
        assert (reply.status, reply.body) == (200, BODY), extra
        assert reply.headers["x-oss-meta-city"] == CITY
        assert watch.moved() == HANDED_OFF
    cached = site.fetch("GET", "/page.html")
    assert (cached.status, cached.body) == (200, BODY)
    assert watch.moved() == FRONT  # still cached: nothing above was a write


# --- 6. pipelining ----------------------------------------------------------------------------

def signed_put_bytes(site: Site, key: str, body: bytes) -> bytes:
    """A V1-signed path-style PutObject with its body, as bytes."""
    date = dates.rfc1123(datetime.now(timezone.utc))
    authorization = signing.v1_authorization(
        site.server.access_key_id, site.server.access_key_secret,
        signing.SigningRequest("PUT", site.bucket, key, [], {"date": date}))
    return head_bytes("PUT", f"/{site.bucket}/{key}", f"127.0.0.1:{site.server.port}",
                      (("Date", date), ("Authorization", authorization),
                       ("Content-Length", str(len(body))))) + body


def test_pipelined_cached_reads_around_an_upload_are_answered_in_order(site: Site) -> None:
    site.cached("page.html")
    upload = b"uploaded between two reads"
    watch = Watch(site.server)
    get = site.request("GET", "/page.html")
    with connect(site.server.port) as sock:
        sock.sendall(get + signed_put_bytes(site, "other.txt", upload) + get)
        buffer = bytearray()
        first, put, last = (read_reply(sock, buffer) for _ in range(3))
    assert (first.status, first.body) == (200, BODY)
    assert (put.status, put.body) == (200, b"")
    assert put.headers["etag"] == f'"{hashlib.md5(upload).hexdigest().upper()}"'
    assert (last.status, last.body) == (200, BODY)
    assert last.same_as() == {**first.same_as(), "content-length": str(len(BODY))}
    assert buffer == b""
    # the front answered the first; the PUT handed the connection (and the GET after it) over
    moved = watch.moved()
    assert (moved["answered"], moved["handed_off"]) == (1, 1)
    assert site.client.get_object("other.txt").read() == upload


def test_a_thousand_pipelined_cached_reads_sent_before_reading_any(site: Site) -> None:
    body = bytes(range(256)) * 32  # 8 KiB: 1000 replies far exceed every socket buffer
    site.put("big.bin", body, {})
    site.settle()
    site.cached("big.bin")
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        sock.sendall(site.request("GET", "/big.bin") * 1000)
        buffer = bytearray()
        replies = [read_reply(sock, buffer) for _ in range(1000)]
        sock.settimeout(0.2)
        assert not closed_by_server(sock)  # nothing more, and the connection is kept
    assert [(r.status, r.body) for r in replies] == [(200, body)] * 1000
    assert len({r.headers["x-oss-request-id"] for r in replies}) == 1000
    assert watch.moved() == {**FRONT, "answered": 1000, "hits": 1000}


# --- 7. bytes split anywhere ------------------------------------------------------------------

def test_a_cached_read_sent_one_byte_at_a_time(site: Site) -> None:
    site.cached("page.html")
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        for byte in site.request("GET", "/page.html", ("User-Agent", "slow/1.0")):
            sock.send(bytes([byte]))
            time.sleep(0.001)
        reply = read_reply(sock, bytearray())
    assert (reply.status, reply.body) == (200, BODY)
    assert watch.moved() == FRONT


@pytest.mark.parametrize("cut", [-4, -3, -2, -1])
def test_a_head_split_around_its_blank_line(site: Site, cut: int) -> None:
    site.cached("page.html")
    request = site.request("GET", "/page.html")
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        sock.sendall(request[:cut])
        time.sleep(0.05)
        sock.sendall(request[cut:])
        reply = read_reply(sock, bytearray())
    assert (reply.status, reply.body) == (200, BODY)
    assert watch.moved() == FRONT


# --- 8. malformed input reaches aiohttp --------------------------------------------------------

NOT_HTTP = "The request is not valid HTTP/1.1: "
# request head (after the request line and Host) -> the reply aiohttp gave before the front
# existed (measured on the commit before http/front.py): a 400 with this message, or 200
MALFORMED = {
    "bare LF": (b"GET /page.html HTTP/1.1\nHost: {domain}\n\n", "Bad status line."),
    "bare LF ending a header": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\n\r\n",
                                "Missing expected CR after header value."),
    "header without a colon": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nNoColon\r\n\r\n",
                               "Invalid header token."),
    "obs-fold": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nUser-Agent: a\r\n b\r\n\r\n",
                 "Unexpected whitespace after header value."),
    "NUL in a value": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nUser-Agent: a\x00b\r\n\r\n",
                       "Invalid header value char."),
    "lower-case method": (b"get /page.html HTTP/1.1\r\nHost: {domain}\r\n\r\n",
                          "Invalid method encountered."),
    "TLS ClientHello": (bytes.fromhex("16030100a5010000a10303") + bytes(32)
                        + b"\x00\x00\x02\x13\x01\x01\x00",
                        "Received HTTPS traffic on an HTTP port."),
    "a 9000-byte Cookie": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nCookie: "
                           + b"c" * 9000 + b"\r\n\r\n", "Got more than 8190 bytes when reading."),
    "a 17 KiB Cookie": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nCookie: "
                        + b"c" * 17000 + b"\r\n\r\n", "Got more than 8190 bytes when reading."),
    "a 17 KiB head of short lines": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\nCookie: "
                                     + b"c" * 8000 + b"\r\nReferer: " + b"r" * 8000
                                     + b"\r\nUser-Agent: " + b"u" * 1500 + b"\r\n\r\n", None),
    "HTTP/1.0": (b"GET /page.html HTTP/1.0\r\nHost: {domain}\r\n\r\n", None),
    "a non-ASCII value": (b"GET /page.html HTTP/1.1\r\nHost: {domain}\r\n"
                          b"User-Agent: caf\xc3\xa9\r\n\r\n", None),
}


@pytest.mark.parametrize("after", ["new connection", "taken back"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_gets_the_reply_aiohttp_gave_before_the_front(site: Site, case: str,
                                                                      after: str) -> None:
    """On a new connection, and on one aiohttp answered a 404 on (its next bytes go back to
    the front when they may be a GET or HEAD): the same reply."""
    site.cached("page.html")
    data, message = MALFORMED[case]
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        buffer = bytearray()
        if after == "taken back":
            sock.sendall(site.request("GET", "/favicon.ico"))
            assert read_reply(sock, buffer).status == 404
            watch.moved()
        sock.sendall(data.replace(b"{domain}", site.domain.encode()))
        reply = read_reply(sock, buffer)
        closes = closed_by_server(sock) if message is not None or case == "HTTP/1.0" else None
    moved = watch.moved()
    if after == "new connection":
        assert moved == HANDED_OFF
    else:  # nothing from memory; back to the front at most once, and handed over again
        assert moved["answered"] == 0 and moved["taken_back"] == moved["handed_off"] <= 1
    if message is None:
        assert (reply.status, reply.body) == (200, BODY)
        assert reply.version == ("HTTP/1.0" if case == "HTTP/1.0" else "HTTP/1.1")
        assert reply.headers["x-oss-meta-city"] == CITY
        assert closes in (None, True)
        return
    assert (reply.status, reply.code(), reply.element("Message")) == (
        400, "InvalidArgument", NOT_HTTP + message)
    assert REQUEST_ID.fullmatch(reply.headers["x-oss-request-id"])
    assert closes is True


# --- 9. timeouts while the front holds a connection -------------------------------------------

@pytest.fixture(scope="module")
def timed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("front-timeouts"),
                          ["--no-dns-verify", "--keepalive-timeout", "2", "--header-timeout", "1"])
    yield server
    server.stop()


@pytest.fixture
def timed_site(timed_server: RunningServer, bucket_name: str, domain: str) -> Site:
    made = make_site(timed_server, bucket_name, domain)
    made.put("page.html", BODY, STORED)
    made.settle()
    made.cached("page.html")
    return made


def open_for(sock: socket.socket, seconds: float) -> bool:
    """Whether ``sock`` is still open (nothing received, no EOF) after ``seconds``."""
    assert seconds > 0
    sock.settimeout(seconds)
    return not closed_by_server(sock)


def closed_between(connections: list[tuple[socket.socket, float]], low: float,
                   high: float) -> bool:
    """Whether each connection, idle since its time, was closed by the server no sooner than
    ``low`` seconds and no later than ``high`` seconds after it. The connections were made at
    different moments of the server's once-a-second sweep, so a deadline the sweep rounds
    down shows on one of them."""
    for sock, since in connections:
        if not open_for(sock, since + low - time.monotonic()):
            return False
    return all(not open_for(sock, max(since + high - time.monotonic(), 0.01))
               for sock, since in connections)


def staggered(port: int, data: bytes, reply: bool = False, count: int = 3,
              gap: float = 0.3) -> list[tuple[socket.socket, float]]:
    """``count`` connections ``gap`` seconds apart, each sent ``data`` (and its reply read):
    each with the moment it went idle."""
    made: list[tuple[socket.socket, float]] = []
    for index in range(count):
        if index:
            time.sleep(gap)
        sock = connect(port)
        sock.sendall(data)
        if reply:
            assert read_reply(sock, bytearray()).body == BODY
        made.append((sock, time.monotonic()))
    return made


@pytest.mark.slow
def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
        timed_site: Site) -> None:
    connections = staggered(timed_site.server.port, b"")
    try:
        assert closed_between(connections, 0.8, 3.0)
    finally:
        for sock, _ in connections:
            sock.close()


@pytest.mark.slow
def test_an_idle_connection_after_a_cached_reply_is_closed_after_the_keepalive_timeout(
        timed_site: Site) -> None:
    watch = Watch(timed_site.server)
    connections = staggered(timed_site.server.port, timed_site.request("GET", "/page.html"),
                            reply=True)
    try:
        assert closed_between(connections, 1.5, 4.5)  # the header timeout no longer applies
    finally:
        for sock, _ in connections:
            sock.close()
    assert watch.moved() == {**FRONT, "answered": 3, "hits": 3}


@pytest.mark.slow
def test_a_second_cached_read_within_the_keepalive_timeout_is_served(timed_site: Site) -> None:
    with connect(timed_site.server.port) as sock:
        buffer = bytearray()
        for _ in range(3):
            sock.sendall(timed_site.request("GET", "/page.html"))
            assert read_reply(sock, buffer).body == BODY
            time.sleep(1.2)  # over the header timeout, under the keep-alive timeout


@pytest.mark.slow
def test_half_a_request_line_is_closed_after_the_header_timeout(timed_site: Site) -> None:
    connections = staggered(timed_site.server.port, b"GET /sm")
    try:
        assert closed_between(connections, 0.8, 3.0)
    finally:
        for sock, _ in connections:
            sock.close()


# --- 10. HTTPS ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("front-tls"), ["--no-dns-verify"], https=True)
    yield server
    server.stop()


def make_tls_site(server: RunningServer, ca: CertFactory, bucket: str, domain: str) -> Site:
    """``make_site`` with a certificate for ``domain`` from ``ca`` attached to the binding."""
    made = make_site(server, bucket, domain)
    chain, key = ca.leaf(domain)
    made.client.put_bucket_cname(oss2.models.PutBucketCnameRequest(
        domain, oss2.models.CertInfo(certificate=chain, private_key=key)))
    return made


def cached_tls_site(server: RunningServer, ca: CertFactory, bucket: str, domain: str,
                    key: str, body: bytes, headers: dict[str, str],
                    ) -> tuple[Site, ssl.SSLContext]:
    """``make_tls_site`` holding ``key``, cached by the front; a context trusting ``ca``."""
    made = make_tls_site(server, ca, bucket, domain)
    made.put(key, body, headers)
    made.settle()
    made.cached(key)
    return made, ssl.create_default_context(cadata=ca.ca_pem())


@contextmanager
def tls_connect(port: int, domain: str, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
    """A TLS connection to the loopback listener, SNI and the certificate check naming
    ``domain``."""
    with connect(port) as raw_sock, context.wrap_socket(raw_sock,
                                                        server_hostname=domain) as sock:
        yield sock


def tls_exchange(port: int, domain: str, context: ssl.SSLContext, data: bytes) -> Raw:
    """``data`` over ``tls_connect``, and the reply."""
    with tls_connect(port, domain, context) as sock:
        sock.sendall(data)
        return read_reply(sock, bytearray())


def test_a_cached_read_over_tls_is_answered_by_the_front(tls_server: RunningServer,
                                                         ca: CertFactory, bucket_name: str,
                                                         domain: str) -> None:
    made, context = cached_tls_site(tls_server, ca, bucket_name, domain, "page.html", BODY,
                                    STORED)
    plain = made.fetch("GET", "/page.html")
    watch = Watch(tls_server)
    secure = tls_exchange(tls_server.https_port, domain, context, made.request("GET",
                                                                              "/page.html"))
    assert watch.moved() == FRONT
    assert (secure.status, secure.body) == (200, BODY)
    assert secure.same_as() == plain.same_as()
    assert REQUEST_ID.fullmatch(secure.headers["x-oss-request-id"])


def test_pipelined_cached_reads_over_tls_sent_before_reading_any(
        tls_server: RunningServer, ca: CertFactory, bucket_name: str, domain: str) -> None:
    body = bytes(range(256)) * 32
    made, context = cached_tls_site(tls_server, ca, bucket_name, domain, "big.bin", body, {})
    watch = Watch(tls_server)
    with tls_connect(tls_server.https_port, domain, context) as sock:
        sock.sendall(made.request("GET", "/big.bin") * 500)
        buffer = bytearray()
        replies = [read_reply(sock, buffer) for _ in range(500)]
    assert [(r.status, r.body) for r in replies] == [(200, body)] * 500
    assert watch.moved() == {**FRONT, "answered": 500, "hits": 500}


def test_a_tls_connection_handed_to_aiohttp_comes_back_between_two_requests(
        tls_server: RunningServer, ca: CertFactory, bucket_name: str, domain: str) -> None:
    made, context = cached_tls_site(tls_server, ca, bucket_name, domain, "page.html", BODY,
                                    STORED)
    watch = Watch(tls_server)
    with tls_connect(tls_server.https_port, domain, context) as sock:
        buffer = bytearray()
        sock.sendall(made.request("GET", "/favicon.ico"))
        assert read_reply(sock, buffer).status == 404
        for _ in range(3):
            sock.sendall(made.request("GET", "/page.html"))
            reply = read_reply(sock, buffer)
            assert (reply.status, reply.body) == (200, BODY)
    assert watch.moved() == {**HANDED_OFF, "misses": 2, "answered": 3, "hits": 3,
                             "taken_back": 1}


# --- signed ListCname from memory -----------------------------------------------------------

def list_cname_head(site: Site, version: str, *, secret: str | None = None,
                    key_id: str | None = None, moment: datetime | None = None,
                    extra: tuple[tuple[str, str], ...] = (), bucket: str | None = None) -> bytes:
    """A header-signed ``GET /<bucket>/?cname`` on the server's own host, V1 or V4 (by the
    server's root key unless ``key_id``/``secret`` say otherwise; dated now unless
    ``moment``)."""
    server = site.server
    secret = server.access_key_secret if secret is None else secret
    key_id = server.access_key_id if key_id is None else key_id
    moment = datetime.now(timezone.utc) if moment is None else moment
    headers: dict[str, str] = {}
    if version == "v1":
        headers["date"] = dates.rfc1123(moment)
    else:
        headers["x-oss-date"] = dates.v4_timestamp(moment)
        headers["x-oss-content-sha256"] = signing.UNSIGNED_PAYLOAD
    bucket = site.bucket if bucket is None else bucket
    request = signing.SigningRequest("GET", bucket, "", [("cname", "")], headers)
    if version == "v1":
        headers["authorization"] = signing.v1_authorization(key_id, secret, request)
    else:
        headers["authorization"] = signing.v4_authorization(
            key_id, secret, request, region=server.region,
            date=moment.strftime("%Y%m%d"))
    return head_bytes("GET", f"/{bucket}/?cname", f"127.0.0.1:{server.port}",
                      tuple(headers.items()) + extra)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_a_signed_list_cname_from_memory_is_the_pipelines(site: Site, version: str) -> None:
    port = site.server.port
    watch = Watch(site.server)
    first = exchange(port, list_cname_head(site, version, extra=(PIPELINE,)))
    assert first.status == 200, first.body
    watch.moved()
    second = exchange(port, list_cname_head(site, version))
    assert watch.moved()["answered"] == 1
    assert (second.status, second.same_as(), second.body) == (200, first.same_as(), first.body)
    assert second.headers["content-type"] == "application/xml"
    assert f"<Domain>{site.domain}</Domain>" in second.body.decode()
    assert REQUEST_ID.fullmatch(second.headers["x-oss-request-id"])


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_a_forged_list_cname_is_refused_by_the_pipeline(site: Site, version: str) -> None:
    port = site.server.port
    assert exchange(port, list_cname_head(site, version)).status == 200  # bindings cached
    watch = Watch(site.server)
    forged = exchange(port, list_cname_head(site, version, secret="not-the-secret"))
    assert (forged.status, forged.code()) == (403, "SignatureDoesNotMatch")
    assert watch.moved()["answered"] == 0


def test_a_new_binding_is_in_the_next_list_cname_at_once(site: Site) -> None:
    port = site.server.port
    assert exchange(port, list_cname_head(site, "v1")).status == 200
    assert exchange(port, list_cname_head(site, "v1")).status == 200  # from memory
    extra = "more." + site.domain
    site.client.put_bucket_cname(oss2.models.PutBucketCnameRequest(extra))
    listed = exchange(port, list_cname_head(site, "v1"))
    assert listed.status == 200
    assert f"<Domain>{extra}</Domain>" in listed.body.decode()


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_a_replayed_list_cname_is_refused_once_its_date_leaves_the_window(
        site: Site, version: str) -> None:
    """The front replays a verified ListCname for the same bytes, but only while its date is
    within the 15 minutes a signature is good for: then RequestTimeTooSkewed, as the first
    verification would have said."""
    port = site.server.port
    nearly_stale = datetime.now(timezone.utc) - timedelta(minutes=15) + timedelta(seconds=2)
    head = list_cname_head(site, version, moment=nearly_stale)
    assert exchange(port, head).status == 200  # the pipeline; the bindings are now cached
    watch = Watch(site.server)
    assert exchange(port, head).status == 200
    assert watch.moved()["answered"] == 1  # verified by the front, then replayed
    assert exchange(port, head).status == 200
    assert watch.moved()["answered"] == 1
    time.sleep(2.5)
    stale = exchange(port, head)
    assert (stale.status, stale.code()) == (403, "RequestTimeTooSkewed")
    assert watch.moved()["answered"] == 0


def test_a_replayed_list_cname_of_a_deleted_user_is_refused(site: Site, tmp_path: Path) -> None:
    """A replayed verification holds only while the keys are the version it was made under:
    deleting the user who signed refuses the same bytes within the key ring's reload."""
    server = site.server
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "oss:ListCname",
         "Resource": f"acs:oss:*:*:{site.bucket}"}]}
    user = create_user(server, f"lister-{site.bucket}", policy, tmp_path)
    head = list_cname_head(site, "v1", key_id=user["access_key_id"],
                           secret=user["access_key_secret"])
    deadline = time.monotonic() + 3
    while exchange(server.port, head).status != 200:  # the key ring reloads within a second
        assert time.monotonic() < deadline
        time.sleep(0.05)
    watch = Watch(server)
    assert exchange(server.port, head).status == 200
    assert watch.moved()["answered"] == 1
    subprocess.run([sys.executable, "-m", "ossutil.server.main", "user", "delete", user["user"],
                    "--data-dir", str(server.data_dir)], check=True, capture_output=True,
                   timeout=30)
    deadline = time.monotonic() + 3
    while (refused := exchange(server.port, head)).status == 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (refused.status, refused.code()) == (403, "InvalidAccessKeyId")


def test_a_first_list_cname_is_filled_by_the_front_and_a_missing_bucket_goes_on(
        site: Site) -> None:
    """A connection whose first request is a ListCname of a bucket whose bindings are not
    cached yet stays with the front: it reads them in, then answers. A bucket that does not
    exist is the pipeline's NoSuchBucket."""
    port = site.server.port
    extra = "also." + site.domain
    site.client.put_bucket_cname(oss2.models.PutBucketCnameRequest(extra))  # drops them
    watch = Watch(site.server)
    listed = exchange(port, list_cname_head(site, "v1"))
    assert listed.status == 200, listed.body
    assert f"<Domain>{site.domain}</Domain>" in listed.body.decode()
    assert f"<Domain>{extra}</Domain>" in listed.body.decode()
    moved = watch.moved()
    assert (moved["answered"], moved["handed_off"], moved["filled"]) == (1, 0, 1)
    missing = exchange(port, list_cname_head(site, "v1", bucket=site.bucket + "-none"))
    assert (missing.status, missing.code()) == (404, "NoSuchBucket")
    moved = watch.moved()
    assert (moved["answered"], moved["handed_off"], moved["filled"]) == (0, 1, 0)


# --- large objects: metadata and an open file, sent with sendfile -----------------------------

LARGE = bytes(range(256)) * 1024  # 256 KiB: over the 64 KiB the cache keeps bytes for


def test_a_large_object_is_sent_from_its_cached_file_as_the_pipeline_sends_it(
        site: Site) -> None:
    site.put("large.bin", LARGE, {"Cache-Control": "max-age=5"})
    site.settle()
    watch = Watch(site.server)
    piped = site.fetch("GET", "/large.bin", PIPELINE)  # the pipeline's read keeps the file
    assert watch.moved() == PIPELINE_FILLED
    front = site.fetch("GET", "/large.bin")
    assert watch.moved() == FRONT
    assert (front.status, front.body, front.same_as()) == (200, LARGE, piped.same_as())
    assert front.headers["content-length"] == str(len(LARGE))
    head = site.fetch("HEAD", "/large.bin")
    assert watch.moved() == FRONT
    assert (head.status, head.body, head.same_as()) == (200, b"", piped.same_as())


def test_a_large_object_to_a_client_that_reads_late_comes_whole_and_in_order(
        site: Site) -> None:
    """Bodies beyond the socket buffers: the front sends what the socket takes, the rest as
    the client drains it, then answers the next pipelined request."""
    huge = bytes(range(251)) * (24 * 1024 * 1024 // 251)  # ~24 MiB, a prime period
    site.put("huge.bin", huge, {})
    site.settle()
    site.cached("page.html")
    assert site.fetch("GET", "/huge.bin").status == 200  # fills: metadata and the file
    watch = Watch(site.server)
    with connect(site.server.port) as sock:
        sock.sendall(site.request("GET", "/huge.bin") + site.request("GET", "/page.html")
                     + site.request("GET", "/huge.bin"))
        time.sleep(0.5)  # nothing read: the server's writes back up
        buffer = bytearray()
        replies = [read_reply(sock, buffer) for _ in range(3)]
    wanted = (huge, BODY, huge)
    assert [(r.status, r.body == body) for r, body in zip(replies, wanted, strict=True)] \
        == [(200, True)] * 3
    assert watch.moved() == {**FRONT, "answered": 3, "hits": 3}


def test_a_write_during_a_large_reply_leaves_that_reply_whole(site: Site) -> None:
    """The reply in progress keeps the version it started with (its own descriptor); the
    next read gets the new one."""
    old = bytes(range(253)) * (16 * 1024 * 1024 // 253)
    new = bytes(reversed(old))
    site.put("swap.bin", old, {})
    site.settle()
    assert site.fetch("GET", "/swap.bin").status == 200
    with connect(site.server.port) as sock:
        sock.sendall(site.request("GET", "/swap.bin"))
        buffer = bytearray(sock.recv(65536))  # the reply has begun
        site.put("swap.bin", new, {})
        first = read_reply(sock, buffer)
    assert (first.status, first.body == old) == (200, True)
    again = site.fetch("GET", "/swap.bin")
    assert (again.status, again.body == new) == (200, True)


def test_a_large_cached_object_over_tls_is_copied_by_the_pipeline(
        tls_server: RunningServer, ca: CertFactory, bucket_name: str, domain: str) -> None:
    made = make_tls_site(tls_server, ca, bucket_name, domain)
    made.put("large.bin", LARGE, {})
    made.settle()
    assert made.fetch("GET", "/large.bin").status == 200  # plain: fills, then sendfile
    context = ssl.create_default_context(cadata=ca.ca_pem())
    watch = Watch(tls_server)
    secure = tls_exchange(tls_server.https_port, domain, context,
                          made.request("GET", "/large.bin"))
    assert (secure.status, secure.body) == (200, LARGE)
    assert watch.moved() == HANDED_OFF  # no sendfile under TLS


def test_acme_challenge_paths_are_always_the_pipelines(site: Site) -> None:
    """/.well-known/acme-challenge/ is the one path a bound domain reserves (HTTP-01): never
    answered from memory, even when an object of that name is cached."""
    site.put(".well-known/acme-challenge/token", b"an object, not a challenge", {})
    site.settle()
    for _ in range(2):
        watch = Watch(site.server)
        reply = site.fetch("GET", "/.well-known/acme-challenge/token")
        assert (reply.status, reply.body) == (200, b"an object, not a challenge")
        assert watch.moved()["answered"] == 0


def test_the_object_cache_caps_are_serve_options(tmp_path: Path, bucket_name: str,
                                                 domain: str) -> None:
    """``--object-cache-max-object`` below an object's size keeps it as an open file (still
    answered by the front); ``--object-cache-bytes 0`` turns the cache off (the pipeline
    answers every read); a size that is not one is refused before anything starts."""
    capped = start_server(tmp_path / "capped", ["--no-dns-verify",
                                                "--object-cache-max-object", "16"])
    try:
        site = make_site(capped, bucket_name, domain)
        site.put("page.html", BODY, STORED)
        site.settle()
        assert site.fetch("GET", "/page.html").status == 200  # fills: metadata and the file
        watch = Watch(capped)
        reply = site.fetch("GET", "/page.html")
        assert (reply.status, reply.body) == (200, BODY)
        assert watch.moved() == FRONT
    finally:
        capped.stop()
    off = start_server(tmp_path / "off", ["--no-dns-verify", "--object-cache-bytes", "0"])
    try:
        site = make_site(off, bucket_name, domain)
        site.put("page.html", BODY, STORED)
        site.settle()
        for _ in range(2):
            watch = Watch(off)
            assert site.fetch("GET", "/page.html").body == BODY
            assert watch.moved()["answered"] == 0
    finally:
        off.stop()
    refused = subprocess.run([sys.executable, "-m", "ossutil.server.main", "serve",
                              "--data-dir", str(tmp_path / "never"), "--object-cache-bytes",
                              "lots"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "--object-cache-bytes: not a size in bytes (e.g. 64M): 'lots'" in refused.stderr
    assert not (tmp_path / "never").exists()


def test_a_reader_that_stops_is_closed_after_the_keepalive_timeout(timed_site: Site) -> None:
    """A file reply waits for its client no longer than the keep-alive timeout between two
    moves (2 s here): a client that stops reading loses the connection, and with it the
    reply's descriptors, rather than holding them for ever."""
    huge = bytes(range(239)) * (24 * 1024 * 1024 // 239)
    timed_site.put("huge.bin", huge, {})
    timed_site.settle()
    assert timed_site.fetch("GET", "/huge.bin").body == huge  # fills: metadata and the file
    with connect(timed_site.server.port) as sock:
        sock.sendall(timed_site.request("GET", "/huge.bin"))
        time.sleep(4.5)  # read nothing: over the 2 s timeout, and a sweep
        received = 0
        sock.settimeout(TIMEOUT)
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
    assert 0 < received < len(huge)
