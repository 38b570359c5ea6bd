"""Wire date formats (reference §8): exact strings, UTC handling, parse round trips, bad input."""

from __future__ import annotations

import re
import ssl
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossutil.wire.dates import (
    iso8601_ms,
    openssl_text,
    parse_iso8601,
    parse_rfc1123,
    parse_v4_timestamp,
    rfc1123,
    v4_timestamp,
)

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
CST = timezone(timedelta(hours=8))  # cn-hangzhou local time
MOMENT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

# --- exact strings ------------------------------------------------------------------------


@pytest.mark.parametrize(("moment", "expected"), [
    (MOMENT, "Thu, 02 Jan 2025 03:04:05 GMT"),
    (datetime(2025, 1, 5, 3, 4, 5, tzinfo=UTC), "Sun, 05 Jan 2025 03:04:05 GMT"),
    (datetime(2022, 5, 26, 19, 14, 12, tzinfo=UTC), "Thu, 26 May 2022 19:14:12 GMT"),
    (datetime(2023, 2, 27, 6, 51, 34, tzinfo=UTC), "Mon, 27 Feb 2023 06:51:34 GMT"),
    (datetime(2025, 2, 1, tzinfo=UTC), "Sat, 01 Feb 2025 00:00:00 GMT"),
    (datetime(1970, 1, 1, tzinfo=UTC), "Thu, 01 Jan 1970 00:00:00 GMT"),
    (datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "Fri, 31 Dec 2100 23:59:59 GMT"),
])
def test_rfc1123(moment: datetime, expected: str) -> None:
    assert rfc1123(moment) == expected


@pytest.mark.parametrize(("moment", "expected"), [
    (MOMENT, "2025-01-02T03:04:05.000Z"),
    (datetime(2021, 8, 26, 7, 25, 12, tzinfo=UTC), "2021-08-26T07:25:12.000Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2025-01-02T03:04:05.123Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2025-01-02T03:04:05.999Z"),  # truncated
    (datetime(2025, 1, 2, 3, 4, 5, 999, tzinfo=UTC), "2025-01-02T03:04:05.000Z"),
])
def test_iso8601_ms(moment: datetime, expected: str) -> None:
    assert iso8601_ms(moment) == expected


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2025, 1, 10, tzinfo=UTC), "Jan 10 00:00:00 2025 GMT"),
    (datetime(2026, 1, 10, tzinfo=UTC), "Jan 10 00:00:00 2026 GMT"),
    (datetime(2023, 2, 10, tzinfo=UTC), "Feb 10 00:00:00 2023 GMT"),
    (datetime(2025, 2, 1, tzinfo=UTC), "Feb  1 00:00:00 2025 GMT"),  # OpenSSL pads with a space
    (datetime(2025, 12, 9, 23, 59, 58, tzinfo=UTC), "Dec  9 23:59:58 2025 GMT"),
    (datetime(2025, 12, 31, 1, 2, 3, tzinfo=UTC), "Dec 31 01:02:03 2025 GMT"),
])
def test_openssl_text(moment: datetime, expected: str) -> None:
    assert openssl_text(moment) == expected


@pytest.mark.parametrize(("moment", "expected"), [
    (MOMENT, "20250102T030405Z"),
    (datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "20251231T235959Z"),
    (datetime(1970, 1, 1, tzinfo=UTC), "19700101T000000Z"),
])
def test_v4_timestamp(moment: datetime, expected: str) -> None:
    assert v4_timestamp(moment) == expected


FORMATTERS = [rfc1123, iso8601_ms, openssl_text, v4_timestamp]


@pytest.mark.parametrize("formatter", FORMATTERS)
def test_naive_datetimes_are_utc(formatter) -> None:
    assert formatter(MOMENT.replace(tzinfo=None)) == formatter(MOMENT)


@pytest.mark.parametrize("formatter", FORMATTERS)
def test_aware_datetimes_are_converted_to_utc(formatter) -> None:
    assert formatter(MOMENT.astimezone(CST)) == formatter(MOMENT)
    # 01:00 on the 1st in UTC+8 is the previous day (and year) in UTC
    new_year = datetime(2025, 1, 1, 1, 0, 0, tzinfo=CST)
    assert formatter(new_year) == formatter(datetime(2024, 12, 31, 17, tzinfo=UTC))


def test_aware_datetimes_exact_strings() -> None:
    new_year = datetime(2025, 1, 1, 1, 0, 0, tzinfo=CST)
    assert rfc1123(new_year) == "Tue, 31 Dec 2024 17:00:00 GMT"
    assert iso8601_ms(new_year) == "2024-12-31T17:00:00.000Z"
    assert openssl_text(new_year) == "Dec 31 17:00:00 2024 GMT"
    assert v4_timestamp(new_year) == "20241231T170000Z"


# --- properties ---------------------------------------------------------------------------

seconds = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31, 23, 59),
                       timezones=st.none() | st.just(UTC)).map(lambda d: d.replace(microsecond=0))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@PROPERTY
@given(seconds, offsets)
def test_parse_round_trips(moment: datetime, offset: timezone) -> None:
    expected = as_utc(moment)
    for shown in (moment, expected.astimezone(offset)):
        for formatter, parse in ((rfc1123, parse_rfc1123), (iso8601_ms, parse_iso8601),
                                 (v4_timestamp, parse_v4_timestamp)):
            parsed = parse(formatter(shown))
            assert parsed == expected
            assert parsed.utcoffset() == timedelta(0)


@PROPERTY
@given(seconds, st.integers(0, 999))
def test_iso8601_keeps_milliseconds(moment: datetime, millis: int) -> None:
    moment = moment.replace(microsecond=millis * 1000)
    assert parse_iso8601(iso8601_ms(moment)) == as_utc(moment)


@PROPERTY
@given(seconds)
def test_formats_agree_with_independent_implementations(moment: datetime) -> None:
    utc = as_utc(moment)
    assert rfc1123(moment) == format_datetime(utc, usegmt=True)
    # ssl.cert_time_to_seconds parses exactly OpenSSL's "%b %d %H:%M:%S %Y GMT" text.
    assert ssl.cert_time_to_seconds(openssl_text(moment)) == int(utc.timestamp())
    assert re.fullmatch(r"[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4} GMT", openssl_text(moment))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", iso8601_ms(moment))
    assert re.fullmatch(r"\d{8}T\d{6}Z", v4_timestamp(moment))


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "x", "now", "Thu, 02 Jan 2025", "Thu, 31 Feb 2025 03:04:05 GMT",
    "Thu, 02 Jan 2025 25:04:05 GMT", "Thu, 02 Jan 2025 03:04:60 GMT",
    "Thu, 02 Foo 2025 03:04:05 GMT", "Thu, 02 Jan 99999 03:04:05 GMT",
    "Thu, 02 Jan 2025 03:04:05 +99999999999999999999", "20250102T030405Z",
    "2025-01-02T03:04:05.000Z",
])
def test_parse_rfc1123_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc1123(text)


@pytest.mark.parametrize("text", [
    "", "20250102T030405", "20250102 030405Z", "2025-01-02T03:04:05Z", "20251302T030405Z",
    "20250132T030405Z", "20250102T240405Z", "20250102T036005Z", "20250102t030405z",
    "202501 2T030405Z", "20250102T 30405Z", "٢٠٢٥0102T030405Z", "２０２５0102T030405Z",
    "20250102T030405Z\n", " 20250102T030405Z", "Thu, 02 Jan 2025 03:04:05 GMT",
])
def test_parse_v4_timestamp_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_v4_timestamp(text)


@pytest.mark.parametrize("text", [
    "", "x", "Z", "ZZ", "2025-13-02T03:04:05Z", "2025-01-02T03:04:05.000ZZ",
    "Thu, 02 Jan 2025 03:04:05 GMT", "2025-01-02T25:04:05Z",
])
def test_parse_iso8601_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso8601(text)


def test_parse_rfc1123_accepts_what_http_allows() -> None:
    assert parse_rfc1123("Thu, 02 Jan 2025 03:04:05 GMT") == MOMENT
    assert parse_rfc1123("Thursday, 02-Jan-25 03:04:05 GMT") == MOMENT  # RFC 850
    assert parse_rfc1123("Thu Jan  2 03:04:05 2025") == MOMENT  # asctime
    assert parse_rfc1123("Thu, 02 Jan 2025 11:04:05 +0800") == MOMENT


@PROPERTY
@given(st.text(max_size=40) | st.from_regex(r"\A[0-9T Z:+\-.,a-zA-Z]{0,34}\Z"))
def test_parsers_give_a_datetime_or_value_error(text: str) -> None:
    for parse in (parse_rfc1123, parse_iso8601, parse_v4_timestamp):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        assert isinstance(parsed, datetime)
        assert parsed.utcoffset() == timedelta(0)


@PROPERTY
@given(st.from_regex(r"\A[0-9 ]{8}T[0-9 ]{6}Z\Z") | st.text(min_size=16, max_size=16))
def test_parse_v4_timestamp_accepts_only_the_canonical_form(text: str) -> None:
    try:
        parsed = parse_v4_timestamp(text)
    except ValueError:
        return
    assert v4_timestamp(parsed) == text


def _email_utils_reading(text: str) -> datetime | None:
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if parsed is None else parsed.astimezone(timezone.utc)


def _ours(text: str) -> datetime | None:
    try:
        return parse_rfc1123(text)
    except ValueError:
        return None


@pytest.mark.parametrize("text", [
    "Wed, 02 Dec 2026 08:29:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:49:60 GMT",
    "Sun, 06 Nov 0001 00:00:00 GMT", "Sun, 06 Nov 0099 00:00:00 GMT",
    "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
    "Sun, \u0660\u0666 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
])
def test_the_fixdate_fast_path_reads_as_email_utils(text: str) -> None:
    """The field-by-field reading of IMF-fixdate decides exactly as email.utils does, on the
    edges where a naive reading would not (two-digit-style years, impossible days, 24:00)."""
    assert _ours(text) == _email_utils_reading(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["Mon", "Sun", "Xyz"]), st.text("0123456789", min_size=2, max_size=2),
       st.sampled_from(["Jan", "Feb", "Dec", "Foo"]), st.text("0123456789", min_size=4,
                                                             max_size=4),
       st.text("0123456789:", min_size=8, max_size=8))
def test_fixdate_shapes_read_as_email_utils(day_name: str, day: str, month: str, year: str,
                                            clock: str) -> None:
    text = f"{day_name}, {day} {month} {year} {clock} GMT"
    assert _ours(text) == _email_utils_reading(text)
