"""``ossutil bucket-cname``: the six usages of reference ``ossutil-cli.md`` §1.

    ossutil bucket-cname --method put --item token oss://bucket DOMAIN [local_xml_file]
    ossutil bucket-cname --method get --item token oss://bucket DOMAIN [local_xml_file]
    ossutil bucket-cname --method put oss://bucket DOMAIN
    ossutil bucket-cname --method put --item certificate oss://bucket local_xml_file
    ossutil bucket-cname --method get oss://bucket [local_xml_file]
    ossutil bucket-cname --method delete oss://bucket DOMAIN

``DISPATCH`` maps (item, method) to a handler; the method is compared case-insensitively, the item
exactly. ``ITEM_ERRORS`` holds ossutil's message for every other combination. Checks run in
ossutil's order (§3): ``--method`` present, bucket URL, client construction, dispatch, second
argument, certificate file, bucket name, request, output file.

Beyond ossutil 1.7 (opt-in; a 1.7 command line prints and sends exactly what 1.7 does):

    ossutil bucket-cname --method put oss://bucket DOMAIN --check-dns [--dns-server IP[:PORT]]
    ossutil bucket-cname --method put --item certificate oss://bucket DOMAIN
        --cert-file cert.pem --key-file key.pem [--previous-cert-id ID] [-f/--force]

``--check-dns`` reads the token (GetCnameToken) and looks up TXT ``_dnsauth.DOMAIN`` itself
(``cli.dnscheck``); without the proof it fails before PutCname is sent. ``--cert-file`` builds the
PutCname body from two PEM files after checking them locally (``cli.certfile``).

Output rule for everything added here: stdout keeps ossutil's contract (one ``Error: ...`` line
and exit 1, or the elapsed line), since scripts parse it; advice for humans (which TXT record to
publish, when the token expires) goes to **stderr** via the exception's ``hint``, which
``cli.main`` writes after the error line. After a plain bind refused with
NeedVerifyDomainOwnership the hint costs an extra GetCnameToken request, so it is given only when
stderr is a terminal or ``--check-dns`` was asked for: captured or piped output stays
byte-identical to ossutil 1.7 (reference ``ossutil-cli.md`` §15).
"""

from __future__ import annotations

import sys

from ossutil.cli.bucket_config import read_local_file, write_result
from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    check_bucket_name,
    client_for,
    cloud_url,
    init_command,
)

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable

    from ossutil.client.client import OssClient
    from ossutil.wire.cname_xml import CnameToken

    Handler = Callable[[Context, OssClient, str], None]

# The 26 options of reference §2.1, in ossutil's help order.
VALID_OPTIONS = (
    "configFile", "endpoint", "accessKeyID", "accessKeySecret", "stsToken", "proxyHost",
    "proxyUser", "proxyPwd", "loglevel", "method", "password", "mode", "ecsRoleName",
    "tokenTimeout", "ramRoleArn", "roleSessionName", "readTimeOut", "connectTimeOut", "stsRegion",
    "skipVerifyCert", "userAgent", "item", "signVersion", "region", "cloudBoxID", "forcePathStyle",
)
SPEC = CommandSpec("bucket-cname", min_args=1, max_args=3, valid_options=VALID_OPTIONS)
# Beyond ossutil 1.7 (``options.BEYOND_OPTIONS``), accepted on top of the 26 but listed in help's
# own section. 1.7's ``force`` (-f) is accepted only together with --cert-file, so that
# ``bucket-cname -f ...`` keeps 1.7's "does not support option" error.
BEYOND_VALID_OPTIONS = ("checkDns", "dnsServer", "certFile", "keyFile", "previousCertId")


def run(ctx: Context) -> None:
    accepted: tuple[str, ...] = VALID_OPTIONS + BEYOND_VALID_OPTIONS
    if ctx.parsed.get("certFile"):
        accepted += ("force",)
    settings = init_command(CommandSpec(SPEC.name, SPEC.min_args, SPEC.max_args, accepted), ctx)
    method = settings.get("method")
    if not method:
        raise CliError("--method value is empty")
    item = settings.get("item")
    bucket = cloud_url(ctx.args[0]).bucket
    client = client_for(settings, bucket, ctx)
    handler = DISPATCH.get((item, method.lower()))
    if handler is None:
        raise CliError(ITEM_ERRORS.get(item, "--item only support token or certificate"))
    _check_beyond_options(ctx, handler)
    handler(ctx, client, bucket)


# --- the six usages ----------------------------------------------------------------------------


def _domain(ctx: Context) -> str:
    if len(ctx.args) < 2:
        raise CliError("cname is emtpy")  # sic: ossutil's spelling
    return ctx.args[1]


def create_token(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 1: CreateCnameToken; the token XML re-serialised to stdout or a file."""
    from ossutil.cli import render

    domain = _domain(ctx)
    check_bucket_name(bucket)
    response = client.create_cname_token_raw(bucket, domain)
    _emit(ctx, render.token_xml(response.body), ctx.args[2] if len(ctx.args) > 2 else None)


def get_token(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 2: GetCnameToken."""
    from ossutil.cli import render

    domain = _domain(ctx)
    check_bucket_name(bucket)
    response = client.get_cname_token_raw(bucket, domain)
    _emit(ctx, render.token_xml(response.body), ctx.args[2] if len(ctx.args) > 2 else None)


def put_cname(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 3: PutCname for a domain (bind); prints nothing but the elapsed line."""
    from ossutil.client.client import cname_body

    domain = _domain(ctx)
    check_bucket_name(bucket)
    if ctx.parsed.flag("checkDns"):
        check_dns(ctx, client, bucket, domain)
    bind(ctx, client, bucket, domain, cname_body(domain))


def put_certificate(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 4: PutCname with the user's XML file sent verbatim (not validated locally)."""
    if ctx.parsed.get("certFile"):
        put_certificate_files(ctx, client, bucket)
        return
    if len(ctx.args) < 2:
        raise CliError("missing parameters,the local cname config file is empty")
    body = read_local_file(ctx.args[1])
    check_bucket_name(bucket)
    client.put_cname_raw(bucket, body)


def list_cname(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 5: ListCname; the body verbatim (never parsed)."""
    check_bucket_name(bucket)
    response = client.list_cname_raw(bucket)
    _emit(ctx, response.body, ctx.args[1] if len(ctx.args) > 1 else None)


def delete_cname(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 6: DeleteCname."""
    domain = _domain(ctx)
    check_bucket_name(bucket)
    client.delete_cname_raw(bucket, domain)


DISPATCH: dict[tuple[str, str], Handler] = {
    ("", "get"): list_cname,
    ("", "put"): put_cname,
    ("", "delete"): delete_cname,
    ("token", "get"): get_token,
    ("token", "put"): create_token,
    ("certificate", "put"): put_certificate,
}
ITEM_ERRORS: dict[str, str] = {
    "": "--method only support get,put,delete",
    "token": "only support get bucket token or put bucket token",
    "certificate": "only support put bucket with certificate",
}


# --- beyond ossutil 1.7: --check-dns, --cert-file, the ownership hint ---------------------------


def _check_beyond_options(ctx: Context, handler: Handler) -> None:
    """Refuse the added options where they mean nothing, before any request."""
    parsed = ctx.parsed
    cert_file = bool(parsed.get("certFile"))
    servers = [value for value in parsed.multi.get("dnsServer", []) if value]
    if cert_file and handler is not put_certificate:
        raise CliError("--cert-file only applies to --method put --item certificate")
    if (parsed.get("keyFile") or parsed.get("previousCertId")) and not cert_file:
        raise CliError("--key-file and --previous-cert-id only apply with --cert-file")
    if parsed.flag("checkDns") and not (handler is put_cname or cert_file):
        raise CliError("--check-dns only applies to --method put oss://bucket domain "
                       "(with or without --item certificate --cert-file)")
    if servers and not parsed.flag("checkDns"):
        raise CliError("--dns-server only applies with --check-dns")
    if servers:
        from ossutil.cli import dnscheck

        try:
            dnscheck.parse_servers(servers)
        except ValueError as error:
            raise CliError(str(error)) from None


def put_certificate_files(ctx: Context, client: OssClient, bucket: str) -> None:
    """PutCname with a body built from --cert-file/--key-file, checked locally first."""
    from ossutil.cli import certfile

    if len(ctx.args) < 2:
        raise CliError("--cert-file needs the domain: --method put --item certificate "
                       "oss://bucket domain --cert-file cert.pem --key-file key.pem")
    domain = ctx.args[1]
    key_path = ctx.parsed.get("keyFile")
    if not key_path:
        raise CliError("--cert-file needs --key-file (the certificate's private key)")
    certificate = certfile.read_pem(ctx.parsed.get("certFile"), "certificate")
    private_key = certfile.read_pem(key_path, "private key")
    certfile.check_pair(certificate, private_key, domain)
    check_bucket_name(bucket)
    if ctx.parsed.flag("checkDns"):
        check_dns(ctx, client, bucket, domain)
    body = certfile.configuration_body(domain, certificate, private_key,
                                       ctx.parsed.get("previousCertId"),
                                       ctx.parsed.flag("force"))
    bind(ctx, client, bucket, domain, body)


def bind(ctx: Context, client: OssClient, bucket: str, domain: str, body: bytes) -> None:
    """PutCname; a NeedVerifyDomainOwnership refusal gets the TXT hint when hints are wanted."""
    from ossutil.wire.errors import OssError

    try:
        client.put_cname_raw(bucket, body)
    except OssError as error:
        if error.code == "NeedVerifyDomainOwnership" and _hints_wanted(ctx):
            error.hint = ownership_hint(client, bucket, domain)  # type: ignore[attr-defined]
        raise


def check_dns(ctx: Context, client: OssClient, bucket: str, domain: str) -> None:
    """--check-dns: the token from GetCnameToken must be in TXT ``_dnsauth.DOMAIN``.

    Raises ``CliError`` (with a hint naming the record to publish) when it is not; PutCname is
    then never sent.
    """
    from ossutil.cli import dnscheck

    servers = [value for value in ctx.parsed.multi.get("dnsServer", []) if value]
    token = _token(client, bucket, domain)
    if token is None:
        raise _hinted(f"--check-dns: no ownership token for {domain} on bucket {bucket}, "
                      "PutCname not sent", _no_token_hint(bucket, domain))
    name = _dnsauth_name(domain)
    chosen = dnscheck.parse_servers(servers) if servers else None
    result = dnscheck.lookup_txt(name, chosen)
    held = result.holds(token.token)
    outcome = {"found": "holds the token" if held else "does not hold the token",
               "failure": "no answer"}.get(result.outcome, "no record")
    # beyond 1.7, on stderr: which resolver answered what (stdout stays the command's)
    ctx.out.flush()
    sys.stderr.write(f"--check-dns: asked {dnscheck.resolver_label(chosen)} for TXT {name}: "
                     f"{outcome}\n")
    sys.stderr.flush()
    if held:
        return
    if result.outcome == "found":
        found = ", ".join(f'"{value}"' for value in sorted(result.values))  # stable text
        reason = (f"the TXT record at {name} does not hold the token of bucket {bucket} "
                  f"(found {found})")
    elif result.outcome == "failure":
        reason = f"DNS lookup of TXT {name} failed: {result.detail}"
    else:
        reason = f"no TXT record at {name}"
    raise _hinted(f"--check-dns: {reason}, PutCname not sent",
                  _record_hint(domain, token.token, token.expire_time))


def ownership_hint(client: OssClient, bucket: str, domain: str) -> str:
    """What to publish, with the token's value if GetCnameToken gives it (else how to get one)."""
    from ossutil.wire.errors import OssError

    try:
        token = _token(client, bucket, domain)
    except (OssError, OSError, ValueError) as error:  # the hint must not hide the real error
        detail = f" ({error.code})" if isinstance(error, OssError) else ""
        return (f"Hint: the token could not be read{detail}. Publish the bucket's token for "
                f"{domain} as the TXT record {_dnsauth_name(domain)}; see it with:\n"
                f"    ossutil bucket-cname --method get --item token oss://{bucket} {domain}\n")
    if token is None:
        return _no_token_hint(bucket, domain)
    return _record_hint(domain, token.token, token.expire_time)


def _token(client: OssClient, bucket: str, domain: str) -> CnameToken | None:
    """GetCnameToken's record, or None when there is none (404 CnameTokenNotFound)."""
    from ossutil.wire.errors import OssError

    try:
        return client.get_cname_token(bucket, domain)
    except OssError as error:
        if error.code == "CnameTokenNotFound":
            return None
        raise


def _dnsauth_name(domain: str) -> str:
    # dnsrules only when a hint or --check-dns needs the name: not on a plain 1.7 call's path
    from ossutil.dnsrules import dnsauth_name

    return dnsauth_name(domain)


def _record_hint(domain: str, token: str, expire_time: str) -> str:
    expiry = f"The token expires at {expire_time}.\n" if expire_time else ""
    return (f"Hint: to prove you own {domain}, publish this DNS record, then run the command "
            f"again:\n    {_dnsauth_name(domain)}  TXT  \"{token}\"\n{expiry}")


def _no_token_hint(bucket: str, domain: str) -> str:
    return (f"Hint: there is no ownership token for {domain} on bucket {bucket}. Create one, "
            f"publish it as the TXT record {_dnsauth_name(domain)}, then bind:\n"
            f"    ossutil bucket-cname --method put --item token oss://{bucket} {domain}\n")


def _hinted(message: str, hint: str) -> CliError:
    error = CliError(message)
    error.hint = hint  # type: ignore[attr-defined]
    return error


def _hints_wanted(ctx: Context) -> bool:
    """Hints cost a request: only for a human at a terminal, or when --check-dns asked."""
    if ctx.parsed.flag("checkDns"):
        return True
    import sys

    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# --- output: stdout or local_xml_file (§5) -----------------------------------------------------


def _emit(ctx: Context, content: str | bytes, path: str | None) -> None:
    """Write the result, asking before overwriting; ``\\n\\n`` follows unless declined."""
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
    write_result(ctx, data, path, "bucket cname")


def confirm_overwrite(ctx: Context, path: str, label: str = "bucket cname") -> bool:
    """``\\r<label>: overwrite "<path>"(y or N)? `` then one word: y/yes (any case)."""
    from ossutil.cli import render

    ctx.out.write(render.overwrite_prompt(path, label))
    ctx.out.flush()
    line = ctx.stdin.readline()
    words = line.split()
    if not line.endswith(b"\n") and not words:
        return False
    return len(words) == 1 and words[0].lower() in (b"y", b"yes")



