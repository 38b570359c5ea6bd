"""Authenticate a request by recomputing its V1 or V4 signature with ``wire.signing``.

Order of checks (reference §12 step 4, §13): header syntax (InvalidArgument) -> AccessKeyId
(InvalidAccessKeyId) -> request time (AccessDenied when missing, RequestTimeTooSkewed beyond 15
minutes) -> V4 scope -> signature (SignatureDoesNotMatch, compared in constant time). The
``SignatureDoesNotMatch`` body echoes the string to sign (never the secret), as OSS does.

A signature travels in the ``Authorization`` header or in the query (a presigned URL: V1's
``OSSAccessKeyId``/``Expires``/``Signature``, V4's ``x-oss-signature-version``/``x-oss-credential``/
``x-oss-date``/``x-oss-expires``/``x-oss-signature``). A request that carries any part of a query
signature is authenticated by it or refused: it is never served as anonymous, so a forged or
expired URL is refused even on a public-read bucket.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ossutil.server.auth.keyring import KeyRing, Principal
from ossutil.wire import dates, signing
from ossutil.wire.errors import OssError

MAX_SKEW = timedelta(minutes=15)
# Query parameters whose presence means "this URL is presigned" (V1, then V4 and V2).
_V1_QUERY = frozenset(signing.V1_QUERY_AUTH)
_V4_QUERY = frozenset({"x-oss-signature-version", "x-oss-credential", "x-oss-signature",
                       "x-oss-access-key-id"})
_MAX_EXPIRES_DIGITS = 12  # an epoch second or a duration; longer is not a number we accept


@dataclass(frozen=True)
class Credentials:
    """What the request presented (parsed ``Authorization``)."""

    scheme: str  # "v1" or "v4"
    access_key_id: str


def _skew_check(moment: datetime, now: datetime) -> None:
    if abs(now - moment) > MAX_SKEW:
        raise OssError.from_code("RequestTimeTooSkewed", RequestTime=dates.rfc1123(moment),
                                 ServerTime=dates.rfc1123(now))


def _mismatch(access_key_id: str, provided: str, string_to_sign: str, ec: str) -> OssError:
    return OssError.from_code(
        "SignatureDoesNotMatch", ec=ec,
        OSSAccessKeyId=access_key_id,
        SignatureProvided=provided,
        StringToSign=string_to_sign,
        StringToSignBytes=" ".join(f"{b:02X}" for b in signing.wire_bytes(string_to_sign)))


class SignatureVerifier:
    """Turns a request's ``Authorization`` into a ``Principal`` (None = anonymous)."""

    def __init__(self, keyring: KeyRing, region: str, clock: Callable[[], datetime]) -> None:
        self._keyring = keyring
        self._region = region
        self._clock = clock

    @property
    def keys_version(self) -> int:
        """The keyring's version: a verification made under one version holds while it does."""
        return self._keyring.version

    def now(self) -> float:
        """The verifier's clock as an epoch second (compare with ``authenticate_until``)."""
        return self._clock().timestamp()

    def authenticate(self, request: signing.SigningRequest) -> Principal | None:
        return self.authenticate_until(request)[0]

    def authenticate_until(self, request: signing.SigningRequest,
                           ) -> tuple[Principal | None, float]:
        """The principal, and the epoch second until which the same request (the same bytes)
        verifies the same way while ``keys_version`` holds: its signature stays valid until
        its date leaves the allowed skew or the presigned URL expires. Anonymous: forever."""
        authorization = request.headers.get("authorization", "")
        names = {name for name, _ in request.query}
        in_query = names & (_V1_QUERY | _V4_QUERY)
        if in_query:
            if authorization:
                raise OssError.from_code(
                    "InvalidArgument", "Only one authentication method may be used: the "
                    "request has both an Authorization header and a query signature.")
            if in_query & _V1_QUERY:
                return self._v1_query(request)
            return self._v4_query(request)
        if not authorization:
            return None, float("inf")
        if authorization.startswith(signing.V4_ALGORITHM + " "):
            return self._v4(request, authorization)
        if authorization.startswith("OSS "):
            return self._v1(request, authorization)
        raise OssError.from_code("InvalidArgument", "Authorization header is invalid.",
                                 ec="0002-00000001")

    def _principal(self, access_key_id: str) -> tuple[Principal, str]:
        found = self._keyring.lookup(access_key_id)
        if found is None:
            raise OssError.from_code("InvalidAccessKeyId", OSSAccessKeyId=access_key_id)
        return found

    def _v1(self, request: signing.SigningRequest, authorization: str,
            ) -> tuple[Principal, float]:
        access_key_id, provided = signing.parse_v1_authorization(authorization)
        principal, secret = self._principal(access_key_id)
        date_text = request.headers.get("x-oss-date") or request.headers.get("date", "")
        if not date_text:
            raise OssError.from_code("AccessDenied", "Missing Date header for authorization.")
        try:
            moment = dates.parse_rfc1123(date_text)
        except ValueError:
            raise OssError.from_code("AccessDenied", f"Invalid date: {date_text}") from None
        _skew_check(moment, self._clock())
        return (self._v1_match(request, principal, secret, access_key_id, provided, None),
                (moment + MAX_SKEW).timestamp())

    def _v1_query(self, request: signing.SigningRequest) -> tuple[Principal, float]:
        """``?OSSAccessKeyId=..&Expires=<epoch seconds>&Signature=..``: the Date line of the
        string to sign is the ``Expires`` text."""
        query = _query_auth(request, signing.V1_QUERY_AUTH)
        access_key_id = query["OSSAccessKeyId"]
        expires_text = query["Expires"]
        # base64 never holds a space: one here is a "+" a hand-copied URL left unencoded
        provided = query["Signature"].replace(" ", "+")
        expires = _bounded_int(expires_text, "Expires")
        principal, secret = self._principal(access_key_id)
        now = self._clock()
        if now.timestamp() > expires:
            raise _expired(_from_epoch(expires), now)
        return (self._v1_match(request, principal, secret, access_key_id, provided,
                               expires_text), float(expires))

    def _v1_match(self, request: signing.SigningRequest, principal: Principal, secret: str,
                  access_key_id: str, provided: str, date: str | None) -> Principal:
        first = ""
        for subresources in signing.v1_candidate_sets(request.query):
            string_to_sign = signing.v1_string_to_sign(request, subresources, date)
            first = first or string_to_sign
            expected = signing.v1_signature(secret, string_to_sign)
            if hmac.compare_digest(expected.encode(), signing.wire_bytes(provided)):
                return principal
        raise _mismatch(access_key_id, provided, first, "0002-00000040")

    def _v4_query(self, request: signing.SigningRequest) -> tuple[Principal, float]:
        """``?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=..&x-oss-date=..
        &x-oss-expires=<seconds>&x-oss-signature=..``: the canonical query is every parameter
        but ``x-oss-signature``; the payload is unsigned unless a header says otherwise."""
        version = dict(request.query).get("x-oss-signature-version", "")
        if version != signing.V4_ALGORITHM:
            raise OssError.from_code(
                "InvalidArgument", "Unsupported x-oss-signature-version "
                f"{version!r}: this server accepts {signing.V4_ALGORITHM} query signatures.")
        query = _query_auth(request, signing.V4_QUERY_AUTH)
        parsed = signing.parse_v4_authorization(
            f"{signing.V4_ALGORITHM} Credential={query['x-oss-credential']},"
            f"Signature={query['x-oss-signature']}")
        additional_text = dict(request.query).get("x-oss-additional-headers")
        additional: tuple[str, ...] = ()
        if additional_text is not None:
            if not additional_text:
                raise OssError.from_code("InvalidArgument", "x-oss-additional-headers must not "
                                         "be empty.", ec="0002-00000209")
            additional = tuple(h.strip().lower() for h in additional_text.split(";"))
        principal, secret = self._principal(parsed.access_key_id)
        timestamp = query["x-oss-date"]
        try:
            moment = dates.parse_v4_timestamp(timestamp)
        except ValueError:
            raise OssError.from_code("AccessDenied", f"Invalid date: {timestamp}") from None
        lifetime = _bounded_int(query["x-oss-expires"], "x-oss-expires")
        if not 0 < lifetime <= signing.V4_MAX_EXPIRES:
            raise OssError.from_code(
                "InvalidArgument", f"x-oss-expires must be between 1 and "
                f"{signing.V4_MAX_EXPIRES} seconds.", ArgumentName="x-oss-expires",
                ArgumentValue=query["x-oss-expires"])
        now = self._clock()
        if moment - now > MAX_SKEW:
            _skew_check(moment, now)
        if now > moment + timedelta(seconds=lifetime):
            raise _expired(moment + timedelta(seconds=lifetime), now)
        self._check_scope(parsed, moment)
        unsigned = signing.SigningRequest(
            request.method, request.bucket, request.key,
            [(k, v) for k, v in request.query if k != "x-oss-signature"], request.headers)
        return (self._v4_match(unsigned, principal, secret, parsed, timestamp, additional),
                (moment + timedelta(seconds=lifetime)).timestamp())

    def _v4_match(self, request: signing.SigningRequest, principal: Principal, secret: str,
                  parsed: signing.V4Authorization, timestamp: str,
                  additional: tuple[str, ...]) -> Principal:
        string_to_sign = signing.v4_string_to_sign(
            timestamp, parsed.scope, signing.v4_canonical_request(request, additional))
        key = self._keyring.signing_key(secret, parsed.date, parsed.region)
        expected = signing.v4_signature(key, string_to_sign)
        if not hmac.compare_digest(expected.encode(), signing.wire_bytes(parsed.signature)):
            raise _mismatch(parsed.access_key_id, parsed.signature, string_to_sign,
                            "0002-00000201")
        return principal

    def _check_scope(self, parsed: signing.V4Authorization, moment: datetime) -> None:
        if parsed.date != moment.strftime("%Y%m%d"):
            raise OssError.from_code(
                "InvalidArgument", "The date in the credential scope does not match the "
                f"request date ({parsed.date} vs {moment.strftime('%Y%m%d')}).")
        if parsed.region != self._region or parsed.product != "oss":
            raise OssError.from_code(
                "InvalidArgument", f"Invalid credential scope {parsed.scope}: this server is "
                f"region {self._region}, product oss.")

    def _v4(self, request: signing.SigningRequest, authorization: str,
            ) -> tuple[Principal, float]:
        parsed = signing.parse_v4_authorization(authorization)
        principal, secret = self._principal(parsed.access_key_id)
        timestamp = signing.v4_timestamp_of(request.headers)
        if not timestamp:
            raise OssError.from_code("AccessDenied", "Missing x-oss-date or Date header.")
        try:
            if request.headers.get("x-oss-date"):
                moment = dates.parse_v4_timestamp(timestamp)
            else:
                moment = dates.parse_rfc1123(timestamp)
        except ValueError:
            raise OssError.from_code("AccessDenied", f"Invalid date: {timestamp}") from None
        _skew_check(moment, self._clock())
        self._check_scope(parsed, moment)
        return (self._v4_match(request, principal, secret, parsed, timestamp,
                               parsed.additional_headers), (moment + MAX_SKEW).timestamp())


def _query_auth(request: signing.SigningRequest, names: tuple[str, ...]) -> dict[str, str]:
    """The query-signature parameters, each present exactly once and non-empty."""
    found: dict[str, str] = {}
    for name, value in request.query:
        if name in names:
            if name in found:
                raise OssError.from_code("InvalidArgument",
                                         f"The query parameter {name} is given more than once.")
            found[name] = value
    for name in names:
        if not found.get(name):
            raise OssError.from_code(
                "AccessDenied", f"The query signature is incomplete: {name} is missing.")
    return found


def _bounded_int(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_EXPIRES_DIGITS:
        raise OssError.from_code("AccessDenied", f"{name} must be a number of seconds.")
    return int(text)


def _from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _expired(expires: datetime, now: datetime) -> OssError:
    return OssError.from_code("AccessDenied", "Request has expired.", ec="",
                              Expires=dates.iso8601_ms(expires), ServerTime=dates.iso8601_ms(now))
