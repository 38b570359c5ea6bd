"""The DNS rules of the domain-ownership proof, shared by the server and the CLI.

The proof (reference ``oss-cname-api.md`` §5 rule 1, §9 "DNS proof") is a TXT record at
``_dnsauth.<domain>`` holding the bucket's CnameToken. ``ossutil.server.dns`` checks it at
PutCname time (async, inside the server); ``ossutil.cli.dnscheck`` asks the same question before
sending PutCname (``bucket-cname --check-dns``, synchronous). Both use these rules, so the CLI
never imports ``ossutil.server``:

    this package   dnsauth_name, holds, format_server, MAX_CNAME_HOPS (no imports: the CLI's
                   hint after a refused bind uses ``dnsauth_name`` without loading dnspython)
    txt.py         TxtAnswer, one look-up's CNAME chase and outcome (dnspython, imported only
                   with this module), the resolver configuration, the failure wording
"""

from __future__ import annotations

DNSAUTH_PREFIX = "_dnsauth."

#: How many CNAMEs a look-up follows, in total, before it gives up.
MAX_CNAME_HOPS = 8


def dnsauth_name(domain: str) -> str:
    """The name holding the proof: ``_dnsauth.`` + domain (a trailing dot is dropped)."""
    return DNSAUTH_PREFIX + domain.rstrip(".")


def holds(values: tuple[str, ...], token: str) -> bool:
    """Whether any TXT value is the token once its surrounding whitespace is stripped (any one
    of several records may match; an empty token never does)."""
    return bool(token) and any(value.strip() == token for value in values)


def format_server(address: str, port: int) -> str:
    """``127.0.0.1:53`` or ``[::1]:53``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
