"""What ossutil 1.7's bucket-configuration commands share (``website``, ``cors``, ``referer``).

Each of them runs the same steps (ossutil 1.7.19's order, checked against the binary): the
common preamble (``command.init_command``), ``--method`` present and one of put/get/delete (any
case), the bucket URL, then the method's own work: ``put`` reads its argument (a local XML file,
or referers), ``get`` prints the configuration or writes it to ``local_xml_file`` (asking before
it overwrites), ``delete`` removes it. The client is built (credential checks) just before the
request, and the bucket name is checked last, as the Go SDK does it.
"""

from __future__ import annotations

import os

from ossutil.cli.command import CliError, Context, check_bucket_name, client_for

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.client import OssClient
    from ossutil.client.config import Settings

METHODS = ("put", "get", "delete")

# The options ``help website`` lists (ossutil 1.7.19's order); ``cors`` lists ``method`` before
# ``loglevel``, ``referer`` adds ``disableEmptyReferer``.
OPTIONS = (
    "configFile", "endpoint", "accessKeyID", "accessKeySecret", "stsToken", "proxyHost",
    "proxyUser", "proxyPwd", "loglevel", "method", "password", "mode", "ecsRoleName",
    "tokenTimeout", "ramRoleArn", "roleSessionName", "readTimeOut", "connectTimeOut", "stsRegion",
    "skipVerifyCert", "userAgent", "signVersion", "region", "cloudBoxID", "forcePathStyle",
)


def method_of(settings: Settings) -> str:
    """``--method`` lower-cased; ossutil's two messages when it is missing or unknown."""
    method = settings.get("method")
    if not method:
        raise CliError("--method value is empty")
    method = method.lower()
    if method not in METHODS:
        raise CliError("--method value is not in the optional value:put|get|delete")
    return method


def client(ctx: Context, settings: Settings, bucket: str) -> OssClient:
    """The client (credential and endpoint checks), then the Go SDK's bucket-name check."""
    oss = client_for(settings, bucket, ctx)
    check_bucket_name(bucket)
    return oss


def read_local_file(path: str) -> bytes:
    """A ``put``'s local XML file, refused as ossutil refuses it (missing, a directory, empty)."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise CliError(f"stat {path}: {os_reason(error)}") from error
    import stat

    if stat.S_ISDIR(info.st_mode):
        raise CliError(f"{path} is dir,not the expected file")
    if info.st_size == 0:
        raise CliError(f"{path} is empty file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CliError(f"open {path}: {os_reason(error)}") from error


def emit(ctx: Context, data: bytes, label: str) -> None:
    """A ``get``'s result: on stdout, or in ``local_xml_file`` (the second argument) after
    ``\r<label>: overwrite "<path>"(y or N)?`` when it exists; ``\n\n`` follows unless the
    user declined."""
    write_result(ctx, data, ctx.args[1] if len(ctx.args) >= 2 else None, label)


def write_result(ctx: Context, data: bytes, path: str | None, label: str) -> None:
    """``data`` on stdout (``path`` None) or into ``path``, asking first when it exists;
    ``\n\n`` follows unless the user declined (ossutil 1.7's get-to-file rule)."""
    from ossutil.cli.bucket_cname import confirm_overwrite

    if path is None:
        ctx.out.stream.write(data)
    else:
        if os.path.exists(path) and not confirm_overwrite(ctx, path, label):
            return
        try:
            fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o660)
        except OSError as error:
            raise CliError(f"open {path}: {os_reason(error)}") from error
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    ctx.out.write("\n\n")


def os_reason(error: OSError) -> str:
    """Go's lower-case errno text (``no such file or directory``)."""
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]
