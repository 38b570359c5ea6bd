"""The date formats OSS uses on the wire (reference §8). Pure: callers pass the datetime.

- RFC 1123 GMT (``Date`` header, ExpireTime, CreationDate): ``Thu, 02 Jan 2025 03:04:05 GMT``
- ISO 8601 with milliseconds (LastModified in ListCname): ``2025-01-02T03:04:05.000Z``
- OpenSSL text (ValidStartDate / ValidEndDate): ``Jan 10 00:00:00 2025 GMT``; a one-digit day is
  padded with a space as OpenSSL's ``ASN1_TIME_print`` does (``Feb  1 00:00:00 2025 GMT``).
- V4 compact (``x-oss-date``): ``20250102T030405Z``
"""

from __future__ import annotations

# ``datetime`` is imported where it is used: the CLI formats its Date header from
# ``time.gmtime()`` with ``*_fields`` and so never loads it (~1.5 ms of its start-up)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from time import struct_time

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _utc(moment: datetime) -> datetime:
    from datetime import timezone

    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def rfc1123(moment: datetime) -> str:
    """``Thu, 02 Jan 2025 03:04:05 GMT`` (locale-independent)."""
    return rfc1123_fields(_utc(moment).timetuple())


def rfc1123_fields(fields: struct_time) -> str:
    """``rfc1123`` of UTC fields (``time.gmtime()``, or ``utc_fields(moment)``)."""
    return (f"{_DAYS[fields.tm_wday]}, {fields.tm_mday:02d} {_MONTHS[fields.tm_mon - 1]} "
            f"{fields.tm_year:04d} {fields.tm_hour:02d}:{fields.tm_min:02d}:"
            f"{fields.tm_sec:02d} GMT")


def utc_fields(moment: datetime) -> struct_time:
    """``moment`` in UTC as ``time.gmtime()`` gives the current time (a naive one is UTC)."""
    return _utc(moment).timetuple()


def iso8601_ms(moment: datetime) -> str:
    """``2025-01-02T03:04:05.000Z``."""
    m = _utc(moment)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{m.microsecond // 1000:03d}Z")


def openssl_text(moment: datetime) -> str:
    """``Jan 10 00:00:00 2025 GMT`` (day space-padded to two characters)."""
    m = _utc(moment)
    return (f"{_MONTHS[m.month - 1]} {m.day:2d} {m.hour:02d}:{m.minute:02d}:{m.second:02d} "
            f"{m.year:04d} GMT")


def v4_timestamp(moment: datetime) -> str:
    """``20250102T030405Z``."""
    return v4_timestamp_fields(_utc(moment).timetuple())


def v4_timestamp_fields(fields: struct_time) -> str:
    """``v4_timestamp`` of UTC fields."""
    return (f"{fields.tm_year:04d}{fields.tm_mon:02d}{fields.tm_mday:02d}T"
            f"{fields.tm_hour:02d}{fields.tm_min:02d}{fields.tm_sec:02d}Z")


def parse_rfc1123(text: str) -> datetime:
    """Parse an HTTP date (RFC 1123; also RFC 850 and asctime as HTTP allows). ValueError if bad.

    The form every client sends, ``Sun, 06 Nov 1994 08:49:37 GMT``, is read field by field
    (a signed request's Date is parsed on every call); any other text goes to
    ``email.utils``, which decides as before."""
    parts = text.split(" ")
    if len(parts) == 6 and parts[5] == "GMT" and len(parts[0]) == 4 and parts[0][3] == ",":
        day, month, year, clock = parts[1], parts[2], parts[3], parts[4]
        if (len(day) == 2 and len(year) == 4 and year[0] != "0" and len(clock) == 8
                and clock[2] == ":"
                and clock[5] == ":" and month in _MONTHS
                and (day + year + clock[:2] + clock[3:5] + clock[6:]).isdigit()
                and (day + year + clock).isascii()):
            from datetime import datetime, timezone

            try:
                return datetime(int(year), _MONTHS.index(month) + 1, int(day), int(clock[:2]),
                                int(clock[3:5]), int(clock[6:]), tzinfo=timezone.utc)
            except ValueError:
                pass  # e.g. 31 Feb or 24:00:00: whatever email.utils says
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise ValueError(f"not an HTTP date: {text!r}") from exc
    if parsed is None:
        raise ValueError(f"not an HTTP date: {text!r}")
    return _utc(parsed)


def parse_v4_timestamp(text: str) -> datetime:
    """Parse ``yyyymmddTHHMMSSZ``. ValueError if bad."""
    # strptime alone would also take non-ASCII digits and a space-padded day ("202501 2T...").
    # (no ``re``: this module is on the CLI's start-up path)
    if not (len(text) == 16 and text[8] == "T" and text[15] == "Z"
            and all("0" <= c <= "9" for c in text[:8] + text[9:15])):
        raise ValueError(f"not an x-oss-date: {text!r}")
    from datetime import datetime, timezone

    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def parse_iso8601(text: str) -> datetime:
    """Parse ``2025-01-02T03:04:05.000Z`` (fraction optional)."""
    from datetime import datetime

    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
