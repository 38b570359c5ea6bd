"""What a bound domain serves: the rule the pipeline applies to every custom-domain request.

Every object-level operation (an SDK given the domain as a CNAME endpoint sends its whole object
API there: put/get, multipart, copy, object ACL ...), plus the bucket-level operations those
SDKs send to it: listings, upload listings and batch delete. Bucket administration (ACL, CNAME,
info, create/delete) stays on the endpoint, where the bucket is named explicitly: 405
MethodNotAllowed through a domain.
"""

from __future__ import annotations

from ossutil.server.operations import Level, Operation
from ossutil.wire.errors import OssError

BUCKET_OPERATIONS_SERVED = frozenset({"ListObjects", "ListObjectsV2", "ListMultipartUploads",
                                      "DeleteMultipleObjects"})


def check_served(operation: Operation) -> None:
    """405 MethodNotAllowed unless a bound domain serves ``operation``."""
    if operation.level is not Level.OBJECT and operation.name not in BUCKET_OPERATIONS_SERVED:
        raise OssError.from_code(
            "MethodNotAllowed", f"{operation.name} is not served on a custom domain; use "
            "the bucket's endpoint.")
