"""``ossutil sign oss://bucket/object``: print a presigned GET URL, as ossutil 1.7.19 does.

    $ ossutil sign oss://bucket/dir/a.txt --timeout 300 -e http://127.0.0.1:9000 -i ID -k KEY
    http://127.0.0.1:9000/bucket/dir%2Fa.txt?Expires=1796186584&OSSAccessKeyId=ID&Signature=...

    0.000363(s) elapsed

The URL is the Go SDK v3.0.2's ``Bucket.SignURL`` (``OssClient.presign`` with the Go SDK's V1
sub-resource list): the key query-escaped whole (``/`` is ``%2F`` unless
``--disable-encode-slash``), parameters sorted; V1 ``Expires`` is now + ``--timeout`` (default
60) as int64, V4 carries ``x-oss-expires=<timeout>``, ``--sign-version v2`` the OSS2 names.
``--version-id``, ``--trafic-limit`` (> 0), ``--payer requester`` and each ``--query-param
name:value`` (last wins per name) become signed parameters. No request is sent.
"""

from __future__ import annotations

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    check_bucket_name,
    client_for,
    init_command,
)

SPEC = CommandSpec("sign", min_args=1, max_args=1, valid_options=(
    "timeout", "encodingType", "configFile", "endpoint", "accessKeyID", "accessKeySecret",
    "stsToken", "loglevel", "versionId", "trafficLimit", "disableEncodeSlash", "payer",
    "password", "mode", "ecsRoleName", "tokenTimeout", "ramRoleArn", "roleSessionName",
    "stsRegion", "userAgent", "queryParam", "signVersion", "region", "cloudBoxID",
    "forcePathStyle"))

DEFAULT_TIMEOUT = 60

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

# The signing time; None = now. Tests set it to replay the Go binary's moment exactly.
clock: Callable[[], datetime] | None = None


def run(ctx: Context) -> None:
    from ossutil.client.config import parse_int64
    from ossutil.wire.signing import GO_SUBRESOURCES

    settings = init_command(SPEC, ctx)
    bucket, key = object_url(ctx.args[0], settings.get("encodingType"))
    timeout = parse_int64(settings.get("timeout")) if settings.get("timeout") else None
    traffic = parse_int64(settings.get("trafficLimit")) if settings.get("trafficLimit") else None
    if traffic is not None and traffic < 0:
        raise CliError("Option value of --trafic-limit must be greater than 0")
    payer = settings.get("payer")
    if payer and payer != "requester":
        raise CliError(f"invalid request payer: {payer}, please check")
    query: list[tuple[str, str]] = []
    if settings.get("versionId"):
        query.append(("versionId", settings.get("versionId")))
    if traffic:
        query.append(("x-oss-traffic-limit", str(traffic)))
    if payer:
        query.append(("x-oss-request-payer", payer))
    for text in ctx.parsed.multi.get("queryParam", []):  # ossutil's AddStringsToOption
        name, _, value = text.partition(":")
        query.append((name, value))
    client = client_for(settings, bucket, ctx)
    check_bucket_name(bucket)
    url = client.presign("GET", bucket, key, DEFAULT_TIMEOUT if timeout is None else timeout,
                         query=query, subresources=GO_SUBRESOURCES,
                         now=clock() if clock is not None else None)
    if settings.flag("disableEncodeSlash"):  # ossutil replaces %2F before the query only
        head, _, tail = url.partition("?")
        url = head.replace("%2F", "/") + "?" + tail
    ctx.out.write(url + "\n")


def object_url(text: str, encoding_type: str) -> tuple[str, str]:
    """ossutil's ``ObjectURLFromString``: (bucket, object) of ``oss://bucket/object``.

    ``--encoding-type url`` (exactly ``url``: ``URL`` passes the option check and decodes
    nothing, as in ossutil) query-unescapes the object name, or, for a text that is not a cloud
    URL, the whole text first (ossutil parses it as a file name).
    """
    decode = encoding_type == "url"
    if not text.lower().startswith("oss://"):
        if decode:
            _, error = _query_unescape(text)
            if error:
                raise CliError(f"invalid cloud url: {text}, file name is not url encoded, "
                               f"{error}")
        raise CliError(f'invalid cloud url: "{text}", please make sure the url starts with: '
                       '"oss://"')
    bucket, slash, obj = text[len("oss://"):].partition("/")
    if slash and decode:
        obj, error = _query_unescape(obj)
        if error:
            raise CliError(f"invalid cloud url: {text}, object name is not url encoded, {error}")
    if not bucket and obj:
        raise CliError(f"invalid cloud url: {text}, miss bucket")
    if decode and bucket and not obj:
        decoded, error = _query_unescape(bucket)
        if not error and decoded != bucket:
            raise CliError(f"invalid cloud url: {text}, bucket url do not support --encoding-type "
                       "option")
    if not bucket:
        raise CliError(f"invalid cloud url: {text}, miss bucket")
    if not obj:
        raise CliError(f"invalid cloud url: {text}, miss object")
    return bucket, obj


def _query_unescape(text: str) -> tuple[str, str]:
    """Go's ``url.QueryUnescape``: (decoded, "") or ("", Go's error text)."""
    data = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x25:  # %
            pair = data[i + 1:i + 3]
            if len(pair) < 2 or not all(chr(b) in "0123456789abcdefABCDEF" for b in pair):
                bad = data[i:i + 3].decode("utf-8", "surrogateescape")
                return "", f"invalid URL escape {_go_quote(bad)}"
            out.append(int(pair, 16))
            i += 3
            continue
        out.append(0x20 if byte == 0x2B else byte)
        i += 1
    return out.decode("utf-8", "surrogateescape"), ""


def _go_quote(text: str) -> str:
    """``strconv.Quote`` for the short texts of an escape error (printable kept, bytes of
    invalid UTF-8 as ``\\xNN``)."""
    parts = ['"']
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
            parts.append(f"\\x{code - 0xDC00:02x}")
        elif ch in '"\\':
            parts.append("\\" + ch)
        elif ch.isprintable():
            parts.append(ch)
        elif code < 0x10000:
            parts.append(f"\\u{code:04x}")
        else:
            parts.append(f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)
