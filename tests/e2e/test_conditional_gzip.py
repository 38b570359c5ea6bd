"""Cache-friendly serving for browsers (issue 12 §4), through the real server: revalidation
(ETag / If-None-Match, Last-Modified / If-Modified-Since -> 304, also for a site's index
document), stored Cache-Control / Expires / Content-Disposition returned as stored, and gzip on
the way out: text of at least 1 KiB to a client that accepts it, compressed, chunked, with the
stored bytes (and their ETag and CRC) unchanged; images, small or pre-encoded objects, ranges,
HEAD and clients that do not ask get the bytes as stored. The front (cached reads) hands a
gzip-accepting GET of such an object to the pipeline. The SDKs (which send no Accept-Encoding)
and ``ossutil cp`` (which sends ``Accept-Encoding: gzip``, as the Go client) read the object
unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

import oss2
import pytest
from tests.cli.clitools import run_ours
from tests.e2e.test_front import FRONT, Watch, make_site
from tests.support.raw import Reply, as_root, send
from tests.support.server import RunningServer

TEXT = ("<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40 + "</p>\n"
        ).encode()  # ~2.3 KiB of HTML
BIG_TEXT = b"".join(b"line %06d of a large stylesheet { color: red }\n" % i
                    for i in range(6000))  # ~290 KiB: sent from the blob, not memory
STORED_HEADERS = {"Cache-Control": "public, max-age=3600",
                  "Expires": "Thu, 01 Jan 2037 00:00:00 GMT",
                  "Content-Disposition": 'inline; filename="page.html"'}


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str) -> Any:
    made = make_site(unverified_server, bucket_name, domain)
    made.put("page.html", TEXT, {"Content-Type": "text/html", **STORED_HEADERS})
    made.put("small.txt", b"tiny", {"Content-Type": "text/plain"})
    made.put("style.css", BIG_TEXT, {"Content-Type": "text/css"})
    made.put("data.json", TEXT, {"Content-Type": "application/json; charset=utf-8"})
    made.put("logo.png", os.urandom(4096), {"Content-Type": "image/png"})
    made.put("packed.js", gzip.compress(TEXT), {"Content-Type": "application/javascript",
                                                "Content-Encoding": "gzip"})
    return made


def browse(site: Any, path: str, method: str = "GET", **headers: str) -> Reply:
    return send(site.server.endpoint, method, path,
                headers={"Host": site.domain, **{k.replace("_", "-"): v
                                                 for k, v in headers.items()}})


# --- revalidation ---------------------------------------------------------------------------

def test_revalidation_answers_304(site: Any) -> None:
    first = browse(site, "/page.html")
    assert first.status == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for headers in ({"If_None_Match": etag}, {"If_Modified_Since": modified},
                    {"If_None_Match": etag, "Accept_Encoding": "gzip"}):
        again = browse(site, "/page.html", **headers)
        assert (again.status, again.body, again.headers["etag"]) == (304, b"", etag), headers
    changed = browse(site, "/page.html", If_None_Match='"0123456789ABCDEF0123456789ABCDEF"')
    assert (changed.status, changed.body) == (200, TEXT)


def test_a_site_index_revalidates_too(site: Any) -> None:
    site.put("index.html", TEXT, {"Content-Type": "text/html"})
    site.client.put_bucket_website(oss2.models.BucketWebsite("index.html", "page.html"))
    home = browse(site, "/")
    assert (home.status, home.body) == (200, TEXT)
    again = browse(site, "/", If_None_Match=home.headers["etag"])
    assert (again.status, again.body) == (304, b"")


def test_stored_cache_headers_come_back_as_stored(site: Any) -> None:
    for reply in (browse(site, "/page.html"), browse(site, "/page.html", "HEAD"),
                  as_root(site.server, "GET", site.bucket, "page.html")):
        assert {name: reply.headers[name.lower()] for name in STORED_HEADERS} == \
            STORED_HEADERS
    # oss2's own view of them
    meta = site.client.head_object("page.html")
    assert meta.headers["Cache-Control"] == STORED_HEADERS["Cache-Control"]


# --- gzip -------------------------------------------------------------------------------------

def test_text_is_gzipped_when_the_client_asks(site: Any) -> None:
    plain = browse(site, "/page.html")
    packed = browse(site, "/page.html", Accept_Encoding="gzip, deflate, br")
    assert packed.status == 200
    assert (packed.headers["content-encoding"], packed.headers["transfer-encoding"],
            packed.headers["vary"]) == ("gzip", "chunked", "Accept-Encoding")
    assert "content-length" not in packed.headers and "content-md5" not in packed.headers
    assert gzip.decompress(packed.body) == TEXT
    assert len(packed.body) < len(TEXT)
    for name in ("etag", "last-modified", "x-oss-hash-crc64ecma", "content-type",
                 "cache-control"):
        assert packed.headers[name] == plain.headers[name], name
    json_reply = browse(site, "/data.json", Accept_Encoding="gzip")
    assert (json_reply.headers["content-encoding"], gzip.decompress(json_reply.body)) == (
        "gzip", TEXT)
    big = browse(site, "/style.css", Accept_Encoding="gzip")  # streamed from the blob
    assert big.headers["content-encoding"] == "gzip"
    assert hashlib.md5(gzip.decompress(big.body)).digest() == hashlib.md5(BIG_TEXT).digest()


@pytest.mark.parametrize(("path", "headers"), [
    ("/page.html", {}),  # not asked
    ("/page.html", {"Accept_Encoding": "gzip;q=0, identity"}),  # refused by weight
    ("/page.html", {"Accept_Encoding": "br"}),
    ("/small.txt", {"Accept_Encoding": "gzip"}),  # under 1 KiB
    ("/logo.png", {"Accept_Encoding": "gzip"}),  # not a text type
    ("/page.html", {"Accept_Encoding": "gzip", "Range": "bytes=0-99"}),  # a range
])
def test_what_is_sent_as_stored(site: Any, path: str, headers: dict[str, str]) -> None:
    reply = browse(site, path, **headers)
    assert "content-encoding" not in reply.headers
    assert reply.status in (200, 206)
    assert reply.headers["content-length"] == str(len(reply.body))


def test_pre_encoded_objects_and_head_are_untouched(site: Any) -> None:
    packed = browse(site, "/packed.js", Accept_Encoding="gzip")
    assert (packed.headers["content-encoding"], packed.body) == ("gzip", gzip.compress(TEXT))
    assert packed.headers["content-length"] == str(len(packed.body))  # stored, not re-packed
    head = browse(site, "/page.html", "HEAD", Accept_Encoding="gzip")
    assert (head.status, head.headers["content-length"]) == (200, str(len(TEXT)))
    assert "content-encoding" not in head.headers


def test_the_front_hands_gzip_reads_to_the_pipeline(site: Any) -> None:
    site.settle()
    watch = Watch(site.server)
    assert site.fetch("GET", "/page.html").status == 200  # fills the cache
    watch.moved()
    assert site.fetch("GET", "/page.html").body == TEXT
    assert watch.moved() == FRONT
    packed = exchange_gzip(site)
    assert gzip.decompress(packed) == TEXT
    moved = watch.moved()
    assert (moved["answered"], moved["handed_off"]) == (0, 1)  # the pipeline compressed it


def exchange_gzip(site: Any) -> bytes:
    reply = send(site.server.endpoint, "GET", "/page.html",
                 headers={"Host": site.domain, "Accept-Encoding": "gzip"})
    assert reply.headers["content-encoding"] == "gzip"
    return reply.body


def test_clients_read_the_stored_bytes(site: Any, tmp_path: Path) -> None:
    got = site.client.get_object("style.css")  # oss2 checks the CRC at the end
    assert got.read() == BIG_TEXT
    server = site.server
    outcome = run_ours(["cp", f"oss://{site.bucket}/style.css", "style.css", "-e",
                        server.endpoint, "-i", server.access_key_id, "-k",
                        server.access_key_secret, "-c", str(tmp_path / "no-config")],
                       cwd=tmp_path)
    assert outcome.code == 0, outcome.text
    assert (tmp_path / "style.css").read_bytes() == BIG_TEXT


def test_http_1_0_clients_get_the_stored_bytes(site: Any) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", site.server.port), timeout=5) as sock:
        sock.sendall(f"GET /page.html HTTP/1.0\r\nHost: {site.domain}\r\n"
                     "Accept-Encoding: gzip\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head
    assert b"content-encoding" not in head.lower()
    assert body == TEXT


def test_a_304_says_what_its_200_said(site: Any) -> None:
    """RFC 9110 15.4.5: Cache-Control, Expires and Vary of the 200 come with the 304 (a
    compressible object varies by Accept-Encoding whether or not this reply was compressed)."""
    for accept in ({}, {"Accept_Encoding": "gzip"}):
        full = browse(site, "/page.html", **accept)
        again = browse(site, "/page.html", If_None_Match=full.headers["etag"], **accept)
        assert again.status == 304
        for name in ("cache-control", "expires", "vary"):
            assert again.headers[name] == full.headers[name], (name, accept)
        assert full.headers["vary"] == "Accept-Encoding"
    small = browse(site, "/small.txt")
    assert "vary" not in small.headers  # never compressed: nothing varies
