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
"""

from __future__ import annotations

import os
from collections.abc import Callable

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
    from ossutil.client.client import OssClient

# The 26 options of reference §2.1, in ossutil's help order.
VALID_OPTIONS = (
    "configFile", "endpoint", "accessKeyID", "accessKeySecret", "stsToken", "proxyHost",
    "proxyUser", "proxyPwd", "loglevel", "method", "password", "mode", "ecsRoleName",
    "tokenTimeout", "ramRoleArn", "roleSessionName", "readTimeOut", "connectTimeOut", "stsRegion",
    "skipVerifyCert", "userAgent", "item", "signVersion", "region", "cloudBoxID", "forcePathStyle",
)
SPEC = CommandSpec("bucket-cname", min_args=1, max_args=3, valid_options=VALID_OPTIONS)

Handler = Callable[[Context, "OssClient", str], None]


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    method = settings.get("method")
    if not method:
        raise CliError("--method value is empty")
    item = settings.get("item")
    bucket = cloud_url(ctx.args[0]).bucket
    client = client_for(settings, bucket, ctx)
    handler = DISPATCH.get((item, method.lower()))
    if handler is None:
        raise CliError(ITEM_ERRORS.get(item, "--item only support token or certificate"))
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
    client.put_cname_raw(bucket, cname_body(domain))


def put_certificate(ctx: Context, client: OssClient, bucket: str) -> None:
    """Usage 4: PutCname with the user's XML file sent verbatim (not validated locally)."""
    if len(ctx.args) < 2:
        raise CliError("missing parameters,the local cname config file is empty")
    path = ctx.args[1]
    try:
        info = os.stat(path)
    except OSError as error:
        raise CliError(f"stat {path}: {_reason(error)}") from error
    import stat

    if stat.S_ISDIR(info.st_mode):
        raise CliError(f"{path} is dir,not the expected file")
    if info.st_size == 0:
        raise CliError(f"{path} is empty file")
    try:
        with open(path, "rb") as handle:
            body = handle.read()
    except OSError as error:
        raise CliError(f"open {path}: {_reason(error)}") from error
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


# --- output: stdout or local_xml_file (§5) -----------------------------------------------------


def _emit(ctx: Context, content: str | bytes, path: str | None) -> None:
    """Write the result, asking before overwriting; ``\\n\\n`` follows unless declined."""
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
    if path is None:
        ctx.out.stream.write(data)
    else:
        if os.path.exists(path) and not confirm_overwrite(ctx, path):
            return
        try:
            fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o660)
        except OSError as error:
            raise CliError(f"open {path}: {_reason(error)}") from error
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    ctx.out.write("\n\n")


def confirm_overwrite(ctx: Context, path: str) -> bool:
    """``\\rbucket cname: overwrite "<path>"(y or N)? `` then one word: y/yes (any case)."""
    from ossutil.cli import render

    ctx.out.write(render.overwrite_prompt(path))
    ctx.out.flush()
    line = ctx.stdin.readline()
    words = line.split()
    if not line.endswith(b"\n") and not words:
        return False
    return len(words) == 1 and words[0].lower() in (b"y", b"yes")


def _reason(error: OSError) -> str:
    """Go's lower-case errno text (``no such file or directory``)."""
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]
