"""``ossutil website``: a bucket's static-website configuration, as ossutil 1.7.19 does it.

    ossutil website --method put oss://bucket local_xml_file
    ossutil website --method get oss://bucket [local_xml_file]
    ossutil website --method delete oss://bucket

The file is sent as it is (PutBucketWebsite; not checked here, the server judges it) and the
configuration is printed as the server sent it (GetBucketWebsite): 1.7.19 neither parses nor
re-serialises either, unlike its ``cors`` and ``referer``. Checks and messages: ``bucket_config``.
"""

from __future__ import annotations

from ossutil.cli import bucket_config
from ossutil.cli.command import CliError, CommandSpec, Context, cloud_url, init_command

SPEC = CommandSpec("website", min_args=1, max_args=2, valid_options=bucket_config.OPTIONS)


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    method = bucket_config.method_of(settings)
    bucket = cloud_url(ctx.args[0]).bucket
    if method == "put":
        if len(ctx.args) < 2:
            raise CliError("put bucket website need at least 2 parameters,the local xml file is "
                           "empty")
        body = bucket_config.read_local_file(ctx.args[1])
        bucket_config.client(ctx, settings, bucket).put_bucket_website_raw(bucket, body)
    elif method == "get":
        response = bucket_config.client(ctx, settings, bucket).get_bucket_website_raw(bucket)
        bucket_config.emit(ctx, response.body, "bucket website")
    else:
        bucket_config.client(ctx, settings, bucket).delete_bucket_website_raw(bucket)
