"""The DNS rules of the domain-ownership proof, shared by the server and the CLI.

The proof (reference ``oss-cname-api.md`` §5 rule 1, §9 "DNS proof") is a TXT record at
``_dnsauth.<domain>`` holding the bucket's CnameToken. ``ossutil.server.dns`` checks it at
PutCname time (async, inside the server); ``ossutil.cli.dnscheck`` asks the same question before
sending PutCname (``bucket-cname --check-dns``, synchronous). Both use these rules, so the CLI
never imports ``ossutil.server``:

    this package   dnsauth_name, holds, format_server, parse_server, MAX_CNAME_HOPS (no
                   imports at load: the CLI's hint after a refused bind uses ``dnsauth_name``
                   without loading dnspython)
    txt.py         TxtAnswer, one look-up's CNAME chase and outcome (dnspython, imported only
                   with this module), the resolver configuration, the failure wording
"""

from __future__ import annotations

DNSAUTH_PREFIX = "_dnsauth."

#: How many CNAMEs a look-up follows, in total, before it gives up.
MAX_CNAME_HOPS = 8


def dnsauth_name(domain: str) -> str:
    """The name holding the proof: ``_dnsauth.`` + domain (a trailing dot is dropped)."""
    return DNSAUTH_PREFIX + domain.rstrip(".")


def holds(values: tuple[str, ...], token: str) -> bool:
    """Whether any TXT value is the token once its surrounding whitespace is stripped (any one
    of several records may match; an empty token never does)."""
    return bool(token) and any(value.strip() == token for value in values)


def format_server(address: str, port: int) -> str:
    """``127.0.0.1:53`` or ``[::1]:53``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class ServerAddressError(ValueError):
    """A DNS server address that is not ``IP``, ``IP:PORT`` or ``[IPv6][:PORT]``; ``part`` is
    ``"address"`` or ``"port"``, for callers that word the error their own way."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


def parse_server(text: str) -> tuple[str, int]:
    """Parse ``127.0.0.1``, ``127.0.0.1:5353``, ``[::1]:53`` or ``::1`` into ``(ip, port)``.

    The port defaults to 53. Host names are refused: the resolver that would resolve them is the
    one being configured. Raises ``ServerAddressError``.
    """
    import ipaddress

    raw = text.strip()
    if not raw:
        raise ServerAddressError("DNS server address is empty; expected IP or IP:PORT",
                                 "address")
    host, port_text = raw, None  # None: no port given
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ServerAddressError(
                f"DNS server address {text!r}: missing ']' after IPv6 address", "address")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ServerAddressError(
                    f"DNS server address {text!r}: expected ':PORT' after ']'", "address")
            port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ServerAddressError(
            f"DNS server address {text!r}: {host!r} is not an IPv4 or IPv6 address "
            "(use IP, IP:PORT, [IPv6] or [IPv6]:PORT)", "address") from None
    if raw.startswith("[") and address.version != 6:
        raise ServerAddressError(
            f"DNS server address {text!r}: brackets are only for IPv6 addresses", "address")
    if port_text is None:
        return str(address), 53
    if not port_text:
        raise ServerAddressError(f"DNS server address {text!r}: empty port after ':'", "port")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ServerAddressError(
            f"DNS server address {text!r}: port {port_text!r} is not a number in 1-65535",
            "port")
    return str(address), int(port_text)
