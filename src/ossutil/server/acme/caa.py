"""The CAA check before an order (RFC 8659): may this CA issue for this name?

The relevant record set is the first CAA answer at the domain or one of its parents (not the
root); what it allows is ``dnsrules.caa.evaluate``'s rule (shared with ``ossutil doctor`` and
domain health). The CA's identities come from ``--acme-caa-identity`` or its directory
(``meta.caaIdentities``); for a CA that names none, only a set that forbids every CA (``issue
";"``, a critical unknown tag) refuses.

Look-ups use dnspython's async resolver with the server's ``--dns-server`` list, so the event
loop never waits. A failed look-up (SERVFAIL, timeout) refuses the order for now: a CA must
not issue when CAA cannot be read (RFC 8659 §3), so ordering would only fail there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from ossutil.dnsrules import caa
from ossutil.dnsrules import txt as rules
from ossutil.dnsrules.records import parents


class CaaForbidden(Exception):
    """The CAA records forbid the CA, or could not be read; ``str()`` says which and where."""


class CaaCheck:
    def __init__(self, nameservers: Sequence[tuple[str, int]] | None, *,
                 timeout: float = 2.0, lifetime: float = 4.0) -> None:
        self._resolver, self._config_error = rules.configure(
            dns.asyncresolver.Resolver, nameservers or None, timeout=timeout,
            lifetime=lifetime)
        self._lifetime = lifetime

    async def check(self, domain: str, identities: Sequence[str]) -> None:
        """Return when the CA may issue for ``domain``; else ``CaaForbidden``. The records'
        meaning is ``dnsrules.caa.evaluate``'s, the rule ``ossutil doctor`` applies too."""
        owner, records = await self._relevant(domain)
        policies = [caa.evaluate(owner, records, ca) for ca in identities or ("",)]
        if any(policy.verdict != "forbidden" for policy in policies):
            return
        advice = ""
        if identities and policies[0].issuers:
            advice = f'; add "0 issue \\"{identities[0].lower()}\\"" at {owner}'
        raise CaaForbidden(f"{policies[0].detail}: no certificate is ordered for {domain}"
                           f"{advice}")

    async def _relevant(self, domain: str) -> tuple[str, list[caa.CaaRecord]]:
        if self._config_error:
            raise CaaForbidden(f"CAA for {domain} could not be read: {self._config_error}")
        for name in parents(domain):
            try:
                async with asyncio.timeout(self._lifetime):
                    answer = await self._resolver.resolve(name, dns.rdatatype.CAA,
                                                          search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except (TimeoutError, dns.exception.DNSException) as exc:
                raise CaaForbidden(f"CAA at {name} could not be read ({type(exc).__name__}); "
                                   "a CA does not issue then") from None
            return name, [caa.from_rdata(r) for r in answer]
        return "", []
