"""TLS cost per request, per connection and per first handshake of a name: two source trees,
ECDSA P-256 against RSA-2048 certificates, in one interleaved run.

    git worktree add --detach /tmp/tls-before <commit>
    python bench/tls_bench.py --before /tmp/tls-before/src [--after src] [--seconds 3] [--rounds 2]

For each tree (``PYTHONPATH=<tree>``) two servers run on core 0: one with the generated default
certificate (ECDSA P-256), one with ``--tls-cert`` RSA-2048. Each serves a public-read bucket
with a 1 KiB object, bound to ``bench.example.com`` (ECDSA P-256 attached) and
``bench-rsa.example.com`` (RSA-2048 attached). ``wrk -t1 -c64`` on core 1 loads ``GET`` of the
object by URL host, which wrk sends as SNI; a wrk script resolves every host to 127.0.0.1 (no
/etc/hosts entry needed):

- keep-alive: one handshake per connection, then requests;
- ``Connection: close``: a new connection per request, which wrk resumes (it keeps the
  session across ``SSL_clear``);
- full: the same with an LD_PRELOAD shim (bench/dataplane.py's) that drops the session, so each
  connection is a full handshake.

``first handshake``: N new domains are bound with an ECDSA certificate each; for each, the first
TLS 1.3 handshake naming it (no session) and then a second one, timed by a Python client; the
medians. Before this change the first one built the name's context inside the SNI callback.
PutCname (with the certificate) is timed too: it now waits for the context to be built.

Timings are printed, never asserted; ratios are between figures of this one run.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (after the path set-up)
from dataplane import NO_RESUME_C, RESOLVE_LUA  # noqa: E402

from ossutil.server.certs.tls import generate_self_signed  # noqa: E402

EC_DOMAIN, RSA_DOMAIN = common.DOMAIN, common.RSA_DOMAIN


def rsa_pair(*names: str) -> tuple[str, str]:
    """A self-signed RSA-2048 pair for ``names`` (generate_self_signed makes ECDSA)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


@contextmanager
def tree(src: str) -> Iterator[None]:
    """Servers started inside run ``src``'s code (start_server passes os.environ on)."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src
    try:
        yield
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def handshake_ms(port: int, name: str) -> float:
    """One full TLS 1.3 handshake naming ``name`` (no session), in milliseconds."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        began = time.perf_counter()
        with context.wrap_socket(raw, server_hostname=name) as tls:
            elapsed = time.perf_counter() - began
            der = tls.getpeercert(binary_form=True)
            assert der is not None and name.encode() in der, f"{name}: not its certificate"
    return elapsed * 1000


def first_handshakes(endpoint: str, port: int, count: int, label: str) -> dict[str, float]:
    first, second, put = [], [], []
    for i in range(count):
        domain = f"first{i}-{label}.example.com"
        chain, key = generate_self_signed([domain])
        began = time.perf_counter()
        common.bind(endpoint, common.BUCKET, domain, chain, key.decode())
        put.append((time.perf_counter() - began) * 1000)
        first.append(handshake_ms(port, domain))
        second.append(handshake_ms(port, domain))
    return {"first": statistics.median(first), "second": statistics.median(second),
            "putcname": statistics.median(put)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the baseline tree's src/ directory")
    parser.add_argument("--after", default=str(common.ROOT / "src"), help="default: this checkout")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--first", type=int, default=20, help="domains for the first-handshake"
                        " figures (default 20)")
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    values: dict[tuple[str, str], list[float]] = {}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        lua = scratch / "resolve.lua"
        lua.write_text(RESOLVE_LUA)
        (scratch / "no_resume.c").write_text(NO_RESUME_C)
        shim = scratch / "no_resume.so"
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(shim),
                        str(scratch / "no_resume.c"), "-ldl"], check=True)
        rsa_default = rsa_pair("localhost")
        (scratch / "rsa.crt").write_text(rsa_default[0])
        (scratch / "rsa.key").write_text(rsa_default[1])
        ec_attached = generate_self_signed([EC_DOMAIN])
        attached = {EC_DOMAIN: (ec_attached[0], ec_attached[1].decode()),
                    RSA_DOMAIN: rsa_pair(RSA_DOMAIN)}
        servers: dict[tuple[str, str], common.Server] = {}
        try:
            for name, src in trees.items():
                with tree(src):
                    for default in ("ecdsa", "rsa"):
                        extra = ([] if default == "ecdsa" else
                                 ["--tls-cert", str(scratch / "rsa.crt"),
                                  "--tls-key", str(scratch / "rsa.key")])
                        server = common.start_server(scratch / f"{name}-{default}", extra,
                                                     https=True)
                        servers[name, default] = server
                        common.prepare_bucket(server.endpoint, attached)
            first = {name: first_handshakes(servers[name, "ecdsa"].endpoint,
                                            servers[name, "ecdsa"].https_port or 0,
                                            args.first, name) for name in trees}
            cases = [("default ECDSA P-256", "ecdsa", "localhost", f"/{common.BUCKET}/small.txt"),
                     ("default RSA-2048", "rsa", "localhost", f"/{common.BUCKET}/small.txt"),
                     ("attached ECDSA P-256", "ecdsa", EC_DOMAIN, "/small.txt"),
                     ("attached RSA-2048", "ecdsa", RSA_DOMAIN, "/small.txt")]
            modes = [("keep-alive", {}, None), ("close, resumed", {"Connection": "close"}, None),
                     ("close, full handshake", {"Connection": "close"}, shim)]
            for _ in range(args.rounds):
                for label, default, host, path in cases:
                    for mode, headers, preload in modes:
                        for name in trees:
                            port = servers[name, default].https_port
                            result = common.wrk(f"https://{host}:{port}{path}", headers,
                                                args.seconds, script=lua,
                                                env={"LD_PRELOAD": str(preload)}
                                                if preload else None)
                            if result.bad:  # printed under the table, not hidden
                                failures.append(f"{label}, {mode} ({name}): {result.bad} "
                                                "failed requests or socket errors")
                            values.setdefault((f"{label}, {mode}", name), []).append(
                                result.requests_per_second)
        finally:
            for server in servers.values():
                server.stop()
    print(f"{'1 KiB GET over TLS, req/s (wrk -t1 -c64)':<52} {'before':>9} {'after':>9} "
          f"{'after/before':>13}")
    for label in dict.fromkeys(key for key, _ in values):
        before = statistics.median(values[label, "before"])
        after = statistics.median(values[label, "after"])
        print(f"{label:<52} {before:>9.0f} {after:>9.0f} {after / before:>13.2f}")
    print(f"(medians of {args.rounds} interleaved rounds of {args.seconds:g} s)")
    for failure in failures:
        print("  wrk reported:", failure)
    print(f"\n{f'per new name, median of {args.first}, ms':<52} {'before':>9} {'after':>9}")
    for key, label in (("first", "first TLS 1.3 handshake naming it"),
                       ("second", "second handshake (no session)"),
                       ("putcname", "PutCname attaching its certificate")):
        print(f"{label:<52} {first['before'][key]:>9.2f} {first['after'][key]:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
