"""The XML replies every handler sends: one place for their Content-Type and for what a
listing does with a name XML cannot carry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from ossutil.wire.errors import OssError
from ossutil.wire.xml import UnwritableXmlError

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
        raise OssError.from_code(
            "InvalidArgument", "A key in this listing has characters XML cannot carry; list "
            "with encoding-type=url.", ArgumentName="encoding-type") from None
