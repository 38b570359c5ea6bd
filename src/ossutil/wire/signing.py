"""OSS request signatures V1 (HMAC-SHA1), V2 (OSS2, HMAC-SHA256; signing only) and V4
(OSS4-HMAC-SHA256), for signing and verifying.

One small function per spec step (reference §12 and §13), so a client signs with exactly the code
a server verifies with. Pure: the caller supplies the timestamp text.

V1::

    StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Date \\n CanonicalizedOSSHeaders
                   CanonicalizedResource

V4::

    CanonicalRequest = VERB \\n CanonicalURI \\n CanonicalQuery \\n CanonicalHeaders \\n
                       AdditionalHeaders \\n HashedPayload
    StringToSign     = "OSS4-HMAC-SHA256" \\n timestamp \\n scope \\n hex(sha256(CanonicalRequest))
"""

from __future__ import annotations

import binascii
import sys

# No ``dataclasses``/``typing``/``collections`` here: this module is on the CLI's start-up path,
# where importing them costs more than all of signing; the two record classes below are written
# out by hand.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from ossutil.wire.errors import OssError

V4_ALGORITHM = "OSS4-HMAC-SHA256"
V4_TERMINATOR = "aliyun_v4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Query parameters V1 signs (oss2's ``Auth._subresource_key_set``; reference §12 step 3).
SUBRESOURCES: frozenset[str] = frozenset("""
accessPoint accessPointPolicy acl append asyncFetch bucketArchiveDirectRead bucketInfo callback
callback-var cname comp continuation-token cors delete encryption endTime group httpsConfig
inventory inventoryId lifecycle link live location logging metaQuery objectInfo objectMeta
partNumber policy position publicAccessBlock qos qosInfo qosRequester redundancyTransition referer
regionList replication replicationLocation replicationProgress requestPayment requesterQosInfo
resourceGroup resourcePool resourcePoolBuckets resourcePoolInfo response-cache-control
response-content-disposition response-content-encoding response-content-language
response-content-type response-expires restore security-token sequential startTime stat status
style styleName symlink tagging transferAcceleration uploadId uploads versionId versioning versions
vod website worm wormExtend wormId x-oss-ac-forward-allow x-oss-ac-source-ip x-oss-ac-subnet-mask
x-oss-ac-vpc-id x-oss-access-point-name x-oss-async-process x-oss-process
x-oss-redundancy-transition-taskid x-oss-request-payer x-oss-target-redundancy-type
x-oss-traffic-limit x-oss-write-get-object-response
""".split())

# alibabacloud-oss-v2 signs a smaller fixed set (its SignerV1 list) plus the sub-resources each
# operation declares; a verifier also tries that convention (see ``v1_candidate_sets``).
SUBRESOURCES_V2_BASE: frozenset[str] = frozenset("""
acl append bucketInfo callback callback-var cloudboxes continuation-token delete location
objectMeta partNumber position regionList resourceGroup response-cache-control
response-content-disposition response-content-encoding response-content-language
response-content-type response-expires restore security-token sequential stat symlink tagging
uploadId uploads versionId versioning versions
""".split())

# Sub-resources that do not choose the operation (they tune it, or carry credentials). Every
# other one selects what a request does, so a V1 signature must cover it whatever the SDK's
# convention: otherwise a captured ``GET /bucket/`` would verify for ``GET /bucket/?cname``.
PLAIN_PARAMETERS: frozenset[str] = frozenset("""
callback callback-var continuation-token security-token x-oss-traffic-limit x-oss-request-payer
x-oss-ac-forward-allow x-oss-ac-source-ip x-oss-ac-subnet-mask x-oss-ac-vpc-id
x-oss-access-point-name response-cache-control response-content-disposition
response-content-encoding response-content-language response-content-type response-expires
""".split())
OPERATION_SUBRESOURCES: frozenset[str] = SUBRESOURCES - PLAIN_PARAMETERS

# Query-string (presigned URL) signatures: the parameters that carry them.
V1_QUERY_AUTH = ("OSSAccessKeyId", "Expires", "Signature")
V4_QUERY_AUTH = ("x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires",
                 "x-oss-signature")
V4_MAX_EXPIRES = 7 * 24 * 3600  # OSS accepts presigned V4 URLs valid for at most 7 days


class _Frozen:
    """Immutable record with value equality (what ``@dataclass(frozen=True)`` gave)."""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__name__}({parts})"


class SigningRequest(_Frozen):
    """What both schemes sign. ``headers`` keys must be lower-case; ``query`` is decoded pairs."""

    __slots__ = ("method", "bucket", "key", "query", "headers")
    method: str
    bucket: str
    key: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]

    def __init__(self, method: str, bucket: str = "", key: str = "",
                 query: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        for name, value in (("method", method), ("bucket", bucket), ("key", key),
                            ("query", query), ("headers", {} if headers is None else headers)):
            object.__setattr__(self, name, value)


# --- V1 -----------------------------------------------------------------------------------


def v1_canonical_headers(headers: Mapping[str, str]) -> str:
    """Every ``x-oss-*`` header as ``name:value\\n``, sorted by name."""
    pairs = sorted((name, value) for name, value in headers.items() if name.startswith("x-oss-"))
    return "".join(f"{name}:{value}\n" for name, value in pairs)


def v1_canonical_resource(request: SigningRequest,
                          subresources: frozenset[str] = SUBRESOURCES) -> str:
    """``/bucket/key`` then ``?`` + the sub-resources, sorted, decoded, bare when valueless."""
    resource = f"/{request.bucket}/{request.key}" if request.bucket else "/"
    signed = sorted((k, v) for k, v in request.query if k in subresources)
    if not signed:
        return resource
    return resource + "?" + "&".join(f"{k}={v}" if v else k for k, v in signed)


def v1_string_to_sign(request: SigningRequest,
                      subresources: frozenset[str] = SUBRESOURCES, date: str | None = None) -> str:
    """``date`` replaces the request's date line: a presigned URL signs its ``Expires`` there."""
    headers = request.headers
    if date is None:
        date = headers.get("x-oss-date") or headers.get("date", "")
    return "\n".join([
        request.method.upper(),
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        date,
        "",
    ]) + v1_canonical_headers(headers) + v1_canonical_resource(request, subresources)


# --- hashing without loading OpenSSL ------------------------------------------------------------
# ``hashlib``/``hmac`` load OpenSSL's libcrypto (~4 ms, a tenth of an ossutil call); signing
# hashes a few hundred bytes, for which CPython's built-in SHA modules are as good. HMAC is
# RFC 2104 over them (property-tested equal to ``hmac``); without the built-ins (a Python
# built without them), hashlib.

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_HASHES: dict[str, Callable[..., Any]] = {}


def _hash(name: str) -> Callable[..., Any]:
    """``sha1`` or ``sha256``: a constructor like ``hashlib.<name>``."""
    new = _HASHES.get(name)
    if new is None:
        modules = {"sha1": ("_sha1",), "sha256": ("_sha2", "_sha256")}[name]
        for module in modules:
            try:
                new = getattr(__import__(module), name)
                break
            except (ImportError, AttributeError):
                continue
        else:
            import hashlib

            new = getattr(hashlib, name)
        _HASHES[name] = new
    return new


def _mac(key: bytes, message: bytes, name: str) -> bytes:
    """HMAC-SHA-1 or -SHA-256 of ``message``. When ``hmac`` is loaded already (the server
    loads it; the CLI does not, to start light) its one-call C ``hmac.digest`` computes it, a
    fraction of the cost of the two hash objects ``_hmac`` builds; the bytes are the same."""
    native = sys.modules.get("hmac")
    if native is not None:
        return bytes(native.digest(key, message, name))
    return bytes(_hmac(key, message, name).digest())


def _hmac(key: bytes, message: bytes, name: str) -> Any:
    """HMAC (RFC 2104) with SHA-1 or SHA-256 (both 64-byte blocks); returns the outer hash."""
    new = _hash(name)
    if len(key) > 64:
        key = new(key).digest()
    key = key.ljust(64, b"\0")
    inner = new(key.translate(_IPAD))
    inner.update(message)
    outer = new(key.translate(_OPAD))
    outer.update(inner.digest())
    return outer


def wire_bytes(text: str) -> bytes:
    """The bytes a client sent for ``text``: UTF-8, and a header byte that is not UTF-8 (which
    the HTTP layer hands over as a lone surrogate, ``surrogateescape``) as that byte again, so
    the signature is checked over what was signed and never fails to encode."""
    return text.encode("utf-8", "surrogateescape")


def v1_signature(secret: str, string_to_sign: str) -> str:
    digest = _mac(secret.encode(), wire_bytes(string_to_sign), "sha1")
    return binascii.b2a_base64(digest, newline=False).decode()


def v1_authorization(access_key_id: str, secret: str, request: SigningRequest) -> str:
    """The ``Authorization`` header value for ``request`` (its ``date`` header must be set)."""
    return f"OSS {access_key_id}:{v1_signature(secret, v1_string_to_sign(request))}"


def parse_v1_authorization(value: str) -> tuple[str, str]:
    """``OSS <ak>:<signature>`` -> (ak, signature); InvalidArgument when malformed."""
    if not value.startswith("OSS "):
        raise _bad_authorization()
    ak, sep, signature = value[4:].strip().rpartition(":")
    if not sep or not ak or not signature:
        raise _bad_authorization()
    return ak, signature


def v1_candidate_sets(query: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """Sub-resource sets a verifier should try, most likely first: oss2's (``SUBRESOURCES``),
    the Go SDK's (ossutil 1.7's), alibabacloud-oss-v2's. Each is widened by every
    operation-selecting sub-resource the request carries, so none lets a signature made for one
    operation verify for another; they differ only in the plain parameters they sign. Sets that
    pick the same parameters of this query are tried once."""
    names = {k for k, _ in query}
    selecting = names & OPERATION_SUBRESOURCES
    candidates: list[frozenset[str]] = []
    seen: list[set[str]] = []
    for base in (SUBRESOURCES, GO_SUBRESOURCES | selecting, SUBRESOURCES_V2_BASE | selecting):
        picked = names & base
        if picked not in seen:
            seen.append(picked)
            candidates.append(base)
    return candidates


# --- V4 -----------------------------------------------------------------------------------


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_ENCODE_TABLES: dict[str, list[str]] = {}


def _uri_encode(value: str, safe: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 (``urllib.parse.quote(value, safe)``, without
    importing ``urllib.parse`` on the CLI's start-up path): unreserved and ``safe`` characters
    stay, every other byte is ``%XX`` in upper-case hex."""
    table = _ENCODE_TABLES.get(safe)
    if table is None:
        keep = _UNRESERVED | frozenset(safe.encode("ascii"))
        table = [chr(b) if b in keep else f"%{b:02X}" for b in range(256)]
        _ENCODE_TABLES[safe] = table
    return "".join([table[b] for b in value.encode("utf-8")])


def v4_canonical_uri(request: SigningRequest) -> str:
    """URI-encode ``/bucket/key`` keeping ``/`` (reference §13 step 1)."""
    path = f"/{request.bucket}/{request.key}" if request.bucket else "/"
    return _uri_encode(path, "/-_.~")


def v4_canonical_query(query: Iterable[tuple[str, str]]) -> str:
    """All query parameters, encoded (``/`` too), sorted, bare name when the value is empty."""
    encoded = sorted((_uri_encode(k, "-_.~"), _uri_encode(v, "-_.~")) for k, v in query)
    return "&".join(f"{k}={v}" if v else k for k, v in encoded)


def _is_v4_signed_header(name: str, additional: Iterable[str]) -> bool:
    return (name in ("content-type", "content-md5") or name.startswith("x-oss-")
            or name in additional)


def v4_canonical_headers(headers: Mapping[str, str], additional: Sequence[str]) -> str:
    pairs = sorted((name, value.strip()) for name, value in headers.items()
                   if _is_v4_signed_header(name, additional))
    return "".join(f"{name}:{value}\n" for name, value in pairs)


def v4_canonical_request(request: SigningRequest, additional: Sequence[str] = ()) -> str:
    additional = sorted(h.lower() for h in additional)
    payload = request.headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD)
    return "\n".join([
        request.method.upper(),
        v4_canonical_uri(request),
        v4_canonical_query(request.query),
        v4_canonical_headers(request.headers, additional),
        ";".join(additional),
        payload,
    ])


def v4_scope(date: str, region: str, product: str = "oss") -> str:
    return f"{date}/{region}/{product}/{V4_TERMINATOR}"


def v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    digest = _hash("sha256")(wire_bytes(canonical_request)).hexdigest()
    return f"{V4_ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, product, V4_TERMINATOR):
        key = _mac(key, part.encode(), "sha256")
    return key


def v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    return _mac(signing_key, wire_bytes(string_to_sign), "sha256").hex()


def v4_timestamp_of(headers: Mapping[str, str]) -> str:
    """The V4 timestamp text: ``x-oss-date``, else the ``Date`` header verbatim (Go SDK)."""
    return headers.get("x-oss-date") or headers.get("date", "")


def v4_authorization(access_key_id: str, secret: str, request: SigningRequest, *,
                     region: str, date: str, product: str = "oss",
                     additional: Sequence[str] = ()) -> str:
    """``Authorization`` for ``request``; ``date`` is the scope day ``yyyymmdd``."""
    scope = v4_scope(date, region, product)
    string_to_sign = v4_string_to_sign(v4_timestamp_of(request.headers), scope,
                                       v4_canonical_request(request, additional))
    signature = v4_signature(v4_signing_key(secret, date, region, product), string_to_sign)
    head = f"{V4_ALGORITHM} Credential={access_key_id}/{scope}"
    if additional:
        head += ",AdditionalHeaders=" + ";".join(sorted(h.lower() for h in additional))
    return f"{head},Signature={signature}"


class V4Authorization(_Frozen):
    """A parsed V4 ``Authorization`` header."""

    __slots__ = ("access_key_id", "date", "region", "product", "additional_headers", "signature")
    access_key_id: str
    date: str
    region: str
    product: str
    additional_headers: tuple[str, ...]
    signature: str

    def __init__(self, access_key_id: str, date: str, region: str, product: str,
                 additional_headers: tuple[str, ...], signature: str) -> None:
        for name, value in zip(self.__slots__, (access_key_id, date, region, product,
                                                additional_headers, signature), strict=True):
            object.__setattr__(self, name, value)

    @property
    def scope(self) -> str:
        return v4_scope(self.date, self.region, self.product)


def parse_v4_authorization(value: str) -> V4Authorization:
    """Accept ``,`` or ``, `` separators and any field order (oss2 and v2 differ)."""
    if not value.startswith(V4_ALGORITHM + " "):
        raise _bad_authorization()
    fields: dict[str, str] = {}
    for part in value[len(V4_ALGORITHM) + 1:].split(","):
        name, sep, item = part.strip().partition("=")
        if not sep:
            raise _bad_authorization()
        fields[name] = item
    credential = fields.get("Credential", "")
    signature = fields.get("Signature", "")
    pieces = credential.split("/")
    if (len(pieces) != 5 or not pieces[0] or pieces[4] != V4_TERMINATOR or not signature
            or len(pieces[1]) != 8 or not pieces[1].isdigit()):
        raise _bad_authorization()
    additional: tuple[str, ...] = ()
    if "AdditionalHeaders" in fields:
        if not fields["AdditionalHeaders"]:
            raise _bad_authorization("AdditionalHeaders must not be empty.", "0002-00000209")
        additional = tuple(h.strip().lower() for h in fields["AdditionalHeaders"].split(";"))
    return V4Authorization(pieces[0], pieces[1], pieces[2], pieces[3], additional, signature)


def _bad_authorization(message: str = "Authorization header is invalid.",
                       ec: str = "0002-00000001") -> OssError:
    from ossutil.wire.errors import OssError

    return OssError.from_code("InvalidArgument", message, ec=ec)


def content_md5(body: bytes) -> str:
    """Base64 MD5, the ``Content-MD5`` header value."""
    import hashlib  # OpenSSL's MD5: bodies can be large

    return binascii.b2a_base64(hashlib.md5(body).digest(), newline=False).decode()


# --- query-string signatures (presigned URLs) -------------------------------------------------
# Pure functions for ``OssClient.presign`` and ``ossutil sign``, and for a verifier: called with
# the URL's own values (its ``Expires`` text, its ``x-oss-date`` ...), they recompute what the
# signer computed. Pinned by tests/wire/test_presign_vectors.py against oss2 and
# alibabacloud-oss-v2, and by the differential tests against ossutil 1.7.19.

# The query parameters the Go SDK v3.0.2 signs in V1 (its ``signKeyList``), which ossutil 1.7.19
# is built on: it adds ``img``, ``rtc``, ``cloudboxes``, ``responseHeader``, the hash-context
# names ... to oss2's list, and lacks a few of oss2's (``accessPoint``,
# ``x-oss-write-get-object-response`` ...). Checked against the binary's ``sign`` output.
GO_SUBRESOURCES: frozenset[str] = frozenset("""
acl uploads location cors logging website referer lifecycle delete append tagging objectMeta
uploadId partNumber security-token position img style styleName replication replicationProgress
replicationLocation cname bucketInfo comp qos live status vod startTime endTime symlink
x-oss-process response-content-type x-oss-traffic-limit response-content-language
response-expires response-cache-control response-content-disposition response-content-encoding
udf udfName udfImage udfId udfImageDesc udfApplication udfApplicationLog restore callback
callback-var qosInfo policy stat encryption versions versioning versionId requestPayment
x-oss-request-payer sequential inventory inventoryId continuation-token asyncFetch worm wormId
wormExtend withHashContext x-oss-enable-md5 x-oss-enable-sha1 x-oss-enable-sha256 x-oss-hash-ctx
x-oss-md5-ctx transferAcceleration regionList cloudboxes x-oss-ac-source-ip x-oss-ac-subnet-mask
x-oss-ac-vpc-id x-oss-ac-forward-allow metaQuery resourceGroup rtc x-oss-async-process
responseHeader
""".split())


def _without(query: Iterable[tuple[str, str]], names: Iterable[str]) -> list[tuple[str, str]]:
    """``query`` minus the parameters a signer sets (the SDKs overwrite same-named ones)."""
    dropped = frozenset(names)
    return [(k, v) for k, v in query if k not in dropped]


def v1_presign_string_to_sign(request: SigningRequest, expires: str,
                              subresources: frozenset[str] = SUBRESOURCES) -> str:
    """V1 string to sign of a query-signed request: the ``Expires`` text (Unix seconds, as it
    appears in the URL) takes the Date line. ``request.query`` is the URL's decoded query;
    ``OSSAccessKeyId``, ``Expires`` and ``Signature`` are not sub-resources, so they may stay in
    it. ``request.headers`` are the ones the request carries (``content-type``, ``content-md5``,
    ``x-oss-*`` are signed, as in a header signature)."""
    return v1_string_to_sign(request, subresources, date=expires)


def v1_presign_query(access_key_id: str, secret: str, request: SigningRequest, expires: str, *,
                     security_token: str | None = None,
                     subresources: frozenset[str] = SUBRESOURCES) -> list[tuple[str, str]]:
    """The whole (decoded) query of a V1 presigned URL: ``request.query``, then
    ``security-token`` (when given; signed, it is a sub-resource), ``Expires``,
    ``OSSAccessKeyId`` and ``Signature``. ``expires`` is the absolute Unix time as text."""
    names = ["Expires", "OSSAccessKeyId", "Signature"] + (["security-token"] if security_token
                                                          else [])
    query = _without(request.query, names)
    if security_token:
        query.append(("security-token", security_token))
    signed = SigningRequest(request.method, request.bucket, request.key, query, request.headers)
    signature = v1_signature(secret, v1_presign_string_to_sign(signed, expires, subresources))
    return query + [("Expires", expires), ("OSSAccessKeyId", access_key_id),
                    ("Signature", signature)]


def v4_presign_canonical_request(request: SigningRequest, additional: Sequence[str] = ()) -> str:
    """V4 canonical request of a query-signed request: every query parameter but
    ``x-oss-signature`` (so ``x-oss-signature-version``, ``x-oss-credential``, ``x-oss-date``,
    ``x-oss-expires`` and ``x-oss-additional-headers`` are signed), the carried headers as in a
    header signature, and the payload as there (``UNSIGNED-PAYLOAD`` unless the request carries
    ``x-oss-content-sha256``, as oss2 and oss-v2 sign)."""
    unsigned = SigningRequest(request.method, request.bucket, request.key,
                              _without(request.query, ("x-oss-signature",)), request.headers)
    return v4_canonical_request(unsigned, additional)


def v4_presign_string_to_sign(request: SigningRequest, *, timestamp: str, scope: str,
                              additional: Sequence[str] = ()) -> str:
    """``timestamp`` is the URL's ``x-oss-date`` (``yyyymmddTHHMMSSZ``); ``scope`` comes from
    ``x-oss-credential`` minus its AccessKeyId (``v4_scope(day, region, product)``)."""
    return v4_string_to_sign(timestamp, scope, v4_presign_canonical_request(request, additional))


def v4_presign_query(access_key_id: str, secret: str, request: SigningRequest, *, region: str,
                     timestamp: str, expires: int | str, product: str = "oss",
                     additional: Sequence[str] = (),
                     security_token: str | None = None) -> list[tuple[str, str]]:
    """The whole (decoded) query of a V4 presigned URL: ``request.query``, then
    ``x-oss-security-token`` (when given), ``x-oss-signature-version``, ``x-oss-credential``,
    ``x-oss-date`` (= ``timestamp``), ``x-oss-expires`` (seconds from ``timestamp``),
    ``x-oss-additional-headers`` (when ``additional`` names headers the request will carry),
    and last ``x-oss-signature``. The scope day is ``timestamp[:8]``."""
    names = ["x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires",
             "x-oss-signature", "x-oss-additional-headers"]
    if security_token:
        names.append("x-oss-security-token")
    query = _without(request.query, names)
    if security_token:
        query.append(("x-oss-security-token", security_token))
    scope = v4_scope(timestamp[:8], region, product)
    query += [("x-oss-signature-version", V4_ALGORITHM),
              ("x-oss-credential", f"{access_key_id}/{scope}"), ("x-oss-date", timestamp),
              ("x-oss-expires", str(expires))]
    headers = sorted(h.lower() for h in additional)
    if headers:
        query.append(("x-oss-additional-headers", ";".join(headers)))
    signed = SigningRequest(request.method, request.bucket, request.key, query, request.headers)
    string_to_sign = v4_presign_string_to_sign(signed, timestamp=timestamp, scope=scope,
                                               additional=headers)
    key = v4_signing_key(secret, timestamp[:8], region, product)
    return query + [("x-oss-signature", v4_signature(key, string_to_sign))]


def _go_query_escape_name(value: str) -> str:
    """Go's ``url.QueryEscape``: as ``_uri_encode`` but a space is ``+``."""
    return _uri_encode(value, "-_.~").replace("%20", "+")


def v2_presign_string_to_sign(request: SigningRequest, expires: str) -> str:
    """OSS2 (the Go SDK's V2) string to sign of a query-signed request: ``v2_string_to_sign``
    with the ``Expires`` text on the Date line and every query parameter but
    ``x-oss-signature`` signed."""
    unsigned = SigningRequest(request.method, request.bucket, request.key,
                              _without(request.query, ("x-oss-signature",)), request.headers)
    return v2_string_to_sign(unsigned, date=expires)


def v2_presign_query(access_key_id: str, secret: str, request: SigningRequest, expires: str, *,
                     security_token: str | None = None) -> list[tuple[str, str]]:
    """The whole (decoded) query of an OSS2 presigned URL (``ossutil sign --sign-version v2``):
    ``request.query``, ``security-token``, ``x-oss-signature-version=OSS2``, ``x-oss-expires``
    (absolute Unix time), ``x-oss-access-key-id``, then ``x-oss-signature`` (base64
    HMAC-SHA256)."""
    names = ["x-oss-signature-version", "x-oss-expires", "x-oss-access-key-id",
             "x-oss-signature"] + (["security-token"] if security_token else [])
    query = _without(request.query, names)
    if security_token:
        query.append(("security-token", security_token))
    query += [("x-oss-signature-version", "OSS2"), ("x-oss-expires", expires),
              ("x-oss-access-key-id", access_key_id)]
    signed = SigningRequest(request.method, request.bucket, request.key, query, request.headers)
    return query + [("x-oss-signature",
                     v2_signature(secret, v2_presign_string_to_sign(signed, expires)))]


# --- V2 (OSS2) header signatures ----------------------------------------------------------------
# Pinned by tests/wire/test_v2_signing.py against oss2's ``AuthV2``. The server verifies V1 and V4
# only (an ``OSS2`` Authorization is 400 InvalidArgument); the client signs V2 on request
# (``--sign-version v2``), as ossutil 1.7 does.


def v2_canonical_resource(request: SigningRequest) -> str:
    """``/bucket/key`` escaped whole (slashes too: ``%2Fbucket%2Fdir%2Fk``; ``%2F`` without a
    bucket), then ``?`` + every query parameter, escaped (names as Go's ``QueryEscape``: a
    space is ``+``; values ``%20``), sorted, bare when valueless (the Go SDK's ``getResource``
    and ``getSubResource`` for AuthV2; oss2's ``v2_uri_encode``)."""
    params = sorted((_go_query_escape_name(k), _uri_encode(v, "-_.~")) for k, v in request.query)
    sub = "&".join(f"{k}={v}" if v else k for k, v in params)
    resource = (_uri_encode(f"/{request.bucket}/", "-_.~") + _uri_encode(request.key, "-_.~")
                if request.bucket else "%2F")
    return resource + "?" + sub if sub else resource


def v2_string_to_sign(request: SigningRequest, date: str | None = None) -> str:
    """V1's layout with the additional-headers line (always empty: no additional headers are
    signed) before the resource::

        VERB \\n Content-MD5 \\n Content-Type \\n Date \\n CanonicalizedOSSHeaders
        AdditionalHeaders \\n CanonicalizedResource

    ``date`` replaces the ``Date`` header's text (a presigned URL signs its ``Expires``)."""
    headers = request.headers
    if date is None:
        date = headers.get("date", "")
    return "\n".join([request.method.upper(), headers.get("content-md5", ""),
                      headers.get("content-type", ""), date, ""]) + \
        v1_canonical_headers(headers) + "\n" + v2_canonical_resource(request)


def v2_signature(secret: str, string_to_sign: str) -> str:
    """base64 of HMAC-SHA256."""
    digest = _mac(secret.encode(), wire_bytes(string_to_sign), "sha256")
    return binascii.b2a_base64(digest, newline=False).decode()


def v2_authorization(access_key_id: str, secret: str, request: SigningRequest) -> str:
    """``OSS2 AccessKeyId:<ak>,Signature:<signature>`` (its ``date`` header must be set)."""
    return (f"OSS2 AccessKeyId:{access_key_id},"
            f"Signature:{v2_signature(secret, v2_string_to_sign(request))}")
