"""``wire.numbers``: one bounded integer parser for every number a client sends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossutil.wire import numbers
from ossutil.wire.errors import OssError


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=5))
def test_in_range_values_read_as_int(value: int, zeros: int) -> None:
    high = 10**30
    assert numbers.parse_int("0" * zeros + str(value), "n", 0, high) == value


@given(st.text(max_size=40))
def test_anything_else_is_invalid_argument_or_a_number(text: str) -> None:
    try:
        value = numbers.parse_int(text, "n", 1, 1000)
    except OssError as error:
        assert (error.code, error.status) == ("InvalidArgument", 400)
        assert error.details["ArgumentName"] == "n"
        return
    assert text.isascii() and text.isdigit() and 1 <= value <= 1000


@pytest.mark.parametrize("text", ["9" * 5000, "0" * 5000 + "1001", "+1", "-1", " 1", "1 ",
                                  "١", "²", "1_000", "0x10", "1e3", ""])
def test_refused(text: str) -> None:
    with pytest.raises(OssError) as caught:
        numbers.parse_int(text, "max-keys", 1, 1000)
    assert caught.value.code == "InvalidArgument"
    assert len(caught.value.details["ArgumentValue"]) <= 67


def test_leading_zeros_past_the_int_limit() -> None:
    assert numbers.parse_int("0" * 5000 + "7", "n", 1, 1000) == 7


def test_default_for_absent_or_empty() -> None:
    assert numbers.parse_int(None, "n", 1, 10, default=5) == 5
    assert numbers.parse_int("", "n", 1, 10, default=5) == 5


def test_code_and_details_can_be_the_callers() -> None:
    with pytest.raises(OssError) as caught:
        numbers.parse_int("0", "PartNumber", 1, 10, code="InvalidPart", message="m",
                          PartNumber="0")
    assert (caught.value.code, caught.value.message) == ("InvalidPart", "m")
    assert caught.value.details == {"PartNumber": "0"}


@given(st.integers(min_value=0), st.integers(min_value=0))
def test_compare_digits_orders_like_int(a: int, b: int) -> None:
    assert numbers.compare_digits("00" + str(a), b) == (a > b) - (a < b)
