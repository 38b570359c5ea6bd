"""Object codecs: round trips (plain and ``encoding-type=url`` names), OSS's exact bytes, the
Delete request's rules, MalformedXML for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.wire.strategies import PROPERTY, counts, encoding_types, names, xml_text

from ossutil.wire.bucket_xml import Owner
from ossutil.wire.errors import OssError
from ossutil.wire.object_xml import (
    CopyObjectResult,
    DeleteRequest,
    DeleteResult,
    ListBucketResult,
    ListBucketV2Result,
    ObjectEntry,
    decode_copy_object_result,
    decode_delete,
    decode_delete_result,
    decode_list_bucket_result,
    decode_list_bucket_v2_result,
    encode_copy_object_result,
    encode_delete,
    encode_delete_result,
    encode_list_bucket_result,
    encode_list_bucket_v2_result,
)

owners = st.none() | st.builds(Owner, xml_text, xml_text)


def entries(name: st.SearchStrategy[str]) -> st.SearchStrategy[ObjectEntry]:
    return st.builds(ObjectEntry, name, xml_text, xml_text, xml_text, counts, xml_text, owners)


@st.composite
def v1_results(draw: st.DrawFn) -> ListBucketResult:
    encoding = draw(encoding_types)
    name = names(encoding)
    return ListBucketResult(
        name=draw(xml_text), prefix=draw(name), marker=draw(name), max_keys=draw(counts),
        delimiter=draw(name), encoding_type=encoding, is_truncated=draw(st.booleans()),
        next_marker=draw(st.none() | name),
        contents=tuple(draw(st.lists(entries(name), max_size=3))),
        common_prefixes=tuple(draw(st.lists(name, max_size=3))))


@st.composite
def v2_results(draw: st.DrawFn) -> ListBucketV2Result:
    encoding = draw(encoding_types)
    name = names(encoding)
    return ListBucketV2Result(
        name=draw(xml_text), prefix=draw(name), start_after=draw(st.none() | name),
        continuation_token=draw(st.none() | xml_text), max_keys=draw(counts),
        delimiter=draw(name), encoding_type=encoding, is_truncated=draw(st.booleans()),
        next_continuation_token=draw(st.none() | xml_text),
        contents=tuple(draw(st.lists(entries(name), max_size=3))),
        common_prefixes=tuple(draw(st.lists(name, max_size=3))), key_count=draw(counts))


@st.composite
def delete_results(draw: st.DrawFn) -> DeleteResult:
    encoding = draw(encoding_types)
    return DeleteResult(encoding, tuple(draw(st.lists(names(encoding), max_size=4))))


nonempty_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), min_size=1,
                        max_size=20)
delete_requests = st.builds(DeleteRequest, st.booleans(), st.lists(
    nonempty_keys, min_size=1, max_size=5, unique=True).map(tuple))


@PROPERTY
@given(v1_results())
def test_list_bucket_result_round_trip(result: ListBucketResult) -> None:
    assert decode_list_bucket_result(encode_list_bucket_result(result)) == result


@PROPERTY
@given(v2_results())
def test_list_bucket_v2_result_round_trip(result: ListBucketV2Result) -> None:
    assert decode_list_bucket_v2_result(encode_list_bucket_v2_result(result)) == result


@PROPERTY
@given(st.builds(CopyObjectResult, xml_text, xml_text))
def test_copy_object_result_round_trip(result: CopyObjectResult) -> None:
    assert decode_copy_object_result(encode_copy_object_result(result)) == result


@PROPERTY
@given(delete_requests)
def test_delete_round_trip(request: DeleteRequest) -> None:
    assert decode_delete(encode_delete(request)) == request


@PROPERTY
@given(delete_results())
def test_delete_result_round_trip(result: DeleteResult) -> None:
    assert decode_delete_result(encode_delete_result(result)) == result


DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
ENTRY = ObjectEntry("a b/ü", "2025-01-02T03:04:05.000Z", '"ETAG"', "Normal", 3, "Standard",
                    Owner("42", "42"))


def test_list_bucket_result_url_encoded_exact_bytes() -> None:
    body = encode_list_bucket_result(ListBucketResult(
        name="b", prefix="a ", marker="", max_keys=1, delimiter="/", encoding_type="url",
        is_truncated=True, next_marker="a b/ü", contents=(ENTRY,), common_prefixes=("a/",)))
    assert body.decode() == (
        DECLARATION + "<ListBucketResult>\n  <Name>b</Name>\n  <Prefix>a%20</Prefix>\n"
        "  <Marker></Marker>\n  <MaxKeys>1</MaxKeys>\n  <Delimiter>%2F</Delimiter>\n"
        "  <EncodingType>url</EncodingType>\n  <IsTruncated>true</IsTruncated>\n"
        "  <NextMarker>a%20b%2F%C3%BC</NextMarker>\n  <Contents>\n"
        "    <Key>a%20b%2F%C3%BC</Key>\n    <LastModified>2025-01-02T03:04:05.000Z</LastModified>\n"
        '    <ETag>"ETAG"</ETag>\n    <Type>Normal</Type>\n    <Size>3</Size>\n'
        "    <StorageClass>Standard</StorageClass>\n"
        "    <Owner>\n      <ID>42</ID>\n      <DisplayName>42</DisplayName>\n    </Owner>\n"
        "  </Contents>\n  <CommonPrefixes>\n    <Prefix>a%2F</Prefix>\n  </CommonPrefixes>\n"
        "</ListBucketResult>\n")


def test_list_bucket_v2_result_exact_bytes() -> None:
    body = encode_list_bucket_v2_result(ListBucketV2Result(
        name="b", prefix="", start_after="a", continuation_token="t", max_keys=100,
        delimiter="", is_truncated=True, next_continuation_token="n", key_count=0))
    assert body.decode() == (
        DECLARATION + "<ListBucketResult>\n  <Name>b</Name>\n  <Prefix></Prefix>\n"
        "  <StartAfter>a</StartAfter>\n  <ContinuationToken>t</ContinuationToken>\n"
        "  <MaxKeys>100</MaxKeys>\n  <Delimiter></Delimiter>\n"
        "  <IsTruncated>true</IsTruncated>\n"
        "  <NextContinuationToken>n</NextContinuationToken>\n  <KeyCount>0</KeyCount>\n"
        "</ListBucketResult>\n")


def test_copy_and_delete_results_exact_bytes() -> None:
    assert encode_copy_object_result(CopyObjectResult('"E"', "2025-01-02T03:04:05.000Z")) == (
        DECLARATION + '<CopyObjectResult>\n  <ETag>"E"</ETag>\n'
        "  <LastModified>2025-01-02T03:04:05.000Z</LastModified>\n</CopyObjectResult>\n"
    ).encode()
    assert encode_delete_result(DeleteResult("url", ("a b",))) == (
        DECLARATION + "<DeleteResult>\n  <EncodingType>url</EncodingType>\n"
        "  <Deleted>\n    <Key>a%20b</Key>\n  </Deleted>\n</DeleteResult>\n").encode()
    assert encode_delete_result(DeleteResult()) == (
        DECLARATION + "<DeleteResult>\n</DeleteResult>\n").encode()
    assert encode_delete(DeleteRequest(True, ("a", "b"))) == (
        b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object>"
        b"<Object><Key>b</Key></Object></Delete>")


def test_delete_merges_repeated_keys_and_runs_the_key_check_in_order() -> None:
    seen: list[str] = []
    request = decode_delete(b"<Delete><Object><Key>b</Key></Object><Object><Key>a</Key>"
                            b"</Object><Object><Key>b</Key></Object></Delete>", seen.append)
    assert request == DeleteRequest(False, ("b", "a"))
    assert seen == ["b", "a", "b"]


def _error(body: bytes) -> OssError:
    with pytest.raises(OssError) as raised:
        decode_delete(body)
    return raised.value


@pytest.mark.parametrize(("body", "code", "message"), [
    (b"<Other/>", "MalformedXML", None),
    (b"<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>", "MalformedXML",
     "Quiet must be true or false."),
    (b"<Delete><Object><Key></Key></Object></Delete>", "MalformedXML",
     "Every Object needs a Key."),
    (b"<Delete><Quiet>true</Quiet></Delete>", "MalformedXML",
     "The Delete element names no Object."),
    (b"<Delete><Object><Key>a</Key><VersionId>1</VersionId></Object></Delete>",
     "NotImplemented", "Deleting object versions is not supported."),
])
def test_delete_request_errors(body: bytes, code: str, message: str | None) -> None:
    error = _error(body)
    assert error.code == code
    if message is not None:
        assert error.message == message


def test_more_than_1000_objects_is_malformed_with_oss_ec() -> None:
    body = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"
    error = _error(body)
    assert (error.code, error.ec) == ("MalformedXML", "0016-00000609")


def test_listing_decodes_leniently_as_the_client_always_did() -> None:
    page = decode_list_bucket_result(b"<ListBucketResult><Contents><Key>k</Key></Contents>"
                                     b"</ListBucketResult>")
    assert page.contents == (ObjectEntry("k", "", "", "", 0, ""),)
    assert (page.is_truncated, page.next_marker, page.max_keys) == (False, None, 0)


@pytest.mark.parametrize("body", [b"<ListBucketResult><Contents><Size>x</Size></Contents>"
                                  b"</ListBucketResult>",
                                  b"<ListBucketResult><KeyCount>-</KeyCount></ListBucketResult>"])
def test_bad_numbers_are_malformed(body: bytes) -> None:
    with pytest.raises(OssError) as raised:
        decode_list_bucket_result(body)
        decode_list_bucket_v2_result(body)
    assert raised.value.code == "MalformedXML"


DECODERS = (decode_list_bucket_result, decode_list_bucket_v2_result, decode_copy_object_result,
            decode_delete_result)


@PROPERTY
@given(st.binary(max_size=300) | v1_results().map(encode_list_bucket_result)
       .map(lambda b: b[:-25]))
def test_any_bytes_decode_to_a_value_or_malformed(body: bytes) -> None:
    for decode in (*DECODERS, decode_delete):
        try:
            decode(body)
        except OssError as error:
            assert error.code in ("MalformedXML", "NotImplemented") if decode is decode_delete \
                else error.code == "MalformedXML"
