"""``TxtLookup`` from an RFC 1035 master file, for hosts that publish proofs without a DNS server.

The file may use ``$ORIGIN`` or absolute names; before any ``$ORIGIN`` the origin is the root, so
``_dnsauth.www.example.com.`` works as written. The file is checked on every look-up and read
again when its size, modification time or inode (file replaced) changed, so an operator's
edit is seen by the next bind attempt. The stat, the parse and the answer all run in a worker
thread: the event loop only awaits it (a parse of a large file takes tens of milliseconds, and
an answer used to scan every name of the zone for an empty non-terminal; ``_Snapshot.parents``
makes that one set probe, built the first time an answer needs it). A file that does not parse
makes every look-up a ``"failure"`` naming the parse error; the last good contents are
deliberately not used, so a broken edit is noticed rather than silently ignored.

Re-reads are incremental where that cannot change the meaning (``_LineCache``). A host that
publishes proofs rewrites the whole file for each one, and dnspython parses about 100 µs per
record in Python, holding the GIL the request threads need: 5 ms per bind at 50 records. When
every line of the file stands alone (no ``$`` directive, no parenthesis, no owner inherited
from the line before), each line is parsed once, by dnspython, and kept; the zone is then built
from the kept records through the same ``Transaction.add`` the reader uses, with the checks a
``Reader`` installs, so merging, TTLs and CNAME-and-other-data errors are the reader's own.
Any line that does not parse alone sends the whole file to the full reader, which gives the
error or the meaning it always gave. Parsing line by line costs about 1.5 times the full
reader per line, so a read that finds more than ``PARSES_PER_READ`` new lines (a first read of
a large file) is the full reader's, and keeps that many lines parsed for the next reads: a file
of 2,000 records goes incremental after 16 reads, each about 1.1 times a full read (uncapped,
its first read took 1.4 times).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zone
import dns.zonefile

from ossutil.server.dns.lookup import MAX_CNAME_HOPS, TxtAnswer, TxtLookup, txt_value


@dataclass(frozen=True)
class _Snapshot:
    """One read of the file: what identified it and what it held (or why it did not parse)."""

    stamp: tuple[int, int, int]  # (inode, mtime_ns, size)
    zone: dns.zone.Zone | None
    error: str

    @functools.cached_property
    def parents(self) -> frozenset[dns.name.Name]:
        """Every proper ancestor of a zone name: the names that exist without a node (only an
        answer for a missing node asks; two threads asking at once compute the same set)."""
        assert self.zone is not None
        parents = {name.parent() for name in self.zone.nodes if name != dns.name.root}
        for name in list(parents):
            while name != dns.name.root and (name := name.parent()) not in parents:
                parents.add(name)
        return frozenset(parents)


class ZoneFileTxtLookup(TxtLookup):
    """Answer TXT look-ups from a master file, re-read whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._lines = _LineCache()

    async def lookup_txt(self, name: str) -> TxtAnswer:
        """Look up TXT at ``name`` in the file, following CNAMEs inside it."""
        return await asyncio.to_thread(self._lookup, name)

    def _lookup(self, name: str) -> TxtAnswer:
        """The look-up itself (worker thread)."""
        shown = name.rstrip(".") if name != "." else name
        snapshot = self._current()
        if snapshot.zone is None:
            return TxtAnswer(shown, "failure", detail=snapshot.error)
        try:
            qname = dns.name.from_text(name, origin=dns.name.root)
        except (dns.exception.DNSException, UnicodeError) as exc:
            return TxtAnswer(shown, "failure", detail=f"invalid name {name!r}: {exc}")
        return _answer(snapshot, qname, shown)

    def _current(self) -> _Snapshot:
        """The snapshot for the file as it is now, reading it if it changed (worker thread)."""
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError as exc:
                self._snapshot = None
                return _Snapshot((0, 0, 0), None, f"cannot read zone file {self.path}: {exc}")
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._snapshot is None or self._snapshot.stamp != stamp:
                self._snapshot = self._read()
            return self._snapshot

    def _read(self) -> _Snapshot:
        """Read and parse the file; the stamp is taken from the descriptor actually read."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except OSError as exc:
            return _Snapshot((0, 0, 0), None, f"cannot read zone file {self.path}: {exc}")
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _Snapshot(stamp, None, f"zone file {self.path} is not UTF-8: {exc}")
        try:
            zone = self._lines.zone(text)
            if zone is None:
                zone = _parse(text, filename=str(self.path))
        except (dns.exception.DNSException, ValueError) as exc:
            return _Snapshot(stamp, None, f"cannot parse zone file: {exc}")
        return _Snapshot(stamp, zone, "")


def _parse(text: str, filename: str = "<string>") -> dns.zone.Zone:
    """dnspython's reader over ``text``: absolute names, origin the root, no SOA required."""
    return dns.zone.from_text(text, origin=dns.name.root, relativize=False, check_origin=False,
                              filename=filename)


#: New lines one read parses alone at most (``_LineCache.zone``): a publisher's edit brings one
#: or two; a first read of a large file takes the full reader, plus this many lines kept.
PARSES_PER_READ = 128


class _LineCache:
    """What each line of the last file read parsed to (see the module docstring). Only the
    current file's lines are kept; a worker thread uses it under ``ZoneFileTxtLookup._lock``."""

    def __init__(self, parses_per_read: int = PARSES_PER_READ) -> None:
        self._records: dict[str, list[tuple[dns.name.Name, Any]]] = {}
        self._parses_per_read = parses_per_read

    def zone(self, text: str) -> dns.zone.Zone | None:
        """The zone ``text`` holds, from kept and newly parsed lines; None when some line does
        not stand alone or does not parse alone, or when more than ``parses_per_read`` lines
        are new (the caller runs the full reader)."""
        lines = text.split("\n")
        kept: dict[str, list[tuple[dns.name.Name, Any]]] = {}
        parses = 0
        skipped = False
        for line in lines:
            if line in kept:
                continue
            records = self._records.get(line)
            if records is None:
                if parses >= self._parses_per_read:
                    skipped = True  # the full reader answers this read (below)
                    continue
                parses += 1
                if (records := _line_records(line)) is None:
                    return None
            kept[line] = records
        if skipped:
            # a new file, or most of it new: a line at a time costs about 1.5 times the full
            # reader, so the full reader answers this read; the lines parsed so far are kept,
            # and the file goes incremental once all of them are
            self._records = kept
            return None
        zone = dns.zone.Zone(dns.name.root, relativize=False)
        with zone.writer(True) as txn:  # a replacement, as dns.zone.from_text writes
            # a reader over nothing: it installs on txn the checks it makes of every record
            dns.zonefile.Reader(dns.tokenizer.Tokenizer(""), dns.rdataclass.IN, txn)
            for line in lines:
                for name, rdataset in kept[line]:
                    txn.add(name, rdataset)
        self._records = kept
        return zone


def _line_records(line: str) -> list[tuple[dns.name.Name, Any]] | None:
    """The (name, rdataset) pairs one line parses to on its own, in the reader's order; None
    when its meaning could depend on another line or it does not parse alone."""
    body = line.strip()
    if not body or body.startswith(";"):
        return []
    if line[0] in " \t$@" or "(" in line or ")" in line:
        return None  # owner from the line before, a directive, a multi-line record
    try:
        zone = _parse(line)
    except (dns.exception.DNSException, ValueError):
        return None  # e.g. no TTL: the line before may give it; the full reader decides
    return [(name, rdataset) for name, rdataset in zone.iterate_rdatasets()]


def _answer(snapshot: _Snapshot, qname: dns.name.Name, shown: str) -> TxtAnswer:
    """Resolve TXT at ``qname`` inside the snapshot's zone like an authoritative server."""
    zone = snapshot.zone
    assert zone is not None
    chain = [qname]
    current = qname
    while True:
        node = zone.get_node(current)
        if node is None:
            if current in snapshot.parents:
                return TxtAnswer(shown, "nodata")  # empty non-terminal: names exist below
            return TxtAnswer(shown, "nxdomain")
        txt = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.TXT)
        if txt is not None and len(txt) > 0:
            return TxtAnswer(shown, "found", tuple(txt_value(rd) for rd in txt))
        cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None or len(cname) == 0:
            return TxtAnswer(shown, "nodata")
        target: dns.name.Name = cname[0].target
        loop = target in chain
        chain.append(target)
        text = " -> ".join(n.to_text(omit_final_dot=True) for n in chain)
        if loop:
            return TxtAnswer(shown, "failure", detail=f"CNAME loop: {text}")
        if len(chain) - 1 > MAX_CNAME_HOPS:
            return TxtAnswer(
                shown, "failure", detail=f"CNAME chain longer than {MAX_CNAME_HOPS} hops: {text}"
            )
        current = target
