"""TXT look-ups for the domain-ownership proof: the ``TxtLookup`` protocol and its dnspython
implementation.

The proof (reference §5 rule 1, §9 "DNS proof") is a TXT record at ``_dnsauth.<domain>``. A
look-up answers with one of four outcomes, so the caller can tell the user precisely what it saw:

    found     the name (after following CNAMEs) has TXT records; ``values`` holds them
    nxdomain  the name does not exist
    nodata    the name exists but has no TXT record
    failure   no usable answer (time-out, SERVFAIL, REFUSED, no nameserver, CNAME loop ...);
              ``detail`` says what went wrong

Nothing is ever cached between calls (reference §15 item 11): a user who publishes the record
after a failed bind retries at once and must succeed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

Outcome = Literal["found", "nxdomain", "nodata", "failure"]

#: How many CNAMEs a look-up follows, in total, before it gives up.
MAX_CNAME_HOPS = 8


@dataclass(frozen=True)
class TxtAnswer:
    """The result of one TXT look-up.

    ``name`` is the name asked for, without a trailing dot. ``values`` has one entry per TXT
    record: its character-strings joined with ``""`` and decoded as UTF-8 (invalid bytes
    replaced). ``detail`` explains a ``"failure"``.
    """

    name: str
    outcome: Outcome
    values: tuple[str, ...] = ()
    detail: str = ""


class TxtLookup(Protocol):
    """Answers "which TXT records are at this name?" without blocking the event loop."""

    async def lookup_txt(self, name: str) -> TxtAnswer:
        """Look up the TXT records at ``name`` (following CNAMEs); never raises for DNS errors."""
        ...


def txt_value(rdata: TXT) -> str:
    """One TXT record as a string: its character-strings joined, decoded as UTF-8."""
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def format_server(address: str, port: int) -> str:
    """``127.0.0.1:53`` or ``[::1]:53``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def parse_nameserver(text: str) -> tuple[str, int]:
    """Parse ``127.0.0.1``, ``127.0.0.1:5353``, ``[::1]:53`` or ``::1`` into ``(ip, port)``.

    The port defaults to 53. Host names are refused: the resolver that would resolve them is the
    one being configured.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("DNS server address is empty; expected IP or IP:PORT")
    host, port_text = raw, ""
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ValueError(f"DNS server address {text!r}: missing ']' after IPv6 address")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"DNS server address {text!r}: expected ':PORT' after ']'")
            port_text = rest[1:]
            if not port_text:
                raise ValueError(f"DNS server address {text!r}: empty port after ':'")
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        if not port_text:
            raise ValueError(f"DNS server address {text!r}: empty port after ':'")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"DNS server address {text!r}: {host!r} is not an IPv4 or IPv6 address "
            "(use IP, IP:PORT, [IPv6] or [IPv6]:PORT)"
        ) from None
    if raw.startswith("[") and address.version != 6:
        raise ValueError(f"DNS server address {text!r}: brackets are only for IPv6 addresses")
    port = 53
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(
                f"DNS server address {text!r}: port {port_text!r} is not a number in 1-65535"
            )
        port = int(port_text)
    return str(address), port


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
        self._config_error = ""
        if nameservers is None:
            try:
                self._resolver = dns.asyncresolver.Resolver(configure=True)
            except dns.exception.DNSException as exc:
                # A host without resolv.conf (or with no nameserver line) fails at look-up time,
                # like any other "no usable answer", instead of refusing to start.
                self._resolver = dns.asyncresolver.Resolver(configure=False)
                self._resolver.nameservers = []
                self._config_error = f"no system DNS configuration ({exc})"
        else:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = [
                dns.nameserver.Do53Nameserver(address, port) for address, port in nameservers
            ]
        # Reference §15 item 11: never cache, negative answers above all.
        self._resolver.cache = None
        self._resolver.timeout = timeout
        self._resolver.lifetime = lifetime
        self._resolver.retry_servfail = False
        self._resolver.rotate = False

    @property
    def servers(self) -> tuple[str, ...]:
        """The servers asked, as ``ip:port`` text (for messages and logs)."""
        shown: list[str] = []
        for ns in self._resolver.nameservers:
            if isinstance(ns, dns.nameserver.Nameserver):
                shown.append(format_server(ns.answer_nameserver(), ns.answer_port()))
            else:
                port = self._resolver.nameserver_ports.get(ns, self._resolver.port)
                shown.append(format_server(str(ns), port))
        return tuple(shown)

    async def lookup_txt(self, name: str) -> TxtAnswer:
        """Look up TXT at ``name``, following CNAME chains up to ``MAX_CNAME_HOPS`` hops.

        A chain inside one response is followed by dnspython; a response that stops at a CNAME
        whose target it does not answer for is followed by a new query for the target.
        """
        shown = name.rstrip(".") if name != "." else name
        if self._config_error:
            return TxtAnswer(shown, "failure", detail=self._config_error)
        if not self._resolver.nameservers:
            return TxtAnswer(shown, "failure", detail="no DNS servers configured")
        try:
            qname = dns.name.from_text(name, origin=dns.name.root)
        except (dns.exception.DNSException, UnicodeError) as exc:
            return TxtAnswer(shown, "failure", detail=f"invalid name {name!r}: {exc}")

        started = time.monotonic()
        deadline = started + self.lifetime
        chain = [qname]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TxtAnswer(shown, "failure", detail=self._timeout_detail(self.lifetime))
            try:
                # dnspython's own lifetime check runs between attempts and can overshoot by its
                # back-off sleeps; asyncio.timeout makes the bound exact.
                async with asyncio.timeout(remaining):
                    answer = await self._resolver.resolve(
                        qname,
                        dns.rdatatype.TXT,
                        dns.rdataclass.IN,
                        search=False,
                        lifetime=remaining,
                    )
            except (TimeoutError, dns.resolver.LifetimeTimeout):
                elapsed = time.monotonic() - started
                return TxtAnswer(shown, "failure", detail=self._timeout_detail(elapsed))
            except dns.resolver.NXDOMAIN:
                return TxtAnswer(shown, "nxdomain")
            except dns.resolver.NoAnswer as exc:
                targets = self._chain_targets(exc.kwargs.get("response"))
                if not targets:
                    return TxtAnswer(shown, "nodata")
                for target in targets:
                    if target in chain:
                        loop = self._chain_text([*chain, target])
                        return TxtAnswer(shown, "failure", detail=f"CNAME loop: {loop}")
                    chain.append(target)
                if len(chain) - 1 > MAX_CNAME_HOPS:
                    return TxtAnswer(shown, "failure", detail=self._too_long(chain))
                qname = chain[-1]
                continue
            except dns.resolver.NoNameservers as exc:
                return TxtAnswer(
                    shown, "failure", detail=self._errors_detail(exc.kwargs.get("errors", []))
                )
            except dns.exception.DNSException as exc:
                return TxtAnswer(shown, "failure", detail=f"{type(exc).__name__}: {exc}")
            if len(chain) - 1 + len(answer.chaining_result.cnames) > MAX_CNAME_HOPS:
                chain.extend(self._targets(answer.chaining_result.cnames))
                return TxtAnswer(shown, "failure", detail=self._too_long(chain))
            rrset = answer.rrset
            values = tuple(txt_value(rd) for rd in rrset) if rrset is not None else ()
            if not values:
                return TxtAnswer(shown, "nodata")
            return TxtAnswer(shown, "found", values)

    @staticmethod
    def _targets(cnames: Sequence[dns.rrset.RRset]) -> list[dns.name.Name]:
        """The target of each CNAME RRset of a chain, in order."""
        return [rrset[0].target for rrset in cnames if len(rrset)]

    @classmethod
    def _chain_targets(cls, response: object) -> list[dns.name.Name]:
        """The CNAME targets a NOERROR response without TXT ends on (empty: plain NODATA)."""
        if not isinstance(response, dns.message.QueryMessage):
            return []
        try:
            result = response.resolve_chaining()
        except dns.exception.DNSException:
            return []
        return cls._targets(result.cnames)

    @staticmethod
    def _chain_text(chain: Sequence[dns.name.Name]) -> str:
        return " -> ".join(n.to_text(omit_final_dot=True) for n in chain)

    @classmethod
    def _too_long(cls, chain: Sequence[dns.name.Name]) -> str:
        return f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {cls._chain_text(chain)}"

    def _timeout_detail(self, seconds: float) -> str:
        servers = ", ".join(self.servers) or "no server"
        return f"timed out after {seconds:.1f} s asking {servers}"

    def _errors_detail(self, errors: Sequence[tuple[object, ...]]) -> str:
        """Describe dnspython's per-server error trace, one clause per distinct problem."""
        # dnspython names a server by str(Nameserver) ("Do53:127.0.0.1@53"); show its address.
        addresses = {
            str(ns): ns.answer_nameserver()
            for ns in self._resolver.nameservers
            if isinstance(ns, dns.nameserver.Nameserver)
        }
        clauses: list[str] = []
        for err in errors:
            server, _tcp, port, problem = err[0], err[1], err[2], err[3]
            where = format_server(addresses.get(str(server), str(server)), int(str(port)))
            if isinstance(problem, str):
                clause = f"{problem} from {where}"  # an rcode: SERVFAIL, REFUSED, ...
            elif isinstance(problem, dns.message.ChainTooLong):
                clause = f"CNAME chain too long or looping in the answer from {where}"
            elif isinstance(problem, dns.exception.Timeout):
                clause = f"timed out asking {where}"
            elif isinstance(problem, ConnectionRefusedError):
                clause = f"connection refused by {where}"
            elif isinstance(problem, OSError):
                clause = f"network error asking {where}: {problem.strerror or problem}"
            elif isinstance(problem, dns.message.Truncated):
                clause = f"truncated answer from {where}"
            else:
                clause = f"bad answer from {where}: {type(problem).__name__}: {problem}"
            if clause not in clauses:
                clauses.append(clause)
        if not clauses:
            return "no DNS server could be asked"
        return "; ".join(clauses)
