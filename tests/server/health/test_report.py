"""``ossutil-server domains``' table and JSON for bindings never checked, checked, expired."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from ossutil.server.health.report import DomainReport, as_json, table
from ossutil.server.models import Binding, BindingStatus, Certificate, CertificateType

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)


def binding(domain: str, days: float | None = None,
            kind: CertificateType = CertificateType.UPLOAD) -> Binding:
    cert = None
    if days is not None:
        cert = Certificate("c-" + domain, "o", kind, "PEM", b"k", "AA:BB", NOW - timedelta(days=9),
                           NOW + timedelta(days=days), NOW)
    if kind is CertificateType.ACME:
        return Binding(domain, "b1", BindingStatus.ENABLED, NOW, NOW, auto_certificate=cert)
    return Binding(domain, "b1", BindingStatus.ENABLED, NOW, NOW, cert_id=cert and cert.cert_id,
                   certificate=cert)


def test_unchecked_checked_and_expired_bindings() -> None:
    checked = DomainReport("b.example.test", "b1", NOW - timedelta(minutes=3), "ok", "CNAME",
                           "matches", "AA:BB", "served", problems=())
    expired = DomainReport("c.example.test", "b1", NOW - timedelta(hours=1), "unknown", "?",
                           "matches", "AA:BB", "served",
                           problems=("certificate: c-c.example.test expired.",))
    rows = [(binding("a.example.test"), None),
            (binding("b.example.test", 1.5, CertificateType.ACME), checked),
            (binding("c.example.test", -2), expired)]
    assert table(rows, NOW) == (
        "DOMAIN          BUCKET  DNS      CERTIFICATE  EXPIRES               LAST CHECK\n"
        "a.example.test  b1      -        none         -                     never\n"
        "b.example.test  b1      ok       automatic    2026-12-04 (1 day)    "
        "2026-12-02 11:57:00 UTC\n"
        "c.example.test  b1      unknown  uploaded     2026-11-30 (expired)  "
        "2026-12-02 11:00:00 UTC\n"
        "\n"
        "c.example.test: certificate: c-c.example.test expired.\n")
    listed = json.loads(as_json(rows, NOW))
    assert listed[0] == {"domain": "a.example.test", "bucket": "b1",
                         "certificate": {"source": "none"}, "dns": None, "served": None,
                         "renewal": None, "problems": [], "last_check": None}
    assert listed[1]["certificate"] == {"source": "automatic", "cert_id": "c-b.example.test",
                                        "fingerprint": "AA:BB",
                                        "not_after": "2026-12-04T00:00:00Z", "days_left": 1}
    assert listed[2]["certificate"]["days_left"] == -2
    assert listed[2]["last_check"] == "2026-12-02T11:00:00Z"
