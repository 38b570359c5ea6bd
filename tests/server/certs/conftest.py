"""Fixtures for the certificate tests: one CA for the whole session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# ``tests.support`` is a namespace package under the repository root; make it importable when
# pytest is started as ``pytest`` (not ``python -m pytest``) and nothing else put the root on
# sys.path.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.certs import CertFactory  # noqa: E402


@pytest.fixture(scope="session")
def certs() -> CertFactory:
    """Leaf certificates signed by a session-wide trustme CA."""
    return CertFactory()
