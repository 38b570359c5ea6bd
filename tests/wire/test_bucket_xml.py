"""Bucket codecs: round trips, OSS's exact bytes, the client's leniency, MalformedXML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.wire.strategies import PROPERTY, counts, xml_text

from ossutil.wire.bucket_xml import (
    AccessControlPolicy,
    BucketEntry,
    BucketInfo,
    CreateBucketConfiguration,
    ListAllMyBucketsResult,
    Owner,
    decode_access_control_policy,
    decode_bucket_info,
    decode_create_bucket_configuration,
    decode_list_buckets,
    decode_location,
    encode_access_control_policy,
    encode_bucket_info,
    encode_create_bucket_configuration,
    encode_list_buckets,
    encode_location,
)
from ossutil.wire.errors import OssError

owners = st.builds(Owner, xml_text, xml_text)
entries = st.builds(BucketEntry, xml_text, xml_text, xml_text, xml_text, xml_text, xml_text,
                    xml_text)
optional_text = st.none() | xml_text
list_results = st.builds(
    ListAllMyBucketsResult, owner=st.none() | owners,
    buckets=st.lists(entries, max_size=3).map(tuple), prefix=optional_text,
    marker=optional_text, max_keys=st.none() | counts, is_truncated=st.booleans(),
    next_marker=optional_text)
infos = st.builds(
    BucketInfo, entry=entries, access_monitor=xml_text, cross_region_replication=xml_text,
    transfer_acceleration=xml_text, data_redundancy_type=xml_text, resource_group_id=xml_text,
    comment=xml_text, block_public_access=xml_text, owner=st.none() | owners, acl=xml_text,
    sse_algorithm=xml_text, kms_master_key_id=optional_text, kms_data_encryption=optional_text,
    log_bucket=xml_text, log_prefix=xml_text)
policies = st.builds(AccessControlPolicy, st.none() | owners, xml_text)
configurations = st.builds(CreateBucketConfiguration, optional_text, optional_text)


@PROPERTY
@given(list_results)
def test_list_buckets_round_trip(result: ListAllMyBucketsResult) -> None:
    assert decode_list_buckets(encode_list_buckets(result)) == result


@PROPERTY
@given(infos)
def test_bucket_info_round_trip(info: BucketInfo) -> None:
    assert decode_bucket_info(encode_bucket_info(info)) == info


@PROPERTY
@given(xml_text)
def test_location_round_trip(location: str) -> None:
    assert decode_location(encode_location(location)) == location


@PROPERTY
@given(policies)
def test_access_control_policy_round_trip(policy: AccessControlPolicy) -> None:
    assert decode_access_control_policy(encode_access_control_policy(policy)) == policy


@PROPERTY
@given(configurations)
def test_create_bucket_configuration_round_trip(config: CreateBucketConfiguration) -> None:
    assert decode_create_bucket_configuration(
        encode_create_bucket_configuration(config)) == config


ENTRY = BucketEntry("2025-01-02T03:04:05.000Z", "oss-cn-hangzhou.aliyuncs.com",
                    "oss-cn-hangzhou-internal.aliyuncs.com", "oss-cn-hangzhou", "b-1",
                    "cn-hangzhou", "Standard")
ENTRY_XML = (
    "      <CreationDate>2025-01-02T03:04:05.000Z</CreationDate>\n"
    "      <ExtranetEndpoint>oss-cn-hangzhou.aliyuncs.com</ExtranetEndpoint>\n"
    "      <IntranetEndpoint>oss-cn-hangzhou-internal.aliyuncs.com</IntranetEndpoint>\n"
    "      <Location>oss-cn-hangzhou</Location>\n"
    "      <Name>b-1</Name>\n"
    "      <Region>cn-hangzhou</Region>\n"
    "      <StorageClass>Standard</StorageClass>\n")
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def test_list_buckets_exact_bytes() -> None:
    body = encode_list_buckets(ListAllMyBucketsResult(
        owner=Owner("42", "42"), buckets=(ENTRY,), prefix="b", max_keys=1, is_truncated=True,
        next_marker="b-1"))
    assert body.decode() == (
        DECLARATION + "<ListAllMyBucketsResult>\n  <Prefix>b</Prefix>\n  <MaxKeys>1</MaxKeys>\n"
        "  <IsTruncated>true</IsTruncated>\n  <NextMarker>b-1</NextMarker>\n"
        "  <Owner>\n    <ID>42</ID>\n    <DisplayName>42</DisplayName>\n  </Owner>\n"
        "  <Buckets>\n    <Bucket>\n" + ENTRY_XML + "    </Bucket>\n  </Buckets>\n"
        "</ListAllMyBucketsResult>\n")


def test_empty_list_buckets_exact_bytes() -> None:
    assert encode_list_buckets(ListAllMyBucketsResult(owner=Owner("1", "1"))).decode() == (
        DECLARATION + "<ListAllMyBucketsResult>\n  <Owner>\n    <ID>1</ID>\n"
        "    <DisplayName>1</DisplayName>\n  </Owner>\n  <Buckets>\n  </Buckets>\n"
        "</ListAllMyBucketsResult>\n")


def test_bucket_info_exact_bytes() -> None:
    body = encode_bucket_info(BucketInfo(
        entry=ENTRY, access_monitor="Disabled", cross_region_replication="Disabled",
        transfer_acceleration="Disabled", data_redundancy_type="LRS",
        block_public_access="false", owner=Owner("42", "42"), acl="private",
        sse_algorithm="None"))
    assert body.decode() == (
        DECLARATION + "<BucketInfo>\n  <Bucket>\n" + ENTRY_XML.replace("      ", "    ")
        + "    <AccessMonitor>Disabled</AccessMonitor>\n"
        "    <CrossRegionReplication>Disabled</CrossRegionReplication>\n"
        "    <TransferAcceleration>Disabled</TransferAcceleration>\n"
        "    <DataRedundancyType>LRS</DataRedundancyType>\n"
        "    <ResourceGroupId></ResourceGroupId>\n    <Comment></Comment>\n"
        "    <BlockPublicAccess>false</BlockPublicAccess>\n"
        "    <Owner>\n      <ID>42</ID>\n      <DisplayName>42</DisplayName>\n    </Owner>\n"
        "    <AccessControlList>\n      <Grant>private</Grant>\n    </AccessControlList>\n"
        "    <ServerSideEncryptionRule>\n      <SSEAlgorithm>None</SSEAlgorithm>\n"
        "    </ServerSideEncryptionRule>\n"
        "    <BucketPolicy>\n      <LogBucket></LogBucket>\n      <LogPrefix></LogPrefix>\n"
        "    </BucketPolicy>\n  </Bucket>\n</BucketInfo>\n")


def test_location_and_acl_exact_bytes() -> None:
    assert encode_location("oss-cn-hangzhou") == (
        DECLARATION + "<LocationConstraint>oss-cn-hangzhou</LocationConstraint>\n").encode()
    assert encode_access_control_policy(AccessControlPolicy(Owner("7", "7"), "default")) == (
        DECLARATION + "<AccessControlPolicy>\n  <Owner>\n    <ID>7</ID>\n"
        "    <DisplayName>7</DisplayName>\n  </Owner>\n  <AccessControlList>\n"
        "    <Grant>default</Grant>\n  </AccessControlList>\n</AccessControlPolicy>\n").encode()


def test_responses_decode_leniently_as_the_client_always_did() -> None:
    """What real OSS or a test double may send: missing elements, other roots, namespaces."""
    listing = decode_list_buckets(b"<ListAllMyBucketsResult xmlns='x'><Buckets><Bucket>"
                                  b"<Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>")
    assert listing.buckets == (BucketEntry("", "", "", "", "b", "", ""),)
    assert (listing.owner, listing.is_truncated, listing.next_marker) == (None, False, None)
    info = decode_bucket_info(b"<Other><Bucket><Name>b</Name><Owner><ID>42</ID></Owner>"
                              b"</Bucket></Other>")
    assert (info.entry.name, info.owner, info.acl) == ("b", Owner("42", ""), "")
    assert decode_access_control_policy(b"<AccessControlPolicy/>") == \
        AccessControlPolicy(None, "")


def test_create_bucket_configuration_empty_body_and_root() -> None:
    assert decode_create_bucket_configuration(b" \n") == CreateBucketConfiguration()
    assert decode_create_bucket_configuration(
        b"<CreateBucketConfiguration><StorageClass>IA</StorageClass>"
        b"</CreateBucketConfiguration>") == CreateBucketConfiguration("IA")
    with pytest.raises(OssError) as raised:
        decode_create_bucket_configuration(b"<Other/>")
    assert raised.value.code == "MalformedXML"


@pytest.mark.parametrize("body", [b"<BucketInfo/>", b"<BucketInfo><Other/></BucketInfo>"])
def test_bucket_info_without_bucket_is_malformed(body: bytes) -> None:
    with pytest.raises(OssError) as raised:
        decode_bucket_info(body)
    assert raised.value.code == "MalformedXML"


def test_bad_max_keys_is_malformed() -> None:
    with pytest.raises(OssError) as raised:
        decode_list_buckets(b"<ListAllMyBucketsResult><MaxKeys>x</MaxKeys>"
                            b"</ListAllMyBucketsResult>")
    assert raised.value.code == "MalformedXML"


DECODERS = (decode_list_buckets, decode_bucket_info, decode_location,
            decode_access_control_policy, decode_create_bucket_configuration)


@PROPERTY
@given(st.binary(max_size=300) | list_results.map(encode_list_buckets).map(lambda b: b[:-20]))
def test_any_bytes_decode_to_a_value_or_malformed(body: bytes) -> None:
    for decode in DECODERS:
        try:
            decode(body)
        except OssError as error:
            assert error.code == "MalformedXML"
