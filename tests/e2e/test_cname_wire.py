"""Exact bytes on the wire: XML bodies, headers, status codes, and every kind of bad input."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

import pytest
from tests.support.dns_server import DnsServer
from tests.support.raw import Reply, send, signed
from tests.support.server import RunningServer

REQUEST_ID = re.compile(r"^[0-9A-F]{24}$")


def call(server: RunningServer, method: str, bucket: str, query: list[tuple[str, str]],
         body: bytes = b"", **kwargs: object) -> Reply:
    return signed(server.endpoint, server.access_key_id, server.access_key_secret, method,
                  bucket, query=query, body=body, **kwargs)  # type: ignore[arg-type]


def conf(domain: str, extra: str = "") -> bytes:
    return (f"<BucketCnameConfiguration><Cname><Domain>{domain}</Domain>{extra}</Cname>"
            "</BucketCnameConfiguration>").encode()


def error_parts(reply: Reply) -> tuple[int, str]:
    match = re.search(r"<Code>([^<]*)</Code>", reply.text)
    return reply.status, match.group(1) if match else ""


def assert_common_headers(reply: Reply) -> None:
    assert REQUEST_ID.match(reply.headers["x-oss-request-id"])
    assert reply.headers["server"] == "AliyunOSS"
    assert reply.headers["date"].endswith(" GMT")
    request_seconds = int(reply.headers["x-oss-request-id"][:8], 16)
    assert abs(request_seconds - datetime.now(timezone.utc).timestamp()) < 60


@pytest.fixture
def bucket(server: RunningServer, bucket_name: str) -> str:
    assert call(server, "PUT", bucket_name, []).status == 200
    return bucket_name


def test_token_and_list_xml_are_byte_exact(server: RunningServer, dns: DnsServer, bucket: str,
                                           domain: str) -> None:
    reply = call(server, "POST", bucket, [("cname", ""), ("comp", "token")], conf(domain))
    assert reply.status == 200
    assert_common_headers(reply)
    assert reply.headers["content-type"] == "application/xml"
    token = re.search(r"<Token>([0-9a-f]{32})</Token>", reply.text)
    expire = re.search(r"<ExpireTime>([^<]+)</ExpireTime>", reply.text)
    assert token and expire
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<CnameToken>\n'
        f"  <Bucket>{bucket}</Bucket>\n  <Cname>{domain}</Cname>\n"
        f"  <Token>{token.group(1)}</Token>\n  <ExpireTime>{expire.group(1)}</ExpireTime>\n"
        "</CnameToken>\n")
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
                        expire.group(1))

    dns.txt(f"_dnsauth.{domain}", token.group(1))
    bind = call(server, "POST", bucket, [("cname", ""), ("comp", "add")], conf(domain))
    assert (bind.status, bind.body, bind.headers["content-length"]) == (200, b"", "0")
    listing = call(server, "GET", bucket, [("cname", "")])
    owner = re.search(r"<Owner>(\d{16})</Owner>", listing.text)
    modified = re.search(r"<LastModified>([^<]+)</LastModified>", listing.text)
    assert owner and modified
    assert listing.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListCnameResult>\n'
        f"  <Bucket>{bucket}</Bucket>\n  <Owner>{owner.group(1)}</Owner>\n"
        f"  <Cname>\n    <Domain>{domain}</Domain>\n"
        f"    <LastModified>{modified.group(1)}</LastModified>\n"
        "    <Status>Enabled</Status>\n    <IsPurgeCdnCache>false</IsPurgeCdnCache>\n"
        "  </Cname>\n</ListCnameResult>\n")
    assert call(server, "POST", bucket, [("cname", ""), ("comp", "delete")],
                conf(domain)).status == 200


def test_error_body_layout(server: RunningServer, bucket: str, domain: str) -> None:
    reply = call(server, "GET", bucket, [("comp", "token"), ("cname", domain)])
    request_id = reply.headers["x-oss-request-id"]
    assert reply.status == 404
    assert reply.headers["x-oss-ec"] == "0018-00000301"
    assert reply.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        "  <Code>CnameTokenNotFound</Code>\n  <Message>Cname token not found.</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>127.0.0.1</HostId>\n"
        f"  <Bucket>{bucket}</Bucket>\n  <Cname>{domain}</Cname>\n"
        "  <EC>0018-00000301</EC>\n"
        "  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0018-00000301</RecommendDoc>\n"
        "</Error>\n")


def test_empty_list_and_unbound_delete_are_200(server: RunningServer, bucket: str,
                                               domain: str) -> None:
    listing = call(server, "GET", bucket, [("cname", "")])
    assert listing.status == 200 and "<Cname>" not in listing.text
    assert call(server, "POST", bucket, [("cname", ""), ("comp", "delete")],
                conf(domain)).status == 200


def test_leniency_of_query_and_body(server: RunningServer, dns: DnsServer, bucket: str,
                                    domain: str) -> None:
    # `cname` without `=` and any query order, as the Go SDK sends it
    token_reply = call(server, "POST", bucket, [("comp", "token"), ("cname", "")],
                       b'<?xml version="1.0" encoding="UTF-8"?>\n<BucketCnameConfiguration>\n'
                       b"  <Cname>\n    <Domain>" + domain.upper().encode() + b".</Domain>\n"
                       b"  </Cname>\n</BucketCnameConfiguration>\n")
    assert token_reply.status == 200
    assert f"<Cname>{domain}</Cname>" in token_reply.text  # normalised: case, trailing dot
    token = re.search(r"<Token>(\w+)</Token>", token_reply.text)
    assert token
    dns.txt(f"_dnsauth.{domain}", token.group(1))
    body = conf(domain, "<CertificateConfiguration><Force>True</Force>"
                        "<DeleteCertificate>False</DeleteCertificate></CertificateConfiguration>")
    headers = {"Content-MD5": base64.b64encode(__import__("hashlib").md5(body).digest()).decode(),
               "Content-Type": "text/plain; charset=utf-8"}
    assert call(server, "POST", bucket, [("comp", "add"), ("cname", "")], body,
                headers=headers).status == 200
    call(server, "POST", bucket, [("cname", ""), ("comp", "delete")], conf(domain))


@pytest.mark.parametrize(("label", "body", "expected"), [
    ("not xml", b"hello", (400, "MalformedXML")),
    ("wrong root", b"<Foo><Cname><Domain>a.example.com</Domain></Cname></Foo>",
     (400, "MalformedXML")),
    ("no domain", b"<BucketCnameConfiguration><Cname/></BucketCnameConfiguration>",
     (400, "MalformedXML")),
    ("dtd", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
            b"<BucketCnameConfiguration><Cname><Domain>&e;.example.com</Domain></Cname>"
            b"</BucketCnameConfiguration>", (400, "MalformedXML")),
    ("bad boolean", b"<BucketCnameConfiguration><Cname><Domain>a.example.com</Domain>"
                    b"<CertificateConfiguration><Force>yes</Force></CertificateConfiguration>"
                    b"</Cname></BucketCnameConfiguration>", (400, "MalformedXML")),
    ("oversize", b"<BucketCnameConfiguration>" + b" " * (1 << 20) +
     b"</BucketCnameConfiguration>", (400, "EntityTooLarge")),
    ("short domain", conf("w.c"), (400, "InvalidArgument")),
    ("ip domain", conf("10.0.0.1"), (400, "InvalidArgument")),
    ("wildcard", conf("*.example.com"), (400, "InvalidArgument")),
    ("reserved", conf("x.aliyuncs.com"), (403, "CnameIsForbidden")),
])
def test_bad_bodies(server: RunningServer, bucket: str, label: str, body: bytes,
                    expected: tuple[int, str]) -> None:
    reply = call(server, "POST", bucket, [("cname", ""), ("comp", "add")], body)
    assert error_parts(reply) == expected, label
    assert_common_headers(reply)
    assert "Traceback" not in reply.text and "boom" not in reply.text


def test_short_domain_message_matches_oss(server: RunningServer, bucket: str) -> None:
    reply = call(server, "POST", bucket, [("cname", ""), ("comp", "token")], conf("w.c"))
    assert "<Message>Entire hostname must be longer than 3 ASCII characters.</Message>" in \
        reply.text
    assert reply.headers["x-oss-ec"] == "0017-00000249"


@pytest.mark.parametrize(("label", "method", "query", "expected"), [
    ("unknown comp", "POST", [("cname", ""), ("comp", "bogus")], (400, "InvalidArgument")),
    ("comp without cname", "POST", [("comp", "add")], (400, "InvalidArgument")),
    ("token without cname value", "GET", [("comp", "token"), ("cname", "")],
     (400, "InvalidArgument")),
    ("cname with acl", "GET", [("cname", ""), ("acl", "")], (400, "InvalidArgument")),
    ("PUT cname", "PUT", [("cname", "")], (405, "MethodNotAllowed")),
    ("POST bucket", "POST", [], (405, "MethodNotAllowed")),
])
def test_unknown_operations(server: RunningServer, bucket: str, label: str, method: str,
                            query: list[tuple[str, str]], expected: tuple[int, str]) -> None:
    reply = call(server, method, bucket, query, conf("a.example.com") if method != "GET"
                 else b"")
    assert error_parts(reply) == expected, label
    assert_common_headers(reply)


def test_content_md5_is_verified(server: RunningServer, bucket: str) -> None:
    body = conf("md5.example.com")
    wrong = call(server, "POST", bucket, [("cname", ""), ("comp", "token")], body,
                 headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
    assert error_parts(wrong) == (400, "InvalidDigest")
    assert wrong.headers["x-oss-ec"] == "0017-00000503"
    garbage = call(server, "POST", bucket, [("cname", ""), ("comp", "token")], body,
                   headers={"Content-MD5": "not base64!"})
    assert error_parts(garbage) == (400, "InvalidDigest")
    assert garbage.headers["x-oss-ec"] == "0017-00000502"


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_clock_skew_and_dates(server: RunningServer, bucket: str, version: str) -> None:
    late = call(server, "GET", bucket, [("cname", "")],
                when=datetime.now(timezone.utc) - timedelta(minutes=16), version=version)
    assert error_parts(late) == (403, "RequestTimeTooSkewed")
    fine = call(server, "GET", bucket, [("cname", "")],
                when=datetime.now(timezone.utc) - timedelta(minutes=14), version=version)
    assert fine.status == 200
    header = "date" if version == "v1" else "x-oss-date"
    bad = call(server, "GET", bucket, [("cname", "")], headers={header: "yesterday"},
               version=version)
    assert error_parts(bad) == (403, "AccessDenied")


def test_signature_errors(server: RunningServer, bucket: str) -> None:
    anonymous = send(server.endpoint, "GET", f"/{bucket}/", query="cname")
    assert error_parts(anonymous) == (403, "AccessDenied")
    wrong = signed(server.endpoint, server.access_key_id, "wrong", "GET", bucket,
                   query=[("cname", "")])
    assert error_parts(wrong) == (403, "SignatureDoesNotMatch")
    assert "<StringToSign>GET\n\n\n" in wrong.text and server.access_key_secret not in wrong.text
    assert "<StringToSignBytes>47 45 54 0A" in wrong.text
    unknown = signed(server.endpoint, "LTAInobody", "x", "GET", bucket, query=[("cname", "")])
    assert error_parts(unknown) == (403, "InvalidAccessKeyId")
    malformed = send(server.endpoint, "GET", f"/{bucket}/", query="cname",
                     headers={"Authorization": "OSS nocolon", "Date": "x"})
    assert error_parts(malformed) == (400, "InvalidArgument")
    region = signed(server.endpoint, server.access_key_id, server.access_key_secret, "GET",
                    bucket, query=[("cname", "")], version="v4", region="us-west-1")
    assert error_parts(region) == (400, "InvalidArgument")


def test_go_style_v4_signed_with_date_header(server: RunningServer, bucket: str) -> None:
    """ossutil 1.x / Go SDK: no x-oss-date; the Date text is the V4 timestamp."""
    from ossutil.wire import dates, signing

    now = datetime.now(timezone.utc)
    headers = {"date": dates.rfc1123(now), "x-oss-content-sha256": "UNSIGNED-PAYLOAD"}
    request = signing.SigningRequest("GET", bucket, "", [("cname", "")], headers)
    headers["authorization"] = signing.v4_authorization(
        server.access_key_id, server.access_key_secret, request, region="cn-hangzhou",
        date=now.strftime("%Y%m%d"))
    reply = send(server.endpoint, "GET", f"/{bucket}/", query="cname", headers=headers)
    assert reply.status == 200, reply.text


def test_head_error_carries_x_oss_err(server: RunningServer) -> None:
    reply = signed(server.endpoint, server.access_key_id, server.access_key_secret, "HEAD",
                   "no-such-bucket-zz", key="k")
    assert reply.status == 404 and reply.body == b""
    decoded = base64.b64decode(reply.headers["x-oss-err"]).decode()
    assert "<Code>NoSuchBucket</Code>" in decoded


def test_virtual_hosted_addressing(server: RunningServer, bucket: str) -> None:
    from ossutil.wire import dates, signing

    headers = {"date": dates.rfc1123(datetime.now(timezone.utc)),
               "host": f"{bucket}.oss-cn-hangzhou.localhost:{server.port}"}
    request = signing.SigningRequest("GET", bucket, "", [("cname", "")], headers)
    headers["authorization"] = signing.v1_authorization(server.access_key_id,
                                                        server.access_key_secret, request)
    reply = send(server.endpoint, "GET", "/", query="cname", headers=headers)
    assert reply.status == 200 and f"<Bucket>{bucket}</Bucket>" in reply.text


def test_delete_bucket_refused_while_bound(server: RunningServer, dns: DnsServer, bucket: str,
                                           domain: str) -> None:
    token = re.search(r"<Token>(\w+)</Token>", call(
        server, "POST", bucket, [("cname", ""), ("comp", "token")], conf(domain)).text)
    assert token
    dns.txt(f"_dnsauth.{domain}", token.group(1))
    assert call(server, "POST", bucket, [("cname", ""), ("comp", "add")], conf(domain)).status \
        == 200
    assert error_parts(call(server, "DELETE", bucket, [])) == (409, "BucketNotEmpty")
    call(server, "POST", bucket, [("cname", ""), ("comp", "delete")], conf(domain))
    assert call(server, "DELETE", bucket, []).status == 204
