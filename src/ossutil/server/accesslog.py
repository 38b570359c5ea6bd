"""The access log and the server's log format: ``--log-format text|json``, ``--log-level``.

One line per request, at INFO on ``ossutil.server.access``, with these fields:

    time           when the line was written (UTC; text: the line's own timestamp)
    request_id     the reply's x-oss-request-id
    remote         the client's address (the TCP peer; a load balancer's own address
                   behind one: see docs/operations.md)
    method, host   as sent
    path           the raw path and query, signature and token values masked (``***``)
    operation      the OSS operation the router chose (``-`` when none was: a parse error,
                   an unknown bucket route; ``server:<name>`` for ``/-/<name>``)
    status         HTTP status
    error_code     the OSS error code of an error reply, else ``-``
    bytes_in       request body bytes read
    bytes_out      response body bytes sent
    latency_ms     from the request head to the reply's last byte
    access_key_id  the AccessKeyId of a signed request (never its secret), else ``-``
    user_agent     as sent, or ``-``
    via            ``front`` for answers from memory (http/front.py), else ``pipeline``

``text`` writes them ``name=value`` (a value with spaces or quotes in double quotes) after the
usual ``time level logger:`` prefix; ``json`` writes every log line, access or not, as one
JSON object (``time``, ``level``, ``logger``, ``message``, and the fields above for access
lines). A line is formatted only when INFO is enabled: at the default WARNING level a
request costs no formatting at all.

The log level can change without a restart: ``<data-dir>/log-level`` (one word: debug, info,
warning, error), read at start and on SIGHUP, wins over ``--log-level``; removing it and
sending SIGHUP returns to ``--log-level``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp.abc import AbstractAccessLogger

from ossutil.server.http.pipeline import NOTE_KEY, RequestNote, loggable_path

if TYPE_CHECKING:
    from aiohttp import web

    from ossutil.server.metrics import RequestMetrics
    from ossutil.server.settings import Settings

log = logging.getLogger("ossutil.server.access")
server_log = logging.getLogger("ossutil.server")

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
LOG_LEVEL_FILE = "log-level"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class AccessLine:
    """One access-log line's fields; rendered as ``name=value`` text by ``str``."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return _pairs(self.fields)


def _pairs(fields: dict[str, Any]) -> str:
    """``name=value`` for each field, space-separated (the text format's fields)."""
    return " ".join(f"{name}={_text_value(value)}" for name, value in fields.items())


def _text_value(value: Any) -> str:
    text = "-" if value is None else str(value)
    if text and all(33 <= ord(c) < 127 and c not in '"\\=' for c in text):
        return text
    return json.dumps(text)  # quoted, escapes included


def emit(fields: dict[str, Any]) -> None:
    """Write one access line (the caller checked ``log.isEnabledFor(logging.INFO)``)."""
    log.info("%s", fields["request_id"], extra={"access": fields})


def front_fields(request_id: str, method: str, host: str, path: str, status: int,
                 bytes_out: int) -> dict[str, Any]:
    """The access fields of an answer the HTTP front gave from memory: its ``_reply`` logs
    ``extra={"front": (method, host, masked path, status, body bytes)}`` with the request id as
    the message. It knows no peer or User-Agent at that point, and took well under 1 ms."""
    return {"request_id": request_id, "remote": "-", "method": method, "host": host,
            "path": path, "operation": "-", "status": status, "error_code": "-",
            "bytes_in": 0, "bytes_out": bytes_out, "latency_ms": 0, "access_key_id": "-",
            "user_agent": "-", "via": "front"}


def access_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """An access record's fields (the pipeline's or the front's), else None."""
    access = getattr(record, "access", None)
    if isinstance(access, dict):
        return access
    front = getattr(record, "front", None)
    if isinstance(front, tuple) and len(front) == 5:
        return front_fields(str(record.getMessage()), *front)
    return None


class AccessLogger(AbstractAccessLogger):
    """aiohttp's hook after each reply's last byte: counts it into ``RequestMetrics`` and, at
    INFO, writes its access line. Given to ``web.Server`` as ``access_log_class``."""

    metrics: RequestMetrics | None = None  # set once by runtime.start before listening

    @property
    def enabled(self) -> bool:
        return True  # the metrics need every reply, whatever the level

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        note = request.get(NOTE_KEY)
        operation = note.operation if isinstance(note, RequestNote) else "-"
        content = request.content
        bytes_in = getattr(content, "total_bytes", 0)
        # the body's length as announced (a blob sent with os.sendfile bypasses aiohttp's
        # byte count; handlers/object.py); a reply cut short by the client counts whole
        bytes_out = 0
        if request.method != "HEAD" and response.status not in (204, 304):
            bytes_out = response.content_length or 0
        metrics = self.metrics
        if metrics is not None:
            metrics.observe(operation, response.status, time, bytes_in, bytes_out)
        if not log.isEnabledFor(logging.INFO):
            return
        headers = request.headers
        if isinstance(note, RequestNote):
            request_id, error_code, key_id = note.request_id, note.error_code, note.access_key_id
        else:
            request_id = response.headers.get("x-oss-request-id", "-")
            error_code, key_id = "-", "-"
        emit({"request_id": request_id, "remote": request.remote or "-",
              "method": request.method, "host": headers.get("Host", "-"),
              "path": loggable_path(request.raw_path), "operation": operation,
              "status": response.status, "error_code": error_code, "bytes_in": bytes_in,
              "bytes_out": bytes_out, "latency_ms": round(time * 1000, 3),
              "access_key_id": key_id, "user_agent": headers.get("User-Agent", "-"),
              "via": "pipeline"})


class TextFormatter(logging.Formatter):
    """``time level logger: message``, UTC; an access record's message is its fields."""

    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        fields = access_fields(record)
        if fields is not None:
            record = logging.makeLogRecord(record.__dict__)
            record.msg, record.args = "%s", (AccessLine(fields),)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """Every record as one JSON object; access records carry their fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso(record.created), "level": record.levelname.lower(),
            "logger": record.name}
        access = access_fields(record)
        if access is not None:
            line["message"] = f"{access['method']} {access['path']} {access['status']}"
            line.update(access)
        else:
            line["message"] = record.getMessage()
            for name in ("event", "settings"):
                value = getattr(record, name, None)
                if value is not None:
                    line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _iso(created: float) -> str:
    whole, millis = divmod(round(created * 1000), 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


def configure(level: str, log_format: str) -> None:
    """The process's one stderr handler, in ``log_format``, at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def level_from_file(data_dir: Path, default: str) -> tuple[str, str]:
    """The level ``<data_dir>/log-level`` names, else ``default``; and where it came from.
    A file that does not name a level is reported and ignored."""
    path = Path(data_dir) / LOG_LEVEL_FILE
    try:
        word = path.read_text(encoding="utf-8").strip().lower()
    except FileNotFoundError:
        return default, "--log-level"
    except (OSError, UnicodeDecodeError) as exc:
        server_log.warning("cannot read %s (%s); log level stays %s", path,
                           type(exc).__name__, default)
        return default, "--log-level"
    if word not in LEVELS:
        server_log.warning("%s does not name a log level (one of %s); log level stays %s",
                           path, ", ".join(LEVELS), default)
        return default, "--log-level"
    return word, str(path)


def set_level(level: str) -> None:
    logging.getLogger().setLevel(level.upper())


def describe_settings(settings: Settings, **more: Any) -> dict[str, Any]:
    """The start line's settings: nothing secret (the database URL without its password)."""
    return {
        "data_dir": str(settings.data_dir), "host": settings.host, "port": settings.port,
        "https_port": settings.https_port, "region": settings.region,
        "endpoint_domain": settings.endpoint_domain, "store": settings.store,
        "database": _without_password(settings.database_url) if settings.database_url else None,
        "dns": ("off" if not settings.dns_verify else
                f"zone-file {settings.dns_zone_file}" if settings.dns_zone_file else
                ",".join(f"{h}:{p}" for h, p in settings.dns_servers) or "system"),
        "tls_cert": str(settings.tls_cert) if settings.tls_cert else None,
        "keepalive_timeout": settings.keepalive_timeout,
        "header_timeout": settings.header_timeout, **more}


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = (f"{parts.username}@" if parts.username else "") + host + (
            f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(unparsable URL, not shown)"


def lifecycle(event: str, message: str, settings: dict[str, Any] | None = None) -> None:
    """A start or shutdown line (INFO on ``ossutil.server``); ``settings`` as fields."""
    text = message
    if settings:
        text += " " + _pairs(settings)
    server_log.info("%s", text, extra={"event": event, "settings": settings})
