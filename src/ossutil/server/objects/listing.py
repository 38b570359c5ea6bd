"""ListObjects (V1) and ListObjectsV2 paging over the store's key order. Pure: the store read
is a function passed in, and the whole page is built in one job on the store thread.

Rules (OSS's, as S3's):
- keys are listed in UTF-8 byte order, starting strictly after ``after`` (V1 ``marker``, V2
  ``start-after`` or the decoded ``continuation-token``);
- with a delimiter, keys that contain it after the prefix roll up into one common prefix
  (prefix + text up to and including the first delimiter), listed once, in key order with the
  objects; each counts as one of ``max-keys``;
- ``truncated`` says more entries follow; ``last`` (the last key or common prefix returned) is
  V1's ``NextMarker`` and, encoded, V2's ``NextContinuationToken``. Resuming after a common
  prefix skips everything under it, so a page never repeats one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ossutil.server.models import ObjectMeta
from ossutil.wire import numbers
from ossutil.wire.errors import OssError

DEFAULT_MAX_KEYS = 100
MAX_KEYS = 1000
MAX_PREFIX_BYTES = 1023
# Sorts after every character, so ``common + TOP`` is past every key under ``common`` (bar keys
# that themselves continue with U+10FFFF, which the loop below steps over one by one).
TOP = "\U0010FFFF"

Fetch = Callable[[str, str, int], list[ObjectMeta]]  # (prefix, after, limit) -> objects


@dataclass(frozen=True)
class ListQuery:
    prefix: str = ""
    delimiter: str = ""
    after: str = ""
    max_keys: int = DEFAULT_MAX_KEYS


@dataclass(frozen=True)
class ListPage:
    objects: tuple[ObjectMeta, ...]
    prefixes: tuple[str, ...]
    truncated: bool
    last: str  # NextMarker when truncated, else ""


def parse_max_keys(text: str | None) -> int:
    """``max-keys``: 1 to 1000, default 100; anything else is 400 InvalidArgument."""
    return numbers.parse_int(text, "max-keys", 1, MAX_KEYS, default=DEFAULT_MAX_KEYS)


def check_prefix(name: str, value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > MAX_PREFIX_BYTES:
        raise OssError.from_code("InvalidArgument",
                                 f"{name} must be at most {MAX_PREFIX_BYTES} bytes long.",
                                 ArgumentName=name)
    return value


def encode_token(last: str) -> str:
    """V2's opaque continuation token: the resume point, base64url without padding."""
    return base64.urlsafe_b64encode(last.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_token(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_",
                                validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise OssError.from_code("InvalidArgument", "The continuation-token is not valid.",
                                 ArgumentName="continuation-token") from None


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix ``key`` rolls up into, or None when it is listed as itself."""
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return None if cut < 0 else key[: cut + len(delimiter)]


Position = tuple[str, str]  # (key, tiebreak): objects use "", multipart uploads the upload id
Item = TypeVar("Item")


@dataclass(frozen=True)
class RolledPage(Generic[Item]):
    items: tuple[Item, ...]
    prefixes: tuple[str, ...]
    truncated: bool
    last: Position  # the last item's position or (common prefix, ""); ("", "") if none


def roll_up(fetch: Callable[[Position, int], list[Item]], key_of: Callable[[Item], str],
            position_of: Callable[[Item], Position], prefix: str, delimiter: str, limit: int,
            start: Position) -> RolledPage[Item]:
    """One page of at most ``limit`` entries after ``start``, in position order, keys holding
    ``delimiter`` after ``prefix`` rolled up into common prefixes (each listed once, each
    counting as an entry). ``fetch(after, n)`` reads up to ``n`` items after a position.
    Objects and multipart uploads page the same way; only their positions differ."""
    items: list[Item] = []
    prefixes: list[str] = []
    last: Position = ("", "")
    cursor = start
    rolled = ""  # the common prefix listed last (on this page or, when resuming, the previous)
    if cursor[0].startswith(prefix) and common_prefix(cursor[0], prefix, delimiter) == cursor[0]:
        rolled = cursor[0]
        cursor = (cursor[0] + TOP, "")  # resuming right after a common prefix: skip under it
    while True:
        want = limit - len(items) - len(prefixes) + 1
        batch = fetch(cursor, want)
        for item in batch:
            common = common_prefix(key_of(item), prefix, delimiter)
            if common is not None and common == rolled:
                cursor = position_of(item)  # past common + U+10FFFF: already rolled up
                continue
            if len(items) + len(prefixes) == limit:
                return RolledPage(tuple(items), tuple(prefixes), True, last)
            if common is None:
                items.append(item)
                last = cursor = position_of(item)
            else:
                prefixes.append(common)
                last, rolled = (common, ""), common
                cursor = (common + TOP, "")
                break  # read on from past everything under the common prefix
        else:
            if len(batch) < want:
                return RolledPage(tuple(items), tuple(prefixes), False, last)


def list_page(fetch: Fetch, query: ListQuery) -> ListPage:
    page = roll_up(lambda after, n: fetch(query.prefix, after[0], n), _key, _key_position,
                   query.prefix, query.delimiter, query.max_keys, (query.after, ""))
    return ListPage(page.items, page.prefixes, page.truncated,
                    page.last[0] if page.truncated else "")


def _key(meta: ObjectMeta) -> str:
    return meta.key


def _key_position(meta: ObjectMeta) -> Position:
    return meta.key, ""
