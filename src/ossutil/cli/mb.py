"""``ossutil mb oss://bucket``: create a bucket (PutBucket), output as ossutil prints it."""

from __future__ import annotations

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    check_bucket_name,
    client_for,
    init_command,
    storage_url,
)
from ossutil.cli.options import COMMON_OPTIONS

SPEC = CommandSpec("mb", min_args=1, max_args=1, valid_options=COMMON_OPTIONS + (
    "acl", "storageClass", "redundancyType", "meta", "retryTimes", "language"))
ACLS = ("public-read-write", "public-read", "private")


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    url = ctx.args[0]
    bucket, obj = storage_url(url)
    if obj:
        raise CliError(f'invalid cloud url: {url}, object not empty, upload object please use '
                       '"cp" command')
    if not bucket:
        raise CliError(f"invalid cloud url: {url}, miss bucket")
    acl = settings.get("acl")
    if acl and acl not in ACLS:
        acl = _ask_acl(ctx, acl)
    redundancy = settings.get("redundancyType")
    if redundancy and redundancy not in ("LRS", "ZRS"):
        raise CliError("--redundancy-type muse be LRS or ZRS")  # sic
    if settings.get("meta"):
        raise CliError("--meta is not supported by this ossutil's mb")
    client = client_for(settings, bucket, ctx)
    try:
        check_bucket_name(bucket)
        client.create_bucket(bucket, acl or None,
                             storage_class=_storage_class(settings.get("storageClass")),
                             redundancy_type=redundancy or None)
    except Exception as error:
        from ossutil.cli.main import _message

        raise CliError(f"{_message(error)}, Bucket={bucket}") from error


def _storage_class(value: str) -> str:
    """The canonical spelling of a class given in any case (default Standard)."""
    for name in ("Standard", "IA", "Archive", "ColdArchive"):
        if value.lower() == name.lower():
            return name
    return "Standard"


def _ask_acl(ctx: Context, given: str) -> str:
    """ossutil asks again for an unknown ACL; one word from stdin, else the error."""
    ctx.out.write(f"Invalid acl: {given}\nAcceptable acls:\n" + "".join(f"\t{a}\n" for a in ACLS)
                  + "Please enter the acl you want to set on the bucket:")
    ctx.out.flush()
    words = ctx.stdin.readline().split()
    answer = words[0].decode("utf-8", "surrogateescape") if len(words) == 1 else ""
    if answer in ACLS:
        return answer
    raise CliError(f"invalid acl: {answer or given}, please check")
