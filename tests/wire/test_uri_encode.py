"""The V4 canonical encoding is ``urllib.parse.quote`` without importing it (CLI start-up)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossutil.wire.signing import _uri_encode

SAFE_SETS = ["/-_.~", "-_.~", ""]


@pytest.mark.parametrize("safe", SAFE_SETS)
@given(text=st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_same_as_urllib_quote(safe: str, text: str) -> None:
    assert _uri_encode(text, safe) == quote(text, safe=safe)


@pytest.mark.parametrize(("text", "encoded"), [
    ("a b/c~d", "a%20b/c~d"), ("ü", "%C3%BC"), ("+=&?#%", "%2B%3D%26%3F%23%25"), ("", "")])
def test_known_values(text: str, encoded: str) -> None:
    assert _uri_encode(text, "/-_.~") == encoded


def test_lone_surrogates_are_refused_as_quote_refuses_them() -> None:
    with pytest.raises(UnicodeEncodeError):
        _uri_encode("\udcff", "")
    with pytest.raises(UnicodeEncodeError):
        quote("\udcff", safe="")
