"""The baselines bench/dataplane.py measures ours against, each as small as it can be, so a ratio
says what our own code costs on top of the HTTP stack under it:

- ``python bench/_bench_apps.py aiohttp PORT FILE``: a bare ``web.Application`` answering every
  GET with the bytes of FILE (the stack ours is built on, with nothing of ours);
- ``python -m uvicorn _bench_apps:starlette_app`` (``--app-dir bench``, FILE from
  ``BENCH_BODY_FILE``): one Starlette route answering the same bytes as XML;
- ``nginx_config``: one nginx worker serving files, a fixed XML reply and two TLS listeners;
- ``certificate``: a self-signed ECDSA P-256 or RSA-2048 certificate, for nginx and ours alike.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SERVER_HEADER = "bench"


def certificate(names: Sequence[str], kind: str) -> tuple[str, str]:
    """(chain PEM, PKCS#8 key PEM) of a new self-signed certificate; ``kind`` "ec" or "rsa"."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    chain = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return chain, key_pem


def _nginx_string(text: str) -> str:
    """``text`` as one single-quoted nginx string (nginx has no escape for ``$``)."""
    if "$" in text:
        raise ValueError("nginx would read '$' as a variable")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def nginx_config(directory: Path, *, http_port: int, tls_ports: dict[str, int],
                 xml: bytes) -> Path:
    """Write ``nginx.conf`` under ``directory``: static files from ``directory/www`` on
    ``http_port`` and on each TLS port (``tls_ports``: kind -> port, certificate files
    ``<kind>.pem``/``<kind>.key`` beside it), ``/listcname`` answering ``xml``."""
    for sub in ("www", "tmp"):
        (directory / sub).mkdir(exist_ok=True)
    common = f"""
        root {directory / "www"};
        location = /listcname {{
            default_type application/xml;
            return 200 {_nginx_string(xml.decode())};
        }}"""
    servers = [f"""
    server {{
        listen 127.0.0.1:{http_port};{common}
    }}"""]
    for kind, port in tls_ports.items():
        servers.append(f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {directory / f"{kind}.pem"};
        ssl_certificate_key {directory / f"{kind}.key"};
        ssl_protocols TLSv1.3;{common}
    }}""")
    temp = directory / "tmp"
    config = f"""# written by bench/_bench_apps.py: one worker, as ours is one process
worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    # ours closes no keep-alive connection after N requests; nginx's default 1000 would
    # make it reconnect (and over TLS, handshake) every 1000 requests
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{"".join(servers)}
}}
"""
    path = directory / "nginx.conf"
    path.write_text(config)
    return path


def _body() -> bytes:
    return Path(os.environ["BENCH_BODY_FILE"]).read_bytes()


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = _body()

    async def reply(request: Request) -> Response:
        return Response(body, media_type="application/xml",
                        headers={"x-oss-request-id": "5C1B138A109F4E405B2D8AEF"})

    return Starlette(routes=[Route("/{path:path}", reply, methods=["GET"])])


def __getattr__(name: str) -> Any:
    # ``starlette_app`` is built when uvicorn imports it, so that importing this module (the
    # test does) needs neither starlette nor BENCH_BODY_FILE.
    if name == "starlette_app":
        return _starlette()
    raise AttributeError(name)


def serve_aiohttp(port: int, body: bytes) -> None:
    from aiohttp import web

    async def reply(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/{tail:.*}", reply)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "aiohttp":
        serve_aiohttp(int(sys.argv[2]), Path(sys.argv[3]).read_bytes())
    else:
        raise SystemExit("usage: _bench_apps.py aiohttp PORT FILE")
