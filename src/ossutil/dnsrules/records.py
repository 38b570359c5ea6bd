"""Where a domain points, and what its CAA records allow: the look-ups of domain health (the
server's ``server/health``) and of ``ossutil doctor`` (the CLI), by the rules of ``txt.py``.

``RecordChase`` is ``TxtChase`` for any record type (A, AAAA, CAA): ask for ``qname``, follow
CNAMEs (inside one answer, or one the answering server left for another zone), at most
``MAX_CNAME_HOPS``, loops refused, nothing cached. It keeps the chain it walked, so the caller
can say which names the domain is an alias of. It does no I/O: the server drives it with
``dns.asyncresolver`` (never blocking the event loop), the CLI with ``dns.resolver``.

An answer is a ``Records``: ``chain`` is the asked name then each CNAME target, in order;
``values`` the records at the end of the chain in presentation format (an address for A/AAAA,
``0 issue "ca.example"`` for CAA); ``outcome`` one of ``txt.Outcome``'s four.

``pointing.py`` (no dnspython) decides from a chain and its addresses whether a domain points at
a service; ``caa.py`` decides what a CAA record set allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from ossutil.dnsrules import MAX_CNAME_HOPS
from ossutil.dnsrules.txt import Outcome, _chain_targets, _targets, errors_detail


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


@dataclass(frozen=True)
class Records:
    """The records of one type at ``name`` (after CNAMEs); see the module docstring."""

    name: str
    rdtype: str  # "A", "AAAA", "CAA"
    outcome: Outcome
    chain: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    detail: str = ""

    @property
    def target(self) -> str:
        """The name the chain ends on (the name itself without a CNAME)."""
        return self.chain[-1] if self.chain else self.name


class RecordChase:
    """The CNAME chase of one look-up of ``rdtype`` (see ``txt.TxtChase``, the same rules)."""

    def __init__(self, shown: str, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> None:
        self.shown = shown
        self.qname = qname
        self.rdtype = rdtype
        self.chain = [qname]

    @classmethod
    def begin(cls, resolver: dns.resolver.BaseResolver, name: str, rdtype: str,
              config_error: str = "") -> RecordChase | Records:
        """The chase for ``name``, or the failure that stops it before any query."""
        shown = name.rstrip(".").lower() if name != "." else name
        if config_error:
            return Records(shown, rdtype, "failure", (shown,), detail=config_error)
        if not resolver.nameservers:
            return Records(shown, rdtype, "failure", (shown,), detail="no DNS servers configured")
        try:
            qname = dns.name.from_text(name, origin=dns.name.root)
        except (dns.exception.DNSException, UnicodeError) as exc:
            return Records(shown, rdtype, "failure", (shown,),
                           detail=f"invalid name {name!r}: {exc}")
        return cls(shown, qname, dns.rdatatype.from_text(rdtype))

    def _answer(self, outcome: Outcome, values: tuple[str, ...] = (),
                detail: str = "") -> Records:
        return Records(self.shown, dns.rdatatype.to_text(self.rdtype), outcome,
                       tuple(_text(n) for n in self.chain), values, detail)

    def after(self, resolver: dns.resolver.BaseResolver,
              result: dns.resolver.Answer | dns.exception.DNSException) -> Records | None:
        """The answer once ``result`` came back, or None: ask for ``self.qname`` next."""
        if isinstance(result, dns.resolver.NXDOMAIN):
            return self._answer("nxdomain")
        if isinstance(result, dns.resolver.NoAnswer):
            targets = _chain_targets(result.kwargs.get("response"))
            if not targets:
                return self._answer("nodata")
            for target in targets:
                if target in self.chain:
                    loop = " -> ".join(_text(n) for n in [*self.chain, target])
                    return self._answer("failure", detail=f"CNAME loop: {loop}")
                self.chain.append(target)
            if len(self.chain) - 1 > MAX_CNAME_HOPS:
                return self._answer("failure", detail=self._too_long())
            self.qname = self.chain[-1]
            return None
        if isinstance(result, dns.resolver.NoNameservers):
            return self._answer("failure",
                                detail=errors_detail(resolver, result.kwargs.get("errors", [])))
        if isinstance(result, dns.exception.DNSException):
            return self._answer("failure", detail=f"{type(result).__name__}: {result}")
        self.chain.extend(_targets(result.chaining_result.cnames))
        if len(self.chain) - 1 > MAX_CNAME_HOPS:
            return self._answer("failure", detail=self._too_long())
        rrset = result.rrset
        values = tuple(sorted(rd.to_text() for rd in rrset)) if rrset is not None else ()
        if not values:
            return self._answer("nodata")
        return self._answer("found", values)

    def _too_long(self) -> str:
        chain = " -> ".join(_text(n) for n in self.chain)
        return f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {chain}"


def parents(domain: str) -> list[str]:
    """``domain`` and each parent up to (not including) the root: where RFC 8659 §3 looks for
    the relevant CAA record set, in order."""
    labels = domain.rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def merge_addresses(answers: Sequence[Records]) -> tuple[str, ...]:
    """Every address found by the A and AAAA answers, sorted, without duplicates."""
    found = {value for answer in answers if answer.outcome == "found" for value in answer.values}
    return tuple(sorted(found))
