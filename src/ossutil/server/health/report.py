"""One binding's health report, how the store keeps it (JSON), and how ``ossutil-server
domains`` prints the table (or ``--json``).

The certificate columns come from the binding as it is when printed (a certificate uploaded
after the last check shows at once); DNS, the served certificate, the renewal state and the
problems come from the last check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ossutil.server.models import Binding, Certificate, CertificateType

DAY_SECONDS = 86400
#: Fewer days than this before a certificate expires is a problem: under the 30 days left at
#: which a 90-day automatic certificate renews (two thirds of its life), with room for jitter
#: and retries, and three weeks' notice for an uploaded one.
EXPIRING_SOON_DAYS = 21

SOURCES = {CertificateType.UPLOAD: "uploaded", CertificateType.CAS: "cas",
           CertificateType.ACME: "automatic"}


def held_certificate(binding: Binding) -> Certificate | None:
    """The certificate the server serves for the binding: the uploaded one, else the
    automatic one (``Binding.served_certificate``)."""
    return binding.served_certificate


def source(certificate: Certificate | None) -> str:
    """``uploaded``, ``cas``, ``automatic`` or ``none``."""
    return "none" if certificate is None else SOURCES.get(certificate.type, certificate.type)


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days from ``now`` until ``not_after`` (negative once expired)."""
    return int((not_after - now).total_seconds() // DAY_SECONDS)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class DomainReport:
    """What one check of one binding found. ``dns_state``: ``ok``, ``dangling``, ``unknown``;
    ``served_state``: ``matches``, ``differs``, ``default`` (no certificate held: the server's
    default one is served), ``unreachable``, ``not-checked`` (no HTTPS listener);
    ``renewal_state`` (automatic certificates): ``ok``, ``failed``, ``pending`` or ``""``.
    ``problems``: one sentence each, saying what to do."""

    domain: str
    bucket: str
    checked_at: datetime
    dns_state: str
    dns_detail: str
    served_state: str
    served_fingerprint: str = ""
    served_detail: str = ""
    renewal_state: str = ""
    renewal_detail: str = ""
    problems: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        data = asdict(self)
        data["checked_at"] = iso(self.checked_at)
        data["problems"] = list(self.problems)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DomainReport:
        data = json.loads(text)
        data["checked_at"] = _from_iso(data["checked_at"])
        data["problems"] = tuple(data.get("problems", ()))
        return cls(**data)


def entry(binding: Binding, report: DomainReport | None, now: datetime) -> dict[str, Any]:
    """One binding as ``domains --json`` prints it."""
    held = held_certificate(binding)
    certificate: dict[str, Any] = {"source": source(held)}
    if held is not None:
        certificate.update(cert_id=held.cert_id, fingerprint=held.fingerprint,
                           not_after=iso(held.not_after),
                           days_left=days_left(held.not_after, now))
    out: dict[str, Any] = {"domain": binding.domain, "bucket": binding.bucket,
                           "certificate": certificate}
    if report is None:
        out.update(dns=None, served=None, renewal=None, problems=[], last_check=None)
        return out
    out["dns"] = {"state": report.dns_state, "detail": report.dns_detail}
    out["served"] = {"state": report.served_state, "fingerprint": report.served_fingerprint,
                     "detail": report.served_detail}
    out["renewal"] = ({"state": report.renewal_state, "detail": report.renewal_detail}
                      if report.renewal_state else None)
    out["problems"] = list(report.problems)
    out["last_check"] = iso(report.checked_at)
    return out


HEADERS = ("DOMAIN", "BUCKET", "DNS", "CERTIFICATE", "EXPIRES", "LAST CHECK")


def _expires(binding: Binding, now: datetime) -> str:
    held = held_certificate(binding)
    if held is None:
        return "-"
    left = days_left(held.not_after, now)
    when = held.not_after.astimezone(timezone.utc).strftime("%Y-%m-%d")
    if left < 0:
        return f"{when} (expired)"
    return f"{when} ({left} day{'' if left == 1 else 's'})"


def table(rows: Sequence[tuple[Binding, DomainReport | None]], now: datetime) -> str:
    """The ``domains`` table, then each binding's problems (``domain: problem``)."""
    if not rows:
        return "no domains are bound\n"
    lines = [HEADERS]
    for binding, report in rows:
        checked = "never"
        if report is not None:
            checked = report.checked_at.astimezone(timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%S UTC")
        lines.append((binding.domain, binding.bucket,
                      report.dns_state if report is not None else "-",
                      source(held_certificate(binding)), _expires(binding, now), checked))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS) - 1)]
    text = "".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
                   + "  " + line[-1] + "\n" for line in lines)
    problems = [f"{binding.domain}: {problem}\n" for binding, report in rows
                if report is not None for problem in report.problems]
    if problems:
        text += "\n" + "".join(problems)
    return text


def as_json(rows: Sequence[tuple[Binding, DomainReport | None]], now: datetime) -> str:
    return json.dumps([entry(binding, report, now) for binding, report in rows], indent=2) + "\n"

