"""``ossutil doctor DOMAIN [--bucket B] [--json]``: is this custom domain set up right?

Beyond ossutil 1.7 (which has no such command). Five checks, each printed with what it saw and,
when it is not right, the precise next step:

    cname        the domain's CNAME chain and addresses: it must reach ``<bucket>.<endpoint>``
                 (the bucket's ExtranetEndpoint, from GetBucketInfo), or resolve to the
                 addresses that name has (``dnsrules.pointing``, the rule of the server's
                 domain health)
    ownership    ``_dnsauth.<domain>`` against the bucket's CnameToken (GetCnameToken), by the
                 server's own rules (``dnsrules``: strings joined, any record, CNAMEs followed)
    caa          the relevant CAA record set (RFC 8659, ``dnsrules.caa``): may a CA issue for
                 the domain (``--ca IDENTIFIER`` checks one, e.g. ``letsencrypt.org``)?
    binding      ListCname lists the domain
    certificate  a TLS handshake with SNI = the domain at its first address (port 443, or
                 ``--https-port``): the served leaf against ListCname's Fingerprint, the names
                 it covers, days to expiry

Options: ``--bucket B`` (else every bucket's ListCname is searched for the domain), ``--json``,
``--dns-server IP[:PORT]`` (repeatable; default the system resolver), ``--https-port N``,
``--ca IDENTIFIER``, and the global options of 1.7 (``-e``, ``-i``, ``-k``, ``-c`` ...), read
with pflag's rules after the word ``doctor`` as ``api`` reads them (``cli.main`` hands the
command line over). Exit status 1 when a check failed; warnings do not fail.

dnspython, ``ssl`` and ``cryptography`` are imported when the command runs, never by another
command line (``tests/cli/test_light_imports.py``).
"""

from __future__ import annotations

import sys

from ossutil.cli.command import ADDITIONAL, CliError, CommandSpec, Context
from ossutil.cli.options import COMMON_OPTIONS

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO

    from ossutil.cli.api_cmd import ApiArgs
    from ossutil.cli.command import Output
    from ossutil.client.client import OssClient
    from ossutil.dnsrules.records import Records
    from ossutil.wire.cname_xml import CnameInfo

SPEC = CommandSpec("doctor", min_args=0, max_args=1, valid_options=COMMON_OPTIONS,
                   group=ADDITIONAL)
VALUE_FLAGS = ("bucket", "dns-server", "https-port", "ca")
BOOL_FLAGS = ("json",)
#: Fewer days left than this is a warning (the server's domain health uses the same bound).
EXPIRING_SOON_DAYS = 21
TIMEOUT = 2.0  # seconds for one DNS query to one server
LIFETIME = 4.0  # seconds for a whole DNS look-up
TLS_TIMEOUT = 10.0


class Check:
    """One line of the report: ``status`` is ``ok``, ``warn``, ``FAIL`` or ``skip``."""

    __slots__ = ("name", "status", "detail", "next_step")

    def __init__(self, name: str, status: str, detail: str, next_step: str = "") -> None:
        self.name = name
        self.status = status
        self.detail = detail
        self.next_step = next_step


# --- the hook cli.main calls -----------------------------------------------------------------


def doctor_index(argv: Sequence[str]) -> int:
    """Index of ``doctor`` when goopt would read it as the command word, else -1."""
    from ossutil.cli.api_cmd import api_index

    return api_index(argv, "doctor")


def run_argv(argv: Sequence[str], index: int, out: Output, stdin: IO[bytes]) -> int:
    """Run ``ossutil <globals> doctor DOMAIN ...``; returns the exit status."""
    from ossutil.cli import api_cmd

    ctx: Context | None = None
    try:
        args, own = parse(argv[:index], argv[index + 1:])
        if "help" in own:
            from ossutil.cli import help_text

            out.write(help_text.command_help("doctor", COMMON_OPTIONS, "EN"))
            return 0
        ctx = api_cmd._context(args, out, stdin)
        return execute(args, own, ctx)
    except Exception as error:  # noqa: BLE001 - every failure becomes one ``Error:`` line
        from ossutil.wire.errors import OssError

        out.flush()
        text = (f"{error.code} (HTTP {error.status}): {error.message}"
                if isinstance(error, OssError) else api_cmd.error_text(error))
        sys.stderr.write(f"Error: {text}\n")
        sys.stderr.flush()
        return 1
    finally:
        if ctx is not None:
            ctx.close()


def run(ctx: Context) -> None:
    """Reached only through goopt (``ossutil -- doctor ...``): doctor's flags cannot be read."""
    raise CliError('the "doctor" command must come before "--"; run "ossutil doctor --help"')


# --- parsing (pflag rules, as ``api``) --------------------------------------------------------


def parse(before: Sequence[str], after: Sequence[str]) -> tuple[ApiArgs, dict[str, list[str]]]:
    """Global options before ``doctor`` (goopt), then DOMAIN and the flags (pflag)."""
    from ossutil.cli import api_cmd, goopt
    from ossutil.cli.options import BY_NAME

    args = api_cmd.ApiArgs()
    args.operation = "doctor"
    pre = goopt.parse(before)
    for name in pre.given:
        if name not in COMMON_OPTIONS:
            raise CliError(f"unknown flag: {BY_NAME[name].long}")
    args.values.update(pre.values)
    args.flags.update(pre.flags)
    args.given.extend(pre.given)
    own: dict[str, list[str]] = {}
    longs, shorts = api_cmd._global_options()
    positional: list[str] = []
    i = 0
    while i < len(after):
        word = after[i]
        if word in ("-h", "--help"):
            own["help"] = []
            return args, own
        if word == "--":
            positional.extend(after[i + 1:])
            break
        if word.startswith("--") and len(word) > 2:
            name, eq, inline = word[2:].partition("=")
            spelled = "--" + name
            if name in VALUE_FLAGS:
                value, i = api_cmd._value(after, i, spelled, inline if eq else None)
                own.setdefault(name, []).append(value)
                continue
            if name in BOOL_FLAGS:
                if eq and inline.lower() not in ("true", "1", "t", "false", "0", "f"):
                    raise CliError(f'invalid argument "{inline}" for "{spelled}" flag: '
                                   f'strconv.ParseBool: parsing "{inline}": invalid syntax')
                if not eq or inline.lower() in ("true", "1", "t"):
                    own[name] = []
                i += 1
                continue
            internal = longs.get(spelled)
            if internal is None:
                raise CliError(f"unknown flag: {spelled}")
            i = api_cmd._global(args, internal, after, i, spelled, inline if eq else None)
            continue
        if word.startswith("-") and len(word) > 1:
            internal = shorts.get(word[:2])
            if internal is None:
                raise CliError(f"unknown shorthand flag: '{word[1]}' in {word}")
            rest = word[2:]
            attached = rest[1:] if rest.startswith("=") else (rest or None)
            i = api_cmd._global(args, internal, after, i, word[:2], attached)
            continue
        positional.append(word)
        i += 1
    if not positional:
        raise CliError('"ossutil doctor" needs the domain: ossutil doctor DOMAIN [--bucket B]')
    if len(positional) > 1:
        raise CliError(f'unknown command "{positional[1]}" for "ossutil doctor"')
    own["domain"] = positional
    return args, own


def _domain(text: str) -> str:
    """The domain as DNS and ListCname spell it: lower case, no trailing dot, IDNA A-labels."""
    domain = text.strip().rstrip(".").lower()
    if not domain or " " in domain or "/" in domain:
        raise CliError(f'invalid domain "{text}"')
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise CliError(f'invalid domain "{text}"') from None
    return domain


# --- running the checks -----------------------------------------------------------------------


class _Dns:
    """Synchronous look-ups by the server's rules (``dnsrules``): no cache, CNAMEs followed."""

    def __init__(self, servers: list[tuple[str, int]] | None) -> None:
        import dns.resolver

        from ossutil.dnsrules import txt as rules

        self.servers = servers
        self.resolver, self.error = rules.configure(dns.resolver.Resolver, servers,
                                                    timeout=TIMEOUT, lifetime=LIFETIME)

    def records(self, name: str, rdtype: str) -> Records:
        import dns.exception
        import dns.rdataclass
        import dns.resolver

        from ossutil.dnsrules import txt as rules
        from ossutil.dnsrules.records import RecordChase, Records

        chase = RecordChase.begin(self.resolver, name, rdtype, self.error)
        while not isinstance(chase, Records):
            result: dns.resolver.Answer | dns.exception.DNSException
            try:
                result = self.resolver.resolve(chase.qname, chase.rdtype, dns.rdataclass.IN,
                                               search=False)
            except dns.resolver.LifetimeTimeout:
                asked = ", ".join(rules.servers(self.resolver)) or "no server"
                return Records(chase.shown, rdtype, "failure", (chase.shown,),
                               detail=f"no answer within {LIFETIME:g} s from {asked}")
            except dns.exception.DNSException as exc:
                result = exc
            answer = chase.after(self.resolver, result)
            if answer is not None:
                return answer
        return chase

    def addresses(self, name: str) -> tuple[Records, tuple[str, ...]]:
        """The A look-up (its chain and outcome; AAAA's when A had none) and every address."""
        from ossutil.dnsrules.records import merge_addresses

        a, aaaa = self.records(name, "A"), self.records(name, "AAAA")
        main = a if a.outcome == "found" or aaaa.outcome != "found" else aaaa
        return main, merge_addresses((a, aaaa))


class Doctor:
    """The checks of one domain, in order; ``checks`` holds what was found."""

    def __init__(self, domain: str, bucket: str, client: OssClient | None, dns: _Dns,
                 https_port: int, ca: str) -> None:
        self.domain = domain
        self.bucket = bucket
        self.client = client
        self.dns = dns
        self.https_port = https_port
        self.ca = ca
        self.endpoint = ""
        self.listed: CnameInfo | None = None
        self.bound = False
        self.addresses: tuple[str, ...] = ()
        self.checks: list[Check] = []

    def run(self) -> list[Check]:
        self._find_bucket()
        self.checks.append(self.cname())
        self.checks.append(self.ownership())
        self.checks.append(self.caa())
        self.checks.append(self.binding())
        self.checks.append(self.certificate())
        return self.checks

    # the bucket, its endpoint and its ListCname entry for the domain

    def _find_bucket(self) -> None:
        from ossutil.wire.errors import OssError

        assert self.client is not None
        if self.bucket:
            self.endpoint = self.client.get_bucket_info(self.bucket).extranet_endpoint
            self._listed(self.bucket)
            return
        for summary in self.client.list_buckets():
            try:
                if self._listed(summary.name):
                    self.bucket = summary.name
                    self.endpoint = summary.extranet_endpoint
                    return
            except OssError:
                continue

    def _listed(self, bucket: str) -> bool:
        assert self.client is not None
        for info in self.client.list_cname(bucket).cnames:
            if info.domain.lower() == self.domain:
                self.listed = info
                self.bound = True
                return True
        return False

    @property
    def target(self) -> str:
        return f"{self.bucket}.{self.endpoint}" if self.bucket and self.endpoint else ""

    # the checks

    def cname(self) -> Check:
        from ossutil.dnsrules.pointing import decide

        answer, self.addresses = self.dns.addresses(self.domain)
        if not self.target:
            seen = " -> ".join(answer.chain)
            if self.addresses:
                seen += f" ({', '.join(self.addresses)})"
            return Check("cname", "skip", f"{seen or self.domain}; no bucket has "
                         f"{self.domain} bound, so where it should point is unknown",
                         "give --bucket B, the bucket it is (to be) bound to")
        ours = self.dns.addresses(self.target)[1]
        pointing = decide(self.domain, answer.chain, self.addresses, answer.outcome,
                          answer.detail, service_names=(self.endpoint,),
                          service_addresses=ours)
        if pointing.state == "ok":
            return Check("cname", "ok", pointing.detail)
        if pointing.state == "unknown" and answer.outcome == "failure" and not self.addresses:
            return Check("cname", "warn", pointing.detail,
                         "check the DNS servers asked (--dns-server) and run doctor again")
        wrong = answer.chain[1] if len(answer.chain) > 1 else ""
        step = (f"change the CNAME record of {self.domain} from {wrong} to {self.target}"
                if wrong else f"add the DNS record: {self.domain} CNAME {self.target}")
        if pointing.state == "unknown":
            return Check("cname", "warn", pointing.detail, step)
        return Check("cname", "FAIL", pointing.detail, step)

    def ownership(self) -> Check:
        from ossutil.cli.dnscheck import lookup_txt
        from ossutil.dnsrules import dnsauth_name
        from ossutil.wire.errors import OssError

        name = dnsauth_name(self.domain)
        if not self.bucket:
            return Check("ownership", "skip", f"{name}: no bucket to compare its token with",
                         "give --bucket B")
        assert self.client is not None
        token = ""
        missing = ""
        try:
            token = self.client.get_cname_token(self.bucket, self.domain).token
        except OssError as error:
            missing = error.code
        answer = lookup_txt(name, self.dns.servers, timeout=TIMEOUT, lifetime=LIFETIME)
        bound_note = f"{self.domain} is bound, so the record is needed only to bind it again"
        if token and answer.holds(token):
            return Check("ownership", "ok", f"{name} holds the bucket's CnameToken")
        if answer.outcome == "failure":
            return Check("ownership", "warn", f"{name}: DNS look-up failed: {answer.detail}",
                         "check the DNS servers asked (--dns-server) and run doctor again")
        if not token:
            if self.bound:
                return Check("ownership", "ok", f"{self.domain} is bound; the bucket holds no "
                             f"CnameToken for it any more ({missing}), none is needed")
            return Check("ownership", "FAIL", f"the bucket {self.bucket} has no CnameToken "
                         f"for {self.domain} ({missing})",
                         f"create one: ossutil bucket-cname --method put --item token "
                         f"oss://{self.bucket} {self.domain}, then publish it as the TXT "
                         f"record {name}")
        if answer.outcome in ("nxdomain", "nodata"):
            seen = f"{name} does not exist" if answer.outcome == "nxdomain" else \
                f"{name} has no TXT record"
            if self.bound:
                return Check("ownership", "ok", f"{seen}; {bound_note}")
            return Check("ownership", "FAIL", seen,
                         f'add the TXT record {name} with the value "{token}"')
        held = ", ".join(f'"{value}"' for value in answer.values)
        seen = f"{name} holds {held}, not the bucket's CnameToken \"{token}\""
        if self.bound:
            return Check("ownership", "warn", f"{seen}; {bound_note}",
                         f'set the TXT record {name} to "{token}" before binding again')
        return Check("ownership", "FAIL", seen, f'set the TXT record {name} to "{token}"')

    def caa(self) -> Check:
        from ossutil.dnsrules import caa
        from ossutil.dnsrules.records import parents

        policy = None
        for name in parents(self.domain):
            answer = self.dns.records(name, "CAA")
            if answer.outcome == "failure":
                return Check("caa", "warn", f"CAA look-up at {name} failed: {answer.detail}",
                             "check the DNS servers asked (--dns-server) and run doctor again")
            if answer.outcome == "found":
                policy = caa.evaluate(name, [caa.parse(v) for v in answer.values], self.ca,
                                      wildcard=self.domain.startswith("*."))
                break
        if policy is None:
            policy = caa.evaluate("", [], self.ca)
        if policy.verdict in ("allowed", "restricted"):
            step = ("make sure the certificate for this domain comes from one of them (--ca "
                    "IDENTIFIER checks one)" if policy.verdict == "restricted" else "")
            return Check("caa", "ok", policy.detail, step)
        if "critical" in policy.detail:
            step = f"remove the CAA record at {policy.owner} with the unknown critical property"
        elif policy.issuers:
            step = f'add the record {policy.owner} CAA 0 issue "{self.ca}" beside the others'
        else:
            wanted = self.ca or "<your CA>"
            step = (f'replace the CAA record at {policy.owner} with {policy.owner} CAA 0 issue '
                    f'"{wanted}", or remove it')
        return Check("caa", "FAIL", policy.detail, step)

    def binding(self) -> Check:
        if self.bound:
            return Check("binding", "ok", f"{self.domain} is bound to {self.bucket}")
        if not self.bucket:
            return Check("binding", "FAIL", f"no bucket of this account has {self.domain} bound",
                         f"bind it: ossutil bucket-cname --method put oss://BUCKET {self.domain}")
        return Check("binding", "FAIL", f"{self.domain} is not bound to {self.bucket}",
                     f"bind it: ossutil bucket-cname --method put oss://{self.bucket} "
                     f"{self.domain}")

    def certificate(self) -> Check:
        import ssl
        from datetime import datetime, timezone

        from ossutil.certcheck import certificate_covers, describe_certificate, describe_names

        if not self.addresses:
            return Check("certificate", "skip", f"{self.domain} has no address to connect to",
                         "fix the cname check first")
        host = self.addresses[0]
        where = f"[{host}]:{self.https_port}" if ":" in host else f"{host}:{self.https_port}"
        try:
            der = _served(host, self.https_port, self.domain)
        except (OSError, ssl.SSLError) as error:
            return Check("certificate", "FAIL", f"no TLS handshake with {where} for "
                         f"{self.domain}: {error}",
                         "check that HTTPS is served there (the server's --https-port, or "
                         "the proxy in front of it); --https-port N picks another port")
        facts = describe_certificate(ssl.DER_cert_to_PEM_cert(der))
        now = datetime.now(timezone.utc)
        left = int((facts.not_after - now).total_seconds() // 86400)
        expiry = facts.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
        served = f"{where} serves {facts.fingerprint} (expires {expiry})"
        listed = self.listed.certificate if self.listed is not None else None
        if listed is None or not listed.fingerprint:
            return Check("certificate", "warn", f"{served}, and ListCname shows no "
                         f"certificate for {self.domain}",
                         f"attach one: ossutil bucket-cname --method put --item certificate "
                         f"oss://{self.bucket or 'BUCKET'} {self.domain} --cert-file C "
                         "--key-file K")
        if facts.fingerprint != listed.fingerprint.upper():
            return Check("certificate", "FAIL", f"{served}, not the certificate ListCname "
                         f"shows ({listed.fingerprint}, valid until "
                         f"{' '.join(listed.valid_end_date.split())})",
                         "if a proxy or CDN terminates TLS in front of the server, give it "
                         "the certificate ListCname shows; else attach that certificate again "
                         "(the server did not load it)")
        if not certificate_covers(facts.names, self.domain):
            return Check("certificate", "FAIL", f"{served}, for {describe_names(facts.names)}, "
                         f"which does not cover {self.domain}",
                         f"attach a certificate whose names include {self.domain}")
        renew = ("the server renews it automatically; if it does not, see "
                 "`ossutil-server domains` on the server" if listed.type == "ACME" else
                 f"attach a renewed certificate: ossutil bucket-cname --method put --item "
                 f"certificate oss://{self.bucket} {self.domain} --cert-file C --key-file K")
        if left < 0:
            return Check("certificate", "FAIL", f"{served}: it expired", renew)
        if left < EXPIRING_SOON_DAYS:
            return Check("certificate", "warn", f"{served}, the one ListCname shows; it expires "
                         f"in {left} day{'' if left == 1 else 's'}", renew)
        return Check("certificate", "ok", f"{served}, the one ListCname shows ({left} days "
                     "left)")


def _served(host: str, port: int, server_name: str) -> bytes:
    """The leaf certificate (DER) served at ``host:port`` for SNI ``server_name``, unverified
    (it is compared, not trusted)."""
    import socket
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=TLS_TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no certificate was served")
    return der


def execute(args: ApiArgs, own: dict[str, list[str]], ctx: Context) -> int:
    from ossutil.cli import api_cmd
    from ossutil.cli.dnscheck import parse_servers

    domain = _domain(own["domain"][0])
    bucket = own.get("bucket", [""])[-1]
    if bucket:
        from ossutil.cli.command import check_bucket_name

        check_bucket_name(bucket)
    port_text = own.get("https-port", ["443"])[-1]
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise CliError(f'invalid --https-port "{port_text}": a number in 1-65535')
    try:
        servers = parse_servers(own.get("dns-server", [])) or None
    except ValueError as error:
        raise CliError(str(error)) from None
    client = api_cmd._client(ctx, bucket)
    doctor = Doctor(domain, bucket, client, _Dns(servers), int(port_text),
                    own.get("ca", [""])[-1].strip().lower())
    checks = doctor.run()
    if "json" in own:
        ctx.out.write(as_json(doctor))
    else:
        ctx.out.write(as_text(doctor))
    return 1 if any(check.status == "FAIL" for check in checks) else 0


def as_text(doctor: Doctor) -> str:
    bucket = f" (bucket {doctor.bucket})" if doctor.bucket else ""
    lines = [f"doctor {doctor.domain}{bucket}\n"]
    for check in doctor.checks:
        lines.append(f"  {check.status:<5} {check.name:<12} {check.detail}\n")
        if check.next_step:
            lines.append(f"  {'':<5} {'':<12} next step: {check.next_step}\n")
    failed = sum(1 for c in doctor.checks if c.status == "FAIL")
    warned = sum(1 for c in doctor.checks if c.status == "warn")
    total = len(doctor.checks)
    if failed:
        summary = f"{failed} of {total} checks failed"
    elif warned:
        summary = f"no check failed; {warned} of {total} with a warning"
    else:
        summary = f"all {total} checks passed" if not any(
            c.status == "skip" for c in doctor.checks) else "no check failed"
    return "".join(lines) + summary + "\n"


def as_json(doctor: Doctor) -> str:
    import json

    return json.dumps({
        "domain": doctor.domain, "bucket": doctor.bucket or None,
        "checks": [{"check": c.name, "status": c.status.lower(), "detail": c.detail,
                    "next_step": c.next_step or None} for c in doctor.checks],
        "passed": not any(c.status == "FAIL" for c in doctor.checks),
    }, indent=2) + "\n"
