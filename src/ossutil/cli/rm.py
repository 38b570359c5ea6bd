"""``ossutil rm``: one object, every object under a prefix (``-r``), a bucket (``-b``) or both
(``-r -b``), with ossutil 1.7.19's prompts and output (compared with the Go binary by the
differential tests).

Go prints from a progress goroutine, so its bytes are a little odd; reproduced here::

    rm oss://b/k           \\rTotal 1 objects. Removed 1 objects. Progress: 100%\\r<51 spaces>\\r
                           Succeed: Total 1 objects. Removed 1 objects.\\n\\r<51 spaces>\\r
                           (a missing object: only the Succeed line, "Total 0")
    rm -r oss://b/p/       "Do you really mean to remove recursively objects of oss://b/p/(y or
                           N)? " unless -f; then the same two lines for every object listed
    rm -b oss://b          "\\rDo you really mean to remove the Bucket: b(y or N)? " unless -f;
                           two clears as wide as that prompt; "Removed Bucket: b"

A clear is ``\\r``, spaces as wide as the widest line shown so far (plus one for progress
lines), ``\\r``. Multipart uploads (``-m``, ``-a``), ``--include/--exclude`` and versions are
refused rather than ignored. Go's ticker may also print intermediate progress lines during a
long removal; this prints only the final one.
"""

from __future__ import annotations

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    check_bucket_name,
    client_for,
    given_option,
    init_command,
    storage_url,
)
from ossutil.cli.options import COMMON_OPTIONS

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.client import OssClient
    from ossutil.wire.errors import OssError

SPEC = CommandSpec("rm", min_args=1, max_args=1, valid_options=COMMON_OPTIONS + (
    "recursive", "bucket", "force", "allType", "multipart", "include", "exclude",
    "retryTimes", "language", "versionId", "allVersions", "versionIdMarker", "encodingType",
    "payer"))

_REFUSED = ("allType", "multipart", "include", "exclude", "versionId", "allVersions",
            "versionIdMarker", "encodingType", "payer")
_BATCH = 1000
_NOT_EMPTY_HINT = "\nWhether new objects were uploaded during the deletion?\n\n"


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    url = ctx.args[0]
    bucket, key = storage_url(url)
    recursive, remove_bucket = settings.flag("recursive"), settings.flag("bucket")
    force = settings.flag("force")
    refused = given_option(settings, _REFUSED)
    if refused is not None:
        raise CliError(f"{refused.short or refused.long} is not supported by this ossutil's rm")
    if not bucket:
        raise CliError(f"invalid cloud url: {url}, miss bucket")
    if remove_bucket and key:
        raise CliError(f"remove bucket invalid url: {url}, object not empty, if you mean remove "
                       "object, you should not use --bucket option")
    if not remove_bucket and not recursive and not key:
        raise CliError("remove bucket, miss --bucket option, if you mean remove object, invalid "
                       f"url: {url}, miss object")
    check_bucket_name(bucket)
    client = client_for(settings, bucket, ctx)
    removal = _Removal(ctx, client, bucket)
    if recursive:
        if not force and not removal.confirm(
                f"Do you really mean to remove recursively objects of {url}(y or N)? "):
            ctx.out.write("operation is canceled.\n")
            return
        removal.objects(key, ask_bucket=remove_bucket and not force)
    elif key:
        removal.one(key)
    if remove_bucket and removal.bucket_wanted:
        removal.bucket(asked=recursive or force)


class _Removal:
    def __init__(self, ctx: Context, client: OssClient, bucket: str) -> None:
        self.ctx, self.out, self.client, self.name = ctx, ctx.out, client, bucket
        self.width = 0  # the widest line shown so far, for the clears
        self.bucket_wanted = True  # False once the bucket prompt was answered "no"
        self.bucket_prompt = f"Do you really mean to remove the Bucket: {bucket}(y or N)? "

    def confirm(self, prompt: str) -> bool:
        self.out.write(prompt)
        self.out.flush()
        words = self.ctx.stdin.readline().split()
        return len(words) == 1 and words[0].lower() in (b"y", b"yes")

    def clear(self) -> None:
        self.out.write("\r" + " " * self.width + ("\r" if self.width else ""))

    def _done(self, count: int, progress: bool, ask_bucket: bool = False) -> None:
        succeed = f"Succeed: Total {count} objects. Removed {count} objects."
        if progress:
            if count:
                line = f"Total {count} objects. Removed {count} objects. Progress: 100%"
                self.width = len(line) + 1
            else:  # nothing listed: Go's last progress text is the scan's (no clear after it)
                line = "Scanned 0 objects. Removed 0 objects."
            self.out.write("\r" + line)
            if ask_bucket:  # Go asks while its progress line is still up
                self.out.write("\r")
                if not self.confirm(self.bucket_prompt):
                    self.out.write("operation is canceled.\n")
                    self.bucket_wanted = False
                self.width = max(self.width, len(self.bucket_prompt))
        if self.width:
            self.clear()
        else:
            self.out.write("\r")
        self.out.write(succeed + "\n")
        self.width = max(self.width, len(succeed) + 1)
        self.clear()

    def one(self, key: str) -> None:
        from ossutil.wire.errors import OssError

        try:
            self.client.head_object(self.name, key)
        except OssError as error:
            if error.status != 404:
                raise self._error(error, key) from error
            self._done(0, progress=False)
            return
        try:
            self.client.delete_object(self.name, key)
        except OssError as error:
            raise self._error(error, key) from error
        self._done(1, progress=True)

    def objects(self, prefix: str, *, ask_bucket: bool) -> None:
        from ossutil.wire.errors import OssError

        scanned = removed = 0
        try:
            for page in self.client.object_pages(self.name, prefix=prefix, max_keys=_BATCH):
                keys = [item.key for item in page.objects]
                scanned += len(keys)
                if keys:
                    self.client.delete_objects(self.name, keys)
                    removed += len(keys)
        except OssError as error:
            line = f"Scanned {scanned} objects. Removed {removed} objects. when error happens."
            self.out.write(f"\r{line}\n")
            self.width = len(line) + 1
            self.clear()
            raise self._error(error, "") from error
        self._done(removed, progress=True, ask_bucket=ask_bucket)

    def bucket(self, *, asked: bool) -> None:
        """DeleteBucket; ``asked``: the prompt was settled by -f or the -r flow already."""
        from ossutil.wire.errors import OssError

        if not asked:
            self.out.write("\r")
            wanted = self.confirm(self.bucket_prompt)
            self.width = len(self.bucket_prompt)
            if not wanted:
                self.out.write("operation is canceled.\n")
                self.clear()
                self.clear()
                return
        two_clears = self.width == 0 or not asked  # the -r flow has cleared already
        try:
            self.client.delete_bucket(self.name)
        except OssError as error:
            if error.code == "BucketNotEmpty":
                self.out.write(_NOT_EMPTY_HINT)
            if two_clears:
                self.clear()
                self.clear()
            raise self._error(error, None) from error
        if two_clears:
            self.clear()
            self.clear()
        self.out.write(f"Removed Bucket: {self.name}\n")

    def _error(self, error: OssError, key: str | None) -> CliError:
        from ossutil.cli import render

        where = f", Bucket={self.name}" + ("" if key is None else f", Object={key}")
        return CliError(render.service_error_text(error) + where)
