"""The date formats OSS uses on the wire (reference §8). Pure: callers pass the datetime.

- RFC 1123 GMT (``Date`` header, ExpireTime, CreationDate): ``Thu, 02 Jan 2025 03:04:05 GMT``
- ISO 8601 with milliseconds (LastModified in ListCname): ``2025-01-02T03:04:05.000Z``
- OpenSSL text (ValidStartDate / ValidEndDate): ``Jan 10 00:00:00 2025 GMT``; a one-digit day is
  padded with a space as OpenSSL's ``ASN1_TIME_print`` does (``Feb  1 00:00:00 2025 GMT``).
- V4 compact (``x-oss-date``): ``20250102T030405Z``
"""

from __future__ import annotations

from datetime import datetime, timezone

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def rfc1123(moment: datetime) -> str:
    """``Thu, 02 Jan 2025 03:04:05 GMT`` (locale-independent)."""
    m = _utc(moment)
    return (f"{_DAYS[m.weekday()]}, {m.day:02d} {_MONTHS[m.month - 1]} {m.year:04d} "
            f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} GMT")


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
    m = _utc(moment)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def parse_rfc1123(text: str) -> datetime:
    """Parse an HTTP date (RFC 1123; also RFC 850 and asctime as HTTP allows). ValueError if bad."""
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
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def parse_iso8601(text: str) -> datetime:
    """Parse ``2025-01-02T03:04:05.000Z`` (fraction optional)."""
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
