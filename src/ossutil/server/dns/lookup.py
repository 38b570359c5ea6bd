"""TXT look-ups for the domain-ownership proof: the ``TxtLookup`` protocol and its dnspython
implementation.

The proof (reference §5 rule 1, §9 "DNS proof") is a TXT record at ``_dnsauth.<domain>``. The
look-up rules and the four outcomes (``found``, ``nxdomain``, ``nodata``, ``failure``) live in
``ossutil.dnsrules.txt``, shared with the CLI's ``--check-dns``; this module drives them with
``dns.asyncresolver`` under an exact deadline.

Nothing is ever cached between calls (reference §15 item 11): a user who publishes the record
after a failed bind retries at once and must succeed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

import dns.asyncresolver
import dns.exception
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from ossutil.dnsrules import MAX_CNAME_HOPS, format_server, parse_server
from ossutil.dnsrules import txt as rules
from ossutil.dnsrules.txt import Outcome, TxtAnswer, TxtChase, txt_value

__all__ = ["MAX_CNAME_HOPS", "DnspythonTxtLookup", "Outcome", "TxtAnswer", "TxtLookup",
           "format_server", "parse_nameserver", "txt_value"]


class TxtLookup(Protocol):
    """Answers "which TXT records are at this name?" without blocking the event loop."""

    async def lookup_txt(self, name: str) -> TxtAnswer:
        """Look up the TXT records at ``name`` (following CNAMEs); never raises for DNS errors."""
        ...


def parse_nameserver(text: str) -> tuple[str, int]:
    """A ``--dns-server`` address as ``(ip, port)``: ``dnsrules.parse_server``, the rule the
    CLI's ``--check-dns`` reads its ``--dns-server`` with too (``ValueError`` if bad)."""
    return parse_server(text)


class DnspythonTxtLookup:
    """``TxtLookup`` over ``dns.asyncresolver``: no cache, TCP on truncation, bounded time.

    ``nameservers`` ``None`` uses the system configuration (``/etc/resolv.conf``), read once here;
    otherwise exactly those ``(ip, port)`` pairs are asked. ``timeout`` bounds one query to one
    server, ``lifetime`` the whole look-up including every CNAME hop.
    """

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]] | None = None,
        *,
        timeout: float = 2.0,
        lifetime: float = 4.0,
    ) -> None:
        self.timeout = timeout
        self.lifetime = lifetime
        # A host without resolv.conf (or with no nameserver line) fails at look-up time, like
        # any other "no usable answer", instead of refusing to start.
        self._resolver, self._config_error = rules.configure(
            dns.asyncresolver.Resolver, nameservers, timeout=timeout, lifetime=lifetime)

    @property
    def servers(self) -> tuple[str, ...]:
        """The servers asked, as ``ip:port`` text (for messages and logs)."""
        return rules.servers(self._resolver)

    async def lookup_txt(self, name: str) -> TxtAnswer:
        """Look up TXT at ``name``, following CNAME chains up to ``MAX_CNAME_HOPS`` hops.

        A chain inside one response is followed by dnspython; a response that stops at a CNAME
        whose target it does not answer for is followed by a new query for the target.
        """
        chase = TxtChase.begin(self._resolver, name, self._config_error)
        if isinstance(chase, TxtAnswer):
            return chase
        started = time.monotonic()
        deadline = started + self.lifetime
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TxtAnswer(chase.shown, "failure",
                                 detail=self._timeout_detail(self.lifetime))
            result: dns.resolver.Answer | dns.exception.DNSException
            try:
                # dnspython's own lifetime check runs between attempts and can overshoot by its
                # back-off sleeps; asyncio.timeout makes the bound exact.
                async with asyncio.timeout(remaining):
                    result = await self._resolver.resolve(
                        chase.qname,
                        dns.rdatatype.TXT,
                        dns.rdataclass.IN,
                        search=False,
                        lifetime=remaining,
                    )
            except (TimeoutError, dns.resolver.LifetimeTimeout):
                elapsed = time.monotonic() - started
                return TxtAnswer(chase.shown, "failure", detail=self._timeout_detail(elapsed))
            except dns.exception.DNSException as exc:
                result = exc
            answer = chase.after(self._resolver, result)
            if answer is not None:
                return answer

    def _timeout_detail(self, seconds: float) -> str:
        servers = ", ".join(self.servers) or "no server"
        return f"timed out after {seconds:.1f} s asking {servers}"
