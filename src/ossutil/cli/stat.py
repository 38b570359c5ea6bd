"""``ossutil stat oss://bucket[/object]``: a bucket's GetBucketInfo or an object's headers, as
ossutil 1.7.19 prints them (compared with the Go binary by the differential tests).

A bucket: fixed ``%-22s: %s`` lines (Name ... CrossRegionReplication); RedundancyType, the SSE
fields and AccessMonitor only when the service reports them. An object: GetObjectAcl, then
HeadObject; every response header but Date, Server, Connection, x-oss-request-id and
x-oss-server-time, named as Go canonicalizes them, plus ``ACL`` and ``Owner``, sorted, the name
column as wide as the longest name plus two; ``Etag`` loses its quotes and ``Last-Modified``
is shown as Go prints a local time.
"""

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

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from ossutil.client.client import OssClient

SPEC = CommandSpec("stat", min_args=1, max_args=1, valid_options=COMMON_OPTIONS + (
    "retryTimes", "language", "versionId", "payer"))

_HIDDEN = frozenset({"date", "server", "connection", "x-oss-request-id", "x-oss-server-time"})


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    url = ctx.args[0]
    bucket, key = storage_url(url)
    if not bucket:
        raise CliError(f"invalid cloud url: {url}, miss bucket")
    for name, spelled in (("versionId", "--version-id"), ("payer", "--payer")):
        if settings.get(name):
            raise CliError(f"{spelled} is not supported by this ossutil's stat")
    check_bucket_name(bucket)
    client = client_for(settings, bucket, ctx)
    from ossutil.cli import render
    from ossutil.wire.errors import OssError

    try:
        text = _object(client, bucket, key) if key else _bucket(client, bucket)
    except OssError as error:
        where = f", Bucket={bucket}" + (f", Object={key}" if key else "")
        raise CliError(render.service_error_text(error) + where) from error
    ctx.out.write(text)


def _bucket(client: OssClient, bucket: str) -> str:
    from ossutil.cli.render import go_time

    info = client.get_bucket_info(bucket)
    rows = [("Name", info.name), ("Location", info.location),
            ("CreationDate", go_time(info.creation_date)),
            ("ExtranetEndpoint", info.extranet_endpoint),
            ("IntranetEndpoint", info.intranet_endpoint), ("ACL", info.acl),
            ("Owner", info.owner_id), ("StorageClass", info.storage_class)]
    optional = [("RedundancyType", info.redundancy_type), ("SSEAlgorithm", info.sse_algorithm),
                ("KMSMasterKeyID", info.kms_master_key_id),
                ("KMSDataEncryption", info.kms_data_encryption)]
    # Go ossutil skips an empty value and OSS's "None" (a bucket without encryption)
    rows += [(name, value) for name, value in optional if value and value != "None"]
    rows += [("TransferAcceleration", info.transfer_acceleration),
             ("CrossRegionReplication", info.cross_region_replication)]
    if info.access_monitor:
        rows.append(("AccessMonitor", info.access_monitor))
    return "".join(f"{name:<22}: {value}\n" for name, value in rows)


def _object(client: OssClient, bucket: str, key: str) -> str:
    acl = client.get_object_acl(bucket, key)
    info = client.head_object(bucket, key)
    attributes: dict[str, str] = {}
    for name, value in info.headers:
        canonical = canonical_header(name)
        if canonical.lower() not in _HIDDEN and canonical not in attributes:
            attributes[canonical] = value
    if "Etag" in attributes:
        attributes["Etag"] = attributes["Etag"].strip('"')
    if "Last-Modified" in attributes:
        attributes["Last-Modified"] = _http_date_as_go(attributes["Last-Modified"])
    attributes["ACL"] = acl.acl
    attributes["Owner"] = acl.owner_id
    width = max(len(name) for name in attributes) + 2
    return "".join(f"{name:<{width}}: {attributes[name]}\n" for name in sorted(attributes))


def canonical_header(name: str) -> str:
    """Go's ``textproto.CanonicalMIMEHeaderKey``: ``x-oss-meta-a`` -> ``X-Oss-Meta-A``; a name
    with a space or other non-token character is left as it is."""
    if any(not (ch.isascii() and (ch.isalnum() or ch in "!#$%&'*+-.^_`|~")) for ch in name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _http_date_as_go(text: str) -> str:
    """``Tue, 01 Dec 2026 23:18:37 GMT`` -> ``2026-12-01 23:18:37 +0000 UTC`` (local zone)."""
    from datetime import datetime, timezone

    from ossutil.cli.render import go_time

    try:
        moment = datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return text
    return go_time(moment.replace(tzinfo=timezone.utc).isoformat())
