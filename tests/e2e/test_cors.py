"""CORS (issue 12 §2) through the real server: PutBucketCors / GetBucketCors / DeleteBucketCors
with oss2 and alibabacloud-oss-v2 unchanged (exact XML both ways, OSS's errors), the OPTIONS
preflight (oss-v2's OptionObject and raw requests; 403 AccessForbidden when no rule matches),
and Access-Control-* / Vary on actual replies, on the endpoint and through a bound domain.
"""

from __future__ import annotations

from typing import Any

import oss2
import pytest
from tests.e2e.test_front import make_site
from tests.support.raw import Reply, as_root, error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

from ossutil.wire.cors_xml import CorsConfiguration, CorsRule, decode_cors_configuration

SITE_ORIGIN = "https://www.example.com:8443"
STORED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<CORSConfiguration>\n"
    "  <CORSRule>\n"
    f"    <AllowedOrigin>{SITE_ORIGIN}</AllowedOrigin>\n"
    "    <AllowedOrigin>https://*.example.org</AllowedOrigin>\n"
    "    <AllowedMethod>GET</AllowedMethod>\n"
    "    <AllowedMethod>PUT</AllowedMethod>\n"
    "    <AllowedHeader>x-oss-*</AllowedHeader>\n"
    "    <AllowedHeader>content-type</AllowedHeader>\n"
    "    <ExposeHeader>ETag</ExposeHeader>\n"
    "    <ExposeHeader>x-oss-request-id</ExposeHeader>\n"
    "    <MaxAgeSeconds>600</MaxAgeSeconds>\n"
    "  </CORSRule>\n"
    "  <CORSRule>\n"
    "    <AllowedOrigin>*</AllowedOrigin>\n"
    "    <AllowedMethod>HEAD</AllowedMethod>\n"
    "  </CORSRule>\n"
    "  <ResponseVary>{vary}</ResponseVary>\n"
    "</CORSConfiguration>\n")


def rules() -> list[oss2.models.CorsRule]:
    return [oss2.models.CorsRule(allowed_origins=[SITE_ORIGIN, "https://*.example.org"],
                                 allowed_methods=["GET", "PUT"],
                                 allowed_headers=["x-oss-*", "content-type"],
                                 expose_headers=["ETag", "x-oss-request-id"],
                                 max_age_seconds=600),
            oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["HEAD"])]


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str) -> Any:
    made = make_site(unverified_server, bucket_name, domain)
    made.client.put_object("data.json", b'{"answer": 42}',
                           headers={"Content-Type": "application/json"})
    return made


def get_cors(server: RunningServer, bucket: str) -> Reply:
    return as_root(server, "GET", bucket, query=[("cors", "")])


def preflight(site: Any, origin: str | None, method: str | None, headers: str | None = None,
              host: str | None = None, path: str = "/data.json") -> Reply:
    given = {"Host": host or site.domain}
    if origin is not None:
        given["Origin"] = origin
    if method is not None:
        given["Access-Control-Request-Method"] = method
    if headers is not None:
        given["Access-Control-Request-Headers"] = headers
    return send(site.server.endpoint, "OPTIONS", path, headers=given)


# --- the API ----------------------------------------------------------------------------------

def test_oss2_put_get_delete_cors(site: Any) -> None:
    with pytest.raises(oss2.exceptions.NoSuchCors) as missing:
        site.client.get_bucket_cors()
    assert (missing.value.status, missing.value.code,
            missing.value.message) == (404, "NoSuchCORSConfiguration",
                                       "The CORS configuration does not exist.")
    sent = oss2.xml_utils.to_put_bucket_cors(oss2.models.BucketCors(rules(), response_vary=True))
    assert decode_cors_configuration(sent) == CorsConfiguration(rules=(
        CorsRule((SITE_ORIGIN, "https://*.example.org"), ("GET", "PUT"),
                 ("x-oss-*", "content-type"), ("ETag", "x-oss-request-id"), 600),
        CorsRule(("*",), ("HEAD",))), response_vary=True)
    assert site.client.put_bucket_cors(oss2.models.BucketCors(rules(),
                                                              response_vary=True)).status == 200
    reply = get_cors(site.server, site.bucket)
    assert (reply.status, reply.text) == (200, STORED.replace("{vary}", "true"))
    got = site.client.get_bucket_cors()
    assert [(r.allowed_origins, r.allowed_methods, r.allowed_headers, r.expose_headers,
             r.max_age_seconds) for r in got.rules] == [
        ([SITE_ORIGIN, "https://*.example.org"], ["GET", "PUT"], ["x-oss-*", "content-type"],
         ["ETag", "x-oss-request-id"], 600), (["*"], ["HEAD"], [], [], None)]
    assert got.response_vary is True
    assert site.client.delete_bucket_cors().status == 204
    assert error_code(get_cors(site.server, site.bucket)) == (404, "NoSuchCORSConfiguration")


def test_oss_v2_put_get_delete_cors_and_option_object(site: Any) -> None:
    import alibabacloud_oss_v2 as oss

    client = oss_v2_client(site.server.endpoint, site.server.access_key_id,
                           site.server.access_key_secret, "v4", site.server.region)
    config = oss.CORSConfiguration(cors_rules=[
        oss.CORSRule(allowed_origins=[SITE_ORIGIN, "https://*.example.org"],
                     allowed_methods=["GET", "PUT"], allowed_headers=["x-oss-*", "content-type"],
                     expose_headers=["ETag", "x-oss-request-id"], max_age_seconds=600),
        oss.CORSRule(allowed_origins=["*"], allowed_methods=["HEAD"])], response_vary=False)
    assert client.put_bucket_cors(oss.PutBucketCorsRequest(
        bucket=site.bucket, cors_configuration=config)).status_code == 200
    assert get_cors(site.server, site.bucket).text == STORED.replace("{vary}", "false")
    got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=site.bucket))
    first = got.cors_configuration.cors_rules[0]
    assert (first.allowed_origins, first.max_age_seconds,
            got.cors_configuration.response_vary) == (
        [SITE_ORIGIN, "https://*.example.org"], 600, False)
    allowed = client.option_object(oss.OptionObjectRequest(
        bucket=site.bucket, key="data.json", origin=SITE_ORIGIN,
        access_control_request_method="PUT",
        access_control_request_headers="x-oss-meta-a, Content-Type"))
    assert (allowed.access_control_allow_origin, allowed.access_control_allow_methods,
            allowed.access_control_allow_headers, allowed.access_control_expose_headers,
            allowed.access_control_max_age) == (
        SITE_ORIGIN, "GET, PUT", "x-oss-meta-a, Content-Type", "ETag, x-oss-request-id", 600)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.option_object(oss.OptionObjectRequest(
            bucket=site.bucket, key="data.json", origin="https://evil.example.net",
            access_control_request_method="GET"))
    assert (caught.value.unwrap().status_code, caught.value.unwrap().code) == (
        403, "AccessForbidden")
    assert client.delete_bucket_cors(oss.DeleteBucketCorsRequest(
        bucket=site.bucket)).status_code == 204


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"<CORSConfiguration></CORSConfiguration>", 400, "MalformedXML"),
    (b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
     b"</CORSConfiguration>", 400, "MalformedXML"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"
     b"</CORSConfiguration>", 400, "MalformedXML"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
     b"<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>", 400,
     "InvalidArgument"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", 400,
     "InvalidArgument"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod><ExposeHeader>*</ExposeHeader></CORSRule>"
     b"</CORSConfiguration>", 400, "InvalidArgument"),
    (b"<CORSConfiguration>" + b"<CORSRule><AllowedOrigin>*</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod></CORSRule>" * 11 + b"</CORSConfiguration>", 400,
     "InvalidArgument"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule>"
     b"</CORSConfiguration>", 400, "MalformedXML"),
    (b"<CORSConfiguration><CORSRule><AllowedOrigin>a&#1;b</AllowedOrigin>"
     b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", 400,
     "InvalidArgument"),
])
def test_bad_rules_are_refused_and_nothing_is_stored(server: RunningServer, bucket_name: str,
                                                     body: bytes, status: int,
                                                     code: str) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    reply = as_root(server, "PUT", bucket_name, query=[("cors", "")], body=body,
                    headers={"Content-Type": "application/xml"})
    assert error_code(reply) == (status, code)
    assert error_code(get_cors(server, bucket_name)) == (404, "NoSuchCORSConfiguration")


# --- the preflight and actual replies ----------------------------------------------------------

def test_preflight_rules(site: Any) -> None:
    assert error_code(preflight(site, SITE_ORIGIN, "GET")) == (403, "AccessForbidden")
    not_enabled = preflight(site, SITE_ORIGIN, "GET")
    assert "CORSResponse: CORS is not enabled for this bucket." in not_enabled.text
    site.client.put_bucket_cors(oss2.models.BucketCors(rules()))
    ok = preflight(site, "https://cdn.example.org", "GET", "X-Oss-Meta-Team")
    assert (ok.status, ok.body) == (200, b"")
    assert {k: v for k, v in ok.headers.items() if k.startswith("access-control-")} == {
        "access-control-allow-origin": "https://cdn.example.org",
        "access-control-allow-methods": "GET, PUT",
        "access-control-allow-headers": "X-Oss-Meta-Team",
        "access-control-expose-headers": "ETag, x-oss-request-id",
        "access-control-max-age": "600"}
    assert "vary" not in ok.headers  # ResponseVary false
    # the "*" rule: any origin may HEAD; the reply names the request's origin, as OSS does
    anyone = preflight(site, "https://anyone.example.net", "HEAD")
    assert (anyone.status, anyone.headers["access-control-allow-origin"],
            anyone.headers["access-control-allow-methods"]) == (
        200, "https://anyone.example.net", "HEAD")
    refused = [
        preflight(site, "https://evil.example.net", "GET"),  # no origin matches for GET
        preflight(site, SITE_ORIGIN, "DELETE"),  # no rule allows DELETE
        preflight(site, SITE_ORIGIN, "PUT", "authorization"),  # header not allowed
        preflight(site, None, "GET"),  # no Origin
        preflight(site, SITE_ORIGIN, None),  # no Access-Control-Request-Method
    ]
    for reply in refused:
        assert error_code(reply) == (403, "AccessForbidden"), reply
        assert "This CORS request is not allowed" in reply.text
        assert not any(k.startswith("access-control-") for k in reply.headers)
    # on the endpoint (path style) and for the bucket itself alike
    on_endpoint = send(site.server.endpoint, "OPTIONS", f"/{site.bucket}/data.json",
                       headers={"Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert (on_endpoint.status, on_endpoint.headers["access-control-allow-origin"]) == (
        200, SITE_ORIGIN)
    assert preflight(site, SITE_ORIGIN, "GET", path="/").status == 200


def test_actual_replies_carry_the_matched_rule(site: Any) -> None:
    site.client.put_bucket_cors(oss2.models.BucketCors(rules(), response_vary=True))
    allowed = send(site.server.endpoint, "GET", "/data.json",
                   headers={"Host": site.domain, "Origin": SITE_ORIGIN})
    assert (allowed.status, allowed.body) == (200, b'{"answer": 42}')
    assert (allowed.headers["access-control-allow-origin"],
            allowed.headers["access-control-allow-methods"],
            allowed.headers["access-control-expose-headers"],
            allowed.headers["access-control-max-age"], allowed.headers["vary"]) == (
        SITE_ORIGIN, "GET, PUT", "ETag, x-oss-request-id", "600", "Origin")
    stranger = send(site.server.endpoint, "GET", "/data.json",
                    headers={"Host": site.domain, "Origin": "https://evil.example.net"})
    assert stranger.status == 200  # the browser, not the server, withholds the body
    assert not any(k.startswith("access-control-") for k in stranger.headers)
    assert stranger.headers["vary"] == "Origin"  # ResponseVary: on every reply
    # errors carry them too (a page's script can read a 404)
    missing = send(site.server.endpoint, "GET", "/missing.json",
                   headers={"Host": site.domain, "Origin": SITE_ORIGIN})
    assert (error_code(missing), missing.headers["access-control-allow-origin"]) == (
        (404, "NoSuchKey"), SITE_ORIGIN)
    # signed requests on the endpoint (an SDK in a browser) too
    signed = as_root(site.server, "GET", site.bucket, "data.json",
                     headers={"Origin": "https://cdn.example.org"})
    assert signed.headers["access-control-allow-origin"] == "https://cdn.example.org"
    site.client.delete_bucket_cors()
    after = send(site.server.endpoint, "GET", "/data.json",
                 headers={"Host": site.domain, "Origin": SITE_ORIGIN})
    assert "access-control-allow-origin" not in after.headers and "vary" not in after.headers
