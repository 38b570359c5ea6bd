"""``OssClient``'s website, CORS, Referer and preflight calls.

Against the session's real server: each put/get/delete round trip through the wire codecs, the
errors (NoSuchWebsiteConfiguration, NoSuchCORSConfiguration, MalformedXML, AccessForbidden).
Against the loopback recorder: the exact requests in both wire styles (method, target, headers,
body, a signature that verifies) and the Go style's status rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from tests.client.recorder import Recorder
from tests.support.server import RunningServer

from ossutil.client import Credentials, OssClient, OssError
from ossutil.client.client import CorsPreflight
from ossutil.client.errors import UnexpectedStatusError
from ossutil.wire import signing
from ossutil.wire.cors_xml import CorsConfiguration, CorsRule
from ossutil.wire.referer_xml import RefererConfiguration
from ossutil.wire.website_xml import ErrorDocument, IndexDocument, WebsiteConfiguration

FROZEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
RID = [("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")]
RULE = CorsRule(allowed_origins=("https://www.example.com", "https://*.example.org"),
                allowed_methods=("GET", "PUT"), allowed_headers=("x-oss-meta-*",),
                expose_headers=("ETag",), max_age_seconds=600)


@pytest.fixture
def client(server: RunningServer) -> Iterator[OssClient]:
    with OssClient(server.endpoint,
                   Credentials(server.access_key_id, server.access_key_secret)) as oss:
        yield oss


@pytest.fixture
def bucket(client: OssClient, bucket_name: str) -> str:
    client.create_bucket(bucket_name)
    return bucket_name


def _error(call: object, *args: object) -> OssError:
    with pytest.raises(OssError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


# --- website ---------------------------------------------------------------------------------


def test_website_round_trip_fills_osss_defaults(client: OssClient, bucket: str) -> None:
    client.put_bucket_website(bucket, WebsiteConfiguration(IndexDocument("index.html"),
                                                           ErrorDocument("404.html")))
    assert client.get_bucket_website(bucket) == WebsiteConfiguration(
        IndexDocument("index.html", False, 0), ErrorDocument("404.html", 404))


def test_website_bytes_are_sent_verbatim_and_replace_the_old_configuration(
        client: OssClient, bucket: str) -> None:
    client.put_bucket_website(bucket, WebsiteConfiguration(IndexDocument("a.html")))
    client.put_bucket_website(bucket, b"<WebsiteConfiguration><IndexDocument><Suffix>b.html"
                                      b"</Suffix><SupportSubDir>true</SupportSubDir><Type>1"
                                      b"</Type></IndexDocument></WebsiteConfiguration>")
    assert client.get_bucket_website(bucket) == WebsiteConfiguration(
        IndexDocument("b.html", True, 1))


def test_deleted_website_is_no_such_website_configuration(client: OssClient,
                                                          bucket: str) -> None:
    client.put_bucket_website(bucket, WebsiteConfiguration(IndexDocument("index.html")))
    client.delete_bucket_website(bucket)
    error = _error(client.get_bucket_website, bucket)
    assert (error.status, error.code) == (404, "NoSuchWebsiteConfiguration")
    client.delete_bucket_website(bucket)  # deleting nothing succeeds


def test_malformed_website_is_refused_and_nothing_stored(client: OssClient,
                                                         bucket: str) -> None:
    error = _error(client.put_bucket_website, bucket, b"<WebsiteConfiguration><IndexDocument>"
                                                       b"<Type>x</Type></IndexDocument>"
                                                       b"</WebsiteConfiguration>")
    assert (error.status, error.code) == (400, "MalformedXML")
    assert _error(client.get_bucket_website, bucket).code == "NoSuchWebsiteConfiguration"


# --- CORS ------------------------------------------------------------------------------------


def test_cors_round_trip_keeps_rules_in_order(client: OssClient, bucket: str) -> None:
    config = CorsConfiguration((RULE, CorsRule(allowed_origins=("*",),
                                               allowed_methods=("HEAD",))),
                               response_vary=True)
    client.put_bucket_cors(bucket, config)
    assert client.get_bucket_cors(bucket) == config


def test_deleted_cors_is_no_such_cors_configuration(client: OssClient, bucket: str) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    client.delete_bucket_cors(bucket)
    error = _error(client.get_bucket_cors, bucket)
    assert (error.status, error.code) == (404, "NoSuchCORSConfiguration")


def test_a_rule_without_a_method_is_malformed(client: OssClient, bucket: str) -> None:
    error = _error(client.put_bucket_cors, bucket,
                   CorsConfiguration((CorsRule(allowed_origins=("*",)),)))
    assert (error.status, error.code) == (400, "MalformedXML")


def test_preflight_allowed_by_a_rule(client: OssClient, bucket: str) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    answer = client.options_object(bucket, "dir/index.html", origin="https://cdn.example.org",
                                   request_method="PUT", request_headers="x-oss-meta-a")
    assert isinstance(answer, CorsPreflight)
    assert (answer.allow_origin, answer.allow_methods, answer.allow_headers,
            answer.expose_headers, answer.max_age) == (
        "https://cdn.example.org", "GET, PUT", "x-oss-meta-a", "ETag", "600")


@pytest.mark.parametrize("origin, method, headers", [
    ("https://evil.example.net", "GET", None),
    ("https://www.example.com", "DELETE", None),
    ("https://www.example.com", "GET", "authorization"),
])
def test_preflight_no_rule_matches_is_access_forbidden(client: OssClient, bucket: str,
                                                       origin: str, method: str,
                                                       headers: str | None) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    error = _error(lambda: client.options_object(bucket, "k", origin=origin,
                                                 request_method=method,
                                                 request_headers=headers))
    assert (error.status, error.code) == (403, "AccessForbidden")


# --- Referer ---------------------------------------------------------------------------------


def test_referer_of_a_new_bucket_allows_everything(client: OssClient, bucket: str) -> None:
    assert client.get_bucket_referer(bucket) == RefererConfiguration(
        allow_empty_referer=True, allow_truncate_query_string=True, truncate_path=False)


def test_referer_round_trip_and_clearing_it(client: OssClient, bucket: str) -> None:
    config = RefererConfiguration(allow_empty_referer=False, allow_truncate_query_string=True,
                                  truncate_path=True,
                                  referer_list=("https://www.example.com", "https://*.a?.org"),
                                  referer_blacklist=("https://evil.example.net",))
    client.put_bucket_referer(bucket, config)
    assert client.get_bucket_referer(bucket) == config
    client.put_bucket_referer(bucket, RefererConfiguration())
    assert client.get_bucket_referer(bucket).referer_list == ()


# --- the requests on the wire ----------------------------------------------------------------


def _verify(recorded: object, bucket: str, key: str = "") -> None:
    line = recorded.request_line  # type: ignore[attr-defined]
    target = line.split(" ")[1]
    query = [(part.partition("=")[0], part.partition("=")[2])
             for part in target.partition("?")[2].split("&") if part]
    headers = {name.lower(): value for name, value in recorded.headers}  # type: ignore[attr-defined]
    request = signing.SigningRequest(line.split(" ")[0], bucket, key, query, headers)
    assert signing.v1_authorization("ak", "sk", request) == headers["authorization"]


def test_python_style_requests() -> None:
    with Recorder() as rec:
        for _ in range(9):
            rec.reply(200, b"", RID)
        with OssClient(rec.endpoint, Credentials("ak", "sk"), clock=lambda: FROZEN) as client:
            client.put_bucket_website("examplebucket", b"<WebsiteConfiguration/>")
            client.delete_bucket_website("examplebucket")
            client.put_bucket_cors("examplebucket", CorsConfiguration((
                CorsRule(allowed_origins=("*",), allowed_methods=("GET",)),)))
            client.get_bucket_cors_raw("examplebucket")
            client.delete_bucket_cors("examplebucket")
            client.put_bucket_referer("examplebucket", RefererConfiguration(
                allow_empty_referer=False, referer_list=("a&b",)))
            client.get_bucket_referer_raw("examplebucket")
            client.get_bucket_website_raw("examplebucket")
            client.options_object("examplebucket", "dir/a b+é", origin="https://o.example",
                                  request_method="PUT", request_headers="x-a,x-b")
    lines = [recorded.request_line for recorded in rec.requests]
    assert lines == [
        "PUT /examplebucket/?website HTTP/1.1", "DELETE /examplebucket/?website HTTP/1.1",
        "PUT /examplebucket/?cors HTTP/1.1", "GET /examplebucket/?cors HTTP/1.1",
        "DELETE /examplebucket/?cors HTTP/1.1", "PUT /examplebucket/?referer HTTP/1.1",
        "GET /examplebucket/?referer HTTP/1.1", "GET /examplebucket/?website HTTP/1.1",
        "OPTIONS /examplebucket/dir/a%20b%2B%C3%A9 HTTP/1.1"]
    put_website, _, put_cors, _, _, put_referer, _, _, options = rec.requests
    assert put_website.body == b"<WebsiteConfiguration/>"
    assert put_cors.body == (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                             b"<AllowedMethod>GET</AllowedMethod></CORSRule>"
                             b"</CORSConfiguration>")
    assert put_referer.body == (b"<RefererConfiguration><AllowEmptyReferer>false"
                                b"</AllowEmptyReferer><RefererList><Referer>a&amp;b</Referer>"
                                b"</RefererList></RefererConfiguration>")
    assert put_cors.header("Content-Type") == "application/xml"
    assert (options.header("Origin"), options.header("Access-Control-Request-Method"),
            options.header("Access-Control-Request-Headers")) == (
        "https://o.example", "PUT", "x-a,x-b")
    assert options.header("Content-Length") is None
    for recorded in rec.requests[:-1]:
        _verify(recorded, "examplebucket")
    _verify(options, "examplebucket", "dir/a b+é")


def test_go_style_sniffs_the_body_escapes_the_key_and_wants_exact_statuses() -> None:
    with Recorder() as rec:
        rec.reply(200, b"", RID)
        rec.reply(200, b"", RID)
        rec.reply(204, b"", RID)
        rec.reply(200, b"", RID)
        with OssClient(rec.endpoint, Credentials("ak", "sk"), wire_style="go",
                       clock=lambda: FROZEN) as client:
            client.put_bucket_cors_raw("examplebucket", b"<CORSConfiguration/>")
            client.options_object_raw("examplebucket", "dir/a b")
            with pytest.raises(UnexpectedStatusError) as put:
                client.put_bucket_referer_raw("examplebucket", b"<RefererConfiguration/>")
            with pytest.raises(UnexpectedStatusError) as delete:
                client.delete_bucket_website_raw("examplebucket")
    assert str(put.value) == ("oss: status code from service response is 204 No Content; "
                              "was expecting 200 OK")
    assert str(delete.value) == ("oss: status code from service response is 200 OK; "
                                 "was expecting 204 No Content")
    cors, options = rec.requests[:2]
    assert cors.header("Content-Type") == "text/plain; charset=utf-8"  # Go's DetectContentType
    assert options.request_line == "OPTIONS /examplebucket/dir%2Fa%20b HTTP/1.1"
    assert [name for name, _ in options.headers] == [
        "Host", "User-Agent", "Authorization", "Date", "Accept-Encoding"]
