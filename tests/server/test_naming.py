"""Name rules: buckets, custom domains, object keys (reference §9, §10.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossutil.server.naming import (
    DEFAULT_RESERVED,
    normalize_domain,
    validate_bucket_name,
    validate_object_key,
)
from ossutil.wire.errors import OssError

# --------------------------------------------------------------------------------------------
# Buckets


@pytest.mark.parametrize(
    "name",
    ["abc", "a-b", "0ab", "ab9", "examplebucket", "my-bucket-2024", "a" * 63, "1-2", "123"],
)
def test_bucket_name_accepts_valid_names(name: str) -> None:
    validate_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("ab", id="too-short"),
        pytest.param("a" * 64, id="too-long"),
        pytest.param("Abc", id="uppercase"),
        pytest.param("my.bucket", id="dot"),
        pytest.param("my_bucket", id="underscore"),
        pytest.param("-abc", id="leading-hyphen"),
        pytest.param("abc-", id="trailing-hyphen"),
        pytest.param("ab c", id="space"),
        pytest.param("abc\n", id="trailing-newline"),
        pytest.param("bück", id="non-ascii"),
        pytest.param("ａｂｃ", id="fullwidth"),
    ],
)
def test_bucket_name_rejects_invalid_names(name: str) -> None:
    with pytest.raises(OssError) as caught:
        validate_bucket_name(name)
    error = caught.value
    assert error.code == "InvalidBucketName"
    assert error.status == 400
    assert error.message == "The specified bucket is not valid."
    assert error.ec == "0015-00000204"
    assert error.details == {"BucketName": name}


# --------------------------------------------------------------------------------------------
# Domains: canonical form


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("example.com", "example.com", id="plain"),
        pytest.param("Static.Example.COM", "static.example.com", id="lowercased"),
        pytest.param("example.com.", "example.com", id="one-trailing-dot-dropped"),
        pytest.param("  example.com \t\n", "example.com", id="whitespace-stripped"),
        pytest.param(" example.com. ", "example.com", id="whitespace-then-dot"),
        pytest.param("a.bc", "a.bc", id="four-characters"),
        pytest.param("bücher.example", "xn--bcher-kva.example", id="idn-label"),
        pytest.param("BÜCHER.example", "xn--bcher-kva.example", id="idn-uppercase"),
        pytest.param("例子。测试", "xn--fsqu00a.xn--0zwm56d", id="ideographic-full-stop"),
        pytest.param("example.com。", "example.com", id="trailing-ideographic-full-stop"),
        pytest.param("example．com", "example.com", id="fullwidth-full-stop"),
        pytest.param("ａｂｃ.com", "abc.com", id="fullwidth-to-ascii"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="punycode-kept"),
        pytest.param("a-b.c-d.com", "a-b.c-d.com", id="inner-hyphens"),
        pytest.param("123.example.com", "123.example.com", id="numeric-inner-label"),
        pytest.param("example.com1", "example.com1", id="alnum-last-label"),
        pytest.param("myaliyuncs.com", "myaliyuncs.com", id="reserved-not-at-boundary"),
        pytest.param("aliyuncs.com.example.com", "aliyuncs.com.example.com", id="reserved-inside"),
        pytest.param("a" * 63 + ".com", "a" * 63 + ".com", id="label-63"),
        pytest.param(
            ".".join(["a" * 63] * 3 + ["b" * 61]),
            ".".join(["a" * 63] * 3 + ["b" * 61]),
            id="name-253",
        ),
    ],
)
def test_normalize_domain_returns_canonical_ascii(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


# --------------------------------------------------------------------------------------------
# Domains: each rule, each message

LONG_NAME = ".".join(["a" * 63] * 3 + ["b" * 62])  # 254 characters


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", "The domain name is empty.", id="empty"),
        pytest.param("   ", "The domain name is empty.", id="blank"),
        pytest.param(".", "The domain name is empty.", id="lone-dot"),
        pytest.param(
            "*.example.com",
            'The domain name "*.example.com" contains a wildcard; '
            "standard buckets do not accept wildcard domains.",
            id="wildcard-label",
        ),
        pytest.param(
            "img*.example.com",
            'The domain name "img*.example.com" contains a wildcard; '
            "standard buckets do not accept wildcard domains.",
            id="wildcard-inside",
        ),
        pytest.param(
            "192.168.1.10",
            'The domain name "192.168.1.10" is an IP address; a domain name is required.',
            id="ipv4",
        ),
        pytest.param(
            "2001:db8::1",
            'The domain name "2001:db8::1" is an IP address; a domain name is required.',
            id="ipv6",
        ),
        pytest.param(
            "[2001:db8::1]",
            'The domain name "[2001:db8::1]" is an IP address; a domain name is required.',
            id="ipv6-bracketed",
        ),
        pytest.param(
            "a..example.com",
            'The domain name "a..example.com" has an empty label.',
            id="empty-inner-label",
        ),
        pytest.param(
            ".example.com",
            'The domain name ".example.com" has an empty label.',
            id="leading-dot",
        ),
        pytest.param(
            "example.com..",
            'The domain name "example.com.." has an empty label.',
            id="two-trailing-dots",
        ),
        pytest.param(
            "\u00ad.example.com",
            'The domain name "\\xad.example.com" has an empty label.',
            id="label-mapped-to-nothing",
        ),
        pytest.param(
            "\ud800.example.com",
            'The domain name "\\ud800.example.com" has a label that IDNA cannot encode: "\\ud800".',
            id="lone-surrogate",
        ),
        pytest.param(
            "xn--ü.example.com",
            'The domain name "xn--ü.example.com" has a label that IDNA cannot encode: "xn--ü".',
            id="ace-prefix-with-unicode",
        ),
        pytest.param("w.c", "Entire hostname must be longer than 3 ASCII characters.", id="w.c"),
        pytest.param("ab.", "Entire hostname must be longer than 3 ASCII characters.", id="abc"),
        pytest.param(
            LONG_NAME,
            f'The domain name "{LONG_NAME}" is 254 ASCII characters long; the maximum is 253.',
            id="name-254",
        ),
        pytest.param(
            "a" * 64 + ".com",
            f'The domain name "{"a" * 64}.com" has a label longer than 63 characters: '
            f'"{"a" * 64}".',
            id="label-64",
        ),
        pytest.param(
            "my_site.example.com",
            'The domain name "my_site.example.com" has a label with a character other than '
            'a letter, digit or hyphen: "my_site".',
            id="underscore",
        ),
        pytest.param(
            "my site.example.com",
            'The domain name "my site.example.com" has a label with a character other than '
            'a letter, digit or hyphen: "my site".',
            id="inner-space",
        ),
        pytest.param(
            "a\x00b.example.com",
            'The domain name "a\\x00b.example.com" has a label with a character other than '
            'a letter, digit or hyphen: "a\\x00b".',
            id="nul-escaped-in-message",
        ),
        pytest.param(
            "\u2488.example.com",
            'The domain name "\u2488.example.com" has a label with a character other than '
            'a letter, digit or hyphen: "\u2488".',
            id="nameprep-makes-a-dot",
        ),
        pytest.param(
            "-cdn.example.com",
            'The domain name "-cdn.example.com" has a label that starts or ends with a hyphen: '
            '"-cdn".',
            id="leading-hyphen",
        ),
        pytest.param(
            "cdn-.example.com",
            'The domain name "cdn-.example.com" has a label that starts or ends with a hyphen: '
            '"cdn-".',
            id="trailing-hyphen",
        ),
        pytest.param(
            "localhost",
            'The domain name "localhost" has a single label; a domain needs at least two.',
            id="single-label",
        ),
        pytest.param(
            "example.123",
            'The domain name "example.123" ends with an all-numeric label: "123".',
            id="numeric-tld",
        ),
        pytest.param(
            "1.2.3.4.5",
            'The domain name "1.2.3.4.5" ends with an all-numeric label: "5".',
            id="dotted-numbers-not-an-ip",
        ),
    ],
)
def test_normalize_domain_rejects_with_precise_message(raw: str, message: str) -> None:
    with pytest.raises(OssError) as caught:
        normalize_domain(raw)
    error = caught.value
    assert (error.code, error.status, error.message) == ("InvalidArgument", 400, message)
    expected_ec = "0017-00000249" if message.startswith("Entire hostname") else ""
    assert error.ec == expected_ec


def test_normalize_domain_caps_a_huge_name_in_the_message() -> None:
    with pytest.raises(OssError) as caught:
        normalize_domain("a" * 10_000 + ".com")
    assert caught.value.message == (
        f'The domain name "{"a" * 300}..." is 10004 ASCII characters long; the maximum is 253.'
    )


@pytest.mark.parametrize(
    "raw",
    [
        "aliyuncs.com",
        "oss-cn-hangzhou.aliyuncs.com",
        "examplebucket.oss-cn-hangzhou.aliyuncs.com",
        "ALIYUN.COM.",
        "www.aliyun.com",
        "a.aliyun-inc.com",
        "img.taobaocdn.com",
        "taobao.com",
    ],
)
def test_normalize_domain_forbids_reserved_suffixes(raw: str) -> None:
    with pytest.raises(OssError) as caught:
        normalize_domain(raw)
    error = caught.value
    assert (error.code, error.status, error.ec) == ("CnameIsForbidden", 403, "0018-00000401")
    assert error.message == "The specified cname is reserved and cannot be bound."


def test_normalize_domain_reserved_suffixes_are_configurable() -> None:
    own = (*DEFAULT_RESERVED, ".OSS.Example.NET.")
    with pytest.raises(OssError) as caught:
        normalize_domain("bucket.oss.example.net", reserved_suffixes=own)
    assert caught.value.code == "CnameIsForbidden"
    assert normalize_domain("myoss.example.net", reserved_suffixes=own) == "myoss.example.net"
    assert normalize_domain("x.aliyuncs.com", reserved_suffixes=()) == "x.aliyuncs.com"


def test_normalize_domain_checks_the_reserved_suffix_on_the_ascii_form() -> None:
    with pytest.raises(OssError) as caught:
        normalize_domain("cdn.ＡＬＩＹＵＮ.com")
    assert caught.value.code == "CnameIsForbidden"


# --------------------------------------------------------------------------------------------
# Domains: properties

_DOMAINISH = st.text(
    alphabet=st.sampled_from("abcxyzAZ09-.*_ :[]\u00fc\u4f8b\u3002\uff0e\u00ad\u2488 \t"),
    max_size=40,
)


@given(st.one_of(st.text(), _DOMAINISH))
def test_normalize_domain_gives_a_str_or_an_oss_error(raw: str) -> None:
    try:
        result = normalize_domain(raw)
    except OssError as error:
        assert error.code in {"InvalidArgument", "CnameIsForbidden"}
    else:
        assert isinstance(result, str)
        assert result.isascii() and result == result.lower()


@given(st.one_of(st.text(), _DOMAINISH))
def test_normalize_domain_is_idempotent_on_its_outputs(raw: str) -> None:
    try:
        once = normalize_domain(raw)
    except OssError:
        return
    assert normalize_domain(once) == once


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(st.lists(_LABEL, min_size=2, max_size=5), st.sampled_from(["", "."]), st.booleans())
def test_normalize_domain_accepts_spelling_variants_of_valid_names(
    labels: list[str], dot: str, upper: bool
) -> None:
    name = ".".join(labels)
    if len(name) <= 3 or labels[-1].isdigit():
        return
    variant = (name.upper() if upper else name) + dot
    assert normalize_domain(variant) == name


# --------------------------------------------------------------------------------------------
# Object keys


@pytest.mark.parametrize(
    "key",
    ["a", "photos/2024/a.jpg", "a/", "dir//x", " leading-space", "x" * 1023, "é" * 511, "key\\x"],
)
def test_object_key_accepts_valid_keys(key: str) -> None:
    validate_object_key(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param("", "The object key is empty.", id="empty"),
        pytest.param(
            "x" * 1024,
            "The object key is 1024 bytes long in UTF-8; the maximum is 1023.",
            id="1024-bytes",
        ),
        pytest.param(
            "é" * 512,
            "The object key is 1024 bytes long in UTF-8; the maximum is 1023.",
            id="512-two-byte-characters",
        ),
        pytest.param(
            "/photos/a.jpg", 'The object key must not start with "/" or "\\".', id="slash"
        ),
        pytest.param(
            "\\photos\\a.jpg", 'The object key must not start with "/" or "\\".', id="backslash"
        ),
        pytest.param(
            "a\ud800",
            "The object key is not valid UTF-8 (it has a lone surrogate).",
            id="surrogate",
        ),
    ],
)
def test_object_key_rejects_with_precise_message(key: str, message: str) -> None:
    with pytest.raises(OssError) as caught:
        validate_object_key(key)
    error = caught.value
    assert (error.code, error.status, error.message) == ("InvalidObjectName", 400, message)
