"""``ossutil``: argv -> command -> text on stdout + exit status, as ossutil 1.7.19 does it.

    $ ossutil bucket-cname --method get oss://examplebucket -e http://127.0.0.1:9000 -i ID -k KEY

``main()`` is the console-script entry. It parses with goopt's rules, runs the global checks
(option value types, log level), picks the command from ``COMMANDS`` and imports its module only
then, so ``ossutil -v`` or ``--help`` loads no networking code at all. It is the only place that
writes errors and decides the exit status (0 success, 1 any failure; a declined overwrite is
success).

Adding a command (the "beyond 1.7" ``api`` command will): one ``COMMANDS`` entry naming a module
with ``SPEC`` (a ``CommandSpec``) and ``run(ctx) -> None``; its help goes in ``help_text``.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from collections.abc import Sequence  # as typing: ``collections`` costs ~1 ms to import
    from typing import IO

    from ossutil.cli.command import Output
    from ossutil.cli.goopt import ParseResult
    from ossutil.client.plain import PlainGet


class CommandEntry:
    """A row of the command table; the module is imported only when the command runs."""

    __slots__ = ("module", "group", "params", "synopsis")

    def __init__(self, module: str, group: str, params: str, synopsis: str) -> None:
        self.module = module
        self.group = group  # "Commands" (prints the elapsed line) or "Additional Commands"
        self.params = params
        self.synopsis = synopsis


COMMANDS: dict[str, CommandEntry] = {
    "mb": CommandEntry("ossutil.cli.mb", "Commands", "cloud_url [options]", "Make a bucket"),
    "ls": CommandEntry("ossutil.cli.ls", "Commands", "[cloud_url] [options]",
                       "List buckets or objects"),
    "cp": CommandEntry("ossutil.cli.cp", "Commands", "src_url dest_url [options]",
                       "Upload a file, download or copy an object"),
    "stat": CommandEntry("ossutil.cli.stat", "Commands", "cloud_url [options]",
                         "Display meta information of a bucket or an object"),
    "rm": CommandEntry("ossutil.cli.rm", "Commands", "cloud_url [options]",
                       "Remove an object, the objects under a prefix, or a bucket"),
    "sign": CommandEntry("ossutil.cli.sign", "Commands", "cloud_url [options]",
                         "Generate download link for object"),
    "bucket-cname": CommandEntry("ossutil.cli.bucket_cname", "Commands",
                                 "bucket_url [options]",
                                 "Bind custom domains to a bucket and manage their tokens and "
                                 "certificates"),
    "cors": CommandEntry("ossutil.cli.cors", "Commands", "bucket_url [local_xml_file] [options]",
                         "Set, get or delete the CORS rules of a bucket"),
    "referer": CommandEntry("ossutil.cli.referer", "Commands", "bucket_url referer [options]",
                            "Set, get or delete the Referer whitelist of a bucket"),
    "cors-options": CommandEntry("ossutil.cli.cors_options", "Commands", "oss_url [options]",
                                 "Send a CORS preflight (OPTIONS) request and show the reply"),
    "website": CommandEntry("ossutil.cli.website", "Commands", "bucket_url website [options]",
                            "Set, get or delete the static website configuration of a bucket"),
    "help": CommandEntry("ossutil.cli.help_cmd", "Additional Commands", "[command]",
                         "Show help for a command"),
    "config": CommandEntry("ossutil.cli.config_cmd", "Additional Commands", "[options]",
                           "Write the config file with your endpoint and credentials"),
    # beyond 1.7: a bash/zsh completion script generated from this table
    "completion": CommandEntry("ossutil.cli.completion", "Additional Commands", "bash|zsh",
                               "Print a shell completion script (bash or zsh)"),
    "doctor": CommandEntry("ossutil.cli.doctor", "Additional Commands",
                           "domain [--bucket B] [--json]",
                           "Check a custom domain: CNAME, _dnsauth token, CAA, served "
                           "certificate"),
    # ossutil 2.0's form, beyond 1.7: its own group, listed last by ``help``
    "api": CommandEntry("ossutil.cli.api_cmd", "API Commands", "<operation> [options]",
                        "ossutil 2.0 API-level commands (create-cname-token, "
                        "put-bucket-website ...)"),
}


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry: run and exit with ossutil's status."""
    sys.exit(run(list(sys.argv[1:] if argv is None else argv)))


def run(argv: list[str], stdout: IO[bytes] | None = None, stdin: IO[bytes] | None = None) -> int:
    """Run one command line; returns the exit status. Streams default to the process's."""
    started = time.perf_counter()
    plain = _plain_get(argv)
    if plain is not None:
        return _run_plain_get(plain, stdout, started)
    from ossutil.cli.command import CliError, Output

    out = Output(stdout)
    if stdin is None:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # started with stdin closed
            import io

            stdin = io.BytesIO()
    errors = _ErrorRoute()
    try:
        try:
            return _run(argv, out, stdin, started, errors)
        except CliError as error:
            return _fail(out, str(error), getattr(error, "hint", ""), errors.to_stderr)
        except Exception as error:  # noqa: BLE001 - mapped to ossutil's one-line errors
            return _fail(out, _message(error), getattr(error, "hint", ""), errors.to_stderr)
        finally:
            out.flush()
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130


# --- the light path of ``bucket-cname --method get oss://bucket`` ------------------------------
# The commonest call, ListCname printed verbatim, goes through ``client.plain`` when its command
# line is one of the simple forms below: goopt parsing, the option tables, ``Command.Init``,
# ``OssClient`` and the transport are then never imported (most of a call's start-up). Every
# check that could print something is left to the general path: ``_plain_get`` says None (having
# done nothing but read) unless the command line surely succeeds up to the request, so the
# general path runs it with every message exactly as before.

_PLAIN_OPTIONS = {
    "--method": "method", "--endpoint": "endpoint", "-e": "endpoint",
    "--access-key-id": "accessKeyID", "-i": "accessKeyID",
    "--access-key-secret": "accessKeySecret", "-k": "accessKeySecret",
    "--sts-token": "stsToken", "-t": "stsToken", "--config-file": "configFile", "-c": "configFile",
}
# client.config.ENVIRONMENT's names (that module is not imported before the config is read)
_ENVIRONMENT = ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN", "OSS_REGION",
                "OSS_ENDPOINT")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _plain_get(argv: list[str]) -> PlainGet | None:
    """The request of ``bucket-cname --method get oss://bucket`` when this command line is one
    the light path serves, else None. Options: the long or short spellings in ``_PLAIN_OPTIONS``
    (whole, ``--name=value`` or ``--name value``; a value never starts with ``-``); the config
    file, when it exists, must leave V1 signing with an AccessKey, no log, no proxy."""
    if "api" in argv:
        return None
    import os  # loaded by the interpreter already: no cost

    if any(os.environ.get(variable) for variable in _ENVIRONMENT):
        return None  # credentials from the environment (beyond 1.7): the general path
    values: dict[str, str] = {}
    args: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word[:1] != "-":
            args.append(word)
            i += 1
            continue
        name, equals, value = word.partition("=") if word[:2] == "--" else (word, "", "")
        option = _PLAIN_OPTIONS.get(name)
        if option is None:
            return None
        if not equals:
            if i + 1 >= len(argv) or argv[i + 1][:1] in ("-", ""):
                return None
            value = argv[i + 1]
            i += 1
        values[option] = value
        i += 1
    if len(args) != 2 or args[0] != "bucket-cname" or not args[1].lower().startswith("oss://"):
        return None
    bucket = args[1][len("oss://"):].partition("/")[0]
    if not 3 <= len(bucket) <= 63 or not _BUCKET_CHARS.issuperset(bucket) \
            or bucket[0] == "-" or bucket[-1] == "-":
        return None
    given = any(values.get(name) for name in ("endpoint", "accessKeyID", "accessKeySecret",
                                              "stsToken"))
    path = values.get("configFile", "")
    timeouts = (120, 1200)
    user_agent = ""
    exists = True  # or unknown: where ``~`` is, and reading the file, are the config module's
    if path and not path.startswith("~/"):
        try:
            open(path, "rb").close()
        except FileNotFoundError:
            if not given:
                return None  # "Read config file error"
            exists = False
        except OSError:
            pass
    if exists:
        from ossutil.client.config import load_config, resolve
        from ossutil.client.errors import ConfigError

        try:
            config = load_config(path or None)
        except ConfigError:
            if not given:
                return None
        else:
            if config.options().get("loglevel"):
                return None
            settings = resolve(values, config)
            if bucket in settings.bucket_cnames or bucket in settings.bucket_endpoints:
                return None
            for name in ("signVersion", "mode", "proxyHost", "item"):
                if settings.get(name):
                    return None
            values = dict(settings.values)
            timeouts = (settings.int_value("connectTimeOut"), settings.int_value("readTimeOut"))
            user_agent = settings.get("userAgent")
    if values.get("method", "").lower() != "get" or values.get("item"):
        return None
    endpoint = values.get("endpoint", "").strip()
    ak_id = values.get("accessKeyID", "")
    secret = values.get("accessKeySecret", "")
    token = values.get("stsToken", "")
    if not (ak_id.strip() and secret.strip() and _printable(ak_id) and secret.isascii()
            and _printable(token) and _printable(user_agent)):
        return None
    netloc = endpoint[len("http://"):] if endpoint.startswith("http://") else endpoint
    if netloc.endswith("/"):
        netloc = netloc[:-1]
    host, colon, port = netloc.partition(":")
    if not host or not _HOST_CHARS.issuperset(host) or endpoint != values.get("endpoint") \
            or (colon and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536)):
        return None
    parts = host.split(".")
    is_ip = len(parts) == 4 and all(
        p.isdigit() and len(p) <= 3 and int(p) <= 255 and (p == "0" or p[0] != "0")
        for p in parts)
    from ossutil.client.plain import PlainGet, default_user_agent

    return PlainGet(netloc, is_ip, bucket, "cname", ak_id, secret, token or None,
                    default_user_agent(user_agent or None), *timeouts)


def _run_plain_get(plain: PlainGet, stdout: IO[bytes] | None, started: float) -> int:
    """``_run`` and ``bucket_cname.list_cname`` for the light path, with ``run``'s error
    handling (imported only when something fails)."""
    stream = stdout if stdout is not None else sys.stdout.buffer
    try:
        try:
            stream.write(plain.send())
            stream.write(b"\n\n")
            stream.write(f"\n{time.perf_counter() - started:.6f}(s) elapsed\n".encode())
            return 0
        except Exception as error:  # noqa: BLE001 - mapped to ossutil's one-line errors
            from ossutil.cli.command import Output

            return _fail(Output(stream), _message(error), getattr(error, "hint", ""))
        finally:
            stream.flush()
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130


class _ErrorRoute:
    """Where the "Error: ..." line goes: stdout as ossutil 1.7 (default), or stderr once the
    command line has parsed with ``--errors-to-stderr`` (beyond 1.7)."""

    to_stderr = False


def _fail(out: Output, message: str, hint: str = "", to_stderr: bool = False) -> int:
    from ossutil.cli import render

    if to_stderr:
        out.flush()
        sys.stderr.write(render.error_text(message))
    else:
        out.write(render.error_text(message))
    if hint:  # beyond 1.7: advice for humans goes to stderr; stdout keeps ossutil's one line
        out.flush()
        sys.stderr.write(hint)
        sys.stderr.flush()
    return 1


def _message(error: Exception) -> str:
    """ossutil's one-line text for any failure that reached ``main``."""
    from ossutil.client.errors import ClientError
    from ossutil.wire.errors import OssError

    if isinstance(error, OssError):
        from ossutil.cli import render

        return render.service_error_text(error)
    from ossutil.cli.goxml import GoXmlError

    if isinstance(error, ClientError | GoXmlError):
        return str(error)
    if isinstance(error, OSError):
        return _os_error_text(error)
    if isinstance(error, ModuleNotFoundError) and error.name:
        package = _OPTIONAL_PACKAGES.get(error.name.split(".")[0])
        if package:  # a CLI-only install: say what to install, not a bare "No module named"
            return (f"this command needs the Python package {package}, which is not "
                    f"installed: pip install {package} (or pip install 'ossutil-py[server]', "
                    "which includes it)")
    return str(error) or type(error).__name__


# what some commands import that ``pip install ossutil-py`` (the CLI alone) may not have
_OPTIONAL_PACKAGES = {"cryptography": "cryptography", "dns": "dnspython"}


def _os_error_text(error: OSError) -> str:
    """Go's ``*PathError`` text: ``open <path>: no such file or directory``."""
    reason = (error.strerror or str(error))
    reason = reason[:1].lower() + reason[1:]
    if error.filename is not None:
        return f"open {error.filename}: {reason}"
    return reason


def _run(argv: list[str], out: Output, stdin: IO[bytes], started: float,
         errors: _ErrorRoute) -> int:
    from ossutil.cli import goopt, render
    from ossutil.cli.command import VERSION, CliError, Context

    if "doctor" in argv:  # beyond 1.7, with its own flags (``--bucket B``), as ``api``
        from ossutil.cli import doctor

        index = doctor.doctor_index(argv)
        if index >= 0:
            return doctor.run_argv(argv, index, out, stdin)
    if "api" in argv:  # ossutil 2.0's ``api`` parses its own flags (``--bucket B``): api_cmd
        from ossutil.cli import api_cmd

        index = api_cmd.api_index(argv)
        if index >= 0:
            return api_cmd.run_argv(argv, index, out, stdin)
    try:
        parsed = goopt.parse(argv)
    except goopt.GooptExit as exit_:
        out.write(exit_.text)
        if exit_.is_help and not any(word in COMMANDS for word in argv):
            out.write("\n" + command_list())  # beyond 1.7: ``ossutil --help`` lists commands
        if exit_.hint:  # beyond 1.7: ``Did you mean --method?`` on stderr
            out.flush()
            sys.stderr.write(exit_.hint)
            sys.stderr.flush()
        return exit_.code
    errors.to_stderr = parsed.flag("errorsToStderr")
    _check_option_values(parsed)
    level = _log_level(parsed)
    if level:
        from ossutil.cli.debuglog import open_log

        log = open_log(level, argv, out)
    else:
        log = _no_log
    args = list(parsed.args)
    if not args:
        if parsed.flag("version"):
            out.write(f"ossutil version: {VERSION}\n")
            return 0
        args = ["help"]
    name, rest = args[0], args[1:]
    entry = COMMANDS.get(name)
    if entry is None:
        raise CliError(render.no_such_command(name))
    # ``__import__`` with a fromlist returns the submodule itself; ``importlib`` would also load
    # ``warnings``, for nothing
    module = __import__(entry.module, fromlist=("run",))
    ctx = Context(parsed, rest, out, stdin, log)
    if level == "debug":
        from ossutil.cli.debuglog import DebugTransport

        ctx.transport_wrapper = lambda transport: DebugTransport(transport, log)
    try:
        module.run(ctx)
    except Exception as error:
        log("error", f"{_message(error)}.")
        raise
    finally:
        ctx.close()
        log("info", f"ossutil run end,cost:{int((time.perf_counter() - started) * 1000)}(ms).")
    if entry.group == "Commands":
        out.write(render.elapsed_line(time.perf_counter() - started))
    return 0


def command_list(language: str = "") -> str:
    """``ossutil help``'s command list, from ``COMMANDS`` (what ``--help`` adds)."""
    from ossutil.cli import help_text
    from ossutil.cli.command import system_language

    table = [(name, e.group, e.params, e.synopsis) for name, e in COMMANDS.items()]
    return help_text.whole_help(table, language or system_language())


def _no_log(level: str, text: str) -> None:
    """The log without ``--loglevel`` (nor ``loglevel`` in the config file): nothing is kept."""


def _check_option_values(parsed: ParseResult) -> None:
    """Step 1: integer options parse as int64 and sit in range; alternatives are known."""
    from ossutil.cli.command import CliError
    from ossutil.cli.options import OPTIONS, Kind
    from ossutil.client.config import parse_int64

    for option in OPTIONS:
        value = parsed.get(option.name)
        if not value:
            continue
        if option.kind == Kind.INT64:
            number = parse_int64(value)
            if number is None:
                raise CliError(f"invalid option value of {option.name}, the value: {value} is "
                               "not int64, please check")
            if option.min_value is not None and number < option.min_value:
                raise CliError(f"invalid option value of {option.name}, the value: {number} is "
                               f"smaller than the min value range: {option.min_value}")
            if option.max_value is not None and number > option.max_value:
                raise CliError(f"invalid option value of {option.name}, the value: {number} is "
                               f"bigger than the max value range: {option.max_value}")
        elif option.kind == Kind.ALTERNATIVE:
            if value.lower() not in (choice.lower() for choice in option.choices):
                raise CliError(f"invalid option value of {option.name}, the value: {value} is "
                               f"not anyone of {'/'.join(option.choices)}")


def _log_level(parsed: ParseResult) -> str:
    """Step 2: ``--loglevel`` else the config file's; anything but info/debug is an error."""
    from ossutil.cli.command import CliError

    level = parsed.get("loglevel")
    if not level:
        from ossutil.client.config import load_config
        from ossutil.client.errors import ConfigError

        try:
            config = load_config(parsed.get("configFile") or None, parsed.get("profile"))
            level = config.options().get("loglevel", "")
        except ConfigError:
            level = ""
    if level and level not in ("info", "debug"):
        raise CliError("loglevel must be:info|debug")
    return level


if __name__ == "__main__":
    main()
