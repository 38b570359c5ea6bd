"""Multipart codecs: round trips (plain and ``encoding-type=url`` names), OSS's exact bytes,
the CompleteMultipartUpload request's rules, MalformedXML for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.wire.strategies import PROPERTY, counts, encoding_types, names, xml_text

from ossutil.wire.errors import OssError
from ossutil.wire.multipart_xml import (
    MAX_PART_NUMBER,
    CompleteMultipartUploadResult,
    CompletePart,
    InitiateMultipartUploadResult,
    ListMultipartUploadsResult,
    ListPartsResult,
    PartEntry,
    UploadEntry,
    decode_complete,
    decode_complete_result,
    decode_initiate_result,
    decode_list_parts,
    decode_list_uploads,
    encode_complete,
    encode_complete_result,
    encode_initiate_result,
    encode_list_parts,
    encode_list_uploads,
)


@st.composite
def initiate_results(draw: st.DrawFn) -> InitiateMultipartUploadResult:
    encoding = draw(encoding_types)
    return InitiateMultipartUploadResult(draw(xml_text), draw(names(encoding)),
                                         draw(xml_text), encoding)


@st.composite
def complete_results(draw: st.DrawFn) -> CompleteMultipartUploadResult:
    encoding = draw(encoding_types)
    return CompleteMultipartUploadResult(draw(xml_text), draw(xml_text), draw(names(encoding)),
                                         draw(xml_text), encoding)


@st.composite
def list_parts_results(draw: st.DrawFn) -> ListPartsResult:
    encoding = draw(encoding_types)
    parts = st.builds(PartEntry, st.integers(1, MAX_PART_NUMBER), xml_text, xml_text, counts)
    return ListPartsResult(
        bucket=draw(xml_text), key=draw(names(encoding)), upload_id=draw(xml_text),
        storage_class=draw(xml_text), part_number_marker=draw(counts),
        next_part_number_marker=draw(counts), max_parts=draw(counts),
        is_truncated=draw(st.booleans()), parts=tuple(draw(st.lists(parts, max_size=3))),
        encoding_type=encoding)


@st.composite
def list_uploads_results(draw: st.DrawFn) -> ListMultipartUploadsResult:
    encoding = draw(encoding_types)
    name = names(encoding)
    uploads = st.builds(UploadEntry, name, xml_text, xml_text)
    return ListMultipartUploadsResult(
        bucket=draw(xml_text), key_marker=draw(name), upload_id_marker=draw(xml_text),
        next_key_marker=draw(name), next_upload_id_marker=draw(xml_text),
        delimiter=draw(name), prefix=draw(name), max_uploads=draw(counts),
        is_truncated=draw(st.booleans()), uploads=tuple(draw(st.lists(uploads, max_size=3))),
        common_prefixes=tuple(draw(st.lists(name, max_size=3))), encoding_type=encoding)


nonempty = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xD7FF), min_size=1,
                   max_size=20)
complete_requests = st.lists(st.builds(CompletePart, st.integers(1, MAX_PART_NUMBER), nonempty),
                             min_size=1, max_size=5).map(tuple)


@PROPERTY
@given(initiate_results())
def test_initiate_result_round_trip(result: InitiateMultipartUploadResult) -> None:
    assert decode_initiate_result(encode_initiate_result(result)) == result


@PROPERTY
@given(complete_requests)
def test_complete_round_trip(parts: tuple[CompletePart, ...]) -> None:
    assert decode_complete(encode_complete(parts)) == parts


@PROPERTY
@given(complete_results())
def test_complete_result_round_trip(result: CompleteMultipartUploadResult) -> None:
    assert decode_complete_result(encode_complete_result(result)) == result


@PROPERTY
@given(list_parts_results())
def test_list_parts_round_trip(result: ListPartsResult) -> None:
    assert decode_list_parts(encode_list_parts(result)) == result


@PROPERTY
@given(list_uploads_results())
def test_list_uploads_round_trip(result: ListMultipartUploadsResult) -> None:
    assert decode_list_uploads(encode_list_uploads(result)) == result


DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def test_initiate_and_complete_results_exact_bytes() -> None:
    assert encode_initiate_result(InitiateMultipartUploadResult("b", "a b", "U", "url")) == (
        DECLARATION + "<InitiateMultipartUploadResult>\n  <Bucket>b</Bucket>\n"
        "  <Key>a%20b</Key>\n  <UploadId>U</UploadId>\n  <EncodingType>url</EncodingType>\n"
        "</InitiateMultipartUploadResult>\n").encode()
    assert encode_complete_result(CompleteMultipartUploadResult(
        "http://h/b/k", "b", "k", '"E-2"')) == (
        DECLARATION + "<CompleteMultipartUploadResult>\n  <Location>http://h/b/k</Location>\n"
        '  <Bucket>b</Bucket>\n  <Key>k</Key>\n  <ETag>"E-2"</ETag>\n'
        "</CompleteMultipartUploadResult>\n").encode()


def test_list_parts_exact_bytes() -> None:
    body = encode_list_parts(ListPartsResult(
        bucket="b", key="k", upload_id="U", storage_class="Standard", part_number_marker=0,
        next_part_number_marker=1, max_parts=1000, is_truncated=False,
        parts=(PartEntry(1, "2025-01-02T03:04:05.000Z", '"E"', 5),), encoding_type="url"))
    assert body.decode() == (
        DECLARATION + "<ListPartsResult>\n  <Bucket>b</Bucket>\n"
        "  <EncodingType>url</EncodingType>\n  <Key>k</Key>\n  <UploadId>U</UploadId>\n"
        "  <StorageClass>Standard</StorageClass>\n  <PartNumberMarker>0</PartNumberMarker>\n"
        "  <NextPartNumberMarker>1</NextPartNumberMarker>\n  <MaxParts>1000</MaxParts>\n"
        "  <IsTruncated>false</IsTruncated>\n  <Part>\n    <PartNumber>1</PartNumber>\n"
        "    <LastModified>2025-01-02T03:04:05.000Z</LastModified>\n"
        '    <ETag>"E"</ETag>\n    <Size>5</Size>\n  </Part>\n</ListPartsResult>\n')


def test_list_uploads_exact_bytes() -> None:
    body = encode_list_uploads(ListMultipartUploadsResult(
        bucket="b", key_marker="", upload_id_marker="", next_key_marker="a/b",
        next_upload_id_marker="U", delimiter="/", prefix="", max_uploads=1,
        is_truncated=True, uploads=(UploadEntry("a/b", "U", "2025-01-02T03:04:05.000Z"),),
        common_prefixes=("c/",)))
    assert body.decode() == (
        DECLARATION + "<ListMultipartUploadsResult>\n  <Bucket>b</Bucket>\n"
        "  <KeyMarker></KeyMarker>\n  <UploadIdMarker></UploadIdMarker>\n"
        "  <NextKeyMarker>a/b</NextKeyMarker>\n  <NextUploadIdMarker>U</NextUploadIdMarker>\n"
        "  <Delimiter>/</Delimiter>\n  <Prefix></Prefix>\n  <MaxUploads>1</MaxUploads>\n"
        "  <IsTruncated>true</IsTruncated>\n  <Upload>\n    <Key>a/b</Key>\n"
        "    <UploadId>U</UploadId>\n    <Initiated>2025-01-02T03:04:05.000Z</Initiated>\n"
        "  </Upload>\n  <CommonPrefixes>\n    <Prefix>c/</Prefix>\n  </CommonPrefixes>\n"
        "</ListMultipartUploadsResult>\n")


def test_complete_keeps_document_order_and_whitespace_around_numbers() -> None:
    assert decode_complete(b"<CompleteMultipartUpload><Part><PartNumber> 2 </PartNumber>"
                           b"<ETag>\"b\"</ETag></Part><Part><PartNumber>1</PartNumber>"
                           b"<ETag>a</ETag></Part></CompleteMultipartUpload>") == (
        CompletePart(2, '"b"'), CompletePart(1, "a"))


@pytest.mark.parametrize(("body", "code"), [
    (b"<Other/>", "MalformedXML"),
    (b"<CompleteMultipartUpload/>", "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
     b"</CompleteMultipartUpload>", "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>e</ETag></Part>"
     b"</CompleteMultipartUpload>", "InvalidPart"),
    (b"<CompleteMultipartUpload><Part><PartNumber>" + b"9" * 5000 + b"</PartNumber>"
     b"<ETag>e</ETag></Part></CompleteMultipartUpload>", "InvalidPart"),
    (b"<CompleteMultipartUpload>" + b"<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
     * (MAX_PART_NUMBER + 1) + b"</CompleteMultipartUpload>", "InvalidPart"),
])
def test_complete_request_errors(body: bytes, code: str) -> None:
    with pytest.raises(OssError) as raised:
        decode_complete(body)
    assert raised.value.code == code


def test_listing_decodes_leniently_as_the_client_always_did() -> None:
    page = decode_list_uploads(b"<ListMultipartUploadsResult><EncodingType>url</EncodingType>"
                               b"<Upload><Key>a%20b</Key></Upload></ListMultipartUploadsResult>")
    assert page.uploads == (UploadEntry("a b", "", ""),)
    assert (page.is_truncated, page.next_key_marker, page.max_uploads) == (False, "", 0)


DECODERS = (decode_initiate_result, decode_complete_result, decode_list_parts,
            decode_list_uploads)


@PROPERTY
@given(st.binary(max_size=300) | list_uploads_results().map(encode_list_uploads)
       .map(lambda b: b[:-30]))
def test_any_bytes_decode_to_a_value_or_malformed(body: bytes) -> None:
    for decode in (*DECODERS, decode_complete):
        try:
            decode(body)
        except OssError as error:
            allowed = ("MalformedXML", "InvalidPart") if decode is decode_complete \
                else ("MalformedXML",)
            assert error.code in allowed
