"""``ossutil api``: the ossutil 2.0 forms of the five CNAME operations, against the real server.

Every output format is checked byte for byte after masking what varies (tokens, times, request
ids, the owner id, the port). 1.7 command lines are covered by the golden tests; the few here
check that the ``api`` hook leaves them to goopt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.clitools import Outcome, run_ours
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer

from ossutil.cli import api_render
from ossutil.cli.api_cmd import api_index
from ossutil.client import OssClient
from ossutil.wire.cname_xml import CnameConfiguration

Api = Callable[..., Outcome]
Verify = Callable[[str], None]


def _mask(text: str, server: RunningServer, owner: str = "") -> str:
    text = text.replace(server.endpoint, "<endpoint>")
    if owner:
        text = text.replace(owner, "<owner>")
    text = re.sub(r"[0-9a-f]{32}", "<token>", text)
    text = re.sub(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 GMT", "<timestamp>", text)
    return re.sub(r"[0-9A-F]{24}", "<request-id>", text)


@pytest.fixture
def api(server: RunningServer, tmp_path: Path) -> Api:
    """``api(*argv)``: ``ossutil api ARGV -e -i -k`` (no config file) in-process."""

    def run(*argv: str, credentials: bool = True) -> Outcome:
        common = ["-e", server.endpoint, "-i", server.access_key_id,
                  "-k", server.access_key_secret] if credentials else []
        return run_ours(["api", *argv, *common, "-c", str(tmp_path / "absent.cfg")],
                        cwd=tmp_path)

    return run


@pytest.fixture
def verified(client: OssClient, dns: DnsServer, bucket: str) -> Verify:
    """``verified(domain)``: create the token and publish it as TXT ``_dnsauth.<domain>``."""

    def publish(domain: str) -> None:
        dns.txt(f"_dnsauth.{domain}", client.create_cname_token(bucket, domain).token)

    return publish


def ok(outcome: Outcome) -> str:
    assert (outcome.code, outcome.stderr) == (0, b""), outcome
    return outcome.text


def failed(outcome: Outcome, server: RunningServer) -> str:
    """An error run: exit 1, nothing on stdout; returns stderr masked."""
    assert (outcome.code, outcome.stdout) == (1, b""), outcome
    return _mask(outcome.stderr.decode(), server)


# --- the five operations, each output format ------------------------------------------------------


def test_create_cname_token_prints_the_body_verbatim(api: Api, server, bucket: str,
                                                     domain: str) -> None:
    text = ok(api("create-cname-token", "--bucket", bucket, "--cname", domain))
    assert _mask(text, server) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<CnameToken>\n"
        f"  <Bucket>{bucket}</Bucket>\n"
        f"  <Cname>{domain}</Cname>\n"
        "  <Token><token></Token>\n"
        "  <ExpireTime><time></ExpireTime>\n"
        "</CnameToken>\n")


def test_create_cname_token_takes_a_json_configuration(api: Api, server, client: OssClient,
                                                       bucket: str, domain: str) -> None:
    config = json.dumps({"Cname": {"Domain": domain}})
    text = ok(api("create-cname-token", "--bucket", bucket, "--cname-configuration", config,
                  "--output-format", "json"))
    token = client.get_cname_token(bucket, domain)
    assert text == (
        "{\n"
        f'  "Bucket": "{bucket}",\n'
        f'  "Cname": "{domain}",\n'
        f'  "ExpireTime": "{token.expire_time}",\n'
        f'  "Token": "{token.token}"\n'
        "}\n")


@pytest.mark.parametrize("output_format, expected", [
    ("json", '{\n  "Bucket": "B",\n  "Cname": "D",\n  "ExpireTime": "<time>",\n'
             '  "Token": "<token>"\n}\n'),
    ("yaml", "Bucket: B\nCname: D\nExpireTime: <time>\nToken: <token>\n"),
    ("xml", "<root>\n  <Bucket>B</Bucket>\n  <Cname>D</Cname>\n  <ExpireTime><time></ExpireTime>\n"
            "  <Token><token></Token>\n</root>\n"),
    ("YAML", "Bucket: B\nCname: D\nExpireTime: <time>\nToken: <token>\n"),
])
def test_get_cname_token_in_each_format(api: Api, server, client: OssClient, bucket: str,
                                        domain: str, output_format: str, expected: str) -> None:
    client.create_cname_token(bucket, domain)
    text = ok(api("get-cname-token", "--bucket", bucket, "--cname", domain,
                  "--output-format", output_format))
    masked = _mask(text, server).replace(bucket, "B").replace(domain, "D")
    assert masked == expected


def test_get_cname_token_also_reads_the_domain_from_a_configuration(
        api: Api, server, client: OssClient, bucket: str, domain: str) -> None:
    token = client.create_cname_token(bucket, domain).token
    config = f"<BucketCnameConfiguration><Cname><Domain>{domain}</Domain></Cname>" \
             "</BucketCnameConfiguration>"
    text = ok(api("get-cname-token", "--bucket", bucket, "--cname-configuration", config))
    assert f"<Token>{token}</Token>" in text


def test_put_cname_binds_and_prints_nothing(api: Api, client: OssClient, bucket: str,
                                            domain: str, verified: Verify) -> None:
    verified(domain)
    config = json.dumps({"Cname": {"Domain": domain}}, separators=(",", ":"))
    assert ok(api("put-cname", "--bucket", bucket, "--cname-configuration", config)) == ""
    assert [info.domain for info in client.list_cname(bucket).cnames] == [domain]


@pytest.mark.parametrize("form", ["xml", "json", "cname-root", "cname-flag"])
def test_put_cname_configuration_forms(api: Api, client: OssClient, bucket: str, domain: str,
                                       verified: Verify, tmp_path: Path, form: str) -> None:
    verified(domain)
    documents = {
        "xml": f'<?xml version="1.0" encoding="UTF-8"?>\n<BucketCnameConfiguration>\n  <Cname>\n'
               f"    <Domain>{domain}</Domain>\n  </Cname>\n</BucketCnameConfiguration>\n",
        "json": json.dumps({"Cname": {"Domain": domain}}, indent=2) + "\n",
        "cname-root": f"<Cname><Domain>{domain}</Domain></Cname>",
    }
    if form == "cname-flag":
        flags = ["--cname", domain]
    else:
        (tmp_path / "cname.cfg").write_text(documents[form])
        flags = ["--cname-configuration", f"file://{tmp_path / 'cname.cfg'}"]
    assert ok(api("put-cname", "--bucket", bucket, *flags)) == ""
    assert [info.domain for info in client.list_cname(bucket).cnames] == [domain]


@pytest.fixture
def two_bound(client: OssClient, bucket: str, verified: Verify) -> tuple[str, str, str]:
    """A bucket with two bound domains; returns (bucket, owner, raw list body)."""
    for name in (f"a.{bucket}.example.com", f"b.{bucket}.example.com"):
        verified(name)
        client.put_cname(bucket, client_config(name))
    body = client.list_cname_raw(bucket).body.decode()
    owner = re.search(r"<Owner>([^<]*)</Owner>", body).group(1)  # type: ignore[union-attr]
    return bucket, owner, body


def client_config(domain: str) -> CnameConfiguration:
    return CnameConfiguration(domain)


CNAME_FIELDS = ("Domain", "IsPurgeCdnCache", "LastModified", "Status")
LIST_EXPECTED = {
    "json": (
        '{\n  "Bucket": "B",\n  "Cname": [\n'
        '    {\n      "Domain": "a.B.example.com",\n      "IsPurgeCdnCache": "false",\n'
        '      "LastModified": "<time>",\n      "Status": "Enabled"\n    },\n'
        '    {\n      "Domain": "b.B.example.com",\n      "IsPurgeCdnCache": "false",\n'
        '      "LastModified": "<time>",\n      "Status": "Enabled"\n    }\n'
        '  ],\n  "Owner": "<owner>"\n}\n'),
    "yaml": (
        "Bucket: B\nCname:\n"
        '  - Domain: a.B.example.com\n    IsPurgeCdnCache: "false"\n'
        '    LastModified: "<time>"\n    Status: Enabled\n'
        '  - Domain: b.B.example.com\n    IsPurgeCdnCache: "false"\n'
        '    LastModified: "<time>"\n    Status: Enabled\n'
        'Owner: "<owner>"\n'),
    "xml": (
        "<root>\n  <Bucket>B</Bucket>\n"
        "  <Cname>\n    <Domain>a.B.example.com</Domain>\n"
        "    <IsPurgeCdnCache>false</IsPurgeCdnCache>\n    <LastModified><time></LastModified>\n"
        "    <Status>Enabled</Status>\n  </Cname>\n"
        "  <Cname>\n    <Domain>b.B.example.com</Domain>\n"
        "    <IsPurgeCdnCache>false</IsPurgeCdnCache>\n    <LastModified><time></LastModified>\n"
        "    <Status>Enabled</Status>\n  </Cname>\n"
        "  <Owner><owner></Owner>\n</root>\n"),
}


def test_list_cname_prints_the_body_verbatim(api: Api, two_bound: tuple[str, str, str]) -> None:
    bucket, _, body = two_bound
    assert ok(api("list-cname", "--bucket", bucket)) == body


@pytest.mark.parametrize("output_format", ["json", "yaml", "xml"])
def test_list_cname_in_each_format(api: Api, server, two_bound: tuple[str, str, str],
                                   output_format: str) -> None:
    bucket, owner, _ = two_bound
    text = ok(api("list-cname", "--bucket", bucket, "--output-format", output_format))
    masked = _mask(text, server, owner).replace(bucket, "B")
    assert masked == LIST_EXPECTED[output_format]


def test_list_cname_with_one_domain_gives_an_object_not_a_list(
        api: Api, server, client: OssClient, bucket: str, domain: str, verified: Verify) -> None:
    verified(domain)
    client.put_cname(bucket, client_config(domain))
    text = ok(api("list-cname", "--bucket", bucket, "--output-format", "yaml"))
    owner = client.list_cname(bucket).owner
    assert _mask(text, server, owner).replace(bucket, "B").replace(domain, "D") == (
        'Bucket: B\nCname:\n  Domain: D\n  IsPurgeCdnCache: "false"\n'
        '  LastModified: "<time>"\n  Status: Enabled\nOwner: "<owner>"\n')


def test_list_cname_of_a_bucket_without_domains(api: Api, server, client: OssClient,
                                                bucket: str) -> None:
    owner = client.list_cname(bucket).owner
    text = ok(api("list-cname", "--bucket", bucket, "--output-format", "json"))
    assert _mask(text, server, owner).replace(bucket, "B") == \
        '{\n  "Bucket": "B",\n  "Owner": "<owner>"\n}\n'


@pytest.mark.parametrize("form", ["cname", "xml", "json"])
def test_delete_cname_unbinds(api: Api, client: OssClient, bucket: str, domain: str,
                              verified: Verify, form: str) -> None:
    verified(domain)
    client.put_cname(bucket, client_config(domain))
    flags = {
        "cname": ["--cname", domain],
        "xml": ["--cname-configuration", f"<BucketCnameConfiguration><Cname><Domain>{domain}"
                                         "</Domain></Cname></BucketCnameConfiguration>"],
        "json": ["--cname-configuration", json.dumps({"Cname": {"Domain": domain}})],
    }[form]
    assert ok(api("delete-cname", "--bucket", bucket, *flags, "--output-format", "json")) == ""
    assert client.list_cname(bucket).cnames == ()


# --- global options ---------------------------------------------------------------------------


def test_config_file_supplies_endpoint_and_credentials(server, bucket: str, domain: str,
                                                       client: OssClient, tmp_path: Path) -> None:
    client.create_cname_token(bucket, domain)
    (tmp_path / "ossutil.cfg").write_text(
        f"[Credentials]\nendpoint={server.endpoint}\naccessKeyID={server.access_key_id}\n"
        f"accessKeySecret={server.access_key_secret}\n")
    outcome = run_ours(["-c", "ossutil.cfg", "api", "get-cname-token", "--bucket", bucket,
                        "--cname", domain, "--output-format=yaml"], cwd=tmp_path)
    assert f"Cname: {domain}\n" in ok(outcome)


@pytest.mark.parametrize("extra", [
    ["--sign-version", "v4", "--region", "cn-hangzhou"],
    ["--sign-version", "v1"],
    ["--force-path-style"],
    ["--force-path-style=true", "--ua", "api-test", "--connect-timeout", "5"],
])
def test_signing_and_addressing_options(api: Api, bucket: str, extra: list[str]) -> None:
    assert f"<Bucket>{bucket}</Bucket>" in ok(api("list-cname", "--bucket", bucket, *extra))


def test_options_before_api_keep_goopt_rules(server, bucket: str, tmp_path: Path) -> None:
    outcome = run_ours([f"--endp={server.endpoint}", "-ik", server.access_key_id,
                        server.access_key_secret, "--force-path", "api", "list-cname",
                        "--bucket", bucket], cwd=tmp_path)
    assert f"<Bucket>{bucket}</Bucket>" in ok(outcome)


def test_a_1_7_option_not_shared_by_api_is_refused(server, tmp_path: Path) -> None:
    outcome = run_ours(["--method", "get", "api", "list-cname", "--bucket", "b-api"],
                       cwd=tmp_path)
    assert failed(outcome, server) == "Error: unknown flag: --method\n"


def test_loglevel_debug_logs_the_request_and_keeps_stdout_clean(api: Api, bucket: str,
                                                                tmp_path: Path) -> None:
    outcome = api("list-cname", "--bucket", bucket, "--output-format", "json",
                  "--loglevel", "debug")
    assert outcome.code == 0
    assert outcome.stderr == f"log file is {tmp_path / 'ossutil.log'}\n".encode()
    assert json.loads(outcome.text)["Bucket"] == bucket
    log = (tmp_path / "ossutil.log").read_text()
    assert "[Req]Method:GET" in log and "[Resp]StatusCode:200" in log


def test_password_prompt_needs_a_terminal(server, tmp_path: Path) -> None:
    outcome = run_ours(["api", "list-cname", "--bucket", "b-api", "-e", server.endpoint,
                        "-i", "id", "-p"], cwd=tmp_path)
    assert (outcome.code, outcome.stdout) == (1, b"\r")
    assert outcome.stderr == b"input access key secret:Error: inappropriate ioctl for device\n"


def test_missing_config_file_without_credentials_is_1_7s_error(server, tmp_path: Path) -> None:
    outcome = run_ours(["api", "list-cname", "--bucket", "b-api", "-c", "none.cfg"],
                       cwd=tmp_path)
    assert failed(outcome, server) == (
        "Error: Read config file error: open none.cfg: no such file or "
        'directory, please try "help config" to set configuration or use "--config-file" '
        "option\n")


def test_v4_without_region_is_refused(api: Api, server) -> None:
    assert failed(api("list-cname", "--bucket", "b-api", "--sign-version", "v4"), server) == \
        "Error: In the v4 signature scenario, please enter the region\n"


# --- errors -----------------------------------------------------------------------------------


def test_no_such_bucket_is_worded_as_ossutil_2(api: Api, server) -> None:
    text = failed(api("list-cname", "--bucket", "api-nosuch-bucket"), server)
    assert text == (
        "Error: operation error ListCname: Error returned by Service. \n"
        "Http Status Code: 404. \n"
        "Error Code: NoSuchBucket. \n"
        "Request Id: <request-id>. \n"
        "Message: The specified bucket does not exist..\n"
        "EC: 0015-00000101.\n"
        "Timestamp: <timestamp>.\n"
        "Request Endpoint: GET <endpoint>/api-nosuch-bucket/?cname.\n")


def test_put_cname_rejects_unverified_domain(api: Api, server, bucket: str, domain: str) -> None:
    text = failed(api("put-cname", "--bucket", bucket, "--cname", domain), server)
    assert text == (
        "Error: operation error PutCname: Error returned by Service. \n"
        "Http Status Code: 403. \n"
        "Error Code: NeedVerifyDomainOwnership. \n"
        "Request Id: <request-id>. \n"
        "Message: Please verify domain ownership by CreateCnameToken and try again. "
        f"No valid token exists for {domain} on bucket {bucket}..\n"
        "EC: 0018-00000115.\n"
        "Timestamp: <timestamp>.\n"
        f"Request Endpoint: POST <endpoint>/{bucket}/?cname&comp=add.\n")


def test_get_cname_token_that_was_never_created(api: Api, server, bucket: str,
                                                domain: str) -> None:
    text = failed(api("get-cname-token", "--bucket", bucket, "--cname", domain), server)
    assert text.startswith("Error: operation error GetCnameToken: Error returned by Service. \n"
                           "Http Status Code: 404. \nError Code: CnameTokenNotFound. \n")
    assert text.endswith(f"Request Endpoint: GET <endpoint>/{bucket}/?cname={domain}"
                         "&comp=token.\n")


@pytest.mark.parametrize("argv, message", [
    (["list-cname"], 'required flag(s) "bucket" not set'),
    (["list-cname", "--bucket", "b-api", "--output-format", "toml"],
     'invalid value "toml" for "--output-format": must be one of xml, json, yaml'),
    (["put-cname", "--bucket", "b-api"], 'required flag(s) "cname-configuration" not set'),
    (["get-cname-token", "--bucket", "b-api"], 'required flag(s) "cname" not set'),
    (["delete-cname", "--bucket", "b-api", "--cname", "d.com", "--cname-configuration", "{}"],
     "give either --cname or --cname-configuration, not both"),
    (["list-cname", "--bucket", "b-api", "--cname", "d.com"], "unknown flag: --cname"),
    (["list-cname", "--bucket", "b-api", "--method", "get"], "unknown flag: --method"),
    (["list-cname", "--bucket", "b-api", "-x"], "unknown shorthand flag: 'x' in -x"),
    (["list-cname", "--bucket", "b-api", "--read-timeout", "soon"],
     'invalid argument "soon" for "--read-timeout" flag: strconv.ParseInt: parsing "soon": '
     "invalid syntax"),
    (["nosuch-operation", "--bucket", "b-api"], 'unknown command "nosuch-operation" for '
                                                '"ossutil api"'),
    (["list-cname", "extra", "--bucket", "b-api"],
     'unknown command "extra" for "ossutil api list-cname"'),
    (["put-cname", "--bucket", "b-api", "--cname-configuration", "Domain=d.com"],
     "invalid --cname-configuration: give XML, JSON or file://path"),
    (["put-cname", "--bucket", "b-api", "--cname-configuration", "<Bucket"],
     "invalid --cname-configuration: the XML is not well-formed"),
    (["put-cname", "--bucket", "b-api", "--cname-configuration", '{"Cname":'],
     "invalid --cname-configuration: the JSON is not valid: Expecting value: line 1 column 10 "
     "(char 9)"),
    (["put-cname", "--bucket", "b-api", "--cname-configuration", "file:///nonexistent/c.xml"],
     "open /nonexistent/c.xml: no such file or directory"),
    (["get-cname-token", "--bucket", "b-api", "--cname-configuration", "{}"],
     "invalid --cname-configuration: no Cname/Domain in it"),
    (["list-cname", "--bucket", "B_api"],
     "bucket name B_api can only include lowercase letters, numbers, and -"),
])
def test_local_errors_are_one_line_on_stderr(api: Api, server, argv: list[str],
                                             message: str) -> None:
    assert failed(api(*argv), server) == f"Error: {message}\n"


def test_flag_at_the_end_needs_its_argument(server, tmp_path: Path) -> None:
    outcome = run_ours(["-e", server.endpoint, "api", "list-cname", "--bucket"], cwd=tmp_path)
    assert failed(outcome, server) == "Error: flag needs an argument: --bucket\n"


def test_missing_credentials_are_1_7s_error(api: Api, server, tmp_path: Path) -> None:
    outcome = run_ours(["api", "list-cname", "--bucket", "b-api", "-e", server.endpoint,
                        "-c", "none.cfg"], cwd=tmp_path)
    assert failed(outcome, server) == \
        "Error: accessKeyID and ecsUrl are both empty\n"


def test_unreachable_endpoint(server, tmp_path: Path) -> None:
    outcome = run_ours(["api", "list-cname", "--bucket", "b-api", "-e", "http://127.0.0.1:1",
                        "-i", "id", "-k", "secret"], cwd=tmp_path)
    assert failed(outcome, server) == (
        'Error: operation error ListCname: Get "http://127.0.0.1:1/b-api/?cname": dial tcp '
        "127.0.0.1:1: connect: connection refused\n")


# --- help and the hook --------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["api"], ["api", "--help"], ["api", "list-cname", "-h"],
                                  ["help", "api"]])
def test_help(argv: list[str], tmp_path: Path) -> None:
    outcome = run_ours(argv, cwd=tmp_path)
    assert outcome.code == 0 and outcome.stderr == b""
    assert outcome.text.startswith("SYNOPSIS\n\n    ossutil 2.0 API-level commands")
    assert "--output-format xml|json|yaml" in outcome.text


def test_whole_help_lists_api_last_in_its_own_group(tmp_path: Path) -> None:
    assert run_ours(["help"], cwd=tmp_path).text.endswith(
        "\nAPI Commands:\n  api               <operation> [options]\n"
        "        ossutil 2.0 API-level commands (create-cname-token, put-bucket-website ...)\n\n")


@pytest.mark.parametrize("argv, index", [
    (["api", "list-cname"], 0),
    (["-e", "http://x", "api", "list-cname"], 2),
    (["--endp=http://x", "-ik", "id", "secret", "api"], 4),
    (["bucket-cname", "--method", "get", "oss://api"], -1),
    (["--method", "api"], -1),  # goopt: "api" is --method's value
    (["-h", "api"], -1),
    (["--nosuch", "api"], -1),
    (["--", "api"], -1),
    (["--list-options", "api"], -1),
    (["ls", "api"], -1),
])
def test_api_index_follows_goopt(argv: list[str], index: int) -> None:
    assert api_index(argv) == index


def test_1_7_command_lines_mentioning_api_are_untouched(tmp_path: Path) -> None:
    outcome = run_ours(["bucket-cname", "--method", "get", "api", "-e", "http://127.0.0.1:1",
                        "-i", "id", "-k", "secret"], cwd=tmp_path)
    assert (outcome.code, outcome.text) == (1, "Error: parameter is not a cloud url,url is api\n")


# --- the tree formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, quoted", [
    ("plain", False), ("www.example.com", False), ("Tue, 01 Dec 2026 17:55:11 GMT", False),
    ("", True), ("true", True), ("No", True), ("null", True), ("~", True), ("123", True),
    ("1.5e3", True), ("0x1F", True), (".inf", True), ("2026-11-28", True),
    ("2026-11-28T17:55:11.805Z", True), (" lead", True), ("trail ", True), ("a: b", True),
    ("a #b", True), ("-dash", True), ("*star", True), ("line\nbreak", True), ("key:", True),
    ("a-b:c", False),
])
def test_yaml_scalar_quotes_what_yaml_would_misread(text: str, quoted: bool) -> None:
    assert api_render.yaml_scalar(text) == (json.dumps(text) if quoted else text)


def test_yaml_nested_lists_and_empties() -> None:
    tree = {"b": [{"x": "1", "k": []}, ["p", "q"], "s"], "a": {}, "c": {"d": {"e": ""}},
            "y": "on"}
    assert api_render.to_yaml(tree) == (
        'a: {}\nb:\n  - k: []\n    x: "1"\n  - - p\n    - q\n  - s\nc:\n  d:\n    e: ""\n'
        '"y": "on"\n')


def test_xml_to_tree_drops_the_root_and_lists_repeats() -> None:
    body = (b'<?xml version="1.0"?><R xmlns="urn:x"><A>1</A><B><C/></B><A>2</A><A>3</A>'
            b"<D>&lt;&amp;</D></R>")
    assert api_render.xml_to_tree(body) == {"A": ["1", "2", "3"], "B": {"C": ""}, "D": "<&"}
    assert api_render.to_xml(api_render.xml_to_tree(body)) == (
        "<root>\n  <A>1</A>\n  <A>2</A>\n  <A>3</A>\n  <B>\n    <C></C>\n  </B>\n"
        "  <D>&lt;&amp;</D>\n</root>\n")


def test_request_xml_from_json() -> None:
    tree = {"Cname": {"Domain": "a&b.com", "CertificateConfiguration": {"Force": True,
                                                                       "CertId": None}}}
    assert api_render.tree_to_request_xml("BucketCnameConfiguration", tree) == (
        b"<BucketCnameConfiguration><Cname><Domain>a&amp;b.com</Domain>"
        b"<CertificateConfiguration><Force>true</Force><CertId></CertId>"
        b"</CertificateConfiguration></Cname></BucketCnameConfiguration>")
    with pytest.raises(ValueError):
        api_render.tree_to_request_xml("R", {"bad name": "x"})
