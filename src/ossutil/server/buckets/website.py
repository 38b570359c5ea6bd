"""Static website hosting: the rules of PutBucketWebsite and which key a site request reads.

Pure domain logic (the handler reads the objects). A site request is an anonymous GET or HEAD
of a bucket with a website configuration (OSS serves signed requests as the API: a listing, an
object, NoSuchKey). OSS's rules, as its documentation gives them:

* ``/`` reads the index document (``IndexDocument/Suffix``);
* ``dir/`` reads ``dir/<Suffix>`` with ``SupportSubDir``, else the root index document;
* a key that does not end in ``/`` and does not exist, with ``SupportSubDir``, by ``Type``:
  0: when ``key/<Suffix>`` exists, 302 to ``/key/`` (URL-encoded), else on to the error
  document; 1: straight on to the error document; 2: ``key/<Suffix>`` is served when it
  exists, else the error document;
* the error document (``ErrorDocument/Key``) is served with ``HttpStatus`` (404 unless 200
  was configured); without one, or when it does not exist either, 404 NoSuchKey.

Routing rules are not implemented: a configuration with any ``RoutingRule`` is 501
NotImplemented (nothing stored), as every other OSS feature this server lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ossutil.wire.errors import OssError
from ossutil.wire.website_xml import (
    ErrorDocument,
    IndexDocument,
    WebsiteConfiguration,
    decode_website_configuration,
)

INDEX_TYPES = (0, 1, 2)
ERROR_STATUSES = (200, 404)


def _invalid(message: str, name: str, value: object = "") -> OssError:
    return OssError.from_code("InvalidArgument", message, ArgumentName=name,
                              ArgumentValue=str(value)[:256])


def normalize(config: WebsiteConfiguration) -> WebsiteConfiguration:
    """``config`` as stored (OSS's defaults filled in: SupportSubDir false, Type 0,
    HttpStatus 404), or the error: nothing configured or an ErrorDocument without an
    IndexDocument: MalformedXML; an empty Suffix or Key, a Type other than 0/1/2, an
    HttpStatus other than 200/404: InvalidArgument; routing rules: 501."""
    index, error = config.index_document, config.error_document
    if config.routing_rules:
        raise OssError.from_code("NotImplemented", "Website routing rules (RoutingRules) "
                                 "are not implemented by this server.")
    if index is None:
        raise OssError.from_code("MalformedXML")
    if not index.suffix or index.suffix.startswith("/"):
        raise _invalid("IndexDocument Suffix must be a key name, not empty and not starting "
                       "with /.", "Suffix", index.suffix or "")
    kind = 0 if index.type is None else index.type
    if kind not in INDEX_TYPES:
        raise _invalid("IndexDocument Type must be 0, 1 or 2.", "Type", kind)
    normalized_error = None
    if error is not None:
        if not error.key:
            raise _invalid("ErrorDocument Key must not be empty.", "Key")
        status = 404 if error.http_status is None else error.http_status
        if status not in ERROR_STATUSES:
            raise _invalid("ErrorDocument HttpStatus must be 200 or 404.", "HttpStatus",
                           status)
        normalized_error = ErrorDocument(key=error.key, http_status=status)
    return WebsiteConfiguration(
        index_document=IndexDocument(suffix=index.suffix,
                                     support_sub_dir=bool(index.support_sub_dir), type=kind),
        error_document=normalized_error)


@dataclass(frozen=True)
class Site:
    """A stored configuration, flattened for serving."""

    suffix: str
    support_sub_dir: bool
    type: int
    error_key: str | None
    error_status: int

    def index_key(self, key: str) -> str | None:
        """The key a request for ``key`` reads first: the index document for ``""`` and
        ``dir/``; None for any other key (read as it is)."""
        if key == "":
            return self.suffix
        if key.endswith("/"):
            return key + self.suffix if self.support_sub_dir else self.suffix
        return None

    def sub_dir_key(self, key: str) -> str | None:
        """For a missing ``key`` (not ending in ``/``): ``key/<Suffix>``, the key ``Type``
        0 and 2 look at, or None when none is looked at (Type 1, no SupportSubDir)."""
        if not self.support_sub_dir or self.type == 1 or key.endswith("/") or not key:
            return None
        return f"{key}/{self.suffix}"


@lru_cache(maxsize=256)
def stored(document: str) -> Site:
    """A stored (normalized) document as a ``Site`` (memoized)."""
    config = decode_website_configuration(document.encode("utf-8"))
    index = config.index_document or IndexDocument(suffix="index.html")
    error = config.error_document
    return Site(suffix=index.suffix or "index.html",
                support_sub_dir=bool(index.support_sub_dir),
                type=0 if index.type is None else index.type,
                error_key=error.key if error is not None else None,
                error_status=(404 if error is None or error.http_status is None
                              else error.http_status))
