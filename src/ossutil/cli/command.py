"""What every ossutil command shares: its spec, the run context, and ``Command.Init``'s checks.

ossutil runs the same preamble before any command body (reference §3, steps 3-5 and the
``-p`` prompt): argument count, config file, unsupported options, then the merge of command line
and config file. ``init_command`` is that preamble; ``client_for`` is the SDK client construction
(step 8) with ossutil's credential checks and wording.
"""

from __future__ import annotations

import os
import sys

from ossutil.cli import render
from ossutil.cli.goopt import ParseResult
from ossutil.cli.options import BY_NAME, GLOBAL_BEYOND_OPTIONS, Kind
from ossutil.client.errors import ClientError

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import IO

    from ossutil.cli.options import Option
    from ossutil.client.client import Credentials, OssClient
    from ossutil.client.config import ConfigFile, Settings
    from ossutil.client.transport import Transport

VERSION = "v1.7.19"  # the ossutil release whose behaviour this CLI reproduces
NORMAL = "Commands"
ADDITIONAL = "Additional Commands"


class CliError(ClientError):
    """A failure ossutil reports as ``Error: <message>`` with exit status 1."""


class CommandSpec:
    """A command's name, argument range, accepted options and help group."""

    def __init__(self, name: str, min_args: int, max_args: int,
                 valid_options: tuple[str, ...], group: str = NORMAL) -> None:
        self.name = name
        self.min_args = min_args
        self.max_args = max_args
        self.valid_options = valid_options
        self.group = group


class Output:
    """stdout as bytes (arguments may hold any bytes); ``flush`` before reading stdin."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def write(self, text: str) -> None:
        self.stream.write(text.encode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        self.stream.flush()


class Context:
    """One run: parsed command line, positional arguments of the command, I/O, log."""

    def __init__(self, parsed: ParseResult, args: list[str], out: Output, stdin: IO[bytes],
                 log: Callable[[str, str], None] | None = None) -> None:
        self.parsed = parsed
        self.args = args
        self.out = out
        self.stdin = stdin
        self.log: Callable[[str, str], None] = log or (lambda level, text: None)
        self.config: ConfigFile | None = None
        self.transport_wrapper: Callable[[Transport], Transport] | None = None
        self.clients: list[OssClient] = []  # closed by ``main`` when the command ends

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()

    def option(self, name: str) -> str:
        return self.parsed.get(name)


def check_args(spec: CommandSpec, args: list[str]) -> None:
    message = render.argc_error(spec.name, spec.min_args, spec.max_args, len(args))
    if message is not None:
        raise CliError(message)


def needs_config_file(parsed: ParseResult) -> bool:
    """A missing config file is fatal unless -e/-i/-k/-t was given non-empty (§7.1), or (beyond
    1.7) one of ``OSS_ENDPOINT``, ``OSS_ACCESS_KEY_ID`` ... is set."""
    from ossutil.client.config import environment_values

    names = ("endpoint", "accessKeyID", "accessKeySecret", "stsToken")
    if any(parsed.get(name) for name in names):
        return False
    from_environment = environment_values()
    return not any(from_environment.get(name) for name in names)


def load_config_for(parsed: ParseResult) -> ConfigFile | None:
    """Step 4: the config file, or None when it may be missing and is."""
    from ossutil.client.config import load_config
    from ossutil.client.errors import ConfigError

    try:
        return load_config(parsed.get("configFile") or None, parsed.get("profile"))
    except ConfigError as error:
        if not needs_config_file(parsed):
            return None
        message = str(error)
        if message.startswith("error value of option"):
            raise CliError(message) from error
        raise CliError(render.config_read_error(message)) from error


def system_language() -> str:
    """ossutil's default language: CH when ``LANG`` is ``zh_CN`` (any encoding), else EN."""
    return "CH" if os.environ.get("LANG", "").split(".")[0] == "zh_CN" else "EN"


def chosen_language(parsed: ParseResult) -> str:
    """``-L`` > ``language`` in the config file (unreadable: none) > ``LANG``, as spelled."""
    from ossutil.client.config import load_config
    from ossutil.client.errors import ConfigError

    value = parsed.get("language")
    if value:
        return value
    try:
        value = load_config(parsed.get("configFile") or None,
                            parsed.get("profile")).options().get("language", "")
    except ConfigError:
        value = ""
    return value or system_language()


def check_options(spec: CommandSpec, parsed: ParseResult) -> None:
    """Step 5: any option given that the command does not accept (internal name in the text)."""
    for name in parsed.given:
        if name in spec.valid_options or name in GLOBAL_BEYOND_OPTIONS:
            continue
        option = BY_NAME[name]
        if option.kind == Kind.FLAG:
            present = parsed.flag(name)
        elif option.kind == Kind.STRINGS:
            present = any(parsed.multi.get(name, []))
        else:
            present = parsed.get(name) != ""
        if present:
            raise CliError(render.unsupported_option(spec.name, name))


def init_command(spec: CommandSpec, ctx: Context) -> Settings:
    """ossutil's ``Command.Init``: argc, config, unsupported options, ``-p``, merge."""
    from ossutil.client.config import resolve

    check_args(spec, ctx.args)
    ctx.config = load_config_for(ctx.parsed)
    check_options(spec, ctx.parsed)
    command_line = ctx.parsed.command_line()
    if ctx.parsed.flag("password"):
        command_line["accessKeySecret"] = read_password(ctx)
    return resolve(command_line, ctx.config)


def read_password(ctx: Context) -> str:
    """``-p``: prompt on stderr, read without echo; not a terminal -> ossutil's ioctl error."""
    sys.stderr.write("input access key secret:")
    sys.stderr.flush()
    ctx.out.write("\r")
    ctx.out.flush()
    try:
        fd = ctx.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    if fd < 0 or not os.isatty(fd):
        raise CliError("inappropriate ioctl for device")
    import termios

    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
        line = ctx.stdin.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
    return line.decode("utf-8", "surrogateescape").rstrip("\r\n")


# --- cloud URLs (lib/storage_url.go) ---------------------------------------------------------


class CloudUrl:
    """``oss://bucket/object`` split into its parts."""

    def __init__(self, bucket: str, obj: str) -> None:
        self.bucket = bucket
        self.object = obj


def cloud_url(text: str) -> CloudUrl:
    """``oss://bucket[/object]`` (prefix case-insensitive); ossutil's messages otherwise (§13)."""
    if not text.lower().startswith("oss://"):
        from ossutil.client.config import home_directory

        shown = home_directory() + text[1:] if text.startswith("~" + os.sep) else text
        raise CliError(f"parameter is not a cloud url,url is {shown}")
    rest = text[len("oss://"):]
    bucket, _, obj = rest.partition("/")
    if not bucket and obj:
        raise CliError(f"invalid cloud url: {text}, miss bucket")
    if not bucket:
        raise CliError("bucket name is empty,url is oss://")
    return CloudUrl(bucket, obj)


def given_option(settings: Settings, names: Sequence[str]) -> Option | None:
    """The first of ``names`` the command line or config gave (a flag set, a value non-empty):
    how commands find an ossutil option they refuse rather than ignore."""
    for name in names:
        option = BY_NAME[name]
        if settings.flag(name) if not option.takes_value else settings.get(name):
            return option
    return None


def storage_url(text: str) -> tuple[str, str]:
    """(bucket, object) of ``oss://...`` as ``mb`` and ``ls`` check it: their messages differ
    from ``cloud_url``'s (the URL in quotes), and an empty bucket is left to the caller."""
    if not text.lower().startswith("oss://"):
        raise CliError(f'invalid cloud url: "{text}", please make sure the url starts with: '
                       '"oss://"')
    bucket, _, obj = text[len("oss://"):].partition("/")
    if not bucket and obj:
        raise CliError(f"invalid cloud url: {text}, miss bucket")
    return bucket, obj


def check_bucket_name(name: str) -> None:
    """The Go SDK's ``CheckBucketName`` (checked just before a request is sent)."""
    size = len(name.encode("utf-8", "surrogateescape"))
    if size < 3 or size > 63:
        raise CliError(f"bucket name {name} len is between [3-63],now is {size}")
    if any(not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == "-") for ch in name):
        raise CliError(f"bucket name {name} can only include lowercase letters, numbers, and -")
    if name[0] == "-" or name[-1] == "-":
        raise CliError(f"bucket name {name} must start and end with a lowercase letter or number")


# --- client construction (step 8) --------------------------------------------------------------


def client_for(settings: Settings, bucket: str, ctx: Context) -> OssClient:
    """Region check, credential mode checks, auth version, endpoint parse; then the client."""

    sign_version = settings.get("signVersion")
    if sign_version.lower() == "v4" and not settings.get("region"):
        raise CliError("In the v4 signature scenario, please enter the region")
    endpoint, _ = settings.endpoint_for(bucket)
    credentials = _credentials(settings, endpoint)
    if sign_version not in ("", "v1", "v2", "v4"):
        raise CliError(f"Init client Error, invalid Auth version: {sign_version}")
    client = settings.client(bucket, wire_style="go")  # ClientError: Go's endpoint parse text
    proxy = settings.get("proxyHost")
    _, sep, _ = proxy.partition("://")
    if proxy and not sep and ":" in proxy.split("/", 1)[0]:
        # Go's url.Parse("host:port") fails this way; ossutil reports it before any request
        raise CliError(f'parse "{proxy}": first path segment in URL cannot contain colon')
    client.credentials = credentials
    ctx.clients.append(client)
    if ctx.transport_wrapper is not None:
        client.transport = ctx.transport_wrapper(client.transport)
    return client


def _credentials(settings: Settings, endpoint: str) -> Credentials:
    from ossutil.client.client import Credentials

    mode = settings.get("mode").lower()
    ak_id = settings.get("accessKeyID")
    secret = settings.get("accessKeySecret")
    token = settings.get("stsToken")

    def check_ak() -> None:
        if not endpoint.strip():
            raise CliError("invalid endpoint, endpoint is empty, please check your config")
        if not ak_id.strip():
            raise CliError("invalid accessKeyID, accessKeyID is empty, please check your config")
        if not secret.strip():
            raise CliError("invalid accessKeySecret, accessKeySecret is empty, please check "
                           "your config")

    if mode == "ak":
        check_ak()
        return Credentials(ak_id, secret)
    if mode == "ststoken":
        check_ak()
        if not token.strip():
            raise CliError("stsToken is empty")
        return Credentials(ak_id, secret, token)
    if mode == "ramrolearn":
        check_ak()
        if not settings.get("ramRoleArn"):
            raise CliError("ramRoleArn is empty")
        raise CliError("--mode RamRoleArn (STS AssumeRole) is not supported by this ossutil; "
                       "use --mode StsToken with a token obtained elsewhere")
    if mode == "ecsramrole":
        url = settings.ecs_url
        if not url and settings.get("ecsRoleName"):
            url = ("http://100.100.100.200/latest/meta-data/Ram/security-credentials/"
                   + settings.get("ecsRoleName"))
        if not url:
            raise CliError("ecsUrl is empty")
        return _ecs_credentials(url)
    if not ak_id:
        if not settings.ecs_url:
            raise CliError("accessKeyID and ecsUrl are both empty")
        return _ecs_credentials(settings.ecs_url)
    check_ak()
    return Credentials(ak_id, secret, token or None)


def _ecs_credentials(url: str) -> Credentials:
    """Temporary credentials from an ECS RAM-role style URL (JSON with AccessKeyId ...)."""
    import json

    from ossutil.client.client import Credentials
    from ossutil.client.transport import HttpClientTransport, Request

    response = HttpClientTransport(connect_timeout=10, read_timeout=10).send(
        Request("GET", url, [("Host", url.split("://", 1)[-1].split("/", 1)[0])]))
    try:
        data = json.loads(response.body)
        return Credentials(data["AccessKeyId"], data["AccessKeySecret"],
                           data.get("SecurityToken") or None)
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"get ecs role credentials from {url} failed, http status "
                       f"{response.status}") from exc
