"""One request as the handlers see it, and what they may reach through it.

``Call.services`` is a narrow view of the composed services (``CallServices``): the settings,
the bucket service and the CNAME service. Object and multipart handlers are bound to their own
services when the composition root (``server/app.py``) builds the handler table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from ossutil.server.auth.authorize import authorize
from ossutil.server.auth.keyring import Principal
from ossutil.server.buckets.service import BucketService
from ossutil.server.cname.service import CnameService
from ossutil.server.http.router import Target
from ossutil.server.models import Bucket
from ossutil.server.operations import Operation
from ossutil.server.settings import Settings
from ossutil.wire.errors import OssError


class CallServices(Protocol):
    """What a handler may use besides its own bound service."""

    @property
    def settings(self) -> Settings: ...
    @property
    def buckets(self) -> BucketService: ...
    @property
    def cnames(self) -> CnameService: ...


Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass
class Call:
    """One request as the handlers see it: already authenticated and authorized."""

    services: CallServices
    request: web.BaseRequest
    target: Target
    query: dict[str, str]
    operation: Operation
    principal: Principal | None
    bucket: Bucket | None
    headers: dict[str, str] = field(default_factory=dict)  # the one view: lower-case, single
    body: bytes = b""
    request_id: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)

    def require_bucket(self) -> Bucket:
        if self.bucket is None:
            raise OssError.from_code("NoSuchBucket", BucketName=self.target.bucket)
        return self.bucket

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise OssError.from_code("AccessDenied", "Anonymous access is not allowed here.")
        return self.principal

    def authorize(self, operation: Operation, bucket_name: str, bucket: Bucket | None,
                  key: str) -> None:
        """Authorize this request's principal for one more resource than its own target (a
        CopyObject source, each key of DeleteMultipleObjects), as the pipeline does."""
        authorize(self.principal, operation, region=self.services.settings.region,
                  bucket_name=bucket_name, bucket=bucket, key=key,
                  context=request_context(self.request))



def request_context(request: web.BaseRequest) -> dict[str, str]:
    """Values RAM policy conditions may test."""
    return {"acs:SourceIp": request.remote or "",
            "acs:SecureTransport": "true" if request.secure else "false"}


