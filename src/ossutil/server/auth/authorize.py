"""Decide whether a principal may run an operation on a resource (reference §11).

Runs once per request, after authentication and before any handler, from the operation table.
Root keys may do everything on their own account's resources; RAM users only what their policy
allows (explicit Deny wins, no match is a denial); anonymous callers only what a bucket's ACL
grants to everyone.
"""

from __future__ import annotations

from collections.abc import Mapping

from ossutil.server.auth.keyring import Principal
from ossutil.server.auth.policy import Decision, resource_arn
from ossutil.server.models import Bucket, BucketAcl
from ossutil.server.operations import Level, Operation
from ossutil.wire.errors import OssError

_PUBLIC_READ_ACTIONS = frozenset({"oss:GetObject"})
# public-read-write lets anyone upload, multipart included: managing such an upload goes with it
_PUBLIC_WRITE_ACTIONS = frozenset({"oss:GetObject", "oss:PutObject", "oss:DeleteObject",
                                   "oss:AbortMultipartUpload", "oss:ListParts"})


def _acl_grants(bucket: Bucket | None, action: str) -> bool:
    if bucket is None:
        return False
    if bucket.acl is BucketAcl.PUBLIC_READ_WRITE:
        return action in _PUBLIC_WRITE_ACTIONS
    if bucket.acl is BucketAcl.PUBLIC_READ:
        return action in _PUBLIC_READ_ACTIONS
    return False


def _denied(message: str, *, explicit: bool, action: str, principal: Principal | None) -> OssError:
    details = {"AuthAction": action,
               "NoPermissionType": "ExplicitDeny" if explicit else "ImplicitDeny"}
    if principal is not None:
        details["AuthPrincipalType"] = "RamUser" if principal.user else "Account"
        details["AuthPrincipalDisplayName"] = principal.display_name
        details["AuthPrincipalOwnerId"] = principal.owner_id
    return OssError.from_code("AccessDenied", message,
                              ec="0003-00000201" if explicit else "0003-00000001",
                              **details)


def authorize(principal: Principal | None, operation: Operation, *, region: str,
              bucket_name: str, bucket: Bucket | None, key: str,
              context: Mapping[str, str] | None = None) -> None:
    """Raise AccessDenied unless allowed; ``context`` feeds policy conditions
    (``acs:SourceIp``, ``acs:SecureTransport``)."""
    action = operation.action
    if principal is None:
        if _acl_grants(bucket, action):
            return
        raise _denied("You have no right to access this object because of bucket acl.",
                      explicit=False, action=action, principal=None)
    if bucket is not None and bucket.owner_id != principal.owner_id:
        if _acl_grants(bucket, action):
            return
        raise _denied("You have no right to access this object.", explicit=False,
                      action=action, principal=principal)
    if principal.is_root:
        return
    owner = bucket.owner_id if bucket else principal.owner_id
    if operation.level is Level.SERVICE:
        arn = resource_arn(region, owner)
    elif operation.level is Level.OBJECT:
        arn = resource_arn(region, owner, bucket_name, key)
    else:
        arn = resource_arn(region, owner, bucket_name)
    decision = (principal.policy.evaluate(action, arn, context) if principal.policy
                else Decision.NO_MATCH)
    if decision is Decision.ALLOW:
        return
    if decision is Decision.NO_MATCH and _acl_grants(bucket, action):
        return
    if decision is Decision.DENY:
        raise _denied("Access denied by bucket policy.", explicit=True, action=action,
                      principal=principal)
    raise _denied(f"You are not authorized to do this action ({action}).", explicit=False,
                  action=action, principal=principal)
