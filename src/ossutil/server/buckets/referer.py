"""Hotlink protection (PutBucketReferer, GetBucketReferer, the check on reads).

Pure domain logic. OSS checks the ``Referer`` of anonymous requests and of requests signed in
the URL (presigned); a request with an ``Authorization`` header is never checked. The order
is OSS's documented one:

1. an empty or absent Referer is allowed when ``AllowEmptyReferer`` is true, or when the
   whitelist is empty; else refused (EC 0003-00000501);
2. a Referer matching the blacklist is refused (0003-00000502);
3. with a non-empty whitelist, a Referer matching none of it is refused (0003-00000503).

Before matching, ``AllowTruncateQueryString`` (default true) drops the query string and
``TruncatePath`` (default false) drops the path too. A pattern matches when it matches the
start of the Referer (OSS: ``www.aliyun.com`` allows ``www.aliyun.com/123`` and
``www.aliyun.com.cn``), ``*`` standing for any run of characters and ``?`` for one; a pattern
without a scheme is matched against the Referer without its ``http://``/``https://``.
Comparison ignores case (host names do).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ossutil.wire.errors import OssError
from ossutil.wire.referer_xml import (
    DEFAULT,
    RefererConfiguration,
    decode_referer_configuration,
)

DENIED = "You are denied by bucket referer policy."
EMPTY_EC, BLACKLIST_EC, WHITELIST_EC = "0003-00000501", "0003-00000502", "0003-00000503"
MAX_REFERERS = 1000  # per list; a pattern is at most 1 KiB (chosen: OSS publishes no limit)
MAX_PATTERN = 1024


def normalize(config: RefererConfiguration) -> RefererConfiguration:
    """``config`` as stored (the two truncation flags filled with OSS's defaults), or 400
    InvalidArgument for an empty pattern, too many or too long ones, or ``TruncatePath``
    without ``AllowTruncateQueryString`` (the path cannot go while the query stays)."""
    truncate_query = (DEFAULT.allow_truncate_query_string
                      if config.allow_truncate_query_string is None
                      else config.allow_truncate_query_string)
    truncate_path = bool(config.truncate_path)
    if truncate_path and not truncate_query:
        raise OssError.from_code("InvalidArgument", "TruncatePath can be true only when "
                                 "AllowTruncateQueryString is true.",
                                 ArgumentName="TruncatePath")
    for name, referers in (("RefererList", config.referer_list),
                           ("RefererBlacklist", config.referer_blacklist or ())):
        if len(referers) > MAX_REFERERS:
            raise OssError.from_code("InvalidArgument", f"{name} holds more than "
                                     f"{MAX_REFERERS} referers.", ArgumentName=name)
        for referer in referers:
            if not referer.strip() or len(referer) > MAX_PATTERN:
                raise OssError.from_code("InvalidArgument", f"A Referer of {name} is empty "
                                         f"or longer than {MAX_PATTERN} characters.",
                                         ArgumentName="Referer", ArgumentValue=referer[:256])
    return RefererConfiguration(
        allow_empty_referer=config.allow_empty_referer,
        allow_truncate_query_string=truncate_query, truncate_path=truncate_path,
        referer_list=tuple(r.strip() for r in config.referer_list),
        referer_blacklist=(None if config.referer_blacklist is None
                           else tuple(r.strip() for r in config.referer_blacklist)))


class Policy:
    """A stored configuration compiled for checking."""

    def __init__(self, config: RefererConfiguration) -> None:
        self.config = config
        self.allow_empty = config.allow_empty_referer
        self.truncate_query = config.allow_truncate_query_string is not False
        self.truncate_path = bool(config.truncate_path)
        self.whitelist = tuple(_compile(p) for p in config.referer_list)
        self.blacklist = tuple(_compile(p) for p in config.referer_blacklist or ())

    def check(self, referer: str | None) -> None:
        """Raise 403 AccessDenied (OSS's message and EC) unless ``referer`` may read."""
        if not referer:
            if self.allow_empty or not self.whitelist:
                return
            raise _denied(EMPTY_EC)
        candidate = self._candidate(referer)
        if any(_matches(p, candidate) for p in self.blacklist):
            raise _denied(BLACKLIST_EC)
        if self.whitelist and not any(_matches(p, candidate) for p in self.whitelist):
            raise _denied(WHITELIST_EC)

    def _candidate(self, referer: str) -> str:
        value = referer.strip()
        if self.truncate_query:
            value = value.split("?", 1)[0].split("#", 1)[0]
        if self.truncate_path:
            scheme, sep, rest = value.partition("://")
            if sep:
                value = scheme + sep + rest.split("/", 1)[0]
            else:
                value = value.split("/", 1)[0]
        return value


def _denied(ec: str) -> OssError:
    return OssError.from_code("AccessDenied", DENIED, ec=ec)


Compiled = tuple[bool, tuple[re.Pattern[str], ...]]


def _segment(text: str) -> re.Pattern[str]:
    return re.compile("".join("." if c == "?" else re.escape(c) for c in text),
                      re.IGNORECASE | re.DOTALL)


def _compile(pattern: str) -> Compiled:
    """(whether the pattern names a scheme, its pieces between ``*``s as regexes): matched
    piece by piece, each at its leftmost place after the one before (the first at the
    start). A prefix match needs nothing else, and no backtracking: at most
    len(referer) x len(pattern) steps whatever the pattern, where one regex of ``.*`` runs
    would backtrack without bound on a pattern with many ``*``."""
    return "://" in pattern, tuple(_segment(piece) for piece in pattern.split("*"))


def _matches(compiled: Compiled, referer: str) -> bool:
    has_scheme, pieces = compiled
    value = referer
    if not has_scheme:
        _, sep, rest = referer.partition("://")
        if sep:
            value = rest
    found = pieces[0].match(value)
    if found is None:
        return False
    position = found.end()
    for piece in pieces[1:]:
        found = piece.search(value, position)
        if found is None:
            return False
        position = found.end()
    return True


@lru_cache(maxsize=256)
def stored(document: str) -> Policy:
    """A stored document compiled once (memoized)."""
    return Policy(decode_referer_configuration(document.encode("utf-8")))
