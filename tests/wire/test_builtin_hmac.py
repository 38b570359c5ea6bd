"""Signing's HMAC over CPython's built-in SHA modules equals the standard library's ``hmac``
(it exists so the CLI need not load OpenSSL to sign)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossutil.wire.signing import _hash, _hmac


@pytest.mark.parametrize("name", ["sha1", "sha256"])
@given(key=st.binary(max_size=200), message=st.binary(max_size=500))
def test_same_as_hmac(name: str, key: bytes, message: bytes) -> None:
    expected = hmac.new(key, message, getattr(hashlib, name))
    got = _hmac(key, message, name)
    assert (got.digest(), got.hexdigest()) == (expected.digest(), expected.hexdigest())


@pytest.mark.parametrize("name", ["sha1", "sha256"])
@pytest.mark.parametrize("key_size", [0, 63, 64, 65, 128])  # around the 64-byte block
def test_block_boundaries(name: str, key_size: int) -> None:
    key = bytes(range(key_size))
    assert _hmac(key, b"data", name).digest() == hmac.new(key, b"data",
                                                          getattr(hashlib, name)).digest()


@pytest.mark.parametrize("name", ["sha1", "sha256"])
def test_hash_is_the_same_digest(name: str) -> None:
    assert _hash(name)(b"abc").hexdigest() == getattr(hashlib, name)(b"abc").hexdigest()
