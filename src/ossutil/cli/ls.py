"""``ossutil ls``: buckets (``ls`` / ``ls oss://``) or the objects of a bucket
(``ls oss://bucket[/prefix] [-s] [-d] [--limited-num N] [--marker M]``), as ossutil 1.7.19
prints them (compared with the Go binary by the differential tests).

Objects, long format (the default): a header line ``LastModifiedTime`` / ``Size(B)`` /
``StorageClass`` / ``ETAG`` / ``ObjectName``, then per object (columns as Go's ``%-30s%12d%14s``,
three spaces, the ETag left-aligned in 38, the URL)::

    2026-12-01 23:12:50 +0000 UTC            3      Standard   764EFA883D...      oss://b/k
    Object Number is: 1

``-s`` prints only ``oss://b/key``; ``-d`` lists one level (delimiter ``/``): objects, then
``oss://b/dir/`` per common prefix, counted as ``Object and Directory Number is: N``. The
header appears only when there is an object to show. Multipart listings (``-m``, ``-a``),
``--include/--exclude`` and versions are refused rather than ignored.
"""

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

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.config import Settings

SPEC = CommandSpec("ls", min_args=0, max_args=1, valid_options=COMMON_OPTIONS + (
    "shortFormat", "directory", "multipart", "allType", "limitedNum", "marker",
    "uploadIDMarker", "include", "exclude", "versionIdMarker", "allVersions", "encodingType",
    "retryTimes", "payer"))

_NOT_FOR_OBJECTS = {
    "multipart": "-m (multipart uploads)", "allType": "-a (objects and multipart uploads)",
    "include": "--include", "exclude": "--exclude", "allVersions": "--all-versions",
    "versionIdMarker": "--version-id-marker", "uploadIDMarker": "--upload-id-marker",
    "encodingType": "--encoding-type", "payer": "--payer"}
_PAGE = 1000


def run(ctx: Context) -> None:
    from ossutil.cli import render

    settings = init_command(SPEC, ctx)
    bucket, prefix = storage_url(ctx.args[0]) if ctx.args else ("", "")
    limit = int(settings.get("limitedNum") or -1)
    if bucket:
        _list_objects(ctx, settings, bucket, prefix, limit)
        return
    if settings.flag("directory"):
        raise CliError('ListBucket does not support option: "directory"')
    client = client_for(settings, "", ctx)
    buckets = client.list_buckets(marker=settings.get("marker"))
    if limit >= 0:
        buckets = buckets[:limit]
    ctx.out.write(render.bucket_table(buckets, settings.flag("shortFormat")))


def _list_objects(ctx: Context, settings: Settings, bucket: str, prefix: str,
                  limit: int) -> None:
    from ossutil.cli.command import check_bucket_name
    from ossutil.cli.render import go_time
    from ossutil.wire.errors import OssError

    for name, spelled in _NOT_FOR_OBJECTS.items():
        option_given = settings.flag(name) if name in ("multipart", "allType", "allVersions") \
            else bool(settings.get(name))
        if option_given:
            raise CliError(f"{spelled} is not supported by this ossutil's ls")
    check_bucket_name(bucket)
    short = settings.flag("shortFormat")
    directories = settings.flag("directory")
    client = client_for(settings, bucket, ctx)
    out = ctx.out
    shown = 0
    header = False
    marker = settings.get("marker")
    while limit < 0 or shown < limit:
        try:
            page = client.list_objects_page(bucket, prefix=prefix, marker=marker,
                                            delimiter="/" if directories else "",
                                            max_keys=_PAGE)
        except OssError as error:
            from ossutil.cli import render

            raise CliError(f"{render.service_error_text(error)}, Bucket={bucket}, "
                           f"Object={prefix}") from error
        for item in page.objects:
            if 0 <= limit <= shown:
                break
            url = f"oss://{bucket}/{item.key}"
            if short or directories:
                out.write(url + "\n")
            else:
                if not header:
                    out.write(f"{'LastModifiedTime':<30}{'Size(B)':>12}{'StorageClass':>14}   "
                              f"{'ETAG':<38}ObjectName\n")
                    header = True
                out.write(f"{go_time(item.last_modified):<30}{item.size:>12}"
                          f"{item.storage_class:>14}   {item.etag:<38}{url}\n")
            shown += 1
        for directory in page.prefixes:
            if 0 <= limit <= shown:
                break
            out.write(f"oss://{bucket}/{directory}\n")
            shown += 1
        if not page.next_marker:
            break
        marker = page.next_marker
    noun = "Object and Directory" if directories else "Object"
    out.write(f"{noun} Number is: {shown}\n")
