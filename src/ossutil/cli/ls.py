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
header appears only when there is an object to show. ``-m`` lists multipart uploads in
progress instead (``InitiatedTime`` / ``UploadID`` / ``ObjectName``; ``-s`` and ``-d`` drop the
time), ``-a`` both, objects first; ``--limited-num`` counts both together.
``--include/--exclude`` and versions are refused rather than ignored.
"""

from __future__ import annotations

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    client_for,
    given_option,
    init_command,
    storage_url,
)
from ossutil.cli.options import COMMON_OPTIONS

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.config import Settings
    from ossutil.wire.errors import OssError

SPEC = CommandSpec("ls", min_args=0, max_args=1, valid_options=COMMON_OPTIONS + (
    "shortFormat", "directory", "multipart", "allType", "limitedNum", "marker",
    "uploadIDMarker", "include", "exclude", "versionIdMarker", "allVersions", "encodingType",
    "retryTimes", "payer"))

_NOT_FOR_OBJECTS = ("include", "exclude", "allVersions", "versionIdMarker", "encodingType",
                    "payer")
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
    """Objects (default), multipart uploads (``-m``) or both (``-a``), sharing one
    ``--limited-num`` budget, objects first."""
    from ossutil.cli.command import check_bucket_name

    refused = given_option(settings, _NOT_FOR_OBJECTS)
    if refused is not None:
        raise CliError(f"{refused.long} is not supported by this ossutil's ls")
    check_bucket_name(bucket)
    uploads = settings.flag("multipart") or settings.flag("allType")
    objects = not settings.flag("multipart") or settings.flag("allType")
    listing = _Listing(ctx, settings, bucket, prefix, limit)
    if objects:
        listing.objects()
    if uploads:
        listing.uploads()


class _Listing:
    def __init__(self, ctx: Context, settings: Settings, bucket: str, prefix: str,
                 limit: int) -> None:
        self.out = ctx.out
        self.bucket, self.prefix, self.limit = bucket, prefix, limit
        self.short = settings.flag("shortFormat")
        self.directories = settings.flag("directory")
        self.marker = settings.get("marker")
        self.upload_id_marker = settings.get("uploadIDMarker")
        self.client = client_for(settings, bucket, ctx)
        self.shown = 0  # objects, directories and uploads: one --limited-num budget

    def full(self) -> bool:
        return 0 <= self.limit <= self.shown

    def _service_error(self, error: OssError) -> CliError:
        from ossutil.cli import render

        return CliError(f"{render.service_error_text(error)}, Bucket={self.bucket}, "
                        f"Object={self.prefix}")

    def objects(self) -> None:
        from ossutil.cli.render import go_time
        from ossutil.wire.errors import OssError

        out, short = self.out, self.short or self.directories
        counted = 0
        header = False
        pages = self.client.object_pages(self.bucket, prefix=self.prefix, marker=self.marker,
                                         delimiter="/" if self.directories else "",
                                         max_keys=_PAGE)
        try:
            for page in pages if not self.full() else ():
                for item in page.objects:
                    if self.full():
                        break
                    url = f"oss://{self.bucket}/{item.key}"
                    if short:
                        out.write(url + "\n")
                    else:
                        if not header:
                            out.write(f"{'LastModifiedTime':<30}{'Size(B)':>12}"
                                      f"{'StorageClass':>14}   {'ETAG':<38}ObjectName\n")
                            header = True
                        out.write(f"{go_time(item.last_modified):<30}{item.size:>12}"
                                  f"{item.storage_class:>14}   {item.etag:<38}{url}\n")
                    self.shown += 1
                    counted += 1
                for directory in page.prefixes:
                    if self.full():
                        break
                    out.write(f"oss://{self.bucket}/{directory}\n")
                    self.shown += 1
                    counted += 1
                if self.full():
                    break
        except OssError as error:
            raise self._service_error(error) from error
        noun = "Object and Directory" if self.directories else "Object"
        out.write(f"{noun} Number is: {counted}\n")

    def uploads(self) -> None:
        from ossutil.cli.render import go_time
        from ossutil.wire.errors import OssError

        out, short = self.out, self.short or self.directories
        counted = 0
        header = False
        key_marker, upload_id_marker = self.marker, self.upload_id_marker
        while not self.full():
            try:
                page = self.client.list_multipart_uploads_page(
                    self.bucket, prefix=self.prefix, key_marker=key_marker,
                    upload_id_marker=upload_id_marker,
                    delimiter="/" if self.directories else "", max_uploads=_PAGE)
            except OssError as error:
                raise self._service_error(error) from error
            for upload in page.uploads:
                if self.full():
                    break
                url = f"oss://{self.bucket}/{upload.key}"
                if not header:
                    out.write(f"{'UploadID':<32}    ObjectName\n" if short else
                              f"{'InitiatedTime':<30}    {'UploadID':<32}    ObjectName\n")
                    header = True
                if short:
                    out.write(f"{upload.upload_id:<32}    {url}\n")
                else:
                    out.write(f"{go_time(upload.initiated):<30}    {upload.upload_id:<32}    "
                              f"{url}\n")
                self.shown += 1
                counted += 1
            if not page.next_key_marker and not page.next_upload_id_marker:
                break
            key_marker, upload_id_marker = page.next_key_marker, page.next_upload_id_marker
        out.write(f"UploadID Number is: {counted}\n")
