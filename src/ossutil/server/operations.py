"""Every operation this server answers: its name, the RAM action authorized before its handler
runs, the resource level that action is on, and whether it reads an XML body.

The table is read by the router (which operation a request is), by auth (which action to
authorize) and by the handler table in ``server/app.py``; it knows no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    action: str  # RAM action checked before the handler runs
    level: str  # "service", "bucket" or "object": which resource the action is on
    body: bool = False  # reads an XML body
    per_key: bool = False  # the handler checks ``action`` on each key the body names


def _op(name: str, level: str, body: bool = False) -> Operation:
    return Operation(name, "oss:" + name, level, body)


LIST_BUCKETS = _op("ListBuckets", "service")
PUT_BUCKET = _op("PutBucket", "bucket", body=True)
DELETE_BUCKET = _op("DeleteBucket", "bucket")
GET_BUCKET_INFO = _op("GetBucketInfo", "bucket")
GET_BUCKET_LOCATION = _op("GetBucketLocation", "bucket")
GET_BUCKET_ACL = _op("GetBucketAcl", "bucket")
PUT_BUCKET_ACL = _op("PutBucketAcl", "bucket")
LIST_OBJECTS = _op("ListObjects", "bucket")
LIST_MULTIPART_UPLOADS = _op("ListMultipartUploads", "bucket")
DELETE_MULTIPLE_OBJECTS = Operation("DeleteMultipleObjects", "oss:DeleteObject", "bucket",
                                    body=True, per_key=True)
LIST_OBJECTS_V2 = Operation("ListObjectsV2", "oss:ListObjects", "bucket")
CREATE_CNAME_TOKEN = _op("CreateCnameToken", "bucket", body=True)
GET_CNAME_TOKEN = _op("GetCnameToken", "bucket")
PUT_CNAME = _op("PutCname", "bucket", body=True)
LIST_CNAME = _op("ListCname", "bucket")
DELETE_CNAME = _op("DeleteCname", "bucket", body=True)
PUT_OBJECT = _op("PutObject", "object")
GET_OBJECT = _op("GetObject", "object")
HEAD_OBJECT = Operation("HeadObject", "oss:GetObject", "object")
DELETE_OBJECT = _op("DeleteObject", "object")
GET_OBJECT_META = Operation("GetObjectMeta", "oss:GetObject", "object")
GET_OBJECT_ACL = _op("GetObjectAcl", "object")
# Multipart upload: OSS authorizes initiate, upload part and complete as oss:PutObject, and has
# actions of their own for abort and for listing parts and uploads.
INITIATE_MULTIPART_UPLOAD = Operation("InitiateMultipartUpload", "oss:PutObject", "object")
UPLOAD_PART = Operation("UploadPart", "oss:PutObject", "object")
COMPLETE_MULTIPART_UPLOAD = Operation("CompleteMultipartUpload", "oss:PutObject", "object",
                                      body=True)
ABORT_MULTIPART_UPLOAD = _op("AbortMultipartUpload", "object")
LIST_PARTS = _op("ListParts", "object")
