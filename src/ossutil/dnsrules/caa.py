"""What a domain's CAA records allow (RFC 8659), for ``ossutil doctor`` and domain health.

The relevant record set is the first CAA answer found at the domain, then at each parent up to
(not including) the root (``records.parents``; each look-up follows CNAMEs as any query does).
None anywhere: every CA may issue. Within the set (a name that is not a wildcard):

- a record whose critical flag (128) is set and whose tag is unknown forbids issuance;
- no ``issue`` record: no restriction on issuance;
- otherwise a CA may issue only when an ``issue`` record names its identifier (the domain
  before any ``;`` parameters, case-insensitive); ``issue ";"`` names no CA at all.

For a wildcard name (``*.example.com``) ``issuewild`` records replace ``issue`` when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import dns.rdtypes.ANY.CAA

KNOWN_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "contactemail",
                        "contactphone", "issuevmc"})

Verdict = Literal["allowed", "forbidden", "restricted", "unknown"]


@dataclass(frozen=True)
class CaaRecord:
    flags: int
    tag: str
    value: str

    @property
    def issuer(self) -> str:
        """The CA identifier an issue/issuewild value names ("" for ``;``)."""
        return self.value.split(";", 1)[0].strip().lower()


def parse(text: str) -> CaaRecord:
    """One CAA record from presentation format (``0 issue "ca.example"``), as ``Records`` holds
    them."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.CAA

    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CAA, text)
    assert isinstance(rdata, dns.rdtypes.ANY.CAA.CAA)
    return from_rdata(rdata)


def from_rdata(rdata: dns.rdtypes.ANY.CAA.CAA) -> CaaRecord:
    """One CAA record from dnspython's rdata (an answer's item)."""
    return CaaRecord(int(rdata.flags), rdata.tag.decode("ascii", "replace").lower(),
                     rdata.value.decode("utf-8", "replace"))


@dataclass(frozen=True)
class CaaPolicy:
    """What the relevant set (at ``owner``; ``""`` when none was found) says.

    ``verdict``: ``allowed`` (no restriction, or ``ca`` is named), ``forbidden`` (no CA may
    issue, or ``ca`` is not named, or an unknown critical property), ``restricted`` (only
    ``issuers`` may: no ``ca`` was given to decide), ``unknown`` (the look-up failed)."""

    verdict: Verdict
    owner: str
    issuers: tuple[str, ...]
    detail: str


def evaluate(owner: str, records: Sequence[CaaRecord], ca: str = "", *,
             wildcard: bool = False) -> CaaPolicy:
    """The policy of the relevant set ``records`` found at ``owner`` for CA identifier ``ca``
    ("" when the CA is not known: the answer says which CAs may issue)."""
    if not owner or not records:
        return CaaPolicy("allowed", "", (), "no CAA record: any CA may issue")
    for record in records:
        if record.flags & 128 and record.tag not in KNOWN_TAGS:
            return CaaPolicy("forbidden", owner, (),
                             f"CAA at {owner} has an unknown critical property "
                             f"'{record.tag}': no CA may issue")
    tag = "issue"
    if wildcard and any(r.tag == "issuewild" for r in records):
        tag = "issuewild"
    issue = [r for r in records if r.tag == tag]
    if not issue:
        return CaaPolicy("allowed", owner, (), f"CAA at {owner} does not restrict issuance")
    issuers = tuple(sorted({r.issuer for r in issue if r.issuer}))
    if not issuers:
        return CaaPolicy("forbidden", owner, (),
                         f'CAA at {owner} forbids every CA ({tag} ";")')
    named = ", ".join(issuers)
    if not ca:
        return CaaPolicy("restricted", owner, issuers, f"CAA at {owner} allows only: {named}")
    if ca.lower() in issuers:
        return CaaPolicy("allowed", owner, issuers, f"CAA at {owner} allows {ca.lower()}")
    return CaaPolicy("forbidden", owner, issuers,
                     f"CAA at {owner} allows only {named}, not {ca.lower()}")
