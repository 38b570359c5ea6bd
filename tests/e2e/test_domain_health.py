"""Domain health end to end: a real server on loopback, a real DNS server, real certificates.

Bindings in every state (pointing here by CNAME, by ``--public-address``, dangling, behind a
"proxy" serving another certificate, expiring soon), then ``ossutil-server domains --check``
(the running server checks them on request) and its exact table and ``--json``; a dangling
binding is marked in the store and unmarked once its DNS points back; the periodic round runs
on its own with ``--health-interval``.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import oss2
import pytest
from tests.support.certs import CertFactory, tls_listener
from tests.support.dns_server import DnsServer
from tests.support.server import RunningServer, start_server

from ossutil.server.storage.sqlite import SqliteStore

ENDPOINT_DOMAIN = "oss-cn-hangzhou.localhost"
DAY = timedelta(days=1)


def domains(server: RunningServer, *args: str,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ossutil.server.main", "domains",
                           "--data-dir", str(server.data_dir), *args],
                          capture_output=True, text=True, timeout=timeout)


def sdk(server: RunningServer, bucket: str) -> oss2.Bucket:
    auth = oss2.AuthV4(server.access_key_id, server.access_key_secret)
    return oss2.Bucket(auth, server.endpoint, bucket, region=server.region)


def bind(client: oss2.Bucket, dns: DnsServer, domain: str,
         pair: tuple[str, str] | None = None) -> str:
    """Bind ``domain`` (with ``pair`` attached); the fingerprint ListCname lists, or ""."""
    dns.txt(f"_dnsauth.{domain}", client.create_bucket_cname_token(domain).token)
    cert = None if pair is None else oss2.models.CertInfo(certificate=pair[0],
                                                         private_key=pair[1])
    client.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain, cert))
    for cname in client.list_bucket_cname().cname:
        if cname.domain == domain and cname.certificate is not None:
            return str(cname.certificate.fingerprint)
    return ""


def leaf(ca: CertFactory, name: str, days: float) -> tuple[str, str]:
    """A certificate for ``name`` valid ``days`` more days (plus half a day, so that whole days
    left do not depend on when the test runs)."""
    now = datetime.now(UTC)
    return ca.leaf(name, not_before=now - DAY, not_after=now + timedelta(days=days + 0.5))


def expires(days: int) -> str:
    return f"{(datetime.now(UTC) + timedelta(days=days + 0.5)).strftime('%Y-%m-%d')} ({days} days)"


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def health_server(tmp_path: Path, dns: DnsServer) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data", ["--dns-server", dns.nameserver,
                                               "--public-address", "127.0.0.1",
                                               "--public-address", "127.0.0.2"], https=True)
    yield running
    running.stop()


def test_domains_reports_every_state_exactly(health_server: RunningServer, dns: DnsServer,
                                             ca: CertFactory, tmp_path: Path) -> None:
    server = health_server
    client = sdk(server, "photos")
    client.create_bucket()
    good = leaf(ca, "good.example.test", 365)
    good_fp = bind(client, dns, "good.example.test", good)
    dns.cname("good.example.test", f"photos.{ENDPOINT_DOMAIN}")
    dns.a(f"photos.{ENDPOINT_DOMAIN}", "127.0.0.1")
    bind(client, dns, "gone.example.test")
    dns.cname("gone.example.test", "elsewhere.example.net")
    dns.a("elsewhere.example.net", "192.0.2.7")
    soon_fp = bind(client, dns, "soon.example.test", leaf(ca, "soon.example.test", 10))
    dns.a("soon.example.test", "127.0.0.1")
    proxied_fp = bind(client, dns, "proxied.example.test", leaf(ca, "proxied.example.test", 90))
    dns.a("proxied.example.test", "127.0.0.2")
    bind(client, dns, "nxdomain.example.test")
    dns.remove("_dnsauth.nxdomain.example.test")

    stale = leaf(ca, "proxied.example.test", 3)
    with tls_listener(stale, tmp_path, ("127.0.0.2", server.https_port)):
        checked = domains(server, "--check", "--json")
    assert (checked.returncode, checked.stderr) == (0, "")
    listed = json.loads(checked.stdout)
    stale_fp = _fingerprint(stale[0])
    when = {entry["domain"]: entry.pop("last_check") for entry in listed}
    for entry in listed:
        cert = entry["certificate"]
        if cert["source"] != "none":
            assert cert.pop("not_after").endswith("Z") and cert.pop("cert_id")
    default_fp = listed[0]["served"]["fingerprint"]
    at = f"127.0.0.1:{server.https_port}"
    gone_problem = ("DNS: CNAME gone.example.test -> elsewhere.example.net, resolves to "
                    "192.0.2.7; not this service's: 192.0.2.7 (its addresses: 127.0.0.1, "
                    "127.0.0.2). Point gone.example.test at photos.oss-cn-hangzhou.localhost "
                    "(CNAME) or 127.0.0.1, 127.0.0.2 (A/AAAA), or DeleteCname it if it moved "
                    "away for good; until then it gets no new automatic certificate.")
    nx_problem = ("DNS: nxdomain.example.test does not exist in DNS (NXDOMAIN). Point "
                  "nxdomain.example.test at photos.oss-cn-hangzhou.localhost (CNAME) or "
                  "127.0.0.1, 127.0.0.2 (A/AAAA), or DeleteCname it if it moved away for "
                  "good; until then it gets no new automatic certificate.")
    proxied_problem = (f"TLS: 127.0.0.2:{server.https_port} serves {stale_fp} (expires "
                       f"{_not_after(stale[0])}), not the held {proxied_fp}. Clients get a "
                       "certificate this server does not hold for proxied.example.test: if a "
                       "proxy or CDN is in front, give it the certificate shown by ListCname; "
                       "else see this server's log for a certificate that cannot be loaded and "
                       "upload it again with PutCname.")
    soon_problem_start = "certificate: "
    soon = listed[4]
    assert len(soon["problems"]) == 1 and soon["problems"][0].startswith(soon_problem_start)
    soon_problem = soon["problems"][0]
    assert soon_problem.endswith(
        f"expires in 10 days ({_not_after_of_listed(client, 'soon.example.test')}). Upload a "
        "renewed certificate with PutCname (bucket-cname --method put --item certificate).")
    assert listed == [
        {"domain": "gone.example.test", "bucket": "photos", "certificate": {"source": "none"},
         "dns": {"state": "dangling",
                 "detail": "CNAME gone.example.test -> elsewhere.example.net, resolves to "
                           "192.0.2.7; not this service's: 192.0.2.7 (its addresses: "
                           "127.0.0.1, 127.0.0.2)"},
         "served": {"state": "default", "fingerprint": default_fp,
                    "detail": f"{at} serves the server's default certificate {default_fp}: "
                              "no certificate is held for gone.example.test"},
         "renewal": None, "problems": [gone_problem]},
        {"domain": "good.example.test", "bucket": "photos",
         "certificate": {"source": "uploaded", "fingerprint": good_fp, "days_left": 365},
         "dns": {"state": "ok",
                 "detail": f"CNAME good.example.test -> photos.{ENDPOINT_DOMAIN}"},
         "served": {"state": "matches", "fingerprint": good_fp,
                    "detail": f"{at} serves the held certificate {good_fp}"},
         "renewal": None, "problems": []},
        {"domain": "nxdomain.example.test", "bucket": "photos", "certificate": {"source": "none"},
         "dns": {"state": "dangling",
                 "detail": "nxdomain.example.test does not exist in DNS (NXDOMAIN)"},
         "served": {"state": "default", "fingerprint": default_fp,
                    "detail": f"{at} serves the server's default certificate {default_fp}: "
                              "no certificate is held for nxdomain.example.test"},
         "renewal": None, "problems": [nx_problem]},
        {"domain": "proxied.example.test", "bucket": "photos",
         "certificate": {"source": "uploaded", "fingerprint": proxied_fp, "days_left": 90},
         "dns": {"state": "ok", "detail": "resolves to 127.0.0.2"},
         "served": {"state": "differs", "fingerprint": stale_fp,
                    "detail": proxied_problem[len("TLS: "):proxied_problem.index(". Clients")]},
         "renewal": None, "problems": [proxied_problem]},
        {"domain": "soon.example.test", "bucket": "photos",
         "certificate": {"source": "uploaded", "fingerprint": soon_fp, "days_left": 10},
         "dns": {"state": "ok", "detail": "resolves to 127.0.0.1"},
         "served": {"state": "matches", "fingerprint": soon_fp,
                    "detail": f"{at} serves the held certificate {soon_fp}"},
         "renewal": None, "problems": [soon_problem]},
    ]

    table = domains(server)
    assert (table.returncode, table.stderr) == (0, "")
    stamp = {d: datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M:%S UTC")
             for d, t in when.items()}
    assert table.stdout == (
        "DOMAIN                 BUCKET  DNS       CERTIFICATE  EXPIRES                "
        "LAST CHECK\n"
        f"gone.example.test      photos  dangling  none         -                      "
        f"{stamp['gone.example.test']}\n"
        f"good.example.test      photos  ok        uploaded     {expires(365)}  "
        f"{stamp['good.example.test']}\n"
        f"nxdomain.example.test  photos  dangling  none         -                      "
        f"{stamp['nxdomain.example.test']}\n"
        f"proxied.example.test   photos  ok        uploaded     {expires(90)}   "
        f"{stamp['proxied.example.test']}\n"
        f"soon.example.test      photos  ok        uploaded     {expires(10)}   "
        f"{stamp['soon.example.test']}\n"
        "\n"
        f"gone.example.test: {gone_problem}\n"
        f"nxdomain.example.test: {nx_problem}\n"
        f"proxied.example.test: {proxied_problem}\n"
        f"soon.example.test: {soon_problem}\n")

    store = SqliteStore(server.data_dir / "ossutil.db")
    try:
        flags = {b.domain: b.dangling for b in store.all_bindings()}
    finally:
        store.close()
    assert flags == {"good.example.test": False, "gone.example.test": True,
                     "soon.example.test": False, "proxied.example.test": False,
                     "nxdomain.example.test": True}

    # the domain points back: the next check unmarks it
    dns.cname("gone.example.test", f"photos.{ENDPOINT_DOMAIN}")
    again = domains(server, "--check", "--json")
    assert again.returncode == 0
    back = {e["domain"]: e for e in json.loads(again.stdout)}["gone.example.test"]
    assert back["dns"] == {"state": "ok",
                           "detail": f"CNAME gone.example.test -> photos.{ENDPOINT_DOMAIN}"}
    store = SqliteStore(server.data_dir / "ossutil.db")
    try:
        binding = store.get_binding("gone.example.test")
    finally:
        store.close()
    assert binding is not None and binding.dangling is False


def test_a_dns_outage_is_unknown_and_marks_nothing(tmp_path: Path, dns: DnsServer,
                                                  ca: CertFactory) -> None:
    server = start_server(tmp_path / "data", ["--dns-server", dns.nameserver])
    try:
        client = sdk(server, "photos")
        client.create_bucket()
        bind(client, dns, "www.example.test")
        dns.servfail("www.example.test")
        checked = domains(server, "--check", "--json")
        assert (checked.returncode, checked.stderr) == (0, "")
        [entry] = json.loads(checked.stdout)
        assert entry["dns"] == {
            "state": "unknown",
            "detail": f"DNS look-up failed: SERVFAIL from {dns.nameserver}"}
        assert entry["served"] == {"state": "not-checked", "fingerprint": "",
                                   "detail": "no HTTPS listener (--https-port)"}
        assert entry["problems"] == [
            f"DNS: DNS look-up failed: SERVFAIL from {dns.nameserver}. The next check tries "
            "again; if this persists, check the server's --dns-server."]
        # addresses but no --public-address: this server cannot tell, and says what to give
        dns.remove("www.example.test")
        dns.a("www.example.test", "203.0.113.5")
        [entry] = json.loads(domains(server, "--check", "--json").stdout)
        assert entry["dns"]["state"] == "unknown"
        assert entry["problems"] == [
            "DNS: resolves to 203.0.113.5, not a CNAME to oss-cn-hangzhou.localhost, and this "
            "service's own addresses are not known to compare. Start the server with "
            "--public-address ADDRESS for each address it is reached at."]
        store = SqliteStore(server.data_dir / "ossutil.db")
        try:
            binding = store.get_binding("www.example.test")
        finally:
            store.close()
        assert binding is not None and binding.dangling is False
    finally:
        server.stop()


def test_check_without_a_running_server_times_out_clearly(tmp_path: Path) -> None:
    server = RunningServer(process=None, data_dir=tmp_path / "data",  # type: ignore[arg-type]
                           endpoint="http://127.0.0.1:1")
    done = domains(server, "--check", "--timeout", "0.5")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("ossutil-server: no server finished a health check within 0.5 s; "
                           "is `ossutil-server serve` running on this store?\n")
    listed = domains(server)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "no domains are bound\n", "")


def test_the_periodic_round_runs_on_its_own(tmp_path: Path, dns: DnsServer) -> None:
    server = start_server(tmp_path / "data", ["--dns-server", dns.nameserver,
                                              "--health-interval", "1"])
    try:
        client = sdk(server, "photos")
        client.create_bucket()
        bind(client, dns, "www.example.test")
        dns.cname("www.example.test", f"photos.{ENDPOINT_DOMAIN}")
        deadline = time.monotonic() + 20
        while True:
            [entry] = json.loads(domains(server, "--json").stdout)
            if entry["last_check"] is not None:
                break
            assert time.monotonic() < deadline, "no periodic round within 20 s"
            time.sleep(0.5)
        assert entry["dns"]["state"] == "ok"
    finally:
        server.stop()


def _fingerprint(chain_pem: str) -> str:
    from ossutil.server.health.checker import fingerprint

    return fingerprint(ssl.PEM_cert_to_DER_cert(chain_pem))


def _not_after(chain_pem: str) -> str:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(chain_pem.encode())
    return cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_after_of_listed(client: oss2.Bucket, domain: str) -> str:
    for cname in client.list_bucket_cname().cname:
        if cname.domain == domain:
            text = cname.certificate.valid_end_date  # OpenSSL's form: "Feb  1 00:00:00 2025 GMT"
            moment = datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT")
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise AssertionError(domain)


def test_an_automatic_certificate_is_reported_with_its_renewal(
        health_server: RunningServer, dns: DnsServer, ca: CertFactory) -> None:
    """What the ACME service stores (a sealed automatic certificate, then a failed renewal) is
    served by SNI and reported: source ``automatic``, served = held, the renewal's error."""
    from ossutil.certcheck import describe_certificate
    from ossutil.server.certs.keystore import SecretBox
    from ossutil.server.models import Certificate, CertificateType

    server = health_server
    client = sdk(server, "photos")
    client.create_bucket()
    bind(client, dns, "auto.example.test")
    dns.cname("auto.example.test", f"photos.{ENDPOINT_DOMAIN}")
    dns.a(f"photos.{ENDPOINT_DOMAIN}", "127.0.0.1")
    chain, key = leaf(ca, "auto.example.test", 89)
    facts = describe_certificate(chain)
    box = SecretBox.from_data_dir(server.data_dir, {})
    now = datetime.now(UTC)
    certificate = Certificate("acme-0123456789abcdef", "owner", CertificateType.ACME, chain,
                              box.encrypt(key.encode(), context=b"acme-0123456789abcdef"),
                              facts.fingerprint, facts.not_before, facts.not_after, now)
    store = SqliteStore(server.data_dir / "ossutil.db")
    try:
        assert store.take_acme_lease("auto.example.test", "test", now, now + timedelta(minutes=1))
        assert store.put_acme_certificate("auto.example.test", "test", certificate,
                                          now + timedelta(days=60))
        assert store.take_acme_lease("auto.example.test", "test", now + timedelta(days=61),
                                     now + timedelta(days=61, minutes=1))
        store.record_acme_failure("auto.example.test", "test", now,
                                  "urn:ietf:params:acme:error:caa: CAA record forbids issuance",
                                  now + timedelta(minutes=5))
    finally:
        store.close()
    deadline = time.monotonic() + 10
    while True:  # the server polls the change and builds the certificate's TLS context
        [entry] = json.loads(domains(server, "--check", "--json").stdout)
        if entry["served"]["state"] == "matches" or time.monotonic() > deadline:
            break
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    next_at = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    failed = (f"the last order or renewal failed at {stamp}: urn:ietf:params:acme:error:caa: "
              f"CAA record forbids issuance; next attempt {next_at}")
    assert entry["certificate"] == {
        "source": "automatic", "cert_id": "acme-0123456789abcdef",
        "fingerprint": facts.fingerprint, "days_left": 89,
        "not_after": facts.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert entry["served"] == {
        "state": "matches", "fingerprint": facts.fingerprint,
        "detail": f"127.0.0.1:{server.https_port} serves the held certificate "
                  f"{facts.fingerprint}"}
    assert entry["renewal"] == {"state": "failed", "detail": failed}
    assert entry["problems"] == [
        f"automatic certificate: {failed}. Fix the cause (DNS, CAA, the CA's reachability); "
        "retries continue with back-off."]
    table = domains(server).stdout.splitlines()
    assert table[1].startswith(
        f"auto.example.test  photos  ok   automatic    {expires(89)}  ")
    assert table[3] == f"auto.example.test: {entry['problems'][0]}"


@pytest.mark.postgres
@pytest.mark.slow
def test_processes_sharing_postgresql_run_each_round_once(tmp_path: Path,
                                                         dns: DnsServer) -> None:
    """Two servers on one database: a requested round is run by one of them (the DNS server
    sees one A and one AAAA query for the domain), and either's store shows the reports."""
    import base64

    from tests.support import postgres

    key = base64.b64encode(bytes(range(100, 132))).decode()
    with postgres.fresh_database() as url:
        extra = ["--dns-server", dns.nameserver, "--store", "postgres", "--database-url", url]
        env = {"OSS_SERVER_MASTER_KEY": key}
        first = start_server(tmp_path / "a", extra, env=env)
        second = start_server(tmp_path / "b", extra, env=env)
        try:
            client = sdk(first, "photos")
            client.create_bucket()
            bind(client, dns, "www.example.test")
            dns.cname("www.example.test", f"photos.{ENDPOINT_DOMAIN}")
            dns.queries.clear()
            done = subprocess.run(
                [sys.executable, "-m", "ossutil.server.main", "domains", "--check", "--json",
                 "--store", "postgres", "--database-url", url, "--data-dir",
                 str(tmp_path / "c")], capture_output=True, text=True, timeout=60,
                env={**os.environ, "OSS_SERVER_MASTER_KEY": key})
            assert (done.returncode, done.stderr) == (0, "")
            [entry] = json.loads(done.stdout)
            assert entry["dns"]["state"] == "ok"
            asked = [q for q in dns.queries if q[0] == "www.example.test"]
            assert sorted(asked) == [("www.example.test", "A"), ("www.example.test", "AAAA")]
        finally:
            first.stop()
            second.stop()


@pytest.mark.slow
def test_a_domain_moved_away_is_reported_dangling_and_gets_no_new_order(
        tmp_path: Path, dns: DnsServer) -> None:
    """With ACME on (Pebble): the domain's DNS moves away, ``domains --check`` reports it
    dangling, its due renewal is not ordered (Pebble counts one order); once DNS points back the
    next check unmarks it and the renewal is ordered."""
    from tests.e2e.test_acme import start, verified, wait_for

    with contextlib.contextmanager(start)(tmp_path, dns,
                                          extra=("--public-address", "127.0.0.1")) as acme:
        domain = "moved.health.example"
        acme.bind(domain)
        _, _, first = wait_for("the first certificate", verified(acme, domain))
        assert len(acme.ca.orders()) == 1
        dns.a(domain, "192.0.2.50")
        checked = domains(acme.server, "--check", "--json")
        assert (checked.returncode, checked.stderr) == (0, "")
        [entry] = json.loads(checked.stdout)
        assert entry["dns"] == {"state": "dangling",
                                "detail": "resolves to 192.0.2.50; not this service's: "
                                          "192.0.2.50 (its addresses: 127.0.0.1)"}
        assert (entry["certificate"]["source"], entry["renewal"]["state"]) == ("automatic",
                                                                               "ok")
        store = SqliteStore(acme.server.data_dir / "ossutil.db")
        try:
            store.schedule_acme(domain, datetime.now(UTC))  # its renewal is due now
        finally:
            store.close()
        time.sleep(3)  # the ACME service looks at the due list every second
        assert len(acme.ca.orders()) == 1
        dns.a(domain, "127.0.0.1")
        [entry] = json.loads(domains(acme.server, "--check", "--json").stdout)
        assert entry["dns"] == {"state": "ok", "detail": "resolves to 127.0.0.1"}
        served = verified(acme, domain)

        def renewed() -> tuple[int, bytes, bytes] | None:
            result = served()
            return result if result is not None and result[2] != first else None

        wait_for("the renewal once it points here again", renewed)
        assert len(acme.ca.orders()) == 2


def test_a_public_address_this_host_cannot_reach_falls_back_to_its_own_listener(
        health_server: RunningServer, dns: DnsServer, ca: CertFactory) -> None:
    """Behind a NAT without hairpinning the server cannot reach its own public address: the
    served certificate is then compared at its own listener, and the report says so."""
    server = health_server
    client = sdk(server, "photos")
    client.create_bucket()
    fp = bind(client, dns, "nat.example.test", leaf(ca, "nat.example.test", 100))
    dns.a("nat.example.test", "127.0.0.2")  # a --public-address where nothing listens
    [entry] = json.loads(domains(server, "--check", "--json").stdout)
    assert entry["dns"] == {"state": "ok", "detail": "resolves to 127.0.0.2"}
    served = entry["served"]
    assert (served["state"], served["fingerprint"]) == ("matches", fp)
    assert served["detail"].startswith(
        f"no TLS handshake with 127.0.0.2:{server.https_port} for nat.example.test: "
        "ConnectionRefusedError: ")
    assert served["detail"].endswith(
        f"; instead 127.0.0.1:{server.https_port} serves the held certificate {fp}")
    assert entry["problems"] == []
