"""``ossutil cors-options``: send a CORS preflight (OPTIONS) and show the reply's headers.

    ossutil cors-options oss://bucket[/object] [--origin O] [--acr-method M] [--acr-headers H]

As ossutil 1.7.19: ``--origin``, ``--acr-method`` (sent upper-cased) and ``--acr-headers`` become
``Origin``, ``Access-Control-Request-Method`` and ``Access-Control-Request-Headers`` when given;
the request is signed like any other. Any 2xx succeeds and prints the response headers as Go's
``http.Header.WriteSubset`` writes them (canonical names sorted, one ``Name: value\\r\\n`` line per
value) without ``Connection``, ``Content-Length``, ``Date``, ``Server``, ``X-Oss-Request-Id`` and
``X-Oss-Server-Time``; a refused preflight (403 AccessForbidden) is an error as usual.
``--encoding-type url`` means the object name in the URL is URL-encoded.
"""

from __future__ import annotations

from ossutil.cli import bucket_config
from ossutil.cli.command import CliError, CommandSpec, Context, cloud_url, init_command

SPEC = CommandSpec("cors-options", min_args=1, max_args=1, valid_options=(
    *bucket_config.OPTIONS[:9], "encodingType", "origin", "acrMethod", "acrHeaders",
    *bucket_config.OPTIONS[10:]))

EXCLUDED = frozenset(("Connection", "Content-Length", "Date", "Server", "X-Oss-Request-Id",
                      "X-Oss-Server-Time"))


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    bucket, key = object_url(ctx.args[0], settings.get("encodingType"))
    origin = settings.get("origin")
    method = settings.get("acrMethod")
    headers = settings.get("acrHeaders")
    client = bucket_config.client(ctx, settings, bucket)
    response = client.options_object_raw(bucket, key, origin=origin or None,
                                         request_method=method.upper() or None,
                                         request_headers=headers or None)
    ctx.out.write(header_lines(response.headers))


def object_url(text: str, encoding_type: str) -> tuple[str, str]:
    """ossutil's ``GetCloudUrl``: (bucket, object). With ``--encoding-type url`` (exactly
    ``url``) the object part is query-unescaped first, and what cannot be is refused in
    ossutil's words (as ``sign``'s ``object_url`` does)."""
    key = None
    if encoding_type == "url":
        from ossutil.cli.sign import _query_unescape

        if not text.lower().startswith("oss://"):
            decoded, error = _query_unescape(text)
            if error:
                raise CliError(f"invalid cloud url: {text}, file name is not url encoded, "
                               f"{error}")
            cloud_url(decoded)  # not a cloud URL: the message names the decoded text
        else:
            bucket, slash, obj = text[len("oss://"):].partition("/")
            if slash and obj:
                key, error = _query_unescape(obj)
                if error:
                    raise CliError(f"invalid cloud url: {text}, object name is not url "
                                   f"encoded, {error}")
            elif bucket:
                decoded, error = _query_unescape(bucket)
                if not error and decoded != bucket:
                    raise CliError(f"invalid cloud url: {text}, bucket url do not support "
                                   "--encoding-type option")
    url = cloud_url(text)
    return url.bucket, url.object if key is None else key


# Go's client takes these out of ``resp.Header`` (the body's framing and its trailers)
TRANSPORT_HEADERS = frozenset(("Transfer-Encoding", "Trailer"))


def header_lines(headers: list[tuple[str, str]]) -> str:
    """``http.Header.WriteSubset(w, exclude)`` of the reply's headers as Go's client hands them
    over: a name that is not an HTTP token is dropped, as are the framing headers."""
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        if not name or any(ch not in _TOKEN for ch in name):
            continue
        key = canonical_key(name)
        if key not in TRANSPORT_HEADERS:
            by_name.setdefault(key, []).append(value)
    lines = []
    for name in sorted(by_name):
        if name in EXCLUDED:
            continue
        for value in by_name[name]:
            value = value.replace("\r", " ").replace("\n", " ").strip(" \t\r\n")
            lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def canonical_key(name: str) -> str:
    """``textproto.CanonicalMIMEHeaderKey``: ``x-oss-meta-a`` -> ``X-Oss-Meta-A``; a name with a
    character outside HTTP's token set is left as it is."""
    if not name or any(ch not in _TOKEN for ch in name):
        return name
    out = []
    upper = True
    for ch in name:
        out.append(ch.upper() if upper else ch.lower())
        upper = ch == "-"
    return "".join(out)
