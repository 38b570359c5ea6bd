"""Conditional reads: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.

Evaluated in RFC 9110 §13.2.2 order: If-Match (else If-Unmodified-Since) can fail with 412
``PreconditionFailed``; then If-None-Match (else If-Modified-Since) can answer 304 Not Modified.
ETags compare without quotes and case-insensitively (OSS ETags are uppercase hex; clients echo
them as they got them); ``*`` matches any object. An unparsable date is ignored, as RFC 9110 says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ossutil.server.models import ObjectMeta
from ossutil.wire import dates
from ossutil.wire.errors import OssError

NOT_MODIFIED = 304


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"').upper() for t in header.split(",")
            if t.strip()]


def _matches(header: str, meta: ObjectMeta) -> bool:
    tags = _tags(header)
    return "*" in tags or meta.etag.strip('"').upper() in tags


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return dates.parse_rfc1123(value)
    except ValueError:
        return None


def evaluate(headers: Mapping[str, str], meta: ObjectMeta) -> int | None:
    """None to serve the object, 304 for Not Modified; raises 412 PreconditionFailed.

    ``headers`` has lower-case names.
    """
    modified = meta.last_modified.replace(microsecond=0)
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _matches(if_match, meta):
            raise OssError.from_code("PreconditionFailed", Condition="If-Match")
    else:
        since = _date(headers.get("if-unmodified-since"))
        if since is not None and modified > since:
            raise OssError.from_code("PreconditionFailed", Condition="If-Unmodified-Since")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return NOT_MODIFIED if _matches(if_none_match, meta) else None
    since = _date(headers.get("if-modified-since"))
    if since is not None and modified <= since:
        return NOT_MODIFIED
    return None
