"""A tiny authoritative DNS server for tests: UDP and TCP on one loopback port.

Built on dnspython's message codec (``dns.message.from_wire`` / ``make_response``), run in a
background thread, configured with one-line builders (lego's ``dnsmock`` idea)::

    with DnsServer() as dns_server:
        dns_server.txt("_dnsauth.www.example.com", token)
        lookup = DnspythonTxtLookup([dns_server.address])

Behaviour, like a real authoritative server:

- names are case-insensitive, the trailing dot optional;
- an unknown name gets NXDOMAIN, a known name without the asked type NOERROR with no answer;
  both carry an SOA in the authority section, so a caching resolver *would* cache them;
- a CNAME is put in the answer, followed by the target's records when the target is known here
  (``chase=False`` on ``cname()`` makes the target look out-of-zone: the client must ask again);
- a UDP answer over 512 bytes is truncated with TC set, so the client retries over TCP;
- ``blackhole()`` reads and drops every query, ``servfail(name)`` answers SERVFAIL for a name;
- ``queries`` lists ``(qname, qtype)`` as received (lower-case, no trailing dot), blackholed
  queries included; ``transports`` says for each whether it came over ``"udp"`` or ``"tcp"``.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

#: Largest UDP answer this server sends, whatever the client's EDNS buffer size (RFC 1035 size).
UDP_LIMIT = 512
#: TTL of every record: long enough that a caching resolver would keep it.
TTL = 300
SOA_TEXT = "ns.dns-server.test. hostmaster.dns-server.test. 1 3600 600 86400 300"


@dataclass
class _Entry:
    """Everything known at one name."""

    txt: list[tuple[bytes, ...]] = field(default_factory=list)
    cname: str | None = None
    chase: bool = True
    a: list[str] = field(default_factory=list)  # IPv4 addresses
    caa: list[str] = field(default_factory=list)  # CAA records in master-file syntax


def _key(name: str) -> str:
    """Canonical form of a name: lower case, no trailing dot."""
    return name.strip().rstrip(".").lower()


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _name(key: str) -> dns.name.Name:
    return dns.name.from_text(key, origin=dns.name.root) if key else dns.name.root


def _quote(chunk: bytes) -> str:
    """One character-string in master-file syntax."""
    escaped = "".join(
        f"\\{b:03d}" if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) else chr(b) for b in chunk
    )
    return f'"{escaped}"'


def _chunks(value: bytes) -> list[bytes]:
    """Split a long string into 255-byte character-strings (empty string stays one string)."""
    return [value[i : i + 255] for i in range(0, len(value), 255)] or [b""]


class DnsServer:
    """A loopback DNS server for tests; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, _Entry] = {}
        self._servfail: set[str] = set()
        self._blackhole = False
        self.queries: list[tuple[str, str]] = []
        self.transports: list[str] = []  # "udp" or "tcp", one per entry of ``queries``
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._conn_threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def nameserver(self) -> str:
        """``127.0.0.1:port``, the form ``--dns-server`` takes."""
        return f"{self.address[0]}:{self.address[1]}"

    def start(self) -> DnsServer:
        """Bind UDP and TCP on the same free port and start serving in a thread."""
        if self._thread is not None:
            raise RuntimeError("DnsServer already started")
        self._udp, self._tcp = self._bind_pair()
        self.address = ("127.0.0.1", self._udp.getsockname()[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="dns-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every socket; safe to call twice."""
        if self._thread is None:
            return
        self._stopping.set()
        assert self._wake_w is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for thread in list(self._conn_threads):
            thread.join(timeout=5)
        for sock in (self._udp, self._tcp, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = self._wake_r = self._wake_w = None
        self._thread = None
        self._conn_threads.clear()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @staticmethod
    def _bind_pair() -> tuple[socket.socket, socket.socket]:
        """UDP on port 0 first, then TCP on the port it got; retry when TCP's is taken."""
        for _attempt in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError as exc:
                tcp.close()
                udp.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            tcp.listen(16)
            return udp, tcp
        raise RuntimeError("could not find a port free for both UDP and TCP on 127.0.0.1")

    # -- builders ------------------------------------------------------------------------

    def txt(self, name: str, *records: str | bytes | Sequence[str | bytes]) -> None:
        """Replace the TXT records at ``name`` (and any CNAME there).

        A ``str`` is one record of one character-string (split at 255 bytes if longer); a
        sequence of ``str`` is one record of several character-strings. ``bytes`` go on the
        wire as they are (UTF-8 is used for ``str``), for tests of undecodable values.
        """
        built: list[tuple[bytes, ...]] = []
        for record in records:
            if isinstance(record, str | bytes):
                built.append(tuple(_chunks(_bytes(record))))
            else:
                built.append(tuple(_bytes(part) for part in record))
        with self._lock:
            self._records[_key(name)] = _Entry(txt=built)

    def cname(self, name: str, target: str, *, chase: bool = True) -> None:
        """Make ``name`` a CNAME for ``target`` (replacing anything at ``name``).

        With ``chase=False`` the answer holds only the CNAME, as if ``target`` lived in another
        zone, so the client has to send a separate query for it.
        """
        with self._lock:
            self._records[_key(name)] = _Entry(cname=_key(target), chase=chase)

    def a(self, name: str, *addresses: str) -> None:
        """Set the A records at ``name`` (kept beside its TXT/CAA records; a CNAME there is
        replaced)."""
        with self._lock:
            entry = self._records.setdefault(_key(name), _Entry())
            entry.cname = None
            entry.a = list(addresses)

    def caa(self, name: str, *records: str) -> None:
        """Set the CAA records at ``name``, each as ``'0 issue "ca.example"'`` (kept beside
        its A/TXT records)."""
        with self._lock:
            entry = self._records.setdefault(_key(name), _Entry())
            entry.cname = None
            entry.caa = list(records)

    def remove(self, name: str) -> None:
        """Forget every record at ``name`` and any SERVFAIL set for it."""
        key = _key(name)
        with self._lock:
            self._records.pop(key, None)
            self._servfail.discard(key)

    def clear(self) -> None:
        """Back to the freshly started state: no records, no SERVFAIL, no blackhole, no log."""
        with self._lock:
            self._records.clear()
            self._servfail.clear()
            self._blackhole = False
            self.queries.clear()
            self.transports.clear()

    def blackhole(self, on: bool = True) -> None:
        """Stop answering entirely (queries are still read, logged and dropped)."""
        with self._lock:
            self._blackhole = on

    def servfail(self, name: str) -> None:
        """Answer SERVFAIL to every query for ``name``."""
        with self._lock:
            self._servfail.add(_key(name))

    # -- serving -------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ, "udp")
            selector.register(self._tcp, selectors.EVENT_READ, "tcp")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            while not self._stopping.is_set():
                for key, _events in selector.select(timeout=1.0):
                    if key.data == "udp":
                        self._serve_udp()
                    elif key.data == "tcp":
                        self._accept_tcp()

    def _serve_udp(self) -> None:
        assert self._udp is not None
        try:
            wire, peer = self._udp.recvfrom(65535)
        except OSError:
            return
        reply = self._handle(wire, max_size=UDP_LIMIT, transport="udp")
        if reply is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def _accept_tcp(self) -> None:
        assert self._tcp is not None
        try:
            conn, _peer = self._tcp.accept()
        except OSError:
            return
        thread = threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True)
        self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
        self._conn_threads.append(thread)
        thread.start()

    def _serve_tcp(self, conn: socket.socket) -> None:
        """Answer length-prefixed queries until the client closes or the server stops."""
        with conn:
            conn.settimeout(0.2)
            buffer = b""
            while not self._stopping.is_set():
                try:
                    chunk = conn.recv(65537)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while len(buffer) >= 2:
                    (length,) = struct.unpack("!H", buffer[:2])
                    if len(buffer) < 2 + length:
                        break
                    wire, buffer = buffer[2 : 2 + length], buffer[2 + length :]
                    reply = self._handle(wire, max_size=65535, transport="tcp")
                    if reply is not None:
                        try:
                            conn.sendall(struct.pack("!H", len(reply)) + reply)
                        except OSError:
                            return

    def _handle(self, wire: bytes, *, max_size: int, transport: str) -> bytes | None:
        """One query in, one answer out (``None``: drop it)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if len(query.question) != 1:
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        qkey = _key(question.name.to_text())
        with self._lock:
            self.queries.append((qkey, dns.rdatatype.to_text(question.rdtype)))
            self.transports.append(transport)
            if self._blackhole:
                return None
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            self._answer(response, qkey, question.rdtype)
        return response.to_wire(max_size=max_size, prefer_truncation=True)

    def _answer(
        self, response: dns.message.Message, qkey: str, rdtype: dns.rdatatype.RdataType
    ) -> None:
        """Fill ``response`` for ``qkey``/``rdtype`` (lock held)."""
        if qkey in self._servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return
        key = qkey
        seen = {key}
        while True:
            entry = self._records.get(key)
            if entry is None:
                if key != qkey:
                    return  # a CNAME pointed outside what we know: the client asks elsewhere
                if any(other.endswith("." + key) for other in self._records):
                    self._add_soa(response, key)  # empty non-terminal: NODATA, names exist below
                else:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                    self._add_soa(response, key)
                return
            if entry.cname is not None and rdtype != dns.rdatatype.CNAME:
                self._add(response, key, dns.rdatatype.CNAME, [f"{entry.cname}."])
                if not entry.chase or entry.cname in seen:
                    return
                seen.add(entry.cname)
                key = entry.cname
                continue
            if rdtype == dns.rdatatype.CNAME and entry.cname is not None:
                self._add(response, key, dns.rdatatype.CNAME, [f"{entry.cname}."])
            elif rdtype == dns.rdatatype.TXT and entry.txt:
                texts = [" ".join(_quote(part) for part in record) for record in entry.txt]
                self._add(response, key, dns.rdatatype.TXT, texts)
            elif rdtype == dns.rdatatype.A and entry.a:
                self._add(response, key, dns.rdatatype.A, entry.a)
            elif rdtype == dns.rdatatype.CAA and entry.caa:
                self._add(response, key, dns.rdatatype.CAA, entry.caa)
            else:
                self._add_soa(response, key)  # NODATA
            return

    @staticmethod
    def _add(
        response: dns.message.Message,
        key: str,
        rdtype: dns.rdatatype.RdataType,
        texts: list[str],
    ) -> None:
        rrset = dns.rrset.from_text_list(_name(key), TTL, dns.rdataclass.IN, rdtype, texts)
        response.answer.append(rrset)

    @staticmethod
    def _add_soa(response: dns.message.Message, key: str) -> None:
        """SOA of the name's "zone" (its last two labels) in the authority section."""
        labels = key.split(".") if key else []
        apex = ".".join(labels[-2:])
        rrset = dns.rrset.from_text(
            _name(apex), TTL, dns.rdataclass.IN, dns.rdatatype.SOA, SOA_TEXT
        )
        response.authority.append(rrset)
