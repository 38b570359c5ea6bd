"""Integers a client sends (query values, headers, XML fields), read one way everywhere.

A client may send a number of any length: ``max-keys=99999999999999999999999``, a 5,000-digit
``partNumber`` (which ``int()`` refuses with ValueError past 4,300 digits), ``+5``, ``٣`` (a
non-ASCII digit ``str.isdigit`` accepts), `` 7``. Only ASCII digits are a number here; the value
is compared with the bounds by its length before any conversion, so no input costs more than
reading it once, and an out-of-range or malformed value is OSS's 400 ``InvalidArgument`` (or the
code the caller names), never a 500.
"""

from __future__ import annotations

from ossutil.wire.errors import OssError

INT64_MAX = (1 << 63) - 1
# What an error echoes of a bad value: enough to recognise it, never a 5,000-digit wall.
_ECHO_LIMIT = 64


def ascii_digits(text: str) -> bool:
    """``text`` is one or more of ``0``-``9`` (nothing else: no sign, space or other digits)."""
    return text.isascii() and text.isdigit()


def compare_digits(text: str, other: str | int) -> int:
    """-1, 0 or 1 as the decimal ``text`` (ASCII digits) is below, at or above ``other`` (ASCII
    digits, or an int >= 0), without converting a long numeral."""
    significant = text.lstrip("0") or "0"
    bound = str(other).lstrip("0") or "0"
    if len(significant) != len(bound):
        return -1 if len(significant) < len(bound) else 1
    return (significant > bound) - (significant < bound)


def parse_int(text: str | None, name: str, low: int, high: int, *, default: int | None = None,
              code: str = "InvalidArgument", message: str | None = None,
              **details: str) -> int:
    """``text`` as an integer in ``low..high``; ``default`` when absent or empty (if given).

    Anything else raises ``OssError(code)`` (400 InvalidArgument unless told) with
    ``message`` (default: "<name> must be an integer from <low> to <high>.") and, unless
    ``details`` are given, ``ArgumentName``/``ArgumentValue`` (the value cut to 64 characters).
    """
    if not text and default is not None:
        return default
    value = text or ""
    if ascii_digits(value) and compare_digits(value, high) <= 0 \
            and compare_digits(value, low) >= 0:
        return int(value.lstrip("0") or "0")  # int() counts leading zeros against its limit
    if not details:
        details = {"ArgumentName": name, "ArgumentValue": echo(value)}
    raise OssError.from_code(code, message or f"{name} must be an integer from {low} to {high}.",
                             **details)


def echo(value: str) -> str:
    """A client's value as an error may quote it: at most 64 characters, then ``...``."""
    return value if len(value) <= _ECHO_LIMIT else value[:_ECHO_LIMIT] + "..."
