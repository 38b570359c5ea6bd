"""Static website hosting (issue 12 §1) through the real server: PutBucketWebsite /
GetBucketWebsite / DeleteBucketWebsite with oss2 and alibabacloud-oss-v2 unchanged (exact XML
both ways, OSS's errors), and what a bound domain then serves to an anonymous browser: the
index document for ``/`` and ``dir/``, SupportSubDir's Type 0/1/2, the error document with its
HttpStatus; on the endpoint an HTML object is a download (``Content-Disposition:
attachment``), as on OSS's default domain.
"""

from __future__ import annotations

from typing import Any

import oss2
import pytest
from tests.e2e.test_front import make_site
from tests.support.raw import Reply, as_root, error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

from ossutil.wire.website_xml import (
    ErrorDocument,
    IndexDocument,
    WebsiteConfiguration,
    decode_website_configuration,
)

PAGES = {"index.html": b"<h1>home</h1>", "error.html": b"<h1>not here</h1>",
         "docs/index.html": b"<h1>docs</h1>", "docs/a.html": b"<p>a</p>",
         "guide/index.html": b"<h1>guide</h1>"}


def document(suffix: str, sub_dir: str, kind: str, key: str | None = None,
             status: str = "404") -> bytes:
    error = ("  <ErrorDocument>\n"
             f"    <Key>{key}</Key>\n"
             f"    <HttpStatus>{status}</HttpStatus>\n"
             "  </ErrorDocument>\n") if key else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            "<WebsiteConfiguration>\n"
            "  <IndexDocument>\n"
            f"    <Suffix>{suffix}</Suffix>\n"
            f"    <SupportSubDir>{sub_dir}</SupportSubDir>\n"
            f"    <Type>{kind}</Type>\n"
            "  </IndexDocument>\n"
            f"{error}"
            "</WebsiteConfiguration>\n").encode()


def v2(server: RunningServer) -> Any:
    return oss_v2_client(server.endpoint, server.access_key_id, server.access_key_secret, "v4",
                         server.region)


def put_website(server: RunningServer, bucket: str, body: bytes) -> Reply:
    return as_root(server, "PUT", bucket, query=[("website", "")], body=body,
                   headers={"Content-Type": "application/xml"})


def get_website(server: RunningServer, bucket: str) -> Reply:
    return as_root(server, "GET", bucket, query=[("website", "")])


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str) -> Any:
    made = make_site(unverified_server, bucket_name, domain)
    for key, body in PAGES.items():
        made.client.put_object(key, body)
    return made


def browse(site: Any, path: str, method: str = "GET", **headers: str) -> Reply:
    return send(site.server.endpoint, method, path, headers={
        "Host": site.domain, **{name.replace("_", "-"): v for name, v in headers.items()}})


# --- the API, through both SDKs -------------------------------------------------------------

def test_oss2_put_get_delete_website(site: Any) -> None:
    server, bucket = site.server, site.bucket
    with pytest.raises(oss2.exceptions.NoSuchWebsite) as missing:
        site.client.get_bucket_website()
    assert (missing.value.status, missing.value.code) == (404, "NoSuchWebsiteConfiguration")
    assert "does not have a website configuration" in missing.value.message
    # what oss2 sends, decoded by the server's codec
    sent = oss2.xml_utils.to_put_bucket_website(oss2.models.BucketWebsite("index.html",
                                                                          "error.html"))
    assert decode_website_configuration(sent) == WebsiteConfiguration(
        index_document=IndexDocument(suffix="index.html"),
        error_document=ErrorDocument(key="error.html"))
    assert site.client.put_bucket_website(
        oss2.models.BucketWebsite("index.html", "error.html")).status == 200
    reply = get_website(server, bucket)
    assert (reply.status, reply.headers["content-type"], reply.body) == (
        200, "application/xml", document("index.html", "false", "0", "error.html"))
    got = site.client.get_bucket_website()
    assert (got.index_file, got.error_file, got.rules) == ("index.html", "error.html", [])
    assert site.client.delete_bucket_website().status == 204
    assert error_code(get_website(server, bucket)) == (404, "NoSuchWebsiteConfiguration")


def test_oss_v2_put_get_delete_website(site: Any) -> None:
    import alibabacloud_oss_v2 as oss

    client, bucket = v2(site.server), site.bucket
    config = oss.WebsiteConfiguration(
        index_document=oss.IndexDocument(suffix="index.html", support_sub_dir=True, type=2),
        error_document=oss.ErrorDocument(key="error.html", http_status=200))
    assert client.put_bucket_website(oss.PutBucketWebsiteRequest(
        bucket=bucket, website_configuration=config)).status_code == 200
    assert get_website(site.server, bucket).body == document("index.html", "true", "2",
                                                             "error.html", "200")
    got = client.get_bucket_website(oss.GetBucketWebsiteRequest(bucket=bucket))
    index, error = got.website_configuration.index_document, \
        got.website_configuration.error_document
    assert (index.suffix, index.support_sub_dir, index.type) == ("index.html", True, 2)
    assert (error.key, error.http_status) == ("error.html", 200)
    assert client.delete_bucket_website(oss.DeleteBucketWebsiteRequest(
        bucket=bucket)).status_code == 204
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.get_bucket_website(oss.GetBucketWebsiteRequest(bucket=bucket))
    service = caught.value.unwrap()
    assert (service.status_code, service.code) == (404, "NoSuchWebsiteConfiguration")


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"<WebsiteConfiguration><IndexDocument><Suffix>a</Suffix>", 400, "MalformedXML"),
    (b"<Website><IndexDocument><Suffix>a</Suffix></IndexDocument></Website>", 400,
     "MalformedXML"),
    (b"<WebsiteConfiguration></WebsiteConfiguration>", 400, "MalformedXML"),
    (b"<WebsiteConfiguration><ErrorDocument><Key>e.html</Key></ErrorDocument>"
     b"</WebsiteConfiguration>", 400, "MalformedXML"),
    (b"<WebsiteConfiguration><IndexDocument><Suffix></Suffix></IndexDocument>"
     b"</WebsiteConfiguration>", 400, "InvalidArgument"),
    (b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix><Type>3</Type>"
     b"</IndexDocument></WebsiteConfiguration>", 400, "InvalidArgument"),
    (b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix><Type>x</Type>"
     b"</IndexDocument></WebsiteConfiguration>", 400, "MalformedXML"),
    (b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument>"
     b"<ErrorDocument><Key>e.html</Key><HttpStatus>500</HttpStatus></ErrorDocument>"
     b"</WebsiteConfiguration>", 400, "InvalidArgument"),
    (b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument>"
     b"<RoutingRules><RoutingRule><RuleNumber>1</RuleNumber><Condition><KeyPrefixEquals>a"
     b"</KeyPrefixEquals></Condition><Redirect><RedirectType>Mirror</RedirectType>"
     b"<MirrorURL>http://a/</MirrorURL></Redirect></RoutingRule></RoutingRules>"
     b"</WebsiteConfiguration>", 501, "NotImplemented"),
    # a control character (XML 1.0 cannot carry it in the answer)
    (b"<WebsiteConfiguration><IndexDocument><Suffix>a&#1;</Suffix></IndexDocument>"
     b"</WebsiteConfiguration>", 400, "InvalidArgument"),
])
def test_bad_configurations_are_refused_and_nothing_is_stored(
        server: RunningServer, bucket_name: str, body: bytes, status: int, code: str) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    assert error_code(put_website(server, bucket_name, body)) == (status, code)
    assert error_code(get_website(server, bucket_name)) == (404, "NoSuchWebsiteConfiguration")


def test_oss2_error_for_a_bad_configuration(site: Any) -> None:
    with pytest.raises(oss2.exceptions.OssError) as caught:
        site.client.put_bucket_website(oss2.models.BucketWebsite("", "error.html"))
    assert (caught.value.status, caught.value.code) == (400, "InvalidArgument")


def test_website_on_a_missing_bucket_is_no_such_bucket(server: RunningServer) -> None:
    assert error_code(get_website(server, "no-such-bucket-website")) == (404, "NoSuchBucket")


# --- what a bound domain serves -----------------------------------------------------------

def configure(site: Any, sub_dir: str = "false", kind: str = "0", error: str | None = None,
              status: str = "404") -> None:
    body = document("index.html", sub_dir, kind, error, status)
    assert put_website(site.server, site.bucket, body).status == 200


def test_root_and_directories_serve_the_index_document(site: Any) -> None:
    configure(site, error="error.html")
    home = browse(site, "/")
    assert (home.status, home.body, home.headers["content-type"]) == (200, PAGES["index.html"],
                                                                      "text/html")
    assert "content-disposition" not in home.headers  # a bound domain renders HTML
    # SupportSubDir false: dir/ reads the root's index document
    assert (browse(site, "/docs/").status, browse(site, "/docs/").body) == (
        200, PAGES["index.html"])
    assert browse(site, "/docs/a.html").body == PAGES["docs/a.html"]
    root = browse(site, "/", "HEAD")
    assert (root.status, root.body, root.headers["content-length"]) == (
        200, b"", str(len(PAGES["index.html"])))
    head = browse(site, "/docs/", "HEAD")
    assert (head.status, head.body, head.headers["content-length"]) == (
        200, b"", str(len(PAGES["index.html"])))


def test_missing_keys_serve_the_error_document_with_its_status(site: Any) -> None:
    configure(site, error="error.html")
    missing = browse(site, "/nothing-here.html")
    assert (missing.status, missing.body) == (404, PAGES["error.html"])
    configure(site, error="error.html", status="200")
    assert (browse(site, "/nothing-here.html").status,
            browse(site, "/nothing-here.html").body) == (200, PAGES["error.html"])
    # no error document configured, or it does not exist: OSS's NoSuchKey
    configure(site)
    assert error_code(browse(site, "/nothing-here.html")) == (404, "NoSuchKey")
    configure(site, error="gone.html")
    assert error_code(browse(site, "/nothing-here.html")) == (404, "NoSuchKey")


def test_support_sub_dir_types(site: Any) -> None:
    configure(site, sub_dir="true", kind="0", error="error.html")
    assert browse(site, "/docs/").body == PAGES["docs/index.html"]
    redirect = browse(site, "/docs")  # Type 0: 302 to /docs/ when docs/index.html exists
    assert (redirect.status, redirect.headers["location"]) == (302, "/docs/")
    assert browse(site, "/nowhere").status == 404  # ... else the error document
    configure(site, sub_dir="true", kind="1", error="error.html")
    assert (browse(site, "/docs").status, browse(site, "/docs").body) == (
        404, PAGES["error.html"])
    configure(site, sub_dir="true", kind="2", error="error.html")
    assert (browse(site, "/guide").status, browse(site, "/guide").body) == (
        200, PAGES["guide/index.html"])
    assert browse(site, "/nowhere").body == PAGES["error.html"]


def test_signed_requests_get_the_api_not_the_site(site: Any) -> None:
    configure(site, error="error.html")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        site.client.get_object("nothing-here.html")
    listed = as_root(site.server, "GET", site.bucket)
    assert listed.status == 200 and b"<ListBucketResult>" in listed.body


def test_a_private_bucket_site_is_refused(site: Any) -> None:
    configure(site, error="error.html")
    site.client.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    assert error_code(browse(site, "/")) == (403, "AccessDenied")


def test_html_on_the_endpoint_is_a_download(site: Any) -> None:
    configure(site, error="error.html")
    reply = send(site.server.endpoint, "GET", f"/{site.bucket}/index.html")
    assert (reply.status, reply.body) == (200, PAGES["index.html"])
    assert (reply.headers["content-disposition"], reply.headers["x-oss-force-download"]) == (
        "attachment", "true")
    # the site's root on the endpoint is the index document, downloaded
    root = send(site.server.endpoint, "GET", f"/{site.bucket}/")
    assert (root.status, root.body, root.headers["content-disposition"]) == (
        200, PAGES["index.html"], "attachment")
    # a signed GetObject (an SDK) is the object as stored
    assert "content-disposition" not in site.client.get_object("index.html").headers


def test_config_change_is_seen_at_once(site: Any) -> None:
    configure(site, error="error.html")
    assert browse(site, "/").body == PAGES["index.html"]
    site.client.delete_bucket_website()
    assert error_code(browse(site, "/")) == (403, "AccessDenied")  # an anonymous listing again


# --- routing rules ----------------------------------------------------------------------------

ROUTED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<WebsiteConfiguration>\n"
    b"  <IndexDocument>\n"
    b"    <Suffix>index.html</Suffix>\n"
    b"    <SupportSubDir>false</SupportSubDir>\n"
    b"    <Type>0</Type>\n"
    b"  </IndexDocument>\n"
    b"  <ErrorDocument>\n"
    b"    <Key>error.html</Key>\n"
    b"    <HttpStatus>404</HttpStatus>\n"
    b"  </ErrorDocument>\n"
    b"  <RoutingRules>\n"
    b"    <RoutingRule>\n"
    b"      <RuleNumber>1</RuleNumber>\n"
    b"      <Condition>\n"
    b"        <KeyPrefixEquals>old/</KeyPrefixEquals>\n"
    b"        <HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>\n"
    b"      </Condition>\n"
    b"      <Redirect>\n"
    b"        <RedirectType>External</RedirectType>\n"
    b"        <Protocol>https</Protocol>\n"
    b"        <HostName>new.example.com</HostName>\n"
    b"        <PassQueryString>true</PassQueryString>\n"
    b"        <ReplaceKeyPrefixWith>docs/</ReplaceKeyPrefixWith>\n"
    b"        <HttpRedirectCode>301</HttpRedirectCode>\n"
    b"      </Redirect>\n"
    b"    </RoutingRule>\n"
    b"    <RoutingRule>\n"
    b"      <RuleNumber>2</RuleNumber>\n"
    b"      <Condition>\n"
    b"        <KeyPrefixEquals>legacy/</KeyPrefixEquals>\n"
    b"        <HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>\n"
    b"      </Condition>\n"
    b"      <Redirect>\n"
    b"        <RedirectType>Internal</RedirectType>\n"
    b"        <PassQueryString>false</PassQueryString>\n"
    b"        <ReplaceKeyWith>docs/a.html</ReplaceKeyWith>\n"
    b"      </Redirect>\n"
    b"    </RoutingRule>\n"
    b"  </RoutingRules>\n"
    b"</WebsiteConfiguration>\n")


def test_oss2_routing_rules_round_trip_and_route(site: Any) -> None:
    models = oss2.models
    rules = [
        # oss2 reads a rule back only when it has both KeyPrefixEquals and
        # HttpErrorCodeReturnedEquals (its parse_routing_rule_condition)
        models.RoutingRule(1, models.Condition(key_prefix_equals="old/",
                                               http_err_code_return_equals=404),
                           models.Redirect(
            redirect_type=models.REDIRECT_TYPE_EXTERNAL, proto="https",
            host_name="new.example.com", replace_key_prefix_with="docs/",
            http_redirect_code=301, pass_query_string=True)),
        models.RoutingRule(2, models.Condition(key_prefix_equals="legacy/",
                                               http_err_code_return_equals=404),
                           models.Redirect(redirect_type=models.REDIRECT_TYPE_INTERNAL,
                                           replace_key_with="docs/a.html",
                                           pass_query_string=False)),
    ]
    site.client.put_bucket_website(models.BucketWebsite("index.html", "error.html", rules))
    assert get_website(site.server, site.bucket).body == ROUTED
    got = site.client.get_bucket_website()
    assert [(r.rule_num, r.redirect.redirect_type, r.redirect.host_name) for r in got.rules] \
        == [(1, "External", "new.example.com"), (2, "Internal", None)]
    moved = browse(site, "/old/a.html?lang=en")
    assert (moved.status, moved.headers["location"], moved.body) == (
        301, "https://new.example.com/docs/a.html?lang=en", b"")
    # the 404 rule: only for a missing key, served in place
    assert browse(site, "/legacy/gone.html").body == PAGES["docs/a.html"]
    site.client.put_object("legacy/here.html", b"still here")
    assert browse(site, "/legacy/here.html").body == b"still here"
    assert browse(site, "/nothing.html").body == PAGES["error.html"]


def test_oss_v2_routing_rule_on_a_header(site: Any) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2(site.server)
    client.put_bucket_website(oss.PutBucketWebsiteRequest(
        bucket=site.bucket, website_configuration=oss.WebsiteConfiguration(
            index_document=oss.IndexDocument(suffix="index.html"),
            routing_rules=oss.RoutingRules(routing_rules=[oss.RoutingRule(
                rule_number=1, condition=oss.RoutingRuleCondition(
                    include_headers=[oss.RoutingRuleIncludeHeader(key="x-preview",
                                                                  equals="yes")]),
                redirect=oss.RoutingRuleRedirect(redirect_type="Internal",
                                                 replace_key_with="guide/${key}"))]))))
    got = client.get_bucket_website(oss.GetBucketWebsiteRequest(bucket=site.bucket))
    rule = got.website_configuration.routing_rules.routing_rules[0]
    assert (rule.rule_number, rule.redirect.replace_key_with) == (1, "guide/${key}")
    assert browse(site, "/index.html").body == PAGES["index.html"]
    assert browse(site, "/index.html", x_preview="yes").body == PAGES["guide/index.html"]


# --- no configuration body is a 500 -----------------------------------------------------------

_NAMES = ["WebsiteConfiguration", "IndexDocument", "Suffix", "SupportSubDir", "Type",
          "ErrorDocument", "Key", "HttpStatus", "RoutingRules", "RoutingRule", "RuleNumber",
          "Condition", "KeyPrefixEquals", "HttpErrorCodeReturnedEquals", "IncludeHeader",
          "Equals", "Redirect", "RedirectType", "HostName", "Protocol", "ReplaceKeyWith",
          "HttpRedirectCode", "MirrorURL", "CORSConfiguration", "CORSRule", "AllowedOrigin",
          "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds", "ResponseVary",
          "RefererConfiguration", "AllowEmptyReferer", "AllowTruncateQueryString",
          "TruncatePath", "RefererList", "RefererBlacklist", "Referer"]
_TEXTS = ["", "true", "false", "0", "2", "404", "301", "-1", "99999999999", "GET", "PATCH",
          "*", "**", "https://*.example.com", "index.html", "/x", "External", "Internal",
          "Mirror", "a\r\nb", "&#1;", "&amp;", "\u00e9\u6771", " ", "http", "ftp"]


def _documents() -> Any:
    from hypothesis import strategies as st

    leaf = st.tuples(st.sampled_from(_NAMES), st.sampled_from(_TEXTS)).map(
        lambda pair: f"<{pair[0]}>{pair[1]}</{pair[0]}>")
    tree = st.recursive(leaf, lambda inner: st.tuples(
        st.sampled_from(_NAMES), st.lists(inner, max_size=4)).map(
        lambda pair: f"<{pair[0]}>{''.join(pair[1])}</{pair[0]}>"), max_leaves=12)
    return st.tuples(st.sampled_from(["website", "cors", "referer"]),
                     st.sampled_from(["WebsiteConfiguration", "CORSConfiguration",
                                      "RefererConfiguration"]),
                     st.lists(tree, max_size=5))


def test_no_configuration_body_is_a_500(server: RunningServer, bucket_name: str) -> None:
    from hypothesis import HealthCheck, given, settings

    assert as_root(server, "PUT", bucket_name).status == 200

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_documents())
    def check(case: tuple[str, str, list[str]]) -> None:
        query, root, children = case
        body = f"<{root}>{''.join(children)}</{root}>".encode()
        reply = as_root(server, "PUT", bucket_name, query=[(query, "")], body=body)
        assert reply.status in (200, 400, 501), (body, reply.status, reply.text)
        if reply.status != 200:
            assert error_code(reply)[1] in ("MalformedXML", "InvalidArgument",
                                            "NotImplemented"), reply.text
        got = as_root(server, "GET", bucket_name, query=[(query, "")])
        assert got.status in (200, 404), got.text

    check()


def test_no_site_request_is_a_500(site: Any) -> None:
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    assert put_website(site.server, site.bucket, ROUTED).status == 200
    site.client.put_bucket_cors(oss2.models.BucketCors([oss2.models.CorsRule(
        allowed_origins=["https://*.example.com"], allowed_methods=["GET", "HEAD"],
        allowed_headers=["*"], max_age_seconds=5)], response_vary=True))
    site.client.put_bucket_referer(oss2.models.BucketReferer(True, ["*.example.com"]))
    segments = st.sampled_from(["", "docs", "old", "legacy", "index.html", "a.html", "..",
                                "%", "\u00e9", "x y", "guide", "error.html"])
    paths = st.lists(segments, max_size=4).map(lambda parts: "/" + "/".join(
        quote(p, safe="") for p in parts))
    headers = st.dictionaries(st.sampled_from([
        "Referer", "Origin", "Accept-Encoding", "If-None-Match", "Range",
        "Access-Control-Request-Method", "If-Modified-Since"]), st.sampled_from([
            "", "https://www.example.com/", "https://evil.example.net", "gzip", "*",
            "bytes=0-3", "bytes=9-1", '"abc"', "GET", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        max_size=4)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["GET", "HEAD", "OPTIONS"]), paths, headers)
    def check(method: str, path: str, given_headers: dict[str, str]) -> None:
        reply = browse(site, path, method, **{k.replace("-", "_"): v
                                              for k, v in given_headers.items()})
        assert reply.status < 500, (method, path, given_headers, reply.status, reply.text)

    check()


def test_ram_actions_are_oss_s(unverified_server: RunningServer, bucket_name: str,
                               tmp_path: Any) -> None:
    """A RAM user is authorized by the operations' own actions: oss:GetBucketWebsite allowed,
    oss:PutBucketWebsite, oss:PutBucketCors, oss:PutBucketReferer not."""
    import time

    from tests.support.raw import signed
    from tests.support.server import create_user

    server = unverified_server
    assert as_root(server, "PUT", bucket_name).status == 200
    assert put_website(server, bucket_name, document("index.html", "false", "0")).status == 200
    user = create_user(server, f"web-{bucket_name}", {"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["oss:GetBucketWebsite", "oss:GetBucketCors"],
        "Resource": [f"acs:oss:*:*:{bucket_name}"]}]}, tmp_path)
    time.sleep(1.5)  # the key ring reloads within a second

    def as_user(method: str, query: str, body: bytes = b"") -> Reply:
        return signed(server.endpoint, user["access_key_id"], user["access_key_secret"],
                      method, bucket_name, query=[(query, "")], body=body)

    assert as_user("GET", "website").body == document("index.html", "false", "0")
    assert error_code(as_user("GET", "cors")) == (404, "NoSuchCORSConfiguration")
    for query, body in (("website", document("index.html", "false", "0")),
                        ("cors", b"<CORSConfiguration/>"),
                        ("referer", b"<RefererConfiguration/>")):
        denied = as_user("PUT", query, body)
        assert error_code(denied) == (403, "AccessDenied"), query
        action = {"website": "Website", "cors": "Cors", "referer": "Referer"}[query]
        assert f"<AuthAction>oss:PutBucket{action}</AuthAction>" in denied.text
    assert error_code(as_user("GET", "referer")) == (403, "AccessDenied")
