"""``ossutil-server``: ``serve`` and the ``user`` administration commands.

    ossutil-server serve [--data-dir DIR] [--host H] [--port P] [--region R]
                         [--endpoint-domain D] [--dns-server IP[:PORT]]... [--dns-zone-file F]
                         [--no-dns-verify] [--https-port N] [--tls-cert F --tls-key F]
                         [--store sqlite|postgres] [--database-url URL]
                         [--keepalive-timeout SECONDS] [--header-timeout SECONDS]
                         [--object-cache-bytes N] [--object-cache-max-object N]
                         [--workers N] [--log-level L] [--log-format text|json]
                         [--drain-timeout SECONDS]
                         [--public-address IP]... [--health-interval SECONDS]
                         [--acme-directory URL [--acme-email E] [--acme-ca-bundle PEM]
                          [--acme-challenge http-01|tls-alpn-01] [--acme-eab-kid K
                          --acme-eab-hmac-key B64] [--acme-caa-identity D]...]
    ossutil-server domains [--json] [--check [--timeout SECONDS]] --data-dir DIR
    ossutil-server user create NAME [--policy-file F] --data-dir DIR
    ossutil-server user policy NAME --policy-file F --data-dir DIR
    ossutil-server user list --data-dir DIR
    ossutil-server user delete NAME --data-dir DIR
    ossutil-server rotate-master-key --data-dir DIR     (server stopped; docs/operations.md)
    ossutil-server --version

Every command takes ``--store`` and ``--database-url`` (default: ``OSS_SERVER_DATABASE_URL``).
A store that cannot be opened (no URL, database unreachable, another master key) is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from ossutil.server.settings import STORES, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ossutil-server",
                                     description="An OSS-compatible bucket custom-domain server.")
    parser.add_argument("--version", action="version", version=f"ossutil-server {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server until SIGTERM/SIGINT")
    serve.add_argument("--data-dir", type=Path, default=Path("./ossutil-data"), metavar="DIR",
                       help="everything persistent: SQLite database, objects, keys "
                            "(default ./ossutil-data)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=9000,
                       help="HTTP port (default 9000; 0 picks a free one)")
    serve.add_argument("--region", default="cn-hangzhou",
                       help="region of the buckets and of V4 signatures (default cn-hangzhou)")
    serve.add_argument("--endpoint-domain", default="",
                       help="virtual-hosted base domain (default oss-<region>.localhost)")
    serve.add_argument("--dns-server", action="append", default=[], metavar="IP[:PORT]",
                       help="nameserver for ownership checks (repeatable)")
    serve.add_argument("--dns-zone-file", type=Path,
                       help="answer TXT look-ups from this RFC 1035 zone file (offline mode)")
    serve.add_argument("--no-dns-verify", action="store_true",
                       help="bind without DNS proof (test-double mode)")
    serve.add_argument("--https-port", type=int, help="also serve TLS on this port (SNI)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM",
                       help="default TLS certificate chain, for names without their own "
                            "(default: a generated self-signed one)")
    serve.add_argument("--tls-key", type=Path, metavar="PEM",
                       help="private key of --tls-cert (unencrypted PEM)")
    _store_options(serve)
    _acme_options(serve)
    _health_options(serve)
    serve.add_argument("--object-cache-bytes", type=_size, default=64 << 20, metavar="BYTES",
                       help="memory for objects served without a store read: bodies plus "
                            "about 1.4 KiB each (default 64 MiB; 0: no object cache)")
    serve.add_argument("--object-cache-max-object", type=_size, default=64 << 10,
                       metavar="BYTES", help="the largest object kept in memory; larger ones "
                                             "keep an open file instead (default 64 KiB)")
    serve.add_argument("--keepalive-timeout", type=_seconds, default=75.0, metavar="SECONDS",
                       help="close a keep-alive connection idle this long (default 75)")
    serve.add_argument("--header-timeout", type=_seconds, default=60.0, metavar="SECONDS",
                       help="close a connection whose request headers have not all arrived "
                            "this long after it opened (default 60)")
    serve.add_argument("--log-level", default="warning",
                       choices=("debug", "info", "warning", "error"),
                       help="stderr log level (info: one line per request; default warning); "
                            "<data-dir>/log-level wins, re-read on SIGHUP")
    serve.add_argument("--log-format", default="text", choices=("text", "json"),
                       help="text: name=value access lines; json: one JSON object per line")
    serve.add_argument("--drain-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                       help="on SIGTERM, let in-flight requests finish this long (default 30)")
    serve.add_argument("--workers", default="1", metavar="N",
                       help="server processes sharing the port (SO_REUSEPORT) under one "
                            "supervisor that restarts them (default 1: this process serves)")
    # a process a --workers supervisor started (server/workers.py); not for operators
    serve.add_argument("--as-worker", action="store_true", help=argparse.SUPPRESS)

    domains = sub.add_parser("domains", help="every bound domain's health: DNS, certificate, "
                                             "expiry, last check")
    domains.add_argument("--data-dir", type=Path, default=Path("./ossutil-data"))
    _store_options(domains)
    domains.add_argument("--json", action="store_true", help="one JSON document")
    domains.add_argument("--check", action="store_true",
                         help="have the running server check every binding now, and wait")
    domains.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                         help="how long --check waits for the round (default 60)")

    rotate = sub.add_parser("rotate-master-key",
                            help="re-seal every secret with a new master key (server stopped)")
    rotate.add_argument("--data-dir", type=Path, default=Path("./ossutil-data"), metavar="DIR")
    _store_options(rotate)

    user = sub.add_parser("user", help="manage RAM users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    for name, help_text in (("create", "create a RAM user and its AccessKey"),
                            ("policy", "replace a user's RAM policy"),
                            ("list", "list RAM users"),
                            ("delete", "delete a RAM user and its keys")):
        cmd = user_sub.add_parser(name, help=help_text)
        if name != "list":
            cmd.add_argument("name")
        cmd.add_argument("--data-dir", type=Path, default=Path("./ossutil-data"))
        _store_options(cmd)
        if name in ("create", "policy"):
            cmd.add_argument("--policy-file", type=Path, required=name == "policy")
    return parser


def _version() -> str:
    from ossutil import __version__

    return __version__


def _size(text: str) -> int:
    """A byte count, with an optional K/M/G suffix (argparse type)."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    scale = units.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        raise argparse.ArgumentTypeError(f"not a size in bytes (e.g. 64M): {text!r}")
    return int(digits) * scale


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def _health_options(serve: argparse.ArgumentParser) -> None:
    """Domain health (issue 11 §2): the periodic check of every binding."""
    serve.add_argument("--public-address", action="append", default=[], metavar="IP",
                       help="an address clients reach this server at (repeatable): a bound "
                            "domain resolving to it points here")
    serve.add_argument("--health-interval", type=_seconds, default=3600.0, metavar="SECONDS",
                       help="check every bound domain's DNS and certificate this often "
                            "(default 3600)")


def _public_addresses(args: argparse.Namespace) -> list[str]:
    from ossutil.dnsrules.pointing import normalize_address
    from ossutil.server.settings import StartupError

    addresses = []
    for text in args.public_address:
        try:
            addresses.append(normalize_address(text))
        except ValueError:
            raise StartupError(f"--public-address {text!r}: not an IPv4 or IPv6 "
                               "address") from None
    return addresses


def _domains_command(args: argparse.Namespace) -> int:
    """``domains``: the health table (or --json) of every binding, from the store; with
    ``--check`` a running server checks them first (whichever process claims the round)."""
    import time

    from ossutil.server.app import open_box, open_store
    from ossutil.server.health.report import DomainReport, as_json, table

    settings = Settings(data_dir=args.data_dir, store=args.store,
                        database_url=args.database_url)
    store = open_store(settings, open_box(settings))
    try:
        if args.check:
            asked = datetime.now(timezone.utc)
            store.request_health_round(asked)
            deadline = time.monotonic() + args.timeout
            while True:
                _, started, finished = store.health_marks()
                if started is not None and started >= asked and finished is not None \
                        and finished >= started:
                    break
                if time.monotonic() > deadline:
                    print(f"ossutil-server: no server finished a health check within "
                          f"{args.timeout:g} s; is `ossutil-server serve` running on this "
                          "store?", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        reports = {row[0]: DomainReport.from_json(row[3]) for row in store.health_rows()}
        rows = [(binding, reports.get(binding.domain))
                for binding in sorted(store.all_bindings(), key=lambda b: b.domain)]
    finally:
        store.close()
    now = datetime.now(timezone.utc)
    sys.stdout.write(as_json(rows, now) if args.json else table(rows, now))
    return 0


def _acme_options(serve: argparse.ArgumentParser) -> None:
    """Automatic HTTPS (issue 11): certificates from an ACME CA for every bound domain."""
    serve.add_argument("--acme-directory", default="", metavar="URL",
                       help="get a certificate for every bound domain without an uploaded "
                            "one from this ACME (RFC 8555) directory, and renew it")
    serve.add_argument("--acme-email", default="", metavar="E",
                       help="contact address of the ACME account")
    serve.add_argument("--acme-ca-bundle", type=Path, metavar="PEM",
                       help="trust this CA bundle for the ACME directory's own TLS")
    serve.add_argument("--acme-challenge", default="http-01",
                       choices=("http-01", "tls-alpn-01"),
                       help="http-01 (our HTTP listener) or tls-alpn-01 (our HTTPS listener); "
                            "default http-01")
    serve.add_argument("--acme-eab-kid", default="", metavar="K",
                       help="external account binding key id, for CAs that require it")
    serve.add_argument("--acme-eab-hmac-key", default="", metavar="B64",
                       help="external account binding HMAC key (base64url)")
    serve.add_argument("--acme-caa-identity", action="append", default=[], metavar="D",
                       help="the CA's CAA issuer domain (repeatable; default: the directory's "
                            "caaIdentities)")
    serve.add_argument("--acme-retry-base", type=_seconds, default=10.0, metavar="SECONDS",
                       help="first retry delay after a failed order, doubled per failure "
                            "(default 10)")


def _acme_settings(args: argparse.Namespace) -> dict[str, object]:
    from ossutil.server.settings import StartupError

    if not args.acme_directory:
        return {}
    if args.acme_challenge == "tls-alpn-01" and args.https_port is None:
        raise StartupError("--acme-challenge tls-alpn-01 needs --https-port")
    if bool(args.acme_eab_kid) != bool(args.acme_eab_hmac_key):
        raise StartupError("--acme-eab-kid and --acme-eab-hmac-key go together")
    if args.acme_ca_bundle is not None and not args.acme_ca_bundle.is_file():
        raise StartupError(f"--acme-ca-bundle {args.acme_ca_bundle}: no such file")
    return {"acme_directory": args.acme_directory, "acme_email": args.acme_email,
            "acme_ca_bundle": args.acme_ca_bundle, "acme_challenge": args.acme_challenge,
            "acme_eab_kid": args.acme_eab_kid, "acme_eab_hmac_key": args.acme_eab_hmac_key,
            "acme_caa_identities": list(args.acme_caa_identity),
            "acme_retry_base": args.acme_retry_base}


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", choices=tuple(STORES), default="sqlite",
                        help="sqlite: a file in the data dir; postgres: a database several "
                             "server processes can share")
    parser.add_argument("--database-url", default=os.environ.get("OSS_SERVER_DATABASE_URL", ""),
                        help="for --store postgres, e.g. postgresql://user@host:5432/dbname "
                             "(default: $OSS_SERVER_DATABASE_URL)")


def _settings(args: argparse.Namespace) -> Settings:
    from ossutil.server.dns.lookup import parse_nameserver
    from ossutil.server.settings import StartupError

    dns_servers = []
    for text in args.dns_server:
        try:
            dns_servers.append(parse_nameserver(text))
        except ValueError as exc:
            raise StartupError(f"--dns-server: {exc}") from None
    if (args.tls_cert is None) != (args.tls_key is None):
        raise StartupError("--tls-cert and --tls-key go together")
    if args.tls_cert is not None and args.https_port is None:
        raise StartupError("--tls-cert/--tls-key need --https-port")
    return Settings(
        data_dir=args.data_dir, host=args.host, port=args.port, region=args.region,
        endpoint_domain=args.endpoint_domain, dns_servers=dns_servers,
        dns_zone_file=args.dns_zone_file, dns_verify=not args.no_dns_verify,
        https_port=args.https_port, tls_cert=args.tls_cert, tls_key=args.tls_key,
        store=args.store, database_url=args.database_url,
        keepalive_timeout=args.keepalive_timeout, header_timeout=args.header_timeout,
        object_cache_bytes=args.object_cache_bytes,
        object_cache_max_object=args.object_cache_max_object,
        health_interval=args.health_interval, public_addresses=_public_addresses(args),
        reuse_port=args.as_worker, drain_timeout=args.drain_timeout,
        **_acme_settings(args))  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    from ossutil.server.dependencies import missing_dependencies

    missing = missing_dependencies()  # a CLI-only install (no [server] extra)
    if missing:
        print(f"ossutil-server: {missing}", file=sys.stderr)
        return 2
    from ossutil.server.certs.keystore import SecretBoxError
    from ossutil.server.settings import StartupError
    from ossutil.server.storage.base import StoreError

    try:
        if args.command == "serve":
            from ossutil.server import accesslog

            accesslog.configure(args.log_level, args.log_format)
            accesslog.set_level(accesslog.level_from_file(args.data_dir, args.log_level)[0])
            from ossutil.server.workers import worker_count

            workers = worker_count(args.workers)
            settings = _settings(args)
            from ossutil.server import preflight

            if not args.as_worker:  # a worker's supervisor checked, and holds the ports
                preflight.check(settings)  # before any state exists (a failed start: none)
            with preflight.FirstStart(settings):
                if workers > 1:
                    from ossutil.server.workers import supervise

                    return asyncio.run(supervise(settings, argv, workers,
                                                 log_level=args.log_level))
                from ossutil.server.runtime import run

                install = _install_worker_signals if args.as_worker else _install_signals
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    return runner.run(run(settings, install, log_level=args.log_level,
                                          log_format=args.log_format))
        if args.command == "rotate-master-key":
            from ossutil.server.rotation import rotate_master_key

            return rotate_master_key(Settings(data_dir=args.data_dir, store=args.store,
                                              database_url=args.database_url))
        if args.command == "domains":
            return _domains_command(args)
        return _user_command(args)
    except StoreError as exc:  # the store cannot be opened or went away: say so, no traceback
        print(f"ossutil-server: {exc}", file=sys.stderr)
        return 2
    except (OSError, StartupError) as exc:  # a port in use, a data dir that cannot be made,
        print(f"ossutil-server: {exc}", file=sys.stderr)  # an unusable certificate ...
        return 2
    except SecretBoxError as exc:  # an unusable master key (its value is never shown)
        print(f"ossutil-server: {exc}", file=sys.stderr)
        return 2


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed, else asyncio's; ``OSSUTIL_SERVER_LOOP=asyncio``
    asks for asyncio's. Server CPU per request, the two side by side (same run, wrk on the
    other core): TLS 1 KiB keep-alive 16.0 us (uvloop) vs 25.3 us (asyncio's pure-Python
    SSL protocol), plain 1 KiB 11.0 vs 11.5 us, 1 MiB 226 vs 247 us (BlobResponse calls
    ``os.sendfile`` itself, so uvloop's missing ``loop.sendfile`` no longer matters)."""
    if os.environ.get("OSSUTIL_SERVER_LOOP") == "asyncio":
        return None
    import importlib

    try:  # by name: uvloop is no dependency, so type checkers may not know it
        module = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def _install_worker_signals(stop: asyncio.Event) -> None:
    from ossutil.server.workers import watch_supervisor

    _install_signals(stop)
    watch_supervisor(stop)


def _read_policy(path: Path | None) -> str | None:
    from ossutil.server.auth.policy import PolicyError, parse_policy

    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as exc:
        raise SystemExit(f"ossutil-server: cannot read policy file: {exc}") from None
    try:
        parse_policy(text)
    except PolicyError as exc:
        raise SystemExit(f"ossutil-server: invalid policy in {path}: {exc}") from None
    return text


def _user_command(args: argparse.Namespace) -> int:
    from ossutil.server.app import (
        new_access_key_id,
        new_access_key_secret,
        open_box,
        open_store,
    )
    from ossutil.server.auth.sealing import Sealer
    from ossutil.server.models import AccessKey, User
    from ossutil.server.storage.base import NoSuchUser, UserExists

    settings = Settings(data_dir=args.data_dir, store=args.store,
                        database_url=args.database_url)
    box = open_box(settings)
    store = open_store(settings, box)
    try:
        account = store.root_account()
        if account is None:
            raise SystemExit("ossutil-server: the store has no account yet; start "
                             "`ossutil-server serve` on it once first")
        command = args.user_command
        if command == "create":
            policy = _read_policy(args.policy_file)
            key = AccessKey(new_access_key_id(), new_access_key_secret(), account.owner_id,
                            args.name)
            try:
                store.create_user(User(args.name, account.owner_id, policy,
                                       datetime.now(timezone.utc)), Sealer(box).seal(key))
            except UserExists:
                raise SystemExit(f"ossutil-server: user {args.name} already exists") from None
            print(json.dumps({"user": args.name, "access_key_id": key.access_key_id,
                              "access_key_secret": key.secret}))
        elif command == "policy":
            try:
                store.set_user_policy(args.name, _read_policy(args.policy_file))
            except NoSuchUser:
                raise SystemExit(f"ossutil-server: no such user: {args.name}") from None
        elif command == "delete":
            try:
                store.delete_user(args.name)
            except NoSuchUser:
                raise SystemExit(f"ossutil-server: no such user: {args.name}") from None
        else:
            for user in store.list_users():
                print(json.dumps({"user": user.name, "has_policy": user.policy is not None,
                                  "created_at": user.created_at.isoformat()}))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
