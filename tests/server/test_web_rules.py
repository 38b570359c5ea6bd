"""The domain rules of issue 12, without HTTP: CORS matching, the Referer check, which key a
site request reads, and the gzip rule; the value checks of each Put (OSS's codes)."""

from __future__ import annotations

import pytest

from ossutil.server.buckets import cors, referer, website
from ossutil.server.http import web
from ossutil.wire.cors_xml import CorsConfiguration, CorsRule
from ossutil.wire.errors import OssError
from ossutil.wire.referer_xml import RefererConfiguration
from ossutil.wire.website_xml import (
    ErrorDocument,
    IndexDocument,
    RoutingRule,
    RoutingRuleCondition,
    RoutingRuleRedirect,
    WebsiteConfiguration,
)

RULES = CorsConfiguration(rules=(
    CorsRule(("https://*.example.com",), ("GET", "PUT"), ("x-oss-*", "Content-Type")),
    CorsRule(("*",), ("GET",)),
))


def test_cors_first_matching_rule_wins() -> None:
    assert cors.match(RULES, "https://a.example.com", "PUT") is RULES.rules[0]
    assert cors.match(RULES, "https://a.example.com", "GET") is RULES.rules[0]
    assert cors.match(RULES, "http://a.example.com", "GET") is RULES.rules[1]
    assert cors.match(RULES, "http://a.example.com", "PUT") is None
    assert cors.match(RULES, "https://a.example.com", "PUT",
                      ["X-OSS-Meta-A", "content-type"]) is RULES.rules[0]
    assert cors.match(RULES, "https://a.example.com", "PUT", ["authorization"]) is None
    assert cors.request_headers(" a, ,b ") == ["a", "b"]


def test_cors_grant_headers() -> None:
    assert cors.grant(RULES.rules[1], "https://x") == [
        ("Access-Control-Allow-Origin", "https://x"), ("Access-Control-Allow-Methods", "GET")]


@pytest.mark.parametrize(("config", "code"), [
    (CorsConfiguration(), "MalformedXML"),
    (CorsConfiguration(rules=(CorsRule((), ("GET",)),)), "MalformedXML"),
    (CorsConfiguration(rules=(CorsRule(("*",), ("get",)),)), "InvalidArgument"),
    (CorsConfiguration(rules=(CorsRule(("*",), ("GET",), ("a*b*",)),)), "InvalidArgument"),
    (CorsConfiguration(rules=(CorsRule(("*",), ("GET",)),) * 11), "InvalidArgument"),
])
def test_cors_put_checks(config: CorsConfiguration, code: str) -> None:
    with pytest.raises(OssError) as caught:
        cors.normalize(config)
    assert caught.value.code == code
    assert cors.normalize(RULES).response_vary is False


def policy(**fields: object) -> referer.Policy:
    return referer.Policy(referer.normalize(RefererConfiguration(**fields)))  # type: ignore[arg-type]


def ec_of(check: referer.Policy, value: str | None) -> str:
    try:
        check.check(value)
    except OssError as error:
        assert (error.code, error.message) == ("AccessDenied", referer.DENIED)
        return error.ec
    return "allowed"


def test_referer_order_and_wildcards() -> None:
    check = policy(allow_empty_referer=False, referer_list=("www.example.com", "*.cdn.net",
                                                            "https://a?.org/"),
                   referer_blacklist=("*evil*",))
    assert ec_of(check, "https://www.example.com/page") == "allowed"  # no scheme in pattern
    assert ec_of(check, "http://www.example.com.cn/") == "allowed"  # a prefix match
    assert ec_of(check, "https://img.cdn.net/x.png") == "allowed"
    assert ec_of(check, "https://a1.org/") == "allowed"
    assert ec_of(check, "https://a12.org/") == referer.WHITELIST_EC
    assert ec_of(check, "HTTPS://WWW.EXAMPLE.COM/") == "allowed"  # case is ignored
    assert ec_of(check, "https://www.example.com.evil.io/") == referer.BLACKLIST_EC
    assert ec_of(check, None) == referer.EMPTY_EC
    assert ec_of(policy(allow_empty_referer=False), None) == "allowed"  # empty whitelist


def test_referer_truncation() -> None:
    keep = policy(allow_empty_referer=False, allow_truncate_query_string=False,
                  referer_list=("https://s.com/p",))
    assert keep.config.allow_truncate_query_string is False
    assert ec_of(keep, "https://s.com/p?x=1") == "allowed"  # still a prefix
    exact = policy(allow_empty_referer=False, allow_truncate_query_string=False,
                   referer_list=("https://s.com/p?a=?",))
    assert ec_of(exact, "https://s.com/p?a=1") == "allowed"
    cut = policy(allow_empty_referer=False, referer_list=("https://s.com/p?a=?",))
    assert ec_of(cut, "https://s.com/p?a=1") == referer.WHITELIST_EC  # the query went first
    path = policy(allow_empty_referer=False, truncate_path=True,
                  referer_list=("https://s.com?",))
    assert ec_of(path, "https://s.com/deep/page") == referer.WHITELIST_EC  # nothing after host
    with pytest.raises(OssError) as caught:
        policy(allow_truncate_query_string=False, truncate_path=True)
    assert caught.value.code == "InvalidArgument"


def test_site_keys() -> None:
    plain = website.Site("index.html", False, 0, "404.html", 404)
    assert (plain.index_key(""), plain.index_key("a/"), plain.index_key("a")) == (
        "index.html", "index.html", None)
    assert plain.sub_dir_key("a") is None
    sub = website.Site("index.html", True, 0, None, 404)
    assert (sub.index_key("a/"), sub.sub_dir_key("a"), sub.sub_dir_key("a/")) == (
        "a/index.html", "a/index.html", None)
    assert website.Site("index.html", True, 1, None, 404).sub_dir_key("a") is None


@pytest.mark.parametrize(("config", "code"), [
    (WebsiteConfiguration(), "MalformedXML"),
    (WebsiteConfiguration(error_document=ErrorDocument("e.html")), "MalformedXML"),
    (WebsiteConfiguration(index_document=IndexDocument("/i.html")), "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html", type=5)), "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"),
                          error_document=ErrorDocument("")), "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"),
                          routing_rules=(RoutingRule(rule_number=1),)), "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
        1, RoutingRuleCondition(key_prefix_equals="a/"),
        RoutingRuleRedirect(redirect_type="Mirror")),)), "NotImplemented"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
        1, RoutingRuleCondition(key_prefix_equals="a/"),
        RoutingRuleRedirect(redirect_type="External", other=("MirrorURL",))),)),
     "NotImplemented"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
        1, RoutingRuleCondition(key_prefix_equals="a/"),
        RoutingRuleRedirect(redirect_type="External", http_redirect_code=303)),)),
     "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
        1, RoutingRuleCondition(key_prefix_equals="a/"),
        RoutingRuleRedirect(redirect_type="Internal", host_name="x.com")),)),
     "InvalidArgument"),
    (WebsiteConfiguration(index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
        1, RoutingRuleCondition(), RoutingRuleRedirect(redirect_type="Internal")),) * 2),
     "InvalidArgument"),  # RuleNumber twice
])
def test_website_put_checks(config: WebsiteConfiguration, code: str) -> None:
    with pytest.raises(OssError) as caught:
        website.normalize(config)
    assert caught.value.code == code


def test_website_defaults_are_filled() -> None:
    assert website.normalize(WebsiteConfiguration(
        index_document=IndexDocument("i.html"), error_document=ErrorDocument("e.html"),
        routing_rules=())) == WebsiteConfiguration(
        index_document=IndexDocument("i.html", False, 0),
        error_document=ErrorDocument("e.html", 404))


@pytest.mark.parametrize(("value", "accepted"), [
    ("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False),
    ("deflate", False), ("", False), (None, False), ("gzip;q=x", False),
])
def test_accept_encoding(value: str | None, accepted: bool) -> None:
    assert web.accepts_gzip(value) is accepted


@pytest.mark.parametrize(("kind", "size", "encoding", "yes"), [
    ("text/html; charset=utf-8", 1024, None, True), ("application/json", 5000, None, True),
    ("image/svg+xml", 2000, None, True), ("text/css", 1023, None, False),
    ("image/png", 5000, None, False), ("text/plain", 5000, "gzip", False),
    ("text/plain", 5000, "identity", True),
])
def test_compressible(kind: str, size: int, encoding: str | None, yes: bool) -> None:
    assert web.compressible(kind, size, encoding) is yes


def test_routing_rules_match_in_rule_number_order() -> None:
    rules = website.normalize(WebsiteConfiguration(
        index_document=IndexDocument("index.html"), routing_rules=(
            RoutingRule(2, RoutingRuleCondition(key_prefix_equals="old/"),
                        RoutingRuleRedirect(redirect_type="External", protocol="https",
                                            host_name="new.example.com",
                                            replace_key_prefix_with="new/",
                                            http_redirect_code=301)),
            RoutingRule(1, RoutingRuleCondition(key_prefix_equals="old/keep"),
                        RoutingRuleRedirect(redirect_type="Internal",
                                            replace_key_with="kept/${key}")),
            RoutingRule(3, RoutingRuleCondition(http_error_code_returned_equals=404,
                                                key_suffix_equals=".htm"),
                        RoutingRuleRedirect(redirect_type="Internal",
                                            replace_key_with="moved.html")),
        ))).routing_rules
    assert rules is not None
    site = website.Site("index.html", False, 0, None, 404, rules)
    assert site.route("old/keep.txt", {}, missing=False) == website.Route(
        "kept/old/keep.txt", external=False)
    assert site.route("old/a.html", {}, missing=False) == website.Route(
        "new/a.html", external=True, code=301, protocol="https", host="new.example.com")
    assert site.route("x.htm", {}, missing=False) is None  # only once it is missing
    assert site.route("x.htm", {}, missing=True) == website.Route("moved.html",
                                                                  external=False)


def test_referer_patterns_with_many_wildcards_stay_fast() -> None:
    import time

    check = policy(allow_empty_referer=False, referer_list=("*a" * 200 + "b",))
    started = time.perf_counter()
    assert ec_of(check, "https://" + "a" * 8000) == referer.WHITELIST_EC
    assert time.perf_counter() - started < 0.5
    assert ec_of(check, "https://" + "a" * 300 + "b") == "allowed"


@pytest.mark.parametrize("host", ["a.example.com\r\nX: y", "", "exa mple.com", "-a.com"])
def test_routing_rule_host_names_are_checked(host: str) -> None:
    with pytest.raises(OssError) as caught:
        website.normalize(WebsiteConfiguration(
            index_document=IndexDocument("i.html"), routing_rules=(RoutingRule(
                1, RoutingRuleCondition(key_prefix_equals="a/"),
                RoutingRuleRedirect(redirect_type="External", host_name=host)),)))
    assert (caught.value.code, caught.value.details["ArgumentName"]) == ("InvalidArgument",
                                                                         "HostName")
