"""The domain-ownership proof checked by PutCname (reference §5 rule 1, §9 "DNS proof").

The owner of DOMAIN publishes the token from CreateCnameToken as a TXT record at
``_dnsauth.DOMAIN``. The value must equal the token exactly once its surrounding whitespace is
stripped; the record's character-strings are joined first and CNAMEs are followed (the lookup
does both). Without the proof PutCname fails with 403 NeedVerifyDomainOwnership, whose message
gets one sentence saying what DNS showed, so the user knows what to fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ossutil.dnsrules import DNSAUTH_PREFIX, dnsauth_name, holds
from ossutil.wire.errors import CATALOG, OssError

if TYPE_CHECKING:  # the protocol only; importing this module does not load dnspython
    from ossutil.server.dns.lookup import TxtLookup

__all__ = ["DNSAUTH_PREFIX", "dnsauth_name", "verify_ownership"]

_CODE = "NeedVerifyDomainOwnership"


# checks by outcome, for /-/metrics (this process's; the event loop's thread only)
OUTCOMES = {"proved": 0, "mismatch": 0, "no_record": 0, "lookup_failed": 0}


async def verify_ownership(lookup: TxtLookup, domain: str, token: str) -> None:
    """Return if a TXT value at ``_dnsauth.<domain>`` equals ``token``; raise otherwise.

    Raises ``OssError("NeedVerifyDomainOwnership")`` with the default OSS message followed by
    one sentence for the case seen: no record, only other values (counted, never shown: they
    may be another bucket's tokens), or a failed look-up (with its detail). Nothing is cached:
    each call asks again (reference §15 item 11).
    """
    name = dnsauth_name(domain)
    answer = await lookup.lookup_txt(name)
    if answer.outcome == "found":
        if holds(answer.values, token):
            OUTCOMES["proved"] += 1
            return
        OUTCOMES["mismatch"] += 1
        count = len(answer.values)
        others = f"{count} other value" + ("" if count == 1 else "s")
        reason = (
            f"The TXT record at {name} does not contain the token of this bucket "
            f"(found {others})."
        )
    elif answer.outcome == "failure":
        OUTCOMES["lookup_failed"] += 1
        detail = answer.detail.rstrip(".") or "no answer"
        reason = f"DNS lookup of TXT {name} failed: {detail}."
    else:  # "nxdomain" or "nodata"
        OUTCOMES["no_record"] += 1
        reason = f"No TXT record found at {name}."
    raise OssError.from_code(_CODE, f"{CATALOG[_CODE].message} {reason}")
