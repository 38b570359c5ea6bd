"""Every operation this server answers: its name, the RAM action authorized before its handler
runs, the resource level that action is on, and whether it reads an XML body.

The table is read by the router (which operation a request is), by auth (which action to
authorize) and by the handler table in ``server/app.py``; it knows no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """Which resource an operation's action is on (the ARN auth builds, what a bound domain
    serves)."""

    SERVICE = "service"  # no bucket (ListBuckets)
    BUCKET = "bucket"
    OBJECT = "object"


@dataclass(frozen=True)
class Operation:
    name: str
    action: str  # RAM action checked before the handler runs
    level: Level
    body: bool = False  # reads an XML body
    per_key: bool = False  # the handler checks ``action`` on each key the body names


def _op(name: str, level: Level, body: bool = False) -> Operation:
    return Operation(name, "oss:" + name, level, body)


LIST_BUCKETS = _op("ListBuckets", Level.SERVICE)
PUT_BUCKET = _op("PutBucket", Level.BUCKET, body=True)
DELETE_BUCKET = _op("DeleteBucket", Level.BUCKET)
GET_BUCKET_INFO = _op("GetBucketInfo", Level.BUCKET)
GET_BUCKET_LOCATION = _op("GetBucketLocation", Level.BUCKET)
GET_BUCKET_ACL = _op("GetBucketAcl", Level.BUCKET)
PUT_BUCKET_ACL = _op("PutBucketAcl", Level.BUCKET)
LIST_OBJECTS = _op("ListObjects", Level.BUCKET)
LIST_MULTIPART_UPLOADS = _op("ListMultipartUploads", Level.BUCKET)
DELETE_MULTIPLE_OBJECTS = Operation("DeleteMultipleObjects", "oss:DeleteObject", Level.BUCKET,
                                    body=True, per_key=True)
LIST_OBJECTS_V2 = Operation("ListObjectsV2", "oss:ListObjects", Level.BUCKET)
CREATE_CNAME_TOKEN = _op("CreateCnameToken", Level.BUCKET, body=True)
GET_CNAME_TOKEN = _op("GetCnameToken", Level.BUCKET)
PUT_CNAME = _op("PutCname", Level.BUCKET, body=True)
LIST_CNAME = _op("ListCname", Level.BUCKET)
DELETE_CNAME = _op("DeleteCname", Level.BUCKET, body=True)
PUT_OBJECT = _op("PutObject", Level.OBJECT)
GET_OBJECT = _op("GetObject", Level.OBJECT)
HEAD_OBJECT = Operation("HeadObject", "oss:GetObject", Level.OBJECT)
DELETE_OBJECT = _op("DeleteObject", Level.OBJECT)
GET_OBJECT_META = Operation("GetObjectMeta", "oss:GetObject", Level.OBJECT)
GET_OBJECT_ACL = _op("GetObjectAcl", Level.OBJECT)
# Multipart upload: OSS authorizes initiate, upload part and complete as oss:PutObject, and has
# actions of their own for abort and for listing parts and uploads.
INITIATE_MULTIPART_UPLOAD = Operation("InitiateMultipartUpload", "oss:PutObject", Level.OBJECT)
UPLOAD_PART = Operation("UploadPart", "oss:PutObject", Level.OBJECT)
COMPLETE_MULTIPART_UPLOAD = Operation("CompleteMultipartUpload", "oss:PutObject", Level.OBJECT,
                                      body=True)
ABORT_MULTIPART_UPLOAD = _op("AbortMultipartUpload", Level.OBJECT)
LIST_PARTS = _op("ListParts", Level.OBJECT)
# Static website hosting, CORS and hotlink protection (issue 12); the preflight is answered
# for anyone (browsers send no credentials with it): its action is never authorized.
PUT_BUCKET_WEBSITE = _op("PutBucketWebsite", Level.BUCKET, body=True)
GET_BUCKET_WEBSITE = _op("GetBucketWebsite", Level.BUCKET)
DELETE_BUCKET_WEBSITE = _op("DeleteBucketWebsite", Level.BUCKET)
PUT_BUCKET_CORS = _op("PutBucketCors", Level.BUCKET, body=True)
GET_BUCKET_CORS = _op("GetBucketCors", Level.BUCKET)
DELETE_BUCKET_CORS = _op("DeleteBucketCors", Level.BUCKET)
PUT_BUCKET_REFERER = _op("PutBucketReferer", Level.BUCKET, body=True)
GET_BUCKET_REFERER = _op("GetBucketReferer", Level.BUCKET)
OPTION_OBJECT = Operation("OptionObject", "", Level.OBJECT)
