"""The server's counters and their Prometheus text exposition (format 0.0.4).

Counting is plain integer and float arithmetic on the event loop's thread (the store runner's
figures on its caller's side of the hop): no lock, no allocation per request once an
(operation, status) pair has been seen. ``/-/metrics`` (``http/endpoints.py``) reads the
figures at scrape time and writes them out with ``Exposition``.

Why not ``prometheus_client``: measured with timeit on this project's CI machine (2 cores),
per call, best of 5 x 1,000,000:

    prometheus_client Counter.labels(op, status).inc()   957 ns   (a lock, a label lookup)
    prometheus_client child.inc() (labels resolved)       302 ns   (a threading.Lock)
    prometheus_client Histogram child.observe()           597 ns
    plain attribute += 1                                   17 ns
    dict[key] = dict.get(key, 0) + 1                       55 ns
    list[bisect(bounds, x)] += 1                           71 ns

The project allows the hot path no more than an integer increment; the library's cheapest
call is a lock round-trip at 18x that. The exposition is about 80 lines here instead.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

# seconds; Prometheus' client defaults with a 0.5 ms step for cached answers
LATENCY_BOUNDS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = Mapping[str, str]


class Histogram:
    """Counts per ``le`` bucket (not cumulative: the exposition sums them), and the sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        return sum(self.counts)


class RequestMetrics:
    """What the requests aiohttp answered (the pipeline, the server's own endpoints, HTTP
    parse errors) add up to. The HTTP front counts its own answers (``FrontDoor.counters``)."""

    __slots__ = ("requests", "latency", "bytes_in", "bytes_out")

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}  # (operation, status) -> count
        self.latency: dict[str, Histogram] = {}  # operation -> seconds until the last byte
        self.bytes_in = 0  # request bodies
        self.bytes_out = 0  # response bodies

    def observe(self, operation: str, status: int, seconds: float, bytes_in: int,
                bytes_out: int) -> None:
        key = (operation, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        histogram = self.latency.get(operation)
        if histogram is None:
            histogram = self.latency[operation] = Histogram()
        histogram.observe(seconds)
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out


class TlsMetrics:
    """TLS connections on the HTTPS listener: accepted, handshakes completed. The ones that
    failed are the difference, less those still in their handshake (``pending``)."""

    __slots__ = ("accepted", "completed", "pending")

    def __init__(self) -> None:
        self.accepted = 0
        self.completed = 0
        self.pending: Collection[object] = ()  # set by runtime: a WeakSet of protocols

    @property
    def failed(self) -> int:
        return max(0, self.accepted - self.completed - len(self.pending))


def escape(value: str) -> str:
    """A label value as the text format writes it (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{escape(value)}"' for name, value in labels.items()) + "}"


class Exposition:
    """Builds one scrape's text: each family once, with its HELP and TYPE lines."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: Iterable[tuple[Labels, float]]) -> None:
        self._lines.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n")
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {_number(value)}\n")

    def one(self, name: str, kind: str, help_text: str, value: float) -> None:
        self.family(name, kind, help_text, [({}, value)])

    def histograms(self, name: str, help_text: str,
                   series: Iterable[tuple[Labels, Histogram]]) -> None:
        self._lines.append(f"# HELP {name} {help_text}\n# TYPE {name} histogram\n")
        for labels, histogram in series:
            running = 0
            for bound, count in zip((*histogram.bounds, math.inf), histogram.counts,
                                    strict=True):
                running += count
                self._lines.append(f"{name}_bucket{_labels({**labels, 'le': _number(bound)})}"
                                   f" {running}\n")
            self._lines.append(f"{name}_sum{_labels(labels)} {_number(histogram.total)}\n")
            self._lines.append(f"{name}_count{_labels(labels)} {running}\n")

    def text(self) -> bytes:
        return "".join(self._lines).encode()


class CertificateDays:
    """Days until each certificate's leaf expires, parsed off the loop (a worker thread) once
    per certificate text and remembered (bounded by the certificates the gateway holds)."""

    def __init__(self) -> None:
        self._not_after: dict[str, float] = {}  # chain PEM -> leaf notAfter (epoch seconds)

    async def days(self, chains: list[str], now: float) -> list[float]:
        missing = [chain for chain in set(chains) if chain not in self._not_after]
        if missing:
            import asyncio

            parsed = await asyncio.to_thread(lambda: [_not_after(c) for c in missing])
            if len(self._not_after) > 4 * max(len(chains), 1024):
                self._not_after.clear()
            self._not_after.update(zip(missing, parsed, strict=True))
        return [(self._not_after[chain] - now) / 86400 for chain in chains]


def _not_after(chain_pem: str) -> float:
    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificate(chain_pem.encode("ascii"))
    except ValueError:
        return math.nan
    return leaf.not_valid_after_utc.timestamp()


class ServerFigures:
    """One process's figures for ``/-/metrics``, read at scrape time from the objects that keep
    them (the runtime hands them over); see docs/operations.md for each metric's meaning."""

    def __init__(self, *, version: str, requests: RequestMetrics, tls: TlsMetrics,
                 front: Any, http_connections: Callable[[], int], read_cache: Any,
                 store: Any, bindings: Callable[[], int],
                 certificates: Callable[[], list[tuple[str, str]]],
                 ownership: Mapping[str, int], started: float) -> None:
        self.version = version
        self.requests = requests
        self.tls = tls
        self.front = front  # FrontDoor: .counters() and its integer attributes
        self.http_connections = http_connections
        self.read_cache = read_cache  # ReadCache: .hits, .misses
        self.store = store  # StoreRunner: .latency, .errors
        self.bindings = bindings
        self.certificates = certificates  # (source, chain PEM) of every certificate served
        self.ownership = ownership
        self.started = started
        self._days = CertificateDays()

    async def render(self) -> bytes:
        import time

        out = Exposition()
        out.family("ossutil_build_info", "gauge", "The server's version (value 1).",
                   [({"version": self.version}, 1)])
        out.one("ossutil_start_time_seconds", "gauge",
                "When this process started (Unix time).", self.started)
        requests = self.requests
        out.family("ossutil_requests_total", "counter",
                   "Requests answered by the pipeline (not the front), by operation and status.",
                   [({"operation": op, "status": str(status)}, count)
                    for (op, status), count in sorted(requests.requests.items())])
        out.histograms("ossutil_request_duration_seconds",
                       "Pipeline requests from head to last reply byte, by operation.",
                       [({"operation": op}, h) for op, h in sorted(requests.latency.items())])
        out.one("ossutil_request_bytes_total", "counter",
                "Request body bytes the pipeline read.", requests.bytes_in)
        out.one("ossutil_response_bytes_total", "counter",
                "Response body bytes the pipeline sent.", requests.bytes_out)
        front = self.front.counters()
        kinds = {"front_connections": "gauge", "object_cache_entries": "gauge",
                 "object_cache_bytes": "gauge"}
        for name, value in sorted(front.items()):
            out.one(f"ossutil_{name}", kinds.get(name, "counter"), _FRONT_HELP.get(name, name),
                    value)
        out.family("ossutil_connections_open", "gauge",
                   "Open client connections, by the layer holding them.",
                   [({"layer": "front"}, front.get("front_connections", 0)),
                    ({"layer": "pipeline"}, self.http_connections())])
        tls = self.tls
        out.one("ossutil_tls_connections_total", "counter",
                "TCP connections accepted on the HTTPS port.", tls.accepted)
        out.one("ossutil_tls_handshakes_total", "counter",
                "TLS handshakes completed.", tls.completed)
        out.one("ossutil_tls_handshake_failures_total", "counter",
                "HTTPS connections that closed before completing a handshake.", tls.failed)
        out.one("ossutil_bindings", "gauge",
                "Custom domains bound (this process's routing table).", self.bindings())
        certificates = self.certificates()
        days = await self._days.days([chain for _, chain in certificates], time.time())
        by_source: dict[str, list[float]] = {}
        for (source, _), left in zip(certificates, days, strict=True):
            by_source.setdefault(source, []).append(left)
        out.family("ossutil_certificates", "gauge", "TLS certificates served, by source.",
                   [({"source": s}, len(v)) for s, v in sorted(by_source.items())])
        out.family("ossutil_certificate_expiry_days", "gauge",
                   "Days until the soonest-expiring certificate of each source expires.",
                   [({"source": s}, round(min(v), 3)) for s, v in sorted(by_source.items())])
        out.family("ossutil_ownership_checks_total", "counter",
                   "DNS ownership checks (PutCname), by outcome.",
                   [({"outcome": name}, count) for name, count in self.ownership.items()])
        store = self.store
        out.histograms("ossutil_store_call_duration_seconds",
                       "Store calls awaited by the event loop, queueing included.",
                       [({}, store.latency)])
        out.family("ossutil_store_errors_total", "counter",
                   "Store calls that failed, by the OSS error they became.",
                   [({"code": code}, count) for code, count in sorted(store.errors.items())])
        cache = self.read_cache
        out.family("ossutil_cache_requests_total", "counter",
                   "Cache look-ups, by cache and result.",
                   [({"cache": "buckets", "result": "hit"}, cache.hits),
                    ({"cache": "buckets", "result": "miss"}, cache.misses),
                    ({"cache": "objects", "result": "hit"},
                     front.get("object_cache_hits_total", 0)),
                    ({"cache": "objects", "result": "miss"},
                     front.get("object_cache_misses_total", 0))])
        return out.text()


_FRONT_HELP = {
    "front_answered_total": "Requests the front answered from memory (not in requests_total).",
    "front_handed_off_total": "Connections the front handed to the pipeline.",
    "front_filled_total": "Cache misses the front read into the object cache itself.",
    "front_connections": "Connections the front holds (between requests).",
    "object_cache_entries": "Objects in the object cache.",
    "object_cache_bytes": "Bytes of object bodies in the object cache.",
    "object_cache_hits_total": "Object cache look-ups that found the object.",
    "object_cache_misses_total": "Object cache look-ups that did not.",
}
