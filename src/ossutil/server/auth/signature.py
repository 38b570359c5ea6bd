"""Authenticate a request by recomputing its V1 or V4 signature with ``wire.signing``.

Order of checks (reference §12 step 4, §13): header syntax (InvalidArgument) -> AccessKeyId
(InvalidAccessKeyId) -> request time (AccessDenied when missing, RequestTimeTooSkewed beyond 15
minutes) -> V4 scope -> signature (SignatureDoesNotMatch, compared in constant time). The
``SignatureDoesNotMatch`` body echoes the string to sign (never the secret), as OSS does.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ossutil.server.auth.keyring import KeyRing, Principal
from ossutil.wire import dates, signing
from ossutil.wire.errors import OssError

MAX_SKEW = timedelta(minutes=15)


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
        StringToSignBytes=" ".join(f"{b:02X}" for b in string_to_sign.encode()))


class SignatureVerifier:
    """Turns a request's ``Authorization`` into a ``Principal`` (None = anonymous)."""

    def __init__(self, keyring: KeyRing, region: str, clock: Callable[[], datetime]) -> None:
        self._keyring = keyring
        self._region = region
        self._clock = clock

    def authenticate(self, request: signing.SigningRequest) -> Principal | None:
        authorization = request.headers.get("authorization", "")
        if not authorization:
            return None
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

    def _v1(self, request: signing.SigningRequest, authorization: str) -> Principal:
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
        first = ""
        for subresources in signing.v1_candidate_sets(request.query):
            string_to_sign = signing.v1_string_to_sign(request, subresources)
            first = first or string_to_sign
            expected = signing.v1_signature(secret, string_to_sign)
            if hmac.compare_digest(expected.encode(), provided.encode()):
                return principal
        raise _mismatch(access_key_id, provided, first, "0002-00000040")

    def _v4(self, request: signing.SigningRequest, authorization: str) -> Principal:
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
        if parsed.date != moment.strftime("%Y%m%d"):
            raise OssError.from_code(
                "InvalidArgument", "The date in the credential scope does not match the "
                f"request date ({parsed.date} vs {moment.strftime('%Y%m%d')}).")
        if parsed.region != self._region or parsed.product != "oss":
            raise OssError.from_code(
                "InvalidArgument", f"Invalid credential scope {parsed.scope}: this server is "
                f"region {self._region}, product oss.")
        string_to_sign = signing.v4_string_to_sign(
            timestamp, parsed.scope,
            signing.v4_canonical_request(request, parsed.additional_headers))
        key = self._keyring.signing_key(secret, parsed.date, parsed.region)
        expected = signing.v4_signature(key, string_to_sign)
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            raise _mismatch(parsed.access_key_id, parsed.signature, string_to_sign,
                            "0002-00000201")
        return principal
