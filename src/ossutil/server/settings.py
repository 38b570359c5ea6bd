"""Server settings, filled from ``ossutil-server serve`` options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The backends ``--store`` names, as import strings: server/app.py imports only the chosen one
# (so SQLite never imports a PostgreSQL driver), and ``serve --store`` offers exactly these.
STORES = {
    "sqlite": "ossutil.server.storage.sqlite:SqliteStore",
    "postgres": "ossutil.server.storage.postgres:PostgresStore",
}

# Where object content goes, per store: processes sharing PostgreSQL share objects too.
BLOB_STORES = {
    "sqlite": "ossutil.server.storage.files:FileBlobStore",
    "postgres": "ossutil.server.storage.postgres_blobs:PostgresBlobStore",
}

# Stores several server processes share: what each process would otherwise keep in its own
# data dir (the generated default TLS certificate) lives in the store instead.
SHARED_STORES = frozenset({"postgres"})


class StartupError(Exception):
    """A setting the server cannot start with; ``ossutil-server`` prints it in one line."""


@dataclass
class Settings:
    data_dir: Path = Path("./ossutil-data")
    host: str = "127.0.0.1"
    port: int = 9000
    region: str = "cn-hangzhou"
    endpoint_domain: str = ""  # default: oss-<region>.localhost
    dns_servers: list[tuple[str, int]] = field(default_factory=list)
    dns_zone_file: Path | None = None
    dns_verify: bool = True
    https_port: int | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    store: str = "sqlite"
    database_url: str = field(default="", repr=False)  # may hold a password
    max_xml_body: int = 1 << 20  # 1 MiB: a certificate chain fits easily
    auth_poll_interval: float = 0.5
    keepalive_timeout: float = 75.0  # seconds an idle keep-alive connection stays open (nginx)
    header_timeout: float = 60.0  # seconds for a connection's first request headers (slowloris)
    drain_timeout: float = 30.0  # SIGTERM: seconds in-flight requests get to finish
    reuse_port: bool = False  # SO_REUSEPORT on the listeners: several worker processes, one port
    object_cache_bytes: int = 64 << 20  # small objects served from memory (0: no object cache)
    object_cache_max_object: int = 64 << 10  # the largest object the cache keeps
    # domain health (server/health/): seconds between checks of every binding, and the
    # addresses clients reach this server at (a domain resolving to them points here)
    health_interval: float = 3600.0
    public_addresses: list[str] = field(default_factory=list)
    # automatic HTTPS (server/acme/): on when acme_directory is set
    acme_directory: str = ""
    acme_email: str = ""
    acme_ca_bundle: Path | None = None
    acme_challenge: str = "http-01"  # or "tls-alpn-01"
    acme_eab_kid: str = ""
    acme_eab_hmac_key: str = field(default="", repr=False)  # a secret
    acme_caa_identities: list[str] = field(default_factory=list)
    acme_retry_base: float = 10.0  # seconds before the first retry of a failed order

    def __post_init__(self) -> None:
        if not self.endpoint_domain:
            self.endpoint_domain = f"oss-{self.region}.localhost"
