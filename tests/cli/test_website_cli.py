"""A site set up with the CLI alone, then looked at as a browser would (raw HTTP on a bound
domain): ``website``, ``cors``, ``cors-options`` and ``referer`` take effect on the real server.

The server runs without DNS proofs (``unverified_server``) so ``bucket-cname --method put``
binds at once; every command's stdout and exit status is checked exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.raw import Reply, error_code, send
from tests.support.server import RunningServer

WEBSITE = b"""<?xml version="1.0" encoding="UTF-8"?>
<WebsiteConfiguration>
  <IndexDocument>
    <Suffix>index.html</Suffix>
  </IndexDocument>
  <ErrorDocument>
    <Key>error.html</Key>
    <HttpStatus>404</HttpStatus>
  </ErrorDocument>
</WebsiteConfiguration>
"""
CORS = b"""<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>x-oss-meta-*</AllowedHeader>
    <MaxAgeSeconds>300</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
"""
DONE = "\n0.000000(s) elapsed\n"


class Cli:
    """``ossutil ARGV -e -i -k -c none.cfg`` in-process, in ``work``."""

    def __init__(self, server: RunningServer, work: Path) -> None:
        self.server = server
        self.work = work

    def __call__(self, *argv: str) -> tuple[int, str]:
        outcome: Outcome = run_ours([*argv, "-e", self.server.endpoint, "-i",
                                     self.server.access_key_id, "-k",
                                     self.server.access_key_secret, "-c", "none.cfg"],
                                    cwd=self.work)
        text = re.sub(r"\n\d+\.\d{6}\(s\) elapsed\n", DONE, outcome.text)
        return outcome.code, re.sub(r"RequestId=[0-9A-F]{24}", "RequestId=R", text)


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str,
         tmp_path: Path) -> tuple[Cli, str, str]:
    """A public-read bucket with index.html, error.html and logo.png, bound to ``domain``."""
    cli = Cli(unverified_server, tmp_path)
    (tmp_path / "index.html").write_bytes(b"<h1>home</h1>")
    (tmp_path / "error.html").write_bytes(b"<h1>not here</h1>")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG fake")
    assert cli("mb", f"oss://{bucket_name}", "--acl", "public-read") == (0, DONE)
    for name in ("index.html", "error.html", "logo.png"):
        code, _ = cli("cp", name, f"oss://{bucket_name}/{name}")
        assert code == 0
    assert cli("bucket-cname", "--method", "put", f"oss://{bucket_name}", domain) == (0, DONE)
    return cli, bucket_name, domain


def browse(cli: Cli, domain: str, path: str, method: str = "GET", **headers: str) -> Reply:
    return send(cli.server.endpoint, method, path, headers={"Host": domain, **headers})


def test_website_put_serves_the_index_and_the_error_document(site: tuple[Cli, str, str],
                                                             tmp_path: Path) -> None:
    cli, bucket, domain = site
    (tmp_path / "website.xml").write_bytes(WEBSITE)
    assert cli("website", "--method", "put", f"oss://{bucket}", "website.xml") == (0, DONE)
    home = browse(cli, domain, "/")
    assert (home.status, home.body) == (200, b"<h1>home</h1>")
    missing = browse(cli, domain, "/nope.html")
    assert (missing.status, missing.body) == (404, b"<h1>not here</h1>")
    code, text = cli("website", "--method", "get", f"oss://{bucket}")
    assert (code, text) == (0, '<?xml version="1.0" encoding="UTF-8"?>\n'
                               "<WebsiteConfiguration>\n"
                               "  <IndexDocument>\n"
                               "    <Suffix>index.html</Suffix>\n"
                               "    <SupportSubDir>false</SupportSubDir>\n"
                               "    <Type>0</Type>\n"
                               "  </IndexDocument>\n"
                               "  <ErrorDocument>\n"
                               "    <Key>error.html</Key>\n"
                               "    <HttpStatus>404</HttpStatus>\n"
                               "  </ErrorDocument>\n"
                               "</WebsiteConfiguration>\n\n\n" + DONE)
    assert cli("website", "--method", "delete", f"oss://{bucket}") == (0, DONE)
    assert error_code(browse(cli, domain, "/nope.html")) == (404, "NoSuchKey")
    assert cli("website", "--method", "get", f"oss://{bucket}") == (1, (
        "Error: oss: service returned error: StatusCode=404, "
        "ErrorCode=NoSuchWebsiteConfiguration, ErrorMessage=\"The specified bucket does not "
        "have a website configuration.\", RequestId=R\n"))


def test_cors_put_then_the_preflight_and_the_actual_response(site: tuple[Cli, str, str],
                                                             tmp_path: Path) -> None:
    cli, bucket, domain = site
    (tmp_path / "cors.xml").write_bytes(CORS)
    assert cli("cors", "--method", "put", f"oss://{bucket}", "cors.xml") == (0, DONE)
    assert cli("cors-options", f"oss://{bucket}/logo.png", "--origin",
               "https://app.example.com", "--acr-method", "get", "--acr-headers",
               "x-oss-meta-a") == (0, (
        "Access-Control-Allow-Headers: x-oss-meta-a\r\n"
        "Access-Control-Allow-Methods: GET\r\n"
        "Access-Control-Allow-Origin: https://app.example.com\r\n"
        "Access-Control-Max-Age: 300\r\n" + DONE))
    code, text = cli("cors-options", f"oss://{bucket}/logo.png", "--origin",
                     "https://other.example.com", "--acr-method", "GET")
    assert (code, text.split(", ErrorMessage")[0]) == (
        1, "Error: oss: service returned error: StatusCode=403, ErrorCode=AccessForbidden")
    actual = browse(cli, domain, "/logo.png", Origin="https://app.example.com")
    assert (actual.status, actual.headers.get("access-control-allow-origin")) == (
        200, "https://app.example.com")
    assert cli("cors", "--method", "delete", f"oss://{bucket}") == (0, DONE)
    refused = browse(cli, domain, "/logo.png", Origin="https://app.example.com")
    assert (refused.status, refused.headers.get("access-control-allow-origin")) == (200, None)


def test_referer_put_refuses_hotlinks_and_delete_lifts_it(site: tuple[Cli, str, str]) -> None:
    cli, bucket, domain = site
    assert cli("referer", "--method", "put", f"oss://{bucket}", f"https://{domain}/*",
               "--disable-empty-referer") == (0, DONE)
    assert browse(cli, domain, "/logo.png", Referer=f"https://{domain}/index.html").status == 200
    assert browse(cli, domain, "/logo.png", Referer="https://elsewhere.example/").status == 403
    assert browse(cli, domain, "/logo.png").status == 403  # no Referer: refused too
    assert cli("referer", "--method", "get", f"oss://{bucket}") == (0, (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "  <RefererConfiguration>\n"
        "      <AllowEmptyReferer>false</AllowEmptyReferer>\n"
        "      <AllowTruncateQueryString>true</AllowTruncateQueryString>\n"
        "      <RefererList>\n"
        f"          <Referer>https://{domain}/*</Referer>\n"
        "      </RefererList>\n"
        "  </RefererConfiguration>\n\n" + DONE))
    assert cli("referer", "--method", "delete", f"oss://{bucket}") == (0, DONE)
    assert browse(cli, domain, "/logo.png", Referer="https://elsewhere.example/").status == 200
    assert browse(cli, domain, "/logo.png").status == 200
