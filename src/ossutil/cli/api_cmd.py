"""``ossutil api``: ossutil 2.0's API-level commands for the five CNAME operations and the
bucket's website, CORS and Referer configurations (issue 12).

    ossutil api create-cname-token --bucket B (--cname-configuration CFG | --cname D)
    ossutil api get-cname-token    --bucket B --cname D
    ossutil api put-cname          --bucket B (--cname-configuration CFG | --cname D)
    ossutil api list-cname         --bucket B
    ossutil api delete-cname       --bucket B (--cname-configuration CFG | --cname D)
        [--output-format xml|json|yaml] [-e ENDPOINT] [-i ID] [-k SECRET] [-c FILE] ...

    ossutil api put-bucket-website|put-bucket-cors|put-bucket-referer --bucket B
        --website-configuration|--cors-configuration|--referer-configuration CFG
    ossutil api get-bucket-website|get-bucket-cors|get-bucket-referer --bucket B
    ossutil api delete-bucket-website|delete-bucket-cors --bucket B
    ossutil api option-object --bucket B --key K [--origin O]
        [--access-control-request-method M] [--access-control-request-headers H]

``CFG`` is a ``<BucketCnameConfiguration>`` document (for the others: their configuration,
any root name, or JSON without the root), the same as JSON without the root
(``{"Cname":{"Domain":"example.com"}}``), or ``file://path`` holding either (reference
``ossutil-cli.md`` §16). ``--cname D`` is accepted wherever one domain is all the body says.

Decisions (ossutil 2.0 is the model where §16 says something; otherwise ours):

- **Parsing is our own, not goopt.** ``--bucket`` is a boolean ``-b`` flag in 1.7's table and
  ``--cname-configuration`` would be a goopt "Bad flag", so ``cli.main`` hands the whole command
  line over (``api_index``) when goopt would have read ``api`` as the command word: any other
  command line, including every 1.7 one, never gets here. Rules are pflag's, as in 2.0:
  ``--name value``, ``--name=value``, ``-e value``, ``-evalue``, booleans ``--flag`` or
  ``--flag=true|false``, exact long names only (no goopt prefixes), last value wins, ``--`` ends
  options, ``-h``/``--help`` anywhere shows the help; options written *before* ``api`` keep
  goopt's rules (prefixes, ``-ik ID KEY``), being 1.7 words. Global options are 1.7's shared ones
  (``options.COMMON_OPTIONS``) with 1.7's meaning, config file and precedence (``-e`` ... ``-c``,
  ``--region``, ``--sign-version``, ``--force-path-style``, ``-p``, ``--mode`` ...): the client
  is built by ``command.client_for`` exactly as for ``bucket-cname``, so signing defaults to V1
  as in 1.7 (2.0 defaults to V4). Each operation takes only its own flags (``list-cname
  --cname`` is an unknown flag).
- **Output.** No ``--output-format``: the response body verbatim (2.0's "raw XML"), plus a newline
  if it lacks one; ``xml``, ``json`` or ``yaml``: the body converted as ``api_render`` describes
  (root dropped, ``<root>`` for xml). PutCname and DeleteCname return no body and print nothing.
  No elapsed line (1.7's ``(s) elapsed`` would break JSON/YAML consumers). Any 2xx is success.
- **Errors** go to **stderr** with exit status 1 (2.0 prints them there; stdout stays data).
  Service errors use the 2.0 Go SDK's text (§16), prefixed ``operation error <Operation>: ``;
  local failures are one line ``Error: <message>`` (pflag/cobra wording for flag problems, 1.7's
  wording for config, credential and bucket-name checks, Go's ``url.Error`` for transport).
- ``--loglevel`` works as in 1.7 (``ossutil.log``), its ``log file is`` line going to stderr.

Not implemented from 2.0: ``--output-query``, ``--profile``/``[profile]`` sections, environment
credentials, ``--dry-run``, ``--addressing-style``, ``--wildcard``.
"""

from __future__ import annotations

import sys

from ossutil.cli.command import CliError, CommandSpec, Context
from ossutil.cli.options import BY_NAME, COMMON_OPTIONS, Kind

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO

    from ossutil.cli.command import Output
    from ossutil.client.client import OssClient
    from ossutil.client.transport import Request, Response
    from ossutil.wire.errors import OssError

GROUP = "API Commands"  # not one of the groups ``help`` lists: 1.7's whole help is unchanged
# ``ossutil help api`` lists the global options; the operation flags are in its prose
SPEC = CommandSpec("api", min_args=0, max_args=2, valid_options=COMMON_OPTIONS, group=GROUP)

FORMATS = ("xml", "json", "yaml")
CONFIG_ROOT = "BucketCnameConfiguration"


class Operation:
    """One ``api`` operation: OSS name, HTTP method, sub-resource, and what it needs."""

    __slots__ = ("name", "method", "comp", "flags", "needs")

    def __init__(self, name: str, method: str, comp: str | None, flags: tuple[str, ...],
                 needs: str) -> None:
        self.name = name  # CreateCnameToken ...
        self.method = method
        self.comp = comp  # ?cname&comp=<comp>
        self.flags = flags  # operation flags accepted besides --bucket/--output-format
        self.needs = needs  # "body", "domain" or ""


BODY_FLAGS = ("cname-configuration", "cname")
OPERATIONS: dict[str, Operation] = {
    "create-cname-token": Operation("CreateCnameToken", "POST", "token", BODY_FLAGS, "body"),
    "get-cname-token": Operation("GetCnameToken", "GET", "token", BODY_FLAGS, "domain"),
    "put-cname": Operation("PutCname", "POST", "add", BODY_FLAGS, "body"),
    "list-cname": Operation("ListCname", "GET", None, (), ""),
    "delete-cname": Operation("DeleteCname", "POST", "delete", BODY_FLAGS, "body"),
}


class ConfigOperation:
    """A bucket-configuration operation (issue 12): one sub-resource, an optional body flag."""

    __slots__ = ("name", "method", "resource", "flag", "root")

    def __init__(self, name: str, method: str, resource: str, flag: str = "",
                 root: str = "") -> None:
        self.name = name  # PutBucketWebsite ...
        self.method = method
        self.resource = resource  # ?website
        self.flag = flag  # the body's flag (--website-configuration), "" for none
        self.root = root  # the body's root element


CONFIG_OPERATIONS: dict[str, ConfigOperation] = {
    "put-bucket-website": ConfigOperation("PutBucketWebsite", "PUT", "website",
                                          "website-configuration", "WebsiteConfiguration"),
    "get-bucket-website": ConfigOperation("GetBucketWebsite", "GET", "website"),
    "delete-bucket-website": ConfigOperation("DeleteBucketWebsite", "DELETE", "website"),
    "put-bucket-cors": ConfigOperation("PutBucketCors", "PUT", "cors", "cors-configuration",
                                       "CORSConfiguration"),
    "get-bucket-cors": ConfigOperation("GetBucketCors", "GET", "cors"),
    "delete-bucket-cors": ConfigOperation("DeleteBucketCors", "DELETE", "cors"),
    "put-bucket-referer": ConfigOperation("PutBucketReferer", "PUT", "referer",
                                          "referer-configuration", "RefererConfiguration"),
    "get-bucket-referer": ConfigOperation("GetBucketReferer", "GET", "referer"),
}
# option-object: OPTIONS on an object, the preflight a browser sends (OptionObject)
PREFLIGHT_FLAGS = {"origin": "Origin",
                   "access-control-request-method": "Access-Control-Request-Method",
                   "access-control-request-headers": "Access-Control-Request-Headers"}
# the v2 SDK's OptionObjectResult fields, for --output-format
PREFLIGHT_FIELDS = (("Access-Control-Allow-Origin", "AccessControlAllowOrigin"),
                    ("Access-Control-Allow-Methods", "AccessControlAllowMethods"),
                    ("Access-Control-Allow-Headers", "AccessControlAllowHeaders"),
                    ("Access-Control-Expose-Headers", "AccessControlExposeHeaders"),
                    ("Access-Control-Max-Age", "AccessControlMaxAge"))
OWN_FLAGS = ("bucket", "output-format", "cname", "cname-configuration",
             *(op.flag for op in CONFIG_OPERATIONS.values() if op.flag), "key", *PREFLIGHT_FLAGS)


class ApiExit(Exception):
    """Stop with ``text`` on stdout and ``code`` (help)."""

    def __init__(self, text: str, code: int = 0) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


# --- the hook cli.main calls ---------------------------------------------------------------------


def api_index(argv: Sequence[str], command: str = "api") -> int:
    """Index of ``api`` (or ``command``: ``doctor`` parses the same way) when goopt
    would read it as the command word, else -1.

    Walks ``argv`` with goopt's own rules (prefixes, value-taking options, short clusters) and
    gives up (-1) wherever goopt would stop with help or an error, so 1.7's behaviour for every
    command line that does not start with ``api`` is untouched.
    """
    from ossutil.cli import goopt
    from ossutil.cli.options import OPTIONS

    longs = [*goopt.GOOPT_EXTRA_LONG, *(o.long for o in OPTIONS), "--help", "--version"]
    if any(goopt.match(w, longs) in goopt.GOOPT_EXTRA_LONG for w in argv if w.startswith("--")):
        return -1
    by_long = {o.long: o for o in OPTIONS}
    by_short = {o.short[1]: o for o in OPTIONS if o.short}

    def usable(words: Sequence[str], index: int) -> bool:  # goopt takes a separate value only so
        return index < len(words) and bool(words[index]) and (
            words[index][0] != "-" or words[index] == "-")

    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return -1
        if len(word) > 1 and word[0] == "-" and word[1] != "-":
            skip = 0
            for char in word[1:]:
                option = by_short.get(char)
                if option is None:  # includes -h
                    return -1
                if option.takes_value:
                    if not usable(argv, i + skip + 1):
                        return -1
                    skip += 1
            i += 1 + skip
            continue
        if len(word) > 2 and word[:2] == "--":
            option = by_long.get(goopt.match(word, longs))
            if option is None:  # unknown, ambiguous or --help
                return -1
            if "=" in word[2:]:
                if not option.takes_value:
                    return -1
            elif option.takes_value:
                if not usable(argv, i + 1):
                    return -1
                i += 1
            i += 1
            continue
        return i if word == command else -1
    return -1


def run_argv(argv: Sequence[str], index: int, out: Output, stdin: IO[bytes]) -> int:
    """Run ``ossutil <globals> api <operation> ...``; returns the exit status.

    Writes results to ``out`` and errors to stderr (see the module docstring).
    """
    ctx: Context | None = None
    try:
        args = parse(argv[:index], argv[index + 1:])
        ctx = _context(args, out, stdin)
        execute(args, ctx)
        return 0
    except ApiExit as stop:
        out.write(stop.text)
        return stop.code
    except Exception as error:  # noqa: BLE001 - every failure becomes one ``Error:`` text
        out.flush()
        _stderr(f"Error: {error_text(error)}\n")
        return 1
    finally:
        if ctx is not None:
            ctx.close()


def run(ctx: Context) -> None:
    """Reached only through goopt (``ossutil -- api ...``): api options cannot be read there."""
    raise CliError('the "api" command must come before "--"; run "ossutil api --help"')


def _stderr(text: str) -> None:
    stream = sys.stderr
    stream.write(text)
    stream.flush()


# --- parsing (pflag rules) -----------------------------------------------------------------------


class ApiArgs:
    """The parsed command line: operation, its flags, and the global options (internal names)."""

    def __init__(self) -> None:
        self.operation = ""
        self.extra: list[str] = []  # positional words after the operation
        self.own: dict[str, str] = {}  # bucket, cname, cname-configuration, output-format
        self.values: dict[str, str] = {}  # global string options by internal name
        self.flags: dict[str, bool] = {}
        self.given: list[str] = []


def _global_options() -> tuple[dict[str, str], dict[str, str]]:
    """``--long`` and ``-x`` spellings of the accepted global options -> internal names."""
    longs = {BY_NAME[name].long: name for name in COMMON_OPTIONS}
    longs["--profile"] = "profile"  # beyond 1.7, as ossutil 2.0's own --profile
    shorts = {BY_NAME[name].short: name for name in COMMON_OPTIONS if BY_NAME[name].short}
    return longs, shorts


def parse(before: Sequence[str], after: Sequence[str]) -> ApiArgs:
    """Global options before ``api`` (goopt rules), then the operation and its flags (pflag)."""
    from ossutil.cli import goopt

    args = ApiArgs()
    pre = goopt.parse(before)  # cannot stop: ``api_index`` walked these words with its rules
    for name in pre.given:
        option = BY_NAME[name]
        if name not in COMMON_OPTIONS and name != "profile":
            raise CliError(f"unknown flag: {option.long}")
        if option.kind == Kind.INT64:
            _check_int(option.long, pre.get(name))
    args.values.update(pre.values)
    args.flags.update(pre.flags)
    args.given.extend(pre.given)
    _parse_words(after, args)
    if not args.operation:
        raise ApiExit(help_text())
    return args


def _check_int(spelled: str, value: str) -> None:
    from ossutil.client.config import parse_int64

    if parse_int64(value) is None:
        raise CliError(f'invalid argument "{value}" for "{spelled}" flag: '
                       f'strconv.ParseInt: parsing "{value}": invalid syntax')


def _parse_words(words: Sequence[str], args: ApiArgs) -> None:
    longs, shorts = _global_options()
    if any(word in ("-h", "--help") for word in _option_words(words)):
        raise ApiExit(help_text())
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            for rest in words[i + 1:]:
                _positional(args, rest)
            return
        if word.startswith("--") and len(word) > 2:
            name, eq, inline = word[2:].partition("=")
            spelled = "--" + name
            if name in OWN_FLAGS:
                value, i = _value(words, i, spelled, inline if eq else None)
                args.own[name] = value
                continue
            internal = longs.get(spelled)
            if internal is None:
                raise CliError(f"unknown flag: {spelled}")
            i = _global(args, internal, words, i, spelled, inline if eq else None)
            continue
        if word.startswith("-") and len(word) > 1:
            spelled = word[:2]
            internal = shorts.get(spelled)
            if internal is None:
                raise CliError(f"unknown shorthand flag: '{word[1]}' in {word}")
            rest = word[2:]
            attached = rest[1:] if rest.startswith("=") else (rest or None)
            i = _global(args, internal, words, i, spelled, attached)
            continue
        _positional(args, word)
        i += 1


def _option_words(words: Sequence[str]) -> list[str]:
    return list(words[:words.index("--")] if "--" in words else words)


def _positional(args: ApiArgs, word: str) -> None:
    if not args.operation:
        args.operation = word
    else:
        args.extra.append(word)


def _value(words: Sequence[str], i: int, spelled: str, inline: str | None) -> tuple[str, int]:
    """A value-taking flag's value: inline, or the next word whatever it is (pflag)."""
    if inline is not None:
        return inline, i + 1
    if i + 1 >= len(words):
        raise CliError(f"flag needs an argument: {spelled}")
    return words[i + 1], i + 2


def _global(args: ApiArgs, internal: str, words: Sequence[str], i: int, spelled: str,
            inline: str | None) -> int:
    option = BY_NAME[internal]
    args.given.append(internal)
    if option.kind == Kind.FLAG:
        if inline is None:
            args.flags[internal] = True
        elif inline.lower() in ("true", "1", "t"):
            args.flags[internal] = True
        elif inline.lower() in ("false", "0", "f"):
            args.flags[internal] = False
        else:
            raise CliError(f'invalid argument "{inline}" for "{spelled}" flag: '
                           f'strconv.ParseBool: parsing "{inline}": invalid syntax')
        return i + 1
    value, i = _value(words, i, spelled, inline)
    if option.kind == Kind.INT64:
        _check_int(spelled, value)
    args.values[internal] = value
    return i


# --- running an operation -----------------------------------------------------------------------


def _context(args: ApiArgs, out: Output, stdin: IO[bytes]) -> Context:
    """A ``Context`` whose ``parsed`` holds the global options, as goopt would have."""
    from ossutil.cli.goopt import ParseResult

    parsed = ParseResult()
    parsed.values.update(args.values)
    parsed.flags.update(args.flags)
    parsed.given.extend(args.given)
    ctx = Context(parsed, [], out, stdin)
    level = args.values.get("loglevel", "")
    if level:
        if level not in ("info", "debug"):
            raise CliError("loglevel must be:info|debug")
        from ossutil.cli.command import Output as OutputStream
        from ossutil.cli.debuglog import ClosingDebugTransport, open_log

        err = OutputStream(getattr(sys.stderr, "buffer", None))
        ctx.log = open_log(level, ["api", args.operation], err)
        log = ctx.log
        if level == "debug":
            ctx.transport_wrapper = lambda transport: ClosingDebugTransport(transport, log)
    return ctx


def execute(args: ApiArgs, ctx: Context) -> None:
    """Check the flags, build the client and the request, send, render."""
    if args.operation in CONFIG_OPERATIONS or args.operation == "option-object":
        execute_config(args, ctx)
        return
    operation = OPERATIONS.get(args.operation)
    if operation is None:
        raise CliError(f'unknown command "{args.operation}" for "ossutil api"')
    if args.extra:
        raise CliError(f'unknown command "{args.extra[0]}" for "ossutil api {args.operation}"')
    for name in args.own:
        if name not in ("bucket", "output-format") and name not in operation.flags:
            raise CliError(f"unknown flag: --{name}")
    output_format = args.own.get("output-format", "")
    if output_format and output_format.lower() not in FORMATS:
        raise CliError(f'invalid value "{output_format}" for "--output-format": '
                       "must be one of xml, json, yaml")
    bucket = args.own.get("bucket", "")
    if not bucket:
        raise CliError('required flag(s) "bucket" not set')
    config_value = args.own.get("cname-configuration")
    domain = args.own.get("cname")
    if operation.needs and config_value is not None and domain is not None:
        raise CliError("give either --cname or --cname-configuration, not both")
    if operation.needs and config_value is None and domain is None:
        wanted = "cname" if operation.needs == "domain" else "cname-configuration"
        raise CliError(f'required flag(s) "{wanted}" not set')
    body = b""
    if config_value is not None:
        body = configuration_body(config_value)
        if operation.needs == "domain":
            domain = configuration_domain(body)
    elif domain is not None and operation.needs == "body":
        from ossutil.client.client import cname_body

        body = cname_body(domain)

    client = _client(ctx, bucket)
    from ossutil.cli.command import check_bucket_name

    check_bucket_name(bucket)
    query: list[tuple[str, str | None]] = [("cname", domain if operation.needs == "domain"
                                            else None)]
    if operation.comp:
        query.append(("comp", operation.comp))
    request = client.build_request(operation.method, bucket, query, body)
    response = _send(client, request, operation)
    ctx.out.write(render_body(response.body, output_format.lower()))


def execute_config(args: ApiArgs, ctx: Context) -> None:
    """The website, CORS and Referer operations and option-object: same flag rules, client
    and error texts as the CNAME ones; a body flag takes XML, JSON or file:// as
    ``--cname-configuration`` does."""
    config = CONFIG_OPERATIONS.get(args.operation)
    accepted = ({config.flag} if config is not None and config.flag
                else {"key", *PREFLIGHT_FLAGS} if config is None else set())
    if args.extra:
        raise CliError(f'unknown command "{args.extra[0]}" for "ossutil api {args.operation}"')
    for name in args.own:
        if name not in ("bucket", "output-format") and name not in accepted:
            raise CliError(f"unknown flag: --{name}")
    output_format = args.own.get("output-format", "")
    if output_format and output_format.lower() not in FORMATS:
        raise CliError(f'invalid value "{output_format}" for "--output-format": '
                       "must be one of xml, json, yaml")
    bucket = args.own.get("bucket", "")
    if not bucket:
        raise CliError('required flag(s) "bucket" not set')
    body = b""
    if config is not None and config.flag:
        value = args.own.get(config.flag)
        if value is None:
            raise CliError(f'required flag(s) "{config.flag}" not set')
        body = configuration_body(value, config.root, config.flag)
    key = args.own.get("key", "")
    if config is None and not key:
        raise CliError('required flag(s) "key" not set')
    client = _client(ctx, bucket)
    from ossutil.cli.command import check_bucket_name

    check_bucket_name(bucket)
    if config is None:
        headers = [(header, args.own[flag]) for flag, header in PREFLIGHT_FLAGS.items()
                   if flag in args.own]
        request = client.build_request("OPTIONS", bucket, (), b"", headers, key=key)
        response = _send(client, request, Operation("OptionObject", "OPTIONS", None, (), ""))
        ctx.out.write(render_preflight(response, output_format.lower()))
        return
    request = client.build_request(config.method, bucket, [(config.resource, None)], body)
    response = _send(client, request, Operation(config.name, config.method, None, (), ""))
    ctx.out.write(render_body(response.body, output_format.lower()))


def render_preflight(response: Response, output_format: str) -> str:
    """option-object's answer: the ``Access-Control-*`` and ``Vary`` headers as received, one
    ``Name: value`` line each; with --output-format, the v2 SDK's OptionObjectResult fields."""
    if not output_format:
        return "".join(f"{name}: {value}\n" for name, value in response.headers
                       if name.lower().startswith("access-control-") or name.lower() == "vary")
    from ossutil.cli import api_render

    tree = {field: response.header(header) for header, field in PREFLIGHT_FIELDS
            if response.header(header)}
    if output_format == "json":
        return api_render.to_json(tree)
    if output_format == "yaml":
        return api_render.to_yaml(tree)
    return api_render.to_xml(tree)


def _client(ctx: Context, bucket: str) -> OssClient:
    """Config file, ``-p``, precedence and credential checks exactly as 1.7 commands do."""
    from ossutil.cli.command import client_for, load_config_for, read_password
    from ossutil.client.config import resolve

    ctx.config = load_config_for(ctx.parsed)
    command_line = ctx.parsed.command_line()
    if ctx.parsed.flag("password"):
        command_line["accessKeySecret"] = read_password(ctx)
    settings = resolve(command_line, ctx.config)
    return client_for(settings, bucket, ctx)


class ApiServiceError(Exception):
    """A non-2xx reply, worded as 2.0 does (``operation error X: Error returned by Service.``)."""


def _send(client: OssClient, request: Request, operation: Operation) -> Response:
    from ossutil.client.transport import TransportError
    from ossutil.wire.errors import OssError

    try:
        return client.send(request)
    except OssError as error:
        raise ApiServiceError(
            f"operation error {operation.name}: {service_error_text(error, request)}") from error
    except TransportError as error:
        raise CliError(f"operation error {operation.name}: {error}") from error


def service_error_text(error: OssError, request: Request) -> str:
    """The v2 Go SDK's ``ServiceError.Error()`` (trailing spaces on four lines included)."""
    from ossutil.cli.goxml import GoXmlError, unmarshal

    response: Response | None = getattr(error, "response", None)
    status = response.status if response is not None else error.status
    body = response.body if response is not None else b""
    header = response.header if response is not None else (lambda name: "")
    if not body and header("x-oss-err"):
        import base64
        import binascii

        try:
            body = base64.b64decode(header("x-oss-err"), validate=True)
        except (binascii.Error, ValueError):
            pass
    code, message, request_id = "BadErrorResponse", "", header("x-oss-request-id")
    ec = ""
    try:
        fields = unmarshal(body, "Error", ("Code", "Message", "RequestId", "EC"))
        code, message, ec = fields["Code"], fields["Message"], fields["EC"]
        request_id = fields["RequestId"] or request_id
    except GoXmlError as exc:
        part = body[:256].decode("utf-8", "replace")
        message = (f"Failed to parse xml from response body due to: {exc}. "
                   f"With part response body {part}.")
    ec = ec or header("x-oss-ec")
    return (f"Error returned by Service. \nHttp Status Code: {status}. \nError Code: {code}. \n"
            f"Request Id: {request_id}. \nMessage: {message}.\nEC: {ec}.\n"
            f"Timestamp: {_go_time(header('Date'))}.\n"
            f"Request Endpoint: {request.method} {request.url}.")


def _go_time(date: str) -> str:
    """The reply's ``Date`` as Go prints a parsed ``time.Time`` (``... +0000 GMT``)."""
    from datetime import datetime, timezone

    try:
        moment = datetime.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")
        zone = "GMT"
    except ValueError:
        moment, zone = datetime.now(timezone.utc), "UTC"
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f" +0000 {zone}"


def error_text(error: Exception) -> str:
    """One ``Error:`` body for any failure (service errors are the SDK's multi-line text)."""
    if isinstance(error, ApiServiceError | CliError):
        return str(error)
    from ossutil.client.errors import ClientError

    if isinstance(error, ClientError):
        return str(error)
    if isinstance(error, OSError):
        return _os_error(error)
    return str(error) or type(error).__name__


def _os_error(error: OSError) -> str:
    """Go's ``*PathError`` text: ``open <path>: no such file or directory``."""
    reason = error.strerror or str(error)
    reason = reason[:1].lower() + reason[1:]
    return f"open {error.filename}: {reason}" if error.filename is not None else reason


# --- request bodies ------------------------------------------------------------------------------


def configuration_body(value: str, root: str = CONFIG_ROOT,
                       flag: str = "cname-configuration") -> bytes:
    """``--cname-configuration`` (or another operation's body ``flag`` with its ``root``): XML
    or JSON, inline or ``file://path``, as request bytes.

    An XML document whose root is ``root`` is sent verbatim; another root is renamed to it (2.0
    ignores the root's name); JSON is the configuration without its root.
    """
    data = value.encode("utf-8", "surrogateescape")
    if value.startswith("file://"):
        path = value[len("file://"):]
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CliError(_os_error(error)) from error
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        from ossutil.cli import api_render

        try:
            element = api_render.xml_root(data)
        except ValueError as error:
            raise CliError(f"invalid --{flag}: the XML is not well-formed") from error
        name = api_render.local_name(element.tag)
        if name == root:
            return data
        tree = api_render.element_to_tree(element)
        if name == "Cname" and root == CONFIG_ROOT:  # just the <Cname> element: wrap it
            tree = {"Cname": tree}
        return api_render.tree_to_request_xml(root, _as_dict(tree))
    if text.startswith(b"{"):
        import json

        from ossutil.cli import api_render

        try:
            tree = json.loads(data.decode("utf-8-sig"))
        except ValueError as error:
            raise CliError(f"invalid --{flag}: the JSON is not valid: {error}") from error
        if isinstance(tree, dict) and list(tree) == [root]:
            tree = tree[root]  # also accept the root spelled out
        try:
            return api_render.tree_to_request_xml(root, tree)
        except ValueError as error:
            raise CliError(f"invalid --{flag}: {error}") from error
    raise CliError(f"invalid --{flag}: give XML, JSON or file://path")


def _as_dict(tree: object) -> object:
    return tree if isinstance(tree, dict) else {}


def configuration_domain(body: bytes) -> str:
    """``Cname/Domain`` of a configuration body (get-cname-token given a configuration)."""
    from ossutil.cli import api_render

    tree = api_render.xml_to_tree(body)
    cname = tree.get("Cname") if isinstance(tree, dict) else None
    domain = cname.get("Domain") if isinstance(cname, dict) else None
    if not isinstance(domain, str) or not domain:
        raise CliError("invalid --cname-configuration: no Cname/Domain in it")
    return domain


# --- output --------------------------------------------------------------------------------------


def render_body(body: bytes, output_format: str) -> str:
    """The response body as the user asked for it (see the module docstring)."""
    if not body:
        return ""
    if not output_format:
        text = body.decode("utf-8", "surrogateescape")
        return text if text.endswith("\n") else text + "\n"
    from ossutil.cli import api_render

    try:
        tree = api_render.xml_to_tree(body)
    except ValueError as error:
        raise CliError(f"cannot convert the response to {output_format}: "
                       "the body is not well-formed XML") from error
    if output_format == "json":
        return api_render.to_json(tree)
    if output_format == "yaml":
        return api_render.to_yaml(tree)
    return api_render.to_xml(tree)


# --- help ----------------------------------------------------------------------------------------


def help_text() -> str:
    from ossutil.cli import help_text as texts

    return texts.command_help("api", SPEC.valid_options, "EN")
