"""``ossutil cors``: a bucket's CORS rules, as ossutil 1.7.19 does it.

    ossutil cors --method put oss://bucket local_xml_file
    ossutil cors --method get oss://bucket [local_xml_file]
    ossutil cors --method delete oss://bucket

Unlike ``website``, 1.7.19 goes through the Go SDK's ``CORSXML`` struct both ways: the local
file is decoded into it and only its rules are sent again (PutBucketCors; ``ResponseVary`` and
unknown elements are dropped, ``MaxAgeSeconds`` is always written), and the reply is decoded and
printed with ``xml.MarshalIndent(v, "  ", "    ")`` after the XML declaration. ``goxml`` does
both as Go does, strconv's messages included. A failure after the bucket URL is read is printed
twice, as 1.7.19 does: ``error:<message>`` from the command, then the usual ``Error: <message>``.
"""

from __future__ import annotations

import sys

from ossutil.cli import bucket_config
from ossutil.cli.command import CliError, CommandSpec, Context, cloud_url, init_command
from ossutil.cli.goxml import GoField, GoStruct, marshal_struct, unmarshal_struct

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.config import Settings

SPEC = CommandSpec("cors", min_args=1, max_args=2, valid_options=(
    *bucket_config.OPTIONS[:8], "method", "loglevel", *bucket_config.OPTIONS[10:]))

# aliyun-oss-go-sdk v3.0.2's CORSRule and CORSXML, field for field
CORS_RULE = GoStruct("CORSRule", [
    GoField("AllowedOrigin", "strings"), GoField("AllowedMethod", "strings"),
    GoField("AllowedHeader", "strings"), GoField("ExposeHeader", "strings"),
    GoField("MaxAgeSeconds", "int"),
])
CORS_XML = GoStruct("CORSConfiguration", [
    GoField("CORSRule", "structs", CORS_RULE), GoField("ResponseVary", "*bool"),
])
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    method = bucket_config.method_of(settings)
    bucket = cloud_url(ctx.args[0]).bucket
    try:
        if method == "put":
            put(ctx, settings, bucket)
        elif method == "get":
            response = bucket_config.client(ctx, settings, bucket).get_bucket_cors_raw(bucket)
            text = marshal_struct(CORS_XML, unmarshal_struct(response.body, CORS_XML), "  ",
                                  "    ")
            bucket_config.emit(ctx, (XML_HEADER + text).encode("utf-8", "surrogateescape"),
                               "cors")
        else:
            bucket_config.client(ctx, settings, bucket).delete_bucket_cors_raw(bucket)
    except Exception as error:
        _echo(ctx, error)
        raise


def put(ctx: Context, settings: Settings, bucket: str) -> None:
    """PutBucketCors with the rules of the local file, re-encoded as the Go SDK sends them."""
    if len(ctx.args) < 2:
        raise CliError("missing parameters,the local cors config file is empty")
    config = unmarshal_struct(bucket_config.read_local_file(ctx.args[1]), CORS_XML)
    config["ResponseVary"] = None  # SetBucketCORS sends the rules only
    body = marshal_struct(CORS_XML, config).encode("utf-8", "surrogateescape")
    bucket_config.client(ctx, settings, bucket).put_bucket_cors_raw(bucket, body)


def _echo(ctx: Context, error: Exception) -> None:
    """1.7.19's own ``error:<message>`` line before ``main``'s ``Error:`` line (both on stdout;
    both on stderr with ``--errors-to-stderr``)."""
    from ossutil.cli.main import _message

    text = f"error:{_message(error)}\n"
    if ctx.parsed.flag("errorsToStderr"):
        ctx.out.flush()
        sys.stderr.write(text)
        sys.stderr.flush()
    else:
        ctx.out.write(text)
