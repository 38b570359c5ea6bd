"""The XML replies every handler sends: one place for their Content-Type and for what a
listing does with a name XML cannot carry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from aiohttp import web

from ossutil.wire.errors import OssError
from ossutil.wire.xml import UnwritableXmlError, check_xml_text

T = TypeVar("T")


def xml_response(body: bytes) -> web.Response:
    """A 200 reply carrying an encoded OSS document."""
    return web.Response(body=body, headers={"Content-Type": "application/xml"})


def listing_response(encode: Callable[[T], bytes], document: T) -> web.Response:
    """``xml_response(encode(document))`` for documents that carry object keys: a key with a
    character XML cannot carry is 400 InvalidArgument asking for ``encoding-type=url`` (OSS's
    own advice), never an ill-formed document."""
    try:
        return xml_response(encode(document))
    except UnwritableXmlError:
        raise _unwritable() from None


def require_writable(keys: Iterable[str], encoding: str) -> None:
    """For an operation whose reply names ``keys`` (Initiate/CompleteMultipartUpload, a verbose
    DeleteMultipleObjects): refuse, before anything is written or deleted, a key the reply
    could not carry without ``encoding-type=url`` (else the change would be made and then
    answered with an error)."""
    if encoding:
        return
    try:
        for key in keys:
            check_xml_text(key)
    except UnwritableXmlError:
        raise _unwritable() from None


def _unwritable() -> OssError:
    return OssError.from_code(
        "InvalidArgument", "A key in this request or reply has characters XML cannot carry; "
        "use encoding-type=url.", ArgumentName="encoding-type")
