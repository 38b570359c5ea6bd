"""The ``<Error>`` document: ``encode_error`` (the server's one renderer writes it) and
``decode_error`` / ``error_from_response`` (the client's one parser reads it).

Arrows run one way: ``errors`` (catalog + ``OssError``, no XML) <- ``xml`` <- ``error_xml``, so
the exception module never imports an XML module.
"""

from __future__ import annotations

from collections.abc import Mapping

from ossutil.wire import xml
from ossutil.wire.errors import OssError

_ERROR_FIELDS = frozenset({"Code", "Message", "RequestId", "HostId", "EC", "RecommendDoc"})


def encode_error(error: OssError) -> bytes:
    """``<Error>``: Code, Message, RequestId, HostId, then details, then EC (reference §10.1).

    Each standard child is written once: a ``details`` entry with a standard name (as
    ``error_from_response`` keeps ``RecommendDoc``) does not repeat it.
    """
    parts: list[xml.Node] = [
        ("Code", error.code),
        ("Message", error.message),
        ("RequestId", error.request_id),
        ("HostId", error.host_id),
    ]
    parts.extend((name, value) for name, value in error.details.items()
                 if name not in _ERROR_FIELDS)
    if error.ec:
        parts.append(("EC", error.ec))
    recommend = error.details.get("RecommendDoc") or (
        f"https://api.aliyun.com/troubleshoot?q={error.ec}" if error.ec else "")
    if recommend:
        parts.append(("RecommendDoc", recommend))
    # An error may echo anything a client sent (a key with NUL, a header with U+FFFF): what
    # XML cannot carry becomes U+FFFD, so the document is always well-formed.
    return xml.emit(("Error", parts), replace=True)


def decode_error(body: bytes) -> dict[str, str]:
    """Every leaf child of ``<Error>`` by name, in document order; MalformedXML otherwise."""
    root = xml.parse(body)
    if xml.local_name(root.tag) != "Error":
        error = OssError.from_code("MalformedXML")
        error.reason = "root element must be Error"
        raise error
    return {xml.local_name(element.tag): element.text or "" for element in root
            if len(element) == 0}


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> OssError:
    """Parse an error reply; the request id comes from the ``x-oss-request-id`` header.

    Never raises: a body that is no ``<Error>`` document gives an error with the status only.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = lower.get("x-oss-request-id", "")
    fields: dict[str, str] = {}
    if body:
        try:
            fields = decode_error(body)
        except OssError:
            fields = {}
    code = fields.pop("Code", "")
    message = fields.pop("Message", "")
    ec = fields.pop("EC", "") or lower.get("x-oss-ec", "")
    host_id = fields.pop("HostId", "")
    fields.pop("RequestId", None)
    return OssError(code, message, status=status, ec=ec, request_id=request_id,
                    host_id=host_id, details=fields)
