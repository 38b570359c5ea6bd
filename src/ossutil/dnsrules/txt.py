"""One TXT look-up by the proof's rules, with dnspython; the caller does the asking.

A look-up answers with one of four outcomes, so the caller can tell the user precisely what it
saw:

    found     the name (after following CNAMEs) has TXT records; ``values`` holds them
    nxdomain  the name does not exist
    nodata    the name exists but has no TXT record
    failure   no usable answer (time-out, SERVFAIL, REFUSED, no nameserver, CNAME loop ...);
              ``detail`` says what went wrong

The rules, here once: each TXT record's character-strings are joined with ``""`` and decoded as
UTF-8 (invalid bytes replaced); CNAMEs are followed, including a chain the answering server does
not complete itself (a NOERROR answer ending on a CNAME: the target is asked next), at most
``MAX_CNAME_HOPS`` in total, loops refused; nothing is cached, no search domains are appended,
SERVFAIL is not retried (reference §15 item 11: a record published after a failed bind is seen
by the next try).

``TxtChase`` holds those rules for one look-up and does no I/O, so the server's async
``DnspythonTxtLookup`` (``server/dns/lookup.py``) and the CLI's synchronous ``--check-dns``
(``cli/dnscheck.py``) drive the same chase; each words its own time-outs (an async deadline
there, dnspython's lifetime here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.resolver
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

from ossutil.dnsrules import MAX_CNAME_HOPS, format_server, holds

Outcome = Literal["found", "nxdomain", "nodata", "failure"]
ResolverT = TypeVar("ResolverT", bound=dns.resolver.BaseResolver)


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

    def holds(self, token: str) -> bool:
        """Whether any record's value is the token (surrounding whitespace ignored)."""
        return holds(self.values, token)


def txt_value(rdata: TXT) -> str:
    """One TXT record as a string: its character-strings joined, decoded as UTF-8."""
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def configure(resolver_class: type[ResolverT], nameservers: Sequence[tuple[str, int]] | None,
              *, timeout: float, lifetime: float) -> tuple[ResolverT, str]:
    """A resolver (``dns.resolver.Resolver`` or ``dns.asyncresolver.Resolver``) asking exactly
    ``nameservers`` (``None``: the system configuration), with no cache, no SERVFAIL retry and
    no rotation; ``timeout`` bounds one query to one server, ``lifetime`` a whole query.

    Returns the resolver and, when the system configuration cannot be read (a host without
    resolv.conf), the failure detail every look-up then answers with.
    """
    error = ""
    if nameservers is None:
        try:
            resolver = resolver_class(configure=True)
        except dns.exception.DNSException as exc:
            resolver = resolver_class(configure=False)
            resolver.nameservers = []
            error = f"no system DNS configuration ({exc})"
    else:
        resolver = resolver_class(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port)
                                for address, port in nameservers]
    # Reference §15 item 11: never cache, negative answers above all.
    resolver.cache = None
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.retry_servfail = False
    resolver.rotate = False
    return resolver, error


def servers(resolver: dns.resolver.BaseResolver) -> tuple[str, ...]:
    """The servers asked, as ``ip:port`` text (for messages and logs)."""
    shown: list[str] = []
    for ns in resolver.nameservers:
        if isinstance(ns, dns.nameserver.Nameserver):
            shown.append(format_server(ns.answer_nameserver(), ns.answer_port()))
        else:
            port = resolver.nameserver_ports.get(ns, resolver.port)
            shown.append(format_server(str(ns), port))
    return tuple(shown)


class TxtChase:
    """The CNAME chase of one look-up: ask for ``qname``, hand what came back to ``after``;
    ``None`` means ask for the (new) ``qname`` again, anything else is the answer.

    Time-outs are the caller's (it knows its clock and its wording); every other dnspython
    outcome is handled here.
    """

    def __init__(self, shown: str, qname: dns.name.Name) -> None:
        self.shown = shown
        self.qname = qname
        self.chain = [qname]

    @classmethod
    def begin(cls, resolver: dns.resolver.BaseResolver, name: str,
              config_error: str = "") -> TxtChase | TxtAnswer:
        """The chase for ``name``, or the failure that stops it before any query."""
        shown = name.rstrip(".") if name != "." else name
        if config_error:
            return TxtAnswer(shown, "failure", detail=config_error)
        if not resolver.nameservers:
            return TxtAnswer(shown, "failure", detail="no DNS servers configured")
        try:
            qname = dns.name.from_text(name, origin=dns.name.root)
        except (dns.exception.DNSException, UnicodeError) as exc:
            return TxtAnswer(shown, "failure", detail=f"invalid name {name!r}: {exc}")
        return cls(shown, qname)

    def after(self, resolver: dns.resolver.BaseResolver,
              result: dns.resolver.Answer | dns.exception.DNSException) -> TxtAnswer | None:
        """The answer once ``result`` (an Answer, or what ``resolve`` raised) came back."""
        shown = self.shown
        if isinstance(result, dns.resolver.NXDOMAIN):
            return TxtAnswer(shown, "nxdomain")
        if isinstance(result, dns.resolver.NoAnswer):
            # NOERROR without TXT: plain NODATA, or a CNAME whose target this server did not
            # answer for (another zone): ask again for the target.
            targets = _chain_targets(result.kwargs.get("response"))
            if not targets:
                return TxtAnswer(shown, "nodata")
            for target in targets:
                if target in self.chain:
                    loop = _chain_text([*self.chain, target])
                    return TxtAnswer(shown, "failure", detail=f"CNAME loop: {loop}")
                self.chain.append(target)
            if len(self.chain) - 1 > MAX_CNAME_HOPS:
                return TxtAnswer(shown, "failure", detail=_too_long(self.chain))
            self.qname = self.chain[-1]
            return None
        if isinstance(result, dns.resolver.NoNameservers):
            return TxtAnswer(shown, "failure",
                             detail=errors_detail(resolver, result.kwargs.get("errors", [])))
        if isinstance(result, dns.exception.DNSException):
            return TxtAnswer(shown, "failure", detail=f"{type(result).__name__}: {result}")
        cnames = result.chaining_result.cnames
        if len(self.chain) - 1 + len(cnames) > MAX_CNAME_HOPS:
            self.chain.extend(_targets(cnames))
            return TxtAnswer(shown, "failure", detail=_too_long(self.chain))
        rrset = result.rrset
        values = tuple(txt_value(rd) for rd in rrset) if rrset is not None else ()
        if not values:
            return TxtAnswer(shown, "nodata")
        return TxtAnswer(shown, "found", values)


def _targets(cnames: Sequence[dns.rrset.RRset]) -> list[dns.name.Name]:
    """The target of each CNAME RRset of a chain, in order."""
    return [rrset[0].target for rrset in cnames if len(rrset)]


def _chain_targets(response: object) -> list[dns.name.Name]:
    """The CNAME targets a NOERROR response without TXT ends on (empty: plain NODATA)."""
    if not isinstance(response, dns.message.QueryMessage):
        return []
    try:
        result = response.resolve_chaining()
    except dns.exception.DNSException:
        return []
    return _targets(result.cnames)


def _chain_text(chain: Sequence[dns.name.Name]) -> str:
    return " -> ".join(n.to_text(omit_final_dot=True) for n in chain)


def _too_long(chain: Sequence[dns.name.Name]) -> str:
    return f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {_chain_text(chain)}"


def errors_detail(resolver: dns.resolver.BaseResolver,
                  errors: Sequence[tuple[object, ...]]) -> str:
    """Describe dnspython's per-server error trace, one clause per distinct problem."""
    # dnspython names a server by str(Nameserver) ("Do53:127.0.0.1@53"); show its address.
    addresses = {
        str(ns): ns.answer_nameserver()
        for ns in resolver.nameservers
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
