"""Every byte the CLI prints is composed here (golden-tested against ossutil 1.7.19).

Nothing in this module writes or exits: functions return text, ``cli.main`` writes it. Messages
reproduce ossutil's and the Go SDK's wording, typos included (reference ``ossutil-cli.md`` §3-§6).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ossutil.client.client import BucketSummary
    from ossutil.client.transport import Response
    from ossutil.wire.errors import OssError

EOF_HINT = (
    "Connection has been closed by remote peer. Please check the network. If you "
    "download/upload large file, You can reduce concurrency with the --parallel option and reduce "
    "part-size with --part-size (it must greater than the file size divided by 10000. By default, "
    "it will retry 10 times when failed, you can increse the retry times with --retry-times "
    "option.).\n"
)
NO_SUCH_UPLOAD_HINT = ("Will remove checkpoint dir '.ossutil_checkpoint' automatically. "
                       "Please try again.\n")


# --- the error line ----------------------------------------------------------------------------


def error_text(message: str) -> str:
    """``Error: <message>`` plus the advice lines ossutil's ``main`` adds (§6.1)."""
    text = f"Error: {message}\n"
    if "ErrorCode=NoSuchUpload" in message:
        text += NO_SUCH_UPLOAD_HINT
    if ": EOF," in message:
        text += EOF_HINT
    return text


def command_error(command: str, reason: str) -> str:
    """ossutil's ``CommandError``: ``invalid usage of "<cmd>" command, reason: ...``."""
    return (f'invalid usage of "{command}" command, reason: {reason}, please try '
            f'"help {command}" for more information')


def argc_error(command: str, minimum: int, maximum: int, count: int) -> str | None:
    """``needs at least/most N argument`` (plural only when the minimum is above one)."""
    plural = "s" if minimum > 1 else ""
    if count < minimum:
        return command_error(command, f"the command needs at least {minimum} argument{plural}")
    if count > maximum:
        return command_error(command, f"the command needs at most {maximum} argument{plural}")
    return None


def unsupported_option(command: str, name: str) -> str:
    return command_error(command, f'the command does not support option: "{name}"')


def no_such_command(name: str) -> str:
    return f'no such command: "{name}", please try "help" for more information'


def config_read_error(cause: str) -> str:
    return (f"Read config file error: {cause}, please try \"help config\" to set configuration "
            'or use "--config-file" option')


# --- service errors (the Go SDK's handleResponse + ServiceError.Error) -------------------------


def service_error_text(error: OssError) -> str:
    """The Go SDK's text for a non-2xx reply, computed from the raw reply when attached."""
    response: Response | None = getattr(error, "response", None)
    if response is None:
        return _service_error(error.status, error.code, error.message, error.request_id, "",
                              error.ec)
    return response_error_text(response)


def response_error_text(response: Response) -> str:
    from ossutil.cli.goxml import GoXmlError, unmarshal

    status = response.status
    request_id = response.header("x-oss-request-id")
    header_ec = response.header("x-oss-ec")
    if 300 <= status <= 307:
        return f"oss: service returned {status},{response.status_line}"
    body = response.body
    if not body and response.header("x-oss-err"):
        import base64
        import binascii

        try:
            body = base64.b64decode(response.header("x-oss-err"), validate=True)
        except (binascii.Error, ValueError):
            body = response.body
    if not body:
        return _service_error(status, "", "", request_id, "", header_ec)
    try:
        fields = unmarshal(body, "Error",
                           ("Code", "Message", "RequestId", "HostId", "Endpoint", "EC"))
    except GoXmlError:
        lead = ("oss: service returned invalid response body" if 400 <= status <= 505
                else "unknown response body")
        text = f"{lead}, status = {response.status_line}, RequestId = {request_id}"
        return text + (f", ec = {header_ec}" if header_ec else "")
    return _service_error(status, fields["Code"], fields["Message"], request_id,
                          fields["Endpoint"], fields["EC"])


def _service_error(status: int, code: str, message: str, request_id: str, endpoint: str,
                   ec: str) -> str:
    text = (f'oss: service returned error: StatusCode={status}, ErrorCode={code}, '
            f'ErrorMessage="{message}", RequestId={request_id}')
    if endpoint:
        text += f", Endpoint={endpoint}"
    if ec:
        text += f", Ec={ec}"
    return text


# --- success output ----------------------------------------------------------------------------


def elapsed_line(seconds: float) -> str:
    """``\\n0.002452(s) elapsed\\n`` (§4.3)."""
    return f"\n{seconds:.6f}(s) elapsed\n"


def token_xml(body: bytes) -> str:
    """A CnameToken reply re-serialised as ossutil does (§4.1); ``GoXmlError`` if undecodable."""
    from ossutil.cli.goxml import marshal_indent, unmarshal

    fields = ("Bucket", "Cname", "Token", "ExpireTime")
    record = unmarshal(body, "CnameToken", fields)
    return marshal_indent("CnameToken", [(name, record[name]) for name in fields])


def overwrite_prompt(path: str, label: str = "bucket cname") -> str:
    """``\\rbucket cname: overwrite "<path>"(y or N)? `` (§5); other commands name themselves
    (``bucket website``, ``cors``, ``bucket referer``)."""
    return f'\r{label}: overwrite "{path}"(y or N)? '


def go_time(text: str) -> str:
    """An OSS ISO-8601 time in local time, as Go's ``time.Time.String()`` prints it.

    ``2025-01-02T03:04:05.120Z`` -> ``2025-01-02 03:04:05.12 +0000 UTC`` (trailing zeros of the
    fraction dropped, no fraction when it is zero).
    """
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return "0001-01-01 00:00:00 +0000 UTC"
    base = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        base += "." + f"{moment.microsecond:06d}".rstrip("0")
    offset = moment.strftime("%z") or "+0000"
    zone = moment.tzname() or "UTC"
    return f"{base} {offset} {zone}"


def bucket_table(buckets: Sequence[BucketSummary], short: bool) -> str:
    """``ossutil ls`` for buckets: a header, one line per bucket, then the count."""
    lines: list[str] = []
    if buckets and not short:
        lines.append(f"{'CreationTime':<30} {'Region':>20}    {'StorageClass':>12}    BucketName")
    for bucket in buckets:
        if short:
            lines.append(f"oss://{bucket.name}")
        else:
            lines.append(f"{go_time(bucket.creation_date):<30} {bucket.location:>20}    "
                         f"{bucket.storage_class:>12}    oss://{bucket.name}")
    lines.append(f"Bucket Number is: {len(buckets)}")
    return "\n".join(lines) + "\n"
