"""What the bucket, object and multipart codecs share: MalformedXML with a reason, lenient
leaf reading, numbers, booleans, and ``encoding-type=url`` names.

Response decoders are lenient as the client always was: the root's name is not checked and a
missing element reads as "" (0 for a number, false for a flag), so a reply from real OSS that
leaves out an element still decodes. A number or flag that is present but not one is
MalformedXML: nothing but a value or ``OssError`` leaves a decoder.

``urllib.parse`` is imported only when a name is URL-encoded or decoded (CLI start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ossutil.wire import xml
from ossutil.wire.errors import OssError

if TYPE_CHECKING:
    from collections.abc import Callable
    from xml.etree.ElementTree import Element

URL = "url"  # the one encoding-type OSS knows


def malformed(reason: str, message: str | None = None, *, ec: str | None = None) -> OssError:
    """MalformedXML (OSS's fixed message unless ``message``); ``reason`` is kept for logs."""
    error = OssError.from_code("MalformedXML", message, ec=ec)
    error.reason = reason
    return error


def root(body: bytes, expected: str | None = None) -> Element:
    """The parsed document; with ``expected``, its root must have that name."""
    element = xml.parse(body)
    if expected is not None and xml.local_name(element.tag) != expected:
        raise malformed(f"root element must be {expected}")
    return element


def leaf(parent: Element | None, name: str) -> str:
    """Text of the child ``name``; "" when it (or ``parent``) is absent."""
    if parent is None:
        return ""
    return xml.text(parent, name) or ""


def optional(parent: Element, name: str) -> str | None:
    """Text of the child ``name``; None when absent."""
    return xml.text(parent, name)


def number(value: str | None, what: str) -> int:
    """An integer element (Python's ``int`` rules, as the client always read them); absent or
    empty is 0."""
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise malformed(f"{what} must be an integer") from None


def flag(value: str | None) -> bool:
    """``IsTruncated``-style flags: true (any case) or anything else false, as the client read
    them."""
    return (value or "").lower() == "true"


def boolean(value: bool) -> str:
    return "true" if value else "false"


def name_encoder(encoding_type: str) -> Callable[[str], str]:
    """How names are written: URL-encoded (every byte but letters, digits and ``_.-~``) when
    ``encoding_type`` is ``url``, else as they are."""
    if encoding_type != URL:
        return _same
    from urllib.parse import quote

    return lambda value: quote(value, safe="")


def name_decoder(encoding_type: str) -> Callable[[str], str]:
    """The inverse of ``name_encoder``."""
    if encoding_type != URL:
        return _same
    from urllib.parse import unquote

    return unquote


def _same(value: str) -> str:
    return value


def encoding_type_node(encoding_type: str) -> list[xml.Node]:
    """``<EncodingType>`` when there is one."""
    return [("EncodingType", encoding_type)] if encoding_type else []
