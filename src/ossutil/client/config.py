"""The ossutil config file and the one precedence chain: command line > environment > config
file > default.

ossutil 1.7 reads no environment variables for credentials, endpoint or region (reference
``ossutil-cli.md`` §7.4). Beyond 1.7, we read the ones ossutil 2.0 and the cloud CLIs read
(``ENVIRONMENT``: ``OSS_ACCESS_KEY_ID``, ``OSS_ACCESS_KEY_SECRET``, ``OSS_SESSION_TOKEN``,
``OSS_REGION``, ``OSS_ENDPOINT``), after the command line and before the file; unset (or empty),
they change nothing. ``~`` is ``$HOME`` when set (1.7 reads the passwd entry: in a container or
CI job the home a user sets is the one they mean), else the passwd entry. ``--profile NAME``
reads the credentials from the section ``[profile NAME]`` (ossutil 2.0's spelling) instead of
``[Credentials]``. The file format is alyu/configparser as ossutil uses it (§7.2, §7.3)::

    [Credentials]
    language=EN
    endpoint=http://127.0.0.1:9000
    accessKeyID=LTAI...
    accessKeySecret=...
    region=cn-hangzhou          # any key spelled exactly like an option's internal name
    signVersion=v4              # is applied too (string and integer options only)
    [Default]
    userAgent=my-script
    [Bucket-Endpoint]
    examplebucket=https://oss-cn-shanghai.aliyuncs.com
    [Bucket-Cname]
    examplebucket=static.example.com

Usage::

    from ossutil.client.config import load_config, resolve

    config = load_config("~/.ossutilconfig")          # ConfigError when unreadable
    settings = resolve({"endpoint": "", "region": "cn-hangzhou"}, config)
    endpoint, is_cname = settings.endpoint_for("examplebucket")
    client = settings.client("examplebucket")

``resolve`` is the only place where values from different sources meet, in this order for every
option (first non-empty wins): the command line, the environment, the config file
(``[Credentials]`` or the profile, then ``[Default]``), the built-in default. The endpoint of a
bucket adds one more rule: ``-e`` (or ``OSS_ENDPOINT``) wins over ``[Bucket-Cname]`` (which
switches to CNAME addressing) over ``[Bucket-Endpoint]`` over the ``endpoint`` key, and giving
``-e`` (or ``OSS_ENDPOINT``) ignores both per-bucket sections.
"""

from __future__ import annotations

import os

from ossutil.client.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ossutil.client.client import OssClient

DEFAULT_CONFIG_FILE = "~/.ossutilconfig"
CREDENTIALS = "Credentials"
DEFAULT_SECTION = "Default"
BUCKET_ENDPOINT = "Bucket-Endpoint"
BUCKET_CNAME = "Bucket-Cname"
AK_SERVICE = "AkService"

# [Credentials] keys -> internal option names (compared case-insensitively; §7.3)
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    "endpoint": ("endpoint", "host"),
    "accessKeyID": ("accessKeyID", "accessKeyId", "access_key_id", "access_id", "accessid",
                    "access-key-id", "access-id"),
    "accessKeySecret": ("accessKeySecret", "access_key_secret", "access_key", "accesskey",
                        "access-key-secret", "access-key"),
    "stsToken": ("stsToken", "sts_token", "sts-token"),
    "language": ("language",),
    "outputDir": ("outputDir", "output-dir", "output_dir", "output_directory"),
    "mode": ("mode",),
    "ramRoleArn": ("ramRoleArn", "ram_role_arn", "ram-role-arn"),
    "roleSessionName": ("roleSessionName", "role-session-name", "role_session_name"),
    "tokenTimeout": ("tokenTimeOut", "token_timeout", "token-timeout"),
    "stsRegion": ("stsRegion", "sts-region", "sts_region"),
    "ecsRoleName": ("ecsRoleName", "ecs-role-name", "ecs_role_name"),
}
# [Default] keys -> internal option names (case-insensitive)
DEFAULT_KEYS: dict[str, tuple[str, ...]] = {
    "userAgent": ("userAgent", "user-agent", "user_agent"),
    "proxyHost": ("proxyHost", "proxy-host", "proxy_host"),
    "proxyUser": ("proxyUser", "proxy-user", "proxy_user"),
    "proxyPwd": ("proxyPwd", "proxy-pwd", "proxy_pwd"),
    "readTimeOut": ("readTimeOut", "read-timeout", "read_timeout"),
    "connectTimeOut": ("connectTimeOut", "connect-timeout", "connect_timeout"),
    "retryTimes": ("retryTimes", "retry-times", "retry_times"),
}
LOGLEVEL_KEYS = ("loglevel", "log-level", "log_level")  # exact case (§7.3)
# Beyond 1.7: environment variable -> internal option name (read by ``resolve``)
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("OSS_ACCESS_KEY_ID", "accessKeyID"),
    ("OSS_ACCESS_KEY_SECRET", "accessKeySecret"),
    ("OSS_SESSION_TOKEN", "stsToken"),
    ("OSS_REGION", "region"),
    ("OSS_ENDPOINT", "endpoint"),
)
INT_OPTIONS = frozenset({"retryTimes", "readTimeOut", "connectTimeOut", "tokenTimeout"})

# Built-in defaults of the options bucket-cname uses (§10).
DEFAULTS: dict[str, str] = {"connectTimeOut": "120", "readTimeOut": "1200",
                            "tokenTimeout": "3600", "retryTimes": "10"}


def environment_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Internal option name -> value of each ``ENVIRONMENT`` variable set non-empty."""
    source = os.environ if environ is None else environ
    return {name: source[variable] for variable, name in ENVIRONMENT if source.get(variable)}


def profile_section(profile: str) -> str:
    """The section ``--profile NAME`` reads credentials from (ossutil 2.0's spelling)."""
    return f"profile {profile}"


def home_directory() -> str:
    """``$HOME`` when set (beyond 1.7), else the user database's entry, as Go's
    ``user.Current()`` (what 1.7 reads)."""
    if os.environ.get("HOME"):
        return os.environ["HOME"]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError, AttributeError):
        if os.name == "nt":
            return os.environ.get("HOMEDRIVE", "") + "\\" + os.environ.get("HOMEPATH", "")
        return os.environ.get("HOME", "")


def config_path(path: str | None) -> str:
    """``-c`` value else ``~/.ossutilconfig``; only a leading ``~/`` is expanded (§7.1)."""
    path = path or DEFAULT_CONFIG_FILE
    if path.startswith("~/"):
        path = home_directory() + path[1:]
    return path


class ConfigFile:
    """A parsed config file: raw sections (first occurrence of each) in file order."""

    def __init__(self, path: str, sections: dict[str, dict[str, str]] | None = None,
                 credentials: str = CREDENTIALS) -> None:
        self.path = path
        self.sections: dict[str, dict[str, str]] = sections if sections is not None else {}
        self.credentials = credentials  # [Credentials], or [profile NAME] with --profile

    def __repr__(self) -> str:
        return f"ConfigFile({self.path!r}, sections={sorted(self.sections)})"

    def section(self, name: str) -> dict[str, str] | None:
        return self.sections.get(name)

    def options(self) -> dict[str, str]:
        """Internal option name -> value from ``[Credentials]`` and ``[Default]`` (§7.3)."""
        result: dict[str, str] = {}
        creds = self.sections.get(self.credentials, {})
        for key, value in creds.items():
            name = _lookup(key, CREDENTIAL_KEYS)
            result[name or key] = value
        for key, value in self.sections.get(DEFAULT_SECTION, {}).items():
            default_name = _lookup(key, DEFAULT_KEYS)
            if default_name is not None:
                result.setdefault(default_name, value)
        for section in (self.credentials, DEFAULT_SECTION):
            for key in LOGLEVEL_KEYS:
                level = self.sections.get(section, {}).get(key)
                if level is not None and "loglevel" not in result:
                    result["loglevel"] = level
        return result

    def bucket_endpoints(self) -> dict[str, str]:
        return dict(self.sections.get(BUCKET_ENDPOINT, {}))

    def bucket_cnames(self) -> dict[str, str]:
        return dict(self.sections.get(BUCKET_CNAME, {}))


def _lookup(key: str, table: Mapping[str, tuple[str, ...]]) -> str | None:
    lowered = key.lower()
    for name, spellings in table.items():
        if any(lowered == spelling.lower() for spelling in spellings):
            return name
    return None


def parse_config(text: str, path: str = "") -> ConfigFile:
    """alyu/configparser rules: ``[`` at column 0 opens a section (first occurrence wins),
    ``key=value`` or ``key:value`` elsewhere; no comments; lines before any section ignored."""
    config = ConfigFile(path)
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith("["):
            name = line.strip(" \t[]\r")
            if name in config.sections:
                current = {}  # a repeated section is read but ignored: the first one wins
            else:
                current = config.sections.setdefault(name, {})
            continue
        if current is None:
            continue
        if "=" in line:
            key, _, value = line.partition("=")
        elif ":" in line:
            key, _, value = line.partition(":")
        else:
            continue
        key = key.strip(" \t\r")
        if key:
            current[key] = value.strip(" \t\r")
    return config


def read_config_file(path: str, profile: str = "") -> ConfigFile:
    """Read and parse; ``ConfigError`` with Go's cause text (``open <p>: no such file or
    directory``, ``read <p>: is a directory``, ``Unable to find Credentials``; with a
    ``profile``: ``Unable to find profile NAME``)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError as exc:
        raise ConfigError(f"read {path}: is a directory") from exc
    except FileNotFoundError as exc:
        raise ConfigError(f"open {path}: no such file or directory") from exc
    except PermissionError as exc:
        raise ConfigError(f"open {path}: permission denied") from exc
    except OSError as exc:
        raise ConfigError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from exc
    config = parse_config(data.decode("utf-8", "surrogateescape"), path)
    if profile:
        config.credentials = profile_section(profile)
        if config.credentials not in config.sections:
            raise ConfigError(f"Unable to find profile {profile}")
    elif CREDENTIALS not in config.sections:
        raise ConfigError("Unable to find Credentials")
    return config


def check_config_values(options: Mapping[str, str]) -> None:
    """Integer options must parse as int64, ``language`` must be CH/EN (§3 step 4)."""
    for name, value in options.items():
        if name in INT_OPTIONS and parse_int64(value) is None:
            raise ConfigError(f'error value of option "{name}", the value is: {value} in config '
                              "file, which needs int64 type")
        if name == "language" and value.upper() not in ("CH", "EN"):
            raise ConfigError(f'error value of option "{name}", the value is: {value} in config '
                              "file, which is not anyone of CH/EN")


def load_config(path: str | None, profile: str = "") -> ConfigFile:
    """Read, parse and type-check the config file (``ConfigError`` on any problem)."""
    config = read_config_file(config_path(path), profile)
    check_config_values(config.options())
    return config


def parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: optional sign, ASCII digits, in int64 range."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    if not -(2**63) <= value < 2**63:
        return None
    return value


class Settings:
    """Every resolved value a command needs. Strings are "" when unset."""

    def __init__(self, values: Mapping[str, str], flags: Mapping[str, bool],
                 bucket_endpoints: Mapping[str, str], bucket_cnames: Mapping[str, str],
                 ecs_url: str = "") -> None:
        self.values = values
        self.flags = flags
        self.bucket_endpoints = bucket_endpoints
        self.bucket_cnames = bucket_cnames
        self.ecs_url = ecs_url

    def __repr__(self) -> str:
        shown = {k: ("****" if k in ("accessKeySecret", "stsToken", "proxyPwd") else v)
                 for k, v in self.values.items()}
        return f"Settings({shown}, flags={dict(self.flags)})"

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def flag(self, name: str) -> bool:
        return bool(self.flags.get(name, False))

    def int_value(self, name: str) -> int:
        value = parse_int64(self.get(name) or DEFAULTS.get(name, "0"))
        return value if value is not None else int(DEFAULTS.get(name, "0"))

    def endpoint_for(self, bucket: str) -> tuple[str, bool]:
        """(endpoint, is_cname) for ``bucket``: Bucket-Cname > Bucket-Endpoint > endpoint."""
        if bucket in self.bucket_cnames:
            return self.bucket_cnames[bucket], True
        if bucket in self.bucket_endpoints:
            return self.bucket_endpoints[bucket], False
        return self.get("endpoint"), False

    def client(self, bucket: str, *, wire_style: str = "go") -> OssClient:
        """An ``OssClient`` for ``bucket`` built from these settings (no credential checks)."""
        from ossutil.client.client import Credentials, OssClient, default_user_agent
        from ossutil.client.transport import ProxyConfig

        endpoint, is_cname = self.endpoint_for(bucket)
        proxy = None
        if self.get("proxyHost"):
            proxy = ProxyConfig(self.get("proxyHost"), self.get("proxyUser"),
                                self.get("proxyPwd"))
        return OssClient(
            endpoint,
            Credentials(self.get("accessKeyID"), self.get("accessKeySecret"),
                        self.get("stsToken") or None),
            region=self.get("region") or None,
            sign_version=(self.get("signVersion") or "v1"),  # type: ignore[arg-type]
            path_style=self.flag("forcePathStyle"),
            cname=is_cname,
            connect_timeout=self.int_value("connectTimeOut"),
            read_timeout=self.int_value("readTimeOut"),
            proxy=proxy,
            verify_tls=not self.flag("skipVerifyCert"),
            user_agent=default_user_agent(self.get("userAgent") or None),
            wire_style="go" if wire_style == "go" else "python",
            cloudbox_id=self.get("cloudBoxID") or None,
        )


def resolve(command_line: Mapping[str, str | bool], config: ConfigFile | None,
            environ: Mapping[str, str] | None = None) -> Settings:
    """The precedence chain: command line (non-empty) > environment > config file > default
    (§7.4; the environment is beyond 1.7).

    ``command_line`` maps internal option names to their value ("" = not given) or, for flags,
    to a bool. Flags never come from the file. ``-e`` on the command line (or ``OSS_ENDPOINT``)
    drops the per-bucket sections. ``environ`` defaults to ``os.environ``.
    """
    file_values = config.options() if config is not None else {}
    values: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for name, value in command_line.items():
        if isinstance(value, bool):
            flags[name] = value
        elif value != "":
            values[name] = value
    from_environment = environment_values(environ)
    for name, value in from_environment.items():
        values.setdefault(name, value)
    for name, value in file_values.items():
        if name not in values and value != "":
            values[name] = value
    endpoints = config.bucket_endpoints() if config is not None else {}
    cnames = config.bucket_cnames() if config is not None else {}
    if command_line.get("endpoint") or from_environment.get("endpoint"):
        endpoints, cnames = {}, {}
    ecs_url = ""
    if config is not None:
        ecs_url = (config.section(AK_SERVICE) or {}).get("ecsAk", "")
    return Settings(values, flags, endpoints, cnames, ecs_url)
