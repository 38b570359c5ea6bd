"""``bucket-cname --check-dns``: is the ownership proof in DNS before we ask OSS to bind?

Beyond ossutil 1.7. The proof OSS checks at PutCname time is a TXT record at
``_dnsauth.<domain>`` whose value is the bucket's CnameToken (reference ``oss-cname-api.md`` §1
step 2, §9 "DNS proof"). This module asks DNS the same question the server asks, synchronously
(a CLI has no event loop to keep free), with the server's own rules: ``ossutil.dnsrules``
(strings of a record joined, any record may match once stripped, CNAMEs followed, nothing
cached, no search domains).

dnspython is imported here (through ``dnsrules.txt``) only, and this module only when
``--check-dns`` is given, so no other command line pays for it
(``tests/cli/test_light_imports.py``).
"""

from __future__ import annotations

import dns.exception
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from ossutil.dnsrules import txt as rules
from ossutil.dnsrules.txt import TxtAnswer, TxtChase

#: Seconds for one query to one server, and for the whole look-up (CNAME hops included).
TIMEOUT = 2.0
LIFETIME = 4.0


def parse_servers(texts: list[str]) -> list[tuple[str, int]]:
    """``--dns-server`` values (repeatable, or comma-separated) as ``(ip, port)`` pairs.

    Each is read by the server's rule (``dnsrules.parse_server``): ``IP``, ``IP:PORT``, ``IPv6``,
    ``[IPv6]`` and ``[IPv6]:PORT``; the port defaults to 53; host names are refused (the
    resolver that would resolve them is the one being chosen). Raises ``ValueError`` with a
    message naming the bad value.
    """
    from ossutil.dnsrules import ServerAddressError, parse_server

    servers: list[tuple[str, int]] = []
    for text in texts:
        for raw in text.split(","):
            raw = raw.strip()
            try:
                servers.append(parse_server(raw))
            except ServerAddressError as error:
                if error.part == "port":
                    raise ValueError(f'invalid --dns-server "{raw}": the port must be a number '
                                     "in 1-65535") from None
                raise ValueError(f'invalid --dns-server "{raw}": expected IP or IP:PORT '
                                 "([IPv6]:PORT for IPv6)") from None
    return servers


def lookup_txt(name: str, servers: list[tuple[str, int]] | None = None, *,
               timeout: float = TIMEOUT, lifetime: float = LIFETIME) -> TxtAnswer:
    """TXT records at ``name``; ``servers`` ``None`` means the system resolver configuration.

    Never raises for DNS trouble: a timeout, SERVFAIL, refused connection, CNAME loop or a
    missing resolver configuration comes back as ``outcome == "failure"`` with a detail.
    """
    resolver, config_error = rules.configure(dns.resolver.Resolver, servers, timeout=timeout,
                                             lifetime=lifetime)
    chase = TxtChase.begin(resolver, name, config_error)
    if isinstance(chase, TxtAnswer):
        return chase
    while True:
        result: dns.resolver.Answer | dns.exception.DNSException
        try:
            result = resolver.resolve(chase.qname, dns.rdatatype.TXT, dns.rdataclass.IN,
                                      search=False)
        except dns.resolver.LifetimeTimeout:
            asked = ", ".join(rules.servers(resolver)) or "no server"
            return TxtAnswer(chase.shown, "failure",
                             detail=f"no answer within {lifetime:g} s from {asked}")
        except dns.exception.DNSException as exc:
            result = exc
        answer = chase.after(resolver, result)
        if answer is not None:
            return answer


def resolver_label(servers: list[tuple[str, int]] | None) -> str:
    """Which resolver a look-up with ``servers`` asks, for the line ``--check-dns`` prints:
    ``127.0.0.1:5353 (--dns-server)``, or ``the system resolver (10.0.0.2:53, from
    /etc/resolv.conf)``."""
    if servers is not None:
        from ossutil.dnsrules import format_server

        return ", ".join(format_server(address, port) for address, port in servers) + \
            " (--dns-server)"
    resolver, config_error = rules.configure(dns.resolver.Resolver, None, timeout=TIMEOUT,
                                             lifetime=LIFETIME)
    if config_error:
        return "the system resolver (none configured)"
    asked = ", ".join(rules.servers(resolver)) or "no server"
    return f"the system resolver ({asked}, from /etc/resolv.conf)"

