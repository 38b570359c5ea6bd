"""The CAA check before an order (RFC 8659): may this CA issue for this name?

The relevant record set is the first CAA answer at the domain or one of its parents (not the
root). A set with ``issue`` records allows only the CAs they name (``issue ";"`` none); an
unknown tag marked critical forbids everything. The CA's identities come from its directory
(``meta.caaIdentities``) or ``--acme-caa-identity``; a CA that names none can only be refused
by ``issue ";"`` or a critical unknown tag.

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

from ossutil.dnsrules import txt as rules

KNOWN_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "contactemail",
                        "contactphone", "issuevmc"})


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
        """Return when the CA may issue for ``domain``; else ``CaaForbidden``."""
        owner, records = await self._relevant(domain)
        if not records:
            return
        for flags, tag, _ in records:
            if flags & 128 and tag not in KNOWN_TAGS:
                raise CaaForbidden(f"the CAA record at {owner} has an unknown critical "
                                   f"property '{tag}': no CA may issue for {domain}")
        issuers = {value.split(";", 1)[0].strip().lower()
                   for _, tag, value in records if tag == "issue"}
        if not issuers:
            return  # no issue property: no restriction
        named = sorted(i for i in issuers if i)
        if not named:
            raise CaaForbidden(f'the CAA record at {owner} (issue ";") forbids every CA for '
                               f"{domain}")
        wanted = {i.lower() for i in identities}
        if wanted and not wanted & set(named):
            raise CaaForbidden(
                f"the CAA records at {owner} allow only {', '.join(named)} to issue for "
                f"{domain}, not this CA ({', '.join(sorted(wanted))}); add "
                f'"0 issue \\"{sorted(wanted)[0]}\\"" at {owner}')

    async def _relevant(self, domain: str) -> tuple[str, list[tuple[int, str, str]]]:
        if self._config_error:
            raise CaaForbidden(f"CAA for {domain} could not be read: {self._config_error}")
        labels = domain.rstrip(".").split(".")
        for start in range(len(labels)):
            name = ".".join(labels[start:])
            try:
                async with asyncio.timeout(self._lifetime):
                    answer = await self._resolver.resolve(name, dns.rdatatype.CAA,
                                                          search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except (TimeoutError, dns.exception.DNSException) as exc:
                raise CaaForbidden(f"CAA at {name} could not be read ({type(exc).__name__}); "
                                   "a CA does not issue then") from None
            return name, [(int(r.flags), r.tag.decode("ascii", "replace").lower(),
                           r.value.decode("utf-8", "replace")) for r in answer]
        return "", []
