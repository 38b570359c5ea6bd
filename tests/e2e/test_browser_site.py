"""A bound domain is a website, as a person sees it in a real browser (issue 12).

The real server (the session's, on loopback) holds three public-read buckets, each bound to a
domain of one test domain D with a certificate from the test CA, configured through oss2's
PutBucketWebsite, PutBucketCors and PutBucketReferer as a site owner would:

    www.D    the site: index.html, style.css, app.js, logo.png, error.html (stored with
             Cache-Control: no-cache); website (index.html, error.html), referer (www.D's
             pages, empty allowed)
    api.D    data.json, CORS rule allowing the origin https://www.D:PORT
    other.D  data.json (no CORS rule), hotlink.html (embeds www.D's logo)
    bad.D    bound to the site's bucket with a certificate from a CA the browser does not trust

Headless Chromium (tests/support/browser.py) resolves *.D to 127.0.0.1 and trusts the test CA
through an NSS database, so each HTTPS load below verified the served certificate. Statuses
"on the wire" are what DevTools saw the server send (a revalidated page is shown from the
cache as 200; the server's answer was 304). The screenshot of the home page is kept under the
first test's tmp dir (its path is printed: ``-s`` shows it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import oss2
import pytest
from tests.support.browser import SITE, Exchange, Traffic, chromium, chromium_or_skip, trusting_home
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

from ossutil.client.client import Credentials, OssClient

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

#: (file under tests/support/data/site, key, Content-Type), per bucket role
PUBLISHED = {
    "www": [("index.html", "index.html", "text/html"),
            ("style.css", "style.css", "text/css"),
            ("app.js", "app.js", "application/javascript"),
            ("logo.png", "logo.png", "image/png"),
            ("error.html", "error.html", "text/html")],
    "api": [("api-data.json", "data.json", "application/json")],
    "other": [("other-data.json", "data.json", "application/json"),
              ("hotlink.html", "hotlink.html", "text/html")],
}
SITE_CACHE_CONTROL = "no-cache"  # stored with www's objects: revalidate before each use
TITLE_BLUE = "rgb(12, 90, 160)"  # style.css's h1 colour
PAGE_BACKGROUND = "rgb(250, 246, 232)"  # style.css's body background
LOGO_SIZE = 64  # logo.png is 64 x 64
WEBSITE = oss2.models.BucketWebsite("index.html", "error.html")  # error status: 404
WEBSITE_ERROR_200 = b"""<?xml version="1.0" encoding="UTF-8"?>
<WebsiteConfiguration>
  <IndexDocument>
    <Suffix>index.html</Suffix>
  </IndexDocument>
  <ErrorDocument>
    <Key>error.html</Key>
    <HttpStatus>200</HttpStatus>
  </ErrorDocument>
</WebsiteConfiguration>
"""


@dataclass
class Site:
    server: RunningServer
    domain: str  # D: the site is www.D
    buckets: dict[str, oss2.Bucket]  # role (www, api, other) -> the owner's oss2 Bucket
    browser: Browser

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}.{self.domain}:{self.server.https_port}{path}"

    @property
    def origin(self) -> str:
        return self.url("www", "")

    def page(self) -> tuple[Page, Traffic]:
        """A new page in a fresh context (its own cache and cookies)."""
        context = self.browser.new_context()
        context.set_default_timeout(15_000)
        page = context.new_page()
        return page, Traffic(page)


def _bind(owner: oss2.Bucket, dns: DnsServer, name: str, pair: tuple[str, str]) -> None:
    """Prove ownership with the TXT record, bind, attach the certificate."""
    dns.txt(f"_dnsauth.{name}", owner.create_bucket_cname_token(name).token)
    owner.put_bucket_cname(oss2.models.PutBucketCnameRequest(name))
    chain, key = pair
    owner.put_bucket_cname(oss2.models.PutBucketCnameRequest(
        name, oss2.models.CertInfo(certificate=chain, private_key=key)))


@pytest.fixture(scope="module")
def site(server: RunningServer, dns: DnsServer, ca: CertFactory,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    chromium_or_skip()
    token = secrets.token_hex(3)
    domain = f"site{token}.example.com"
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    buckets = {role: oss2.Bucket(auth, server.endpoint, f"{role}-{token}", region=server.region)
               for role in PUBLISHED}
    bound: list[tuple[oss2.Bucket, str]] = []
    for role, files in PUBLISHED.items():
        owner = buckets[role]
        owner.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
        for source, key, content_type in files:
            headers = {"Content-Type": content_type}
            if role == "www":  # the site's owner wants every visit to revalidate
                headers["Cache-Control"] = SITE_CACHE_CONTROL
            owner.put_object(key, (SITE / source).read_bytes(), headers=headers)
        name = f"{role}.{domain}"
        _bind(owner, dns, name, ca.leaf(name))
        bound.append((owner, name))
    stranger = f"bad.{domain}"  # right name, issuer unknown to the browser
    _bind(buckets["www"], dns, stranger, CertFactory().leaf(stranger))
    bound.append((buckets["www"], stranger))

    origin = f"https://www.{domain}:{server.https_port}"
    buckets["www"].put_bucket_website(WEBSITE)
    buckets["api"].put_bucket_cors(oss2.models.BucketCors([oss2.models.CorsRule(
        allowed_origins=[origin], allowed_methods=["GET"], allowed_headers=["*"],
        max_age_seconds=60)]))
    buckets["www"].put_bucket_referer(oss2.models.BucketReferer(True, [origin + "/*"]))

    home = trusting_home(tmp_path_factory.mktemp("browser-home"), ca.ca_pem())
    with chromium(home, domain) as browser:
        running = Site(server, domain, buckets, browser)
        yield running
    for owner, name in bound:
        owner.delete_bucket_cname(name)


def _settled(page: Page) -> None:
    """Wait until app.js has put its four fetch results on the page."""
    page.wait_for_function("document.body.dataset.fetched === 'done'")


def _text(page: Page, selector: str) -> str:
    return str(page.locator(selector).inner_text())


def _style(page: Page, selector: str, prop: str) -> str:
    return str(page.eval_on_selector(
        selector, f"element => getComputedStyle(element).{prop}"))


def _natural_width(page: Page, selector: str) -> int:
    return int(page.eval_on_selector(
        selector, "image => image.complete ? image.naturalWidth : -1"))


# --- the page, its certificate, revalidation ------------------------------------------------

def test_the_page_renders_over_verified_https(site: Site, tmp_path: Path) -> None:
    page, traffic = site.page()
    response = page.goto(site.url("www", "/index.html"))
    assert response.status == 200
    assert response.server_addr() == {"ipAddress": "127.0.0.1", "port": site.server.https_port}
    security = response.security_details()
    assert security["subjectName"] == f"www.{site.domain}"
    assert security["protocol"] == "TLS 1.3"
    assert response.headers["content-type"] == "text/html"

    assert page.title() == "A site on a bound domain"
    assert _text(page, "#title") == "Served from a bucket"
    assert _style(page, "h1", "color") == TITLE_BLUE  # the stylesheet applied
    assert _style(page, "body", "backgroundColor") == PAGE_BACKGROUND
    assert _text(page, "#script-ran") == "yes"  # app.js ran
    page.wait_for_function(
        "document.getElementById('logo-state').textContent !== 'loading'")
    assert _text(page, "#logo-state") == "loaded"
    assert _natural_width(page, "#logo") == LOGO_SIZE
    _settled(page)
    for path in ("/index.html", "/style.css", "/app.js", "/logo.png"):
        assert traffic.statuses(site.url("www", path)) == [200], path
    # the browser asked for gzip: text of 1 KiB or more came compressed, the rest as stored
    encodings = {e.url.rsplit("/", 1)[1]: e.headers.get("content-encoding")
                 for e in traffic.exchanges() if e.url.startswith(site.origin)}
    assert {name: encodings[name] for name in ("index.html", "app.js", "style.css",
                                               "logo.png")} == {
        "index.html": "gzip", "app.js": "gzip", "style.css": None, "logo.png": None}

    screenshot = tmp_path / "bound-domain-site.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {screenshot}")
    page.context.close()


def test_a_certificate_from_another_ca_is_refused(site: Site) -> None:
    """The browser verifies: the same bucket under a name whose certificate another CA
    signed does not load."""
    from playwright.sync_api import Error

    page, traffic = site.page()
    with pytest.raises(Error) as refused:
        page.goto(site.url("bad", "/index.html"))
    assert "net::ERR_CERT_AUTHORITY_INVALID" in refused.value.message
    assert traffic.exchanges() == []
    page.context.close()


def test_a_reload_revalidates_with_304(site: Site) -> None:
    page, traffic = site.page()
    url = site.url("www", "/index.html")
    first = page.goto(url)
    assert first.status == 200
    etag = first.headers["etag"]
    again = page.reload()
    assert again.request.all_headers()["if-none-match"] == etag
    # the page is given the cached 200 (again.status); the server answered 304
    assert traffic.statuses(url, count=2) == [200, 304]
    # the subresources revalidated too: their stored Cache-Control says no-cache (without it
    # Chromium may reuse them unasked while heuristically fresh)
    for path in ("/style.css", "/app.js", "/logo.png"):
        assert traffic.statuses(site.url("www", path), count=2) == [200, 304], path
    firsts = [e for e in _site_replies(site, traffic) if e.status == 200]
    assert [e.headers.get("cache-control") for e in firsts] == [SITE_CACHE_CONTROL] * 4
    assert _text(page, "#title") == "Served from a bucket"  # rendered from the cached copy
    page.context.close()


def test_a_304_repeats_the_cache_headers_of_the_200(site: Site) -> None:
    page, traffic = site.page()
    url = site.url("www", "/index.html")
    page.goto(url)
    page.reload()
    assert traffic.statuses(url, count=2) == [200, 304]
    for path in ("/style.css", "/app.js", "/logo.png"):
        traffic.statuses(site.url("www", path), count=2)
    page.context.close()
    replies = _site_replies(site, traffic)
    cache_headers = {(e.url, e.status): (e.headers.get("cache-control"), e.headers.get("vary"))
                     for e in replies}
    for e in replies:
        if e.status == 304:
            assert cache_headers[e.url, 304] == cache_headers[e.url, 200], e.url


def _site_replies(site: Site, traffic: Traffic) -> list[Exchange]:
    """The replies for the site's own files (the browser's /favicon.ico left out)."""
    return [e for e in traffic.exchanges() if e.url.startswith(site.origin)
            and not e.url.endswith("/favicon.ico")]


# --- website hosting, CORS, hotlink protection ---------------------------------------------
def test_the_root_serves_the_index_document(site: Site) -> None:
    page, _ = site.page()
    response = page.goto(site.url("www", "/"))
    assert response.status == 200
    assert response.headers["content-type"] == "text/html"
    assert _text(page, "#title") == "Served from a bucket"
    assert _style(page, "h1", "color") == TITLE_BLUE
    page.context.close()


def test_a_missing_page_shows_the_error_document_with_its_status(site: Site) -> None:
    page, _ = site.page()
    page.goto(site.url("www", "/index.html"))
    with page.expect_navigation() as navigation:
        page.click("#broken-link")
    response = navigation.value
    assert response.url == site.url("www", "/no-such-page.html")
    assert response.status == 404  # ErrorDocument's HttpStatus (404 unless configured)
    assert response.headers["content-type"] == "text/html"
    assert page.title() == "Not found"
    assert _text(page, "#error-title") == "This page does not exist"
    assert _style(page, "h1", "color") == TITLE_BLUE  # its stylesheet loaded too
    page.context.close()


def test_the_error_document_is_served_with_the_configured_http_status(site: Site) -> None:
    """``HttpStatus`` 200 (oss2's BucketWebsite cannot say it: Alibaba's documented body is
    sent verbatim with our OssClient): the same error page, now answered 200."""
    owner = OssClient(site.server.endpoint, Credentials(site.server.access_key_id,
                                                        site.server.access_key_secret),
                      region=site.server.region, sign_version="v4")
    bucket = site.buckets["www"].bucket_name
    owner.put_bucket_website(bucket, WEBSITE_ERROR_200)
    try:
        page, traffic = site.page()
        missing = site.url("www", "/no-such-page.html")
        response = page.goto(missing)
        assert response.status == 200
        assert page.title() == "Not found"
        assert _text(page, "#error-title") == "This page does not exist"
        assert traffic.statuses(missing) == [200]
        page.context.close()
    finally:
        site.buckets["www"].put_bucket_website(WEBSITE)
        owner.close()


def test_on_the_endpoint_the_same_page_is_downloaded_not_rendered(site: Site) -> None:
    """OSS forces HTML read through its own endpoint to download; the bound domain is where
    the site renders."""
    from playwright.sync_api import Error

    page, traffic = site.page()
    url = f"{site.server.endpoint}/{site.buckets['www'].bucket_name}/index.html"
    with page.expect_download() as downloading:
        with pytest.raises(Error, match="Download is starting"):
            page.goto(url)
    download = downloading.value
    assert download.suggested_filename == "index.html"
    assert Path(download.path()).read_bytes() == (SITE / "index.html").read_bytes()
    [answer] = [e for e in traffic.exchanges() if e.url == url]
    assert (answer.status, answer.headers["content-disposition"]) == (200, "attachment")
    page.context.close()


def test_the_script_fetches_json_cross_origin_only_where_cors_allows(site: Site) -> None:
    page, traffic = site.page()
    page.goto(site.url("www", "/index.html"))
    _settled(page)
    assert _text(page, "#cors-allowed") == "200 hello from api"
    assert _text(page, "#cors-refused") == "refused (TypeError)"
    assert _text(page, "#preflight-allowed") == "200 hello from api"
    assert _text(page, "#preflight-refused") == "refused (TypeError)"
    # on the wire: the simple GETs were both answered (the browser withheld other's reply: no
    # Access-Control-Allow-Origin); the preflight to other was refused, so no GET followed it
    api, other = site.url("api", "/data.json"), site.url("other", "/data.json")
    traffic.statuses(api, count=3)
    traffic.statuses(other, count=2)
    calls = sorted((e.url, e.method, e.status) for e in traffic.exchanges()
                   if e.url in (api, other))
    assert calls == sorted([(api, "GET", 200), (api, "OPTIONS", 200), (api, "GET", 200),
                            (other, "GET", 200), (other, "OPTIONS", 403)])
    allowed_origin = {(e.url, e.method): e.headers.get("access-control-allow-origin")
                      for e in traffic.exchanges() if e.url in (api, other)}
    assert allowed_origin == {(api, "GET"): site.origin, (api, "OPTIONS"): site.origin,
                              (other, "GET"): None, (other, "OPTIONS"): None}
    page.context.close()


def test_the_logo_loads_on_the_site_and_is_refused_when_hotlinked(site: Site) -> None:
    logo = site.url("www", "/logo.png")

    page, traffic = site.page()  # the site's own page is the Referer
    page.goto(site.url("www", "/index.html"))
    page.wait_for_function(
        "document.getElementById('logo-state').textContent !== 'loading'")
    assert _text(page, "#logo-state") == "loaded"
    assert traffic.statuses(logo) == [200]
    page.context.close()

    page, traffic = site.page()  # another origin embeds it
    page.goto(site.url("other", "/hotlink.html"))
    page.wait_for_function(
        "document.getElementById('stolen-state').textContent !== 'loading'")
    assert _text(page, "#stolen-state") == "broken"
    assert _natural_width(page, "#stolen") == 0
    assert traffic.statuses(logo) == [403]
    page.context.close()

    page, traffic = site.page()  # typed in the address bar: no Referer, which the rule allows
    response = page.goto(logo)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    page.context.close()
