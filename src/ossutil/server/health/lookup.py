"""A/AAAA look-ups for domain health: ``dnsrules.records``' chase driven by
``dns.asyncresolver`` under an exact deadline (the event loop never waits on DNS), with the
resolver configuration of the ownership check (``dnsrules.txt.configure``: the same servers,
no cache)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.rdataclass
import dns.resolver

from ossutil.dnsrules import txt as rules
from ossutil.dnsrules.records import RecordChase, Records


class RecordLookup:
    """Records of one type at a name, CNAMEs followed; never raises for DNS trouble."""

    def __init__(self, nameservers: Sequence[tuple[str, int]] | None = None, *,
                 timeout: float = 2.0, lifetime: float = 4.0) -> None:
        self.lifetime = lifetime
        self._resolver, self._config_error = rules.configure(
            dns.asyncresolver.Resolver, nameservers, timeout=timeout, lifetime=lifetime)

    async def records(self, name: str, rdtype: str) -> Records:
        chase = RecordChase.begin(self._resolver, name, rdtype, self._config_error)
        if isinstance(chase, Records):
            return chase
        started = time.monotonic()
        deadline = started + self.lifetime
        while True:
            remaining = deadline - time.monotonic()
            result: dns.resolver.Answer | dns.exception.DNSException
            try:
                if remaining <= 0:
                    raise TimeoutError
                async with asyncio.timeout(remaining):
                    result = await self._resolver.resolve(
                        chase.qname, chase.rdtype, dns.rdataclass.IN, search=False,
                        lifetime=remaining)
            except (TimeoutError, dns.resolver.LifetimeTimeout):
                servers = ", ".join(rules.servers(self._resolver)) or "no server"
                return Records(chase.shown, rdtype, "failure", (chase.shown,),
                               detail=f"timed out after {time.monotonic() - started:.1f} s "
                                      f"asking {servers}")
            except dns.exception.DNSException as exc:
                result = exc
            answer = chase.after(self._resolver, result)
            if answer is not None:
                return answer

    async def addresses(self, name: str) -> tuple[Records, Records]:
        """The A and AAAA answers for ``name``, asked at once."""
        a, aaaa = await asyncio.gather(self.records(name, "A"), self.records(name, "AAAA"))
        return a, aaaa
