"""``bucket-cname --check-dns``: is the ownership proof in DNS before we ask OSS to bind?

Beyond ossutil 1.7. The proof OSS checks at PutCname time is a TXT record at
``_dnsauth.<domain>`` whose value is the bucket's CnameToken (reference ``oss-cname-api.md`` §1
step 2, §9 "DNS proof"). This module asks DNS the same question the server asks, synchronously
(a CLI has no event loop to keep free), with the rules the server's ``dns.ownership`` applies:

- each TXT record's character-strings are joined (``"ab" "cd"`` is ``abcd``);
- a record matches when its value, stripped of surrounding whitespace, equals the token; any one
  of several records may match;
- CNAMEs are followed, including a chain the answering server does not complete itself;
- nothing is cached and no search domains are appended.

dnspython is imported here only, and this module only when ``--check-dns`` is given, so no other
command line pays for it (``tests/cli/test_light_imports.py``).
"""

from __future__ import annotations

import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdataclass
import dns.rdatatype
import dns.resolver

#: Seconds for one query to one server, and for the whole look-up (CNAME hops included).
TIMEOUT = 2.0
LIFETIME = 4.0
#: CNAMEs followed in total before giving up (the server's limit too).
MAX_CNAME_HOPS = 8


class TxtResult:
    """One look-up: ``outcome`` is ``found``, ``nxdomain``, ``nodata`` or ``failure``.

    ``values`` holds one joined, UTF-8-decoded string per TXT record; ``detail`` explains a
    failure in a clause fit for an error line.
    """

    __slots__ = ("name", "outcome", "values", "detail")

    def __init__(self, name: str, outcome: str, values: tuple[str, ...] = (),
                 detail: str = "") -> None:
        self.name = name
        self.outcome = outcome
        self.values = values
        self.detail = detail

    def holds(self, token: str) -> bool:
        """Whether any record's value is the token (surrounding whitespace ignored)."""
        return bool(token) and any(value.strip() == token for value in self.values)


def parse_servers(texts: list[str]) -> list[tuple[str, int]]:
    """``--dns-server`` values (repeatable, or comma-separated) as ``(ip, port)`` pairs.

    Accepts ``IP``, ``IP:PORT``, ``IPv6``, ``[IPv6]`` and ``[IPv6]:PORT``; the port defaults to
    53. Host names are refused: the resolver that would resolve them is the one being chosen.
    Raises ``ValueError`` with a message naming the bad value.
    """
    import ipaddress

    servers: list[tuple[str, int]] = []
    for text in texts:
        for raw in text.split(","):
            raw = raw.strip()
            host, port_text = raw, None  # None: no port given (53)
            if raw.startswith("["):
                host, closed, rest = raw[1:].partition("]")
                if not closed or (rest and not rest.startswith(":")):
                    host = ""
                port_text = rest[1:] if rest else None
            elif raw.count(":") == 1:
                host, port_text = raw.split(":")
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f'invalid --dns-server "{raw}": expected IP or IP:PORT '
                                 "([IPv6]:PORT for IPv6)") from None
            if port_text is not None and (not port_text.isdigit()
                                          or not 1 <= int(port_text) <= 65535):
                raise ValueError(f'invalid --dns-server "{raw}": the port must be a number in '
                                 "1-65535")
            servers.append((str(address), int(port_text) if port_text is not None else 53))
    return servers


def show_server(address: str, port: int) -> str:
    """``127.0.0.1:53`` or ``[::1]:53``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def lookup_txt(name: str, servers: list[tuple[str, int]] | None = None, *,
               timeout: float = TIMEOUT, lifetime: float = LIFETIME) -> TxtResult:
    """TXT records at ``name``; ``servers`` ``None`` means the system resolver configuration.

    Never raises for DNS trouble: a timeout, SERVFAIL, refused connection, CNAME loop or a
    missing resolver configuration comes back as ``outcome == "failure"`` with a detail.
    """
    shown = name.rstrip(".")
    if servers is None:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except dns.exception.DNSException as exc:
            return TxtResult(shown, "failure", detail=f"no system DNS configuration ({exc})")
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port)
                                for address, port in servers]
    resolver.cache = None
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.retry_servfail = False
    asked = ", ".join(_servers(resolver)) or "no server"
    try:
        qname = dns.name.from_text(name, origin=dns.name.root)
    except (dns.exception.DNSException, UnicodeError) as exc:
        return TxtResult(shown, "failure", detail=f"invalid name {name}: {exc}")
    chain = [qname]
    while True:
        try:
            answer = resolver.resolve(qname, dns.rdatatype.TXT, dns.rdataclass.IN, search=False)
        except dns.resolver.LifetimeTimeout:
            return TxtResult(shown, "failure",
                             detail=f"no answer within {lifetime:g} s from {asked}")
        except dns.resolver.NXDOMAIN:
            return TxtResult(shown, "nxdomain")
        except dns.resolver.NoAnswer as exc:
            # NOERROR without TXT: plain NODATA, or a CNAME whose target this server did not
            # answer for (another zone): ask again for the target.
            targets = _chain_targets(exc.kwargs.get("response"))
            if not targets:
                return TxtResult(shown, "nodata")
            for target in targets:
                if target in chain:
                    loop = " -> ".join(n.to_text(omit_final_dot=True) for n in [*chain, target])
                    return TxtResult(shown, "failure", detail=f"CNAME loop: {loop}")
                chain.append(target)
            if len(chain) - 1 > MAX_CNAME_HOPS:
                return TxtResult(shown, "failure",
                                 detail=f"CNAME chain longer than {MAX_CNAME_HOPS} hops")
            qname = chain[-1]
            continue
        except dns.resolver.NoNameservers as exc:
            return TxtResult(shown, "failure",
                             detail=_errors_text(exc.kwargs.get("errors", []), asked))
        except dns.exception.DNSException as exc:
            return TxtResult(shown, "failure", detail=f"{type(exc).__name__}: {exc}")
        rrset = answer.rrset
        values = tuple(b"".join(rd.strings).decode("utf-8", errors="replace")
                       for rd in rrset) if rrset is not None else ()
        return TxtResult(shown, "found", values) if values else TxtResult(shown, "nodata")


def _servers(resolver: dns.resolver.Resolver) -> list[str]:
    shown = []
    for ns in resolver.nameservers:
        if isinstance(ns, dns.nameserver.Nameserver):
            shown.append(show_server(ns.answer_nameserver(), ns.answer_port()))
        else:
            shown.append(show_server(str(ns), resolver.port))
    return shown


def _chain_targets(response: object) -> list[dns.name.Name]:
    if not isinstance(response, dns.message.QueryMessage):
        return []
    try:
        result = response.resolve_chaining()
    except dns.exception.DNSException:
        return []
    return [rrset[0].target for rrset in result.cnames if len(rrset)]


def _errors_text(errors: list[tuple[object, ...]], asked: str) -> str:
    """dnspython's per-server errors as one clause each (``SERVFAIL from 127.0.0.1:53``)."""
    clauses: list[str] = []
    for error in errors:
        problem = error[3] if len(error) > 3 else error[-1]
        if isinstance(problem, str):
            clause = f"{problem} from {asked}"
        elif isinstance(problem, dns.exception.Timeout):
            clause = f"no answer from {asked}"
        elif isinstance(problem, OSError):
            clause = f"network error asking {asked}: {problem.strerror or problem}"
        else:
            clause = f"bad answer from {asked}: {type(problem).__name__}"
        if clause not in clauses:
            clauses.append(clause)
    return "; ".join(clauses) or f"no usable answer from {asked}"
