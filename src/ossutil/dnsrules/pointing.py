"""Does a domain point at this service? One rule for the server's domain health and for
``ossutil doctor`` (no dnspython here: the answers come from ``records.py``'s look-ups).

A domain points here when its CNAME chain reaches one of the service's names (the endpoint
domain or a name under it: ``bucket.oss-cn-hangzhou.example.com``), or when the addresses at the
end of its chain are all among the service's addresses (``--public-address``, or on the client
side the addresses of the bucket's own endpoint name). It is **dangling** when DNS says
otherwise: the name does not exist, has no address, or its addresses are not the service's. A
look-up that failed (time-out, SERVFAIL) decides nothing: ``unknown``, never dangling, so a DNS
outage never makes a binding lose its certificate renewals; so are addresses when the service's
own are not known (no ``--public-address``): a proxy in front may be ours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

State = Literal["ok", "dangling", "unknown"]


@dataclass(frozen=True)
class Pointing:
    """``state`` and one sentence saying what DNS showed (``detail``); ``via``: ``"cname"`` or
    ``"address"`` when ``ok``."""

    state: State
    detail: str
    via: str = ""


def under(name: str, suffixes: Sequence[str]) -> bool:
    """Whether ``name`` is one of ``suffixes`` or a name below one (case-insensitive)."""
    name = name.rstrip(".").lower()
    for suffix in suffixes:
        suffix = suffix.rstrip(".").lower()
        if suffix and (name == suffix or name.endswith("." + suffix)):
            return True
    return False


def normalize_address(text: str) -> str:
    """An IP address in its canonical text (``2001:DB8::0001`` -> ``2001:db8::1``); ValueError
    if it is not one."""
    return str(ipaddress.ip_address(text.strip()))


def decide(domain: str, chain: Sequence[str], addresses: Sequence[str], outcome: str,
           failure: str, *, service_names: Sequence[str],
           service_addresses: Sequence[str]) -> Pointing:
    """The verdict for ``domain`` whose A/AAAA look-up walked ``chain`` (the domain first) and
    found ``addresses``; ``outcome`` is the look-up's (``found``, ``nxdomain``, ``nodata``,
    ``failure``), ``failure`` its detail."""
    aliases = list(chain[1:])
    shown_chain = " -> ".join(chain) if len(chain) > 1 else ""
    for name in aliases:
        if under(name, service_names):
            return Pointing("ok", f"CNAME {shown_chain}", "cname")
    if outcome == "failure" and not addresses:
        return Pointing("unknown", f"DNS look-up failed: {failure}")
    ours = {normalize_address(a) for a in service_addresses}
    found = sorted({normalize_address(a) for a in addresses})
    if found and ours and set(found) <= ours:
        where = f"CNAME {shown_chain}, " if shown_chain else ""
        return Pointing("ok", f"{where}resolves to {', '.join(found)}", "address")
    if outcome == "nxdomain":
        if shown_chain:
            return Pointing("dangling", f"CNAME {shown_chain}, which does not exist")
        return Pointing("dangling", f"{domain} does not exist in DNS (NXDOMAIN)")
    if not found:
        if shown_chain:
            return Pointing("dangling", f"CNAME {shown_chain}, which has no address")
        return Pointing("dangling", f"{domain} has no CNAME and no address record")
    where = f"CNAME {shown_chain}, " if shown_chain else ""
    if ours:
        foreign = [a for a in found if a not in ours]
        return Pointing("dangling", f"{where}resolves to {', '.join(found)}; not this "
                                    f"service's: {', '.join(foreign)} (its addresses: "
                                    f"{', '.join(sorted(ours))})")
    return Pointing("unknown", f"{where}resolves to {', '.join(found)}, not a CNAME to "
                               f"{' or '.join(service_names)}, and this service's own "
                               "addresses are not known to compare")
