"""Name rules for buckets, custom domains and object keys, as OSS enforces them.

Each validator returns nothing (or the canonical form) and raises ``OssError`` with OSS's code:

- ``validate_bucket_name`` -> ``InvalidBucketName`` (3-63 of ``a-z 0-9 -``, alphanumeric ends).
- ``normalize_domain`` -> ``InvalidArgument`` for a malformed host name, ``CnameIsForbidden`` for
  a reserved one (reference §9); returns the canonical ASCII form used as the binding's key.
- ``validate_object_key`` -> ``InvalidObjectName`` (1-1023 UTF-8 bytes, no leading ``/`` or ``\\``).

Pure functions: no I/O, no clock, no DNS.
"""

from __future__ import annotations

import encodings.idna
import ipaddress
import re
from collections.abc import Sequence

from ossutil.wire.errors import OssError

__all__ = [
    "DEFAULT_RESERVED",
    "SHORT_HOST_EC",
    "SHORT_HOST_MESSAGE",
    "normalize_domain",
    "validate_bucket_name",
    "validate_object_key",
]

# --------------------------------------------------------------------------------------------
# Buckets

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def validate_bucket_name(name: str) -> None:
    """Raise ``InvalidBucketName`` unless ``name`` is 3-63 lowercase letters, digits or ``-``,
    starting and ending with a letter or digit (OSS's rule; no dots, unlike S3)."""
    if _BUCKET_NAME.fullmatch(name) is None:
        raise OssError.from_code(
            "InvalidBucketName", "The specified bucket is not valid.", BucketName=name
        )


# --------------------------------------------------------------------------------------------
# Custom domains

DEFAULT_RESERVED: tuple[str, ...] = (
    "aliyuncs.com",
    "aliyun.com",
    "aliyun-inc.com",
    "taobaocdn.com",
    "taobao.com",
)
"""Suffixes OSS refuses to bind (reference §9, EC 0018-00000401). A self-hosted server adds its
own endpoint domain."""

SHORT_HOST_MESSAGE = "Entire hostname must be longer than 3 ASCII characters."
SHORT_HOST_EC = "0017-00000249"
"""OSS's exact text and EC for a host of 3 ASCII characters or fewer (reference §5, ``w.c``)."""

_MAX_NAME = 253
_MAX_LABEL = 63
_LDH = re.compile(r"[a-z0-9-]+")
# IDNA 2003 / UTS 46 treat these as label separators too: ideographic and fullwidth full stops.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_SHOWN_MAX = 300


def _shown(text: str) -> str:
    """``text`` quoted for a message: non-printable characters escaped, length capped."""
    if len(text) > _SHOWN_MAX:
        text = text[:_SHOWN_MAX] + "..."
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return f'"{text}"'


def _invalid(domain: str, problem: str) -> OssError:
    return OssError.from_code("InvalidArgument", f"The domain name {_shown(domain)} {problem}")


def _to_ascii(label: str, domain: str) -> str:
    """One label in its ASCII form: unchanged if ASCII, else IDNA 2003 (``nameprep`` folds case
    and width and may map the label to plain ASCII; otherwise Punycode with ``xn--``).

    Length is left to the caller so a long label gets the precise message.
    """
    if label.isascii():
        return label
    try:
        prepped = encodings.idna.nameprep(label)
        if prepped.isascii():
            return prepped
        if prepped.startswith("xn--"):
            raise UnicodeError("non-ASCII label with the ACE prefix")
        return "xn--" + prepped.encode("punycode").decode("ascii")
    except UnicodeError:
        raise _invalid(domain, f"has a label that IDNA cannot encode: {_shown(label)}.") from None


def _is_ip_literal(name: str) -> bool:
    text = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalize_domain(raw: str, *, reserved_suffixes: Sequence[str] = DEFAULT_RESERVED) -> str:
    """The canonical form of a custom domain, or ``OssError``.

    Canonical: surrounding whitespace stripped, one trailing dot dropped, lower case, non-ASCII
    labels IDNA-encoded (``bücher.example`` -> ``xn--bcher-kva.example``). Two spellings of a
    domain give the same string, so it can key bindings and tokens. The rules, in the order they
    are checked (each failure is 400 ``InvalidArgument`` naming the problem and the domain):

    empty; ``*`` anywhere (standard buckets take no wildcard domains, §9); an IPv4/IPv6 literal;
    a label IDNA cannot encode; an empty label; 3 ASCII characters or fewer (OSS's own text and
    EC ``0017-00000249``); over 253 characters; a label over 63; a character other than a letter,
    digit or hyphen; a label starting or ending with ``-``; a single label; an all-numeric last
    label. Finally a name equal to or under one of ``reserved_suffixes`` (at a label boundary:
    ``x.aliyuncs.com`` yes, ``myaliyuncs.com`` no) is 403 ``CnameIsForbidden``.
    """
    given = raw.strip()
    name = given if given.isascii() else given.translate(_DOTS)
    name = name[:-1] if name.endswith(".") else name
    if not name:
        raise OssError.from_code("InvalidArgument", "The domain name is empty.")
    name = name.lower()
    if "*" in name:
        raise _invalid(
            given, "contains a wildcard; standard buckets do not accept wildcard domains."
        )
    if _is_ip_literal(name):
        raise _invalid(given, "is an IP address; a domain name is required.")
    originals = name.split(".")
    labels = [_to_ascii(label, given) for label in originals]
    if "" in labels:  # "a..b", ".a.b", or a label nameprep maps to nothing (soft hyphen)
        raise _invalid(given, "has an empty label.")
    ascii_name = ".".join(labels)
    if len(ascii_name) <= 3:
        raise OssError.from_code("InvalidArgument", SHORT_HOST_MESSAGE, ec=SHORT_HOST_EC)
    if len(ascii_name) > _MAX_NAME:
        raise _invalid(
            given,
            f"is {len(ascii_name)} ASCII characters long; the maximum is {_MAX_NAME}.",
        )
    for label, original in zip(labels, originals, strict=True):
        if len(label) > _MAX_LABEL:
            raise _invalid(
                given,
                f"has a label longer than {_MAX_LABEL} characters: {_shown(label)}.",
            )
        if _LDH.fullmatch(label) is None:
            raise _invalid(
                given,
                "has a label with a character other than a letter, digit or hyphen: "
                f"{_shown(original)}.",
            )
        if label.startswith("-") or label.endswith("-"):
            raise _invalid(
                given, f"has a label that starts or ends with a hyphen: {_shown(label)}."
            )
    if len(labels) < 2:
        raise _invalid(given, "has a single label; a domain needs at least two.")
    if labels[-1].isdigit():
        raise _invalid(given, f"ends with an all-numeric label: {_shown(labels[-1])}.")
    for suffix in reserved_suffixes:
        reserved = suffix.strip().strip(".").lower()
        if reserved and (ascii_name == reserved or ascii_name.endswith("." + reserved)):
            raise OssError.from_code("CnameIsForbidden")
    return ascii_name


# --------------------------------------------------------------------------------------------
# Object keys

_MAX_KEY_BYTES = 1023


def validate_object_key(key: str) -> None:
    """Raise ``InvalidObjectName`` unless ``key`` is 1-1023 bytes of UTF-8 not starting with
    ``/`` or ``\\`` (OSS's rule)."""
    if not key:
        raise OssError.from_code("InvalidObjectName", "The object key is empty.")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise OssError.from_code(
            "InvalidObjectName", "The object key is not valid UTF-8 (it has a lone surrogate)."
        ) from None
    if size > _MAX_KEY_BYTES:
        raise OssError.from_code(
            "InvalidObjectName",
            f"The object key is {size} bytes long in UTF-8; the maximum is {_MAX_KEY_BYTES}.",
        )
    if key[0] in "/\\":
        raise OssError.from_code(
            "InvalidObjectName", 'The object key must not start with "/" or "\\".'
        )
