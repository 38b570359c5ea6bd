"""The whole CNAME flow through Alibaba's own SDKs, unchanged, V1 and V4, against the real server.

create token -> bind fails without TXT -> add TXT -> bind -> list -> conflict from a second bucket
-> attach certificate -> rotate with PreviousCertId -> detach -> delete.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from tests.support.certs import CertFactory
from tests.support.dns_server import DnsServer
from tests.support.sdk import ADAPTERS, Cert, SdkError
from tests.support.server import RunningServer

CLIENTS = [("oss2", "v1"), ("oss2", "v4"), ("oss-v2", "v1"), ("oss-v2", "v4")]
REQUEST_ID = re.compile(r"^[0-9A-F]{24}$")
OPENSSL_DATE = re.compile(r"^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \d{4} GMT$")


def make(server: RunningServer, kind: str, sign: str, bucket: str,
         ak: str | None = None, sk: str | None = None):  # type: ignore[no-untyped-def]
    return ADAPTERS[kind](server.endpoint, ak or server.access_key_id,
                          sk or server.access_key_secret, bucket, sign, server.region)


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_full_cname_flow(server: RunningServer, dns: DnsServer, ca: CertFactory, kind: str,
                         sign: str, bucket_name: str, domain: str) -> None:
    client = make(server, kind, sign, bucket_name)
    client.create_bucket()

    token = client.create_token(domain)
    assert (token.bucket, token.cname) == (bucket_name, domain)
    assert re.fullmatch(r"[0-9a-f]{32}", token.token)
    expires = parsedate_to_datetime(token.expire_time)
    assert timedelta(hours=71, minutes=59) < expires - datetime.now(timezone.utc) <= timedelta(
        hours=72)
    assert client.create_token(domain) == token  # same token while valid
    assert client.get_token(domain) == token

    with pytest.raises(SdkError) as denied:
        client.put_cname(domain)
    error = denied.value
    assert (error.status, error.code, error.ec) == (403, "NeedVerifyDomainOwnership",
                                                    "0018-00000115")
    assert f"No TXT record found at _dnsauth.{domain}." in error.message
    assert REQUEST_ID.match(error.request_id)

    dns.txt(f"_dnsauth.{domain}", token.token)
    assert client.put_cname(domain) == 200
    assert client.put_cname(domain) == 200  # idempotent re-bind

    bucket, owner, entries = client.list_cname()
    assert bucket == bucket_name and re.fullmatch(r"\d{16}", owner)
    assert [(e.domain, e.status, e.cert_id) for e in entries] == [(domain, "Enabled", None)]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entries[0].last_modified)

    other = make(server, kind, sign, bucket_name + "-b")
    other.create_bucket()
    other.create_token(domain)
    with pytest.raises(SdkError) as conflict:
        other.put_cname(domain)
    assert (conflict.value.status, conflict.value.code) == (409, "CnameAlreadyExists")

    chain, key = ca.leaf(domain)
    assert client.put_cname(domain, Cert(certificate=chain, private_key=key)) == 200
    _, _, entries = client.list_cname()
    first = entries[0]
    assert first.cert_type == "Upload" and first.cert_id
    assert re.fullmatch(r"\d+-cn-hangzhou", first.cert_id)
    assert re.fullmatch(r"([0-9A-F]{2}:){19}[0-9A-F]{2}", first.fingerprint or "")
    assert OPENSSL_DATE.match(first.valid_start or "") and OPENSSL_DATE.match(first.valid_end
                                                                               or "")
    assert first.creation_date and first.creation_date.endswith(" GMT")

    chain2, key2 = ca.leaf(domain)
    with pytest.raises(SdkError) as no_previous:
        client.put_cname(domain, Cert(certificate=chain2, private_key=key2))
    assert (no_previous.value.status, no_previous.value.code, no_previous.value.ec) == (
        400, "InvalidArgument", "0018-00000209")
    assert client.put_cname(domain, Cert(certificate=chain2, private_key=key2,
                                         previous_cert_id=first.cert_id)) == 200
    _, _, entries = client.list_cname()
    assert entries[0].cert_id != first.cert_id
    assert entries[0].fingerprint != first.fingerprint

    assert client.put_cname(domain, Cert(delete_certificate=True)) == 200
    _, _, entries = client.list_cname()
    assert [(e.domain, e.cert_id) for e in entries] == [(domain, None)]

    assert client.delete_cname(domain) == 200
    assert client.list_cname()[2] == []
    assert client.delete_cname(domain) == 200  # unbound: still 200, as live OSS
    other.delete_bucket()
    client.delete_bucket()


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_get_token_that_was_never_created(server: RunningServer, kind: str, sign: str,
                                          bucket_name: str, domain: str) -> None:
    client = make(server, kind, sign, bucket_name)
    client.create_bucket()
    with pytest.raises(SdkError) as info:
        client.get_token(domain)
    assert (info.value.status, info.value.code, info.value.ec) == (404, "CnameTokenNotFound",
                                                                   "0018-00000301")
    assert info.value.message == "Cname token not found."


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_unknown_bucket_and_bad_secret(server: RunningServer, kind: str, sign: str,
                                       bucket_name: str, domain: str) -> None:
    # NoSuchBucket comes before any credential check, as on OSS: oss2's bucket_exists and
    # oss-v2's is_bucket_exist read a missing bucket from it whatever the key
    for credentials in ({}, {"sk": "wrong-secret"}, {"ak": "LTAIunknown"}):
        with pytest.raises(SdkError) as missing:
            make(server, kind, sign, "no-such-bucket-here", **credentials).list_cname()
        assert (missing.value.status, missing.value.code) == (404, "NoSuchBucket")
    make(server, kind, sign, bucket_name).create_bucket()
    with pytest.raises(SdkError) as forged:
        make(server, kind, sign, bucket_name, sk="wrong-secret").list_cname()
    assert (forged.value.status, forged.value.code) == (403, "SignatureDoesNotMatch")
    with pytest.raises(SdkError) as unknown:
        make(server, kind, sign, bucket_name, ak="LTAIunknown").list_cname()
    assert (unknown.value.status, unknown.value.code) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize(("kind", "sign"), CLIENTS)
def test_certificate_rejections_store_nothing(server: RunningServer, dns: DnsServer,
                                              ca: CertFactory, kind: str, sign: str,
                                              bucket_name: str, domain: str) -> None:
    client = make(server, kind, sign, bucket_name)
    client.create_bucket()
    dns.txt(f"_dnsauth.{domain}", client.create_token(domain).token)
    assert client.put_cname(domain) == 200
    cases = {
        "expired": ca.expired(domain),
        "not yet valid": ca.not_yet_valid(domain),
        "mismatched key": ca.mismatched_key(domain),
        "other domain": ca.leaf("other.example.org"),
        "garbage": ("not a certificate", "not a key"),
    }
    for label, (chain, key) in cases.items():
        with pytest.raises(SdkError) as info:
            client.put_cname(domain, Cert(certificate=chain, private_key=key))
        assert (info.value.status, info.value.code) == (400, "InvalidArgument"), label
        assert "PRIVATE KEY" not in info.value.message
        assert all(line not in info.value.message for line in key.splitlines() if len(line) > 8)
    assert [(e.domain, e.cert_id) for e in client.list_cname()[2]] == [(domain, None)]
    client.delete_cname(domain)


@pytest.mark.parametrize("kind", ["oss2", "oss-v2"])
def test_bucket_calls(server: RunningServer, kind: str, bucket_name: str) -> None:
    client = make(server, kind, "v4", bucket_name)
    client.create_bucket()
    assert bucket_name in client.list_bucket_names()
    if kind == "oss2":
        import oss2

        info = oss2.Bucket(oss2.Auth(server.access_key_id, server.access_key_secret),
                           server.endpoint, bucket_name).get_bucket_info()
        assert (info.name, info.location, info.storage_class, info.acl.grant) == (
            bucket_name, "oss-cn-hangzhou", "Standard", "private")
        assert re.fullmatch(r"\d{16}", info.owner.id)
    from tests.support.raw import signed  # the SDKs refuse bad names before sending

    bad = signed(server.endpoint, server.access_key_id, server.access_key_secret, "PUT",
                 "bad_name-")
    assert bad.status == 400 and "<Code>InvalidBucketName</Code>" in bad.text
    client.delete_bucket()
    assert bucket_name not in client.list_bucket_names()


def test_txt_proof_through_cname_chain_and_multi_string(server: RunningServer, dns: DnsServer,
                                                        bucket_name: str, domain: str) -> None:
    client = make(server, "oss2", "v1", bucket_name)
    client.create_bucket()
    token = client.create_token(domain).token
    dns.cname(f"_dnsauth.{domain}", f"proof.{domain}")
    dns.txt(f"proof.{domain}", "unrelated", [token[:10], token[10:]])
    assert client.put_cname(domain) == 200
    client.delete_cname(domain)


def test_wrong_value_and_dns_failure_are_told_apart(server: RunningServer, dns: DnsServer,
                                                    bucket_name: str, domain: str) -> None:
    client = make(server, "oss2", "v1", bucket_name)
    client.create_bucket()
    client.create_token(domain)
    dns.txt(f"_dnsauth.{domain}", "not-the-token")
    with pytest.raises(SdkError) as wrong:
        client.put_cname(domain)
    assert wrong.value.code == "NeedVerifyDomainOwnership"
    assert (f"The TXT record at _dnsauth.{domain} does not contain the token of this bucket "
            "(found 1 other value).") in wrong.value.message
    dns.servfail(f"_dnsauth.{domain}")
    with pytest.raises(SdkError) as failed:
        client.put_cname(domain)
    assert f"DNS lookup of TXT _dnsauth.{domain} failed: SERVFAIL" in failed.value.message


def test_private_keys_are_encrypted_at_rest_and_never_logged(server: RunningServer,
                                                             dns: DnsServer, ca: CertFactory,
                                                             bucket_name: str,
                                                             domain: str) -> None:
    client = make(server, "oss-v2", "v4", bucket_name)
    client.create_bucket()
    dns.txt(f"_dnsauth.{domain}", client.create_token(domain).token)
    chain, key = ca.leaf(domain)
    assert client.put_cname(domain, Cert(certificate=chain, private_key=key)) == 200
    secret_lines = [line for line in key.splitlines() if len(line) > 20]
    assert secret_lines
    for path in server.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data, path
            assert not any(line.encode() in data for line in secret_lines), path
            assert server.access_key_secret.encode() not in data, path
    logs = "\n".join(server.output + server.errors)
    assert "PRIVATE KEY" not in logs and server.access_key_secret not in logs
    client.delete_cname(domain)
