"""``ossutil ls [oss://]``: list buckets as ossutil prints them (objects are out of scope)."""

from __future__ import annotations

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    client_for,
    init_command,
    storage_url,
)
from ossutil.cli.options import COMMON_OPTIONS

SPEC = CommandSpec("ls", min_args=0, max_args=1, valid_options=COMMON_OPTIONS + (
    "shortFormat", "directory", "multipart", "allType", "limitedNum", "marker",
    "uploadIDMarker", "include", "exclude", "versionIdMarker", "allVersions", "encodingType",
    "retryTimes", "payer"))


def run(ctx: Context) -> None:
    from ossutil.cli import render

    settings = init_command(SPEC, ctx)
    if ctx.args:
        bucket, _ = storage_url(ctx.args[0])
        if bucket:
            raise CliError("listing objects is not supported by this ossutil; "
                           "ls lists buckets only")
    if settings.flag("directory"):
        raise CliError('ListBucket does not support option: "directory"')
    limit = settings.get("limitedNum")
    client = client_for(settings, "", ctx)
    buckets = client.list_buckets(marker=settings.get("marker"))
    if limit:
        buckets = buckets[:int(limit)] if int(limit) >= 0 else buckets
    ctx.out.write(render.bucket_table(buckets, settings.flag("shortFormat")))
