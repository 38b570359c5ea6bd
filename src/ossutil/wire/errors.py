"""The OSS error catalog and the one exception both sides use.

Every code we emit or parse is a row of ``CATALOG``: HTTP status, default message and, where
Alibaba publishes one, the EC (error-centre code). The rows come from
``shared/reference/oss-cname-api.md`` §10; rows marked "chosen" are our decisions where OSS's own
code is not published (see ARCHITECTURE.md, "Choices where OSS is silent").

The server raises ``OssError.from_code(code, ...)`` from domain code that knows no HTTP; the edge
(``server/http/errors.py``) turns it into status + XML. The client builds one with
``wire.error_xml.error_from_response(...)`` (this module imports no XML: ``error_xml`` imports
it, never the other way).

    Exception
     └── OssError            code, message, status, ec, request_id, host_id, details
"""

from __future__ import annotations

TYPE_CHECKING = False  # the CLI loads this module: ``collections`` would cost it ~1 ms
if TYPE_CHECKING:
    from collections.abc import Mapping


class ErrorSpec:
    """One row of the catalog (a plain class: ``dataclasses`` would slow the CLI's start-up)."""

    __slots__ = ("status", "message", "ec")

    def __init__(self, status: int, message: str, ec: str = "") -> None:
        self.status = status
        self.message = message
        self.ec = ec

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorSpec):
            return NotImplemented
        return (self.status, self.message, self.ec) == (other.status, other.message, other.ec)

    def __hash__(self) -> int:
        return hash((self.status, self.message, self.ec))

    def __repr__(self) -> str:
        return f"ErrorSpec(status={self.status!r}, message={self.message!r}, ec={self.ec!r})"


MALFORMED_XML_MESSAGE = (
    "The XML you provided was not well-formed or did not validate against our published schema."
)
SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)

CATALOG: dict[str, ErrorSpec] = {
    # CNAME family
    "NeedVerifyDomainOwnership": ErrorSpec(
        403, "Please verify domain ownership by CreateCnameToken and try again.", "0018-00000115"
    ),
    "CnameAlreadyExists": ErrorSpec(
        409, "The specified cname is already bound to another bucket.", ""
    ),
    "CnameDenied": ErrorSpec(403, "The specified cname is in use.", ""),
    "CnameIsForbidden": ErrorSpec(
        403, "The specified cname is reserved and cannot be bound.", "0018-00000401"
    ),
    "CertificateInvalidCasId": ErrorSpec(
        400,
        "The CAS ID is invalid: not exist or not belong to the owner of the bucket",
        "0018-00000204",
    ),
    "TooManyCnameToken": ErrorSpec(
        400, "You have attempted to create more cname token than allowed.", ""
    ),
    # chosen: the 101st binding on a bucket (OSS publishes no code for it)
    "TooManyCname": ErrorSpec(
        400, "You have attempted to bind more cnames to the bucket than allowed.", ""
    ),
    "NoNeedCreateCnameToken": ErrorSpec(
        403, "The cname is already bound to this bucket; no token is needed.", "0018-00000302"
    ),
    "CnameTokenNotFound": ErrorSpec(404, "Cname token not found.", "0018-00000301"),
    "NoSuchCname": ErrorSpec(404, "The specified cname does not exist.", ""),
    # generic request errors
    "InvalidArgument": ErrorSpec(400, "Invalid Argument.", ""),
    "MalformedXML": ErrorSpec(400, MALFORMED_XML_MESSAGE, ""),
    "InvalidDigest": ErrorSpec(
        400, "The Content-MD5 you specified is not valid.", "0017-00000503"
    ),
    "EntityTooLarge": ErrorSpec(
        400, "Your proposed upload exceeds the maximum allowed object size.", ""
    ),
    "MissingContentLength": ErrorSpec(
        411, "You must provide the Content-Length HTTP header.", ""
    ),
    "MethodNotAllowed": ErrorSpec(
        405, "The specified method is not allowed against this resource.", ""
    ),
    "NotImplemented": ErrorSpec(
        501, "A header you provided implies functionality that is not implemented.", ""
    ),
    "InvalidRange": ErrorSpec(416, "The requested range cannot be satisfied.", ""),
    "PreconditionFailed": ErrorSpec(
        412, "At least one of the pre-conditions you specified did not hold.", ""
    ),
    # buckets and objects
    "NoSuchBucket": ErrorSpec(404, "The specified bucket does not exist.", "0015-00000101"),
    "BucketAlreadyExists": ErrorSpec(
        409, "The requested bucket name is not available.", "0015-00000104"
    ),
    "BucketNotEmpty": ErrorSpec(
        409, "The bucket you tried to delete is not empty.", "0015-00000301"
    ),
    "InvalidBucketName": ErrorSpec(
        400, "The specified bucket is not valid.", "0015-00000204"
    ),
    "NoSuchKey": ErrorSpec(404, "The specified key does not exist.", "0026-00000001"),
    "InvalidObjectName": ErrorSpec(400, "The specified object is not valid.", ""),
    "TooManyBuckets": ErrorSpec(
        400, "You have attempted to create more buckets than allowed.", ""
    ),
    # website, CORS and hotlink protection (issue 12): OSS's codes, statuses and messages
    "NoSuchWebsiteConfiguration": ErrorSpec(
        404, "The specified bucket does not have a website configuration.", ""
    ),
    "NoSuchCORSConfiguration": ErrorSpec(404, "The CORS configuration does not exist.", ""),
    "AccessForbidden": ErrorSpec(
        403, "CORSResponse: This CORS request is not allowed. This is usually because the "
        "evalution of Origin, request method / Access-Control-Request-Method or "
        "Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.", ""
    ),
    # multipart upload: OSS's codes and statuses (its API reference, CompleteMultipartUpload
    # and UploadPart); the message texts are chosen where OSS's own are not published
    "NoSuchUpload": ErrorSpec(
        404, "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.", ""
    ),
    "InvalidPart": ErrorSpec(
        400, "One or more of the specified parts could not be found or the specified entity "
        "tag might not have matched the part's entity tag.", ""
    ),
    "InvalidPartOrder": ErrorSpec(
        400, "The list of parts was not in ascending order. Parts list must specified in "
        "order by part number.", ""
    ),
    "FileAlreadyExists": ErrorSpec(
        409, "The object you specified already exists and can not be overwritten.", ""
    ),
    "EntityTooSmall": ErrorSpec(
        400, "Your proposed upload smaller than the minimum allowed size.", ""
    ),
    # authentication and authorization
    "AccessDenied": ErrorSpec(403, "You have no right to access this object.", "0003-00000201"),
    "InvalidAccessKeyId": ErrorSpec(
        403, "The OSS Access Key Id you provided does not exist in our records.", ""
    ),
    "SignatureDoesNotMatch": ErrorSpec(403, SIGNATURE_MESSAGE, "0002-00000040"),
    "RequestTimeTooSkewed": ErrorSpec(
        403,
        "The difference between the request time and the current time is too large.",
        "0002-00000504",
    ),
    # custom-domain gateway (chosen: OSS answers an unknown Host with this code)
    "NoSuchCnameInRecord": ErrorSpec(
        404, "The requested domain is not bound to any bucket.", ""
    ),
    "InternalError": ErrorSpec(
        500, "We encountered an internal error. Please try again.", ""
    ),
    # chosen (issue 8): the server's own storage or database fails; OSS publishes no code for
    # a full disk, so 507 as WebDAV's Insufficient Storage; ServiceUnavailable is OSS's 503
    "InsufficientStorage": ErrorSpec(
        507, "The server's storage is full: the request was not stored. "
        "Try again once space has been freed.", ""
    ),
    "ServiceUnavailable": ErrorSpec(
        503, "The server's database is unavailable. Please try again later.", ""
    ),
}


class OssError(Exception):
    """An error as OSS reports it: a code, a message and the optional fields of ``<Error>``.

    ``details`` holds extra ``<Error>`` children in order (``Bucket``, ``Cname``, ``CnameType``,
    ``StringToSign`` ...). Secrets must never be put into ``message`` or ``details``.
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        ec: str | None = None,
        request_id: str = "",
        host_id: str = "",
        details: Mapping[str, str] | None = None,
    ) -> None:
        spec = CATALOG.get(code)
        self.code = code
        self.message = message if message is not None else (spec.message if spec else "")
        self.status = status if status is not None else (spec.status if spec else 500)
        self.ec = ec if ec is not None else (spec.ec if spec else "")
        self.request_id = request_id
        self.host_id = host_id
        self.details: dict[str, str] = dict(details or {})
        self.reason = ""  # diagnostic for logs only; never sent on the wire
        super().__init__(f"{self.code}: {self.message}")

    @classmethod
    def from_code(cls, code: str, message: str | None = None, *, ec: str | None = None,
                  **details: str) -> OssError:
        """Build a catalog error; keyword arguments become extra ``<Error>`` children."""
        if code not in CATALOG:
            raise KeyError(f"unknown OSS error code {code!r}")
        return cls(code, message, ec=ec, details=details)

    def __repr__(self) -> str:
        return f"OssError(code={self.code!r}, status={self.status}, message={self.message!r})"
