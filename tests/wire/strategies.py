"""Hypothesis strategies the codec tests share: text XML can carry, and the names a listing
carries (with ``encoding-type=url`` any character the URL encoding can write)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Every character XML 1.0 can carry (§2.2 Char), with markup characters and whitespace likely.
XML_CHAR = st.one_of(
    st.sampled_from(list("\t\n\r <>&'\"]%+/")),
    st.characters(min_codepoint=0x20, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFD),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
xml_text = st.text(XML_CHAR, max_size=20)
# What a URL-encoded name may hold: anything UTF-8 can (no lone surrogates), controls too.
url_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
counts = st.integers(0, 10**6)


def names(encoding_type: str) -> st.SearchStrategy[str]:
    return url_text if encoding_type == "url" else xml_text


encoding_types = st.sampled_from(["", "url"])
