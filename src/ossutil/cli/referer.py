"""``ossutil referer``: a bucket's Referer whitelist (hotlink protection), as ossutil 1.7.19.

    ossutil referer --method put oss://bucket referer... [--disable-empty-referer]
    ossutil referer --method get oss://bucket [local_xml_file]
    ossutil referer --method delete oss://bucket

``put`` sends the referers given (PutBucketReferer; an empty Referer is allowed unless
``--disable-empty-referer``); ``delete`` is no API of its own: it puts an empty list with empty
Referers allowed, as 1.7.19 does. ``get`` decodes the reply into the Go SDK's ``RefererXML`` and
prints it with ``xml.MarshalIndent(v, "  ", "    ")``, so elements that struct lacks
(``TruncatePath``) are not shown. 1.7.19 takes any number of referers: no upper argument limit.
"""

from __future__ import annotations

from ossutil.cli import bucket_config
from ossutil.cli.command import CliError, CommandSpec, Context, cloud_url, init_command
from ossutil.cli.goxml import GoField, GoStruct, marshal_struct, unmarshal_struct

SPEC = CommandSpec("referer", min_args=1, max_args=2**31 - 1, valid_options=(
    *bucket_config.OPTIONS[:9], "disableEmptyReferer", *bucket_config.OPTIONS[9:]))

# aliyun-oss-go-sdk v3.0.2's RefererXML: RefererList is a struct value (always written),
# RefererBlacklist a pointer (written when the reply had one)
_REFERERS = (GoField("Referer", "strings"),)
REFERER_XML = GoStruct("RefererConfiguration", [
    GoField("AllowEmptyReferer", "bool"), GoField("AllowTruncateQueryString", "*bool"),
    GoField("RefererList", "struct", GoStruct("RefererList", _REFERERS)),
    GoField("RefererBlacklist", "*struct", GoStruct("RefererBlacklist", _REFERERS)),
])
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    method = bucket_config.method_of(settings)
    bucket = cloud_url(ctx.args[0]).bucket
    if method == "put":
        if len(ctx.args) < 2:
            raise CliError("put bucket referer need at least 2 parameters,the refer is empty")
        body = referer_body(ctx.args[1:], not settings.flag("disableEmptyReferer"))
        bucket_config.client(ctx, settings, bucket).put_bucket_referer_raw(bucket, body)
    elif method == "get":
        response = bucket_config.client(ctx, settings, bucket).get_bucket_referer_raw(bucket)
        text = marshal_struct(REFERER_XML, unmarshal_struct(response.body, REFERER_XML), "  ",
                              "    ")
        bucket_config.emit(ctx, (XML_HEADER + text).encode("utf-8", "surrogateescape"),
                           "bucket referer")
    else:
        bucket_config.client(ctx, settings, bucket).put_bucket_referer_raw(
            bucket, referer_body([], True))


def referer_body(referers: list[str], allow_empty: bool) -> bytes:
    """The Go SDK's ``SetBucketReferer`` body (compact, no declaration)."""
    config = REFERER_XML.zero()
    config["AllowEmptyReferer"] = allow_empty
    config["RefererList"] = {"Referer": list(referers)}
    return marshal_struct(REFERER_XML, config).encode("utf-8", "surrogateescape")
