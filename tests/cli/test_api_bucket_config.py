"""``ossutil api``: the ossutil 2.0 forms of the website, CORS and Referer operations and
option-object, against the real server (the session's; ``api`` runs in-process without a
config file, as in ``tests/cli/test_api_cmd.py``).

Outputs are checked byte for byte; what the server stored is read back with ``OssClient``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.clitools import run_ours
from tests.cli.test_api_cmd import Api, Outcome, failed, ok
from tests.support.server import RunningServer

from ossutil.client import OssClient
from ossutil.wire.cors_xml import CorsConfiguration, CorsRule
from ossutil.wire.referer_xml import RefererConfiguration
from ossutil.wire.website_xml import ErrorDocument, IndexDocument, WebsiteConfiguration

WEBSITE = ("<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
           "<ErrorDocument><Key>404.html</Key></ErrorDocument></WebsiteConfiguration>")
RULE = CorsRule(allowed_origins=("https://www.example.com",), allowed_methods=("GET",),
                allowed_headers=("x-oss-meta-a",), expose_headers=("ETag",),
                max_age_seconds=60)


@pytest.fixture
def api(server: RunningServer, tmp_path: Path) -> Api:
    """``api(*argv)``: ``ossutil api ARGV -e -i -k`` (no config file) in-process."""

    def run(*argv: str) -> Outcome:
        return run_ours(["api", *argv, "-e", server.endpoint, "-i", server.access_key_id,
                         "-k", server.access_key_secret, "-c", str(tmp_path / "absent.cfg")],
                        cwd=tmp_path)

    return run


def _rid(text: str) -> str:
    text = re.sub(r"[0-9A-F]{24}", "<request-id>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 GMT", "<timestamp>", text)
    text = re.sub(r"\nEC: [0-9-]*\.\n", "\nEC: <ec>.\n", text)  # the server's choice
    return re.sub(r"http://127\.0\.0\.1:\d+", "<endpoint>", text)


# --- website -------------------------------------------------------------------------------------


def test_put_bucket_website_from_xml_prints_nothing_and_stores_it(api: Api, client: OssClient,
                                                                  bucket: str) -> None:
    assert ok(api("put-bucket-website", "--bucket", bucket, "--website-configuration",
                  WEBSITE)) == ""
    assert client.get_bucket_website(bucket) == WebsiteConfiguration(
        IndexDocument("index.html", False, 0), ErrorDocument("404.html", 404))


def test_put_bucket_website_from_a_json_file(api: Api, client: OssClient, bucket: str,
                                             tmp_path: Path) -> None:
    path = tmp_path / "website.json"
    path.write_text(json.dumps({"IndexDocument": {"Suffix": "home.html", "SupportSubDir": True,
                                                  "Type": 1}}))
    assert ok(api("put-bucket-website", "--bucket", bucket, "--website-configuration",
                  f"file://{path}")) == ""
    assert client.get_bucket_website(bucket).index_document == IndexDocument("home.html",
                                                                             True, 1)


def test_get_bucket_website_verbatim_and_as_json(api: Api, client: OssClient,
                                                 bucket: str) -> None:
    client.put_bucket_website(bucket, WEBSITE.encode())
    assert ok(api("get-bucket-website", "--bucket", bucket)) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<WebsiteConfiguration>\n"
        "  <IndexDocument>\n"
        "    <Suffix>index.html</Suffix>\n"
        "    <SupportSubDir>false</SupportSubDir>\n"
        "    <Type>0</Type>\n"
        "  </IndexDocument>\n"
        "  <ErrorDocument>\n"
        "    <Key>404.html</Key>\n"
        "    <HttpStatus>404</HttpStatus>\n"
        "  </ErrorDocument>\n"
        "</WebsiteConfiguration>\n")
    assert json.loads(ok(api("get-bucket-website", "--bucket", bucket, "--output-format",
                             "json"))) == {
        "ErrorDocument": {"HttpStatus": "404", "Key": "404.html"},
        "IndexDocument": {"Suffix": "index.html", "SupportSubDir": "false", "Type": "0"}}


def test_delete_bucket_website_then_get_is_no_such_website_configuration(
        api: Api, server: RunningServer, client: OssClient, bucket: str) -> None:
    client.put_bucket_website(bucket, WEBSITE.encode())
    assert ok(api("delete-bucket-website", "--bucket", bucket)) == ""
    assert _rid(failed(api("get-bucket-website", "--bucket", bucket), server)) == (
        "Error: operation error GetBucketWebsite: Error returned by Service. \n"
        "Http Status Code: 404. \n"
        "Error Code: NoSuchWebsiteConfiguration. \n"
        "Request Id: <request-id>. \n"
        "Message: The specified bucket does not have a website configuration..\n"
        "EC: <ec>.\n"
        "Timestamp: <timestamp>.\n"
        f"Request Endpoint: GET <endpoint>/{bucket}/?website.\n")


def test_put_bucket_website_needs_its_configuration(api: Api, server: RunningServer,
                                                    bucket: str) -> None:
    assert failed(api("put-bucket-website", "--bucket", bucket), server) == (
        'Error: required flag(s) "website-configuration" not set\n')


def test_put_bucket_website_refuses_text_that_is_neither_xml_nor_json(
        api: Api, server: RunningServer, bucket: str) -> None:
    assert failed(api("put-bucket-website", "--bucket", bucket, "--website-configuration",
                      "index.html"), server) == (
        "Error: invalid --website-configuration: give XML, JSON or file://path\n")


def test_a_malformed_website_configuration_is_the_servers_malformed_xml(
        api: Api, server: RunningServer, bucket: str) -> None:
    text = failed(api("put-bucket-website", "--bucket", bucket, "--website-configuration",
                      '{"IndexDocument": {"Type": "x"}}'), server)
    assert "Http Status Code: 400. \nError Code: MalformedXML. \n" in text


# --- CORS ----------------------------------------------------------------------------------------


def test_put_bucket_cors_from_json_then_get_it_as_yaml(api: Api, client: OssClient,
                                                       bucket: str) -> None:
    config = {"CORSRule": [{"AllowedOrigin": ["https://www.example.com", "https://a.example"],
                            "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 60}],
              "ResponseVary": True}
    assert ok(api("put-bucket-cors", "--bucket", bucket, "--cors-configuration",
                  json.dumps(config))) == ""
    assert client.get_bucket_cors(bucket) == CorsConfiguration((CorsRule(
        allowed_origins=("https://www.example.com", "https://a.example"),
        allowed_methods=("GET", "PUT"), max_age_seconds=60),), response_vary=True)
    assert ok(api("get-bucket-cors", "--bucket", bucket, "--output-format", "yaml")) == (
        "CORSRule:\n"
        "  AllowedMethod:\n"
        "    - GET\n"
        "    - PUT\n"
        "  AllowedOrigin:\n"
        "    - https://www.example.com\n"
        "    - https://a.example\n"
        '  MaxAgeSeconds: "60"\n'
        'ResponseVary: "true"\n')


def test_delete_bucket_cors_then_get_is_no_such_cors_configuration(
        api: Api, server: RunningServer, client: OssClient, bucket: str) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    assert ok(api("delete-bucket-cors", "--bucket", bucket)) == ""
    text = _rid(failed(api("get-bucket-cors", "--bucket", bucket), server))
    assert text.startswith("Error: operation error GetBucketCors: Error returned by Service. \n"
                           "Http Status Code: 404. \nError Code: NoSuchCORSConfiguration. \n")


def test_a_cors_flag_is_unknown_to_the_website_operation(api: Api, server: RunningServer,
                                                         bucket: str) -> None:
    assert failed(api("put-bucket-website", "--bucket", bucket, "--cors-configuration", "{}"),
                  server) == "Error: unknown flag: --cors-configuration\n"


# --- Referer -------------------------------------------------------------------------------------


def test_put_bucket_referer_from_xml_with_another_root_name(api: Api, client: OssClient,
                                                            bucket: str) -> None:
    xml = ("<Referer><AllowEmptyReferer>false</AllowEmptyReferer><RefererList>"
           "<Referer>https://www.example.com</Referer></RefererList></Referer>")
    assert ok(api("put-bucket-referer", "--bucket", bucket, "--referer-configuration",
                  xml)) == ""
    assert client.get_bucket_referer(bucket) == RefererConfiguration(
        allow_empty_referer=False, allow_truncate_query_string=True, truncate_path=False,
        referer_list=("https://www.example.com",))


def test_get_bucket_referer_of_a_new_bucket_is_the_allow_all_default(api: Api,
                                                                     bucket: str) -> None:
    assert json.loads(ok(api("get-bucket-referer", "--bucket", bucket, "--output-format",
                             "json"))) == {
        "AllowEmptyReferer": "true", "AllowTruncateQueryString": "true", "RefererList": "",
        "TruncatePath": "false"}


# --- option-object -------------------------------------------------------------------------------


def test_option_object_prints_the_granted_headers(api: Api, client: OssClient,
                                                  bucket: str) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    text = ok(api("option-object", "--bucket", bucket, "--key", "index.html", "--origin",
                  "https://www.example.com", "--access-control-request-method", "GET",
                  "--access-control-request-headers", "x-oss-meta-a"))
    assert text == ("Access-Control-Allow-Origin: https://www.example.com\n"
                    "Access-Control-Allow-Methods: GET\n"
                    "Access-Control-Allow-Headers: x-oss-meta-a\n"
                    "Access-Control-Expose-Headers: ETag\n"
                    "Access-Control-Max-Age: 60\n")
    assert json.loads(ok(api("option-object", "--bucket", bucket, "--key", "index.html",
                             "--origin", "https://www.example.com",
                             "--access-control-request-method", "GET",
                             "--output-format", "json"))) == {
        "AccessControlAllowMethods": "GET", "AccessControlAllowOrigin": "https://www.example.com",
        "AccessControlExposeHeaders": "ETag", "AccessControlMaxAge": "60"}


def test_option_object_refused_is_access_forbidden(api: Api, server: RunningServer,
                                                   client: OssClient, bucket: str) -> None:
    client.put_bucket_cors(bucket, CorsConfiguration((RULE,)))
    text = _rid(failed(api("option-object", "--bucket", bucket, "--key", "k", "--origin",
                           "https://evil.example", "--access-control-request-method", "GET"),
                       server))
    assert text.startswith("Error: operation error OptionObject: Error returned by Service. \n"
                           "Http Status Code: 403. \nError Code: AccessForbidden. \n")
    assert text.endswith(f"Request Endpoint: OPTIONS <endpoint>/{bucket}/k.\n")


def test_option_object_needs_a_key(api: Api, server: RunningServer, bucket: str) -> None:
    assert failed(api("option-object", "--bucket", bucket, "--origin", "o"), server) == (
        'Error: required flag(s) "key" not set\n')
