"""The ``Range`` header of GetObject: one byte range, as OSS serves it (RFC 9110 §14).

    bytes=a-b   bytes a..b inclusive (b past the end is cut to the last byte)
    bytes=a-    from a to the end
    bytes=-n    the last n bytes (the whole object when n >= size)

A range that starts at or past the end (or ``-0``, or any range of an empty object) cannot be
satisfied: 416 ``InvalidRange``, as OSS answers with ``x-oss-range-behavior: standard``. A header
that is not one well-formed byte range (another unit, several ranges, ``b < a``, junk) is ignored
and the whole object is served with 200, which RFC 9110 allows and OSS does for multi-range.

Positions may have any number of digits (RFC 9110 §14.1.1: "anticipate potentially large
decimal numerals"): a last position or suffix length past the object is cut to it, a first
position past it is 416, and a numeral longer than 19 digits is never converted.
"""

from __future__ import annotations

import re

from ossutil.wire.errors import OssError
from ossutil.wire.numbers import INT64_MAX, compare_digits

_SPEC = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for a satisfiable range, None to serve the whole object."""
    if not header:
        return None
    match = _SPEC.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        length = _position(last_text)
        if length == 0 or size == 0:
            raise unsatisfiable(header, size)
        return max(0, size - length), size - 1
    first = _position(first_text)
    last = _position(last_text) if last_text else size - 1
    if last_text and compare_digits(last_text, first_text) < 0:
        return None
    if first >= size:
        raise unsatisfiable(header, size)
    return first, min(last, size - 1)


def _position(digits: str) -> int:
    """A position or length; past int64 it is INT64_MAX (beyond every object, so ordering and
    cutting to the object's size give the RFC's answer) without converting the numeral."""
    if compare_digits(digits, INT64_MAX) > 0:
        return INT64_MAX
    return int(digits.lstrip("0") or "0")  # int() counts leading zeros against its limit


def unsatisfiable(header: str, size: int) -> OssError:
    return OssError.from_code("InvalidRange", RangeRequested=header.strip(),
                              ActualObjectSize=str(size))
